// The plan: one action per version, the projects read, and the run's refusals.
import type { CustomRuleName, RuleId } from "../rules.js";
import type { ProjectReadStatus } from "./live.js";

/**
 * delete, keep, blocked, missing: what happens to a version's existence. start and stop: its running state
 * (a listed version, kept, that rekon starts or stops; an unlisted RUNNING one is a delete with stopFirst).
 */
export type ActionKind = "delete" | "keep" | "blocked" | "missing" | "start" | "stop";

export interface Reason {
  /** A RuleId, or a custom rule's name. */
  rule: RuleId | CustomRuleName;
  message: string;
  /** The policy layer whose setting fired (e.g. `operator policy deploy/policy.yaml`). */
  layer?: string;
}

export interface PlanAction {
  action: ActionKind;
  project: string;
  region: string;
  /** The account the set's credentials resolved to (absent when they could not be resolved). */
  account?: string;
  versionName: string;
  /** null for `missing` (the version does not exist live). */
  versionArn: string | null;
  status: string | null;
  /** ISO 8601, null for `missing`. */
  createdAt: string | null;
  feature: string | null;
  reasons: Reason[];
  /** The ProjectVersionSet that owns the project. */
  set: string;
  /** `delete` of a RUNNING version under `stopRunning: true`: StopProjectVersion, wait for STOPPED, then delete. */
  stopFirst?: boolean;
  /** The role the set names, so the act step reaches the same account the read did. */
  roleArn?: string;
  /**
   * Grace-period bookkeeping apply will do: "add" the pending-delete mark (TagResource), or "remove" it
   * (UntagResource) from a version that was listed again or became protected.
   */
  mark?: "add" | "remove";
  /** For `blocked` by gracePeriod: when the version becomes deletable (ISO 8601). */
  deletableAt?: string;
  /**
   * For a marked version (or one apply marks) when the policy has notifications or requireNotice: whether
   * its `marked` notice reached a channel ("delivered", tag rekon.dev/notice-delivered-at later than the
   * mark), still has to ("pending": apply sends it and, once a channel accepts it, records the tag), or is
   * not needed for deletion ("notRequired": no requireNotice).
   */
  notice?: NoticeStatus;
  /** With remindBefore: "due" = apply sends the reminder now; "sent" = a reminder for this mark reached a channel. */
  reminder?: "due" | "sent";
  /**
   * start: the inference units it starts with (it adds `min`); stop: the units it runs at now (it removes
   * `min`). A running version's units are shown on keep actions too.
   */
  units?: InferenceUnits;
  /** start under allowRestart: running at other units than declared, so it is stopped (and STOPPED) first. */
  restartFirst?: boolean;
  /**
   * A deletion under spec.archive: apply first copies the version into `project` as `versionName`
   * (CopyProjectVersion) and deletes it only once that copy is COPYING_COMPLETED (docs/archive.md).
   */
  archive?: ArchiveStep;
  /** A deletion under spec.archive with required: false of a version that cannot be copied (an adapter): no undo. */
  noUndo?: boolean;
}

/** Where a deletion's archived copy goes: the archive project and the copy's derived name. */
export interface ArchiveStep {
  project: string;
  versionName: string;
}

export interface InferenceUnits {
  min: number;
  max?: number;
}

/** Running inference units (the min of every RUNNING or STARTING version) now, and once the plan is applied. */
export interface UnitsNowAfter {
  now: number;
  after: number;
}

export type NoticeStatus = "delivered" | "pending" | "notRequired";

export interface PlanProject {
  project: string;
  region: string;
  /** The account the set's credentials resolved to (STS), absent when they could not be resolved. */
  account?: string;
  projectArn: string | null;
  status: ProjectReadStatus;
  error?: string;
  set: string;
  roleArn?: string;
  /** Running inference units in this project, now and after the plan (its reads complete only). */
  inferenceUnits?: UnitsNowAfter;
}

/** The live facts a planned write was decided on, recorded in saved plans. */
export interface PlannedFact {
  action: "delete" | "mark:add" | "mark:remove" | "start" | "stop";
  versionArn: string;
  status: string;
  createdAt: string;
  tags?: Record<string, string>;
}

export interface PlanSummary {
  delete: number;
  keep: number;
  blocked: number;
  missing: number;
  start: number;
  stop: number;
}

export interface Plan {
  /** The `now` the plan was computed for (ISO 8601). */
  generatedAt: string;
  summary: PlanSummary;
  projects: PlanProject[];
  actions: PlanAction[];
  /** Run-wide refusals (e.g. over the deletion budget). Any refusal means no deletion at all. */
  refusals: Reason[];
  /** When versions now kept only by a deletion window become deletable (ISO 8601), if any are. */
  nextDeletionAllowedAt?: string;
  /** Running inference units over every project read, now and after the plan. */
  inferenceUnits: UnitsNowAfter;
  /** With spec.inference.unitPricePerHour: what they cost per hour (×720 for 30 days). */
  cost?: { perHourNow: number; perHourAfter: number; currency: string };
  /** When a running schedule's occurrence next begins or ends (ISO 8601): the controller plans again then. */
  nextRuntimeChangeAt?: string;
  policy: { source: string; name: string };
}
