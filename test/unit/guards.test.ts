// The guards one by one, as tables: for each, the candidate it keeps (its rule id and the key words of its
// message, which plans, logs and alerts show) and the one it lets through, at the edges where an
// off-by-one would delete what the policy protects.
import { describe, expect, it } from "vitest";
import type { CustomRuleName } from "../../reconciler/rules.js";
import {
  accountNotAllowed,
  allowEmpty,
  copySource,
  copySourceUnknown,
  evaluateGuards,
  evaluateTagGuards,
  formatMark,
  formatNotice,
  inUse,
  keepLatest,
  APPROVAL_TAG,
  MARK_TAG,
  MARK_TAGS,
  NOTICE_TAG,
  REMINDER_TAG,
  minAge,
  missingProjectTags,
  nearMiss,
  needsMark,
  needsTags,
  newest,
  noticeChannelMissing,
  noticeTime,
  parseMark,
  regionNotAllowed,
  someListedExists,
  stoppable,
  tagMatches,
  unknownStatus,
  type Candidate,
} from "../../reconciler/policy/guards.js";
import type { CompiledRule, LiveVersion, NotificationChannel, Policy } from "../../reconciler/types.js";
import { ACCOUNT, liveProject, NOW, policy, set, version } from "../helpers/builders.js";

const now = NOW.getTime();
const H = 3_600_000;
const M = 60_000;

/** A candidate every guard lets through unless the row changes it. */
function candidate(
  o: {
    v?: Partial<LiveVersion> & { ageHours?: number };
    pol?: Partial<Policy>;
    listed?: string[];
    latest?: string[];
    copySources?: string[];
    incomplete?: string;
    listedExists?: boolean;
    projectTags?: Record<string, string>;
  } = {},
): Candidate {
  const v = version("old", { ageHours: 1000, ...o.v });
  const keep = version("keep", { ageHours: 1 });
  const project = { ...liveProject([keep, v]), ...(o.projectTags ? { tags: o.projectTags } : {}) };
  return {
    version: v,
    project,
    set: set("p1", o.listed ?? ["keep"]),
    policy: policy({ minAgeMs: 24 * H, minAge: "24h", ...o.pol }),
    now,
    latest: new Set(o.latest ?? []),
    copySources: new Set(o.copySources ?? []),
    ...(o.incomplete ? { copySourcesIncomplete: o.incomplete } : {}),
    ...(o.listedExists !== undefined ? { listedExists: o.listedExists } : {}),
  };
}

