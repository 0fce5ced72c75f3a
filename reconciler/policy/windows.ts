// Deletion windows: when deletion may happen. Pure: every answer is for a given `now`.
//
// An occurrence of a window starts at each time its 5-field cron schedule fires in its time zone, and lasts
// `durationMs`. With no windows, deletion is always allowed; with allow windows, only inside an occurrence
// of one; a deny occurrence always wins. Cron and time zones are croner's: on a daylight-saving spring
// forward, a start that falls in the skipped hour fires at the transition; in a repeated autumn hour it
// fires once, at the first of the two (ISC cron's behaviour; the tests pin both).
import { Cron } from "croner";
import { formatDuration } from "../duration.js";
import type { DeletionWindow } from "../types.js";

/** How far ahead rekon looks for the next allowed moment. */
const HORIZON_MS = 400 * 86_400_000;
/** Bound on the alternations between deny and allow windows while looking ahead. */
const MAX_STEPS = 200;

const schedules = new Map<string, Cron>();
function cron(w: Pick<DeletionWindow, "schedule" | "timeZone">): Cron {
  const k = `${w.timeZone}\u0000${w.schedule}`;
  let c = schedules.get(k);
  if (!c) schedules.set(k, (c = new Cron(w.schedule, { timezone: w.timeZone, paused: true })));
  return c;
}

/** The first start strictly after `t`, or undefined. */
function startAfter(w: DeletionWindow, t: number): number | undefined {
  return cron(w).nextRun(new Date(t))?.getTime();
}

/** If an occurrence of `w` is in force at `t`, when the last one covering `t` ends. */
export function activeUntil(w: DeletionWindow, t: number): number | undefined {
  // An occurrence [s, s + duration) covers t when it started in (t - duration, t]; the latest such start
  // ends last. (croner's nextRun is strictly after the time it is given.)
  let s = startAfter(w, t - w.durationMs);
  if (s === undefined || s > t) return undefined;
  for (let n = 0; n < 10_000; n++) {
    const next = startAfter(w, s);
    if (next === undefined || next > t) break;
    s = next;
  }
  return s + w.durationMs;
}

export interface WindowVerdict {
  /** Whether deletion is allowed at `now`. */
  allowed: boolean;
  /** Why not: the window that blocks (a deny occurrence in force, or the allow windows all closed). */
  blockedBy?: DeletionWindow;
  /** When deletion is next allowed (epoch ms); undefined when allowed now, or not within the horizon. */
  nextAllowed?: number;
}

function blockerAt(windows: readonly DeletionWindow[], t: number): { window: DeletionWindow; until: number | undefined } | undefined {
  let deny: { window: DeletionWindow; until: number } | undefined;
  for (const w of windows) {
    if (w.kind !== "deny") continue;
    const until = activeUntil(w, t);
    if (until !== undefined && (!deny || until > deny.until)) deny = { window: w, until };
  }
  if (deny) return deny;
  const allows = windows.filter((w) => w.kind === "allow");
  if (allows.length === 0 || allows.some((w) => activeUntil(w, t) !== undefined)) return undefined;
  const opens = allows.map((w) => ({ w, at: startAfter(w, t) })).filter((x): x is { w: DeletionWindow; at: number } => x.at !== undefined);
  const first = opens.sort((a, b) => a.at - b.at)[0];
  return { window: first?.w ?? allows[0]!, until: first?.at };
}

export function windowVerdict(windows: readonly DeletionWindow[], now: number): WindowVerdict {
  const b = blockerAt(windows, now);
  if (!b) return { allowed: true };
  let t = b.until;
  for (let step = 0; t !== undefined && step < MAX_STEPS && t - now <= HORIZON_MS; step++) {
    const next = blockerAt(windows, t);
    if (!next) return { allowed: false, blockedBy: b.window, nextAllowed: t };
    t = next.until !== undefined && next.until > t ? next.until : undefined;
  }
  return { allowed: false, blockedBy: b.window };
}

/** How a window is named in reasons: its kind, schedule, zone, duration and reason. */
export function describeWindow(w: DeletionWindow): string {
  return `${w.kind} window "${w.schedule}" ${w.timeZone} for ${w.duration}${w.reason ? ` (${w.reason})` : ""}`;
}

/** The reason text for a version kept by a window at `now`. */
export function windowMessage(v: WindowVerdict, now: number): string {
  const w = v.blockedBy!;
  const next =
    v.nextAllowed !== undefined
      ? `deletion is next allowed at ${new Date(v.nextAllowed).toISOString()} (in ${formatDuration(v.nextAllowed - now)})`
      : "deletion is not allowed again within 400 days";
  return w.kind === "deny" ? `inside the ${describeWindow(w)}; ${next}` : `outside every allow window (next: ${describeWindow(w)}); ${next}`;
}

/** Problems with a window as written (validate reports them at the window's line), or none. */
export function windowProblems(w: { schedule: string; timeZone?: string }): string[] {
  const out: string[] = [];
  const fields = w.schedule.trim().split(/\s+/);
  if (fields.length !== 5) out.push(`schedule "${w.schedule}" has ${fields.length} fields; use exactly 5 (minute hour day-of-month month day-of-week)`);
  const tz = w.timeZone ?? "UTC";
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
  } catch {
    out.push(`timeZone "${tz}" is not an IANA time zone name (e.g. Europe/Berlin, UTC)`);
    return out;
  }
  if (out.length === 0) {
    try {
      new Cron(w.schedule, { timezone: tz, paused: true }).nextRun();
    } catch (e) {
      out.push(`schedule "${w.schedule}": ${(e as Error).message.replace(/^CronPattern: /, "")}`);
    }
  }
  return out;
}

/**
 * When any of `windows` next starts or ends an occurrence after `now` (epoch ms): the moment a running
 * schedule changes what should run, so the controller plans again then. Undefined: none within reach.
 */
export function nextBoundary(windows: readonly DeletionWindow[], now: number): number | undefined {
  let next: number | undefined;
  const take = (t: number | undefined) => {
    if (t !== undefined && t > now && (next === undefined || t < next)) next = t;
  };
  for (const w of windows) {
    take(activeUntil(w, now));
    take(startAfter(w, now));
  }
  return next;
}
