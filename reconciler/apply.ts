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
import type { Logger } from "pino";
import { isThrottle, type RetryingRekognitionClient, type WriteCall } from "./aws/client.js";
import { confirmGone, NAMES_PER_LOOK, pollVersions, readLook, type ReadClient } from "./aws/look.js";
import { classify, sleep } from "./aws/retry.js";
import type { AwsCallError } from "./errors.js";
import { GateError, type Approved, type DeleteWrite, type Denial, type Gate, type Look, type RunAuthorization, type StopWrite } from "./gate/index.js";
import { projectKey, targetKey, type Plan, type PlanAction, type PlanProject, type Target, type WriteOperation, type WriteResult } from "./types.js";
import { sendDelete, sendMark, sendNotice, sendStop, sendUnmark } from "./aws/writes.js";
import { firstLine } from "./text.js";

/** Defaults for apply, in one place. */
export const APPLY_DEFAULTS = {
  /** Writes in flight at once per (account, region). The rate limiter sets the pace; this bounds sockets and stop waits. */
  concurrency: 8,
  /** Stop-then-delete: poll DescribeProjectVersions this often while a version is STOPPING (after 1 s, 2 s, 4 s). */
  stopPollMs: 5_000,
  /** Stop-then-delete: give up (result `failed`, nothing deleted) when a version is not STOPPED after this. */
  stopTimeoutMs: 10 * 60_000,
  /** A deletion whose last look is older than this when its turn comes is looked at again. */
  lookMaxAgeMs: 1_000,
  /** apply --wait: poll interval (after 1 s, 2 s, 4 s) and bound, as AWS's own sample does (5 s). */
  waitPollMs: 5_000,
  waitTimeoutMs: 10 * 60_000,
} as const;

export interface ApplyContext {
  plan: Plan;
  gate: Gate;
  /** The gate's authorization of this plan (gate.authorize): refusals and budgets were checked. */
  auth: RunAuthorization;
  clientFor(target: Target): RetryingRekognitionClient;
  log: Logger;
  /** The clock for approvals (minAge, grace). Default Date.now. */
  now?: () => number;
  /** Once aborted, no new write is sent; writes in flight are awaited. */
  stop?: AbortSignal;
  /** Once aborted, stop waiting: writes in flight are reported `unknown`, the rest `skipped`. */
  abandon?: AbortSignal;
  concurrency?: number;
  stopPollMs?: number;
  stopTimeoutMs?: number;
  lookMaxAgeMs?: number;
  /** Told about each result as it is decided (progress bars, audit records, logs). */
  onResult?: (r: WriteResult) => void;
  /**
   * Whether the manifests or policy changed since the plan (why, or undefined): asked before each batch
   * of writes. A change stops every further write of this run (`skipped`, code manifestsChanged): the
   * plan no longer says what the team wants, so only a new plan may act.
   */
  inputsChanged?: () => string | undefined;
  /**
   * Whether the local clock has drifted from AWS's beyond the bound since the plan (why, or undefined), on
   * the answers of this run's own reads: asked with inputsChanged. A drift stops every further write
   * (`skipped`, code clockSkew): ages and marks would be decided on a wrong clock.
   */
  clockProblem?: () => string | undefined;
  /**
   * Notifications (README "Notifications"): told the results once every deletion and mark is done (a
   * webhook never delays a deletion), it delivers what the run tells and says which notices reached a
   * channel; the executor then records those through the gate (the notice and reminder tags).
   */
  notices?: NoticeHook;
}

/** What a delivery means to the writes that wait on it: version ARN → when a channel first accepted it. */
export interface NoticeDeliveries {
  marked: ReadonlyMap<string, number>;
  reminder: ReadonlyMap<string, number>;
  /** Versions whose `marked` notice was sent to at least one channel in this run, delivered or not. */
  markedSent: ReadonlySet<string>;
}

/** The notifier's side of an apply (notify/notifier.ts). */
export interface NoticeHook {
  deliver(results: readonly WriteResult[]): Promise<NoticeDeliveries>;
  /** The notice writes' own results (a failed one is news too). */
  settle(results: readonly WriteResult[]): Promise<void>;
}


export function targetOf(x: { region: string; roleArn?: string }): Target {
  return { region: x.region, ...(x.roleArn ? { roleArn: x.roleArn } : {}) };
}

/**
 * Failures that are about the account rather than this one version: its quota (throttling that outlasted
 * every retry), the network to it, or the identity used. A server error can be specific to one version,
 * so it does not stop the others.
 */
