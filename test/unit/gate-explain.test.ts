// `rekon explain` as the user reads it: every check the gate makes for one version, its verdict (pass,
// block, hold, skip, keep) and what it compared, in order, for the situations the README describes. The
// decision itself comes from the gate's verdict (gate.test.ts and the property tests hold explain to the
// plan); these tables hold the words, which are what a person acts on.
import { describe, expect, it } from "vitest";
import type { CustomRuleName } from "../../reconciler/rules.js";
import { Gate, type Explanation } from "../../reconciler/gate/index.js";
import { planWith } from "../../reconciler/plan.js";
import { APPROVAL_TAG, formatMark, MARK_TAG, NOTICE_TAG } from "../../reconciler/policy/guards.js";
import type { CompiledRule, DeletionWindow, LiveVersion, Policy, Reason } from "../../reconciler/types.js";
import { desired, liveProject, liveState, NOW, policy, set, version } from "../helpers/builders.js";

const now = NOW.getTime();
const H = 3_600_000;
const rule = (name: string, answer: unknown): CompiledRule => ({
  name: name as CustomRuleName,
  deny: "…",
  message: `${name} says keep`,
  origin: `layer of ${name}`,
  evaluate: () => answer,
});
const freeze: DeletionWindow = {
  kind: "deny",
  schedule: "0 12 * * *",
  durationMs: H,
  duration: "1h",
  timeZone: "UTC",
  reason: "freeze",
  origin: "operator windows",
};
const NEXT = "deletion is next allowed at 2026-11-28T13:00:00.000Z (in 1h)";

function explain(
  versions: LiveVersion[],
  pol: Partial<Policy>,
  o: { listed?: string[]; refusals?: Reason[]; seen?: { tags?: Record<string, string>; tagsError?: string }; of?: string } = {},
) {
  const gate = Gate.assess({
    desired: desired(set("p1", o.listed ?? ["keep"])),
    live: liveState([liveProject(versions)]),
    policies: policy(pol),
    now: NOW,
    ...(o.refusals ? { refusals: o.refusals } : {}),
  });
  const plan = planWith(gate, NOW);
  const v = versions.find((x) => x.name === (o.of ?? "old"))!;
  return gate.explain(gate.views[0]!, v, now, plan.refusals, o.seen);
}
const rows = (x: Explanation) => x.checks.map((c) => (c.layer ? [c.rule, c.verdict, c.detail, c.layer] : [c.rule, c.verdict, c.detail]));

/** The tag-free checks of an ordinary version (STOPPED, 30 days old, not listed) that pass, with what they compared. */
const STATIC_PASS = {
  listed: ["listed", "pass", "not listed by any set that reaches this project"],
  identityMismatch: ["identityMismatch", "pass", "its ARN's account 123456789012 and region us-east-1 are the ones the credentials resolved to"],
  unknownStatus: ["unknownStatus", "pass", "STOPPED is one of the 14 documented statuses"],
  inUse: ["inUse", "pass", "STOPPED is not in use"],
  copySource: ["copySource", "pass", "no copy of it is in progress in the projects read"],
  copySourceUnknown: ["copySourceUnknown", "pass", "every project of its account and region was read"],
  minAge: ["minAge", "pass", "age 30d ≥ minAge 24h"],
  keepLatest: ["keepLatest", "pass", "keepLatest 0"],
  allowEmpty: ["allowEmpty", "pass", "the set lists 1 name(s), at least one of which exists"],
  accountNotAllowed: ["accountNotAllowed", "pass", "123456789012 is in allowedAccounts [123456789012]"],
  regionNotAllowed: ["regionNotAllowed", "pass", "any region"],
  nearMiss: ["nearMiss", "pass", "no missing listed name is one edit (or case, or spaces) away"],
};
const HOLDS_PASS = [
  ["gracePeriod", "pass", "no grace period"],
  ["noticeNotDelivered", "pass", "requireNotice off"],
  ["approvalRequired", "pass", "requireApproval off"],
  ["window", "pass", "no deletion windows"],
  ["suspended", "pass", "not suspended"],
];
const staticWith = (o: Partial<Record<keyof typeof STATIC_PASS, string[]>> = {}) =>
  Object.entries(STATIC_PASS).map(([k, v]) => o[k as keyof typeof STATIC_PASS] ?? v);
