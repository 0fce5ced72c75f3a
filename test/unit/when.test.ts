// When and how much, as tables through the planner and the gate: the percentage budget, approval after
// the mark, suspension in every place it can be declared, windows holding deletions but not marks, near
// misses, and the layer rules for all of them.
import { describe, expect, it } from "vitest";
import { Gate } from "../../reconciler/gate/index.js";
import { checkLayers } from "../../reconciler/policy/layers.js";
import { APPROVAL_TAG, formatMark, MARK_TAG, nearMiss } from "../../reconciler/policy/guards.js";
import { plan, planExitCode } from "../../reconciler/plan.js";
import type { DeletionWindow, Policy, ScopedPolicy } from "../../reconciler/types.js";
import { desired, liveProject, liveState, NOW, policy, set, version } from "../helpers/builders.js";

const H = 3_600_000;
const now = NOW.getTime();
const rules = (p: ReturnType<typeof plan>, name: string) => p.actions.find((a) => a.versionName === name)!.reasons.map((r) => r.rule);
const deletes = (p: ReturnType<typeof plan>) => p.actions.filter((a) => a.action === "delete").map((a) => a.versionName).sort();

function project(n: number, listed: string[], o: { tags?: Record<string, string> } = {}) {
  const vs = Array.from({ length: n }, (_, i) => version(`v${i}`, { ageHours: 100 + i, ...(o.tags ? { tags: o.tags } : {}) }));
  return { d: desired(set("p1", listed)), live: liveState([liveProject(vs)]) };
}

describe("maxDeletesPercent: deleting more than this share of a project's live versions refuses the run", () => {
  it.each([
    { name: "1 of 2 at 50 %: exactly half is allowed", live: 2, listed: ["v0"], pct: 50, refused: false },
    { name: "1 of 1 at 50 %: all of it is more than half", live: 1, listed: [] as string[], pct: 50, refused: true, allowEmpty: true },
    { name: "2 of 3 at 66 %: 66.7 % is more than 66 (no rounding down)", live: 3, listed: ["v0"], pct: 66, refused: true },
    { name: "2 of 3 at 67 %: within", live: 3, listed: ["v0"], pct: 67, refused: false },
    { name: "1 of 3 at 33 %: 33.3 % is more than 33", live: 3, listed: ["v0", "v1"], pct: 33, refused: true },
    { name: "at 0 % any deletion refuses", live: 5, listed: ["v0", "v1", "v2", "v3"], pct: 0, refused: true },
    { name: "at 100 % (the default) nothing is refused by it", live: 5, listed: [] as string[], pct: 100, refused: false, allowEmpty: true },
  ])("$name", ({ live, listed, pct, refused, allowEmpty }) => {
    const { d, live: l } = project(live, listed);
    const p = plan(d, l, policy({ maxDeletesPercent: pct, allowEmpty: allowEmpty ?? false, maxDeletesPerRun: 100 }), NOW);
    expect(p.refusals.map((r) => r.rule)).toEqual(refused ? ["maxDeletesPercent"] : []);
    if (refused) {
      expect(p.summary.delete).toBe(0);
      expect(p.refusals[0]!.message).toMatch(/the run would delete \d+ of the \d+ live versions of project p1 .* over maxDeletesPercent/);
      expect(planExitCode(p)).toBe(1);
    }
  });

  it("versions already DELETING are not counted as live: 2 of the 4 left is 50 %, not 2 of 8", () => {
    const going = Array.from({ length: 4 }, (_, i) => version(`gone${i}`, { status: "DELETING" }));
    const left = [version("k0"), version("k1"), version("x0"), version("x1")];
    const p = plan(desired(set("p1", ["k0", "k1"])), liveState([liveProject([...going, ...left])]), policy({ maxDeletesPercent: 40, maxDeletesPerRun: 100 }), NOW);
    expect(p.refusals.map((r) => r.rule)).toEqual(["maxDeletesPercent"]);
    expect(p.refusals[0]!.message).toContain("delete 2 of the 4 live versions");
  });

  it("one project over its share refuses the whole run, other projects included", () => {
    const a = [version("a0", { project: "p1" }), version("a1", { project: "p1" })];
    const b = [version("b0", { project: "p2" }), version("b1", { project: "p2" }), version("b2", { project: "p2" }), version("b3", { project: "p2" })];
    const p = plan(desired(set("p1", []), set("p2", ["b0", "b1", "b2"])), liveState([liveProject(a, { project: "p1" }), liveProject(b, { project: "p2" })]), policy({ maxDeletesPercent: 50, allowEmpty: true }), NOW);
    expect(p.refusals.map((r) => r.rule)).toEqual(["maxDeletesPercent"]);
    expect(p.summary.delete).toBe(0);
  });
});