function givesUpOnProject(code: string | undefined): boolean {
  if (!code) return false;
  return isThrottle({ name: code }) || classify({ code }) === "retryable" || code.startsWith("AccessDenied") || IDENTITY_FAILURES.has(code);
}

/** The credentials or their signature were refused: every later call with them would be too. */
const IDENTITY_FAILURES = new Set(["UnrecognizedClientException", "ExpiredTokenException", "InvalidClientTokenId", "MissingAuthenticationTokenException", "InvalidSignatureException", "IncompleteSignatureException", "SignatureDoesNotMatch"]);

/** A denial raised inside a write's beforeSend (the re-look found it changed). */
class Changed extends Error {
  constructor(readonly denial: Denial) {
    super(denial.reasons.map((r) => `${r.rule}: ${r.message}`).join("; "));
  }
}

/** Raised inside a write's beforeSend when the manifests or policy changed under the run: not sent. */
class InputsChanged extends Error {}

/** One planned write and its result, once decided. */
interface Slot {
  action: PlanAction & { versionArn: string };
  operation: WriteOperation;
  /** Set once the first attempt has been handed to the network: from then on it may have happened. */
  sent: boolean;
  result?: WriteResult;
}

export async function applyPlan(ctx: ApplyContext): Promise<WriteResult[]> {
  return new Executor(ctx).run();
}

/** One apply: its planned writes, their results as they are decided, and the project breakers. */
class Executor {
  private readonly now: () => number;
  private readonly concurrency: number;
  private readonly lookMaxAgeMs: number;
  private readonly deletions: Slot[] = [];
  private readonly marks: Slot[] = [];
  /** Notice and reminder tags, planned once their delivery is known (noticePhase). */
  private readonly all: Slot[];
  /** Set once the results were handed back: nothing changes them after that. */
  private closed = false;
  // Project breakers: after a project-level failure nothing more is sent in that project this run:
  // writes not yet sent are skipped, and writes being retried stop after their current attempt.
  private readonly tripped = new Map<string, string>();
  private readonly breakers = new Map<string, AbortController>();

  constructor(private readonly ctx: ApplyContext) {
    this.now = ctx.now ?? Date.now;
    this.concurrency = Math.max(1, ctx.concurrency ?? APPLY_DEFAULTS.concurrency);
    this.lookMaxAgeMs = ctx.lookMaxAgeMs ?? APPLY_DEFAULTS.lookMaxAgeMs;
    for (const a of ctx.plan.actions) {
      if (!a.versionArn) continue;
      const action = a as PlanAction & { versionArn: string };
      if (a.action === "delete" && ctx.auth.deletable.has(a.versionArn)) this.deletions.push({ action, operation: "delete", sent: false });
      if (a.mark) this.marks.push({ action, operation: a.mark === "add" ? "mark" : "unmark", sent: false });
    }
    this.all = [...this.deletions, ...this.marks];
  }

  /** Why writes stopped under this run (the inputs changed, or the clock drifted), once they have. */
  private halted?: { code: "manifestsChanged" | "clockSkew"; why: string };
  private readonly halt = new AbortController();

  private stopped(): boolean {
    return this.ctx.stop?.aborted === true || this.halted !== undefined;
  }

  /** Before a batch of writes: are the manifests and policy still the ones the plan was made from, and the clock still right? */
  private inputsStillHold(): boolean {
    if (this.halted !== undefined) return false;
    const changed = this.ctx.inputsChanged?.();
    const skew = changed === undefined ? this.ctx.clockProblem?.() : undefined;
    if (changed === undefined && skew === undefined) return true;
    this.halted = changed !== undefined ? { code: "manifestsChanged", why: changed } : { code: "clockSkew", why: skew! };
    if (changed !== undefined) this.ctx.log.warn({ reason: changed }, "the manifests or policy changed during the apply: no further write; the next plan acts on them");
    else this.ctx.log.error({ reason: skew }, "the local clock drifted from AWS's during the apply: no further write");
    this.halt.abort(new Error(this.halted.why));
    return false;
  }

  /** The result of a write that was not sent because the run stopped (a signal, the inputs changed, the clock drifted). */
  private notSent(what: string, extra: Partial<WriteResult> = {}): Partial<WriteResult> & Pick<WriteResult, "result"> {
    if (this.halted === undefined) return { result: "skipped", error: `interrupted before ${what} was sent`, ...extra };
    const next = this.halted.code === "manifestsChanged" ? "; the next plan acts on them" : "";
    return { result: "skipped", code: this.halted.code, error: `not sent: ${this.halted.why}${next}`, ...extra };
  }

