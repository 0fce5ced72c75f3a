// `rekon restore`: copy an archived version (spec.archive, docs/archive.md) back into a project, through the
// gate (CopyProjectVersion; nothing is deleted), then wait for COPYING_COMPLETED. The read → guard → act steps
// of one write: who the credentials are (STS), both projects and the archived version as AWS lists them now,
// the gate's approval on those facts, the copy, and polls until it is complete.
import type { Logger } from "pino";
import { createClient, type ClientOptions, type RetryingRekognitionClient } from "../aws/client.js";
import { Identities } from "../aws/identity.js";
import { readProjectNamed, readVersionsNamed } from "../aws/look.js";
import { RateLimiters } from "../aws/limiter.js";
import { sleep, type RetryOptions } from "../aws/retry.js";
import { pollDelay } from "../aws/wait.js";
import { sendCopy } from "../aws/writes.js";
import { AwsCallError, ConfigError, RefusalError } from "../errors.js";
import { approveRestore } from "../gate/index.js";
import { AMBIENT, type LiveVersion, type Policy } from "../types.js";

export interface RestoreInput {
  /** The archived version: its project and name, and its ARN when given as one. */
  from: { arn?: string; project: string; version: string };
  /** The destination project, and the restored version's name (default: the archived version's). */
  to: string;
  name?: string;
  region: string;
  /** The operator's policy: spec.archive's outputConfig and KMS key, allowedAccounts, rate limits. */
  policy: Policy;
  log: Logger;
  retry: RetryOptions;
  stop?: AbortSignal;
  /** Told each status read while waiting (a progress line). */
  progress(status: string, elapsedMs: number): void;
  pollMs?: number;
  timeoutMs?: number;
  /** Endpoint and credential overrides (the demo's emulator); users configure endpoints with AWS_ENDPOINT_URL_*. */
  client?: Pick<ClientOptions, "endpoint" | "stsEndpoint" | "credentials">;
}

export interface Restored {
  arn: string;
  name: string;
  project: string;
  status: string;
  waitedMs: number;
}

const DEFAULTS = { pollMs: 5_000, timeoutMs: 60 * 60_000 };

export async function restore(input: RestoreInput): Promise<Restored> {
  const { policy, region } = input;
  const archive = policy.archive;
  if (!archive)
    throw new ConfigError(
      `the operator's policy (${policy.source}) has no spec.archive: restore takes the copy's output bucket (and KMS key) from it; ` +
        `pass the --policy that archives`,
    );
  const o = input.client ?? {};
  const identities = new Identities({
    sourceIdentity: "rekon-restore",
    ...(o.credentials ? { credentials: o.credentials } : {}),
    ...(o.stsEndpoint ? { stsEndpoint: o.stsEndpoint } : {}),
  });
  const [fact] = await identities.resolve([{ source: AMBIENT, region }], input.retry);
  if (!fact?.account) throw new ConfigError(`could not resolve the account of the credentials: ${fact?.error ?? "no answer"}`);
  const limiters = new RateLimiters(policy.rateLimits);
  const client = createClient({
    region,
    retry: input.retry,
    limiters,
    provider: identities.credentialsFor(AMBIENT, region, input.retry),
    account: fact.account,
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
  });
  try {
    return await restoreWith(client, input, fact.account, archive);
  } finally {
    client.destroy();
    limiters.close();
  }
}

async function restoreWith(
  client: RetryingRekognitionClient,
  input: RestoreInput,
  account: string,
  archive: NonNullable<Policy["archive"]>,
): Promise<Restored> {
  const { from, region, log } = input;
  const signal = input.stop;
  const project = async (name: string) => {
    const p = await readProjectNamed(client, name, region, signal);
    if (!p) throw new ConfigError(`project "${name}" does not exist in ${region} (account ${account})`);
    return p;
  };
  const src = await project(from.project);
  const dest = await project(input.to);
  const [found] = (await readVersionsNamed(client, { project: from.project, region, projectArn: src.arn }, [from.version], signal)).filter(
    (v) => from.arn === undefined || v.arn === from.arn,
  );
  if (!found) throw new ConfigError(`no version ${from.arn ?? `${from.project}/${from.version}`} in project ${from.project} (${region}, account ${account})`);
  const name = input.name ?? found.name;
  const taken = (await readVersionsNamed(client, { project: input.to, region, projectArn: dest.arn }, [name], signal)).length > 0;
  const d = approveRestore({
    version: found,
    sourceProjectArn: src.arn,
    destinationProjectArn: dest.arn,
    name,
    nameTaken: taken,
    account,
    region,
    source: AMBIENT,
    outputConfig: archive.outputConfig,
    ...(archive.kmsKeyId !== undefined ? { kmsKeyId: archive.kmsKeyId } : {}),
    accountAllowed: !input.policy.enforceAccounts || input.policy.allowedAccounts.includes(account),
  });
  if ("denied" in d) throw new RefusalError(`not restored: ${d.reasons.map((r) => r.message).join("; ")}`, "notPlanned");
  const call = await sendCopy(d, { clientFor: () => client }, signal ? { stop: signal } : {});
  if (call.kind !== "ok") {
    const e = call.kind === "cancelled" ? undefined : call.error;
    if (e) throw e;
    throw new AwsCallError("CopyProjectVersion", found.arn, "Cancelled", call.attempts, "the copy was not sent");
  }
  const arn = call.output.ProjectVersionArn!;
  log.info({ from: found.arn, to: arn }, "restore copy started");
  return waitForCopy(client, input, { project: input.to, region, projectArn: dest.arn }, name, arn);
}

/** Polls the restored copy until COPYING_COMPLETED; COPYING_FAILED, a vanished copy or the bound is an error. */
async function waitForCopy(
  client: RetryingRekognitionClient,
  input: RestoreInput,
  spec: { project: string; region: string; projectArn: string },
  name: string,
  arn: string,
): Promise<Restored> {
  const started = performance.now();
  const pollMs = input.pollMs ?? DEFAULTS.pollMs;
  const timeoutMs = input.timeoutMs ?? DEFAULTS.timeoutMs;
  for (let round = 0; ; round++) {
    const now: LiveVersion | undefined = (await readVersionsNamed(client, spec, [name], input.stop)).find((v) => v.arn === arn);
    const elapsed = performance.now() - started;
    input.progress(now?.status ?? "gone", elapsed);
    if (now?.status === "COPYING_COMPLETED") return { arn, name, project: spec.project, status: now.status, waitedMs: Math.round(elapsed) };
    if (!now || now.status !== "COPYING_IN_PROGRESS")
      throw new AwsCallError(
        "CopyProjectVersion",
        arn,
        now ? "CopyingFailed" : "CopyVanished",
        1,
        now ? `the restored copy is ${now.status}${now.statusMessage ? `: ${now.statusMessage}` : ""}` : "the restored copy is no longer listed",
      );
    if (elapsed >= timeoutMs)
      throw new AwsCallError(
        "CopyProjectVersion",
        arn,
        "CopyTimeout",
        1,
        `still COPYING_IN_PROGRESS after ${Math.round(elapsed / 1000)}s; it goes on without rekon`,
      );
    await sleep(Math.min(pollDelay(round, pollMs), Math.max(0, timeoutMs - elapsed)), input.stop);
  }
}
