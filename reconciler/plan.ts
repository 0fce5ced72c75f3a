// plan(desired, live, policies, now) → Plan. Pure and synchronous: no I/O, no clock, no randomness, so the
// same inputs always give the same plan and every rule can be tested from a table. Which version may go is
// the gate's decision (gate.ts); the planner only lays the verdicts out as actions, so the plan and the
// approvals the executor asks for later can never disagree about a rule.
import { Gate } from "./gate/index.js";
import { effectivePolicy } from "./policy/layers.js";
import { BILLED, liveUnits, type SetView } from "./gate/index.js";
import { nextBoundary } from "./policy/windows.js";
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
  let runtimeChange: number | undefined;
  const earliest = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));

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
      const a = versionAction(gate, view, v, nowMs, common);
      if (a.windowOpensAt !== undefined) windowOpens = earliest(windowOpens, a.windowOpensAt);
      actions.push(a.action);
    }
    for (const d of set.versions) {
      if (d.running?.schedule && view.status === "ok") runtimeChange = earliest(runtimeChange, nextBoundary(d.running.schedule, nowMs));
      if (!liveNames.has(d.name)) actions.push(missingAction(set, d.name, view.status, common));
    }
  }

  const refusals = gate.refusals(actions.filter((a) => a.action === "delete"));
  // All or nothing: deleting the first N of an over-budget plan would still be a mass deletion nobody
  // reviewed at that size. A refused run writes nothing but mark removals (a removal can only delay a
  // deletion; see Gate.authorizeUnmarks): no deletion, no mark, no start, no stop.
  if (refusals.length > 0) for (const a of actions) refuse(a, refusals);
  const units = unitsOf(gate, actions);
  // The start budgets: a plan over one starts nothing, and says which budget.
  const startRefusals = refusals.length ? [] : gate.startRefusals(actions, units.after);
  if (startRefusals.length > 0) {
    for (const a of actions) if (a.action === "start") ((a.action = "keep"), a.reasons.push(...startRefusals), delete a.restartFirst);
  }
  const totals = startRefusals.length ? unitsOf(gate, actions) : units;
  for (const p of projects) {
    const n = totals.now.get(p.set);
    if (n !== undefined) p.inferenceUnits = { now: n, after: totals.after.get(p.set)! };
  }
  const sum = (m: ReadonlyMap<string, number>) => [...m.values()].reduce((x, y) => x + y, 0);
  const inferenceUnits = { now: sum(totals.now), after: sum(totals.after) };
  const inf = gate.policies.operator.inference;

  actions.sort(compareActions);
  return {
    generatedAt: now.toISOString(),
    summary: {
      delete: count(actions, "delete"),
      keep: count(actions, "keep"),
      blocked: count(actions, "blocked"),
      missing: count(actions, "missing"),
      start: count(actions, "start"),
      stop: count(actions, "stop"),
    },
    projects,
    actions,
    refusals,
    ...(windowOpens !== undefined && refusals.length === 0 ? { nextDeletionAllowedAt: new Date(windowOpens).toISOString() } : {}),
    inferenceUnits,
    ...(inf.unitPricePerHour !== undefined
      ? { cost: { perHourNow: inferenceUnits.now * inf.unitPricePerHour, perHourAfter: inferenceUnits.after * inf.unitPricePerHour, currency: inf.currency } }
      : {}),
    ...(runtimeChange !== undefined ? { nextRuntimeChangeAt: new Date(runtimeChange).toISOString() } : {}),
    policy: { source: gate.policies.operator.source, name: gate.policies.operator.name },
  };
}

type Common = Pick<PlanAction, "set" | "roleArn" | "account">;

/** One live version's action: the gate's verdict, and for a listed version its running state. */
function versionAction(gate: Gate, view: SetView, v: LiveVersion, nowMs: number, common: Common): { action: PlanAction; windowOpensAt?: number } {
  // Every decision is the gate's, a listed version's too (it is kept, and loses a stale mark).
  const verdict = gate.verdict(view, v, nowMs);
  const a = actionOf(verdict.keep ? "keep" : verdict.reasons.length ? "blocked" : "delete", view.set, v, common, verdict.reasons);
  if (verdict.mark) a.mark = verdict.mark;
  if (verdict.deletableAt) a.deletableAt = verdict.deletableAt;
  const running = liveUnits(v);
  if (running && BILLED.has(v.status)) a.units = running;
  if (verdict.keep) {
    const rt = gate.runtime(view, v, nowMs);
    if (rt?.action) a.action = rt.action;
    if (rt?.units) a.units = rt.units;
    if (rt?.restartFirst) a.restartFirst = true;
    if (rt) a.reasons = rt.reasons;
    return { action: a };
  }
  let windowOpensAt: number | undefined;
  // Kept only by a deletion window: it becomes deletable when the window allows, and the controller
  // starts a cycle then rather than waiting for its interval.
  if (verdict.windowOpensAt !== undefined && verdict.reasons.every((r) => r.rule === "window")) {
    a.deletableAt = new Date(verdict.windowOpensAt).toISOString();
    windowOpensAt = verdict.windowOpensAt;
  }
  if (verdict.stopFirst) a.stopFirst = true;
  if (verdict.archive) a.archive = verdict.archive;
  if (verdict.noUndo) a.noUndo = true;
  if (verdict.notice) a.notice = verdict.notice;
  if (verdict.reminder) a.reminder = verdict.reminder;
  return { action: a, ...(windowOpensAt !== undefined ? { windowOpensAt } : {}) };
}

