// The data that flows read → plan → guard → act. Plain data only: no classes, no I/O.
import type { SourcePos } from "./errors.js";

/** The 14 documented statuses (REKOGNITION.md). A status outside this list is treated as unknown and never deleted. */
export const VERSION_STATUSES = [
  "TRAINING_IN_PROGRESS",
  "TRAINING_COMPLETED",
  "TRAINING_FAILED",
  "STARTING",
  "RUNNING",
  "FAILED",
  "STOPPING",
  "STOPPED",
  "DELETING",
  "COPYING_IN_PROGRESS",
  "COPYING_COMPLETED",
  "COPYING_FAILED",
  "DEPRECATED",
  "EXPIRED",
] as const;

/**
 * Statuses in which a version must not be deleted. AWS documents running and training as not deletable;
 * starting/stopping/copying are transitions of the same kind, and DELETING is already on its way out.
 */
export const IN_USE_STATUSES: ReadonlySet<string> = new Set([
  "RUNNING",
  "STARTING",
  "STOPPING",
  "TRAINING_IN_PROGRESS",
  "COPYING_IN_PROGRESS",
  "DELETING",
]);

// ---- desired state (from manifests) ----

export interface DesiredVersion {
  name: string;
  pos: SourcePos;
}

export interface DesiredSet {
  /** metadata.name, unique across all manifests. */
  name: string;
  pos: SourcePos;
  project: string;
  /** Resolved region: spec.region, else the default region. */
  region: string;
  /** IAM role to assume for this project (another account); absent = the ambient credentials. */
  roleArn?: string;
  versions: DesiredVersion[];
}

export interface DesiredState {
  sets: DesiredSet[];
  /** Every manifest file read, sorted; for reports and, later, digests. */
  files: string[];
}

// ---- live state (from AWS) ----

export interface LiveVersion {
  arn: string;
  name: string;
  project: string;
  region: string;
  account: string;
  status: string;
  statusMessage?: string;
  /** Epoch milliseconds. */
  createdAt: number;
  feature: string;
  sourceVersionArn?: string;
}

export type ProjectReadStatus = "ok" | "notFound" | "error";

/** Where a project lives and with which identity rekon reaches it. */
export interface Target {
  region: string;
  /** Role to assume (another account); absent = ambient credentials. */
  roleArn?: string;
}

export interface LiveProject {
  /** The ProjectVersionSet this read was for: the join key between desired and live state. */
  set: string;
  project: string;
  region: string;
  status: ProjectReadStatus;
  projectArn?: string;
  account?: string;
  feature?: string;
  /** Why the read failed (status "error") or what was not found. */
  error?: string;
  /** Complete list of the project's versions; only meaningful when status is "ok". */
  versions: LiveVersion[];
}

export interface LiveState {
  projects: LiveProject[];
}

// ---- policy ----

export interface Policy {
  /** Where it came from, for messages ("defaults" when no --policy was given). */
  source: string;
  name: string;
  allowedAccounts: string[];
  minAgeMs: number;
  /** The original text, e.g. "24h", for messages. */
  minAge: string;
  keepLatest: number;
  maxDeletesPerRun: number;
  allowEmpty: boolean;
  /** Stop an unlisted RUNNING Custom Labels version that passes every other guard, then delete it. Default false. */
  stopRunning: boolean;
  /** Requests per second per operation, per account and region (client-side limiter). Empty = built-in defaults. */
  rateLimits: Record<string, number>;
}

// ---- plan ----

export type ActionKind = "delete" | "keep" | "blocked" | "missing";

export type RuleId =
  | "inUse"
  | "copySource"
  | "minAge"
  | "keepLatest"
  | "allowEmpty"
  | "accountNotAllowed"
  | "maxDeletesPerRun"
  | "unknownStatus";

export interface Reason {
  rule: RuleId | string;
  message: string;
}

export interface PlanAction {
  action: ActionKind;
  project: string;
  region: string;
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
}

export interface PlanProject {
  project: string;
  region: string;
  projectArn: string | null;
  status: ProjectReadStatus;
  error?: string;
  set: string;
  roleArn?: string;
}

export interface PlanSummary {
  delete: number;
  keep: number;
  blocked: number;
  missing: number;
}

export interface Plan {
  /** The `now` the plan was computed for (ISO 8601). */
  generatedAt: string;
  summary: PlanSummary;
  projects: PlanProject[];
  actions: PlanAction[];
  /** Run-wide refusals (e.g. over the deletion budget). Any refusal means no deletion at all. */
  refusals: Reason[];
  policy: { source: string; name: string };
}
