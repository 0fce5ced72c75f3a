// The deletion guards: small named pure functions. Each looks at one candidate (a live version that no
// manifest lists) and says why it must not be deleted, or nothing. Every guard runs on every candidate,
// so a blocked version shows all the rules that fired, not only the first.
import { formatDuration } from "../duration.js";
import { parseRfc3339 } from "../rfc3339.js";
import {
  VERSION_STATUSES,
  type CompiledRule,
  type NotificationChannel,
  type DesiredSet,
  type LiveProject,
  type LiveVersion,
  type Policy,
  type PolicyField,
  type Reason,
  type TagRule,
} from "../types.js";
import { ruleContext } from "./cel.js";
import { firstLine } from "../text.js";

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
  /**
   * Set when a project that could hold a copy of this version was not read (a read failure in the same
   * region, in any account: copies cross accounts within a region): the copy-source guard cannot be
   * evaluated, so it blocks. Carries why.
   */
  copySourcesIncomplete?: string;
  /** Whether any listed name of the set exists live (not DELETING): computed once per project, not per candidate. */
  listedExists?: boolean;
}

export type Guard = (c: Candidate) => Reason | undefined;

/**
 * Statuses in which a version must not be deleted. AWS documents running and training as not deletable;
 * starting/stopping/copying are transitions of the same kind, and DELETING is already on its way out.
 */
export const IN_USE_STATUSES: ReadonlySet<string> = new Set(["RUNNING", "STARTING", "STOPPING", "TRAINING_IN_PROGRESS", "COPYING_IN_PROGRESS", "DELETING"]);

const KNOWN_STATUSES: ReadonlySet<string> = new Set(VERSION_STATUSES);

/** A status AWS adds later is not one we have reasoned about: keep the version until we have. */
export const unknownStatus: Guard = ({ version }) =>
  KNOWN_STATUSES.has(version.status)
    ? undefined
    : { rule: "unknownStatus", message: `status ${version.status} is not one rekon knows; not deleting what it cannot reason about` };

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
              ? "status RUNNING: stop the model first, or set stopRunning: true in the policy to let rekon stop it (it bills per inference-unit hour while " +
                "running)"
              : `status ${version.status}: wait until it settles`,
      }
    : undefined;

/** Whether AWS lets a copy's source be deleted mid-copy is unverified (docs/aws-behaviour.md), so keep it. */
export const copySource: Guard = ({ version, copySources }) =>
  copySources.has(version.arn) ? { rule: "copySource", message: "source of a copy still in progress (COPYING_IN_PROGRESS)" } : undefined;

/**
 * A copy in progress can sit in any project of the account and region. When one of them could not be
 * read, "no copy of this version is in progress" is unknown, and an unknown protection counts as present.
 */
export const copySourceUnknown: Guard = ({ version, copySources, copySourcesIncomplete }) =>
  copySourcesIncomplete && !copySources.has(version.arn)
    ? { rule: "copySourceUnknown", message: `whether a copy of it is in progress is unknown: ${copySourcesIncomplete}` }
    : undefined;

export const minAge: Guard = ({ version, policy, now }) => {
  const age = now - version.createdAt;
  return age < policy.minAgeMs
    ? { rule: "minAge", message: `age ${formatDuration(Math.max(age, 0))} is under minAge ${policy.minAge}`, ...layer(policy, "minAge") }
    : undefined;
};

export const keepLatest: Guard = ({ version, latest, policy }) =>
  latest.has(version.arn)
    ? { rule: "keepLatest", message: `among the newest ${policy.keepLatest} version(s) of the project`, ...layer(policy, "keepLatest") }
    : undefined;

/**
 * `versions: []` is far more often a mistake (a bad merge, a templating bug) than a wish to empty a
 * project, and so is a list none of whose names exists (typos, wrong case): either would prune everything.
 */
export const allowEmpty: Guard = ({ set, project, policy, listedExists }) => {
  if (policy.allowEmpty) return undefined;
  if (set.versions.length === 0) {
    return {
      rule: "allowEmpty",
      message: `ProjectVersionSet "${set.name}" lists no versions; set allowEmpty: true in the policy to prune a whole project`,
      ...layer(policy, "allowEmpty"),
    };
  }
  if (!(listedExists ?? someListedExists(set, project))) {
    const n = set.versions.length;
    return {
      rule: "allowEmpty",
      message:
        `none of the ${n} listed version${n === 1 ? "" : "s"} of ProjectVersionSet "${set.name}" exists — a typo is not a request to delete ` +
        `everything; fix the names (they are case-sensitive), or set allowEmpty: true to prune the whole project`,
      ...layer(policy, "allowEmpty"),
    };
  }
  return undefined;
};

