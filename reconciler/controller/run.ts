// `rekon run`: the controller loop. It owns timing (interval with jitter, triggers from the manifest
// watch and from winning the lease), the per-cycle timeout, the catching of unexpected throws, process
// signals and the exit code; each cycle (cycle.ts) only plans and, when allowed, applies.
import { Identities } from "../aws/identity.js";
import { RateLimiters } from "../aws/limiter.js";
import { randomUUID } from "node:crypto";
import type { Io } from "../io.js";
import { DEFAULT_RETRY, type RetryOptions } from "../aws/retry.js";
import { createLogger } from "../log.js";
import { InputsCache, type ReconcileOptions } from "../reconcile.js";
import { AuditSink } from "./audit.js";
import { runCycle } from "./cycle.js";
import { formatListen, startProbeServer, type Probe } from "./http.js";
import type { LeaderElector } from "./leader.js";
import { checkFreshness } from "./freshness.js";
import { createMetrics, initNotificationChannels, recordNotification, recordRequest, type CycleResult } from "./metrics.js";
import { Notifier } from "../notify/notifier.js";
import type { RunOptions } from "./options.js";
import { redactingStream } from "./redact.js";
import { watchManifests } from "./watch.js";


/** Cycles in a row whose apply saw the inputs change before the controller calls it a failure (see below). */
const CHANGED_CYCLES_LIMIT = 3;
export interface ControllerConfig {
  level: string;
  /** Retry flags (--retries, --retry-max-time) over DEFAULT_RETRY. */
  retry?: Partial<RetryOptions>;
  /** Endpoint/credential overrides for tests. */
  client?: ReconcileOptions["client"];
}

/** ±10 % so replicas and restarts spread their AWS reads instead of arriving together. */
export function jittered(intervalMs: number, random = Math.random): number {
  return Math.round(intervalMs * (0.9 + 0.2 * random()));
}

/** Bound on the whole shutdown: Kubernetes sends SIGKILL 30 s after SIGTERM by default. */
const EXIT_DEADLINE_MS = 25_000;

