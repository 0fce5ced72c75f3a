// Property-based tests: for random desired sets, live inventories (all 14 statuses, both features,
// random ages and tags) and policies, a `delete` never breaks a guard, and the plan does not depend on
// the order of its inputs. fast-check shrinks any counterexample to a small one.
import fc from "fast-check";
import { liveState } from "../helpers/builders.js";
import { describe, expect, it } from "vitest";
import { plan } from "../../reconciler/plan.js";
import { compileRule, ruleContext } from "../../reconciler/policy/cel.js";
import { MARK_TAG, newest, tagMatches } from "../../reconciler/policy/guards.js";
import { effectivePolicy } from "../../reconciler/policy/layers.js";
import { DEFAULT_POLICY } from "../../reconciler/policy/defaults.js";
import { VERSION_STATUSES, type CompiledRule, type DesiredSet, type DesiredState, type LiveProject, type LiveState, type LiveVersion, type Policy, type PolicySet, type ScopedPolicy } from "../../reconciler/types.js";
import { IN_USE_STATUSES } from "../../reconciler/policy/guards.js";

const NOW = new Date("2026-11-28T12:00:00Z");
const H = 3_600_000;
const RUNS = Number(process.env.REKON_PROPERTY_RUNS ?? 300);
const ACCOUNTS = ["111111111111", "222222222222", "333333333333"];
const REGIONS = ["us-east-1", "eu-west-1"];
const PROJECTS = ["alpha", "beta", "gamma"];
const TAG_KEYS = ["hold", "env", "team", MARK_TAG];
const TAG_VALUES = ["true", "prod", "x", "", new Date(NOW.getTime() - 100 * H).toISOString(), new Date(NOW.getTime() - 1 * H).toISOString()];

const RULES: CompiledRule[] = [
  ['"env" in version.tags && version.tags["env"] == "prod"', "no-prod"],
  ["version.ageHours < 100.0", "young"],
  ['version.tags["team"] == "x"', "team-x-throws-when-missing"],
  ['version.feature == "CONTENT_MODERATION" && version.status == "EXPIRED"', "keep-expired-adapters"],
].map(([deny, name]) => {
  const r = compileRule({ name: name!, deny: deny!, message: name! }, "property");
  if ("error" in r) throw new Error(r.error);
  return r;
});

// ---- arbitraries ----

const versionArb = (project: string, region: string) =>
  fc.record({
    name: fc.constantFrom(...Array.from({ length: 12 }, (_, i) => `v${i}`)),
    status: fc.oneof({ weight: 14, arbitrary: fc.constantFrom(...VERSION_STATUSES) }, { weight: 1, arbitrary: fc.constant("HIBERNATING") }),
    feature: fc.constantFrom("CUSTOM_LABELS", "CONTENT_MODERATION"),
    ageHours: fc.integer({ min: -5, max: 3000 }),
    account: fc.constantFrom(...ACCOUNTS),
    tags: fc.option(fc.dictionary(fc.constantFrom(...TAG_KEYS), fc.constantFrom(...TAG_VALUES), { maxKeys: 3 }), { nil: undefined, freq: 6 }),
    copyOf: fc.option(fc.integer({ min: 0, max: 11 }), { nil: undefined, freq: 4 }),
  }).map((v) => {
    const createdAt = NOW.getTime() - v.ageHours * H;
    const lv: LiveVersion = {
      arn: `arn:aws:rekognition:${region}:${v.account}:project/${project}/version/${v.name}/${createdAt}`,
      name: v.name,
      project,
      region,
      account: v.account,
      status: v.status,
      createdAt,
      feature: v.feature,
      ...(v.tags ? { tags: v.tags } : {}),
    };
    return { lv, copyOf: v.copyOf };
  });

