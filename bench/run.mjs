#!/usr/bin/env node
// rekon benchmarks (npm run bench). Prints one table per benchmark with its target and whether it holds,
// then a summary; not a test: nothing here fails the run.
// Everything runs against the embedded emulator on 127.0.0.1 with the real AWS SDK over HTTP.
//
//   P1          apply under quota: the emulator allows DeleteProjectVersion R/s; N deletable versions.
//   P2          plan at scale: P projects × V versions; calls vs the minimum, wall, peak RSS, planner CPU.
//   P2-running  P2 with running state: each project runs its newest version undeclared (runtime: managed
//               stops it) and declares the next one running (a start), with a price: no extra call.
//   P2-latency  `rekon plan` vs a sequential read of the same inventory, every answer 50 ms late, no quota.
//   P2-quota    the same inventory with DescribeProjectVersions limited to 10/s by the emulator.
//   P3          start-up: `rekon --help` and `rekon validate` on P manifest files.
//   P4          many accounts: A accounts × 2 regions × 30 projects (roles), vs each (account, region) alone.
//   P5          controller steady state: `rekon run` (plan only) for C cycles; RSS per cycle, as deployed
//               (the Deployment's NODE_OPTIONS) and with Node's default flags.
//
// P1 also runs an archived variant (spec.archive: copy, then delete; BENCH_COPY_MS=2000 is the emulator's copy time).
// Sizes (env): BENCH_N=300 BENCH_R=10 BENCH_PROJECTS=1000 BENCH_VERSIONS=100 (P1-P3, P5),
// BENCH_LAT_PROJECTS=300 BENCH_LAT_VERSIONS=50 BENCH_LATENCY_MS=50 (P2-latency, P2-quota, P4),
// BENCH_ACCOUNTS=10 BENCH_P4_PROJECTS=30 BENCH_CYCLES=10; BENCH_ONLY=P1,P2,P2-latency,P2-quota,P3,P4,P5.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { DeleteProjectVersionCommand, paginateDescribeProjects, paginateDescribeProjectVersions, RekognitionClient } from "@aws-sdk/client-rekognition";
import pino from "pino";
import { parseAllDocuments } from "yaml";
import { READS_IN_FLIGHT } from "../dist/reconciler/aws/concurrency.js";
import { DEFAULT_RATES, RateLimiters } from "../dist/reconciler/aws/limiter.js";
import { startEmulator } from "../dist/reconciler/emulator/server.js";
import { DEFAULT_POLICY } from "../dist/reconciler/policy/defaults.js";
import { applyPass, passFor } from "../dist/reconciler/reconcile.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "dist/reconciler/bin.js");
const env = (k, d) => Number(process.env[k] ?? d);
const N = env("BENCH_N", 300);
const R = env("BENCH_R", 10);
const PROJECTS = env("BENCH_PROJECTS", 1000);
const VERSIONS = env("BENCH_VERSIONS", 100);
const LAT_PROJECTS = env("BENCH_LAT_PROJECTS", 300);
const LAT_VERSIONS = env("BENCH_LAT_VERSIONS", 50);
const LATENCY_MS = env("BENCH_LATENCY_MS", 50);
const ACCOUNTS = env("BENCH_ACCOUNTS", 10);
const P4_PROJECTS = env("BENCH_P4_PROJECTS", 30);
const CYCLES = env("BENCH_CYCLES", 10);
const ALL = ["P1", "P2", "P2-running", "P2-latency", "P2-quota", "P3", "P4", "P5"];
const ONLY = new Set((process.env.BENCH_ONLY ?? ALL.join(",")).split(",").map((b) => b.trim()));
for (const b of ONLY) if (!ALL.includes(b)) throw new Error(`BENCH_ONLY: unknown benchmark ${b} (known: ${ALL.join(", ")})`);
const ACCOUNT = "123456789012";
const CREDS = { accessKeyId: "AKIDREKONBENCH", secretAccessKey: "bench" };
const log = pino({ level: "silent" });
const pos = { file: "bench", line: 1, col: 1 };

/** Every target checked, for the summary at the end. */
const verdicts = [];
const holds = (ok) => (ok ? "yes" : "NO");
function check(bench, target, measured, ok) {
  verdicts.push({ benchmark: bench, target, measured, holds: holds(ok) });
  return holds(ok);
}

function table(title, rows) {
  const cols = Object.keys(rows[0]);
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (cells) => "| " + cells.map((s, i) => String(s).padEnd(width[i])).join(" | ") + " |";
  console.log(`\n${title}\n` + [line(cols), line(width.map((w) => "-".repeat(w))), ...rows.map((r) => line(cols.map((c) => r[c])))].join("\n"));
}

// ---------- P1 ----------

const p1State = () => ({
  account: ACCOUNT,
  projects: [{ name: "bulk", versions: Array.from({ length: N + 1 }, (_, i) => ({ name: `v${String(i).padStart(4, "0")}`, status: "STOPPED", age: `${N + 10 - i}d` })) }],
});

