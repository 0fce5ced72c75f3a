// The shape of a command, and the flags several commands share. Each command is one object that declares
// its usage, its flags (with their help), the exit codes it uses and its handler; cli.ts builds the parser,
// the help, and the "flag belongs to another command" errors from these objects, so they cannot disagree.
import { parseDuration } from "../duration.js";
import { UsageError } from "../errors.js";
import type { Io } from "../io.js";
import type { LogFormat } from "../log.js";

export const EXIT = { ok: 0, error: 1, changes: 2, interrupted: 130 } as const;

export interface FlagSpec {
  type: "string" | "boolean";
  multiple?: boolean;
  short?: string;
  /** Placeholder in help, e.g. PATH. */
  value?: string;
  help: string;
}

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

export interface CommandContext {
  flags: FlagValues;
  /** Positional arguments after the command name. */
  args: string[];
  io: Io;
  /** --log-level, checked. */
  level: string;
  /** --output, checked against the command's `outputs` (the first is the default). */
  output: string;
}

export interface Command {
  name: string;
  /** One line for the command list. */
  summary: string;
  /** Synopsis lines, each after "rekon ". */
  usage: string[];
  flags: Readonly<Record<string, FlagSpec>>;
  /** The --output formats it takes, the default first; absent = no --output. */
  outputs?: readonly string[];
  /** How many positional arguments it takes (default 0). */
  maxArgs?: number;
  /** Its exit codes, one line each, e.g. "0 nothing to delete". */
  exits: string[];
  run(ctx: CommandContext): Promise<number>;
}

/** Flags every command takes. */
export const COMMON_FLAGS: Readonly<Record<string, FlagSpec>> = {
  help: { type: "boolean", short: "h", help: "show this help" },
  "log-level": { type: "string", value: "LEVEL", help: "fatal|error|warn|info|debug|trace|silent (default: info); logs go to stderr" },
};

/** Flags of `rekon` itself, before any command. */
export const TOP_FLAGS: Readonly<Record<string, FlagSpec>> = {
  version: { type: "boolean", help: "print the version and the Git revision it was built from (as rekon version)" },
};

export const INPUT_FLAGS: Readonly<Record<string, FlagSpec>> = {
  manifests: { type: "string", multiple: true, value: "PATH", help: "manifest file or folder (recursive *.yaml/*.yml); repeatable" },
  policy: { type: "string", value: "FILE", help: "the operator's DeletionPolicy (default: built-in defaults; apply then refuses)" },
};

export const OUTPUT_FLAG: Readonly<Record<string, FlagSpec>> = {
  output: { type: "string", value: "FORMAT", help: "table (default), json (stdout is pure JSON), markdown (pull requests); validate: text or json" },
};

export const LOG_FORMAT_FLAG: Readonly<Record<string, FlagSpec>> = {
  "log-format": { type: "string", value: "FORMAT", help: "json|pretty: how logs look on stderr (default: pretty on a terminal, else json)" },
};

const LOG_FORMATS: readonly LogFormat[] = ["json", "pretty"];

/** --log-format, checked; by default one readable line per log entry when stderr is a terminal, JSON otherwise. */
export function logFormat(flags: FlagValues, io: Io): LogFormat {
  const f = flags["log-format"];
  if (f === undefined) return (io.stderr as { isTTY?: boolean }).isTTY ? "pretty" : "json";
  if (!LOG_FORMATS.includes(f as LogFormat)) throw new UsageError(`--log-format must be one of: ${LOG_FORMATS.join(", ")}`);
  return f as LogFormat;
}

export const AWS_FLAGS: Readonly<Record<string, FlagSpec>> = {
  retries: { type: "string", value: "N", help: "retries per AWS call on throttling/5xx/network errors (default 8)" },
  "retry-max-time": { type: "string", value: "D", help: "bound on one AWS call with its retries, e.g. 60s or 5m (default 60s)" },
};

export function requireManifests(flags: FlagValues): string[] {
  const m = flags.manifests as string[] | undefined;
  if (!m?.length) throw new UsageError("--manifests PATH is required (a manifest file or folder; repeatable)");
  return m;
}

export function retryFlags(flags: FlagValues): { retries?: number; maxTotalMs?: number } {
  const out: { retries?: number; maxTotalMs?: number } = {};
  if (flags.retries !== undefined) {
    const n = Number(flags.retries);
    if (!Number.isInteger(n) || n < 0 || n > 100) throw new UsageError("--retries must be a whole number from 0 to 100");
    out.retries = n;
  }
  if (flags["retry-max-time"] !== undefined) {
    const ms = parseDuration(String(flags["retry-max-time"]));
    if (ms === undefined || ms <= 0) throw new UsageError("--retry-max-time must be a duration such as 30s, 5m or 1h");
    out.maxTotalMs = ms;
  }
  return out;
}