const projectArb = fc
  .record({ project: fc.constantFrom(...PROJECTS), region: fc.constantFrom(...REGIONS), status: fc.constantFrom("ok", "ok", "ok", "ok", "notFound", "error") as fc.Arbitrary<LiveProject["status"]>, tags: fc.option(fc.dictionary(fc.constantFrom("managed", "team"), fc.constantFrom("true", "x")), { nil: undefined }) })
  .chain((p) =>
    fc.record({
      p: fc.constant(p),
      versions: fc.uniqueArray(versionArb(p.project, p.region), { selector: (v) => v.lv.name, maxLength: 12 }),
      listed: fc.uniqueArray(fc.constantFrom(...Array.from({ length: 14 }, (_, i) => `v${i}`)), { maxLength: 8 }),
    }),
  )
  .map(({ p, versions, listed }) => {
    const lvs = versions.map((v) => v.lv);
    // Wire some copies: a COPYING_IN_PROGRESS version points at another version of the project.
    versions.forEach((v, i) => {
      const src = v.copyOf !== undefined ? lvs[v.copyOf % Math.max(1, lvs.length)] : undefined;
      if (src && src !== lvs[i]) lvs[i] = { ...lvs[i]!, sourceVersionArn: src.arn };
    });
    const setName = `${p.project}-${p.region}`;
    const live: LiveProject = { set: setName, project: p.project, region: p.region, status: p.status, projectArn: `arn:aws:rekognition:${p.region}:111111111111:project/${p.project}/1`, versions: p.status === "ok" ? lvs : [], ...(p.tags ? { tags: p.tags } : {}), ...(p.status === "error" ? { error: "boom" } : {}) };
    const set: DesiredSet = { name: setName, pos: { file: "m.yaml", line: 1, col: 1 }, project: p.project, region: p.region, versions: listed.map((name) => ({ name, pos: { file: "m.yaml", line: 1, col: 1 } })) };
    return { live, set };
  });

const worldArb = fc.uniqueArray(projectArb, { selector: (x) => x.set.name, minLength: 1, maxLength: 3 }).map((ps) => ({
  desired: { sets: ps.map((x) => x.set), files: ["m.yaml"], policies: [], digest: "d" } as DesiredState,
  live: liveState(ps.map((x) => x.live)) as LiveState,
}));

const tagRule = (key: string, value: string) => ({ key, value, origin: "property" });
const policyArb: fc.Arbitrary<Policy> = fc
  .record({
    minAgeH: fc.integer({ min: 0, max: 1000 }),
    keepLatest: fc.integer({ min: 0, max: 4 }),
    maxDeletesPerRun: fc.integer({ min: 0, max: 40 }),
    allowEmpty: fc.boolean(),
    accounts: fc.subarray(ACCOUNTS),
    regions: fc.subarray(REGIONS),
    protect: fc.subarray([tagRule("hold", "*"), tagRule("env", "prod"), tagRule("team", "x")]),
    require: fc.subarray([tagRule("managed", "true")]),
    rules: fc.subarray(RULES, { maxLength: 2 }),
    graceH: fc.constantFrom(0, 0, 24, 72),
    stopRunning: fc.boolean(),
  })
  .map((p) => ({
    ...DEFAULT_POLICY,
    source: "property",
    allowedAccounts: p.accounts,
    enforceAccounts: p.accounts.length > 0,
    allowedRegions: p.regions,
    enforceRegions: p.regions.length > 0,
    minAge: `${p.minAgeH}h`,
    minAgeMs: p.minAgeH * H,
    keepLatest: p.keepLatest,
    maxDeletesPerRun: p.maxDeletesPerRun,
    allowEmpty: p.allowEmpty,
    protectTags: p.protect,
    requireProjectTag: p.require,
    rules: p.rules,
    gracePeriod: `${p.graceH}h`,
    gracePeriodMs: p.graceH * H,
    stopRunning: p.stopRunning,
  }));

// ---- helpers ----

