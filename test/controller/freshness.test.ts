// Stale-manifest detection: the check itself on real files, the flags, and `rekon run --apply` end to end
// against the emulator (stale → plans but deletes nothing; the sync file touched → the next cycle deletes).
import { cpSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkFreshness } from "../../reconciler/controller/freshness.js";
import { resolveRunOptions } from "../../reconciler/controller/options.js";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { ROOT } from "../helpers/run-cli.js";
import { cycleFinished, get, metric, startRun, type RunProcess } from "./helpers.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "rekon-fresh-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const MIN = 60_000;
function touchedAgo(ms: number, now = Date.now()): string {
  const f = join(dir, ".synced");
  writeFileSync(f, "");
  const t = new Date(now - ms);
  utimesSync(f, t, t);
  return f;
}

describe("checkFreshness", () => {
  const now = new Date("2026-11-28T12:00:00Z");
  it("fresh within the bound, with the sync time and age", () => {
    const f = touchedAgo(3 * MIN, now.getTime());
    expect(checkFreshness(f, 10 * MIN, now)).toEqual({ fresh: true, syncedAt: new Date(now.getTime() - 3 * MIN), ageMs: 3 * MIN });
  });
  it("stale past the bound, saying how old", () => {
    const f = touchedAgo(2 * 60 * MIN + 5 * MIN, now.getTime());
    const r = checkFreshness(f, 10 * MIN, now);
    expect(r.fresh).toBe(false);
    expect(r).toMatchObject({ ageMs: 125 * MIN });
    expect(!r.fresh && r.reason).toBe(`manifests last synced 2h5m ago (${f} modified 2026-11-28T09:55:00.000Z), longer than --max-sync-age 10m`);
  });
  it("stale when the file is missing (no sync yet, or a wrong path)", () => {
    const r = checkFreshness(join(dir, "nope"), 10 * MIN, now);
    expect(r.fresh).toBe(false);
    expect(!r.fresh && r.reason).toContain("does not exist");
  });
  it("a time slightly in the future (same pod, same clock) counts as fresh", () => {
    const f = touchedAgo(-2_000, now.getTime());
    expect(checkFreshness(f, 10 * MIN, now)).toMatchObject({ fresh: true, ageMs: 0 });
  });
  it("a time far in the future is not fresh: its age cannot be told", () => {
    const f = touchedAgo(-3 * 24 * 60 * MIN, now.getTime());
    const r = checkFreshness(f, 10 * MIN, now);
    expect(r.fresh).toBe(false);
    expect(!r.fresh && r.reason).toContain("in the future: its age cannot be told");
  });
});

describe("flags", () => {
  it("--sync-touch-file with the default --max-sync-age of 10m; off by default", () => {
    expect(resolveRunOptions({ manifests: ["m"], "sync-touch-file": "/git/.git/FETCH_HEAD" }, () => undefined).sync).toEqual({
      touchFile: "/git/.git/FETCH_HEAD",
      maxAgeMs: 600_000,
    });
    expect(resolveRunOptions({ manifests: ["m"], "sync-touch-file": "f", "max-sync-age": "30m" }, () => undefined).sync).toEqual({
      touchFile: "f",
      maxAgeMs: 1_800_000,
    });
    expect(resolveRunOptions({ manifests: ["m"] }, () => undefined).sync).toBeUndefined();
  });
  it("refuses --max-sync-age alone or a bad duration", () => {
    expect(() => resolveRunOptions({ manifests: ["m"], "max-sync-age": "10m" }, () => undefined)).toThrow("--max-sync-age needs --sync-touch-file");
    expect(() => resolveRunOptions({ manifests: ["m"], "sync-touch-file": "f", "max-sync-age": "soon" }, () => undefined)).toThrow(
      "--max-sync-age must be a positive duration",
    );
  });
});