describe("requireApproval: a person's approval, later than the mark", () => {
  const pol = policy({ requireApproval: true });
  const mark = formatMark(now - 5 * H);
  it.each([
    { name: "no mark yet: apply marks it, nothing deleted", tags: {}, action: "blocked", mark: "add", rules: ["approvalRequired"] },
    { name: "marked, not approved", tags: { [MARK_TAG]: mark }, action: "blocked", mark: undefined, rules: ["approvalRequired"] },
    { name: "approved after the mark", tags: { [MARK_TAG]: mark, [APPROVAL_TAG]: formatMark(now - 1 * H) }, action: "delete", mark: undefined, rules: [] },
    { name: "an approval older than the mark does not count", tags: { [MARK_TAG]: mark, [APPROVAL_TAG]: formatMark(now - 6 * H) }, action: "blocked", mark: undefined, rules: ["approvalRequired"] },
    { name: "an approval at the mark's very time does not count", tags: { [MARK_TAG]: mark, [APPROVAL_TAG]: mark }, action: "blocked", mark: undefined, rules: ["approvalRequired"] },
    { name: "an approval that is not RFC 3339 UTC does not count", tags: { [MARK_TAG]: mark, [APPROVAL_TAG]: "yes" }, action: "blocked", mark: undefined, rules: ["approvalRequired"] },
    { name: "an approval in the future does not count", tags: { [MARK_TAG]: mark, [APPROVAL_TAG]: formatMark(now + 24 * H) }, action: "blocked", mark: undefined, rules: ["approvalRequired"] },
  ] as { name: string; tags: Record<string, string>; action: string; mark: string | undefined; rules: string[] }[])("$name", ({ tags, action, mark: m, rules: want }) => {
    const p = plan(desired(set("p1", ["keep"])), liveState([liveProject([version("keep", { ageHours: 1, tags: {} }), version("old", { tags })])]), pol, NOW);
    const a = p.actions.find((x) => x.versionName === "old")!;
    expect([a.action, a.mark, a.reasons.map((r) => r.rule)]).toEqual([action, m, want]);
  });

  it("with a grace period too: approval and the period both hold", () => {
    const tags = { [MARK_TAG]: formatMark(now - 1 * H), [APPROVAL_TAG]: formatMark(now - 30 * 60_000) };
    const p = plan(desired(set("p1", ["keep"])), liveState([liveProject([version("keep", { ageHours: 1, tags: {} }), version("old", { tags })])]), policy({ requireApproval: true, gracePeriodMs: 72 * H, gracePeriod: "72h" }), NOW);
    expect(rules(p, "old")).toEqual(["gracePeriod"]);
  });
});

