// What `rekon pending` lists and what the controller's status page shows: plain data, kept small (the
// controller holds only the last cycle's, never the live state it was made from).
import type { NoticeStatus, PlanSummary, Reason } from "./plan.js";

/** What a waiting version waits for; `kept` is a guard (or its listing) that keeps it: its mark goes. */
export type WaitKind = "gracePeriod" | "notice" | "approval" | "window" | "suspended" | "signature" | "refused" | "kept";

export interface PendingWait {
  kind: WaitKind;
  /** The rule id, as plan and explain name it. */
  rule: string;
  /** When this wait ends (ISO 8601), where it is known: a grace period, a delivered notice, a window. */
  until?: string;
  message: string;
}

export interface PendingRow {
  project: string;
  region: string;
  account?: string;
  set: string;
  version: string;
  versionArn: string;
  status: string;
  /**
   * deletable: apply deletes it now. waiting: held (grace, notice, approval, window, suspension, a refused
   * run). unmarking: listed again or kept by a guard: apply removes its mark, and it is not deleted.
   */
  state: "deletable" | "waiting" | "unmarking";
  /** The time its mark says (as written; see `signature` for whether it verifies). Absent: not marked yet. */
  markedAt?: string;
  /** Apply writes a (new) mark now: none yet, or one that does not count. */
  markAdded?: boolean;
  /**
   * When it becomes deletable (ISO 8601): now for a deletable version; for a waiting one the end of its last
   * timed wait, moved to the next opening of the deletion windows. Absent when a wait has no known end (a
   * person's approval, a notice not yet delivered, a suspension, a refused run).
   */
  deletableAt?: string;
  waits: PendingWait[];
  /** With requireNotice or notifications: its `marked` notice, and when a channel accepted it. */
  notice?: { state: NoticeStatus; deliveredAt?: string };
  /** With requireApproval: whether a person approved this mark, and when. */
  approval?: { state: "approved" | "missing"; approvedAt?: string };
  /** Under the operator's tagSigning, for a version that carries a mark: whether the mark verifies. */
  signature?: "verified" | "unsigned" | "forged";
}

/** One project as the status page shows it. */
export interface ProjectStatus {
  project: string;
  region: string;
  account?: string;
  set: string;
  /** The project's read: ok, notFound, error, notManaged. */
  read: string;
  error?: string;
  /** Versions listed by the set (kept, started or stopped). */
  kept: number;
  blocked: number;
  /** Versions carrying a mark or marked now. */
  marked: number;
  /** Versions apply deletes now. */
  deletable: number;
  inferenceUnits?: { now: number; after: number };
  /** inferenceUnits.now × spec.inference.unitPricePerHour. */
  costPerHour?: number;
}

/** A suspension in force when the plan was made. */
export interface SuspensionStatus {
  /** Whom it holds: "every project", or the projects. */
  scope: string;
  reason: string;
  /** ISO 8601; absent = until the manifest or policy changes. */
  until?: string;
  origin: string;
}

/** What the last plan said, compacted: the page's per-project and per-version parts. */
export interface PlanStatus {
  planAt: string;
  policy: { source: string; name: string };
  summary: PlanSummary;
  refusals: Reason[];
  projects: ProjectStatus[];
  /** The first rows, soonest deletable first (the page's bound); `pendingTotal` counts them all. */
  pending: PendingRow[];
  pendingTotal: number;
  suspensions: SuspensionStatus[];
  nextDeletionAllowedAt?: string;
  inferenceUnits: { now: number; after: number };
  cost?: { perHourNow: number; perHourAfter: number; currency: string };
}

/** One write from the audit log: what, when, AWS's answer and its request id. */
export interface WriteEntry {
  time: string;
  operation: string;
  result: string;
  project: string;
  region: string;
  version: string;
  versionArn: string;
  requestId?: string;
  code?: string;
  error?: string;
}

export interface CycleStatus {
  id: string;
  result: string;
  startedAt: string;
  durationMs: number;
  /** Why nothing was deleted, when the run was refused. */
  refusals: Reason[];
}

/** GET /api/status. */
export interface StatusSnapshot {
  schema: "rekon.status/v1";
  /** When this answer was made (the controller's clock). */
  now: string;
  controller: { apply: boolean; intervalMs: number; startedAt: string; cycles: number; running: boolean };
  lastCycle?: CycleStatus;
  /** The last plan's status; absent before the first plan, and after a cycle that could not plan (invalid inputs, an error). */
  plan?: PlanStatus;
  /** The most recent writes, newest first. */
  writes: WriteEntry[];
}