describe("each guard: what it keeps, and what it lets through", () => {
  it.each([
    {
      name: "a status rekon does not know",
      guard: unknownStatus,
      c: () => candidate({ v: { status: "HIBERNATING" } }),
      rule: "unknownStatus",
      words: ["status HIBERNATING is not one rekon knows"],
    },
    { name: "every documented status is known", guard: unknownStatus, c: () => candidate({ v: { status: "EXPIRED" } }) },
    {
      name: "RUNNING",
      guard: inUse,
      c: () => candidate({ v: { status: "RUNNING" } }),
      rule: "inUse",
      words: ["status RUNNING: stop the model first", "stopRunning: true"],
    },
    { name: "DELETING", guard: inUse, c: () => candidate({ v: { status: "DELETING" } }), rule: "inUse", words: ["already DELETING"] },
    {
      name: "TRAINING_IN_PROGRESS",
      guard: inUse,
      c: () => candidate({ v: { status: "TRAINING_IN_PROGRESS" } }),
      rule: "inUse",
      words: ["status TRAINING_IN_PROGRESS: wait until it settles"],
    },
    { name: "STARTING", guard: inUse, c: () => candidate({ v: { status: "STARTING" } }), rule: "inUse", words: ["status STARTING: wait"] },
    { name: "STOPPING", guard: inUse, c: () => candidate({ v: { status: "STOPPING" } }), rule: "inUse", words: ["status STOPPING: wait"] },
    {
      name: "COPYING_IN_PROGRESS",
      guard: inUse,
      c: () => candidate({ v: { status: "COPYING_IN_PROGRESS" } }),
      rule: "inUse",
      words: ["status COPYING_IN_PROGRESS: wait"],
    },
    {
      name: "RUNNING Custom Labels under stopRunning: stopped first, not kept",
      guard: inUse,
      c: () => candidate({ v: { status: "RUNNING" }, pol: { stopRunning: true } }),
    },
    {
      name: "RUNNING Content Moderation under stopRunning: cannot be stopped, kept",
      guard: inUse,
      c: () => candidate({ v: { status: "RUNNING", feature: "CONTENT_MODERATION" }, pol: { stopRunning: true } }),
      rule: "inUse",
      words: ["status RUNNING"],
    },
    { name: "STOPPED is not in use", guard: inUse, c: () => candidate({ v: { status: "STOPPED" } }) },
    { name: "FAILED is not in use", guard: inUse, c: () => candidate({ v: { status: "FAILED" } }) },
    {
      name: "the source of a copy in progress",
      guard: copySource,
      c: () => candidate({ copySources: [version("old", { ageHours: 1000 }).arn] }),
      rule: "copySource",
      words: ["source of a copy still in progress"],
    },
    { name: "no copy of it", guard: copySource, c: () => candidate({ copySources: ["arn:other"] }) },
    {
      name: "a project of its region was not read",
      guard: copySourceUnknown,
      c: () => candidate({ incomplete: "project q could not be read" }),
      rule: "copySourceUnknown",
      words: ["whether a copy of it is in progress is unknown: project q could not be read"],
    },
    // Known to be a copy's source: copySource says so, and "unknown" would be noise.
    {
      name: "unread projects, but already known as a source",
      guard: copySourceUnknown,
      c: () => candidate({ incomplete: "x", copySources: [version("old", { ageHours: 1000 }).arn] }),
    },
    { name: "everything read", guard: copySourceUnknown, c: () => candidate() },
    { name: "younger than minAge", guard: minAge, c: () => candidate({ v: { ageHours: 23 } }), rule: "minAge", words: ["age 23h is under minAge 24h"] },
    {
      name: "created in the future (a skewed clock): age 0",
      guard: minAge,
      c: () => candidate({ v: { createdAt: now + H } }),
      rule: "minAge",
      words: ["age 0s is under minAge 24h"],
    },
    { name: "exactly minAge old", guard: minAge, c: () => candidate({ v: { createdAt: now - 24 * H } }) },
    {
      name: "among the newest",
      guard: keepLatest,
      c: () => candidate({ latest: [version("old", { ageHours: 1000 }).arn], pol: { keepLatest: 2 } }),
      rule: "keepLatest",
      words: ["among the newest 2 version(s) of the project"],
    },
    { name: "not among the newest", guard: keepLatest, c: () => candidate({ latest: ["arn:other"], pol: { keepLatest: 2 } }) },
    {
      name: "an empty list",
      guard: allowEmpty,
      c: () => candidate({ listed: [] }),
      rule: "allowEmpty",
      words: ['ProjectVersionSet "p1-set" lists no versions', "allowEmpty: true"],
    },
    { name: "an empty list under allowEmpty", guard: allowEmpty, c: () => candidate({ listed: [], pol: { allowEmpty: true } }) },
    {
      name: "one listed name, none exists",
      guard: allowEmpty,
      c: () => candidate({ listed: ["nope"] }),
      rule: "allowEmpty",
      words: ["none of the 1 listed version of ProjectVersionSet", "a typo is not a request to delete everything"],
    },
    {
      name: "two listed names, none exists",
      guard: allowEmpty,
      c: () => candidate({ listed: ["nope", "nada"] }),
      rule: "allowEmpty",
      words: ["none of the 2 listed versions of"],
    },
    {
      name: "the plan's answer: none exists",
      guard: allowEmpty,
      c: () => candidate({ listedExists: false }),
      rule: "allowEmpty",
      words: ["none of the 1 listed version"],
    },
    { name: "the plan's answer: one exists", guard: allowEmpty, c: () => candidate({ listed: ["nope"], listedExists: true }) },
    { name: "a listed name exists", guard: allowEmpty, c: () => candidate() },
    {
      name: "an account not allowed",
      guard: accountNotAllowed,
      c: () => candidate({ v: { account: "999999999999" } }),
      rule: "accountNotAllowed",
      words: [`account 999999999999 is not in allowedAccounts [${ACCOUNT}]`],
    },
    { name: "an allowed account", guard: accountNotAllowed, c: () => candidate() },
    {
      name: "an account not in a list of two",
      guard: accountNotAllowed,
      c: () => candidate({ v: { account: "999999999999" }, pol: { allowedAccounts: ["111111111111", "222222222222"] } }),
      rule: "accountNotAllowed",
      words: ["account 999999999999 is not in allowedAccounts [111111111111, 222222222222]"],
    },
    {
      name: "no allowedAccounts yet: not enforced here (apply refuses as a whole)",
      guard: accountNotAllowed,
      c: () => candidate({ v: { account: "999999999999" }, pol: { allowedAccounts: [] } }),
    },
    {
      name: "a region not allowed",
      guard: regionNotAllowed,
      c: () => candidate({ pol: { allowedRegions: ["eu-west-1"], enforceRegions: true } }),
      rule: "regionNotAllowed",
      words: ["region us-east-1 is not in allowedRegions [eu-west-1]"],
    },
    {
      name: "a region not in a list of two",
      guard: regionNotAllowed,
      c: () => candidate({ pol: { allowedRegions: ["eu-west-1", "eu-central-1"], enforceRegions: true } }),
      rule: "regionNotAllowed",
      words: ["region us-east-1 is not in allowedRegions [eu-west-1, eu-central-1]"],
    },
    { name: "an allowed region", guard: regionNotAllowed, c: () => candidate({ pol: { allowedRegions: ["us-east-1"], enforceRegions: true } }) },
    { name: "regions not enforced", guard: regionNotAllowed, c: () => candidate({ pol: { allowedRegions: ["eu-west-1"], enforceRegions: false } }) },
  ])("$name", ({ guard, c, rule, words }) => {
    const r = guard(c());
    if (!rule) return expect(r).toBeUndefined();
    expect(r?.rule).toBe(rule);
    for (const w of words ?? []) expect(r!.message).toContain(w);
  });

  it("a reason names the layer whose setting fired", () => {
    const c = candidate({
      v: { ageHours: 1 },
      pol: { origin: { minAge: 'manifest policy "strict" (m.yaml)', keepLatest: "L", allowEmpty: "E", allowedAccounts: "A", allowedRegions: "R" } },
    });
    expect(minAge(c)).toMatchObject({ rule: "minAge", layer: 'manifest policy "strict" (m.yaml)' });
    expect(keepLatest({ ...c, latest: new Set([c.version.arn]) })).toMatchObject({ layer: "L" });
    expect(allowEmpty({ ...c, set: set("p1", []) })).toMatchObject({ layer: "E" });
    expect(allowEmpty({ ...c, set: set("p1", ["nope"]) })).toMatchObject({ layer: "E" });
    expect(accountNotAllowed({ ...c, version: { ...c.version, account: "9" } })).toMatchObject({ layer: "A" });
    expect(regionNotAllowed({ ...c, policy: { ...c.policy, enforceRegions: true, allowedRegions: [] } })).toMatchObject({ layer: "R" });
    expect(minAge(candidate({ v: { ageHours: 1 } }))).not.toHaveProperty("layer");
  });

  it("every guard runs on every candidate, in a fixed order, so a plan shows all that fired", () => {
    const c = candidate({ v: { status: "RUNNING", ageHours: 1, account: "999999999999" }, listed: [], latest: [version("old").arn] });
    expect(evaluateGuards({ ...c, latest: new Set([c.version.arn]) }).map((r) => r.rule)).toEqual([
      "inUse",
      "minAge",
      "keepLatest",
      "allowEmpty",
      "accountNotAllowed",
    ]);
    expect(evaluateGuards(candidate())).toEqual([]);
  });

  it("a listed version that is DELETING does not show that the list is meant", () => {
    const p = liveProject([version("keep", { status: "DELETING" }), version("old")]);
    expect(someListedExists(set("p1", ["keep"]), p)).toBe(false);
    expect(someListedExists(set("p1", ["keep", "old"]), p)).toBe(true);
    expect(someListedExists(set("p1", []), p)).toBe(false);
  });
});

