// Approvals for single writes. A deletion (or the stop before one) is approved on facts re-read a moment
// before (the last look): every guard and hold runs again on them, with the checks only a look can make
// (the plan's newest versions still there, no copy started since the plan). Marks and notice tags are
// approved on the plan's facts: adding one needs the version to be deletable but for the holds; removing
// one only delays a deletion, so it needs only the identity to be right.
import { formatMark, formatNotice, MARK_TAG, needsTags, NOTICE_TAG, REMINDER_TAG } from "../policy/guards.js";
import { VERSION_STATUSES, type LiveVersion, type LookSpec, type PlanAction, type Reason, type RuleId } from "../types.js";
import {
  isAuthorized,
  mint,
  writeTarget,
  type Approved,
  type DeleteWrite,
  type MarkWrite,
  type NoticeWrite,
  type RunAuthorization,
  type StopWrite,
  type UnmarkWrite,
  type StartWrite,
} from "./approvals.js";
import { archiveReasons } from "./archive.js";
import { runtimeVerdict } from "./runtime.js";
import { STATIC_CHECKS } from "./checks.js";
import { candidateOf, type VersionFacts } from "./facts.js";
import { verdictOf, type Verdict } from "./verdict.js";
import type { SetView, WorldIndex } from "./world.js";

const KNOWN_STATUSES: ReadonlySet<string> = new Set(VERSION_STATUSES);

/** What the gate answers when it does not approve. */
export interface Denial {
  denied: true;
  /** The version is gone (the last look did not find it): the goal of a delete is already met. */
  gone?: boolean;
  reasons: Reason[];
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
  /** Under spec.archive: each source version's archived copy as read with this look (by source ARN). */
  archives?: ReadonlyMap<string, LiveVersion>;
}

const deny = (rule: RuleId, message: string): Denial => ({ denied: true, reasons: [{ rule, message }] });

/** The verdict a write is approved on: a version its own set lists is kept, which for a write is a reason. */
function writeVerdict(f: VersionFacts): Verdict {
  const v = verdictOf(f);
  if (!v.keep) return v;
  const s = f.view.set;
  return { ...v, reasons: [{ rule: "listed", message: `listed by ProjectVersionSet "${s.name}" (${s.pos.file}:${s.pos.line}:${s.pos.col})` }] };
}

/**
 * What a last look for these planned deletions must re-read: the versions themselves, the project's newest
 * versions (keepLatest), the allowEmpty anchor and close listed names, by name; the project's newest versions
 * since the plan; and whether their tags are needed (the policy reads tags).
 */
export function lookFor(index: WorldIndex, actions: readonly PlanAction[]): LookSpec | undefined {
  const view = actions[0] && index.view(actions[0].set);
  if (!view?.project?.projectArn || actions.some((a) => a.set !== view.set.name)) return undefined;
  const planNewest = view.project.versions.reduce<number | undefined>((m, v) => (m === undefined || v.createdAt > m ? v.createdAt : m), undefined);
  // Stryker disable next-line MethodExpression,OptionalChaining: equivalent, view.latest holds ARNs of the plan's own versions, so each is found
  const latest = [...view.latest].map((arn) => index.planned(view, arn)?.name).filter((n): n is string => n !== undefined);
  const anchor = index.anchor(view);
  // A listed name close to a candidate that goes missing makes the candidate a near miss: re-read them too.
  const close = view.policy.nearMissGuard ? actions.flatMap((a) => (a.versionArn ? index.closeListed(view, a.versionArn, a.versionName) : [])) : [];
  const names = [...new Set([...actions.map((a) => a.versionName), ...latest, ...(anchor ? [anchor.name] : []), ...close])];
  const tagArns = new Set(actions.flatMap((a) => (a.versionArn ? [a.versionArn] : [])));
  return { project: view.set.project, region: view.set.region, projectArn: view.project.projectArn, names, tags: needsTags(view.policy), tagArns, planNewest };
}

/**
 * Versions created in the project since the plan, as the look saw them: a copy of `arn` in progress keeps
 * it (copySource), as at plan time; a copy in progress whose source AWS does not name, or a version whose
 * status rekon does not know, could be one, so it keeps every candidate (copySourceUnknown).
 */
