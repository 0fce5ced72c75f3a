// After the deletions: the grace-period marks, then the notices (told once every deletion and mark is done,
// so a webhook never delays a deletion) and the tags that record their delivery.
import pLimit from "p-limit";
import type { WriteCall } from "../aws/client.js";
import { sendMark, sendNotice, sendUnmark } from "../aws/writes.js";
import type { PlanAction } from "../types.js";
import type { AwsAnswer, Slot } from "./context.js";
import type { Run } from "./run.js";

/**
 * Grace-period marks, after the deletions; each approved by the gate on the plan's facts, and dated when
 * it is written, not when the plan was made: an apply that waited at its prompt (or a saved plan applied
 * days later) must not start the grace period in the past.
 */
export async function markPhase(r: Run): Promise<void> {
  const limit = pLimit(r.concurrency);
  await Promise.all(
    r.marks.map((s) =>
      limit(async () => {
        if (r.stopped()) return;
        const log = r.ctx.log.child({ versionArn: s.action.versionArn });
        const d = r.ctx.gate.approveMark(r.ctx.auth, s.action, r.now());
        if ("denied" in d) {
          log.warn({ reasons: d.reasons }, "mark not approved");
          return r.finish(s, { result: "changed", reasons: d.reasons, error: d.reasons.map((r) => `${r.rule}: ${r.message}`).join("; ") });
        }
        const call =
          d.kind === "mark"
            ? await sendMark(d, r.ctx, { ...(r.ctx.stop ? { stop: r.ctx.stop } : {}), beforeSend: () => void (s.sent = true) })
            : await sendUnmark(d, r.ctx, { ...(r.ctx.stop ? { stop: r.ctx.stop } : {}), beforeSend: () => void (s.sent = true) });
        if (call.kind === "ok") log.info({ operation: s.operation }, s.operation === "mark" ? "marked pending deletion" : "pending-deletion mark removed");
        r.finish(s, { ...r.outcome(s, call as WriteCall<AwsAnswer>, log, s.operation), ...(d.kind === "mark" ? { markedAt: d.at } : {}) });
      }),
    ),
  );
}

/**
 * After every deletion and mark: tell what the run did, then record each notice a channel accepted — the
 * `marked` notice under requireNotice (pending on the plan, its mark in place or written just now) and a
 * due reminder — through the gate, as writes with results of their own. A `marked` notice that reached
 * no channel is a `skipped` result (code noticeNotDelivered): its version stays held, and the next run
 * sends it again. Deliveries go out even after a signal (people should hear what was done); tags do not.
 */
export async function noticePhase(r: Run): Promise<void> {
  const hook = r.ctx.notices;
  if (!hook) return;
  const delivered = await hook.deliver(r.all.map((s) => s.result!));
  // The notifier times deliveries on the local clock; the gate decides on the verified one (AWS's time,
  // aws/clock.ts): the same instant, said on the clock every other time in a decision is on.
  const toRunClock = (t: number | undefined) => (t === undefined ? undefined : t + (r.now() - Date.now()));
  const owed: { slot: Slot; which: "notice" | "reminder"; at?: number }[] = [];
  for (const a of r.ctx.plan.actions) {
    if (!a.versionArn) continue;
    const action = a as PlanAction & { versionArn: string };
    if (a.notice === "pending" && delivered.markedSent.has(a.versionArn)) {
      const at = toRunClock(delivered.marked.get(a.versionArn));
      owed.push({ slot: { action, operation: "notice", sent: false }, which: "notice", ...(at !== undefined ? { at } : {}) });
    }
    const reminded = a.reminder === "due" ? toRunClock(delivered.reminder.get(a.versionArn)) : undefined;
    if (reminded !== undefined) owed.push({ slot: { action, operation: "reminder", sent: false }, which: "reminder", at: reminded });
  }
  if (owed.length === 0) return;
  r.all.push(...owed.map((o) => o.slot));
  const limit = pLimit(r.concurrency);
  await Promise.all(
    owed.map(({ slot: s, which, at }) =>
      limit(async () => {
        const log = r.ctx.log.child({ versionArn: s.action.versionArn });
        if (at === undefined)
          return r.finish(s, {
            result: "skipped",
            code: "noticeNotDelivered",
            error:
              "its `marked` notice was accepted by no notification channel that counts (the operator's, when its policy has one for `marked`; see the " +
              "notification log lines); it stays held (noticeNotDelivered) and the next run sends the notice again",
          });
        if (r.stopped() || !r.inputsStillHold()) return r.finish(s, r.notSent(`the ${which} tag`));
        const d = r.ctx.gate.approveNotice(r.ctx.auth, s.action, which, at, r.now());
        if ("denied" in d) {
          log.warn({ reasons: d.reasons }, `${which} tag not approved`);
          return r.finish(s, { result: "changed", reasons: d.reasons, error: d.reasons.map((r) => `${r.rule}: ${r.message}`).join("; ") });
        }
        const call = await sendNotice(d, r.ctx, { ...(r.ctx.stop ? { stop: r.ctx.stop } : {}), beforeSend: () => void (s.sent = true) });
        if (call.kind === "ok") log.info({ operation: s.operation, value: d.value }, which === "notice" ? "notice delivery recorded" : "reminder recorded");
        r.finish(s, r.outcome(s, call as WriteCall<AwsAnswer>, log, which));
      }),
    ),
  );
  await hook.settle(owed.map((o) => o.slot.result!).filter((r) => r.result === "failed" || r.result === "unknown"));
}
