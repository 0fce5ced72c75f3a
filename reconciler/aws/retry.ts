// The one retry layer for every AWS call (the SDK runs with maxAttempts: 1 so retries never stack).
// Which errors are worth another attempt is decided here and nowhere else.
import pRetry, { AbortError } from "p-retry";
import { AwsCallError } from "../errors.js";
import { firstLine } from "../text.js";
import { MalformedAnswerError } from "./answers.js";

export interface RetryOptions {
  /** Attempts after the first. Default 8. */
  retries: number;
  /** Base of the exponential backoff in ms. Default 200. */
  baseDelayMs: number;
  /** Cap on one backoff sleep in ms. Default 5000. */
  maxDelayMs: number;
  /** Bound on the whole call, attempts and sleeps together, in ms. Default 60000. */
  maxTotalMs: number;
  signal?: AbortSignal;
  /** Told about each failed attempt that will be retried (for logs and metrics). */
  onRetry?: (info: { operation: string; resource: string; code: string; attempt: number; delayMs: number }) => void;
}

export const DEFAULT_RETRY: RetryOptions = { retries: 8, baseDelayMs: 200, maxDelayMs: 5_000, maxTotalMs: 60_000 };

/** Throttling and server faults: AWS asks clients to back off and try again (docs/aws-behaviour.md). */
const RETRYABLE_CODES = new Set([
  "ThrottlingException",
  "Throttling", // query-protocol services (STS)
  "ProvisionedThroughputExceededException",
  "InternalServerError",
  "ServiceUnavailableException",
  "ServiceUnavailable",
  "RequestTimeout",
  "RequestTimeoutException",
  "TooManyRequestsException",
  // The JS SDK and botocore both count it as throttling; none of the operations rekon calls documents it.
  "LimitExceededException",
  "TimeoutError",
]);

/** Connection-level failures: the request may or may not have arrived; every call rekon makes is idempotent. */
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
]);
/** Connection failures that happen before a single byte of the request leaves: the call cannot have run. */
const NOT_SENT_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ENETUNREACH", "EHOSTUNREACH"]);
/** Answers that mean "not now": the request was refused before anything was done. */
const THROTTLED = new Set([
  "ThrottlingException",
  "Throttling",
  "ProvisionedThroughputExceededException",
  "TooManyRequestsException",
  "LimitExceededException",
]);
/** Failures to obtain credentials: nothing was sent. */
const CREDENTIAL_ERRORS = new Set(["CredentialsProviderError", "ConfigError", "AwsCallError"]);

/**
 * An SDK failure that carries a success status: AWS answered 2xx and the SDK's deserializer threw on the
 * body (docs/aws-behaviour.md, "Malformed answers"). The call's own answer: a write may have happened.
 */
function answeredSuccess(err: unknown): boolean {
  const status = (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  return status !== undefined && status >= 200 && status < 300;
}

/**
 * Whether a failed write attempt may nevertheless have been carried out by AWS. An error answer in the
 * 4xx range (throttling, access denied, in use, not found, validation) means it was not; a 5xx answer,
 * a reset connection or a timeout leaves it open, and a truthful report must then say `unknown`. So does
 * a success answer rekon cannot read: AWS said it acted, in words rekon cannot believe.
 */
export function mayHaveRun(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  // Throttled means refused, whatever the status (the model marks ThrottlingException a server fault, 5xx).
  if (e?.name && THROTTLED.has(e.name)) return false;
  if (answeredSuccess(err)) return true;
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500;
  if (e?.name && CREDENTIAL_ERRORS.has(e.name)) return false;
  return !NOT_SENT_CODES.has(errorCode(err));
}

/**
 * An AwsCallError for what `err` says (or the error itself when it already is one). A success answer the
 * SDK could not read becomes a MalformedAnswerError, like one that did not fit the model.
 */
export function toAwsCallError(operation: string, resource: string, err: unknown, attempts: number): AwsCallError {
  if (err instanceof AwsCallError) return err;
  const e = err as { message?: string; $metadata?: { httpStatusCode?: number; requestId?: string } };
  if (answeredSuccess(err)) {
    const problem = { path: "$", message: `the SDK could not read it: ${firstLine(e.message ?? String(err))}` };
    return new MalformedAnswerError(operation, resource, [problem], e.$metadata, attempts, { cause: err });
  }
  return new AwsCallError(operation, resource, errorCode(err), attempts, e?.message ?? String(err), e?.$metadata?.requestId, { cause: err });
}

export type ErrorClass = "retryable" | "terminal";

/**
 * Classify by name and HTTP status: `$retryable` is not set on Rekognition errors. Not retried on purpose:
 * ResourceInUseException ("OK to retry? No"), AccessDenied, InvalidParameter, ResourceNotFound (the
 * caller decides what it means). A signature refused for clock skew is retried once: the SDK has just
 * corrected its clock offset from the server's Date (it says so in `$metadata.clockSkewCorrected`, and
 * only when the offset changed, so a second refusal is not flagged and stays terminal).
 */
export function classify(err: unknown): ErrorClass {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number; clockSkewCorrected?: boolean }; cause?: { code?: string } };
  if (e?.name === "AbortError") return "terminal";
  if (e?.$metadata?.clockSkewCorrected === true) return "retryable";
  if (e?.name && RETRYABLE_CODES.has(e.name)) return "retryable";
  if ((e?.code && NETWORK_CODES.has(e.code)) || (e?.cause?.code && NETWORK_CODES.has(e.cause.code))) return "retryable";
  // A success answer rekon cannot believe would come again the same: a failed call, not a passing fault.
  if (err instanceof MalformedAnswerError || answeredSuccess(err)) return "terminal";
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return "retryable";
  return "terminal";
}

