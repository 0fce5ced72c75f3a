// Fault soak: two `rekon run --apply --leader-elect` replicas against the emulator with 30 % throttles,
// 5 % server errors and random latency, while a driver keeps editing manifests, protect tags and
// project ownership, and SIGKILLs the leader in the middle of an apply. The emulator's own call log is
// the witness: no DeleteProjectVersion may hit a version that was listed, protected or unmanaged for
// the whole time from the start of the cycle that issued it until the call (a change made after rekon
// read it is a race AWS gives no way to close: there is no conditional delete). After the driver
// stops, the live state must converge within a bounded number of cycles.
//
// npm test runs a short form (REKON_SOAK_SECONDS, default 40); `npm run soak` runs a long one.
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RekognitionClient, TagResourceCommand, UntagResourceCommand } from "@aws-sdk/client-rekognition";
import { afterAll, describe, expect, it } from "vitest";
import { seededRandom, startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import type { EmulatorStateFile } from "../../reconciler/emulator/state.js";
import { startLeaseServer, startRun, writeKubeconfig, type LeaseServer, type LogLine, type RunProcess } from "../controller/helpers.js";
import { emulatorEnv, TEST_CREDENTIALS } from "../helpers/emulator-env.js";
import { runCli } from "../helpers/run-cli.js";

const SECONDS = Number(process.env.REKON_SOAK_SECONDS ?? 40);
const SEED = Number(process.env.REKON_SOAK_SEED ?? 20261128);
const PROJECTS = ["soak-a", "soak-b", "soak-c", "soak-d"];
const VERSIONS = 25;
const ACCOUNT = "123456789012";
/**
 * 30 % throttles and 5 % server errors on every operation rekon calls in this soak. TagResource and
 * UntagResource are left clean because only the driver calls them (no grace period here), and the
 * driver must change the world on time for the test to mean anything.
 */
const REKON_OPS = ["DescribeProjects", "DescribeProjectVersions", "ListTagsForResource", "DeleteProjectVersion", "StopProjectVersion"];
const FAULTS = {
  throttleRate: Object.fromEntries(REKON_OPS.map((op) => [op, 0.3])),
  errorRate: Object.fromEntries(REKON_OPS.map((op) => [op, 0.05])),
  latencyMs: { min: 0, max: 40 },
  seed: SEED,
};

// A seeded PRNG (the emulator's own), so a failing soak can be replayed with REKON_SOAK_SEED.
const rng = seededRandom;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** On/off intervals of a condition, with conservative ends: "on" from when it was certainly applied. */
class Timeline {
  private spans = new Map<string, { on: number; off: number }[]>();
  on(key: string, at: number) {
    const s = this.spans.get(key) ?? [];
    if (!s.length || s.at(-1)!.off !== Infinity) s.push({ on: at, off: Infinity });
    this.spans.set(key, s);
  }
  off(key: string, at: number) {
    const s = this.spans.get(key);
    if (s?.length && s.at(-1)!.off === Infinity) s.at(-1)!.off = at;
  }
  /** True when the condition held at every instant of [from, to]. */
  throughout(key: string, from: number, to: number): boolean {
    return (this.spans.get(key) ?? []).some((s) => s.on <= from && s.off >= to);
  }
  isOn(key: string): boolean {
    return this.spans.get(key)?.at(-1)?.off === Infinity;
  }
}

describe("fault soak", () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it(`two replicas, ${SECONDS}s of faults, edits and a SIGKILL: no wrongful deletion, and convergence`, async () => {
    const random = rng(SEED);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;

    // ---- world ----
    const state: EmulatorStateFile = {
      account: ACCOUNT,
      projects: PROJECTS.map((name) => ({
        name,
        region: "us-east-1",
        age: "400d",
        tags: { managed: "true" },
        versions: Array.from({ length: VERSIONS }, (_, i) => ({
          name: `v${String(i).padStart(2, "0")}`,
          status: (i % 11 === 5 ? "RUNNING" : i % 3 === 0 ? "TRAINING_FAILED" : "STOPPED") as "RUNNING" | "TRAINING_FAILED" | "STOPPED",
          age: `${2 + (VERSIONS - i) * 5}d`,
          ...(i % 7 === 3 ? { tags: { hold: "true" } } : {}),
        })),
      })),
    };
    const emu: Emulator = await startEmulator({ state, deleteDelayMs: 300, faults: FAULTS });
    cleanup.push(() => emu.close());
    const arns = new Map<string, string>(); // "project/version" → ARN
    for (const p of emu.snapshot().projects) for (const v of p.versions ?? []) arns.set(`${p.name}/${v.name}`, `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/${p.name}/version/${v.name}/${Date.parse(v.createdAt!)}`);
    const projectArns = new Map(emu.snapshot().projects.map((p) => [p.name, `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/${p.name}/${Date.parse(p.createdAt!)}`]));

    const dir = mkdtempSync(join(tmpdir(), "rekon-soak-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, "manifests"));
    writeFileSync(
      join(dir, "policy.yaml"),
      `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata: {name: soak}\nspec:\n  allowedAccounts: ["${ACCOUNT}"]\n  minAge: 1h\n  keepLatest: 1\n  maxDeletesPerRun: 500\n  protectTags: {hold: "true"}\n  requireProjectTag: {managed: "true"}\n`,
    );

    // ---- timelines the checker uses ----
    const listed = new Timeline(); // key: ARN
    const protectedT = new Timeline(); // key: ARN
    const unmanaged = new Timeline(); // key: project
    const t0 = Date.now();
    for (const [k, arn] of arns) if ((state.projects.find((p) => p.name === k.split("/")[0])!.versions ?? []).find((v) => v.name === k.split("/")[1])?.tags?.hold) protectedT.on(arn, 0);

    // Listed sets: start by listing about two thirds of each project.
    const lists = new Map(PROJECTS.map((p) => [p, new Set(Array.from({ length: VERSIONS }, (_, i) => `v${String(i).padStart(2, "0")}`).filter(() => random() < 0.67))]));
    const writeManifest = (project: string) => {
      const file = join(dir, "manifests", `${project}.yaml`);
      const body = `apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata: {name: ${project}}\nspec:\n  project: ${project}\n  region: us-east-1\n  versions:\n${[...lists.get(project)!].sort().map((v) => `    - name: ${v}\n`).join("")}`;
      // Atomic, as git-sync publishes: a reader sees the old file or the new one, never half of one.
      writeFileSync(file + ".tmp", body);
      const before = Date.now();
      renameSync(file + ".tmp", file);
      return before;
    };
    for (const p of PROJECTS) {
      writeManifest(p);
      for (const v of lists.get(p)!) listed.on(arns.get(`${p}/${v}`)!, 0);
    }

    // ---- replicas ----
    const lease: LeaseServer = await startLeaseServer();
    cleanup.push(() => lease.close());
    writeKubeconfig(join(dir, "kubeconfig"), lease.url);
    const env = emulatorEnv(emu.url);
    const replicas: RunProcess[] = [];
    const retired: RunProcess[] = [];
    const args = ["--manifests", join(dir, "manifests"), "--policy", join(dir, "policy.yaml"), "--apply", "--interval", "2s", "--listen", "127.0.0.1:0", "--leader-elect", "--lease-namespace", "rekon-test", "--kubeconfig", join(dir, "kubeconfig"), "--lease-duration", "2s", "--renew-deadline", "1500ms", "--retry-period", "250ms", "--retries", "10", "--retry-max-time", "20s", "--log-level", "debug"];
    const start = () => {
      const r = startRun(args, env, { maxLifetimeMs: (SECONDS + 120) * 1000 });
      replicas.push(r);
      return r;
    };
    start();
    start();
    cleanup.push(async () => {
      for (const r of [...replicas, ...retired]) r.kill("SIGKILL");
    });

    // ---- the driver ----
    const sdk = new RekognitionClient({ region: "us-east-1", endpoint: emu.url, credentials: TEST_CREDENTIALS, maxAttempts: 12 });
    cleanup.push(() => sdk.destroy());
    let kills = 0;
    let edits = 0;
    let tagChanges = 0;
    let ownershipChanges = 0;
    const deadline = t0 + SECONDS * 1000;
    const killAt = t0 + SECONDS * 500;
    while (Date.now() < deadline) {
      // Once, halfway: unlist a batch of deletable versions, wait until the writing replica has had the
      // first of those deletions accepted, and SIGKILL it mid-apply; then start it again.
      if (!kills && Date.now() > killAt) {
        const leaderId = lease.lease()?.spec.holderIdentity;
        const leader = replicas.find((r) => r.lines.some((l) => l.msg?.startsWith("leader election: acquired") && l.identity === leaderId));
        const project = pick(PROJECTS);
        const batch = [...lists.get(project)!].filter((v) => v !== `v${VERSIONS - 1}` && !protectedT.isOn(arns.get(`${project}/${v}`)!)).slice(0, 5);
        if (leader && batch.length) {
          const from = Date.now();
          for (const v of batch) lists.get(project)!.delete(v);
          const at = writeManifest(project);
          for (const v of batch) listed.off(arns.get(`${project}/${v}`)!, at);
          edits++;
          await leader.waitFor((l) => l.msg === "deletion accepted" && l.time >= from, 30_000, "a deletion in flight").catch(() => undefined);
          leader.kill("SIGKILL");
          await leader.exited;
          kills++;
          replicas.splice(replicas.indexOf(leader), 1);
          retired.push(leader);
          start(); // the restart: it re-plans from scratch
        }
      }
      const roll = random();
      const project = pick(PROJECTS);
      const version = `v${String(Math.floor(random() * VERSIONS)).padStart(2, "0")}`;
      const arn = arns.get(`${project}/${version}`)!;
      try {
        if (roll < 0.5) {
          const set = lists.get(project)!;
          if (set.has(version)) {
            set.delete(version);
            const at = writeManifest(project);
            listed.off(arn, at);
          } else {
            set.add(version);
            writeManifest(project);
            listed.on(arn, Date.now());
          }
          edits++;
        } else if (roll < 0.85) {
          if (protectedT.isOn(arn)) {
            const before = Date.now();
            await sdk.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: ["hold"] }));
            protectedT.off(arn, before);
          } else {
            await sdk.send(new TagResourceCommand({ ResourceArn: arn, Tags: { hold: "true" } }));
            protectedT.on(arn, Date.now());
          }
          tagChanges++;
        } else {
          const parn = projectArns.get(project)!;
          if (unmanaged.isOn(project)) {
            // Certainly unmanaged only until the request leaves; certainly unmanaged once it is answered.
            const before = Date.now();
            await sdk.send(new TagResourceCommand({ ResourceArn: parn, Tags: { managed: "true" } }));
            unmanaged.off(project, before);
          } else {
            await sdk.send(new TagResourceCommand({ ResourceArn: parn, Tags: { managed: "false" } }));
            unmanaged.on(project, Date.now());
          }
          ownershipChanges++;
        }
      } catch (e) {
        // A version deleted meanwhile answers ResourceNotFound: nothing to record.
        if ((e as Error).name !== "ResourceNotFoundException") throw e;
      }
      await sleep(300 + random() * 900);
    }
    // Everything managed again, so convergence means "nothing deletable left anywhere".
    for (const p of PROJECTS) {
      if (!unmanaged.isOn(p)) continue;
      const before = Date.now();
      await sdk.send(new TagResourceCommand({ ResourceArn: projectArns.get(p)!, Tags: { managed: "true" } }));
      unmanaged.off(p, before);
    }
    const stoppedAt = Date.now();

    // ---- convergence: the writing replica reaches a cycle with nothing to delete ----
    let convergedAfter = -1;
    let seen: unknown[] = [];
    for (let cycles = 0; cycles < 12 && convergedAfter < 0; ) {
      await sleep(1000);
      const finished = replicas.flatMap((r) => r.lines.filter((l) => l.msg === "cycle finished" && l.time > stoppedAt && (l.summary as { delete?: number } | undefined) !== undefined));
      const writing = new Set(replicas.flatMap((r) => r.lines.filter((l) => l.msg === "cycle started" && l.write === true && l.time > stoppedAt).map((l) => l.cycleId)));
      const mine = finished.filter((l) => writing.has(l.cycleId));
      cycles = mine.length;
      seen = mine.map((l) => ({ result: l.result, summary: l.summary }));
      const clean = mine.findIndex((l) => (l.summary as { delete: number }).delete === 0 && l.result === "ok");
      if (clean >= 0) convergedAfter = clean + 1;
      // Generous: the faults go on, and on a loaded CI machine a cycle of this size can take many seconds.
      if (Date.now() - stoppedAt > 150_000) break;
    }

    for (const r of replicas) r.kill("SIGTERM");
    const exits = await Promise.all(replicas.map((r) => r.exited));

    // ---- the witness: the emulator's call log ----
    const calls = emu.calls();
    const deletes = calls.filter((c) => c.operation === "DeleteProjectVersion" && c.outcome === "ok");
    const all = [...replicas, ...retired];
    const lines: (LogLine & { who: number })[] = all.flatMap((r, who) => r.lines.map((l) => ({ ...l, who })));
    const cycleStart = new Map(lines.filter((l) => l.msg === "cycle started").map((l) => [`${l.who}|${l.cycleId}`, l.time]));
    const wrongful: string[] = [];
    const seenDeleted = new Set<string>();
    for (const d of deletes) {
      const arn = d.target!;
      if (seenDeleted.has(arn)) continue; // a repeated delete of a DELETING version answers DELETING again
      seenDeleted.add(arn);
      const rec = (l: LogLine) => l.audit as { versionArn: string; cycleId: string; operation?: string } | undefined;
      const audit = lines.find((l) => l.msg === "audit" && rec(l)?.versionArn === arn && (rec(l)!.operation ?? "delete") === "delete");
      // The cycle that issued it; after a SIGKILL the record may be lost: then the latest writing cycle before it.
      const tc = audit ? cycleStart.get(`${audit.who}|${rec(audit)!.cycleId}`) : Math.max(...lines.filter((l) => l.msg === "cycle started" && l.write === true && l.time <= d.time).map((l) => l.time));
      if (tc === undefined || !Number.isFinite(tc)) {
        wrongful.push(`${arn}: no writing cycle explains this deletion`);
        continue;
      }
      const project = arn.split(":project/")[1]!.split("/")[0]!;
      if (listed.throughout(arn, tc, d.time)) wrongful.push(`${arn}: listed throughout its cycle`);
      if (protectedT.throughout(arn, tc, d.time)) wrongful.push(`${arn}: protected throughout its cycle`);
      if (unmanaged.throughout(project, tc, d.time)) wrongful.push(`${arn}: project unmanaged throughout its cycle`);
      // The newest version of each project is kept (keepLatest 1), and RUNNING ones are never deleted.
      if (arn.includes(`/version/v${VERSIONS - 1}/`)) wrongful.push(`${arn}: the newest version (keepLatest)`);
      if (state.projects.find((p) => p.name === project)!.versions!.find((v) => arn.includes(`/version/${v.name}/`))?.status === "RUNNING") wrongful.push(`${arn}: RUNNING`);
    }
    // Two writers at once would show as two holders' deletions interleaving; the lease history says who held it.
    const report = {
      seconds: SECONDS,
      seed: SEED,
      cycles: lines.filter((l) => l.msg === "cycle finished").length,
      awsCalls: calls.length,
      throttles: calls.filter((c) => c.outcome === "ThrottlingException").length,
      serverErrors: calls.filter((c) => c.outcome === "InternalServerError").length,
      deletions: seenDeleted.size,
      manifestEdits: edits,
      protectTagChanges: tagChanges,
      ownershipChanges,
      killsSurvived: kills,
      leaderChanges: lease.history.length,
      convergedAfterCycles: convergedAfter,
      wrongfulDeletions: wrongful.length,
    };
    console.log("soak report " + JSON.stringify(report));
    if (process.env.REKON_SOAK_DUMP) writeFileSync(process.env.REKON_SOAK_DUMP, JSON.stringify({ deletes, lines: lines.filter((l) => ["cycle started", "audit", "cycle finished", "deletion accepted"].includes(l.msg)) }, null, 1));

    expect(wrongful).toEqual([]);
    expect(kills).toBe(1);
    expect(report.throttles).toBeGreaterThan(0);
    expect(seenDeleted.size).toBeGreaterThan(0);
    expect(convergedAfter, `no clean writing cycle after the soak; cycles seen: ${JSON.stringify(seen)}`).toBeGreaterThan(0);
    expect(exits.every((e) => e.code === 0)).toBe(true);

    // Final word from a clean read: nothing deletable is left.
    emu.setFaults({});
    const final = await runCli(["plan", "--manifests", join(dir, "manifests"), "--policy", join(dir, "policy.yaml"), "--output", "json"], { env });
    const plan = JSON.parse(final.stdout);
    expect(plan.projects.map((p: { status: string }) => p.status)).toEqual(PROJECTS.map(() => "ok"));
    expect(plan.summary.delete).toBe(0);
  }, (SECONDS + 200) * 1000);
});