describe("rekon run --apply --sync-touch-file", () => {
  let emu: Emulator;
  let run: RunProcess | undefined;
  beforeEach(async () => {
    emu = await startEmulator({ deleteDelayMs: 50 });
    cpSync(join(ROOT, "manifests"), join(dir, "manifests"), { recursive: true });
    cpSync(join(ROOT, "deploy/policy.yaml"), join(dir, "policy.yaml"));
  });
  afterEach(async () => {
    run?.kill("SIGKILL");
    run = undefined;
    await emu.close();
  });
  const deletes = () => emu.calls().filter((c) => c.operation === "DeleteProjectVersion");

  it("stale: every cycle plans and deletes nothing (refused, manifestsStale); touched: the next cycle deletes", async () => {
    const touch = touchedAgo(2 * 60 * MIN);
    run = startRun(
      [
        "--manifests",
        join(dir, "manifests"),
        "--policy",
        join(dir, "policy.yaml"),
        "--apply",
        "--interval",
        "500ms",
        "--listen",
        "127.0.0.1:0",
        "--sync-touch-file",
        touch,
        "--max-sync-age",
        "10m",
      ],
      emulatorEnv(emu.url),
    );
    const url = await run.url();

    // Two stale cycles in a row: each planned, the gate refused the 7 deletions (manifestsStale), nothing was written.
    for (let i = 0; i < 2; i++) {
      const c = await run.waitFor((l) => cycleFinished(l) && run!.lines.filter(cycleFinished).indexOf(l) === i, 20_000, `stale cycle ${i + 1}`);
      expect(c).toMatchObject({ result: "refused", summary: { delete: 0, blocked: 10 }, deleted: 0 });
      const plan = run.lines.find((l) => l.cycleId === c.cycleId && l.msg === "plan")!;
      expect((plan.refusals as { rule: string }[]).map((r) => r.rule)).toEqual(["manifestsStale"]);
      const refusal = run.lines.find((l) => l.cycleId === c.cycleId && l.msg === "refused: nothing is deleted this cycle")!;
      expect(refusal).toMatchObject({ level: 40, rule: "manifestsStale" });
      expect(String(refusal.reason)).toMatch(/^manifests last synced 2h\d*m? ago .* longer than --max-sync-age 10m$/);
    }
    const stale = (await get(`${url}/metrics`)).body;
    expect(metric(stale, "rekon_manifests_stale")).toBe(1);
    expect(metric(stale, "rekon_manifests_last_sync_timestamp_seconds")).toBeCloseTo((Date.now() - 2 * 60 * MIN) / 1000, -2);
    expect(metric(stale, 'rekon_reconcile_total{result="refused"}')).toBeGreaterThanOrEqual(2);
    expect(deletes()).toEqual([]);

    // git-sync syncs again: the file's time moves, and the next cycle deletes.
    const synced = Date.now();
    const now = new Date();
    utimesSync(touch, now, now);
    const resumed = await run.waitFor((l) => cycleFinished(l) && l.time > synced && l.result === "ok", 20_000, "a cycle after the sync");
    expect(resumed).toMatchObject({ deleted: 7 });
    expect(deletes()).toHaveLength(7);
    const fresh = (await get(`${url}/metrics`)).body;
    expect(metric(fresh, "rekon_manifests_stale")).toBe(0);
    expect(metric(fresh, "rekon_manifests_last_sync_timestamp_seconds")).toBeGreaterThanOrEqual(Math.floor(synced / 1000) - 1);
  }, 60_000);

  it("a touch file that does not exist yet: nothing is deleted, and the reason says so", async () => {
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
        "--sync-touch-file",
        join(dir, "never"),
      ],
      emulatorEnv(emu.url),
    );
    const c = await run.waitFor(cycleFinished, 20_000, "the first cycle");
    expect(c).toMatchObject({ result: "refused", deleted: 0 });
    expect(String(run.lines.find((l) => l.cycleId === c.cycleId && l.rule === "manifestsStale")!.reason)).toContain("does not exist");
    expect(metric((await get(`${await run.url()}/metrics`)).body, "rekon_manifests_last_sync_timestamp_seconds")).toBe(0);
    expect(deletes()).toEqual([]);
  }, 30_000);
});
