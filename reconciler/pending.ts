// What will be deleted, and when: one row per version that carries rekon's pending-delete mark or that
// apply marks now, with the time it becomes deletable and every hold it still waits for. Shared by
// `rekon pending` and the controller's status page, so the two say the same thing.
//
// Pure (no I/O, no clock: the plan's `generatedAt` is now). The decisions are the gate's: each row's holds
// are the reasons of the plan's action (the gate's verdict, as the plan laid it out), and their times come
// from the same verified reading of the state tags (Gate.stateTag) and the same windows. It does not ask the
// gate again: at 100,000 marked versions that would cost the controller a second plan. This module only adds the
// arithmetic a reader wants: when the last known wait ends, and where that falls against the windows.
import type { Gate, SetView } from "./gate/index.js";
import { APPROVAL_TAG, MARK_TAG, NOTICE_TAG, parseMark } from "./policy/guards.js";
import { stateTagTime } from "./policy/marks.js";
import { windowVerdict } from "./policy/windows.js";
import type { LiveVersion, Plan, PlanAction } from "./types.js";
import type { PendingRow, PendingWait, WaitKind } from "./types/status.js";

export type { PendingRow, PendingWait, WaitKind };

const WAIT_KIND: Record<string, WaitKind> = {
  gracePeriod: "gracePeriod",
  noticeNotDelivered: "notice",
  approvalRequired: "approval",
  window: "window",
  suspended: "suspended",
  markUnsigned: "signature",
  markForged: "signature",
};

const iso = (ms: number) => new Date(ms).toISOString();

/** Every version that carries a mark or is marked now, soonest deletable first (unknown last). */
export function pendingRows(gate: Gate, plan: Plan): PendingRow[] {
  return pendingSummary(gate, plan, Infinity).rows;
}

/**
 * The first `limit` rows (in pendingRows' order), how many there are in all, and per set how many are
 * marked or marked now and not leaving their mark. Only the rows kept are made and held: the controller
 * asks for its page's few hundred of what may be 100,000 marked versions.
 */
export function pendingSummary(gate: Gate, plan: Plan, limit: number): { rows: PendingRow[]; total: number; markedBySet: Map<string, number> } {
  const now = Date.parse(plan.generatedAt);
  // Per set, by ARN (the plan's ARN strings are the live versions': no new string is hashed). Only the
  // actions a pending version can have: a mark written or removed, a deletion, a hold.
  const actions = new Map<string, Map<string, PlanAction>>();
  for (const a of plan.actions) {
    if (!a.versionArn || !(a.mark || a.action === "delete" || a.action === "blocked")) continue;
    let m = actions.get(a.set);
    if (!m) actions.set(a.set, (m = new Map()));
    m.set(a.versionArn, a);
  }
  const refusalRules = new Set(plan.refusals.map((r) => r.rule));
  const kept: Draft[] = [];
  const markedBySet = new Map<string, number>();
  let total = 0;
  for (const view of gate.views) {
    const mine = actions.get(view.set.name);
    if (!mine || !view.project || view.status !== "ok") continue;
    for (const v of view.project.versions) {
      const a = mine.get(v.arn);
      const marked = v.tags !== undefined && Object.hasOwn(v.tags, MARK_TAG);
      if (!a || (!marked && a.mark !== "add")) continue;
      const d = draftOf(gate, view, v, a, now, refusalRules);
      total++;
      if (d.state !== "unmarking") markedBySet.set(view.set.name, (markedBySet.get(view.set.name) ?? 0) + 1);
      insertBounded(kept, d, limit);
    }
  }
  return { rows: kept.map((d) => d.make()), total, markedBySet };
}

/** A row before its words: what it is sorted by, and how to make it (only for the rows kept). */
interface Draft {
  /** deletableAt (epoch ms), Infinity when unknown. */
  key: number;
  project: string;
  version: string;
  state: PendingRow["state"];
  make(): PendingRow;
}

/** A wait with its end as a number, until the row is made. */
type RawWait = Omit<PendingWait, "until"> & { until?: number };

/** Insert `d` into `rows` (sorted by compareDrafts), keeping at most `limit`. */
function insertBounded(rows: Draft[], d: Draft, limit: number): void {
  if (limit <= 0 || (rows.length >= limit && compareDrafts(d, rows[rows.length - 1]!) >= 0)) return;
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareDrafts(rows[mid]!, d) <= 0) lo = mid + 1;
    else hi = mid;
  }
  rows.splice(lo, 0, d);
  if (rows.length > limit) rows.pop();
}