function newSincePlan(index: WorldIndex, view: SetView, arn: string, look: Look): Reason[] {
  if (look.newest === undefined)
    return [
      { rule: "copySourceUnknown", message: "the last look did not read the project's newest versions, so a copy started since the plan cannot be ruled out" },
    ];
  const known = index.knownArns(view);
  const out: Reason[] = [];
  for (const n of look.newest) {
    if (known.has(n.arn)) continue;
    const copying = n.status === "COPYING_IN_PROGRESS" || !KNOWN_STATUSES.has(n.status);
    if (!copying) continue;
    if (n.sourceVersionArn === arn)
      out.push({ rule: "copySource", message: `a copy of it (${n.name}, ${n.status}) was started in the project since the plan` });
    else if (n.sourceVersionArn === undefined)
      out.push({
        rule: "copySourceUnknown",
        message: `version ${n.name} appeared in the project since the plan, ${n.status}, without a source named; it could be a copy of this version`,
      });
  }
  return out;
}

/** The checks only a look can make, on top of the verdict: the plan's premises still hold on fresh facts. */
function premises(index: WorldIndex, view: SetView, a: PlanAction & { versionArn: string }, look: Look): Reason[] {
  const reasons: Reason[] = [];
  // keepLatest on fresh facts: the plan's newest versions must all still be there (and not leaving);
  // if one went, this version may now be among the newest, which only a new plan can tell.
  for (const arn of view.latest) {
    const l = index.planned(view, arn);
    const now = l ? look.byName.get(l.name) : undefined;
    if (!l || !now || now.arn !== arn || now.status === "DELETING") {
      reasons.push({
        rule: "keepLatest",
        message:
          // Stryker disable next-line OptionalChaining: equivalent, view.latest holds ARNs of the plan's own versions, so l is always found
          `one of the project's newest ${view.policy.keepLatest} version(s) (${l?.name ?? arn}) is gone or DELETING since the plan; it may now be ` +
          `among the newest`,
      });
      break;
    }
  }
  // allowEmpty on fresh facts: the listed version that showed the list is not all typos must still be there.
  const anchor = index.anchor(view);
  if (anchor) {
    const now = look.byName.get(anchor.name);
    if (!now || now.arn !== anchor.arn || now.status === "DELETING") {
      reasons.push({
        rule: "allowEmpty",
        message: `the listed version ${anchor.name} is gone or DELETING since the plan; whether any listed version still exists is unknown`,
        ...(view.policy.origin.allowEmpty ? { layer: view.policy.origin.allowEmpty } : {}),
      });
    }
  }
  // Near misses on fresh facts: a listed name close to this one that has gone missing since the plan.
  if (view.policy.nearMissGuard && !index.nearMisses.has(a.versionArn)) {
    const gone = index.closeListed(view, a.versionArn, a.versionName).filter((n) => !look.byName.has(n));
    if (gone.length)
      reasons.push({
        rule: "nearMiss",
        message: `listed ${gone.map((n) => JSON.stringify(n)).join(", ")} went missing since the plan; did you mean ${JSON.stringify(a.versionName)}?`,
      });
  }
  reasons.push(...newSincePlan(index, view, a.versionArn, look));
  return reasons;
}

/**
 * Approve deleting (or, for a stop-first deletion, stopping) `a`, on facts `look` gathered a moment ago:
 * every guard runs again on them. Denied when anything would now block it; `gone` when it has vanished.
 */
