// plan(desired, live, policy, now) → Plan. Pure and synchronous: no I/O, no clock, no randomness, so the
// same inputs always give the same plan and every rule can be tested from a table.
import { evaluateGuards, newest, stoppable } from "./policy/guards.js";
import type { DesiredSet, DesiredState, LiveProject, LiveState, LiveVersion, Plan, PlanAction, PlanProject, Policy, Reason } from "./types.js";

export function plan(desired: DesiredState, live: LiveState, policy: Policy, now: Date): Plan {
  const nowMs = now.getTime();
  const liveBySet = new Map(live.projects.map((p) => [p.set, p]));

  // Copies can land in another project, so look across everything that was read.
  const copySources = new Set<string>();
  for (const p of live.projects) {
    for (const v of p.versions) if (v.status === "COPYING_IN_PROGRESS" && v.sourceVersionArn) copySources.add(v.sourceVersionArn);
  }

  const projects: PlanProject[] = [];
  const actions: PlanAction[] = [];

  for (const set of desired.sets) {
    // Joined by set name; the project and region must match too, or the read was for something else.
    const found = liveBySet.get(set.name);
    const lp = found && found.project === set.project && found.region === set.region ? found : undefined;
    // A project that was not read at all is a read failure, never "empty": fail closed.
    const status = lp?.status ?? "error";
    projects.push({
      project: set.project,
      region: set.region,
      projectArn: lp?.projectArn ?? null,
      status,
      ...(status !== "ok" ? { error: lp?.error ?? "live state was not read" } : {}),
      set: set.name,
      ...(set.roleArn ? { roleArn: set.roleArn } : {}),
    });

    if (!lp || lp.status === "error") continue; // nothing is known, so nothing is said about its versions
    const liveVersions = lp.status === "ok" ? lp.versions : [];
    const listed = new Set(set.versions.map((v) => v.name));
    const liveNames = new Set(liveVersions.map((v) => v.name));

    const latest = newest(liveVersions, policy.keepLatest);
    for (const v of liveVersions) {
      if (listed.has(v.name)) {
        actions.push(action("keep", set, v, []));
        continue;
      }
      const reasons = evaluateGuards({ version: v, project: lp, set, policy, now: nowMs, latest, copySources });
      const a = action(reasons.length ? "blocked" : "delete", set, v, reasons);
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
          reasons: [{ rule: "missing", message: lp.status === "notFound" ? "project not found" : "listed in the manifest but not found live; rekon never creates versions" }],
          set: set.name,
          ...(set.roleArn ? { roleArn: set.roleArn } : {}),
        });
      }
    }
  }

  // The budget is all or nothing: deleting the first N of an over-budget plan would still be a mass
  // deletion nobody reviewed at that size.
  const refusals: Reason[] = [];
  const deletes = actions.filter((a) => a.action === "delete");
  if (deletes.length > policy.maxDeletesPerRun) {
    const message = `the run would delete ${deletes.length} versions, over maxDeletesPerRun ${policy.maxDeletesPerRun} (${policy.source}); nothing is deleted`;
    refusals.push({ rule: "maxDeletesPerRun", message });
    for (const a of deletes) {
      a.action = "blocked";
      a.reasons.push({ rule: "maxDeletesPerRun", message });
    }
  }

  actions.sort(compareActions);
  return {
    generatedAt: now.toISOString(),
    summary: {
      delete: count(actions, "delete"),
      keep: count(actions, "keep"),
      blocked: count(actions, "blocked"),
      missing: count(actions, "missing"),
    },
    projects,
    actions,
    refusals,
    policy: { source: policy.source, name: policy.name },
  };
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
  if (p.refusals.length > 0 || p.projects.some((x) => x.status !== "ok")) return 1;
  return p.summary.delete > 0 ? 2 : 0;
}