/**
 * Only versions in the named accounts may go. An empty allowlist does not block the plan (so plan is
 * useful before the policy is finished); apply refuses it as a whole instead, see cli.
 */
export const accountNotAllowed: Guard = ({ version, policy }) =>
  policy.enforceAccounts && !policy.allowedAccounts.includes(version.account)
    ? {
        rule: "accountNotAllowed",
        message: `account ${version.account} is not in allowedAccounts [${policy.allowedAccounts.join(", ")}]`,
        ...layer(policy, "allowedAccounts"),
      }
    : undefined;

export const regionNotAllowed: Guard = ({ version, policy }) =>
  policy.enforceRegions && !policy.allowedRegions.includes(version.region)
    ? {
        rule: "regionNotAllowed",
        message: `region ${version.region} is not in allowedRegions [${policy.allowedRegions.join(", ")}]`,
        ...layer(policy, "allowedRegions"),
      }
    : undefined;

/** Whether any listed name exists live. A listed version already DELETING is leaving: it does not show that the list is meant. */
export function someListedExists(set: DesiredSet, project: LiveProject): boolean {
  const live = new Set(project.versions.filter((v) => v.status !== "DELETING").map((v) => v.name));
  return set.versions.some((v) => live.has(v.name));
}

/** Guards that need nothing beyond DescribeProjectVersions. Order matters only for how reasons are listed. */
export const STATIC_GUARDS: readonly Guard[] = [
  unknownStatus,
  inUse,
  copySource,
  copySourceUnknown,
  minAge,
  keepLatest,
  allowEmpty,
  accountNotAllowed,
  regionNotAllowed,
];

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

/** A mark this far in the future means a clock or a hand was wrong; it is not trusted. */
const MARK_FUTURE_SLACK_MS = 5 * 60_000;

/**
 * The time a grace-period mark says, or undefined when it is not a mark rekon could have written.
 * `Date.parse` is lenient ("12", "2025" and "1" parse as past dates), and a lenient parse is how a
 * hand-edited or foreign value could skip the notice period; so only strict RFC 3339 UTC counts, the
 * calendar date must exist, and a time in the future is refused. Anything else counts as no mark.
 */
export function parseMark(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseRfc3339(value, { utcOnly: true });
  if (ms === undefined || ms > now + MARK_FUTURE_SLACK_MS) return undefined;
  return ms;
}

