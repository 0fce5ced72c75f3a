// Act: carry out a plan's deletions. Only `delete` actions of a plan with no refusals are touched; each
// deletion gets a result entry, failures included, and one failure never stops the rest (Flux DeleteAll),
// with one exception: when a call in a project gives up on throttling, the network or access (the
// account or its quota is in trouble, not the version), nothing more is started in that project.
//
// Each (account, region) proceeds on its own with bounded concurrency; the client's rate limiter, not
// the concurrency, sets the pace, so several accounts and regions run side by side at their own quotas.
import { DeleteProjectVersionCommand, DescribeProjectVersionsCommand, StopProjectVersionCommand, type RekognitionClient } from "@aws-sdk/client-rekognition";
import pLimit from "p-limit";
import type { Logger } from "pino";
import { isThrottle } from "./aws/client.js";
import { classify } from "./aws/retry.js";
import { AwsCallError, RefusalError } from "./errors.js";
import type { Plan, PlanAction, PlanProject, Target } from "./types.js";

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
  /** Stop-then-delete: how long the version took from StopProjectVersion to STOPPED. */
  stoppedAfterMs?: number;
}

/** Defaults for apply, in one place (STYLE rule 9). */
export const APPLY_DEFAULTS = {
  /** Deletions in flight at once per (account, region). The rate limiter sets the pace; this bounds sockets and stop waits. */
  concurrency: 8,
  /** Stop-then-delete: poll DescribeProjectVersions this often while a version is STOPPING (after 1 s, 2 s, 4 s). */
  stopPollMs: 5_000,
  /** Stop-then-delete: give up (result `failed`, nothing deleted) when a version is not STOPPED after this. */
  stopTimeoutMs: 10 * 60_000,
  /** apply --wait: poll interval (after 1 s, 2 s, 4 s) and bound, as AWS's own sample does (5 s). */
  waitPollMs: 5_000,
  waitTimeoutMs: 10 * 60_000,
} as const;

export interface ActDeps {
  clientFor(target: Target): RekognitionClient;
  log: Logger;
  /** Aborted (SIGINT/SIGTERM): no new deletion starts; the rest are reported `skipped`. */
  signal?: AbortSignal;
  /** Deletions in flight at once per (account, region). Default APPLY_DEFAULTS.concurrency. */
  concurrency?: number;
  stopPollMs?: number;
  stopTimeoutMs?: number;
  /** Told about each result as it is decided (progress bars, logs). */
  onResult?: (r: DeleteResult) => void;
}

/** The key that tells projects apart across accounts and regions (the same name can live in several). */
export function projectKey(x: { roleArn?: string; region: string; project: string }): string {
  return `${x.roleArn ?? ""}|${x.region}|${x.project}`;
}

function groupKey(x: { roleArn?: string; region: string }): string {
  return `${x.roleArn ?? ""}|${x.region}`;
}

/**
 * Failures that are about the account rather than this one version: its quota (throttling that outlasted
 * every retry), the network to it, or the identity used. A server error can be specific to one version,
 * so it does not stop the others.
 */
function givesUpOnProject(code: string | undefined): boolean {
  if (!code) return false;
  return isThrottle({ name: code }) || classify({ code }) === "retryable" || code.startsWith("AccessDenied") || code === "UnrecognizedClientException" || code === "ExpiredTokenException";
}

