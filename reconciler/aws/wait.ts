// apply --wait: poll until accepted deletions have vanished from DescribeProjectVersions, as AWS's own
// sample does (VersionNames, ten per call), through the client's rate limiter.
import type { Logger } from "pino";
import { firstLine } from "../text.js";
import { projectKey, targetKey, targetOf, type PlanProject, type Target, type WriteResult } from "../types.js";
import { NAMES_PER_LOOK, pollVersions, type ReadClient } from "./look.js";
import { sleep } from "./retry.js";

/** Defaults: poll interval (after 1 s, 2 s, 4 s) and bound, as AWS's own sample does (5 s). */
export const WAIT_DEFAULTS = { waitPollMs: 5_000, waitTimeoutMs: 10 * 60_000 } as const;

export interface WaitDeps {
  clientFor(target: Target): ReadClient;
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
  /** What the last poll saw of each version still present: its status, or why it could not be read. */
  lastSeen: Record<string, string>;
  tookMs: number;
  polls: number;
}

/**
 * Poll until accepted deletions have vanished from DescribeProjectVersions, as AWS's own sample does
 * (VersionNames, 10 per call). Every poll goes through the client's rate limiter; (account, region)
 * groups are polled side by side.
 */
export async function waitForDeletionsReport(results: WriteResult[], deps: WaitDeps): Promise<WaitReport> {
  const started = performance.now();
  const interval = deps.intervalMs ?? WAIT_DEFAULTS.waitPollMs;
  const deadline = started + (deps.timeoutMs ?? WAIT_DEFAULTS.waitTimeoutMs);
  const arns = new Map<string, string>();
  for (const p of deps.projects ?? []) if (p.projectArn) arns.set(projectKey(p), p.projectArn);
  const arnOf = (r: WriteResult) => arns.get(projectKey(r));

  // Deletions only: a grace-period mark is "accepted" too, but its version is meant to stay.
  let pending = results.filter((r) => r.result === "accepted" && r.operation === "delete");
  // Without the project's ARN nothing can be checked: say so rather than report it gone.
  const unknown = pending.filter((r) => !arnOf(r));
  pending = pending.filter((r) => arnOf(r));
  let polls = 0;
  const seen = new Map<string, string>(unknown.map((r) => [r.versionArn, "not checked: the project's ARN is not known"]));
  for (let round = 0; pending.length > 0 && !deps.signal?.aborted; round++) {
    const byGroup = new Map<string, Map<string, WriteResult[]>>();
    for (const r of pending) {
      const g = byGroup.get(targetKey(r)) ?? new Map<string, WriteResult[]>();
      g.set(projectKey(r), [...(g.get(projectKey(r)) ?? []), r]);
      byGroup.set(targetKey(r), g);
    }
    const still: WriteResult[] = [];
    await Promise.all(
      [...byGroup.values()].map(async (byProject) => {
        for (const rs of byProject.values()) {
          for (let i = 0; i < rs.length; i += NAMES_PER_LOOK) {
            const batch = rs.slice(i, i + NAMES_PER_LOOK);
            const b0 = batch[0]!;
            try {
              polls++;
              const status = await pollVersions(
                deps.clientFor(targetOf(b0)),
                { project: b0.project, region: b0.region, projectArn: arnOf(b0)! },
                batch.map((r) => ({ name: r.versionName, arn: r.versionArn })),
                deps.signal,
              );
              for (const r of batch) {
                const st = status.get(r.versionArn)!;
                seen.set(r.versionArn, st);
                if (st !== "gone") still.push(r);
              }
            } catch (err) {
              // A failed poll proves nothing: keep waiting for those versions.
              deps.log.warn({ project: b0.project, region: b0.region, err: (err as Error).message }, "polling for deletions failed");
              for (const r of batch) seen.set(r.versionArn, `unreadable: ${firstLine((err as Error).message)}`);
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
  const stillPresent = [...unknown, ...pending].map((r) => r.versionArn);
  return {
    stillPresent,
    lastSeen: Object.fromEntries(stillPresent.map((arn) => [arn, seen.get(arn) ?? "not polled"])),
    tookMs: Math.round(performance.now() - started),
    polls,
  };
}

/** Returns the ARNs still present when `timeoutMs` ran out (see waitForDeletionsReport). */
export async function waitForDeletions(results: WriteResult[], deps: WaitDeps): Promise<string[]> {
  return (await waitForDeletionsReport(results, deps)).stillPresent;
}

/** 1 s, 2 s, 4 s, then every `max`: quick when AWS is quick, and a handful of calls when it is slow. */
export function pollDelay(round: number, max: number): number {
  return Math.min(max, 1_000 * 2 ** round);
}