const keep = () => version("keep", { ageHours: 1, tags: {} });

describe("rekon explain: every check, its verdict and what it compared", () => {
  it("with no refusals given, a deletable version is a deletion", () => {
    const gate = Gate.assess({ desired: desired(set("p1", ["keep"])), live: liveState([liveProject([keep(), version("old")])]), policies: policy(), now: NOW });
    expect(gate.explain(gate.views[0]!, version("old"), now).decision).toBe("delete");
  });

  it("lists of accounts and regions are written out, comma separated", () => {
    const x = explain([keep(), version("old")], {
      allowedAccounts: ["123456789012", "210987654321"],
      allowedRegions: ["us-east-1", "eu-west-1"],
      enforceRegions: true,
    });
    expect(rows(x).filter((r) => r[0] === "accountNotAllowed" || r[0] === "regionNotAllowed")).toEqual([
      ["accountNotAllowed", "pass", "123456789012 is in allowedAccounts [123456789012, 210987654321]"],
      ["regionNotAllowed", "pass", "us-east-1 is in allowedRegions [us-east-1, eu-west-1]"],
    ]);
  });

  it("kept by a guard, no windows: the window check passes; with windows, a skipped window check names their layer, as a skipped hold does", () => {
    expect(rows(explain([keep(), version("old", { ageHours: 2 })], {})).find((r) => r[0] === "window")).toEqual(["window", "pass", "no deletion windows"]);
    const x = explain([keep(), version("old", { ageHours: 2, tags: {} })], {
      windows: [freeze],
      gracePeriodMs: H,
      gracePeriod: "1h",
      origin: { windows: "W", gracePeriod: "G" },
    });
    expect(
      rows(x)
        .filter((r) => r[0] === "window" || r[0] === "gracePeriod")
        .map((r) => [r[0], r[1], r[3]]),
    ).toEqual([
      ["gracePeriod", "skip", "G"],
      ["window", "skip", "W"],
    ]);
  });

  it("protectTags: each tag guard is judged on its own key, whatever the other reasons say", () => {
    const pol = {
      protectTags: [
        { key: "hold", value: "*", origin: "op" },
        { key: "env", value: "prod", origin: "op2" },
      ],
      rules: [rule("r", true)],
    };
    // A rule whose message happens to read like a tag guard's is not one.
    const lookalike = { ...pol, rules: [{ ...rule("r", true), message: "tagged hold=yes, says the rule" }] };
    const skipped = explain([keep(), version("old", { ageHours: 2 })], lookalike, { seen: { tags: {} } });
    expect(
      rows(skipped)
        .filter((r) => r[0] === "protectedTag")
        .map((r) => r[2]),
    ).toEqual(["not evaluated: another check already keeps it; no hold tag", "not evaluated: another check already keeps it; no env=prod tag"]);
    const both = explain([keep(), version("old", { tags: { hold: "1", env: "prod" } })], pol);
    expect(rows(both).filter((r) => r[0] === "protectedTag")).toEqual([
      ["protectedTag", "block", 'tagged hold=1 (protectTags hold: "*")', "op"],
      ["protectedTag", "block", 'tagged env=prod (protectTags env: "prod")', "op2"],
    ]);
    const neither = explain([keep(), version("old", { tags: {} })], { protectTags: pol.protectTags });
    expect(rows(neither).filter((r) => r[0] === "protectedTag")).toEqual([
      ["protectedTag", "pass", "no hold tag", "op"],
      ["protectedTag", "pass", "no env=prod tag", "op2"],
    ]);
  });

  it("a deletable version: every check passes, and the budgets are named", () => {
    const x = explain([keep(), version("old")], {});
    expect(x.decision).toBe("delete");
    expect(rows(x)).toEqual([
      ...staticWith(),
      ["tagsUnreadable", "pass", "no check needs its tags"],
      ...HOLDS_PASS,
      ["budgets", "pass", "within maxDeletesPerRun 10 and maxDeletesPercent 100"],
    ]);
  });

  it("a version every hold passes: marked, approved and noticed long enough ago, inside an allow window; the layers that set each threshold", () => {
    const tags = { [MARK_TAG]: formatMark(now - 100 * H), [APPROVAL_TAG]: formatMark(now - 90 * H), [NOTICE_TAG]: formatMark(now - 80 * H) };
    const origin = {
      minAge: "M",
      keepLatest: "K",
      allowEmpty: "E",
      allowedAccounts: "AA",
      allowedRegions: "R",
      nearMissGuard: "NM",
      gracePeriod: "G",
      requireApproval: "A",
      requireNotice: "N",
      windows: "W",
    };
    const pol = {
      gracePeriodMs: 72 * H,
      gracePeriod: "72h",
      requireApproval: true,
      requireNotice: true,
      windows: [{ ...freeze, kind: "allow" as const }],
      keepLatest: 1,
      origin,
    };
    const x = explain([keep(), version("old", { tags })], pol);
    expect(x.decision).toBe("delete");
    expect(rows(x)).toEqual([
      ...staticWith({ keepLatest: ["keepLatest", "pass", "not among the newest 1"] }).map((r) => {
        const layer = { minAge: "M", keepLatest: "K", allowEmpty: "E", accountNotAllowed: "AA", regionNotAllowed: "R", nearMiss: "NM" }[r[0] as string];
        return layer ? [...r, layer] : r;
      }),
      ["tagsUnreadable", "pass", "its tags were read"],
      ["gracePeriod", "pass", "marked 2026-11-24T08:00:00.000Z, 72h ago or more", "G"],
      ["noticeNotDelivered", "pass", `its \`marked\` notice reached a channel 72h ago or more (${NOTICE_TAG})`, "N"],
      ["approvalRequired", "pass", `approved after its mark (${APPROVAL_TAG})`, "A"],
      ["window", "pass", "every deletion window allows deletion now", "W"],
      ["suspended", "pass", "not suspended"],
      ["budgets", "pass", "within maxDeletesPerRun 10 and maxDeletesPercent 100"],
    ]);
  });

  it("held by every hold at once: each says why and names its layer; the mark is not written while suspended", () => {
    const pol = {
      gracePeriodMs: 72 * H,
      gracePeriod: "72h",
      requireApproval: true,
      requireNotice: true,
      windows: [freeze],
      suspend: { reason: "audit", until: now + H, origin: "operator suspend" },
      origin: { gracePeriod: "G", requireApproval: "A", requireNotice: "N", windows: "W" },
    };
    const x = explain([keep(), version("old", { tags: {} })], pol);
    expect({ decision: x.decision, mark: x.mark }).toEqual({ decision: "held", mark: undefined });
    expect(rows(x)).toEqual([
      ...staticWith(),
      ["tagsUnreadable", "pass", "its tags were read"],
      [
        "gracePeriod",
        "hold",
        `apply marks it pending deletion (${MARK_TAG}); deletable 72h after its notice reaches a channel (requireNotice) (gracePeriod 72h)`,
        "G",
      ],
      [
        "noticeNotDelivered",
        "hold",
        `once marked, its \`marked\` notice has not reached a channel yet; apply sends it, records ${NOTICE_TAG} when a channel accepts it, and ` +
          `it is deletable 72h after that`,
        "N",
      ],
      ["approvalRequired", "hold", `needs a person's approval: once apply has marked it, tag it ${APPROVAL_TAG}=<RFC 3339 UTC time after the mark>`, "A"],
      ["window", "hold", `inside the deny window "0 12 * * *" UTC for 1h (freeze); ${NEXT}`, "operator windows"],
      ["suspended", "hold", "suspended: audit (until 2026-11-28T13:00:00.000Z); nothing is deleted or marked", "operator suspend"],
    ]);
  });

  it("kept by a guard: the tag guards and holds it did not need are skipped, saying what they would have said on tags explain read itself", () => {
    const pol = {
      protectTags: [
        { key: "hold", value: "*", origin: "op" },
        { key: "env", value: "prod", origin: "op2" },
      ],
      rules: [rule("r1", true), rule("r2", false)],
      gracePeriodMs: 72 * H,
      gracePeriod: "72h",
      windows: [freeze],
    };
    const x = explain([keep(), version("old", { ageHours: 2 })], pol, { seen: { tags: { env: "prod" } } });
    const skip = "not evaluated: another check already keeps it";
    expect(x.decision).toBe("blocked");
    expect(rows(x)).toEqual([
      ...staticWith({ minAge: ["minAge", "block", "age 2h is under minAge 24h"] }),
      ["protectedTag", "skip", `${skip}; no hold tag`],
      ["protectedTag", "skip", `${skip}; it would also keep it: tagged env=prod (protectTags env: "prod")`],
      ["r1", "skip", `${skip}; it would also keep it: r1 says keep`],
      ["r2", "skip", `${skip}; rule "r2" is false for it`],
      ["gracePeriod", "skip", `${skip}; it would also hold it: apply marks it pending deletion (rekon.dev/pending-delete-since); deletable after 2026-12-01T12:00:00.000Z (gracePeriod 72h)`],
      ["noticeNotDelivered", "pass", "requireNotice off"],
      ["approvalRequired", "pass", "requireApproval off"],
      ["window", "skip", `${skip}; it would also hold it: inside the deny window "0 12 * * *" UTC for 1h (freeze); ${NEXT}`],
      ["suspended", "pass", "not suspended"],
    ]);
  });

  it("kept by a guard, tags explain could not read: says so, with the error; its own plan tags win over what explain read", () => {
    const pol = { protectTags: [{ key: "hold", value: "*", origin: "op" }], rules: [rule("r1", true)], windows: [{ ...freeze, kind: "allow" as const }] };
    const skip = "not evaluated: another check already keeps it";
    const x = explain([keep(), version("old", { ageHours: 2 })], pol, { seen: { tagsError: "AccessDenied" } });
    expect(rows(x).slice(12)).toEqual([
      ["protectedTag", "skip", `${skip}; its tags were not read (AccessDenied)`],
      ["r1", "skip", `${skip}; its tags were not read (AccessDenied)`],
      ["gracePeriod", "pass", "no grace period"],
      ["noticeNotDelivered", "pass", "requireNotice off"],
      ["approvalRequired", "pass", "requireApproval off"],
      ["window", "skip", skip],
      ["suspended", "pass", "not suspended"],
    ]);
    expect(rows(explain([keep(), version("old", { ageHours: 2 })], pol, { seen: {} })).slice(12, 13)).toEqual([
      ["protectedTag", "skip", `${skip}; its tags were not read`],
    ]);
    const planTags = explain([keep(), version("old", { ageHours: 2, tags: { hold: "x" } })], pol, { seen: { tags: {} } });
    expect(rows(planTags)[12]).toEqual(["protectedTag", "skip", `${skip}; it would also keep it: tagged hold=x (protectTags hold: "*")`]);
  });

  it("tags that could not be read: blocked by that, each tag guard skipped as unknowable (so the version is kept)", () => {
    const x = explain([keep(), version("old", { tagsError: "Throttled" })], {
      protectTags: [{ key: "hold", value: "*", origin: "op" }],
      rules: [rule("r1", false)],
    });
    expect(x.decision).toBe("blocked");
    expect(rows(x).slice(12, 15)).toEqual([
      ["tagsUnreadable", "block", "tags could not be read: Throttled; protections cannot be checked"],
      ["protectedTag", "skip", "hold: cannot be checked without its tags (so the version is kept)", "op"],
      ["r1", "skip", "cannot be evaluated without its tags (so the version is kept)", "layer of r1"],
    ]);
  });

  it("tags read: each protectTag passes or blocks on its own, and each rule says its answer", () => {
    const pol = {
      protectTags: [
        { key: "hold", value: "*", origin: "op" },
        { key: "env", value: "prod", origin: "op2" },
      ],
      rules: [rule("r1", "yes"), rule("r2", false)],
    };
    const x = explain([keep(), version("old", { tags: { hold: "1" } })], pol);
    expect(rows(x).slice(12, 17)).toEqual([
      ["tagsUnreadable", "pass", "its tags were read"],
      ["protectedTag", "block", 'tagged hold=1 (protectTags hold: "*")', "op"],
      ["protectedTag", "pass", "no env=prod tag", "op2"],
      ["r1", "block", "rule returned yes, not a bool; blocked to be safe", "layer of r1"],
      ["r2", "pass", 'rule "r2" is false for it', "layer of r2"],
    ]);
  });

  it("a refused run: the refusals keep what would go; without allowedAccounts, apply's own refusal is named and no account check is shown", () => {
    const x = explain([keep(), version("old")], { allowedAccounts: [] }, { refusals: [{ rule: "manifestsStale", message: "stale", layer: "controller" }] });
    expect(x.decision).toBe("refused");
    expect(rows(x)).toEqual([
      ...staticWith().filter((r) => r[0] !== "accountNotAllowed"),
      ["tagsUnreadable", "pass", "no check needs its tags"],
      ...HOLDS_PASS,
      ["manifestsStale", "block", "stale", "controller"],
      [
        "accountNotAllowed",
        "block",
        "no allowedAccounts in the operator's DeletionPolicy (test-policy): plan lists deletions, apply refuses every write until it names the accounts",
      ],
    ]);
    // A version some check keeps anyway shows its own reasons, not the run's.
    expect(
      rows(explain([keep(), version("old", { ageHours: 1 })], {}, { refusals: [{ rule: "manifestsStale", message: "stale" }] })).map((r) => r[0]),
    ).not.toContain("manifestsStale");
  });

  it("a version its own set lists: kept, one check; its old mark goes", () => {
    const x = explain([version("keep", { tags: { [MARK_TAG]: "x" } }), version("old")], {}, { of: "keep" });
    expect(x).toEqual({
      decision: "keep",
      checks: [{ rule: "listed", verdict: "keep", detail: 'listed by its own ProjectVersionSet "p1-set" (m.yaml:1:1)' }],
      mark: "remove",
    });
    expect(explain([version("keep", { tags: {} }), version("old")], {}, { of: "keep" })).not.toHaveProperty("mark");
  });

  it("RUNNING under stopRunning, not among the newest two, regions enforced, near misses off: stop then delete", () => {
    const vs = [keep(), version("n1", { ageHours: 3 }), version("n2", { ageHours: 4 }), version("old", { status: "RUNNING" })];
    const x = explain(
      vs,
      { stopRunning: true, keepLatest: 2, allowEmpty: true, allowedRegions: ["us-east-1"], enforceRegions: true, nearMissGuard: false },
      { listed: ["keep", "x1"] },
    );
    expect(x.decision).toBe("stop then delete");
    expect(rows(x)).toEqual([
      ...staticWith({
        unknownStatus: ["unknownStatus", "pass", "RUNNING is one of the 14 documented statuses"],
        inUse: ["inUse", "pass", "RUNNING, and stopRunning lets rekon stop it first"],
        keepLatest: ["keepLatest", "pass", "not among the newest 2"],
        allowEmpty: ["allowEmpty", "pass", "allowEmpty: true"],
        regionNotAllowed: ["regionNotAllowed", "pass", "us-east-1 is in allowedRegions [us-east-1]"],
        nearMiss: ["nearMiss", "pass", "nearMissGuard off"],
      }),
      ["tagsUnreadable", "pass", "no check needs its tags"],
      ...HOLDS_PASS,
      ["budgets", "pass", "within maxDeletesPerRun 10 and maxDeletesPercent 100"],
    ]);
  });

  it("held by its grace period alone: held, the mark to add, and when it becomes deletable", () => {
    const x = explain([keep(), version("old", { tags: {} })], { gracePeriodMs: 72 * H, gracePeriod: "72h" });
    expect({ decision: x.decision, mark: x.mark, deletableAt: x.deletableAt }).toEqual({
      decision: "held",
      mark: "add",
      deletableAt: "2026-12-01T12:00:00.000Z",
    });
    expect(x.checks.find((c) => c.rule === "gracePeriod")).toEqual({
      rule: "gracePeriod",
      verdict: "hold",
      detail: `apply marks it pending deletion (${MARK_TAG}); deletable after 2026-12-01T12:00:00.000Z (gracePeriod 72h)`,
    });
    // A refused run adds no mark.
    expect(
      explain(
        [keep(), version("old", { tags: {} })],
        { gracePeriodMs: 72 * H, gracePeriod: "72h" },
        { refusals: [{ rule: "manifestsStale", message: "stale" }] },
      ),
    ).not.toHaveProperty("mark");
  });
});
