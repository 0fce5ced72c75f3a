// Running state in the plan (issue 22), as tables: which listed version is started or stopped, at what
// units, what the plan says of units and cost now and after, and what keeps a start from happening
// (adapters, failed models, schedules, suspensions, budgets, accounts, a refused run).
import { describe, expect, it } from "vitest";
import { plan, planExitCode } from "../../reconciler/plan.js";
import type { DeletionWindow, LiveVersion, Plan, Policy } from "../../reconciler/types.js";
import { desired, liveProject, liveState, NOW, policy, set, version } from "../helpers/builders.js";

const price = (o: Partial<Policy["inference"]> = {}): Partial<Policy> => ({ inference: { currency: "USD", allowRestart: false, unitPricePerHour: 4, ...o } });
const run = (vs: LiveVersion[], s: ReturnType<typeof set>, pol: Partial<Policy> = price(), at = NOW): Plan =>
  plan(desired(s), liveState([liveProject(vs)]), policy(pol), at);
const act = (p: Plan, name: string) => p.actions.find((a) => a.versionName === name)!;
const rules = (p: Plan, name: string) => act(p, name).reasons.map((r) => r.rule);

/** Every weekday 08:00–20:00 UTC: NOW (Saturday 12:00 UTC) is outside it, Monday 10:00 inside. */
const WEEKDAYS: DeletionWindow = { kind: "allow", schedule: "0 8 * * MON-FRI", durationMs: 12 * 3_600_000, duration: "12h", timeZone: "UTC", origin: "m.yaml" };
const MONDAY = new Date("2026-11-30T10:00:00Z");

describe("starts: a listed version declared running", () => {
  it.each([
    { name: "STOPPED, 1 IU", status: "STOPPED", running: { minInferenceUnits: 1 }, units: { min: 1 } },
    { name: "TRAINING_COMPLETED, auto scaling 1–3", status: "TRAINING_COMPLETED", running: { minInferenceUnits: 1, maxInferenceUnits: 3 }, units: { min: 1, max: 3 } },
    { name: "COPYING_COMPLETED, 2 IU", status: "COPYING_COMPLETED", running: { minInferenceUnits: 2 }, units: { min: 2 } },
  ])("$name → start at the declared units; units and cost now and after", ({ status, running, units }) => {
    const p = run([version("v1", { status })], set("p1", ["v1"], { running: { v1: running } }));
    expect(act(p, "v1")).toMatchObject({ action: "start", units, reasons: [] });
    expect(p.summary).toMatchObject({ start: 1, stop: 0, delete: 0 });
    expect(p.inferenceUnits).toEqual({ now: 0, after: units.min });
    expect(p.projects[0]!.inferenceUnits).toEqual({ now: 0, after: units.min });
    expect(p.cost).toEqual({ perHourNow: 0, perHourAfter: 4 * units.min, currency: "USD" });
    expect(planExitCode(p)).toBe(2);
  });

  it.each([
    { name: "RUNNING at the declared units", status: "RUNNING", live: { minInferenceUnits: 2 }, rules: [] },
    { name: "STARTING", status: "STARTING", live: { minInferenceUnits: 2 }, rules: [] },
    { name: "STOPPING (it must stop first; the next run starts it)", status: "STOPPING", live: {}, rules: [] },
    { name: "TRAINING_IN_PROGRESS", status: "TRAINING_IN_PROGRESS", live: {}, rules: [] },
  ])("$name → nothing to do now", ({ status, live, rules: want }) => {
    const p = run([version("v1", { status, ...live })], set("p1", ["v1"], { running: { v1: { minInferenceUnits: 2 } } }));
    expect(act(p, "v1").action).toBe("keep");
    expect(rules(p, "v1")).toEqual(want);
    expect(p.summary.start).toBe(0);
  });

  it.each([
    { name: "an adapter", v: version("v1", { feature: "CONTENT_MODERATION" }), why: /adapter/ },
    { name: "a FAILED model", v: version("v1", { status: "FAILED" }), why: /FAILED cannot run/ },
    { name: "a TRAINING_FAILED model", v: version("v1", { status: "TRAINING_FAILED" }), why: /TRAINING_FAILED/ },
    { name: "a DEPRECATED model", v: version("v1", { status: "DEPRECATED" }), why: /DEPRECATED/ },
    { name: "an EXPIRED model", v: version("v1", { status: "EXPIRED" }), why: /EXPIRED/ },
  ])("declared running on $name: a plan error for that version (exit 1), never a start", ({ v, why }) => {
    const p = run([v], set("p1", ["v1"], { running: { v1: { minInferenceUnits: 1 } } }));
    expect(act(p, "v1").action).toBe("keep");
    expect(act(p, "v1").reasons).toEqual([expect.objectContaining({ rule: "notStartable", message: expect.stringMatching(why) })]);
    expect(planExitCode(p)).toBe(1);
  });
});

