// The gate against the independent reference model (reference.ts), over generated worlds: sets sharing a
// project through ambient and role credentials, several roles, regions and accounts, the same project name
// in several of them, read failures of arbitrary projects and tag reads, projects answered from an account
// other than the one STS resolved, malformed marks, copies across projects, manifest policy layers that
// tighten the operator's for some projects, required project tags, custom CEL rules (true, false, failing,
// not a bool), and deletion windows around daylight-saving changes; then approvals at the last look on
// changed facts; then signals in the middle of an apply against the emulator. Plans are compared with the
// reference rule id by rule id, for every version, not only on the final decision.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CustomRuleName } from "../../reconciler/rules.js";
import type { EmulatorStateFile } from "../../reconciler/emulator/server.js";
import { Gate, type Look } from "../../reconciler/gate/index.js";
import { compileRule } from "../../reconciler/policy/cel.js";
import { DEFAULT_POLICY } from "../../reconciler/policy/defaults.js";
import { planWith } from "../../reconciler/plan.js";
import type {
  CompiledRule,
  DeletionWindow,
  DesiredSet,
  IdentityFact,
  LiveProject,
  LiveState,
  LiveVersion,
  NotificationChannel,
  Policy,
  PolicySet,
  ScopedPolicy,
  TagRule,
} from "../../reconciler/types.js";
import {
  refCandidates,
  refDeletable,
  refDeletionAllowed,
  refNotices,
  refPolicyFor,
  refReasons,
  refRuleOutcome,
  refToMark,
  refToUnmark,
  type RefLayer,
  type RefPolicy,
  type RefRule,
  type RefRuleKind,
  type RefTag,
  type RefWindow,
  type RefWorld,
} from "./reference.js";

// REKON_PROPERTY_RUNS bounds every property here (a mutation run sets it low: each surviving mutant runs them all).
const RUNS = Number(process.env.REKON_PROPERTY_RUNS ?? 300);
const NOW = Date.parse("2026-11-28T12:00:00Z");
const M = 60_000;
const H = 3_600_000;
const A1 = "111111111111";
const A2 = "222222222222";
/** An account no credentials resolve to: a project answered from it is not the project the set meant. */
const A3 = "333333333333";
const SOURCES = ["ambient", `arn:aws:iam::${A1}:role/same-as-ambient`, `arn:aws:iam::${A2}:role/other`];
const REGIONS = ["us-east-1", "eu-west-1"];
const PROJECTS = ["alpha", "beta", "gamma"];
const NAMES = ["v0", "v1", "v2", "v3", "v4", "v5"];
// Weighted towards deletable statuses, so that most worlds have something to delete (and so something to get wrong).
const STATUSES = [
  "STOPPED",
  "STOPPED",
  "STOPPED",
  "STOPPED",
  "FAILED",
  "FAILED",
  "TRAINING_COMPLETED",
  "TRAINING_COMPLETED",
  "RUNNING",
  "TRAINING_IN_PROGRESS",
  "DELETING",
  "COPYING_IN_PROGRESS",
  "COPYING_IN_PROGRESS",
  "COPYING_COMPLETED",
  "DEPRECATED",
  "EXPIRED",
  "HIBERNATING",
];
const MARK = "rekon.dev/pending-delete-since";
const NOTICE = "rekon.dev/notice-delivered-at";
const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z");
// Deletion windows, chosen so that "open now" is plain from the schedule: every hour for two hours (always
// open), Feb 29 at midnight for an hour (not open on any time generated), both kinds, in UTC and a zone
// with DST. Windows around DST changes have their own property below.
const ALWAYS = { schedule: "0 * * * *", durationMs: 2 * H, timeZone: "Europe/Berlin" };
const LEAP_DAY = { schedule: "0 0 29 2 *", durationMs: H, timeZone: "UTC" };
const WINDOW_SETS: RefWindow[][] = [
  [],
  [],
  [],
  [{ kind: "deny", ...ALWAYS }],
  [{ kind: "deny", ...LEAP_DAY }],
  [{ kind: "allow", ...ALWAYS }],
  [{ kind: "allow", ...LEAP_DAY }],
  [
    { kind: "allow", ...ALWAYS },
    { kind: "deny", ...ALWAYS },
  ],
];
// Marks, approvals and notices as offsets from the world's time (hours), or fixed strings that are no time.
const MARK_VALUES: (number | string)[] = [-100, -2, 24, "12", "2025", "1", "2026-02-30T00:00:00Z", "2026-11-01T00:00:00+00:00"];
// Notices before, at and after the marks above, older and younger than the grace periods, and malformed.
const NOTICE_VALUES: (number | string)[] = [...MARK_VALUES, -120, -80, -90, -3, -1.5, -0.5, "2026-11-28T10:00:00Zx"];
const timeValue = (v: number | string, now: number) => (typeof v === "number" ? iso(now + v * H) : v);
const pos = { file: "m.yaml", line: 1, col: 1 };
/** Mostly absent: a layer sets few fields. */
const some = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });

// ---- custom rules: the CEL each kind stands for (the reference evaluates the kind by hand) ----