export function errorCode(err: unknown): string {
  const e = err as { name?: string; code?: string; cause?: { code?: string } };
  if (e?.code && NETWORK_CODES.has(e.code)) return e.code;
  if (e?.cause?.code && NETWORK_CODES.has(e.cause.code)) return e.cause.code;
  if (err instanceof MalformedAnswerError || answeredSuccess(err)) return "MalformedAnswer";
  return e?.name ?? "Error";
}

/** Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): sleep uniformly in [0, min(cap, base·2^n)]. */
export function backoffDelay(attempt: number, opts: Pick<RetryOptions, "baseDelayMs" | "maxDelayMs">, random = Math.random): number {
  const ceiling = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/** What each attempt is given: a signal that aborts on SIGINT/SIGTERM or when the call's time bound passes. */
export interface AttemptContext {
  signal: AbortSignal;
  attempt: number;
}

/**
 * Run one AWS call with retries. Gives up with an AwsCallError (operation, resource, code, attempts) when
 * the error is terminal, retries are used up, the total time bound passes, or the signal aborts. The bound
 * is hard: an attempt still waiting for a rate-limiter token or an answer when it passes is cut short.
 */
export async function withRetry<T>(
  operation: string,
  resource: string,
  fn: (ctx: AttemptContext) => Promise<T>,
  opts: RetryOptions = DEFAULT_RETRY,
): Promise<T> {
  const started = performance.now();
  let attempts = 0;
  let lastError: unknown;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new DeadlineError(opts.maxTotalMs)), opts.maxTotalMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, deadline.signal]) : deadline.signal;
  try {
    return await pRetry(
      async () => {
        attempts++;
        try {
          return await fn({ signal, attempt: attempts });
        } catch (err) {
          if (!signal.aborted) lastError = err;
          // Wrapping in AbortError tells p-retry to stop at once, skipping the backoff sleep.
          if (signal.aborted || classify(err) === "terminal") throw new AbortError(err as Error);
          throw err;
        }
      },
      {
        retries: opts.retries,
        // p-retry's own backoff is off (minTimeout 0); the full-jitter sleep happens in onFailedAttempt so
        // it can be capped by the time left and cut short by the signal.
        minTimeout: 0,
        maxTimeout: 0,
        maxRetryTime: opts.maxTotalMs,
        signal,
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          if (retriesLeft <= 0 || signal.aborted) return;
          const left = opts.maxTotalMs - (performance.now() - started);
          const delay = Math.min(backoffDelay(attemptNumber, opts), Math.max(0, left));
          opts.onRetry?.({ operation, resource, code: errorCode(error), attempt: attemptNumber, delayMs: delay });
          await sleep(delay, signal);
        },
      },
    );
  } catch (err) {
    const interrupted = opts.signal?.aborted ?? false;
    if (interrupted) {
      throw new AwsCallError(operation, resource, "Aborted", attempts, "interrupted before the call could finish", undefined, { cause: err });
    }
    if (deadline.signal.aborted) {
      // Say what AWS last answered (usually ThrottlingException), and that the bound, not AWS, ended it.
      const last = lastError as { message?: string; $metadata?: { requestId?: string } } | undefined;
      const code = last ? errorCode(last) : "TimeoutError";
      const why = `${last?.message ?? "no answer"}; gave up at the ${formatMs(opts.maxTotalMs)} bound per call`;
      throw new AwsCallError(operation, resource, code, attempts, why, last?.$metadata?.requestId, { cause: last ?? err });
    }
    // Already one of ours (e.g. AssumeRole failed while the SDK resolved credentials): keep what it says.
    // p-retry rethrows the original error for an AbortError, so otherwise `err` is what AWS (or the network) said.
    throw toAwsCallError(operation, resource, err, attempts);
  } finally {
    clearTimeout(timer);
  }
}

/** The reason a call's own time bound aborts it. */
export class DeadlineError extends Error {
  override readonly name = "DeadlineError";
  constructor(readonly boundMs: number) {
    super(`time bound of ${formatMs(boundMs)} per call passed`);
  }
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10}s` : `${ms}ms`;
}

/** Sleep `ms`, or reject as soon as `signal` aborts. The one sleep of rekon's AWS and apply code. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason ?? new Error("aborted"));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(t);
      reject(signal!.reason ?? new Error("aborted"));
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
