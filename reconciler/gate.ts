// The gate: the one place that decides whether a version may be written to (deleted, stopped, marked,
// unmarked), from every path — plan, apply, apply FILE, the controller, the demo. The planner asks it for
// each version's verdict; the executor asks it again for an approval right before each write, on facts
// re-read a moment earlier (the last look). Write code cannot reach AWS without an approval: `Approved<T>`
// can only be made here (its brand is a symbol this module does not export), and each approval is also
// checked at run time and spent on use (see `redeem`).
//
// Pure: no I/O, no clock (every decision takes `now`), so each rule is testable from a table and the
// reference-model property test can compare every decision with an independent implementation.
//
// The invariants no rule's bug may break, checked here for every write:
//   - a version whose name is listed by ANY set that resolves to its project is never deleted or marked;
//   - the version's ARN account is the account its credentials resolved to (STS), and its region the set's;
//   - a read failure in an (account, region) blocks every guard that needed that read (copySourceUnknown);
//   - tags were read wherever the policy needs them; run refusals and deletion budgets hold.
import { formatDuration } from "./duration.js";
import { RefusalError } from "./errors.js";
import { effectivePolicy } from "./policy/layers.js";
import { APPROVAL_TAG, someListedExists, evaluateGuards, evaluateTagGuards, formatMark, formatNotice, MARK_TAG, missingProjectTags, nearMiss, needsMark, needsTags, newest, NOTICE_TAG, noticeTime, parseMark, REMINDER_TAG, stoppable, type Candidate } from "./policy/guards.js";
import { windowMessage, windowVerdict } from "./policy/windows.js";
import { manifestLayer, operatorLayer } from "./policy/naming.js";
import { sourceOf, type NoticeStatus, type PolicyField, type Suspension, type DesiredSet, type DesiredState, type IdentityFact, type LiveProject, type LiveState, type LiveVersion, type Plan, type PlanAction, type PlanProject, type Policy, type PolicySet, type Reason } from "./types.js";
import { firstLine } from "./text.js";
import { readStateTag, type TagSigner, type TagTrouble } from "./policy/marks.js";
import { VERSION_STATUSES, type LookSpec } from "./types.js";

const KNOWN_STATUSES: ReadonlySet<string> = new Set(VERSION_STATUSES);

// ---------------------------------------------------------------------------------------------------
// Approvals: a type only this module can make, and a run-time record of what it made and what was spent.

declare const APPROVED: unique symbol;
/** A write the gate approved. Only the gate can construct one; the executor accepts nothing else. */
export type Approved<T> = T & { readonly [APPROVED]: true };

interface WriteTarget {
  versionArn: string;
  versionName: string;
  project: string;
  region: string;
  /** The account the credentials resolved to; the write must go out with exactly these credentials. */
  account: string;
  /** "ambient" or the role ARN: which credentials to use. */
  source: string;
}
export interface DeleteWrite extends WriteTarget {
  kind: "delete";
  /** When the facts it was approved on were read (epoch ms): the executor re-looks when they get old. */
  lookedAt: number;
}
export interface StopWrite extends WriteTarget {
  kind: "stop";
  lookedAt: number;
}
export interface MarkWrite extends WriteTarget {
  kind: "mark";
  /** The tag value to write: the time, signed under spec.tagSigning. */
  value: string;
  /** The RFC 3339 UTC time the mark records. */
  at: string;
}
export interface UnmarkWrite extends WriteTarget {
  kind: "unmark";
}
/** Recording that a notification about the version reached a channel: its `marked` notice, or its reminder. */
export interface NoticeWrite extends WriteTarget {
  kind: "notice";
  tag: typeof NOTICE_TAG | typeof REMINDER_TAG;
  /** The tag value to write: the delivery time (RFC 3339 UTC, rounded up to the second), signed under spec.tagSigning. */
  value: string;
}
export type Write = DeleteWrite | StopWrite | MarkWrite | UnmarkWrite | NoticeWrite;

const minted = new WeakSet<object>();
const spent = new WeakSet<object>();

function mint<T extends Write>(w: T): Approved<T> {
  const a = Object.freeze({ ...w }) as unknown as Approved<T>;
  minted.add(a);
  return a;
}

/** A write reached the executor without a valid approval: a bug in rekon, never a user error. */
export class GateError extends Error {
  override readonly name = "GateError";
}

/**
 * Checked by the executor immediately before the SDK call: the approval must have been made by this
 * gate, for this kind of write, and not used before (an approval is for one write, on one look).
 */
export function redeem(a: Approved<Write>, kind: Write["kind"]): void {
  if (!minted.has(a)) throw new GateError(`refusing a ${kind} of ${(a as Write)?.versionArn}: the approval was not made by the gate`);
  if (a.kind !== kind) throw new GateError(`refusing a ${kind} of ${a.versionArn}: the approval is for a ${a.kind}`);
  if (spent.has(a)) throw new GateError(`refusing a ${kind} of ${a.versionArn}: the approval was already used`);
  spent.add(a);
}

declare const AUTHORIZED: unique symbol;
/** A plan the gate agreed to act on as a whole (no refusal, within budget, accounts named). */
export type RunAuthorization = { readonly plan: Plan; readonly deletable: ReadonlySet<string>; readonly marks: ReadonlyMap<string, "add" | "remove">; readonly [AUTHORIZED]: true };
const authorizations = new WeakSet<object>();

/** What the gate answers when it does not approve. */
export interface Denial {
  denied: true;
  /** The version is gone (the last look did not find it): the goal of a delete is already met. */
  gone?: boolean;
  reasons: Reason[];
}

// ---------------------------------------------------------------------------------------------------
// The facts, assessed once per plan.

export interface GateWorld {
  desired: DesiredState;
  live: LiveState;
  policies: PolicySet | Policy;
  now: Date;
  /** Run-wide refusals decided by the caller (e.g. manifestsStale from the controller): nothing is written. */
  refusals?: Reason[];
  /** The operator's tag signing (spec.tagSigning), its key resolved at the edge: state tags must verify. */
  signer?: TagSigner;
}

/** One ProjectVersionSet as the gate sees it. */
export interface SetView {
  set: DesiredSet;
  policy: Policy;
  /** The account the set's credentials resolved to. */
  account?: string;
  callerArn?: string;
  status: PlanProject["status"];
  error?: string;
  /** The live project, present when it was read completely (status ok), or for notFound. */
  project?: LiveProject;
  /** The newest `keepLatest` versions' ARNs (plan time). */
  latest: ReadonlySet<string>;
  /** Whether any listed name exists live (allowEmpty), once per project. */
  listedExists?: boolean;
}

/** A version's verdict: why it must not be deleted now (empty = deletable), and the grace bookkeeping. */
export interface Verdict {
  reasons: Reason[];
  mark?: "add" | "remove";
  deletableAt?: string;
  stopFirst?: boolean;
  /** When a deletion window now keeping it opens (epoch ms). */
  windowOpensAt?: number;
  /** A marked version (or one apply marks) under a policy with notifications or requireNotice: its notice. */
  notice?: NoticeStatus;
  /** remindBefore: the reminder for its mark is due now, or was sent. */
  reminder?: "due" | "sent";
}