describe("tag guards: a protection that cannot be checked counts as present", () => {
  const rule = (name: string, answer: () => unknown): CompiledRule => ({
    name: name as CustomRuleName,
    deny: "…",
    message: `${name} says keep`,
    origin: `layer of ${name}`,
    evaluate: answer,
  });
  const tagged = (tags: Record<string, string> | undefined, pol: Partial<Policy>, o: { tagsError?: string; projectTags?: Record<string, string> } = {}) =>
    evaluateTagGuards(
      candidate({
        v: { ...(tags ? { tags } : {}), ...(o.tagsError ? { tagsError: o.tagsError } : {}) },
        pol,
        ...(o.projectTags ? { projectTags: o.projectTags } : {}),
      }),
    );

  it.each([
    { name: "true keeps it, with the rule's message", answer: () => true, message: "r says keep" },
    { name: "a string keeps it (not a bool)", answer: () => "yes", message: "rule returned yes, not a bool; blocked to be safe" },
    { name: "a number keeps it (not a bool)", answer: () => 0, message: "rule returned 0, not a bool; blocked to be safe" },
    { name: "null keeps it (not a bool)", answer: () => null, message: "rule returned null, not a bool; blocked to be safe" },
    { name: 'the string "false" keeps it (not a bool)', answer: () => "false", message: "rule returned false, not a bool; blocked to be safe" },
    {
      name: "an evaluation error keeps it",
      answer: () => {
        throw new Error("no such key: team\n  at line 1");
      },
      message: "rule could not be evaluated (no such key: team); blocked to be safe",
    },
    { name: "false lets it through", answer: () => false },
  ])("a custom rule: $name", ({ answer, message }) => {
    const got = tagged({}, { rules: [rule("r", answer)] });
    expect(got).toEqual(message ? [{ rule: "r", message, layer: "layer of r" }] : []);
  });

  it("every rule is evaluated, and each that keeps it is listed under its own name", () => {
    const got = tagged({}, { rules: [rule("a", () => true), rule("b", () => false), rule("c", () => 1)] });
    expect(got.map((r) => r.rule)).toEqual(["a", "c"]);
  });

  it("a rule sees the version, its project (with tags only when read) and the time", () => {
    let seen: Record<string, unknown> = {};
    const c = candidate({
      v: { tags: { team: "risk" } },
      pol: { rules: [{ ...rule("r", () => false), evaluate: (ctx) => ((seen = ctx), false) }] },
      projectTags: { owner: "ml" },
    });
    evaluateTagGuards(c);
    expect(seen).toMatchObject({
      version: { name: "old", status: "STOPPED", tags: { team: "risk" } },
      project: { name: "p1", tags: { owner: "ml" } },
      now: new Date(now),
    });
    const d = candidate({ v: { tags: {} }, pol: { rules: [{ ...rule("r", () => false), evaluate: (ctx) => ((seen = ctx), false) }] } });
    evaluateTagGuards({ ...d, project: { ...d.project, projectArn: undefined } as never });
    expect(seen).toMatchObject({ project: { name: "p1", arn: "" } });
    expect((seen.project as Record<string, unknown>).tags).toBeUndefined();
  });

  it.each([
    { name: "protected by key and value", tags: { hold: "yes" }, protect: { key: "hold", value: "yes" }, words: 'tagged hold=yes (protectTags hold: "yes")' },
    { name: "protected by key, any value", tags: { hold: "" }, protect: { key: "hold", value: "*" }, words: 'tagged hold= (protectTags hold: "*")' },
    { name: "another value", tags: { hold: "no" }, protect: { key: "hold", value: "yes" } },
    { name: "no such tag", tags: {}, protect: { key: "hold", value: "*" } },
    // An inherited property is not a tag: `"constructor" in {}` is true, a tag named constructor is not there.
    { name: "a key only on the prototype is no tag", tags: {}, protect: { key: "constructor", value: "*" } },
  ])("protectTags: $name", ({ tags, protect, words }) => {
    const got = tagged(tags as Record<string, string>, { protectTags: [{ ...protect, origin: "op" }] });
    expect(got).toEqual(words ? [{ rule: "protectedTag", message: words, layer: "op" }] : []);
  });

  it("tags that were not read keep the version, with the read error when there is one; a policy that needs no tags does not ask", () => {
    expect(tagged(undefined, { gracePeriodMs: H })).toEqual([{ rule: "tagsUnreadable", message: "tags could not be read; protections cannot be checked" }]);
    expect(tagged(undefined, { gracePeriodMs: H }, { tagsError: "AccessDenied" })).toEqual([
      { rule: "tagsUnreadable", message: "tags could not be read: AccessDenied; protections cannot be checked" },
    ]);
    expect(tagged(undefined, { protectTags: [{ key: "hold", value: "*", origin: "op" }] })[0]?.rule).toBe("tagsUnreadable");
    expect(tagged(undefined, { rules: [rule("r", () => false)] })[0]?.rule).toBe("tagsUnreadable");
    expect(tagged(undefined, {})).toEqual([]);
  });

  it.each([
    { pol: {}, mark: false, tags: false },
    { pol: { gracePeriodMs: 1 }, mark: true, tags: true },
    { pol: { requireApproval: true }, mark: true, tags: true },
    { pol: { requireNotice: true }, mark: true, tags: true },
    { pol: { protectTags: [{ key: "k", value: "*", origin: "o" }] }, mark: false, tags: true },
    { pol: { rules: [rule("r", () => false)] }, mark: false, tags: true },
  ])("needsMark / needsTags for $pol", ({ pol, mark, tags }) => {
    expect(needsMark(policy(pol))).toBe(mark);
    expect(needsTags(policy(pol))).toBe(tags);
  });

  it("project ownership: the required tags the project lacks", () => {
    const pol = policy({
      requireProjectTag: [
        { key: "owner", value: "ml", origin: "o" },
        { key: "managed", value: "*", origin: "o" },
      ],
    });
    expect(missingProjectTags(pol, { owner: "ml", managed: "" })).toEqual([]);
    expect(missingProjectTags(pol, { owner: "other", managed: "yes" }).map((t) => t.key)).toEqual(["owner"]);
    expect(missingProjectTags(pol, {}).map((t) => t.key)).toEqual(["owner", "managed"]);
    expect(tagMatches({ a: "b" }, { key: "a", value: "c", origin: "" })).toBe(false);
  });
});

