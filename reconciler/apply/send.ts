// One deletion (or stop, then deletion) on its way out: the check right before each attempt, the send,
// and what AWS's answer means — a "not found" is confirmed by a read before it counts.
import type { Logger } from "pino";
import type { RetryingRekognitionClient } from "../aws/client.js";
import { confirmGone } from "../aws/look.js";
import { sleep } from "../aws/retry.js";
import { pollDelay } from "../aws/wait.js";
import { sendDelete, sendStop } from "../aws/writes.js";
import type { AwsCallError } from "../errors.js";
import type { Approved, DeleteWrite, Denial, Look, StopWrite, Write } from "../gate/index.js";
import { firstLine } from "../text.js";
import { projectKey, type WriteResult } from "../types.js";
import { APPLY_DEFAULTS, Changed, InputsChanged, type Slot } from "./context.js";
import { lastLook, type Run } from "./run.js";

/** Delete one approved version, looking again first if its facts are older than r.lookMaxAgeMs by then. */
export async function deleteOne(
  r: Run,
  s: Slot,
  approval: Approved<DeleteWrite>,
  client: RetryingRekognitionClient,
  log: Logger,
  handedOver: () => void,
  stoppedAfterMs?: number,
): Promise<void> {
  const extra = stoppedAfterMs !== undefined ? { stoppedAfterMs } : {};
  if (r.stopped()) return r.finish(s, r.notSent("this deletion", extra));
  const pk = projectKey(s.action);
  if (r.tripped.has(pk)) return r.finish(s, { result: "skipped", error: `not started: ${r.tripped.get(pk)}; it is retried on the next run`, ...extra });
  const refresh = refresher(r, s, client, approval.lookedAt, (look) => r.ctx.gate.approve("delete", r.ctx.auth, s.action, look, r.now()));
  const call = await sendDelete(approval, r.ctx, {
    stop: r.stopFor(s.action),
    beforeSend: async () => {
      const fresh = await refresh();
      s.sent = true;
      handedOver();
      return fresh;
    },
  });
  // Deleting is idempotent: gone is what we wanted. But "not found" is only an answer; a read says
  // whether the version is really gone (or DELETING) before the delete counts as done.
  if (call.kind === "failed" && call.error.code === "ResourceNotFoundException" && !call.interrupted)
    return r.finish(s, { ...(await confirmNotFound(r, s, client, call.error, log)), ...extra });
  r.finish(s, { ...r.outcome(s, call, log, "deletion"), ...extra });
}

/** ResourceNotFoundException to a delete: alreadyDeleted only if a read confirms it; otherwise unknown. */
export async function confirmNotFound(
  r: Run,
  s: Slot,
  client: RetryingRekognitionClient,
  e: AwsCallError,
  log: Logger,
): Promise<Partial<WriteResult> & Pick<WriteResult, "result">> {
  const req = e.requestId ? { requestId: e.requestId } : {};
  const spec = r.ctx.gate.lookFor([s.action]);
  const unknown = (why: string, status?: string) => {
    log.error({ versionArn: s.action.versionArn, code: e.code, status }, why);
    return {
      result: "unknown" as const,
      code: e.code,
      ...(status ? { status } : {}),
      error: `AWS answered ${e.code}, but ${why}; whether it is deleted is unknown — the next plan re-reads it`,
      ...req,
    };
  };
  if (!spec) return unknown("the project's ARN is not known, so no read could confirm it");
  try {
    const seen = await confirmGone(client, spec, s.action.versionName, s.action.versionArn, r.ctx.stop);
    if (!seen.gone) return unknown(`a read still lists it (status ${seen.status})`, seen.status);
  } catch (err) {
    return unknown(`the read to confirm it failed (${firstLine((err as Error).message)})`);
  }
  log.info({ versionArn: s.action.versionArn }, "already deleted (not found, confirmed by a read)");
  return { result: "alreadyDeleted", code: e.code, ...req };
}

/**
 * A write's check right before each attempt: facts older than lookMaxAgeMs are looked at again — AWS's, and
 * the manifests' (hashing the files, not parsing) — and the gate approves anew (`again`, on the fresh look).
 * A denial (Changed) or changed inputs (InputsChanged) cancel the write; undefined: the approval stands.
 */
export function refresher<W extends Write>(
  r: Run,
  s: Slot,
  client: RetryingRekognitionClient,
  lookedAt: number,
  again: (look: Look) => Approved<W> | Denial,
): () => Promise<Approved<W> | undefined> {
  return async () => {
    if (r.now() - lookedAt <= r.lookMaxAgeMs) return undefined;
    if (!r.inputsStillHold()) throw new InputsChanged();
    const look = await lastLook(client, r.ctx.gate, [s.action], r.ctx.stop, r.now, true, r.archiveTargets);
    const d = again(look);
    if ("denied" in d) throw new Changed(d);
    lookedAt = look.at;
    return d;
  };
}

/**
 * StopProjectVersion, then poll until STOPPED; the poll that sees STOPPED is the new last look, and the
 * gate approves the deletion on it. A version that is restarted, fails, or is still STOPPING at the
 * bound is never deleted.
 */
