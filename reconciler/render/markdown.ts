// Markdown views for pull requests: a reviewer must see, in the PR, exactly what merging will delete and
// why the rest is kept. Plain GitHub-flavoured Markdown, no ANSI, stable order (the plan's), and within
// GitHub's comment limit: tables are cut with a count of what was left out; the summary never is.
import { formatDuration } from "../duration.js";
import type { Plan, PlanAction, Reason, WriteResult } from "../types.js";
import { groupProjectErrors, groupTagReadErrors, tagReadCause } from "./causes.js";
import { inferenceLine, runtimeNote } from "./inference.js";

/** GitHub rejects comments over 65,536 characters; keep a margin for the caller's own wrapping. */
export const GITHUB_COMMENT_LIMIT = 65_536;
const DEFAULT_BUDGET = 60_000;

export function renderPlanMarkdown(plan: Plan, opts: { maxChars?: number; title?: string } = {}): string {
  const budget = opts.maxChars ?? DEFAULT_BUDGET;
  const s = plan.summary;
  const now = Date.parse(plan.generatedAt);
  const marks = plan.actions.filter((a) => a.mark === "add").length;
  const failed = plan.projects.filter((p) => p.status === "error" || p.status === "notFound");
  const status = plan.refusals.length
    ? "⛔ refused"
    : failed.length
      ? "⚠️ errors"
      : s.delete > 0
        ? "🗑️ deletions pending"
        : s.start + s.stop > 0
          ? "⏯️ running state changes pending"
          : "✅ nothing to delete";
  const runtime = s.start + s.stop > 0 ? `, ${s.start} to start, ${s.stop} to stop` : "";
  const head: string[] = [
    `### ${opts.title ?? "rekon plan"}: ${s.delete} to delete, ${s.keep} to keep, ${s.blocked} blocked, ${s.missing} missing${runtime} — ${status}`,
    "",
  ];
  const inference = inferenceLine(plan);
  if (inference) head.push(`**${esc(inference)}**`, "");
  // Errors first and loud: a reviewer who reads one line must not miss them. One line per cause, with
  // what to do and the projects it stopped (render/causes.ts).
  const loud: string[] = [];
  for (const r of plan.refusals) loud.push(`> **REFUSED (${esc(r.rule)})**: ${esc(r.message)}${r.layer ? ` — ${esc(r.layer)}` : ""}`);
  for (const g of groupProjectErrors(plan.projects)) {
    const n = g.affected.length;
    const projects = g.affected.map((a) => `\`${esc(a.project.project)}\` (${where(a.project)})`).join(", ");
    const aws = g.details.length ? ` — AWS: ${esc(g.details[0]!)}${g.details.length > 1 ? ` (and ${g.details.length - 1} more like it)` : ""}` : "";
    loud.push(
      `> **ERROR: ${esc(g.cause.title)}** — ${n} project${n === 1 ? "" : "s"} ${g.cause.kind === "notFound" ? "not found" : "not read"}, nothing in ` +
        `${n === 1 ? "it" : "them"} is deleted: ${projects}${g.cause.fix ? ` — fix: ${esc(g.cause.fix)}` : ""}${aws}`,
    );
  }
  for (const g of groupTagReadErrors(plan.actions)) {
    const n = g.versions.length;
    loud.push(
      `> **ERROR: ${esc(g.cause.title)}** (reading version tags) — ${n} version${n === 1 ? "" : "s"} kept (tagsUnreadable): their protections cannot be ` +
        `checked${g.cause.fix ? ` — fix: ${esc(g.cause.fix)}` : ""} — AWS: ${esc(g.details[0]!)}`,
    );
  }
  if (loud.length) head.push("> [!CAUTION]", ...loud.flatMap((l, i) => (i ? [">", l] : [l])), "");
  const notManaged = plan.projects.filter((p) => p.status === "notManaged");
  if (notManaged.length) head.push(`Not managed (never touched): ${notManaged.map((p) => `\`${esc(p.project)}\` (${where(p)})`).join(", ")}`, "");
  const ok = plan.projects.filter((p) => p.status === "ok");
  if (ok.length) head.push(`Projects read: ${ok.map((p) => `\`${esc(p.project)}\` (${where(p)})`).join(", ")}`, "");
  if (marks) head.push(`Apply will mark ${marks} version(s) pending deletion (grace period); they are deleted by a later run.`, "");

  const runtimeActions = plan.actions.filter((a) => a.action === "start" || a.action === "stop");
  const deletes = plan.actions.filter((a) => a.action === "delete");
  const blocked = plan.actions.filter((a) => a.action === "blocked");
  const missing = plan.actions.filter((a) => a.action === "missing");
  const age = (a: PlanAction) => (a.createdAt ? formatDuration(now - Date.parse(a.createdAt)) : "-");
  const kind = (a: PlanAction) => (a.feature === "CONTENT_MODERATION" ? "adapter" : a.feature ? "model" : "-");

  const sections: Section[] = [];
  if (runtimeActions.length) {
    sections.push({
      before: [
        `#### Running state (${runtimeActions.length})`,
        "",
        "| Project | Account / region | Version | Status | Change |",
        "| --- | --- | --- | --- | --- |",
      ],
      rows: runtimeActions.map(
        (a) => `| ${code(a.project)} | ${where(a)} | ${code(a.versionName)} | ${a.status ?? "-"} | ${esc(runtimeNote(a) ?? a.action)} |`,
      ),
      after: [""],
    });
  }
  if (deletes.length) {
    sections.push({
      before: [
        `#### Deletions (${deletes.length})`,
        "",
        "| Project | Account / region | Version | Status | Age | Kind |",
        "| --- | --- | --- | --- | --- | --- |",
      ],
      rows: deletes.map(
        (a) =>
          `| ${code(a.project)} | ${where(a)} | ${code(a.versionName)} | ${a.status ?? "-"} | ${age(a)} | ${kind(a)}${a.stopFirst ? " (stopped first)" : ""} |`,
      ),
      after: [""],
    });
  }
  if (blocked.length) {
    sections.push({
      before: [
        `<details><summary>Blocked: ${blocked.length} unlisted version(s) kept by a guard</summary>`,
        "",
        "| Project | Version | Status | Age | Rules |",
        "| --- | --- | --- | --- | --- |",
      ],
      rows: blocked.map(
        (a) =>
          `| ${code(a.project)} | ${code(a.versionName)} | ${a.status ?? "-"} | ${age(a)} | ${a.reasons.map((r) => rule(r, plan.refusals)).join("<br>")} |`,
      ),
      after: ["", "</details>", ""],
    });
  }
  if (missing.length) {
    sections.push({
      before: [`#### Missing (${missing.length}): listed but not found; rekon never creates versions`, "", "| Project | Version |", "| --- | --- |"],
      rows: missing.map((a) => `| ${code(a.project)} | ${code(a.versionName)} |`),
      after: [""],
    });
  }
  const foot = [`<sub>policy: ${esc(plan.policy.source)} · generated ${plan.generatedAt}</sub>`, ""];
  return fit(head, sections, foot, budget);
}