describe("suspend: nothing is written while in force, but mark removals", () => {
  const live = () => liveState([liveProject([version("keep", { ageHours: 1, tags: {} }), version("old", { tags: {} }), version("marked", { status: "RUNNING", tags: { [MARK_TAG]: formatMark(now - 100 * H) } })])]);
  const scoped = (suspend: ScopedPolicy["spec"]["suspend"]): ScopedPolicy => ({ name: "layer", pos: { file: "m/policy.yaml", line: 1, col: 1 }, projects: ["p1"], projectPos: [], spec: { ...(suspend ? { suspend } : {}) }, fieldPos: {} });

  it.each([
    { name: "the operator's policy", op: { reason: "audit", origin: "op" }, layer: undefined, own: undefined, suspended: true },
    { name: "a manifest policy selecting the project", op: undefined, layer: { reason: "freeze", origin: "layer" }, own: undefined, suspended: true },
    { name: "the set itself", op: undefined, layer: undefined, own: { reason: "migration", origin: "set" }, suspended: true },
    { name: "until in the future", op: undefined, layer: undefined, own: { reason: "migration", until: now + H, origin: "set" }, suspended: true },
    { name: "until in the past has no effect", op: undefined, layer: undefined, own: { reason: "migration", until: now - H, origin: "set" }, suspended: false },
    // Loading refuses a time that does not exist; should one reach the gate anyway, it fails closed.
    { name: "until that is not a time (NaN) keeps the suspension", op: undefined, layer: undefined, own: { reason: "migration", until: Number.NaN, origin: "set" }, suspended: true },
  ])("$name", ({ op, layer, own, suspended }) => {
    const d = desired({ ...set("p1", ["keep"]), ...(own ? { suspend: own } : {}) });
    const pol: Policy = policy({ gracePeriodMs: H, gracePeriod: "1h", ...(op ? { suspend: op } : {}) });
    const p = plan(d, live(), { operator: pol, scoped: layer ? [scoped(layer)] : [] }, NOW);
    const old = p.actions.find((a) => a.versionName === "old")!;
    const marked = p.actions.find((a) => a.versionName === "marked")!;
    if (suspended) {
      expect(old.reasons.map((r) => r.rule)).toContain("suspended");
      expect(old.mark).toBeUndefined(); // not even a grace-period mark
      // A removal is the one write a suspension allows: it can only delay a deletion, and a mark kept
      // through the suspension would make the version deletable at once, on an old notice, later.
      expect(marked.mark).toBe("remove");
      expect(p.actions.filter((a) => a.mark).map((a) => [a.versionName, a.mark])).toEqual([["marked", "remove"]]);
      expect(p.summary.delete).toBe(0);
    } else {
      expect(old.mark).toBe("add");
      expect(marked.mark).toBe("remove");
    }
  });
});

describe("windows hold deletions, never marks", () => {
  const always: DeletionWindow = { kind: "deny", schedule: "0 * * * *", durationMs: 2 * H, duration: "2h", timeZone: "UTC", reason: "freeze", origin: "op" };
  it("inside a deny window: deletable versions are blocked `window`, marks are written, marked ones keep their mark", () => {
    const vs = [version("keep", { ageHours: 1, tags: {} }), version("fresh", { tags: {} }), version("due", { tags: { [MARK_TAG]: formatMark(now - 5 * H) } })];
    const p = plan(desired(set("p1", ["keep"])), liveState([liveProject(vs)]), policy({ gracePeriodMs: H, gracePeriod: "1h", windows: [always] }), NOW);
    expect(p.actions.find((a) => a.versionName === "fresh")).toMatchObject({ action: "blocked", mark: "add" });
    const due = p.actions.find((a) => a.versionName === "due")!;
    expect([due.action, due.mark, due.reasons.map((r) => r.rule)]).toEqual(["blocked", undefined, ["window"]]);
    expect(due.reasons[0]!.message).toBe('inside the deny window "0 * * * *" UTC for 2h (freeze); deletion is not allowed again within 400 days');
    expect(p.nextDeletionAllowedAt).toBeUndefined(); // every hour for two hours: never open within the horizon
  });

  it("a deny window that ends: the plan says when, and it is the version's deletableAt", () => {
    const tonight: DeletionWindow = { kind: "deny", schedule: "0 11 * * *", durationMs: 2 * H, duration: "2h", timeZone: "UTC", origin: "op" };
    const p = plan(desired(set("p1", ["keep"])), liveState([liveProject([version("keep", { ageHours: 1 }), version("old")])]), policy({ windows: [tonight] }), NOW);
    expect(p.nextDeletionAllowedAt).toBe("2026-11-28T13:00:00.000Z");
    expect(p.actions.find((a) => a.versionName === "old")).toMatchObject({ action: "blocked", deletableAt: "2026-11-28T13:00:00.000Z" });
    expect(deletes(plan(desired(set("p1", ["keep"])), liveState([liveProject([version("keep", { ageHours: 1 }), version("old")])]), policy({ windows: [tonight] }), new Date("2026-11-28T13:00:00Z")))).toEqual(["old"]);
  });
});

