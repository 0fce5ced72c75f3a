// The gate's approvals of starts and stops on a fresh look (gate/lastlook.ts: approveRuntime,
// approveRestartStop), as tables: what each approval carries, and every way a start or stop planned a moment
// ago is refused because the facts moved (gone, another version under the name, started, stopped, failed,
// units changed, not this kind of write, not authorized).
import { describe, expect, it } from "vitest";
import { Gate, type Look, type RunAuthorization } from "../../reconciler/gate/index.js";
import { planWith } from "../../reconciler/plan.js";
import type { LiveVersion, Plan, PlanAction, Policy } from "../../reconciler/types.js";
import { ACCOUNT, desired, liveProject, liveState, NOW, policy, set, version } from "../helpers/builders.js";

const now = NOW.getTime();
const inference = (o: Partial<Policy["inference"]> = {}): Partial<Policy> => ({ inference: { currency: "USD", allowRestart: false, ...o } });

interface World {
  gate: Gate;
  plan: Plan;
  auth: RunAuthorization;
  action: (name: string) => PlanAction;
}
function world(vs: LiveVersion[], s: ReturnType<typeof set>, pol: Partial<Policy> = inference()): World {
  const gate = Gate.assess({ desired: desired(s), live: liveState([liveProject(vs)]), policies: policy(pol), now: NOW });
  const plan = planWith(gate, NOW);
  return { gate, plan, auth: gate.authorize(plan), action: (n) => plan.actions.find((a) => a.versionName === n)! };
}
const look = (vs: LiveVersion[], at = now): Look => ({ at, byName: new Map(vs.map((v) => [v.name, v])), newest: vs });
const rules = (d: object) => ("denied" in d ? (d as unknown as { reasons: { rule: string }[] }).reasons.map((r) => r.rule) : []);

describe("a start, approved on a fresh look", () => {
  const stopped = version("v1");
  const w = () => world([stopped], set("p1", ["v1"], { running: { v1: { minInferenceUnits: 2, maxInferenceUnits: 4 } } }));

  it("carries exactly what StartProjectVersion needs: the version, where it lives, the declared units, when it was looked at", () => {
    const x = w();
    expect(x.action("v1").action).toBe("start");
    expect(x.gate.approveRuntime("start", x.auth, x.action("v1"), look([stopped], now - 5), now)).toEqual({
      kind: "start",
      versionArn: stopped.arn,
      versionName: "v1",
      project: "p1",
      region: "us-east-1",
      account: ACCOUNT,
      source: "ambient",
      minInferenceUnits: 2,
      maxInferenceUnits: 4,
      lookedAt: now - 5,
    });
  });

  it("without a declared max, the approval has none", () => {
    const x = world([stopped], set("p1", ["v1"], { running: { v1: { minInferenceUnits: 1 } } }));
    const a = x.gate.approveRuntime("start", x.auth, x.action("v1"), look([stopped]), now);
    expect(a).toMatchObject({ kind: "start", minInferenceUnits: 1 });
    expect(a).not.toHaveProperty("maxInferenceUnits");
  });

  it.each([
    { name: "it is gone", fresh: [] as LiveVersion[], rules: ["gone"], gone: true },
    { name: "another version has its name", fresh: [{ ...stopped, arn: stopped.arn.replace(/\/\d+$/, "/42") }], rules: ["changed"] },
    { name: "it started meanwhile (RUNNING)", fresh: [{ ...stopped, status: "RUNNING", minInferenceUnits: 2, maxInferenceUnits: 4 }], rules: ["changed"] },
    { name: "it is STARTING", fresh: [{ ...stopped, status: "STARTING" }], rules: ["changed"] },
    { name: "it failed", fresh: [{ ...stopped, status: "FAILED" }], rules: ["notStartable"] },
    { name: "it is being deleted", fresh: [{ ...stopped, status: "DELETING" }], rules: ["changed"] },
    { name: "it runs at other units (a restart is not allowed)", fresh: [{ ...stopped, status: "RUNNING", minInferenceUnits: 1 }], rules: ["capacityDrift"] },
  ])("refused when $name", ({ fresh, rules: want, gone }) => {
    const x = w();
    const d = x.gate.approveRuntime("start", x.auth, x.action("v1"), look(fresh), now);
    expect(rules(d)).toEqual(want);
    expect("denied" in d && d.gone === true).toBe(gone === true);
  });

  it("refused as another kind of write, for an action the plan does not start, or without the gate's authorization", () => {
    const x = w();
    expect(rules(x.gate.approveRuntime("stop", x.auth, x.action("v1"), look([stopped]), now))).toEqual(["notPlanned"]);
    expect(rules(x.gate.approveRuntime("start", x.auth, { ...x.action("v1"), action: "keep" }, look([stopped]), now))).toEqual(["notPlanned"]);
    expect(rules(x.gate.approveRuntime("start", x.auth, { ...x.action("v1"), versionArn: null }, look([stopped]), now))).toEqual(["notPlanned"]);
    const forged = { ...x.auth } as RunAuthorization;
    expect(rules(x.gate.approveRuntime("start", forged, x.action("v1"), look([stopped]), now))).toEqual(["notAuthorized"]);
    // A start the run did not authorize (another plan's action for the same version).
    const other = world([stopped], set("p1", ["v1"]));
    expect(rules(x.gate.approveRuntime("start", other.auth, x.action("v1"), look([stopped]), now))).toEqual(["notPlanned"]);
  });

  it("refused for a version the plan's state did not list", () => {
    const x = w();
    const stranger = { ...x.action("v1"), versionName: "v9", versionArn: version("v9").arn };
    expect(rules(x.gate.approveRuntime("start", { ...x.auth, runtime: new Map([[stranger.versionArn!, "start"]]) } as never, stranger, look([stopped]), now))).toEqual(
      expect.arrayContaining([expect.any(String)]),
    );
  });
});

