// The running-state half of `rekon diff`: which listed versions a change starts, stops or leaves alone, in
// inference units (IU) and, with the operator's price, per 30 days. Pure: no files, no Git, no SDK, no clock.
//
// diff reads no live state, so it says what the manifests declare, not what AWS runs: units are counted at
// minInferenceUnits (what StartProjectVersion starts a model with; auto scaling up to maxInferenceUnits can
// bill more), and a version with a schedule is counted as if it ran always: under runtime: managed an upper
// bound (hours inside a cron schedule depend on the month and on daylight saving, and a reviewer needs the
// ceiling), under unmanaged what it bills (started inside its schedule, never stopped).
import { costPer30Days, formatUnits } from "../render/inference.js";
import type { DeletionWindow, DesiredSet, DesiredVersion, InferencePolicy, RunningSpec } from "../types.js";
import type { ProjectChange, RunningChange, RunningDecl, RunningTotal, Runtime } from "./types.js";

const runtimeOf = (s: DesiredSet | undefined): Runtime => s?.runtime ?? "unmanaged";
const windowText = (w: DeletionWindow) => `"${w.schedule}" for ${w.duration} in ${w.timeZone}`;

function decl(r: RunningSpec): RunningDecl {
  return {
    minInferenceUnits: r.minInferenceUnits,
    ...(r.maxInferenceUnits !== undefined ? { maxInferenceUnits: r.maxInferenceUnits } : {}),
    ...(r.schedule?.length ? { schedule: r.schedule.map(windowText) } : {}),
  };
}

const unitsText = (d: RunningDecl) =>
  formatUnits({ min: d.minInferenceUnits, ...(d.maxInferenceUnits !== undefined ? { max: d.maxInferenceUnits } : {}) }) +
  (d.maxInferenceUnits !== undefined && d.maxInferenceUnits !== d.minInferenceUnits ? " (auto scaling)" : "");
/**
 * When a version runs. Only runtime: managed stops it outside its schedule; under unmanaged rekon starts it
 * inside its schedule and leaves it running after, so the always-on count is what it bills, not a bound.
 */
function scheduleText(d: RunningDecl, runtime: Runtime): string {
  if (!d.schedule) return "always";
  const s = d.schedule.join(", ");
  return runtime === "managed" ? `only inside its schedule ${s}` : `from its schedule ${s} on, not stopped outside it (runtime: unmanaged)`;
}
const counted = (runtime: Runtime) => (runtime === "managed" ? "counted as if always on (an upper bound)" : "counted as always on");

/**
 * The base entry for a version among the base sets that may be the same project: the one declaring the most
 * units (min), so that a version two base sets listed is never counted as starting from less than it ran at.
 */
function baseVersion(matched: DesiredSet[], name: string): { v: DesiredVersion; set: DesiredSet } | undefined {
  let best: { v: DesiredVersion; set: DesiredSet } | undefined;
  for (const set of matched) {
    for (const v of set.versions) {
      if (v.name !== name) continue;
      if (!best || (v.running?.minInferenceUnits ?? 0) > (best.v.running?.minInferenceUnits ?? 0)) best = { v, set };
    }
  }
  return best;
}

type Entry = Omit<RunningChange, "version">;

/** A version listed at both revisions, or newly listed: what its running state does. */
function versionChanges(b: DesiredVersion | undefined, bRuntime: Runtime, h: DesiredVersion, hRuntime: Runtime, newSet: boolean): Entry[] {
  const from = b?.running ? decl(b.running) : undefined;
  const to = h.running ? decl(h.running) : undefined;
  const both = { ...(from ? { from } : {}), ...(to ? { to } : {}) };
  if (!from && to) {
    const where = to.schedule ? `, ${scheduleText(to, hRuntime)}: ${counted(hRuntime)}` : "";
    return [{ change: "start", ...both, units: to.minInferenceUnits, text: `starts: declared running at ${unitsText(to)}${where}` }];
  }
  if (from && !to) {
    if (hRuntime === "managed")
      return [
        {
          change: "stop",
          ...both,
          units: -from.minInferenceUnits,
          text: `stopped if running: no longer declared running (runtime: managed; was ${unitsText(from)})`,
        },
      ];
    return [
      { change: "notStopped", ...both, units: 0, text: `no longer declared running; rekon will not stop it (runtime: unmanaged; was ${unitsText(from)})` },
    ];
  }
  const out: Entry[] = [];
  const switched = bRuntime !== hRuntime;
  const was = newSet ? "a new set" : `was ${bRuntime}`;
  if (from && to) {
    if (from.minInferenceUnits !== to.minInferenceUnits || from.maxInferenceUnits !== to.maxInferenceUnits) {
      // A model runs at the units it was started with: a running one is restarted at the new ones only
      // under allowRestart (a restart is downtime); otherwise the plan reports capacity drift.
      const text =
        `declared ${unitsText(from)} → ${unitsText(to)}: from its next start (a running version is restarted only under ` +
        `spec.inference.allowRestart: true, with downtime; else reported as capacity drift)`;
      out.push({ change: "units", ...both, units: to.minInferenceUnits - from.minInferenceUnits, text });
    }
    if (JSON.stringify(from.schedule) !== JSON.stringify(to.schedule)) {
      const text = `now runs ${scheduleText(to, hRuntime)} (was ${scheduleText(from, bRuntime)})${to.schedule ? `: ${counted(hRuntime)}` : ""}`;
      out.push({ change: "schedule", ...both, units: 0, text });
    }
  }
  // Only runtime: managed stops a listed version (not declared running, or outside its schedule).
  if (switched && (!to || to.schedule)) {
    const what = to ? "outside its schedule" : "not declared running";
    if (hRuntime === "managed") out.push({ change: "stoppable", ...both, units: 0, text: `${what}: stopped if running (runtime: managed, ${was})` });
    else if (!newSet) out.push({ change: "notStoppable", ...both, units: 0, text: `${what}: rekon no longer stops it (runtime: unmanaged, was managed)` });
  }
  return out;
}

