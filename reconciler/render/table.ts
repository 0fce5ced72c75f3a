// Human views of a plan and of apply results. Problems come first and loud; the summary line last.
import type { DeleteResult } from "../apply.js";
import { formatDuration } from "../duration.js";
import type { Plan } from "../types.js";

export function renderPlanTable(plan: Plan): string {
  const out: string[] = [];
  const now = Date.parse(plan.generatedAt);

  for (const r of plan.refusals) out.push(`REFUSED (${r.rule}): ${r.message}`);
  for (const p of plan.projects.filter((x) => x.status !== "ok")) {
    out.push(`ERROR ${p.project} (${p.region}) [${p.status}]: ${p.error ?? "unknown error"} — nothing in this project is deleted`);
  }
  if (out.length) out.push("");

  const rows = plan.actions.map((a) => [
    a.action,
    a.project,
    a.versionName,
    a.status ?? "-",
    a.createdAt ? formatDuration(now - Date.parse(a.createdAt)) : "-",
    a.feature === "CONTENT_MODERATION" ? "adapter" : a.feature ? "model" : "-",
    a.reasons.map((r) => `${r.rule}: ${r.message}`).join("; "),
  ]);
  if (rows.length) out.push(table(["ACTION", "PROJECT", "VERSION", "STATUS", "AGE", "KIND", "REASONS"], rows), "");

  const s = plan.summary;
  out.push(`Plan: ${s.delete} to delete, ${s.keep} to keep, ${s.blocked} blocked, ${s.missing} missing. (policy: ${plan.policy.source})`);
  return out.join("\n") + "\n";
}

export function renderResultsTable(results: DeleteResult[]): string {
  if (results.length === 0) return "Apply: nothing to delete.\n";
  const rows = results.map((r) => [r.result, r.project, r.versionName, r.result === "accepted" ? `${r.status ?? ""} request ${r.requestId ?? "-"}` : (r.error ?? r.code ?? "")]);
  const n = (k: DeleteResult["result"]) => results.filter((r) => r.result === k).length;
  return (
    table(["RESULT", "PROJECT", "VERSION", "DETAIL"], rows) +
    `\n\nApply: ${n("accepted")} accepted, ${n("alreadyDeleted")} already deleted, ${n("failed")} failed, ${n("skipped")} skipped.\n`
  );
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
