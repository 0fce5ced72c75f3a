// Errors as the CLI reports them: words on stderr, and (with --output json) one JSON object on stdout.
import { AwsCallError, ConfigError, formatIssue, RefusalError, UsageError, ValidationError } from "../errors.js";
import type { Io } from "../io.js";
import { EXIT } from "./spec.js";

export function errorJson(err: unknown): object {
  const e = err as Error;
  return {
    kind: e.name,
    message: e.message,
    ...(err instanceof ValidationError ? { issues: err.issues } : {}),
    ...(err instanceof RefusalError ? { rule: err.rule } : {}),
    ...(err instanceof AwsCallError ? { operation: err.operation, resource: err.resource, code: err.code } : {}),
  };
}

/** The one place an error becomes words and an exit code. */
export function reportError(err: unknown, io: Io, output: string): number {
  if (err instanceof ValidationError) {
    io.stderr.write(`rekon: ${err.issues.length} validation error(s); nothing was read from or changed in AWS:\n`);
    for (const i of err.issues) io.stderr.write(`  ${formatIssue(i)}\n`);
  } else if (err instanceof UsageError) {
    io.stderr.write(`rekon: ${err.message}\nRun "rekon --help" for usage.\n`);
  } else if (err instanceof RefusalError) {
    io.stderr.write(`rekon: refused (${err.rule}): ${err.message}\n`);
    return EXIT.error; // the JSON, if any, was written next to the plan
  } else if (err instanceof ConfigError || err instanceof AwsCallError) {
    io.stderr.write(`rekon: ${err.message}\n`);
  } else {
    io.stderr.write(`rekon: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
  }
  if (output === "json") io.stdout.write(JSON.stringify({ error: errorJson(err) }) + "\n");
  return EXIT.error;
}
