// The guards as the gate runs them: the invariants (listed anywhere, the identity the write would use),
// the static guards of policy/guards.ts, the near-miss guard, then — only for versions all of those
// pass — the tag guards. Each check carries the words explain shows when it passes, so the verdict and the
// explanation come from the same list.
import { formatDuration } from "../duration.js";
import {
  accountNotAllowed,
  allowEmpty,
  copySource,
  copySourceUnknown,
  customRule,
  inUse,
  keepLatest,
  minAge,
  protectedTag,
  regionNotAllowed,
  stoppable,
  tagsUnreadable,
  unknownStatus,
  type Candidate,
  type Guard,
} from "../policy/guards.js";
import type { CompiledRule, PolicyField, Reason, TagRule } from "../types.js";
import { archiveNames, copyable, notArchivable } from "./archive.js";
import { layerOf, type CheckId, type VersionFacts } from "./facts.js";

/** One guard check: the reasons it fires for a version, and what it compared when it passes. */
export interface GuardCheck {
  rule: CheckId;
  field?: PolicyField;
  /** Whether explain shows it under this policy (default: always). */
  shown?(f: VersionFacts): boolean;
  run(f: VersionFacts, c: Candidate): Reason[];
  pass(f: VersionFacts): string;
}

const one = (g: Guard) => (_f: VersionFacts, c: Candidate) => {
  const r = g(c);
  return r ? [r] : [];
};

/** A version listed by any set that resolves to its project is never deleted nor marked. */
const listed: GuardCheck = {
  rule: "listed",
  run(f) {
    const by = f.index.listedBy(f.v);
    return by ? [{ rule: "listed", message: `listed by ProjectVersionSet "${by.name}" (${by.pos.file}:${by.pos.line}:${by.pos.col})` }] : [];
  },
  pass: () => "not listed by any set that reaches this project",
};

/** The version's ARN names the account the credentials resolved to (STS), and the set's region and project. */
const identity: GuardCheck = {
  rule: "identityMismatch",
  run({ view, v }) {
    const out: Reason[] = [];
    if (!view.account) out.push({ rule: "identityMismatch", message: "the account of the credentials is unknown" });
    else if (v.account !== view.account)
      out.push({ rule: "identityMismatch", message: `its ARN is in account ${v.account}, but the credentials resolved to account ${view.account}` });
    if (v.region !== view.set.region)
      out.push({ rule: "identityMismatch", message: `its ARN is in region ${v.region}, but the set is read in ${view.set.region}` });
    if (v.project !== view.set.project) out.push({ rule: "identityMismatch", message: `its ARN is in project ${v.project}, not ${view.set.project}` });
    return out;
  },
  pass: ({ v }) => `its ARN's account ${v.account} and region ${v.region} are the ones the credentials resolved to`,
};

const nearMissCheck: GuardCheck = {
  rule: "nearMiss",
  field: "nearMissGuard",
  run({ index, policy, v }) {
    const near = policy.nearMissGuard ? index.nearMisses.get(v.arn) : undefined;
    if (!near) return [];
    const names = near.map((n) => JSON.stringify(n)).join(", ");
    return [
      {
        rule: "nearMiss",
        message:
          `listed ${names} ${near.length === 1 ? "is" : "are"} missing; did you mean ${JSON.stringify(v.name)}? Names are case-sensitive: fix the ` +
          `manifest, or remove the listed name`,
        ...layerOf(policy, "nearMissGuard"),
      },
    ];
  },
  pass: ({ policy }) => (policy.nearMissGuard ? "no missing listed name is one edit (or case, or spaces) away" : "nearMissGuard off"),
};

