// Prometheus metrics for `rekon run`. One registry per controller (not prom-client's global), so tests
// can run several controllers in one process and read each one's numbers.
//
// Every counter is exported at 0 for each label value it can take as soon as that value is known (cycle
// results at start, per-project series from the first plan), so rate(), increase() and absent() in alert
// rules work before the first failure instead of waiting for a series to appear. `promtool check metrics`
// passes on the whole scrape (test/controller/metrics.test.ts).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { NOTIFICATION_EVENTS, NOTIFICATION_RESULTS, WRITE_OUTCOMES, type NotificationEventKind, type NotificationResult, type WriteResult } from "../types.js";
import { DEFAULT_RATES, type RequestEvent } from "../aws/limiter.js";
import type { InferencePolicy, Plan } from "../types.js";
import { buildInfo, type BuildInfo } from "./buildinfo.js";

/** How a cycle ended; a closed set so dashboards can alert on each. */
export const CYCLE_RESULTS = ["ok", "invalid", "refused", "failed", "aborted", "error"] as const;
export type CycleResult = (typeof CYCLE_RESULTS)[number];

/**
 * Every result a deletion can have: the four apply reports today, and `changed` (the version changed
 * between plan and delete, so it was left alone) and `unknown` (no answer that says whether AWS deleted it).
 */
export const DELETE_RESULTS = WRITE_OUTCOMES;
export const PLAN_ACTIONS = ["delete", "keep", "blocked", "missing"] as const;
/**
 * How an archive step ended (spec.archive): completed (its copy COPYING_COMPLETED, so the source went on to its
 * deletion), inProgress (the copy still COPYING_IN_PROGRESS: the source held), failed (no archive project, the
 * copy refused, COPYING_FAILED or vanished: the source kept).
 */
export const ARCHIVE_RESULTS = ["completed", "inProgress", "failed"] as const;

function archiveResult(a: NonNullable<WriteResult["archive"]>): (typeof ARCHIVE_RESULTS)[number] {
  if (a.copy === "failed") return "failed";
  return a.status === "COPYING_COMPLETED" ? "completed" : "inProgress";
}
export const PROJECT_READ_STATUSES = ["ok", "notFound", "error", "notManaged"] as const;

type ProjectLabels = "project" | "account" | "region";

export interface ControllerMetrics {
  registry: Registry;
  reconcileTotal: Counter<"result">;
  reconcileDuration: Histogram;
  reconcileInterval: Gauge;
  versions: Gauge<ProjectLabels | "action">;
  deletionsTotal: Counter<ProjectLabels | "result">;
  projectReadsTotal: Counter<ProjectLabels | "status">;
  awsRequestsTotal: Counter<"account" | "region" | "operation" | "outcome">;
  awsRequestDuration: Histogram<"account" | "region" | "operation">;
  awsRateLimit: Gauge<"account" | "region" | "operation">;
  manifestValid: Gauge;
  manifestsStale: Gauge;
  manifestsLastSync: Gauge;
  nextDeletionAllowed: Gauge;
  nextRuntimeChange: Gauge;
  inferenceUnits: Gauge<ProjectLabels | "state">;
  inferenceCost: Gauge<"account" | "region" | "currency">;
  lastSuccess: Gauge;
  leader: Gauge;
  leaderElectionErrors: Counter;
  auditWriteErrors: Counter;
  buildInfo: Gauge<"version" | "revision">;
  notificationsTotal: Counter<"channel" | "event" | "result">;
  /** Archive copies of deletions under spec.archive, by how the step went (ARCHIVE_RESULTS). */
  archiveCopiesTotal: Counter<ProjectLabels | "result">;
  /** The account the ambient credentials reach (from the last plan), to label their rate limiters. */
  ambientAccount?: string;
  /** Each limiter's last rate, by its key, so a late-learned ambient account can relabel them all. */
  rates: Map<string, Pick<RequestEvent, "identity" | "region" | "operation" | "rate">>;
}

/**
 * A project's account: the plan's `account` field where it has one, else the account in its ARN, else
 * "unknown" (a project that was not found has no ARN). Works with plans from before the field existed.
 */
export function projectAccount(p: { account?: string; projectArn?: string | null }): string {
  return p.account ?? p.projectArn?.split(":")[4] ?? "unknown";
}

