// Times from people and tags: a real instant or refused, never NaN (which turns `<` checks off) and never
// a lenient guess (Date.parse reads "12" as a date).
import { describe, expect, it } from "vitest";
import { parseRfc3339 } from "../../reconciler/rfc3339.js";

describe("parseRfc3339", () => {
  it.each([
    { value: "2026-12-01T09:00:00Z", want: Date.UTC(2026, 11, 1, 9) },
    { value: "2026-12-01T09:00:00.250Z", want: Date.UTC(2026, 11, 1, 9, 0, 0, 250) },
    { value: "2026-12-01T10:30:00+01:30", want: Date.UTC(2026, 11, 1, 9) },
    { value: "2026-12-01T04:00:00-05:00", want: Date.UTC(2026, 11, 1, 9) },
    { value: "2024-02-29T00:00:00Z", want: Date.UTC(2024, 1, 29) },
    // The last second of a day, and the widest offsets.
    { value: "2026-12-31T23:59:59Z", want: Date.UTC(2026, 11, 31, 23, 59, 59) },
    { value: "2026-12-01T23:59:00+23:59", want: Date.UTC(2026, 11, 1, 0, 0) },
    { value: "2026-12-01T00:00:00-23:59", want: Date.UTC(2026, 11, 1, 23, 59) },
  ])("$value is an instant", ({ value, want }) => {
    expect(parseRfc3339(value)).toBe(want);
  });

  it.each([
    "12",
    "2025",
    "2026-12-01",
    "2026-31-12T09:00:00Z", // day and month swapped
    "2026-02-30T09:00:00Z",
    "2025-02-29T00:00:00Z",
    "2026-12-01T24:00:00Z",
    "2026-12-01T25:00:00Z",
    "2026-12-01T09:60:00Z",
    "2026-12-01T09:00:60Z", // no leap second
    "2026-12-01T09:00:00+24:00",
    "2026-12-01T09:00:00+01:60",
    "2026-12-01 09:00:00Z",
    "2026-12-01T09:00:00z",
    " 2026-12-01T09:00:00Z",
    "2026-12-01T09:00:00Zjunk",
    "2026-12-01T09:00:00+01:00 ",
  ])("%s is refused", (value) => {
    expect(parseRfc3339(value)).toBeUndefined();
  });

  it("utcOnly refuses an offset, even +00:00", () => {
    expect(parseRfc3339("2026-12-01T09:00:00+00:00", { utcOnly: true })).toBeUndefined();
    expect(parseRfc3339("2026-12-01T09:00:00Z", { utcOnly: true })).toBe(Date.UTC(2026, 11, 1, 9));
  });
});
