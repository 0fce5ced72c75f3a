// Errors as the CLI reports them: words on stderr, and (with --output json) one JSON object on stdout.
import { AwsCallError, ConfigError, formatIssue, RefusalError, UsageError, ValidationError, type ValidationIssue } from "../errors.js";
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
    for (const line of issueLines(err.issues)) io.stderr.write(`  ${line}\n`);
  } else if (err instanceof UsageError) {
    // One line: what was wrong, and where the usage is.
    io.stderr.write(`rekon: ${err.message} (see "rekon --help")\n`);
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

/**
 * Validation issues as lines, one cause once: the same problem at several places (no region for any set,
 * say) is one line with its fix, then the places, each `file:line:col` as editors link them. A problem
 * found once keeps the one-line form.
 */
export function issueLines(issues: readonly ValidationIssue[]): string[] {
  const groups = new Map<string, ValidationIssue[]>();
  for (const i of issues) {
    const k = JSON.stringify([i.path, i.message, i.fix ?? ""]);
    groups.set(k, [...(groups.get(k) ?? []), i]);
  }
  return [...groups.values()].flatMap((g) => {
    if (g.length === 1) return [formatIssue(g[0]!)];
    const i = g[0]!;
    return [
      `${i.path ? `${i.path}: ` : ""}${i.message}${i.fix ? ` (fix: ${i.fix})` : ""}, in ${g.length} places:`,
      ...g.map((x) => `  ${x.file}:${x.line}:${x.col}`),
    ];
  });
}