/** Rules that keep a version for a time (and keep its mark), rather than block it. */
const HOLDS = new Set(["gracePeriod", "approvalRequired", "window", "suspended", "noticeNotDelivered", "markUnsigned", "markForged"]);

/** One check of `rekon explain`: its verdict for the version, and what it compared. */
export interface ExplainCheck {
  rule: string;
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
}

/** The facts one last look gathered for a batch of versions of one project. */
export interface Look {
  /** Epoch ms the answers arrived. */
  at: number;
  /** Versions found, by name (with tags where the look read them). */
  byName: ReadonlyMap<string, LiveVersion>;
  /**
   * The project's versions at least as new as the newest the plan saw, read at the look (aws/look.ts
   * readNewest): where a version created since the plan shows, a copy of the candidate among them.
   * Absent: not read, and a deletion is then not approved.
   */
  newest?: readonly LiveVersion[];
}

const key = (...parts: string[]) => parts.join("|");

function asSet(p: Policy | PolicySet): PolicySet {
  return "operator" in p ? p : { operator: p, scoped: [] };
}

export class Gate {
  readonly views: readonly SetView[];
  readonly policies: PolicySet;
  private readonly signer: TagSigner | undefined;
  private readonly bySet = new Map<string, SetView>();
  /** account|region|project → names listed by sets resolved to that account. */
  private readonly listed = new Map<string, Map<string, DesiredSet>>();
  /** region|project → names listed by sets whose account is unknown: they may own it in any account. */
  private readonly listedAnyAccount = new Map<string, Map<string, DesiredSet>>();
  private readonly copySources = new Set<string>();
  /**
   * region → why something in it was not read completely. By region, not (account, region): a copy
   * (CopyProjectVersion) can go to another account's project in the same region, so any unread project in
   * the region, in any account, could hold a copy of a candidate in progress.
   */
  private readonly incomplete = new Map<string, Set<string>>();
  private readonly callerRefusals: Reason[];
  /** Version ARN → the listed names that do not exist and that it nearly matches (a probable typo). */
  private readonly nearMisses = new Map<string, string[]>();
  /** Version ARN → every listed name it nearly matches, there or not (computed when a look needs it). */
  private readonly nearListed = new Map<string, string[]>();

  /** The listed names close to a planned deletion: if one goes missing before the last look, it is a near miss. */
  private closeListed(view: SetView, arn: string, name: string): string[] {
    let close = this.nearListed.get(arn);
    if (!close) this.nearListed.set(arn, (close = view.set.versions.map((d) => d.name).filter((m) => nearMiss(m, name)).sort()));
    return close;
  }

  private constructor(world: GateWorld) {
    this.policies = asSet(world.policies);
    this.callerRefusals = world.refusals ?? [];
    this.signer = world.signer;
    const identities = new Map((world.live.identities ?? []).map((i) => [i.source, i]));
    const liveBySet = new Map(world.live.projects.map((p) => [p.set, p]));

    // Ownership is keyed by the account the credentials resolved to: two sets that reach one project
    // (say, ambient credentials and a role in the same account) would each delete what the other lists.
    const owners = new Map<string, DesiredSet[]>();
    for (const s of world.desired.sets) {
      const id = identities.get(sourceOf(s));
      if (id?.account) owners.set(key(id.account, s.region, s.project), [...(owners.get(key(id.account, s.region, s.project)) ?? []), s]);
    }

    for (const s of world.desired.sets) {
      const id = identities.get(sourceOf(s));
      const names = new Map(s.versions.map((v) => [v.name, s] as const));
      if (id?.account) addAll(this.listed, key(id.account, s.region, s.project), names);
      else addAll(this.listedAnyAccount, key(s.region, s.project), names);
    }
    for (const p of world.live.projects) for (const v of p.versions) if (v.status === "COPYING_IN_PROGRESS" && v.sourceVersionArn) this.copySources.add(v.sourceVersionArn);

    const views: SetView[] = [];
    for (const s of world.desired.sets) {
      const policy = effectivePolicy(this.policies, s.project);
      const id = identities.get(sourceOf(s));
      const base = { set: s, policy, latest: new Set<string>() as ReadonlySet<string> };
      const view = ((): SetView => {
        if (!id?.account) {
          const why = `the account of ${describeSource(s)} could not be resolved (sts:GetCallerIdentity${id?.error ? `: ${id.error}` : " was not called"}); nothing in this project is read or deleted`;
          this.markIncomplete(s.region, `project ${s.project} in ${s.region} was not read (${describeSource(s)} unresolved)`);
          return { ...base, status: "error", error: why };
        }
        const withId = { ...base, account: id.account, ...(id.arn ? { callerArn: id.arn } : {}) };
        const lp0 = liveBySet.get(s.name);
        const lp = lp0 && lp0.project === s.project && lp0.region === s.region ? lp0 : undefined;
        if (!lp || lp.status === "error") this.markIncomplete(s.region, `project ${s.project}${s.roleArn ? ` (account ${id.account})` : ""} could not be read${lp?.error ? ` (${firstLine(lp.error)})` : ""}`);
        const others = (owners.get(key(id.account, s.region, s.project)) ?? []).filter((o) => o !== s);
        if (others.length > 0) {
          return {
            ...withId,
            status: "error",
            error: `project "${s.project}" in ${s.region} of account ${id.account} is claimed by ${[s, ...others].map((o) => `ProjectVersionSet "${o.name}" (${o.pos.file}:${o.pos.line}:${o.pos.col}, ${describeSource(o)})`).join(" and ")}: they resolve to the same project, so each would delete what the other lists; nothing in it is deleted — merge them into one set`,
          };
        }
        // A project that was not read at all is a read failure, never "empty": fail closed.
        if (!lp) return { ...withId, status: "error", error: "live state was not read" };
        if (lp.status !== "ok") return { ...withId, status: lp.status, error: lp.error ?? lp.status, ...(lp.status === "notFound" ? { project: lp } : {}) };
        if (lp.account !== undefined && lp.account !== id.account) {
          this.markIncomplete(s.region, `project ${s.project} answered from account ${lp.account}`);
          return { ...withId, status: "error", error: `the project's ARN is in account ${lp.account}, but ${describeSource(s)} resolved to account ${id.account}; nothing in it is deleted` };
        }
        if (policy.requireProjectTag.length > 0) {
          if (!lp.tags) return { ...withId, status: "error", error: "project tags were not read, so ownership (requireProjectTag) cannot be checked" };
          const missing = missingProjectTags(policy, lp.tags);
          if (missing.length) {
            return { ...withId, status: "notManaged", error: `project lacks required tag(s) ${missing.map((t) => `${t.key}=${t.value}`).join(", ")} (${[...new Set(missing.map((t) => t.origin))].join("; ")}); nothing in it is deleted` };
          }
        }
        return { ...withId, status: "ok", project: lp, latest: newest(lp.versions, policy.keepLatest), listedExists: someListedExists(s, lp) };
      })();
      views.push(view);
      this.bySet.set(s.name, view);
    }
    this.views = views;
    for (const view of views) {
      if (!view.project || view.status !== "ok") continue;
      const live = new Set(view.project.versions.map((v) => v.name));
      const missing = view.set.versions.map((d) => d.name).filter((n) => !live.has(n));
      const listed = new Set(view.set.versions.map((d) => d.name));
      for (const v of view.project.versions) {
        if (listed.has(v.name)) continue;
        const near = missing.filter((m) => nearMiss(m, v.name)).sort();
        if (near.length) this.nearMisses.set(v.arn, near);
      }
    }
  }

