// Durations: a whole number and one unit (ms, s, m, h, d). Kept deliberately small so that
// "24h" can never be misread; policy schemas allow only s, m, h and d.
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * The one duration parser: policies (whose schema allows only s/m/h/d), CLI flags and controller flags
 * ("250ms" exists so tests can use short leases).
 */
export function parseDuration(text: string): number | undefined {
  const m = /^([0-9]{1,9})(ms|s|m|h|d)$/.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** Human form of a duration, e.g. 90061000 → "1d1h1m". Used for ages in tables and messages. */
export function formatDuration(ms: number): string {
  if (ms < 0) return "-" + formatDuration(-ms);
  if (ms < 60_000) return `${Math.floor(ms / 1000)}s`;
  const d = Math.floor(ms / 86_400_000);
  const h = Math.floor((ms % 86_400_000) / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  if (d > 0) return h > 0 ? `${d}d${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h${m}m` : `${h}h`;
  return `${m}m`;
}
