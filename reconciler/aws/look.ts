// The reads right before and after a write: the last look (the facts the gate approves a write on), the
// read that confirms a "not found" answer, and the polls of `apply --wait`. AWS has no conditional delete,
// so these reads are rekon's preconditions; they live here, with every other AWS read.
import { DescribeProjectsCommand, DescribeProjectVersionsCommand, ListTagsForResourceCommand, type RekognitionClient } from "@aws-sdk/client-rekognition";
import { parseProjectArn } from "./arn.js";
import type { LiveVersion, LookSpec } from "../types.js";
import { firstLine } from "../text.js";
import { toLiveVersion } from "./inventory.js";

/** DescribeProjectVersions takes at most 10 VersionNames per call. */
export const NAMES_PER_LOOK = 10;
/** The largest page DescribeProjectVersions answers (MaxResults 1..100). */
const PAGE = 100;

/** The facts one look gathered. */
export interface LookFacts {
  /** Epoch ms the answers arrived (the caller's clock). */
  at: number;
  /** Versions found, by name (with tags where the look read them). */
  byName: Map<string, LiveVersion>;
  /** Every version at least as new as the plan's newest (and any version read on those pages): where a version created since the plan shows. */
  newest: LiveVersion[];
  /** The tags of the batch were needed but not read (withTags false): the caller reads them before deleting. */
  tagsNeeded: boolean;
}

/** What the reads here need of a client: its send (rate-limited and retried: aws/client.ts). */
export type ReadClient = Pick<RekognitionClient, "send">;
type Send = ReadClient;

const failure = (message: string, code: string) => Object.assign(new Error(message), { code });

function live(spec: Pick<LookSpec, "project" | "region">, d: Parameters<typeof toLiveVersion>[0]): LiveVersion {
  const v = toLiveVersion(d, spec.project, spec.region);
  if (typeof v === "string") throw failure(v, "UnrecognisedAnswer");
  return v;
}

/**
 * The project's newest versions, read so that a version created since the plan — a copy of a candidate
 * started in its own project, a retraining — cannot be missed.
 *
 * What this relies on: DescribeProjectVersions lists a project's versions newest first (by
 * CreationTimestamp), and a version created after the plan's read has a CreationTimestamp later than
 * every version that read saw. So the pages, read from the first, hold every new version before the first
 * version older than the plan's newest; usually that is the first page, one call.
 *
 * If the ordering assumption is wrong, this stays safe: a page whose times are not newest first (or a
 * listing that never reaches back past the plan's newest) makes the look read the whole listing, every
 * page, which holds every version whatever the order. A read that fails throws (the batch is not written).
 */
export async function readNewest(client: Send, spec: LookSpec, signal?: AbortSignal): Promise<{ versions: LiveVersion[]; complete: boolean }> {
  const out: LiveVersion[] = [];
  let token: string | undefined;
  let ordered = true;
  for (;;) {
    const res = await client.send(
      new DescribeProjectVersionsCommand({ ProjectArn: spec.projectArn, MaxResults: PAGE, ...(token ? { NextToken: token } : {}) }),
      signal ? { abortSignal: signal } : {},
    );
    for (const d of res.ProjectVersionDescriptions!) {
      const v = live(spec, d);
      const prev = out.at(-1);
      if (prev && v.createdAt > prev.createdAt) ordered = false;
      out.push(v);
    }
    token = res.NextToken;
    if (!token) return { versions: out, complete: true };
    // Reached back past the plan's newest, in order: every version newer than that is on the pages read.
    const last = out.at(-1);
    if (ordered && spec.planNewest !== undefined && last !== undefined && last.createdAt < spec.planNewest) return { versions: out, complete: false };
  }
}

/**
 * The last look for a batch of writes in one project: its newest versions (readNewest), the named versions
 * (from the pages already read where they appear, else by name, ten per call), and, when the policy reads
 * tags and `withTags`, the batch's tags. Throws when any read fails: a write is never approved on part of a look.
 */
export async function readLook(client: Send, spec: LookSpec, opts: { signal?: AbortSignal; now: () => number; withTags: boolean }): Promise<LookFacts> {
  const { signal } = opts;
  const newest = await readNewest(client, spec, signal);
  const byName = new Map<string, LiveVersion>();
  const onPages = new Map(newest.versions.map((v) => [v.name, v]));
  // A name not on the pages read is absent only if the pages were the whole listing.
  const rest: string[] = [];
  for (const n of spec.names) {
    const v = onPages.get(n);
    if (v) byName.set(n, { ...v });
    else if (!newest.complete) rest.push(n);
  }
  for (let i = 0; i < rest.length; i += NAMES_PER_LOOK) {
    const res = await client.send(
      new DescribeProjectVersionsCommand({ ProjectArn: spec.projectArn, VersionNames: rest.slice(i, i + NAMES_PER_LOOK) }),
      signal ? { abortSignal: signal } : {},
    );
    for (const d of res.ProjectVersionDescriptions!) {
      const v = live(spec, d);
      byName.set(v.name, v);
    }
  }
  if (opts.withTags && spec.tags) {
    await Promise.all(
      [...byName.values()]
        .filter((v) => spec.tagArns.has(v.arn))
        .map(async (v) => {
          try {
            const res = await client.send(new ListTagsForResourceCommand({ ResourceArn: v.arn }), signal ? { abortSignal: signal } : {});
            v.tags = res.Tags!;
          } catch (err) {
            v.tagsError = firstLine((err as Error).message);
          }
        }),
    );
  }
  return { at: opts.now(), byName, newest: newest.versions, tagsNeeded: spec.tags && !opts.withTags };
}

