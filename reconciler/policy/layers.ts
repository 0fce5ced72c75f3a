// Policy layers. The operator's policy (--policy, outside the manifests repository) is the floor; a
// DeletionPolicy among the manifests may only tighten it for the projects it selects. Removing a line
// from a manifest is exactly what deletes a version, so the pull request that does it must not be able
// to weaken the guard as well: a loosening is a validation error, never silently ignored.
import type { ValidationIssue } from "../errors.js";
import type { ArchivePolicy, Policy, PolicyField, PolicySet, ScopedPolicy } from "../types.js";
import { noticeChannelMissing } from "./guards.js";
import { manifestLayer, operatorLayer } from "./naming.js";

/** Every way `scoped` could loosen `operator`, each naming both files and the field. */
export function checkLayers(set: PolicySet, ownedProjects: ReadonlySet<string>): ValidationIssue[] {
  const { operator } = set;
  const issues: ValidationIssue[] = [];
  const ruleOwners = new Map(operator.rules.map((r) => [r.name, r.origin]));
  const channelOwners = new Map(operator.notifications.map((c) => [c.name, c.origin]));
  const op = operatorLayer(operator.source);

  for (const s of set.scoped) {
    const at = (field: PolicyField | "rateLimits") => s.fieldPos[field] ?? s.pos;
    const loosen = (field: PolicyField | "rateLimits", what: string, fix: string) =>
      issues.push({
        ...at(field),
        path: `spec.${field}`,
        message: `${what}: this would loosen the ${op}; a DeletionPolicy among the manifests may only tighten it`,
        fix,
      });
    const sp = s.spec;

    looserFields(sp, operator, loosen);
    // Channels are added, never taken away: a channel of the same name would replace (or narrow) another's.
    for (const c of sp.notifications ?? []) {
      const prior = channelOwners.get(c.name);
      if (prior)
        issues.push({
          ...at("notifications"),
          path: "spec.notifications",
          message:
            `notification channel "${c.name}" is already defined by ${prior}; a DeletionPolicy among the manifests may add channels, not redefine or ` +
            `remove one`,
          fix: "give this channel another name",
        });
      else channelOwners.set(c.name, c.origin);
    }

    for (const [i, p] of s.projects.entries()) {
      if (!ownedProjects.has(p)) {
        issues.push({
          ...(s.projectPos[i] ?? s.fieldPos.selector ?? s.pos),
          path: `spec.selector.projects[${i}]`,
          message: `selects project "${p}", which no ProjectVersionSet owns, so this policy would apply to nothing`,
          fix: "fix the project name, or remove it from the selector",
        });
      }
    }
    for (const r of sp.rules ?? []) {
      const prior = ruleOwners.get(r.name);
      if (prior)
        issues.push({
          ...at("rules"),
          path: "spec.rules",
          message: `rule "${r.name}" is already defined by ${prior}`,
          fix: "rule names are the rule ids in plans: make them unique across all policies",
        });
      else ruleOwners.set(r.name, r.origin);
    }
  }
  // Two layers that turn archiving on for one project must agree on where the copies go.
  for (const project of ownedProjects) {
    const on = set.scoped.filter((s) => s.projects.includes(project) && s.spec.archive);
    const first = on[0];
    for (const s of on.slice(1)) {
      if (sameDestination(first!.spec.archive!, s.spec.archive!)) continue;
      issues.push({
        ...(s.fieldPos.archive ?? s.pos),
        path: "spec.archive",
        message: `archives project "${project}" elsewhere than ${manifestLayer(first!.pos, first!.name)} does; a version has one archive`,
        fix: "give both layers the same spec.archive, or select the project in only one of them",
      });
    }
  }
  // requireNotice turned on by a layer needs a channel that gets `marked` for each project it covers.
  for (const project of ownedProjects) {
    const eff = effectivePolicy(set, project);
    if (!eff.requireNotice || eff.origin.requireNotice === operator.origin.requireNotice || !noticeChannelMissing(eff.notifications)) continue;
    const s = set.scoped.find((x) => x.projects.includes(project) && x.spec.requireNotice === true)!;
    issues.push({
      ...(s.fieldPos.requireNotice ?? s.pos),
      path: "spec.requireNotice",
      message:
        `requireNotice: true for project "${project}", but no notification channel for it gets the \`marked\` event, so nothing in it could ever be ` +
        `deleted`,
      fix: "add a channel under spec.notifications (here or in the operator's policy) whose events include marked",
    });
  }
  return issues;
}

