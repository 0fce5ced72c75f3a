// The views of a `rekon diff`: a table for a terminal, Markdown for a pull request (JSON is the result as is).
import { formatMoney, formatUnitsCost, HOURS_PER_30_DAYS } from "../render/inference.js";
import type { DiffResult, PolicyChange, ProjectChange, RunningChange } from "./types.js";

const where = (p: ProjectChange) => `${p.project} (${p.region}${p.roleArn ? `, ${p.roleArn}` : ""})`;
const totals = ({ summary: s, running: r }: DiffResult) =>
  `${s.removed} version(s) removed, ${s.added} added, ${s.policyChanges} policy change(s), ${s.loosenings} loosening(s)` +
  (r.changes ? `; running state ${formatUnitsCost(r.inferenceUnits, r)}` : "");
const hasRunning = (p: ProjectChange) => p.runtime !== undefined || p.running !== undefined;
const NO_PRICE = " (set spec.inference.unitPricePerHour in the policy to see the cost)";
/** The running-state total, once per diff; the hint to set a price when the head's operator policy has none. */
const runningTotal = ({ running: r }: DiffResult) => `${formatUnitsCost(r.inferenceUnits, r)}${r.unitPricePerHour === undefined ? NO_PRICE : ""}`;
/** How the figures are counted, so a reviewer does not read an estimate as a bill. */
const basis = ({ running: r, head }: DiffResult) =>
  "Inference units (IU) are counted at minInferenceUnits, what AWS starts a model with (auto scaling up to maxInferenceUnits can bill more); " +
  "a version with a schedule is counted as always on (under runtime: managed, an upper bound). " +
  (r.unitPricePerHour !== undefined
    ? `Priced at ${formatMoney(r.unitPricePerHour)} ${r.currency} per IU-hour × ${HOURS_PER_30_DAYS} h (the operator policy at ${head}). `
    : "") +
  "diff reads no live state: `rekon plan` shows what runs now.";
const runtimeSwitch = (p: ProjectChange) =>
  `spec.runtime ${p.runtime!.from} → ${p.runtime!.to}: ` +
  (p.runtime!.to === "managed"
    ? "a listed version not declared running (or outside its schedule) is stopped if it runs"
    : "rekon no longer stops a listed version");
/** An entry's units and cost; a change of nothing is "0 IU", without a cost of nothing. */
const entryUnits = (d: DiffResult, r: RunningChange) => (r.units === 0 ? "0 IU" : formatUnitsCost(r.units, d.running));

function runningLines(d: DiffResult): string[] {
  const out: string[] = [];
  for (const p of d.projects.filter(hasRunning)) {
    if (p.runtime) out.push(`  ${where(p)}: ${runtimeSwitch(p)}`);
    for (const r of p.running ?? []) out.push(`  ${where(p)}: ${r.version} ${r.text} — ${entryUnits(d, r)}`);
  }
  return out.length ? ["Running state:", ...out, `  Total: ${runningTotal(d)}`, `  ${basis(d)}`] : [];
}
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
  const listed = d.projects.flatMap(projectLines);
  if (listed.length) out.push("Desired versions:", ...listed);
  const running = runningLines(d);
  if (running.length) out.push(...(listed.length ? [""] : []), ...running);
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
  const versions = d.projects.filter((p) => projectLines(p).length);
  if (versions.length) {
    out.push("| Project | Region | Removed (deletion candidates) | Added |", "| --- | --- | --- | --- |");
    for (const p of versions) {
      const notes = [
        ...(p.set === "removed" ? [`set removed: rekon stops managing it, nothing is deleted${unlisted(p)}`] : p.set ? [`set ${p.set}`] : []),
        ...(p.moved?.length ? [`moved: ${esc(p.moved.join("; "))}`] : []),
      ];
      const role = p.roleArn ? ` via ${esc(p.roleArn)}` : "";
      out.push(`| \`${esc(p.project)}\`${role}${notes.length ? ` (${notes.join("; ")})` : ""} | ${esc(p.region)} | ${code(p.removed)} | ${code(p.added)} |`);
    }
    out.push("");
  }
  out.push(...runningMarkdown(d, esc));
  const other = d.policy.filter((p) => !p.loosens);
  if (other.length) out.push("<details><summary>Other policy changes</summary>", "", ...other.map((p) => `- ${line(p)}`), "", "</details>", "");
  if (d.notes.length) out.push(...d.notes.map((n) => `> ${esc(n)}`), "");
  return out.join("\n");
}

function runningMarkdown(d: DiffResult, esc: (s: string) => string): string[] {
  const rows = d.projects.filter(hasRunning);
  if (!rows.length) return [];
  // Cron fields (`*`) and names (`_`) would turn into emphasis in a table cell.
  const md = (s: string) => esc(s).replace(/[*_]/g, (c) => `\\${c}`);
  const out = ["#### Running state", "", "| Project | Region | Version | Change | Units and cost |", "| --- | --- | --- | --- | --- |"];
  for (const p of rows) {
    const at = `| \`${esc(p.project)}\`${p.roleArn ? ` via ${esc(p.roleArn)}` : ""} | ${esc(p.region)} |`;
    if (p.runtime) out.push(`${at} (the set) | ${runtimeSwitch(p)} |  |`);
    for (const r of p.running ?? []) out.push(`${at} \`${esc(r.version)}\` | ${md(r.text)} | ${entryUnits(d, r)} |`);
  }
  out.push("", `**Running state, total: ${runningTotal(d)}**`, "", `<sub>${md(basis(d))}</sub>`, "");
  return out;
}
