// The plan as plan and apply print it: markdown for pull requests, else the table.
import { renderPlanMarkdown } from "../render/markdown.js";
import { renderPlanTable } from "../render/table.js";
import type { Plan } from "../types.js";

export function renderPlan(p: Plan, output: string, title: string): string {
  return output === "markdown" ? renderPlanMarkdown(p, { title }) : renderPlanTable(p);
}
