// The only place a Rekognition client is made. Every command it sends goes through the retry layer and,
// attempt by attempt, through the rate limiter of its (identity, region, operation), including those sent
// by the SDK's paginators, so no call escapes either.
import { RekognitionClient, type RekognitionClientConfig } from "@aws-sdk/client-rekognition";
import { roleAccount, roleCredentials } from "./credentials.js";
import { RateLimiters } from "./limiter.js";
import { classify, DEFAULT_RETRY, errorCode, withRetry, type RetryOptions } from "./retry.js";

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
}

/** Per-attempt bounds, so one hung connection cannot stall a run past the retry layer's total bound. */
const REQUEST_TIMEOUT_MS = 30_000;
const CONNECTION_TIMEOUT_MS = 5_000;

/** Throttling codes: the server-side signal the limiter adapts to. */
const THROTTLE_CODES = new Set(["ThrottlingException", "Throttling", "ProvisionedThroughputExceededException", "TooManyRequestsException"]);

export function isThrottle(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (e?.name !== undefined && THROTTLE_CODES.has(e.name)) || e?.$metadata?.httpStatusCode === 429;
}

/** A RekognitionClient whose send() is rate-limited and retried. Subclassing keeps the SDK paginators working. */
export class RetryingRekognitionClient extends RekognitionClient {
  constructor(
    config: RekognitionClientConfig,
    private readonly retry: RetryOptions,
    readonly limiters: RateLimiters,
    /** "ambient", or the account of the assumed role: the limiter key, since quotas are per account. */
    readonly identity: string,
    readonly regionName: string,
  ) {
    super(config);
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
        try {
          const out = await super.send(command, { ...options, abortSignal: signal });
          limiter.record(ticket, false);
          this.limiters.emit({ identity: this.identity, region: this.regionName, operation, outcome: "ok", throttled: false, attempt, durationMs: performance.now() - started, rate: limiter.rate });
          return out;
        } catch (err) {
          const throttled = isThrottle(err);
          limiter.record(ticket, throttled);
          const aborted = signal.aborted && classify(err) === "terminal";
          this.limiters.emit({ identity: this.identity, region: this.regionName, operation, outcome: aborted ? "Aborted" : errorCode(err), throttled, attempt, durationMs: performance.now() - started, rate: limiter.rate });
          throw err;
        }
      },
      retry,
    );
  }
}

export function createClient(opts: ClientOptions): RetryingRekognitionClient {
  const retry = opts.retry ?? DEFAULT_RETRY;
  // A set that names a role gets that role's credentials or fails: never the ambient identity, which would
  // read and delete in the wrong account.
  const credentials = opts.roleArn
    ? roleCredentials({ roleArn: opts.roleArn, region: opts.region, retry, ...(opts.credentials ? { baseCredentials: opts.credentials } : {}), ...(opts.stsEndpoint ? { endpoint: opts.stsEndpoint } : {}) })
    : opts.credentials;
  return new RetryingRekognitionClient(
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
    opts.roleArn ? roleAccount(opts.roleArn) : "ambient",
    opts.region,
  );
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
