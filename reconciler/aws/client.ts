// The only place a Rekognition client is made. Every command it sends goes through the retry layer and,
// attempt by attempt, through the rate limiter of its (identity, region, operation), including those sent
// by the SDK's paginators, so no call escapes either.
import { RekognitionClient, type RekognitionClientConfig } from "@aws-sdk/client-rekognition";
import { AwsCallError } from "../errors.js";
import { answerProblems, MalformedAnswerError } from "./answers.js";
import { roleAccount, roleCredentials } from "./credentials.js";
import type { ServerClock } from "./clock.js";
import { RateLimiters } from "./limiter.js";
import { backoffDelay, classify, DEFAULT_RETRY, errorCode, mayHaveRun, sleep, toAwsCallError, withRetry, type RetryOptions } from "./retry.js";

export interface ClientOptions {
  region: string;
  /** Role to assume for another account (STS AssumeRole; AWS_ENDPOINT_URL_STS is honoured). */
  roleArn?: string;
  retry?: RetryOptions;
  /** The run's limiters; clients of one run share it so each (identity, region, operation) has one bucket. Default: a private set. */
  limiters?: RateLimiters;
  /** Overrides for the demo and tests; users configure endpoints with AWS_ENDPOINT_URL_REKOGNITION. */
  endpoint?: string;
  /** STS endpoint override for tests; users set AWS_ENDPOINT_URL_STS. */
  stsEndpoint?: string;
  /** Base credentials (also used to call AssumeRole). Default: the SDK's standard chain. */
  credentials?: RekognitionClientConfig["credentials"];
  /**
   * Exactly the credentials to use (the source's one provider from aws/identity.ts, whose account was
   * resolved): overrides `credentials` and `roleArn`'s own AssumeRole.
   */
  provider?: RekognitionClientConfig["credentials"];
  /** The account `provider` resolved to (STS). Writes are only ever sent for versions in this account. */
  account?: string;
  /** Compares the local clock with the Date header of every answer (aws/clock.ts). */
  clock?: ServerClock;
}

/** Per-attempt bounds, so one hung connection cannot stall a run past the retry layer's total bound. */
const REQUEST_TIMEOUT_MS = 30_000;
const CONNECTION_TIMEOUT_MS = 5_000;

/** Throttling codes: the server-side signal the limiter adapts to. */
const THROTTLE_CODES = new Set([
  "ThrottlingException",
  "Throttling",
  "ProvisionedThroughputExceededException",
  "TooManyRequestsException",
  "LimitExceededException",
]);

export function isThrottle(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (e?.name !== undefined && THROTTLE_CODES.has(e.name)) || e?.$metadata?.httpStatusCode === 429;
}

/** How one write call ended, as far as AWS's answers tell (see sendWrite). */
export type WriteCall<T> =
  | { kind: "ok"; output: T; attempts: number }
  /** Not carried out: AWS refused it, or it never left (`interrupted`: stopped by the run's stop signal). */
  | { kind: "failed"; error: AwsCallError; attempts: number; interrupted: boolean }
  /** An attempt may have been carried out (5xx, reset, timeout) and no later answer settled it. */
  | { kind: "unknown"; error: AwsCallError; attempts: number }
  /** beforeSend refused the attempt (the last look found it changed); nothing of it was sent. */
  | { kind: "cancelled"; error: unknown; attempts: number };

export interface WriteHooks {
  /** Once aborted, no new attempt starts. An attempt already sent is never aborted: its answer is awaited. */
  stop?: AbortSignal;
  /** Runs after the rate limiter granted the attempt's slot, right before it is sent; throwing cancels it. */
  beforeSend?: (attempt: number) => Promise<void> | void;
}

/** A RekognitionClient whose send() is rate-limited and retried. Subclassing keeps the SDK paginators working. */
export class RetryingRekognitionClient extends RekognitionClient {
  constructor(
    config: RekognitionClientConfig,
    private readonly retry: RetryOptions,
    readonly limiters: RateLimiters,
    /** The limiter key, since quotas are per account: the resolved account, else "ambient" or the role's account. */
    readonly identity: string,
    readonly regionName: string,
    /** The account the credentials resolved to (STS), when known. */
    readonly account?: string,
  ) {
    super(config);
  }