async function p1Rekon(label, rateLimits, extra = {}) {
  const emu = await startEmulator({ state: p1State(), deleteDelayMs: 60_000, faults: { rateLimits: { DeleteProjectVersion: R }, latencyMs: { min: 5, max: 25 } } });
  const limiters = new RateLimiters(rateLimits);
  let throttles = 0;
  limiters.observe((e) => e.operation === "DeleteProjectVersion" && e.throttled && throttles++);
  try {
    const newest = `v${String(N).padStart(4, "0")}`;
    const desired = { files: [], policies: [], digest: "bench", sets: [{ name: "bulk", pos, project: "bulk", region: "us-east-1", versions: [{ name: newest, pos }] }] };
    const policy = { ...DEFAULT_POLICY, source: "bench", name: "bench", allowedAccounts: [ACCOUNT], enforceAccounts: true, minAge: "0s", minAgeMs: 0, maxDeletesPerRun: N + 10, rateLimits, ...extra };
    // The same path as `rekon apply`: identity, reads, the gate's plan, then every deletion approved by
    // the gate on a last look.
    const pass = await passFor({ desired, policies: policy }, { log, client: { endpoint: emu.url, stsEndpoint: emu.url, credentials: CREDS }, limitersFor: () => limiters });
    emu.resetCalls();
    const t0 = performance.now();
    const results = await applyPass(pass, log);
    const wall = (performance.now() - t0) / 1000;
    pass.close();
    const failures = results.filter((r) => r.result !== "accepted").length;
    const rate = limiters.stats().find((s) => s.operation === "DeleteProjectVersion")?.rate ?? 0;
    const looks = emu.callCount("DescribeProjectVersions") + emu.callCount("ListTagsForResource");
    return { run: label, N: results.length, "R/s": R, "floor s": (N / R).toFixed(1), "wall s": wall.toFixed(1), ratio: (wall / (N / R)).toFixed(3), throttles, failures, "final rate/s": rate.toFixed(1), "last-look calls": looks, "per deletion": (looks / Math.max(1, results.length)).toFixed(3) };
  } finally {
    limiters.close();
    await emu.close();
  }
}

/**
 * P1 archived: the same N deletions under spec.archive. Each version is first copied (CopyProjectVersion, at R/s
 * like the deletions) into an archive project, where the emulator's copy takes COPY_MS; a deletion goes out
 * only once a last look sees its copy COPYING_COMPLETED. Copies still in progress when the run's deletions
 * begin are `archiving` and a second run (what the controller's next cycle does) deletes them. Floor: the
 * copies take N/R, the deletions N/R after them, and the last deletion cannot go before the last copy has
 * completed, N/R + COPY_MS: floor = max(2N/R, N/R + COPY_MS).
 */
const COPY_MS = env("BENCH_COPY_MS", 2000);
async function p1Archived() {
  const state = p1State();
  state.projects.push({ name: "archive", versions: [] });
  const emu = await startEmulator({ state, deleteDelayMs: 60_000, copyDelayMs: COPY_MS, faults: { rateLimits: { DeleteProjectVersion: R, CopyProjectVersion: R }, latencyMs: { min: 5, max: 25 } } });
  const rateLimits = { DeleteProjectVersion: R, CopyProjectVersion: R };
  const limiters = new RateLimiters(rateLimits);
  try {
    const newest = `v${String(N).padStart(4, "0")}`;
    const desired = { files: [], policies: [], digest: "bench", sets: [{ name: "bulk", pos, project: "bulk", region: "us-east-1", versions: [{ name: newest, pos }] }] };
    const archive = { project: "archive", outputConfig: { s3Bucket: "bench-archive" }, required: true, origin: "bench" };
    const policy = { ...DEFAULT_POLICY, source: "bench", name: "bench", allowedAccounts: [ACCOUNT], enforceAccounts: true, minAge: "0s", minAgeMs: 0, maxDeletesPerRun: N + 10, rateLimits, archive };
    emu.resetCalls();
    const t0 = performance.now();
    const runs = [];
    for (let i = 0; i < 5; i++) {
      const pass = await passFor({ desired, policies: policy }, { log, client: { endpoint: emu.url, stsEndpoint: emu.url, credentials: CREDS }, limitersFor: () => limiters });
      const results = pass.plan.summary.delete ? await applyPass(pass, log) : [];
      pass.close();
      runs.push(results);
      if (!results.some((r) => r.result === "archiving")) break;
      // The controller's next cycle: once the copies still in progress have had their time.
      await new Promise((r) => setTimeout(r, COPY_MS));
    }
    const wall = (performance.now() - t0) / 1000;
    const all = runs.flat();
    const floor = Math.max((2 * N) / R, N / R + COPY_MS / 1000);
    const deleted = all.filter((r) => r.result === "accepted").length;
    return {
      run: `rekon, spec.archive (copy ${COPY_MS} ms, CopyProjectVersion ${R}/s)`,
      N: deleted,
      "R/s": R,
      "floor s": floor.toFixed(1),
      "wall s": wall.toFixed(1),
      ratio: (wall / floor).toFixed(3),
      throttles: emu.callCount("CopyProjectVersion", "ThrottlingException") + emu.callCount("DeleteProjectVersion", "ThrottlingException"),
      failures: all.filter((r) => r.result !== "accepted" && r.result !== "archiving").length + (deleted === N ? 0 : N - deleted),
      "final rate/s": `${runs.length} run(s)`,
      "last-look calls": emu.callCount("DescribeProjectVersions") + emu.callCount("ListTagsForResource"),
      "per deletion": `${emu.callCount("CopyProjectVersion")} copies`,
    };
  } finally {
    limiters.close();
    await emu.close();
  }
}