/** The policy in force for one project: the operator's, tightened by every manifest policy that selects it. */
export function effectivePolicy(set: PolicySet, project: string): Policy {
  const applying = set.scoped.filter((s) => s.projects.includes(project));
  if (applying.length === 0) return set.operator;
  const p: Policy = {
    ...set.operator,
    origin: { ...set.operator.origin },
    protectTags: [...set.operator.protectTags],
    requireProjectTag: [...set.operator.requireProjectTag],
    rules: [...set.operator.rules],
    windows: [...set.operator.windows],
    notifications: [...set.operator.notifications],
  };
  for (const s of applying) {
    const layer = manifestLayer(s.pos, s.name);
    const sp = s.spec;
    if (sp.allowedAccounts) {
      p.allowedAccounts = p.enforceAccounts ? p.allowedAccounts.filter((a) => sp.allowedAccounts!.includes(a)) : [...sp.allowedAccounts];
      p.enforceAccounts = true;
      p.origin.allowedAccounts = layer;
    }
    if (sp.allowedRegions) {
      p.allowedRegions = p.enforceRegions ? p.allowedRegions.filter((r) => sp.allowedRegions!.includes(r)) : [...sp.allowedRegions];
      p.enforceRegions = true;
      p.origin.allowedRegions = layer;
    }
    if (sp.minAgeMs !== undefined && sp.minAgeMs > p.minAgeMs) (Object.assign(p, { minAgeMs: sp.minAgeMs, minAge: sp.minAge }), (p.origin.minAge = layer));
    if (sp.keepLatest !== undefined && sp.keepLatest > p.keepLatest) ((p.keepLatest = sp.keepLatest), (p.origin.keepLatest = layer));
    if (sp.gracePeriodMs !== undefined && sp.gracePeriodMs > p.gracePeriodMs)
      (Object.assign(p, { gracePeriodMs: sp.gracePeriodMs, gracePeriod: sp.gracePeriod }), (p.origin.gracePeriod = layer));
    if (sp.maxDeletesPerRun !== undefined && sp.maxDeletesPerRun < p.maxDeletesPerRun)
      ((p.maxDeletesPerRun = sp.maxDeletesPerRun), (p.origin.maxDeletesPerRun = layer));
    if (sp.allowEmpty === false && p.allowEmpty) ((p.allowEmpty = false), (p.origin.allowEmpty = layer));
    if (sp.stopRunning === false && p.stopRunning) ((p.stopRunning = false), (p.origin.stopRunning = layer));
    if (sp.protectTags) p.protectTags.push(...sp.protectTags);
    if (sp.requireProjectTag) p.requireProjectTag.push(...sp.requireProjectTag);
    if (sp.rules) p.rules.push(...sp.rules);
    if (sp.windows) p.windows.push(...sp.windows.filter((w) => w.kind === "deny"));
    if (sp.maxDeletesPercent !== undefined && sp.maxDeletesPercent < p.maxDeletesPercent)
      ((p.maxDeletesPercent = sp.maxDeletesPercent), (p.origin.maxDeletesPercent = layer));
    if (sp.requireApproval === true && !p.requireApproval) ((p.requireApproval = true), (p.origin.requireApproval = layer));
    if (sp.nearMissGuard === true && !p.nearMissGuard) ((p.nearMissGuard = true), (p.origin.nearMissGuard = layer));
    if (sp.notifications) p.notifications.push(...sp.notifications);
    if (sp.remindBeforeMs !== undefined && sp.remindBeforeMs > p.remindBeforeMs)
      (Object.assign(p, { remindBeforeMs: sp.remindBeforeMs, remindBefore: sp.remindBefore }), (p.origin.remindBefore = layer));
    if (sp.requireNotice === true && !p.requireNotice) ((p.requireNotice = true), (p.origin.requireNotice = layer));
    // Archiving: a layer turns it on where the operator has none, or makes the operator's required; never off.
    if (sp.archive && !p.archive) ((p.archive = sp.archive), (p.origin.archive = layer));
    else if (sp.archive && sp.archive.required && !p.archive!.required && sameDestination(p.archive!, sp.archive))
      ((p.archive = { ...p.archive!, required: true }), (p.origin.archive = layer));
    if (sp.inference) {
      const i = { ...p.inference };
      const lower = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
      const max = lower(i.maxInferenceUnits, sp.inference.maxInferenceUnits);
      const starts = lower(i.maxStartsPerRun, sp.inference.maxStartsPerRun);
      if (max !== undefined) i.maxInferenceUnits = max;
      if (starts !== undefined) i.maxStartsPerRun = starts;
      if (sp.inference.allowRestart === false) i.allowRestart = false;
      p.inference = i;
      p.origin.inference = layer;
    }
  }
  return p;
}

