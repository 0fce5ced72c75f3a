// The refusals of a start, a stop or a restart's stop on a fresh look (gate/lastlook.ts: approveRuntime,
// approveRestartStop), each as the exact denial the apply output shows: who refused, why, in words, and
// whether the version is gone. gate-runtime.test.ts checks which rule refuses; this checks what a person
// reads, and the paths an edited plan reaches (a project not read, a version no set lists, a stop that is
// a restart's).
//
// Every world is built inside its test (mutation testing counts collection-time code as "static").
import { describe, expect, it } from "vitest";
import { Gate, type Look, type RunAuthorization } from "../../reconciler/gate/index.js";
import { planWith } from "../../reconciler/plan.js";
import type { LiveProject, LiveVersion, Plan, PlanAction, Policy } from "../../reconciler/types.js";
import { desired, liveProject, liveState, NOW, policy, set, version } from "../helpers/builders.js";

const now = NOW.getTime();
const inference = (allowRestart = false): Partial<Policy> => ({ inference: { currency: "USD", allowRestart } });
const look = (vs: LiveVersion[]): Look => ({ at: now, byName: new Map(vs.map((v) => [v.name, v])), newest: vs });

function world(vs: LiveVersion[], s: ReturnType<typeof set>, pol: Partial<Policy> = inference(), project: Partial<LiveProject> = {}) {
  const gate = Gate.assess({ desired: desired(s), live: liveState([liveProject(vs, project)]), policies: policy(pol), now: NOW });
  const plan = planWith(gate, NOW);
  return { gate, plan, auth: gate.authorize(plan), action: (n: string) => plan.actions.find((a) => a.versionName === n)! };
}
/** The gate's authorization of `plan` with `actions` in it instead (what an edited plan file carries). */
const edited = (gate: Gate, plan: Plan, actions: PlanAction[]): RunAuthorization => gate.authorize({ ...plan, refusals: [], actions });
const deny = (rule: string, message: string) => ({ denied: true, reasons: [{ rule, message }] });

describe("approveRuntime: the words of each refusal", () => {
  const stopped = version("v1");
  const declared = () => set("p1", ["v1"], { running: { v1: { minInferenceUnits: 2 } } });

  it("not authorized, not planned as this kind", () => {
    const x = world([stopped], declared());
    expect(x.gate.approveRuntime("start", { ...x.auth } as RunAuthorization, x.action("v1"), look([stopped]), now)).toEqual(
      deny("notAuthorized", "the run was not authorized by the gate"),
    );
    expect(x.gate.approveRuntime("stop", x.auth, x.action("v1"), look([stopped]), now)).toEqual(deny("notPlanned", "the plan does not stop this version"));
  });

  it("gone: said so, and marked gone", () => {
    const x = world([stopped], declared());
    expect(x.gate.approveRuntime("start", x.auth, x.action("v1"), look([]), now)).toEqual({
      denied: true,
      gone: true,
      reasons: [{ rule: "gone", message: "the last look did not find it" }],
    });
  });

  it("another version under its name: named by its ARN", () => {
    const x = world([stopped], declared());
    const other = { ...stopped, arn: `${stopped.arn}7` };
    expect(x.gate.approveRuntime("start", x.auth, x.action("v1"), look([other]), now)).toEqual(
      deny("changed", `a different version (${other.arn}) now has this name`),
    );
  });

  it("already running at the declared units: it no longer needs a start", () => {
    const x = world([stopped], declared());
    expect(x.gate.approveRuntime("start", x.auth, x.action("v1"), look([{ ...stopped, status: "RUNNING", minInferenceUnits: 2 }]), now)).toEqual(
      deny("changed", "status RUNNING: it no longer needs a start"),
    );
  });

  it("a restart's start while the version still runs at the old units: waits for the stop", () => {
    const drifted = version("v1", { status: "RUNNING", minInferenceUnits: 1 });
    const x = world([drifted], declared(), inference(true));
    expect(x.gate.approveRuntime("start", x.auth, x.action("v1"), look([drifted]), now)).toEqual(
      deny("changed", "still RUNNING; a restart's start waits until it has stopped"),
    );
  });

  it("an edited plan: a project not read, a version no set lists, a stop that is a restart's", () => {
    const x = world([stopped], declared());
    const start = { ...x.action("v1"), action: "start" as const };
    const unread = world([stopped], declared(), inference(), { status: "error", error: "AccessDenied" });
    expect(unread.gate.approveRuntime("start", edited(unread.gate, unread.plan, [start]), start, look([stopped]), now)).toEqual(
      deny("notRead", "AccessDenied"),
    );
    const stray = version("v9");
    const two = world([stopped, stray], declared());
    const strayStart = { ...start, versionName: "v9", versionArn: stray.arn };
    expect(two.gate.approveRuntime("start", edited(two.gate, two.plan, [strayStart]), strayStart, look([stopped, stray]), now)).toEqual(
      deny("notPlanned", "the version was not listed in the state the plan was made from"),
    );
    const running = version("v1", { status: "RUNNING" });
    const managed = world([running], set("p1", ["v1"], { runtime: "managed" }));
    const restartStop = { ...managed.action("v1"), restartFirst: true };
    expect(managed.action("v1").action).toBe("stop");
    expect(managed.gate.approveRuntime("stop", edited(managed.gate, managed.plan, [restartStop]), restartStop, look([running]), now)).toEqual({
      denied: true,
      reasons: [{ rule: "notDeclaredRunning", message: "RUNNING, but its set does not declare it running (runtime: managed)" }],
    });
  });
});

