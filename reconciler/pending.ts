// What will be deleted, and when: one row per version that carries rekon's pending-delete mark or that
// apply marks now, with the time it becomes deletable and every hold it still waits for. Shared by
// `rekon pending` and the controller's status page, so the two say the same thing.
//
// Pure (no I/O, no clock: the plan's `generatedAt` is now). The decisions are the gate's: each row's holds
// are the reasons of the plan's action, and their times come from the same verdict the plan was made from
// (Gate.verdict) and the same verified reading of the state tags (Gate.stateTag). This module only adds the
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
  const now = Date.parse(plan.generatedAt);
  const actions = new Map<string, PlanAction>();
  for (const a of plan.actions) if (a.versionArn) actions.set(`${a.set}\n${a.versionArn}`, a);
  const refusalRules = new Set(plan.refusals.map((r) => r.rule));
  const rows: PendingRow[] = [];
  for (const view of gate.views) {
    if (!view.project || view.status !== "ok") continue;
    for (const v of view.project.versions) {
      const a = actions.get(`${view.set.name}\n${v.arn}`);
      const marked = v.tags !== undefined && Object.hasOwn(v.tags, MARK_TAG);
      if (!a || (!marked && a.mark !== "add")) continue;
      rows.push(rowOf(gate, view, v, a, now, refusalRules));
    }
  }
  return rows.sort(compareRows);
}

function rowOf(gate: Gate, view: SetView, v: LiveVersion, a: PlanAction, now: number, refusalRules: ReadonlySet<string>): PendingRow {
  const policy = view.policy;
  const verdict = gate.verdict(view, v, now);
  const reading = gate.stateTag(v, MARK_TAG);
  // The mark the holds count from: believed only when it verifies (tag signing) and is a time rekon wrote.
  const since = reading && !("trouble" in reading) ? parseMark(reading.time, now) : undefined;
  const noticeReading = gate.stateTag(v, NOTICE_TAG);
  const noticed = since !== undefined && noticeReading && !("trouble" in noticeReading) ? parseMark(noticeReading.time, now) : undefined;
  const state: PendingRow["state"] = a.action === "delete" ? "deletable" : verdict.keep || a.mark === "remove" ? "unmarking" : "waiting";

  const waits: PendingWait[] = [];
  if (verdict.keep)
    waits.push({ kind: "kept", rule: "listed", message: `listed again by ProjectVersionSet "${view.set.name}": apply removes its mark, and it is kept` });
  else if (state !== "deletable")
    for (const r of a.reasons) {
      const kind: WaitKind = refusalRules.has(r.rule) ? "refused" : (WAIT_KIND[r.rule] ?? "kept");
      waits.push({ kind, rule: r.rule, ...untilOf(kind, { since, noticed, now, policy, verdict, markAdded: a.mark === "add" }), message: r.message });
    }

  const row: PendingRow = {
    project: view.set.project,
    region: view.set.region,
    ...(view.account ? { account: view.account } : {}),
    set: view.set.name,
    version: v.name,
    versionArn: v.arn,
    status: v.status,
    state,
    waits,
  };
  const markValue = v.tags?.[MARK_TAG];
  if (markValue !== undefined) row.markedAt = stateTagTime(markValue);
  if (a.mark === "add") row.markAdded = true;
  const at = deletableAt(state, waits, now, policy.windows);
  if (at !== undefined) row.deletableAt = iso(at);
  const notice = a.notice ?? verdict.notice;
  if (notice && state !== "unmarking") row.notice = { state: notice, ...(noticed !== undefined ? { deliveredAt: iso(noticed) } : {}) };
  if (policy.requireApproval && state !== "unmarking") {
    const approved = parseMark(v.tags?.[APPROVAL_TAG], now);
    row.approval = since !== undefined && approved !== undefined && approved > since ? { state: "approved", approvedAt: iso(approved) } : { state: "missing" };
  }
  if (gate.policies.operator.tagSigning && reading) row.signature = "trouble" in reading ? reading.trouble : "verified";
  return row;
}

interface Times {
  since: number | undefined;
  noticed: number | undefined;
  now: number;
  policy: SetView["policy"];
  verdict: { windowOpensAt?: number };
  markAdded: boolean;
}

/** When one wait ends, where that is known. */
function untilOf(kind: WaitKind, t: Times): { until?: string } {
  const grace = t.policy.gracePeriodMs;
  switch (kind) {
    case "gracePeriod":
      if (t.since !== undefined) return { until: iso(t.since + grace) };
      // A mark apply writes now; under requireNotice the period counts from the notice instead (unknown yet).
      return t.markAdded && !t.policy.requireNotice ? { until: iso(t.now + grace) } : {};
    case "notice":
      return t.noticed !== undefined ? { until: iso(t.noticed + grace) } : {};
    case "window":
      return t.verdict.windowOpensAt !== undefined ? { until: iso(t.verdict.windowOpensAt) } : {};
    default:
      // A person's approval, a suspension, a signature rewritten, a refused run: no time anyone can tell.
      return {};
  }
}

/** Now when deletable; else the end of the last timed wait, at or after the next opening of the windows; undefined when any wait has no end. */
function deletableAt(state: PendingRow["state"], waits: readonly PendingWait[], now: number, windows: SetView["policy"]["windows"]): number | undefined {
  if (state === "deletable") return now;
  if (state === "unmarking" || waits.length === 0) return undefined;
  let t = now;
  for (const w of waits) {
    // A mark or notice tag that does not verify is rewritten by the next apply, not waited for: the grace
    // wait beside it carries the time.
    if (w.kind === "signature") continue;
    if (w.until === undefined) return undefined;
    if (w.kind !== "window") t = Math.max(t, Date.parse(w.until));
  }
  if (windows.length === 0) return t;
  const wv = windowVerdict(windows, t);
  return wv.allowed ? t : wv.nextAllowed;
}

function compareRows(a: PendingRow, b: PendingRow): number {
  const ta = a.deletableAt === undefined ? Infinity : Date.parse(a.deletableAt);
  const tb = b.deletableAt === undefined ? Infinity : Date.parse(b.deletableAt);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return a.project < b.project ? -1 : a.project > b.project ? 1 : a.version < b.version ? -1 : a.version > b.version ? 1 : 0;
}
