// scripts/mutation-inputs.mjs, the check that keeps CI's mutation phase from passing on stale results: in a
// copy of the repository's test tree, a recorded tree checks clean; a weakened table the mutation suite
// imports, a changed configuration, or a missing record fails, naming the file and the command that refreshes
// the results; a test file the suite does not import changes nothing.
import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/run-cli.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "rekon-mutinputs-"));
  mkdirSync(join(dir, "scripts"));
  cpSync(join(ROOT, "scripts/mutation-inputs.mjs"), join(dir, "scripts/mutation-inputs.mjs"));
  for (const f of ["stryker.config.mjs", "vitest.mutation.config.ts"]) cpSync(join(ROOT, f), join(dir, f));
  cpSync(join(ROOT, "test"), join(dir, "test"), { recursive: true, filter: (src) => !src.endsWith("stryker-incremental.json") && !src.endsWith("stryker-inputs.json") });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const inputs = (mode: string) => {
  const r = spawnSync(process.execPath, [join(dir, "scripts/mutation-inputs.mjs"), mode], { cwd: dir, encoding: "utf8", timeout: 30_000 });
  return { code: r.status, out: r.stdout + r.stderr };
};

describe("mutation-inputs: are the committed mutation results still about these tests?", () => {
  it("no record: stale, and says how to make one", () => {
    const r = inputs("--check");
    expect(r.code).toBe(1);
    expect(r.out).toContain("test/mutation/stryker-inputs.json is missing: run 'npm run test:mutation'");
  });

  it("recorded: clean; a table the suite imports changed: stale, naming it; a test outside the suite: still clean", () => {
    expect(inputs("--write").code).toBe(0);
    expect(inputs("--check")).toMatchObject({ code: 0 });
    appendFileSync(join(dir, "test/e2e/cli.test.ts"), "\n// not part of the mutation suite\n");
    expect(inputs("--check").code).toBe(0);
    appendFileSync(join(dir, "test/unit/gate-verdict.test.ts"), "\n// a weakened table\n");
    const r = inputs("--check");
    expect(r.code).toBe(1);
    expect(r.out).toContain("test/unit/gate-verdict.test.ts (changed)");
    expect(r.out).toContain("npm run test:mutation -- --force");
  });

  it("a helper the tables import, and the Stryker configuration, count as inputs too", () => {
    expect(inputs("--write").code).toBe(0);
    appendFileSync(join(dir, "test/helpers/builders.ts"), "\n");
    appendFileSync(join(dir, "stryker.config.mjs"), "\n");
    const r = inputs("--check");
    expect(r.code).toBe(1);
    expect(r.out).toContain("test/helpers/builders.ts (changed)");
    expect(r.out).toContain("stryker.config.mjs (changed)");
  });

  it("refuses a mode it does not know", () => {
    expect(inputs("--frobnicate").code).toBe(2);
  });
});