  private finish(s: Slot, r: Partial<WriteResult> & Pick<WriteResult, "result">): void {
    if (s.result || this.closed) return; // decided once
    const a = s.action;
    s.result = { project: a.project, region: a.region, ...(a.account ? { account: a.account } : {}), ...(a.roleArn ? { roleArn: a.roleArn } : {}), versionName: a.versionName, versionArn: a.versionArn, operation: s.operation, ...r };
    this.ctx.onResult?.(s.result);
  }

  private breaker(a: PlanAction): AbortController {
    let b = this.breakers.get(projectKey(a));
    if (!b) this.breakers.set(projectKey(a), (b = new AbortController()));
    return b;
  }

  private trip(a: PlanAction, code: string | undefined, log: Logger): void {
    const k = projectKey(a);
    if (this.tripped.has(k) || !givesUpOnProject(code)) return;
    this.tripped.set(k, `an earlier call in project ${a.project} (${a.region}) gave up (${code})`);
    log.error({ project: a.project, region: a.region, code }, "giving up on the rest of this project in this run");
    this.breaker(a).abort(new Error(this.tripped.get(k)));
  }

  /** No new attempt once the run stops or the project's breaker trips. */
  private stopFor(a: PlanAction): AbortSignal {
    return AbortSignal.any([...(this.ctx.stop ? [this.ctx.stop] : []), this.breaker(a).signal, this.halt.signal]);
  }

  async run(): Promise<WriteResult[]> {
    const work = (async () => {
      const groups = new Map<string, Slot[]>();
      for (const s of this.deletions) groups.set(targetKey(s.action), [...(groups.get(targetKey(s.action)) ?? []), s]);
      await Promise.all([...groups.values()].map((slots) => this.lane(slots)));
      if (!this.stopped() && this.inputsStillHold()) await this.markPhase();
      for (const s of this.all) if (!s.result) this.finish(s, this.stopped() ? this.notSent("it") : { result: "skipped", error: "not sent" });
      await this.noticePhase();
    })();

    // Abandon: hand back what is known now; writes still in flight are `unknown`.
    let onAbandon: (() => void) | undefined;
    const abandoned = new Promise<"abandoned">((resolve) => {
      if (!this.ctx.abandon) return;
      onAbandon = () => resolve("abandoned");
      if (this.ctx.abandon.aborted) onAbandon();
      else this.ctx.abandon.addEventListener("abort", onAbandon, { once: true });
    });
    try {
      const how = await Promise.race([work.then(() => "done" as const), abandoned]);
      if (how === "abandoned") {
        for (const s of this.all) {
          if (s.result) continue;
          if (s.sent) this.finish(s, { result: "unknown", error: "sent, but rekon stopped waiting for the answer; it may have happened — the next plan re-reads it" });
          else this.finish(s, this.notSent("it"));
        }
      }
    } finally {
      if (onAbandon) this.ctx.abandon?.removeEventListener("abort", onAbandon);
    }
    for (const s of this.all) if (!s.result) this.finish(s, this.stopped() ? this.notSent("it") : { result: "skipped", error: "not sent" });
    this.closed = true;
    return this.all.map((s) => s.result!);
  }