export function createMetrics(build: BuildInfo = buildInfo()): ControllerMetrics {
  const registry = new Registry();
  // Node and process metrics. Three of them are gauges named *_total, which promtool rejects (a _total
  // suffix promises a counter, and rate() over a gauge is nonsense); their per-type series
  // (nodejs_active_handles{type}, nodejs_active_requests{type}, nodejs_active_resources{type}) stay, and sum() gives the totals.
  collectDefaultMetrics({ register: registry });
  for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) registry.removeSingleMetric(name);
  const r = [registry];
  const m: ControllerMetrics = {
    registry,
    reconcileTotal: new Counter({
      name: "rekon_reconcile_total",
      help: "Reconcile cycles by result (ok, invalid, refused, failed, aborted, error).",
      labelNames: ["result"],
      registers: r,
    }),
    reconcileDuration: new Histogram({
      name: "rekon_reconcile_duration_seconds",
      help: "Duration of one reconcile cycle.",
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600],
      registers: r,
    }),
    reconcileInterval: new Gauge({
      name: "rekon_reconcile_interval_seconds",
      help: "The configured time between cycles (--interval), for alerts that count missed cycles.",
      registers: r,
    }),
    versions: new Gauge({
      name: "rekon_versions",
      help: "Versions in the last valid plan, by project and planned action (delete, keep, blocked, missing).",
      labelNames: ["project", "account", "region", "action"],
      registers: r,
    }),
    deletionsTotal: new Counter({
      name: "rekon_deletions_total",
      help: "Deletion results by project (accepted, alreadyDeleted, failed, skipped, changed, unknown).",
      labelNames: ["project", "account", "region", "result"],
      registers: r,
    }),
    projectReadsTotal: new Counter({
      name: "rekon_project_reads_total",
      help: "Project reads per cycle by status (ok, notFound, error, notManaged); nothing in a project read with error or notFound is deleted.",
      labelNames: ["project", "account", "region", "status"],
      registers: r,
    }),
    awsRequestsTotal: new Counter({
      name: "rekon_aws_requests_total",
      help: "AWS call attempts by account, region, operation and outcome (ok or the error code), reads and writes.",
      labelNames: ["account", "region", "operation", "outcome"],
      registers: r,
    }),
    awsRequestDuration: new Histogram({
      name: "rekon_aws_request_duration_seconds",
      help: "Duration of one AWS call attempt (not counting the rate limiter's wait), by account, region and operation.",
      labelNames: ["account", "region", "operation"],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: r,
    }),
    awsRateLimit: new Gauge({
      name: "rekon_aws_rate_limit_requests_per_second",
      help: "The adaptive rate limiter's current rate per account, region and operation (it falls on throttles and grows back).",
      labelNames: ["account", "region", "operation"],
      registers: r,
    }),
    manifestValid: new Gauge({ name: "rekon_manifest_valid", help: "1 when the last cycle read valid manifests and policy, else 0.", registers: r }),
    nextDeletionAllowed: new Gauge({
      name: "rekon_deletion_next_allowed_timestamp_seconds",
      help: "When versions now kept only by a deletion window become deletable (Unix time); 0 when none are.",
      registers: r,
    }),
    ...inferenceGauges(r),
    manifestsStale: new Gauge({
      name: "rekon_manifests_stale",
      help: "1 while the manifests are older than --max-sync-age (no deletion then), else 0.",
      registers: r,
    }),
    manifestsLastSync: new Gauge({
      name: "rekon_manifests_last_sync_timestamp_seconds",
      help: "Unix time of the last sync of the manifests (--sync-touch-file's modification time); 0 when unknown.",
      registers: r,
    }),
    lastSuccess: new Gauge({ name: "rekon_last_success_timestamp_seconds", help: "Unix time the last cycle ended with result ok.", registers: r }),
    leader: new Gauge({ name: "rekon_leader", help: "1 while this instance may write (holds the Lease, or runs without leader election).", registers: r }),
    leaderElectionErrors: new Counter({
      name: "rekon_leader_election_errors_total",
      help: "Lease requests (get, create, update) that failed or timed out.",
      registers: r,
    }),
    auditWriteErrors: new Counter({
      name: "rekon_audit_write_errors_total",
      help: "Audit records that could not be appended to --audit-file (each is still in its log line); the cycle that wrote them is failed.",
      registers: r,
    }),
    buildInfo: new Gauge({
      name: "rekon_build_info",
      help: "Always 1; the labels say which rekon is running.",
      labelNames: ["version", "revision"],
      registers: r,
    }),
    ...eventCounters(r),
    rates: new Map(),
  };
  for (const res of CYCLE_RESULTS) m.reconcileTotal.inc({ result: res }, 0);
  m.leaderElectionErrors.inc(0);
  m.auditWriteErrors.inc(0);
  m.manifestValid.set(0);
  m.manifestsStale.set(0);
  m.nextDeletionAllowed.set(0);
  m.manifestsLastSync.set(0);
  m.lastSuccess.set(0);
  m.buildInfo.set({ version: build.version, revision: build.revision }, 1);
  return m;
}

