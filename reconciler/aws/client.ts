// The only place a Rekognition client is made. Every command it sends goes through the retry layer,
// including those sent by the SDK's paginators, so no call escapes it.
import { RekognitionClient, type RekognitionClientConfig } from "@aws-sdk/client-rekognition";
import { ConfigError } from "../errors.js";
import { DEFAULT_RETRY, withRetry, type RetryOptions } from "./retry.js";

export interface ClientOptions {
  region: string;
  /** Role to assume for another account. */
  roleArn?: string;
  retry?: RetryOptions;
  /** Overrides for the demo and tests; users configure endpoints with AWS_ENDPOINT_URL_REKOGNITION. */
  endpoint?: string;
  credentials?: RekognitionClientConfig["credentials"];
}

/** Per-attempt bounds, so one hung connection cannot stall a run past the retry layer's total bound. */
const REQUEST_TIMEOUT_MS = 30_000;
const CONNECTION_TIMEOUT_MS = 5_000;

/** A RekognitionClient whose send() retries through p-retry. Subclassing keeps the SDK paginators working. */
export class RetryingRekognitionClient extends RekognitionClient {
  constructor(
    config: RekognitionClientConfig,
    private readonly retry: RetryOptions,
  ) {
    super(config);
  }

  override send(command: any, options?: any): Promise<any> {
    const operation = String(command?.constructor?.name ?? "Unknown").replace(/Command$/, "");
    const input = command?.input ?? {};
    const resource = String(input.ProjectVersionArn ?? input.ProjectArn ?? input.ResourceArn ?? (input.ProjectNames ? input.ProjectNames.join(",") : ""));
    return withRetry(operation, resource, () => super.send(command, { ...options, abortSignal: this.retry.signal }), this.retry);
  }
}

export function createClient(opts: ClientOptions): RetryingRekognitionClient {
  // Until AssumeRole is wired, a set that names a role must not silently run with the ambient identity:
  // that would read and delete in the wrong account.
  if (opts.roleArn) throw new ConfigError(`spec.roleArn (${opts.roleArn}) is not supported yet; remove it or run rekon with that account's credentials`);
  return new RetryingRekognitionClient(
    {
      region: opts.region,
      // p-retry is the one retry layer; the SDK's own attempts would multiply with it.
      maxAttempts: 1,
      requestHandler: { requestTimeout: REQUEST_TIMEOUT_MS, connectionTimeout: CONNECTION_TIMEOUT_MS },
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
    },
    opts.retry ?? DEFAULT_RETRY,
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
