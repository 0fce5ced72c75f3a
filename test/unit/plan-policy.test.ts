// Plan tables for the policy guards that need tags, ownership, the grace period and layers.
import { describe, expect, it } from "vitest";
import { plan, planExitCode, versionsNeedingTags, needsProjectTags } from "../../reconciler/plan.js";
import { compileRule } from "../../reconciler/policy/cel.js";
import { MARK_TAG } from "../../reconciler/policy/guards.js";
import type { CompiledRule, LiveVersion, Policy, PolicySet, ScopedPolicy } from "../../reconciler/types.js";
import { desired, liveProject, NOW, policy, set, version, liveState } from "../helpers/builders.js";

const H = 3_600_000;
const rule = (name: string, deny: string): CompiledRule => {
  const r = compileRule({ name, deny, message: `${name} says no` }, "operator policy test");
  if ("error" in r) throw new Error(r.error);
  return r;
};
const tag = (key: string, value: string) => ({ key, value, origin: "operator policy test" });
const old = (name: string, o: Partial<LiveVersion> & { ageHours?: number } = {}) => version(name, { ageHours: 24 * 90, ...o });

/** One project "p1" listing "keep"; returns the action for `target`. */
function decide(versions: LiveVersion[], pol: Policy | PolicySet, target: string, projectTags?: Record<string, string>) {
  const p = plan(desired(set("p1", ["keep"])), liveState([{ ...liveProject([...versions, version("keep", { ageHours: 1 })]), ...(projectTags ? { tags: projectTags } : {}) }]), pol, NOW);
  const a = p.actions.find((x) => x.versionName === target)!;
  return { a, rules: a?.reasons.map((r) => r.rule) ?? [], p };
}

describe("tag guards", () => {
  it.each([
    { name: "protect tag with exact value", tags: { "rekon.dev/protect": "true" }, pol: policy({ protectTags: [tag("rekon.dev/protect", "true")] }), action: "blocked", rules: ["protectedTag"] },
    { name: "protect tag, other value", tags: { "rekon.dev/protect": "false" }, pol: policy({ protectTags: [tag("rekon.dev/protect", "true")] }), action: "delete", rules: [] },
    { name: 'protect tag "*" matches any value', tags: { hold: "" }, pol: policy({ protectTags: [tag("hold", "*")] }), action: "blocked", rules: ["protectedTag"] },
    { name: "no tags at all", tags: {}, pol: policy({ protectTags: [tag("hold", "*")] }), action: "delete", rules: [] },
    { name: "tags not read → tagsUnreadable", tags: undefined, pol: policy({ protectTags: [tag("hold", "*")] }), action: "blocked", rules: ["tagsUnreadable"] },
    { name: "CEL rule denies", tags: { env: "prod" }, pol: policy({ rules: [rule("no-prod", 'version.tags["env"] == "prod"')] }), action: "blocked", rules: ["no-prod"] },
    { name: "CEL rule allows", tags: { env: "dev" }, pol: policy({ rules: [rule("no-prod", 'version.tags["env"] == "prod"')] }), action: "delete", rules: [] },
    { name: "CEL evaluation error blocks under the rule's name", tags: {}, pol: policy({ rules: [rule("needs-env", 'version.tags["env"] == "dev"')] }), action: "blocked", rules: ["needs-env"] },
    { name: "CEL rule reading project tags that were not read blocks", tags: {}, pol: policy({ rules: [rule("proj", 'project.tags["env"] == "dev"')] }), action: "blocked", rules: ["proj"] },
    { name: "every tag guard that fires is listed", tags: { hold: "x", env: "prod" }, pol: policy({ protectTags: [tag("hold", "*")], rules: [rule("no-prod", 'version.tags["env"] == "prod"')] }), action: "blocked", rules: ["protectedTag", "no-prod"] },
    { name: "region not allowed", tags: undefined, pol: policy({ allowedRegions: ["eu-west-1"], enforceRegions: true }), action: "blocked", rules: ["regionNotAllowed"] },
  ])("$name", ({ tags, pol, action, rules }) => {
    const got = decide([old("a", tags ? { tags: tags as Record<string, string> } : {})], pol, "a");
    expect(got.a.action).toBe(action);
    expect(got.rules).toEqual(rules);
  });

  it("tag guards do not run when a tag-free guard already blocks (their tags are never read)", () => {
    expect(decide([old("a", { status: "RUNNING" })], policy({ protectTags: [tag("hold", "*")] }), "a").rules).toEqual(["inUse"]);
  });

  it("reasons name the layer whose setting fired", () => {
    const { a } = decide([old("a", { tags: { hold: "1" } })], policy({ protectTags: [tag("hold", "*")] }), "a");
    expect(a.reasons[0]).toMatchObject({ rule: "protectedTag", layer: "operator policy test" });
  });
});

