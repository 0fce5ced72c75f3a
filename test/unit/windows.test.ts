// Deletion windows as tables: deny and allow, overlaps, time zones, daylight saving, and the next moment
// deletion is allowed.
import { describe, expect, it } from "vitest";
import { activeUntil, windowProblems, windowVerdict } from "../../reconciler/policy/windows.js";
import type { DeletionWindow } from "../../reconciler/types.js";

const H = 3_600_000;
const t = (iso: string) => Date.parse(iso);
const win = (kind: "deny" | "allow", schedule: string, hours: number, timeZone = "UTC", reason?: string): DeletionWindow => ({ kind, schedule, durationMs: hours * H, duration: `${hours}h`, timeZone, ...(reason ? { reason } : {}), origin: "test" });

// The example: a weekend freeze from Friday 18:00 Berlin for 64 h, and office hours Mon-Thu.
const FREEZE = win("deny", "0 18 * * FRI", 64, "Europe/Berlin", "weekend change freeze");
const OFFICE = win("allow", "0 9 * * MON-THU", 8, "Europe/Berlin");

describe("window evaluation", () => {
  it.each([
    { name: "no windows: always allowed", windows: [], at: "2026-12-05T12:00:00Z", allowed: true, next: undefined },
    { name: "inside the deny window (Saturday)", windows: [FREEZE], at: "2026-12-05T12:00:00Z", allowed: false, next: "2026-12-07T09:00:00Z" },
    { name: "just before the deny window (Friday 17:59 Berlin)", windows: [FREEZE], at: "2026-12-04T16:59:00Z", allowed: true, next: undefined },
    { name: "the deny window's first minute (Friday 18:00 Berlin)", windows: [FREEZE], at: "2026-12-04T17:00:00Z", allowed: false, next: "2026-12-07T09:00:00Z" },
    { name: "the deny window's end is exclusive (Monday 10:00 Berlin)", windows: [FREEZE], at: "2026-12-07T09:00:00Z", allowed: true, next: undefined },
    { name: "inside an allow window (Tuesday 10:00 Berlin)", windows: [OFFICE], at: "2026-12-08T09:00:00Z", allowed: true, next: undefined },
    { name: "outside every allow window (Tuesday 20:00 Berlin): next is Wednesday 09:00", windows: [OFFICE], at: "2026-12-08T19:00:00Z", allowed: false, next: "2026-12-09T08:00:00Z" },
    { name: "Friday is not an allow day: next is Monday 09:00", windows: [OFFICE], at: "2026-12-04T10:00:00Z", allowed: false, next: "2026-12-07T08:00:00Z" },
    { name: "deny wins over allow where they overlap", windows: [win("allow", "0 0 * * *", 24), win("deny", "0 12 * * *", 2)], at: "2026-12-08T13:00:00Z", allowed: false, next: "2026-12-08T14:00:00Z" },
    { name: "the freeze and office hours: Saturday → Monday 10:00 Berlin (office opens at 9, the freeze ends at 10)", windows: [FREEZE, OFFICE], at: "2026-12-05T12:00:00Z", allowed: false, next: "2026-12-07T09:00:00Z" },
    { name: "a deny window that ends outside every allow window: the next allow start", windows: [win("deny", "0 0 * * *", 2), win("allow", "0 6 * * *", 1)], at: "2026-12-08T01:00:00Z", allowed: false, next: "2026-12-08T06:00:00Z" },
    { name: "overlapping deny occurrences (daily, 30 h): blocked until the last one ends", windows: [win("deny", "0 0 * * *", 30)], at: "2026-12-08T05:00:00Z", allowed: false, next: undefined },
    { name: "the same wall clock in two zones is two instants", windows: [win("deny", "0 9 * * *", 1, "America/New_York")], at: "2026-12-08T09:30:00Z", allowed: true, next: undefined },
    { name: "…and blocks at 09:30 New York time", windows: [win("deny", "0 9 * * *", 1, "America/New_York")], at: "2026-12-08T14:30:00Z", allowed: false, next: "2026-12-08T15:00:00Z" },
  ])("$name", ({ windows, at, allowed, next }) => {
    const v = windowVerdict(windows, t(at));
    expect(v.allowed).toBe(allowed);
    expect(v.nextAllowed !== undefined ? new Date(v.nextAllowed).toISOString().replace(".000Z", "Z") : undefined).toBe(next);
  });

  describe("daylight saving (Europe/Berlin)", () => {
    // 2026-03-29: 02:00 CET jumps to 03:00 CEST; 2026-10-25: 03:00 CEST falls back to 02:00 CET.
    const SKIPPED = win("deny", "30 2 * * *", 1, "Europe/Berlin", "starts in the hour that does not exist in spring");
    const REPEATED = win("deny", "30 1 * * *", 2, "Europe/Berlin", "spans the hour that happens twice in autumn");

    it("a window that starts in the skipped hour starts at the transition (03:00 CEST, 01:00Z) and lasts its hour", () => {
      expect(activeUntil(SKIPPED, t("2026-03-29T00:59:00Z"))).toBeUndefined();
      expect(activeUntil(SKIPPED, t("2026-03-29T01:00:00Z"))).toBe(t("2026-03-29T02:00:00Z"));
      expect(windowVerdict([SKIPPED], t("2026-03-29T01:30:00Z"))).toMatchObject({ allowed: false, nextAllowed: t("2026-03-29T02:00:00Z") });
      // On an ordinary day it is 02:30 local, which in March before the change is 01:30Z.
      expect(activeUntil(SKIPPED, t("2026-03-28T01:45:00Z"))).toBe(t("2026-03-28T02:30:00Z"));
    });

    it("a window over the repeated hour lasts its two hours of real time, once", () => {
      // 01:30 CEST is 23:30Z; two hours later is 01:30Z, which is 02:30 CET after the fall back.
      expect(activeUntil(REPEATED, t("2026-10-24T23:29:00Z"))).toBeUndefined();
      expect(activeUntil(REPEATED, t("2026-10-25T00:45:00Z"))).toBe(t("2026-10-25T01:30:00Z"));
      expect(activeUntil(REPEATED, t("2026-10-25T01:15:00Z"))).toBe(t("2026-10-25T01:30:00Z"));
      expect(windowVerdict([REPEATED], t("2026-10-25T01:30:00Z")).allowed).toBe(true);
    });

    it("a start in the repeated hour fires once, at the first of the two", () => {
      const w = win("deny", "30 2 * * *", 0.25, "Europe/Berlin");
      // 02:30 CEST = 00:30Z; the second 02:30 (CET) = 01:30Z is not a start.
      expect(activeUntil(w, t("2026-10-25T00:40:00Z"))).toBe(t("2026-10-25T00:45:00Z"));
      expect(activeUntil(w, t("2026-10-25T01:40:00Z"))).toBeUndefined();
    });
  });
});

describe("window problems (validate reports them at the window)", () => {
  it.each([
    { w: { schedule: "0 18 * * FRI", timeZone: "Europe/Berlin" }, want: [] },
    { w: { schedule: "0 18 * * FRI" }, want: [] },
    { w: { schedule: "0 0 18 * * FRI" }, want: ['schedule "0 0 18 * * FRI" has 6 fields; use exactly 5 (minute hour day-of-month month day-of-week)'] },
    { w: { schedule: "0 18 * *" }, want: ['schedule "0 18 * *" has 4 fields; use exactly 5 (minute hour day-of-month month day-of-week)'] },
    { w: { schedule: "0 18 * * FRIX" }, want: [expect.stringContaining('schedule "0 18 * * FRIX"')] },
    { w: { schedule: "61 18 * * *" }, want: [expect.stringContaining('schedule "61 18 * * *"')] },
    { w: { schedule: "0 18 * * FRI", timeZone: "Mars/Base" }, want: ['timeZone "Mars/Base" is not an IANA time zone name (e.g. Europe/Berlin, UTC)'] },
  ])("$w.schedule $w.timeZone", ({ w, want }) => {
    expect(windowProblems(w)).toEqual(want);
  });
});