describe("near misses", () => {
  it.each([
    { listed: "V5", live: "v5", near: true, why: "case" },
    { listed: "v5 ", live: "v5", near: true, why: "surrounding space" },
    { listed: "fraud-detector.2026-07-01T08.00.0", live: "fraud-detector.2026-07-01T08.00.00", near: true, why: "one character missing" },
    { listed: "fraud-detector.2026-07-01T08.00.000", live: "fraud-detector.2026-07-01T08.00.00", near: true, why: "one character extra" },
    { listed: "v5", live: "v6", near: true, why: "one character changed" },
    { listed: "v15", live: "v6", near: false, why: "two edits" },
    { listed: "model-a", live: "model-bb", near: false, why: "two edits (change and insert)" },
    { listed: "v5", live: "v5", near: false, why: "the same name is not a miss" },
  ])("$listed ~ $live: $near ($why)", ({ listed, live, near }) => {
    expect(nearMiss(listed, live)).toBe(near);
  });

  it("every near candidate of a missing listed name is held; others, and present names, are not", () => {
    const vs = ["v1", "v2", "V3", "x9", "keep"].map((n) => version(n, { ageHours: n === "keep" ? 1 : 100 }));
    const p = plan(desired(set("p1", ["keep", "v3"])), liveState([liveProject(vs)]), policy({ maxDeletesPerRun: 100 }), NOW);
    // "v3" is missing: V3 (case), v1 and v2 (one edit) are held; x9 is two edits away.
    expect(rules(p, "V3")).toEqual(["nearMiss"]);
    expect(rules(p, "v1")).toEqual(["nearMiss"]);
    expect(rules(p, "v2")).toEqual(["nearMiss"]);
    expect(deletes(p)).toEqual(["x9"]);
    expect(p.actions.find((a) => a.versionName === "V3")!.reasons[0]!.message).toBe('listed "v3" is missing; did you mean "V3"? Names are case-sensitive: fix the manifest, or remove the listed name');
  });

  it("the operator may turn it off", () => {
    const vs = [version("keep", { ageHours: 1 }), version("V3")];
    expect(deletes(plan(desired(set("p1", ["keep", "v3"])), liveState([liveProject(vs)]), policy({ nearMissGuard: false }), NOW))).toEqual(["V3"]);
  });
});

describe("layers: a manifest policy may only tighten these", () => {
  const op = policy({ maxDeletesPercent: 50, requireApproval: true, nearMissGuard: true });
  const layer = (spec: ScopedPolicy["spec"]): ScopedPolicy => ({ name: "team", pos: { file: "m/p.yaml", line: 3, col: 9 }, projects: ["p1"], projectPos: [], spec, fieldPos: {} });
  const window = (kind: "deny" | "allow"): DeletionWindow => ({ kind, schedule: "0 9 * * *", durationMs: H, duration: "1h", timeZone: "UTC", origin: "team" });
  it.each([
    { name: "a deny window", spec: { windows: [window("deny")] }, error: undefined },
    { name: "an allow window", spec: { windows: [window("allow")] }, error: "an allow window in a manifest policy" },
    { name: "a lower maxDeletesPercent", spec: { maxDeletesPercent: 20 }, error: undefined },
    { name: "a higher maxDeletesPercent", spec: { maxDeletesPercent: 80 }, error: "maxDeletesPercent 80 is above the operator's 50" },
    { name: "requireApproval false", spec: { requireApproval: false }, error: "requireApproval: false where the operator has true" },
    { name: "nearMissGuard false", spec: { nearMissGuard: false }, error: "nearMissGuard: false where the operator has true" },
    { name: "a suspension", spec: { suspend: { reason: "x", origin: "team" } }, error: undefined },
  ])("$name", ({ spec, error }) => {
    const issues = checkLayers({ operator: op, scoped: [layer(spec as ScopedPolicy["spec"])] }, new Set(["p1"]));
    if (error === undefined) expect(issues).toEqual([]);
    else expect(issues.map((i) => i.message).join("\n")).toContain(error);
  });

  it("a layer's deny window and lower percentage apply to its projects only", () => {
    const g = Gate.assess({ desired: desired(set("p1", []), set("p2", [])), live: liveState([liveProject([], { project: "p1" }), liveProject([], { project: "p2" })]), policies: { operator: policy(), scoped: [layer({ windows: [window("deny")], maxDeletesPercent: 10 })] }, now: NOW });
    expect(g.view("p1-set")!.policy).toMatchObject({ maxDeletesPercent: 10, windows: [expect.objectContaining({ kind: "deny" })] });
    expect(g.view("p2-set")!.policy).toMatchObject({ maxDeletesPercent: 100, windows: [] });
  });
});


