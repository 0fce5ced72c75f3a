// What happened to each planned write, as far as AWS's answers tell.
import type { Reason } from "./plan.js";

/** notice/reminder: recording that a notification reached a channel (tags rekon.dev/notice-delivered-at, rekon.dev/reminder-sent-at). */
export type WriteOperation = "delete" | "stop" | "start" | "mark" | "unmark" | "notice" | "reminder";

/**
 * What happened to one planned write, as far as AWS's answers tell:
 * - accepted: AWS accepted it; alreadyDeleted: the version was gone (a delete's goal is met);
 * - failed: AWS refused it or it could not be sent: it did not happen;
 * - skipped: never sent (interrupted, or the project gave up earlier in this run);
 * - changed: the last look found the version no longer deletable; not sent;
 * - unknown: sent but unanswered (interrupted, timed out, a server error): it may have happened;
 * - archiving: a deletion under spec.archive whose copy is still COPYING_IN_PROGRESS: the source is kept,
 *   and the next run (or controller cycle) deletes it once the copy is complete. Not an error.
 */
export type WriteOutcome = "accepted" | "alreadyDeleted" | "failed" | "skipped" | "changed" | "unknown" | "archiving";
export const WRITE_OUTCOMES: readonly WriteOutcome[] = ["accepted", "alreadyDeleted", "failed", "skipped", "changed", "unknown", "archiving"];

/**
 * The archive step of a deletion (spec.archive): the copy it made or found, and how that went.
 * - copied: CopyProjectVersion was accepted in this run; reused: a copy from an earlier run was found;
 * - failed: the copy was refused, ended COPYING_FAILED, or vanished (the source is kept).
 */
export interface ArchiveOutcome {
  project: string;
  versionName: string;
  /** The copy's ARN, once known. */
  versionArn?: string;
  copy: "copied" | "reused" | "failed";
  /** The copy's status as last read (COPYING_IN_PROGRESS, COPYING_COMPLETED, COPYING_FAILED). */
  status?: string;
}

export interface WriteResult {
  project: string;
  region: string;
  account?: string;
  roleArn?: string;
  versionName: string;
  versionArn: string;
  operation: WriteOperation;
  /** The plan action this write serves: a deletion (its stop included), a start, or a stop of a listed version. */
  planned?: "delete" | "start" | "stop";
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
  /** A deletion under spec.archive: its archive step. */
  archive?: ArchiveOutcome;
  /** A deletion under spec.archive: the ARN of the archived copy (once there is one). */
  archivedAs?: string;
}