  static assess(world: GateWorld): Gate {
    return new Gate(world);
  }

  private readonly incompleteText = new Map<string, string | undefined>();
  /** Why the region was not read completely, every reason sorted (the text must not depend on the order of reads). */
  private incompleteWhy(region: string): string | undefined {
    if (!this.incompleteText.has(region)) {
      const whys = [...(this.incomplete.get(region) ?? [])].sort();
      this.incompleteText.set(region, whys.length === 0 ? undefined : whys.length <= 3 ? whys.join("; ") : `${whys.slice(0, 3).join("; ")}; and ${whys.length - 3} more`);
    }
    return this.incompleteText.get(region);
  }

  private markIncomplete(region: string, why: string): void {
    this.incomplete.set(region, (this.incomplete.get(region) ?? new Set()).add(why));
    this.incompleteText.delete(region);
  }

  view(setName: string): SetView | undefined {
    return this.bySet.get(setName);
  }

  /** A set that lists this version's name for its project, in its account (or in any, when the set's account is unknown). */
  listedBy(v: LiveVersion): DesiredSet | undefined {
    return this.listed.get(key(v.account, v.region, v.project))?.get(v.name) ?? this.listedAnyAccount.get(key(v.region, v.project))?.get(v.name);
  }

  /** The invariants, before any policy rule: listing anywhere, and the identity the write would use. */
  private invariants(view: SetView, v: LiveVersion): Reason[] {
    const out: Reason[] = [];
    const by = this.listedBy(v);
    if (by) out.push({ rule: "listed", message: `listed by ProjectVersionSet "${by.name}" (${by.pos.file}:${by.pos.line}:${by.pos.col})` });
    if (!view.account) out.push({ rule: "identityMismatch", message: "the account of the credentials is unknown" });
    else if (v.account !== view.account) out.push({ rule: "identityMismatch", message: `its ARN is in account ${v.account}, but the credentials resolved to account ${view.account}` });
    if (v.region !== view.set.region) out.push({ rule: "identityMismatch", message: `its ARN is in region ${v.region}, but the set is read in ${view.set.region}` });
    if (v.project !== view.set.project) out.push({ rule: "identityMismatch", message: `its ARN is in project ${v.project}, not ${view.set.project}` });
    return out;
  }

  private candidate(view: SetView, v: LiveVersion, now: number): Candidate {
    const incomplete = this.incompleteWhy(v.region);
    return { version: v, project: view.project!, set: view.set, policy: view.policy, now, latest: view.latest, copySources: this.copySources, ...(incomplete ? { copySourcesIncomplete: incomplete } : {}), ...(view.listedExists !== undefined ? { listedExists: view.listedExists } : {}) };
  }

  /** Reasons that need no tags (to decide whose tags to read). Empty = a deletion candidate so far. */
  staticReasons(view: SetView, v: LiveVersion, now: number): Reason[] {
    if (!view.project || view.status !== "ok") return [{ rule: "notRead", message: view.error ?? "project not read" }];
    const near = view.policy.nearMissGuard ? this.nearMisses.get(v.arn) : undefined;
    const nearReason: Reason[] = near ? [{ rule: "nearMiss", message: `listed ${near.map((n) => JSON.stringify(n)).join(", ")} ${near.length === 1 ? "is" : "are"} missing; did you mean ${JSON.stringify(v.name)}? Names are case-sensitive: fix the manifest, or remove the listed name`, ...(view.policy.origin.nearMissGuard ? { layer: view.policy.origin.nearMissGuard } : {}) }] : [];
    return [...this.invariants(view, v), ...evaluateGuards(this.candidate(view, v, now)), ...nearReason];
  }