  /**
   * Send a write (delete, stop, tag, untag). Unlike send(), a write is never aborted once sent: cutting
   * the connection does not stop AWS, it only hides the answer. The stop signal and the time bound end
   * waits (for a rate-limit slot, a backoff) and prevent further attempts; an attempt in flight is bounded
   * by the SDK's request timeout. The answer says whether the write happened, did not, or may have.
   */
  async sendWrite<T>(command: any, hooks: WriteHooks = {}): Promise<WriteCall<T>> {
    const operation = String(command?.constructor?.name ?? "Unknown").replace(/Command$/, "");
    const input = command?.input ?? {};
    const resource = String(input.ProjectVersionArn ?? input.ResourceArn ?? "");
    const limiter = this.limiters.get(this.identity, this.regionName, operation);
    const started = performance.now();
    const deadline = AbortSignal.timeout(this.retry.maxTotalMs);
    const waits = hooks.stop ? AbortSignal.any([hooks.stop, deadline]) : deadline;
    let attempts = 0;
    let uncertain = false;
    let last: unknown;
    for (;;) {
      let ticket;
      try {
        ticket = await limiter.acquire(waits);
      } catch {
        break;
      }
      if (hooks.stop?.aborted) break;
      if (hooks.beforeSend) {
        try {
          await hooks.beforeSend(attempts + 1);
        } catch (err) {
          limiter.record(ticket, false);
          if (uncertain) return { kind: "unknown", error: toAwsCallError(operation, resource, last, attempts), attempts };
          return { kind: "cancelled", error: err, attempts };
        }
      }
      attempts++;
      const t0 = performance.now();
      try {
        const output = (await super.send(command)) as T;
        limiter.record(ticket, false);
        // A 200 that does not fit the model: AWS may well have acted, so the write's fate is unknown, never
        // failed; and it is not sent again (the same answer would come again).
        const problems = answerProblems(operation, output);
        const outcome = problems.length > 0 ? "MalformedAnswer" : "ok";
        const attempt = attempts;
        const durationMs = performance.now() - t0;
        this.limiters.emit({ identity: this.identity, region: this.regionName, operation, outcome, throttled: false, attempt, durationMs, rate: limiter.rate });
        if (problems.length > 0) {
          return { kind: "unknown", error: new MalformedAnswerError(operation, resource, problems, metadataOf(output), attempts), attempts };
        }
        return { kind: "ok", output, attempts };
      } catch (err) {
        const throttled = isThrottle(err);
        limiter.record(ticket, throttled);
        this.limiters.emit({
          identity: this.identity,
          region: this.regionName,
          operation,
          outcome: errorCode(err),
          throttled,
          attempt: attempts,
          durationMs: performance.now() - t0,
          rate: limiter.rate,
        });
        last = err;
        if (mayHaveRun(err)) uncertain = true;
        if (classify(err) !== "retryable" || attempts > this.retry.retries) break;
        const left = this.retry.maxTotalMs - (performance.now() - started);
        const delay = Math.min(backoffDelay(attempts, this.retry), Math.max(0, left));
        this.retry.onRetry?.({ operation, resource, code: errorCode(err), attempt: attempts, delayMs: delay });
        try {
          await sleep(delay, waits);
        } catch {
          break;
        }
      }
    }
    const interrupted = hooks.stop?.aborted ?? false;
    const bound = `${Math.round(this.retry.maxTotalMs / 100) / 10}s`;
    let error: AwsCallError;
    if (last === undefined)
      error = toAwsCallError(
        operation,
        resource,
        Object.assign(new Error(interrupted ? "interrupted before it was sent" : `no slot to send it within the ${bound} bound per call`), {
          name: interrupted ? "Interrupted" : "TimeoutError",
        }),
        attempts,
      );
    else if (deadline.aborted && !interrupted) {
      // Say what AWS last answered (usually ThrottlingException), and that the bound, not AWS, ended it.
      const e = last as { message?: string; $metadata?: { requestId?: string } };
      error = new AwsCallError(
        operation,
        resource,
        errorCode(last),
        attempts,
        `${e.message ?? "no answer"}; gave up at the ${bound} bound per call`,
        e.$metadata?.requestId,
        { cause: last },
      );
    } else error = toAwsCallError(operation, resource, last, attempts);
    if (uncertain) return { kind: "unknown", error, attempts };
    return { kind: "failed", error, attempts, interrupted };
  }