type Loosen = (field: PolicyField | "rateLimits", what: string, fix: string) => void;

/** Field by field: where a layer's setting would allow what the operator's does not. */
function looserFields(sp: ScopedPolicy["spec"], operator: Policy, loosen: Loosen): void {
  if (sp.rateLimits) loosen("rateLimits", "rateLimits are set by the operator only", "remove rateLimits from this manifest policy");
  if (sp.allowedAccounts) {
    const extra = sp.allowedAccounts.filter((a) => !operator.allowedAccounts.includes(a));
    if (extra.length)
      loosen(
        "allowedAccounts",
        `account(s) ${extra.join(", ")} are not in the operator's allowedAccounts [${operator.allowedAccounts.join(", ")}]`,
        "list only accounts the operator policy allows",
      );
  }
  if (sp.allowedRegions && operator.enforceRegions) {
    const extra = sp.allowedRegions.filter((r) => !operator.allowedRegions.includes(r));
    if (extra.length)
      loosen(
        "allowedRegions",
        `region(s) ${extra.join(", ")} are not in the operator's allowedRegions [${operator.allowedRegions.join(", ")}]`,
        "list only regions the operator policy allows",
      );
  }
  if (sp.minAgeMs !== undefined && sp.minAgeMs < operator.minAgeMs)
    loosen("minAge", `minAge ${sp.minAge} is shorter than the operator's ${operator.minAge}`, `use ${operator.minAge} or longer`);
  if (sp.keepLatest !== undefined && sp.keepLatest < operator.keepLatest)
    loosen("keepLatest", `keepLatest ${sp.keepLatest} is below the operator's ${operator.keepLatest}`, `use ${operator.keepLatest} or more`);
  if (sp.gracePeriodMs !== undefined && sp.gracePeriodMs < operator.gracePeriodMs)
    loosen("gracePeriod", `gracePeriod ${sp.gracePeriod} is shorter than the operator's ${operator.gracePeriod}`, `use ${operator.gracePeriod} or longer`);
  if (sp.maxDeletesPerRun !== undefined && sp.maxDeletesPerRun > operator.maxDeletesPerRun)
    loosen(
      "maxDeletesPerRun",
      `maxDeletesPerRun ${sp.maxDeletesPerRun} is above the operator's ${operator.maxDeletesPerRun}`,
      `use ${operator.maxDeletesPerRun} or less`,
    );
  if (sp.allowEmpty === true && !operator.allowEmpty)
    loosen("allowEmpty", "allowEmpty: true where the operator has false", "remove allowEmpty or set it to false");
  if (sp.stopRunning === true && !operator.stopRunning)
    loosen("stopRunning", "stopRunning: true where the operator has false", "remove stopRunning or set it to false");
  // A layer may add deny windows; an allow window would open time the operator did not (or, with no
  // operator windows, decide when deletion happens at all), so it is the operator's.
  if (sp.windows?.some((w) => w.kind === "allow"))
    loosen("windows", "an allow window in a manifest policy", "use deny windows here; allow windows belong to the operator's policy");
  if (sp.maxDeletesPercent !== undefined && sp.maxDeletesPercent > operator.maxDeletesPercent)
    loosen(
      "maxDeletesPercent",
      `maxDeletesPercent ${sp.maxDeletesPercent} is above the operator's ${operator.maxDeletesPercent}`,
      `use ${operator.maxDeletesPercent} or less`,
    );
  if (sp.requireApproval === false && operator.requireApproval)
    loosen("requireApproval", "requireApproval: false where the operator has true", "remove requireApproval or set it to true");
  if (sp.nearMissGuard === false && operator.nearMissGuard)
    loosen(
      "nearMissGuard",
      "nearMissGuard: false where the operator has true (only the operator may turn it off)",
      "remove nearMissGuard from this manifest policy",
    );
  if (sp.requireNotice === false && operator.requireNotice)
    loosen("requireNotice", "requireNotice: false where the operator has true", "remove requireNotice or set it to true");
  if (sp.remindBeforeMs !== undefined && operator.remindBeforeMs > 0 && sp.remindBeforeMs < operator.remindBeforeMs)
    loosen("remindBefore", `remindBefore ${sp.remindBefore} is shorter than the operator's ${operator.remindBefore}`, `use ${operator.remindBefore} or longer`);
  // Archiving is the operator's to configure: a layer may turn it on (no operator archive), or make the
  // operator's required, but not send copies elsewhere nor let a version go without one.
  if (sp.archive && operator.archive) {
    if (!sameDestination(sp.archive, operator.archive))
      loosen(
        "archive",
        `archive to project "${sp.archive.project}" (bucket ${sp.archive.outputConfig.s3Bucket}) where the operator archives to ` +
          `"${operator.archive.project}" (bucket ${operator.archive.outputConfig.s3Bucket})`,
        "remove spec.archive from this manifest policy (the operator's applies), or copy the operator's destination exactly",
      );
    else if (!sp.archive.required && operator.archive.required)
      loosen(
        "archive",
        "archive.required: false where the operator has true (a version that cannot be archived would be deleted)",
        "remove required or set it to true",
      );
  }
  // Running state: a layer may lower the start budgets and turn restarts off; the price is the operator's.
  const inf = sp.inference;
  if (inf) {
    const op = operator.inference;
    const above = (mine: number | undefined, theirs: number | undefined) => mine !== undefined && theirs !== undefined && mine > theirs;
    if (above(inf.maxInferenceUnits, op.maxInferenceUnits))
      loosen(
        "inference",
        `inference.maxInferenceUnits ${inf.maxInferenceUnits} is above the operator's ` + `${op.maxInferenceUnits}`,
        `use ${op.maxInferenceUnits} or less`,
      );
    if (above(inf.maxStartsPerRun, op.maxStartsPerRun))
      loosen(
        "inference",
        `inference.maxStartsPerRun ${inf.maxStartsPerRun} is above the operator's ` + `${op.maxStartsPerRun}`,
        `use ${op.maxStartsPerRun} or less`,
      );
    if (inf.allowRestart === true && !op.allowRestart)
      loosen("inference", "inference.allowRestart: true where the operator has false", "remove allowRestart or set it to false");
    if (inf.unitPricePerHour !== undefined || inf.currency !== undefined)
      loosen(
        "inference",
        "the inference-unit price and currency are set by the operator " + "only",
        "remove unitPricePerHour and currency from this manifest policy",
      );
  }
}

/** Whether two archive settings send copies to the same place (project, bucket, prefix, key). */
export function sameDestination(a: ArchivePolicy, b: ArchivePolicy): boolean {
  return (
    a.project === b.project &&
    a.outputConfig.s3Bucket === b.outputConfig.s3Bucket &&
    (a.outputConfig.s3KeyPrefix ?? "") === (b.outputConfig.s3KeyPrefix ?? "") &&
    (a.kmsKeyId ?? "") === (b.kmsKeyId ?? "")
  );
}