/** The value rekon writes for a mark made at `at`: RFC 3339 UTC, whole seconds. */
export function formatMark(at: number): string {
  // Stryker disable next-line Regex: equivalent, toISOString always ends in .sssZ, so the pattern matches at the end anchored or not
  return new Date(Math.floor(at / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The tag a person sets to approve one deletion (requireApproval): an RFC 3339 UTC time after its mark. */
export const APPROVAL_TAG = "rekon.dev/deletion-approved";

/**
 * requireNotice: when the `marked` notice of a version reached a channel (HTTP 2xx), written by rekon through
 * the gate. It counts only when later than (or as late as) the version's mark: a notice of an earlier mark
 * is not a notice of this one.
 */
export const NOTICE_TAG = "rekon.dev/notice-delivered-at";

/** remindBefore: when the reminder for the version's current mark reached a channel, so it is sent once per mark. */
export const REMINDER_TAG = "rekon.dev/reminder-sent-at";

/** The tags that belong to one mark: removing the mark removes them all (a new mark needs a new notice). */
export const MARK_TAGS: readonly string[] = [MARK_TAG, NOTICE_TAG, REMINDER_TAG];

/**
 * The value rekon writes for a notice or reminder delivered at `at`: RFC 3339 UTC, whole seconds, rounded
 * *up* — the tag must never say a notice arrived earlier than it did (deletion waits gracePeriod from it).
 */
export function formatNotice(at: number): string {
  return formatMark(Math.ceil(at / 1000) * 1000);
}

/** A notice time (NOTICE_TAG or REMINDER_TAG) that counts for the mark made at `since`: strict RFC 3339 UTC, not before the mark. */
export function noticeTime(value: string | undefined, since: number | undefined, now: number): number | undefined {
  if (since === undefined) return undefined;
  const t = parseMark(value, now);
  return t !== undefined && t >= since ? t : undefined;
}

/** requireNotice needs a channel that gets `marked`, or no notice could ever be delivered. */
export function noticeChannelMissing(channels: readonly NotificationChannel[]): boolean {
  return !channels.some((c) => c.events.includes("marked"));
}

/**
 * Whether candidates carry a pending-delete mark under this policy: a grace period, approval (given after
 * the mark), or requireNotice (the notice is of the mark).
 */
export function needsMark(policy: Policy): boolean {
  return policy.gracePeriodMs > 0 || policy.requireApproval || policy.requireNotice;
}

/** Whether any guard needs the version's tags under this policy. */
export function needsTags(policy: Policy): boolean {
  return policy.protectTags.length > 0 || policy.rules.length > 0 || needsMark(policy);
}

/**
 * Whether a listed name that does not exist was probably meant to be `live`: the same but for case or
 * surrounding spaces, or one edit away (one character inserted, removed or changed). Names are
 * case-sensitive in AWS, so this never matches them; it only keeps the near miss from being deleted.
 */
export function nearMiss(listed: string, live: string): boolean {
  if (listed === live) return false;
  if (listed.toLowerCase() === live.toLowerCase() || listed.trim() === live.trim()) return true;
  return withinOneEdit(listed, live);
}

function withinOneEdit(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) return a.slice(i + 1) === b.slice(i + 1);
  return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

export function tagMatches(tags: Record<string, string>, rule: TagRule): boolean {
  return Object.hasOwn(tags, rule.key) && (rule.value === "*" || tags[rule.key] === rule.value);
}

/** Tags that were not read, or failed to read, block: a protection that cannot be checked is treated as present. */
export function tagsUnreadable(c: Candidate): Reason | undefined {
  const { version } = c;
  if (version.tags !== undefined) return undefined;
  return { rule: "tagsUnreadable", message: `tags could not be read${version.tagsError ? `: ${version.tagsError}` : ""}; protections cannot be checked` };
}

/** One protectTags entry, for a version whose tags were read. */
export function protectedTag(c: Candidate, t: TagRule): Reason | undefined {
  const tags = c.version.tags;
  if (tags === undefined || !tagMatches(tags, t)) return undefined;
  return { rule: "protectedTag", message: `tagged ${t.key}=${tags[t.key]} (protectTags ${t.key}: ${JSON.stringify(t.value)})`, layer: t.origin };
}

/** One custom rule, for a version whose tags were read. Anything but `false` blocks: an error or a non-bool never lets a deletion through. */
export function customRule(c: Candidate, r: CompiledRule): Reason | undefined {
  const { version, project, now } = c;
  if (version.tags === undefined) return undefined;
  let denied: unknown;
  try {
    denied = r.evaluate(ruleContext(version, { name: project.project, arn: project.projectArn ?? "", ...(project.tags ? { tags: project.tags } : {}) }, now));
  } catch (e) {
    return { rule: r.name, message: `rule could not be evaluated (${firstLine((e as Error).message)}); blocked to be safe`, layer: r.origin };
  }
  if (denied === false) return undefined;
  return { rule: r.name, message: denied === true ? r.message : `rule returned ${String(denied)}, not a bool; blocked to be safe`, layer: r.origin };
}

/**
 * Tag guards, for a candidate every static guard passed. Tags that were not read, or failed to read,
 * block: a protection that cannot be checked is treated as present.
 */
export function evaluateTagGuards(c: Candidate): Reason[] {
  const { policy } = c;
  if (!needsTags(policy)) return [];
  const unread = tagsUnreadable(c);
  if (unread) return [unread];
  const reasons: Reason[] = [];
  for (const t of policy.protectTags) {
    const r = protectedTag(c, t);
    if (r) reasons.push(r);
  }
  for (const rule of policy.rules) {
    const r = customRule(c, rule);
    if (r) reasons.push(r);
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

/** The newest `n` versions of a project by creation time (ARN breaks ties, so the answer is stable). */
export function newest(versions: readonly LiveVersion[], n: number): Set<string> {
  if (n <= 0) return new Set();
  // A DELETING version is already leaving; letting it hold a "latest" slot would expose an older one.
  const ranked = versions.filter((v) => v.status !== "DELETING").sort((a, b) => b.createdAt - a.createdAt || (a.arn < b.arn ? -1 : a.arn > b.arn ? 1 : 0));
  return new Set(ranked.slice(0, n).map((v) => v.arn));
}
