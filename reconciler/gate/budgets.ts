// Run-wide decisions: the budgets a plan's deletions must stay within, and the authorization to act on a
// plan as a whole. All or nothing: deleting the first N of an over-budget plan would still be a mass
// deletion nobody reviewed at that size.
import { RefusalError } from "../errors.js";
import { manifestLayer, operatorLayer } from "../policy/naming.js";
import type { Plan, PlanAction, Reason, RuleId } from "../types.js";
import { makeAuthorization, type RunAuthorization } from "./approvals.js";
import type { WorldIndex } from "./world.js";

/** Run-wide refusals for these planned deletions: the caller's, then every budget that is exceeded. */
export function budgetRefusals(index: WorldIndex, deletes: readonly PlanAction[]): Reason[] {
  const out: Reason[] = [...index.callerRefusals];
  const op = index.policies.operator;
  if (deletes.length > op.maxDeletesPerRun) {
    out.push({
      rule: "maxDeletesPerRun",
      message: `the run would delete ${deletes.length} versions, over maxDeletesPerRun ${op.maxDeletesPerRun}; nothing is deleted`,
      layer: operatorLayer(op.source),
    });
  }
  const perSet = new Map<string, number>();
  for (const a of deletes) perSet.set(a.set, (perSet.get(a.set) ?? 0) + 1);
  for (const view of index.views) {
    if (!view.project || view.status !== "ok") continue;
    const pct = view.policy.maxDeletesPercent;
    // DELETING versions are already going (an earlier run's): counting them would let successive runs
    // take more than the stated share of what is really left.
    const live = view.project.versions.filter((v) => v.status !== "DELETING").length;
    const n = perSet.get(view.set.name) ?? 0;
    // "More than this share": 1 of 2 at 50 % is allowed, 1 of 1 is not.
    if (n > 0 && n * 100 > pct * live) {
      const share =
        `${n} of the ${live} live versions of project ${view.set.project} (${view.account ?? "?"}/${view.set.region}), ` + `${Math.round((n * 100) / live)}%`;
      out.push({
        rule: "maxDeletesPercent",
        message: `the run would delete ${share}, over maxDeletesPercent ${pct}; nothing is deleted`,
        ...(view.policy.origin.maxDeletesPercent ? { layer: view.policy.origin.maxDeletesPercent } : {}),
      });
    }
  }
  for (const s of index.policies.scoped) {
    if (s.spec.maxDeletesPerRun === undefined) continue;
    const n = deletes.filter((a) => s.projects.includes(a.project)).length;
    if (n > s.spec.maxDeletesPerRun) {
      out.push({
        rule: "maxDeletesPerRun",
        message: `the run would delete ${n} versions in ${s.projects.join(", ")}, over maxDeletesPerRun ${s.spec.maxDeletesPerRun}; nothing is deleted`,
        layer: manifestLayer(s.pos, s.name),
      });
    }
  }
  return out;
}

/**
 * The start budgets (spec.inference): per (account, region), the running inference units once the plan is
 * applied must stay within maxInferenceUnits (the operator's over everything read there; a layer's over its
 * projects), and a run starts at most maxStartsPerRun versions. A plan over a budget starts nothing: every
 * start is refused, with the budget named. `units` is each project's running units after the plan.
 */
