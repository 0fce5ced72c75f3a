// A missing IAM permission must not make the controller a silent no-op: a cycle whose tag reads failed
// is `failed` (in the log and the metrics), and deletes nothing.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Emulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { ROOT } from "../helpers/run-cli.js";
import { cycleFinished, get, metric, startRun, type RunProcess, controllerFixture, controllerTeardown } from "./helpers.js";

let emu: Emulator;
let dir: string;
let run: RunProcess | undefined;
beforeEach(async () => {
  ({ emu, dir } = await controllerFixture("readfail", { policyExtra: '  protectTags: {"legal-hold": "*"}\n' }));
});
afterEach(async () => {
  await controllerTeardown(run, emu, dir);
});

describe("rekon run --apply when tags cannot be read", () => {
  it("ListTagsForResource denied: the cycle is failed, the metric says so, nothing is deleted", async () => {
    emu.setFaults({ rules: [{ operation: "ListTagsForResource", code: "AccessDeniedException" }] });
    run = startRun(
      ["--manifests", join(dir, "manifests"), "--policy", join(dir, "policy.yaml"), "--apply", "--interval", "1h", "--listen", "127.0.0.1:0"],
      emulatorEnv(emu.url),
    );
    const url = await run.url();
    const first = await run.waitFor(cycleFinished, 20_000, "the first cycle");
    expect(first).toMatchObject({ result: "failed", summary: { delete: 0 } });
    expect(emu.calls().filter((c) => c.operation === "DeleteProjectVersion")).toEqual([]);
    expect(emu.callCount("ListTagsForResource", "AccessDeniedException")).toBeGreaterThan(0);
    const metrics = (await get(`${url}/metrics`)).body;
    expect(metric(metrics, 'rekon_reconcile_total{result="failed"}')).toBe(1);
    expect(metric(metrics, 'rekon_reconcile_total{result="ok"}')).toBe(0);
  });

  it("the last look's read fails: the planned deletions are skipped and the cycle is failed, not ok", async () => {
    writeFileSync(join(dir, "policy.yaml"), readFileSync(join(ROOT, "deploy/policy.yaml"), "utf8"));
    // The plan reads each of the demo's three projects once; from then on every version read is denied,
    // so the look before the first deletion fails.
    let reads = 0;
    const off = emu.onCall((c) => {
      if (c.operation === "DescribeProjectVersions" && c.phase === "answered" && ++reads === 3)
        emu.setFaults({ rules: [{ operation: "DescribeProjectVersions", code: "AccessDeniedException" }] });
    });
    run = startRun(
      ["--manifests", join(dir, "manifests"), "--policy", join(dir, "policy.yaml"), "--apply", "--interval", "1h", "--listen", "127.0.0.1:0"],
      emulatorEnv(emu.url),
    );
    const url = await run.url();
    const first = await run.waitFor(cycleFinished, 20_000, "the first cycle");
    off();
    expect((first as unknown as { summary: { delete: number } }).summary.delete).toBeGreaterThan(0); // the plan read fine and planned deletions
    expect(first).toMatchObject({ result: "failed" });
    expect(emu.calls().filter((c) => c.operation === "DeleteProjectVersion")).toEqual([]);
    expect(emu.callCount("DescribeProjectVersions", "AccessDeniedException")).toBeGreaterThan(0);
    const metrics = (await get(`${url}/metrics`)).body;
    expect(metric(metrics, 'rekon_reconcile_total{result="failed"}')).toBe(1);
    expect(metric(metrics, 'rekon_reconcile_total{result="ok"}')).toBe(0);
  });
});

describe("rekon run --apply with the policy behind a link to another file name", () => {
  it("deletes what it plans: the check before each write is not fooled by the name the link resolves to", async () => {
    mkdirSync(join(dir, "policies"));
    writeFileSync(join(dir, "policies", "prod.yaml"), readFileSync(join(ROOT, "deploy/policy.yaml"), "utf8"));
    symlinkSync(join(dir, "policies", "prod.yaml"), join(dir, "linked-policy.yaml"));
    run = startRun(
      ["--manifests", join(dir, "manifests"), "--policy", join(dir, "linked-policy.yaml"), "--apply", "--interval", "1h", "--listen", "127.0.0.1:0"],
      emulatorEnv(emu.url),
    );
    const first = await run.waitFor(cycleFinished, 20_000, "the first cycle");
    expect(first).toMatchObject({ result: "ok" });
    expect((first as unknown as { deleted: number }).deleted).toBeGreaterThan(0);
    expect(emu.calls().filter((c) => c.operation === "DeleteProjectVersion" && c.outcome === "ok").length).toBeGreaterThan(0);
  });
});

describe("rekon run --apply when the audit file cannot be written", () => {
  it("the deletions go ahead (AWS accepted them), but the cycle is failed and rekon_audit_write_errors_total counts each record", async () => {
    writeFileSync(join(dir, "policy.yaml"), readFileSync(join(ROOT, "deploy/policy.yaml"), "utf8"));
    mkdirSync(join(dir, "audit-is-a-folder"));
    run = startRun(
      [
        "--manifests",
        join(dir, "manifests"),
        "--policy",
        join(dir, "policy.yaml"),
        "--apply",
        "--interval",
        "1h",
        "--listen",
        "127.0.0.1:0",
        "--audit-file",
        join(dir, "audit-is-a-folder"),
      ],
      emulatorEnv(emu.url),
    );
    const url = await run.url();
    const first = await run.waitFor(cycleFinished, 20_000, "the first cycle");
    expect(first).toMatchObject({ result: "failed" });
    const deleted = (first as unknown as { deleted: number }).deleted;
    expect(deleted).toBeGreaterThan(0);
    const metrics = (await get(`${url}/metrics`)).body;
    expect(metric(metrics, "rekon_audit_write_errors_total")).toBeGreaterThanOrEqual(deleted);
    expect(metric(metrics, 'rekon_reconcile_total{result="failed"}')).toBe(1);
  });
});
