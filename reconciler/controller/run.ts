// `rekon run`: the controller loop. It owns timing (interval with jitter, triggers from the manifest
// watch and from winning the lease), the per-cycle timeout, the catching of unexpected throws, process
// signals and the exit code; each cycle (cycle.ts) only plans and, when allowed, applies.
import { Identities } from "../aws/identity.js";
import { RateLimiters } from "../aws/limiter.js";
import type { Io } from "../io.js";
import { DEFAULT_RETRY, type RetryOptions } from "../aws/retry.js";
import { InputsCache, type ReconcileOptions } from "../reconcile.js";
import { AuditSink } from "./audit.js";
import { nextWake, probesOf, runOneCycle, type ControllerConfig, type LoopState } from "./loop.js";

export { follow, jittered, type ControllerConfig } from "./loop.js";
import { formatListen, startProbeServer, type Probe } from "./http.js";
import type { LeaderElector } from "./leader.js";
import type { Logger } from "pino";
import { createMetrics, initNotificationChannels, recordNotification, recordRequest, type ControllerMetrics } from "./metrics.js";
import { Notifier } from "../notify/notifier.js";
import type { RunOptions } from "./options.js";
import { redactingLogger, secretValues } from "./redact.js";
import { sizeHeap } from "./heap.js";
import { StatusBoard } from "./status.js";
import { watchManifests } from "./watch.js";

/** Bound on the whole shutdown: Kubernetes sends SIGKILL 30 s after SIGTERM by default. */
const EXIT_DEADLINE_MS = 25_000;

export async function runController(opts: RunOptions, io: Io, cfg: ControllerConfig): Promise<number> {
  const heap = sizeHeap(process.execArgv, process.env.NODE_OPTIONS); // how far V8 lets the heap grow (heap.ts): before any cycle allocates
  // Logs go to stderr like every other command's (docs/cli.md, --help), redacted line by line; the container
  // runtime collects both streams, and stdout carries nothing but the audit records (audit.ts).
  // Notification URLs and secrets join the redacted values once read.
  const secrets = new Set<string>();
  const log = redactingLogger(cfg.level, io.stderr, io.env, secrets);
  const metrics = createMetrics();
  const notifier = processNotifier(log, io, secrets, metrics);
  metrics.reconcileInterval.set(opts.intervalMs / 1000);
  // Audit records also go to stdout, one JSON line each: the cluster's log pipeline gets them by default.
  // The status page's data: the last cycle, its plan compacted, the recent writes (status.ts); secrets scrubbed as from the logs.
  const board = new StatusBoard({ apply: opts.apply, intervalMs: opts.intervalMs, startedAt: Date.now() }, () => [...secretValues(io.env), ...secrets]);
  const audit = new AuditSink(
    log,
    opts.auditFile,
    () => metrics.auditWriteErrors.inc(),
    io.stdout,
    (rec) => board.record(rec),
  );
  const retry: RetryOptions = { ...DEFAULT_RETRY, ...cfg.retry };

  const limitersFor = limitersKeeper(metrics);

  // Who rekon is, resolved once per credential source for the life of the process (STS GetCallerIdentity).
  // Assumed-role sessions say what they are for (STS SourceIdentity): a plan-only controller can be given
  // a plan role that the target accounts let in read-only.
  const inputsCache = new InputsCache();
  const identities = new Identities({
    ...(cfg.client?.credentials ? { credentials: cfg.client.credentials } : {}),
    ...(cfg.client?.stsEndpoint ? { stsEndpoint: cfg.client.stsEndpoint } : {}),
    sourceIdentity: opts.apply ? "rekon-apply" : "rekon-plan",
  });

  const state = initialState();
  const stop = new AbortController(); // no new cycle, no new deletion
  const hard = new AbortController(); // AWS calls in flight are aborted

  let pending = false;
  let wake = () => {};
  const trigger = (why: string) => {
    pending = true;
    log.debug({ why }, "cycle requested");
    wake();
  };

  const onSignal = shutdownOnSignal({ log, opts, state, stop, hard, wake: () => wake() });
  process.on("SIGTERM", onSignal).on("SIGINT", onSignal);

  const { healthz, readyz } = probesOf(state, opts);

  let server;
  try {
    server = await startProbeServer(opts.listen, { healthz, readyz, registry: metrics.registry, status: () => board.snapshot(state) });
  } catch (err) {
    process.off("SIGTERM", onSignal).off("SIGINT", onSignal);
    throw err;
  }
  logListening(log, server.address, opts, heap);

  const elector = opts.leader ? await startElection(opts.leader, log, metrics, trigger) : undefined;
  if (!elector) metrics.leader.set(1);

  const watcher = watchManifests([...opts.manifests, ...(opts.policy ? [opts.policy] : [])], (changed) => trigger(`changed: ${changed}`), {
    debounceMs: opts.watchDebounceMs,
    log,
  });

  const cycle = () =>
    runOneCycle({
      opts,
      cfg,
      log,
      metrics,
      audit,
      retry,
      limitersFor,
      identities,
      inputsCache,
      notifier,
      elector,
      state,
      board,
      stop: stop.signal,
      hard: hard.signal,
      trigger,
    });

  while (!stop.signal.aborted) {
    pending = false;
    await cycle();
    if (stop.signal.aborted || pending) continue;
    // Wait for the interval, or until a deletion window opens or a running schedule's occurrence begins or
    // ends (a second after, so the plan sees it), if sooner.
    const next = nextWake(state, opts.intervalMs, Date.now());
    log.info({ reason: next.reason, inMs: next.delayMs, at: new Date(Date.now() + next.delayMs).toISOString() }, "next cycle");
    await new Promise<void>((resolve) => {
      const t = setTimeout(done, next.delayMs);
      function done() {
        clearTimeout(t);
        wake = () => {};
        resolve();
      }
      wake = done;
    });
  }

  watcher.close();
  limitersFor.close();
  await elector?.stop();
  metrics.leader.set(0);
  await server.close();
  process.off("SIGTERM", onSignal).off("SIGINT", onSignal);
  log.info({ cycles: state.cycles }, "stopped");
  // Sockets kept alive by the SDK or the Kubernetes client must not hold the process past its exit.
  setTimeout(() => process.exit(0), 2_000).unref();
  return 0;
}