describe("versionsNeedingTags: tags are read only for candidates", () => {
  const versions = [old("cand1"), old("cand2"), old("running", { status: "RUNNING" }), version("young", { ageHours: 1 }), old("keep")];
  const d = desired(set("p1", ["keep"]));
  const live = liveState([liveProject(versions)]);

  it.each([
    { name: "no tag-based guard → no reads", pol: policy(), want: [] },
    { name: "protectTags → the candidates only", pol: policy({ protectTags: [tag("x", "*")] }), want: ["cand1", "cand2"] },
    { name: "rules → the candidates only", pol: policy({ rules: [rule("r", "false")] }), want: ["cand1", "cand2"] },
    // With a grace period every version not already DELETING: listed ones to clear a stale mark, blocked
    // ones so that a mark on a version that stopped being deletable is removed (notice must be continuous).
    { name: "gracePeriod → every version not DELETING", pol: policy({ gracePeriodMs: 72 * H, gracePeriod: "72h" }), want: [...live.projects[0]!.versions.filter((v) => v.status !== "DELETING").map((v) => v.name)].sort() },
  ])("$name", ({ pol, want }) => {
    expect(versionsNeedingTags(d, live, pol, NOW).map((v) => v.name).sort()).toEqual(want);
  });

  it("project tags only for sets whose policy requires one", () => {
    expect([...needsProjectTags(d, policy())]).toEqual([]);
    expect([...needsProjectTags(d, policy({ requireProjectTag: [tag("rekon.dev/managed", "true")] }))]).toEqual(["p1-set"]);
  });
});

describe("ownership: requireProjectTag", () => {
  const pol = policy({ requireProjectTag: [tag("rekon.dev/managed", "true")] });
  it.each([
    { name: "tag present → managed", tags: { "rekon.dev/managed": "true" }, status: "ok", deletes: 1, exit: 2 },
    { name: "tag missing → notManaged, nothing deleted, not an error", tags: {}, status: "notManaged", deletes: 0, exit: 0 },
    { name: "tag with another value → notManaged", tags: { "rekon.dev/managed": "false" }, status: "notManaged", deletes: 0, exit: 0 },
    { name: "project tags not read → error", tags: undefined, status: "error", deletes: 0, exit: 1 },
  ])("$name", ({ tags, status, deletes, exit }) => {
    const { p } = decide([old("a")], pol, "a", tags as Record<string, string> | undefined);
    expect(p.projects[0]!.status).toBe(status);
    expect(p.summary.delete).toBe(deletes);
    if (status !== "ok") expect(p.actions).toEqual([]);
    expect(planExitCode(p)).toBe(exit);
  });
});

