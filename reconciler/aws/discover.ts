// `rekon discover`'s reads: every project and version the credentials can see, in every (credentials,
// region) asked for. Reads only (STS GetCallerIdentity and AssumeRole, DescribeProjects,
// DescribeProjectVersions): discover never writes. Each project's versions are read the way plan reads them
// (inventory.ts readVersions, with the client's answer checking), so a malformed or failed read is a failed
// read here too — and the caller then writes no manifest at all.
import { paginateDescribeProjects } from "@aws-sdk/client-rekognition";
import type { Logger } from "pino";
import type { IdentityFact, LiveVersion } from "../types.js";
import { parseProjectArn } from "./arn.js";
import { createClient, type RetryingRekognitionClient } from "./client.js";
import { Bound, READS_IN_FLIGHT } from "./concurrency.js";
import { Identities } from "./identity.js";
import { Interner, readVersions } from "./inventory.js";
import { RateLimiters } from "./limiter.js";
import { DEFAULT_RETRY, type RetryOptions } from "./retry.js";

export type DiscoverFeature = "CUSTOM_LABELS" | "CONTENT_MODERATION";

export interface DiscoverOptions {
  /** "ambient" and/or role ARNs, in the order given: the first source that reaches an account reads it. */
  sources: string[];
  regions: string[];
  features: DiscoverFeature[];
  log: Logger;
  retry?: RetryOptions;
}

export interface DiscoveredProject {
  /** The credentials it was read with: "ambient" or a role ARN. */
  source: string;
  account: string;
  region: string;
  project: string;
  projectArn: string;
  /** CREATING, CREATED or DELETING. */
  projectStatus: string;
  feature: string;
  /** Complete (newest first, as AWS lists them) when `error` is absent. */
  versions: LiveVersion[];
  /** Why its versions could not be read. */
  error?: string;
}

/** A read that failed as a whole: an identity, or the project listing of one (account, region). */
export interface DiscoverFailure {
  source: string;
  region?: string;
  account?: string;
  error: string;
}

export interface Discovery {
  identities: IdentityFact[];
  projects: DiscoveredProject[];
  failures: DiscoverFailure[];
  /** Sources left out because an earlier source reaches the same account (read once, not twice). */
  sameAccount: { source: string; account: string; readWith: string }[];
}

/** Read everything visible to `sources` in `regions`. Never throws for a failed read: it is in `failures` or a project's `error`. */
export async function discoverAll(opts: DiscoverOptions): Promise<Discovery> {
  const retry = opts.retry ?? DEFAULT_RETRY;
  const identities = new Identities({ sourceIdentity: "rekon-plan" });
  const identityFacts = await identities.resolve(
    opts.sources.map((source) => ({ source, region: opts.regions[0]! })),
    retry,
  );
  const byKey = new Map(identityFacts.map((f) => [f.source, f]));
  const failures: DiscoverFailure[] = [];
  const sameAccount: Discovery["sameAccount"] = [];
  const chosen: { source: string; account: string }[] = [];
  const seen = new Map<string, string>();
  for (const source of opts.sources) {
    const f = byKey.get(source)!;
    if (!f.account) {
      failures.push({ source, error: `could not resolve the account of these credentials: ${f.error ?? "no answer"}` });
      continue;
    }
    const prior = seen.get(f.account);
    if (prior !== undefined) {
      sameAccount.push({ source, account: f.account, readWith: prior });
      continue;
    }
    seen.set(f.account, source);
    chosen.push({ source, account: f.account });
  }
  const limiters = new RateLimiters();
  const clients: RetryingRekognitionClient[] = [];
  try {
    const groups = chosen.flatMap((c) => opts.regions.map((region) => ({ ...c, region })));
    const read = await Promise.all(
      groups.map(async (g) => {
        const client = createClient({ region: g.region, retry, limiters, provider: identities.credentialsFor(g.source, g.region, retry), account: g.account });
        clients.push(client);
        return readRegion(client, g, opts.features, opts.log);
      }),
    );
    for (const r of read) {
      if ("error" in r) failures.push(r.error);
    }
    const projects = read.flatMap((r) => ("projects" in r ? r.projects : []));
    return { identities: identityFacts, projects, failures, sameAccount };
  } finally {
    clients.forEach((c) => c.destroy());
    limiters.close();
  }
}

/** One (account, region): the project listing, then each project's versions (bounded, like plan's reads). */
async function readRegion(
  client: RetryingRekognitionClient,
  g: { source: string; account: string; region: string },
  features: DiscoverFeature[],
  log: Logger,
): Promise<{ projects: DiscoveredProject[] } | { error: DiscoverFailure }> {
  const listed: { arn: string; name: string; status: string; feature: string }[] = [];
  try {
    for await (const page of paginateDescribeProjects({ client }, { Features: [...features] })) {
      // The list and each ProjectArn are present: the client refuses an answer without (answers.ts).
      for (const p of page.ProjectDescriptions!) {
        const arn = parseProjectArn(p.ProjectArn!);
        // Only what is plainly this account's and region's: never act (or write a manifest) on a guess.
        if (!arn || arn.region !== g.region || arn.account !== g.account)
          throw new Error(`DescribeProjects in ${g.region} answered a project that is not this account's and region's: ${JSON.stringify(p.ProjectArn)}`);
        listed.push({ arn: p.ProjectArn!, name: arn.project, status: p.Status ?? "UNKNOWN", feature: p.Feature ?? "CUSTOM_LABELS" });
      }
    }
  } catch (err) {
    log.error({ region: g.region, account: g.account, err: (err as Error).message }, "DescribeProjects failed");
    return { error: { source: g.source, region: g.region, account: g.account, error: `DescribeProjects failed: ${(err as Error).message}` } };
  }
  const bound = new Bound(READS_IN_FLIGHT);
  // Repeated strings (account, status, feature) kept once for this read, dropped with it.
  const intern = new Interner();
  const projects = await Promise.all(
    listed.map((p) =>
      bound.run(async (): Promise<DiscoveredProject> => {
        const lp = await readVersions(client, p.name, p.name, g.region, { arn: p.arn, account: g.account, feature: p.feature }, log, intern);
        return {
          source: g.source,
          account: g.account,
          region: g.region,
          project: p.name,
          projectArn: p.arn,
          projectStatus: p.status,
          feature: p.feature,
          versions: lp.versions,
          ...(lp.status !== "ok" ? { error: lp.error ?? "not read" } : {}),
        };
      }),
    ),
  );
  return { projects };
}