async function p1Naive() {
  const emu = await startEmulator({ state: p1State(), deleteDelayMs: 60_000, faults: { rateLimits: { DeleteProjectVersion: R }, latencyMs: { min: 5, max: 25 } } });
  // What a script would do: the SDK with its defaults (standard retry mode, 3 attempts), one call after another.
  const client = new RekognitionClient({ region: "us-east-1", endpoint: emu.url, credentials: CREDS });
  try {
    const arns = emu.snapshot().projects[0].versions.filter((v) => v.name !== `v${String(N).padStart(4, "0")}`).map((v) => `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/bulk/version/${v.name}/${Date.parse(v.createdAt)}`);
    emu.resetCalls();
    let failures = 0;
    const t0 = performance.now();
    for (const arn of arns) {
      try {
        await client.send(new DeleteProjectVersionCommand({ ProjectVersionArn: arn }));
      } catch {
        failures++;
      }
    }
    const wall = (performance.now() - t0) / 1000;
    return { run: "naive: sequential SDK, default retries", N, "R/s": R, "floor s": (N / R).toFixed(1), "wall s": wall.toFixed(1), ratio: (wall / (N / R)).toFixed(3), throttles: emu.callCount("DeleteProjectVersion", "ThrottlingException"), failures, "final rate/s": "-", "last-look calls": "-", "per deletion": "-" };
  } finally {
    client.destroy();
    await emu.close();
  }
}

// ---------- P2 / P3 fixtures ----------

const pname = (i) => `proj-${String(i).padStart(4, "0")}`;
const vname = (j) => `v${String(j).padStart(3, "0")}`;
/** Read limits far above what the emulator is asked to allow: pacing is then not what is measured. */
const RAISED = { DescribeProjects: 1000, DescribeProjectVersions: 1000, ListTagsForResource: 1000 };

/**
 * One manifest per set ({name, project, region, roleArn?}); each lists its project's newest half. With
 * `running`, the set is runtime: managed and declares its second-newest version running at 1 IU.
 */
function writeSets(folder, sets, versions, running = false) {
  mkdirSync(folder, { recursive: true });
  // Each set lists its newest half: the other half are deletion candidates.
  const declared = (j) => (running && j === 1 ? `\n      running: {minInferenceUnits: 1}` : "");
  const listed = Array.from({ length: Math.ceil(versions / 2) }, (_, j) => `    - name: ${vname(versions - 1 - j)}${declared(j)}`).join("\n");
  const runtime = running ? "  runtime: managed\n" : "";
  for (const s of sets) {
    const role = s.roleArn ? `  roleArn: ${s.roleArn}\n` : "";
    writeFileSync(join(folder, `${s.name}.yaml`), `apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata:\n  name: ${s.name}\nspec:\n  project: ${s.project}\n  region: ${s.region}\n${role}${runtime}  versions:\n${listed}\n`);
  }
}

function writePolicy(file, { accounts = [ACCOUNT], rateLimits = {}, inference = false } = {}) {
  const limits = Object.entries(rateLimits).map(([op, r]) => `\n    ${op}: ${r}`).join("");
  const inf = inference ? `  inference: {unitPricePerHour: 4.00, currency: USD}\n` : "";
  writeFileSync(file, `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata:\n  name: bench\nspec:\n  allowedAccounts: [${accounts.map((a) => `"${a}"`).join(", ")}]\n  maxDeletesPerRun: 100000\n${limits ? `  rateLimits:${limits}\n` : ""}${inf}`);
}

function writeManifests(dir, projects) {
  writeSets(join(dir, "m"), Array.from({ length: projects }, (_, i) => ({ name: pname(i), project: pname(i), region: "us-east-1" })), VERSIONS);
  writePolicy(join(dir, "policy.yaml"), { rateLimits: RAISED });
}

/** The emulator's projects: `projects` × `versions`, all STOPPED (with `running`, the newest RUNNING), older with each version number down. */
function inventory(projects, versions, extra = {}, running = false) {
  return Array.from({ length: projects }, (_, i) => ({
    name: pname(i),
    ...extra,
    versions: Array.from({ length: versions }, (_, j) => ({ name: vname(j), status: running && j === versions - 1 ? "RUNNING" : "STOPPED", age: `${versions + 10 - j}d` })),
  }));
}