/** A planned deletion on fresh facts: every guard and premise, or why it cannot even be looked at. */
export function freshDeletion(
  index: WorldIndex,
  auth: RunAuthorization,
  a: PlanAction,
  look: Look,
  now: number,
): Denial | { view: SetView & { account: string }; v: LiveVersion; verdict: Verdict; reasons: Reason[] } {
  if (!isAuthorized(auth)) return deny("notAuthorized", "the run was not authorized by the gate");
  if (!a.versionArn || !auth.deletable.has(a.versionArn) || a.action !== "delete") return deny("notPlanned", "the plan does not delete this version");
  const view = index.view(a.set);
  if (!view || view.status !== "ok" || !view.account) return deny("notRead", view?.error ?? "its project was not read");
  const planned = index.planned(view, a.versionArn);
  if (!planned) return deny("notPlanned", "the version was not in the live state the plan was made from");
  const fresh = look.byName.get(a.versionName);
  if (!fresh) return { denied: true, gone: true, reasons: [{ rule: "gone", message: "the last look did not find it: already deleted" }] };
  if (fresh.arn !== a.versionArn) return deny("changed", `a different version (${fresh.arn}) now has this name`);
  // The plan's facts a look does not re-read (creation time, copy source), with the look's status and tags.
  const v: LiveVersion = { ...planned, status: fresh.status, ...(fresh.statusMessage ? { statusMessage: fresh.statusMessage } : {}) };
  delete v.tags;
  delete v.tagsError;
  if (fresh.tags !== undefined) v.tags = fresh.tags;
  if (fresh.tagsError !== undefined) v.tagsError = fresh.tagsError;
  const verdict = writeVerdict({ index, view, policy: view.policy, v, now });
  const reasons = [...verdict.reasons, ...premises(index, view, a as PlanAction & { versionArn: string }, look)];
  return { view: view as SetView & { account: string }, v, verdict, reasons };
}

export function approve<K extends "delete" | "stop">(
  index: WorldIndex,
  kind: K,
  auth: RunAuthorization,
  a: PlanAction,
  look: Look,
  now: number,
): Approved<K extends "delete" ? DeleteWrite : StopWrite> | Denial {
  const f = freshDeletion(index, auth, a, look, now);
  if ("denied" in f) return f;
  const { view, v, verdict, reasons } = f;
  // Archive before delete: neither the stop before a deletion nor the deletion goes out before the copy is complete.
  reasons.push(...archiveReasons(view.policy, view.set.project, a, v, look.archives));
  if (kind === "stop" && !verdict.stopFirst)
    reasons.push({ rule: "notStoppable", message: `status ${v.status}: only a RUNNING Custom Labels version under stopRunning is stopped` });
  if (kind === "delete" && v.status === "RUNNING") reasons.push({ rule: "inUse", message: "status RUNNING: it must be STOPPED before it is deleted" });
  if (reasons.length > 0) return { denied: true, reasons };
  return mint({
    kind,
    // freshDeletion refused an action without an ARN.
    ...writeTarget(view.set, view.account, { arn: a.versionArn!, name: a.versionName }),
    lookedAt: look.at,
  } as K extends "delete" ? DeleteWrite : StopWrite);
}

/** The identity a write would use is the one the gate checked (the `identityMismatch` check alone). */
function identityReasons(index: WorldIndex, view: SetView, v: LiveVersion, now: number): Reason[] {
  const identity = STATIC_CHECKS.find((c) => c.rule === "identityMismatch")!;
  return identity.run({ index, view, policy: view.policy, v, now }, candidateOf({ index, view, policy: view.policy, v, now }));
}

/**
 * Approve a planned grace-period mark (add) or its removal. Adding needs the version to be deletable but
 * for the holds, on the plan's facts; removing only delays a deletion, so it needs only the identity to be
 * right. The mark is dated `now` (when it is written) and, under tag signing, signed.
 */
export function approveMark(index: WorldIndex, auth: RunAuthorization, a: PlanAction, now: number): Approved<MarkWrite> | Approved<UnmarkWrite> | Denial {
  if (!isAuthorized(auth)) return deny("notAuthorized", "the run was not authorized by the gate");
  if (!a.versionArn || !a.mark || auth.marks.get(a.versionArn) !== a.mark) return deny("notPlanned", "the plan does not mark this version");
  const view = index.view(a.set);
  if (!view || view.status !== "ok" || !view.account) return deny("notRead", view?.error ?? "its project was not read");
  const v = index.planned(view, a.versionArn);
  if (!v) return deny("notPlanned", "the version was not in the live state the plan was made from");
  const target = writeTarget(view.set, view.account, v);
  if (a.mark === "remove") {
    const wrong = identityReasons(index, view, v, now);
    return wrong.length ? { denied: true, reasons: wrong } : mint({ kind: "unmark", ...target });
  }
  const verdict = writeVerdict({ index, view, policy: view.policy, v, now });
  if (verdict.mark !== "add")
    return { denied: true, reasons: verdict.reasons.length ? verdict.reasons : [{ rule: "notPlanned", message: "it needs no new mark" }] };
  const at = formatMark(now);
  return mint({ kind: "mark", ...target, at, value: index.signer ? index.signer.sign(v.arn, MARK_TAG, at) : at });
}

