// The gate: the one place that decides whether a version may be written to (deleted, stopped, marked,
// unmarked, its notice recorded), from every path — plan, apply, apply FILE, the controller, the demo. The
// planner asks it for each version's verdict; the executor asks it again for an approval right before each
// write, on facts re-read a moment earlier (the last look). Write code cannot reach AWS without an approval
// (approvals.ts).
//
// Pure: no I/O, no clock (every decision takes `now`), so each rule is testable from a table and the
// reference-model property test can compare every decision with an independent implementation.
//
// The invariants no rule's bug may break, checked here for every write:
//   - a version whose name is listed by ANY set that resolves to its project is never deleted or marked;
//   - the version's ARN account is the account its credentials resolved to (STS), and its region the set's;
//   - a read failure in an (account, region) blocks every guard that needed that read (copySourceUnknown);
//   - tags were read wherever the policy needs them; run refusals and deletion budgets hold.
//
// The parts: world.ts (the facts, indexed once), checks.ts (the guards), holds/ (one file per hold),
// verdict.ts (the fold), explain.ts (the same walk, in words), budgets.ts (run-wide), lastlook.ts (single
// writes), approvals.ts (the branded approvals).
import { needsMark, needsTags } from "../policy/guards.js";
import { readStateTag, type TagReading } from "../policy/marks.js";
import type { LiveState, LiveVersion, LookSpec, Plan, PlanAction, PolicySet, Reason } from "../types.js";
import type { Approved, CopyWrite, DeleteWrite, MarkWrite, NoticeWrite, RunAuthorization, StartWrite, StopWrite, UnmarkWrite } from "./approvals.js";
import { decideApproval, type ApprovalDecision } from "./approve.js";
import { authorize, authorizeUnmarks, budgetRefusals, startRefusals } from "./budgets.js";
import { runtimeVerdict, type RuntimeVerdict } from "./runtime.js";
import { approveArchive } from "./copy.js";
import { explainVersion, type Explanation } from "./explain.js";
import { approve, approveMark, approveNotice, approveRestartStop, approveRuntime, lookFor, type Denial, type Look } from "./lastlook.js";
import { keptWithoutTags, verdictOf, type Seen, type Verdict } from "./verdict.js";
import { WorldIndex, type GateWorld, type SetView } from "./world.js";

export class Gate {
  private constructor(private readonly index: WorldIndex) {}

  static assess(world: GateWorld): Gate {
    return new Gate(new WorldIndex(world));
  }

  /** The same gate with the versions' tags as read: ownership and completeness are not indexed again. */
  withTags(live: LiveState): Gate {
    return new Gate(this.index.withTags(live));
  }

  get views(): readonly SetView[] {
    return this.index.views;
  }

  get policies(): PolicySet {
    return this.index.policies;
  }

  view(setName: string): SetView | undefined {
    return this.index.view(setName);
  }

  /** Everything that decides whether `v`, a live version of the set's project, may be deleted at `now`. */
  verdict(view: SetView, v: LiveVersion, now: number): Verdict {
    return verdictOf({ index: this.index, view, policy: view.policy, v, now });
  }

  /** What one of rekon's state tags on `v` says, verified under the operator's tag signing (pending, the status page). */
  stateTag(v: LiveVersion, tagKey: string): TagReading | undefined {
    return readStateTag(this.index.signer, v.arn, tagKey, v.tags?.[tagKey]);
  }

  /** A listed version's running state (start, stop, or why neither): see runtime.ts. Undefined for an unlisted version. */
  runtime(view: SetView, v: LiveVersion, now: number): RuntimeVerdict | undefined {
    const d = view.set.versions.find((x) => x.name === v.name);
    return d ? runtimeVerdict({ index: this.index, view, policy: view.policy, v, now }, d) : undefined;
  }

  /** The start budgets for these planned actions, given each set's running units after the plan (budgets.ts). */
  startRefusals(actions: readonly PlanAction[], unitsAfter: ReadonlyMap<string, number>): Reason[] {
    return startRefusals(this.index, actions, unitsAfter);
  }

  /** Every check for one version, in words; see explain.ts. */
  explain(view: SetView, v: LiveVersion, now: number, refusals: readonly Reason[] = [], seen?: Seen): Explanation {
    const x = explainVersion({ index: this.index, view, policy: view.policy, v, now }, refusals, seen);
    // A listed version's running state, as plan decides it (a refused run starts and stops nothing).
    const rt = x.decision === "keep" ? this.runtime(view, v, now) : undefined;
    if (rt && (rt.action || rt.reasons.length)) {
      const act = refusals.length ? undefined : rt.action;
      x.running = {
        ...(act ? { action: act } : {}),
        ...(rt.units ? { units: rt.units } : {}),
        ...(act && rt.restartFirst ? { restartFirst: true } : {}),
        reasons: [...rt.reasons, ...(rt.action && refusals.length ? refusals : [])],
      };
    }
    return x;
  }

