// plan(desired, live, policies, now) → Plan. Pure and synchronous: no I/O, no clock, no randomness, so the
// same inputs always give the same plan and every rule can be tested from a table.
import { effectivePolicy } from "./policy/layers.js";
import { evaluateGuards, evaluateTagGuards, MARK_TAG, missingProjectTags, needsTags, newest, stoppable, type Candidate } from "./policy/guards.js";
import { manifestLayer, operatorLayer } from "./policy/load.js";
import type { DesiredSet, DesiredState, LiveProject, LiveState, LiveVersion, Plan, PlanAction, PlanProject, Policy, PolicySet, Reason } from "./types.js";

/** Accept a bare Policy (no manifest layers) for callers and tests that have no layering. */
function asSet(p: Policy | PolicySet): PolicySet {
  return "operator" in p ? p : { operator: p, scoped: [] };
}

/** What the planner knows about each set before looking at versions. */
interface SetContext {
  set: DesiredSet;
  policy: Policy;
  /** The live project, only when it was read completely and is managed. */
  project?: LiveProject;
  status: PlanProject["status"];
  error?: string;
}

function contexts(desired: DesiredState, live: LiveState, policies: PolicySet): SetContext[] {
  const liveBySet = new Map(live.projects.map((p) => [p.set, p]));
  return desired.sets.map((set) => {
    const policy = effectivePolicy(policies, set.project);
    // Joined by set name; the project and region must match too, or the read was for something else.
    const found = liveBySet.get(set.name);
    const lp = found && found.project === set.project && found.region === set.region ? found : undefined;
    // A project that was not read at all is a read failure, never "empty": fail closed.
    if (!lp) return { set, policy, status: "error", error: "live state was not read" };
    if (lp.status !== "ok") return { set, policy, status: lp.status, error: lp.error ?? lp.status, ...(lp.status === "notFound" ? { project: lp } : {}) };
    if (policy.requireProjectTag.length > 0) {
      if (!lp.tags) return { set, policy, status: "error", error: "project tags were not read, so ownership (requireProjectTag) cannot be checked" };
      const missing = missingProjectTags(policy, lp.tags);
      if (missing.length) {
        return { set, policy, status: "notManaged", error: `project lacks required tag(s) ${missing.map((t) => `${t.key}=${t.value}`).join(", ")} (${[...new Set(missing.map((t) => t.origin))].join("; ")}); nothing in it is deleted` };
      }
    }
    return { set, policy, project: lp, status: "ok" };
  });
}

function copySourcesOf(live: LiveState): Set<string> {
  // Copies can land in another project, so look across everything that was read.
  const out = new Set<string>();
  for (const p of live.projects) for (const v of p.versions) if (v.status === "COPYING_IN_PROGRESS" && v.sourceVersionArn) out.add(v.sourceVersionArn);
  return out;
}

/**
 * The versions whose tags the plan needs: unlisted versions that pass every guard that needs no tags
 * (deletion candidates), and, while a grace period is in force, listed versions (to clear a stale mark).
 * Reading tags for nothing else keeps ListTagsForResource calls — rate-limited like every call — few.
 */
export function versionsNeedingTags(desired: DesiredState, live: LiveState, policies: Policy | PolicySet, now: Date): LiveVersion[] {
  const copySources = copySourcesOf(live);
  const out: LiveVersion[] = [];
  for (const c of contexts(desired, live, asSet(policies))) {
    if (!c.project || c.status !== "ok") continue;
    const listed = new Set(c.set.versions.map((v) => v.name));
    const latest = newest(c.project.versions, c.policy.keepLatest);
    for (const v of c.project.versions) {
      if (listed.has(v.name)) {
        if (c.policy.gracePeriodMs > 0) out.push(v);
      } else if (needsTags(c.policy) && evaluateGuards({ version: v, project: c.project, set: c.set, policy: c.policy, now: now.getTime(), latest, copySources }).length === 0) {
        out.push(v);
      }
    }
  }
  return out;
}