export async function applyPlan(plan: Plan, deps: ActDeps): Promise<DeleteResult[]> {
  // The CLI checks this too; a second check here means no caller can delete from a refused plan.
  if (plan.refusals.length > 0) throw new RefusalError(plan.refusals.map((r) => r.message).join("; "), plan.refusals[0]!.rule);
  const projects = new Map(plan.projects.filter((p) => p.status === "ok").map((p) => [projectKey(p), p]));
  const deletions = plan.actions.filter((a): a is PlanAction & { versionArn: string } => a.action === "delete" && a.versionArn !== null && projects.has(projectKey(a)));

  const results: DeleteResult[] = new Array(deletions.length);
  const tripped = new Map<string, { reason: string; ctl: AbortController }>();
  const breaker = (k: string) => {
    let b = tripped.get(k);
    if (!b) tripped.set(k, (b = { reason: "", ctl: new AbortController() }));
    return b;
  };
  const limits = new Map<string, ReturnType<typeof pLimit>>();
  const concurrency = Math.max(1, deps.concurrency ?? APPLY_DEFAULTS.concurrency);

  const done = (i: number, r: DeleteResult) => {
    results[i] = r;
    deps.onResult?.(r);
  };

  await Promise.all(
    deletions.map((a, i) => {
      const g = groupKey(a);
      let limit = limits.get(g);
      if (!limit) limits.set(g, (limit = pLimit(concurrency)));
      return limit(async () => {
        const base = { project: a.project, region: a.region, ...(a.roleArn ? { roleArn: a.roleArn } : {}), versionName: a.versionName, versionArn: a.versionArn };
        const pk = projectKey(a);
        const b = breaker(pk);
        if (deps.signal?.aborted) return done(i, { ...base, result: "skipped", error: "interrupted before this deletion started" });
        if (b.reason) return done(i, { ...base, result: "skipped", error: `not started: ${b.reason}; it is retried on the next run` });
        const signal = deps.signal ? AbortSignal.any([deps.signal, b.ctl.signal]) : b.ctl.signal;
        const log = deps.log.child({ versionArn: a.versionArn });
        const r = await deleteOne(a, base, projects.get(pk)!, deps.clientFor(targetOf(a)), signal, log, deps);
        if (r.result === "failed" && r.code === "Aborted" && b.reason && !deps.signal?.aborted) {
          r.error = `stopped: ${b.reason}; whether AWS received this request is unknown, the next plan re-reads it`;
        } else if (r.result === "failed" && !b.reason && givesUpOnProject(r.code)) {
          b.reason = `an earlier call in project ${a.project} (${a.region}) gave up (${r.code})`;
          log.error({ code: r.code }, "giving up on the rest of this project in this run");
          b.ctl.abort(new Error(b.reason));
        }
        done(i, r);
      });
    }),
  );
  return results;
}

type Base = Pick<DeleteResult, "project" | "region" | "roleArn" | "versionName" | "versionArn">;

async function deleteOne(a: PlanAction & { versionArn: string }, base: Base, project: PlanProject, client: RekognitionClient, signal: AbortSignal, log: Logger, deps: ActDeps): Promise<DeleteResult> {
  let stoppedAfterMs: number | undefined;
  if (a.stopFirst) {
    const stop = await stopAndWait(a, project, client, signal, log, deps);
    if ("result" in stop) return { ...base, ...stop };
    stoppedAfterMs = stop.stoppedAfterMs;
  }
  try {
    const res = await client.send(new DeleteProjectVersionCommand({ ProjectVersionArn: a.versionArn }), { abortSignal: signal });
    log.info({ status: res.Status, requestId: res.$metadata.requestId }, "deletion accepted");
    return { ...base, result: "accepted", status: res.Status, requestId: res.$metadata.requestId, ...(stoppedAfterMs !== undefined ? { stoppedAfterMs } : {}) };
  } catch (err) {
    if (err instanceof AwsCallError && err.code === "ResourceNotFoundException") {
      // Deleting is idempotent: gone is what we wanted.
      log.info("already deleted");
      return { ...base, result: "alreadyDeleted", code: err.code, ...(err.requestId ? { requestId: err.requestId } : {}) };
    }
    const e = err as AwsCallError;
    log.error({ code: e.code, err: (err as Error).message }, "deletion failed");
    return { ...base, result: "failed", code: e.code ?? (err as Error).name, error: (err as Error).message, ...(e.requestId ? { requestId: e.requestId } : {}) };
  }
}