  /** One (account, region): batches of one project each — look, approve, send — one after another. */
  private async lane(slots: Slot[]): Promise<void> {
    const client = this.ctx.clientFor(targetOf(slots[0]!.action));
    const sends = pLimit(this.concurrency);
    const stops = pLimit(this.concurrency);
    const running: Promise<void>[] = [];
    const queue = [...slots].sort((x, y) => (projectKey(x.action) < projectKey(y.action) ? -1 : projectKey(x.action) > projectKey(y.action) ? 1 : 0));
    while (queue.length > 0) {
      if (this.stopped() || !this.inputsStillHold()) break;
      const pk = projectKey(queue[0]!.action);
      if (this.tripped.has(pk)) {
        for (const s of queue.filter((x) => projectKey(x.action) === pk)) this.finish(s, { result: "skipped", error: `not started: ${this.tripped.get(pk)}; it is retried on the next run` });
        queue.splice(0, queue.length, ...queue.filter((x) => projectKey(x.action) !== pk));
        continue;
      }
      const spec0 = this.ctx.gate.lookFor([queue[0]!.action]);
      const room = Math.max(1, NAMES_PER_LOOK - ((spec0?.names.length ?? 1) - 1));
      const k = Math.min(room, batchSize(client, this.lookMaxAgeMs));
      const batch: Slot[] = [];
      for (let i = 0; i < queue.length && batch.length < k; ) {
        if (projectKey(queue[i]!.action) === pk) batch.push(...queue.splice(i, 1));
        else i++;
      }
      const log = this.ctx.log.child({ project: batch[0]!.action.project, region: batch[0]!.action.region });
      let look: Look;
      try {
        look = await lastLook(client, this.ctx.gate, batch.map((s) => s.action), this.ctx.stop, this.now);
      } catch (err) {
        const code = (err as { code?: string }).code;
        log.error({ err: (err as Error).message }, "the last look before deleting failed; nothing in this batch is deleted");
        for (const s of batch) this.finish(s, { result: "skipped", ...(code ? { code } : {}), error: `not deleted: the last look before deleting failed (${firstLine((err as Error).message)})` });
        this.trip(batch[0]!.action, code, log);
        continue;
      }
      const gone: Promise<void>[] = [];
      for (const s of batch) {
        const kind = s.action.stopFirst ? "stop" : "delete";
        const d = this.ctx.gate.approve(kind, this.ctx.auth, s.action, look, this.now());
        if ("denied" in d) {
          this.decideDenied(s, d, log);
          continue;
        }
        if (kind === "stop") {
          running.push(stops(() => this.stopThenDelete(s, d as Approved<StopWrite>, client, log)));
          continue;
        }
        let handedOver!: () => void;
        gone.push(new Promise<void>((r) => (handedOver = r)));
        running.push(sends(() => this.deleteOne(s, d as Approved<DeleteWrite>, client, log, handedOver)).finally(() => handedOver()));
      }
      // The next batch's look waits until this batch's deletions have gone out, so the limiter (not the
      // look) is what paces, and a look is never far ahead of its deletions.
      await Promise.all(gone);
    }
    await Promise.all(running);
    for (const s of queue) this.finish(s, this.notSent("this deletion"));
  }

  private decideDenied(s: Slot, d: Denial, log: Logger): void {
    this.finish(s, denialOutcome(s, d, log));
  }

  /** Delete one approved version, looking again first if its facts are older than this.lookMaxAgeMs by then. */
  private async deleteOne(s: Slot, approval: Approved<DeleteWrite>, client: RetryingRekognitionClient, log: Logger, handedOver: () => void, stoppedAfterMs?: number): Promise<void> {
    const extra = stoppedAfterMs !== undefined ? { stoppedAfterMs } : {};
    if (this.stopped()) return this.finish(s, this.notSent("this deletion", extra));
    const pk = projectKey(s.action);
    if (this.tripped.has(pk)) return this.finish(s, { result: "skipped", error: `not started: ${this.tripped.get(pk)}; it is retried on the next run`, ...extra });
    const refresh = this.refresher("delete", s, client, approval.lookedAt);
    const call = await sendDelete(approval, this.ctx, {
      stop: this.stopFor(s.action),
      beforeSend: async () => {
        const fresh = await refresh();
        s.sent = true;
        handedOver();
        return fresh;
      },
    });
    // Deleting is idempotent: gone is what we wanted. But "not found" is only an answer; a read says
    // whether the version is really gone (or DELETING) before the delete counts as done.
    if (call.kind === "failed" && call.error.code === "ResourceNotFoundException" && !call.interrupted) return this.finish(s, { ...(await this.confirmNotFound(s, client, call.error, log)), ...extra });
    this.finish(s, { ...this.outcome(s, call, log, "deletion"), ...extra });
  }

  /** ResourceNotFoundException to a delete: alreadyDeleted only if a read confirms it; otherwise unknown. */
  private async confirmNotFound(s: Slot, client: RetryingRekognitionClient, e: AwsCallError, log: Logger): Promise<Partial<WriteResult> & Pick<WriteResult, "result">> {
    const req = e.requestId ? { requestId: e.requestId } : {};
    const spec = this.ctx.gate.lookFor([s.action]);
    const unknown = (why: string, status?: string) => {
      log.error({ versionArn: s.action.versionArn, code: e.code, status }, why);
      return { result: "unknown" as const, code: e.code, ...(status ? { status } : {}), error: `AWS answered ${e.code}, but ${why}; whether it is deleted is unknown — the next plan re-reads it`, ...req };
    };
    if (!spec) return unknown("the project's ARN is not known, so no read could confirm it");
    try {
      const seen = await confirmGone(client, spec, s.action.versionName, s.action.versionArn, this.ctx.stop);
      if (!seen.gone) return unknown(`a read still lists it (status ${seen.status})`, seen.status);
    } catch (err) {
      return unknown(`the read to confirm it failed (${firstLine((err as Error).message)})`);
    }
    log.info({ versionArn: s.action.versionArn }, "already deleted (not found, confirmed by a read)");
    return { result: "alreadyDeleted", code: e.code, ...req };
  }