export function renderResultsMarkdown(results: WriteResult[], opts: { maxChars?: number } = {}): string {
  const n = (k: WriteResult["result"]) => results.filter((r) => r.result === k && (r.operation === "delete" || r.operation === "stop")).length;
  const head = [
    `### rekon apply: ${n("accepted")} accepted, ${n("alreadyDeleted")} already deleted, ${n("failed")} failed, ${n("skipped")} skipped, ${n("changed")} ` +
      `changed, ${n("unknown")} unknown${n("archiving") ? `, ${n("archiving")} archiving` : ""}`,
    "",
  ];
  const failed = results.filter((r) => r.result === "failed");
  const unknown = results.filter((r) => r.result === "unknown");
  if (failed.length || unknown.length) {
    head.push("> [!CAUTION]");
    if (failed.length) head.push(`> **${failed.length} write(s) failed**; they are retried by the next run.`);
    if (unknown.length)
      head.push(`> **${unknown.length} write(s) unanswered**: sent, but no answer came; they may have happened. The next plan shows what did.`);
    head.push("");
  }
  const sections: Section[] = results.length
    ? [
        {
          before: ["| Result | Project | Version | Detail |", "| --- | --- | --- | --- |"],
          rows: results.map(
            (r) =>
              `| ${r.operation !== "delete" ? `${r.operation} ` : ""}${r.result} | ${code(r.project)} | ${code(r.versionName)} | ` +
              `${esc(r.result === "accepted" ? `${r.status ?? ""} request ${r.requestId ?? "-"}` : (r.error ?? r.code ?? ""))} |`,
          ),
          after: [""],
        },
      ]
    : [];
  return fit(head, sections, [], opts.maxChars ?? DEFAULT_BUDGET);
}

interface Section {
  before: string[];
  rows: string[];
  after: string[];
}

/**
 * Assemble within `budget` characters. The head (summary and errors) and the foot are always kept;
 * table rows are cut from the end of each table, fairly, with a line saying how many were left out.
 */
function fit(head: string[], sections: Section[], foot: string[], budget: number): string {
  const render = (keep: number[]) =>
    [
      ...head,
      ...sections.flatMap((s, i) => {
        const k = keep[i]!;
        const cut = s.rows.length - k;
        const cols = (s.before.at(-1)!.match(/---/g) ?? []).length;
        const note = `| _… ${cut} more row(s) not shown (comment size limit); see the job log or --output json_ |${" |".repeat(Math.max(0, cols - 1))}`;
        return [...s.before, ...s.rows.slice(0, k), ...(cut > 0 ? [note] : []), ...s.after];
      }),
      ...foot,
    ].join("\n");
  const keep = sections.map((s) => s.rows.length);
  let text = render(keep);
  // Shrink the longest table first until it fits; each step removes a row, so this ends.
  while (text.length > budget && keep.some((k) => k > 0)) {
    const i = keep.indexOf(Math.max(...keep));
    keep[i] = Math.max(0, keep[i]! - Math.max(1, Math.ceil(keep[i]! / 10)));
    text = render(keep);
  }
  return text;
}

/** A blocked version's reason; one told at the top (a refusal, a tag read failed for a common cause) by name only. */
function rule(r: Reason, refusals: Reason[]): string {
  if (refusals.some((x) => x.rule === r.rule && x.message === r.message)) return `**${esc(r.rule)}**: the whole run is refused (see above)`;
  const cause = tagReadCause(r);
  if (cause) return `**${esc(r.rule)}**: tags could not be read, ${esc(cause.title)} (see above)`;
  return `**${esc(r.rule)}**: ${esc(r.message)}${r.layer ? ` _(${esc(r.layer)})_` : ""}`;
}

/** "account / region" of a project or action; the account is the one the credentials resolved to. */
function where(x: { account?: string; region: string }): string {
  return `${esc(x.account ?? "account unknown")} / ${esc(x.region)}`;
}

/** Escape what would break a table cell or start markup. */
function esc(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\r?\n/g, " ");
}

function code(s: string): string {
  return "`" + s.replace(/`/g, "'").replace(/\|/g, "\\|") + "`";
}
