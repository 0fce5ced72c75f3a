// `rekon explain`: every check the gate makes for one version, with its verdict and the values it
// compared. The lines come from the same findings the verdict folds (verdict.ts), and the decision from
// the verdict and the run's refusals, never from this description: explain cannot disagree with plan.
import type { CheckId } from "./facts.js";
import type { InferenceUnits, Reason } from "../types.js";
import { walk, type Seen } from "./verdict.js";
import type { VersionFacts } from "./facts.js";

/** One check of `rekon explain`: its verdict for the version, and what it compared. */
export interface ExplainCheck {
  rule: CheckId;
  verdict: "pass" | "block" | "hold" | "skip" | "keep";
  detail: string;
  /** The policy layer that set the threshold. */
  layer?: string;
}

export interface Explanation {
  decision: "delete" | "stop then delete" | "blocked" | "held" | "refused" | "keep";
  checks: ExplainCheck[];
  mark?: "add" | "remove";
  deletableAt?: string;
  /** A listed version's running state, as plan decides it: a start or stop, or why neither (gate/runtime.ts). */
  running?: { action?: "start" | "stop"; units?: InferenceUnits; restartFirst?: boolean; reasons: Reason[] };
}

/**
 * Checks the gate did not need (the tag guards and holds of a version another check already keeps) are
 * `skip`, with what they would say; tags explain read itself for the purpose (`seen`) never enter the verdict.
 */
export function explainVersion(f: VersionFacts, refusals: readonly Reason[], seen?: Seen): Explanation {
  const { verdict, findings = [] } = walk(f, { ...(seen ? { seen } : {}) });
  const lay = (l: string | undefined) => (l ? { layer: l } : {});
  if (verdict.keep)
    return { decision: "keep", checks: [{ rule: "listed", verdict: "keep", detail: findings[0]!.pass }], ...(verdict.mark ? { mark: verdict.mark } : {}) };
  const checks: ExplainCheck[] = [];
  for (const x of findings) {
    if (x.silent) continue;
    if (x.reasons.length)
      for (const r of x.reasons) checks.push({ rule: r.rule, verdict: x.kind === "hold" ? "hold" : "block", detail: r.message, ...lay(r.layer ?? x.layer) });
    else if (x.skipped !== undefined) checks.push({ rule: x.rule, verdict: "skip", detail: x.skipped, ...lay(x.layer) });
    else checks.push({ rule: x.rule, verdict: "pass", detail: x.pass, ...lay(x.layer) });
  }
  const kept = verdict.reasons.length > 0;
  const guardKeep = findings.some((x) => x.kind === "guard" && x.reasons.length > 0);
  // A refused run adds no mark; it still removes them (as the plan shows it).
  const planMark = refusals.length === 0 || verdict.mark === "remove" ? verdict.mark : undefined;
  // authorize's own refusal: with no account named, plan lists deletions and apply writes nothing.
  const op = f.index.policies.operator;
  const runRefusals: Reason[] = op.enforceAccounts
    ? [...refusals]
    : [
        ...refusals,
        {
          rule: "accountNotAllowed",
          message:
            `no allowedAccounts in the operator's DeletionPolicy (${op.source}): plan lists deletions, apply refuses every write until it names the ` +
            `accounts`,
        },
      ];
  // Run-wide refusals keep what would otherwise be deleted (as the plan shows them: on its deletions).
  if (!kept) for (const r of runRefusals) checks.push({ rule: r.rule, verdict: "block", detail: r.message, ...lay(r.layer) });
  if (!kept && runRefusals.length === 0)
    checks.push({
      rule: "budgets",
      verdict: "pass",
      detail: `within maxDeletesPerRun ${op.maxDeletesPerRun} and maxDeletesPercent ${f.policy.maxDeletesPercent}`,
    });
  const decision: Explanation["decision"] = kept
    ? guardKeep
      ? "blocked"
      : "held"
    : runRefusals.length > 0
      ? "refused"
      : verdict.stopFirst
        ? "stop then delete"
        : "delete";
  return { decision, checks, ...(planMark ? { mark: planMark } : {}), ...(verdict.deletableAt ? { deletableAt: verdict.deletableAt } : {}) };
}
