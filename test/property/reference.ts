// An independent reference model of "may this version be deleted now?", written from the documented rules (docs/manifests-and-policy.md, docs/safety.md)
// (Safety guarantees, Guards, Grace period, Several accounts) and deliberately naive: loops over plain
// data, no shared helpers with the planner or the gate (only their data types). The property tests hold
// the gate to it; where the two disagree, one of them misreads the docs.
import { Cron } from "croner";
import type { DesiredSet, IdentityFact, LiveProject, LiveVersion } from "../../reconciler/types.js";

export interface RefPolicy {
  allowedAccounts: string[];
  allowedRegions: string[];
  minAgeMs: number;
  keepLatest: number;
  maxDeletesPerRun: number;
  allowEmpty: boolean;
  stopRunning: boolean;
  /** key → value, "*" = any value. */
  protectTags: Record<string, string>;
  gracePeriodMs: number;
  /** Per project: more than this share deleted refuses the run. */
  maxDeletesPercent: number;
  requireApproval: boolean;
  /** Delete only after a channel accepted the `marked` notice of this mark, gracePeriod ago (notice tag). */
  requireNotice: boolean;
  /** Whether the policy has notification channels at all (then marked versions show their notice status). */
  notify: boolean;
  nearMissGuard: boolean;
  windows: { kind: "deny" | "allow"; schedule: string; durationMs: number; timeZone: string }[];
  /** The operator's suspension (until: epoch ms). */
  suspend?: { until?: number };
}

export interface RefWorld {
  sets: DesiredSet[];
  identities: IdentityFact[];
  projects: LiveProject[];
  policy: RefPolicy;
  now: number;
}

const STATUSES = ["TRAINING_IN_PROGRESS", "TRAINING_COMPLETED", "TRAINING_FAILED", "STARTING", "RUNNING", "FAILED", "STOPPING", "STOPPED", "DELETING", "COPYING_IN_PROGRESS", "COPYING_COMPLETED", "COPYING_FAILED", "DEPRECATED", "EXPIRED"];
const BUSY = ["RUNNING", "STARTING", "STOPPING", "TRAINING_IN_PROGRESS", "COPYING_IN_PROGRESS", "DELETING"];
const MARK = "rekon.dev/pending-delete-since";
const APPROVED = "rekon.dev/deletion-approved";
const NOTICE = "rekon.dev/notice-delivered-at";

/** Levenshtein distance, the textbook dynamic programme. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) for (let j = 1; j <= b.length; j++) d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

/** docs/manifests-and-policy.md: a window occurrence starts at each cron time and lasts its duration. */
function windowOpen(w: RefPolicy["windows"][number], now: number): boolean {
  // Occurrences are [start, start + duration); nextRun is strictly after the time given.
  const start = new Cron(w.schedule, { timezone: w.timeZone, paused: true }).nextRun(new Date(now - w.durationMs));
  return start !== null && start.getTime() <= now;
}

function deletionAllowedNow(pol: RefPolicy, now: number): boolean {
  if (pol.windows.some((w) => w.kind === "deny" && windowOpen(w, now))) return false;
  const allows = pol.windows.filter((w) => w.kind === "allow");
  return allows.length === 0 || allows.some((w) => windowOpen(w, now));
}

function suspendedNow(world: RefWorld, set: DesiredSet): boolean {
  const live = (s: { until?: number } | undefined) => s !== undefined && (s.until === undefined || world.now < s.until);
  return live(world.policy.suspend) || live(set.suspend);
}

function accountOf(world: RefWorld, set: DesiredSet): string | undefined {
  const source = set.roleArn ? set.roleArn : "ambient";
  for (const i of world.identities) if (i.source === source && i.account) return i.account;
  return undefined;
}

function sameProject(world: RefWorld, a: DesiredSet, b: DesiredSet): boolean {
  const x = accountOf(world, a);
  const y = accountOf(world, b);
  return x !== undefined && x === y && a.region === b.region && a.project === b.project;
}

/** docs/manifests-and-policy.md: a mark counts only as RFC 3339 in UTC (`2026-11-29T10:00:00Z`), a real date, not in the future. */
export function refMarkTime(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d\d\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(value)) return undefined;
  const t = new Date(value).getTime();
  if (Number.isNaN(t)) return undefined;
  // A date that does not exist (Feb 30) rolls over in Date: compare the calendar fields back.
  if (new Date(t).toISOString().slice(0, 19) !== value.slice(0, 19)) return undefined;
  if (t > now + 5 * 60_000) return undefined;
  return t;
}

