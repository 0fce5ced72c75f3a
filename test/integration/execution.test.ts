// Execution at account scale against the emulator over the real SDK: fault storms, the throttle-storm
// give-up, stop-then-delete, --wait, and two accounts × two regions with separate limiters.
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { waitForDeletionsReport } from "../../reconciler/aws/wait.js";
import { RateLimiters } from "../../reconciler/aws/limiter.js";
import type { RetryOptions } from "../../reconciler/aws/retry.js";
import { startEmulator, type Emulator, type EmulatorStateFile } from "../../reconciler/emulator/server.js";
import { applyPass, planPass, type PlannedPass } from "../../reconciler/reconcile.js";
import type { DesiredState, Policy, WriteResult } from "../../reconciler/types.js";
import { desired, policy, set } from "../helpers/builders.js";
import { TEST_CREDENTIALS } from "../helpers/emulator-env.js";
import { emuPass } from "../helpers/pass.js";
import { tmpTree } from "../helpers/tmp.js";

const log = pino({ level: "silent" });
const FAST: RetryOptions = { retries: 10, baseDelayMs: 5, maxDelayMs: 100, maxTotalMs: 20_000 };

const versions = (n: number, status = "STOPPED" as const) => Array.from({ length: n }, (_, i) => ({ name: `v${String(i).padStart(3, "0")}`, status, age: `${300 - i}d` }));

/** Plan through the gate and close the pass's clients afterwards (the caller applies with applyPass first). */
async function passOf(emu: Emulator, d: DesiredState, pol: Policy, retry: RetryOptions = FAST, limiters?: RateLimiters): Promise<PlannedPass> {
  return emuPass(emu, d, pol, { retry, ...(limiters ? { limiters } : {}) });
}

describe("fault storm: 30% throttles and 5% server errors on every operation", () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ state: { account: "123456789012", projects: [{ name: "big", versions: versions(40) }, { name: "small", versions: versions(6) }] }, deleteDelayMs: 100 });
  });
  afterAll(() => emu.close());

  it("plan and apply complete correctly, the next plan proposes none of the accepted deletions, --wait sees them gone", async () => {
    // big keeps its newest 32 (8 to delete), small keeps one (5 to delete).
    const d = desired(set("big", versions(40).slice(8).map((v) => v.name)), set("small", ["v005"]));
    const pol = policy({ maxDeletesPerRun: 100 });
    const cleanPass = await passOf(emu, d, pol);
    const clean = cleanPass.plan;
    cleanPass.close();
    const planned = clean.actions.filter((a) => a.action === "delete").map((a) => a.versionArn);
    expect(planned).toHaveLength(13);

    // Throttles and 500s on every operation except the server errors on the deletions themselves: a 500
    // on a delete leaves it unknown whether AWS carried it out, which is another test's subject.
    emu.setFaults({ throttleRate: { "*": 0.3 }, errorRate: { DescribeProjects: 0.05, DescribeProjectVersions: 0.05, ListTagsForResource: 0.05, GetCallerIdentity: 0.05 }, seed: 7 });
    // Random throttles cut the rate like real ones; stated rates keep the test short.
    const dep = await passOf(emu, d, pol, FAST, new RateLimiters({ DescribeProjects: 20, DescribeProjectVersions: 20, DeleteProjectVersion: 10 }));
    const noisy = dep.plan;
    expect(noisy.actions).toEqual(clean.actions);
    emu.resetCalls();
    const results = await applyPass(dep, log);
    expect(results.map((r) => r.result)).toEqual(Array(13).fill("accepted"));
    expect(new Set(results.map((r) => r.versionArn))).toEqual(new Set(planned));
    // Faults really happened, and only planned versions were ever the target of a delete.
    expect(emu.callCount("DeleteProjectVersion", "ThrottlingException") + emu.callCount("DeleteProjectVersion", "InternalServerError")).toBeGreaterThan(0);
    expect(new Set(emu.calls().filter((c) => c.operation === "DeleteProjectVersion").map((c) => c.target))).toEqual(new Set(planned));

    // The next plan, still under faults, proposes none of them (DELETING is blocked inUse).
    const nextPass = await passOf(emu, d, pol);
    expect(nextPass.plan.actions.filter((a) => a.action === "delete")).toEqual([]);
    nextPass.close();

    const waited = await waitForDeletionsReport(results, { clientFor: dep.clientFor, log, projects: noisy.projects, intervalMs: 100, timeoutMs: 15_000 });
    expect(waited.stillPresent).toEqual([]);
    expect(waited.tookMs).toBeGreaterThan(0);
    emu.setFaults({});
    const after = emu.snapshot();
    expect(after.projects.find((p) => p.name === "big")!.versions!.map((v) => v.name).sort()).toEqual(d.sets[0]!.versions.map((v) => v.name).sort());
    dep.close();
  });
});

