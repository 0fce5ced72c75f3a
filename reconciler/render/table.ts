// Human views of a plan and of apply results, for a terminal (or a log that a person reads). Rows are
// grouped by project (account, region, project) under one header line each; a version's reasons are
// indented lines under it; lines fit the width given. What needs attention comes last, next to the
// summary, where the eye lands when the command ends: projects not read (one message per cause, see
// causes.ts), then refusals, then the summary line. Colour only through `style` (PLAIN by default).
import { formatDuration } from "../duration.js";
import type { Plan, PlanAction, PlanProject, Reason, WriteResult } from "../types.js";
import {
  groupProjectErrors,
  groupTagReadErrors,
  groupWriteFailures,
  tagReadCause,
  writeFailureCause,
  type CauseGroup,
  type VersionCauseGroup,
} from "./causes.js";
import { inferenceLine, runtimeNote } from "./inference.js";
import { DEFAULT_WIDTH, hanging, MIN_WIDTH, padEnd, wrap } from "./layout.js";
import { actionColor, PLAIN, resultColor, type Style } from "./style.js";

export interface TableOptions {
  /** Colours (default: none). */
  style?: Style;
  /** Columns to fit (default DEFAULT_WIDTH). */
  width?: number;
}

const INDENT = "  ";
const GAP = "  ";
const ARROW = "↳ ";

export function renderPlanTable(plan: Plan, opts: TableOptions = {}): string {
  const s = opts.style ?? PLAIN;
  const width = Math.max(MIN_WIDTH, opts.width ?? DEFAULT_WIDTH);
  const now = Date.parse(plan.generatedAt);
  const sections: string[][] = [];

  const groups = groupBySet(plan.actions, (a) => a.set);
  if (groups.length) {
    const cells = (a: PlanAction) => [a.action, a.versionName, a.status ?? "-", a.createdAt ? formatDuration(now - Date.parse(a.createdAt)) : "-"];
    const cols = fitColumns(["ACTION", "VERSION", "STATUS", "AGE"], plan.actions.map(cells), 1, width);
    const reasonIndent = INDENT.length + cols.widths[0]! + GAP.length;
    const lines: string[] = [s.dim(cols.line(["ACTION", "VERSION", "STATUS", "AGE"])[0]!)];
    for (const actions of groups) {
      const first = actions[0]!;
      const project = plan.projects.find((p) => p.set === first.set);
      // A project holds one kind of version (its feature), so the kind is said once, in its header.
      const feature = actions.find((a) => a.feature)?.feature;
      const kind = feature === "CONTENT_MODERATION" ? "adapters" : feature ? "models" : undefined;
      lines.push("", ...groupHeader(s, first, project, counts(actions), kind, width));
      for (const a of actions) {
        const paint = actionColor(s, a.action);
        const row = cols.line(cells(a));
        lines.push(...row.map((l, i) => (a.action === "keep" ? s.dim(l) : i === 0 ? INDENT + paint(a.action) + l.slice(INDENT.length + a.action.length) : l)));
        for (const note of notes(a, plan.refusals)) lines.push(...hanging(" ".repeat(reasonIndent) + ARROW, note, reasonIndent + ARROW.length, width));
      }
    }
    sections.push(lines);
  }

  const notManaged = plan.projects.filter((p) => p.status === "notManaged");
  if (notManaged.length) {
    sections.push([
      s.bold("Not managed") + " (never touched):",
      ...notManaged.flatMap((p) => hanging(`${INDENT}${p.project} (${where(p)}): `, p.error ?? "not managed", INDENT.length * 2, width, s.dim)),
    ]);
  }
  for (const g of groupProjectErrors(plan.projects)) sections.push(causeBlock(s, g, width));
  for (const g of groupTagReadErrors(plan.actions)) {
    const n = g.versions.length;
    sections.push(
      versionCauseBlock(
        s,
        g,
        "reading version tags",
        `${n} version${n === 1 ? "" : "s"} kept (tagsUnreadable above): their protections cannot be checked until their tags can be read:`,
        width,
      ),
    );
  }
  for (const r of plan.refusals)
    sections.push(hanging(s.red(s.bold(`REFUSED (${r.rule}):`)) + " ", `${r.message}${r.layer ? ` [${r.layer}]` : ""}`, `REFUSED (${r.rule}): `.length, width));

  const sum = plan.summary;
  const marks = plan.actions.filter((a) => a.mark === "add").length;
  const unmarks = plan.actions.filter((a) => a.mark === "remove").length;
  const markNote = marks + unmarks > 0 ? ` Apply will mark ${marks} and unmark ${unmarks} version(s) for the grace period.` : "";
  const runtime = sum.start + sum.stop > 0 ? `, ${sum.start} to start, ${sum.stop} to stop` : "";
  const inference = inferenceLine(plan);
  if (inference) sections.push(wrap(inference, width));
  sections.push(
    wrap(
      `Plan: ${sum.delete} to delete, ${sum.keep} to keep, ${sum.blocked} blocked, ${sum.missing} missing${runtime}.` +
        `${markNote} (policy: ${plan.policy.source})`,
      width,
    ).map((l) => s.bold(l)),
  );
  return sections.map((lines) => lines.join("\n")).join("\n\n") + "\n";
}

