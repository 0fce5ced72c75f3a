// Read live state: only the projects the manifests name, each read completely or marked as failed.
// A partial read is a failed read: deleting "everything not listed" from half a list would be wrong.
import {
  ListTagsForResourceCommand,
  paginateDescribeProjects,
  paginateDescribeProjectVersions,
  type ProjectVersionDescription,
} from "@aws-sdk/client-rekognition";
import type { Logger } from "pino";
import {
  sourceOf,
  targetKey,
  type DesiredSet,
  type DesiredState,
  type IdentityFact,
  type LiveProject,
  type LiveState,
  type LiveVersion,
  type Target,
} from "../types.js";
import { parseProjectArn, parseVersionArn } from "./arn.js";
import { Bound, READS_IN_FLIGHT } from "./concurrency.js";
import type { RekognitionClient } from "@aws-sdk/client-rekognition";

/** DescribeProjects accepts at most 10 ProjectNames per call. */
const PROJECT_NAMES_PER_CALL = 10;
/** Without Features, DescribeProjects returns only CUSTOM_LABELS projects and adapters would look "not found". */
const ALL_FEATURES = ["CUSTOM_LABELS", "CONTENT_MODERATION"] as const;

export interface ReadDeps {
  /** One client per (region, role): each account and region has its own credentials and limits. */
  clientFor(target: Target): RekognitionClient;
  log: Logger;
  /** Sets (by name) whose project tags a policy needs (requireProjectTag); read once per project. */
  projectTagsFor?: ReadonlySet<string>;
  /** Reads in flight per (credential source, region). Default: READS_IN_FLIGHT (aws/concurrency.ts). */
  concurrency?: number;
}

/** A DescribeProjects batch's answer: the projects found, or why the whole batch could not be read. */
type Lookup = { found: Map<string, { arn: string; account: string; feature?: string }> } | { error: string };

/** Waiting project reads start before waiting lookups (see Bound): finish what was started first. */
const READ_PROJECT = 0;
const LOOKUP = 1;

/**
 * Read the projects of every set whose credentials resolved to an account (`identities`); a set whose
 * identity is unknown is not read at all (the gate reports it, and nothing in it is written).
 *
 * Reads run concurrently: every (credential source, region) group side by side, and within a group up to
 * `concurrency` calls in flight, paced by the client's rate limiter. Each project's pages are still read
 * one after another (each needs the previous page's token). The result does not depend on the order the
 * answers arrive in: projects are listed group by group in the order their sets first name the group,
 * and within a group in the sets' order.
 */
export async function readLive(desired: DesiredState, identities: IdentityFact[], deps: ReadDeps): Promise<LiveState> {
  const resolved = new Set(identities.filter((i) => i.account).map((i) => i.source));
  // Group by identity and region: DescribeProjects batches only make sense within one account and region.
  const groups = new Map<string, { target: Target; sets: DesiredSet[] }>();
  for (const s of desired.sets) {
    if (!resolved.has(sourceOf(s))) continue;
    const target: Target = { region: s.region, ...(s.roleArn ? { roleArn: s.roleArn } : {}) };
    const k = targetKey(target);
    const g = groups.get(k) ?? { target, sets: [] };
    g.sets.push(s);
    groups.set(k, g);
  }
  // Every client before any call: a target whose client cannot be made fails the read before anything is sent.
  const work = [...groups.values()].map((g) => ({ ...g, client: deps.clientFor(g.target) }));
  const intern = new Interner();
  const read = await Promise.all(work.map((g) => readGroup(g.client, g.target.region, g.sets, deps, intern)));
  return { projects: read.flat(), identities };
}

