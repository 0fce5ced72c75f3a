// The real SDK (through rekon's client and retry layer) against the emulator over HTTP.
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { waitForDeletionsReport } from "../../reconciler/aws/wait.js";
import { createClient } from "../../reconciler/aws/client.js";
import { RateLimiters } from "../../reconciler/aws/limiter.js";
import { readLive } from "../../reconciler/aws/inventory.js";
import type { RetryOptions } from "../../reconciler/aws/retry.js";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import { plan } from "../../reconciler/plan.js";
import { applyPass } from "../../reconciler/reconcile.js";
import type { DesiredState, LiveState } from "../../reconciler/types.js";
import { emulatorEnv, TEST_CREDENTIALS } from "../helpers/emulator-env.js";
import { AMBIENT_IDENTITY, desired, policy, set } from "../helpers/builders.js";
import { emuPass } from "../helpers/pass.js";

const IDS = [AMBIENT_IDENTITY];

const log = pino({ level: "silent" });
const FAST: RetryOptions = { retries: 10, baseDelayMs: 5, maxDelayMs: 40, maxTotalMs: 10_000 };

const bigVersions = Array.from({ length: 250 }, (_, i) => ({ name: `v${String(i).padStart(3, "0")}`, status: "STOPPED" as const, age: `${300 - i}d` }));
function state() {
  return {
    account: "123456789012",
    projects: [
      { name: "big", region: "us-east-1", feature: "CUSTOM_LABELS" as const, age: "400d", versions: bigVersions },
      {
        name: "adapter",
        region: "us-east-1",
        feature: "CONTENT_MODERATION" as const,
        age: "100d",
        versions: [
          { name: "a1", status: "EXPIRED" as const, age: "90d" },
          { name: "a2", status: "TRAINING_COMPLETED" as const, age: "5d" },
        ],
      },
      {
        name: "mixed",
        region: "us-east-1",
        age: "100d",
        versions: [
          { name: "old1", status: "STOPPED" as const, age: "80d" },
          { name: "old2", status: "TRAINING_FAILED" as const, age: "70d" },
          { name: "old3", status: "STOPPED" as const, age: "60d" },
          { name: "old4", status: "FAILED" as const, age: "50d" },
          { name: "run", status: "RUNNING" as const, age: "40d" },
          { name: "keep", status: "TRAINING_COMPLETED" as const, age: "1d" },
        ],
      },
      { name: "west", region: "us-west-2", age: "10d", versions: [{ name: "w1", status: "STOPPED" as const, age: "9d" }] },
    ],
  };
}

let emu: Emulator;
const clients: ReturnType<typeof createClient>[] = [];
function deps(retry: RetryOptions = FAST, limiters = new RateLimiters()) {
  const cache = new Map<string, ReturnType<typeof createClient>>();
  return {
    log,
    limiters,
    clientFor({ region }: { region: string }) {
      let c = cache.get(region);
      if (!c) {
        c = createClient({ region, retry, limiters, endpoint: emu.url, credentials: TEST_CREDENTIALS });
        cache.set(region, c);
        clients.push(c);
      }
      return c;
    },
  };
}
const d = (): DesiredState => desired(set("big", []), set("adapter", ["a2"]), set("mixed", ["keep"]), set("nope", ["x"]), set("west", ["w1"], { region: "us-west-2" }), set("west", [], { region: "eu-west-1", name: "west-eu" }));

beforeAll(async () => {
  emu = await startEmulator({ state: state(), deleteDelayMs: 50 });
});
afterAll(async () => {
  clients.forEach((c) => c.destroy());
  await emu.close();
});
afterEach(() => {
  emu.setFaults({});
  emu.resetCalls();
});

