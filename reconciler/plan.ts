// plan(desired, live, policies, now) → Plan. Pure and synchronous: no I/O, no clock, no randomness, so the
// same inputs always give the same plan and every rule can be tested from a table. Which version may go is
// the gate's decision (gate.ts); the planner only lays the verdicts out as actions, so the plan and the
// approvals the executor asks for later can never disagree about a rule.
import { Gate } from "./gate/index.js";
import { effectivePolicy } from "./policy/layers.js";
import type { DesiredState, LiveState, LiveVersion, Plan, PlanAction, PlanProject, Policy, PolicySet, Reason } from "./types.js";

export function plan(desired: DesiredState, live: LiveState, policies: Policy | PolicySet, now: Date, refusals?: Reason[]): Plan {
  return planWith(Gate.assess({ desired, live, policies, now, ...(refusals ? { refusals } : {}) }), now);
}

/** The versions whose tags the plan needs (see Gate.versionsNeedingTags). */
export function versionsNeedingTags(desired: DesiredState, live: LiveState, policies: Policy | PolicySet, now: Date): LiveVersion[] {
  return Gate.assess({ desired, live, policies, now }).versionsNeedingTags(now.getTime());
}

/** Sets (by name) whose policy requires their project's tags (ownership): read once per project. */
export function needsProjectTags(desired: DesiredState, policies: Policy | PolicySet): Set<string> {
  const pset = "operator" in policies ? policies : { operator: policies, scoped: [] };
  return new Set(desired.sets.filter((s) => effectivePolicy(pset, s.project).requireProjectTag.length > 0).map((s) => s.name));
}

/** Lay out the gate's verdicts as a plan. */
export function planWith(gate: Gate, now: Date): Plan {
  const nowMs = now.getTime();
  const projects: PlanProject[] = [];
  const actions: PlanAction[] = [];
  let windowOpens: number | undefined;

  for (const view of gate.views) {
    const { set } = view;
    const common = { set: set.name, ...(set.roleArn ? { roleArn: set.roleArn } : {}), ...(view.account ? { account: view.account } : {}) };
    projects.push({
      project: set.project,
      region: set.region,
      ...(view.account ? { account: view.account } : {}),
      projectArn: view.project?.projectArn ?? null,
      status: view.status,
      ...(view.error ? { error: view.error } : {}),
      set: set.name,
      ...(set.roleArn ? { roleArn: set.roleArn } : {}),
    });
    if (!view.project) continue; // unread, failed or not managed: nothing is said about its versions

    const liveVersions = view.status === "ok" ? view.project.versions : [];
    const liveNames = new Set(liveVersions.map((v) => v.name));

    for (const v of liveVersions) {
      const base = {
        project: set.project,
        region: set.region,
        versionName: v.name,
        versionArn: v.arn,
        status: v.status,
        createdAt: new Date(v.createdAt).toISOString(),
        feature: v.feature,
        ...common,
      };
      // Every decision is the gate's, a listed version's too (it is kept, and loses a stale mark).
      const verdict = gate.verdict(view, v, nowMs);
      const a: PlanAction = { action: verdict.keep ? "keep" : verdict.reasons.length ? "blocked" : "delete", ...base, reasons: verdict.reasons };
      if (verdict.mark) a.mark = verdict.mark;
      if (verdict.deletableAt) a.deletableAt = verdict.deletableAt;
      // Kept only by a deletion window: it becomes deletable when the window allows, and the controller
      // starts a cycle then rather than waiting for its interval.
      if (verdict.windowOpensAt !== undefined && verdict.reasons.every((r) => r.rule === "window")) {
        a.deletableAt = new Date(verdict.windowOpensAt).toISOString();
        if (windowOpens === undefined || verdict.windowOpensAt < windowOpens) windowOpens = verdict.windowOpensAt;
      }
      if (verdict.stopFirst) a.stopFirst = true;
      if (verdict.notice) a.notice = verdict.notice;
      if (verdict.reminder) a.reminder = verdict.reminder;
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
          reasons: [
            {
              rule: "missing",
              message: view.status === "notFound" ? "project not found" : "listed in the manifest but not found live; rekon never creates versions",
            },
          ],
          ...common,
        });
      }
    }
  }

  const refusals = gate.refusals(actions.filter((a) => a.action === "delete"));
  if (refusals.length > 0) {
    // All or nothing: deleting the first N of an over-budget plan would still be a mass deletion nobody
    // reviewed at that size. A refused run deletes nothing and adds no mark; it only removes marks (a
    // removal can only delay a deletion; see Gate.authorizeUnmarks).
    for (const a of actions) {
      if (a.action === "delete") {
        a.action = "blocked";
        a.reasons.push(...refusals);
      }
      if (a.mark !== "remove") delete a.mark;
      delete a.stopFirst;
      delete a.notice;
      delete a.reminder;
    }
  }

  actions.sort(compareActions);
  return {
    generatedAt: now.toISOString(),
    summary: { delete: count(actions, "delete"), keep: count(actions, "keep"), blocked: count(actions, "blocked"), missing: count(actions, "missing") },
    projects,
    actions,
    refusals,
    ...(windowOpens !== undefined && refusals.length === 0 ? { nextDeletionAllowedAt: new Date(windowOpens).toISOString() } : {}),
    policy: { source: gate.policies.operator.source, name: gate.policies.operator.name },
  };
}

function count(actions: PlanAction[], kind: PlanAction["action"]): number {
  return actions.filter((a) => a.action === kind).length;
}

/** Stable order: by project, region and account, newest first (as AWS lists them), missing versions last by name. */
function compareActions(a: PlanAction, b: PlanAction): number {
  return (
    str(a.project, b.project) ||
    str(a.region, b.region) ||
    str(a.account ?? "", b.account ?? "") ||
    str(a.roleArn ?? "", b.roleArn ?? "") ||
    Number(a.createdAt === null) - Number(b.createdAt === null) ||
    str(b.createdAt ?? "", a.createdAt ?? "") ||
    str(a.versionName, b.versionName)
  );
}

function str(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Rules whose firing means a read failed: the plan is not a complete picture, so it cannot exit 0. */
const READ_FAILURE_RULES = new Set(["tagsUnreadable"]);

/**
 * Exit code of a plan: 1 = error, refusal or a failed read (a project, or any version's tags), 2 =
 * deletions pending, 0 = nothing to delete. A read failure is a failure even when it only blocked: a
 * missing IAM permission must not make rekon a silent no-op.
 */
export function planExitCode(p: Plan): 0 | 1 | 2 {
  // notManaged is a deliberate state (the operator did not enroll the project), reported but not an error.
  if (p.refusals.length > 0 || p.projects.some((x) => x.status === "error" || x.status === "notFound")) return 1;
  if (p.actions.some((a) => a.reasons.some((r) => READ_FAILURE_RULES.has(r.rule)))) return 1;
  return p.summary.delete > 0 ? 2 : 0;
}
