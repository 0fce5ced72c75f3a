// `rekon run` end to end: the built binary as a child process, the real SDK, HTTP to an in-process
// emulator on 127.0.0.1, a git-sync style checkout (symlink swapped atomically), real files and signals.
import { cpSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Emulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { ROOT } from "../helpers/run-cli.js";
import { cycleFinished, get, metric, startRun, type LogLine, type RunProcess, controllerFixture, controllerTeardown } from "./helpers.js";

// A value that must never be printed, whatever is logged.
const SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY";

let emu: Emulator;
let dir: string;
let env: Record<string, string>;
let run: RunProcess | undefined;

beforeEach(async () => {
  ({ emu, dir } = await controllerFixture("run", { emulator: { deleteDelayMs: 100 }, manifests: false }));
  env = { ...emulatorEnv(emu.url), AWS_SECRET_ACCESS_KEY: SECRET };
});
afterEach(async () => {
  await controllerTeardown(run, emu, dir);
  run = undefined;
});

const deleteCalls = () => emu.calls().filter((c) => c.operation === "DeleteProjectVersion");
const READS = new Set(["ListTagsForResource", "GetCallerIdentity"]);
const writeCalls = () => emu.calls().filter((c) => !c.operation.startsWith("Describe") && !READS.has(c.operation));
const base = (...extra: string[]) => [
  "--policy",
  join(dir, "policy.yaml"),
  "--interval",
  "1h",
  "--listen",
  "127.0.0.1:0",
  "--watch-debounce",
  "200ms",
  ...extra,
];
/** The first cycle that *started* at or after t (a cycle already running when a file changed read the old files). */
async function cycleAfter(r: RunProcess, t: number, timeoutMs: number, what: string): Promise<LogLine> {
  const started = await r.waitFor((l) => l.msg === "cycle started" && l.time >= t, timeoutMs, what);
  return r.waitFor((l) => cycleFinished(l) && l.cycleId === started.cycleId, 20_000, `the end of ${what}`);
}

/** git-sync's layout: ROOT/.worktrees/<sha>/manifests, published by an atomic rename of the ROOT/repo symlink. */
function publish(root: string, sha: string, edit?: (m: string) => void): void {
  const wt = join(root, ".worktrees", sha);
  cpSync(join(ROOT, "manifests"), join(wt, "manifests"), { recursive: true });
  edit?.(join(wt, "manifests"));
  symlinkSync(join(".worktrees", sha), join(root, "tmp-link"));
  renameSync(join(root, "tmp-link"), join(root, "repo"));
}

describe("rekon run (plan only)", () => {
  it("plans on start, answers health and metrics, re-plans within 5 s of an edit, fails closed on an invalid manifest, exits 0 on SIGTERM", async () => {
    const m = join(dir, "manifests");
    cpSync(join(ROOT, "manifests"), m, { recursive: true });
    run = startRun(["--manifests", m, ...base()], env);
    const url = await run.url();

    const first = await run.waitFor(cycleFinished, 15_000, "the first cycle");
    expect(first).toMatchObject({ result: "ok", summary: { delete: 7, keep: 1, blocked: 3, missing: 1, start: 1, stop: 1 }, deleted: 0 });
    expect(typeof first.cycleId).toBe("string");
    // One child logger per version, carrying the cycle id too.
    expect(run.lines.filter((l) => l.msg === "planned" && l.cycleId === first.cycleId && l.action === "delete")).toHaveLength(7);

    expect((await get(`${url}/healthz`)).status).toBe(200);
    expect(await get(`${url}/readyz`)).toMatchObject({ status: 200 });
    const metrics = (await get(`${url}/metrics`)).body;
    expect(metric(metrics, 'rekon_versions{project="fraud-detector",account="123456789012",region="us-east-1",action="delete"}')).toBe(3);
    expect(metric(metrics, 'rekon_versions{project="shelf-scanner",account="123456789012",region="us-east-1",action="missing"}')).toBe(1);
    expect(metric(metrics, 'rekon_reconcile_total{result="ok"}')).toBe(1);
    expect(metric(metrics, 'rekon_reconcile_total{result="invalid"}')).toBe(0);
    expect(metric(metrics, "rekon_manifest_valid")).toBe(1);
    expect(metric(metrics, "rekon_leader")).toBe(1);
    expect(metric(metrics, "rekon_last_success_timestamp_seconds")).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(metrics).toContain("rekon_reconcile_duration_seconds_count 1");
    expect(metrics).toContain("process_cpu_user_seconds_total");
    expect(writeCalls()).toEqual([]); // without --apply nothing is written

    // An edit: shelf-scanner now lists v5 too. The interval is an hour, so only the watch can start this cycle.
    const edited = Date.now();
    writeFileSync(
      join(m, "shelf-scanner.yaml"),
      readFileSync(join(m, "shelf-scanner.yaml"), "utf8").replace("    - name: v6\n", "    - name: v5\n    - name: v6\n"),
    );
    const second = await cycleAfter(run, edited, 5_000, "a cycle triggered by the edit");
    expect(second.time - edited).toBeLessThan(5_000);
    expect(run.lines.filter((l) => l.msg === "cycle started" && l.time >= edited && l.time < second.time).length).toBeLessThanOrEqual(2); // debounced, not a storm
    expect(second).toMatchObject({ result: "ok", summary: { delete: 6 } });

    // An invalid manifest mid-run: reported, nothing deleted, not ready, and the last good plan is withdrawn.
    const broke = Date.now();
    writeFileSync(
      join(m, "zz-bad.yaml"),
      "apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata: {name: zz}\nspec:\n  project: other\n  versons: []\n",
    );
    const invalid = await cycleAfter(run, broke, 5_000, "a cycle after the bad manifest");
    expect(invalid.result).toBe("invalid");
    const report = run.lines.find((l) => l.cycleId === invalid.cycleId && l.level === 50)!;
    expect(String(report.msg)).toContain("this cycle deletes nothing");
    expect((report.issues as string[]).join("\n")).toContain('zz-bad.yaml:6:3: spec.versons: unknown field "versons"');
    const unready = await get(`${url}/readyz`);
    expect(unready.status).toBe(503);
    expect(unready.body).toContain("invalid");
    expect((await get(`${url}/healthz`)).status).toBe(200); // alive, just not trustworthy
    const after = (await get(`${url}/metrics`)).body;
    expect(metric(after, "rekon_manifest_valid")).toBe(0);
    expect(metric(after, 'rekon_reconcile_total{result="invalid"}')).toBe(1);
    expect(metric(after, 'rekon_versions{project="fraud-detector",account="123456789012",region="us-east-1",action="delete"}')).toBeUndefined();

    // Fixed again: ready again.
    const fixed = Date.now();
    rmSync(join(m, "zz-bad.yaml"));
    expect(await cycleAfter(run, fixed, 5_000, "a cycle after the fix")).toMatchObject({ result: "ok" });
    expect((await get(`${url}/readyz`)).status).toBe(200);

    const sent = Date.now();
    run.kill("SIGTERM");
    const exit = await run.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.at - sent).toBeLessThan(30_000);
    expect(run.lines.at(-1)!.msg).toBe("stopped");
    expect(run.stdout() + run.stderr()).not.toContain(SECRET);
    expect(writeCalls()).toEqual([]);
  }, 60_000);
});

