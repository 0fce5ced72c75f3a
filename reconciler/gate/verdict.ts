// One version's verdict: the guards (checks.ts), then, for a version every guard passes, the holds
// (holds/). The verdict folds their findings; `rekon explain` walks the very same findings (with, for the
// checks that were not needed, what they would have said), so plan and explain agree by construction.
import { MARK_TAG, needsTags, stoppable } from "../policy/guards.js";
import type { ArchiveStep, NoticeStatus, Reason } from "../types.js";
import { archiveStep } from "./archive.js";
import { STATIC_CHECKS, tagChecks, type GuardCheck } from "./checks.js";
import { candidateOf, layerOf, type Finding, type HoldState, type VersionFacts } from "./facts.js";
import { HOLDS, suspension } from "./holds/index.js";

/** A version's verdict: why it must not be deleted now (empty = deletable), and the grace bookkeeping. */
export interface Verdict {
  reasons: Reason[];
  /** Listed by its own set: kept, and never a deletion candidate. */
  keep?: boolean;
  mark?: "add" | "remove";
  deletableAt?: string;
  stopFirst?: boolean;
  /** When a deletion window now keeping it opens (epoch ms). */
  windowOpensAt?: number;
  /** A marked version (or one apply marks) under a policy with notifications or requireNotice: its notice. */
  notice?: NoticeStatus;
  /** remindBefore: the reminder for its mark is due now, or was sent. */
  reminder?: "due" | "sent";
  /** A deletable version under spec.archive: where its copy goes first (archive.ts), or that it has no undo. */
  archive?: ArchiveStep;
  noUndo?: true;
}

const NOT_NEEDED = "not evaluated: another check already keeps it";

interface Walk {
  verdict: Verdict;
  /** Present when asked for (explain): every check, in order. */
  findings?: Finding[];
}

/** Tags explain read for itself, to say what the tag guards would say of a version another check keeps. */
export type Seen = { tags?: Record<string, string>; tagsError?: string };

function guardFinding(g: GuardCheck, f: VersionFacts, reasons: Reason[]): Finding {
  return { rule: g.rule, kind: "guard", reasons, pass: g.pass(f), ...layerOf(f.policy, g.field) };
}

/**
 * Everything that decides whether `f.v` may be deleted at `f.now`. With `explain`, also every check's
 * finding, including those not needed (and, for the tag guards, what they would say on `seen` tags).
 */