/**
 * Approve recording that a notification about `a` reached a channel at `deliveredAt`: its `marked` notice
 * (requireNotice: tag rekon.dev/notice-delivered-at, which lets the grace period count) or its reminder
 * (tag rekon.dev/reminder-sent-at, so it is sent once per mark). Decided on the plan's facts, as a mark
 * is: the plan must say the notice is pending (or the reminder due) — so the version is marked or being
 * marked, every guard but the holds passes, nothing is suspended — and the identity must be right.
 */
export function approveNotice(
  index: WorldIndex,
  auth: RunAuthorization,
  a: PlanAction,
  which: "notice" | "reminder",
  deliveredAt: number,
  now: number,
): Approved<NoticeWrite> | Denial {
  if (!isAuthorized(auth)) return deny("notAuthorized", "the run was not authorized by the gate");
  const view = a.versionArn ? index.view(a.set) : undefined;
  if (!view || view.status !== "ok" || !view.account) return deny("notRead", view?.error ?? "its project was not read");
  const v = index.planned(view, a.versionArn!);
  if (!v || !auth.plan.actions.some((x) => x.versionArn === v.arn)) return deny("notPlanned", "the version was not in the live state the plan was made from");
  const planNow = Date.parse(auth.plan.generatedAt);
  const facts = { index, view, policy: view.policy, v, now: planNow };
  const listedBy = index.listedBy(v);
  const wrong = [
    ...(listedBy
      ? [{ rule: "listed" as const, message: `listed by ProjectVersionSet "${listedBy.name}" (${listedBy.pos.file}:${listedBy.pos.line}:${listedBy.pos.col})` }]
      : []),
    ...identityReasons(index, view, v, planNow),
  ];
  if (wrong.length) return { denied: true, reasons: wrong };
  // A delivery is after the plan and not in the future: the tag must never claim an earlier notice.
  if (!(deliveredAt >= planNow && deliveredAt <= now))
    return deny("notPlanned", `the delivery time ${new Date(deliveredAt).toISOString()} is not between the plan (${auth.plan.generatedAt}) and now`);
  const verdict = writeVerdict(facts);
  if (which === "notice" && verdict.notice !== "pending") return deny("notPlanned", `its \`marked\` notice is ${verdict.notice ?? "not needed"}, not pending`);
  if (which === "reminder" && verdict.reminder !== "due") return deny("notPlanned", `its reminder is ${verdict.reminder ?? "not due"}`);
  const tag = which === "notice" ? NOTICE_TAG : REMINDER_TAG;
  const at = formatNotice(deliveredAt);
  const target = writeTarget(view.set, view.account, v);
  return mint({ kind: "notice", ...target, tag, value: index.signer ? index.signer.sign(v.arn, tag, at) : at });
}

/**
 * Approve starting or stopping a listed version on facts `look` gathered a moment ago: it must still be
 * listed by its set, and the running state wanted on the fresh facts must be this very write (a version
 * that started, stopped, failed or was suspended since the plan is not written to). A restart's start is
 * approved once the look shows it STOPPED.
 */