function readOk(world: RefWorld, set: DesiredSet): LiveProject | undefined {
  for (const p of world.projects) if (p.set === set.name && p.project === set.project && p.region === set.region) return p.status === "ok" ? p : undefined;
  return undefined;
}

/** Every reason docs/manifests-and-policy.md gives for keeping `v` (a version of `owner`'s project), except the budget. */
export function refReasons(world: RefWorld, owner: DesiredSet, v: LiveVersion): string[] {
  const out: string[] = [];
  const pol = world.policy;
  const account = accountOf(world, owner);
  const project = readOk(world, owner);
  if (account === undefined) return ["identity unresolved"];
  for (const other of world.sets) if (other !== owner && sameProject(world, owner, other)) return ["two sets own the project"];
  if (!project) return ["project not read"];
  if (project.account !== undefined && project.account !== account) return ["project in another account"];

  // Listed by any set that reaches this very project (or that might: its account is unknown).
  for (const s of world.sets) {
    const a = accountOf(world, s);
    const reaches = (a === undefined || a === v.account) && s.region === v.region && s.project === v.project;
    if (reaches && s.versions.some((d) => d.name === v.name)) out.push("listed");
  }
  if (v.account !== account || v.region !== owner.region || v.project !== owner.project) out.push("identity");

  if (!STATUSES.includes(v.status)) out.push("unknown status");
  const stoppable = pol.stopRunning && v.status === "RUNNING" && v.feature === "CUSTOM_LABELS";
  if (BUSY.includes(v.status) && !stoppable) out.push("in use");

  for (const p of world.projects) for (const x of p.versions) if (x.status === "COPYING_IN_PROGRESS" && x.sourceVersionArn === v.arn) out.push("copy source");
  // A project of the same region (in any account: a copy may go to another account) that was not read
  // could hold a copy in progress.
  for (const s of world.sets) {
    const a = accountOf(world, s);
    if (s.region !== v.region) continue;
    if (a === undefined) out.push("copy source unknown (unresolved identity)");
    else {
      const p = world.projects.find((x) => x.set === s.name && x.project === s.project && x.region === s.region);
      if (!p || p.status === "error") out.push("copy source unknown (read failure)");
    }
  }

  if (world.now - v.createdAt < pol.minAgeMs) out.push("too young");
  if (pol.keepLatest > 0) {
    const ranked = project.versions.filter((x) => x.status !== "DELETING").sort((a, b) => b.createdAt - a.createdAt || (a.arn < b.arn ? -1 : a.arn > b.arn ? 1 : 0));
    if (ranked.slice(0, pol.keepLatest).some((x) => x.arn === v.arn)) out.push("latest");
  }
  if (!pol.allowEmpty) {
    if (owner.versions.length === 0) out.push("empty list");
    else if (!owner.versions.some((d) => project.versions.some((x) => x.name === d.name && x.status !== "DELETING"))) out.push("no listed name exists (or only DELETING ones)");
  }
  if (pol.allowedAccounts.length > 0 && !pol.allowedAccounts.includes(v.account)) out.push("account not allowed");
  if (pol.allowedRegions.length > 0 && !pol.allowedRegions.includes(v.region)) out.push("region not allowed");
  if (pol.nearMissGuard) {
    for (const d of owner.versions) {
      if (project.versions.some((x) => x.name === d.name)) continue; // listed and there: not a miss
      if (d.name.toLowerCase() === v.name.toLowerCase() || d.name.trim() === v.name.trim() || distance(d.name, v.name) <= 1) out.push("near miss");
    }
  }
  if (out.length > 0) return out;

  const needTags = Object.keys(pol.protectTags).length > 0 || pol.gracePeriodMs > 0 || pol.requireApproval || pol.requireNotice;
  if (needTags) {
    if (v.tags === undefined) return ["tags unreadable"];
    for (const [k, val] of Object.entries(pol.protectTags)) if (k in v.tags && (val === "*" || v.tags[k] === val)) out.push("protected");
    if (out.length > 0) return out;
  }
  // Holds: they keep the version (and its mark), they never remove a mark.
  const holds: string[] = [];
  const marked = pol.gracePeriodMs > 0 || pol.requireApproval || pol.requireNotice;
  const since = marked ? refMarkTime(v.tags?.[MARK], world.now) : undefined;
  if (marked && since === undefined) holds.push("hold: no mark");
  if (pol.gracePeriodMs > 0 && since !== undefined && world.now - since < pol.gracePeriodMs) holds.push("hold: grace not yet");
  // docs/notifications.md: the notice counts once a channel accepted it, at or after the mark, and gracePeriod has
  // passed since then.
  if (pol.requireNotice && !noticeCounts(v, since, world.now, pol.gracePeriodMs)) holds.push("hold: notice");
  if (pol.requireApproval) {
    const ok = refMarkTime(v.tags?.[APPROVED], world.now);
    if (since === undefined || ok === undefined || ok <= since) holds.push("hold: not approved");
  }
  if (!deletionAllowedNow(pol, world.now)) holds.push("hold: window");
  if (suspendedNow(world, owner)) holds.push("hold: suspended");
  return holds;
}

