// Act: carry out an authorized plan's writes — deletions (stop-then-delete where planned), then grace-
// period marks — each approved by the gate on facts re-read a moment before (the last look). Every
// planned write gets exactly one result entry, whatever happens (Flux DeleteAll): failures, skips and
// interruptions included, and each entry says what AWS answered, never more.
//
// The last look. AWS has no conditional delete, so right before sending, rekon re-reads the versions it
// is about to delete (DescribeProjectVersions by name, ten per call, with the project's newest versions
// for keepLatest; their tags when the policy reads tags) and the gate re-runs every guard on those facts.
// Deletions go out in small batches per (account, region): one look, then the batch's deletions as the
// rate limiter allows; a batch holds about as many deletions as the limiter sends in `lookMaxAgeMs`, and a
// deletion whose look is older than that when its slot comes (a throttled retry, a slow limiter) is
// looked at again first. The window between the look and the request is about a second, not minutes.
//
// Signals. `stop` (the first SIGINT/SIGTERM, a lost lease): no new write is sent; writes already sent are
// awaited, never aborted client-side (cutting the connection does not stop AWS, it only hides the answer).
// `abandon` (a second signal, the end of a shutdown grace): stop waiting; a write still unanswered is
// reported `unknown` (it may have happened), one never sent `skipped`.
import pLimit from "p-limit";
import type { RetryingRekognitionClient } from "../aws/client.js";
import { NAMES_PER_LOOK } from "../aws/look.js";
import type { Approved, DeleteWrite, Look, StopWrite } from "../gate/index.js";
import { firstLine } from "../text.js";
import { projectKey, targetKey, targetOf, type WriteResult } from "../types.js";
import type { ApplyContext, Slot } from "./context.js";
import { archivePhase } from "./archive.js";
import { markPhase, noticePhase } from "./phases.js";
import { runtimePhase } from "./runtime.js";
import { lastLook, Run } from "./run.js";
import { deleteOne, stopThenDelete } from "./send.js";

export { allAccepted, APPLY_DEFAULTS, type ApplyContext, type NoticeDeliveries, type NoticeHook } from "./context.js";

export async function applyPlan(ctx: ApplyContext): Promise<WriteResult[]> {
  return execute(new Run(ctx));
}

async function execute(r: Run): Promise<WriteResult[]> {
  const work = (async () => {
    // Phases: stops (they free units and end their cost), deletions, starts, marks, then the notices.
    if (!r.stopped() && r.inputsStillHold()) await runtimePhase(r, "stop");
    // Archive before delete: a deletion whose copy is not complete is decided here (archiving, failed).
    if (!r.stopped() && r.inputsStillHold()) await archivePhase(r);
    const groups = new Map<string, Slot[]>();
    for (const s of r.deletions.filter((x) => !x.result)) groups.set(targetKey(s.action), [...(groups.get(targetKey(s.action)) ?? []), s]);
    await Promise.all([...groups.values()].map((slots) => lane(r, slots)));
    if (!r.stopped() && r.inputsStillHold()) await runtimePhase(r, "start");
    if (!r.stopped() && r.inputsStillHold()) await markPhase(r);
    for (const s of r.all) if (!s.result) r.finish(s, r.stopped() ? r.notSent("it") : { result: "skipped", error: "not sent" });
    await noticePhase(r);
  })();

  // Abandon: hand back what is known now; writes still in flight are `unknown`.
  let onAbandon: (() => void) | undefined;
  const abandoned = new Promise<"abandoned">((resolve) => {
    if (!r.ctx.abandon) return;
    onAbandon = () => resolve("abandoned");
    if (r.ctx.abandon.aborted) onAbandon();
    else r.ctx.abandon.addEventListener("abort", onAbandon, { once: true });
  });
  try {
    const how = await Promise.race([work.then(() => "done" as const), abandoned]);
    if (how === "abandoned") {
      for (const s of r.all) {
        if (s.result) continue;
        if (s.sent)
          r.finish(s, { result: "unknown", error: "sent, but rekon stopped waiting for the answer; it may have happened — the next plan re-reads it" });
        else r.finish(s, r.notSent("it"));
      }
    }
  } finally {
    if (onAbandon) r.ctx.abandon?.removeEventListener("abort", onAbandon);
  }
  for (const s of r.all) if (!s.result) r.finish(s, r.stopped() ? r.notSent("it") : { result: "skipped", error: "not sent" });
  r.closed = true;
  return r.all.map((s) => s.result!);
}

