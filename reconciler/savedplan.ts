// Saved plans: what a reviewer approved in a pull request is what apply may do, or nothing.
// `rekon plan --out plan.json` records the plan with digests of its inputs and the live facts each
// decision used; `rekon apply plan.json` re-reads everything, refuses the whole plan when its inputs
// changed or it is too old, and deletes only planned deletions whose facts are unchanged and that still
// pass every guard. It never deletes anything the saved plan did not list. Pure apart from JSON parsing.
import { ValidationError } from "./errors.js";
import type { LiveState, LiveVersion, Plan, PlanAction, PlannedFact, RuleId } from "./types.js";

export const SAVED_PLAN_KIND = "SavedPlan";
export const SAVED_PLAN_VERSION = 1;
/** Default for --max-plan-age: a day-old plan is about a world that may have moved on. */
export const DEFAULT_MAX_PLAN_AGE = "24h";

export interface SavedPlan {
  apiVersion: "rekon.dev/v1alpha1";
  kind: typeof SAVED_PLAN_KIND;
  formatVersion: number;
  createdAt: string;
  digests: { manifests: string; policy: string };
  /** As given to `plan`; apply defaults to them when --manifests/--policy are not repeated. */
  inputs: { manifests: string[]; policy: string | null };
  /** Accounts and regions the plan covers. */
  targets: { account: string | null; region: string; roleArn?: string }[];
  /** The live facts behind each planned write (deletions, starts, stops and marks), by version ARN. */
  facts: PlannedFact[];
  plan: Plan;
}

/** The plan's actions that write: a reviewer approved each one, and apply of a saved plan does no other. */
const WRITE_ACTIONS = new Set<PlanAction["action"]>(["delete", "start", "stop"]);
type WriteKind = PlannedFact["action"];

/** The write an action makes, in a saved plan's words; none for a keep without a mark change. */
function writeKind(a: PlanAction): WriteKind | undefined {
  if (WRITE_ACTIONS.has(a.action)) return a.action as WriteKind;
  return a.mark ? `mark:${a.mark}` : undefined;
}

function factOf(v: LiveVersion): Omit<PlannedFact, "action"> {
  return { versionArn: v.arn, status: v.status, createdAt: new Date(v.createdAt).toISOString(), ...(v.tags ? { tags: v.tags } : {}) };
}

export function savePlan(plan: Plan, live: LiveState, inputs: SavedPlan["inputs"], digests: SavedPlan["digests"]): SavedPlan {
  const byArn = new Map(live.projects.flatMap((p) => p.versions.map((v) => [v.arn, v] as const)));
  const facts: PlannedFact[] = [];
  for (const a of plan.actions) {
    const kind = writeKind(a);
    if (!a.versionArn || !kind) continue;
    const v = byArn.get(a.versionArn);
    if (v) facts.push({ action: kind, ...factOf(v) });
  }
  const targets = new Map<string, SavedPlan["targets"][number]>();
  for (const p of plan.projects) {
    const account = p.projectArn?.split(":")[4] ?? null;
    targets.set(`${p.roleArn ?? ""}|${p.region}|${account}`, { account, region: p.region, ...(p.roleArn ? { roleArn: p.roleArn } : {}) });
  }
  return {
    apiVersion: "rekon.dev/v1alpha1",
    kind: SAVED_PLAN_KIND,
    formatVersion: SAVED_PLAN_VERSION,
    createdAt: plan.generatedAt,
    digests,
    inputs,
    targets: [...targets.values()],
    facts,
    plan,
  };
}