/** The environment of a rekon process pointed at the emulator: endpoints, dummy keys, no profile, no IMDS. */
function emuEnv(emu) {
  return { ...process.env, AWS_ENDPOINT_URL_REKOGNITION: emu.url, AWS_ENDPOINT_URL_STS: emu.url, AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: CREDS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey, AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null", AWS_EC2_METADATA_DISABLED: "true" };
}

async function p2(dir, running = false) {
  const emu = await startEmulator({ state: { account: ACCOUNT, projects: inventory(PROJECTS, VERSIONS, {}, running) } });
  const m = running ? join(dir, "m-running") : join(dir, "m");
  const pol = running ? join(dir, "policy-running.yaml") : join(dir, "policy.yaml");
  if (running) {
    writeSets(m, Array.from({ length: PROJECTS }, (_, i) => ({ name: pname(i), project: pname(i), region: "us-east-1" })), VERSIONS, true);
    writePolicy(pol, { rateLimits: RAISED, inference: true });
  }
  try {
    // The planner runs in its own process so its peak RSS is rekon's alone, not the emulator's.
    // Asynchronous spawn: the emulator lives in this process and must keep answering.
    const child = await run(process.execPath, [join(ROOT, "bench/plan-pass.mjs"), m, pol], emuEnv(emu));
    if (child.status !== 0) throw new Error(`plan-pass failed: ${child.stderr}`);
    const r = JSON.parse(child.stdout);
    const dp = emu.callCount("DescribeProjects");
    const dpv = emu.callCount("DescribeProjectVersions");
    const tags = emu.callCount("ListTagsForResource");
    const sts = emu.callCount("GetCallerIdentity");
    // One GetCallerIdentity per credential source (here, the ambient credentials), then the reads.
    const minimum = 1 + Math.ceil(PROJECTS / 10) + PROJECTS * Math.ceil(VERSIONS / 100) + r.tagReadsNeeded;
    const calls = sts + dp + dpv + tags;
    const ok = calls === minimum && r.peakRssMb <= 200 && r.plannerCpuS <= 1;
    const name = running ? "P2-running" : "P2";
    const what = running ? "with running state (every project: one RUNNING undeclared, one declared running; a price) " : "";
    table(`${name} plan at scale: ${PROJECTS} projects × ${VERSIONS} versions ${what}(limits raised to 1000/s: this measures calls, memory and CPU, not pacing; targets: calls = minimum, peak RSS ≤ 200 MB, planner CPU ≤ 1 s)`, [
      {
        GetCallerIdentity: sts,
        DescribeProjects: dp,
        DescribeProjectVersions: dpv,
        ListTagsForResource: tags,
        "calls total": calls,
        minimum,
        "wall s": r.wallS.toFixed(2),
        "peak RSS MB": r.peakRssMb.toFixed(0),
        "planner CPU s": r.plannerCpuS.toFixed(3),
        delete: r.summary.delete,
        keep: r.summary.keep,
        ...(running ? { start: r.summary.start, stop: r.summary.stop, "IU now→after": `${r.inferenceUnits.now}→${r.inferenceUnits.after}` } : {}),
        holds: check(name, "calls = minimum, peak RSS ≤ 200 MB, planner CPU ≤ 1 s", `${calls} calls (minimum ${minimum}), ${r.peakRssMb.toFixed(0)} MB, ${r.plannerCpuS.toFixed(3)} s`, ok),
      },
    ]);
  } finally {
    await emu.close();
  }
}

function run(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    c.stdout.on("data", (d) => (stdout += d));
    c.stderr.on("data", (d) => (stderr += d));
    c.on("error", reject);
    c.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

function timeCli(args, runs = 5) {
  const times = [];
  let last;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    last = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { PATH: process.env.PATH, HOME: process.env.HOME ?? "/tmp", AWS_REGION: "us-east-1" } });
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], min: times[0], status: last.status, out: (last.stdout || last.stderr).split("\n")[0] };
}

function p3(dir) {
  const help = timeCli(["--help"]);
  const validate = timeCli(["validate", "--manifests", join(dir, "m"), "--policy", join(dir, "policy.yaml")]);
  table(`P3 start-up (median of 5, wall ms, each a fresh node process)`, [
    { command: "rekon --help", "median ms": help.median.toFixed(0), "min ms": help.min.toFixed(0), target: "≤ 300", exit: help.status, holds: check("P3", "rekon --help ≤ 300 ms", `${help.median.toFixed(0)} ms`, help.median <= 300 && help.status === 0) },
    { command: `rekon validate (${PROJECTS} files)`, "median ms": validate.median.toFixed(0), "min ms": validate.min.toFixed(0), target: "≤ 1500", exit: validate.status, holds: check("P3", `rekon validate (${PROJECTS} files) ≤ 1500 ms`, `${validate.median.toFixed(0)} ms`, validate.median <= 1500 && validate.status === 0) },
  ]);
  if (validate.status !== 0) console.log(`validate said: ${validate.out}`);
}