export function startRefusals(index: WorldIndex, actions: readonly PlanAction[], after: ReadonlyMap<string, number>): Reason[] {
  const starts = actions.filter((a) => a.action === "start");
  if (starts.length === 0) return [];
  const out: Reason[] = [];
  const op = index.policies.operator;
  const where = (a: { account?: string; region: string }) => `${a.account ?? "?"}/${a.region}`;
  // Stryker disable next-line ArrayDeclaration: equivalent, an entry without a max (the mutant's string) never refuses: units > undefined is false
  const budgets: { layer: string; max: number; projects?: readonly string[] }[] = [];
  if (op.inference.maxInferenceUnits !== undefined) budgets.push({ layer: operatorLayer(op.source), max: op.inference.maxInferenceUnits });
  for (const s of index.policies.scoped) {
    if (s.spec.inference?.maxInferenceUnits !== undefined)
      budgets.push({ layer: manifestLayer(s.pos, s.name), max: s.spec.inference.maxInferenceUnits, projects: s.projects });
  }
  for (const b of budgets) {
    const total = new Map<string, number>();
    for (const view of index.views) {
      if (b.projects && !b.projects.includes(view.set.project)) continue;
      const k = where({ ...(view.account ? { account: view.account } : {}), region: view.set.region });
      total.set(k, (total.get(k) ?? 0) + (after.get(view.set.name) ?? 0));
    }
    const starting = new Set(starts.filter((a) => !b.projects || b.projects.includes(a.project)).map(where));
    for (const [k, units] of total) {
      if (starting.has(k) && units > b.max) {
        const scope = b.projects ? ` in ${b.projects.join(", ")}` : "";
        out.push({
          rule: "maxInferenceUnits",
          message: `the starts would take the running inference units${scope} in ${k} to ${units}, over maxInferenceUnits ` + `${b.max}; nothing is started`,
          layer: b.layer,
        });
      }
    }
  }
  // Stryker disable next-line ArrayDeclaration: equivalent, an entry without a max (the mutant's string) never refuses: n > undefined is false
  const counts: { layer: string; max: number; n: number; scope: string }[] = [];
  if (op.inference.maxStartsPerRun !== undefined)
    counts.push({ layer: operatorLayer(op.source), max: op.inference.maxStartsPerRun, n: starts.length, scope: "" });
  for (const s of index.policies.scoped) {
    const max = s.spec.inference?.maxStartsPerRun;
    if (max !== undefined)
      counts.push({
        layer: manifestLayer(s.pos, s.name),
        max,
        n: starts.filter((a) => s.projects.includes(a.project)).length,
        scope: ` ` + `in ${s.projects.join(", ")}`,
      });
  }
  for (const c of counts)
    if (c.n > c.max)
      out.push({
        rule: "maxStartsPerRun",
        message: `the run would start ${c.n} versions${c.scope}, over maxStartsPerRun ` + `${c.max}; nothing is started`,
        layer: c.layer,
      });
  return out;
}

/** A refusal's rule as the error carries it (refusals are rekon's own rules, never a custom rule's name). */
function refusalRule(r: Reason): RuleId {
  return r.rule as RuleId;
}

/**
 * Agree to act on `plan` as a whole, or throw RefusalError: a refused or over-budget plan writes nothing
 * (marks included), and nothing is written before the operator has named the accounts.
 */
export function authorize(index: WorldIndex, plan: Plan): RunAuthorization {
  if (plan.refusals.length > 0) throw new RefusalError(plan.refusals.map((r) => r.message).join("; "), refusalRule(plan.refusals[0]!));
  const deletes = plan.actions.filter((a) => a.action === "delete");
  const over = budgetRefusals(index, deletes);
  if (over.length > 0) throw new RefusalError(over.map((r) => r.message).join("; "), refusalRule(over[0]!));
  const marks = new Map<string, "add" | "remove">();
  for (const a of plan.actions) if (a.mark && a.versionArn) marks.set(a.versionArn, a.mark);
  const runtime = new Map<string, "start" | "stop">();
  for (const a of plan.actions) if ((a.action === "start" || a.action === "stop") && a.versionArn) runtime.set(a.versionArn, a.action);
  const op = index.policies.operator;
  // Starts cost money and stops take a model offline: like deletions and marks, they wait for the operator
  // to name the accounts rekon may write in.
  if (deletes.length + [...marks.values()].filter((m) => m === "add").length + runtime.size > 0 && !op.enforceAccounts) {
    throw new RefusalError(
      `apply needs spec.allowedAccounts in the DeletionPolicy (${op.source}): name the 12-digit AWS account IDs whose versions rekon may delete, e.g. ` +
        `allowedAccounts: ["123456789012"], and pass the file with --policy`,
      "accountNotAllowed",
    );
  }
  return makeAuthorization(plan, new Set(deletes.map((a) => a.versionArn!)), marks, runtime);
}

/**
 * A refused run deletes nothing and adds no mark, but it still removes the marks its plan removes (a
 * version listed again, or blocked by a guard): a removal can only delay a deletion, and a mark left in
 * place would let a later unlisting delete at once on it, with no new grace period, notice or approval.
 * Only once the operator has named the accounts (as for any mark); undefined when there is nothing to do.
 */
export function authorizeUnmarks(index: WorldIndex, plan: Plan): { auth: RunAuthorization; plan: Plan } | undefined {
  if (!index.policies.operator.enforceAccounts) return undefined;
  const only = { ...plan, actions: plan.actions.filter((a) => a.mark === "remove" && a.versionArn) };
  if (only.actions.length === 0) return undefined;
  return { auth: makeAuthorization(only, new Set<string>(), new Map(only.actions.map((a) => [a.versionArn!, "remove" as const]))), plan: only };
}