function shuffled<T>(xs: T[], seed: number): T[] {
  const out = [...xs];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

// ---- properties ----

describe("planner properties", () => {
  it("a delete never breaks any guard", () => {
    fc.assert(
      fc.property(worldArb, policyArb, ({ desired, live }, pol) => {
        const p = plan(desired, live, pol, NOW);
        const deletes = p.actions.filter((a) => a.action === "delete");
        if (p.refusals.length) expect(deletes).toEqual([]);
        expect(deletes.length).toBeLessThanOrEqual(pol.maxDeletesPerRun);
        const copySources = new Set(live.projects.flatMap((lp) => lp.versions.filter((v) => v.status === "COPYING_IN_PROGRESS" && v.sourceVersionArn).map((v) => v.sourceVersionArn!)));

        for (const a of deletes) {
          const set = desired.sets.find((s) => s.name === a.set)!;
          const lp = live.projects.find((x) => x.set === a.set)!;
          const v = lp.versions.find((x) => x.arn === a.versionArn)!;
          expect(lp.status).toBe("ok");
          expect(v).toBeDefined();
          // never listed
          expect(set.versions.map((x) => x.name)).not.toContain(v.name);
          // never in use (RUNNING only with stopRunning, a Custom Labels model, and stopFirst)
          if (IN_USE_STATUSES.has(v.status)) {
            expect(v.status).toBe("RUNNING");
            expect(pol.stopRunning && v.feature === "CUSTOM_LABELS" && a.stopFirst === true).toBe(true);
          }
          expect((VERSION_STATUSES as readonly string[]).includes(v.status)).toBe(true);
          // never younger than minAge, never among the newest keepLatest
          expect(NOW.getTime() - v.createdAt).toBeGreaterThanOrEqual(pol.minAgeMs);
          expect(newest(lp.versions, pol.keepLatest).has(v.arn)).toBe(false);
          // never the source of a copy in progress, never from an empty set unless allowed
          expect(copySources.has(v.arn)).toBe(false);
          if (set.versions.length === 0) expect(pol.allowEmpty).toBe(true);
          // never in a foreign account or region
          if (pol.enforceAccounts) expect(pol.allowedAccounts).toContain(v.account);
          if (pol.enforceRegions) expect(pol.allowedRegions).toContain(v.region);
          // never in an unmanaged project
          for (const t of pol.requireProjectTag) expect(lp.tags && tagMatches(lp.tags, t)).toBe(true);
          // never protected by a tag or a rule, and never without the tags those need
          const needTags = pol.protectTags.length > 0 || pol.rules.length > 0 || pol.gracePeriodMs > 0;
          if (needTags) expect(v.tags).toBeDefined();
          for (const t of pol.protectTags) expect(tagMatches(v.tags ?? {}, t)).toBe(false);
          for (const r of pol.rules) expect(r.evaluate(ruleContext(v, { name: lp.project, arn: lp.projectArn!, ...(lp.tags ? { tags: lp.tags } : {}) }, NOW.getTime()))).toBe(false);
          // never before the grace period has run since the mark
          if (pol.gracePeriodMs > 0) {
            const since = Date.parse(v.tags?.[MARK_TAG] ?? "");
            expect(Number.isNaN(since)).toBe(false);
            expect(NOW.getTime() - since).toBeGreaterThanOrEqual(pol.gracePeriodMs);
          }
        }
        // Summary counts agree with the actions.
        expect(p.summary.delete).toBe(deletes.length);
        expect(p.summary.delete + p.summary.keep + p.summary.blocked + p.summary.missing).toBe(p.actions.length);
      }),
      { numRuns: RUNS },
    );
  });

  it("does not depend on the order of manifests, projects, versions or pages, and is deterministic", () => {
    fc.assert(
      fc.property(worldArb, policyArb, fc.integer(), ({ desired, live }, pol, seed) => {
        const a = plan(desired, live, pol, NOW);
        const shuffledDesired: DesiredState = { ...desired, sets: shuffled(desired.sets, seed).map((s) => ({ ...s, versions: shuffled(s.versions, seed + 1) })) };
        const shuffledLive: LiveState = liveState(shuffled(live.projects, seed + 2).map((p) => ({ ...p, versions: shuffled(p.versions, seed + 3) })));
        const b = plan(shuffledDesired, shuffledLive, pol, NOW);
        // Projects are reported in manifest order; everything else must be identical.
        expect({ ...b, projects: [...b.projects].sort((x, y) => x.set.localeCompare(y.set)) }).toEqual({ ...a, projects: [...a.projects].sort((x, y) => x.set.localeCompare(y.set)) });
        expect(plan(desired, live, pol, NOW)).toEqual(a);
      }),
      { numRuns: RUNS },
    );
  });

  it("manifest layers only ever tighten: a layered plan deletes a subset of the operator-only plan", () => {
    const layerArb = fc.record({
      projects: fc.subarray(PROJECTS, { minLength: 1 }),
      minAgeH: fc.option(fc.integer({ min: 0, max: 2000 }), { nil: undefined }),
      keepLatest: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
      accounts: fc.option(fc.subarray(ACCOUNTS), { nil: undefined }),
      allowEmpty: fc.option(fc.boolean(), { nil: undefined }),
      protect: fc.option(fc.subarray([tagRule("hold", "*"), tagRule("team", "x")]), { nil: undefined }),
      rules: fc.option(fc.subarray(RULES, { maxLength: 1 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(worldArb, policyArb, fc.array(layerArb, { maxLength: 3 }), ({ desired, live }, pol0, layers) => {
        const pol = { ...pol0, maxDeletesPerRun: 10_000 };
        const scoped: ScopedPolicy[] = layers.map((l, i) => ({
          name: `layer${i}`,
          pos: { file: `l${i}.yaml`, line: 1, col: 1 },
          projects: l.projects,
          projectPos: [],
          fieldPos: {},
          spec: {
            ...(l.minAgeH !== undefined ? { minAge: `${l.minAgeH}h`, minAgeMs: l.minAgeH * H } : {}),
            ...(l.keepLatest !== undefined ? { keepLatest: l.keepLatest } : {}),
            ...(l.accounts !== undefined ? { allowedAccounts: l.accounts } : {}),
            ...(l.allowEmpty !== undefined ? { allowEmpty: l.allowEmpty } : {}),
            ...(l.protect ? { protectTags: l.protect } : {}),
            ...(l.rules ? { rules: l.rules } : {}),
          },
        }));
        const pset: PolicySet = { operator: pol, scoped };
        for (const project of PROJECTS) {
          const e = effectivePolicy(pset, project);
          expect(e.minAgeMs).toBeGreaterThanOrEqual(pol.minAgeMs);
          expect(e.keepLatest).toBeGreaterThanOrEqual(pol.keepLatest);
          expect(e.maxDeletesPerRun).toBeLessThanOrEqual(pol.maxDeletesPerRun);
          expect(e.gracePeriodMs).toBeGreaterThanOrEqual(pol.gracePeriodMs);
          if (e.allowEmpty) expect(pol.allowEmpty).toBe(true);
          if (e.stopRunning) expect(pol.stopRunning).toBe(true);
          if (pol.enforceAccounts) expect(e.allowedAccounts.every((x) => pol.allowedAccounts.includes(x))).toBe(true);
          expect(e.protectTags).toEqual(expect.arrayContaining(pol.protectTags));
          expect(e.rules).toEqual(expect.arrayContaining(pol.rules));
        }
        const operatorOnly = new Set(plan(desired, live, pol, NOW).actions.filter((a) => a.action === "delete").map((a) => a.versionArn));
        for (const a of plan(desired, live, pset, NOW).actions.filter((x) => x.action === "delete")) expect(operatorOnly.has(a.versionArn)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});