describe("unbounded throttle storm", () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ state: { projects: [{ name: "stormy", versions: versions(12) }, { name: "calm", region: "eu-west-1", versions: versions(3) }] } });
  });
  afterAll(() => emu.close());

  it("each call gives up at its bound with a clear error; nothing else is deleted in that project; other regions carry on", async () => {
    const d = desired(set("stormy", ["v011"]), set("calm", ["v002"], { region: "eu-west-1" }));
    const pol = policy({ maxDeletesPerRun: 100 });
    const dep = await passOf(emu, d, pol, { retries: 100, baseDelayMs: 5, maxDelayMs: 50, maxTotalMs: 1_500 });
    // Throttle every deletion in us-east-1 only: a storm in one account-region.
    emu.setFaults({ rateLimits: { DeleteProjectVersion: 0 }, only: { regions: ["us-east-1"] } });
    emu.resetCalls();
    const started = Date.now();
    const results = await applyPass(dep, log, { concurrency: 3 });
    const took = Date.now() - started;
    expect(took).toBeLessThan(6_000);

    const stormy = results.filter((r) => r.project === "stormy");
    const first = stormy.find((r) => r.result === "failed" && r.code === "ThrottlingException")!;
    expect(first.error).toMatch(/DeleteProjectVersion arn:.*stormy.*: ThrottlingException: .*gave up at the 1.5s bound per call \(after \d+ attempts\)/);
    expect(stormy.filter((r) => r.result === "accepted")).toEqual([]);
    // The ones being retried stop after their current (throttled) attempt; the rest are never started.
    expect(stormy.filter((r) => r.result === "skipped").length).toBeGreaterThanOrEqual(11 - 3);
    for (const r of stormy.filter((r) => r !== first && r.result !== "failed")) expect(r.error).toMatch(/an earlier call in project stormy \(us-east-1\) gave up/);
    expect(stormy.filter((r) => r.result === "failed").length).toBeLessThanOrEqual(3);
    const gaveUpAt = Math.max(...emu.calls().filter((c) => c.region === "us-east-1").map((c) => c.time));
    expect(emu.calls().filter((c) => c.region === "us-east-1" && c.operation === "DeleteProjectVersion" && c.outcome === "ok")).toEqual([]);
    expect(gaveUpAt - started).toBeLessThan(3_000);

    // The other region has its own quota and limiter, and finished.
    expect(results.filter((r) => r.project === "calm").map((r) => r.result)).toEqual(["accepted", "accepted"]);
    dep.close();
  });
});

