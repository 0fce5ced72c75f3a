// Tag reads. Tags are read only where a guard needs them (see Gate.versionsNeedingTags), because
// ListTagsForResource is rate-limited like every other call. (Writing tags is act's: writes.ts.)
import { ListTagsForResourceCommand, type RekognitionClient } from "@aws-sdk/client-rekognition";
import pLimit from "p-limit";
import type { Logger } from "pino";
import type { LiveState, LiveVersion, Target } from "../types.js";

/** Concurrent tag reads per run; the client's retry (and rate limiting) absorbs throttles. */
const TAG_READ_CONCURRENCY = 4;

export interface TagDeps {
  clientFor(target: Target): RekognitionClient;
  log: Logger;
}

/** One version's tags, or why they could not be read. */
export async function readVersionTags(v: LiveVersion, target: Target, deps: TagDeps): Promise<{ tags?: Record<string, string>; tagsError?: string }> {
  try {
    const res = await deps.clientFor(target).send(new ListTagsForResourceCommand({ ResourceArn: v.arn }));
    return { tags: res.Tags ?? {} };
  } catch (err) {
    deps.log.warn({ versionArn: v.arn, err: (err as Error).message }, "ListTagsForResource failed; the version is blocked");
    return { tagsError: (err as Error).message };
  }
}

/** A copy of `live` with tags filled in for `versions`; a failed read sets tagsError (the planner then blocks). */
export async function withVersionTags(live: LiveState, versions: LiveVersion[], targets: Map<string, Target>, deps: TagDeps): Promise<LiveState> {
  const limit = pLimit(TAG_READ_CONCURRENCY);
  const read = new Map<string, { tags?: Record<string, string>; tagsError?: string }>();
  await Promise.all(
    versions.map((v) =>
      limit(async () => {
        read.set(v.arn, await readVersionTags(v, targets.get(v.arn) ?? { region: v.region }, deps));
      }),
    ),
  );
  return {
    ...live,
    projects: live.projects.map((p) => ({ ...p, versions: p.versions.map((v) => (read.has(v.arn) ? { ...v, ...read.get(v.arn) } : v)) })),
  };
}