const CEL: Record<Exclude<RefRuleKind, "nonBool">, string> = {
  failed: 'version.status == "FAILED"',
  young: "version.ageHours < 240.0",
  holdNo: '"hold" in version.tags && version.tags["hold"] == "no"',
  missingKey: 'version.tags["team"] == "risk"',
  projectOwner: 'project.tags["owner"] == "ml"',
  never: 'version.name == "nothing-is-called-this"',
};
const RULE_KINDS = [...Object.keys(CEL), "nonBool"] as RefRuleKind[];
const compiledRules = new Map<string, CompiledRule>();
function compiled(r: RefRule, origin: string): CompiledRule {
  const k = `${r.name}|${origin}`;
  let c = compiledRules.get(k);
  if (!c) {
    if (r.kind === "nonBool") {
      // The type checker only lets bool expressions in; this stands for an evaluator that answers otherwise anyway.
      c = { name: r.name as CustomRuleName, deny: "a rule answering a string", message: `${r.kind} matched`, origin, evaluate: () => "yes" };
    } else {
      const got = compileRule({ name: r.name, deny: CEL[r.kind], message: `${r.kind} matched` }, origin);
      if ("error" in got) throw new Error(`${r.kind}: ${got.error}`);
      c = got;
    }
    compiledRules.set(k, c);
  }
  return c;
}
const rulesArb = (prefix: string) =>
  fc.subarray(RULE_KINDS, { maxLength: 3 }).map((kinds) => kinds.map((kind): RefRule => ({ name: `${prefix}-${kind}`, kind })));

// ---- generators ----

const policyArb = (now: number, windows: fc.Arbitrary<RefWindow[]> = fc.constantFrom(...WINDOW_SETS)): fc.Arbitrary<RefPolicy> =>
  fc
    .record({
      allowedAccounts: fc.constantFrom<string[]>([A1, A2], [A1, A2], [A1, A2], [A1], [A2]),
      allowedRegions: fc.constantFrom<string[]>([], [], [], ["us-east-1"]),
      minAgeMs: fc.constantFrom(0, 24 * H),
      keepLatest: fc.constantFrom(0, 0, 1, 2),
      maxDeletesPerRun: fc.constantFrom(3, 100),
      allowEmpty: fc.boolean(),
      stopRunning: fc.boolean(),
      protectTags: fc.constantFrom<RefTag[]>([], [{ key: "hold", value: "*" }], [{ key: "hold", value: "yes" }]),
      requireProjectTag: fc.constantFrom<RefTag[]>([], [], [], [], [{ key: "owner", value: "*" }], [{ key: "owner", value: "ml" }]),
      rules: fc.oneof({ weight: 3, arbitrary: fc.constant([] as RefRule[]) }, { weight: 1, arbitrary: rulesArb("rule") }),
      gracePeriodMs: fc.constantFrom(0, 0, 72 * H, 1 * H),
      maxDeletesPercent: fc.constantFrom(100, 100, 100, 50),
      requireApproval: fc.constantFrom(false, false, false, true),
      requireNotice: fc.constantFrom(false, false, true),
      notify: fc.boolean(),
      nearMissGuard: fc.constantFrom(true, true, true, false),
      windows,
      suspend: fc.constantFrom(undefined, undefined, undefined, undefined, undefined, undefined, { until: now + H }, { until: now - H }, {}),
    })
    .map((p) => {
      const out: RefPolicy = { ...p };
      if (p.suspend === undefined) delete out.suspend;
      return out;
    });

/** A manifest DeletionPolicy: a few fields each, some of which would loosen (validation refuses those; the gate must ignore them). */
const layersArb = (now: number): fc.Arbitrary<RefLayer[]> =>
  fc
    .oneof(
      { weight: 2, arbitrary: fc.constant([]) },
      {
        weight: 3,
        arbitrary: fc.array(
          fc.record({
            projects: fc.subarray(PROJECTS, { minLength: 1 }),
            allowedAccounts: some(fc.constantFrom([A1], [A2], [A1, A2])),
            allowedRegions: some(fc.constantFrom(["us-east-1"], ["eu-west-1", "us-east-1"])),
            minAgeMs: some(fc.constantFrom(0, 48 * H, 500 * H)),
            keepLatest: some(fc.constantFrom(0, 1, 3)),
            maxDeletesPerRun: some(fc.constantFrom(1, 2, 50)),
            allowEmpty: some(fc.boolean()),
            stopRunning: some(fc.boolean()),
            protectTags: some(fc.constantFrom<RefTag[]>([{ key: "hold", value: "no" }], [{ key: "layer", value: "*" }])),
            requireProjectTag: some(
              fc.constantFrom<RefTag[]>([{ key: "owner", value: "*" }], [{ key: "owner", value: "ml" }], [{ key: "tier", value: "gold" }]),
            ),
            rules: some(rulesArb("layer")),
            gracePeriodMs: some(fc.constantFrom(0, H, 72 * H)),
            // An allow window in a layer would open time the operator did not: the gate takes deny windows only.
            windows: some(fc.constantFrom<RefWindow[]>([{ kind: "deny", ...ALWAYS }], [{ kind: "deny", ...LEAP_DAY }], [{ kind: "allow", ...ALWAYS }])),
            maxDeletesPercent: some(fc.constantFrom(30, 100)),
            requireApproval: some(fc.boolean()),
            nearMissGuard: some(fc.boolean()),
            requireNotice: some(fc.boolean()),
            notify: some(fc.boolean()),
            suspend: some(fc.constantFrom({}, { until: now + H }, { until: now - H })),
          }),
          { minLength: 1, maxLength: 2 },
        ),
      },
    )
    .map((ls) =>
      ls.map((l, i) => {
        const out = { name: `layer${i}` } as RefLayer & Record<string, unknown>;
        for (const [k, v] of Object.entries(l)) if (v !== undefined) out[k] = v;
        // Rule names are unique across layers (validation).
        if (out.rules) out.rules = out.rules.map((r) => ({ ...r, name: `${out.name}-${r.kind}` }));
        return out as RefLayer;
      }),
    );