/** One (credential source, region): its own bound on calls in flight, as it has its own quota. */
async function readGroup(client: RekognitionClient, region: string, sets: DesiredSet[], deps: ReadDeps, intern: Interner): Promise<LiveProject[]> {
  const bound = new Bound(deps.concurrency ?? READS_IN_FLIGHT);
  const names = [...new Set(sets.map((s) => s.project))];
  const lookups = new Map<string, Promise<Lookup>>();
  for (let i = 0; i < names.length; i += PROJECT_NAMES_PER_CALL) {
    const batch = names.slice(i, i + PROJECT_NAMES_PER_CALL);
    const lookup = bound.run(() => describeBatch(client, region, batch, deps.log), LOOKUP);
    for (const n of batch) lookups.set(n, lookup);
  }
  // One result per set, in the sets' order, whichever answer comes first.
  return Promise.all(
    sets.map(async (s): Promise<LiveProject> => {
      const name = s.project;
      const base = { set: s.name, project: name, region };
      const lookup = await lookups.get(name)!;
      if ("error" in lookup) return { ...base, status: "error", error: `DescribeProjects failed: ${lookup.error}`, versions: [] };
      const f = lookup.found.get(name);
      if (!f) return { ...base, status: "notFound", error: `project "${name}" not found in ${region}`, versions: [] };
      return bound.run(() => readProject(client, s, region, f, deps, intern), READ_PROJECT);
    }),
  );
}

/** One DescribeProjects listing for up to 10 names; a failure is the whole batch's (never thrown). */
async function describeBatch(client: RekognitionClient, region: string, batch: string[], log: Logger): Promise<Lookup> {
  const found = new Map<string, { arn: string; account: string; feature?: string }>();
  try {
    for await (const page of paginateDescribeProjects({ client }, { ProjectNames: batch, Features: [...ALL_FEATURES] })) {
      // The list and each ProjectArn are present: the client refuses an answer without (aws/answers.ts).
      for (const p of page.ProjectDescriptions!) {
        const arn = parseProjectArn(p.ProjectArn!);
        // Match on the parsed ARN, and only names we asked for in this region: never act on a guess.
        if (arn && arn.region === region && batch.includes(arn.project)) {
          found.set(arn.project, { arn: p.ProjectArn!, account: arn.account, feature: p.Feature });
        }
      }
    }
  } catch (err) {
    log.error({ region, projects: batch, err: (err as Error).message }, "DescribeProjects failed");
    return { error: (err as Error).message };
  }
  return { found };
}

/** A project's versions, then (when a policy needs them) its tags: complete, or status "error". */
async function readProject(
  client: RekognitionClient,
  s: DesiredSet,
  region: string,
  f: { arn: string; account: string; feature?: string },
  deps: ReadDeps,
  intern: Interner,
): Promise<LiveProject> {
  const name = s.project;
  const lp = await readVersions(client, s.name, name, region, f, deps.log, intern);
  if (lp.status !== "ok" || !deps.projectTagsFor?.has(s.name)) return lp;
  try {
    const res = await client.send(new ListTagsForResourceCommand({ ResourceArn: f.arn }));
    return { ...lp, tags: res.Tags! };
  } catch (err) {
    // Ownership cannot be checked, so the project is treated as unreadable: fail closed.
    deps.log.error({ project: name, region, err: (err as Error).message }, "ListTagsForResource on the project failed");
    return { ...lp, status: "error", error: `project tags could not be read: ${(err as Error).message}`, versions: [] };
  }
}

