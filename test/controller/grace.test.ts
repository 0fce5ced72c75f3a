// rekon run with a grace period: the first cycle marks (a write with nothing yet to delete), and the
// AWS request metric counts the read phase as well as the writes.
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Emulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { cycleFinished, get, metric, startRun, type RunProcess, controllerFixture, controllerTeardown } from "./helpers.js";

let emu: Emulator;
let dir: string;
let run: RunProcess | undefined;
beforeEach(async () => {
  ({ emu, dir } = await controllerFixture("grace", { policyExtra: "  gracePeriod: 72h\n" }));
});
afterEach(async () => {
  await controllerTeardown(run, emu, dir);
});

describe("rekon run --apply with a grace period", () => {
  it("marks the deletable versions on the first cycle, deletes nothing, and counts read calls in the metrics", async () => {
    run = startRun(
      ["--manifests", join(dir, "manifests"), "--policy", join(dir, "policy.yaml"), "--apply", "--interval", "1h", "--listen", "127.0.0.1:0"],
      emulatorEnv(emu.url),
    );
    const url = await run.url();
    const first = await run.waitFor(cycleFinished, 20_000, "the first cycle");
    expect(first).toMatchObject({ result: "ok", summary: { delete: 0 }, deleted: 0 });
    const marks = emu.calls().filter((c) => c.operation === "TagResource" && c.outcome === "ok");
    expect(marks).toHaveLength(7);
    expect(emu.calls().filter((c) => c.operation === "DeleteProjectVersion")).toEqual([]);
    expect(run.lines.filter((l) => l.msg === "audit" && (l.audit as { operation: string }).operation === "mark")).toHaveLength(7);

    const metrics = (await get(`${url}/metrics`)).body;
    expect(metric(metrics, 'rekon_aws_requests_total{account="123456789012",region="us-east-1",operation="DescribeProjects",outcome="ok"}')).toBe(
      emu.callCount("DescribeProjects", "ok"),
    );
    expect(metric(metrics, 'rekon_aws_requests_total{account="123456789012",region="us-east-1",operation="DescribeProjectVersions",outcome="ok"}')).toBe(
      emu.callCount("DescribeProjectVersions", "ok"),
    );
    expect(metric(metrics, 'rekon_aws_requests_total{account="123456789012",region="us-east-1",operation="TagResource",outcome="ok"}')).toBe(7);
  });
});
