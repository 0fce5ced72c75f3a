// A listed version's running state as the gate decides it (gate/runtime.ts, through Gate.runtime): the
// exact verdict (action, units, restartFirst, blocked, reasons with their words) for each status, schedule,
// declared and live units, runtime mode, adapter, identity and account. Exact values on both sides of each
// condition: a start or stop decided wrongly bills an idle model or takes a serving one offline.
//
// Every world is built inside its test (mutation testing counts collection-time code as "static").
import { describe, expect, it } from "vitest";
import { BILLED, Gate, liveUnits } from "../../reconciler/gate/index.js";
import type { DeletionWindow, DesiredSet, LiveVersion, Policy } from "../../reconciler/types.js";
import { ACCOUNT, desired, liveProject, liveState, NOW, policy, set, version } from "../helpers/builders.js";

const now = NOW.getTime();
// NOW is a Saturday, 12:00 UTC: a weekday window is closed, a daily 24 h one open.
const WEEKDAYS: DeletionWindow = { kind: "allow", schedule: "0 8 * * MON-FRI", durationMs: 12 * 3_600_000, duration: "12h", timeZone: "UTC", origin: "m.yaml" };
const DAILY: DeletionWindow = { kind: "allow", schedule: "0 0 * * *", durationMs: 24 * 3_600_000, duration: "24h", timeZone: "UTC", origin: "m.yaml" };
const base = (o: Partial<Policy["inference"]> = {}): Partial<Policy> => ({ inference: { currency: "USD", allowRestart: false, ...o } });

type Running = { minInferenceUnits: number; maxInferenceUnits?: number; schedule?: DeletionWindow[] };
interface Case {
  v: Partial<LiveVersion>;
  running?: Running;
  runtime?: "managed";
  pol?: Partial<Policy>;
}
function verdict({ v: o, running, runtime, pol = base() }: Case) {
  const v = version("v1", o);
  const s: DesiredSet = set("p1", ["v1"], { ...(running ? { running: { v1: running } } : {}), ...(runtime ? { runtime } : {}) });
  const gate = Gate.assess({ desired: desired(s), live: liveState([liveProject([v])]), policies: policy(pol), now: NOW });
  return gate.runtime(gate.view(s.name)!, v, now);
}

describe("liveUnits: the units DescribeProjectVersions reports", () => {
  it("none without a min; the min alone; min and max", () => {
    expect(liveUnits({})).toBeUndefined();
    expect(liveUnits({ maxInferenceUnits: 3 })).toBeUndefined();
    expect(liveUnits({ minInferenceUnits: 2 })).toStrictEqual({ min: 2 });
    expect(liveUnits({ minInferenceUnits: 1, maxInferenceUnits: 3 })).toStrictEqual({ min: 1, max: 3 });
  });

  it("billed: RUNNING and STARTING, nothing else", () => {
    expect(["RUNNING", "STARTING", "STOPPING", "STOPPED", "TRAINING_COMPLETED"].filter((s) => BILLED.has(s))).toEqual(["RUNNING", "STARTING"]);
  });
});

describe("not declared running", () => {
  it.each([
    {
      name: "RUNNING under runtime: managed: stopped, at the units it runs at",
      v: { status: "RUNNING", minInferenceUnits: 2, maxInferenceUnits: 3 },
      runtime: "managed" as const,
      want: {
        action: "stop",
        units: { min: 2, max: 3 },
        reasons: [{ rule: "notDeclaredRunning", message: "RUNNING, but its set does not declare it running (runtime: managed)" }],
      },
    },
    {
      name: "RUNNING without units under runtime: managed: stopped, no units",
      v: { status: "RUNNING" },
      runtime: "managed" as const,
      want: { action: "stop", reasons: [{ rule: "notDeclaredRunning", message: "RUNNING, but its set does not declare it running (runtime: managed)" }] },
    },
    { name: "RUNNING, runtime unmanaged: left alone", v: { status: "RUNNING", minInferenceUnits: 2 }, want: { reasons: [] } },
    {
      name: "STARTING under runtime: managed: left alone (it is not RUNNING yet)",
      v: { status: "STARTING" },
      runtime: "managed" as const,
      want: { reasons: [] },
    },
    { name: "STOPPED under runtime: managed: nothing", v: { status: "STOPPED" }, runtime: "managed" as const, want: { reasons: [] } },
  ])("$name", ({ v, runtime, want }) => {
    expect(verdict({ v, ...(runtime ? { runtime } : {}) })).toStrictEqual(want);
  });
});

