// The gate against the independent reference model (reference.ts), over generated worlds: sets sharing a
// project through ambient and role credentials, several roles, regions and accounts, the same project name
// in several of them, read failures of arbitrary projects and tag reads, malformed marks, copies across
// projects; then approvals at the last look on changed facts; then signals in the middle of an apply
// against the emulator.
import fc from "fast-check";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { startEmulator, type EmulatorStateFile } from "../../reconciler/emulator/server.js";
import { Gate, type Look } from "../../reconciler/gate/index.js";
import { DEFAULT_POLICY } from "../../reconciler/policy/defaults.js";
import { planWith } from "../../reconciler/plan.js";
import { applyPass, passFor } from "../../reconciler/reconcile.js";
import type { DesiredSet, IdentityFact, LiveProject, LiveState, LiveVersion, Policy } from "../../reconciler/types.js";
import { TEST_CREDENTIALS } from "../helpers/emulator-env.js";
import { refDeletable, refNotices, refReasons, refToMark, type RefPolicy, type RefWorld } from "./reference.js";

const RUNS = Number(process.env.REKON_PROPERTY_RUNS ?? 300);
const NOW = Date.parse("2026-11-28T12:00:00Z");
const H = 3_600_000;
const A1 = "111111111111";
const A2 = "222222222222";
const SOURCES = ["ambient", `arn:aws:iam::${A1}:role/same-as-ambient`, `arn:aws:iam::${A2}:role/other`];
const REGIONS = ["us-east-1", "eu-west-1"];
const PROJECTS = ["alpha", "beta", "gamma"];
const NAMES = ["v0", "v1", "v2", "v3", "v4", "v5"];
// Weighted towards deletable statuses, so that most worlds have something to delete (and so something to get wrong).
const STATUSES = ["STOPPED", "STOPPED", "STOPPED", "STOPPED", "FAILED", "FAILED", "TRAINING_COMPLETED", "TRAINING_COMPLETED", "RUNNING", "TRAINING_IN_PROGRESS", "DELETING", "COPYING_IN_PROGRESS", "COPYING_IN_PROGRESS", "COPYING_COMPLETED", "DEPRECATED", "EXPIRED", "HIBERNATING"];
const MARK = "rekon.dev/pending-delete-since";
const NOTICE = "rekon.dev/notice-delivered-at";
const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z");
// Deletion windows, chosen so that "open now" is plain from the schedule: every hour for two hours (always
// open), Feb 29 at midnight for an hour (not open on NOW), both kinds, in UTC and a zone with DST.
const ALWAYS = { schedule: "0 * * * *", durationMs: 2 * H, timeZone: "Europe/Berlin" };
const LEAP_DAY = { schedule: "0 0 29 2 *", durationMs: H, timeZone: "UTC" };
const WINDOW_SETS: RefPolicy["windows"][] = [[], [], [], [{ kind: "deny", ...ALWAYS }], [{ kind: "deny", ...LEAP_DAY }], [{ kind: "allow", ...ALWAYS }], [{ kind: "allow", ...LEAP_DAY }], [{ kind: "allow", ...ALWAYS }, { kind: "deny", ...ALWAYS }]];
const MARK_VALUES = [iso(NOW - 100 * H), iso(NOW - 2 * H), iso(NOW + 24 * H), "12", "2025", "1", "2026-02-30T00:00:00Z", "2026-11-01T00:00:00+00:00"];
// Notices before, at and after the marks above, older and younger than the grace periods, and malformed.
const NOTICE_VALUES = [...MARK_VALUES, iso(NOW - 100 * H), iso(NOW - 120 * H), iso(NOW - 80 * H), iso(NOW - 90 * H), iso(NOW - 3 * H), iso(NOW - 90 * 60_000), iso(NOW - 30 * 60_000), iso(NOW - 2 * H) + "x"];
const pos = { file: "m.yaml", line: 1, col: 1 };

