// The status page's data (GET / and GET /api/status): the last cycle, the last plan compacted to what the
// page shows, and the most recent writes from the audit log. The controller keeps only this — never the
// live state a plan was made from — and bounds every list, so the page costs the same at 100,000 versions.
import { pendingSummary } from "../pending.js";
import type { PlannedPass } from "../reconcile.js";
import type { CycleStatus, PlanStatus, ProjectStatus, StatusSnapshot, SuspensionStatus, WriteEntry } from "../types/status.js";
import type { Logger } from "pino";
import type { AuditRecord } from "./audit.js";
import { redactValue } from "./redact.js";

/** Rows the page lists (soonest deletable first); the rest are counted. */
export const MAX_PENDING_ROWS = 500;
/** Writes the page's timeline keeps. */
export const MAX_WRITES = 50;

/** The last plan, compacted: counts per project, the first pending rows, the suspensions in force. */
export function planStatus(pass: Pick<PlannedPass, "gate" | "plan" | "policies" | "desired">, maxRows = MAX_PENDING_ROWS): PlanStatus {
  const { plan } = pass;
  const pending = pendingSummary(pass.gate, plan, maxRows);
  const price = pass.policies.operator.inference.unitPricePerHour;
  const bySet = new Map<string, ProjectStatus>();
  const projects: ProjectStatus[] = plan.projects.map((p) => {
    const s: ProjectStatus = {
      project: p.project,
      region: p.region,
      ...(p.account ? { account: p.account } : {}),
      set: p.set,
      read: p.status,
      ...(p.error ? { error: p.error } : {}),
      kept: 0,
      blocked: 0,
      marked: 0,
      deletable: 0,
      ...(p.inferenceUnits ? { inferenceUnits: p.inferenceUnits } : {}),
      ...(p.inferenceUnits && price !== undefined ? { costPerHour: p.inferenceUnits.now * price } : {}),
    };
    bySet.set(p.set, s);
    return s;
  });
  for (const a of plan.actions) {
    const s = bySet.get(a.set);
    if (!s) continue;
    if (a.action === "keep" || a.action === "start" || a.action === "stop") s.kept++;
    else if (a.action === "blocked") s.blocked++;
    else if (a.action === "delete") s.deletable++;
  }
  for (const [set, n] of pending.markedBySet) {
    const s = bySet.get(set);
    if (s) s.marked = n;
  }
  return {
    planAt: plan.generatedAt,
    policy: plan.policy,
    summary: plan.summary,
    refusals: plan.refusals,
    projects,
    pending: pending.rows,
    pendingTotal: pending.total,
    suspensions: suspensionsInForce(pass, Date.parse(plan.generatedAt)),
    ...(plan.nextDeletionAllowedAt ? { nextDeletionAllowedAt: plan.nextDeletionAllowedAt } : {}),
    inferenceUnits: plan.inferenceUnits,
    ...(plan.cost ? { cost: plan.cost } : {}),
  };
}

function suspensionsInForce(pass: Pick<PlannedPass, "policies" | "desired">, now: number): SuspensionStatus[] {
  const all: { scope: string; s: import("../types.js").Suspension | undefined }[] = [
    { scope: "every project", s: pass.policies.operator.suspend },
    ...pass.policies.scoped.map((p) => ({ scope: p.projects.join(", "), s: p.spec.suspend })),
    ...pass.desired.sets.map((set) => ({ scope: set.project, s: set.suspend })),
  ];
  const out: SuspensionStatus[] = [];
  // `!(now >= until)` as the gate reads it: a time that does not parse keeps the suspension in force.
  for (const { scope, s } of all)
    if (s && (s.until === undefined || !(now >= s.until)))
      out.push({
        scope,
        reason: s.reason,
        ...(s.until !== undefined && Number.isFinite(s.until) ? { until: new Date(s.until).toISOString() } : {}),
        origin: s.origin,
      });
  return out;
}

/**
 * planStatus for a cycle: a bug in the page's data must not fail a cycle that plans and deletes correctly,
 * so a throw here is logged and the page shows no plan (its numbers withdrawn) instead.
 */
export function cycleStatus(pass: Pick<PlannedPass, "gate" | "plan" | "policies" | "desired">, log: Logger): PlanStatus | undefined {
  try {
    return planStatus(pass);
  } catch (err) {
    log.error({ err }, "could not make the status page's data for this cycle; the page shows no plan");
    return undefined;
  }
}

/** What the page knows between cycles: small, bounded, replaced each cycle. */
export class StatusBoard {
  private last?: CycleStatus;
  private plan?: PlanStatus;
  private readonly writes: WriteEntry[] = [];

  constructor(
    private readonly info: { apply: boolean; intervalMs: number; startedAt: number },
    /** Values that must never be shown (credentials, webhook URLs and secrets once read): scrubbed from every answer. */
    private readonly secrets: () => readonly string[] = () => [],
  ) {}

  /** A cycle ended; `plan` is absent when it could not plan (then the last plan's numbers are withdrawn, not left to look current). */
  cycle(c: CycleStatus, plan: PlanStatus | undefined): void {
    this.last = c;
    this.plan = plan;
  }

  /** An audit record was written (audit.ts): the timeline keeps the newest MAX_WRITES. */
  record(r: AuditRecord): void {
    this.writes.unshift({
      time: r.time,
      operation: r.operation,
      result: r.result,
      project: r.project,
      region: r.region,
      version: r.versionName,
      versionArn: r.versionArn,
      ...(r.requestId ? { requestId: r.requestId } : {}),
      ...(r.code ? { code: r.code } : {}),
      ...(r.error ? { error: r.error } : {}),
    });
    if (this.writes.length > MAX_WRITES) this.writes.length = MAX_WRITES;
  }

  snapshot(loop: { cycles: number; running: boolean }, now = Date.now()): StatusSnapshot {
    const s: StatusSnapshot = {
      schema: "rekon.status/v1",
      now: new Date(now).toISOString(),
      controller: {
        apply: this.info.apply,
        intervalMs: this.info.intervalMs,
        startedAt: new Date(this.info.startedAt).toISOString(),
        // Only these two: the loop's state has more (its own startedAt among them) that is not the page's to show.
        cycles: loop.cycles,
        running: loop.running,
      },
      ...(this.last ? { lastCycle: this.last } : {}),
      ...(this.plan ? { plan: this.plan } : {}),
      writes: [...this.writes],
    };
    // Nothing on the page is a secret by construction; this is the last line, as for the logs.
    return redactValue(s, this.secrets()) as StatusSnapshot;
  }
}
