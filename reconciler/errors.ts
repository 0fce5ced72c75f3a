// One error class per kind of failure, each carrying what a person needs to act.
// Only cli.ts turns these into exit codes and words.
import type { RuleId } from "./rules.js";

/** A position in a manifest or policy file, 1-based. */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

/** One validation finding: where, which field, what is wrong and how to fix it. */
export interface ValidationIssue extends SourcePos {
  /** Field path inside the document, e.g. `spec.versions[1].name`; "" for the whole document. */
  path: string;
  message: string;
  /** A short instruction to fix it, when one is known. */
  fix?: string;
}

export function formatIssue(i: ValidationIssue): string {
  const where = `${i.file}:${i.line}:${i.col}`;
  const field = i.path ? `${i.path}: ` : "";
  const fix = i.fix ? ` (fix: ${i.fix})` : "";
  return `${where}: ${field}${i.message}${fix}`;
}

/** Manifests or policy failed to read or validate. Carries every issue found, not only the first. */
export class ValidationError extends Error {
  override readonly name = "ValidationError";
  constructor(readonly issues: ValidationIssue[]) {
    super(`${issues.length} validation error${issues.length === 1 ? "" : "s"}:\n` + issues.map((i) => "  " + formatIssue(i)).join("\n"));
  }
}

/** Wrong command-line usage: unknown flag, missing required flag. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Configuration needed at run time is missing (e.g. no region). */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/**
 * rekon deliberately refuses to act (apply without allowedAccounts, non-interactive apply without
 * --auto-approve, a plan over its deletion budget). Not a bug, not retryable: a person must decide.
 */
export class RefusalError extends Error {
  override readonly name = "RefusalError";
  constructor(
    message: string,
    /** Why (a RuleId: RefusalRule, or what a saved plan's check says); kept a string here so errors import nothing. */
    readonly rule: RuleId,
  ) {
    super(message);
  }
}

/** An AWS call failed for good (not retryable, or retries exhausted). */
export class AwsCallError extends Error {
  override readonly name = "AwsCallError";
  constructor(
    readonly operation: string,
    /** The ARN or name the call was about. */
    readonly resource: string,
    /** AWS error code (e.g. ThrottlingException), or the network error code. */
    readonly code: string,
    readonly attempts: number,
    message: string,
    readonly requestId?: string,
    options?: { cause?: unknown },
  ) {
    super(`${operation} ${resource}: ${code}: ${message}${attempts > 1 ? ` (after ${attempts} attempts)` : ""}`, options);
  }
}
