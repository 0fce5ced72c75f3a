// Credentials for a set that names spec.roleArn: STS AssumeRole with the base credentials (the SDK's
// standard chain unless given). The SDK client memoizes the provider and calls it again five minutes
// before `expiration`, so long runs renew their session without rekon keeping a timer.
//
// The STS client is @aws-sdk/client-sts, and the base credentials come from
// @aws-sdk/credential-provider-node, the chain RekognitionClient itself uses (both declared
// dependencies). The STS client resolves its endpoint like any SDK client, so AWS_ENDPOINT_URL_STS is
// honoured. It is imported only when a role is named, so runs
// without roles (and `validate`) never load it.
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@aws-sdk/types";
import { ConfigError } from "../errors.js";
import { assertAnswer } from "./answers.js";
import { withRetry, type RetryOptions } from "./retry.js";

export interface RoleCredentialOptions {
  roleArn: string;
  /** The STS region: the target's own (regional STS endpoints are what AWS recommends). */
  region: string;
  retry: RetryOptions;
  baseCredentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Test override; users set AWS_ENDPOINT_URL_STS. */
  endpoint?: string;
  /** Default 3600 s, the AssumeRole default; renewed by the SDK before it runs out. */
  durationSeconds?: number;
  /**
   * STS SourceIdentity: "rekon-plan" or "rekon-apply". It stays on the session (CloudTrail shows it), and
   * the target-role templates in deploy/iam let the plan role in only as "rekon-plan" and deny every
   * write to such a session, so a plan can never write even with a role that could.
   */
  sourceIdentity?: string;
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/.+$/;

/** The account a role belongs to, from its ARN: the key for rate limits (quotas are per account). */
export function roleAccount(roleArn: string): string {
  return ROLE_ARN.exec(roleArn)?.[1] ?? roleArn;
}

export function roleCredentials(opts: RoleCredentialOptions): AwsCredentialIdentityProvider {
  if (!ROLE_ARN.test(opts.roleArn)) throw new ConfigError(`spec.roleArn ${opts.roleArn} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)`);
  // Session names show up in CloudTrail: say who assumed the role.
  const sessionName = `rekon-${process.pid}`;
  type Sts = typeof import("@aws-sdk/client-sts");
  let loaded: { client: InstanceType<Sts["STSClient"]>; AssumeRole: Sts["AssumeRoleCommand"] } | undefined;
  return async () => {
    if (!loaded) {
      let mod: typeof import("@aws-sdk/client-sts");
      try {
        mod = await import("@aws-sdk/client-sts");
      } catch (err) {
        throw new ConfigError(`spec.roleArn needs the AWS SDK's STS client (@aws-sdk/client-sts), which could not be loaded: ${(err as Error).message}`);
      }
      // The base identity is the SDK's standard chain (env, profile, SSO, web identity, container,
      // instance metadata), exactly what a RekognitionClient without a role would use.
      const base = opts.baseCredentials ?? (await import("@aws-sdk/credential-provider-node")).defaultProvider();
      const client = new mod.STSClient({
        region: opts.region,
        maxAttempts: 1,
        ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
        credentials: base,
      });
      loaded = { client, AssumeRole: mod.AssumeRoleCommand };
    }
    const { client, AssumeRole } = loaded;
    const input = {
      RoleArn: opts.roleArn,
      RoleSessionName: sessionName,
      DurationSeconds: opts.durationSeconds ?? 3600,
      ...(opts.sourceIdentity ? { SourceIdentity: opts.sourceIdentity } : {}),
    };
    const out = await withRetry(
      "AssumeRole",
      opts.roleArn,
      async ({ signal, attempt }) => {
        const answer = await client.send(new AssumeRole(input), { abortSignal: signal });
        // Credentials missing a member (a session key without its token, no expiry) are not half used: the
        // role's account stays unresolved and nothing of it is read or written.
        assertAnswer("AssumeRole", opts.roleArn, answer, attempt);
        return answer;
      },
      opts.retry,
    );
    // Checked above: the model requires all four members, and Expiration is a valid Date.
    const c = out.Credentials!;
    return {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.SessionToken!,
      expiration: c.Expiration!,
      accountId: roleAccount(opts.roleArn),
    };
  };
}