describe("grace period", () => {
  const pol = policy({ gracePeriodMs: 72 * H, gracePeriod: "72h" });
  const at = (hoursAgo: number) => new Date(NOW.getTime() - hoursAgo * H).toISOString().replace(/\.\d{3}Z$/, "Z");
  it.each([
    { name: "unmarked → blocked, apply marks it", tags: {}, action: "blocked", mark: "add", deletableAt: new Date(NOW.getTime() + 72 * H).toISOString() },
    { name: "marked 10h ago → blocked until mark + 72h", tags: { [MARK_TAG]: at(10) }, action: "blocked", mark: undefined, deletableAt: new Date(NOW.getTime() + 62 * H).toISOString() },
    { name: "marked exactly 72h ago → delete", tags: { [MARK_TAG]: at(72) }, action: "delete", mark: undefined, deletableAt: undefined },
    { name: "unreadable mark → re-marked (clock restarts)", tags: { [MARK_TAG]: "yesterday" }, action: "blocked", mark: "add", deletableAt: new Date(NOW.getTime() + 72 * H).toISOString() },
  ])("$name", ({ tags, action, mark, deletableAt }) => {
    const { a } = decide([old("a", { tags: tags as Record<string, string> })], pol, "a");
    expect(a.action).toBe(action);
    expect(a.mark).toBe(mark);
    expect(a.deletableAt).toBe(deletableAt);
    if (action === "blocked") expect(a.reasons.map((r) => r.rule)).toEqual(["gracePeriod"]);
  });

  it("a version blocked by another rule is not marked", () => {
    const { a } = decide([version("a", { ageHours: 2, tags: {} })], pol, "a");
    expect(a.reasons.map((r) => r.rule)).toEqual(["minAge"]);
    expect(a.mark).toBeUndefined();
  });

  it("a listed version carrying a mark has it removed", () => {
    const p = plan(desired(set("p1", ["a"])), liveState([liveProject([old("a", { tags: { [MARK_TAG]: at(5) } })])]), pol, NOW);
    expect(p.actions[0]).toMatchObject({ action: "keep", mark: "remove" });
  });

  it("a marked version that became protected has its mark removed", () => {
    const { a } = decide([old("a", { tags: { [MARK_TAG]: at(100), hold: "1" } })], policy({ gracePeriodMs: 72 * H, gracePeriod: "72h", protectTags: [tag("hold", "*")] }), "a");
    expect(a).toMatchObject({ action: "blocked", mark: "remove" });
  });

  it("a refused (over-budget) plan writes no marks either", () => {
    const p = plan(desired(set("p1", ["keep"])), liveState([liveProject([old("a", { tags: {} }), old("b", { tags: { [MARK_TAG]: at(100) } }), old("c", { tags: { [MARK_TAG]: at(100) } }), version("keep", { ageHours: 1, tags: {} })])]), policy({ gracePeriodMs: 72 * H, gracePeriod: "72h", maxDeletesPerRun: 1 }), NOW);
    expect(p.refusals).toHaveLength(1);
    expect(p.actions.some((a) => a.mark)).toBe(false);
    expect(p.summary.delete).toBe(0);
  });
});

describe("layers in the plan", () => {
  const scoped = (o: Partial<ScopedPolicy["spec"]>, projects = ["p1"]): ScopedPolicy => ({ name: "strict", pos: { file: "manifests/strict.yaml", line: 3, col: 9 }, projects, projectPos: [], spec: o, fieldPos: {} });
  it("a manifest layer tightens only its projects and is named in the reason", () => {
    const pset: PolicySet = { operator: policy(), scoped: [scoped({ minAge: "365d", minAgeMs: 365 * 24 * H })] };
    const p = plan(
      desired(set("p1", ["k"]), set("p2", ["k"])),
      liveState([liveProject([old("a"), version("k", { ageHours: 1 })], { project: "p1" }), liveProject([old("a", { project: "p2" }), version("k", { project: "p2", ageHours: 1 })], { project: "p2" })]),
      pset,
      NOW,
    );
    const p1 = p.actions.find((a) => a.project === "p1" && a.versionName === "a")!;
    const p2 = p.actions.find((a) => a.project === "p2" && a.versionName === "a")!;
    expect(p1.action).toBe("blocked");
    expect(p1.reasons[0]).toMatchObject({ rule: "minAge", layer: 'manifest policy "strict" (manifests/strict.yaml)' });
    expect(p2.action).toBe("delete");
  });

  it("a manifest layer's maxDeletesPerRun counts its own projects and refuses the whole run", () => {
    const pset: PolicySet = { operator: policy(), scoped: [scoped({ maxDeletesPerRun: 1 })] };
    const p = plan(desired(set("p1", ["k"])), liveState([liveProject([old("a"), old("b"), version("k", { ageHours: 1 })])]), pset, NOW);
    expect(p.refusals).toEqual([expect.objectContaining({ rule: "maxDeletesPerRun", layer: 'manifest policy "strict" (manifests/strict.yaml)' })]);
    expect(p.summary.delete).toBe(0);
  });
});