describe("declared running", () => {
  const declared = { minInferenceUnits: 2 };
  it.each(["FAILED", "TRAINING_FAILED", "DEPRECATED", "EXPIRED", "COPYING_FAILED"])("%s can never run: blocked, with the fix", (status) => {
    expect(verdict({ v: { status }, running: declared })).toStrictEqual({
      reasons: [{ rule: "notStartable", message: `declared running, but its status ${status} cannot run; remove running from this version` }],
      blocked: true,
    });
  });

  it("an adapter is never started: blocked, naming its feature", () => {
    expect(verdict({ v: { feature: "CONTENT_MODERATION" }, running: declared })).toStrictEqual({
      reasons: [
        {
          rule: "notStartable",
          message: "declared running, but it is an adapter (CONTENT_MODERATION): adapters are not started; remove running from this version",
        },
      ],
      blocked: true,
    });
  });

  it.each(["STOPPED", "TRAINING_COMPLETED", "COPYING_COMPLETED"])("%s: started at the declared units", (status) => {
    expect(verdict({ v: { status }, running: { minInferenceUnits: 2, maxInferenceUnits: 5 } })).toStrictEqual({
      action: "start",
      units: { min: 2, max: 5 },
      reasons: [],
    });
    expect(verdict({ v: { status }, running: declared })).toStrictEqual({ action: "start", units: { min: 2 }, reasons: [] });
  });

  it("a STOPPED version reporting other units is started, not taken for a drifted one", () => {
    expect(verdict({ v: { status: "STOPPED", minInferenceUnits: 1 }, running: declared })).toStrictEqual({ action: "start", units: { min: 2 }, reasons: [] });
  });

  it.each([
    { name: "STARTING", v: { status: "STARTING", minInferenceUnits: 1 } },
    { name: "STOPPING", v: { status: "STOPPING" } },
    { name: "TRAINING_IN_PROGRESS", v: { status: "TRAINING_IN_PROGRESS" } },
    { name: "RUNNING at the declared units", v: { status: "RUNNING", minInferenceUnits: 2 } },
    { name: "RUNNING at min 2, max 2 (the same as min 2)", v: { status: "RUNNING", minInferenceUnits: 2, maxInferenceUnits: 2 } },
  ])("$name: nothing now", ({ v }) => {
    expect(verdict({ v, running: declared })).toStrictEqual({ reasons: [] });
  });

  it("inside its schedule: started; a daily window open now", () => {
    expect(verdict({ v: { status: "STOPPED" }, running: { ...declared, schedule: [DAILY] } })).toStrictEqual({
      action: "start",
      units: { min: 2 },
      reasons: [],
    });
  });
});

describe("outside its schedule", () => {
  const closed = { minInferenceUnits: 2, schedule: [WEEKDAYS] };
  it.each([
    { name: "STOPPED: nothing", v: { status: "STOPPED" }, want: { reasons: [] } },
    {
      name: "RUNNING, managed: stopped at its units",
      v: { status: "RUNNING", minInferenceUnits: 2 },
      runtime: "managed" as const,
      want: { action: "stop", units: { min: 2 }, reasons: [{ rule: "outsideSchedule", message: "RUNNING outside its schedule (runtime: managed)" }] },
    },
    {
      name: "RUNNING without units, managed: stopped",
      v: { status: "RUNNING" },
      runtime: "managed" as const,
      want: { action: "stop", reasons: [{ rule: "outsideSchedule", message: "RUNNING outside its schedule (runtime: managed)" }] },
    },
    {
      name: "RUNNING, unmanaged: said, not stopped",
      v: { status: "RUNNING", minInferenceUnits: 2 },
      want: { reasons: [{ rule: "outsideSchedule", message: "RUNNING outside its schedule; not stopped (runtime: unmanaged)" }] },
    },
    {
      name: "STARTING, managed: said, not stopped (only RUNNING is stopped)",
      v: { status: "STARTING" },
      runtime: "managed" as const,
      want: { reasons: [{ rule: "outsideSchedule", message: "STARTING outside its schedule; not stopped (runtime: unmanaged)" }] },
    },
    {
      name: "STARTING, unmanaged: said",
      v: { status: "STARTING" },
      want: { reasons: [{ rule: "outsideSchedule", message: "STARTING outside its schedule; not stopped (runtime: unmanaged)" }] },
    },
  ])("$name", ({ v, runtime, want }) => {
    expect(verdict({ v, running: closed, ...(runtime ? { runtime } : {}) })).toStrictEqual(want);
  });
});

