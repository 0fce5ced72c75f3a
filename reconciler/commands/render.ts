// The plan as plan and apply print it: markdown for pull requests, else the table, laid out for where
// stdout goes (a terminal's width and colours; no colour into a pipe or a file, or with NO_COLOR).
import type { Io } from "../io.js";
import { causeLines, groupProjectErrors, groupTagReadErrors, tagCauseLines } from "../render/causes.js";
import { renderPlanMarkdown } from "../render/markdown.js";
import { outputWidth } from "../render/layout.js";
import { colorEnabled, style } from "../render/style.js";
import { renderPlanTable, type TableOptions } from "../render/table.js";
import type { Plan } from "../types.js";

export function renderPlan(p: Plan, output: string, title: string, table: TableOptions): string {
  return output === "markdown" ? renderPlanMarkdown(p, { title }) : renderPlanTable(p, table);
}

/** How tables are laid out on this stdout. */
export function tableOptions(io: Io): TableOptions {
  return { style: style(colorEnabled(io.stdout, io.env)), width: outputWidth(io.stdout, io.env) };
}

/**
 * Projects not read, one line per cause, on stderr, when stdout is not the table (JSON or markdown for a
 * machine or a pull request): whoever watches the job log still reads why, once per cause.
 */
export function reportCauses(p: Plan, output: string, io: Io): void {
  if (output === "table") return;
  for (const line of [...causeLines(groupProjectErrors(p.projects)), ...tagCauseLines(groupTagReadErrors(p.actions))])
    io.stderr.write(`rekon: error: ${line}\n`);
}
