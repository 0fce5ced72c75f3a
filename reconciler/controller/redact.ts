// The last line of defence for secrets in the controller's logs. createLogger's pino paths catch the
// shapes we know; a long-running controller also logs errors from libraries we don't control (an SDK
// error carrying a request, a Kubernetes ApiException carrying headers), at any depth. So every line is
// checked on its way out: values under secret-looking keys are replaced, and so is any occurrence of a
// credential value this process was given, wherever it appears (including inside messages).
import { Writable } from "node:stream";
import type { Logger } from "pino";
import { createLogger } from "../log.js";

export const REDACTED = "[redacted]";

/** Keys whose values are secrets, at any depth (compared whole, ignoring case). */
const SECRET_KEY_NAMES = [
  "authorization",
  "proxy-authorization",
  "x-amz-security-token",
  "x-amz-credential",
  "cookie",
  "set-cookie",
  "password",
  "passwd",
  "secret",
  "secretaccesskey",
  "aws_secret_access_key",
  "sessiontoken",
  "aws_session_token",
  "token",
  "bearertoken",
  "accesstoken",
  "refreshtoken",
  "id-token",
  "client-secret",
  "credentials",
];
const SECRET_KEY = new RegExp(`^(${SECRET_KEY_NAMES.join("|")})$`, "i");

/**
 * What a line must contain before any of it can need redacting: a secret key's name anywhere (as a key it
 * appears whole), the two patterns scrub() looks for (either case), or a backslash (a JSON escape, which
 * could spell a key or a secret other than as written). A line without any of these, and without a secret
 * value, comes out of the full check unchanged, so it is written as it is: parsing and re-serialising every
 * line (one per planned deletion) was much of a controller cycle's allocation.
 */
const MAY_NEED_REDACTING = new RegExp(`${[...SECRET_KEY_NAMES, "bearer", "signature="].join("|")}|\\\\`, "i");

/** Environment variables whose values must never appear in a log line. */
const SECRET_ENV = ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ACCESS_KEY_ID"];

/** Values shorter than this are not scrubbed as substrings: "x" would mangle every line. */
const MIN_SECRET_LENGTH = 6;

export function secretValues(env: NodeJS.ProcessEnv): string[] {
  return SECRET_ENV.map((k) => env[k]).filter((v): v is string => typeof v === "string" && v.length >= MIN_SECRET_LENGTH);
}

export function redactValue(value: unknown, secrets: readonly string[], depth = 0): unknown {
  if (typeof value === "string") return scrub(value, secrets);
  if (value === null || typeof value !== "object" || depth > 20) return value;
  if (Array.isArray(value)) return value.map((v) => redactValue(v, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) && v !== null && v !== undefined ? REDACTED : redactValue(v, secrets, depth + 1);
  return out;
}

function scrub(s: string, secrets: readonly string[]): string {
  let out = s;
  for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  // A bearer token or SigV4 signature inside free text (e.g. an error message that quotes a header).
  return out.replace(/\b(Bearer)\s+[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${REDACTED}`).replace(/(Signature=)[0-9a-f]{16,}/g, `$1${REDACTED}`);
}

/**
 * A stream for pino that redacts each JSON line before it reaches `out` (the credentials in `env`, and
 * any value later added to `extra`). Writes through synchronously so
 * nothing is lost when the process exits right after logging.
 */
export function redactingStream(out: NodeJS.WritableStream, env: NodeJS.ProcessEnv, extra?: ReadonlySet<string>): Writable {
  const fromEnv = secretValues(env);
  // `extra` grows while the controller runs: notification URLs and signing secrets, once read (notify/).
  const current = () => (extra && extra.size ? [...fromEnv, ...[...extra].filter((s) => s.length >= MIN_SECRET_LENGTH)] : fromEnv);
  let partial = "";
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _enc, cb) {
      const text = chunk.toString();
      const secrets = current();
      // pino writes one whole line at a time: the usual case needs no splitting.
      if (partial === "" && text.indexOf("\n") === text.length - 1) {
        out.write(clean(text, secrets) ? text : redactLine(text.slice(0, -1), secrets) + "\n");
        return cb();
      }
      partial += text;
      const lines = partial.split("\n");
      partial = lines.pop()!;
      for (const line of lines) out.write((clean(line, secrets) ? line : redactLine(line, secrets)) + "\n");
      cb();
    },
  });
}

/**
 * The controller's logger: pino JSON through redactingStream. pino's own path redaction is off: it covers
 * fewer keys at fewer depths than this stream, which checks every line, and it cloned every object logged.
 */
export function redactingLogger(level: string, out: NodeJS.WritableStream, env: NodeJS.ProcessEnv, extra?: ReadonlySet<string>): Logger {
  return createLogger(level, redactingStream(out, env, extra), { redact: false });
}

/** True when nothing in `line` can need redacting (see MAY_NEED_REDACTING). */
export function clean(line: string, secrets: readonly string[]): boolean {
  return !MAY_NEED_REDACTING.test(line) && !secrets.some((s) => line.includes(s));
}

export function redactLine(line: string, secrets: readonly string[]): string {
  try {
    return JSON.stringify(redactValue(JSON.parse(line), secrets));
  } catch {
    return scrub(line, secrets);
  }
}
