// rekon run and running state: a version declared running is started in a real cycle, at the units the
// manifest declares; /metrics says the units running (as read) and desired (once applied), and their cost;
// a running schedule's occurrence that ends wakes the loop then (not at the interval), and under
// runtime: managed that cycle stops the model. Through the built binary, against the emulator.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { ROOT } from "../helpers/run-cli.js";
import { cycleFinished, get, metric, startRun, type LogLine, type RunProcess } from "./helpers.js";

let emu: Emulator;
let dir: string;
let run: RunProcess | undefined;
beforeEach(async () => {
  // A start turns RUNNING after 200 ms, so the next cycle reads it running (and may stop it).
  emu = await startEmulator({ deleteDelayMs: 50, startDelayMs: 200, stopDelayMs: 200 });
  dir = mkdtempSync(join(tmpdir(), "rekon-runtime-"));
  cpSync(join(ROOT, "manifests"), join(dir, "manifests"), { recursive: true });
  // The demo's manifests start SERVED and stop shelf-scanner/v6 themselves: each test here declares its own
  // running state, so those two are taken out (a test fails loudly if the demo's files change shape).
  const fraud = join(dir, "manifests", "fraud-detector.yaml");
  const declared = `    - name: ${SERVED}\n      running:\n        minInferenceUnits: 1\n`;
  expect(readFileSync(fraud, "utf8")).toContain(declared);
  writeFileSync(fraud, readFileSync(fraud, "utf8").replace(declared, `    - name: ${SERVED}\n`));
  const shelf = join(dir, "manifests", "shelf-scanner.yaml");
  expect(readFileSync(shelf, "utf8")).toContain("  runtime: managed\n");
  writeFileSync(shelf, readFileSync(shelf, "utf8").replace("  runtime: managed\n", ""));
});
afterEach(async () => {
  run?.kill("SIGKILL");
  await run?.exited;
  run = undefined;
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

const ACCOUNT = "123456789012"; // the emulator's default account
const SERVED = "fraud-detector.2026-11-14T10.20.00"; // TRAINING_COMPLETED in the emulator's default world: startable
const OLD_RUNNING = "fraud-detector.2026-10-01T12.00.00"; // RUNNING at 1 unit, unlisted: kept (in use), not stopped

/** fraud-detector.yaml with SERVED declared running (the YAML under `running:`), and optionally the set's runtime. */
function declareRunning(running: string, runtime?: "managed" | "unmanaged"): void {
  const file = join(dir, "manifests", "fraud-detector.yaml");
  const text = readFileSync(file, "utf8");
  expect(text).toContain(`    - name: ${SERVED}\n`);
  const indented = running
    .trim()
    .split("\n")
    .map((l) => `        ${l}`)
    .join("\n");
  let out = text.replace(`    - name: ${SERVED}\n`, `    - name: ${SERVED}\n      running:\n${indented}\n`);
  if (runtime) out = out.replace("  region: us-east-1\n", `  region: us-east-1\n  runtime: ${runtime}\n`);
  writeFileSync(file, out);
}

/** deploy/policy.yaml plus `extra`; with `deletes: false`, a minAge that keeps every version (the start is the cycle's only write). */
function writePolicy(extra: string, deletes = true): void {
  // The demo policy's own inference section (its price) is replaced by the test's.
  const text = readFileSync(join(ROOT, "deploy/policy.yaml"), "utf8").replace(/^ {2}inference:.*\n(?: {4}.*\n)*/m, "");
  expect(text).toContain("minAge: 24h");
  expect(text).not.toContain("inference");
  writeFileSync(join(dir, "policy.yaml"), (deletes ? text : text.replace("minAge: 24h", "minAge: 3650d")) + extra);
}

const args = () => ["--manifests", join(dir, "manifests"), "--policy", join(dir, "policy.yaml"), "--apply", "--interval", "1h", "--listen", "127.0.0.1:0"];
const served = () => emu.snapshot().projects.find((p) => p.name === "fraud-detector")!.versions!.find((v) => v.name === SERVED)!;
/** The call log names a version by its ARN: ...:project/fraud-detector/version/NAME/TIMESTAMP. */
const aboutServed = (target: string | undefined) => target?.startsWith(`arn:aws:rekognition:us-east-1:${ACCOUNT}:project/fraud-detector/version/${SERVED}/`) === true;
const callsOf = (op: string) => emu.calls().filter((c) => c.operation === op && c.outcome === "ok");
const units = (state: string, project = "fraud-detector") => `rekon_inference_units{project="${project}",account="${ACCOUNT}",region="us-east-1",state="${state}"}`;

describe("rekon run --apply and versions declared running", () => {
  it("starts a version declared running at its declared units; /metrics says units running and desired, and their cost", async () => {
    declareRunning("minInferenceUnits: 2\nmaxInferenceUnits: 3");
    writePolicy("  inference:\n    unitPricePerHour: 4.1\n    currency: EUR\n");
    run = startRun(args(), emulatorEnv(emu.url));
    const url = await run.url();
    const first = await run.waitFor(cycleFinished, 30_000, "the first cycle");
    expect(first).toMatchObject({ result: "ok", summary: { start: 1, stop: 0 }, started: 1, stopped: 0 });

    // The emulator's call log: one StartProjectVersion, for that version; its state: the declared units.
    const starts = callsOf("StartProjectVersion");
    expect(starts).toHaveLength(1);
    const v = served();
    expect(aboutServed(starts[0]!.target), starts[0]!.target).toBe(true);
    expect(v).toMatchObject({ minInferenceUnits: 2, maxInferenceUnits: 3 });
    expect(["STARTING", "RUNNING"]).toContain(v.status);

    // running: what the cycle read (the old model at 1 unit); desired: with the start (1 + 2).
    let body = (await get(`${url}/metrics`)).body;
    expect(metric(body, units("running"))).toBe(1);
    expect(metric(body, units("desired"))).toBe(3);
    // shelf-scanner/v6 runs at 2 units in the demo's inventory, listed and (runtime: unmanaged here) left running.
    expect(metric(body, units("running", "shelf-scanner"))).toBe(2);
    expect(metric(body, units("desired", "shelf-scanner"))).toBe(2);
    // (1 + 2) units × 4.1 per hour, for the account and region (every project of it summed), in the policy's currency.
    expect(metric(body, `rekon_inference_cost_per_hour{account="${ACCOUNT}",region="us-east-1",currency="EUR"}`)).toBe(12.3);
    expect(body).toMatch(/^# HELP rekon_inference_units .*state=desired.*refuses/m);
    // Not a deletion: the start is not counted in rekon_deletions_total.
    expect(metric(body, `rekon_deletions_total{project="fraud-detector",account="${ACCOUNT}",region="us-east-1",result="accepted"}`)).toBe(3);

    // The next cycle (a manifest edit wakes it) reads the model running: running = desired, no second start.
    const file = join(dir, "manifests", "fraud-detector.yaml");
    writeFileSync(file, readFileSync(file, "utf8") + "# touched\n");
    const second = await run.waitFor((l: LogLine) => cycleFinished(l) && l.cycleId !== first.cycleId, 30_000, "the cycle after the edit");
    expect(second).toMatchObject({ result: "ok", summary: { start: 0, stop: 0 } });
    body = (await get(`${url}/metrics`)).body;
    expect(metric(body, units("running"))).toBe(3);
    expect(metric(body, units("desired"))).toBe(3);
    expect(metric(body, `rekon_inference_cost_per_hour{account="${ACCOUNT}",region="us-east-1",currency="EUR"}`)).toBe(20.5); // (3 + 2) units × 4.1
    expect(callsOf("StartProjectVersion")).toHaveLength(1);
  }, 90_000);

  it("a start is the cycle's only write: it is applied; without a price there is no cost series; a project no longer planned loses its units series", async () => {
    declareRunning("minInferenceUnits: 1");
    writePolicy("", false);
    run = startRun(args(), emulatorEnv(emu.url));
    const url = await run.url();
    const first = await run.waitFor(cycleFinished, 30_000, "the first cycle");
    expect(first).toMatchObject({ result: "ok", summary: { delete: 0, start: 1 }, deleted: 0, started: 1 });
    expect(callsOf("StartProjectVersion")).toHaveLength(1);
    expect(callsOf("DeleteProjectVersion")).toEqual([]);
    let body = (await get(`${url}/metrics`)).body;
    expect(metric(body, units("desired", "shelf-scanner"))).toBe(2);
    expect(body).not.toMatch(/^rekon_inference_cost_per_hour\{/m);

    rmSync(join(dir, "manifests", "shelf-scanner.yaml"));
    const second = await run.waitFor((l: LogLine) => cycleFinished(l) && l.cycleId !== first.cycleId, 30_000, "the cycle after shelf-scanner's manifest is removed");
    expect(second.result).toBeDefined();
    body = (await get(`${url}/metrics`)).body;
    expect(metric(body, units("running", "shelf-scanner"))).toBeUndefined();
    expect(metric(body, units("desired", "shelf-scanner"))).toBeUndefined();
    expect(metric(body, units("running"))).toBe(2);
  }, 90_000);

  it("the end of a running schedule's occurrence wakes the loop within seconds (not at the interval), and under runtime: managed that cycle stops the model", async () => {
    // An occurrence that began at this minute's start and ends about 8 s from now (cron is per minute).
    const now = Date.now();
    const start = now - (now % 60_000);
    const d = new Date(start);
    const durationS = Math.ceil((now - start) / 1000) + 8;
    const ends = start + durationS * 1000;
    declareRunning(`minInferenceUnits: 1\nschedule:\n  - schedule: "${d.getUTCMinutes()} ${d.getUTCHours()} * * *"\n    duration: ${durationS}s\n    timeZone: UTC`, "managed");
    writePolicy("");
    run = startRun(args(), emulatorEnv(emu.url));
    const url = await run.url();
    const first = await run.waitFor(cycleFinished, 30_000, "the first cycle");
    expect(first).toMatchObject({ result: "ok", started: 1 });
    expect(callsOf("StartProjectVersion")).toHaveLength(1);
    expect(metric((await get(`${url}/metrics`)).body, "rekon_runtime_next_change_timestamp_seconds")).toBe(ends / 1000);
    // The loop says why it wakes next, and when.
    const next = run.lines.find((l) => l.msg === "next cycle" && l.time >= first.time)!;
    expect(next).toMatchObject({ reason: "running schedule" });
    expect(Date.parse(String(next.at))).toBeGreaterThanOrEqual(ends);

    const stop = await emu.waitForCall((c) => c.operation === "StopProjectVersion" && c.phase === "answered", 30_000);
    expect(stop.outcome).toBe("ok");
    expect(aboutServed(stop.target), stop.target).toBe(true);
    // The interval is an hour: only the occurrence's end can have started that cycle, within seconds of it.
    expect(stop.time).toBeGreaterThanOrEqual(ends);
    expect(stop.time - ends).toBeLessThan(10_000);
    const second = await run.waitFor((l: LogLine) => cycleFinished(l) && l.cycleId !== first.cycleId, 30_000, "the cycle at the occurrence's end");
    expect(second).toMatchObject({ result: "ok", summary: { stop: 1 }, stopped: 1 });
    // The old unlisted model is not touched: only the declared one was started and stopped.
    expect(callsOf("StopProjectVersion").map((c) => aboutServed(c.target))).toEqual([true]);
    expect(emu.snapshot().projects.find((p) => p.name === "fraud-detector")!.versions!.find((v) => v.name === OLD_RUNNING)!.status).toBe("RUNNING");
  }, 90_000);
});
