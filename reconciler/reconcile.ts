// One reconcile pass, wired from the four steps: read manifests and policy → read live → plan → (act).
// Shared by `plan`, `apply`, the demo and (later) the controller loop, so all compute the same plan.
import type { Logger } from "pino";
import { applyPlan, type ActDeps, type DeleteResult } from "./apply.js";
import { createClient, defaultRegion, type ClientOptions, type RetryingRekognitionClient } from "./aws/client.js";
import { readLive } from "./aws/inventory.js";
import { RateLimiters } from "./aws/limiter.js";
import { withVersionTags, writeMarks } from "./aws/tags.js";
import type { RetryOptions } from "./aws/retry.js";
import { RefusalError, ValidationError } from "./errors.js";
import { needsProjectTags, plan, versionsNeedingTags } from "./plan.js";
import { MARK_TAG } from "./policy/guards.js";
import { validateInputs } from "./inputs.js";
import type { DesiredState, LiveState, Plan, Policy, PolicySet, Target } from "./types.js";

export interface ReconcileOptions {
  manifests: string[];
  policy?: string;
  log: Logger;
  /** Endpoint/credential overrides (demo, tests); users rely on the SDK's standard chain. */
  client?: Omit<ClientOptions, "region" | "retry" | "limiters">;
  retry?: RetryOptions;
  now?: () => Date;
  /**
   * Rate limiters to use, given the policy's rateLimits; the caller owns them (the controller keeps them
   * across cycles, so learned rates and request metrics survive). Default: fresh ones for this pass.
   */
  limitersFor?: (rateLimits: Record<string, number>) => RateLimiters;
}

export interface PlannedPass {
  plan: Plan;
  desired: DesiredState;
  /** The operator's policy (the floor). */
  policy: Policy;
  /** The operator's policy with the manifest layers. */
  policies: PolicySet;
  /** What was read from AWS (with tags where read): the facts the plan's decisions used. */
  live: LiveState;
  clientFor(target: Target): RetryingRekognitionClient;
  /** The pass's rate limiters, one per (account, region, operation); observe() them for progress and metrics. */
  limiters: RateLimiters;
  close(): void;
}

/** Read and validate manifests and policies; throws ValidationError with every issue found. */
export async function loadInputs(opts: Pick<ReconcileOptions, "manifests" | "policy">): Promise<{ desired: DesiredState; policies: PolicySet }> {
  const r = validateInputs(opts, { defaultRegion: await defaultRegion(), requireRegion: true });
  if (!r.desired || !r.policies) throw new ValidationError(r.issues);
  return { desired: r.desired, policies: r.policies };
}

export async function planPass(opts: ReconcileOptions): Promise<PlannedPass> {
  const { desired, policies } = await loadInputs(opts);
  const now = (opts.now ?? (() => new Date()))();
  const clients = new Map<string, RetryingRekognitionClient>();
  // Rates the operator states are ceilings; others start from documented defaults and adapt (aws/limiter.ts).
  const owned = !opts.limitersFor;
  const limiters = opts.limitersFor ? opts.limitersFor(policies.operator.rateLimits) : new RateLimiters(policies.operator.rateLimits);
  // One client per (role, region): separate credentials, and separate rate budgets.
  const clientFor = (t: Target) => {
    const k = `${t.roleArn ?? ""}|${t.region}`;
    let c = clients.get(k);
    if (!c) clients.set(k, (c = createClient({ region: t.region, roleArn: t.roleArn, retry: opts.retry, limiters, ...opts.client })));
    return c;
  };
  const inventory = await readLive(desired, { clientFor, log: opts.log, projectTagsFor: needsProjectTags(desired, policies) });
  // Tags only for the versions a guard needs them for: one plan without tags says which (pure), then
  // the real plan sees them.
  const needTags = versionsNeedingTags(desired, inventory, policies, now);
  const targets = new Map(desired.sets.flatMap((s) => inventory.projects.filter((p) => p.set === s.name).flatMap((p) => p.versions.map((v) => [v.arn, { region: s.region, ...(s.roleArn ? { roleArn: s.roleArn } : {}) }] as const))));
  const live = needTags.length ? await withVersionTags(inventory, needTags, targets, { clientFor, log: opts.log }) : inventory;
  const p = plan(desired, live, policies, now);
  const close = () => {
    if (owned) limiters.close();
    clients.forEach((c) => c.destroy());
  };
  return { plan: p, desired, policy: policies.operator, policies, live, clientFor, limiters, close };
}

/** Checks that hold for every apply, before anything is deleted. Throws RefusalError. */
export function checkApplicable(pass: PlannedPass): void {
  const { plan: p, policy } = pass;
  if (p.refusals.length > 0) throw new RefusalError(p.refusals.map((r) => r.message).join("; "), p.refusals[0]!.rule);
  const writes = p.summary.delete + p.actions.filter((a) => a.mark === "add").length;
  if (writes > 0 && !policy.enforceAccounts) {
    throw new RefusalError(
      `apply needs spec.allowedAccounts in the DeletionPolicy (${policy.source}): name the 12-digit AWS account IDs whose versions rekon may delete, e.g. allowedAccounts: ["123456789012"], and pass the file with --policy`,
      "accountNotAllowed",
    );
  }
}

/**
 * Carry out the plan: its deletions, then its grace-period marks. Returns one result per write (marks
 * carry `operation: "mark" | "unmark"`).
 */
export async function applyPass(pass: PlannedPass, log: Logger, signal?: AbortSignal, act: Pick<ActDeps, "concurrency" | "onResult" | "stopPollMs" | "stopTimeoutMs"> = {}): Promise<DeleteResult[]> {
  checkApplicable(pass);
  const deletions = await applyPlan(pass.plan, { ...act, clientFor: pass.clientFor, log, signal });
  // The mark's value is the plan's own time, so what the plan showed ("deletable after …") is what is written.
  const markValue = pass.plan.generatedAt.replace(/\.\d{3}Z$/, "Z");
  const marks = await writeMarks(pass.plan.actions, markValue, MARK_TAG, { clientFor: pass.clientFor, log, signal });
  return [...deletions, ...marks];
}
