// The data that flows read → plan → guard → act. Plain data only: no classes, no I/O.
import type { SourcePos } from "./errors.js";

/** The 14 documented statuses (docs/aws-behaviour.md). A status outside this list is treated as unknown and never deleted. */
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

// ---- desired state (from manifests) ----

export interface DesiredVersion {
  name: string;
  pos: SourcePos;
}

/** A pause recorded in Git: while in force, nothing it covers is written. */
export interface Suspension {
  reason: string;
  /** Epoch ms; absent = until the manifest or policy changes. A time in the past has no effect. */
  until?: number;
  /** Where it was declared, for reasons and messages. */
  origin: string;
}

export interface DesiredSet {
  /** metadata.name, unique across all manifests. */
  name: string;
  pos: SourcePos;
  project: string;
  /** Resolved region: spec.region, else the default region. */
  region: string;
  /** The region came from the default (not spec.region): `rekon diff` says so when a change writes it out. */
  regionDefaulted?: true;
  /** IAM role to assume for this project (another account); absent = the ambient credentials. */
  roleArn?: string;
  versions: DesiredVersion[];
  /** spec.suspend: nothing in this set's project is written while in force. */
  suspend?: Suspension;
  /** spec.owner: free text naming who owns the set (a team), echoed in every notification about it. */
  owner?: string;
}

export interface DesiredState {
  sets: DesiredSet[];
  /** DeletionPolicy documents found among the manifests (scoped, tighten-only layers). */
  policies: ScopedPolicy[];
  /** Digest of every manifest file read (ids and contents), for saved plans. */
  digest: string;
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
  /** Read with ListTagsForResource only when a guard needs them (deletion candidates). */
  tags?: Record<string, string>;
  /** Why the tag read failed; the version is then blocked (tagsUnreadable). */
  tagsError?: string;
}

/** notManaged: the project lacks the policy's requireProjectTag; it is reported and never touched. */
export type ProjectReadStatus = "ok" | "notFound" | "error" | "notManaged";

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
  /** Project tags, read only when a policy requires a project tag (or a rule reads them). */
  tags?: Record<string, string>;
}

/** The credentials a set reaches its project with: the SDK's default chain, or a role it names. */
export const AMBIENT = "ambient";

/** Which credentials a set uses: "ambient", or its roleArn. */
export function sourceOf(set: { roleArn?: string }): string {
  return set.roleArn ?? AMBIENT;
}

/** Where a set, a plan action, a result or an approved write (`source`: "ambient" or a role ARN) is reached. */
export function targetOf(x: { region: string; roleArn?: string; source?: string }): Target {
  const role = x.roleArn ?? (x.source !== undefined && x.source !== AMBIENT ? x.source : undefined);
  return { region: x.region, ...(role ? { roleArn: role } : {}) };
}

/** The key of one (credentials, region): one client, one group of reads and writes. */
export function targetKey(t: { roleArn?: string; region: string }): string {
  return `${sourceOf(t)}|${t.region}`;
}

/** The key that tells projects apart across credentials and regions (the same name can live in several). */
export function projectKey(x: { roleArn?: string; region: string; project: string }): string {
  return `${targetKey(x)}|${x.project}`;
}

/**
 * The account one credential source resolved to (STS GetCallerIdentity). Ownership and every write are
 * keyed by this, never by an account written in configuration: a roleArn and the ambient credentials
 * can be the same account, and only AWS can say so.
 */
export interface IdentityFact {
  /** "ambient" or the role ARN. */
  source: string;
  account?: string;
  /** The caller ARN STS answered (for audit records). */
  arn?: string;
  /** Why it could not be resolved; every set using this source is then unreadable. */
  error?: string;
}

export interface LiveState {
  projects: LiveProject[];
  /** One fact per credential source the sets use. A set whose source has no resolved fact is never written to. */
  identities: IdentityFact[];
}

