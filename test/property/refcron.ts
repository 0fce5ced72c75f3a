// The reference model's own cron: when does a deletion window's occurrence start? Written from the README
// ("Deletion windows") for the few 5-field patterns the property tests generate (`M H * * *`, `M H * * DOW`,
// `M H * * MON-FRI`, `*/15 * * * *`, `0 0 29 2 *`: numbers, `*`, `*/n`, ranges, lists, day names), with
// wall clocks from Intl.DateTimeFormat alone. It shares nothing with the production windows code (which
// uses croner): if both read the README the same way, they agree.
//
// The README's daylight-saving rules, for a start at a fixed time of day (a number in the hour field): one
// whose wall-clock time is skipped in spring fires at the transition (02:30 → 03:00 in Europe/Berlin); one
// whose wall-clock time happens twice in autumn fires once, at the first of the two. A schedule that runs
// every hour (`*` in the hour field) is ISC cron's "wildcard job", which production's comment cites: it fires
// whenever the clock shows a matching time, so twice in the repeated hour and not at all for a minute the
// clock skipped (its next start, at the next matching time, comes soon anyway).

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const DAY_NAMES: Record<string, number> = { SUN: 0, MON: 1, TUE: 2, WED: 3, THU: 4, FRI: 5, SAT: 6 };

const formats = new Map<string, Intl.DateTimeFormat>();
function format(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formats.set(timeZone, f);
  }
  return f;
}

const walls = new Map<string, number>();
/** The wall clock in `timeZone` at instant `t`, written as if it were a UTC time (ms). */
export function wallOf(t: number, timeZone: string): number {
  const k = `${timeZone}|${t}`;
  const hit = walls.get(k);
  if (hit !== undefined) return hit;
  const p: Record<string, number> = {};
  for (const part of format(timeZone).formatToParts(new Date(t))) if (part.type !== "literal") p[part.type] = Number(part.value);
  const w = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) + (t % 1000);
  if (walls.size > 200_000) walls.clear();
  walls.set(k, w);
  return w;
}

/**
 * The instant at which a start written as wall-clock time `wall` fires in `timeZone`. The zones generated
 * change their offset at most once within a day, so the offsets a day before and a day after are the only
 * candidates: one matches (an ordinary time), both (the repeated hour: the first), or neither (the skipped
 * hour: the first instant whose wall clock is past `wall`, i.e. the transition).
 */
export function instantOf(wall: number, timeZone: string): number {
  const hits = instantsShowing(wall, timeZone);
  if (hits.length > 0) return hits[0]!;
  const before = wallOf(wall - DAY, timeZone) - (wall - DAY);
  const after = wallOf(wall + DAY, timeZone) - (wall + DAY);
  // Skipped: between the two candidates the clock jumps over `wall`; find the jump to the minute.
  let lo = Math.min(wall - before, wall - after);
  let hi = Math.max(wall - before, wall - after);
  while (hi - lo > MINUTE) {
    const mid = lo + Math.floor((hi - lo) / 2 / MINUTE) * MINUTE;
    if (wallOf(mid, timeZone) > wall) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Every instant at which the clock in `timeZone` shows `wall`: none (skipped), one, or two (repeated), in order. */
export function instantsShowing(wall: number, timeZone: string): number[] {
  const before = wallOf(wall - DAY, timeZone) - (wall - DAY);
  const after = wallOf(wall + DAY, timeZone) - (wall + DAY);
  return [...new Set([wall - before, wall - after])].filter((t) => wallOf(t, timeZone) === wall).sort((a, b) => a - b);
}

/** Whether one cron field matches `value`: `*`, `*∕n`, `a`, `a-b`, names, comma lists. */
function fieldMatches(spec: string, value: number, min: number): boolean {
  return spec.split(",").some((part) => {
    const [range, stepText] = part.split("/") as [string, string | undefined];
    const step = stepText === undefined ? 1 : Number(stepText);
    const num = (s: string) => (s.toUpperCase() in DAY_NAMES ? DAY_NAMES[s.toUpperCase()]! : Number(s));
    let lo: number;
    let hi: number;
    if (range === "*") [lo, hi] = [min, Number.MAX_SAFE_INTEGER];
    else if (range.includes("-")) {
      [lo, hi] = range.split("-").map(num) as [number, number];
      if (hi < lo) hi += 7; // SAT-SUN: Sunday is also day 7
    } else [lo, hi] = [num(range), stepText === undefined ? num(range) : Number.MAX_SAFE_INTEGER];
    return value >= lo && value <= hi && (value - lo) % step === 0;
  });
}

function parse(schedule: string): { minute: string; hour: string; dom: string; month: string; dow: string } {
  const [minute, hour, dom, month, dow] = schedule.trim().split(/\s+/) as [string, string, string, string, string];
  if (dom !== "*" && dow !== "*") throw new Error(`refcron: "${schedule}" restricts both day fields (cron ORs them); not generated`);
  return { minute, hour, dom, month, dow };
}

/** Whether the wall-clock minute `wall` (UTC-style ms) matches the schedule. */
function matches(c: ReturnType<typeof parse>, wall: number): boolean {
  const d = new Date(wall);
  const dow = d.getUTCDay();
  return (
    fieldMatches(c.minute, d.getUTCMinutes(), 0) &&
    fieldMatches(c.hour, d.getUTCHours(), 0) &&
    fieldMatches(c.dom, d.getUTCDate(), 1) &&
    fieldMatches(c.month, d.getUTCMonth() + 1, 1) &&
    (fieldMatches(c.dow, dow, 0) || (dow === 0 && fieldMatches(c.dow, 7, 0)))
  );
}

/**
 * The instants at which occurrences start in [from, to]: every matching wall-clock minute between the wall
 * clocks of the two ends (with a margin for a transition), mapped to its instant by the rules above.
 */
export function startsBetween(schedule: string, timeZone: string, from: number, to: number): number[] {
  const c = parse(schedule);
  const wildcardHour = c.hour.startsWith("*");
  const out = new Set<number>();
  const first = Math.floor((wallOf(from, timeZone) - 3 * HOUR) / HOUR) * HOUR;
  const last = wallOf(to, timeZone) + 3 * HOUR;
  for (let hour = first; hour <= last; hour += HOUR) {
    // Skip hours whose day or hour cannot match before looking at minutes.
    if (!matches({ ...c, minute: "*" }, hour)) continue;
    for (let w = hour; w < hour + HOUR; w += MINUTE) {
      if (!matches(c, w)) continue;
      const starts = wildcardHour ? instantsShowing(w, timeZone) : [instantOf(w, timeZone)];
      for (const t of starts) if (t >= from && t <= to) out.add(t);
    }
  }
  return [...out].sort((a, b) => a - b);
}

/** The README: an occurrence starts at each cron time and lasts its duration, [start, start + duration). */
export function windowOpenAt(w: { schedule: string; timeZone: string; durationMs: number }, now: number): boolean {
  return startsBetween(w.schedule, w.timeZone, now - w.durationMs + 1, now).length > 0;
}
