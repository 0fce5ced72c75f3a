// Policy: the guards every deletion must pass, layered (the operator's floor, manifest layers that only tighten).
import type { SourcePos } from "../errors.js";
import type { CustomRuleName } from "../rules.js";

/** A pause recorded in Git: while in force, nothing it covers is written. */
export interface Suspension {
  reason: string;
  /** Epoch ms; absent = until the manifest or policy changes. A time in the past has no effect. */
  until?: number;
  /** Where it was declared, for reasons and messages. */
  origin: string;
}

/** One tag condition of a policy, with the layer that declared it. */
export interface TagRule {
  key: string;
  /** "*" matches any value. */
  value: string;
  origin: string;
}

/** When deletion may happen: occurrences start at each cron time (in timeZone) and last durationMs. */
export interface DeletionWindow {
  kind: "deny" | "allow";
  /** A 5-field cron expression. */
  schedule: string;
  durationMs: number;
  /** As written, for messages. */
  duration: string;
  /** IANA name; default UTC. */
  timeZone: string;
  reason?: string;
  /** The layer that declared it. */
  origin: string;
}

/** What a notification can be about (docs/notifications.md). */
export const NOTIFICATION_EVENTS = ["marked", "reminder", "deleted", "failed", "refused", "readFailed", "pending"] as const;
export type NotificationEventKind = (typeof NOTIFICATION_EVENTS)[number];
/** How an event fared on a channel (rekon_notifications_total): a 2xx, or not (given up, refused, or the channel could not be used). */
export const NOTIFICATION_RESULTS = ["delivered", "failed"] as const;
export type NotificationResult = (typeof NOTIFICATION_RESULTS)[number];

/**
 * Where a secret comes from at run time: an environment variable or a file. The policy names the source,
 * never the value; the value is read only by the notifier (notify/channels.ts), never by the pure core.
 */
export type SecretRef = { fromEnv: string } | { fromFile: string };

/** One webhook a policy sends notifications to. */
export interface NotificationChannel {
  /** Unique across all layers; a metric label and how logs and errors name the channel (never by URL). */
  name: string;
  url: SecretRef;
  /** The HMAC-SHA256 key for X-Rekon-Signature; absent = unsigned. */
  secret?: SecretRef;
  format: "json" | "slack";
  events: NotificationEventKind[];
  /** The layer that declared it. */
  origin: string;
}

/** A custom rule: a CEL expression that, when true for a candidate, blocks its deletion. */
export interface CompiledRule {
  name: CustomRuleName;
  deny: string;
  message: string;
  /** The layer that declared it, for reasons and messages. */
  origin: string;
  /** Evaluate for one candidate; throws on an evaluation error (the caller blocks the version). */
  evaluate(ctx: Record<string, unknown>): unknown;
}

export interface Policy {
  /** Where it came from, for messages ("defaults" when no --policy was given). */
  source: string;
  /** Digest of the policy file's content ("defaults" when none), for saved plans. */
  digest: string;
  name: string;
  allowedAccounts: string[];
  /**
   * Whether allowedAccounts is enforced. False only while the operator policy names no account: then
   * plan still shows what would go, and apply refuses as a whole (see Gate.authorize).
   */
  enforceAccounts: boolean;
  /** Regions whose versions may be deleted; enforced only when enforceRegions. */
  allowedRegions: string[];
  enforceRegions: boolean;
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
  /** A version carrying any of these tags is never deleted ("*" matches any value). Union of all layers. */
  protectTags: TagRule[];
  /** A project lacking any of these tags is not managed: nothing in it is deleted ("*" matches any value). */
  requireProjectTag: TagRule[];
  /** Two-phase deletion: mark first, delete only once this long has passed since the mark. 0 = off. */
  gracePeriodMs: number;
  gracePeriod: string;
  rules: CompiledRule[];
  /** When deletion may happen; none = always. A layer may only add deny windows. */
  windows: DeletionWindow[];
  /** Per project: deleting more than this share (%) of its live versions refuses the run. 100 = off. */
  maxDeletesPercent: number;
  /** Delete only versions carrying rekon.dev/deletion-approved later than their pending-delete mark. */
  requireApproval: boolean;
  /** While in force, nothing is deleted or marked in the projects this policy covers (marks are still removed). */
  suspend?: Suspension;
  /** Keep unlisted versions whose name nearly matches a missing listed name (a probable typo). Default on. */
  nearMissGuard: boolean;
  /** Webhooks told before and after (docs/notifications.md). Union of all layers; a layer may only add. */
  notifications: NotificationChannel[];
  /** Send `reminder` this long before a marked version becomes deletable. 0 = no reminders. */
  remindBeforeMs: number;
  remindBefore: string;
  /** Delete only versions whose `marked` notice a channel accepted at least gracePeriod ago (tag rekon.dev/notice-delivered-at). */
  requireNotice: boolean;
  /** Which layer decided each field's effective value (e.g. `operator policy deploy/policy.yaml`). */
  origin: Partial<Record<PolicyField, string>>;
  /** Operator only: sign rekon's state tags with HMAC-SHA256 under this secret (policy/marks.ts). */
  tagSigning?: { secret: SecretRef };
  /** Running versions: start budgets, the price plans show, restarts (spec.inference). */
  inference: InferencePolicy;
  /** Archive before delete (spec.archive, docs/archive.md): absent = deletions are not archived. */
  archive?: ArchivePolicy;
}