  /**
   * Everything that decides whether `v` (an unlisted live version of the set's project) may be deleted at
   * `now`: the invariants, every guard, tag guards, the grace period, and what to do with its mark.
   */
  verdict(view: SetView, v: LiveVersion, now: number): Verdict {
    const reasons = this.staticReasons(view, v, now);
    const policy = view.policy;
    if (reasons.length === 0) reasons.push(...evaluateTagGuards(this.candidate(view, v, now)));
    const suspended = this.suspension(view, now);
    // A version blocked by a guard (and whose tags were read) loses its mark: a notice must refer to a
    // version that was deletable all along, not one that became so again. Even while suspended: a removal
    // can only delay a deletion, and a mark kept through the suspension would make the version deletable
    // at once, on an old notice, if the guard goes away later.
    const hasMark = v.tags !== undefined && Object.hasOwn(v.tags, MARK_TAG);
    if (reasons.length > 0) {
      const all = suspended ? [...reasons, suspended] : reasons;
      if (hasMark && !reasons.some((r) => r.rule === "tagsUnreadable")) return { reasons: all, mark: "remove" };
      return { reasons: all };
    }

    // A candidate. What remains are the time-bound holds, none of which removes a mark: the grace
    // period, approval, the deletion windows (marks may be written inside a deny window) and suspension.
    const out: Verdict = { reasons };
    const lay = (f: PolicyField) => (policy.origin[f] ? { layer: policy.origin[f]! } : {});
    let since: number | undefined;
    if (needsMark(policy)) {
      const mark = this.stateTag(v, MARK_TAG);
      since = parseMark(mark.time, now);
      if (mark.trouble) reasons.push(this.troubleReason(mark.trouble, "mark", v.tags![MARK_TAG]!, "apply writes a signed mark and the grace period starts again"));
      if (since === undefined) {
        out.mark = "add";
        const bad = hasMark && !mark.trouble ? `its mark ${JSON.stringify(v.tags![MARK_TAG])} is not an RFC 3339 UTC time rekon wrote, so it counts as none; ` : "";
        if (policy.gracePeriodMs > 0) {
          const after = policy.requireNotice ? `deletable ${policy.gracePeriod} after its notice reaches a channel (requireNotice)` : `deletable after ${(out.deletableAt = new Date(now + policy.gracePeriodMs).toISOString())}`;
          reasons.push({ rule: "gracePeriod", message: `${bad}apply marks it pending deletion (${MARK_TAG}); ${after} (gracePeriod ${policy.gracePeriod})`, ...lay("gracePeriod") });
        } else if (bad && policy.requireApproval) reasons.push({ rule: "approvalRequired", message: `${bad}apply marks it again`, ...lay("requireApproval") });
      } else if (now - since < policy.gracePeriodMs) {
        out.deletableAt = new Date(since + policy.gracePeriodMs).toISOString();
        reasons.push({ rule: "gracePeriod", message: `marked pending deletion at ${new Date(since).toISOString()}; deletable after ${out.deletableAt} (gracePeriod ${policy.gracePeriod}, ${formatDuration(since + policy.gracePeriodMs - now)} to go)`, ...lay("gracePeriod") });
      }
      // No notice, no deletion: a hold like the grace period (it never removes the mark), counted from when
      // a channel accepted the `marked` notice of this very mark.
      let noticed: number | undefined;
      if (policy.requireNotice) {
        const notice = this.stateTag(v, NOTICE_TAG);
        noticed = noticeTime(notice.time, since, now);
        if (notice.trouble && since !== undefined) reasons.push(this.troubleReason(notice.trouble, "notice tag", v.tags![NOTICE_TAG]!, "apply sends the notice again and the grace period counts from its delivery"));
        if (noticed === undefined) {
          out.notice = "pending";
          delete out.deletableAt; // unknown until a channel accepts the notice
          const seen = since !== undefined && v.tags?.[NOTICE_TAG] !== undefined && !notice.trouble ? ` (${NOTICE_TAG}=${JSON.stringify(v.tags[NOTICE_TAG])} is not an RFC 3339 UTC time at or after the mark)` : "";
          reasons.push({ rule: "noticeNotDelivered", message: `${since === undefined ? "once marked, its" : "its"} \`marked\` notice has not reached a channel yet${seen}; apply sends it, records ${NOTICE_TAG} when a channel accepts it, and it is deletable ${policy.gracePeriod} after that`, ...lay("requireNotice") });
        } else {
          out.notice = "delivered";
          if (now - noticed < policy.gracePeriodMs) {
            const at = noticed + policy.gracePeriodMs;
            if (out.deletableAt === undefined || Date.parse(out.deletableAt) < at) out.deletableAt = new Date(at).toISOString();
            reasons.push({ rule: "noticeNotDelivered", message: `its \`marked\` notice reached a channel at ${new Date(noticed).toISOString()}, less than gracePeriod ${policy.gracePeriod} ago; deletable after ${new Date(at).toISOString()} (${formatDuration(at - now)} to go)`, ...lay("requireNotice") });
          }
        }
      } else if (policy.notifications.length > 0) out.notice = "notRequired";
      // remindBefore: once per mark, when the version is that close to becoming deletable (with requireNotice,
      // counted from the notice: no reminder of a deletion whose notice has not gone out).
      if (policy.remindBeforeMs > 0 && since !== undefined && policy.notifications.some((c) => c.events.includes("reminder"))) {
        const from = policy.requireNotice ? noticed : since;
        if (noticeTime(this.stateTag(v, REMINDER_TAG).time, since, now) !== undefined) out.reminder = "sent";
        else if (from !== undefined && now >= from + policy.gracePeriodMs - policy.remindBeforeMs && now < from + policy.gracePeriodMs) out.reminder = "due";
      }
    }
    if (policy.requireApproval) {
      const approved = parseMark(v.tags?.[APPROVAL_TAG], now);
      if (since === undefined) reasons.push({ rule: "approvalRequired", message: `needs a person's approval: once apply has marked it, tag it ${APPROVAL_TAG}=<RFC 3339 UTC time after the mark>`, ...lay("requireApproval") });
      else if (approved === undefined || approved <= since) {
        const seen = v.tags?.[APPROVAL_TAG] !== undefined ? ` (${APPROVAL_TAG}=${JSON.stringify(v.tags[APPROVAL_TAG])} is ${approved === undefined ? "not an RFC 3339 UTC time" : "not later than the mark"})` : "";
        reasons.push({ rule: "approvalRequired", message: `needs a person's approval: tag ${APPROVAL_TAG}=<RFC 3339 UTC time after ${new Date(since).toISOString()}>${seen}`, ...lay("requireApproval") });
      }
    }
    if (policy.windows.length > 0) {
      const w = windowVerdict(policy.windows, now);
      if (!w.allowed) {
        reasons.push({ rule: "window", message: windowMessage(w, now), layer: w.blockedBy!.origin });
        if (w.nextAllowed !== undefined) out.windowOpensAt = w.nextAllowed;
      }
    }
    if (suspended) {
      reasons.push(suspended);
      delete out.mark;
      delete out.notice;
      delete out.reminder;
    }
    if (reasons.length === 0 && stoppable(v, policy)) out.stopFirst = true;
    return out;
  }

  /**
   * One of rekon's own state tags (mark, notice, reminder) as far as it may be believed: its time, or, under
   * tag signing, why it does not count. Without signing a tag is its time, as before.
   */
  private stateTag(v: LiveVersion, tagKey: string): { time?: string; trouble?: TagTrouble } {
    const r = readStateTag(this.signer, v.arn, tagKey, v.tags?.[tagKey]);
    if (!r) return {};
    return "trouble" in r ? { trouble: r.trouble } : { time: r.time };
  }

  /** The plan says why a state tag was not believed (a hold: the version waits for a mark rekon writes itself). */
  private troubleReason(trouble: TagTrouble, what: string, value: string, then: string): Reason {
    const why = trouble === "unsigned" ? "carries no signature" : "has a signature that does not verify (written by someone else, for another version, or with a rotated key)";
    return { rule: trouble === "unsigned" ? "markUnsigned" : "markForged", message: `its ${what} ${JSON.stringify(value)} ${why}, so under tagSigning it counts as none; ${then}`, layer: operatorLayer(this.policies.operator.source) };
  }

  /** The suspension in force for this set's project at `now` (operator, a manifest layer, or the set's own). */
  private suspension(view: SetView, now: number): Reason | undefined {
    const all = [this.policies.operator.suspend, ...this.policies.scoped.filter((p) => p.projects.includes(view.set.project)).map((p) => p.spec.suspend), view.set.suspend];
    // `!(now >= until)`, not `now < until`: a time that failed to parse (NaN) keeps the suspension in force.
    const s = all.find((x): x is Suspension => x !== undefined && (x.until === undefined || !(now >= x.until)));
    return s ? { rule: "suspended", message: `suspended: ${s.reason}${s.until !== undefined ? ` (until ${Number.isFinite(s.until) ? new Date(s.until).toISOString() : "a time that does not parse: until further notice"})` : ""}; nothing is deleted or marked`, layer: s.origin } : undefined;
  }