const byVersion = (a: RunningChange, b: RunningChange) => (a.version < b.version ? -1 : a.version > b.version ? 1 : 0);

/** What a head set does to running state, against the base sets that may be the same project. */
export function diffRunning(matched: DesiredSet[], head: DesiredSet): Pick<ProjectChange, "runtime" | "running"> {
  const bRuntimeSet: Runtime = matched.some((s) => runtimeOf(s) === "managed") ? "managed" : "unmanaged";
  const hRuntime = runtimeOf(head);
  const newSet = matched.length === 0;
  const out: RunningChange[] = [];
  const listed = new Set(head.versions.map((v) => v.name));
  for (const h of head.versions) {
    const b = baseVersion(matched, h.name);
    // A version keeps the runtime of the set that listed it; a newly listed one, the project's.
    const bRuntime = b ? runtimeOf(b.set) : bRuntimeSet;
    out.push(...versionChanges(b?.v, bRuntime, h, hRuntime, newSet).map((e) => ({ version: h.name, ...e })));
  }
  for (const name of new Set(matched.flatMap((s) => s.versions.map((v) => v.name)))) {
    const b = baseVersion(matched, name);
    if (listed.has(name) || !b?.v.running) continue;
    const from = decl(b.v.running);
    // The policy's stopRunning stops an unlisted running version only to delete it, when every guard passes.
    const text = `was declared running at ${unitsText(from)} and is no longer listed: a deletion candidate (stopped only to be deleted, under stopRunning)`;
    out.push({ version: name, change: "unlisted", from, units: 0, text });
  }
  const runtime = !newSet && bRuntimeSet !== hRuntime ? { runtime: { from: bRuntimeSet, to: hRuntime } } : {};
  return { ...runtime, ...(out.length ? { running: out.sort(byVersion) } : {}) };
}

/** A removed set's versions that were declared running: rekon neither starts nor stops them any more. */
export function releasedRunning(base: DesiredSet): RunningChange[] {
  return base.versions
    .filter((v) => v.running)
    .map((v) => {
      const from = decl(v.running!);
      const text = `was declared running at ${unitsText(from)}; its set is removed, so rekon neither starts nor stops it any more`;
      return { version: v.name, change: "released" as const, from, units: 0, text };
    })
    .sort(byVersion);
}

/** To the cent, so the JSON carries 2666.52, not 2666.5199999999995 (the views format with formatMoney). */
const cents = (n: number) => Math.round(n * 100) / 100;

/** Price every running change with the head's operator policy, and total them. */
export function priceRunning(projects: ProjectChange[], inference: InferencePolicy): { projects: ProjectChange[]; total: RunningTotal } {
  const price = inference.unitPricePerHour;
  let changes = 0;
  let units = 0;
  const priced = projects.map((p) => {
    if (!p.running) return p;
    changes += p.running.length;
    units += p.running.reduce((n, r) => n + r.units, 0);
    return price === undefined ? p : { ...p, running: p.running.map((r) => ({ ...r, costPer30Days: cents(costPer30Days(r.units, price)) })) };
  });
  const total: RunningTotal = {
    changes,
    inferenceUnits: units,
    ...(price !== undefined ? { unitPricePerHour: price } : {}),
    currency: inference.currency,
    ...(price !== undefined ? { costPer30Days: cents(costPer30Days(units, price)) } : {}),
  };
  return { projects: priced, total };
}
