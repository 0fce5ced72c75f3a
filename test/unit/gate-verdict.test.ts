// One version's verdict and the findings explain reads (gate/verdict.ts), as exact values: what a listed
// version, a version whose project was not read, a candidate and a guard-kept one get; when a mark is
// removed; and the findings walk() hands explain (their kind decides "hold" or "block", a skipped check
// says why it was not needed). Exact shapes on purpose: a key the verdict should not carry (a mark of
// undefined) is how a broken fold starts writing tags nobody planned.
//
// Every world is built inside its test (mutation testing counts collection-time code as "static").
import { describe, expect, it } from "vitest";
import { Gate } from "../../reconciler/gate/index.js";
import { keptWithoutTags, walk } from "../../reconciler/gate/verdict.js";
import { WorldIndex, type GateWorld } from "../../reconciler/gate/world.js";
import { formatMark, MARK_TAG } from "../../reconciler/policy/guards.js";
import type { LiveProject, LiveVersion, Policy } from "../../reconciler/types.js";
import { desired, liveProject, liveState, NOW, policy, set } from "../helpers/builders.js";
import { version } from "../helpers/builders.js";

const now = NOW.getTime();
const H = 3_600_000;
const GRACE: Partial<Policy> = { gracePeriodMs: H, gracePeriod: "1h" };
const SUSPENDED: Partial<Policy> = { suspend: { reason: "freeze", origin: "operator policy test-policy" } };
const PROTECT: Partial<Policy> = { protectTags: [{ key: "hold", value: "*", origin: "op" }] };
const NOT_NEEDED = "not evaluated: another check already keeps it";

/** Project p1 listing "keep" (one hour old), with `v` beside it. */
function world(v: LiveVersion, pol: Partial<Policy> = {}, project: Partial<LiveProject> = {}) {
  const w: GateWorld = {
    desired: desired(set("p1", ["keep"])),
    live: liveState([liveProject([version("keep", { ageHours: 1 }), v], project)]),
    policies: policy(pol),
    now: NOW,
  };
  const index = new WorldIndex(w);
  const view = index.view("p1-set")!;
  return {
    gate: Gate.assess(w),
    view,
    verdict: () => Gate.assess(w).verdict(view, v, now),
    facts: { index, view, policy: view.policy, v, now },
    walk: (explain?: { seen?: { tags?: Record<string, string>; tagsError?: string } }) => walk({ index, view, policy: view.policy, v, now }, explain),
  };
}
const marked = (o: Parameters<typeof version>[1] = {}) => ({ ...o, tags: { [MARK_TAG]: formatMark(now - 2 * H), ...o.tags } });

describe("Gate.verdict: exact verdicts", () => {
  it("a listed version: kept, no reasons; with a mark, the mark goes", () => {
    expect(world(version("x")).gate.verdict(world(version("x")).view, version("keep", { ageHours: 1 }), now)).toStrictEqual({ reasons: [], keep: true });
    const m = version("keep", marked({ ageHours: 1 }));
    expect(world(version("x")).gate.verdict(world(version("x")).view, m, now)).toStrictEqual({ reasons: [], keep: true, mark: "remove" });
  });

  it("a candidate nothing holds: no reasons, and no key it does not need", () => {
    expect(world(version("old")).verdict()).toStrictEqual({ reasons: [] });
  });

  it("a candidate under a grace period, unmarked: held, marked now, deletable in an hour", () => {
    expect(world(version("old", { tags: {} }), GRACE).verdict()).toStrictEqual({
      reasons: [expect.objectContaining({ rule: "gracePeriod" })],
      mark: "add",
      deletableAt: new Date(now + H).toISOString(),
    });
  });

  it("a guard keeps a marked version whose tags were read: the mark goes", () => {
    const v = version("young", marked({ ageHours: 1 }));
    expect(world(v, GRACE).verdict()).toStrictEqual({ reasons: [expect.objectContaining({ rule: "minAge" })], mark: "remove" });
  });

  it("tags unreadable and suspended: both reasons, and no mark (none can be seen)", () => {
    const got = world(version("old", { tagsError: "ThrottlingException" }), { ...GRACE, ...SUSPENDED }).verdict();
    expect(got.reasons.map((r) => r.rule)).toEqual(["tagsUnreadable", "suspended"]);
    expect(got).not.toHaveProperty("mark");
  });
});