  /**
   * Every check the gate makes for one version, with its verdict and the values it compared: why it is
   * kept, or that each check passed. The decision comes from `verdict` (and the run's refusals), never
   * from this description, so explain can never disagree with plan. Checks the gate did not need (the tag
   * guards and time-bound holds of a version another check already keeps) are `skip`, with what they
   * would say on `seen`: tags explain read itself for the purpose, which never enter the verdict.
   */
  explain(view: SetView, v: LiveVersion, now: number, refusals: readonly Reason[] = [], seen?: { tags?: Record<string, string>; tagsError?: string }): Explanation {
    const policy = view.policy;
    const listedOwn = view.set.versions.some((d) => d.name === v.name);
    if (listedOwn) {
      const checks: ExplainCheck[] = [{ rule: "listed", verdict: "keep", detail: `listed by its own ProjectVersionSet "${view.set.name}" (${view.set.pos.file}:${view.set.pos.line}:${view.set.pos.col})` }];
      // Listed again: its old mark goes, in a refused run too (a removal can only delay a deletion).
      return { decision: "keep", checks, ...(v.tags && Object.hasOwn(v.tags, MARK_TAG) ? { mark: "remove" as const } : {}) };
    }
    const verdict = this.verdict(view, v, now);
    const fired = new Map<string, Reason[]>();
    for (const r of verdict.reasons) fired.set(r.rule, [...(fired.get(r.rule) ?? []), r]);
    const checks: ExplainCheck[] = [];
    const check = (rule: string, pass: string, o: { field?: PolicyField; skip?: string } = {}) => {
      const layer = o.field ? policy.origin[o.field] : undefined;
      const hits = fired.get(rule);
      if (hits) for (const r of hits) checks.push({ rule, verdict: HOLDS.has(rule) ? "hold" : "block", detail: r.message, ...((r.layer ?? layer) ? { layer: (r.layer ?? layer)! } : {}) });
      else if (o.skip) checks.push({ rule, verdict: "skip", detail: o.skip, ...(layer ? { layer } : {}) });
      else checks.push({ rule, verdict: "pass", detail: pass, ...(layer ? { layer } : {}) });
    };
    // The gate runs tag guards only for versions every tag-free check passed, and the holds only for
    // versions every guard passed: past the first keep, the rest are not evaluated.
    const staticKeep = this.staticReasons(view, v, now).length > 0;
    const guardKeep = verdict.reasons.some((r) => !HOLDS.has(r.rule));
    const notNeeded = "not evaluated: another check already keeps it";

    const age = formatDuration(Math.max(0, now - v.createdAt));
    check("listed", "not listed by any set that reaches this project");
    check("identityMismatch", `its ARN's account ${v.account} and region ${v.region} are the ones the credentials resolved to`);
    check("unknownStatus", `${v.status} is one of the 14 documented statuses`);
    check("inUse", stoppable(v, policy) ? "RUNNING, and stopRunning lets rekon stop it first" : `${v.status} is not in use`);
    check("copySource", "no copy of it is in progress in the projects read");
    check("copySourceUnknown", "every project of its account and region was read");
    check("minAge", `age ${age} ≥ minAge ${policy.minAge}`, { field: "minAge" });
    check("keepLatest", policy.keepLatest > 0 ? `not among the newest ${policy.keepLatest}` : "keepLatest 0", { field: "keepLatest" });
    check("allowEmpty", policy.allowEmpty ? "allowEmpty: true" : `the set lists ${view.set.versions.length} name(s), at least one of which exists`, { field: "allowEmpty" });
    if (policy.enforceAccounts) check("accountNotAllowed", `${v.account} is in allowedAccounts [${policy.allowedAccounts.join(", ")}]`, { field: "allowedAccounts" });
    check("regionNotAllowed", policy.enforceRegions ? `${v.region} is in allowedRegions [${policy.allowedRegions.join(", ")}]` : "any region", { field: "allowedRegions" });
    check("nearMiss", policy.nearMissGuard ? "no missing listed name is one edit (or case, or spaces) away" : "nearMissGuard off", { field: "nearMissGuard" });

    // Tag guards: evaluated by the gate on the plan's tags, or (kept already) described on `seen`.
    if (needsTags(policy)) {
      if (staticKeep) {
        const t = v.tags !== undefined ? { tags: v.tags } : seen;
        const would = t?.tags !== undefined ? evaluateTagGuards(this.candidate(view, { ...v, tags: t.tags }, now)) : undefined;
        const say = (rule: string, match: (r: Reason) => boolean, none: string) => {
          const hit = would?.find(match);
          checks.push({ rule, verdict: "skip", detail: `${notNeeded}; ${would === undefined ? `its tags were not read${t?.tagsError ? ` (${t.tagsError})` : ""}` : hit ? `it would also keep it: ${hit.message}` : none}` });
        };
        for (const p of policy.protectTags) say("protectedTag", (r) => r.rule === "protectedTag" && r.message.startsWith(`tagged ${p.key}=`), `no ${p.key}${p.value === "*" ? "" : `=${p.value}`} tag`);
        for (const r of policy.rules) say(r.name, (x) => x.rule === r.name, `rule "${r.name}" is false for it`);
      } else if (fired.has("tagsUnreadable")) {
        check("tagsUnreadable", "");
        for (const p of policy.protectTags) checks.push({ rule: "protectedTag", verdict: "skip", detail: `${p.key}: cannot be checked without its tags (so the version is kept)`, layer: p.origin });
        for (const r of policy.rules) checks.push({ rule: r.name, verdict: "skip", detail: "cannot be evaluated without its tags (so the version is kept)", layer: r.origin });
      } else {
        check("tagsUnreadable", "its tags were read");
        for (const p of policy.protectTags) if (!fired.get("protectedTag")?.some((r) => r.message.startsWith(`tagged ${p.key}=`))) checks.push({ rule: "protectedTag", verdict: "pass", detail: `no ${p.key}${p.value === "*" ? "" : `=${p.value}`} tag`, layer: p.origin });
        for (const r of fired.get("protectedTag") ?? []) checks.push({ rule: "protectedTag", verdict: "block", detail: r.message, ...(r.layer ? { layer: r.layer } : {}) });
        for (const r of policy.rules) check(r.name, `rule "${r.name}" is false for it`);
      }
    } else checks.push({ rule: "tagsUnreadable", verdict: "pass", detail: "no check needs its tags" });

    // The holds: for a candidate, the gate's answer; for a version a guard keeps, what they would say.
    const markedAt = parseMark(this.stateTag(v, MARK_TAG).time, now);
    const holdSkip = guardKeep ? { skip: notNeeded } : {};
    check("gracePeriod", policy.gracePeriodMs > 0 ? `marked ${markedAt !== undefined ? new Date(markedAt).toISOString() : "?"}, ${policy.gracePeriod} ago or more` : "no grace period", { field: "gracePeriod", ...(policy.gracePeriodMs > 0 ? holdSkip : {}) });
    check("approvalRequired", policy.requireApproval ? `approved after its mark (${APPROVAL_TAG})` : "requireApproval off", { field: "requireApproval", ...(policy.requireApproval ? holdSkip : {}) });
    if (this.signer && needsMark(policy)) {
      check("markUnsigned", "rekon's state tags on it carry a signature (tagSigning)", { ...holdSkip });
      check("markForged", "their signatures verify (tagSigning)", { ...holdSkip });
    }
    check("noticeNotDelivered", policy.requireNotice ? `its \`marked\` notice reached a channel ${policy.gracePeriod} ago or more (${NOTICE_TAG})` : "requireNotice off", { field: "requireNotice", ...(policy.requireNotice ? holdSkip : {}) });
    if (policy.windows.length > 0 && guardKeep) {
      const w = windowVerdict(policy.windows, now);
      checks.push({ rule: "window", verdict: "skip", detail: `${notNeeded}; ${w.allowed ? "the deletion windows allow deletion now" : `a window would also hold it: ${windowMessage(w, now)}`}`, ...(policy.origin.windows ? { layer: policy.origin.windows } : {}) });
    } else check("window", policy.windows.length ? "every deletion window allows deletion now" : "no deletion windows", { field: "windows" });
    check("suspended", "not suspended");

    const kept = verdict.reasons.length > 0;
    // A refused run adds no mark; it still removes them (as the plan shows it).
    const planMark = refusals.length === 0 || verdict.mark === "remove" ? verdict.mark : undefined;
    // authorize's own refusal: with no account named, plan lists deletions and apply writes nothing.
    let runRefusals = refusals;
    if (!this.policies.operator.enforceAccounts) {
      runRefusals = [...refusals, { rule: "accountNotAllowed", message: `no allowedAccounts in the operator's DeletionPolicy (${this.policies.operator.source}): plan lists deletions, apply refuses every write until it names the accounts` }];
    }
    // Run-wide refusals keep what would otherwise be deleted (as the plan shows them: on its deletions).
    if (!kept) for (const r of runRefusals) checks.push({ rule: r.rule, verdict: "block", detail: r.message, ...(r.layer ? { layer: r.layer } : {}) });
    if (!kept && runRefusals.length === 0) checks.push({ rule: "budgets", verdict: "pass", detail: `within maxDeletesPerRun ${this.policies.operator.maxDeletesPerRun} and maxDeletesPercent ${policy.maxDeletesPercent}` });
    const decision: Explanation["decision"] = kept ? (guardKeep ? "blocked" : "held") : runRefusals.length > 0 ? "refused" : verdict.stopFirst ? "stop then delete" : "delete";
    return { decision, checks, ...(planMark ? { mark: planMark } : {}), ...(verdict.deletableAt ? { deletableAt: verdict.deletableAt } : {}) };
  }

