// Logs go to stderr, so stdout carries only the output the user asked for. For machines (CI, containers,
// `rekon run`, anything not a terminal) they are pino JSON, one object a line. For people at a terminal
// they are one readable line each: time, level, message and the fields that say what it was about
// (`14:02:07 WARN: deletion not sent: changed at the last look version=shelf/v5 reasons=…`), formatted by
// pino-pretty in the same thread, so every line is written before the process exits.
import { createRequire } from "node:module";
import { pino, type DestinationStream, type Logger } from "pino";
import { Screen } from "./render/screen.js";
import { PLAIN, type Style } from "./render/style.js";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export const LOG_FORMATS = ["json", "pretty"] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Paths that could carry secrets if an error or config object is ever logged whole. */
const REDACT = [
  "credentials",
  "*.credentials",
  "secretAccessKey",
  "*.secretAccessKey",
  "sessionToken",
  "*.sessionToken",
  "headers.authorization",
  "*.headers.authorization",
  "*.headers.Authorization",
];

export interface LoggerOptions {
  /** Default json. */
  format?: LogFormat;
  /** pretty: colours for the level and the quiet parts. Default none. */
  style?: Style;
  /**
   * pino's own redaction of the known secret paths. Default true. Off only where the destination redacts
   * every line at any depth anyway (the controller's redactingStream): pino's pass clones each logged
   * object, which at one line per planned deletion was most of a controller cycle's allocation.
   */
  redact?: boolean;
}

/**
 * A logger writing to `destination`: a file descriptor (written synchronously), a stream, or a Screen
 * (stderr shared with a progress bar: each line is written above the bar).
 */
export function createLogger(level: string, destination: number | NodeJS.WritableStream | Screen = 2, opts: LoggerOptions = {}): Logger {
  const options = { name: "rekon", level, ...(opts.redact === false ? {} : { redact: { paths: REDACT, censor: "[redacted]" } }) };
  const sink = sinkOf(destination);
  if (opts.format !== "pretty") return pino(options, sink);
  const pretty = prettyLine(opts.style ?? PLAIN);
  return pino(options, {
    write(line: string) {
      // A log line must never fail the work it describes (an apply halfway through its deletions): if it
      // cannot be made pretty, it is written as the JSON it is.
      let text: string;
      try {
        text = pretty(line);
      } catch {
        text = line;
      }
      sink.write(text);
    },
  });
}

function sinkOf(d: number | NodeJS.WritableStream | Screen): DestinationStream {
  if (typeof d === "number") return pino.destination({ fd: d, sync: true });
  if (d instanceof Screen) return { write: (s: string) => d.write(s) };
  return d;
}

/** Fields left out of the pretty line: the same on every line of a process, or in the result table already. */
const QUIET = new Set(["pid", "hostname", "name", "requestId"]);

/** A pino JSON line → one human line (ending in "\n"). */
export function prettyLine(s: Style): (json: string) => string {
  // pino-pretty is loaded only when a person is watching: it is not needed for JSON logs.
  const { prettyFactory } = createRequire(import.meta.url)("pino-pretty") as typeof import("pino-pretty");
  const level: Record<string, (t: string) => string> = {
    fatal: (t) => s.red(s.bold(t)),
    error: s.red,
    warn: s.yellow,
    info: s.green,
    debug: s.dim,
    trace: s.dim,
  };
  const format = prettyFactory({
    colorize: false,
    translateTime: "SYS:HH:MM:ss",
    singleLine: true,
    hideObject: true,
    errorLikeObjectKeys: [],
    ignore: [...QUIET].join(","),
    customPrettifiers: {
      time: (t) => s.dim(String(t)),
      level: (value) => {
        const label = (pino.levels.labels[Number(value)] ?? String(value)).toUpperCase();
        return (level[label.toLowerCase()] ?? ((t: string) => t))(label);
      },
    },
    messageFormat: (log, messageKey) => {
      const fields = Object.entries(log)
        .filter(([k]) => !QUIET.has(k) && k !== messageKey && k !== "level" && k !== "time")
        // version=project/name says the project already.
        .filter(([k]) => !(k === "project" && typeof log.versionArn === "string"))
        .map(([k, v]) => field(k, v))
        .filter((f) => f !== "");
      return oneLine(String(log[messageKey] ?? "")) + (fields.length ? " " + s.dim(fields.join(" ")) : "");
    },
  });
  return (json) => {
    const line = format(json);
    return line.endsWith("\n") ? line : line + "\n";
  };
}

/** `key=value`, short: a version ARN as project/version, reasons as `rule: message`, the rest compact. */
function field(k: string, v: unknown): string {
  if (v === undefined || v === null) return "";
  if (k === "versionArn" && typeof v === "string") {
    const m = /:project\/([^/]+)\/version\/([^/]+)\//.exec(v);
    if (m) return `version=${m[1]}/${m[2]}`;
  }
  if (k === "reasons" && Array.isArray(v)) return `reasons=${quote(v.map((r: { rule?: string; message?: string }) => `${r.rule}: ${r.message}`).join("; "))}`;
  if (Array.isArray(v)) return `${k}=${quote(v.map((x) => (typeof x === "object" ? JSON.stringify(x) : String(x))).join(","))}`;
  if (typeof v === "object") {
    const message = (v as { message?: unknown }).message;
    return `${k}=${quote(typeof message === "string" ? message : JSON.stringify(v))}`;
  }
  return `${k}=${quote(String(v))}`;
}

function quote(s: string): string {
  const t = oneLine(s);
  return /[\s"=]/.test(t) || t === "" ? JSON.stringify(t) : t;
}

/** Control characters (newlines, escape sequences from a remote message) become spaces: one line, no terminal tricks. */
function oneLine(s: string): string {
  return s.replace(/\s*[\u0000-\u001f\u007f-\u009f]+\s*/g, " ").trim();
}