export function walk(f: VersionFacts, explain: { seen?: Seen } | undefined): Walk {
  const { view, v } = f;
  const findings: Finding[] | undefined = explain ? [] : undefined;
  const hasMark = v.tags !== undefined && Object.hasOwn(v.tags, MARK_TAG);
  // Listed by its own set: kept; a pending-delete mark from an earlier unlisting goes, in a refused run too
  // (a removal can only delay a deletion).
  if (view.set.versions.some((d) => d.name === v.name)) {
    findings?.push({
      rule: "listed",
      kind: "guard",
      reasons: [],
      pass: `listed by its own ProjectVersionSet "${view.set.name}" (${view.set.pos.file}:${view.set.pos.line}:${view.set.pos.col})`,
    });
    return { verdict: { reasons: [], keep: true, ...(hasMark ? { mark: "remove" as const } : {}) }, ...(findings ? { findings } : {}) };
  }
  const reasons: Reason[] = [];
  if (!view.project || view.status !== "ok") {
    reasons.push({ rule: "notRead", message: view.error ?? "project not read" });
    return { verdict: { reasons }, ...(findings ? { findings } : {}) };
  }
  const c = candidateOf(f);
  for (const g of STATIC_CHECKS) {
    const r = g.run(f, c);
    reasons.push(...r);
    if (findings && (g.shown?.(f) ?? true)) findings.push(guardFinding(g, f, r));
  }
  const staticKeep = reasons.length > 0;

  // Tag guards: only for versions every tag-free check passed (ListTagsForResource is rate-limited like
  // every call); a version another check keeps gets, in explain, what they would say on `seen` tags.
  if (needsTags(f.policy)) {
    const tc = tagChecks(f);
    if (!staticKeep) {
      const unread = tc.unreadable.run(f, c);
      reasons.push(...unread);
      findings?.push(guardFinding(tc.unreadable, f, unread));
      for (const { check, cannot, layer } of tc.each) {
        const r = unread.length ? [] : check.run(f, c);
        reasons.push(...r);
        findings?.push(
          unread.length
            ? { rule: check.rule, kind: "guard", reasons: [], pass: "", skipped: cannot, layer }
            : { ...guardFinding(check, f, r), layer: r[0]?.layer ?? layer },
        );
      }
    } else if (findings) {
      // Stryker disable next-line OptionalChaining: equivalent, findings exist only when explain was given
      const t = v.tags !== undefined ? { tags: v.tags } : explain?.seen;
      const onSeen = t?.tags !== undefined ? candidateOf({ ...f, v: { ...v, tags: t.tags } }) : undefined;
      for (const { check } of tc.each) {
        const would = onSeen ? check.run(f, onSeen) : undefined;
        const said =
          would === undefined
            ? `its tags were not read${t?.tagsError ? ` (${t.tagsError})` : ""}`
            : would.length
              ? `it would also keep it: ${would[0]!.message}`
              : check.pass(f);
        findings.push({ rule: check.rule, kind: "guard", reasons: [], pass: "", skipped: `${NOT_NEEDED}; ${said}` });
      }
    }
  } else findings?.push({ rule: "tagsUnreadable", kind: "guard", reasons: [], pass: "no check needs its tags" });

  const state: HoldState = {};
  if (reasons.length > 0) {
    // Kept by a guard. It loses its mark (tags read): a notice must be of a version that was deletable all
    // along, not one that became so again — even while suspended, since a removal only delays a deletion.
    // The holds are not needed, but a suspension still shows.
    if (findings) findings.push(...skippedHolds(f));
    const s = suspension.run(f, {});
    reasons.push(...s.reasons);
    findings?.push({ rule: suspension.rule, kind: "hold", reasons: s.reasons, pass: s.pass });
    // Stryker disable next-line MethodExpression,ArrowFunction,StringLiteral: equivalent, a mark is seen only on read tags (no tagsUnreadable)
    const removes = hasMark && !reasons.some((r) => r.rule === "tagsUnreadable");
    return { verdict: { reasons, ...(removes ? { mark: "remove" as const } : {}) }, ...(findings ? { findings } : {}) };
  }

  // A candidate: what remains are the time-bound holds, none of which removes a mark.
  for (const h of HOLDS) {
    const r = h.run(f, state);
    reasons.push(...r.reasons);
    if (findings && !r.silent) findings.push({ rule: h.rule, kind: "hold", reasons: r.reasons, pass: r.pass, ...layerOf(f.policy, h.field) });
  }
  const verdict: Verdict = { reasons };
  if (state.mark) verdict.mark = state.mark;
  if (state.deletableAt) verdict.deletableAt = state.deletableAt;
  if (state.windowOpensAt !== undefined) verdict.windowOpensAt = state.windowOpensAt;
  if (state.notice) verdict.notice = state.notice;
  if (state.reminder) verdict.reminder = state.reminder;
  if (reasons.length === 0 && stoppable(v, f.policy)) verdict.stopFirst = true;
  if (reasons.length === 0) Object.assign(verdict, archiveStep(f.policy, view.set.project, v));
  return { verdict, ...(findings ? { findings } : {}) };
}

/** The holds for a version a guard already keeps, in order on a scratch state: what each would say, or that it is off. */
function skippedHolds(f: VersionFacts): Finding[] {
  const scratch: HoldState = {};
  const out: Finding[] = [];
  for (const h of HOLDS) {
    if (h === suspension) continue;
    const r = h.run(f, scratch);
    if (r.silent) continue;
    const lay = layerOf(f.policy, h.field);
    // Stryker disable next-line LogicalOperator,OptionalChaining: equivalent, every hold that gets here (grace, notice, approval, window) defines enabled
    if (!(h.enabled?.(f.policy) ?? true)) out.push({ rule: h.rule, kind: "hold", reasons: [], pass: r.pass, ...lay });
    else
      out.push({
        rule: h.rule,
        kind: "hold",
        reasons: [],
        pass: r.pass,
        skipped: `${NOT_NEEDED}${r.reasons.length ? `; it would also hold it: ${r.reasons.at(-1)!.message}` : ""}`,
        ...lay,
      });
  }
  return out;
}

/** The verdict alone (the planner's and the approvals' path: no findings are kept). */
export function verdictOf(f: VersionFacts): Verdict {
  return walk(f, undefined).verdict;
}

/** Whether a tag-free check already keeps the version (so its tags are not needed). */
export function keptWithoutTags(f: VersionFacts): boolean {
  if (!f.view.project || f.view.status !== "ok") return true;
  const c = candidateOf(f);
  return STATIC_CHECKS.some((g) => g.run(f, c).length > 0);
}