function noticeTime(v: LiveVersion, since: number | undefined, now: number): number | undefined {
  if (since === undefined) return undefined;
  const n = refMarkTime(v.tags?.[NOTICE], now);
  return n !== undefined && n >= since ? n : undefined;
}

function noticeCounts(v: LiveVersion, since: number | undefined, now: number, graceMs: number): boolean {
  const n = noticeTime(v, since, now);
  return n !== undefined && now - n >= graceMs;
}

/** Every unlisted version of every read project, with its reasons. */
function candidates(world: RefWorld): { set: DesiredSet; project: LiveProject; v: LiveVersion; reasons: string[] }[] {
  const out: { set: DesiredSet; project: LiveProject; v: LiveVersion; reasons: string[] }[] = [];
  for (const s of world.sets) {
    const p = readOk(world, s);
    if (!p) continue;
    for (const v of p.versions) if (!s.versions.some((d) => d.name === v.name)) out.push({ set: s, project: p, v, reasons: refReasons(world, s, v) });
  }
  return out;
}

/** Whether the run is over a budget: more deletions than maxDeletesPerRun, or more than maxDeletesPercent of a project. */
function overBudget(world: RefWorld, deletable: { set: DesiredSet; project: LiveProject }[]): boolean {
  if (deletable.length > world.policy.maxDeletesPerRun) return true;
  for (const s of world.sets) {
    const p = readOk(world, s);
    if (!p) continue;
    const n = deletable.filter((d) => d.set === s).length;
    // Of the versions not already DELETING.
    if (n > 0 && n * 100 > world.policy.maxDeletesPercent * p.versions.filter((v) => v.status !== "DELETING").length) return true;
  }
  return false;
}

/** The ARNs the docs allow a run to delete now, budgets included (over a budget: none at all). */
export function refDeletable(world: RefWorld): Set<string> {
  const ok = candidates(world).filter((c) => c.reasons.length === 0);
  return overBudget(world, ok) ? new Set() : new Set(ok.map((c) => c.v.arn));
}

/** The ARNs apply marks: kept only by holds, with no usable mark, and not suspended (nothing is written then). */
export function refToMark(world: RefWorld): Set<string> {
  const all = candidates(world);
  if (overBudget(world, all.filter((c) => c.reasons.length === 0))) return new Set(); // an over-budget run writes nothing
  return new Set(all.filter((c) => c.reasons.length > 0 && c.reasons.every((r) => r.startsWith("hold:")) && c.reasons.includes("hold: no mark") && !c.reasons.includes("hold: suspended")).map((c) => c.v.arn));
}

/**
 * The notice status docs/notifications.md says a plan shows: for every marked version (or one apply marks) that
 * nothing but a hold keeps, and that is not suspended, when the policy has channels or requireNotice;
 * none at all for a refused run (nothing is written).
 */
export function refNotices(world: RefWorld): Map<string, "delivered" | "pending" | "notRequired"> {
  const pol = world.policy;
  const out = new Map<string, "delivered" | "pending" | "notRequired">();
  const marked = pol.gracePeriodMs > 0 || pol.requireApproval || pol.requireNotice;
  if (!marked || !(pol.notify || pol.requireNotice)) return out;
  const all = candidates(world);
  if (overBudget(world, all.filter((c) => c.reasons.length === 0))) return out;
  for (const c of all) {
    if (!c.reasons.every((r) => r.startsWith("hold:")) || c.reasons.includes("hold: suspended")) continue;
    if (!pol.requireNotice) out.set(c.v.arn, "notRequired");
    else out.set(c.v.arn, noticeTime(c.v, refMarkTime(c.v.tags?.[MARK], world.now), world.now) !== undefined ? "delivered" : "pending");
  }
  return out;
}
