// /metrics of a real `rekon run --apply` against the emulator: the whole scrape passes `promtool check
// metrics`, every counter an alert reads is there at 0 before anything happens, per-project series carry
// account and region, AWS latency and limiter rates are exported, and rekon_build_info names the build.
// Leader election against an API server that is down: every failure counted, warnings backed off.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FailureLog } from "../../reconciler/controller/leader.js";
import { DELETE_RESULTS, projectAccount } from "../../reconciler/controller/metrics.js";
import { type Emulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { ROOT } from "../helpers/run-cli.js";
import { runPromtool, skipWithoutPromtool } from "../ops/promtool.js";
import {
  cycleFinished,
  get,
  metric,
  startLeaseServer,
  startRun,
  writeKubeconfig,
  type LeaseServer,
  type RunProcess,
  controllerFixture,
  controllerTeardown,
} from "./helpers.js";

let emu: Emulator;
let dir: string;
let run: RunProcess | undefined;
beforeEach(async () => {
  ({ emu, dir } = await controllerFixture("metrics", { emulator: { deleteDelayMs: 50 } }));
});
afterEach(async () => {
  await controllerTeardown(run, emu, dir);
  run = undefined;
});

const args = (...extra: string[]) => ["--manifests", join(dir, "manifests"), "--policy", join(dir, "policy.yaml"), "--listen", "127.0.0.1:0", ...extra];
const PROJECTS = ["fraud-detector", "moderation-adapter", "shelf-scanner"];
const ACCOUNT = "123456789012"; // the emulator's default account

describe("/metrics of rekon run --apply", () => {
  it("passes promtool check metrics, with every alerting series present", async (ctx) => {
    run = startRun(args("--apply", "--interval", "1h"), { ...emulatorEnv(emu.url), REKON_REVISION: "0123abcd" });
    const url = await run.url();
    expect(await run.waitFor(cycleFinished, 20_000, "the first cycle")).toMatchObject({ result: "ok", deleted: 7 });
    const body = (await get(`${url}/metrics`)).body;

    // Pre-initialised: every cycle result and every deletion result of every project, before any failure.
    for (const r of ["ok", "invalid", "refused", "failed", "aborted", "error"])
      expect(metric(body, `rekon_reconcile_total{result="${r}"}`)).toBe(r === "ok" ? 1 : 0);
    for (const p of PROJECTS) {
      for (const r of DELETE_RESULTS)
        expect(metric(body, `rekon_deletions_total{project="${p}",account="${ACCOUNT}",region="us-east-1",result="${r}"}`), `${p} ${r}`).toBeGreaterThanOrEqual(
          0,
        );
      for (const s of ["ok", "notFound", "error", "notManaged"])
        expect(metric(body, `rekon_project_reads_total{project="${p}",account="${ACCOUNT}",region="us-east-1",status="${s}"}`)).toBe(s === "ok" ? 1 : 0);
    }
    expect(metric(body, `rekon_deletions_total{project="fraud-detector",account="${ACCOUNT}",region="us-east-1",result="accepted"}`)).toBe(3);
    expect(metric(body, `rekon_deletions_total{project="fraud-detector",account="${ACCOUNT}",region="us-east-1",result="failed"}`)).toBe(0);
    expect(metric(body, `rekon_versions{project="fraud-detector",account="${ACCOUNT}",region="us-east-1",action="delete"}`)).toBe(3);
    expect(metric(body, "rekon_leader_election_errors_total")).toBe(0);
    expect(metric(body, "rekon_reconcile_interval_seconds")).toBe(3600);
    expect(metric(body, "rekon_manifests_stale")).toBe(0);

    // AWS latency per operation, and the limiters' rates labelled with the account (also the ambient one).
    expect(metric(body, `rekon_aws_request_duration_seconds_count{account="${ACCOUNT}",region="us-east-1",operation="DeleteProjectVersion"}`)).toBe(7);
    expect(
      metric(body, `rekon_aws_request_duration_seconds_count{account="${ACCOUNT}",region="us-east-1",operation="DescribeProjectVersions"}`),
    ).toBeGreaterThanOrEqual(3);
    expect(metric(body, `rekon_aws_rate_limit_requests_per_second{account="${ACCOUNT}",region="us-east-1",operation="DeleteProjectVersion"}`)).toBeGreaterThan(
      0,
    );
    expect(body).not.toContain('account="ambient"');
    // Every AWS-call series names the account and region the call went to (quotas and throttles are theirs),
    // and each operation rekon may call there is at 0 from the first plan on, before it is ever called.
    expect(metric(body, `rekon_aws_requests_total{account="${ACCOUNT}",region="us-east-1",operation="UntagResource",outcome="ok"}`)).toBe(0);
    const awsSeries = body.split("\n").filter((l) => /^rekon_aws_request(s_total|_duration_seconds_count)\{/.test(l));
    expect(awsSeries.length).toBeGreaterThan(5);
    for (const line of awsSeries) expect(line).toMatch(new RegExp(`\\{account="${ACCOUNT}",region="us-east-1",operation="`));

    const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;
    expect(metric(body, `rekon_build_info{version="${version}",revision="0123abcd"}`)).toBe(1);

    skipWithoutPromtool(ctx, "promtool check metrics");
    const check = await runPromtool(["check", "metrics"], body);
    expect(check.out).toBe("");
    expect(check.code).toBe(0);
  }, 40_000);

  it("promtool check metrics can fail: a gauge named like a counter is reported", async (ctx) => {
    skipWithoutPromtool(ctx, "promtool check metrics (negative case)");
    const bad = "# HELP rekon_things_total x\n# TYPE rekon_things_total gauge\nrekon_things_total 1\n";
    const check = await runPromtool(["check", "metrics"], bad);
    expect(check.code).not.toBe(0);
    expect(check.out).toContain('non-counter metrics should not have "_total" suffix');
  });

  it("rekon_build_info: revision from dist/build-info.json (written by npm run build) when REKON_REVISION is unset", async () => {
    run = startRun(args("--interval", "1h"), emulatorEnv(emu.url));
    const url = await run.url();
    await run.waitFor(cycleFinished, 20_000, "the first cycle");
    const built = JSON.parse(readFileSync(join(ROOT, "dist/build-info.json"), "utf8")).revision as string;
    expect(built).toMatch(/^([0-9a-f]{40}(-dirty)?|unknown)$/);
    expect((await get(`${url}/metrics`)).body).toMatch(new RegExp(`^rekon_build_info\\{version="[^"]+",revision="${built}"\\} 1$`, "m"));
  }, 30_000);
});

describe("leader election failures", () => {
  let lease: LeaseServer;
  beforeEach(async () => {
    lease = await startLeaseServer();
    writeKubeconfig(join(dir, "kubeconfig"), lease.url);
  });
  afterEach(() => lease.close());

  it("an API server that is down: every failed request counted, warnings at 1, 2, 4, 8… failures, one line on recovery", async () => {
    lease.setDown(true);
    run = startRun(
      args(
        "--interval",
        "1h",
        "--leader-elect",
        "--lease-namespace",
        "rekon-test",
        "--kubeconfig",
        join(dir, "kubeconfig"),
        "--lease-duration",
        "2s",
        "--renew-deadline",
        "1s",
        "--retry-period",
        "100ms",
      ),
      emulatorEnv(emu.url),
    );
    const url = await run.url();
    let errors = 0;
    const t0 = Date.now();
    while (errors < 20) {
      if (Date.now() - t0 > 20_000) throw new Error(`only ${errors} lease errors counted in 20 s`);
      errors = metric((await get(`${url}/metrics`)).body, "rekon_leader_election_errors_total") ?? 0;
      await new Promise((r) => setTimeout(r, 100));
    }
    const warnings = run.lines.filter((l) => String(l.msg).startsWith("leader election: lease request"));
    expect(warnings.length).toBeGreaterThanOrEqual(4); // 1, 2, 4, 8, 16
    expect(warnings.length).toBeLessThanOrEqual(Math.floor(Math.log2(errors)) + 1);
    expect(warnings.map((w) => w.failures)).toEqual([1, 2, 4, 8, 16].slice(0, warnings.length));
    expect(metric((await get(`${url}/metrics`)).body, "rekon_leader")).toBe(0);

    lease.setDown(false);
    const back = await run.waitFor((l) => l.msg === "leader election: lease requests succeed again", 10_000, "the recovery line");
    expect(back.failures).toBeGreaterThanOrEqual(20);
    await run.waitFor((l) => l.msg === "leader election: acquired the lease; this instance may write", 10_000, "the lease");
  }, 40_000);
});

describe("small parts", () => {
  it("FailureLog logs the 1st, 2nd, 4th, 8th… failure of a streak and starts over after a success", () => {
    const f = new FailureLog();
    const logged = (n: number) =>
      Array.from({ length: n }, () => f.failed())
        .filter((x) => x.log)
        .map((x) => x.streak);
    expect(logged(20)).toEqual([1, 2, 4, 8, 16]);
    expect(f.succeeded()).toBe(20);
    expect(f.succeeded()).toBe(0);
    expect(logged(3)).toEqual([1, 2]);
  });

  it("projectAccount: the plan's account field, else the ARN's, else unknown", () => {
    expect(projectAccount({ account: "111111111111", projectArn: "arn:aws:rekognition:us-east-1:222222222222:project/p/1" })).toBe("111111111111");
    expect(projectAccount({ projectArn: "arn:aws:rekognition:us-east-1:222222222222:project/p/1" })).toBe("222222222222");
    expect(projectAccount({ projectArn: null })).toBe("unknown");
  });
});