export function approveRuntime<K extends "start" | "stop">(
  index: WorldIndex,
  kind: K,
  auth: RunAuthorization,
  a: PlanAction,
  look: Look,
  now: number,
): Approved<K extends "start" ? StartWrite : StopWrite> | Denial {
  if (!isAuthorized(auth)) return deny("notAuthorized", "the run was not authorized by the gate");
  if (!a.versionArn || auth.runtime.get(a.versionArn) !== kind || a.action !== kind) return deny("notPlanned", `the plan does not ${kind} this version`);
  const view = index.view(a.set);
  if (!view || view.status !== "ok" || !view.account) return deny("notRead", view?.error ?? "its project was not read");
  const planned = index.planned(view, a.versionArn);
  const d = view.set.versions.find((x) => x.name === a.versionName);
  if (!planned || !d) return deny("notPlanned", "the version was not listed in the state the plan was made from");
  const fresh = look.byName.get(a.versionName);
  if (!fresh) return { denied: true, gone: true, reasons: [{ rule: "gone", message: "the last look did not find it" }] };
  if (fresh.arn !== a.versionArn) return deny("changed", `a different version (${fresh.arn}) now has this name`);
  const v = runningFacts(planned, fresh);
  const rv = runtimeVerdict({ index, view, policy: view.policy, v, now }, d);
  // A restart's start goes out once the version is STOPPED: what is wanted of it then is a plain start.
  const wanted = rv.action ?? "none";
  // A restart's start only once the version has stopped: on a version still running at its old units the
  // fresh verdict is itself a restart (restartFirst), which only approveRestartStop's stop may begin.
  if (kind === "start" && rv.restartFirst) return deny("changed", `still ${v.status}; a restart's start waits until it has stopped`);
  if (wanted !== kind || (kind === "stop" && a.restartFirst)) {
    const why = rv.reasons.length ? rv.reasons : [{ rule: "changed" as const, message: `status ${v.status}: it no longer needs a ${kind}` }];
    return { denied: true, reasons: why };
  }
  const target = writeTarget(view.set, view.account, { arn: a.versionArn, name: a.versionName });
  if (kind === "stop") return mint({ kind: "stop", ...target, lookedAt: look.at } as K extends "start" ? StartWrite : StopWrite);
  const u = rv.units!;
  return mint({
    kind: "start",
    ...target,
    minInferenceUnits: u.min,
    ...(u.max !== undefined ? { maxInferenceUnits: u.max } : {}),
    lookedAt: look.at,
  } as K extends "start" ? StartWrite : StopWrite);
}

/**
 * The stop before a restart (allowRestart, capacity drift): approved while the version still runs at other
 * units than declared, on a fresh look, so that the start after it brings the declared units.
 */
export function approveRestartStop(index: WorldIndex, auth: RunAuthorization, a: PlanAction, look: Look, now: number): Approved<StopWrite> | Denial {
  if (!isAuthorized(auth)) return deny("notAuthorized", "the run was not authorized by the gate");
  if (!a.versionArn || auth.runtime.get(a.versionArn) !== "start" || a.action !== "start" || !a.restartFirst)
    return deny("notPlanned", "the plan does not restart this version");
  const view = index.view(a.set);
  const d = view?.set.versions.find((x) => x.name === a.versionName);
  const planned = view && a.versionArn ? index.planned(view, a.versionArn) : undefined;
  if (!view || view.status !== "ok" || !view.account || !d || !planned) return deny("notRead", view?.error ?? "its project was not read");
  const fresh = look.byName.get(a.versionName);
  if (!fresh || fresh.arn !== a.versionArn) return deny("changed", "the version is gone or another now has its name");
  const v = runningFacts(planned, fresh);
  const rv = runtimeVerdict({ index, view, policy: view.policy, v, now }, d);
  if (rv.action !== "start" || !rv.restartFirst)
    return { denied: true, reasons: rv.reasons.length ? rv.reasons : [{ rule: "changed", message: `status ${v.status}: no restart needed now` }] };
  return mint({
    kind: "stop",
    ...writeTarget(view.set, view.account, v),
    lookedAt: look.at,
  });
}

/** The planned version with the running facts the look read now: its status and the units it runs at (none if it reports none). */
function runningFacts(planned: LiveVersion, fresh: LiveVersion): LiveVersion {
  const { minInferenceUnits: _min, maxInferenceUnits: _max, ...rest } = planned;
  return {
    ...rest,
    status: fresh.status,
    ...(fresh.minInferenceUnits !== undefined ? { minInferenceUnits: fresh.minInferenceUnits } : {}),
    ...(fresh.maxInferenceUnits !== undefined ? { maxInferenceUnits: fresh.maxInferenceUnits } : {}),
  };
}