describe("walk: the findings explain reads", () => {
  it("a listed version: one finding, where it is listed", () => {
    expect(world(version("x")).walk({}).findings).toBeDefined();
    const w = world(version("x"));
    const listed = walk(
      {
        index: new WorldIndex({ desired: desired(set("p1", ["keep"])), live: liveState([liveProject([version("keep")])]), policies: policy(), now: NOW }),
        view: w.view,
        policy: w.view.policy,
        v: version("keep"),
        now,
      },
      {},
    );
    expect(listed).toStrictEqual({
      verdict: { reasons: [], keep: true },
      findings: [{ rule: "listed", kind: "guard", reasons: [], pass: 'listed by its own ProjectVersionSet "p1-set" (m.yaml:1:1)' }],
    });
  });

  it("a project not read: notRead, and (asked) no findings rather than none at all", () => {
    const w = world(version("old"), {}, { status: "error", error: "AccessDenied" });
    expect(w.walk({})).toStrictEqual({ verdict: { reasons: [{ rule: "notRead", message: "AccessDenied" }] }, findings: [] });
    expect(w.walk(undefined)).toStrictEqual({ verdict: { reasons: [{ rule: "notRead", message: "AccessDenied" }] } });
  });

  it("no tag guard in the policy: one guard finding says no check needs its tags", () => {
    const f = world(version("old")).walk({}).findings!;
    expect(f.find((x) => x.rule === "tagsUnreadable")).toStrictEqual({ rule: "tagsUnreadable", kind: "guard", reasons: [], pass: "no check needs its tags" });
  });

  it("tags unreadable: each tag guard is a skipped guard with no pass text", () => {
    const f = world(version("old", { tagsError: "ThrottlingException" }), PROTECT).walk({}).findings!;
    const protect = f.filter((x) => x.rule === "protectedTag");
    expect(protect).toHaveLength(1);
    expect(protect[0]).toMatchObject({ kind: "guard", reasons: [], pass: "" });
    expect(protect[0]!.skipped).toEqual(expect.any(String));
  });

  it("a guard keeps it: the tag guards are skipped guards saying what they would say, on its tags, on seen tags, or that none were read", () => {
    const young = (o: Parameters<typeof version>[1] = {}) => version("young", { ageHours: 1, ...o });
    const skipped = (v: LiveVersion, explain: Parameters<ReturnType<typeof world>["walk"]>[0]) =>
      world(v, PROTECT)
        .walk(explain)
        .findings!.filter((x) => x.rule === "protectedTag");
    expect(skipped(young(), {})).toStrictEqual([
      { rule: "protectedTag", kind: "guard", reasons: [], pass: "", skipped: `${NOT_NEEDED}; its tags were not read` },
    ]);
    expect(skipped(young(), { seen: { tagsError: "AccessDenied" } })[0]!.skipped).toBe(`${NOT_NEEDED}; its tags were not read (AccessDenied)`);
    expect(skipped(young(), { seen: { tags: { hold: "yes" } } })[0]!.skipped).toMatch(new RegExp(`^${NOT_NEEDED}; it would also keep it: `));
    expect(skipped(young({ tags: { hold: "yes" } }), { seen: { tags: {} } })[0]!.skipped).toMatch(/; it would also keep it: /);
  });

  it("a guard keeps it: the holds are skipped holds (kind hold), off ones are passes; the suspension is a hold", () => {
    const f = world(version("young", { ageHours: 1, tags: {} }), { ...GRACE, ...SUSPENDED }).walk({}).findings!;
    const grace = f.find((x) => x.rule === "gracePeriod")!;
    expect(grace).toMatchObject({ kind: "hold", reasons: [] });
    expect(grace.skipped).toMatch(new RegExp(`^${NOT_NEEDED}; it would also hold it: `));
    const approval = f.find((x) => x.rule === "approvalRequired")!;
    expect(approval).toMatchObject({ kind: "hold", reasons: [] });
    expect(approval).not.toHaveProperty("skipped");
    expect(f.find((x) => x.rule === "suspended")).toMatchObject({ kind: "hold", reasons: [expect.objectContaining({ rule: "suspended" })] });
  });
});

describe("explain: a suspension of a guard-kept version is a hold, not a block", () => {
  it("minAge blocks, the suspension holds", () => {
    const w = world(version("young", { ageHours: 1 }), SUSPENDED);
    const x = w.gate.explain(w.view, version("young", { ageHours: 1 }), now);
    expect(x.decision).toBe("blocked");
    expect(x.checks.filter((c) => c.rule === "minAge" || c.rule === "suspended").map((c) => [c.rule, c.verdict])).toEqual([
      ["minAge", "block"],
      ["suspended", "hold"],
    ]);
  });
});

describe("keptWithoutTags: whether a tag-free check already keeps it", () => {
  it("a project not read: kept (nothing in it is judged); a young version: kept; an old one: not", () => {
    expect(keptWithoutTags(world(version("old"), PROTECT, { status: "error", error: "AccessDenied" }).facts)).toBe(true);
    expect(keptWithoutTags(world(version("young", { ageHours: 1 }), PROTECT).facts)).toBe(true);
    expect(keptWithoutTags(world(version("old"), PROTECT).facts)).toBe(false);
  });
});