describe("rekon run --apply", () => {
  it("deletes the plan's delete set with one audit record each (file, set, Git revision, request id); a bad revision deletes nothing", async () => {
    const root = join(dir, "git");
    mkdirSync(root);
    const shaA = "a".repeat(40);
    publish(root, shaA);
    const audit = join(dir, "audit.jsonl");
    run = startRun(["--manifests", join(root, "repo", "manifests"), ...base("--apply", "--audit-file", audit)], env);
    const url = await run.url();

    const first = await run.waitFor(cycleFinished, 20_000, "the first cycle");
    expect(first).toMatchObject({ result: "ok", deleted: 7 });
    expect(deleteCalls()).toHaveLength(7);

    const all = readFileSync(audit, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    // The demo's manifests also start one model and stop another: one record each, beside the deletions'.
    expect(
      all
        .filter((r) => r.decision !== "delete")
        .map((r) => `${r.operation} ${r.versionName} ${r.result}`)
        .sort(),
    ).toEqual(["start fraud-detector.2026-11-14T10.20.00 accepted", "stop v6 accepted"]);
    const records = all.filter((r) => r.decision === "delete");
    expect(records.map((r) => r.versionArn).sort()).toEqual(
      deleteCalls()
        .map((c) => c.target)
        .sort(),
    );
    const worktree = join(root, ".worktrees", shaA, "manifests");
    for (const r of records) {
      expect(r).toMatchObject({
        cycleId: first.cycleId,
        decision: "delete",
        result: "accepted",
        operation: "delete",
        reasons: [],
        gitRevision: shaA,
        policy: { name: "demo" },
      });
      expect(r.requestId).toMatch(/\S/);
      expect(Date.parse(r.time)).toBeGreaterThan(0);
    }
    const fraud = records.filter((r) => r.project === "fraud-detector");
    expect(fraud).toHaveLength(3);
    for (const r of fraud) expect(r).toMatchObject({ set: "fraud-models", manifestFile: join(worktree, "fraud-detector.yaml") });
    // The same records are in the log.
    expect(run.lines.filter((l) => l.msg === "audit")).toHaveLength(all.length);
    const metrics = (await get(`${url}/metrics`)).body;
    expect(metric(metrics, 'rekon_deletions_total{project="fraud-detector",account="123456789012",region="us-east-1",result="accepted"}')).toBe(3);
    expect(metric(metrics, 'rekon_aws_requests_total{account="123456789012",region="us-east-1",operation="DeleteProjectVersion",outcome="ok"}')).toBe(7);

    // git-sync publishes a revision whose manifest is broken *and* lists fewer versions: a reader that used
    // what it could parse, or the last good revision, would delete v6. Nothing may be deleted.
    const shaB = "b".repeat(40);
    const swapped = Date.now();
    publish(root, shaB, (m) =>
      writeFileSync(
        join(m, "shelf-scanner.yaml"),
        "apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata: {name: shelf-models}\nspec:\n  project: shelf-scanner\n  region: us-east-1\n  versions:\n    - nme: v8\n",
      ),
    );
    const bad = await cycleAfter(run, swapped, 5_000, "a cycle after the symlink swap");
    expect(bad.result).toBe("invalid");
    expect(run.lines.find((l) => l.cycleId === bad.cycleId && l.msg === "cycle started")).toMatchObject({ gitRevision: shaB });
    expect((await get(`${url}/readyz`)).status).toBe(503);
    expect(deleteCalls()).toHaveLength(7);

    const shaC = "c".repeat(40);
    const fixed = Date.now();
    publish(root, shaC);
    const good = await cycleAfter(run, fixed, 5_000, "a cycle after the fixed revision");
    expect(good).toMatchObject({ result: "ok", summary: { delete: 0 } });
    expect(run.lines.find((l) => l.cycleId === good.cycleId && l.msg === "cycle started")).toMatchObject({ gitRevision: shaC });
    expect((await get(`${url}/readyz`)).status).toBe(200);
    expect(deleteCalls()).toHaveLength(7);

    run.kill("SIGTERM");
    expect(await run.exited).toMatchObject({ code: 0 });
    expect(run.stdout() + run.stderr()).not.toContain(SECRET);
  }, 60_000);

  it("SIGTERM during deletions: no new deletion starts, every planned deletion is audited, exit 0", async () => {
    const m = join(dir, "manifests");
    cpSync(join(ROOT, "manifests"), m, { recursive: true });
    const LATENCY = 400;
    emu.setFaults({ latencyMs: { min: LATENCY, max: LATENCY } });
    const audit = join(dir, "audit.jsonl");
    run = startRun(["--manifests", m, ...base("--apply", "--audit-file", audit)], env);
    await run.waitFor((l) => l.msg === "deletion accepted", 20_000, "the first deletion");
    const sent = Date.now();
    run.kill("SIGTERM");
    const exit = await run.exited;
    expect(exit.code).toBe(0);
    expect(exit.at - sent).toBeLessThan(5_000);
    // The emulator logs a call when it answers, LATENCY after it arrived: none may have arrived after SIGTERM.
    for (const c of deleteCalls()) expect(c.time - LATENCY).toBeLessThan(sent + 200);
    expect(deleteCalls().length).toBeLessThan(7);
    const records = readFileSync(audit, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((r) => r.decision === "delete");
    expect(records).toHaveLength(7);
    const accepted = records.filter((r) => r.result === "accepted");
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    // The rest were not started (skipped) or were cut off in flight (Aborted); the next start re-plans them.
    for (const r of records.filter((x) => x.result !== "accepted")) expect(r.result === "skipped" || r.code === "Aborted").toBe(true);
    expect(run.lines.find(cycleFinished)).toMatchObject({ result: "aborted" });
  }, 40_000);

  it("SIGKILL mid-apply: each deletion's audit record was on disk as soon as AWS answered it", async () => {
    const m = join(dir, "manifests");
    cpSync(join(ROOT, "manifests"), m, { recursive: true });
    emu.setFaults({ latencyMs: { min: 300, max: 300 } });
    const audit = join(dir, "audit.jsonl");
    run = startRun(["--manifests", m, ...base("--apply", "--audit-file", audit)], env);
    const first = await run.waitFor((l) => l.msg === "audit", 20_000, "the first audit record");
    run.kill("SIGKILL");
    await run.exited;
    const records = readFileSync(audit, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(records.length).toBeGreaterThanOrEqual(1);
    expect(records.length).toBeLessThan(7);
    expect(records[0]).toMatchObject({ versionArn: (first.audit as { versionArn: string }).versionArn, result: "accepted" });
  }, 40_000);
});