  /**
   * The versions whose tags the plan needs: deletion candidates when a guard reads tags, and, while a grace
   * period is in force, every version not already leaving (listed ones to clear a stale mark, blocked ones
   * so that their mark can be removed). Nothing else: ListTagsForResource is rate-limited like every call.
   */
  versionsNeedingTags(now: number): LiveVersion[] {
    const out: LiveVersion[] = [];
    for (const view of this.views) {
      if (!view.project || view.status !== "ok") continue;
      const own = new Set(view.set.versions.map((d) => d.name));
      for (const v of view.project.versions) {
        if (needsMark(view.policy)) {
          if (v.status !== "DELETING") out.push(v);
        } else if (!own.has(v.name) && needsTags(view.policy) && this.staticReasons(view, v, now).length === 0) out.push(v);
      }
    }
    return out;
  }

  /** Run-wide refusals for these planned deletions: the caller's, then every budget that is exceeded. */
  refusals(deletes: readonly PlanAction[]): Reason[] {
    const out: Reason[] = [...this.callerRefusals];
    const op = this.policies.operator;
    if (deletes.length > op.maxDeletesPerRun) {
      out.push({ rule: "maxDeletesPerRun", message: `the run would delete ${deletes.length} versions, over maxDeletesPerRun ${op.maxDeletesPerRun}; nothing is deleted`, layer: operatorLayer(op.source) });
    }
    const perSet = new Map<string, number>();
    for (const a of deletes) perSet.set(a.set, (perSet.get(a.set) ?? 0) + 1);
    for (const view of this.views) {
      if (!view.project || view.status !== "ok") continue;
      const pct = view.policy.maxDeletesPercent;
      // DELETING versions are already going (an earlier run's): counting them would let successive runs
      // take more than the stated share of what is really left.
      const live = view.project.versions.filter((v) => v.status !== "DELETING").length;
      const n = perSet.get(view.set.name) ?? 0;
      // "More than this share": 1 of 2 at 50 % is allowed, 1 of 1 is not.
      if (n > 0 && n * 100 > pct * live) {
        out.push({ rule: "maxDeletesPercent", message: `the run would delete ${n} of the ${live} live versions of project ${view.set.project} (${view.account ?? "?"}/${view.set.region}), ${Math.round((n * 100) / live)}%, over maxDeletesPercent ${pct}; nothing is deleted`, ...(view.policy.origin.maxDeletesPercent ? { layer: view.policy.origin.maxDeletesPercent } : {}) });
      }
    }
    for (const s of this.policies.scoped) {
      if (s.spec.maxDeletesPerRun === undefined) continue;
      const n = deletes.filter((a) => s.projects.includes(a.project)).length;
      if (n > s.spec.maxDeletesPerRun) {
        out.push({ rule: "maxDeletesPerRun", message: `the run would delete ${n} versions in ${s.projects.join(", ")}, over maxDeletesPerRun ${s.spec.maxDeletesPerRun}; nothing is deleted`, layer: manifestLayer(s.pos, s.name) });
      }
    }
    return out;
  }

  // ----- approvals -----

  /**
   * Agree to act on `plan` as a whole, or throw RefusalError: a refused or over-budget plan writes
   * nothing (marks included), and nothing is written before the operator has named the accounts.
   */
  authorize(plan: Plan): RunAuthorization {
    if (plan.refusals.length > 0) throw new RefusalError(plan.refusals.map((r) => r.message).join("; "), plan.refusals[0]!.rule);
    const deletes = plan.actions.filter((a) => a.action === "delete");
    const over = this.refusals(deletes);
    if (over.length > 0) throw new RefusalError(over.map((r) => r.message).join("; "), over[0]!.rule);
    const marks = new Map<string, "add" | "remove">();
    for (const a of plan.actions) if (a.mark && a.versionArn) marks.set(a.versionArn, a.mark);
    const op = this.policies.operator;
    if (deletes.length + [...marks.values()].filter((m) => m === "add").length > 0 && !op.enforceAccounts) {
      throw new RefusalError(
        `apply needs spec.allowedAccounts in the DeletionPolicy (${op.source}): name the 12-digit AWS account IDs whose versions rekon may delete, e.g. allowedAccounts: ["123456789012"], and pass the file with --policy`,
        "accountNotAllowed",
      );
    }
    const auth = Object.freeze({ plan, deletable: new Set(deletes.map((a) => a.versionArn!)), marks }) as unknown as RunAuthorization;
    authorizations.add(auth);
    return auth;
  }

