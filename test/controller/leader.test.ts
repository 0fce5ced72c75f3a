// Leader election against an in-test Lease endpoint that enforces resourceVersion (409 on a stale write).
// In-process electors for the protocol's edges; two real `rekon run --apply --leader-elect` processes for
// the whole story: one writes, the other plans dry; kill the writer, the other takes over and writes,
// and no write ever happens outside its writer's term as the Lease server recorded it.
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LeaderElector, leaseApi } from "../../reconciler/controller/leader.js";
import type { LeaderOptions } from "../../reconciler/controller/options.js";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import { createLogger } from "../../reconciler/log.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { ROOT } from "../helpers/run-cli.js";
import { cycleFinished, get, metric, startLeaseServer, startRun, writeKubeconfig, type LeaseServer, type RunProcess } from "./helpers.js";

let server: LeaseServer;
let dir: string;
const electors: LeaderElector[] = [];

beforeEach(async () => {
  server = await startLeaseServer();
  dir = mkdtempSync(join(tmpdir(), "rekon-lease-"));
  writeKubeconfig(join(dir, "kubeconfig"), server.url);
});
afterEach(async () => {
  await Promise.all(electors.splice(0).map((e) => e.stop(200)));
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
  return Date.now();
}

describe("LeaderElector", () => {
  const OPTS: LeaderOptions = { leaseName: "rekon", leaseNamespace: "rekon-test", leaseDurationMs: 1_000, renewDeadlineMs: 600, retryPeriodMs: 100 };
  // A lease that would take far longer to expire than any test waits: "at once" then means "not by expiry".
  const LONG: LeaderOptions = { ...OPTS, leaseDurationMs: 20_000, renewDeadlineMs: 15_000 };
  async function elector(identity: string, events: string[] = [], base: LeaderOptions = OPTS) {
    const opts = { ...base, kubeconfig: join(dir, "kubeconfig"), identity };
    const e = new LeaderElector(await leaseApi(opts), opts, createLogger("silent"), {
      onStartedLeading: () => events.push(`${identity} started`),
      onStoppedLeading: (why) => events.push(`${identity} stopped: ${why}`),
    });
    electors.push(e);
    return e;
  }

  it("two contenders on an empty lease: exactly one leads (the other's create or update gets 409)", async () => {
    const [a, b] = [await elector("a"), await elector("b")];
    a.start();
    b.start();
    await until(() => a.isLeader() || b.isLeader(), 2_000, "a leader");
    // Several rounds of renewals and acquisition attempts reach the server (an event, not a sleep).
    const r0 = server.requests;
    await until(() => server.requests >= r0 + 10, 5_000, "ten more Lease requests");
    expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
    const leader = a.isLeader() ? "a" : "b";
    expect(server.history).toEqual([{ holder: leader, at: expect.any(Number) }]);
    expect(server.lease()!.spec).toMatchObject({ holderIdentity: leader, leaseDurationSeconds: 1 });
  });

  it("while the leader renews, the other never takes over; a released lease is taken at once", async () => {
    const events: string[] = [];
    const a = await elector("a", events, LONG);
    a.start();
    await until(() => a.isLeader(), 2_000, "a to lead");
    const b = await elector("b", events, LONG);
    b.start();
    const r0 = server.requests;
    await until(() => server.requests >= r0 + 8, 5_000, "b's attempts and a's renewals");
    expect(b.isLeader()).toBe(false);
    await a.stop();
    expect(server.lease()!.spec.holderIdentity).toBe("");
    // Taken at once: well before the 20 s the lease would take to expire.
    await until(() => b.isLeader(), 5_000, "b to take over the released lease");
    expect(events).toEqual(["a started", "a stopped: shutting down", "b started"]);
  });

  it("a lease taken by someone else ends the term at once: its signal aborts within one retry period", async () => {
    const events: string[] = [];
    const a = await elector("a", events, LONG);
    a.start();
    await until(() => a.isLeader(), 2_000, "a to lead");
    const term = a.termSignal()!;
    expect(term.aborted).toBe(false);
    server.steal("intruder");
    // At its next renewal, not when the 20 s lease would have run out.
    await until(() => term.aborted, 5_000, "a's term to end");
    expect(a.isLeader()).toBe(false);
    expect(events.at(-1)).toBe("a stopped: the lease is held by another instance");
    expect(String((term.reason as Error).message)).toContain("lost leadership");
  });

  it("an API server outage: the leader steps down after renewDeadline, before any other could take over", async () => {
    const a = await elector("a");
    a.start();
    await until(() => a.isLeader(), 2_000, "a to lead");
    const term = a.termSignal()!;
    const acquired = server.lease()!.spec.renewTime;
    await until(() => server.lease()!.spec.renewTime !== acquired, 2_000, "a renewal");
    const renewedBefore = Date.parse(server.lease()!.spec.renewTime!);
    server.setDown(true);
    const lost = await until(() => term.aborted, 2_000, "a to step down");
    // Others may take over only leaseDuration after the last renewal they saw: the leader is out before.
    expect(lost - renewedBefore).toBeLessThan(OPTS.leaseDurationMs);
    expect(lost - renewedBefore).toBeGreaterThanOrEqual(OPTS.renewDeadlineMs - OPTS.retryPeriodMs - 20);
  });
});

describe("rekon run --leader-elect (two processes)", () => {
  const procs: RunProcess[] = [];
  const emus: Emulator[] = [];
  afterEach(async () => {
    for (const p of procs.splice(0)) p.kill("SIGKILL");
    await Promise.all(emus.splice(0).map((e) => e.close()));
  });

  it("one writes, the other plans dry; the writer killed → the other takes over within a lease duration and writes; never two writers", async () => {
    const LEASE = 2_000;
    const RETRY = 250;
    cpSync(join(ROOT, "manifests"), join(dir, "manifests"), { recursive: true });
    cpSync(join(ROOT, "deploy/policy.yaml"), join(dir, "policy.yaml"));
    // One emulator per instance (same demo inventory), so every write is attributable to its instance.
    for (let i = 0; i < 2; i++) emus.push(await startEmulator({ deleteDelayMs: 100 }));
    const args = [
      "--manifests",
      join(dir, "manifests"),
      "--policy",
      join(dir, "policy.yaml"),
      "--apply",
      "--interval",
      "1s",
      "--listen",
      "127.0.0.1:0",
      "--leader-elect",
      "--lease-name",
      "rekon",
      "--lease-namespace",
      "rekon-test",
      "--kubeconfig",
      join(dir, "kubeconfig"),
      "--lease-duration",
      `${LEASE / 1000}s`,
      "--renew-deadline",
      "1500ms",
      "--retry-period",
      `${RETRY}ms`,
    ];
    for (const e of emus) procs.push(startRun(args, emulatorEnv(e.url)));
    const ids = await Promise.all(procs.map(async (p) => String((await p.waitFor((l) => l.msg === "leader election: contending")).identity)));

    await until(() => server.history.length > 0, 10_000, "a first leader");
    const first = ids.indexOf(server.history[0]!.holder);
    expect(first).toBeGreaterThanOrEqual(0);
    const [leader, follower] = [procs[first]!, procs[1 - first]!];
    const [leaderEmu, followerEmu] = [emus[first]!, emus[1 - first]!];
    const deletes = (e: Emulator) => e.calls().filter((c) => c.operation === "DeleteProjectVersion");

    await until(() => deletes(leaderEmu).length === 7, 15_000, "the leader's deletions");
    // The follower keeps planning (its metrics stay warm) but never writes.
    await follower.waitFor((l) => cycleFinished(l) && (l.summary as { delete: number })?.delete === 7, 10_000, "a dry cycle on the follower");
    const fm = (await get(`${await follower.url()}/metrics`)).body;
    expect(metric(fm, "rekon_leader")).toBe(0);
    expect(metric(fm, 'rekon_versions{project="fraud-detector",account="123456789012",region="us-east-1",action="delete"}')).toBe(3);
    expect(metric((await get(`${await leader.url()}/metrics`)).body, "rekon_leader")).toBe(1);
    expect(deletes(followerEmu)).toEqual([]);

    const killed = Date.now();
    leader.kill("SIGKILL");
    await until(() => server.history.length > 1, LEASE + 4 * RETRY + 1_000, "a takeover");
    const takeover = server.history[1]!;
    expect(takeover.holder).toBe(ids[1 - first]);
    // From the last renewal the follower saw, it waits one lease duration (never less), then takes over.
    expect(takeover.at - killed).toBeGreaterThanOrEqual(LEASE - 2 * RETRY);
    expect(takeover.at - killed).toBeLessThanOrEqual(LEASE + 5_000);
    await until(() => deletes(followerEmu).length === 7, 10_000, "the new leader's deletions");

    // Never two writers: each write happened inside its writer's term as the Lease server recorded it.
    const termOf = (id: string) => {
      const i = server.history.findIndex((h) => h.holder === id);
      return { from: server.history[i]!.at, to: server.history[i + 1]?.at ?? Infinity };
    };
    const t0 = termOf(ids[first]!);
    const t1 = termOf(ids[1 - first]!);
    for (const c of deletes(leaderEmu)) expect(c.time >= t0.from && c.time < t0.to).toBe(true);
    for (const c of deletes(followerEmu)) expect(c.time >= t1.from && c.time < t1.to).toBe(true);
    expect(Math.max(...deletes(leaderEmu).map((c) => c.time))).toBeLessThan(t1.from);

    // A graceful stop gives the lease back, so a successor would not wait.
    const stopping = Date.now();
    follower.kill("SIGTERM");
    expect((await follower.exited).code).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(30_000);
    expect(server.lease()!.spec.holderIdentity).toBe("");
  }, 60_000);

  it("a leader whose lease is taken mid-apply starts no further deletion", async () => {
    const LATENCY = 1_000;
    const RETRY = 200;
    cpSync(join(ROOT, "manifests"), join(dir, "manifests"), { recursive: true });
    cpSync(join(ROOT, "deploy/policy.yaml"), join(dir, "policy.yaml"));
    const emu = await startEmulator({ deleteDelayMs: 100 });
    emus.push(emu);
    emu.setFaults({ latencyMs: { min: LATENCY, max: LATENCY } });
    const p = startRun(
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
        "--leader-elect",
        "--lease-namespace",
        "rekon-test",
        "--kubeconfig",
        join(dir, "kubeconfig"),
        "--lease-duration",
        "2s",
        "--renew-deadline",
        "1500ms",
        "--retry-period",
        `${RETRY}ms`,
      ],
      emulatorEnv(emu.url),
    );
    procs.push(p);
    // Deletions start right after the plan line, and each takes LATENCY: steal while they are in flight.
    const writing = await p.waitFor((l) => l.msg === "cycle started" && l.write === true, 20_000, "a writing cycle");
    await p.waitFor((l) => l.msg === "plan" && l.cycleId === writing.cycleId, 20_000, "its plan");
    // Steal while a deletion is in flight: the emulator says when the first one arrives.
    await emu.waitForCall((c) => c.operation === "DeleteProjectVersion" && c.phase === "received", 20_000);
    const stolen = Date.now();
    server.steal("intruder");
    const lost = await p.waitFor((l) => l.msg === "leader election: lost the lease; writes stop now", 5_000, "the loss");
    // Seen at a renewal, before the 2 s lease could have let the intruder act on a stale term.
    expect(lost.time - stolen).toBeLessThan(2_000);
    const finished = await p.waitFor((l) => cycleFinished(l) && l.cycleId === writing.cycleId, 5_000, "the cycle to end");
    expect(finished.result).toBe("aborted");
    // The emulator logs a call when it answers, LATENCY after it arrived: none arrived after the loss was seen.
    // No deletion reached AWS after the loss was seen (the emulator logs each one as it arrives).
    const received = emu.calls({ phase: "received" }).filter((c) => c.operation === "DeleteProjectVersion");
    for (const c of received) expect(c.time).toBeLessThan(lost.time + 100);
    expect(received.length).toBeLessThan(7);
    expect(metric((await get(`${await p.url()}/metrics`)).body, "rekon_leader")).toBe(0);
  }, 40_000);
});