/** Whether the policy in force for this set requires its project's tags (ownership). */
export function needsProjectTags(desired: DesiredState, policies: Policy | PolicySet): Set<string> {
  const set = asSet(policies);
  return new Set(desired.sets.filter((s) => effectivePolicy(set, s.project).requireProjectTag.length > 0).map((s) => s.name));
}

export function plan(desired: DesiredState, live: LiveState, policies: Policy | PolicySet, now: Date): Plan {
  const nowMs = now.getTime();
  const pset = asSet(policies);
  const copySources = copySourcesOf(live);
  const projects: PlanProject[] = [];
  const actions: PlanAction[] = [];

  for (const c of contexts(desired, live, pset)) {
    const { set, policy } = c;
    projects.push({
      project: set.project,
      region: set.region,
      projectArn: c.project?.projectArn ?? live.projects.find((p) => p.set === set.name)?.projectArn ?? null,
      status: c.status,
      ...(c.error ? { error: c.error } : {}),
      set: set.name,
      ...(set.roleArn ? { roleArn: set.roleArn } : {}),
    });
    if (!c.project) continue; // unread, failed or not managed: nothing is said about its versions

    const liveVersions = c.status === "ok" ? c.project.versions : [];
    const listed = new Set(set.versions.map((v) => v.name));
    const liveNames = new Set(liveVersions.map((v) => v.name));
    const latest = newest(liveVersions, policy.keepLatest);

    for (const v of liveVersions) {
      if (listed.has(v.name)) {
        const a = action("keep", set, v, []);
        // Listed again: a pending-delete mark from an earlier unlisting no longer applies.
        if (v.tags && Object.hasOwn(v.tags, MARK_TAG)) a.mark = "remove";
        actions.push(a);
        continue;
      }
      const cand: Candidate = { version: v, project: c.project, set, policy, now: nowMs, latest, copySources };
      let reasons = evaluateGuards(cand);
      if (reasons.length === 0) reasons = evaluateTagGuards(cand);
      const a = action(reasons.length ? "blocked" : "delete", set, v, reasons);
      const marked = v.tags && Object.hasOwn(v.tags, MARK_TAG);
      if (marked && reasons.some((r) => r.rule === "protectedTag")) a.mark = "remove";
      if (a.action === "delete" && policy.gracePeriodMs > 0) grace(a, v, policy, nowMs);
      if (a.action === "delete" && stoppable(v, policy)) a.stopFirst = true;
      actions.push(a);
    }
    for (const d of set.versions) {
      if (!liveNames.has(d.name)) {
        actions.push({
          action: "missing",
          project: set.project,
          region: set.region,
          versionName: d.name,
          versionArn: null,
          status: null,
          createdAt: null,
          feature: null,
          reasons: [{ rule: "missing", message: c.status === "notFound" ? "project not found" : "listed in the manifest but not found live; rekon never creates versions" }],
          set: set.name,
          ...(set.roleArn ? { roleArn: set.roleArn } : {}),
        });
      }
    }
  }

  const refusals = budgetRefusals(actions, pset);
  if (refusals.length > 0) {
    // The budget is all or nothing: deleting the first N of an over-budget plan would still be a mass
    // deletion nobody reviewed at that size. A refused run writes nothing at all, marks included.
    for (const a of actions) {
      if (a.action === "delete") {
        a.action = "blocked";
        a.reasons.push(...refusals);
      }
      delete a.mark;
      delete a.stopFirst;
    }
  }

  actions.sort(compareActions);
  return {
    generatedAt: now.toISOString(),
    summary: { delete: count(actions, "delete"), keep: count(actions, "keep"), blocked: count(actions, "blocked"), missing: count(actions, "missing") },
    projects,
    actions,
    refusals,
    policy: { source: pset.operator.source, name: pset.operator.name },
  };
}

