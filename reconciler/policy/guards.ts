// The deletion guards: small named pure functions. Each looks at one candidate (a live version that no
// manifest lists) and says why it must not be deleted, or nothing. Every guard runs on every candidate,
// so a blocked version shows all the rules that fired, not only the first.
import { formatDuration } from "../duration.js";
import { IN_USE_STATUSES, VERSION_STATUSES, type DesiredSet, type LiveProject, type LiveVersion, type Policy, type Reason } from "../types.js";

export interface Candidate {
  version: LiveVersion;
  project: LiveProject;
  set: DesiredSet;
  policy: Policy;
  /** Epoch ms. */
  now: number;
  /** ARNs of the newest `keepLatest` versions of this project. */
  latest: ReadonlySet<string>;
  /** ARNs that are the source of a copy still in progress, across everything read. */
  copySources: ReadonlySet<string>;
}

export type Guard = (c: Candidate) => Reason | undefined;

const KNOWN_STATUSES: ReadonlySet<string> = new Set(VERSION_STATUSES);

/** A status AWS adds later is not one we have reasoned about: keep the version until we have. */
export const unknownStatus: Guard = ({ version }) =>
  KNOWN_STATUSES.has(version.status) ? undefined : { rule: "unknownStatus", message: `status ${version.status} is not one rekon knows; not deleting what it cannot reason about` };

/** A RUNNING Custom Labels version that `stopRunning: true` lets rekon stop before deleting it. */
export function stoppable(version: LiveVersion, policy: Policy): boolean {
  return policy.stopRunning && version.status === "RUNNING" && version.feature === "CUSTOM_LABELS";
}

/** AWS refuses to delete running or training versions; transitions and DELETING are treated the same. */
export const inUse: Guard = ({ version, policy }) =>
  IN_USE_STATUSES.has(version.status) && !stoppable(version, policy)
    ? {
        rule: "inUse",
        message:
          version.status === "DELETING"
            ? "already DELETING; it will disappear on its own"
            : version.status === "RUNNING"
              ? "status RUNNING: stop the model first, or set stopRunning: true in the policy to let rekon stop it (it bills per inference-unit hour while running)"
              : `status ${version.status}: wait until it settles`,
      }
    : undefined;

/** Whether AWS lets a copy's source be deleted mid-copy is unverified (REKOGNITION.md), so keep it. */
export const copySource: Guard = ({ version, copySources }) =>
  copySources.has(version.arn) ? { rule: "copySource", message: "source of a copy still in progress (COPYING_IN_PROGRESS)" } : undefined;

export const minAge: Guard = ({ version, policy, now }) => {
  const age = now - version.createdAt;
  return age < policy.minAgeMs
    ? { rule: "minAge", message: `age ${formatDuration(Math.max(age, 0))} is under minAge ${policy.minAge}` }
    : undefined;
};

export const keepLatest: Guard = ({ version, latest, policy }) =>
  latest.has(version.arn) ? { rule: "keepLatest", message: `among the newest ${policy.keepLatest} version(s) of the project` } : undefined;

/** `versions: []` is far more often a mistake (a bad merge, a templating bug) than a wish to empty a project. */
export const allowEmpty: Guard = ({ set, policy }) =>
  set.versions.length === 0 && !policy.allowEmpty
    ? { rule: "allowEmpty", message: `ProjectVersionSet "${set.name}" lists no versions; set allowEmpty: true in the policy to prune a whole project` }
    : undefined;

/**
 * Only versions in the named accounts may go. An empty allowlist does not block the plan (so plan is
 * useful before the policy is finished); apply refuses it as a whole instead, see cli.
 */
export const accountNotAllowed: Guard = ({ version, policy }) =>
  policy.allowedAccounts.length > 0 && !policy.allowedAccounts.includes(version.account)
    ? { rule: "accountNotAllowed", message: `account ${version.account} is not in allowedAccounts` }
    : undefined;

/** Order matters only for how reasons are listed. */
export const GUARDS: readonly Guard[] = [unknownStatus, inUse, copySource, minAge, keepLatest, allowEmpty, accountNotAllowed];

export function evaluateGuards(c: Candidate): Reason[] {
  const reasons: Reason[] = [];
  for (const g of GUARDS) {
    const r = g(c);
    if (r) reasons.push(r);
  }
  return reasons;
}

/** The newest `n` versions of a project by creation time (ARN breaks ties, so the answer is stable). */
export function newest(versions: readonly LiveVersion[], n: number): Set<string> {
  if (n <= 0) return new Set();
  // A DELETING version is already leaving; letting it hold a "latest" slot would expose an older one.
  const ranked = versions
    .filter((v) => v.status !== "DELETING")
    .sort((a, b) => b.createdAt - a.createdAt || (a.arn < b.arn ? -1 : a.arn > b.arn ? 1 : 0));
  return new Set(ranked.slice(0, n).map((v) => v.arn));
}
