// Saved plans: what is applied is what was reviewed, or nothing.
import { describe, expect, it } from "vitest";
import { plan } from "../../reconciler/plan.js";
import { checkSavedPlan, parseSavedPlan, savePlan } from "../../reconciler/savedplan.js";
import type { LiveState, LiveVersion } from "../../reconciler/types.js";
import { ValidationError } from "../../reconciler/errors.js";
import { desired, liveProject, NOW, policy, set, version, liveState } from "../helpers/builders.js";

const H = 3_600_000;
const DIGESTS = { manifests: "sha256:m", policy: "sha256:p" };
const d = desired(set("p1", ["keep"]));
const base = (): LiveVersion[] => [version("a", { ageHours: 500, tags: {} }), version("b", { ageHours: 400, tags: {} }), version("keep", { ageHours: 1, tags: {} })];
const live = (vs: LiveVersion[]): LiveState => (liveState([liveProject(vs)]));
const pol = policy({ protectTags: [{ key: "hold", value: "*", origin: "test" }] });

function saved(vs = base()) {
  const l = live(vs);
  return savePlan(plan(d, l, pol, NOW), l, { manifests: ["manifests"], policy: "policy.yaml" }, DIGESTS);
}
/** Apply a saved plan against a world that may have changed. */
function check(world: LiveVersion[], o: { digests?: typeof DIGESTS; now?: Date; desiredState?: typeof d } = {}) {
  const l = live(world);
  const fresh = plan(o.desiredState ?? d, l, pol, o.now ?? NOW);
  return checkSavedPlan(saved(), fresh, l, o.digests ?? DIGESTS, o.now ?? NOW, 24 * H);
}
const deletes = (c: ReturnType<typeof check>) => c.plan.actions.filter((a) => a.action === "delete").map((a) => a.versionName).sort();

describe("saved plan: what changed is skipped as stale", () => {
  it("records facts for every planned deletion", () => {
    const s = saved();
    expect(s.facts.map((f) => [f.action, f.versionArn.split("/version/")[1]!.split("/")[0], f.status])).toEqual([
      ["delete", "b", "STOPPED"],
      ["delete", "a", "STOPPED"],
    ]);
    expect(s.digests).toEqual(DIGESTS);
    expect(s.targets).toEqual([{ account: "123456789012", region: "us-east-1" }]);
  });

  it("(a) nothing changed → exactly the saved deletions", () => {
    const c = check(base());
    expect(c.refusal).toBeUndefined();
    expect(c.stale).toEqual([]);
    expect(deletes(c)).toEqual(["a", "b"]);
  });

  it.each([
    { name: "listed again", world: base(), desiredState: desired(set("p1", ["keep", "a"])), why: "no longer deletable: keep" },
    { name: "tagged protected", world: base().map((v) => (v.name === "a" ? { ...v, tags: { hold: "yes" } } : v)), why: "no longer deletable: blocked (protectedTag)" },
    { name: "started RUNNING", world: base().map((v) => (v.name === "a" ? { ...v, status: "RUNNING" } : v)), why: "no longer deletable: blocked (inUse)" },
    { name: "tags changed but still deletable", world: base().map((v) => (v.name === "a" ? { ...v, tags: { owner: "x" } } : v)), why: "tags changed" },
    { name: "status changed but still deletable", world: base().map((v) => (v.name === "a" ? { ...v, status: "FAILED" } : v)), why: "status changed from STOPPED to FAILED" },
    { name: "gone", world: base().filter((v) => v.name !== "a"), why: "the version is no longer there" },
  ])("(b) $name → a is stale, b still deleted", ({ world, desiredState, why }) => {
    const c = check(world, desiredState ? { desiredState } : {});
    expect(c.refusal).toBeUndefined();
    expect(c.stale.map((s) => [s.action.versionName, s.why])).toEqual([["a", why]]);
    expect(deletes(c)).toEqual(["b"]);
  });

  it("a mark removal the fresh plan makes goes through though the saved plan did not list it (it only delays); an added mark it did not list does not", () => {
    const MARK = "rekon.dev/pending-delete-since";
    const markedLong = (v: LiveVersion) => ({ ...v, tags: { [MARK]: "2026-01-01T00:00:00Z" } });
    // Since the plan was saved, "a" was tagged with a mark and listed again: the fresh plan removes it.
    const c = check(base().map((v) => (v.name === "a" ? markedLong(v) : v)), { desiredState: desired(set("p1", ["keep", "a"])) });
    expect(c.plan.actions.find((a) => a.versionName === "a")!.mark).toBe("remove");
    // A grace period the saved plan did not have: the fresh plan would add marks; none without the saved plan.
    const l = live(base());
    const graced = plan(d, l, { ...pol, gracePeriod: "72h", gracePeriodMs: 72 * H }, NOW);
    expect(graced.actions.some((a) => a.mark === "add")).toBe(true);
    const g = checkSavedPlan(saved(), graced, l, DIGESTS, NOW, 24 * H);
    expect(g.plan.actions.filter((a) => a.mark === "add")).toEqual([]);
  });

  it("never deletes what the saved plan did not list", () => {
    const c = check([...base(), version("new", { ageHours: 300, tags: {} })]);
    expect(deletes(c)).toEqual(["a", "b"]);
    expect(c.plan.actions.find((a) => a.versionName === "new")).toMatchObject({ action: "blocked", reasons: [{ rule: "notInSavedPlan" }] });
  });
});