/** What the cycles told: notifications by channel, and archive steps by result. */
function eventCounters(r: Registry[]): Pick<ControllerMetrics, "notificationsTotal" | "archiveCopiesTotal"> {
  return {
    notificationsTotal: new Counter({
      name: "rekon_notifications_total",
      help:
        "Notification events by channel, event (marked, reminder, deleted, failed, refused, readFailed, pending) and result (delivered: a 2xx; failed: " +
        "given up, refused by the receiver, or the channel could not be used).",
      labelNames: ["channel", "event", "result"],
      registers: r,
    }),
    archiveCopiesTotal: new Counter({
      name: "rekon_archive_copies_total",
      help:
        "Archive steps of deletions under spec.archive, by project and result (completed, inProgress, failed); a source is deleted only after its " +
        "copy completed.",
      labelNames: ["project", "account", "region", "result"],
      registers: r,
    }),
  };
}

/** The running state's gauges: when the schedule changes next, units running and desired, their cost. */
function inferenceGauges(r: Registry[]): Pick<ControllerMetrics, "nextRuntimeChange" | "inferenceUnits" | "inferenceCost"> {
  const nextRuntimeChange = new Gauge({
    name: "rekon_runtime_next_change_timestamp_seconds",
    help: "When a running schedule's occurrence next begins or ends (Unix time): the controller plans again then; 0 when no version has a schedule.",
    registers: r,
  });
  nextRuntimeChange.set(0);
  return {
    nextRuntimeChange,
    inferenceUnits: new Gauge({
      name: "rekon_inference_units",
      help:
        "Inference units per project in the last valid plan (the min units of each RUNNING or STARTING version, what AWS bills). state=running: as " +
        "read this cycle. state=desired: running once the plan is applied, i.e. what the manifests declare running now within the policy; a start " +
        "the policy refuses (unit ceiling, start budget, refused run) is not counted, a start AWS or the last look refuses is (running stays below " +
        "desired), and a version rekon does not stop (runtime: unmanaged, unlisted without stopRunning) counts in both.",
      labelNames: ["project", "account", "region", "state"],
      registers: r,
    }),
    inferenceCost: new Gauge({
      name: "rekon_inference_cost_per_hour",
      help: "Running inference units × the operator policy's spec.inference.unitPricePerHour, per account and region; only with a price.",
      labelNames: ["account", "region", "currency"],
      registers: r,
    }),
  };
}

/**
 * Replace the per-project version counts, inference units and cost with the given plan's (or clear them when
 * there is none): a project no longer planned loses its series.
 */
export function recordPlan(m: ControllerMetrics, plan: Plan | undefined, inference?: Pick<InferencePolicy, "unitPricePerHour" | "currency">): void {
  m.versions.reset();
  m.inferenceUnits.reset();
  m.inferenceCost.reset();
  if (!plan) return;
  recordInference(m, plan, inference);
  const labels = new Map<string, { project: string; account: string; region: string }>();
  for (const p of plan.projects) {
    const l = { project: p.project, account: projectAccount(p), region: p.region };
    labels.set(`${p.region}|${p.project}`, l);
    if (!p.roleArn && l.account !== "unknown" && m.ambientAccount !== l.account) {
      m.ambientAccount = l.account;
      exportRates(m);
    }
    for (const result of DELETE_RESULTS) m.deletionsTotal.inc({ ...l, result }, 0);
    for (const action of PLAN_ACTIONS) m.versions.set({ ...l, action }, 0);
    for (const status of PROJECT_READ_STATUSES) m.projectReadsTotal.inc({ ...l, status }, 0);
    // Every operation rekon may call there, at 0 from the first plan on: a throttle alert's rate() then
    // sees the first ThrottlingException against a series that already existed.
    if (l.account !== "unknown")
      for (const op of Object.keys(DEFAULT_RATES)) m.awsRequestsTotal.inc({ account: l.account, region: l.region, operation: op, outcome: "ok" }, 0);
    m.projectReadsTotal.inc({ ...l, status: p.status });
  }
  // Counted here, then set once per series: one prom-client call per version (each hashing its labels)
  // was a large share of a cycle's allocation at 100,000 versions.
  const counts = new Map<string, { labels: { project: string; account: string; region: string }; n: Map<string, number> }>();
  for (const a of plan.actions) {
    const known = `${a.region}|${a.project}`;
    const key = labels.has(known) ? known : `${known}|${accountOfArn(a.versionArn)}`;
    let c = counts.get(key);
    if (!c) counts.set(key, (c = { labels: labels.get(known) ?? { project: a.project, account: accountOfArn(a.versionArn), region: a.region }, n: new Map() }));
    c.n.set(a.action, (c.n.get(a.action) ?? 0) + 1);
  }
  for (const c of counts.values()) for (const [action, n] of c.n) m.versions.set({ ...c.labels, action }, n);
}