  /**
   * A delete's or a stop's check right before each attempt: facts older than lookMaxAgeMs are looked at
   * again — AWS's, and the manifests' (hashing the files, not parsing) — and the gate approves anew. A
   * denial (Changed) or changed inputs (InputsChanged) cancel the write; undefined: the approval stands.
   */
  private refresher<K extends "delete" | "stop">(kind: K, s: Slot, client: RetryingRekognitionClient, lookedAt: number): () => Promise<Approved<K extends "delete" ? DeleteWrite : StopWrite> | undefined> {
    return async () => {
      if (this.now() - lookedAt <= this.lookMaxAgeMs) return undefined;
      if (!this.inputsStillHold()) throw new InputsChanged();
      const look = await lastLook(client, this.ctx.gate, [s.action], this.ctx.stop, this.now);
      const d = this.ctx.gate.approve(kind, this.ctx.auth, s.action, look, this.now());
      if ("denied" in d) throw new Changed(d);
      lookedAt = look.at;
      return d;
    };
  }

  /** What AWS's answer (or its absence) means for this write. Trips the project's breaker where due. */
  private outcome(s: Slot, call: WriteCall<AwsAnswer>, log: Logger, what: string): Partial<WriteResult> & Pick<WriteResult, "result"> {
    if (call.kind === "ok") {
      log.info({ versionArn: s.action.versionArn, status: call.output.Status, requestId: call.output.$metadata.requestId }, `${what} accepted`);
      return { result: "accepted", ...(call.output.Status ? { status: call.output.Status } : {}), ...(call.output.$metadata.requestId ? { requestId: call.output.$metadata.requestId } : {}) };
    }
    if (call.kind === "cancelled") {
      const e = call.error;
      if (e instanceof Changed) return denialOutcome(s, e.denial, log);
      if (e instanceof InputsChanged) return this.notSent(`the ${what}`);
      if (e instanceof GateError) throw e;
      const code = (e as { code?: string }).code;
      this.trip(s.action, code, log);
      return { result: "skipped", ...(code ? { code } : {}), error: `not sent: the last look failed (${firstLine((e as Error).message)})` };
    }
    const e = call.error;
    const req = e.requestId ? { requestId: e.requestId } : {};
    if (call.kind === "unknown") {
      log.error({ versionArn: s.action.versionArn, code: e.code, err: e.message }, `${what} unanswered: it may have happened`);
      return { result: "unknown", code: e.code, error: `sent, but no answer settled it (${e.message}); it may have happened — the next plan re-reads it`, ...req };
    }
    if (call.interrupted) {
      if (this.halted !== undefined) return this.notSent(`the ${what}`);
      const why = this.tripped.get(projectKey(s.action)) && !this.stopped() ? `not sent again: ${this.tripped.get(projectKey(s.action))}; it is retried on the next run` : `interrupted before the ${what} was sent`;
      return { result: "skipped", error: `${why}${e.code !== "Interrupted" ? ` (the last answer was ${e.code}: it did not happen)` : ""}` };
    }
    log.error({ versionArn: s.action.versionArn, code: e.code, err: e.message }, `${what} failed`);
    this.trip(s.action, e.code, log);
    return { result: "failed", code: e.code, error: e.message, ...req };
  }