describe("stops: a listed version that runs and should not", () => {
  const live = () => [version("v1", { status: "RUNNING", minInferenceUnits: 2 })];
  it("runtime: unmanaged (the default): never stopped; its units are counted and stay", () => {
    const p = run(live(), set("p1", ["v1"]));
    expect(act(p, "v1")).toMatchObject({ action: "keep", units: { min: 2 }, reasons: [] });
    expect(p.inferenceUnits).toEqual({ now: 2, after: 2 });
    expect(p.cost).toEqual({ perHourNow: 8, perHourAfter: 8, currency: "USD" });
    expect(planExitCode(p)).toBe(0);
  });

  it("runtime: managed: stopped, with the units it gives back", () => {
    const p = run(live(), set("p1", ["v1"], { runtime: "managed" }));
    expect(act(p, "v1")).toMatchObject({ action: "stop", units: { min: 2 } });
    expect(rules(p, "v1")).toEqual(["notDeclaredRunning"]);
    expect(p.inferenceUnits).toEqual({ now: 2, after: 0 });
    expect(planExitCode(p)).toBe(2);
  });

  it("a STARTING version under managed is not stopped yet (only RUNNING is stopped)", () => {
    const p = run([version("v1", { status: "STARTING", minInferenceUnits: 2 })], set("p1", ["v1"], { runtime: "managed" }));
    expect(act(p, "v1").action).toBe("keep");
  });

  it("an unlisted RUNNING version follows stopRunning (stop, then delete), and its units leave the total", () => {
    const vs = [version("keep", { ageHours: 1 }), version("old", { status: "RUNNING", minInferenceUnits: 3 })];
    const p = run(vs, set("p1", ["keep"]), { ...price(), stopRunning: true });
    expect(act(p, "old")).toMatchObject({ action: "delete", stopFirst: true });
    expect(p.inferenceUnits).toEqual({ now: 3, after: 0 });
    const held = run(vs, set("p1", ["keep"]), price());
    expect(act(held, "old").action).toBe("blocked");
    expect(held.inferenceUnits).toEqual({ now: 3, after: 3 });
  });
});

describe("schedules: running only inside the declared occurrences", () => {
  const declared = { v1: { minInferenceUnits: 1, schedule: [WEEKDAYS] } };
  it("inside an occurrence: started", () => {
    const p = run([version("v1")], set("p1", ["v1"], { running: declared }), price(), MONDAY);
    expect(act(p, "v1").action).toBe("start");
    expect(p.nextRuntimeChangeAt).toBe("2026-11-30T20:00:00.000Z");
  });

  it("outside: a stopped version stays stopped, and the plan names when the next occurrence begins", () => {
    const p = run([version("v1")], set("p1", ["v1"], { running: declared }));
    expect(act(p, "v1")).toMatchObject({ action: "keep", reasons: [] });
    expect(p.nextRuntimeChangeAt).toBe("2026-11-30T08:00:00.000Z");
  });

  it("outside, RUNNING: stopped under managed; under unmanaged only reported", () => {
    const live = [version("v1", { status: "RUNNING", minInferenceUnits: 1 })];
    const managed = run(live, set("p1", ["v1"], { running: declared, runtime: "managed" }));
    expect(act(managed, "v1").action).toBe("stop");
    expect(rules(managed, "v1")).toEqual(["outsideSchedule"]);
    const unmanaged = run(live, set("p1", ["v1"], { running: declared }));
    expect(act(unmanaged, "v1").action).toBe("keep");
    expect(rules(unmanaged, "v1")).toEqual(["outsideSchedule"]);
    expect(planExitCode(unmanaged)).toBe(0);
  });
});