// ---------- P2-latency / P2-quota ----------

/** Spawn `rekon ARGS` with `env`, time it to its exit (output consumed and dropped). Asynchronous: the emulator lives here. */
async function timeRekon(args, env) {
  const t0 = performance.now();
  const r = await run(process.execPath, [BIN, ...args], env);
  return { wallS: (performance.now() - t0) / 1000, status: r.status, stderr: r.stderr };
}

/**
 * What a plain script would do with the real SDK: the same calls as rekon (DescribeProjects for the same
 * batches of 10 names, then each project's DescribeProjectVersions pages), one at a time.
 */
async function sequentialRead(emu, names) {
  const client = new RekognitionClient({ region: "us-east-1", endpoint: emu.url, credentials: CREDS });
  try {
    const t0 = performance.now();
    const arns = [];
    for (let i = 0; i < names.length; i += 10) {
      for await (const page of paginateDescribeProjects({ client }, { ProjectNames: names.slice(i, i + 10), Features: ["CUSTOM_LABELS", "CONTENT_MODERATION"] })) {
        for (const p of page.ProjectDescriptions ?? []) arns.push(p.ProjectArn);
      }
    }
    let versions = 0;
    for (const arn of arns) {
      for await (const page of paginateDescribeProjectVersions({ client, pageSize: 100 }, { ProjectArn: arn })) versions += page.ProjectVersionDescriptions?.length ?? 0;
    }
    return { wallS: (performance.now() - t0) / 1000, versions };
  } finally {
    client.destroy();
  }
}

async function p2Latency(dir) {
  const names = Array.from({ length: LAT_PROJECTS }, (_, i) => pname(i));
  writeSets(join(dir, "lat"), names.map((n) => ({ name: n, project: n, region: "us-east-1" })), LAT_VERSIONS);
  const state = { account: ACCOUNT, projects: inventory(LAT_PROJECTS, LAT_VERSIONS) };
  const latency = { min: LATENCY_MS, max: LATENCY_MS };
  const plan = (policy) => ["plan", "--manifests", join(dir, "lat"), "--policy", policy];
  const counts = (emu) => ({ sts: emu.callCount("GetCallerIdentity"), dp: emu.callCount("DescribeProjects"), dpv: emu.callCount("DescribeProjectVersions", "ok"), throttles: emu.callCount(undefined, "ThrottlingException") });

  if (ONLY.has("P2-latency")) {
    writePolicy(join(dir, "lat-raised.yaml"), { rateLimits: RAISED });
    const emu = await startEmulator({ state, faults: { latencyMs: latency } });
    try {
      const seq = await sequentialRead(emu, names);
      const seqCalls = counts(emu);
      emu.resetCalls();
      const r = await timeRekon(plan(join(dir, "lat-raised.yaml")), emuEnv(emu));
      if (r.status !== 2) throw new Error(`rekon plan exited ${r.status}: ${r.stderr.slice(0, 2000)}`);
      const c = counts(emu);
      const ratio = r.wallS / seq.wallS;
      table(`P2-latency: ${LAT_PROJECTS} projects × ${LAT_VERSIONS} versions, every answer ${LATENCY_MS} ms late, no quota (policy rateLimits raised to 1000/s so pacing is not the bound) (target: rekon plan ≤ 0.35 × a sequential read)`, [
        { run: "sequential read: real SDK, one call at a time (same calls)", calls: seqCalls.dp + seqCalls.dpv, "wall s": seq.wallS.toFixed(2), ratio: "1.000", target: "-", holds: "-" },
        { run: `rekon plan (CLI process, start to exit; ${READS_IN_FLIGHT} reads in flight)`, calls: c.sts + c.dp + c.dpv, "wall s": r.wallS.toFixed(2), ratio: ratio.toFixed(3), target: "≤ 0.35", holds: check("P2-latency", "rekon plan ≤ 0.35 × sequential read", `${r.wallS.toFixed(2)} s / ${seq.wallS.toFixed(2)} s = ${ratio.toFixed(3)}`, ratio <= 0.35) },
      ]);
    } finally {
      await emu.close();
    }
  }

  if (ONLY.has("P2-quota")) {
    const Q = 10;
    writePolicy(join(dir, "lat-stated.yaml"), { rateLimits: { DescribeProjectVersions: Q } });
    writePolicy(join(dir, "lat-defaults.yaml"));
    const rows = [];
    for (const [label, policy, maxRatio] of [
      [`rekon plan, rateLimits DescribeProjectVersions: ${Q} (the quota, stated)`, "lat-stated.yaml", 1.15],
      [`rekon plan, defaults (DescribeProjectVersions starts at ${DEFAULT_RATES.DescribeProjectVersions}/s, probes)`, "lat-defaults.yaml", 1.3],
    ]) {
      const emu = await startEmulator({ state, faults: { latencyMs: latency, rateLimits: { DescribeProjectVersions: Q } } });
      try {
        const r = await timeRekon(plan(join(dir, policy)), emuEnv(emu));
        if (r.status !== 2) throw new Error(`rekon plan exited ${r.status}: ${r.stderr.slice(0, 2000)}`);
        const c = counts(emu);
        const floor = c.dpv / Q;
        const ratio = r.wallS / floor;
        const target = `≤ ${maxRatio.toFixed(2)}`;
        rows.push({ run: label, "DescribeProjectVersions": c.dpv, "floor s (calls/10)": floor.toFixed(1), "wall s": r.wallS.toFixed(2), ratio: ratio.toFixed(3), throttles: c.throttles, target, holds: check("P2-quota", `${label}: wall ${target} × calls/${Q}`, `${r.wallS.toFixed(2)} s / ${floor.toFixed(1)} s = ${ratio.toFixed(3)}, ${c.throttles} throttles`, ratio <= maxRatio) });
      } finally {
        await emu.close();
      }
    }
    table(`P2-quota: the same inventory, DescribeProjectVersions limited to ${Q}/s by the emulator, answers ${LATENCY_MS} ms late (targets: wall ≤ 1.15 × calls/${Q} with the quota stated; ≤ 1.30 on defaults, as P1)`, rows);
  }
}

