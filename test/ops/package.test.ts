// What `npm publish` would ship, from `npm pack --dry-run` (no build, no registry): publishable (no
// `private`), the files rekon needs at run time and nothing else (no sources, source maps, tests, deploy
// examples or the emulator's fixtures beyond what the demo reads), the Apache-2.0 text package.json names,
// and engines that list exactly the Node majors CI tests.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/run-cli.js";

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { private?: boolean; license: string; bin: Record<string, string>; engines: { node: string }; files: string[]; scripts: Record<string, string> };

function packedFiles(): string[] {
  const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NPM_CONFIG_UPDATE_NOTIFIER: "false" } });
  return (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path).sort();
}

/** What may be in the tarball: the compiled CLI, the schemas it validates with, and what `rekon demo` reads. */
const ALLOWED = [/^dist\/build-info\.json$/, /^dist\/reconciler\/.+\.js$/, /^schemas\/[a-z]+\.schema\.json$/, /^manifests\/.+\.yaml$/, /^deploy\/policy\.yaml$/, /^(README\.md|LICENSE|CHANGELOG\.md|SECURITY\.md|package\.json)$/];

describe("the npm package", () => {
  const files = packedFiles();

  it("is publishable and says what it is", () => {
    expect(pkg.private).toBeUndefined();
    expect(pkg.license).toBe("Apache-2.0");
    expect(readFileSync(join(ROOT, "LICENSE"), "utf8")).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
  });

  it("holds what rekon needs: the CLI, every compiled module, the schemas, the demo's inputs, the licence", () => {
    for (const f of [...Object.values(pkg.bin), "dist/build-info.json", "LICENSE", "README.md", "deploy/policy.yaml", "schemas/projectversionset.schema.json", "schemas/deletionpolicy.schema.json"]) expect(files, f).toContain(f);
    const compiled = execFileSync("find", ["dist/reconciler", "-name", "*.js"], { cwd: ROOT, encoding: "utf8" }).trim().split("\n");
    expect(compiled.length).toBeGreaterThan(50);
    for (const f of compiled) expect(files, f).toContain(f);
  });

  it("and nothing else: no sources, source maps, tests, scripts or deploy examples", () => {
    expect(files.filter((f) => !ALLOWED.some((re) => re.test(f)))).toEqual([]);
    // The check can fail: a source file or a map would be reported.
    expect(["reconciler/cli.ts", "dist/reconciler/cli.js.map", "test/unit/gate.test.ts"].filter((f) => !ALLOWED.some((re) => re.test(f)))).toHaveLength(3);
  });

  it("engines lists the Node majors CI runs the suite on (.ci/run), and the machine's own Node satisfies it", () => {
    const ci = readFileSync(join(ROOT, ".ci/run"), "utf8");
    const tested = [...ci.matchAll(/\bnode_test (\d+)\b/g)].map((m) => Number(m[1]));
    expect(tested.sort()).toEqual([22, 24]);
    const ranges = pkg.engines.node.split("||").map((r) => r.trim());
    // One caret range per tested major (20 is the machine's own Node, which runs .ci/run's first suite).
    expect(ranges.map((r) => Number(/^\^(\d+)\./.exec(r)?.[1])).sort()).toEqual([20, ...tested]);
    const [major, minor] = process.versions.node.split(".").map(Number);
    const mine = ranges.find((r) => r.startsWith(`^${major}.`));
    expect(mine, `engines covers Node ${process.versions.node}`).toBeDefined();
    expect(minor).toBeGreaterThanOrEqual(Number(mine!.split(".")[1]));
  });

});