export function renderResultsTable(results: WriteResult[], opts: TableOptions = {}): string {
  const s = opts.style ?? PLAIN;
  const width = Math.max(MIN_WIDTH, opts.width ?? DEFAULT_WIDTH);
  if (results.length === 0) return s.bold("Apply: nothing to delete.") + "\n";
  const label = (r: WriteResult) => (r.operation !== "delete" ? `${r.operation} ${r.result}` : r.result);
  // AWS's request id is the last column, shown when the table fits with it (the JSON output always has it).
  const full = (r: WriteResult) => [label(r), r.versionName, r.status ?? "-", r.requestId ?? ""];
  const header = ["RESULT", "VERSION", "STATUS", "REQUEST"];
  const withRequest = naturalWidth(header, results.map(full)) <= width;
  const cells = (r: WriteResult) => (withRequest ? full(r) : full(r).slice(0, 3));
  const cols = fitColumns(withRequest ? header : header.slice(0, 3), results.map(cells), 1, width);
  const noteIndent = INDENT.length + cols.widths[0]! + GAP.length;
  const under = (text: string) => hanging(" ".repeat(noteIndent) + ARROW, text, noteIndent + ARROW.length, width);
  const lines: string[] = [s.dim(cols.line(withRequest ? header : header.slice(0, 3))[0]!)];
  for (const group of groupBySet(results, (r) => `${r.account ?? ""}|${r.region}|${r.project}`)) {
    lines.push("", ...groupHeader(s, group[0]!, undefined, undefined, undefined, width));
    for (const r of group) {
      const paint = resultColor(s, r.result);
      const l = label(r);
      lines.push(
        ...cols
          .line(cells(r))
          .map((row, i) =>
            i === 0
              ? INDENT +
                paint(l) +
                (withRequest && r.requestId ? row.slice(INDENT.length + l.length).replace(/\S+$/, (id) => s.dim(id)) : row.slice(INDENT.length + l.length))
              : row,
          ),
      );
      // What did not simply succeed says why, under the version: AWS's error (once, at the end, when it is
      // a cause every write would meet alike), or the guards at the last look.
      const cause = writeFailureCause(r);
      if (cause) lines.push(...under(`${cause.title} (see Error below)`));
      else if (r.result !== "accepted" && (r.error ?? r.code)) lines.push(...under((r.error ?? r.code)!));
      if (r.archive) lines.push(...under(archiveNote(r)));
      for (const reason of r.reasons ?? []) lines.push(...under(reasonText(reason)));
    }
  }
  // Notices and reminders are bookkeeping like marks: they count with marks, not deletions.
  const bookkeeping = (r: WriteResult) => r.operation === "mark" || r.operation === "unmark" || r.operation === "notice" || r.operation === "reminder";
  const marks = results.filter(bookkeeping);
  const dels = results.filter((r) => !bookkeeping(r));
  const n = (k: WriteResult["result"]) => dels.filter((r) => r.result === k).length;
  const markNote = marks.length
    ? ` Marks: ${marks.filter((r) => r.result === "accepted").length} written, ${marks.filter((r) => r.result !== "accepted").length} not ` +
      `(${marks.filter((r) => r.result === "unknown").length} unknown).`
    : "";
  for (const g of groupWriteFailures(results)) {
    const n = g.versions.length;
    lines.push("", ...versionCauseBlock(s, g, "", `${n} write${n === 1 ? "" : "s"} failed (retried by the next run):`, width));
  }
  const summary = wrap(
    `Apply: ${n("accepted")} accepted, ${n("alreadyDeleted")} already deleted, ${n("failed")} failed, ${n("skipped")} skipped, ${n("changed")} changed, ` +
      `${n("unknown")} unknown.${n("archiving") ? ` ${n("archiving")} archiving (copy in progress; the next run deletes).` : ""}${markNote}`,
    width,
  ).map((l) => s.bold(l));
  return lines.join("\n") + "\n\n" + summary.join("\n") + "\n";
}