  /**
   * A refused run deletes nothing and adds no mark, but it still removes the marks its plan removes (a
   * version listed again, or blocked by a guard): a removal can only delay a deletion, and a mark left in
   * place would let a later unlisting delete at once on it, with no new grace period, notice or approval.
   * Only once the operator has named the accounts (as for any mark); undefined when there is nothing to do.
   */
  authorizeUnmarks(plan: Plan): { auth: RunAuthorization; plan: Plan } | undefined {
    if (!this.policies.operator.enforceAccounts) return undefined;
    const only = { ...plan, actions: plan.actions.filter((a) => a.mark === "remove" && a.versionArn) };
    if (only.actions.length === 0) return undefined;
    const auth = Object.freeze({ plan: only, deletable: new Set<string>(), marks: new Map(only.actions.map((a) => [a.versionArn!, "remove" as const])) }) as unknown as RunAuthorization;
    authorizations.add(auth);
    return { auth, plan: only };
  }

  /**
   * What a last look for these planned deletions must re-read: the versions themselves and the project's
   * newest versions (keepLatest), by name; and whether their tags are needed (the policy reads tags).
   */
  lookFor(actions: readonly PlanAction[]): LookSpec | undefined {
    const view = actions[0] && this.bySet.get(actions[0].set);
    if (!view?.project?.projectArn || actions.some((a) => a.set !== view.set.name)) return undefined;
    const planNewest = view.project.versions.reduce<number | undefined>((m, v) => (m === undefined || v.createdAt > m ? v.createdAt : m), undefined);
    const latest = [...view.latest].map((arn) => this.planned(view, arn)?.name).filter((n): n is string => n !== undefined);
    const anchor = this.anchor(view);
    // A listed name close to a candidate that goes missing makes the candidate a near miss: re-read them too.
    const close = view.policy.nearMissGuard ? actions.flatMap((a) => (a.versionArn ? this.closeListed(view, a.versionArn, a.versionName) : [])) : [];
    const names = [...new Set([...actions.map((a) => a.versionName), ...latest, ...(anchor ? [anchor.name] : []), ...close])];
    return { project: view.set.project, region: view.set.region, projectArn: view.project.projectArn, names, tags: needsTags(view.policy), tagArns: new Set(actions.flatMap((a) => (a.versionArn ? [a.versionArn] : []))), planNewest };
  }

  /** The ARNs of the versions the plan saw in this set's project. */
  private knownArns(view: SetView): ReadonlySet<string> {
    let known = this.known.get(view.set.name);
    if (!known) this.known.set(view.set.name, (known = new Set(view.project?.versions.map((v) => v.arn) ?? [])));
    return known;
  }
  private readonly known = new Map<string, ReadonlySet<string>>();

  /**
   * Versions created in the project since the plan, as the look saw them: a copy of `arn` in progress keeps
   * it (copySource), as at plan time; a copy in progress whose source AWS does not name, or a version whose
   * status rekon does not know, could be one, so it keeps every candidate (copySourceUnknown).
   */
  private newSincePlan(view: SetView, arn: string, look: Look): Reason[] {
    if (look.newest === undefined) return [{ rule: "copySourceUnknown", message: "the last look did not read the project's newest versions, so a copy started since the plan cannot be ruled out" }];
    const known = this.knownArns(view);
    const out: Reason[] = [];
    for (const n of look.newest) {
      if (known.has(n.arn)) continue;
      const copying = n.status === "COPYING_IN_PROGRESS" || !KNOWN_STATUSES.has(n.status);
      if (!copying) continue;
      if (n.sourceVersionArn === arn) out.push({ rule: "copySource", message: `a copy of it (${n.name}, ${n.status}) was started in the project since the plan` });
      else if (n.sourceVersionArn === undefined) out.push({ rule: "copySourceUnknown", message: `version ${n.name} appeared in the project since the plan, ${n.status}, without a source named; it could be a copy of this version` });
    }
    return out;
  }

  /**
   * A listed version that exists (the newest): while it is there, the set's list is not "none of the
   * listed versions exists" (allowEmpty). The last look re-reads it; if it went, only a new plan can tell.
   */
  private anchor(view: SetView): LiveVersion | undefined {
    if (view.policy.allowEmpty || !view.project) return undefined;
    const listed = new Set(view.set.versions.map((d) => d.name));
    return view.project.versions.filter((v) => listed.has(v.name) && v.status !== "DELETING").sort((a, b) => b.createdAt - a.createdAt || (a.arn < b.arn ? -1 : 1))[0];
  }

  /** The version as planned, for facts a look does not re-read (creation time, copy source). */
  private planned(view: SetView, arn: string): LiveVersion | undefined {
    return view.project?.versions.find((v) => v.arn === arn);
  }