describe("a stop of a listed version under runtime: managed", () => {
  const running = version("v1", { status: "RUNNING", minInferenceUnits: 2 });
  const w = () => world([running], set("p1", ["v1"], { runtime: "managed" }));

  it("approved while it runs: the version, where, and when it was looked at", () => {
    const x = w();
    expect(x.action("v1").action).toBe("stop");
    expect(x.gate.approveRuntime("stop", x.auth, x.action("v1"), look([running], now - 7), now)).toEqual({
      kind: "stop",
      versionArn: running.arn,
      versionName: "v1",
      project: "p1",
      region: "us-east-1",
      account: ACCOUNT,
      source: "ambient",
      lookedAt: now - 7,
    });
  });

  it.each([
    { name: "it stopped meanwhile", fresh: [{ ...running, status: "STOPPED" }], rules: ["changed"] },
    { name: "it is STOPPING", fresh: [{ ...running, status: "STOPPING" }], rules: ["changed"] },
    { name: "it is gone", fresh: [] as LiveVersion[], rules: ["gone"] },
  ])("refused when $name", ({ fresh, rules: want }) => {
    const x = w();
    expect(rules(x.gate.approveRuntime("stop", x.auth, x.action("v1"), look(fresh), now))).toEqual(want);
  });

  it("never as a start", () => {
    const x = w();
    expect(rules(x.gate.approveRuntime("start", x.auth, x.action("v1"), look([running]), now))).toEqual(["notPlanned"]);
  });
});

describe("a restart (allowRestart, running at other units than declared)", () => {
  const drifted = version("v1", { status: "RUNNING", minInferenceUnits: 1 });
  const w = () => world([drifted], set("p1", ["v1"], { running: { v1: { minInferenceUnits: 2 } } }), inference({ allowRestart: true }));

  it("its stop is approved while it still runs at the old units", () => {
    const x = w();
    expect(x.action("v1")).toMatchObject({ action: "start", restartFirst: true });
    expect(x.gate.approveRestartStop(x.auth, x.action("v1"), look([drifted], now - 3), now)).toEqual({
      kind: "stop",
      versionArn: drifted.arn,
      versionName: "v1",
      project: "p1",
      region: "us-east-1",
      account: ACCOUNT,
      source: "ambient",
      lookedAt: now - 3,
    });
  });

  it("its start goes out once the look sees it STOPPED, at the declared units", () => {
    const x = w();
    expect(x.gate.approveRuntime("start", x.auth, x.action("v1"), look([{ ...drifted, status: "STOPPED" }]), now)).toMatchObject({ kind: "start", minInferenceUnits: 2 });
    // Still running at the old units: the start waits for the stop (StartProjectVersion on a RUNNING model is
    // refused by AWS anyway; the gate does not rely on that).
    expect(rules(x.gate.approveRuntime("start", x.auth, x.action("v1"), look([drifted]), now))).toEqual(["changed"]);
  });

  it.each([
    { name: "it already runs at the declared units", fresh: [{ ...drifted, minInferenceUnits: 2 }], rules: ["changed"] },
    { name: "it stopped meanwhile", fresh: [{ ...drifted, status: "STOPPED" }], rules: ["changed"] },
    { name: "it is gone", fresh: [] as LiveVersion[], rules: ["changed"] },
    { name: "another version has its name", fresh: [{ ...drifted, arn: drifted.arn.replace(/\/\d+$/, "/42") }], rules: ["changed"] },
  ])("its stop is refused when $name", ({ fresh, rules: want }) => {
    const x = w();
    expect(rules(x.gate.approveRestartStop(x.auth, x.action("v1"), look(fresh), now))).toEqual(want);
  });

  it("no restart stop for a plain start, a stop, or a run the gate did not authorize", () => {
    const plain = world([version("v1")], set("p1", ["v1"], { running: { v1: { minInferenceUnits: 2 } } }));
    expect(rules(plain.gate.approveRestartStop(plain.auth, plain.action("v1"), look([version("v1")]), now))).toEqual(["notPlanned"]);
    const x = w();
    expect(rules(x.gate.approveRestartStop(x.auth, { ...x.action("v1"), restartFirst: false }, look([drifted]), now))).toEqual(["notPlanned"]);
    expect(rules(x.gate.approveRestartStop({ ...x.auth } as RunAuthorization, x.action("v1"), look([drifted]), now))).toEqual(["notAuthorized"]);
    expect(rules(x.gate.approveRuntime("stop", x.auth, x.action("v1"), look([drifted]), now))).toEqual(["notPlanned"]);
  });
});