describe("readLive over the real SDK", () => {
  let live: LiveState;
  beforeAll(async () => {
    emu.resetCalls();
    live = await readLive(d(), IDS, deps());
  });

  it("reads every version of a 250-version project across 3 pages, newest first, none repeated", () => {
    const big = live.projects.find((p) => p.project === "big")!;
    expect(big.status).toBe("ok");
    expect(big.versions).toHaveLength(250);
    expect(new Set(big.versions.map((v) => v.arn)).size).toBe(250);
    expect(big.versions[0]!.name).toBe("v249");
    expect(big.versions.every((v) => v.account === "123456789012" && v.region === "us-east-1")).toBe(true);
  });

  it("made the minimum number of calls: one DescribeProjects per region batch, ⌈n/100⌉ DescribeProjectVersions per project", () => {
    // Read again with a clean log to count exactly.
    return (async () => {
      emu.resetCalls();
      await readLive(d(), IDS, deps());
      expect(emu.callCount("DescribeProjects")).toBe(3); // us-east-1, us-west-2, eu-west-1
      expect(emu.callCount("DescribeProjectVersions")).toBe(3 + 1 + 1 + 1); // big, adapter, mixed, west
      expect(emu.callCount("DeleteProjectVersion")).toBe(0);
    })();
  });

  it("finds adapter projects (both Features requested)", () => {
    const a = live.projects.find((p) => p.project === "adapter")!;
    expect(a.status).toBe("ok");
    expect(a.versions.map((v) => [v.name, v.feature, v.status])).toEqual([
      ["a2", "CONTENT_MODERATION", "TRAINING_COMPLETED"],
      ["a1", "CONTENT_MODERATION", "EXPIRED"],
    ]);
  });

  it("reports an unknown project as notFound and keeps regions apart", () => {
    expect(live.projects.find((p) => p.project === "nope")).toMatchObject({ status: "notFound" });
    expect(live.projects.find((p) => p.project === "west" && p.region === "us-west-2")).toMatchObject({ status: "ok" });
    expect(live.projects.find((p) => p.project === "west" && p.region === "eu-west-1")).toMatchObject({ status: "notFound" });
  });
});

describe("faults", () => {
  it("30% throttles and 5% server errors on every operation: the same live state, just more calls", async () => {
    const clean = await readLive(d(), IDS, deps());
    emu.resetCalls();
    emu.setFaults({ throttleRate: { "*": 0.3 }, errorRate: { "*": 0.05 }, seed: 42 });
    const noisy = await readLive(d(), IDS, deps());
    expect(noisy).toEqual(clean);
    expect(emu.callCount(undefined, "ThrottlingException")).toBeGreaterThan(0);
    expect(emu.callCount()).toBeGreaterThan(9);
  });

  it("an unbounded throttle storm: the read gives up at its bound and the project fails closed", async () => {
    emu.setFaults({ throttleRate: { DescribeProjectVersions: 1 } });
    const started = Date.now();
    const live = await readLive(desired(set("mixed", ["keep"])), IDS, deps({ retries: 4, baseDelayMs: 5, maxDelayMs: 20, maxTotalMs: 2_000 }));
    expect(Date.now() - started).toBeLessThan(5_000);
    const p = live.projects[0]!;
    expect(p.status).toBe("error");
    expect(p.error).toMatch(/ThrottlingException.*after 5 attempts/);
    expect(emu.callCount("DescribeProjectVersions")).toBe(5);
    const pl = plan(desired(set("mixed", ["keep"])), live, policy(), new Date());
    expect(pl.actions).toEqual([]);
  });

  it("a page that fails mid-listing fails the whole project, never a partial list", async () => {
    // Rate limit of 2/s with no retries: page 1 and 2 pass, page 3 throttles.
    emu.setFaults({ rateLimits: { DescribeProjectVersions: 2 } });
    const live = await readLive(desired(set("big", [])), IDS, deps({ retries: 0, baseDelayMs: 1, maxDelayMs: 1, maxTotalMs: 1_000 }));
    expect(live.projects[0]).toMatchObject({ status: "error", versions: [] });
  });
});