/** Parse a saved plan file. Anything that is not one we wrote is refused, with the file named. */
export function parseSavedPlan(file: string, text: string): SavedPlan {
  const fail = (message: string, fix?: string): never => {
    throw new ValidationError([{ file, line: 1, col: 1, path: "", message, ...(fix ? { fix } : {}) }]);
  };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return fail(`not a saved plan: ${(e as Error).message}`, "pass the file written by `rekon plan --out FILE`");
  }
  const s = v as Partial<SavedPlan>;
  if (s?.kind !== SAVED_PLAN_KIND || s.apiVersion !== "rekon.dev/v1alpha1")
    fail("not a saved plan (kind SavedPlan expected)", "pass the file written by `rekon plan --out FILE`");
  if (s.formatVersion !== SAVED_PLAN_VERSION)
    fail(`saved plan format ${String(s.formatVersion)} is not supported (this rekon reads ${SAVED_PLAN_VERSION})`, "re-run rekon plan with this version");
  if (typeof s.createdAt !== "string" || Number.isNaN(Date.parse(s.createdAt))) fail("saved plan has no valid createdAt");
  if (!s.digests?.manifests || !s.digests.policy) fail("saved plan has no input digests");
  if (!Array.isArray(s.facts) || !s.plan || !Array.isArray(s.plan.actions)) fail("saved plan is incomplete (facts or plan missing)");
  return s as SavedPlan;
}

export interface SavedPlanCheck {
  /** The whole saved plan is refused: nothing may be applied. */
  refusal?: { rule: "digestMismatch" | "planExpired" | "planFromFuture"; message: string };
  /** The fresh plan cut down to what the saved plan approved; the rest is blocked. */
  plan: Plan;
  /** Planned writes that are not applied because something changed since the plan was saved. */
  stale: { action: PlanAction; why: string }[];
}

/**
 * Decide what of a saved plan may still be applied, given a fresh plan and the fresh live facts.
 * A planned deletion goes ahead only if the fresh plan would delete it too and its facts (status,
 * creation time, tags) are exactly what the reviewer saw; everything else is `stale`. Deletions the
 * fresh plan proposes that the saved plan did not list are blocked (`notInSavedPlan`).
 */