/**
 * spec.archive: copy each Custom Labels candidate (CopyProjectVersion) into `project` before deleting it, and
 * delete only once the copy is COPYING_COMPLETED. The operator's; a manifest layer may turn it on for its
 * projects, never off, and never make it optional.
 */
export interface ArchivePolicy {
  /** The destination project, in the candidate's region and account; it must exist. */
  project: string;
  outputConfig: { s3Bucket: string; s3KeyPrefix?: string };
  kmsKeyId?: string;
  /** true (default): a version that cannot be archived (an adapter) is not deleted (notArchivable). */
  required: boolean;
  /** The layer that declared it. */
  origin: string;
}

export type PolicyField =
  | "allowedAccounts"
  | "allowedRegions"
  | "minAge"
  | "keepLatest"
  | "maxDeletesPerRun"
  | "allowEmpty"
  | "stopRunning"
  | "protectTags"
  | "requireProjectTag"
  | "gracePeriod"
  | "rules"
  | "windows"
  | "maxDeletesPercent"
  | "requireApproval"
  | "suspend"
  | "nearMissGuard"
  | "notifications"
  | "remindBefore"
  | "requireNotice"
  | "inference"
  | "archive";

/** spec.inference: budgets for starts, the price plans show, and whether capacity drift is fixed by a restart. */
export interface InferencePolicy {
  /** Per (account, region): starts that would take the running inference units above this are refused. Absent: no bound. */
  maxInferenceUnits?: number;
  /** A run that would start more than this many versions starts none. Absent: no bound. */
  maxStartsPerRun?: number;
  /** The price of one inference-unit hour (the operator's; no default). */
  unitPricePerHour?: number;
  currency: string;
  /** Restart (stop, then start) a running version at other inference units than declared. Default false. */
  allowRestart: boolean;
}

/** A DeletionPolicy found among the manifests: scoped to some projects, allowed only to tighten. */
export interface ScopedPolicy {
  name: string;
  pos: SourcePos;
  projects: string[];
  /** Where each selected project is written, for messages. */
  projectPos: SourcePos[];
  /** Only the fields the document sets. */
  spec: Partial<Omit<Policy, "source" | "name" | "origin" | "enforceAccounts" | "enforceRegions" | "tagSigning" | "inference" | "archive">> & {
    /** Only what the layer sets: numbers it lowers, allowRestart only false (the price is the operator's). */
    inference?: Partial<InferencePolicy>;
    /** Archiving turned on for the layer's projects (never off: see policy/layers.ts). */
    archive?: ArchivePolicy;
  };
  /** Position of each field the document sets, for messages. */
  fieldPos: Partial<Record<PolicyField | "rateLimits" | "selector", SourcePos>>;
}

/** The operator's policy (the floor) and the manifest policies layered on top. */
export interface PolicySet {
  operator: Policy;
  scoped: ScopedPolicy[];
}
