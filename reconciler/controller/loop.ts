// One cycle of the controller, as the loop (run.ts) runs it: the signals it gets (the cycle's timeout, the
// shutdown, the lease's term), the stale-manifests check, the cycle itself (cycle.ts), and what its result
// means for the loop's state, the metrics and the next wake-up; and the probes that read that state.
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { Identities } from "../aws/identity.js";
import type { RateLimiters } from "../aws/limiter.js";
import type { RetryOptions } from "../aws/retry.js";
import type { Notifier } from "../notify/notifier.js";
import type { InputsCache } from "../reconcile.js";
import type { AuditSink } from "./audit.js";
import { runCycle, type CycleOutcome } from "./cycle.js";
import { checkFreshness } from "./freshness.js";
import type { Probe } from "./http.js";
import type { LeaderElector } from "./leader.js";
import type { ControllerMetrics, CycleResult } from "./metrics.js";
import type { RunOptions } from "./options.js";
import type { StatusBoard } from "./status.js";
import type { PlanStatus } from "../types/status.js";
import type { Reason } from "../types.js";
import type { ReconcileOptions } from "../reconcile.js";

export interface ControllerConfig {
  level: string;
  /** Retry flags (--retries, --retry-max-time) over DEFAULT_RETRY. */
  retry?: Partial<RetryOptions>;
  /** Endpoint/credential overrides for tests. */
  client?: ReconcileOptions["client"];
}

/** Cycles in a row whose apply saw the inputs change before the controller calls it a failure (see below). */
const CHANGED_CYCLES_LIMIT = 3;

/** What the loop knows between cycles (the probes read it). */
export interface LoopState {
  /** When the last plan's next deletion window opens (local clock, epoch ms). */
  windowOpens: number | undefined;
  /** When a running schedule's occurrence next begins or ends (local clock, epoch ms). */
  runtimeChange: number | undefined;
  startedAt: number;
  running: boolean;
  lastStart: number;
  lastEnd: number;
  cycles: number;
  valid: boolean;
  stopping: boolean;
  lastResult: CycleResult | undefined;
  changedInARow: number;
}

export interface CycleContext {
  opts: RunOptions;
  cfg: ControllerConfig;
  log: Logger;
  metrics: ControllerMetrics;
  audit: AuditSink;
  retry: RetryOptions;
  limitersFor: (rateLimits: Record<string, number>) => RateLimiters;
  identities: Identities;
  inputsCache: InputsCache;
  notifier: Notifier;
  elector: LeaderElector | undefined;
  state: LoopState;
  /** The status page's board: told each cycle's result and compacted plan. */
  board?: StatusBoard;
  /** No new cycle, no new deletion. */
  stop: AbortSignal;
  /** AWS calls in flight are aborted. */
  hard: AbortSignal;
  trigger(why: string): void;
}

