// Tag reads. Tags are read only where a guard needs them (see Gate.versionsNeedingTags), because
// ListTagsForResource is rate-limited like every other call. (Writing tags is act's: writes.ts.)
import { ListTagsForResourceCommand, type RekognitionClient } from "@aws-sdk/client-rekognition";
import type { Logger } from "pino";
import { targetKey, type LiveState, type LiveVersion, type Target } from "../types.js";
import { boundPerKey, READS_IN_FLIGHT } from "./concurrency.js";

export interface TagDeps {
  clientFor(target: Target): RekognitionClient;
  log: Logger;
  /** Reads in flight per (credential source, region). Default: READS_IN_FLIGHT (aws/concurrency.ts). */
  concurrency?: number;
}

/** One version's tags, or why they could not be read. */
export async function readVersionTags(v: LiveVersion, target: Target, deps: TagDeps): Promise<{ tags?: Record<string, string>; tagsError?: string }> {
  try {
    const res = await deps.clientFor(target).send(new ListTagsForResourceCommand({ ResourceArn: v.arn }));
    // Present and a map of strings: the client refuses an answer without (aws/answers.ts), which lands below.
    return { tags: res.Tags! };
  } catch (err) {
    deps.log.warn({ versionArn: v.arn, err: (err as Error).message }, "ListTagsForResource failed; the version is blocked");
    return { tagsError: (err as Error).message };
  }
}

/**
 * A copy of `live` with tags filled in for `versions`; a failed read sets tagsError (the planner then blocks).
 * Reads are bounded per (credential source, region), like the inventory's: each has its own quota, so one
 * account's slow or throttled answers never hold up another's. The client's retry and rate limiter absorb
 * throttles.
 */
export async function withVersionTags(live: LiveState, versions: LiveVersion[], targets: Map<string, Target>, deps: TagDeps): Promise<LiveState> {
  const boundFor = boundPerKey(deps.concurrency ?? READS_IN_FLIGHT);
  const read = new Map<string, { tags?: Record<string, string>; tagsError?: string }>();
  await Promise.all(
    versions.map((v) => {
      const target = targets.get(v.arn) ?? { region: v.region };
      return boundFor(targetKey(target)).run(async () => {
        read.set(v.arn, await readVersionTags(v, target, deps));
      });
    }),
  );
  // The copy keeps live's order (projects, then versions): the answers' order never shows.
  return {
    ...live,
    projects: live.projects.map((p) => ({ ...p, versions: p.versions.map((v) => (read.has(v.arn) ? { ...v, ...read.get(v.arn) } : v)) })),
  };
}
