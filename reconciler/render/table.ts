// Human views of a plan and of apply results. Problems come first and loud; the summary line last.
import { formatDuration } from "../duration.js";
import type { Plan, WriteResult } from "../types.js";

export function renderPlanTable(plan: Plan): string {
  const out: string[] = [];
  const now = Date.parse(plan.generatedAt);

  for (const r of plan.refusals) out.push(`REFUSED (${r.rule}): ${r.message}`);
  for (const p of plan.projects.filter((x) => x.status === "error" || x.status === "notFound")) {
    out.push(`ERROR ${p.project} (${where(p)}) [${p.status}]: ${p.error ?? "unknown error"} — nothing in this project is deleted`);
  }
  for (const p of plan.projects.filter((x) => x.status === "notManaged")) {
    out.push(`NOT MANAGED ${p.project} (${where(p)}): ${p.error ?? "not managed"}`);
  }
  if (out.length) out.push("");

  const rows = plan.actions.map((a) => [
    a.action,
    a.project,
    where(a),
    a.versionName,
    a.status ?? "-",
    a.createdAt ? formatDuration(now - Date.parse(a.createdAt)) : "-",
    a.feature === "CONTENT_MODERATION" ? "adapter" : a.feature ? "model" : "-",
    [...a.reasons.map((r) => `${r.rule}: ${r.message}${r.layer ? ` [${r.layer}]` : ""}`), ...(a.mark === "remove" ? ["apply removes the pending-delete mark"] : []), ...(a.stopFirst ? ["apply stops it first (stopRunning)"] : []), ...(a.notice ? [`notice ${a.notice}`] : []), ...(a.reminder === "due" ? ["reminder due"] : [])].join("; "),
  ]);
  if (rows.length) out.push(table(["ACTION", "PROJECT", "ACCOUNT/REGION", "VERSION", "STATUS", "AGE", "KIND", "REASONS"], rows), "");

  const s = plan.summary;
  const marks = plan.actions.filter((a) => a.mark === "add").length;
  const unmarks = plan.actions.filter((a) => a.mark === "remove").length;
  const markNote = marks + unmarks > 0 ? ` Apply will mark ${marks} and unmark ${unmarks} version(s) for the grace period.` : "";
  out.push(`Plan: ${s.delete} to delete, ${s.keep} to keep, ${s.blocked} blocked, ${s.missing} missing.${markNote} (policy: ${plan.policy.source})`);
  return out.join("\n") + "\n";
}

export function renderResultsTable(results: WriteResult[]): string {
  if (results.length === 0) return "Apply: nothing to delete.\n";
  const rows = results.map((r) => [r.operation !== "delete" ? `${r.operation} ${r.result}` : r.result, r.project, r.versionName, r.result === "accepted" ? `${r.status ?? ""} request ${r.requestId ?? "-"}` : (r.error ?? r.code ?? "")]);
  const bookkeeping = (r: WriteResult) => r.operation === "mark" || r.operation === "unmark" || r.operation === "notice" || r.operation === "reminder";
  const marks = results.filter(bookkeeping);
  const dels = results.filter((r) => !bookkeeping(r));
  const n = (k: WriteResult["result"]) => dels.filter((r) => r.result === k).length;
  const markNote = marks.length ? ` Marks: ${marks.filter((r) => r.result === "accepted").length} written, ${marks.filter((r) => r.result !== "accepted").length} not (${marks.filter((r) => r.result === "unknown").length} unknown).` : "";
  return (
    table(["RESULT", "PROJECT", "VERSION", "DETAIL"], rows) +
    `\n\nApply: ${n("accepted")} accepted, ${n("alreadyDeleted")} already deleted, ${n("failed")} failed, ${n("skipped")} skipped, ${n("changed")} changed, ${n("unknown")} unknown.${markNote}\n`
  );
}

/** "account/region"; the account is the one the credentials resolved to (STS). */
function where(x: { account?: string; region: string }): string {
  return `${x.account ?? "?"}/${x.region}`;
}

/** Left-aligned columns; the last column is never padded, so long reasons don't push lines wider. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}