describe("approveRestartStop: the words of each refusal", () => {
  const drifted = version("v1", { status: "RUNNING", minInferenceUnits: 1 });
  const w = (project: Partial<LiveProject> = {}) =>
    world([drifted], set("p1", ["v1"], { running: { v1: { minInferenceUnits: 2 } } }), inference(true), project);

  it("not authorized; not a restart", () => {
    const x = w();
    expect(x.gate.approveRestartStop({ ...x.auth } as RunAuthorization, x.action("v1"), look([drifted]), now)).toEqual(
      deny("notAuthorized", "the run was not authorized by the gate"),
    );
    expect(x.gate.approveRestartStop(x.auth, { ...x.action("v1"), restartFirst: false }, look([drifted]), now)).toEqual(
      deny("notPlanned", "the plan does not restart this version"),
    );
    expect(x.gate.approveRestartStop(x.auth, { ...x.action("v1"), action: "stop" }, look([drifted]), now)).toEqual(
      deny("notPlanned", "the plan does not restart this version"),
    );
    // A restart action carried into a run whose own plan does not start this version (no allowRestart there).
    const noRestart = world([drifted], set("p1", ["v1"], { running: { v1: { minInferenceUnits: 2 } } }), inference(false));
    expect(noRestart.action("v1").action).toBe("keep");
    expect(noRestart.gate.approveRestartStop(noRestart.auth, x.action("v1"), look([drifted]), now)).toEqual(
      deny("notPlanned", "the plan does not restart this version"),
    );
  });

  it("gone or replaced; running at the declared units already", () => {
    const x = w();
    const why = deny("changed", "the version is gone or another now has its name");
    expect(x.gate.approveRestartStop(x.auth, x.action("v1"), look([]), now)).toEqual(why);
    expect(x.gate.approveRestartStop(x.auth, x.action("v1"), look([{ ...drifted, arn: `${drifted.arn}7` }]), now)).toEqual(why);
    expect(x.gate.approveRestartStop(x.auth, x.action("v1"), look([{ ...drifted, minInferenceUnits: 2 }]), now)).toEqual(
      deny("changed", "status RUNNING: no restart needed now"),
    );
  });

  it("an edited plan: a project not read; a version no set lists", () => {
    const x = w();
    const restart = x.action("v1");
    const unread = w({ status: "error", error: "AccessDenied" });
    expect(unread.gate.approveRestartStop(edited(unread.gate, unread.plan, [restart]), restart, look([drifted]), now)).toEqual(deny("notRead", "AccessDenied"));
    const stray = version("v9", { status: "RUNNING", minInferenceUnits: 1 });
    const two = world([drifted, stray], set("p1", ["v1"], { running: { v1: { minInferenceUnits: 2 } } }), inference(true));
    const strayRestart = { ...restart, versionName: "v9", versionArn: stray.arn };
    expect(two.gate.approveRestartStop(edited(two.gate, two.plan, [strayRestart]), strayRestart, look([drifted, stray]), now)).toEqual(
      deny("notRead", "its project was not read"),
    );
  });
});
