// What running models cost, in words every view shares: inference units now and after the plan, and, with
// the operator's price, per hour and per 30 days (a running model bills every hour, idle or not).
import type { InferenceUnits, Plan, PlanAction } from "../types.js";

/** Hours in the 30 days plans quote costs for. */
export const HOURS_PER_30_DAYS = 720;

export function formatUnits(u: InferenceUnits): string {
  return u.max !== undefined && u.max !== u.min ? `${u.min}–${u.max} IU` : `${u.min} IU`;
}

/** A money amount rounded to whole units, grouped by thousands: 5,760. */
export function formatWhole(n: number): string {
  return Math.round(n).toLocaleString("en-US", { maximumFractionDigits: 0 });
}

/** A money amount, grouped by thousands, two decimals: 5,760.00. */
export function formatMoney(n: number): string {
  return n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

/** "Inference: 3 IU running now → 2 IU after the plan (12.00 → 8.00 USD/h; 8,640.00 → 5,760.00 USD per 30 days)", or nothing. */
export function inferenceLine(plan: Plan): string | undefined {
  const u = plan.inferenceUnits;
  if (!u || (u.now === 0 && u.after === 0 && plan.summary.start === 0)) return undefined;
  const c = plan.cost;
  const money = c
    ? ` (${formatMoney(c.perHourNow)} → ${formatMoney(c.perHourAfter)} ${c.currency}/h; ` +
      `${formatMoney(c.perHourNow * HOURS_PER_30_DAYS)} → ${formatMoney(c.perHourAfter * HOURS_PER_30_DAYS)} ${c.currency} per 30 days)`
    : " (set spec.inference.unitPricePerHour in the policy to see the cost)";
  return `Inference: ${u.now} IU running now → ${u.after} IU after the plan${money}`;
}

/** What a start or stop does, under its version. */
export function runtimeNote(a: PlanAction): string | undefined {
  if (a.action === "start" && a.units) return `apply starts it at ${formatUnits(a.units)}${a.restartFirst ? ", after stopping it (a restart: downtime)" : ""}`;
  if (a.action === "stop") return `apply stops it${a.units ? ` (${formatUnits(a.units)} less)` : ""}`;
  if (a.action === "keep" && a.units && a.status === "RUNNING") return `running at ${formatUnits(a.units)}`;
  return undefined;
}

const sign = (n: number) => (n > 0 ? "+" : n < 0 ? "−" : "");

/** A change in inference units, signed: "+2 IU", "−1 IU", "0 IU". */
export function formatUnitsDelta(n: number): string {
  return `${sign(n)}${Math.abs(n)} IU`;
}

/** What a change of `units` costs per 30 days (720 h) at `perHour` a unit-hour; negative for units taken away. */
export function costPer30Days(units: number, perHour: number): number {
  return units * perHour * HOURS_PER_30_DAYS;
}

/** "+2 IU ≈ +5,760.00 USD / 30 days" with a price; "+2 IU" without. */
export function formatUnitsCost(units: number, price?: { unitPricePerHour?: number; currency: string }): string {
  if (price?.unitPricePerHour === undefined) return formatUnitsDelta(units);
  const c = costPer30Days(units, price.unitPricePerHour);
  // "≈": a month's cost in whole units of the currency (5,760 USD); cents would claim a precision it has not.
  return `${formatUnitsDelta(units)} ≈ ${sign(c)}${formatWhole(Math.abs(c))} ${price.currency} / 30 days`;
}