describe("marks, notices and their times", () => {
  it("the tag names people and scripts rely on (README: Grace period, Approval, Notifications)", () => {
    expect([MARK_TAG, APPROVAL_TAG, NOTICE_TAG, REMINDER_TAG, ...MARK_TAGS]).toEqual([
      "rekon.dev/pending-delete-since",
      "rekon.dev/deletion-approved",
      "rekon.dev/notice-delivered-at",
      "rekon.dev/reminder-sent-at",
      "rekon.dev/pending-delete-since",
      "rekon.dev/notice-delivered-at",
      "rekon.dev/reminder-sent-at",
    ]);
  });

  it.each([
    { name: "exactly 5 minutes ahead: clock skew, accepted", value: formatMark(now + 5 * M), want: now + 5 * M },
    { name: "a second more: refused", value: formatMark(now + 5 * M + 1000), want: undefined },
    { name: "no tag", value: undefined, want: undefined },
  ])("parseMark: $name", ({ value, want }) => {
    expect(parseMark(value, now)).toBe(want);
  });

  it.each([
    { name: "at the mark: counts", value: formatMark(now - H), since: now - H, want: now - H },
    { name: "after the mark: counts", value: formatMark(now - H), since: now - 2 * H, want: now - H },
    { name: "before the mark (of an earlier one): does not", value: formatMark(now - H - 1000), since: now - H, want: undefined },
    { name: "no mark: nothing counts", value: formatMark(now - H), since: undefined, want: undefined },
    { name: "not a strict time: does not", value: "2026-11-28T11:00:00+00:00", since: now - 2 * H, want: undefined },
  ])("noticeTime: $name", ({ value, since, want }) => {
    expect(noticeTime(value, since, now)).toBe(want);
  });

  it("a notice time is rounded up (never earlier than the delivery), a mark down, to whole seconds", () => {
    expect(formatNotice(Date.parse("2026-11-28T12:00:00.001Z"))).toBe("2026-11-28T12:00:01Z");
    expect(formatNotice(Date.parse("2026-11-28T12:00:00.000Z"))).toBe("2026-11-28T12:00:00Z");
    expect(formatMark(Date.parse("2026-11-28T12:00:00.999Z"))).toBe("2026-11-28T12:00:00Z");
  });

  it("requireNotice needs a channel that gets `marked`", () => {
    const ch = (events: NotificationChannel["events"]): NotificationChannel => ({ name: "c", url: { fromEnv: "X" }, format: "json", events, origin: "o" });
    expect(noticeChannelMissing([])).toBe(true);
    expect(noticeChannelMissing([ch(["deleted"])])).toBe(true);
    expect(noticeChannelMissing([ch(["deleted"]), ch(["marked"])])).toBe(false);
  });

  it("stoppable: only a RUNNING Custom Labels version, only under stopRunning", () => {
    expect(stoppable(version("a", { status: "RUNNING" }), policy({ stopRunning: true }))).toBe(true);
    expect(stoppable(version("a", { status: "RUNNING" }), policy({ stopRunning: false }))).toBe(false);
    expect(stoppable(version("a", { status: "STOPPED" }), policy({ stopRunning: true }))).toBe(false);
    expect(stoppable(version("a", { status: "RUNNING", feature: "CONTENT_MODERATION" }), policy({ stopRunning: true }))).toBe(false);
  });
});