export async function readVersions(
  client: RekognitionClient,
  set: string,
  project: string,
  region: string,
  p: { arn: string; account: string; feature?: string },
  log: Logger,
  intern: Interner,
): Promise<LiveProject> {
  let versions: LiveVersion[] = [];
  const listAll = async () => {
    const out: LiveVersion[] = [];
    const seen = new Set<string>();
    for await (const page of paginateDescribeProjectVersions({ client, pageSize: 100 }, { ProjectArn: p.arn })) {
      // Present, with each description's ARN, status and creation time: checked by the client (aws/answers.ts).
      for (const d of page.ProjectVersionDescriptions!) {
        const v = toLiveVersion(d, project, region, p.feature, intern);
        if (typeof v === "string") throw new Error(v);
        // A version seen twice means the pages shifted under us (a version came or went mid-read).
        if (seen.has(v.arn)) throw new Error(`version ${v.arn} appeared on two pages; the listing changed while it was read`);
        seen.add(v.arn);
        out.push(v);
      }
    }
    return out;
  };
  try {
    try {
      versions = await listAll();
    } catch (err) {
      // A token that expired in the middle of a long listing (its lifetime is not documented): the pages
      // already read cannot be completed, so start over from the first page — once. A second failure
      // fails the project's read closed, like any other.
      if ((err as { code?: string; name?: string }).code !== "InvalidPaginationTokenException") throw err;
      log.warn({ project, region }, "pagination token expired mid-listing; reading the project again from the first page");
      versions = await listAll();
    }
  } catch (err) {
    log.error({ project, region, err: (err as Error).message }, "DescribeProjectVersions failed");
    return {
      set,
      project,
      region,
      status: "error",
      projectArn: p.arn,
      account: p.account,
      feature: p.feature,
      error: `DescribeProjectVersions failed: ${(err as Error).message}`,
      versions: [],
    };
  }
  return { set, project, region, status: "ok", projectArn: p.arn, account: p.account, feature: p.feature, versions };
}

/**
 * One copy of each repeated string of a read (the account, status, feature and status message of every
 * version, and its name, which projects often share): without it each version holds its own copies, as
 * the SDK parsed them. Made per read and dropped with it: a table kept across cycles would only grow.
 */
export class Interner {
  private readonly seen = new Map<string, string>();

  of(s: string): string {
    const had = this.seen.get(s);
    if (had !== undefined) return had;
    this.seen.set(s, s);
    return s;
  }
}

/** For a single read (the last look's): each string as it came. */
const NO_INTERNING: Pick<Interner, "of"> = { of: (s) => s };

/**
 * A description rekon cannot fully understand fails the whole project's read (returned as a message).
 * Only the fields rekon uses are kept, and repeated strings once (`intern`); nothing refers to the SDK's
 * description after this, so the rest of it goes with its page.
 */
export function toLiveVersion(
  d: ProjectVersionDescription,
  project: string,
  region: string,
  projectFeature?: string,
  intern: Pick<Interner, "of"> = NO_INTERNING,
): LiveVersion | string {
  const arn = d.ProjectVersionArn ? parseVersionArn(d.ProjectVersionArn) : undefined;
  if (!arn) return `unrecognised version ARN ${JSON.stringify(d.ProjectVersionArn)}`;
  if (arn.project !== project || arn.region !== region) return `version ${d.ProjectVersionArn} does not belong to project ${project} in ${region}`;
  if (!d.Status) return `version ${d.ProjectVersionArn} has no Status`;
  if (!(d.CreationTimestamp instanceof Date) || Number.isNaN(d.CreationTimestamp.getTime())) return `version ${d.ProjectVersionArn} has no CreationTimestamp`;
  const arnText = d.ProjectVersionArn!;
  const name = intern.of(arn.version);
  const account = intern.of(arn.account);
  const status = intern.of(d.Status);
  const createdAt = d.CreationTimestamp.getTime();
  const feature = intern.of(d.Feature ?? projectFeature ?? "CUSTOM_LABELS");
  // Two literal shapes (with and without a status message, which most answers carry), keys in the order
  // they always had; the rarer fields are added after.
  const v: LiveVersion = d.StatusMessage
    ? { arn: arnText, name, project, region, account, status, statusMessage: intern.of(d.StatusMessage), createdAt, feature }
    : { arn: arnText, name, project, region, account, status, createdAt, feature };
  if (d.SourceProjectVersionArn) v.sourceVersionArn = d.SourceProjectVersionArn;
  if (d.MinInferenceUnits !== undefined) v.minInferenceUnits = d.MinInferenceUnits;
  if (d.MaxInferenceUnits !== undefined) v.maxInferenceUnits = d.MaxInferenceUnits;
  return v;
}