/** What a read says of a version AWS answered "not found" for. */
export type NotFoundCheck = { gone: true } | { gone: false; status: string };

/**
 * After ResourceNotFoundException to a delete: is the version really gone? Only a read can say; the answer
 * alone could be about another resource, another account, or a service error. DELETING counts as gone
 * (its deletion is under way). Throws when the read fails.
 */
export async function confirmGone(
  client: Send,
  spec: Pick<LookSpec, "project" | "region" | "projectArn">,
  name: string,
  arn: string,
  signal?: AbortSignal,
): Promise<NotFoundCheck> {
  const res = await client.send(
    new DescribeProjectVersionsCommand({ ProjectArn: spec.projectArn, VersionNames: [name] }),
    signal ? { abortSignal: signal } : {},
  );
  const v = res.ProjectVersionDescriptions!.map((d) => live(spec, d)).find((x) => x.arn === arn);
  if (!v || v.status === "DELETING") return { gone: true };
  return { gone: false, status: v.status };
}

/**
 * One poll of `apply --wait` for up to ten versions of one project: each version's status now, "gone" when
 * the listing no longer has it. Throws when the read fails.
 */
export async function pollVersions(
  client: Send,
  spec: Pick<LookSpec, "project" | "region" | "projectArn">,
  versions: readonly { name: string; arn: string }[],
  signal?: AbortSignal,
): Promise<Map<string, string>> {
  const res = await client.send(
    new DescribeProjectVersionsCommand({ ProjectArn: spec.projectArn, VersionNames: versions.map((v) => v.name) }),
    signal ? { abortSignal: signal } : {},
  );
  const found = new Map(res.ProjectVersionDescriptions!.map((d) => live(spec, d)).map((v) => [v.arn, v.status]));
  return new Map(versions.map((v) => [v.arn, found.get(v.arn) ?? "gone"]));
}

/**
 * One project by name in the client's region (DescribeProjects): its ARN, account and feature, or undefined
 * when it does not exist there. The archive project and `rekon restore`'s projects are found this way: a
 * project rekon does not manage is never guessed at. Throws when the read fails.
 */
export async function readProjectNamed(
  client: Send,
  name: string,
  region: string,
  signal?: AbortSignal,
): Promise<{ arn: string; account: string; feature?: string } | undefined> {
  let token: string | undefined;
  do {
    const res = await client.send(
      new DescribeProjectsCommand({ ProjectNames: [name], Features: ["CUSTOM_LABELS", "CONTENT_MODERATION"], ...(token ? { NextToken: token } : {}) }),
      signal ? { abortSignal: signal } : {},
    );
    for (const p of res.ProjectDescriptions!) {
      const arn = parseProjectArn(p.ProjectArn!);
      if (arn && arn.project === name && arn.region === region)
        return { arn: p.ProjectArn!, account: arn.account, ...(p.Feature ? { feature: p.Feature } : {}) };
    }
    token = res.NextToken;
  } while (token);
  return undefined;
}

/**
 * Versions of one project by name (ten per call), each with its tags: how an archive step finds a copy an
 * earlier run made (its name is derived from the source; its tag or AWS's SourceProjectVersionArn says whose
 * copy it is). Throws when a read fails; a version whose tags cannot be read carries tagsError.
 */
export async function readVersionsNamed(
  client: Send,
  spec: Pick<LookSpec, "project" | "region" | "projectArn">,
  names: readonly string[],
  signal?: AbortSignal,
): Promise<LiveVersion[]> {
  const out: LiveVersion[] = [];
  const unique = [...new Set(names)];
  for (let i = 0; i < unique.length; i += NAMES_PER_LOOK) {
    const res = await client.send(
      new DescribeProjectVersionsCommand({ ProjectArn: spec.projectArn, VersionNames: unique.slice(i, i + NAMES_PER_LOOK) }),
      signal ? { abortSignal: signal } : {},
    );
    for (const d of res.ProjectVersionDescriptions!) out.push(live(spec, d));
  }
  await Promise.all(
    out.map(async (v) => {
      try {
        const res = await client.send(new ListTagsForResourceCommand({ ResourceArn: v.arn }), signal ? { abortSignal: signal } : {});
        v.tags = res.Tags!;
      } catch (err) {
        v.tagsError = firstLine((err as Error).message);
      }
    }),
  );
  return out;
}
