// Prometheus metrics for `rekon run`. One registry per controller (not prom-client's global), so tests
// can run several controllers in one process and read each one's numbers.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { WriteResult } from "../types.js";
import type { Plan } from "../types.js";

/** How a cycle ended; a closed set so dashboards can alert on each. */
export const CYCLE_RESULTS = ["ok", "invalid", "refused", "failed", "aborted", "error"] as const;
export type CycleResult = (typeof CYCLE_RESULTS)[number];

export interface ControllerMetrics {
  registry: Registry;
  reconcileTotal: Counter<"result">;
  reconcileDuration: Histogram;
  versions: Gauge<"project" | "action">;
  deletionsTotal: Counter<"project" | "result">;
  awsRequestsTotal: Counter<"operation" | "outcome">;
  manifestValid: Gauge;
  lastSuccess: Gauge;
  leader: Gauge;
}

export function createMetrics(): ControllerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const m: ControllerMetrics = {
    registry,
    reconcileTotal: new Counter({ name: "rekon_reconcile_total", help: "Reconcile cycles by result (ok, invalid, refused, failed, aborted, error).", labelNames: ["result"], registers: [registry] }),
    reconcileDuration: new Histogram({ name: "rekon_reconcile_duration_seconds", help: "Duration of one reconcile cycle.", buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600], registers: [registry] }),
    versions: new Gauge({ name: "rekon_versions", help: "Versions in the last valid plan, by project and planned action (delete, keep, blocked, missing).", labelNames: ["project", "action"], registers: [registry] }),
    deletionsTotal: new Counter({ name: "rekon_deletions_total", help: "Deletion results by project (accepted, alreadyDeleted, failed, skipped).", labelNames: ["project", "result"], registers: [registry] }),
    awsRequestsTotal: new Counter({ name: "rekon_aws_requests_total", help: "AWS call attempts by operation and outcome (ok or the error code), reads and writes.", labelNames: ["operation", "outcome"], registers: [registry] }),
    manifestValid: new Gauge({ name: "rekon_manifest_valid", help: "1 when the last cycle read valid manifests and policy, else 0.", registers: [registry] }),
    lastSuccess: new Gauge({ name: "rekon_last_success_timestamp_seconds", help: "Unix time the last cycle ended with result ok.", registers: [registry] }),
    leader: new Gauge({ name: "rekon_leader", help: "1 while this instance may write (holds the Lease, or runs without leader election).", registers: [registry] }),
  };
  // Export every result label from the start, so rate() and absent() work before the first failure.
  for (const r of CYCLE_RESULTS) m.reconcileTotal.inc({ result: r }, 0);
  m.manifestValid.set(0);
  return m;
}

/** Replace the per-project version counts with the given plan's (or clear them when there is none). */
export function recordPlan(m: ControllerMetrics, plan: Plan | undefined): void {
  m.versions.reset();
  if (!plan) return;
  for (const p of plan.projects) for (const action of ["delete", "keep", "blocked", "missing"]) m.versions.set({ project: p.project, action }, 0);
  for (const a of plan.actions) m.versions.inc({ project: a.project, action: a.action });
}

export function recordDeletions(m: ControllerMetrics, results: WriteResult[]): void {
  // Grace-period marks are bookkeeping, not deletions.
  for (const r of results) if (r.operation !== "mark" && r.operation !== "unmark") m.deletionsTotal.inc({ project: r.project, result: r.result });
}