describe("stop-then-delete", () => {
  const state = (): EmulatorStateFile => ({
    projects: [
      {
        name: "serving",
        versions: [
          { name: "old-running", status: "RUNNING", age: "60d" },
          { name: "old-stopped", status: "STOPPED", age: "50d" },
          { name: "current", status: "RUNNING", age: "10d" },
        ],
      },
      { name: "adapters", feature: "CONTENT_MODERATION", versions: [{ name: "a1", status: "TRAINING_COMPLETED", age: "40d" }] },
    ],
  });

  it("stops an unlisted RUNNING version, waits for STOPPED, then deletes it; listed and other versions untouched", async () => {
    const emu = await startEmulator({ state: state(), stopDelayMs: 300, deleteDelayMs: 50 });
    try {
      const d = desired(set("serving", ["current"]));
      const pass = await passOf(emu, d, policy({ stopRunning: true }));
      const del = pass.plan.actions.filter((a) => a.action === "delete");
      expect(del.map((a) => [a.versionName, a.stopFirst ?? false])).toEqual([["old-stopped", false], ["old-running", true]]);
      emu.resetCalls();
      const results = await applyPass(pass, log, { stopPollMs: 50 });
      pass.close();
      const running = results.find((r) => r.versionName === "old-running")!;
      expect(running).toMatchObject({ result: "accepted", status: "DELETING" });
      expect(running.stoppedAfterMs).toBeGreaterThanOrEqual(250);
      // Order on the wire: a last look, the stop, polls until STOPPED (the last one is the new last look),
      // then the delete; never a delete while not STOPPED.
      const mine = emu.calls().filter((c) => c.target === running.versionArn || (c.operation === "DescribeProjectVersions" && c.outcome === "ok"));
      const ops = mine.map((c) => c.operation);
      expect(ops[0]).toBe("DescribeProjectVersions");
      const stopAt = ops.indexOf("StopProjectVersion");
      expect(stopAt).toBeGreaterThan(0);
      expect(ops.at(-1)).toBe("DeleteProjectVersion");
      expect(ops.at(-2)).toBe("DescribeProjectVersions");
      expect(ops.slice(stopAt).filter((o) => o === "DescribeProjectVersions").length).toBeGreaterThanOrEqual(2);
      expect(emu.callCount("DeleteProjectVersion", "ResourceInUseException")).toBe(0);
      const snap = emu.snapshot().projects[0]!.versions ?? [];
      expect(snap.find((v) => v.name === "current")!.status).toBe("RUNNING");
    } finally {
      await emu.close();
    }
  });

  it("a stop that does not finish within its bound is a failed result, and the version is not deleted", async () => {
    const emu = await startEmulator({ state: state(), stopDelayMs: 60_000 });
    try {
      const pass = await passOf(emu, desired(set("serving", ["current", "old-stopped"])), policy({ stopRunning: true }));
      emu.resetCalls();
      const results = await applyPass(pass, log, { stopPollMs: 50, stopTimeoutMs: 400 });
      pass.close();
      expect(results).toHaveLength(1);
      expect(results[0]).toMatchObject({ versionName: "old-running", result: "failed", code: "StopTimeout", status: "STOPPING", operation: "stop" });
      expect(results[0]!.error).toMatch(/still STOPPING .* after StopProjectVersion \(bound 0s\)|still STOPPING/);
      expect(emu.callCount("DeleteProjectVersion")).toBe(0);
    } finally {
      await emu.close();
    }
  });

  it("without stopRunning the RUNNING version stays blocked inUse and the plan names the flag", async () => {
    const emu = await startEmulator({ state: state() });
    try {
      const pass = await passOf(emu, desired(set("serving", ["current"])), policy());
      pass.close();
      const a = pass.plan.actions.find((x) => x.versionName === "old-running")!;
      expect(a.action).toBe("blocked");
      expect(a.reasons.map((r) => r.message).join(" ")).toMatch(/stopRunning: true/);
    } finally {
      await emu.close();
    }
  });
});