function draftOf(gate: Gate, view: SetView, v: LiveVersion, a: PlanAction, now: number, refusalRules: ReadonlySet<string>): Draft {
  const policy = view.policy;
  const listed = a.action === "keep" || a.action === "start" || a.action === "stop";
  const reading = gate.stateTag(v, MARK_TAG);
  // The mark the holds count from: believed only when it verifies (tag signing) and is a time rekon wrote.
  const since = reading && !("trouble" in reading) ? parseMark(reading.time, now) : undefined;
  const noticeReading = since !== undefined ? gate.stateTag(v, NOTICE_TAG) : undefined;
  const noticed = noticeReading && !("trouble" in noticeReading) ? parseMark(noticeReading.time, now) : undefined;
  const state: PendingRow["state"] = a.action === "delete" ? "deletable" : listed || a.mark === "remove" ? "unmarking" : "waiting";

  const waits: RawWait[] = [];
  if (listed)
    waits.push({ kind: "kept", rule: "listed", message: `listed again by ProjectVersionSet "${view.set.name}": apply removes its mark, and it is kept` });
  else if (state !== "deletable")
    for (const r of a.reasons) {
      const kind: WaitKind = refusalRules.has(r.rule) ? "refused" : (WAIT_KIND[r.rule] ?? "kept");
      const until = untilOf(kind, { since, noticed, now, policy, markAdded: a.mark === "add" });
      waits.push({ kind, rule: r.rule, ...(until !== undefined ? { until } : {}), message: r.message });
    }
  const at = deletableAt(state, waits, now, policy.windows);

  const make = (): PendingRow => {
    const row: PendingRow = {
      project: view.set.project,
      region: view.set.region,
      ...(view.account ? { account: view.account } : {}),
      set: view.set.name,
      version: v.name,
      versionArn: v.arn,
      status: v.status,
      state,
      waits: waits.map(({ until, ...w }) => ({ kind: w.kind, rule: w.rule, ...(until !== undefined ? { until: iso(until) } : {}), message: w.message })),
    };
    const markValue = v.tags?.[MARK_TAG];
    if (markValue !== undefined) row.markedAt = stateTagTime(markValue);
    if (a.mark === "add") row.markAdded = true;
    if (at !== undefined) row.deletableAt = iso(at);
    if (a.notice) row.notice = { state: a.notice, ...(noticed !== undefined ? { deliveredAt: iso(noticed) } : {}) };
    if (policy.requireApproval && state !== "unmarking") {
      const approved = parseMark(v.tags?.[APPROVAL_TAG], now);
      row.approval =
        since !== undefined && approved !== undefined && approved > since ? { state: "approved", approvedAt: iso(approved) } : { state: "missing" };
    }
    if (gate.policies.operator.tagSigning && reading) row.signature = "trouble" in reading ? reading.trouble : "verified";
    return row;
  };
  return { key: at ?? Infinity, project: view.set.project, version: v.name, state, make };
}

interface Times {
  since: number | undefined;
  noticed: number | undefined;
  now: number;
  policy: SetView["policy"];
  markAdded: boolean;
}

/** When one wait ends (epoch ms), where that is known. */
function untilOf(kind: WaitKind, t: Times): number | undefined {
  const grace = t.policy.gracePeriodMs;
  switch (kind) {
    case "gracePeriod":
      if (t.since !== undefined) return t.since + grace;
      // A mark apply writes now; under requireNotice the period counts from the notice instead (unknown yet).
      return t.markAdded && !t.policy.requireNotice ? t.now + grace : undefined;
    case "notice":
      return t.noticed !== undefined ? t.noticed + grace : undefined;
    case "window":
      // As the window hold computes it (holds/window.ts): when deletion is next allowed, from now.
      return windowVerdict(t.policy.windows, t.now).nextAllowed;
    default:
      // A person's approval, a suspension, a signature rewritten, a refused run: no time anyone can tell.
      return undefined;
  }
}

/** Now when deletable; else the end of the last timed wait, at or after the next opening of the windows; undefined when any wait has no end. */
function deletableAt(state: PendingRow["state"], waits: readonly RawWait[], now: number, windows: SetView["policy"]["windows"]): number | undefined {
  if (state === "deletable") return now;
  if (state === "unmarking" || waits.length === 0) return undefined;
  let t = now;
  for (const w of waits) {
    // A mark or notice tag that does not verify is rewritten by the next apply, not waited for: the grace
    // wait beside it carries the time.
    if (w.kind === "signature") continue;
    if (w.until === undefined) return undefined;
    if (w.kind !== "window") t = Math.max(t, w.until);
  }
  if (windows.length === 0) return t;
  const wv = windowVerdict(windows, t);
  return wv.allowed ? t : wv.nextAllowed;
}

function compareDrafts(a: Draft, b: Draft): number {
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return a.project < b.project ? -1 : a.project > b.project ? 1 : a.version < b.version ? -1 : a.version > b.version ? 1 : 0;
}
