// Act: carry out a plan's deletions. Only `delete` actions of a plan with no refusals are touched; each
// deletion gets a result entry, failures included, and one failure never stops the rest (Flux DeleteAll).
import { DeleteProjectVersionCommand, DescribeProjectVersionsCommand, type RekognitionClient } from "@aws-sdk/client-rekognition";
import type { Logger } from "pino";
import { AwsCallError, RefusalError } from "./errors.js";
import type { Plan, PlanAction, Target } from "./types.js";

export type DeleteOutcome = "accepted" | "alreadyDeleted" | "failed" | "skipped";

export interface DeleteResult {
  project: string;
  region: string;
  roleArn?: string;
  versionName: string;
  versionArn: string;
  result: DeleteOutcome;
  /** The status AWS answered (DELETING) for accepted deletions. */
  status?: string;
  code?: string;
  error?: string;
  requestId?: string;
  /** What was written; absent means "delete". Grace-period marks report "mark"/"unmark". */
  operation?: "delete" | "stop" | "mark" | "unmark";
}

export interface ActDeps {
  clientFor(target: Target): RekognitionClient;
  log: Logger;
  /** Aborted (SIGINT/SIGTERM): no new deletion starts; the rest are reported `skipped`. */
  signal?: AbortSignal;
}

export async function applyPlan(plan: Plan, deps: ActDeps): Promise<DeleteResult[]> {
  // The CLI checks this too; a second check here means no caller can delete from a refused plan.
  if (plan.refusals.length > 0) throw new RefusalError(plan.refusals.map((r) => r.message).join("; "), plan.refusals[0]!.rule);
  const okProjects = new Set(plan.projects.filter((p) => p.status === "ok").map((p) => `${p.region}/${p.project}`));
  const deletions = plan.actions.filter((a): a is PlanAction & { versionArn: string } => a.action === "delete" && a.versionArn !== null && okProjects.has(`${a.region}/${a.project}`));

  const results: DeleteResult[] = [];
  for (const a of deletions) {
    const base = { project: a.project, region: a.region, ...(a.roleArn ? { roleArn: a.roleArn } : {}), versionName: a.versionName, versionArn: a.versionArn };
    const log = deps.log.child({ versionArn: a.versionArn });
    if (deps.signal?.aborted) {
      results.push({ ...base, result: "skipped", error: "interrupted before this deletion started" });
      continue;
    }
    try {
      const res = await deps.clientFor(targetOf(a)).send(new DeleteProjectVersionCommand({ ProjectVersionArn: a.versionArn }));
      results.push({ ...base, result: "accepted", status: res.Status, requestId: res.$metadata.requestId });
      log.info({ status: res.Status, requestId: res.$metadata.requestId }, "deletion accepted");
    } catch (err) {
      if (err instanceof AwsCallError && err.code === "ResourceNotFoundException") {
        // Deleting is idempotent: gone is what we wanted.
        results.push({ ...base, result: "alreadyDeleted", code: err.code, requestId: err.requestId });
        log.info("already deleted");
      } else {
        const e = err as AwsCallError;
        results.push({ ...base, result: "failed", code: e.code ?? (err as Error).name, error: (err as Error).message, requestId: e.requestId });
        log.error({ code: e.code, err: (err as Error).message }, "deletion failed");
      }
    }
  }
  return results;
}

export function targetOf(x: { region: string; roleArn?: string }): Target {
  return { region: x.region, ...(x.roleArn ? { roleArn: x.roleArn } : {}) };
}

/** True when every planned deletion was accepted by AWS (or was already gone). */
export function allAccepted(results: DeleteResult[]): boolean {
  return results.every((r) => r.result === "accepted" || r.result === "alreadyDeleted");
}

/**
 * Poll until accepted deletions have vanished from DescribeProjectVersions, as AWS's own sample does.
 * Returns the ARNs still present when `timeoutMs` ran out.
 */
export async function waitForDeletions(results: DeleteResult[], deps: ActDeps & { projectArns: Map<string, string>; intervalMs?: number; timeoutMs?: number }): Promise<string[]> {
  const interval = deps.intervalMs ?? 5_000;
  const deadline = Date.now() + (deps.timeoutMs ?? 10 * 60_000);
  let pending = results.filter((r) => r.result === "accepted");
  while (pending.length > 0 && !deps.signal?.aborted) {
    const still: DeleteResult[] = [];
    const byProject = new Map<string, DeleteResult[]>();
    for (const r of pending) byProject.set(`${r.region}/${r.project}`, [...(byProject.get(`${r.region}/${r.project}`) ?? []), r]);
    for (const [k, rs] of byProject) {
      const projectArn = deps.projectArns.get(k);
      if (!projectArn) continue;
      for (let i = 0; i < rs.length; i += 10) {
        const batch = rs.slice(i, i + 10);
        const res = await deps.clientFor(targetOf(batch[0]!)).send(new DescribeProjectVersionsCommand({ ProjectArn: projectArn, VersionNames: batch.map((r) => r.versionName) }));
        const present = new Set((res.ProjectVersionDescriptions ?? []).map((d) => d.ProjectVersionArn));
        still.push(...batch.filter((r) => present.has(r.versionArn)));
      }
    }
    pending = still;
    if (pending.length === 0 || Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, Math.min(interval, Math.max(0, deadline - Date.now()))));
  }
  return pending.map((r) => r.versionArn);
}
