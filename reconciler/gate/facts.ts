// What every check of one version is given, and what each says back. The verdict folds the findings of
// one list of checks; `rekon explain` walks the same findings; so plan and explain agree by construction.
import type { Candidate } from "../policy/guards.js";
import type { CustomRuleName, LiveVersion, NoticeStatus, Policy, PolicyField, Reason, RuleId } from "../types.js";
import type { SetView, WorldIndex } from "./world.js";

/** One version, in its set's view of the world, at `now`. */
export interface VersionFacts {
  index: WorldIndex;
  view: SetView;
  policy: Policy;
  v: LiveVersion;
  /** Epoch ms. */
  now: number;
}

/** The guards' view of the same facts (policy/guards.ts). */
export function candidateOf(f: VersionFacts): Candidate {
  const incomplete = f.index.incompleteWhy(f.v.region);
  return {
    version: f.v,
    project: f.view.project!,
    set: f.view.set,
    policy: f.policy,
    now: f.now,
    latest: f.view.latest,
    copySources: f.index.copySources,
    ...(incomplete ? { copySourcesIncomplete: incomplete } : {}),
    // Stryker disable next-line ConditionalExpression,EqualityOperator,ObjectLiteral: equivalent, allowEmpty computes the same from set and project
    ...(f.view.listedExists !== undefined ? { listedExists: f.view.listedExists } : {}),
  };
}

/** A rule id as explain lines and reasons carry it. */
export type CheckId = RuleId | CustomRuleName;

/**
 * What one check said of one version: the reasons it fired (none: it passed), what it compared when it
 * passed, or — when an earlier check already keeps the version — that it was not needed, and what it
 * would have said.
 */
export interface Finding {
  rule: CheckId;
  kind: "guard" | "hold";
  reasons: Reason[];
  pass: string;
  /** The policy layer behind the check's setting. */
  layer?: string;
  /** Not needed (another check keeps the version); what it would say. The verdict ignores it. */
  skipped?: string;
  /** Nothing to show in explain (a step with no rule of its own, such as the reminder). */
  silent?: boolean;
}

/** What the holds decide besides their reasons: the grace bookkeeping apply will do, and when it can go. */
export interface HoldState {
  /** When the version's mark (believed) says it was marked; undefined when it carries none that counts. */
  since?: number;
  /** When its `marked` notice reached a channel (requireNotice). */
  noticed?: number;
  mark?: "add" | "remove";
  deletableAt?: string;
  windowOpensAt?: number;
  notice?: NoticeStatus;
  reminder?: "due" | "sent";
}

/** A hold: a check that keeps a deletable version for a time (and keeps its mark). One file each, under holds/. */
export interface Hold {
  rule: CheckId;
  /** The policy field whose layer is shown. */
  field?: PolicyField;
  /** Whether the policy turns it on (explain: an off hold passes, saying so; an on one is skipped when a guard already keeps the version). Default: on. */
  enabled?(policy: Policy): boolean;
  /** Decide for a deletable version; may update `state` (marks, notices, deletable times). */
  run(f: VersionFacts, state: HoldState): { reasons: Reason[]; pass: string; silent?: boolean };
}

export function layerOf(policy: Policy, field: PolicyField | undefined): { layer?: string } {
  const l = field ? policy.origin[field] : undefined;
  return l ? { layer: l } : {};
}