export async function runOneCycle(c: CycleContext): Promise<void> {
  const { opts, cfg, log, metrics, audit, retry, limitersFor, identities, inputsCache, notifier, elector, state, trigger } = c;
  const hard = { signal: c.hard };
  const stop = { signal: c.stop };
  const cycleId = randomUUID();
  const clog = log.child({ cycleId });
  const term = elector?.termSignal();
  const write = opts.apply && (!elector || term !== undefined);
  const timeout = AbortSignal.timeout(opts.cycleTimeoutMs);
  // The process-long signals (shutdown, the lease's term) reach this cycle through per-cycle copies:
  // every AWS call combines its signal with these (AbortSignal.any), and Node 20 keeps a reference to
  // each combination in its sources for as long as they live, so a direct link would grow the
  // process-long ones by one entry per call, forever. The copies go with the cycle.
  const hardHere = follow(hard.signal);
  const stopHere = follow(stop.signal);
  const termHere = write && term ? follow(term) : undefined;
  const callSignal = AbortSignal.any([timeout, hardHere.signal, ...(termHere ? [termHere.signal] : [])]);
  const writeSignal = AbortSignal.any([stopHere.signal, callSignal]);
  // Writes already sent are awaited until the shutdown grace (or the cycle's bound) runs out, then
  // reported unknown; a lost lease only stops new ones.
  const abandonSignal = AbortSignal.any([timeout, hardHere.signal]);
  // Stale manifests (git-sync stuck): the cycle still plans, so metrics and logs stay current, but writes nothing.
  let writeBlock: { rule: "manifestsStale"; message: string } | undefined;
  if (opts.sync) {
    const f = checkFreshness(opts.sync.touchFile, opts.sync.maxAgeMs, new Date());
    metrics.manifestsStale.set(f.fresh ? 0 : 1);
    metrics.manifestsLastSync.set(f.syncedAt ? f.syncedAt.getTime() / 1000 : 0);
    if (!f.fresh) writeBlock = { rule: "manifestsStale", message: f.reason };
  }
  state.running = true;
  state.lastStart = Date.now();
  const endTimer = metrics.reconcileDuration.startTimer();
  let result: CycleResult;
  // What the status board is told of this cycle's plan; nothing when it could not plan.
  let planned: { status?: PlanStatus; refusals: Reason[] } | undefined;
  const auditFailuresBefore = audit.failures;
  try {
    const out = await runCycle(
      // Only an instance that may write tells (the leader, or the only one): replicas would repeat each other.
      {
        cycleId,
        manifests: opts.manifests,
        ...(opts.policy !== undefined ? { policy: opts.policy } : {}),
        write,
        callSignal,
        writeSignal,
        abandonSignal,
        ...(writeBlock ? { writeBlock } : {}),
        notify: !elector || term !== undefined,
        dryRun: !opts.apply,
      },
      {
        log: clog,
        metrics,
        audit,
        retry,
        limitersFor,
        identities,
        inputsCache,
        notifier,
        ...(elector ? { leaseIdentity: elector.identity } : {}),
        ...(cfg.client ? { client: cfg.client } : {}),
      },
    );
    result = out.result;
    state.valid = out.valid;
    if (out.plan) planned = { ...(out.status ? { status: out.status } : {}), refusals: out.plan.refusals };
    // The audit trail is part of the job: a record that did not reach --audit-file fails the cycle.
    if (audit.failures > auditFailuresBefore && result === "ok") {
      result = "failed";
      clog.error({ records: audit.failures - auditFailuresBefore }, "audit records could not be written to the audit file this cycle");
    }
    // A deletion window that opens (or a deny window that ends), and a running schedule's occurrence that
    // begins or ends, start a cycle then, not at the interval (nextWake). The plan's times are on AWS's
    // clock (the one it was made on); the loop waits on the local one.
    const opens = out.plan?.nextDeletionAllowedAt ? Date.parse(out.plan.nextDeletionAllowedAt) : undefined;
    const change = out.plan?.nextRuntimeChangeAt ? Date.parse(out.plan.nextRuntimeChangeAt) : undefined;
    metrics.nextDeletionAllowed.set(opens !== undefined ? opens / 1000 : 0);
    metrics.nextRuntimeChange.set(change !== undefined ? change / 1000 : 0);
    const local = (t: number | undefined) => (t === undefined ? undefined : t - (out.clockOffsetMs ?? 0));
    state.windowOpens = local(opens);
    state.runtimeChange = local(change);
    // The manifests changed under the apply: plan again at once from the new revision. Several cycles in
    // a row that each see them change are not a busy repository but a loop that never writes (inputs
    // that hash differently each time they are read): a failure, so it is seen, not an `ok` per cycle.
    state.changedInARow = out.inputsChanged ? state.changedInARow + 1 : 0;
    if (state.changedInARow >= CHANGED_CYCLES_LIMIT && result === "ok") {
      result = "failed";
      clog.error(
        { cycles: state.changedInARow },
        `the manifests or policy changed during each of the last ${state.changedInARow} applies: nothing is being written; check that the files are not ` +
          `rewritten on every read`,
      );
    }
    if (out.inputsChanged) trigger("the manifests or policy changed during the apply");
    logFinished(clog, out, result, state.lastStart);
  } catch (err) {
    // The loop goes on: the next cycle re-reads everything; nothing from this one is reused.
    const why = timeout.aborted ? "cycle timeout" : hard.signal.aborted ? "shutdown" : term?.aborted ? "lost the lease" : undefined;
    result = why ? "aborted" : "error";
    clog.error({ err, ...(why ? { why } : {}) }, why ? `cycle aborted (${why})` : "cycle failed unexpectedly; the loop goes on");
  } finally {
    for (const f of [hardHere, stopHere, termHere]) f?.dispose();
    endTimer();
    state.running = false;
    state.lastEnd = Date.now();
  }
  state.cycles++;
  state.lastResult = result;
  c.board?.cycle(
    { id: cycleId, result, startedAt: new Date(state.lastStart).toISOString(), durationMs: state.lastEnd - state.lastStart, refusals: planned?.refusals ?? [] },
    planned?.status,
  );
  metrics.reconcileTotal.inc({ result });
  if (result === "ok") metrics.lastSuccess.set(Date.now() / 1000);
}