const policyArb: fc.Arbitrary<RefPolicy> = fc.record({
  allowedAccounts: fc.constantFrom<string[]>([A1, A2], [A1, A2], [A1, A2], [A1], [A2]),
  allowedRegions: fc.constantFrom<string[]>([], [], [], ["us-east-1"]),
  minAgeMs: fc.constantFrom(0, 24 * H),
  keepLatest: fc.constantFrom(0, 0, 1, 2),
  maxDeletesPerRun: fc.constantFrom(3, 100),
  allowEmpty: fc.boolean(),
  stopRunning: fc.boolean(),
  protectTags: fc.constantFrom<Record<string, string>>({}, { hold: "*" }, { hold: "yes" }),
  gracePeriodMs: fc.constantFrom(0, 0, 72 * H, 1 * H),
  maxDeletesPercent: fc.constantFrom(100, 100, 100, 50),
  requireApproval: fc.constantFrom(false, false, false, true),
  requireNotice: fc.constantFrom(false, false, true),
  notify: fc.boolean(),
  nearMissGuard: fc.constantFrom(true, true, true, false),
  windows: fc.constantFrom(...WINDOW_SETS),
  suspend: fc.constantFrom(undefined, undefined, undefined, undefined, undefined, undefined, { until: NOW + H }, { until: NOW - H }, {}),
}).map((p) => {
  const out: RefPolicy = { ...p };
  if (p.suspend === undefined) delete out.suspend;
  return out;
});

const setArb = fc.record({
  source: fc.constantFrom(...SOURCES),
  region: fc.constantFrom(...REGIONS),
  project: fc.constantFrom(...PROJECTS),
  listed: fc.oneof({ weight: 9, arbitrary: fc.uniqueArray(fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...NAMES) }, { weight: 1, arbitrary: fc.constantFrom("V1", "v9", "v10", "x0") }), { minLength: 1, maxLength: 3 }) }, { weight: 1, arbitrary: fc.constant([] as string[]) }),
  suspend: fc.constantFrom(undefined, undefined, undefined, undefined, undefined, undefined, undefined, { until: NOW + H }, { until: NOW - H }),
});

const versionArb = fc.record({
  name: fc.constantFrom(...NAMES),
  status: fc.constantFrom(...STATUSES),
  feature: fc.constantFrom("CUSTOM_LABELS", "CUSTOM_LABELS", "CONTENT_MODERATION"),
  ageHours: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 100, max: 3000 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 100 }) }),
  foreign: fc.integer({ min: 0, max: 19 }).map((n) => n === 0),
  tags: fc.oneof(
    { weight: 12, arbitrary: fc.record({ hold: fc.option(fc.constantFrom("yes", "no"), { nil: undefined, freq: 4 }), mark: fc.option(fc.constantFrom(...MARK_VALUES), { nil: undefined, freq: 2 }), approved: fc.option(fc.constantFrom(...MARK_VALUES, iso(NOW - 50 * H)), { nil: undefined, freq: 2 }), notice: fc.option(fc.constantFrom(...NOTICE_VALUES), { nil: undefined, freq: 3 }) }) },
    { weight: 1, arbitrary: fc.constant("error" as const) },
    { weight: 1, arbitrary: fc.constant("unread" as const) },
  ),
  copyOf: fc.option(fc.nat(20), { nil: undefined }),
});