const setArb = (now: number) =>
  fc.record({
    source: fc.constantFrom(...SOURCES),
    region: fc.constantFrom(...REGIONS),
    project: fc.constantFrom(...PROJECTS),
    listed: fc.oneof(
      {
        weight: 9,
        arbitrary: fc.uniqueArray(
          fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...NAMES) }, { weight: 1, arbitrary: fc.constantFrom("V1", "v9", "v10", "x0") }),
          { minLength: 1, maxLength: 3 },
        ),
      },
      { weight: 1, arbitrary: fc.constant([] as string[]) },
    ),
    suspend: fc.constantFrom(undefined, undefined, undefined, undefined, undefined, undefined, undefined, { until: now + H }, { until: now - H }),
  });

const versionArb = fc.record({
  name: fc.constantFrom(...NAMES),
  status: fc.constantFrom(...STATUSES),
  feature: fc.constantFrom("CUSTOM_LABELS", "CUSTOM_LABELS", "CONTENT_MODERATION"),
  ageHours: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 100, max: 3000 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 100 }) }),
  foreign: fc.integer({ min: 0, max: 19 }).map((n) => n === 0),
  tags: fc.oneof(
    {
      weight: 12,
      arbitrary: fc.record({
        hold: fc.option(fc.constantFrom("yes", "no"), { nil: undefined, freq: 4 }),
        layer: fc.option(fc.constant("x"), { nil: undefined, freq: 6 }),
        mark: fc.option(fc.constantFrom(...MARK_VALUES), { nil: undefined, freq: 2 }),
        approved: fc.option(fc.constantFrom(...MARK_VALUES, -50), { nil: undefined, freq: 2 }),
        notice: fc.option(fc.constantFrom(...NOTICE_VALUES), { nil: undefined, freq: 3 }),
      }),
    },
    { weight: 1, arbitrary: fc.constant("error" as const) },
    { weight: 1, arbitrary: fc.constant("unread" as const) },
  ),
  copyOf: fc.option(fc.nat(20), { nil: undefined }),
});

