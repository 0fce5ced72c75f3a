// Tag reads and the grace-period mark writes. Tags are read only where a guard needs them (see
// plan.versionsNeedingTags), because ListTagsForResource is rate-limited like every other call.
import { ListTagsForResourceCommand, TagResourceCommand, UntagResourceCommand, type RekognitionClient } from "@aws-sdk/client-rekognition";
import pLimit from "p-limit";
import type { Logger } from "pino";
import type { LiveState, LiveVersion, PlanAction, Target } from "../types.js";

/** Concurrent tag reads per run; the client's retry (and rate limiting) absorbs throttles. */
const TAG_READ_CONCURRENCY = 4;

export interface TagDeps {
  clientFor(target: Target): RekognitionClient;
  log: Logger;
}

/** A copy of `live` with tags filled in for `versions`; a failed read sets tagsError (the planner then blocks). */
export async function withVersionTags(live: LiveState, versions: LiveVersion[], targets: Map<string, Target>, deps: TagDeps): Promise<LiveState> {
  const limit = pLimit(TAG_READ_CONCURRENCY);
  const read = new Map<string, { tags?: Record<string, string>; tagsError?: string }>();
  await Promise.all(
    versions.map((v) =>
      limit(async () => {
        const target = targets.get(v.arn) ?? { region: v.region };
        try {
          const res = await deps.clientFor(target).send(new ListTagsForResourceCommand({ ResourceArn: v.arn }));
          read.set(v.arn, { tags: res.Tags ?? {} });
        } catch (err) {
          deps.log.warn({ versionArn: v.arn, err: (err as Error).message }, "ListTagsForResource failed; the version is blocked");
          read.set(v.arn, { tagsError: (err as Error).message });
        }
      }),
    ),
  );
  return {
    projects: live.projects.map((p) => ({ ...p, versions: p.versions.map((v) => (read.has(v.arn) ? { ...v, ...read.get(v.arn) } : v)) })),
  };
}

export type MarkOutcome = "accepted" | "failed";

export interface MarkResult {
  project: string;
  region: string;
  roleArn?: string;
  versionName: string;
  versionArn: string;
  operation: "mark" | "unmark";
  result: MarkOutcome;
  code?: string;
  error?: string;
  requestId?: string;
}

/** Write the plan's grace-period marks: TagResource for `mark: "add"`, UntagResource for `mark: "remove"`. */
export async function writeMarks(actions: PlanAction[], markValue: string, markTag: string, deps: TagDeps & { signal?: AbortSignal }): Promise<MarkResult[]> {
  const results: MarkResult[] = [];
  for (const a of actions) {
    if (!a.mark || !a.versionArn) continue;
    const base = { project: a.project, region: a.region, ...(a.roleArn ? { roleArn: a.roleArn } : {}), versionName: a.versionName, versionArn: a.versionArn, operation: a.mark === "add" ? ("mark" as const) : ("unmark" as const) };
    if (deps.signal?.aborted) break;
    const client = deps.clientFor({ region: a.region, ...(a.roleArn ? { roleArn: a.roleArn } : {}) });
    try {
      const res =
        a.mark === "add"
          ? await client.send(new TagResourceCommand({ ResourceArn: a.versionArn, Tags: { [markTag]: markValue } }))
          : await client.send(new UntagResourceCommand({ ResourceArn: a.versionArn, TagKeys: [markTag] }));
      results.push({ ...base, result: "accepted", requestId: res.$metadata.requestId });
      deps.log.info({ versionArn: a.versionArn, operation: base.operation, requestId: res.$metadata.requestId }, a.mark === "add" ? "marked pending deletion" : "pending-deletion mark removed");
    } catch (err) {
      const e = err as { code?: string; requestId?: string };
      results.push({ ...base, result: "failed", code: e.code ?? (err as Error).name, error: (err as Error).message, ...(e.requestId ? { requestId: e.requestId } : {}) });
      deps.log.error({ versionArn: a.versionArn, operation: base.operation, err: (err as Error).message }, "mark write failed");
    }
  }
  return results;
}