  /**
   * The versions whose tags the plan needs: deletion candidates when a guard reads tags, and, while a grace
   * period is in force, every version not already leaving (listed ones to clear a stale mark, blocked ones
   * so that their mark can be removed). Nothing else: ListTagsForResource is rate-limited like every call.
   */
  versionsNeedingTags(now: number): LiveVersion[] {
    const out: LiveVersion[] = [];
    for (const view of this.index.views) {
      if (!view.project || view.status !== "ok") continue;
      const own = new Set(view.set.versions.map((d) => d.name));
      for (const v of view.project.versions) {
        if (needsMark(view.policy)) {
          if (v.status !== "DELETING") out.push(v);
        } else if (!own.has(v.name) && needsTags(view.policy) && !keptWithoutTags({ index: this.index, view, policy: view.policy, v, now })) out.push(v);
      }
    }
    return out;
  }

  /** Run-wide refusals for these planned deletions: the caller's, then every budget that is exceeded. */
  refusals(deletes: readonly PlanAction[]): Reason[] {
    return budgetRefusals(this.index, deletes);
  }

  authorize(plan: Plan): RunAuthorization {
    return authorize(this.index, plan);
  }

  authorizeUnmarks(plan: Plan): { auth: RunAuthorization; plan: Plan } | undefined {
    return authorizeUnmarks(this.index, plan);
  }

  lookFor(actions: readonly PlanAction[]): LookSpec | undefined {
    return lookFor(this.index, actions);
  }

  approve<K extends "delete" | "stop">(
    kind: K,
    auth: RunAuthorization,
    a: PlanAction,
    look: Look,
    now: number,
  ): Approved<K extends "delete" ? DeleteWrite : StopWrite> | Denial {
    return approve(this.index, kind, auth, a, look, now);
  }

  approveRuntime<K extends "start" | "stop">(
    kind: K,
    auth: RunAuthorization,
    a: PlanAction,
    look: Look,
    now: number,
  ): Approved<K extends "start" ? StartWrite : StopWrite> | Denial {
    return approveRuntime(this.index, kind, auth, a, look, now);
  }

  approveRestartStop(auth: RunAuthorization, a: PlanAction, look: Look, now: number): Approved<StopWrite> | Denial {
    return approveRestartStop(this.index, auth, a, look, now);
  }

  /** The archive step of planned deletion `a` (spec.archive): see copy.ts. */
  approveArchive(
    auth: RunAuthorization,
    a: PlanAction,
    look: Look,
    destinationProjectArn: string,
    copyName: string,
    now: number,
  ): Approved<CopyWrite> | Denial {
    return approveArchive(this.index, auth, a, look, destinationProjectArn, copyName, now);
  }

  approveMark(auth: RunAuthorization, a: PlanAction, now: number): Approved<MarkWrite> | Approved<UnmarkWrite> | Denial {
    return approveMark(this.index, auth, a, now);
  }

  /** `rekon approve`: whether a person's approval may be written for `v` at `now`, and what else holds it (approve.ts). */
  approval(view: SetView, v: LiveVersion, now: number): ApprovalDecision {
    return decideApproval(this.index, view, v, now);
  }

  approveNotice(auth: RunAuthorization, a: PlanAction, which: "notice" | "reminder", deliveredAt: number, now: number): Approved<NoticeWrite> | Denial {
    return approveNotice(this.index, auth, a, which, deliveredAt, now);
  }
}

export type { ApprovalDecision } from "./approve.js";
export {
  GateError,
  redeem,
  type Approved,
  type ApprovalWrite,
  type CopyWrite,
  type DeleteWrite,
  type MarkWrite,
  type NoticeWrite,
  type RunAuthorization,
  type StartWrite,
  type StopWrite,
  type UnmarkWrite,
  type Write,
} from "./approvals.js";
export { ARCHIVED_AT_TAG, ARCHIVED_FROM_TAG, RESTORED_FROM_TAG, archiveNames, isCopyOf, projectArnParts, VERSION_NAME } from "./archive.js";
export { approveRestore, type RestoreFacts } from "./copy.js";
export type { ExplainCheck, Explanation } from "./explain.js";
export { BILLED, liveUnits, type RuntimeVerdict } from "./runtime.js";
export type { Denial, Look } from "./lastlook.js";
export type { Verdict } from "./verdict.js";
export type { GateWorld, SetView } from "./world.js";
