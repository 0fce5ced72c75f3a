// Entry point behind `rekon emulator`. The CLI declares the flags and owns signals and exit codes; every
// emulator flag is parsed and checked here, so the emulator's options live in one place.

import { demoState } from "./demo.js";
import type { FaultRule } from "./faults.js";
import { SERVED_OPERATIONS, startEmulator, type Emulator } from "./server.js";
import { parseAge } from "./state.js";
import { loadStateFile } from "./statecheck.js";

/** The emulator's flags as the CLI received them (strings, unparsed). */
export interface EmulatorCommandArgs {
  state?: string;
  port?: number;
  /** `--fault OP:CODE[@ARN_SUBSTRING]`, repeatable. */
  fault?: string[];
  /** `--deny OP[@ARN_SUBSTRING]`, repeatable: AccessDeniedException (AccessDenied for STS operations). */
  deny?: string[];
  /** `--token-ttl D`: NextTokens older than D answer InvalidPaginationTokenException. */
  tokenTtl?: string;
  /** `--clock-skew D` (may start with "-"): the emulator's wall clock runs this far ahead of the real one. */
  clockSkew?: string;
}

const CODE = /^[A-Z][A-Za-z0-9]{1,127}$/;

function checkOperation(flag: string, text: string, op: string): string {
  if (op === "*" || SERVED_OPERATIONS.includes(op)) return op;
  throw new Error(`${flag} ${text}: unknown operation "${op}" (one of ${SERVED_OPERATIONS.join(", ")}, or *)`);
}

function splitArn(flag: string, text: string, rest: string): { head: string; arn?: string } {
  const at = rest.indexOf("@");
  if (at < 0) return { head: rest };
  const arn = rest.slice(at + 1);
  if (arn === "") throw new Error(`${flag} ${text}: nothing after "@" (give part of an ARN or project name, or drop the "@")`);
  return { head: rest.slice(0, at), arn };
}

/** "500ms", "30s", "5m", "1h30m" (and "-5m" when `signed`) → milliseconds. */
export function parseDurationFlag(flag: string, text: string, signed = false): number {
  const negative = signed && text.startsWith("-");
  const body = negative ? text.slice(1) : text;
  const ms = /^\d+(\.\d+)?ms$/.test(body) ? Number(body.slice(0, -2)) : parseAge(body);
  if (ms === undefined) throw new Error(`${flag} ${text}: not a duration like 500ms, 30s, 5m, 1h30m${signed ? " (or -5m)" : ""}`);
  return negative ? -ms : ms;
}

/** `OP:CODE[@ARN_SUBSTRING]` → a rule answering CODE to OP (on requests naming ARN_SUBSTRING). */
export function parseFaultFlag(text: string): FaultRule {
  const colon = text.indexOf(":");
  if (colon < 0) throw new Error(`--fault ${text}: expected OP:CODE[@ARN_SUBSTRING], e.g. DeleteProjectVersion:ThrottlingException`);
  const op = checkOperation("--fault", text, text.slice(0, colon));
  const { head: code, arn } = splitArn("--fault", text, text.slice(colon + 1));
  if (!CODE.test(code)) throw new Error(`--fault ${text}: "${code}" is not an AWS error code like ThrottlingException`);
  return { operation: op, code, ...(arn !== undefined ? { arn } : {}) };
}

/** `OP[@ARN_SUBSTRING]` → a rule denying OP as IAM would. */
export function parseDenyFlag(text: string): FaultRule {
  const { head, arn } = splitArn("--deny", text, text);
  const op = checkOperation("--deny", text, head);
  return { operation: op, code: "AccessDeniedException", ...(arn !== undefined ? { arn } : {}) };
}

/**
 * Starts the emulator (seeded from `args.state`, else the demo inventory) and writes exactly
 * `listening on http://127.0.0.1:PORT\n` to `out` as its first line: scripts and tests wait for that line
 * and read the port from it, so its wording is an interface.
 *
 * Bad flags throw `usageError(message)` (the CLI passes its own usage error, so the emulator needs nothing
 * from the rest of rekon) before anything listens. `--deny` rules come before `--fault` rules, each in the
 * order given; the first that matches a request applies.
 */
export async function runEmulatorCommand(
  args: EmulatorCommandArgs,
  out: NodeJS.WritableStream,
  usageError: (message: string) => Error = (m) => new Error(m),
): Promise<Emulator> {
  let rules: FaultRule[];
  let tokenTtlMs: number | undefined;
  let clockSkewMs: number | undefined;
  try {
    rules = [...(args.deny ?? []).map(parseDenyFlag), ...(args.fault ?? []).map(parseFaultFlag)];
    if (args.tokenTtl !== undefined) tokenTtlMs = parseDurationFlag("--token-ttl", args.tokenTtl);
    if (args.clockSkew !== undefined) clockSkewMs = parseDurationFlag("--clock-skew", args.clockSkew, true);
  } catch (err) {
    throw usageError((err as Error).message);
  }
  const state = args.state !== undefined ? await loadStateFile(args.state) : demoState();
  const emulator = await startEmulator({
    state,
    port: args.port ?? 0,
    ...(rules.length > 0 ? { faults: { rules } } : {}),
    ...(tokenTtlMs !== undefined ? { tokenTtlMs } : {}),
    ...(clockSkewMs !== undefined ? { clockSkewMs } : {}),
  });
  out.write(`listening on ${emulator.url}\n`);
  return emulator;
}