/** One (account, region): batches of one project each — look, approve, send — one after another. */
async function lane(r: Run, slots: Slot[]): Promise<void> {
  const client = r.ctx.clientFor(targetOf(slots[0]!.action));
  const sends = pLimit(r.concurrency);
  const stops = pLimit(r.concurrency);
  const running: Promise<void>[] = [];
  const queue = [...slots].sort((x, y) => (projectKey(x.action) < projectKey(y.action) ? -1 : projectKey(x.action) > projectKey(y.action) ? 1 : 0));
  while (queue.length > 0) {
    if (r.stopped() || !r.inputsStillHold()) break;
    const pk = projectKey(queue[0]!.action);
    if (r.tripped.has(pk)) {
      for (const s of queue.filter((x) => projectKey(x.action) === pk))
        r.finish(s, { result: "skipped", error: `not started: ${r.tripped.get(pk)}; it is retried on the next run` });
      queue.splice(0, queue.length, ...queue.filter((x) => projectKey(x.action) !== pk));
      continue;
    }
    const spec0 = r.ctx.gate.lookFor([queue[0]!.action]);
    const room = Math.max(1, NAMES_PER_LOOK - ((spec0?.names.length ?? 1) - 1));
    const k = Math.min(room, batchSize(client, r.lookMaxAgeMs));
    const batch: Slot[] = [];
    for (let i = 0; i < queue.length && batch.length < k;) {
      if (projectKey(queue[i]!.action) === pk) batch.push(...queue.splice(i, 1));
      else i++;
    }
    const log = r.ctx.log.child({ project: batch[0]!.action.project, region: batch[0]!.action.region });
    let look: Look;
    try {
      look = await lastLook(
        client,
        r.ctx.gate,
        batch.map((s) => s.action),
        r.ctx.stop,
        r.now,
        true,
        r.archiveTargets,
      );
    } catch (err) {
      const code = (err as { code?: string }).code;
      log.error({ err: (err as Error).message }, "the last look before deleting failed; nothing in this batch is deleted");
      for (const s of batch)
        r.finish(s, {
          result: "skipped",
          ...(code ? { code } : {}),
          error: `not deleted: the last look before deleting failed (${firstLine((err as Error).message)})`,
        });
      r.trip(batch[0]!.action, code, log);
      continue;
    }
    const gone: Promise<void>[] = [];
    for (const s of batch) {
      const kind = s.action.stopFirst ? "stop" : "delete";
      const d = r.ctx.gate.approve(kind, r.ctx.auth, s.action, look, r.now());
      if ("denied" in d) {
        r.decideDenied(s, d, log);
        continue;
      }
      if (kind === "stop") {
        running.push(stops(() => stopThenDelete(r, s, d as Approved<StopWrite>, client, log)));
        continue;
      }
      let handedOver!: () => void;
      gone.push(new Promise<void>((r) => (handedOver = r)));
      running.push(sends(() => deleteOne(r, s, d as Approved<DeleteWrite>, client, log, handedOver)).finally(() => handedOver()));
    }
    // The next batch's look waits until this batch's deletions have gone out, so the limiter (not the
    // look) is what paces, and a look is never far ahead of its deletions.
    await Promise.all(gone);
  }
  await Promise.all(running);
  for (const s of queue) r.finish(s, r.notSent("this deletion"));
}

/**
 * Deletions per look: about as many as the limiter sends within `lookMaxAgeMs` at its current rate, so a
 * batch's last deletion goes out while its look is still fresh (and at most ten names per call).
 */
function batchSize(client: RetryingRekognitionClient, lookMaxAgeMs: number): number {
  const rate = client.limiters.get(client.identity, client.regionName, "DeleteProjectVersion").rate;
  return Math.max(1, Math.min(NAMES_PER_LOOK, Math.floor((rate * lookMaxAgeMs) / 1000)));
}
