// One reconcile pass, wired from the four steps: read manifests and policy → read live → plan → (act).
// Shared by `plan`, `apply`, the demo and (later) the controller loop, so all compute the same plan.
import type { Logger } from "pino";
import { applyPlan, type DeleteResult } from "./apply.js";
import { createClient, defaultRegion, type ClientOptions, type RetryingRekognitionClient } from "./aws/client.js";
import { readLive } from "./aws/inventory.js";
import type { RetryOptions } from "./aws/retry.js";
import { RefusalError, ValidationError } from "./errors.js";
import { loadManifests, sortIssues } from "./manifests/load.js";
import { plan } from "./plan.js";
import { loadPolicy } from "./policy/load.js";
import type { DesiredState, Plan, Policy, Target } from "./types.js";

export interface ReconcileOptions {
  manifests: string[];
  policy?: string;
  log: Logger;
  /** Endpoint/credential overrides (demo, tests); users rely on the SDK's standard chain. */
  client?: Omit<ClientOptions, "region" | "retry">;
  retry?: RetryOptions;
  now?: () => Date;
}

export interface PlannedPass {
  plan: Plan;
  desired: DesiredState;
  policy: Policy;
  clientFor(target: Target): RetryingRekognitionClient;
  close(): void;
}

/** Read and validate manifests and policy; throws ValidationError with every issue found. */
export async function loadInputs(opts: Pick<ReconcileOptions, "manifests" | "policy">): Promise<{ desired: DesiredState; policy: Policy }> {
  const pol = loadPolicy(opts.policy);
  const region = await defaultRegion();
  const man = loadManifests(opts.manifests, { defaultRegion: region, requireRegion: true });
  const issues = [...pol.issues, ...man.issues];
  if (issues.length > 0 || !pol.policy || !man.desired) throw new ValidationError(sortIssues(issues));
  return { desired: man.desired, policy: pol.policy };
}

export async function planPass(opts: ReconcileOptions): Promise<PlannedPass> {
  const { desired, policy } = await loadInputs(opts);
  const clients = new Map<string, RetryingRekognitionClient>();
  // One client per (role, region): separate credentials, and (with the limiter) separate rate budgets.
  const clientFor = (t: Target) => {
    const k = `${t.roleArn ?? ""}|${t.region}`;
    let c = clients.get(k);
    if (!c) clients.set(k, (c = createClient({ region: t.region, roleArn: t.roleArn, retry: opts.retry, ...opts.client })));
    return c;
  };
  const live = await readLive(desired, { clientFor, log: opts.log });
  const p = plan(desired, live, policy, (opts.now ?? (() => new Date()))());
  return { plan: p, desired, policy, clientFor, close: () => clients.forEach((c) => c.destroy()) };
}

/** Checks that hold for every apply, before anything is deleted. Throws RefusalError. */
export function checkApplicable(pass: PlannedPass): void {
  const { plan: p, policy } = pass;
  if (p.refusals.length > 0) throw new RefusalError(p.refusals.map((r) => r.message).join("; "), p.refusals[0]!.rule);
  if (p.summary.delete > 0 && policy.allowedAccounts.length === 0) {
    throw new RefusalError(
      `apply needs spec.allowedAccounts in the DeletionPolicy (${policy.source}): name the 12-digit AWS account IDs whose versions rekon may delete, e.g. allowedAccounts: ["123456789012"], and pass the file with --policy`,
      "accountNotAllowed",
    );
  }
}

export async function applyPass(pass: PlannedPass, log: Logger, signal?: AbortSignal): Promise<DeleteResult[]> {
  checkApplicable(pass);
  return applyPlan(pass.plan, { clientFor: pass.clientFor, log, signal });
}