/** What one last look must read for a batch of writes in one project (Gate.lookFor; read by aws/look.ts). */
export interface LookSpec {
  project: string;
  region: string;
  projectArn: string;
  /** Versions to re-read by name: the batch's, the project's newest (keepLatest), the allowEmpty anchor, near misses. */
  names: string[];
  /** Whether the policy reads tags: then the tags of `tagArns` (the batch's versions) are read too. */
  tags: boolean;
  tagArns: ReadonlySet<string>;
  /**
   * The creation time of the newest version the plan saw (epoch ms), undefined when it saw none: the look
   * reads the project's listing, newest first, at least back past this time (aws/look.ts readNewest).
   */
  planNewest: number | undefined;
}

// ---- policy ----

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

/** What a notification can be about (README "Notifications"). */
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
  /** Webhooks told before and after (README "Notifications"). Union of all layers; a layer may only add. */
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
  | "requireNotice";

/** A DeletionPolicy found among the manifests: scoped to some projects, allowed only to tighten. */
export interface ScopedPolicy {
  name: string;
  pos: SourcePos;
  projects: string[];
  /** Where each selected project is written, for messages. */
  projectPos: SourcePos[];
  /** Only the fields the document sets. */
  spec: Partial<Omit<Policy, "source" | "name" | "origin" | "enforceAccounts" | "enforceRegions" | "tagSigning">>;
  /** Position of each field the document sets, for messages. */
  fieldPos: Partial<Record<PolicyField | "rateLimits" | "selector", SourcePos>>;
}

/** The operator's policy (the floor) and the manifest policies layered on top. */
export interface PolicySet {
  operator: Policy;
  scoped: ScopedPolicy[];
}

// ---- plan ----

export type ActionKind = "delete" | "keep" | "blocked" | "missing";

import type { CustomRuleName, RuleId } from "./rules.js";
export type { ApprovalRule, CustomRuleName, GuardRule, HoldRule, OtherRule, RefusalRule, RuleId } from "./rules.js";

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
}

/** The live facts a planned write was decided on, recorded in saved plans. */
export interface PlannedFact {
  action: "delete" | "mark:add" | "mark:remove";
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
  policy: { source: string; name: string };
}

// ---- act ----

/** notice/reminder: recording that a notification reached a channel (tags rekon.dev/notice-delivered-at, rekon.dev/reminder-sent-at). */
export type WriteOperation = "delete" | "stop" | "mark" | "unmark" | "notice" | "reminder";

/**
 * What happened to one planned write, as far as AWS's answers tell:
 * - accepted: AWS accepted it; alreadyDeleted: the version was gone (a delete's goal is met);
 * - failed: AWS refused it or it could not be sent: it did not happen;
 * - skipped: never sent (interrupted, or the project gave up earlier in this run);
 * - changed: the last look found the version no longer deletable; not sent;
 * - unknown: sent but unanswered (interrupted, timed out, a server error): it may have happened.
 */
export type WriteOutcome = "accepted" | "alreadyDeleted" | "failed" | "skipped" | "changed" | "unknown";
export const WRITE_OUTCOMES: readonly WriteOutcome[] = ["accepted", "alreadyDeleted", "failed", "skipped", "changed", "unknown"];

export interface WriteResult {
  project: string;
  region: string;
  account?: string;
  roleArn?: string;
  versionName: string;
  versionArn: string;
  operation: WriteOperation;
  result: WriteOutcome;
  /** The status AWS answered (DELETING for an accepted deletion), or the status the last look saw. */
  status?: string;
  code?: string;
  error?: string;
  requestId?: string;
  /** For `changed`: the guards that blocked it at the last look. */
  reasons?: Reason[];
  /** Stop-then-delete: how long the version took from StopProjectVersion to STOPPED. */
  stoppedAfterMs?: number;
  /** A mark: the time it records (rekon.dev/pending-delete-since), taken when it was written. */
  markedAt?: string;
}
