// Logs go to stderr as pino JSON, so stdout carries only the output the user asked for.
import { pino, type Logger } from "pino";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

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

export function createLogger(level: string, destination: number | NodeJS.WritableStream = 2): Logger {
  return pino(
    { name: "rekon", level, redact: { paths: REDACT, censor: "[redacted]" } },
    typeof destination === "number" ? pino.destination({ fd: destination, sync: true }) : destination,
  );
}
