// The executor's shared vocabulary: its options and defaults, the notifier's hook, one planned write
// (a slot) and what its result can be.
import type { Logger } from "pino";
import { isThrottle, type RetryingRekognitionClient } from "../aws/client.js";
import { classify } from "../aws/retry.js";
import type { Denial, Gate, RunAuthorization } from "../gate/index.js";
import type { ArchiveOutcome, Plan, PlanAction, Target, WriteOperation, WriteResult } from "../types.js";

/** Defaults for apply, in one place. */
export const APPLY_DEFAULTS = {
  /** Writes in flight at once per (account, region). The rate limiter sets the pace; this bounds sockets and stop waits. */
  concurrency: 8,
  /** Stop-then-delete: poll DescribeProjectVersions this often while a version is STOPPING (after 1 s, 2 s, 4 s). */
  stopPollMs: 5_000,
  /** Stop-then-delete: give up (result `failed`, nothing deleted) when a version is not STOPPED after this. */
  stopTimeoutMs: 10 * 60_000,
  /** A deletion whose last look is older than this when its turn comes is looked at again. */
  lookMaxAgeMs: 1_000,
  /** apply --wait: poll interval (after 1 s, 2 s, 4 s) and bound, as AWS's own sample does (5 s). */
  waitPollMs: 5_000,
  waitTimeoutMs: 10 * 60_000,
} as const;

export interface ApplyContext {
  plan: Plan;
  gate: Gate;
  /** The gate's authorization of this plan (gate.authorize): refusals and budgets were checked. */
  auth: RunAuthorization;
  clientFor(target: Target): RetryingRekognitionClient;
  log: Logger;
  /** The clock for approvals (minAge, grace). Default Date.now. */
  now?: () => number;
  /** Once aborted, no new write is sent; writes in flight are awaited. */
  stop?: AbortSignal;
  /** Once aborted, stop waiting: writes in flight are reported `unknown`, the rest `skipped`. */
  abandon?: AbortSignal;
  concurrency?: number;
  stopPollMs?: number;
  stopTimeoutMs?: number;
  lookMaxAgeMs?: number;
  /** Told about each result as it is decided (progress bars, audit records, logs). */
  onResult?: (r: WriteResult) => void;
  /**
   * Whether the manifests or policy changed since the plan (why, or undefined): asked before each batch
   * of writes. A change stops every further write of this run (`skipped`, code manifestsChanged): the
   * plan no longer says what the team wants, so only a new plan may act.
   */
  inputsChanged?: () => string | undefined;
  /**
   * Whether the local clock has drifted from AWS's beyond the bound since the plan (why, or undefined), on
   * the answers of this run's own reads: asked with inputsChanged. A drift stops every further write
   * (`skipped`, code clockSkew): ages and marks would be decided on a wrong clock.
   */
  clockProblem?: () => string | undefined;
  /**
   * Notifications (docs/notifications.md): told the results once every deletion and mark is done (a
   * webhook never delays a deletion), it delivers what the run tells and says which notices reached a
   * channel; the executor then records those through the gate (the notice and reminder tags).
   */
  notices?: NoticeHook;
}

/** What a delivery means to the writes that wait on it: version ARN → when a channel first accepted it. */
export interface NoticeDeliveries {
  marked: ReadonlyMap<string, number>;
  reminder: ReadonlyMap<string, number>;
  /** Versions whose `marked` notice was sent to at least one channel in this run, delivered or not. */
  markedSent: ReadonlySet<string>;
}

/** The notifier's side of an apply (notify/notifier.ts). */
export interface NoticeHook {
  deliver(results: readonly WriteResult[]): Promise<NoticeDeliveries>;
  /** The notice writes' own results (a failed one is news too). */
  settle(results: readonly WriteResult[]): Promise<void>;
}

/**
 * Failures that are about the account rather than this one version: its quota (throttling that outlasted
 * every retry), the network to it, or the identity used. A server error can be specific to one version,
 * so it does not stop the others.
 */
export function givesUpOnProject(code: string | undefined): boolean {
  if (!code) return false;
  return isThrottle({ name: code }) || classify({ code }) === "retryable" || code.startsWith("AccessDenied") || IDENTITY_FAILURES.has(code);
}

/** The credentials or their signature were refused: every later call with them would be too. */
const IDENTITY_FAILURES = new Set([
  "UnrecognizedClientException",
  "ExpiredTokenException",
  "InvalidClientTokenId",
  "MissingAuthenticationTokenException",
  "InvalidSignatureException",
  "IncompleteSignatureException",
  "SignatureDoesNotMatch",
]);

/** A denial raised inside a write's beforeSend (the re-look found it changed). */
export class Changed extends Error {
  constructor(readonly denial: Denial) {
    super(denial.reasons.map((r) => `${r.rule}: ${r.message}`).join("; "));
  }
}

/** Raised inside a write's beforeSend when the manifests or policy changed under the run: not sent. */
export class InputsChanged extends Error {}

/** One planned write and its result, once decided. */
export interface Slot {
  action: PlanAction & { versionArn: string };
  operation: WriteOperation;
  /** Set once the first attempt has been handed to the network: from then on it may have happened. */
  sent: boolean;
  result?: WriteResult;
  /** A deletion under spec.archive: its archive step so far (the copy made or found). */
  archive?: ArchiveOutcome;
}

/** Where a deletion's archived copy is read at each last look: the archive project and the copy's name. */
export interface ArchiveTarget {
  project: string;
  region: string;
  projectArn: string;
  name: string;
}

/** What a Denial means as a result: gone is already deleted; anything else changed since the plan. */
export function denialOutcome(s: Slot, d: Denial, log: Logger): Partial<WriteResult> & Pick<WriteResult, "result"> {
  if (d.gone) {
    log.info({ versionArn: s.action.versionArn }, "already deleted (the last look did not find it)");
    return { result: "alreadyDeleted", code: "NotFoundAtLastLook" };
  }
  log.warn({ versionArn: s.action.versionArn, reasons: d.reasons }, "changed since the plan: not written");
  return { result: "changed", reasons: d.reasons, error: `changed since the plan: ${d.reasons.map((r) => `${r.rule}: ${r.message}`).join("; ")}` };
}

/** A write answer's parts the results use. */
export type AwsAnswer = { Status?: string; $metadata: { requestId?: string } };

/**
 * True when every planned write was accepted by AWS (or its version was already gone, or its archive copy is
 * still in progress: the next run deletes it, nothing went wrong).
 */
export function allAccepted(results: WriteResult[]): boolean {
  return results.every((r) => r.result === "accepted" || r.result === "alreadyDeleted" || r.result === "archiving");
}