/**
 * Units per project (only a project read completely has them: unknown is no series, not 0), and with a price
 * the cost of what runs, per account and region (0 where nothing runs).
 */
function recordInference(m: ControllerMetrics, plan: Plan, inference: Pick<InferencePolicy, "unitPricePerHour" | "currency"> | undefined): void {
  const price = inference?.unitPricePerHour;
  const cost = new Map<string, { account: string; region: string; units: number }>();
  for (const p of plan.projects) {
    if (!p.inferenceUnits) continue;
    const l = { project: p.project, account: projectAccount(p), region: p.region };
    m.inferenceUnits.set({ ...l, state: "running" }, p.inferenceUnits.now);
    m.inferenceUnits.set({ ...l, state: "desired" }, p.inferenceUnits.after);
    const key = `${l.account}|${l.region}`;
    const c = cost.get(key) ?? { account: l.account, region: l.region, units: 0 };
    c.units += p.inferenceUnits.now;
    cost.set(key, c);
  }
  if (price === undefined || !inference) return;
  // Rounded to a millionth: 3 × 4.1 is 12.3, not 12.299999999999999.
  for (const c of cost.values())
    m.inferenceCost.set({ account: c.account, region: c.region, currency: inference.currency }, Math.round(c.units * price * 1e6) / 1e6);
}

/** Every channel × event × result at 0, as soon as a policy names the channel. */
export function initNotificationChannels(m: ControllerMetrics, channels: readonly string[]): void {
  for (const channel of channels)
    for (const event of NOTIFICATION_EVENTS) for (const result of NOTIFICATION_RESULTS) m.notificationsTotal.inc({ channel, event, result }, 0);
}

export function recordNotification(m: ControllerMetrics, channel: string, event: NotificationEventKind, result: NotificationResult, n: number): void {
  m.notificationsTotal.inc({ channel, event, result }, n);
}

export function recordDeletions(m: ControllerMetrics, results: WriteResult[], plan?: Plan): void {
  // Starts and stops of listed versions (a restart's stop included) are running state, not deletions; a
  // stop-then-delete's stop is its deletion's.
  const runtime = new Set(plan?.actions.filter((a) => a.action === "start" || a.action === "stop").map((a) => a.versionArn));
  // Grace-period marks and notice tags are bookkeeping, not deletions.
  for (const r of results) {
    if (r.operation === "mark" || r.operation === "unmark" || r.operation === "notice" || r.operation === "reminder") continue;
    if (r.planned === "start" || r.planned === "stop" || r.operation === "start" || runtime.has(r.versionArn)) continue;
    m.deletionsTotal.inc({ project: r.project, account: accountOfArn(r.versionArn), region: r.region, result: r.result });
    if (r.archive) {
      const l = { project: r.project, account: accountOfArn(r.versionArn), region: r.region };
      for (const res of ARCHIVE_RESULTS) m.archiveCopiesTotal.inc({ ...l, result: res }, 0);
      m.archiveCopiesTotal.inc({ ...l, result: archiveResult(r.archive) });
    }
  }
}

/**
 * One AWS call attempt, as the run's rate limiters report it, under the account and region it was sent to:
 * quotas and throttling are per account and region, so a storm in one shows as that one.
 */
export function recordRequest(m: ControllerMetrics, e: RequestEvent): void {
  const { account, region } = rateLabels(m, e);
  m.awsRequestsTotal.inc({ account, region, operation: e.operation, outcome: e.outcome });
  m.awsRequestDuration.observe({ account, region, operation: e.operation }, e.durationMs / 1000);
  m.rates.set(`${e.identity}|${e.region}|${e.operation}`, { identity: e.identity, region: e.region, operation: e.operation, rate: e.rate });
  m.awsRateLimit.set(rateLabels(m, e), e.rate);
}

// The limiters key the ambient credentials as "ambient" when STS has not resolved them; their series carry
// that account's ID once a plan has named it, so a dashboard can line them up with the projects. (The
// clients of a cycle are made after STS answered, so their calls carry the resolved account already.)
function rateLabels(m: ControllerMetrics, e: Pick<RequestEvent, "identity" | "region" | "operation">) {
  return { account: e.identity === "ambient" ? (m.ambientAccount ?? "ambient") : e.identity, region: e.region, operation: e.operation };
}

function exportRates(m: ControllerMetrics): void {
  m.awsRateLimit.reset();
  for (const e of m.rates.values()) m.awsRateLimit.set(rateLabels(m, e), e.rate);
}

function accountOfArn(arn: string | null | undefined): string {
  return arn?.split(":")[4] || "unknown";
}
