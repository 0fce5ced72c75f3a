#!/usr/bin/env node
// rekon benchmarks (npm run bench). Prints one table per benchmark; not a test, nothing here asserts.
// Everything runs against the embedded emulator on 127.0.0.1 with the real AWS SDK over HTTP.
//
//   P1  apply under quota: the emulator allows DeleteProjectVersion R/s; N deletable versions.
//   P2  plan at scale: P projects × V versions; calls vs the minimum, wall, peak RSS, planner CPU.
//   P3  start-up: `rekon --help` and `rekon validate` on P manifest files.
//
// Sizes (env): BENCH_N=300 BENCH_R=10 BENCH_PROJECTS=1000 BENCH_VERSIONS=100 BENCH_ONLY=P1,P2,P3
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DeleteProjectVersionCommand, RekognitionClient } from "@aws-sdk/client-rekognition";
import pino from "pino";
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
const ONLY = new Set((process.env.BENCH_ONLY ?? "P1,P2,P3").split(","));
const ACCOUNT = "123456789012";
const CREDS = { accessKeyId: "AKIDREKONBENCH", secretAccessKey: "bench" };
const log = pino({ level: "silent" });
const pos = { file: "bench", line: 1, col: 1 };

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

function writeManifests(dir, projects) {
  mkdirSync(join(dir, "m"), { recursive: true });
  for (let i = 0; i < projects; i++) {
    const name = `proj-${String(i).padStart(4, "0")}`;
    // Each set lists its newest half: the other half are deletion candidates.
    const listed = Array.from({ length: Math.ceil(VERSIONS / 2) }, (_, j) => `    - name: v${String(VERSIONS - 1 - j).padStart(3, "0")}`).join("\n");
    writeFileSync(join(dir, "m", `${name}.yaml`), `apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata:\n  name: ${name}\nspec:\n  project: ${name}\n  region: us-east-1\n  versions:\n${listed}\n`);
  }
  writeFileSync(
    join(dir, "policy.yaml"),
    `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata:\n  name: bench\nspec:\n  allowedAccounts: ["${ACCOUNT}"]\n  maxDeletesPerRun: 100000\n  rateLimits:\n    DescribeProjects: 1000\n    DescribeProjectVersions: 1000\n    ListTagsForResource: 1000\n`,
  );
}

async function p2(dir) {
  const state = {
    account: ACCOUNT,
    projects: Array.from({ length: PROJECTS }, (_, i) => ({
      name: `proj-${String(i).padStart(4, "0")}`,
      versions: Array.from({ length: VERSIONS }, (_, j) => ({ name: `v${String(j).padStart(3, "0")}`, status: "STOPPED", age: `${VERSIONS + 10 - j}d` })),
    })),
  };
  const emu = await startEmulator({ state });
  try {
    // The planner runs in its own process so its peak RSS is rekon's alone, not the emulator's.
    // Asynchronous spawn: the emulator lives in this process and must keep answering.
    const child = await run(process.execPath, [join(ROOT, "bench/p2-plan.mjs"), join(dir, "m"), join(dir, "policy.yaml")], {
      ...process.env, AWS_ENDPOINT_URL_REKOGNITION: emu.url, AWS_ENDPOINT_URL_STS: emu.url, AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: CREDS.accessKeyId, AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey, AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null", AWS_EC2_METADATA_DISABLED: "true",
    });
    if (child.status !== 0) throw new Error(`p2-plan failed: ${child.stderr}`);
    const r = JSON.parse(child.stdout);
    const dp = emu.callCount("DescribeProjects");
    const dpv = emu.callCount("DescribeProjectVersions");
    const tags = emu.callCount("ListTagsForResource");
    const sts = emu.callCount("GetCallerIdentity");
    // One GetCallerIdentity per credential source (here, the ambient credentials), then the reads.
    const minimum = 1 + Math.ceil(PROJECTS / 10) + PROJECTS * Math.ceil(VERSIONS / 100) + r.tagReadsNeeded;
    table(`P2 plan at scale: ${PROJECTS} projects × ${VERSIONS} versions (limits raised to 1000/s: this measures calls, memory and CPU, not pacing)`, [
      {
        GetCallerIdentity: sts,
        DescribeProjects: dp,
        DescribeProjectVersions: dpv,
        ListTagsForResource: tags,
        "calls total": sts + dp + dpv + tags,
        minimum,
        "wall s": r.wallS.toFixed(2),
        "peak RSS MB": r.peakRssMb.toFixed(0),
        "planner CPU s": r.plannerCpuS.toFixed(3),
        delete: r.summary.delete,
        keep: r.summary.keep,
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
    { command: "rekon --help", "median ms": help.median.toFixed(0), "min ms": help.min.toFixed(0), target: "≤ 300", exit: help.status },
    { command: `rekon validate (${PROJECTS} files)`, "median ms": validate.median.toFixed(0), "min ms": validate.min.toFixed(0), target: "≤ 1500", exit: validate.status },
  ]);
  if (validate.status !== 0) console.log(`validate said: ${validate.out}`);
}

// ---------- main ----------

console.log(`rekon bench — node ${process.version}, ${(await import("node:os")).cpus().length} CPU(s)`);
if (ONLY.has("P1")) {
  const rows = [];
  rows.push(await p1Rekon(`rekon, rateLimits DeleteProjectVersion: ${R} (true quota)`, { DeleteProjectVersion: R }));
  rows.push(await p1Rekon(`rekon, defaults (starts at ${DEFAULT_RATES.DeleteProjectVersion}/s, probes)`, {}));
  // With a tag guard the last look must read each version's tags too: one more call per deletion.
  rows.push(await p1Rekon(`rekon, true quota, protectTags (tags read at the last look)`, { DeleteProjectVersion: R, ListTagsForResource: 50 }, { protectTags: [{ key: "legal-hold", value: "*", origin: "bench" }] }));
  rows.push(await p1Naive());
  table(`P1 apply under quota: DeleteProjectVersion limited to ${R}/s by the emulator, ${N} deletions, 5-25 ms latency (targets: ratio ≤ 1.10 with the true quota, ≤ 1.30 on defaults, 0 failures; last look ≤ 0.15 extra calls per deletion without tag guards)`, rows);
}
if (ONLY.has("P2") || ONLY.has("P3")) {
  const dir = mkdtempSync(join(tmpdir(), "rekon-bench-"));
  try {
    writeManifests(dir, PROJECTS);
    if (ONLY.has("P2")) await p2(dir);
    if (ONLY.has("P3")) p3(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