describe("two accounts × two regions in one run", () => {
  const A = "111111111111";
  const B = "222222222222";
  const ROLE = `arn:aws:iam::${B}:role/rekon-deleter`;
  let emu: Emulator;
  let tree: ReturnType<typeof tmpTree>;
  beforeAll(async () => {
    const projects = [];
    for (const account of [A, B]) for (const region of ["us-east-1", "eu-west-1"]) projects.push({ name: "shared-name", region, ...(account === B ? { account } : {}), versions: versions(9) });
    emu = await startEmulator({ state: { account: A, projects }, deleteDelayMs: 50 });
    const manifest = (name: string, region: string, role?: string) =>
      `apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata:\n  name: ${name}\nspec:\n  project: shared-name\n  region: ${region}\n${role ? `  roleArn: ${role}\n` : ""}  versions:\n    - name: v008\n`;
    tree = tmpTree({
      "m/a-use1.yaml": manifest("a-use1", "us-east-1"),
      "m/a-euw1.yaml": manifest("a-euw1", "eu-west-1"),
      "m/b-use1.yaml": manifest("b-use1", "us-east-1", ROLE),
      "m/b-euw1.yaml": manifest("b-euw1", "eu-west-1", ROLE),
      "policy.yaml": `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata:\n  name: multi\nspec:\n  allowedAccounts: ["${A}", "${B}"]\n  minAge: 1h\n  keepLatest: 1\n  maxDeletesPerRun: 100\n  rateLimits:\n    DeleteProjectVersion: 4\n`,
    });
  });
  afterAll(async () => {
    tree.cleanup();
    await emu.close();
  });

  it("each (account, region) gets its own credentials and limiter and they proceed side by side", async () => {
    // The emulator's quota is per (account, region): 4/s each, as the policy states.
    emu.setFaults({ rateLimits: { DeleteProjectVersion: 4 } });
    const pass = await planPass({
      manifests: [tree.path("m")],
      policy: tree.path("policy.yaml"),
      log,
      retry: FAST,
      client: { endpoint: emu.url, stsEndpoint: emu.url, credentials: TEST_CREDENTIALS },
    });
    try {
      expect(pass.plan.projects.map((p) => [p.set, p.status, p.projectArn?.split(":")[4]])).toEqual([
        ["a-use1", "ok", A],
        ["a-euw1", "ok", A],
        ["b-use1", "ok", B],
        ["b-euw1", "ok", B],
      ].sort() && expect.arrayContaining([["a-use1", "ok", A], ["a-euw1", "ok", A], ["b-use1", "ok", B], ["b-euw1", "ok", B]]));
      expect(pass.plan.summary.delete).toBe(32);
      emu.resetCalls();
      const started = Date.now();
      const results: WriteResult[] = await applyPass(pass, log);
      const took = Date.now() - started;
      expect(results.filter((r) => r.result === "accepted")).toHaveLength(32);
      // 8 deletions per (account, region) at 4/s, evenly paced: about 1.75 s each, side by side. One
      // shared limiter would need 8 s.
      expect(took).toBeLessThan(4_500);
      expect(emu.callCount("DeleteProjectVersion", "ThrottlingException")).toBe(0);
      const deletes = emu.calls().filter((c) => c.operation === "DeleteProjectVersion");
      const perScope = new Map<string, number>();
      for (const c of deletes) {
        // Every delete was made by the account that owns the version, in its region.
        expect(c.target).toContain(`:rekognition:${c.region}:${c.account}:`);
        perScope.set(`${c.account}|${c.region}`, (perScope.get(`${c.account}|${c.region}`) ?? 0) + 1);
      }
      expect(Object.fromEntries(perScope)).toEqual({ [`${A}|us-east-1`]: 8, [`${A}|eu-west-1`]: 8, [`${B}|us-east-1`]: 8, [`${B}|eu-west-1`]: 8 });
      const limiters = pass.limiters.stats().filter((s) => s.operation === "DeleteProjectVersion");
      // Limiters are keyed by the account each source resolved to (STS), not by a configured string.
      expect(limiters.map((s) => `${s.identity}|${s.region}|${s.granted}`).sort()).toEqual([`${A}|eu-west-1|8`, `${A}|us-east-1|8`, `${B}|eu-west-1|8`, `${B}|us-east-1|8`]);
      expect(limiters.every((s) => s.rate === 4)).toBe(true);
    } finally {
      pass.close();
    }
  });

  it("a role that cannot be assumed fails that account's projects closed, with the STS error", async () => {
    const denied = await startEmulator({ state: { account: A, projects: [{ name: "shared-name", account: B, versions: versions(3) }] }, denyRoles: [ROLE] });
    try {
      const pass = await passOf(denied, desired({ ...set("shared-name", []), roleArn: ROLE }), policy());
      pass.close();
      expect(pass.plan.projects[0]).toMatchObject({ status: "error" });
      expect(pass.plan.projects[0]!.error).toMatch(/AssumeRole arn:aws:iam::222222222222:role\/rekon-deleter: AccessDenied/);
      expect(denied.callCount("DescribeProjects")).toBe(0);
    } finally {
      await denied.close();
    }
  });
});