describe("saved plan: refused as a whole", () => {
  it.each([
    { name: "(c) manifests changed", o: { digests: { ...DIGESTS, manifests: "sha256:other" } }, rule: "digestMismatch", msg: "the manifests changed" },
    { name: "(c) policy changed", o: { digests: { ...DIGESTS, policy: "sha256:other" } }, rule: "digestMismatch", msg: "the policy changed" },
    { name: "(d) expired", o: { now: new Date(NOW.getTime() + 25 * H) }, rule: "planExpired", msg: "over --max-plan-age" },
    { name: "from the future", o: { now: new Date(NOW.getTime() - 2 * H) }, rule: "planFromFuture", msg: "is in the future" },
  ])("$name", ({ o, rule, msg }) => {
    const c = check(base(), o);
    expect(c.refusal?.rule).toBe(rule);
    expect(c.refusal?.message).toContain(msg);
    expect(deletes(c)).toEqual([]);
    expect(c.plan.refusals.map((r) => r.rule)).toContain(rule);
  });
});

describe("saved plan file", () => {
  it.each([
    { name: "not JSON", text: "{", msg: /not a saved plan: / },
    { name: "another JSON document", text: '{"summary": {}}', msg: /not a saved plan \(kind SavedPlan expected\)/ },
    { name: "a future format", text: JSON.stringify({ ...saved(), formatVersion: 9 }), msg: /format 9 is not supported/ },
  ])("$name is refused with the file named", ({ text, msg }) => {
    let err: unknown;
    try {
      parseSavedPlan("plan.json", text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues[0]).toMatchObject({ file: "plan.json", message: expect.stringMatching(msg) });
  });

  it("round-trips", () => {
    const s = saved();
    expect(parseSavedPlan("plan.json", JSON.stringify(s))).toEqual(s);
  });
});

describe("saved plan: starts and stops are writes a reviewer approved, or none", () => {
  const rd = desired(set("p1", ["a", "r"], { running: { a: { minInferenceUnits: 1 } }, runtime: "managed" }));
  const world = (): LiveVersion[] => [version("a", { tags: {} }), version("r", { status: "RUNNING", minInferenceUnits: 2, tags: {} })];
  const rpol = policy();
  const savedR = (vs = world(), d2 = rd) => {
    const l = live(vs);
    return savePlan(plan(d2, l, rpol, NOW), l, { manifests: ["manifests"], policy: "policy.yaml" }, DIGESTS);
  };
  const checkR = (s: ReturnType<typeof savedR>, vs: LiveVersion[], d2 = rd) => {
    const l = live(vs);
    return checkSavedPlan(s, plan(d2, l, rpol, NOW), l, DIGESTS, NOW, 24 * H);
  };
  const writes = (c: ReturnType<typeof checkR>) =>
    c.plan.actions.filter((a) => a.action === "start" || a.action === "stop").map((a) => `${a.action} ${a.versionName}`).sort();

  it("records the facts of each start and stop, and applies exactly them when nothing changed", () => {
    const s = savedR();
    expect(s.facts.map((f) => [f.action, f.status]).sort()).toEqual([["start", "STOPPED"], ["stop", "RUNNING"]]);
    const c = checkR(s, world());
    expect(c.stale).toEqual([]);
    expect(writes(c)).toEqual(["start a", "stop r"]);
    expect(c.plan.summary).toMatchObject({ start: 1, stop: 1 });
  });

  it("a start the saved plan did not list is never made from it; the version is kept", () => {
    const s = savedR(world(), desired(set("p1", ["a", "r"])));
    const c = checkR(s, world());
    expect(writes(c)).toEqual([]);
    expect(c.plan.actions.find((a) => a.versionName === "a")!.reasons).toEqual([expect.objectContaining({ rule: "notInSavedPlan", message: expect.stringMatching(/never started/) })]);
    expect(c.plan.summary).toMatchObject({ start: 0, stop: 0 });
  });

  it("a start at other units than reviewed is stale", () => {
    const s = savedR();
    const more = desired(set("p1", ["a", "r"], { running: { a: { minInferenceUnits: 3 } }, runtime: "managed" }));
    const c = checkR(s, world(), more);
    expect(c.stale.map((x) => [x.action.versionName, x.why])).toEqual([["a", expect.stringMatching(/the start changed since the plan was saved/)]]);
    expect(writes(c)).toEqual(["stop r"]);
  });

  it("a stop of a version that stopped meanwhile is stale; a status change is stale too", () => {
    const c = checkR(savedR(), world().map((v) => (v.name === "r" ? { ...v, status: "STOPPED" } : v)));
    expect(c.stale.map((x) => [x.action.versionName, x.why])).toEqual([["r", expect.stringMatching(/no longer planned to stop: keep/)]]);
    expect(writes(c)).toEqual(["start a"]);
  });

  it("a refused saved plan (inputs changed) starts and stops nothing", () => {
    const l = live(world());
    const c = checkSavedPlan(savedR(), plan(rd, l, rpol, NOW), l, { ...DIGESTS, policy: "sha256:other" }, NOW, 24 * H);
    expect(c.refusal?.rule).toBe("digestMismatch");
    expect(writes(c)).toEqual([]);
    expect(c.plan.summary).toMatchObject({ start: 0, stop: 0, delete: 0 });
  });
});