/**
 * A live version's action. One object a version, 100,000 in a large plan: built as a literal of one shape
 * (the common case: no role, a resolved account) rather than from spreads, which give each object a
 * separate property store. Keys in the order plans have always had.
 */
function actionOf(action: PlanAction["action"], set: { project: string; region: string }, v: LiveVersion, common: Common, reasons: Reason[]): PlanAction {
  const createdAt = new Date(v.createdAt).toISOString();
  const { project, region } = set;
  const { name: versionName, arn: versionArn, status, feature } = v;
  if (common.roleArn === undefined && common.account !== undefined)
    return { action, project, region, versionName, versionArn, status, createdAt, feature, set: common.set, account: common.account, reasons };
  return { action, project, region, versionName, versionArn, status, createdAt, feature, ...common, reasons };
}

function missingAction(set: { project: string; region: string }, name: string, status: PlanProject["status"], common: Common): PlanAction {
  const message = status === "notFound" ? "project not found" : "listed in the manifest but not found live; rekon never creates versions";
  return {
    action: "missing",
    project: set.project,
    region: set.region,
    versionName: name,
    versionArn: null,
    status: null,
    createdAt: null,
    feature: null,
    reasons: [{ rule: "missing", message }],
    ...common,
  };
}

/** A refused run: a deletion is blocked by the refusal, a start or stop is not made, no mark is added. */
function refuse(a: PlanAction, refusals: Reason[]): void {
  if (a.action === "delete") {
    a.action = "blocked";
    a.reasons.push(...refusals);
  }
  if (a.action === "start" || a.action === "stop") {
    a.action = "keep";
    a.reasons.push(...refusals);
    delete a.restartFirst;
  }
  if (a.mark !== "remove") delete a.mark;
  delete a.stopFirst;
  delete a.archive;
  delete a.noUndo;
  delete a.notice;
  delete a.reminder;
}

/**
 * Running inference units per set (the min of each RUNNING or STARTING version; AWS bills at least that),
 * now and once the plan's starts, stops and stop-then-deletes are done.
 */
function unitsOf(gate: Gate, actions: readonly PlanAction[]): { now: Map<string, number>; after: Map<string, number> } {
  const now = new Map<string, number>();
  const after = new Map<string, number>();
  const liveMin = new Map<string, number>();
  for (const view of gate.views) {
    if (view.status !== "ok" || !view.project) continue;
    let n = 0;
    for (const v of view.project.versions) {
      if (v.minInferenceUnits !== undefined) liveMin.set(v.arn, v.minInferenceUnits);
      if (BILLED.has(v.status) && v.minInferenceUnits !== undefined) n += v.minInferenceUnits;
    }
    now.set(view.set.name, n);
    after.set(view.set.name, n);
  }
  const add = (set: string, d: number) => after.set(set, (after.get(set) ?? 0) + d);
  for (const a of actions) {
    const old = a.versionArn ? (liveMin.get(a.versionArn) ?? 0) : 0;
    if (a.action === "stop") add(a.set, -old);
    if (a.action === "delete" && a.stopFirst) add(a.set, -old);
    if (a.action === "start") add(a.set, (a.units?.min ?? 0) - (a.restartFirst ? old : 0));
  }
  return { now, after };
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
 * Rules that make a listed version's running state an error: a start the manifest asks for that can never
 * happen (an adapter, a failed model, an account rekon may not write in), or a start budget exceeded.
 */
const RUNTIME_ERROR_RULES = new Set(["notStartable", "maxInferenceUnits", "maxStartsPerRun", "identityMismatch", "accountNotAllowed"]);

/**
 * Exit code of a plan: 1 = error, refusal or a failed read (a project, or any version's tags), or a start
 * that cannot or may not happen; 2 = writes pending (deletions, starts, stops); 0 = nothing to do. A read
 * failure is a failure even when it only blocked: a missing IAM permission must not make rekon a silent no-op.
 */
export function planExitCode(p: Plan): 0 | 1 | 2 {
  // notManaged is a deliberate state (the operator did not enroll the project), reported but not an error.
  if (p.refusals.length > 0 || p.projects.some((x) => x.status === "error" || x.status === "notFound")) return 1;
  if (p.actions.some((a) => a.reasons.some((r) => READ_FAILURE_RULES.has(r.rule)))) return 1;
  if (p.actions.some((a) => a.action === "keep" && a.reasons.some((r) => RUNTIME_ERROR_RULES.has(r.rule)))) return 1;
  return p.summary.delete + p.summary.start + p.summary.stop > 0 ? 2 : 0;
}