export function checkSavedPlan(
  saved: SavedPlan,
  fresh: Plan,
  freshLive: LiveState,
  current: SavedPlan["digests"],
  now: Date,
  maxAgeMs: number,
): SavedPlanCheck {
  const refuse = (rule: NonNullable<SavedPlanCheck["refusal"]>["rule"], message: string): SavedPlanCheck => ({
    refusal: { rule, message },
    plan: blockAll(fresh, rule, message),
    stale: [],
  });
  if (saved.digests.manifests !== current.manifests)
    return refuse("digestMismatch", "the manifests changed since the plan was saved; re-run rekon plan and review it again");
  if (saved.digests.policy !== current.policy)
    return refuse("digestMismatch", "the policy changed since the plan was saved; re-run rekon plan and review it again");
  const age = now.getTime() - Date.parse(saved.createdAt);
  if (age > maxAgeMs) return refuse("planExpired", `the plan is ${Math.floor(age / 60_000)} minutes old, over --max-plan-age; re-run rekon plan`);
  // A plan from the future means a clock is wrong; its age, and so its freshness, cannot be trusted.
  if (age < -5 * 60_000) return refuse("planFromFuture", `the plan's createdAt ${saved.createdAt} is in the future; check the clocks and re-run rekon plan`);

  const facts = new Map(saved.facts.map((f) => [f.versionArn + "|" + f.action, f]));
  const freshVersions = new Map(freshLive.projects.flatMap((p) => p.versions.map((v) => [v.arn, v] as const)));
  const freshActions = new Map(fresh.actions.filter((a) => a.versionArn).map((a) => [a.versionArn!, a]));
  const stale: SavedPlanCheck["stale"] = [];
  const approved = new Set<string>();

  for (const sa of saved.plan.actions) {
    const kind = writeKind(sa);
    if (!sa.versionArn || !kind) continue;
    const fa = freshActions.get(sa.versionArn);
    const fv = freshVersions.get(sa.versionArn);
    const fact = facts.get(sa.versionArn + "|" + kind);
    const because = (a: PlanAction) => `${a.action}${a.reasons.length ? ` (${a.reasons.map((r) => r.rule).join(", ")})` : ""}`;
    let why: string | undefined;
    if (!fa || !fv) why = "the version is no longer there";
    else if (kind === "delete" && fa.action !== "delete") why = `no longer deletable: ${because(fa)}`;
    else if ((kind === "start" || kind === "stop") && fa.action !== kind) why = `no longer planned to ${kind}: ${because(fa)}`;
    // The reviewer approved a start at these units (and a restart or not): another capacity is another write.
    else if (kind === "start" && (JSON.stringify(fa.units) !== JSON.stringify(sa.units) || !!fa.restartFirst !== !!sa.restartFirst))
      why = `the start changed since the plan was saved (now ${JSON.stringify(fa.units)}${fa.restartFirst ? ", a restart" : ""})`;
    // The reviewer approved a deletion with (or without) its undo: another archive step is another deletion.
    else if (kind === "delete" && (JSON.stringify(fa.archive ?? null) !== JSON.stringify(sa.archive ?? null) || !!fa.noUndo !== !!sa.noUndo))
      why =
        `the archive step changed since the plan was saved ` +
        `(now ${fa.archive ? `${fa.archive.project}/${fa.archive.versionName}` : fa.noUndo ? "none: no undo" : "none"})`;
    else if (kind.startsWith("mark:") && `mark:${fa.mark}` !== kind) why = "the mark is no longer needed";
    else if (!fact) why = "the saved plan has no facts for it";
    else why = changedFacts(fact, fv);
    if (why) stale.push({ action: sa, why });
    else approved.add(kind + "|" + sa.versionArn);
  }

  const plan: Plan = {
    ...fresh,
    actions: fresh.actions.map((a) => {
      if (!a.versionArn) return a;
      const out = { ...a, reasons: [...a.reasons] };
      if (WRITE_ACTIONS.has(a.action) && !approved.has(a.action + "|" + a.versionArn)) {
        // A deletion not approved is blocked; a start or stop not approved leaves the version as it runs.
        out.action = a.action === "delete" ? "blocked" : "keep";
        const s = stale.find((x) => x.action.versionArn === a.versionArn);
        const never = a.action === "delete" ? "deleted" : a.action === "start" ? "started" : "stopped";
        out.reasons.push(
          s
            ? { rule: "stale", message: s.why }
            : { rule: "notInSavedPlan", message: `the saved plan did not list this ${a.action}; it is never ${never} from this plan` },
        );
        delete out.stopFirst;
        delete out.restartFirst;
        delete out.archive;
        delete out.noUndo;
      }
      // A removal the fresh plan makes goes through whether or not the saved plan listed it: it can only
      // delay a deletion (the version was listed again, or is blocked now). Added marks need the saved plan.
      if (a.mark === "add" && !approved.has(`mark:add|` + a.versionArn)) delete out.mark;
      return out;
    }),
  };
  plan.summary = {
    ...fresh.summary,
    delete: plan.actions.filter((a) => a.action === "delete").length,
    keep: plan.actions.filter((a) => a.action === "keep").length,
    blocked: plan.actions.filter((a) => a.action === "blocked").length,
    start: plan.actions.filter((a) => a.action === "start").length,
    stop: plan.actions.filter((a) => a.action === "stop").length,
  };
  return { plan, stale };
}

function changedFacts(f: PlannedFact, v: LiveVersion): string | undefined {
  if (f.status !== v.status) return `status changed from ${f.status} to ${v.status}`;
  if (f.createdAt !== new Date(v.createdAt).toISOString()) return "creation time changed (a different version with the same ARN?)";
  if (f.tags !== undefined || v.tags !== undefined) {
    const a = JSON.stringify(sortKeys(f.tags ?? {}));
    const b = JSON.stringify(sortKeys(v.tags ?? {}));
    if (a !== b) return "tags changed";
  }
  return undefined;
}

function sortKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function blockAll(p: Plan, rule: RuleId, message: string): Plan {
  const actions = p.actions.map((a) => {
    const { mark: _m, stopFirst: _s, restartFirst: _r, archive: _a, noUndo: _n, ...rest } = a;
    if (a.action === "delete") return { ...rest, action: "blocked" as const, reasons: [...a.reasons, { rule, message }] };
    if (a.action === "start" || a.action === "stop") return { ...rest, action: "keep" as const, reasons: [...a.reasons, { rule, message }] };
    return rest;
  });
  return {
    ...p,
    actions,
    summary: {
      ...p.summary,
      delete: 0,
      start: 0,
      stop: 0,
      keep: actions.filter((a) => a.action === "keep").length,
      blocked: actions.filter((a) => a.action === "blocked").length,
    },
    refusals: [...p.refusals, { rule, message }],
  };
}