export async function stopThenDelete(r: Run, s: Slot, approval: Approved<StopWrite>, client: RetryingRekognitionClient, log: Logger): Promise<void> {
  const again = (look: Look) => r.ctx.gate.approve("stop", r.ctx.auth, s.action, look, r.now());
  return stopThen(r, s, approval, again, client, log, "deleted", async (fresh, stoppedAfterMs) => {
    if (!r.inputsStillHold()) return r.finish(s, r.notSent("this deletion", { stoppedAfterMs }));
    const d = r.ctx.gate.approve("delete", r.ctx.auth, s.action, fresh, r.now());
    if ("denied" in d) return r.decideDenied(s, d, log);
    return deleteOne(r, s, d, client, log, () => undefined, stoppedAfterMs);
  });
}

/**
 * Send an approved stop (looking again first when its facts got old), poll until STOPPED, then hand the
 * look that saw it (with tags, when the policy reads them) to `then`: the deletion, or a restart's start.
 * A version that is started again, fails, vanishes, or is still STOPPING at the bound goes no further.
 */
export async function stopThen(
  r: Run,
  s: Slot,
  approval: Approved<StopWrite>,
  again: (look: Look) => Approved<StopWrite> | Denial,
  client: RetryingRekognitionClient,
  log: Logger,
  next: "deleted" | "started",
  then: (fresh: Look, stoppedAfterMs: number) => Promise<void>,
): Promise<void> {
  const report = (x: Partial<WriteResult> & Pick<WriteResult, "result">) => r.finish(s, { ...x, operation: "stop" });
  if (r.stopped()) return r.finish(s, r.notSent("the stop"));
  const started = performance.now();
  // A stop may wait in its queue behind earlier stops' waits for STOPPED (minutes): like a deletion, it
  // goes out only on a look (AWS and the manifests) no older than lookMaxAgeMs.
  const refresh = refresher(r, s, client, approval.lookedAt, again);
  const call = await sendStop(approval, r.ctx, {
    stop: r.stopFor(s.action),
    beforeSend: async () => {
      const fresh = await refresh();
      s.sent = true;
      return fresh;
    },
  });
  if (call.kind !== "ok") {
    const code = call.kind === "cancelled" ? undefined : call.error.code;
    // Already stopping or stopped (someone else got there first): the poll below tells which.
    // Not found: the poll below reads whether it is really gone (never believed from the answer alone).
    const pollTells = code === "ResourceInUseException" || code === "InvalidParameterException" || code === "ResourceNotFoundException";
    if (!(call.kind === "failed" && !call.interrupted && pollTells)) return report(r.outcome(s, call, log, "stop"));
  } else log.info({ versionArn: s.action.versionArn, status: call.output.Status }, "stop requested");

  const timeout = r.ctx.stopTimeoutMs ?? APPLY_DEFAULTS.stopTimeoutMs;
  const poll = r.ctx.stopPollMs ?? APPLY_DEFAULTS.stopPollMs;
  for (let round = 0; ; round++) {
    let look: Look & { tagsNeeded: boolean };
    try {
      look = await lastLook(client, r.ctx.gate, [s.action], undefined, r.now, false, r.archiveTargets);
    } catch (err) {
      const code = (err as { code?: string }).code ?? "Error";
      return report({ result: "failed", code, error: `waiting for STOPPED: ${firstLine((err as Error).message)}; not ${next}` });
    }
    const v = look.byName.get(s.action.versionName);
    if (!v || v.arn !== s.action.versionArn) return report({ result: "alreadyDeleted", code: "ResourceNotFoundException" });
    const elapsed = performance.now() - started;
    if (v.status === "STOPPED") {
      const stoppedAfterMs = Math.round(elapsed);
      log.info({ versionArn: s.action.versionArn, stoppedAfterMs }, "stopped");
      // The poll saw STOPPED; tags (when the policy reads them) are read now, then the gate decides again.
      const fresh = look.tagsNeeded
        ? await lastLook(client, r.ctx.gate, [s.action], r.ctx.stop, r.now, true, r.archiveTargets).catch((err: Error) => err)
        : look;
      if (fresh instanceof Error) {
        return r.finish(s, { result: "skipped", error: `stopped, but the last look failed (${firstLine(fresh.message)}); not ${next}`, stoppedAfterMs });
      }
      return then(fresh, stoppedAfterMs);
    }
    if (v.status !== "STOPPING" && v.status !== "RUNNING") {
      return report({
        result: "failed",
        code: "StopNotConfirmed",
        status: v.status,
        error: `status ${v.status} after StopProjectVersion, not STOPPED; not ${next}`,
      });
    }
    if (elapsed >= timeout) {
      const took = `${Math.round(elapsed / 1000)}s after StopProjectVersion (bound ${Math.round(timeout / 1000)}s)`;
      return report({ result: "failed", code: "StopTimeout", status: v.status, error: `still ${v.status} ${took}; not ${next}` });
    }
    if (r.stopped()) {
      return r.finish(s, {
        result: "skipped",
        status: v.status,
        error: `interrupted while waiting for STOPPED (status ${v.status}; the stop was sent); not ${next}`,
      });
    }
    await sleep(Math.min(pollDelay(round, poll), Math.max(0, timeout - elapsed)), r.ctx.stop).catch(() => undefined);
  }
}