/**
 * StopProjectVersion, then poll until STOPPED. Only STOPPED lets the deletion go ahead: a version that is
 * restarted, fails, or is still STOPPING at the bound is a `failed` result, never a deletion of a model
 * that might be serving.
 */
async function stopAndWait(a: PlanAction & { versionArn: string }, project: PlanProject, client: RekognitionClient, signal: AbortSignal, log: Logger, deps: ActDeps): Promise<{ stoppedAfterMs: number } | Omit<DeleteResult, keyof Base>> {
  const started = performance.now();
  const timeout = deps.stopTimeoutMs ?? APPLY_DEFAULTS.stopTimeoutMs;
  const poll = deps.stopPollMs ?? APPLY_DEFAULTS.stopPollMs;
  try {
    const res = await client.send(new StopProjectVersionCommand({ ProjectVersionArn: a.versionArn }), { abortSignal: signal });
    log.info({ status: res.Status }, "stop requested");
  } catch (err) {
    const e = err as AwsCallError;
    if (e.code === "ResourceNotFoundException") return { result: "alreadyDeleted", code: e.code, operation: "stop" };
    // Already stopping or stopped (someone else got there first): the poll below tells which.
    if (e.code !== "ResourceInUseException" && e.code !== "InvalidParameterException") {
      log.error({ code: e.code, err: e.message }, "stop failed");
      return { result: "failed", code: e.code ?? e.name, error: e.message, operation: "stop" };
    }
  }
  if (!project.projectArn) return { result: "failed", code: "StopNotConfirmed", error: "project ARN unknown; cannot confirm the stop, not deleting", operation: "stop" };
  let status = "RUNNING";
  for (let round = 0; ; round++) {
    try {
      const res = await client.send(new DescribeProjectVersionsCommand({ ProjectArn: project.projectArn, VersionNames: [a.versionName] }), { abortSignal: signal });
      const d = (res.ProjectVersionDescriptions ?? []).find((x) => x.ProjectVersionArn === a.versionArn);
      if (!d) return { result: "alreadyDeleted", code: "ResourceNotFoundException", operation: "stop" };
      status = d.Status ?? "UNKNOWN";
    } catch (err) {
      const e = err as AwsCallError;
      return { result: "failed", code: e.code ?? e.name, error: `waiting for STOPPED: ${e.message}; not deleted`, operation: "stop" };
    }
    const elapsed = performance.now() - started;
    if (status === "STOPPED") {
      log.info({ stoppedAfterMs: Math.round(elapsed) }, "stopped");
      return { stoppedAfterMs: Math.round(elapsed) };
    }
    if (status !== "STOPPING" && status !== "RUNNING") {
      return { result: "failed", code: "StopNotConfirmed", status, error: `status ${status} after StopProjectVersion, not STOPPED; not deleted`, operation: "stop" };
    }
    if (elapsed >= timeout) {
      return { result: "failed", code: "StopTimeout", status, error: `still ${status} ${Math.round(elapsed / 1000)}s after StopProjectVersion (bound ${Math.round(timeout / 1000)}s); not deleted`, operation: "stop" };
    }
    if (signal.aborted) return { result: "failed", code: "Aborted", status, error: `interrupted while waiting for STOPPED (status ${status}); not deleted`, operation: "stop" };
    await sleep(Math.min(pollDelay(round, poll), Math.max(0, timeout - elapsed)), signal).catch(() => undefined);
  }
}

export function targetOf(x: { region: string; roleArn?: string }): Target {
  return { region: x.region, ...(x.roleArn ? { roleArn: x.roleArn } : {}) };
}

/** True when every planned deletion was accepted by AWS (or was already gone). */
export function allAccepted(results: DeleteResult[]): boolean {
  return results.every((r) => r.result === "accepted" || r.result === "alreadyDeleted");
}

export interface WaitDeps {
  clientFor(target: Target): RekognitionClient;
  log: Logger;
  signal?: AbortSignal;
  /** The plan's projects, for their ARNs (keyed by role, region and project). */
  projects?: PlanProject[];
  intervalMs?: number;
  timeoutMs?: number;
  /** Told how many deletions are still pending after each round of polls. */
  onPoll?: (pending: number) => void;
}

