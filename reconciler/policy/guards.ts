// The deletion guards: small named pure functions. Each looks at one candidate (a live version that no
// manifest lists) and says why it must not be deleted, or nothing. Every guard runs on every candidate,
// so a blocked version shows all the rules that fired, not only the first.
import { formatDuration } from "../duration.js";
import { IN_USE_STATUSES, VERSION_STATUSES, type DesiredSet, type LiveProject, type LiveVersion, type Policy, type PolicyField, type Reason, type TagRule } from "../types.js";
import { ruleContext } from "./cel.js";

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
    ? { rule: "minAge", message: `age ${formatDuration(Math.max(age, 0))} is under minAge ${policy.minAge}`, ...layer(policy, "minAge") }
    : undefined;
};

export const keepLatest: Guard = ({ version, latest, policy }) =>
  latest.has(version.arn) ? { rule: "keepLatest", message: `among the newest ${policy.keepLatest} version(s) of the project`, ...layer(policy, "keepLatest") } : undefined;

/** `versions: []` is far more often a mistake (a bad merge, a templating bug) than a wish to empty a project. */
export const allowEmpty: Guard = ({ set, policy }) =>
  set.versions.length === 0 && !policy.allowEmpty
    ? { rule: "allowEmpty", message: `ProjectVersionSet "${set.name}" lists no versions; set allowEmpty: true in the policy to prune a whole project`, ...layer(policy, "allowEmpty") }
    : undefined;

/**
 * Only versions in the named accounts may go. An empty allowlist does not block the plan (so plan is
 * useful before the policy is finished); apply refuses it as a whole instead, see cli.
 */
export const accountNotAllowed: Guard = ({ version, policy }) =>
  policy.enforceAccounts && !policy.allowedAccounts.includes(version.account)
    ? { rule: "accountNotAllowed", message: `account ${version.account} is not in allowedAccounts [${policy.allowedAccounts.join(", ")}]`, ...layer(policy, "allowedAccounts") }
    : undefined;

export const regionNotAllowed: Guard = ({ version, policy }) =>
  policy.enforceRegions && !policy.allowedRegions.includes(version.region)
    ? { rule: "regionNotAllowed", message: `region ${version.region} is not in allowedRegions [${policy.allowedRegions.join(", ")}]`, ...layer(policy, "allowedRegions") }
    : undefined;

/** Guards that need nothing beyond DescribeProjectVersions. Order matters only for how reasons are listed. */
export const STATIC_GUARDS: readonly Guard[] = [unknownStatus, inUse, copySource, minAge, keepLatest, allowEmpty, accountNotAllowed, regionNotAllowed];

export function evaluateGuards(c: Candidate): Reason[] {
  const reasons: Reason[] = [];
  for (const g of STATIC_GUARDS) {
    const r = g(c);
    if (r) reasons.push(r);
  }
  return reasons;
}

// ---- guards that need tags (read with ListTagsForResource only for versions the static guards pass) ----

/** The tag rekon writes to start the grace period, visible in the console and surviving restarts. */
export const MARK_TAG = "rekon.dev/pending-delete-since";

/** Whether any guard needs the version's tags under this policy. */
export function needsTags(policy: Policy): boolean {
  return policy.protectTags.length > 0 || policy.rules.length > 0 || policy.gracePeriodMs > 0;
}

export function tagMatches(tags: Record<string, string>, rule: TagRule): boolean {
  return Object.hasOwn(tags, rule.key) && (rule.value === "*" || tags[rule.key] === rule.value);
}

/**
 * Tag guards, for a candidate every static guard passed. Tags that were not read, or failed to read,
 * block: a protection that cannot be checked is treated as present.
 */
export function evaluateTagGuards(c: Candidate): Reason[] {
  const { version, policy, project, now } = c;
  if (!needsTags(policy)) return [];
  if (version.tags === undefined) {
    return [{ rule: "tagsUnreadable", message: `tags could not be read${version.tagsError ? `: ${version.tagsError}` : ""}; protections cannot be checked` }];
  }
  const reasons: Reason[] = [];
  for (const t of policy.protectTags) {
    if (tagMatches(version.tags, t)) reasons.push({ rule: "protectedTag", message: `tagged ${t.key}=${version.tags[t.key]} (protectTags ${t.key}: ${JSON.stringify(t.value)})`, layer: t.origin });
  }
  for (const r of policy.rules) {
    let denied: unknown;
    try {
      denied = r.evaluate(ruleContext(version, { name: project.project, arn: project.projectArn ?? "", ...(project.tags ? { tags: project.tags } : {}) }, now));
    } catch (e) {
      // An expression that cannot be evaluated never lets a deletion through.
      reasons.push({ rule: r.name, message: `rule could not be evaluated (${firstLine((e as Error).message)}); blocked to be safe`, layer: r.origin });
      continue;
    }
    if (denied !== false) reasons.push({ rule: r.name, message: denied === true ? r.message : `rule returned ${String(denied)}, not a bool; blocked to be safe`, layer: r.origin });
  }
  return reasons;
}

/** The project tags a policy requires and the project lacks (empty = managed). */
export function missingProjectTags(policy: Policy, tags: Record<string, string>): TagRule[] {
  return policy.requireProjectTag.filter((t) => !tagMatches(tags, t));
}

function layer(policy: Policy, field: PolicyField): { layer?: string } {
  const l = policy.origin[field];
  return l ? { layer: l } : {};
}

function firstLine(s: string): string {
  return s.split("\n")[0]!.trim();
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
