// `rekon approve`: whether a person's approval may be written for one version, and what it changes. The
// approval tag (rekon.dev/deletion-approved) lifts one hold only, requireApproval; so it is written only for
// a version that is marked now (a mark rekon could have written — under tag signing, one that verifies)
// and that every guard lets go, so that the approval is the thing it waits for. Other holds may remain —
// the grace period, the notice, a deletion window — and are said (approving a version still in its grace
// period is how a reviewer signs off early); a version a guard keeps (listed, protected, in use, too
// young, an unreadable tag, a suspension) is refused: approving it would leave a live approval on a
// version whose mark is about to be removed or that nobody should delete.
//
// Pure, like every gate decision: `now` is the verified clock, handed in.
import { APPROVAL_TAG, formatMark, parseMark } from "../policy/guards.js";
import { type LiveVersion, type Reason, type RuleId } from "../types.js";
import { mint, writeTarget, type Approved, type ApprovalWrite } from "./approvals.js";
import type { HoldState } from "./facts.js";
import { grace } from "./holds/grace.js";
import { verdictOf } from "./verdict.js";
import type { SetView, WorldIndex } from "./world.js";

/** The holds an approval may leave in place: time and notice lift them, and apply deletes then. */
const WAITS: ReadonlySet<RuleId | string> = new Set(["gracePeriod", "noticeNotDelivered", "window", "approvalRequired"]);

export type ApprovalDecision =
  | {
      kind: "approve";
      write: Approved<ApprovalWrite>;
      /** The mark's time (RFC 3339). */
      markedAt: string;
      /** What still holds it once approved (empty: the next apply deletes it). */
      holds: Reason[];
      deletableAt?: string;
    }
  /** Approved already (an approval later than its mark): nothing to write. */
  | { kind: "already"; markedAt: string; approvedAt: string; holds: Reason[]; deletableAt?: string }
  | { kind: "refuse"; rule: RuleId; reasons: Reason[] };

const refuse = (rule: RuleId, message: string, more: Reason[] = []): ApprovalDecision => ({ kind: "refuse", rule, reasons: [{ rule, message }, ...more] });

export function decideApproval(index: WorldIndex, view: SetView, v: LiveVersion, now: number): ApprovalDecision {
  const listed = index.listedBy(v);
  if (listed) return refuse("listed", `listed by ProjectVersionSet "${listed.name}" (${listed.pos.file}:${listed.pos.line}:${listed.pos.col}): rekon keeps it`);
  if (!view.project || view.status !== "ok" || !view.account) return refuse("notRead", view.error ?? "its project was not read");
  const policy = view.policy;
  if (!policy.requireApproval)
    return refuse("notPlanned", `the policy does not set requireApproval for project ${view.set.project}: there is no approval to give`);
  const facts = { index, view, policy, v, now };
  const verdict = verdictOf(facts);
  const blocking = verdict.reasons.filter((r) => !WAITS.has(r.rule));
  if (blocking.length) return { kind: "refuse", rule: blocking[0]!.rule as RuleId, reasons: blocking };
  // The mark as the grace hold believes it (verified under tag signing).
  const st: HoldState = {};
  grace.run(facts, st);
  if (st.since === undefined || verdict.mark === "add")
    return refuse("approvalRequired", "it carries no valid pending-delete mark yet: rekon apply marks it first, and an approval must be later than the mark");
  const markedAt = new Date(st.since).toISOString();
  const prior = parseMark(v.tags?.[APPROVAL_TAG], now);
  if (prior !== undefined && prior > st.since) {
    const holds = verdict.reasons.filter((r) => r.rule !== "approvalRequired");
    return {
      kind: "already",
      markedAt,
      approvedAt: new Date(prior).toISOString(),
      holds,
      ...(verdict.deletableAt ? { deletableAt: verdict.deletableAt } : {}),
    };
  }
  const value = formatMark(now);
  // The hold wants an approval later than the mark; one written in the mark's own second would not count.
  if (Date.parse(value) <= st.since) return refuse("changed", `it was marked at ${markedAt}, less than a second ago; approve it again in a moment`);
  // What the verdict is once the approval is there: it must be waiting on nothing but time and notice.
  const after = verdictOf({ ...facts, v: { ...v, tags: { ...v.tags, [APPROVAL_TAG]: value } } });
  const still = after.reasons.filter((r) => !WAITS.has(r.rule) || r.rule === "approvalRequired");
  if (still.length) return { kind: "refuse", rule: still[0]!.rule as RuleId, reasons: still };
  const write = mint({
    kind: "approval",
    ...writeTarget(view.set, view.account, v),
    value,
  } satisfies ApprovalWrite);
  return { kind: "approve", write, markedAt, holds: after.reasons, ...(after.deletableAt ? { deletableAt: after.deletableAt } : {}) };
}
