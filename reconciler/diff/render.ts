// The views of a `rekon diff`: a table for a terminal, Markdown for a pull request (JSON is the result as is).
import type { DiffResult, PolicyChange, ProjectChange } from "./types.js";

const where = (p: ProjectChange) => `${p.project} (${p.region}${p.roleArn ? `, ${p.roleArn}` : ""})`;
const totals = ({ summary: s }: DiffResult) =>
  `${s.removed} version(s) removed, ${s.added} added, ${s.policyChanges} policy change(s), ${s.loosenings} loosening(s)`;
const STOPS = "ProjectVersionSet removed — rekon stops managing the project (nothing is deleted)";

function projectLines(p: ProjectChange): string[] {
  const out: string[] = [];
  if (p.set === "removed") out.push(`  ${where(p)}: ${STOPS}${p.unlisted?.length ? `; no longer listed by any set: ${p.unlisted.join(", ")}` : ""}`);
  else if (p.set === "added") out.push(`  ${where(p)}: ProjectVersionSet added — every unlisted version becomes a deletion candidate`);
  if (p.moved?.length) out.push(`  ${where(p)}: ProjectVersionSet moved (compared as the same project): ${p.moved.join("; ")}`);
  if (p.removed.length) out.push(`  ${where(p)}: removes ${p.removed.join(", ")} (deleted by apply if every guard passes)`);
  if (p.added.length) out.push(`  ${where(p)}: adds ${p.added.join(", ")}`);
  return out;
}

export function renderDiffTable(d: DiffResult): string {
  const out: string[] = [`rekon diff ${d.base}..${d.head}`, ""];
  const loose = d.policy.filter((p) => p.loosens);
  for (const p of loose) out.push(`LOOSENS ${p.layer}: ${p.field} ${p.from} → ${p.to}`);
  if (loose.length) out.push("");
  if (d.projects.length) out.push("Desired versions:", ...d.projects.flatMap(projectLines));
  const other = d.policy.filter((p) => !p.loosens);
  if (other.length) out.push("", "Policy changes that do not loosen:", ...other.map((p) => `  ${p.layer}: ${p.field} ${p.from} → ${p.to}`));
  if (d.notes.length) out.push("", ...d.notes.map((n) => `Note: ${n}`));
  out.push("", `Diff: ${totals(d)}.`);
  return out.join("\n") + "\n";
}

export function renderDiffMarkdown(d: DiffResult): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const code = (xs: string[]) => xs.map((v) => `\`${esc(v)}\``).join(", ");
  const unlisted = (p: ProjectChange) => (p.unlisted?.length ? `; no longer listed by any set: ${code(p.unlisted)}` : "");
  const out: string[] = [`### rekon diff: ${totals(d)}`, ""];
  const loose = d.policy.filter((p) => p.loosens);
  const line = (p: PolicyChange) => `${esc(p.layer)}: \`${esc(p.field)}\` ${esc(p.from)} → ${esc(p.to)}`;
  if (loose.length) out.push("> [!WARNING]", "> **This change loosens a deletion policy:**", ...loose.map((p) => `> - ${line(p)}`), "");
  if (d.projects.length) {
    out.push("| Project | Region | Removed (deletion candidates) | Added |", "| --- | --- | --- | --- |");
    for (const p of d.projects) {
      const notes = [
        ...(p.set === "removed" ? [`set removed: rekon stops managing it, nothing is deleted${unlisted(p)}`] : p.set ? [`set ${p.set}`] : []),
        ...(p.moved?.length ? [`moved: ${esc(p.moved.join("; "))}`] : []),
      ];
      const role = p.roleArn ? ` via ${esc(p.roleArn)}` : "";
      out.push(`| \`${esc(p.project)}\`${role}${notes.length ? ` (${notes.join("; ")})` : ""} | ${esc(p.region)} | ${code(p.removed)} | ${code(p.added)} |`);
    }
    out.push("");
  }
  const other = d.policy.filter((p) => !p.loosens);
  if (other.length) out.push("<details><summary>Other policy changes</summary>", "", ...other.map((p) => `- ${line(p)}`), "", "</details>", "");
  if (d.notes.length) out.push(...d.notes.map((n) => `> ${esc(n)}`), "");
  return out.join("\n");
}
