// Are the manifests on disk recent? git-sync keeps retrying when it cannot reach the remote, and the
// checkout it last published stays in place: a controller that went on deleting from it would act on a
// Git state that may have been reverted since (a version listed again upstream would still be deleted).
// So `rekon run --sync-touch-file PATH --max-sync-age D` asks, before each cycle, when the sync last
// succeeded (the file's modification time) and blocks writes while that is longer ago than D.
import { statSync, type Stats } from "node:fs";
import { formatDuration } from "../duration.js";

export type Freshness = { fresh: true; syncedAt: Date; ageMs: number } | { fresh: false; reason: string; syncedAt?: Date; ageMs?: number };

/** How far ahead of this clock a sync time may be and still count as now. */
const FUTURE_SLACK_MS = 60_000;

export function checkFreshness(file: string, maxAgeMs: number, now: Date, stat: (path: string) => Stats = statSync): Freshness {
  let st: Stats;
  try {
    st = stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      return { fresh: false, reason: `sync touch file ${file} does not exist: no sync has completed yet (or --sync-touch-file names the wrong file)` };
    return { fresh: false, reason: `cannot read the sync touch file ${file}: ${code ?? (err as Error).message}` };
  }
  const syncedAt = st.mtime;
  // The writer (git-sync) runs in the same pod, on the same clock; a time slightly ahead is not staleness.
  // Far ahead is not freshness either: a clock stepped back, a volume whose server clock runs ahead, or a
  // hand-set time would otherwise read as "synced just now" until the clock catches up.
  if (syncedAt.getTime() - now.getTime() > FUTURE_SLACK_MS) {
    return {
      fresh: false,
      syncedAt,
      reason:
        `sync touch file ${file} is dated ${syncedAt.toISOString()}, ${formatDuration(syncedAt.getTime() - now.getTime())} in the future: its age ` +
        `cannot be told (check the clocks)`,
    };
  }
  const ageMs = Math.max(0, now.getTime() - syncedAt.getTime());
  if (ageMs <= maxAgeMs) return { fresh: true, syncedAt, ageMs };
  return {
    fresh: false,
    syncedAt,
    ageMs,
    reason:
      `manifests last synced ${formatDuration(ageMs)} ago (${file} modified ${syncedAt.toISOString()}), longer than --max-sync-age ` +
      `${formatDuration(maxAgeMs)}`,
  };
}
