// sendStart (reconciler/aws/writes.ts) on a recording client: an approved start is one StartProjectVersion
// request at the declared units (MaxInferenceUnits only when declared), spent on use, and a fresh approval
// handed in before an attempt must be a start of the very same version. A start bills from the moment AWS
// accepts it.
import { describe, expect, it } from "vitest";
import type { WriteHooks } from "../../reconciler/aws/client.js";
import { sendStart, type WriteDeps } from "../../reconciler/aws/writes.js";
import { Gate, type Approved, type Look, type StartWrite } from "../../reconciler/gate/index.js";
import { planWith } from "../../reconciler/plan.js";
import type { LiveVersion, Policy } from "../../reconciler/types.js";
import { ACCOUNT, desired, liveProject, liveState, NOW, policy, set, version } from "../helpers/builders.js";

const now = NOW.getTime();

function recorder() {
  const sent: { command: string; input: Record<string, unknown> }[] = [];
  const client = {
    account: ACCOUNT,
    regionName: "us-east-1",
    sendWrite: async (command: { constructor: { name: string }; input: Record<string, unknown> }, hooks: WriteHooks = {}) => {
      await hooks.beforeSend?.(1);
      sent.push({ command: command.constructor.name, input: command.input });
      return { output: {}, attempts: 1 };
    },
  };
  const deps: WriteDeps = { clientFor: () => client as never };
  return { sent, deps };
}

/** Stopped versions v1 and v2, both declared running at `units`. */
function world(units: { minInferenceUnits: number; maxInferenceUnits?: number }) {
  const vs: LiveVersion[] = [version("v1"), version("v2")];
  const s = set("p1", ["v1", "v2"], { running: { v1: units, v2: units } });
  const pol: Partial<Policy> = { inference: { currency: "USD", allowRestart: false } };
  const gate = Gate.assess({ desired: desired(s), live: liveState([liveProject(vs)]), policies: policy(pol), now: NOW });
  const plan = planWith(gate, NOW);
  const auth = gate.authorize(plan);
  const look: Look = { at: now, byName: new Map(vs.map((v) => [v.name, v])), newest: vs };
  const start = (name: string) =>
    gate.approveRuntime(
      "start",
      auth,
      plan.actions.find((a) => a.versionName === name)!,
      look,
      now,
    ) as Approved<StartWrite>;
  return { vs, start };
}

describe("sendStart", () => {
  it("one StartProjectVersion at the declared min and max", async () => {
    const w = world({ minInferenceUnits: 2, maxInferenceUnits: 5 });
    const r = recorder();
    await sendStart(w.start("v1"), r.deps);
    expect(r.sent).toEqual([{ command: "StartProjectVersionCommand", input: { ProjectVersionArn: w.vs[0]!.arn, MinInferenceUnits: 2, MaxInferenceUnits: 5 } }]);
  });

  it("no MaxInferenceUnits when none is declared", async () => {
    const w = world({ minInferenceUnits: 1 });
    const r = recorder();
    await sendStart(w.start("v1"), r.deps);
    expect(r.sent).toStrictEqual([{ command: "StartProjectVersionCommand", input: { ProjectVersionArn: w.vs[0]!.arn, MinInferenceUnits: 1 } }]);
  });

  it("an approval is spent: a second send is refused before any request", async () => {
    const w = world({ minInferenceUnits: 1 });
    const r = recorder();
    const a = w.start("v1");
    await sendStart(a, r.deps);
    expect(() => sendStart(a, r.deps)).toThrow(/refusing a start of .*: the approval was already used/);
    expect(r.sent).toHaveLength(1);
  });

  it("a fresh start of the same version goes out and is spent; one of another version cancels the write", async () => {
    const w = world({ minInferenceUnits: 1 });
    const r = recorder();
    const fresh = w.start("v1");
    await sendStart(w.start("v1"), r.deps, { beforeSend: async () => fresh });
    expect(r.sent).toHaveLength(1);
    expect(() => sendStart(fresh, r.deps)).toThrow(/already used/);
    const other = w.start("v2");
    await expect(sendStart(w.start("v1"), r.deps, { beforeSend: async () => other })).rejects.toThrow(
      `refusing a start of ${w.vs[0]!.arn}: the fresh approval is for ${w.vs[1]!.arn}`,
    );
    expect(r.sent).toHaveLength(1);
  });
});