/**
 * Two-phase deletion: the first run that finds a version deletable marks it; only a run at least
 * gracePeriod after the mark deletes it. An unreadable mark counts as no mark (the clock restarts).
 */
function grace(a: PlanAction, v: LiveVersion, policy: Policy, now: number): void {
  const since = v.tags?.[MARK_TAG] !== undefined ? Date.parse(v.tags[MARK_TAG]!) : NaN;
  const layer = policy.origin.gracePeriod;
  if (Number.isNaN(since)) {
    a.action = "blocked";
    a.mark = "add";
    a.deletableAt = new Date(now + policy.gracePeriodMs).toISOString();
    a.reasons.push({ rule: "gracePeriod", message: `apply marks it pending deletion (${MARK_TAG}); deletable after ${a.deletableAt} (gracePeriod ${policy.gracePeriod})`, ...(layer ? { layer } : {}) });
  } else if (now - since < policy.gracePeriodMs) {
    a.action = "blocked";
    a.deletableAt = new Date(since + policy.gracePeriodMs).toISOString();
    a.reasons.push({ rule: "gracePeriod", message: `marked pending deletion at ${new Date(since).toISOString()}; deletable after ${a.deletableAt} (gracePeriod ${policy.gracePeriod})`, ...(layer ? { layer } : {}) });
  }
}

/** The operator's budget counts the whole run; a manifest policy's budget counts the projects it selects. */
function budgetRefusals(actions: PlanAction[], pset: PolicySet): Reason[] {
  const deletes = actions.filter((a) => a.action === "delete");
  const out: Reason[] = [];
  const op = pset.operator;
  if (deletes.length > op.maxDeletesPerRun) {
    out.push({ rule: "maxDeletesPerRun", message: `the run would delete ${deletes.length} versions, over maxDeletesPerRun ${op.maxDeletesPerRun}; nothing is deleted`, layer: operatorLayer(op.source) });
  }
  for (const s of pset.scoped) {
    if (s.spec.maxDeletesPerRun === undefined) continue;
    const n = deletes.filter((a) => s.projects.includes(a.project)).length;
    if (n > s.spec.maxDeletesPerRun) {
      out.push({ rule: "maxDeletesPerRun", message: `the run would delete ${n} versions in ${s.projects.join(", ")}, over maxDeletesPerRun ${s.spec.maxDeletesPerRun}; nothing is deleted`, layer: manifestLayer(s.pos, s.name) });
    }
  }
  return out;
}

function action(kind: PlanAction["action"], set: DesiredSet, v: LiveVersion, reasons: Reason[]): PlanAction {
  return {
    action: kind,
    project: set.project,
    region: set.region,
    versionName: v.name,
    versionArn: v.arn,
    status: v.status,
    createdAt: new Date(v.createdAt).toISOString(),
    feature: v.feature,
    reasons,
    set: set.name,
    ...(set.roleArn ? { roleArn: set.roleArn } : {}),
  };
}

function count(actions: PlanAction[], kind: PlanAction["action"]): number {
  return actions.filter((a) => a.action === kind).length;
}

/** Stable order: by project and region, newest first (as AWS lists them), missing versions last by name. */
function compareActions(a: PlanAction, b: PlanAction): number {
  return (
    str(a.project, b.project) ||
    str(a.region, b.region) ||
    str(a.roleArn ?? "", b.roleArn ?? "") ||
    Number(a.createdAt === null) - Number(b.createdAt === null) ||
    str(b.createdAt ?? "", a.createdAt ?? "") ||
    str(a.versionName, b.versionName)
  );
}

function str(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Exit code of a plan: 1 = error or refusal, 2 = deletions pending, 0 = nothing to delete. */
export function planExitCode(p: Plan): 0 | 1 | 2 {
  // notManaged is a deliberate state (the operator did not enroll the project), reported but not an error.
  if (p.refusals.length > 0 || p.projects.some((x) => x.status === "error" || x.status === "notFound")) return 1;
  return p.summary.delete > 0 ? 2 : 0;
}