describe("capacity drift: running at other units than declared", () => {
  const live = [version("v1", { status: "RUNNING", minInferenceUnits: 1 })];
  const s = set("p1", ["v1"], { running: { v1: { minInferenceUnits: 2, maxInferenceUnits: 4 } } });
  it("reported, never fixed by default (a restart is downtime)", () => {
    const p = run(live, s);
    expect(act(p, "v1").action).toBe("keep");
    expect(act(p, "v1").reasons).toEqual([expect.objectContaining({ rule: "capacityDrift", message: expect.stringMatching(/running at 1 IU, declared 2–4 IU; not restarted/) })]);
    expect(p.summary.start).toBe(0);
  });

  it("allowRestart: a start that stops it first, at the declared units; the total moves by the difference", () => {
    const p = run(live, s, price({ allowRestart: true }));
    expect(act(p, "v1")).toMatchObject({ action: "start", restartFirst: true, units: { min: 2, max: 4 } });
    expect(p.inferenceUnits).toEqual({ now: 1, after: 2 });
  });
});

describe("what holds or refuses a start", () => {
  const two = () => [version("a"), version("b")];
  const both = { a: { minInferenceUnits: 2 }, b: { minInferenceUnits: 2 } };
  it("a suspended set: no start, the suspension named", () => {
    const p = run(two(), set("p1", ["a", "b"], { running: both, suspend: { reason: "audit", origin: "m.yaml" } }));
    expect(p.summary.start).toBe(0);
    expect(rules(p, "a")).toContain("suspended");
  });

  it.each([
    { name: "maxInferenceUnits 3 < 4 after the starts", inf: { maxInferenceUnits: 3 }, rule: "maxInferenceUnits", why: /to 4, over maxInferenceUnits 3/ },
    { name: "maxStartsPerRun 1 < 2 starts", inf: { maxStartsPerRun: 1 }, rule: "maxStartsPerRun", why: /start 2 versions, over maxStartsPerRun 1/ },
  ])("over a budget ($name): nothing is started, the budget named, exit 1", ({ inf, rule, why }) => {
    const p = run(two(), set("p1", ["a", "b"], { running: both }), price(inf));
    expect(p.summary.start).toBe(0);
    for (const n of ["a", "b"]) expect(act(p, n).reasons).toEqual([expect.objectContaining({ rule, message: expect.stringMatching(why) })]);
    expect(p.inferenceUnits).toEqual({ now: 0, after: 0 });
    expect(planExitCode(p)).toBe(1);
  });

  it("at a budget exactly: started", () => {
    const p = run(two(), set("p1", ["a", "b"], { running: both }), price({ maxInferenceUnits: 4, maxStartsPerRun: 2 }));
    expect(p.summary.start).toBe(2);
  });

  it("the ceiling counts what already runs in the account and region", () => {
    const vs = [version("a"), version("old", { status: "RUNNING", minInferenceUnits: 3 })];
    const p = run(vs, set("p1", ["a", "old"], { running: { a: { minInferenceUnits: 2 }, old: { minInferenceUnits: 3 } } }), price({ maxInferenceUnits: 4 }));
    expect(rules(p, "a")).toEqual(["maxInferenceUnits"]);
  });

  it("an account the operator did not allow: never started (exit 1)", () => {
    const p = run([version("a")], set("p1", ["a"], { running: { a: { minInferenceUnits: 1 } } }), { ...price(), allowedAccounts: ["999999999999"] });
    expect(act(p, "a").action).toBe("keep");
    expect(rules(p, "a")).toContain("accountNotAllowed");
    expect(planExitCode(p)).toBe(1);
  });

  it("a refused run (over the deletion budget) starts and stops nothing", () => {
    const vs = [version("a"), ...Array.from({ length: 12 }, (_, i) => version(`o${i}`)), version("r", { status: "RUNNING", minInferenceUnits: 1 })];
    const p = run(vs, set("p1", ["a", "r"], { running: { a: { minInferenceUnits: 1 } }, runtime: "managed" }), { ...price(), maxDeletesPerRun: 3 });
    expect(p.refusals.length).toBeGreaterThan(0);
    expect(p.summary).toMatchObject({ start: 0, stop: 0, delete: 0 });
    expect(act(p, "a").action).toBe("keep");
    expect(act(p, "r").action).toBe("keep");
  });

  it("without a price: units, and no cost", () => {
    const p = run([version("a")], set("p1", ["a"], { running: { a: { minInferenceUnits: 1 } } }), {});
    expect(p.inferenceUnits).toEqual({ now: 0, after: 1 });
    expect(p.cost).toBeUndefined();
  });
});