export interface WaitReport {
  /** ARNs still present when the bound ran out, or that could not be checked. */
  stillPresent: string[];
  tookMs: number;
  polls: number;
}

/**
 * Poll until accepted deletions have vanished from DescribeProjectVersions, as AWS's own sample does
 * (VersionNames, 10 per call). Every poll goes through the client's rate limiter; (account, region)
 * groups are polled side by side.
 */
export async function waitForDeletionsReport(results: DeleteResult[], deps: WaitDeps): Promise<WaitReport> {
  const started = performance.now();
  const interval = deps.intervalMs ?? APPLY_DEFAULTS.waitPollMs;
  const deadline = started + (deps.timeoutMs ?? APPLY_DEFAULTS.waitTimeoutMs);
  const arns = new Map<string, string>();
  for (const p of deps.projects ?? []) if (p.projectArn) arns.set(projectKey(p), p.projectArn);
  const arnOf = (r: DeleteResult) => arns.get(projectKey(r));

  // Deletions only: a grace-period mark is "accepted" too, but its version is meant to stay.
  let pending = results.filter((r) => r.result === "accepted" && (r.operation ?? "delete") === "delete");
  // Without the project's ARN nothing can be checked: say so rather than report it gone.
  const unknown = pending.filter((r) => !arnOf(r));
  pending = pending.filter((r) => arnOf(r));
  let polls = 0;
  for (let round = 0; pending.length > 0 && !deps.signal?.aborted; round++) {
    const byGroup = new Map<string, Map<string, DeleteResult[]>>();
    for (const r of pending) {
      const g = byGroup.get(groupKey(r)) ?? new Map<string, DeleteResult[]>();
      g.set(projectKey(r), [...(g.get(projectKey(r)) ?? []), r]);
      byGroup.set(groupKey(r), g);
    }
    const still: DeleteResult[] = [];
    await Promise.all(
      [...byGroup.values()].map(async (byProject) => {
        for (const rs of byProject.values()) {
          for (let i = 0; i < rs.length; i += 10) {
            const batch = rs.slice(i, i + 10);
            try {
              polls++;
              const res = await deps.clientFor(targetOf(batch[0]!)).send(new DescribeProjectVersionsCommand({ ProjectArn: arnOf(batch[0]!)!, VersionNames: batch.map((r) => r.versionName) }), { abortSignal: deps.signal });
              const present = new Set((res.ProjectVersionDescriptions ?? []).map((d) => d.ProjectVersionArn));
              still.push(...batch.filter((r) => present.has(r.versionArn)));
            } catch (err) {
              // A failed poll proves nothing: keep waiting for those versions.
              deps.log.warn({ project: batch[0]!.project, region: batch[0]!.region, err: (err as Error).message }, "polling for deletions failed");
              still.push(...batch);
            }
          }
        }
      }),
    );
    pending = still;
    deps.onPoll?.(pending.length);
    if (pending.length === 0 || performance.now() >= deadline) break;
    await sleep(Math.min(pollDelay(round, interval), Math.max(0, deadline - performance.now())), deps.signal).catch(() => undefined);
  }
  return { stillPresent: [...unknown, ...pending].map((r) => r.versionArn), tookMs: Math.round(performance.now() - started), polls };
}

/** Returns the ARNs still present when `timeoutMs` ran out (see waitForDeletionsReport). */
export async function waitForDeletions(results: DeleteResult[], deps: WaitDeps): Promise<string[]> {
  return (await waitForDeletionsReport(results, deps)).stillPresent;
}

/** 1 s, 2 s, 4 s, then every `max`: quick when AWS is quick, and a handful of calls when it is slow. */
function pollDelay(round: number, max: number): number {
  return Math.min(max, 1_000 * 2 ** round);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
