// Entry point behind `rekon emulator`. The CLI declares the flags and owns signals and exit codes; every
// emulator flag is parsed and checked here, so the emulator's options live in one place.

import { demoState } from "./demo.js";
import { faultConfigProblems, type FaultConfig, type FaultRule } from "./faults.js";
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
  /** `--latency D[-D]`: extra latency before every answer, fixed or drawn uniformly from the range. */
  latency?: string;
  /** `--throttle-rate [OP=]P`, repeatable: answer ThrottlingException with probability P (OP or every operation). */
  throttleRate?: string[];
  /** `--error-rate [OP=]P`, repeatable: answer InternalServerError (HTTP 500) with probability P. */
  errorRate?: string[];
  /** `--rate-limit OP=N`, repeatable: more than N requests a second to OP answer ThrottlingException. */
  rateLimit?: string[];
  /** `--seed N`: draw the probabilities and latencies from a seeded generator (a run that can be repeated). */
  seed?: string;
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

/** `[OP=]P` (probability) or `OP=N` (rate) → [operation or "*", number]. */
function parseOpNumber(flag: string, text: string, opRequired: boolean, probability: boolean): [string, number] {
  const eq = text.lastIndexOf("=");
  if (opRequired && eq < 0) throw new Error(`${flag} ${text}: expected OP=N, e.g. DeleteProjectVersion=5`);
  const op = eq < 0 ? "*" : checkOperation(flag, text, text.slice(0, eq));
  const raw = text.slice(eq + 1);
  const n = /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(n)) throw new Error(`${flag} ${text}: "${raw}" is not a number`);
  if (probability && n > 1) throw new Error(`${flag} ${text}: a probability is from 0 to 1 (0.1 = one request in ten)`);
  return [op, n];
}

/**
 * The random faults (`PUT /_emulator/faults` sets the same fields over HTTP): `--latency 50ms-200ms`,
 * `--throttle-rate 0.1` or `--throttle-rate DeleteProjectVersion=0.5`, `--error-rate …`,
 * `--rate-limit DescribeProjectVersions=5`, `--seed 42`. Undefined when no such flag is given.
 */
export function parseRandomFaults(
  args: Pick<EmulatorCommandArgs, "latency" | "throttleRate" | "errorRate" | "rateLimit" | "seed">,
): Omit<FaultConfig, "rules"> | undefined {
  const cfg: Omit<FaultConfig, "rules"> = {};
  if (args.latency !== undefined) {
    const [lo, hi = lo] = args.latency.split("-");
    cfg.latencyMs = { min: parseDurationFlag("--latency", lo ?? ""), max: parseDurationFlag("--latency", hi ?? "") };
    if (cfg.latencyMs.min > cfg.latencyMs.max) throw new Error(`--latency ${args.latency}: the range must go from the shorter time to the longer`);
  }
  const rates = (flag: string, list: string[] | undefined, rate = false) =>
    list?.length ? Object.fromEntries(list.map((t) => parseOpNumber(flag, t, rate, !rate))) : undefined;
  const throttleRate = rates("--throttle-rate", args.throttleRate);
  const errorRate = rates("--error-rate", args.errorRate);
  const rateLimits = rates("--rate-limit", args.rateLimit, true);
  if (throttleRate) cfg.throttleRate = throttleRate;
  if (errorRate) cfg.errorRate = errorRate;
  if (rateLimits) cfg.rateLimits = rateLimits;
  if (args.seed !== undefined) {
    if (!/^-?\d+$/.test(args.seed)) throw new Error(`--seed ${args.seed}: must be a whole number`);
    cfg.seed = Number(args.seed);
  }
  if (Object.keys(cfg).length === 0) return undefined;
  // The HTTP endpoint's own checks, in the flags' words: probabilities in 0..1, min <= max.
  const flagOf: Record<string, string> = {
    latencyMs: "--latency",
    throttleRate: "--throttle-rate",
    errorRate: "--error-rate",
    rateLimits: "--rate-limit",
    seed: "--seed",
  };
  const problems = faultConfigProblems(cfg).map((p) =>
    p.replace(/^(\w+)(\.\S+)?:/, (_m, key: string, op?: string) => `${flagOf[key] ?? key}${op ? ` ${op.slice(1)}` : ""}:`),
  );
  if (problems.length > 0) throw new Error(problems.join("; "));
  return cfg;
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
  /** For what stops it after the flags parsed: an unreadable --state, a port it cannot listen on. */
  startError: (message: string) => Error = (m) => new Error(m),
): Promise<Emulator> {
  let rules: FaultRule[];
  let random: Omit<FaultConfig, "rules"> | undefined;
  let tokenTtlMs: number | undefined;
  let clockSkewMs: number | undefined;
  try {
    rules = [...(args.deny ?? []).map(parseDenyFlag), ...(args.fault ?? []).map(parseFaultFlag)];
    random = parseRandomFaults(args);
    if (args.tokenTtl !== undefined) tokenTtlMs = parseDurationFlag("--token-ttl", args.tokenTtl);
    if (args.clockSkew !== undefined) clockSkewMs = parseDurationFlag("--clock-skew", args.clockSkew, true);
  } catch (err) {
    throw usageError((err as Error).message);
  }
  const faults: FaultConfig | undefined = rules.length > 0 || random ? { ...random, ...(rules.length > 0 ? { rules } : {}) } : undefined;
  let state;
  try {
    state = args.state !== undefined ? await loadStateFile(args.state) : demoState();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // An unreadable file is one line; an invalid one lists its problems (the state error's own message).
    throw startError(e.code ? `--state ${args.state}: cannot read: ${e.code}` : e.message);
  }
  let emulator: Emulator;
  try {
    emulator = await startEmulator({
      state,
      port: args.port ?? 0,
      ...(faults ? { faults } : {}),
      ...(tokenTtlMs !== undefined ? { tokenTtlMs } : {}),
      ...(clockSkewMs !== undefined ? { clockSkewMs } : {}),
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE")
      throw startError(`--port ${args.port}: address already in use on 127.0.0.1 (another emulator? pick another port, or --port 0 for a free one)`);
    if (code === "EACCES") throw startError(`--port ${args.port}: permission denied on 127.0.0.1 (ports below 1024 need privileges: pick a higher one)`);
    throw err;
  }
  out.write(`listening on ${emulator.url}\n`);
  return emulator;
}