/** A project as it exists in one (account, region): versions, its tags, how reading it went, and who answered. */
const projectArb = fc.record({
  read: fc.constantFrom("ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "error", "notFound"),
  versions: fc.uniqueArray(versionArb, { selector: (v) => v.name, maxLength: 6 }),
  tags: fc.constantFrom<Record<string, string>>({ owner: "ml" }, { owner: "ml" }, { owner: "ml", tier: "gold" }, { owner: "other" }, {}),
  // The answer came from another account than the one the credentials resolved to (a misrouted role, a proxy).
  foreignAnswer: fc.integer({ min: 0, max: 14 }).map((n) => n === 0),
});

function worldAt(nowArb: fc.Arbitrary<number>, windows?: (now: number) => fc.Arbitrary<RefWindow[]>): fc.Arbitrary<RefWorld> {
  return nowArb.chain((now) =>
    fc
      .record({
        sets: fc.array(setArb(now), { minLength: 1, maxLength: 3 }),
        identity: fc.record({
          ambient: fc.constantFrom("ok", "ok", "ok", "ok", "ok", "ok", "ok", "fail"),
          other: fc.constantFrom("ok", "ok", "ok", "ok", "ok", "fail"),
        }),
        projects: fc.record(Object.fromEntries([A1, A2].flatMap((a) => REGIONS.flatMap((r) => PROJECTS.map((p) => [`${a}|${r}|${p}`, projectArb] as const))))),
        policy: policyArb(now, windows?.(now)),
        layers: layersArb(now),
      })
      .map((g) => buildWorld(now, g)),
  );
}

type Value<A> = A extends fc.Arbitrary<infer T> ? T : never;
type Generated = {
  sets: Value<ReturnType<typeof setArb>>[];
  identity: { ambient: string; other: string };
  projects: Record<string, Value<typeof projectArb>>;
  policy: RefPolicy;
  layers: RefLayer[];
};

function buildWorld(now: number, { sets: rawSets, identity, projects, policy, layers }: Generated): RefWorld {
  const identities: IdentityFact[] = [
    identity.ambient === "ok" ? { source: "ambient", account: A1, arn: `arn:aws:iam::${A1}:user/me` } : { source: "ambient", error: "no credentials" },
    { source: SOURCES[1]!, account: A1, arn: `arn:aws:sts::${A1}:assumed-role/same-as-ambient/rekon` },
    identity.other === "ok"
      ? { source: SOURCES[2]!, account: A2, arn: `arn:aws:sts::${A2}:assumed-role/other/rekon` }
      : { source: SOURCES[2]!, error: "AccessDenied" },
  ];
  const sets: DesiredSet[] = rawSets.map((s, i) => ({
    name: `set${i}`,
    pos: { file: `m${i}.yaml`, line: 1, col: 1 },
    project: s.project,
    region: s.region,
    ...(s.source !== "ambient" ? { roleArn: s.source } : {}),
    versions: s.listed.map((name) => ({ name, pos })),
    ...(s.suspend ? { suspend: { reason: "test", until: s.suspend.until, origin: `set${i}` } } : {}),
  }));
  // The versions of every project in every (account, region), with ARNs, so copies can point anywhere.
  const all = new Map<string, LiveVersion[]>();
  for (const [key, p] of Object.entries(projects)) {
    const [account, region, project] = key.split("|") as [string, string, string];
    const answering = p.foreignAnswer ? A3 : account;
    all.set(
      key,
      p.versions.map((v) => {
        const createdAt = now - v.ageHours * H;
        const acct = v.foreign ? "999999999999" : answering;
        const t = v.tags;
        const tags =
          t === "error" || t === "unread"
            ? undefined
            : {
                ...(t.hold ? { hold: t.hold } : {}),
                ...(t.layer ? { layer: t.layer } : {}),
                ...(t.mark !== undefined ? { [MARK]: timeValue(t.mark, now) } : {}),
                ...(t.approved !== undefined ? { "rekon.dev/deletion-approved": timeValue(t.approved, now) } : {}),
                ...(t.notice !== undefined ? { [NOTICE]: timeValue(t.notice, now) } : {}),
              };
        return {
          arn: `arn:aws:rekognition:${region}:${acct}:project/${project}/version/${v.name}/${createdAt}`,
          name: v.name,
          project,
          region,
          account: acct,
          status: v.status,
          createdAt,
          feature: v.status === "RUNNING" || v.status.startsWith("COPYING") ? "CUSTOM_LABELS" : v.feature,
          ...(tags ? { tags } : {}),
          ...(t === "error" ? { tagsError: "AccessDenied" } : {}),
        } as LiveVersion;
      }),
    );
  }
  // Copies: a COPYING_IN_PROGRESS version points at some version in the same account and region.
  for (const [key, vs] of all) {
    const [account, region] = key.split("|");
    const pool = [...all.entries()].filter(([k]) => k.startsWith(`${account}|${region}|`)).flatMap(([, x]) => x);
    const raw = projects[key]!.versions;
    vs.forEach((v, i) => {
      const c = raw[i]!.copyOf;
      if (v.status === "COPYING_IN_PROGRESS" && c !== undefined && pool.length) v.sourceVersionArn = pool[c % pool.length]!.arn;
    });
  }
  const world: RefWorld = { sets, identities, projects: [], policy, layers, now };
  const acct = (s: DesiredSet) => identities.find((i) => i.source === (s.roleArn ?? "ambient"))?.account;
  for (const s of sets) {
    const a = acct(s);
    if (!a) continue; // not read: its identity is unknown
    const key = `${a}|${s.region}|${s.project}`;
    const p = projects[key];
    const read = p?.read ?? "notFound";
    const answering = p?.foreignAnswer ? A3 : a;
    const base = { set: s.name, project: s.project, region: s.region, account: answering };
    // Project tags are read only when a policy in force for the project requires one (as the inventory does).
    const tags = refPolicyFor(world, s.project).requireProjectTag.length > 0 && p ? { tags: p.tags } : {};
    if (read === "ok")
      world.projects.push({
        ...base,
        status: "ok",
        projectArn: `arn:aws:rekognition:${s.region}:${answering}:project/${s.project}/1`,
        versions: all.get(key) ?? [],
        ...tags,
      });
    else
      world.projects.push({
        ...base,
        status: read as "error" | "notFound",
        versions: [],
        ...(read === "error" ? { error: "AccessDenied" } : { error: "not found" }),
      });
  }
  return world;
}

const worldArb = worldAt(fc.constant(NOW));

const tagRules = (ts: RefTag[] | undefined, origin: string): TagRule[] => (ts ?? []).map((t) => ({ ...t, origin }));
const windowsOf = (ws: RefWindow[] | undefined, origin: string): DeletionWindow[] =>
  (ws ?? []).map((w) => ({ ...w, duration: `${w.durationMs / M}m`, origin }));
const channel = (origin: string): NotificationChannel => ({
  name: `channel-${origin}`,
  url: { fromEnv: "REKON_WEBHOOK_URL" },
  format: "json",
  events: ["marked", "deleted"],
  origin,
});

function toPolicy(p: RefPolicy): Policy {
  return {
    ...DEFAULT_POLICY,
    source: "property",
    name: "property",
    allowedAccounts: p.allowedAccounts,
    enforceAccounts: p.allowedAccounts.length > 0,
    allowedRegions: p.allowedRegions,
    enforceRegions: p.allowedRegions.length > 0,
    minAgeMs: p.minAgeMs,
    minAge: `${p.minAgeMs / H}h`,
    keepLatest: p.keepLatest,
    maxDeletesPerRun: p.maxDeletesPerRun,
    allowEmpty: p.allowEmpty,
    stopRunning: p.stopRunning,
    protectTags: tagRules(p.protectTags, "property"),
    requireProjectTag: tagRules(p.requireProjectTag, "property"),
    rules: p.rules.map((r) => compiled(r, "property")),
    gracePeriodMs: p.gracePeriodMs,
    gracePeriod: `${p.gracePeriodMs / H}h`,
    maxDeletesPercent: p.maxDeletesPercent,
    requireApproval: p.requireApproval,
    requireNotice: p.requireNotice,
    notifications: p.notify || p.requireNotice ? [channel("property")] : [],
    nearMissGuard: p.nearMissGuard,
    windows: windowsOf(p.windows, "property"),
    ...(p.suspend ? { suspend: { reason: "operator", ...(p.suspend.until !== undefined ? { until: p.suspend.until } : {}), origin: "property" } } : {}),
    origin: {},
  };
}

function toScoped(l: RefLayer): ScopedPolicy {
  const origin = `manifest policy "${l.name}" (${l.name}.yaml)`;
  const spec: ScopedPolicy["spec"] = {
    ...(l.allowedAccounts ? { allowedAccounts: l.allowedAccounts } : {}),
    ...(l.allowedRegions ? { allowedRegions: l.allowedRegions } : {}),
    ...(l.minAgeMs !== undefined ? { minAgeMs: l.minAgeMs, minAge: `${l.minAgeMs / H}h` } : {}),
    ...(l.keepLatest !== undefined ? { keepLatest: l.keepLatest } : {}),
    ...(l.maxDeletesPerRun !== undefined ? { maxDeletesPerRun: l.maxDeletesPerRun } : {}),
    ...(l.allowEmpty !== undefined ? { allowEmpty: l.allowEmpty } : {}),
    ...(l.stopRunning !== undefined ? { stopRunning: l.stopRunning } : {}),
    ...(l.protectTags ? { protectTags: tagRules(l.protectTags, origin) } : {}),
    ...(l.requireProjectTag ? { requireProjectTag: tagRules(l.requireProjectTag, origin) } : {}),
    ...(l.rules ? { rules: l.rules.map((r) => compiled(r, origin)) } : {}),
    ...(l.gracePeriodMs !== undefined ? { gracePeriodMs: l.gracePeriodMs, gracePeriod: `${l.gracePeriodMs / H}h` } : {}),
    ...(l.windows ? { windows: windowsOf(l.windows, origin) } : {}),
    ...(l.maxDeletesPercent !== undefined ? { maxDeletesPercent: l.maxDeletesPercent } : {}),
    ...(l.requireApproval !== undefined ? { requireApproval: l.requireApproval } : {}),
    ...(l.nearMissGuard !== undefined ? { nearMissGuard: l.nearMissGuard } : {}),
    ...(l.requireNotice !== undefined ? { requireNotice: l.requireNotice } : {}),
    ...(l.notify ? { notifications: [channel(l.name)] } : {}),
    ...(l.suspend ? { suspend: { reason: l.name, ...(l.suspend.until !== undefined ? { until: l.suspend.until } : {}), origin } } : {}),
  };
  return { name: l.name, pos: { file: `${l.name}.yaml`, line: 1, col: 1 }, projects: l.projects, projectPos: [], spec, fieldPos: {} };
}

function policiesOf(w: RefWorld): PolicySet {
  return { operator: toPolicy(w.policy), scoped: w.layers.map(toScoped) };
}

function gateOf(w: RefWorld): Gate {
  const live: LiveState = { projects: w.projects, identities: w.identities };
  return Gate.assess({ desired: { sets: w.sets, policies: [], files: [], digest: "x" }, live, policies: policiesOf(w), now: new Date(w.now) });
}

// Worlds under requireNotice with few other guards, so that the mark and the notice decide in most of them.
const noticeWorlds: fc.Arbitrary<RefWorld> = fc.tuple(worldArb, fc.constantFrom(0, 72 * H, 72 * H, 1 * H)).map(([w, gracePeriodMs]) => {
  const { suspend: _s, ...rest } = w.policy;
  return {
    ...w,
    layers: [],
    policy: {
      ...rest,
      gracePeriodMs,
      requireNotice: true,
      requireApproval: false,
      windows: [],
      maxDeletesPerRun: 100,
      maxDeletesPercent: 100,
      minAgeMs: 0,
      keepLatest: 0,
      allowEmpty: true,
      protectTags: [],
      requireProjectTag: [],
      rules: [],
    },
  };
});

// ---- deletion windows around daylight-saving changes ----

/** The four changes of 2026 in the two zones with DST that the tests use (UTC instants). */
const TRANSITIONS: { zone: string; at: number }[] = [
  { zone: "Europe/Berlin", at: Date.parse("2026-03-29T01:00:00Z") }, // 02:00 CET → 03:00 CEST
  { zone: "Europe/Berlin", at: Date.parse("2026-10-25T01:00:00Z") }, // 03:00 CEST → 02:00 CET
  { zone: "America/New_York", at: Date.parse("2026-03-08T07:00:00Z") }, // 02:00 EST → 03:00 EDT
  { zone: "America/New_York", at: Date.parse("2026-11-01T06:00:00Z") }, // 02:00 EDT → 01:00 EST
];
/**
 * Schedules whose starts fall near the changes (the night from Saturday to Sunday, 00:00–04:59 local), each
 * with durations that leave gaps between occurrences: a window that never closes sends the gate's look-ahead
 * for the next allowed time through all its steps (tens of milliseconds per version), which would only slow
 * the property down.
 */
const scheduleArb = fc.oneof(
  fc.record({
    schedule: fc
      .tuple(fc.constantFrom(0, 15, 30, 45, 59), fc.integer({ min: 0, max: 4 }), fc.constantFrom("*", "SUN", "SAT-SUN", "MON-FRI", "SAT"))
      .map(([m, h, dow]) => `${m} ${h} * * ${dow}`),
    durationMs: fc.constantFrom(15 * M, 30 * M, H, 2 * H, 6 * H),
  }),
  fc.record({ schedule: fc.constant("*/15 * * * *"), durationMs: fc.constantFrom(5 * M, 10 * M) }),
  fc.record({ schedule: fc.constantFrom("0 * * * *", "30 * * * *", "45 * * * *"), durationMs: fc.constantFrom(15 * M, 30 * M) }),
);
const dstWindowArb = (zone: string): fc.Arbitrary<RefWindow> =>
  fc
    .record({
      kind: fc.constantFrom<"deny" | "allow">("deny", "allow"),
      when: scheduleArb,
      timeZone: fc.constantFrom(zone, zone, zone, "UTC", zone === "Europe/Berlin" ? "America/New_York" : "Europe/Berlin"),
    })
    .map(({ kind, when, timeZone }) => ({ kind, ...when, timeZone }));
/** A transition, and a time within five hours of it (to the minute, sometimes to the millisecond). */
const dstArb = fc
  .record({ t: fc.constantFrom(...TRANSITIONS), minutes: fc.integer({ min: -300, max: 300 }), ms: fc.constantFrom(0, 0, 0, 1, 59_999) })
  .map(({ t, minutes, ms }) => ({ zone: t.zone, now: t.at + minutes * M + ms }));

/** Worlds at times around a DST change, with windows in that zone, and few other guards, so that the windows decide. */
const dstWorlds: fc.Arbitrary<RefWorld> = dstArb.chain(({ zone, now }) =>
  worldAt(fc.constant(now), () => fc.array(dstWindowArb(zone), { minLength: 1, maxLength: 2 })).map((w) => ({
    ...w,
    policy: {
      ...w.policy,
      minAgeMs: 0,
      keepLatest: 0,
      allowEmpty: true,
      maxDeletesPerRun: 100,
      maxDeletesPercent: 100,
      protectTags: [],
      requireProjectTag: [],
      rules: [],
      requireApproval: false,
      requireNotice: false,
    },
  })),
);

describe("the gate agrees with the independent reference model", () => {
  const BUDGETS = new Set(["maxDeletesPerRun", "maxDeletesPercent"]);
  const agrees = (w: RefWorld) => {
    const plan = planWith(gateOf(w), new Date(w.now));
    const deletes = new Set(plan.actions.filter((a) => a.action === "delete").map((a) => a.versionArn!));
    expect([...deletes].sort()).toEqual([...refDeletable(w)].sort());
    const marks = new Set(plan.actions.filter((a) => a.mark === "add").map((a) => a.versionArn!));
    expect([...marks].sort()).toEqual([...refToMark(w)].sort());
    const unmarks = new Set(plan.actions.filter((a) => a.mark === "remove").map((a) => a.versionArn!));
    expect([...unmarks].sort()).toEqual([...refToUnmark(w)].sort());
    const notices = plan.actions.filter((a) => a.notice).map((a) => [a.versionArn!, a.notice!] as const);
    expect(notices.sort()).toEqual([...refNotices(w).entries()].sort());
    // Hold by hold: every unlisted version of every usable project, with the very rule ids that keep it.
    const candidates = refCandidates(w);
    const judged = plan.actions.filter((a) => a.action === "delete" || a.action === "blocked");
    expect(judged.length).toBe(candidates.length);
    for (const c of candidates) {
      const a = judged.find((x) => x.set === c.set.name && x.versionArn === c.v.arn);
      const rules = a ? [...new Set(a.reasons.map((r) => r.rule).filter((r) => !BUDGETS.has(r)))].sort() : "not in the plan";
      expect({ version: c.v.arn, rules }).toEqual({ version: c.v.arn, rules: c.reasons });
      // A custom rule's reason says what its answer was: its message, an evaluation error, or not a bool.
      for (const rule of [...c.pol.rules].filter((r) => c.reasons.includes(r.name))) {
        const message = a!.reasons.find((r) => r.rule === rule.name)!.message;
        const outcome = refRuleOutcome(rule, c.v, c.project, w.now);
        expect({ rule: rule.name, message }).toEqual({
          rule: rule.name,
          message:
            outcome === "true"
              ? `${rule.kind} matched`
              : expect.stringMatching(
                  outcome === "error" ? /^rule could not be evaluated \(.+\); blocked to be safe$/ : /^rule returned yes, not a bool; blocked to be safe$/,
                ),
        });
      }
    }
  };

  it("plans delete exactly what the reference allows, and marks exactly what it would mark", () => {
    fc.assert(fc.property(worldArb, agrees), { numRuns: RUNS });
  });

  it("the same under requireNotice, with marks and notices of every age and shape (no notice, no deletion)", () => {
    fc.assert(fc.property(noticeWorlds, agrees), { numRuns: RUNS * 4 });
  });

  it("the same with deletion windows in zones with daylight saving, at times around the change", () => {
    fc.assert(fc.property(dstWorlds, agrees), { numRuns: RUNS });
  });

  it("a version listed by any set that reaches its project is never deleted nor marked", () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const plan = planWith(gateOf(w), new Date(w.now));
        for (const a of plan.actions.filter((x) => x.action === "delete" || x.mark === "add")) {
          const [, , , , account] = a.versionArn!.split(":");
          for (const s of w.sets) {
            const sa = w.identities.find((i) => i.source === (s.roleArn ?? "ambient"))?.account;
            if ((sa === undefined || sa === account) && s.region === a.region && s.project === a.project)
              expect(s.versions.map((d) => d.name)).not.toContain(a.versionName);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("at the last look, the gate approves a planned deletion exactly when the reference allows it on the fresh facts", () => {
    const change = fc.constantFrom("none", "status", "tag", "vanish", "latestGone", "renamed", "noticeGone");
    fc.assert(
      fc.property(worldArb, change, fc.constantFrom("RUNNING", "STOPPED", "DELETING", "TRAINING_IN_PROGRESS"), (w, how, newStatus) => {
        const gate = gateOf(w);
        const plan = planWith(gate, new Date(w.now));
        const deletes = plan.actions.filter((a) => a.action === "delete");
        if (deletes.length === 0 || plan.refusals.length) return;
        const auth = gate.authorize(plan);
        const a = deletes[0]!;
        const owner = w.sets.find((s) => s.name === a.set)!;
        const project = w.projects.find((p) => p.set === owner.name)!;
        // Fresh facts: the project's versions as the look reads them, after one change in the world.
        const fresh = project.versions.map((v) => ({ ...v, ...(v.tags ? { tags: { ...v.tags } } : {}) }));
        const target = fresh.find((v) => v.arn === a.versionArn)!;
        if (how === "status") target.status = newStatus;
        if (how === "tag") target.tags = { ...(target.tags ?? {}), hold: "yes" };
        if (how === "vanish") fresh.splice(fresh.indexOf(target), 1);
        if (how === "renamed") target.arn = target.arn.replace(/\/\d+$/, "/42");
        if (how === "noticeGone" && target.tags) delete target.tags[NOTICE];
        let removed: LiveVersion | undefined;
        if (how === "latestGone") {
          removed = fresh.filter((v) => v !== target).sort((x, y) => y.createdAt - x.createdAt)[0];
          if (removed) fresh.splice(fresh.indexOf(removed), 1);
        }
        const look: Look = { at: w.now, byName: new Map(fresh.map((v) => [v.name, v])), newest: [] };
        const verdict = gate.approve(a.stopFirst ? "stop" : "delete", auth, a, look, w.now);
        // The reference, on a world where the project now holds the fresh facts.
        const world2: RefWorld = { ...w, projects: w.projects.map((p) => (p === project ? { ...p, versions: fresh } : p)) };
        const v2 = fresh.find((v) => v.name === a.versionName);
        let allowed = v2 !== undefined && v2.arn === a.versionArn && refReasons(world2, owner, v2).length === 0;
        // Stopping needs RUNNING, deleting needs it not RUNNING.
        if (allowed && v2) allowed = a.stopFirst ? v2.status === "RUNNING" : v2.status !== "RUNNING";
        // The gate does not trust a changed project's ranking: a vanished newest version blocks; nor a list
        // whose one re-read listed version vanished (allowEmpty), even if another listed one remains.
        if (how === "latestGone" && removed && w.policy.keepLatest > 0) {
          const ranked = project.versions.filter((v) => v.status !== "DELETING").sort((x, y) => y.createdAt - x.createdAt || (x.arn < y.arn ? -1 : 1));
          if (ranked.slice(0, w.policy.keepLatest).some((v) => v.arn === removed!.arn)) allowed = false;
        }
        if (how === "latestGone" && removed && !w.policy.allowEmpty && owner.versions.some((d) => d.name === removed!.name)) {
          const listedLive = project.versions
            .filter((v) => owner.versions.some((d) => d.name === v.name) && v.status !== "DELETING")
            .sort((x, y) => y.createdAt - x.createdAt || (x.arn < y.arn ? -1 : 1));
          if (listedLive[0]?.arn === removed.arn) allowed = false;
        }
        expect({ how, approved: !("denied" in verdict) }).toEqual({ how, approved: allowed });
        if ("denied" in verdict && how === "vanish") expect(verdict.gone).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});

describe("rekon explain tells the plan's decision and the plan's reasons, never others", () => {
  it("for every version of every world: its decision matches the plan's action, and its blocking checks are the plan's reasons", () => {
    fc.assert(
      fc.property(fc.oneof(worldArb, noticeWorlds), (w) => {
        const gate = gateOf(w);
        const plan = planWith(gate, new Date(w.now));
        for (const view of gate.views) {
          if (view.status !== "ok" || !view.project) continue;
          for (const v of view.project.versions) {
            const a = plan.actions.find((x) => x.set === view.set.name && x.versionArn === v.arn)!;
            const x = gate.explain(view, v, w.now, plan.refusals);
            const want = { keep: ["keep"], delete: ["delete", "stop then delete"], blocked: ["blocked", "held", "refused"], missing: [], start: [], stop: [] }[a.action];
            expect(want).toContain(x.decision);
            expect(x.decision === "stop then delete").toBe(a.stopFirst === true);
            expect(x.mark).toBe(a.mark);
            const fired = x.checks.filter((c) => c.verdict === "block" || c.verdict === "hold").map((c) => `${c.rule}: ${c.detail}`);
            expect(fired.sort()).toEqual(a.reasons.map((r) => `${r.rule}: ${r.message}`).sort());
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe("deletion windows across daylight-saving changes (the reference's own cron)", () => {
  it("a version only windows could keep is kept by `window` exactly when the reference's wall clocks say deletion is not allowed", () => {
    const one = dstArb.chain(({ zone, now }) => fc.record({ now: fc.constant(now), windows: fc.array(dstWindowArb(zone), { minLength: 1, maxLength: 3 }) }));
    fc.assert(
      fc.property(one, ({ now, windows }) => {
        const v: LiveVersion = {
          arn: `arn:aws:rekognition:us-east-1:${A1}:project/alpha/version/old/1`,
          name: "old",
          project: "alpha",
          region: "us-east-1",
          account: A1,
          status: "STOPPED",
          createdAt: now - 1000 * H,
          feature: "CUSTOM_LABELS",
        };
        const keep: LiveVersion = { ...v, arn: v.arn.replace("/old/", "/keep/"), name: "keep" };
        const live: LiveState = {
          projects: [
            {
              set: "s",
              project: "alpha",
              region: "us-east-1",
              account: A1,
              status: "ok",
              projectArn: `arn:aws:rekognition:us-east-1:${A1}:project/alpha/1`,
              versions: [keep, v],
            },
          ],
          identities: [{ source: "ambient", account: A1 }],
        };
        const policy: Policy = {
          ...DEFAULT_POLICY,
          allowedAccounts: [A1],
          enforceAccounts: true,
          minAgeMs: 0,
          keepLatest: 0,
          windows: windowsOf(windows, "property"),
        };
        const gate = Gate.assess({
          desired: {
            sets: [{ name: "s", pos, project: "alpha", region: "us-east-1", versions: [{ name: "keep", pos }] }],
            policies: [],
            files: [],
            digest: "x",
          },
          live,
          policies: policy,
          now: new Date(now),
        });
        const a = planWith(gate, new Date(now)).actions.find((x) => x.versionName === "old")!;
        expect({ at: new Date(now).toISOString(), rules: a.reasons.map((r) => r.rule) }).toEqual({
          at: new Date(now).toISOString(),
          rules: refDeletionAllowed(windows, now) ? [] : ["window"],
        });
      }),
      { numRuns: RUNS * 3 },
    );
  });
});

// The emulator property starts servers: a mutation run (which mutates only the pure core) leaves it out.
describe.skipIf(process.env.REKON_MUTATION_RUN === "1")("signals in the middle of an apply (emulator, real SDK)", () => {
  it("whenever the stop comes, nothing unplanned is deleted, accepted ⇔ AWS carried it out, and never-sent writes are skipped", async () => {
    // Imported here, not at the top: the SDK and the emulator cost a second to load, which a mutation run
    // (that skips this property) would otherwise pay for every mutant.
    const [{ default: pino }, { startEmulator }, { applyPass, passFor }, { TEST_CREDENTIALS }] = await Promise.all([
      import("pino"),
      import("../../reconciler/emulator/server.js"),
      import("../../reconciler/reconcile.js"),
      import("../helpers/emulator-env.js"),
    ]);
    const log = pino({ level: "silent" });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 8 }), fc.integer({ min: 0, max: 6 }), fc.boolean(), async (n, stopAfter, abandon) => {
        const state: EmulatorStateFile = {
          account: A1,
          projects: [
            {
              name: "p",
              versions: [
                { name: "keep", status: "STOPPED", age: "1d" },
                ...Array.from({ length: n }, (_, i) => ({ name: `old${i}`, status: "STOPPED" as const, age: `${100 + i}d` })),
              ],
            },
          ],
        };
        const emu = await startEmulator({ state, deleteDelayMs: 10_000, faults: { rules: [{ operation: "DeleteProjectVersion", delayMs: 150 }] } });
        try {
          const desired = {
            sets: [{ name: "s", pos, project: "p", region: "us-east-1", versions: [{ name: "keep", pos }] }],
            policies: [],
            files: [],
            digest: "x",
          };
          const pass = await passFor(
            {
              desired,
              policies: toPolicy({
                allowedAccounts: [A1],
                allowedRegions: [],
                minAgeMs: 0,
                keepLatest: 0,
                maxDeletesPerRun: 100,
                allowEmpty: false,
                stopRunning: false,
                protectTags: [],
                requireProjectTag: [],
                rules: [],
                gracePeriodMs: 0,
                maxDeletesPercent: 100,
                requireApproval: false,
                requireNotice: false,
                notify: false,
                nearMissGuard: true,
                windows: [],
              }),
            },
            { log, client: { endpoint: emu.url, stsEndpoint: emu.url, credentials: TEST_CREDENTIALS } },
          );
          const planned = new Set(pass.plan.actions.filter((a) => a.action === "delete").map((a) => a.versionArn));
          const stop = new AbortController();
          const quit = new AbortController();
          let received = 0;
          const off = emu.onCall((c) => {
            if (c.operation === "DeleteProjectVersion" && c.phase === "received" && ++received > stopAfter) {
              stop.abort();
              if (abandon) quit.abort();
            }
          });
          if (stopAfter === 0) stop.abort();
          const results = await applyPass(pass, log, { stop: stop.signal, abandon: quit.signal, concurrency: 3 });
          off();
          // Let every request that reached AWS finish on the server before comparing.
          const got = emu.calls({ phase: "received" }).filter((c) => c.operation === "DeleteProjectVersion");
          for (const c of got) await emu.waitForCall((x) => x.phase === "answered" && x.requestId === c.requestId, 5_000);
          pass.close();
          const ok = new Set(
            emu
              .calls()
              .filter((c) => c.operation === "DeleteProjectVersion" && c.outcome === "ok")
              .map((c) => c.target),
          );
          expect(results).toHaveLength(planned.size);
          for (const t of ok) expect(planned.has(t!)).toBe(true);
          for (const r of results) {
            if (r.result === "accepted") expect(ok.has(r.versionArn)).toBe(true);
            if (r.result === "skipped") expect(got.map((c) => c.target)).not.toContain(r.versionArn);
            if (ok.has(r.versionArn)) expect(["accepted", "unknown"]).toContain(r.result);
            expect(["failed", "changed"]).not.toContain(r.result);
          }
        } finally {
          await emu.close();
        }
      }),
      { numRuns: Math.max(8, Math.round(RUNS / 20)) },
    );
  }, 120_000);
});