function logFinished(clog: Logger, out: CycleOutcome, result: CycleResult, startedAt: number): void {
  if (out.plan)
    clog.info(
      {
        result,
        summary: out.plan.summary,
        deleted: out.results.filter((r) => r.result === "accepted" && (r.operation ?? "delete") === "delete").length,
        ...(out.plan.summary.start + out.plan.summary.stop > 0 ? runtimeCounts(out.results) : {}),
        durationMs: Date.now() - startedAt,
      },
      "cycle finished",
    );
  else clog.info({ result, durationMs: Date.now() - startedAt }, "cycle finished");
}

/** Starts and stops AWS accepted this cycle (a restart counts as a start). */
function runtimeCounts(results: CycleOutcome["results"]): { started: number; stopped: number } {
  const accepted = (op: string) => results.filter((r) => r.result === "accepted" && r.operation === op).length;
  return { started: accepted("start"), stopped: accepted("stop") };
}

/** ±10 % so replicas and restarts spread their AWS reads instead of arriving together. */
export function jittered(intervalMs: number, random = Math.random): number {
  return Math.round(intervalMs * (0.9 + 0.2 * random()));
}

/** Why the loop starts its next cycle when it does. */
export type WakeReason = "interval" | "deletion window" | "running schedule";

/**
 * A time-driven wake comes a second after its instant (so the window is open, or the occurrence has begun or
 * ended, when the cycle plans), and never sooner than this after the cycle: a plan that still sees the
 * instant ahead (its clock a little behind the local one) must not make the loop spin.
 */
const MIN_TIMED_WAKE_MS = 1_000;

/**
 * When the loop's next cycle starts, absent a trigger: at the interval (jittered), or earlier when a deletion
 * window opens or a running schedule's occurrence begins or ends (a model is started at the start of its
 * occurrence and stopped at its end, not up to an interval later).
 */
export function nextWake(
  state: Pick<LoopState, "windowOpens" | "runtimeChange">,
  intervalMs: number,
  now: number,
  random = Math.random,
): { delayMs: number; reason: WakeReason } {
  let wake: { delayMs: number; reason: WakeReason } = { delayMs: jittered(intervalMs, random), reason: "interval" };
  const timed: [number | undefined, WakeReason][] = [
    [state.windowOpens, "deletion window"],
    [state.runtimeChange, "running schedule"],
  ];
  for (const [at, reason] of timed) {
    if (at === undefined) continue;
    const delayMs = Math.max(MIN_TIMED_WAKE_MS, at - now + 1_000);
    if (delayMs < wake.delayMs) wake = { delayMs, reason };
  }
  return wake;
}

export function probesOf(state: LoopState, opts: RunOptions): { healthz(): Probe; readyz(): Probe } {
  const healthz = (): Probe => {
    const now = Date.now();
    if (state.running) {
      const ran = now - state.lastStart;
      return ran < opts.cycleTimeoutMs + 30_000
        ? { ok: true, reason: `cycle running for ${ran} ms` }
        : { ok: false, reason: `cycle stuck: running for ${ran} ms, over its ${opts.cycleTimeoutMs} ms timeout` };
    }
    const idle = now - Math.max(state.lastEnd, state.startedAt);
    return idle < 3 * opts.intervalMs
      ? { ok: true, reason: `last cycle ended ${idle} ms ago` }
      : { ok: false, reason: `no cycle for ${idle} ms (over 3 intervals)` };
  };
  const readyz = (): Probe => {
    if (state.stopping) return { ok: false, reason: "stopping" };
    if (state.cycles === 0) return { ok: false, reason: "first cycle not finished" };
    if (!state.valid) return { ok: false, reason: "manifests or policy invalid, or not read yet (see the log): nothing is deleted" };
    return { ok: true, reason: `last cycle: ${state.lastResult}` };
  };
  return { healthz, readyz };
}

/** A signal that aborts when `source` does (with its reason), until disposed; disposing unlinks it from `source`. */
export function follow(source: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const c = new AbortController();
  if (source.aborted) {
    c.abort(source.reason);
    return { signal: c.signal, dispose: () => undefined };
  }
  const on = () => c.abort(source.reason);
  source.addEventListener("abort", on, { once: true });
  return { signal: c.signal, dispose: () => source.removeEventListener("abort", on) };
}