describe("near misses and the newest versions", () => {
  it.each([
    ["v5", "v5", false],
    ["V5", "v5", true],
    ["v5 ", "v5", true],
    [" v5", "v5", true],
    ["v5", "v6", true],
    ["v5", "v55", true],
    ["v55", "v5", true],
    ["xv5", "v5", true],
    ["v5", "v567", false],
    ["abc", "axc", true],
    ["abc", "xbx", false],
    ["abcd", "abdc", false],
    ["ab", "ba", false],
    ["abc", "ab", true],
    ["abc", "bc", true],
    ["abc", "ac", true],
    ["abc", "abcd", true],
    ["abcd", "acbd", false],
    // Only case or only spaces, more than one edit away.
    ["ABC", "abc", true],
    ["abc", "ABC", true],
    ["  v5  ", "v5", true],
    ["ABC", "abd", false],
  ])("nearMiss(%j, %j) = %s", (listed, live, want) => {
    expect(nearMiss(listed, live)).toBe(want);
  });

  it("newest: by creation time, the ARN breaking ties, DELETING ones left out; none for n ≤ 0", () => {
    const t = now - 100 * H;
    const a = version("a", { createdAt: t, arn: "arn:a" });
    const b = version("b", { createdAt: t, arn: "arn:b" });
    const c = version("c", { createdAt: t - H, arn: "arn:c" });
    const d = version("d", { createdAt: t + H, arn: "arn:d", status: "DELETING" });
    expect([...newest([c, b, a, d], 1)]).toEqual(["arn:a"]);
    expect([...newest([c, b, a, d], 2)].sort()).toEqual(["arn:a", "arn:b"]);
    expect([...newest([b, c, d, a], 3)].sort()).toEqual(["arn:a", "arn:b", "arn:c"]);
    expect([...newest([a, b], 0)]).toEqual([]);
    expect([...newest([a, b], -1)]).toEqual([]);
    expect([...newest([a, a], 1)]).toEqual(["arn:a"]);
    // Whatever order the project lists them in, a tie is broken the same way.
    for (const order of [
      [a, b],
      [b, a],
      [b, c, a],
      [c, a, b],
    ])
      expect([...newest(order, 1)]).toEqual(["arn:a"]);
  });
});