  override send(command: any, options?: any): Promise<any> {
    const operation = String(command?.constructor?.name ?? "Unknown").replace(/Command$/, "");
    const input = command?.input ?? {};
    const resource = String(input.ProjectVersionArn ?? input.ProjectArn ?? input.ResourceArn ?? (input.ProjectNames ? input.ProjectNames.join(",") : ""));
    const limiter = this.limiters.get(this.identity, this.regionName, operation);
    // The run's signal (SIGINT/SIGTERM) and the caller's own (e.g. apply giving up on a project) both stop the call.
    const signals = [this.retry.signal, options?.abortSignal as AbortSignal | undefined].filter((s): s is AbortSignal => s !== undefined);
    const retry = signals.length > 1 ? { ...this.retry, signal: AbortSignal.any(signals) } : { ...this.retry, signal: signals[0] };
    return withRetry(
      operation,
      resource,
      async ({ signal, attempt }) => {
        // Every attempt, retries included, waits for a token: a retry is a request the quota counts too.
        const ticket = await limiter.acquire(signal);
        const started = performance.now();
        let out: unknown;
        try {
          out = await super.send(command, { ...options, abortSignal: signal });
        } catch (err) {
          const throttled = isThrottle(err);
          limiter.record(ticket, throttled);
          const aborted = signal.aborted && classify(err) === "terminal";
          this.limiters.emit({
            identity: this.identity,
            region: this.regionName,
            operation,
            outcome: aborted ? "Aborted" : errorCode(err),
            throttled,
            attempt,
            durationMs: performance.now() - started,
            rate: limiter.rate,
          });
          throw err;
        }
        limiter.record(ticket, false);
        // A 200 that does not fit the model is a failed read, never data (answers.ts); terminal in retry.ts.
        const problems = answerProblems(operation, out);
        const outcome = problems.length > 0 ? "MalformedAnswer" : "ok";
        const durationMs = performance.now() - started;
        this.limiters.emit({ identity: this.identity, region: this.regionName, operation, outcome, throttled: false, attempt, durationMs, rate: limiter.rate });
        if (problems.length > 0) throw new MalformedAnswerError(operation, resource, problems, metadataOf(out), attempt);
        return out;
      },
      retry,
    );
  }
}

function metadataOf(output: unknown): { httpStatusCode?: number; requestId?: string } | undefined {
  return (output as { $metadata?: { httpStatusCode?: number; requestId?: string } } | undefined)?.$metadata;
}

export function createClient(opts: ClientOptions): RetryingRekognitionClient {
  const retry = opts.retry ?? DEFAULT_RETRY;
  // A set that names a role gets that role's credentials or fails: never the ambient identity, which would
  // read and delete in the wrong account.
  const credentials =
    opts.provider ??
    (opts.roleArn
      ? roleCredentials({
          roleArn: opts.roleArn,
          region: opts.region,
          retry,
          ...(opts.credentials ? { baseCredentials: opts.credentials } : {}),
          ...(opts.stsEndpoint ? { endpoint: opts.stsEndpoint } : {}),
        })
      : opts.credentials);
  const client = new RetryingRekognitionClient(
    {
      region: opts.region,
      // p-retry is the one retry layer; the SDK's own attempts would multiply with it.
      maxAttempts: 1,
      requestHandler: { requestTimeout: REQUEST_TIMEOUT_MS, connectionTimeout: CONNECTION_TIMEOUT_MS },
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      ...(credentials ? { credentials } : {}),
    },
    retry,
    opts.limiters ?? new RateLimiters(),
    opts.account ?? (opts.roleArn ? roleAccount(opts.roleArn) : "ambient"),
    opts.region,
    opts.account,
  );
  opts.clock?.watch(client);
  return client;
}

/** The region the SDK's standard chain resolves (AWS_REGION, then the profile), or undefined. */
export async function defaultRegion(): Promise<string | undefined> {
  try {
    const probe = new RekognitionClient({});
    const region = await probe.config.region();
    probe.destroy();
    return region || undefined;
  } catch {
    return undefined;
  }
}
