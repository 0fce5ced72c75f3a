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
  const op = index.policies.operator;
  if (deletes.length + [...marks.values()].filter((m) => m === "add").length > 0 && !op.enforceAccounts) {
    throw new RefusalError(
      `apply needs spec.allowedAccounts in the DeletionPolicy (${op.source}): name the 12-digit AWS account IDs whose versions rekon may delete, e.g. ` +
        `allowedAccounts: ["123456789012"], and pass the file with --policy`,
      "accountNotAllowed",
    );
  }
  return makeAuthorization(plan, new Set(deletes.map((a) => a.versionArn!)), marks);
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