/** Items grouped by key, groups in first-seen order, items in their order. */
function groupBySet<T>(items: readonly T[], key: (t: T) => string): T[][] {
  const out = new Map<string, T[]>();
  for (const i of items) {
    const k = key(i);
    const g = out.get(k);
    if (g) g.push(i);
    else out.set(k, [i]);
  }
  return [...out.values()];
}

/** `project (kind, account/region) via role status: tally`, the project's name bold; wrapped to the width. */
function groupHeader(
  s: Style,
  x: { project: string; region: string; account?: string; roleArn?: string },
  project: PlanProject | undefined,
  tally: string | undefined,
  kind: string | undefined,
  width: number,
): string[] {
  const status = project?.status === "notFound" ? "not found" : project?.status === "error" ? "not read" : "";
  const rest = [`(${kind ? `${kind}, ` : ""}${where(x)})`, x.roleArn ? `via ${x.roleArn}` : "", status].filter(Boolean).join(" ") + (tally ? `: ${tally}` : "");
  const lines = wrap(`${x.project} ${rest}`, width, width - INDENT.length);
  // Paint by position: the name first, then what follows it (the status in red when there is one).
  const paint = (l: string) => (status ? l.replace(status, s.red(status)) : l);
  return lines.map((l, i) => {
    if (i > 0) return INDENT + s.dim(paint(l));
    return l.startsWith(x.project) ? s.bold(x.project) + s.dim(paint(l.slice(x.project.length))) : s.dim(paint(l));
  });
}

function counts(actions: PlanAction[]): string {
  const n = (k: PlanAction["action"]) => actions.filter((a) => a.action === k).length;
  return [
    n("delete") && `${n("delete")} to delete`,
    n("keep") && `${n("keep")} to keep`,
    n("blocked") && `${n("blocked")} blocked`,
    n("missing") && `${n("missing")} missing`,
    n("start") && `${n("start")} to start`,
    n("stop") && `${n("stop")} to stop`,
  ]
    .filter(Boolean)
    .join(", ");
}

/** What is said under a version: its reasons, then what apply will do besides deleting it. */
function notes(a: PlanAction, refusals: Reason[]): string[] {
  const out = a.reasons.map((r) => {
    // A run-wide refusal is on every version it stopped, and a tag read that failed for a common cause
    // (a denied ListTagsForResource) on every candidate: each is told once, at the end.
    if (refusals.some((x) => x.rule === r.rule && x.message === r.message)) return `${r.rule}: the whole run is refused (see REFUSED below)`;
    const cause = tagReadCause(r);
    return cause ? `${r.rule}: tags could not be read, ${cause.title} (see Error below)` : reasonText(r);
  });
  if (a.mark === "add") out.push("apply marks it pending deletion (grace period); a later run deletes it");
  if (a.mark === "remove") out.push("apply removes the pending-delete mark");
  if (a.stopFirst) out.push("apply stops it first (stopRunning), then deletes it");
  if (a.archive) out.push(`archive: apply copies it to ${a.archive.project}/${a.archive.versionName} first, and deletes it once the copy is complete`);
  if (a.noUndo) out.push("no undo: an adapter cannot be archived (archive.required: false), so it is deleted without a copy");
  const rt = runtimeNote(a);
  if (rt) out.push(rt);
  if (a.notice) out.push(`notice ${a.notice}`);
  if (a.reminder === "due") out.push("reminder due");
  return out;
}

/** A deletion's archive step, in words: where the copy is and how it stands. */
function archiveNote(r: WriteResult): string {
  const a = r.archive!;
  const how = a.copy === "reused" ? "copy from an earlier run" : a.copy === "copied" ? "copied in this run" : "copy failed";
  return `archive: ${a.project}/${a.versionName} (${how}${a.status ? `, ${a.status}` : ""})${r.archivedAs ? ` ${r.archivedAs}` : ""}`;
}

function reasonText(r: Reason): string {
  return `${r.rule}: ${r.message}${r.layer ? ` [${r.layer}]` : ""}`;
}