function logListening(log: Logger, address: { host: string; port: number }, opts: RunOptions, heap: ReturnType<typeof sizeHeap>): void {
  log.info(
    {
      url: `http://${formatListen(address)}`,
      apply: opts.apply,
      intervalMs: opts.intervalMs,
      manifests: opts.manifests,
      policy: opts.policy ?? "defaults",
      leaderElect: !!opts.leader,
      heap,
    },
    "rekon run: listening for /healthz, /readyz, /metrics and the status page (/, /api/status)",
  );
}

/**
 * The first SIGTERM/SIGINT stops new cycles and writes; writes already sent are awaited up to the shutdown
 * grace, then reported unknown; a second signal (or the grace) aborts what is in flight; past the exit
 * deadline the process exits anyway (deletion is idempotent: the next start re-plans).
 */
function shutdownOnSignal(s: {
  log: Logger;
  opts: RunOptions;
  state: LoopState;
  stop: AbortController;
  hard: AbortController;
  wake(): void;
}): (sig: NodeJS.Signals) => void {
  return (sig) => {
    if (s.stop.signal.aborted) {
      s.hard.abort(new Error(`second ${sig}: aborting now`));
      return;
    }
    s.log.info(
      { signal: sig, graceMs: s.opts.shutdownGraceMs },
      "stopping: no new cycle or write starts; writes already sent are awaited up to the grace, then reported unknown",
    );
    s.state.stopping = true;
    s.stop.abort(new Error(`stopping on ${sig}`));
    setTimeout(() => s.hard.abort(new Error("shutdown grace ran out")), s.opts.shutdownGraceMs).unref();
    setTimeout(() => {
      s.log.error("shutdown did not finish in time; exiting anyway (deletion is idempotent: the next start re-plans)");
      process.exit(1);
    }, EXIT_DEADLINE_MS).unref();
    s.wake();
  };
}

/** Leader election (--leader-elect): the lease's holder writes; winning it starts a cycle at once. */
async function startElection(
  leader: NonNullable<RunOptions["leader"]>,
  log: Logger,
  metrics: ControllerMetrics,
  trigger: (why: string) => void,
): Promise<LeaderElector> {
  const { LeaderElector, leaseApi } = await import("./leader.js");
  const elector = new LeaderElector(await leaseApi(leader), leader, log.child({ component: "leader" }), {
    onStartedLeading: () => {
      metrics.leader.set(1);
      trigger("acquired the lease");
    },
    onStoppedLeading: () => metrics.leader.set(0),
    onError: () => metrics.leaderElectionErrors.inc(),
  });
  metrics.leader.set(0);
  elector.start();
  return elector;
}

/**
 * One set of rate limiters for the whole run, renewed only when the policy's rateLimits change: rates
 * learned against the account's quota carry over from cycle to cycle, and every attempt of every phase
 * (reads included) is counted in rekon_aws_requests_total.
 */
function limitersKeeper(metrics: ControllerMetrics): ((rateLimits: Record<string, number>) => RateLimiters) & { close(): void } {
  let limiters: { key: string; set: RateLimiters } | undefined;
  const get = (rateLimits: Record<string, number>): RateLimiters => {
    const key = JSON.stringify(Object.entries(rateLimits).sort());
    if (limiters?.key === key) return limiters.set;
    limiters?.set.close();
    const set = new RateLimiters(rateLimits);
    set.observe((e) => recordRequest(metrics, e));
    limiters = { key, set };
    return set;
  };
  return Object.assign(get, { close: () => limiters?.set.close() });
}

function initialState(): LoopState {
  return {
    windowOpens: undefined,
    runtimeChange: undefined,
    startedAt: Date.now(),
    running: false,
    lastStart: 0,
    lastEnd: 0,
    cycles: 0,
    valid: false,
    stopping: false,
    lastResult: undefined,
    changedInARow: 0,
  };
}

/** One notifier for the process: it remembers what it told (docs/notifications.md), and counts in the metrics. */
function processNotifier(log: Logger, io: Io, secrets: Set<string>, metrics: ControllerMetrics): Notifier {
  return new Notifier({
    log,
    env: io.env,
    command: "run",
    secrets,
    observe: (channel, event, result, n) => recordNotification(metrics, channel, event, result, n),
    channels: (names) => initNotificationChannels(metrics, names),
  });
}
