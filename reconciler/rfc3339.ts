// Strict RFC 3339 timestamps. `Date.parse` is lenient ("12", "2025" and "1" parse as dates) and answers
// NaN for a time that looks right but does not exist (2026-31-12, 25:00, +24:00); compared with `<`, NaN
// is never earlier or later, so a lenient or NaN time in a safety check silently turns the check off.
// Every time rekon reads from a person or a tag goes through here and is either a real instant or refused.

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * The instant an RFC 3339 time names, or undefined when it is not one: the calendar date must exist,
 * hours 00–23, minutes and seconds 00–59 (no leap second), an offset within ±23:59. `utcOnly`: only
 * the `Z` form counts (what rekon writes in tags).
 */
export function parseRfc3339(value: string, opts: { utcOnly?: boolean } = {}): number | undefined {
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (m[8] !== "Z" && opts.utcOnly) return undefined;
  if (h > 23 || mi > 59 || s > 59) return undefined;
  const local = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(local);
  // Date.UTC rolls 2026-02-30 over to March: a date that does not round-trip does not exist.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  let offsetMin = 0;
  if (m[8] !== "Z") {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (m[9] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  return local - offsetMin * 60_000 + (m[7] ? Math.floor(Number(m[7]) * 1000) : 0);
}