/** The checks that need nothing beyond DescribeProjectVersions, in the order their reasons are listed. */
export const STATIC_CHECKS: readonly GuardCheck[] = [
  listed,
  identity,
  { rule: "unknownStatus", run: one(unknownStatus), pass: ({ v }) => `${v.status} is one of the 14 documented statuses` },
  {
    rule: "inUse",
    run: one(inUse),
    pass: ({ v, policy }) => (stoppable(v, policy) ? "RUNNING, and stopRunning lets rekon stop it first" : `${v.status} is not in use`),
  },
  { rule: "copySource", run: one(copySource), pass: () => "no copy of it is in progress in the projects read" },
  { rule: "copySourceUnknown", run: one(copySourceUnknown), pass: () => "every project of its account and region was read" },
  {
    rule: "minAge",
    field: "minAge",
    run: one(minAge),
    pass: ({ v, now, policy }) => `age ${formatDuration(Math.max(0, now - v.createdAt))} ≥ minAge ${policy.minAge}`,
  },
  {
    rule: "keepLatest",
    field: "keepLatest",
    run: one(keepLatest),
    pass: ({ policy }) => (policy.keepLatest > 0 ? `not among the newest ${policy.keepLatest}` : "keepLatest 0"),
  },
  {
    rule: "allowEmpty",
    field: "allowEmpty",
    run: one(allowEmpty),
    pass: ({ policy, view }) => (policy.allowEmpty ? "allowEmpty: true" : `the set lists ${view.set.versions.length} name(s), at least one of which exists`),
  },
  {
    rule: "accountNotAllowed",
    field: "allowedAccounts",
    shown: ({ policy }) => policy.enforceAccounts,
    run: one(accountNotAllowed),
    pass: ({ v, policy }) => `${v.account} is in allowedAccounts [${policy.allowedAccounts.join(", ")}]`,
  },
  {
    rule: "regionNotAllowed",
    field: "allowedRegions",
    run: one(regionNotAllowed),
    pass: ({ v, policy }) => (policy.enforceRegions ? `${v.region} is in allowedRegions [${policy.allowedRegions.join(", ")}]` : "any region"),
  },
  nearMissCheck,
  {
    rule: "notArchivable",
    field: "archive",
    shown: ({ policy }) => policy.archive !== undefined,
    run: ({ policy, view, v }) => ((r) => (r ? [r] : []))(notArchivable(policy, view.set.project, v)),
    pass: ({ policy, view, v }) =>
      view.set.project === policy.archive?.project
        ? `this is the archive project: its versions are ordinary versions under ProjectVersionSet "${view.set.name}", deleted without a copy`
        : copyable(v)
          ? `archived first: copied to ${policy.archive?.project}/${archiveNames(view.set.project, v.name, v.arn).primary} and deleted only once the copy is ` +
            `COPYING_COMPLETED`
          : "an adapter cannot be copied, and archive.required is false: deleted without a copy (no undo)",
  },
];

/** The tag guards a policy has: its tags must have been read, then each protectTags entry and each custom rule. */
export interface TagChecks {
  unreadable: GuardCheck;
  each: { check: GuardCheck; cannot: string; layer: string }[];
}

const unreadable: GuardCheck = { rule: "tagsUnreadable", run: one(tagsUnreadable), pass: () => "its tags were read" };

function protectCheck(t: TagRule): GuardCheck {
  return {
    rule: "protectedTag",
    run: (_f, c) => ((r) => (r ? [r] : []))(protectedTag(c, t)),
    pass: () => `no ${t.key}${t.value === "*" ? "" : `=${t.value}`} tag`,
  };
}

function ruleCheck(r: CompiledRule): GuardCheck {
  return { rule: r.name, run: (_f, c) => ((x) => (x ? [x] : []))(customRule(c, r)), pass: () => `rule "${r.name}" is false for it` };
}

export function tagChecks(f: VersionFacts): TagChecks {
  return {
    unreadable,
    each: [
      ...f.policy.protectTags.map((t) => ({
        check: protectCheck(t),
        cannot: `${t.key}: cannot be checked without its tags (so the version is kept)`,
        layer: t.origin,
      })),
      ...f.policy.rules.map((r) => ({ check: ruleCheck(r), cannot: "cannot be evaluated without its tags (so the version is kept)", layer: r.origin })),
    ],
  };
}