/** A project as it exists in one (account, region): versions, and how reading it went. */
const projectArb = fc.record({
  read: fc.constantFrom("ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "error", "notFound"),
  versions: fc.uniqueArray(versionArb, { selector: (v) => v.name, maxLength: 6 }),
});

const worldArb = fc
  .record({
    sets: fc.array(setArb, { minLength: 1, maxLength: 3 }),
    identity: fc.record({ ambient: fc.constantFrom("ok", "ok", "ok", "ok", "ok", "ok", "ok", "fail"), other: fc.constantFrom("ok", "ok", "ok", "ok", "ok", "fail") }),
    projects: fc.record(Object.fromEntries([A1, A2].flatMap((a) => REGIONS.flatMap((r) => PROJECTS.map((p) => [`${a}|${r}|${p}`, projectArb] as const))))),
    policy: policyArb,
  })
  .map(({ sets: rawSets, identity, projects, policy }) => {
    const identities: IdentityFact[] = [
      identity.ambient === "ok" ? { source: "ambient", account: A1, arn: `arn:aws:iam::${A1}:user/me` } : { source: "ambient", error: "no credentials" },
      { source: SOURCES[1]!, account: A1, arn: `arn:aws:sts::${A1}:assumed-role/same-as-ambient/rekon` },
      identity.other === "ok" ? { source: SOURCES[2]!, account: A2, arn: `arn:aws:sts::${A2}:assumed-role/other/rekon` } : { source: SOURCES[2]!, error: "AccessDenied" },
    ];
    const sets: DesiredSet[] = rawSets.map((s, i) => ({ name: `set${i}`, pos: { file: `m${i}.yaml`, line: 1, col: 1 }, project: s.project, region: s.region, ...(s.source !== "ambient" ? { roleArn: s.source } : {}), versions: s.listed.map((name) => ({ name, pos })), ...(s.suspend ? { suspend: { reason: "test", until: s.suspend.until, origin: `set${i}` } } : {}) }));
    // The versions of every project in every (account, region), with ARNs, so copies can point anywhere.
    const all = new Map<string, LiveVersion[]>();
    for (const [key, p] of Object.entries(projects)) {
      const [account, region, project] = key.split("|") as [string, string, string];
      all.set(
        key,
        p.versions.map((v) => {
          const createdAt = NOW - v.ageHours * H;
          const acct = v.foreign ? "999999999999" : account;
          const tags = v.tags === "error" || v.tags === "unread" ? undefined : { ...(v.tags.hold ? { hold: v.tags.hold } : {}), ...(v.tags.mark ? { [MARK]: v.tags.mark } : {}), ...(v.tags.approved ? { "rekon.dev/deletion-approved": v.tags.approved } : {}), ...(v.tags.notice ? { [NOTICE]: v.tags.notice } : {}) };
          return { arn: `arn:aws:rekognition:${region}:${acct}:project/${project}/version/${v.name}/${createdAt}`, name: v.name, project, region, account: acct, status: v.status, createdAt, feature: v.status === "RUNNING" || v.status.startsWith("COPYING") ? "CUSTOM_LABELS" : v.feature, ...(tags ? { tags } : {}), ...(v.tags === "error" ? { tagsError: "AccessDenied" } : {}) } as LiveVersion;
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
    const acct = (s: DesiredSet) => identities.find((i) => i.source === (s.roleArn ?? "ambient"))?.account;
    const live: LiveProject[] = [];
    for (const s of sets) {
      const a = acct(s);
      if (!a) continue; // not read: its identity is unknown
      const key = `${a}|${s.region}|${s.project}`;
      const read = projects[key]?.read ?? "notFound";
      const base = { set: s.name, project: s.project, region: s.region, account: a };
      if (read === "ok") live.push({ ...base, status: "ok", projectArn: `arn:aws:rekognition:${s.region}:${a}:project/${s.project}/1`, versions: all.get(key) ?? [] });
      else live.push({ ...base, status: read as "error" | "notFound", versions: [], ...(read === "error" ? { error: "AccessDenied" } : { error: "not found" }) });
    }
    const world: RefWorld = { sets, identities, projects: live, policy, now: NOW };
    return world;
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
    protectTags: Object.entries(p.protectTags).map(([key, value]) => ({ key, value, origin: "property" })),
    gracePeriodMs: p.gracePeriodMs,
    gracePeriod: `${p.gracePeriodMs / H}h`,
    maxDeletesPercent: p.maxDeletesPercent,
    requireApproval: p.requireApproval,
    requireNotice: p.requireNotice,
    notifications: p.notify || p.requireNotice ? [{ name: "platform", url: { fromEnv: "REKON_WEBHOOK_URL" }, format: "json", events: ["marked", "deleted"], origin: "property" }] : [],
    nearMissGuard: p.nearMissGuard,
    windows: p.windows.map((w) => ({ ...w, duration: `${w.durationMs / H}h`, origin: "property" })),
    ...(p.suspend ? { suspend: { reason: "operator", ...(p.suspend.until !== undefined ? { until: p.suspend.until } : {}), origin: "property" } } : {}),
    origin: {},
  };
}

function gateOf(w: RefWorld): Gate {
  const live: LiveState = { projects: w.projects, identities: w.identities };
  return Gate.assess({ desired: { sets: w.sets, policies: [], files: [], digest: "x" }, live, policies: toPolicy(w.policy), now: new Date(w.now) });
}

// Worlds under requireNotice with few other guards, so that the mark and the notice decide in most of them.
const noticeWorlds: fc.Arbitrary<RefWorld> = fc.tuple(worldArb, fc.constantFrom(0, 72 * H, 72 * H, 1 * H)).map(([w, gracePeriodMs]) => {
  const { suspend: _s, ...rest } = w.policy;
  return { ...w, policy: { ...rest, gracePeriodMs, requireNotice: true, requireApproval: false, windows: [], maxDeletesPerRun: 100, maxDeletesPercent: 100, minAgeMs: 0, keepLatest: 0, allowEmpty: true, protectTags: {} } };
});

describe("the gate agrees with the independent reference model", () => {
  const agrees = (w: RefWorld) => {
    const plan = planWith(gateOf(w), new Date(w.now));
    const deletes = new Set(plan.actions.filter((a) => a.action === "delete").map((a) => a.versionArn!));
    expect([...deletes].sort()).toEqual([...refDeletable(w)].sort());
    const marks = new Set(plan.actions.filter((a) => a.mark === "add").map((a) => a.versionArn!));
    expect([...marks].sort()).toEqual([...refToMark(w)].sort());
    const notices = plan.actions.filter((a) => a.notice).map((a) => [a.versionArn!, a.notice!] as const);
    expect(notices.sort()).toEqual([...refNotices(w).entries()].sort());
  };

  it("plans delete exactly what the reference allows, and marks exactly what it would mark", () => {
    fc.assert(fc.property(worldArb, agrees), { numRuns: RUNS });
  });

  it("the same under requireNotice, with marks and notices of every age and shape (no notice, no deletion)", () => {
    fc.assert(fc.property(noticeWorlds, agrees), { numRuns: RUNS * 4 });
  });

  it("a version listed by any set that reaches its project is never deleted nor marked", () => {
    fc.assert(
      fc.property(worldArb, (w) => {
        const plan = planWith(gateOf(w), new Date(w.now));
        for (const a of plan.actions.filter((x) => x.action === "delete" || x.mark === "add")) {
          const [, , , , account] = a.versionArn!.split(":");
          for (const s of w.sets) {
            const sa = w.identities.find((i) => i.source === (s.roleArn ?? "ambient"))?.account;
            if ((sa === undefined || sa === account) && s.region === a.region && s.project === a.project) expect(s.versions.map((d) => d.name)).not.toContain(a.versionName);
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
          const listedLive = project.versions.filter((v) => owner.versions.some((d) => d.name === v.name) && v.status !== "DELETING").sort((x, y) => y.createdAt - x.createdAt || (x.arn < y.arn ? -1 : 1));
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
            const want = { keep: ["keep"], delete: ["delete", "stop then delete"], blocked: ["blocked", "held", "refused"], missing: [] }[a.action];
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

describe("signals in the middle of an apply (emulator, real SDK)", () => {
  it("whenever the stop comes, nothing unplanned is deleted, accepted ⇔ AWS carried it out, and never-sent writes are skipped", async () => {
    const log = pino({ level: "silent" });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 8 }), fc.integer({ min: 0, max: 6 }), fc.boolean(), async (n, stopAfter, abandon) => {
        const state: EmulatorStateFile = { account: A1, projects: [{ name: "p", versions: [{ name: "keep", status: "STOPPED", age: "1d" }, ...Array.from({ length: n }, (_, i) => ({ name: `old${i}`, status: "STOPPED" as const, age: `${100 + i}d` }))] }] };
        const emu = await startEmulator({ state, deleteDelayMs: 10_000, faults: { rules: [{ operation: "DeleteProjectVersion", delayMs: 150 }] } });
        try {
          const desired = { sets: [{ name: "s", pos, project: "p", region: "us-east-1", versions: [{ name: "keep", pos }] }], policies: [], files: [], digest: "x" };
          const pass = await passFor({ desired, policies: toPolicy({ allowedAccounts: [A1], allowedRegions: [], minAgeMs: 0, keepLatest: 0, maxDeletesPerRun: 100, allowEmpty: false, stopRunning: false, protectTags: {}, gracePeriodMs: 0, maxDeletesPercent: 100, requireApproval: false, requireNotice: false, notify: false, nearMissGuard: true, windows: [] }) }, { log, client: { endpoint: emu.url, stsEndpoint: emu.url, credentials: TEST_CREDENTIALS } });
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
          const ok = new Set(emu.calls().filter((c) => c.operation === "DeleteProjectVersion" && c.outcome === "ok").map((c) => c.target));
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
