// Who rekon is, per credential source, as AWS says it: STS GetCallerIdentity, once per source per process.
//
// Ownership of a project and the account of every write are keyed by the account the credentials resolve
// to, never by an account written in configuration: a set with ambient credentials and a set naming
// `arn:aws:iam::123456789012:role/rekon` may well reach the same account, and only AWS can tell. The same
// credential provider (one per source) is handed to every Rekognition client of that source, so the
// identity resolved here is the identity that reads and writes.
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@aws-sdk/types";
import { AMBIENT, type IdentityFact } from "../types.js";
import { assertAnswer } from "./answers.js";
import { roleCredentials } from "./credentials.js";
import { DEFAULT_RETRY, withRetry, type RetryOptions } from "./retry.js";
import { firstLine } from "../text.js";

export interface IdentityOptions {
  /** Base credentials (the demo and tests); default: the SDK's standard chain. */
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** STS endpoint override (demo, tests); users set AWS_ENDPOINT_URL_STS. */
  stsEndpoint?: string;
  /** STS SourceIdentity for assumed roles: "rekon-plan" for reads only, "rekon-apply" when writes may follow. */
  sourceIdentity?: string;
}

/** Renew cached credentials this long before they expire (as the SDK does). */
const REFRESH_BEFORE_MS = 5 * 60_000;

/**
 * Credentials and resolved identities for one process (the CLI invocation, or the whole `rekon run`).
 * Successful answers are kept for the life of the object; failures are not, so the next cycle tries again.
 */
export class Identities {
  private readonly providers = new Map<string, AwsCredentialIdentityProvider>();
  private readonly facts = new Map<string, IdentityFact>();

  constructor(private readonly opts: IdentityOptions = {}) {}

  /** The one credential provider of a source, shared by all its clients (any region). */
  credentialsFor(source: string, region: string, retry: RetryOptions = DEFAULT_RETRY): AwsCredentialIdentityProvider {
    let p = this.providers.get(source);
    if (!p) {
      const inner: AwsCredentialIdentityProvider =
        source === AMBIENT
          ? this.opts.credentials
            ? toProvider(this.opts.credentials)
            : defaultChain()
          : roleCredentials({
              roleArn: source,
              region,
              retry,
              ...(this.opts.credentials ? { baseCredentials: this.opts.credentials } : {}),
              ...(this.opts.stsEndpoint ? { endpoint: this.opts.stsEndpoint } : {}),
              ...(this.opts.sourceIdentity ? { sourceIdentity: this.opts.sourceIdentity } : {}),
            });
      p = memoize(inner);
      this.providers.set(source, p);
    }
    return p;
  }

  /** The account already resolved for a source, if any. */
  known(source: string): IdentityFact | undefined {
    return this.facts.get(source);
  }

  /**
   * Resolve every source (once per process): `{source, region}` pairs, the region being one the source is
   * used in (STS is called regionally). Returns one fact per source, with `error` where it failed.
   */
  async resolve(sources: { source: string; region: string }[], retry: RetryOptions = DEFAULT_RETRY): Promise<IdentityFact[]> {
    const wanted = new Map<string, string>();
    for (const s of sources) if (!wanted.has(s.source)) wanted.set(s.source, s.region);
    const out = await Promise.all(
      [...wanted].map(async ([source, region]): Promise<IdentityFact> => {
        const cached = this.facts.get(source);
        if (cached) return cached;
        try {
          const fact = await this.callerIdentity(source, region, retry);
          this.facts.set(source, fact);
          return fact;
        } catch (err) {
          const hint =
            this.opts.stsEndpoint || process.env.AWS_ENDPOINT_URL_STS
              ? ""
              : " (pointing rekon at an emulator? set AWS_ENDPOINT_URL_STS as well as AWS_ENDPOINT_URL_REKOGNITION)";
          return { source, error: `${firstLine((err as Error).message)}${process.env.AWS_ENDPOINT_URL_REKOGNITION ? hint : ""}` };
        }
      }),
    );
    return out.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
  }

  private async callerIdentity(source: string, region: string, retry: RetryOptions): Promise<IdentityFact> {
    // Loaded here, not at the top: `validate` must never load the SDK.
    const { STSClient, GetCallerIdentityCommand } = await import("@aws-sdk/client-sts");
    const credentials = this.credentialsFor(source, region, retry);
    const client = new STSClient({ region, maxAttempts: 1, credentials, ...(this.opts.stsEndpoint ? { endpoint: this.opts.stsEndpoint } : {}) });
    try {
      // An answer that does not fit the model (no Account, no Arn) is a failure: the identity stays unresolved.
      const out = await withRetry(
        "GetCallerIdentity",
        source,
        async ({ signal, attempt }) => {
          const answer = await client.send(new GetCallerIdentityCommand({}), { abortSignal: signal });
          assertAnswer("GetCallerIdentity", source, answer, attempt);
          return answer;
        },
        retry,
      );
      // The model gives Account no pattern; rekon keys writes by it, so it must be an account number.
      if (!/^\d{12}$/.test(out.Account!)) throw new Error(`GetCallerIdentity answered no valid account (${JSON.stringify(out.Account)})`);
      return { source, account: out.Account!, arn: out.Arn! };
    } finally {
      client.destroy();
    }
  }
}

/** The SDK's standard chain (env, profile, SSO, web identity, container, instance metadata), loaded on first use. */
function defaultChain(): AwsCredentialIdentityProvider {
  let chain: AwsCredentialIdentityProvider | undefined;
  return async () => {
    chain ??= (await import("@aws-sdk/credential-provider-node")).defaultProvider();
    return chain();
  };
}

function toProvider(c: AwsCredentialIdentity | AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  return typeof c === "function" ? c : async () => c;
}

/** One call at a time, kept until shortly before it expires: one AssumeRole per source, not per client. */
function memoize(p: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  let cur: Promise<AwsCredentialIdentity> | undefined;
  let expires = Infinity;
  return async () => {
    if (cur && Date.now() < expires - REFRESH_BEFORE_MS) return cur;
    const next = p();
    cur = next;
    try {
      const c = await next;
      expires = c.expiration ? c.expiration.getTime() : Infinity;
      return c;
    } catch (err) {
      if (cur === next) cur = undefined; // a failure is not kept: the next call tries again
      throw err;
    }
  };
}