/** One cause of unread projects: what, what to do, AWS's words, and the projects it stopped. */
function causeBlock(s: Style, g: CauseGroup, width: number): string[] {
  const n = g.affected.length;
  const lines = hanging(s.red(s.bold("Error:")) + " ", g.cause.title, "Error: ".length, width, s.bold);
  if (g.cause.fix) lines.push(...hanging(INDENT + "→ ", g.cause.fix, INDENT.length + 2, width));
  const shown = g.details.slice(0, 2);
  for (const d of shown) lines.push(...hanging(INDENT, d, INDENT.length, width, s.dim));
  if (g.details.length > shown.length) lines.push(s.dim(`${INDENT}(and ${g.details.length - shown.length} more like it)`));
  const them = n === 1 ? "it" : "them";
  lines.push(`${INDENT}${n} project${n === 1 ? "" : "s"} ${g.cause.kind === "notFound" ? "not found" : "not read"}; nothing in ${them} is deleted:`);
  const nameWidth = Math.max(...g.affected.map((a) => a.project.project.length));
  for (const a of g.affected) {
    const p = a.project;
    lines.push(
      ...hanging(
        `${INDENT}${INDENT}${padEnd(p.project, nameWidth)}  `,
        `${p.region}${p.account ? `, account ${p.account}` : ""}${p.roleArn ? `, via ${p.roleArn}` : ""}${a.resource ? `, on ${a.resource}` : ""}`,
        INDENT.length * 2 + nameWidth + 2,
        width,
      ),
    );
  }
  return lines;
}

/** One cause several versions met: what, what to do, AWS's words once, how many in which project. */
function versionCauseBlock<T extends { project: string; region: string; account?: string }>(
  s: Style,
  g: VersionCauseGroup<T>,
  doing: string,
  count: string,
  width: number,
): string[] {
  const lines = hanging(s.red(s.bold("Error:")) + " ", `${g.cause.title}${doing ? ` (${doing})` : ""}`, "Error: ".length, width, s.bold);
  if (g.cause.fix) lines.push(...hanging(INDENT + "→ ", g.cause.fix, INDENT.length + 2, width));
  lines.push(...hanging(INDENT, g.details[0]!, INDENT.length, width, s.dim));
  if (g.details.length > 1) lines.push(s.dim(`${INDENT}(and ${g.details.length - 1} more like it)`));
  lines.push(...hanging(INDENT, count, INDENT.length, width));
  const byProject = groupBySet(g.versions, (a) => `${a.account ?? ""}|${a.region}|${a.project}`);
  const nameWidth = Math.max(...byProject.map((vs) => vs[0]!.project.length));
  for (const vs of byProject) lines.push(`${INDENT}${INDENT}${padEnd(vs[0]!.project, nameWidth)}  ${vs.length} version${vs.length === 1 ? "" : "s"}`);
  return lines;
}

/** "account/region"; the account is the one the credentials resolved to (STS), "?" when they did not. */
function where(x: { account?: string; region: string }): string {
  return `${x.account ?? "?"}/${x.region}`;
}

interface Columns {
  widths: number[];
  /** A row as lines: the wrapping column may take several; every line indented. */
  line(cells: string[]): string[];
}

/** Columns a row takes without wrapping anything. */
function naturalWidth(header: string[], rows: string[][]): number {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  return INDENT.length + widths.reduce((a, b) => a + b, 0) + GAP.length * (widths.length - 1);
}

/**
 * Left-aligned columns that fit `width` when they can: the column `flex` (a name) gives up room first and
 * wraps, never cut; the last column is not padded.
 */
function fitColumns(header: string[], rows: string[][], flex: number, width: number): Columns {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const total = INDENT.length + widths.reduce((a, b) => a + b, 0) + GAP.length * (widths.length - 1);
  if (total > width) widths[flex] = Math.max(16, widths[flex]! - (total - width));
  return {
    widths,
    line(cells) {
      const parts = cells.map((c, i) => (i === flex ? wrap(c, widths[i]!) : [c]));
      const height = Math.max(...parts.map((p) => p.length));
      const out: string[] = [];
      for (let k = 0; k < height; k++) {
        out.push((INDENT + parts.map((p, i) => (i === parts.length - 1 ? (p[k] ?? "") : (p[k] ?? "").padEnd(widths[i]!))).join(GAP)).trimEnd());
      }
      return out;
    },
  };
}
