// The audit trail reaches the log pipeline by default: `rekon run --apply` with no --audit-file writes one
// JSON line per write result to stdout and nothing else there, each in the documented schema
// (docs/audit.md: every field it has is in the table, every "always" field is there), each deletion with
// the request id the emulator logged for its DeleteProjectVersion — the join docs/audit.md describes with
// CloudTrail, done here with the emulator's call log standing in for CloudTrail.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AUDIT_SCHEMA } from "../../reconciler/controller/audit.js";
import { type Emulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { ROOT } from "../helpers/run-cli.js";
import { cycleFinished, startRun, type RunProcess, controllerFixture, controllerTeardown } from "./helpers.js";

let emu: Emulator;
let dir: string;
let run: RunProcess | undefined;
beforeEach(async () => {
  ({ emu, dir } = await controllerFixture("audit", { emulator: { deleteDelayMs: 50 } }));
});
afterEach(async () => {
  await controllerTeardown(run, emu, dir);
  run = undefined;
});

/** The schema table of docs/audit.md: field → whether it is always present. */
function documentedFields(): Map<string, boolean> {
  const doc = readFileSync(join(ROOT, "docs/audit.md"), "utf8");
  const rows = [...doc.matchAll(/^\| `(\w+)` \| (\w+) \| ([^|]+) \|/gm)];
  return new Map(rows.map((m) => [m[1]!, m[3]!.trim() === "always"]));
}

describe("audit records on stdout", () => {
  it("one schema-conformant JSON line per write, nothing else on stdout, each deletion joined to AWS's request id", async () => {
    run = startRun(
      ["--manifests", join(dir, "manifests"), "--policy", join(dir, "policy.yaml"), "--apply", "--interval", "1h", "--listen", "127.0.0.1:0"],
      emulatorEnv(emu.url),
    );
    expect(await run.waitFor(cycleFinished, 30_000, "the first cycle")).toMatchObject({ result: "ok", deleted: 7 });
    const fields = documentedFields();
    expect(fields.size).toBeGreaterThan(15);

    // As many records as the log's "audit" lines, in the same order: nothing on stdout but audit records.
    // stdout and stderr are two pipes, so the parent may see the "cycle finished" line on stderr before the
    // last audit line reaches it on stdout: wait for stdout to hold every complete line the log announced.
    const logged = run.lines.filter((l) => l.msg === "audit").map((l) => l.audit as Record<string, unknown>);
    const stdoutLines = () => run!.stdout().split("\n").slice(0, -1);
    await vi.waitFor(() => expect(stdoutLines().length).toBeGreaterThanOrEqual(logged.length), { timeout: 15_000, interval: 50 });
    const records = stdoutLines().map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records).toEqual(logged);
    expect(records.filter((r) => r.operation === "delete")).toHaveLength(7);
    for (const r of records) {
      expect(r.schema).toBe(AUDIT_SCHEMA);
      expect(
        Object.keys(r).filter((k) => !fields.has(k)),
        "fields docs/audit.md does not document",
      ).toEqual([]);
      for (const [f, always] of fields) if (always) expect(r, `${f} is always there`).toHaveProperty(f);
    }

    // The join: each accepted deletion's requestId is the one AWS (the emulator) logged for that call.
    const calls = emu.calls().filter((c) => c.operation === "DeleteProjectVersion" && c.outcome === "ok");
    for (const r of records.filter((x) => x.operation === "delete")) {
      const call = calls.find((c) => c.requestId === r.requestId);
      expect(call, `a DeleteProjectVersion with request id ${String(r.requestId)}`).toBeDefined();
      expect(call!.target).toBe(r.versionArn);
    }
  }, 60_000);

  it("a plan-only controller (no --apply) writes nothing, so stdout stays empty", async () => {
    run = startRun(
      ["--manifests", join(dir, "manifests"), "--policy", join(dir, "policy.yaml"), "--interval", "1h", "--listen", "127.0.0.1:0"],
      emulatorEnv(emu.url),
    );
    expect(await run.waitFor(cycleFinished, 30_000, "the first cycle")).toMatchObject({ result: "ok" });
    expect(run.stdout()).toBe("");
  }, 60_000);
});