export async function runController(opts: RunOptions, io: Io, cfg: ControllerConfig): Promise<number> {
  // Logs go to stderr like every other command's (README, --help), redacted line by line; the container
  // runtime collects both streams, and stdout carries nothing but the audit records (audit.ts).
  // Notification URLs and secrets join the redacted values once read.
  const secrets = new Set<string>();
  const log = createLogger(cfg.level, redactingStream(io.stderr, io.env, secrets));
  const metrics = createMetrics();
  // One notifier for the process: it remembers what it told (README "Notifications").
  const notifier = new Notifier({ log, env: io.env, command: "run", secrets, observe: (channel, event, result, n) => recordNotification(metrics, channel, event, result, n), channels: (names) => initNotificationChannels(metrics, names) });
  metrics.reconcileInterval.set(opts.intervalMs / 1000);
  // Audit records also go to stdout, one JSON line each: the cluster's log pipeline gets them by default.
  const audit = new AuditSink(log, opts.auditFile, () => metrics.auditWriteErrors.inc(), io.stdout);
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...cfg.retry };

  // One set of rate limiters for the whole run, renewed only when the policy's rateLimits change: rates
  // learned against the account's quota carry over from cycle to cycle, and every attempt of every
  // phase (reads included) is counted in rekon_aws_requests_total.
  let limiters: { key: string; set: RateLimiters } | undefined;
  const limitersFor = (rateLimits: Record<string, number>): RateLimiters => {
    const key = JSON.stringify(Object.entries(rateLimits).sort());
    if (limiters?.key === key) return limiters.set;
    limiters?.set.close();
    const set = new RateLimiters(rateLimits);
    set.observe((e) => recordRequest(metrics, e));
    limiters = { key, set };
    return set;
  };

  // Who rekon is, resolved once per credential source for the life of the process (STS GetCallerIdentity).
  // Assumed-role sessions say what they are for (STS SourceIdentity): a plan-only controller can be given
  // a plan role that the target accounts let in read-only.
  const inputsCache = new InputsCache();
  const identities = new Identities({ ...(cfg.client?.credentials ? { credentials: cfg.client.credentials } : {}), ...(cfg.client?.stsEndpoint ? { stsEndpoint: cfg.client.stsEndpoint } : {}), sourceIdentity: opts.apply ? "rekon-apply" : "rekon-plan" });

  const state = { windowOpens: undefined as number | undefined, startedAt: Date.now(), running: false, lastStart: 0, lastEnd: 0, cycles: 0, valid: false, stopping: false, lastResult: undefined as CycleResult | undefined, changedInARow: 0 };
  const stop = new AbortController(); // no new cycle, no new deletion
  const hard = new AbortController(); // AWS calls in flight are aborted

  let pending = false;
  let wake = () => {};
  const trigger = (why: string) => {
    pending = true;
    log.debug({ why }, "cycle requested");
    wake();
  };

  const onSignal = (sig: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      hard.abort(new Error(`second ${sig}: aborting now`));
      return;
    }
    log.info({ signal: sig, graceMs: opts.shutdownGraceMs }, "stopping: no new cycle or write starts; writes already sent are awaited up to the grace, then reported unknown");
    state.stopping = true;
    stop.abort(new Error(`stopping on ${sig}`));
    setTimeout(() => hard.abort(new Error("shutdown grace ran out")), opts.shutdownGraceMs).unref();
    setTimeout(() => {
      log.error("shutdown did not finish in time; exiting anyway (deletion is idempotent: the next start re-plans)");
      process.exit(1);
    }, EXIT_DEADLINE_MS).unref();
    wake();
  };
  process.on("SIGTERM", onSignal).on("SIGINT", onSignal);

  const healthz = (): Probe => {
    const now = Date.now();
    if (state.running) {
      const ran = now - state.lastStart;
      return ran < opts.cycleTimeoutMs + 30_000 ? { ok: true, reason: `cycle running for ${ran} ms` } : { ok: false, reason: `cycle stuck: running for ${ran} ms, over its ${opts.cycleTimeoutMs} ms timeout` };
    }
    const idle = now - Math.max(state.lastEnd, state.startedAt);
    return idle < 3 * opts.intervalMs ? { ok: true, reason: `last cycle ended ${idle} ms ago` } : { ok: false, reason: `no cycle for ${idle} ms (over 3 intervals)` };
  };
  const readyz = (): Probe => {
    if (state.stopping) return { ok: false, reason: "stopping" };
    if (state.cycles === 0) return { ok: false, reason: "first cycle not finished" };
    if (!state.valid) return { ok: false, reason: "manifests or policy invalid, or not read yet (see the log): nothing is deleted" };
    return { ok: true, reason: `last cycle: ${state.lastResult}` };
  };

  let server;
  try {
    server = await startProbeServer(opts.listen, { healthz, readyz, registry: metrics.registry });
  } catch (err) {
    process.off("SIGTERM", onSignal).off("SIGINT", onSignal);
    throw err;
  }
  log.info({ url: `http://${formatListen(server.address)}`, apply: opts.apply, intervalMs: opts.intervalMs, manifests: opts.manifests, policy: opts.policy ?? "defaults", leaderElect: !!opts.leader }, "rekon run: listening for /healthz, /readyz, /metrics");

  let elector: LeaderElector | undefined;
  if (opts.leader) {
    const { LeaderElector, leaseApi } = await import("./leader.js");
    elector = new LeaderElector(await leaseApi(opts.leader), opts.leader, log.child({ component: "leader" }), {
      onStartedLeading: () => {
        metrics.leader.set(1);
        trigger("acquired the lease");
      },
      onStoppedLeading: () => metrics.leader.set(0),
      onError: () => metrics.leaderElectionErrors.inc(),
    });
    metrics.leader.set(0);
    elector.start();
  } else {
    metrics.leader.set(1);
  }

  const watcher = watchManifests([...opts.manifests, ...(opts.policy ? [opts.policy] : [])], (changed) => trigger(`changed: ${changed}`), { debounceMs: opts.watchDebounceMs, log });

  const cycle = async () => {
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
    const auditFailuresBefore = audit.failures;
    try {
      const out = await runCycle(
        // Only an instance that may write tells (the leader, or the only one): replicas would repeat each other.
        { cycleId, manifests: opts.manifests, ...(opts.policy !== undefined ? { policy: opts.policy } : {}), write, callSignal, writeSignal, abandonSignal, ...(writeBlock ? { writeBlock } : {}), notify: !elector || term !== undefined, dryRun: !opts.apply },
        { log: clog, metrics, audit, retry, limitersFor, identities, inputsCache, notifier, ...(elector ? { leaseIdentity: elector.identity } : {}), ...(cfg.client ? { client: cfg.client } : {}) },
      );
      result = out.result;
      state.valid = out.valid;
      // The audit trail is part of the job: a record that did not reach --audit-file fails the cycle.
      if (audit.failures > auditFailuresBefore && result === "ok") {
        result = "failed";
        clog.error({ records: audit.failures - auditFailuresBefore }, "audit records could not be written to the audit file this cycle");
      }
      // A deletion window that opens (or a deny window that ends) starts a cycle then, not at the interval.
      const opens = out.plan?.nextDeletionAllowedAt ? Date.parse(out.plan.nextDeletionAllowedAt) : undefined;
      metrics.nextDeletionAllowed.set(opens !== undefined ? opens / 1000 : 0);
      state.windowOpens = opens;
      // The manifests changed under the apply: plan again at once from the new revision. Several cycles in
      // a row that each see them change are not a busy repository but a loop that never writes (inputs
      // that hash differently each time they are read): a failure, so it is seen, not an `ok` per cycle.
      state.changedInARow = out.inputsChanged ? state.changedInARow + 1 : 0;
      if (state.changedInARow >= CHANGED_CYCLES_LIMIT && result === "ok") {
        result = "failed";
        clog.error({ cycles: state.changedInARow }, `the manifests or policy changed during each of the last ${state.changedInARow} applies: nothing is being written; check that the files are not rewritten on every read`);
      }
      if (out.inputsChanged) trigger("the manifests or policy changed during the apply");
      if (out.plan) clog.info({ result, summary: out.plan.summary, deleted: out.results.filter((r) => r.result === "accepted" && (r.operation ?? "delete") === "delete").length, durationMs: Date.now() - state.lastStart }, "cycle finished");
      else clog.info({ result, durationMs: Date.now() - state.lastStart }, "cycle finished");
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
    metrics.reconcileTotal.inc({ result });
    if (result === "ok") metrics.lastSuccess.set(Date.now() / 1000);
  };

  while (!stop.signal.aborted) {
    pending = false;
    await cycle();
    if (stop.signal.aborted || pending) continue;
    // Wait for the interval, or until a deletion window opens (a second after, so it is open), if sooner.
    const untilWindow = state.windowOpens !== undefined ? Math.max(0, state.windowOpens - Date.now() + 1_000) : Infinity;
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, Math.min(jittered(opts.intervalMs), untilWindow));
      function done() {
        clearTimeout(t);
        wake = () => {};
        resolve();
      }
      wake = done;
    });
  }

  watcher.close();
  limiters?.set.close();
  await elector?.stop();
  metrics.leader.set(0);
  await server.close();
  process.off("SIGTERM", onSignal).off("SIGINT", onSignal);
  log.info({ cycles: state.cycles }, "stopped");
  // Sockets kept alive by the SDK or the Kubernetes client must not hold the process past its exit.
  setTimeout(() => process.exit(0), 2_000).unref();
  return 0;
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