describe("running at other units than declared (capacityDrift)", () => {
  const notRestarted = "; not restarted (a restart is downtime: set inference.allowRestart: true to allow it)";
  it.each([
    { name: "another min", live: { minInferenceUnits: 1 }, want: { minInferenceUnits: 2 }, words: "running at 1 IU, declared 2 IU" },
    {
      name: "another min, the same max",
      live: { minInferenceUnits: 1, maxInferenceUnits: 4 },
      want: { minInferenceUnits: 2, maxInferenceUnits: 4 },
      words: "running at 1–4 IU, declared 2–4 IU",
    },
    {
      name: "the same min, another max",
      live: { minInferenceUnits: 2, maxInferenceUnits: 4 },
      want: { minInferenceUnits: 2 },
      words: "running at 2–4 IU, declared 2 IU",
    },
    {
      name: "the same min, a max declared",
      live: { minInferenceUnits: 2 },
      want: { minInferenceUnits: 2, maxInferenceUnits: 3 },
      words: "running at 2 IU, declared 2–3 IU",
    },
    {
      name: "max equal to min is shown as one number",
      live: { minInferenceUnits: 3, maxInferenceUnits: 3 },
      want: { minInferenceUnits: 2, maxInferenceUnits: 2 },
      words: "running at 3 IU, declared 2 IU",
    },
  ])("$name: reported, not restarted by default", ({ live, want, words }) => {
    expect(verdict({ v: { status: "RUNNING", ...live }, running: want })).toStrictEqual({
      reasons: [{ rule: "capacityDrift", message: `${words}${notRestarted}` }],
    });
  });

  it("restarted under allowRestart: a start at the declared units, stop first, and the layer that allowed it", () => {
    const pol = { ...base({ allowRestart: true }), origin: { inference: "operator policy p.yaml" } };
    expect(verdict({ v: { status: "RUNNING", minInferenceUnits: 1 }, running: { minInferenceUnits: 2, maxInferenceUnits: 3 }, pol })).toStrictEqual({
      action: "start",
      units: { min: 2, max: 3 },
      restartFirst: true,
      reasons: [{ rule: "capacityDrift", message: "running at 1 IU, declared 2–3 IU: restarted (allowRestart)", layer: "operator policy p.yaml" }],
    });
  });

  it("not restarted: the reason names the layer too", () => {
    const pol = { ...base(), origin: { inference: "operator policy p.yaml" } };
    expect(verdict({ v: { status: "RUNNING", minInferenceUnits: 1 }, running: { minInferenceUnits: 2 }, pol })).toStrictEqual({
      reasons: [{ rule: "capacityDrift", message: `running at 1 IU, declared 2 IU${notRestarted}`, layer: "operator policy p.yaml" }],
    });
  });
});

describe("a write to the version: identity, accounts, suspension", () => {
  it("a version whose ARN is in another account than the credentials: blocked with the mismatch, not started", () => {
    const got = verdict({
      v: { status: "STOPPED", account: "999999999999" },
      running: { minInferenceUnits: 1 },
      pol: { ...base(), allowedAccounts: [ACCOUNT, "999999999999"] },
    });
    expect(got).toStrictEqual({
      reasons: [{ rule: "identityMismatch", message: `its ARN is in account 999999999999, but the credentials resolved to account ${ACCOUNT}` }],
      blocked: true,
    });
  });

  it("an account not in allowedAccounts: blocked, not started; nor stopped", () => {
    const pol = { ...base(), allowedAccounts: ["111111111111"] };
    const start = verdict({ v: { status: "STOPPED" }, running: { minInferenceUnits: 1 }, pol });
    expect(start).toMatchObject({ blocked: true, reasons: [{ rule: "accountNotAllowed" }] });
    expect(start).not.toHaveProperty("action");
    const stop = verdict({ v: { status: "RUNNING" }, runtime: "managed", pol });
    expect(stop).toMatchObject({ blocked: true, reasons: [{ rule: "accountNotAllowed" }] });
    expect(stop).not.toHaveProperty("action");
  });

  it("nothing to write: no identity or account check (a listed version in another account is simply kept)", () => {
    expect(verdict({ v: { status: "RUNNING", account: "999999999999" }, pol: { ...base(), allowedAccounts: ["111111111111"] } })).toStrictEqual({
      reasons: [],
    });
  });
});

describe("Gate.runtime: the version's own entry", () => {
  it("each listed version by its own declaration; an unlisted one has no running state", () => {
    const vs = [version("v1"), version("v2"), version("v3")];
    const s = set("p1", ["v1", "v2"], { running: { v1: { minInferenceUnits: 1 } } });
    const gate = Gate.assess({ desired: desired(s), live: liveState([liveProject(vs)]), policies: policy(base()), now: NOW });
    const view = gate.view(s.name)!;
    expect(gate.runtime(view, vs[0]!, now)).toStrictEqual({ action: "start", units: { min: 1 }, reasons: [] });
    expect(gate.runtime(view, vs[1]!, now)).toStrictEqual({ reasons: [] });
    expect(gate.runtime(view, vs[2]!, now)).toBeUndefined();
  });
});