// ---------- P4 ----------

async function p4(dir) {
  const accounts = Array.from({ length: ACCOUNTS }, (_, i) => String(100000000001 + i));
  const regions = ["us-east-1", "eu-west-1"];
  const groups = accounts.flatMap((account) => regions.map((region) => ({ account, region, folder: join(dir, "p4", `${account}-${region}`) })));
  for (const g of groups) {
    const roleArn = `arn:aws:iam::${g.account}:role/rekon`;
    writeSets(g.folder, Array.from({ length: P4_PROJECTS }, (_, i) => ({ name: `${g.account}-${g.region}-${pname(i)}`, project: pname(i), region: g.region, roleArn })), LAT_VERSIONS);
  }
  // Defaults: nobody states quotas for twenty (account, region) pairs. Each pair has its own limiters, so
  // what this measures is whether the pairs' reads overlap, not how fast one pair can go.
  writePolicy(join(dir, "p4-policy.yaml"), { accounts });
  const state = { account: ACCOUNT, projects: groups.flatMap((g) => inventory(P4_PROJECTS, LAT_VERSIONS, { account: g.account, region: g.region })) };
  const READ_OPS = new Set(["DescribeProjects", "DescribeProjectVersions", "ListTagsForResource"]);
  const pass = async (manifests) => {
    const emu = await startEmulator({ state, faults: { latencyMs: { min: LATENCY_MS, max: LATENCY_MS } } });
    // The read as AWS sees it: from the pass's first call (STS) to its last read answered.
    let first;
    let last;
    emu.onCall((c) => {
      if (c.phase === "received") first ??= performance.now();
      else if (READ_OPS.has(c.operation)) last = performance.now();
    });
    try {
      const child = await run(process.execPath, [join(ROOT, "bench/plan-pass.mjs"), manifests, join(dir, "p4-policy.yaml")], emuEnv(emu));
      if (child.status !== 0) throw new Error(`plan-pass failed: ${child.stderr}`);
      const r = JSON.parse(child.stdout);
      if (r.notOk !== 0) throw new Error(`P4: ${r.notOk} projects not read`);
      return { ...r, readS: (last - first) / 1000, calls: emu.callCount() };
    } finally {
      await emu.close();
    }
  };
  const alone = [];
  for (const g of groups) alone.push({ ...g, ...(await pass(g.folder)) });
  const all = await pass(join(dir, "p4"));
  alone.sort((a, b) => b.readS - a.readS);
  const slowest = alone[0];
  const median = alone[Math.floor(alone.length / 2)];
  const ratio = all.readS / slowest.readS;
  table(`P4 many accounts: ${ACCOUNTS} accounts × ${regions.length} regions × ${P4_PROJECTS} projects × ${LAT_VERSIONS} versions, each through its role (AssumeRole), answers ${LATENCY_MS} ms late, default rates (target: the read of all together ≤ 1.3 × the slowest (account, region) read alone; read = first call to last read answered, at the emulator; pass = the whole plan pass in its own process, with loading the manifests and planning)`, [
    { run: `slowest alone (${slowest.account}, ${slowest.region})`, projects: P4_PROJECTS, calls: slowest.calls, "read s": slowest.readS.toFixed(2), ratio: "1.000", "pass s": slowest.wallS.toFixed(2), target: "-", holds: "-" },
    { run: `median alone (of ${alone.length})`, projects: P4_PROJECTS, calls: median.calls, "read s": median.readS.toFixed(2), ratio: (median.readS / slowest.readS).toFixed(3), "pass s": median.wallS.toFixed(2), target: "-", holds: "-" },
    { run: `all ${alone.length} together`, projects: P4_PROJECTS * alone.length, calls: all.calls, "read s": all.readS.toFixed(2), ratio: ratio.toFixed(3), "pass s": all.wallS.toFixed(2), target: "≤ 1.30", holds: check("P4", "read of all together ≤ 1.3 × slowest read alone", `${all.readS.toFixed(2)} s / ${slowest.readS.toFixed(2)} s = ${ratio.toFixed(3)} (whole pass ${all.wallS.toFixed(2)} s / ${slowest.wallS.toFixed(2)} s)`, ratio <= 1.3) },
  ]);
}