describe("apply over the real SDK, through the gate", () => {
  it("a plan tampered with after the gate made it cannot redirect a deletion: the gate re-derives every approval from fresh facts", async () => {
    const pass = await emuPass(emu, desired(set("mixed", ["keep"])), policy({ keepLatest: 0 }), { retry: { retries: 10, baseDelayMs: 50, maxDelayMs: 500, maxTotalMs: 10_000 } });
    const p = pass.plan;
    expect(p.actions.filter((a) => a.action === "delete").map((a) => a.versionName)).toEqual(["old4", "old3", "old2", "old1"]);
    // Point one planned deletion at the RUNNING version and one at an ARN that does not exist.
    const runArn = pass.live.projects[0]!.versions.find((v) => v.name === "run")!.arn;
    const redirected = p.actions.find((a) => a.versionName === "old4")!;
    redirected.versionArn = runArn;
    const ghost = p.actions.find((a) => a.versionName === "old3")!;
    ghost.versionArn = ghost.versionArn!.replace("/old3/", "/does-not-exist/");

    emu.resetCalls();
    emu.setFaults({ rateLimits: { DeleteProjectVersion: 2 } });
    const results = await applyPass(pass, log);
    pass.close();
    expect(results.map((r) => [r.versionName, r.result])).toEqual([
      ["old4", "changed"],
      ["old3", "changed"],
      ["old2", "accepted"],
      ["old1", "accepted"],
    ]);
    const deletes = emu.calls().filter((c) => c.operation === "DeleteProjectVersion");
    // Nothing was ever sent for the RUNNING version or the made-up ARN.
    expect(deletes.map((c) => c.target)).not.toContain(runArn);
    expect(deletes.map((c) => c.target)).not.toContain(ghost.versionArn);
    expect(new Set(deletes.filter((c) => c.outcome === "ok").map((c) => c.target))).toEqual(new Set(p.actions.filter((a) => a.versionName === "old2" || a.versionName === "old1").map((a) => a.versionArn)));
    // The default DeleteProjectVersion rate (2/s) matches this quota: nothing bounced off it.
    expect(emu.callCount("DeleteProjectVersion", "ThrottlingException")).toBe(0);
  });

  it("a deletion that gives up at its bound is reported failed, and nothing more is started in that project", async () => {
    const pass = await emuPass(emu, desired(set("big", ["v249"])), policy({ keepLatest: 0, maxDeletesPerRun: 1000 }), { retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 5, maxTotalMs: 10_000 } });
    // Only two of the planned deletions are kept: a plan may be cut down, never widened.
    pass.plan.actions = pass.plan.actions.filter((a) => a.action !== "delete" || ["v000", "v001"].includes(a.versionName));
    emu.resetCalls();
    emu.setFaults({ throttleRate: { DeleteProjectVersion: 1 } });
    const results = await applyPass(pass, log, { concurrency: 1 });
    pass.close();
    expect(results.map((r) => [r.versionName, r.result, r.code])).toEqual([
      ["v001", "failed", "ThrottlingException"],
      ["v000", "skipped", undefined],
    ]);
    expect(results[0]!.error).toContain("after 3 attempts");
    expect(results[1]!.error).toMatch(/not started: an earlier call in project big \(us-east-1\) gave up \(ThrottlingException\)/);
    expect(emu.callCount("DeleteProjectVersion")).toBe(3);
  });

  it("refuses to act on a plan with refusals", async () => {
    const pass = await emuPass(emu, desired(set("mixed", ["keep"])), policy({ keepLatest: 0 }));
    pass.plan.refusals.push({ rule: "maxDeletesPerRun", message: "over budget" });
    emu.resetCalls();
    await expect(applyPass(pass, log)).rejects.toThrow(/over budget/);
    pass.close();
    expect(emu.callCount("DeleteProjectVersion")).toBe(0);
  });
});

describe("endpoint from the environment", () => {
  it("a client built without an endpoint reaches the emulator through AWS_ENDPOINT_URL_REKOGNITION", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, emulatorEnv(emu.url));
    try {
      const c = createClient({ region: "us-east-1", retry: FAST });
      clients.push(c);
      emu.resetCalls();
      const live = await readLive(desired(set("adapter", [])), IDS, { log, clientFor: () => c });
      expect(live.projects[0]!.status).toBe("ok");
      expect(emu.callCount("DescribeProjects")).toBe(1);
    } finally {
      process.env = saved;
    }
  });
});