  /**
   * StopProjectVersion, then poll until STOPPED; the poll that sees STOPPED is the new last look, and the
   * gate approves the deletion on it. A version that is restarted, fails, or is still STOPPING at the
   * bound is never deleted.
   */
  private async stopThenDelete(s: Slot, approval: Approved<StopWrite>, client: RetryingRekognitionClient, log: Logger): Promise<void> {
    const report = (r: Partial<WriteResult> & Pick<WriteResult, "result">) => this.finish(s, { ...r, operation: "stop" });
    if (this.stopped()) return this.finish(s, this.notSent("the stop"));
    const started = performance.now();
    // A stop may wait in its queue behind earlier stops' waits for STOPPED (minutes): like a deletion, it
    // goes out only on a look (AWS and the manifests) no older than lookMaxAgeMs.
    const refresh = this.refresher("stop", s, client, approval.lookedAt);
    const call = await sendStop(approval, this.ctx, {
      stop: this.stopFor(s.action),
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
      if (!(call.kind === "failed" && !call.interrupted && (code === "ResourceInUseException" || code === "InvalidParameterException" || code === "ResourceNotFoundException"))) return report(this.outcome(s, call, log, "stop"));
    } else log.info({ versionArn: s.action.versionArn, status: call.output.Status }, "stop requested");

    const timeout = this.ctx.stopTimeoutMs ?? APPLY_DEFAULTS.stopTimeoutMs;
    const poll = this.ctx.stopPollMs ?? APPLY_DEFAULTS.stopPollMs;
    for (let round = 0; ; round++) {
      let look: Look & { tagsNeeded: boolean };
      try {
        look = await lastLook(client, this.ctx.gate, [s.action], undefined, this.now, false);
      } catch (err) {
        return report({ result: "failed", code: (err as { code?: string }).code ?? "Error", error: `waiting for STOPPED: ${firstLine((err as Error).message)}; not deleted` });
      }
      const v = look.byName.get(s.action.versionName);
      if (!v || v.arn !== s.action.versionArn) return report({ result: "alreadyDeleted", code: "ResourceNotFoundException" });
      const elapsed = performance.now() - started;
      if (v.status === "STOPPED") {
        const stoppedAfterMs = Math.round(elapsed);
        log.info({ versionArn: s.action.versionArn, stoppedAfterMs }, "stopped");
        // The poll saw STOPPED; tags (when the policy reads them) are read now, then the gate decides again.
        const fresh = look.tagsNeeded ? await lastLook(client, this.ctx.gate, [s.action], this.ctx.stop, this.now).catch((err: Error) => err) : look;
        if (fresh instanceof Error) return this.finish(s, { result: "skipped", error: `stopped, but the last look before deleting failed (${firstLine(fresh.message)}); not deleted`, stoppedAfterMs });
        if (!this.inputsStillHold()) return this.finish(s, this.notSent("this deletion", { stoppedAfterMs }));
        const d = this.ctx.gate.approve("delete", this.ctx.auth, s.action, fresh, this.now());
        if ("denied" in d) {
          this.decideDenied(s, d, log);
          return;
        }
        return this.deleteOne(s, d, client, log, () => undefined, stoppedAfterMs);
      }
      if (v.status !== "STOPPING" && v.status !== "RUNNING") {
        return report({ result: "failed", code: "StopNotConfirmed", status: v.status, error: `status ${v.status} after StopProjectVersion, not STOPPED; not deleted` });
      }
      if (elapsed >= timeout) {
        return report({ result: "failed", code: "StopTimeout", status: v.status, error: `still ${v.status} ${Math.round(elapsed / 1000)}s after StopProjectVersion (bound ${Math.round(timeout / 1000)}s); not deleted` });
      }
      if (this.stopped()) return this.finish(s, { result: "skipped", status: v.status, error: `interrupted while waiting for STOPPED (status ${v.status}; the stop was sent); not deleted` });
      await sleep(Math.min(pollDelay(round, poll), Math.max(0, timeout - elapsed)), this.ctx.stop).catch(() => undefined);
    }
  }

  /**
   * Grace-period marks, after the deletions; each approved by the gate on the plan's facts, and dated when
   * it is written, not when the plan was made: an apply that waited at its prompt (or a saved plan applied
   * days later) must not start the grace period in the past.
   */
  private async markPhase(): Promise<void> {
    const limit = pLimit(this.concurrency);
    await Promise.all(
      this.marks.map((s) =>
        limit(async () => {
          if (this.stopped()) return;
          const log = this.ctx.log.child({ versionArn: s.action.versionArn });
          const d = this.ctx.gate.approveMark(this.ctx.auth, s.action, this.now());
          if ("denied" in d) {
            log.warn({ reasons: d.reasons }, "mark not approved");
            return this.finish(s, { result: "changed", reasons: d.reasons, error: d.reasons.map((r) => `${r.rule}: ${r.message}`).join("; ") });
          }
          const call = d.kind === "mark" ? await sendMark(d, this.ctx, { ...(this.ctx.stop ? { stop: this.ctx.stop } : {}), beforeSend: () => void (s.sent = true) }) : await sendUnmark(d, this.ctx, { ...(this.ctx.stop ? { stop: this.ctx.stop } : {}), beforeSend: () => void (s.sent = true) });
          if (call.kind === "ok") log.info({ operation: s.operation }, s.operation === "mark" ? "marked pending deletion" : "pending-deletion mark removed");
          this.finish(s, { ...this.outcome(s, call as WriteCall<AwsAnswer>, log, s.operation), ...(d.kind === "mark" ? { markedAt: d.at } : {}) });
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
  private async noticePhase(): Promise<void> {
    const hook = this.ctx.notices;
    if (!hook) return;
    const delivered = await hook.deliver(this.all.map((s) => s.result!));
    const owed: { slot: Slot; which: "notice" | "reminder"; at?: number }[] = [];
    for (const a of this.ctx.plan.actions) {
      if (!a.versionArn) continue;
      const action = a as PlanAction & { versionArn: string };
      if (a.notice === "pending" && delivered.markedSent.has(a.versionArn)) {
        const at = delivered.marked.get(a.versionArn);
        owed.push({ slot: { action, operation: "notice", sent: false }, which: "notice", ...(at !== undefined ? { at } : {}) });
      }
      const reminded = a.reminder === "due" ? delivered.reminder.get(a.versionArn) : undefined;
      if (reminded !== undefined) owed.push({ slot: { action, operation: "reminder", sent: false }, which: "reminder", at: reminded });
    }
    if (owed.length === 0) return;
    this.all.push(...owed.map((o) => o.slot));
    const limit = pLimit(this.concurrency);
    await Promise.all(
      owed.map(({ slot: s, which, at }) =>
        limit(async () => {
          const log = this.ctx.log.child({ versionArn: s.action.versionArn });
          if (at === undefined) return this.finish(s, { result: "skipped", code: "noticeNotDelivered", error: "its `marked` notice was accepted by no notification channel that counts (the operator's, when its policy has one for `marked`; see the notification log lines); it stays held (noticeNotDelivered) and the next run sends the notice again" });
          if (this.stopped() || !this.inputsStillHold()) return this.finish(s, this.notSent(`the ${which} tag`));
          const d = this.ctx.gate.approveNotice(this.ctx.auth, s.action, which, at, this.now());
          if ("denied" in d) {
            log.warn({ reasons: d.reasons }, `${which} tag not approved`);
            return this.finish(s, { result: "changed", reasons: d.reasons, error: d.reasons.map((r) => `${r.rule}: ${r.message}`).join("; ") });
          }
          const call = await sendNotice(d, this.ctx, { ...(this.ctx.stop ? { stop: this.ctx.stop } : {}), beforeSend: () => void (s.sent = true) });
          if (call.kind === "ok") log.info({ operation: s.operation, value: d.value }, which === "notice" ? "notice delivery recorded" : "reminder recorded");
          this.finish(s, this.outcome(s, call as WriteCall<AwsAnswer>, log, which));
        }),
      ),
    );
    await hook.settle(owed.map((o) => o.slot.result!).filter((r) => r.result === "failed" || r.result === "unknown"));
  }
}

/**
 * Deletions per look: about as many as the limiter sends within `lookMaxAgeMs` at its current rate, so a
 * batch's last deletion goes out while its look is still fresh (and at most ten names per call).
 */
function batchSize(client: RetryingRekognitionClient, lookMaxAgeMs: number): number {
  const rate = client.limiters.get(client.identity, client.regionName, "DeleteProjectVersion").rate;
  return Math.max(1, Math.min(NAMES_PER_LOOK, Math.floor((rate * lookMaxAgeMs) / 1000)));
}

/**
 * The last look for planned writes of one project (aws/look.ts readLook, on what the gate says to read).
 * Throws when a read fails, or when the gate cannot say what to read.
 */
async function lastLook(client: ReadClient, gate: Gate, actions: readonly PlanAction[], signal: AbortSignal | undefined, now: () => number, withTags = true): Promise<Look & { tagsNeeded: boolean }> {
  const spec = gate.lookFor(actions);
  if (!spec) throw Object.assign(new Error("the project's ARN is not known, so the versions cannot be looked at again"), { code: "NoProjectArn" });
  return readLook(client, spec, { ...(signal ? { signal } : {}), now, withTags });
}

/** True when every planned write was accepted by AWS (or its version was already gone). */
export function allAccepted(results: WriteResult[]): boolean {
  return results.every((r) => r.result === "accepted" || r.result === "alreadyDeleted");
}

export interface WaitDeps {
  clientFor(target: Target): ReadClient;
  log: Logger;
  signal?: AbortSignal;
  /** The plan's projects, for their ARNs (keyed by role, region and project). */
  projects?: PlanProject[];
  intervalMs?: number;
  timeoutMs?: number;
  /** Told how many deletions are still pending after each round of polls. */
  onPoll?: (pending: number) => void;
}

export interface WaitReport {
  /** ARNs still present when the bound ran out, or that could not be checked. */
  stillPresent: string[];
  /** What the last poll saw of each version still present: its status, or why it could not be read. */
  lastSeen: Record<string, string>;
  tookMs: number;
  polls: number;
}

/**
 * Poll until accepted deletions have vanished from DescribeProjectVersions, as AWS's own sample does
 * (VersionNames, 10 per call). Every poll goes through the client's rate limiter; (account, region)
 * groups are polled side by side.
 */
export async function waitForDeletionsReport(results: WriteResult[], deps: WaitDeps): Promise<WaitReport> {
  const started = performance.now();
  const interval = deps.intervalMs ?? APPLY_DEFAULTS.waitPollMs;
  const deadline = started + (deps.timeoutMs ?? APPLY_DEFAULTS.waitTimeoutMs);
  const arns = new Map<string, string>();
  for (const p of deps.projects ?? []) if (p.projectArn) arns.set(projectKey(p), p.projectArn);
  const arnOf = (r: WriteResult) => arns.get(projectKey(r));

  // Deletions only: a grace-period mark is "accepted" too, but its version is meant to stay.
  let pending = results.filter((r) => r.result === "accepted" && r.operation === "delete");
  // Without the project's ARN nothing can be checked: say so rather than report it gone.
  const unknown = pending.filter((r) => !arnOf(r));
  pending = pending.filter((r) => arnOf(r));
  let polls = 0;
  const seen = new Map<string, string>(unknown.map((r) => [r.versionArn, "not checked: the project's ARN is not known"]));
  for (let round = 0; pending.length > 0 && !deps.signal?.aborted; round++) {
    const byGroup = new Map<string, Map<string, WriteResult[]>>();
    for (const r of pending) {
      const g = byGroup.get(targetKey(r)) ?? new Map<string, WriteResult[]>();
      g.set(projectKey(r), [...(g.get(projectKey(r)) ?? []), r]);
      byGroup.set(targetKey(r), g);
    }
    const still: WriteResult[] = [];
    await Promise.all(
      [...byGroup.values()].map(async (byProject) => {
        for (const rs of byProject.values()) {
          for (let i = 0; i < rs.length; i += NAMES_PER_LOOK) {
            const batch = rs.slice(i, i + NAMES_PER_LOOK);
            const b0 = batch[0]!;
            try {
              polls++;
              const status = await pollVersions(deps.clientFor(targetOf(b0)), { project: b0.project, region: b0.region, projectArn: arnOf(b0)! }, batch.map((r) => ({ name: r.versionName, arn: r.versionArn })), deps.signal);
              for (const r of batch) {
                const st = status.get(r.versionArn)!;
                seen.set(r.versionArn, st);
                if (st !== "gone") still.push(r);
              }
            } catch (err) {
              // A failed poll proves nothing: keep waiting for those versions.
              deps.log.warn({ project: b0.project, region: b0.region, err: (err as Error).message }, "polling for deletions failed");
              for (const r of batch) seen.set(r.versionArn, `unreadable: ${firstLine((err as Error).message)}`);
              still.push(...batch);
            }
          }
        }
      }),
    );
    pending = still;
    deps.onPoll?.(pending.length);
    if (pending.length === 0 || performance.now() >= deadline) break;
    await sleep(Math.min(pollDelay(round, interval), Math.max(0, deadline - performance.now())), deps.signal).catch(() => undefined);
  }
  const stillPresent = [...unknown, ...pending].map((r) => r.versionArn);
  return { stillPresent, lastSeen: Object.fromEntries(stillPresent.map((arn) => [arn, seen.get(arn) ?? "not polled"])), tookMs: Math.round(performance.now() - started), polls };
}

/** Returns the ARNs still present when `timeoutMs` ran out (see waitForDeletionsReport). */
export async function waitForDeletions(results: WriteResult[], deps: WaitDeps): Promise<string[]> {
  return (await waitForDeletionsReport(results, deps)).stillPresent;
}

/** 1 s, 2 s, 4 s, then every `max`: quick when AWS is quick, and a handful of calls when it is slow. */
function pollDelay(round: number, max: number): number {
  return Math.min(max, 1_000 * 2 ** round);
}


/** What a Denial means as a result: gone is already deleted; anything else changed since the plan. */
function denialOutcome(s: Slot, d: Denial, log: Logger): Partial<WriteResult> & Pick<WriteResult, "result"> {
  if (d.gone) {
    log.info({ versionArn: s.action.versionArn }, "already deleted (the last look did not find it)");
    return { result: "alreadyDeleted", code: "NotFoundAtLastLook" };
  }
  log.warn({ versionArn: s.action.versionArn, reasons: d.reasons }, "changed since the plan: not written");
  return { result: "changed", reasons: d.reasons, error: `changed since the plan: ${d.reasons.map((r) => `${r.rule}: ${r.message}`).join("; ")}` };
}

type AwsAnswer = { Status?: string; $metadata: { requestId?: string } };