  /**
   * Approve deleting (or, for a stop-first deletion, stopping) `a`, on facts `look` gathered a moment ago:
   * every guard runs again on them. Denied when anything would now block it; `gone` when it has vanished.
   */
  approve<K extends "delete" | "stop">(kind: K, auth: RunAuthorization, a: PlanAction, look: Look, now: number): Approved<K extends "delete" ? DeleteWrite : StopWrite> | Denial {
    const deny = (rule: string, message: string): Denial => ({ denied: true, reasons: [{ rule, message }] });
    if (!authorizations.has(auth)) return deny("notAuthorized", "the run was not authorized by the gate");
    if (!a.versionArn || !auth.deletable.has(a.versionArn) || a.action !== "delete") return deny("notPlanned", "the plan does not delete this version");
    const view = this.bySet.get(a.set);
    if (!view || view.status !== "ok" || !view.account) return deny("notRead", view?.error ?? "its project was not read");
    const planned = this.planned(view, a.versionArn);
    if (!planned) return deny("notPlanned", "the version was not in the live state the plan was made from");
    const fresh = look.byName.get(a.versionName);
    if (!fresh) return { denied: true, gone: true, reasons: [{ rule: "gone", message: "the last look did not find it: already deleted" }] };
    if (fresh.arn !== a.versionArn) return deny("changed", `a different version (${fresh.arn}) now has this name`);
    const v: LiveVersion = { ...planned, status: fresh.status, ...(fresh.statusMessage ? { statusMessage: fresh.statusMessage } : {}) };
    delete v.tags;
    delete v.tagsError;
    if (fresh.tags !== undefined) v.tags = fresh.tags;
    if (fresh.tagsError !== undefined) v.tagsError = fresh.tagsError;
    const verdict = this.verdict(view, v, now);
    const reasons = [...verdict.reasons];
    // keepLatest on fresh facts: the plan's newest versions must all still be there (and not leaving);
    // if one went, this version may now be among the newest, which only a new plan can tell.
    for (const arn of view.latest) {
      const l = this.planned(view, arn);
      const now_ = l ? look.byName.get(l.name) : undefined;
      if (!l || !now_ || now_.arn !== arn || now_.status === "DELETING") {
        reasons.push({ rule: "keepLatest", message: `one of the project's newest ${view.policy.keepLatest} version(s) (${l?.name ?? arn}) is gone or DELETING since the plan; it may now be among the newest` });
        break;
      }
    }
    // allowEmpty on fresh facts: the listed version that showed the list is not all typos must still be there.
    const anchor = this.anchor(view);
    if (anchor) {
      const now_ = look.byName.get(anchor.name);
      if (!now_ || now_.arn !== anchor.arn || now_.status === "DELETING") reasons.push({ rule: "allowEmpty", message: `the listed version ${anchor.name} is gone or DELETING since the plan; whether any listed version still exists is unknown`, ...(view.policy.origin.allowEmpty ? { layer: view.policy.origin.allowEmpty } : {}) });
    }
    // Near misses on fresh facts: a listed name close to this one that has gone missing since the plan.
    if (view.policy.nearMissGuard && !this.nearMisses.has(a.versionArn)) {
      const gone = this.closeListed(view, a.versionArn, a.versionName).filter((n) => !look.byName.has(n));
      if (gone.length) reasons.push({ rule: "nearMiss", message: `listed ${gone.map((n) => JSON.stringify(n)).join(", ")} went missing since the plan; did you mean ${JSON.stringify(a.versionName)}?` });
    }
    reasons.push(...this.newSincePlan(view, a.versionArn, look));
    if (kind === "stop" && !verdict.stopFirst) reasons.push({ rule: "notStoppable", message: `status ${v.status}: only a RUNNING Custom Labels version under stopRunning is stopped` });
    if (kind === "delete" && v.status === "RUNNING") reasons.push({ rule: "inUse", message: "status RUNNING: it must be STOPPED before it is deleted" });
    if (reasons.length > 0) return { denied: true, reasons };
    return mint({ kind, versionArn: a.versionArn, versionName: a.versionName, project: view.set.project, region: view.set.region, account: view.account, source: sourceOf(view.set), lookedAt: look.at } as K extends "delete" ? DeleteWrite : StopWrite);
  }

  /**
   * Approve a planned grace-period mark (add) or its removal. Adding needs the version to be deletable but
   * for the grace period, on the plan's facts; removing only delays a deletion, so it needs only the
   * identity to be right. `now` is the plan's time, so the mark says what the plan showed.
   */
  approveMark(auth: RunAuthorization, a: PlanAction, now: number): Approved<MarkWrite> | Approved<UnmarkWrite> | Denial {
    const deny = (rule: string, message: string): Denial => ({ denied: true, reasons: [{ rule, message }] });
    if (!authorizations.has(auth)) return deny("notAuthorized", "the run was not authorized by the gate");
    if (!a.versionArn || !a.mark || auth.marks.get(a.versionArn) !== a.mark) return deny("notPlanned", "the plan does not mark this version");
    const view = this.bySet.get(a.set);
    if (!view || view.status !== "ok" || !view.account) return deny("notRead", view?.error ?? "its project was not read");
    const v = this.planned(view, a.versionArn);
    if (!v) return deny("notPlanned", "the version was not in the live state the plan was made from");
    const target = { versionArn: v.arn, versionName: v.name, project: view.set.project, region: view.set.region, account: view.account, source: sourceOf(view.set) };
    if (a.mark === "remove") {
      const wrong = this.invariants(view, v).filter((r) => r.rule === "identityMismatch");
      return wrong.length ? { denied: true, reasons: wrong } : mint({ kind: "unmark", ...target });
    }
    const verdict = this.verdict(view, v, now);
    if (verdict.mark !== "add") return { denied: true, reasons: verdict.reasons.length ? verdict.reasons : [{ rule: "notPlanned", message: "it needs no new mark" }] };
    const at = formatMark(now);
    return mint({ kind: "mark", ...target, at, value: this.signer ? this.signer.sign(v.arn, MARK_TAG, at) : at });
  }

  /**
   * Approve recording that a notification about `a` reached a channel at `deliveredAt`: its `marked` notice
   * (requireNotice: tag rekon.dev/notice-delivered-at, which lets the grace period count) or its reminder
   * (tag rekon.dev/reminder-sent-at, so it is sent once per mark). Decided on the plan's facts, as a mark
   * is: the plan must say the notice is pending (or the reminder due) — so the version is marked or being
   * marked, every guard but the holds passes, nothing is suspended — and the identity must be right.
   */
  approveNotice(auth: RunAuthorization, a: PlanAction, which: "notice" | "reminder", deliveredAt: number, now: number): Approved<NoticeWrite> | Denial {
    const deny = (rule: string, message: string): Denial => ({ denied: true, reasons: [{ rule, message }] });
    if (!authorizations.has(auth)) return deny("notAuthorized", "the run was not authorized by the gate");
    const view = a.versionArn ? this.bySet.get(a.set) : undefined;
    if (!view || view.status !== "ok" || !view.account) return deny("notRead", view?.error ?? "its project was not read");
    const v = this.planned(view, a.versionArn!);
    if (!v || !auth.plan.actions.some((x) => x.versionArn === v.arn)) return deny("notPlanned", "the version was not in the live state the plan was made from");
    const wrong = this.invariants(view, v);
    if (wrong.length) return { denied: true, reasons: wrong };
    const planNow = Date.parse(auth.plan.generatedAt);
    // A delivery is after the plan and not in the future: the tag must never claim an earlier notice.
    if (!(deliveredAt >= planNow && deliveredAt <= now)) return deny("notPlanned", `the delivery time ${new Date(deliveredAt).toISOString()} is not between the plan (${auth.plan.generatedAt}) and now`);
    const verdict = this.verdict(view, v, planNow);
    if (which === "notice" && verdict.notice !== "pending") return deny("notPlanned", `its \`marked\` notice is ${verdict.notice ?? "not needed"}, not pending`);
    if (which === "reminder" && verdict.reminder !== "due") return deny("notPlanned", `its reminder is ${verdict.reminder ?? "not due"}`);
    const target = { versionArn: v.arn, versionName: v.name, project: view.set.project, region: view.set.region, account: view.account, source: sourceOf(view.set) };
    const tag = which === "notice" ? NOTICE_TAG : REMINDER_TAG;
    const at = formatNotice(deliveredAt);
    return mint({ kind: "notice", ...target, tag, value: this.signer ? this.signer.sign(v.arn, tag, at) : at });
  }
}

function addAll(m: Map<string, Map<string, DesiredSet>>, k: string, names: Map<string, DesiredSet>): void {
  const cur = m.get(k) ?? new Map<string, DesiredSet>();
  for (const [n, s] of names) if (!cur.has(n)) cur.set(n, s);
  m.set(k, cur);
}

function describeSource(s: DesiredSet): string {
  return s.roleArn ? `role ${s.roleArn}` : "the ambient credentials";
}