// ---------- P5 ----------

/** VmRSS and VmHWM (peak) of a process, in MB. */
function memoryOf(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

/**
 * `rekon run` for CYCLES cycles, RSS read from /proc at each "cycle finished" line, with `nodeOptions` (the
 * Deployment's, or none: Node's defaults, under which rekon run sets V8's growing factor itself).
 */
async function p5Run(dir, nodeOptions) {
  const emu = await startEmulator({ state: { account: ACCOUNT, projects: inventory(PROJECTS, VERSIONS) } });
  const rows = [];
  let heap;
  try {
    const args = [BIN, "run", "--manifests", join(dir, "m"), "--policy", join(dir, "policy.yaml"), "--interval", "1s", "--listen", "127.0.0.1:0"];
    const env = { ...emuEnv(emu), NODE_OPTIONS: nodeOptions ?? "" };
    // --trace-gc: V8 prints each full collection with the heap before and after it; the size after the
    // last one before a cycle ends is what the process retains, which RSS at an arbitrary instant is not.
    const child = spawn(process.execPath, ["--trace-gc", ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let liveAfterGc;
    let fullGcs = 0;
    let failure;
    const deadline = setTimeout(() => {
      failure = `no ${CYCLES} cycles within 10 minutes`;
      child.kill("SIGKILL");
    }, 600_000);
    // The controller logs JSON lines (stdout on some versions, stderr on others): watch both.
    const onLine = (line) => {
      // e.g. "[123:0x5f]   8123 ms: Mark-Compact 151.2 (170.3) -> 61.0 (171.1) MB, ..."
      const gc = /Mark-Compact(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \(/.exec(line);
      if (gc) {
        liveAfterGc = Number(gc[1]);
        fullGcs++;
        return;
      }
      // What the controller did about V8's heap (controller/heap.ts), shown with the table.
      if (line.includes('"rekon run: listening')) heap = JSON.parse(line).heap;
      if (!line.includes('"cycle finished"') || rows.length >= CYCLES) return;
      const rec = JSON.parse(line);
      // Read at once, while the process is between cycles.
      const m = memoryOf(child.pid);
      rows.push({ cycle: rows.length + 1, result: rec.result, "cycle s": (rec.durationMs / 1000).toFixed(2), "RSS MB": m.rss.toFixed(0), "peak MB": m.peak.toFixed(0), "heap after last full GC MB": liveAfterGc === undefined ? "-" : liveAfterGc.toFixed(1), "full GCs": fullGcs });
      if (rows.length === CYCLES) child.kill("SIGTERM");
    };
    createInterface({ input: child.stdout }).on("line", onLine);
    createInterface({ input: child.stderr }).on("line", onLine);
    const status = await new Promise((resolve) => child.on("close", resolve));
    clearTimeout(deadline);
    if (failure || rows.length < CYCLES) throw new Error(`P5: ${failure ?? `rekon run exited ${status} after ${rows.length} cycles`}`);
  } finally {
    await emu.close();
  }
  // Two targets (issue #26): as deployed, ≤ 250 MB with RSS steady from cycle 2; with Node's default flags
  // (no NODE_OPTIONS, as `rekon run` runs anywhere else), ≤ 300 MB.
  const said = heap?.growingPercent !== undefined ? `; rekon run set V8's --heap-growing-percent=${heap.growingPercent}` : "";
  const label = nodeOptions ? `as deployed (NODE_OPTIONS="${nodeOptions}")` : `default Node flags (no NODE_OPTIONS${said})`;
  const limit = nodeOptions ? 250 : 300;
  const rss2 = Number(rows[1]["RSS MB"]);
  const rssN = Number(rows[CYCLES - 1]["RSS MB"]);
  const peak = Math.max(...rows.map((r) => Number(r["peak MB"])));
  const growth = (rssN - rss2) / rss2;
  const steady = nodeOptions
    ? check("P5", `${label}: RSS after cycle ${CYCLES} within 10 % of cycle 2`, `${rss2} → ${rssN} MB (${growth >= 0 ? "+" : ""}${(growth * 100).toFixed(1)} %)`, Math.abs(growth) <= 0.1)
    : undefined;
  const bounded = check("P5", `${label}: peak RSS ≤ ${limit} MB`, `${peak} MB`, peak <= limit);
  const targets = [...(steady ? [`RSS after cycle ${CYCLES} within 10 % of cycle 2: ${steady}`] : []), `peak ≤ ${limit} MB: ${bounded}`].join("; ");
  table(`P5 controller steady state, ${label}: rekon run, plan only (no --apply), ${PROJECTS} projects × ${VERSIONS} versions, --interval 1s, ${CYCLES} cycles, rateLimits raised as in P2 (targets: ${targets})`, rows);
}

/** NODE_OPTIONS of the rekon container in deploy/k8s/deployment.yaml: P5 measures what is deployed. */
function deployedNodeOptions() {
  const docs = parseAllDocuments(readFileSync(join(ROOT, "deploy/k8s/deployment.yaml"), "utf8")).map((d) => d.toJS());
  const deployment = docs.find((d) => d?.kind === "Deployment");
  const container = deployment?.spec?.template?.spec?.containers?.find((c) => c.name === "rekon");
  const value = container?.env?.find((e) => e.name === "NODE_OPTIONS")?.value;
  if (!value) throw new Error("P5: deploy/k8s/deployment.yaml has no NODE_OPTIONS for the rekon container");
  return value;
}

async function p5(dir) {
  await p5Run(dir, deployedNodeOptions());
  await p5Run(dir);
}

// ---------- main ----------

console.log(`rekon bench — node ${process.version}, ${(await import("node:os")).cpus().length} CPU(s)`);
if (ONLY.has("P1")) {
  const rows = [];
  // Targets: the ratio to the floor, no failure, and the last look's cost where no guard reads tags.
  const p1 = (row, maxRatio, maxPerDeletion) => {
    const ok = Number(row.ratio) <= maxRatio && row.failures === 0 && (maxPerDeletion === undefined || Number(row["per deletion"]) <= maxPerDeletion);
    const target = `ratio ≤ ${maxRatio.toFixed(2)}, 0 failures${maxPerDeletion !== undefined ? `, ≤ ${maxPerDeletion} per deletion` : ""}`;
    return { ...row, target, holds: check("P1", `${row.run}: ${target}`, `ratio ${row.ratio}, ${row.failures} failures, ${row["per deletion"]} per deletion`, ok) };
  };
  // The last look's budget: 0.15 calls per deletion for the versions by name (what it cost before it also read
  // the project's newest versions), plus at most 0.25 for that newest-versions read.
  const LOOK = 0.15 + 0.25;
  rows.push(p1(await p1Rekon(`rekon, rateLimits DeleteProjectVersion: ${R} (true quota)`, { DeleteProjectVersion: R }), 1.1, LOOK));
  rows.push(p1(await p1Rekon(`rekon, defaults (starts at ${DEFAULT_RATES.DeleteProjectVersion}/s, probes)`, {}), 1.3, LOOK));
  // With a tag guard the last look must read each version's tags too: one more call per deletion, which no
  // batching can save (ListTagsForResource takes one ARN). Shown for its cost; the issue sets no target.
  rows.push({ ...(await p1Rekon(`rekon, true quota, protectTags (tags read at the last look)`, { DeleteProjectVersion: R, ListTagsForResource: 50 }, { protectTags: [{ key: "legal-hold", value: "*", origin: "bench" }] })), target: "- (cost shown)", holds: "-" });
  // Archive before delete: what the copies add (the copy time is the emulator's, BENCH_COPY_MS; AWS's is not
  // documented and may be minutes). Shown for its cost, with the floor it is bound by; no target.
  rows.push({ ...(await p1Archived()), target: "- (cost shown; floor max(2N/R, N/R + copy time))", holds: "-" });
  rows.push({ ...(await p1Naive()), target: "- (reference)", holds: "-" });
  table(`P1 apply under quota: DeleteProjectVersion limited to ${R}/s by the emulator, ${N} deletions, 5-25 ms latency (targets: ratio ≤ 1.10 with the true quota, ≤ 1.30 on defaults, 0 failures; last look ≤ 0.40 calls per deletion without tag guards: ≤ 0.15 by name as before, ≤ 0.25 more for the newest versions)`, rows);
}
if (["P2", "P3", "P2-latency", "P2-quota", "P4", "P5"].some((b) => ONLY.has(b))) {
  const dir = mkdtempSync(join(tmpdir(), "rekon-bench-"));
  try {
    if (ONLY.has("P2") || ONLY.has("P3") || ONLY.has("P5")) writeManifests(dir, PROJECTS);
    if (ONLY.has("P2")) await p2(dir);
    if (ONLY.has("P2-running")) await p2(dir, true);
    if (ONLY.has("P2-latency") || ONLY.has("P2-quota")) await p2Latency(dir);
    if (ONLY.has("P3")) p3(dir);
    if (ONLY.has("P4")) await p4(dir);
    if (ONLY.has("P5")) await p5(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
table("Summary: every target", verdicts);
