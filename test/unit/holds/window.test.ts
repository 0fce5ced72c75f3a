// The deletion-window hold alone (reconciler/gate/holds/window.ts): outside every allow window, or inside a
// deny window, a deletable version waits; the hold names the window's layer and when deletion is next
// allowed (windowOpensAt, so the controller can start a cycle then). Occurrences are [start, start + duration):
// the start is inside, the end is not. NOW is 2026-11-28T12:00:00Z, a Saturday.
import { describe, expect, it } from "vitest";
import { window } from "../../../reconciler/gate/holds/window.js";
import type { DeletionWindow, Policy } from "../../../reconciler/types.js";
import { expectLines, H, iso, runHold, T0, type Line } from "../../helpers/holds.js";

const win = (kind: DeletionWindow["kind"], schedule: string, hours: number, o: { tz?: string; reason?: string; origin?: string } = {}): DeletionWindow => ({
  kind,
  schedule,
  durationMs: hours * H,
  duration: `${hours}h`,
  timeZone: o.tz ?? "UTC",
  ...(o.reason ? { reason: o.reason } : {}),
  origin: o.origin ?? `${kind} layer`,
});
const FREEZE = win("deny", "0 12 * * *", 1, { reason: "freeze" });
const NIGHTS = win("allow", "0 2 * * *", 2);
const PASS = "every deletion window allows deletion now";
const deny = (next: number) => `inside the deny window "0 12 * * *" UTC for 1h (freeze); deletion is next allowed at ${iso(next)}`;
const outside = (next: number) => `outside every allow window (next: allow window "0 2 * * *" UTC for 2h); deletion is next allowed at ${iso(next)}`;
const TOMORROW_2 = Date.parse("2026-11-29T02:00:00Z");

interface Case {
  name: string;
  windows: DeletionWindow[];
  now?: number;
  origin?: string;
  want: Line[];
  opensAt?: number;
}

const cases: Case[] = [
  { name: "no windows: passes", windows: [], want: [["pass", "window", "no deletion windows"]] },
  // A deny window's edges.
  {
    name: "deny: at the occurrence's first ms: held until its end",
    windows: [FREEZE],
    origin: "W",
    want: [["hold", "window", `${deny(T0 + H)} (in 1h)`, "deny layer"]],
    opensAt: T0 + H,
  },
  { name: "deny: one ms before it starts: passes", windows: [FREEZE], origin: "W", now: T0 - 1, want: [["pass", "window", PASS, "W"]] },
  {
    name: "deny: its last ms: held, allowed next ms",
    windows: [FREEZE],
    now: T0 + H - 1,
    want: [["hold", "window", `${deny(T0 + H)} (in 0s)`, "deny layer"]],
    opensAt: T0 + H,
  },
  { name: "deny: at its end (exclusive): passes", windows: [FREEZE], now: T0 + H, want: [["pass", "window", PASS]] },
  {
    name: "deny: the day before, same hour: held (it recurs)",
    windows: [FREEZE],
    now: T0 - 24 * H + 30 * 60_000,
    want: [["hold", "window", deny(T0 - 23 * H), "deny layer"]],
    opensAt: T0 - 23 * H,
  },
  // An allow window's edges.
  {
    name: "allow: outside it: held until the next occurrence opens",
    windows: [NIGHTS],
    origin: "W",
    want: [["hold", "window", `${outside(TOMORROW_2)} (in 14h)`, "allow layer"]],
    opensAt: TOMORROW_2,
  },
  { name: "allow: at its first ms: passes", windows: [NIGHTS], now: TOMORROW_2, want: [["pass", "window", PASS]] },
  {
    name: "allow: one ms before it opens: held, opening next ms",
    windows: [NIGHTS],
    now: TOMORROW_2 - 1,
    want: [["hold", "window", `${outside(TOMORROW_2)} (in 0s)`, "allow layer"]],
    opensAt: TOMORROW_2,
  },
  { name: "allow: its last ms: passes", windows: [NIGHTS], now: TOMORROW_2 + 2 * H - 1, want: [["pass", "window", PASS]] },
  {
    name: "allow: at its end: held until the next night",
    windows: [NIGHTS],
    now: TOMORROW_2 + 2 * H,
    want: [["hold", "window", outside(TOMORROW_2 + 24 * H), "allow layer"]],
    opensAt: TOMORROW_2 + 24 * H,
  },
  // Deny against allow.
  {
    name: "deny wins inside an allow window",
    windows: [win("allow", "0 0 * * *", 24), FREEZE],
    want: [["hold", "window", deny(T0 + H), "deny layer"]],
    opensAt: T0 + H,
  },
  {
    name: "deny ends while every allow window is closed: allowed when the next allow window opens",
    windows: [FREEZE, win("allow", "0 14 * * *", 1)],
    now: T0 + 30 * 60_000,
    want: [["hold", "window", `deletion is next allowed at ${iso(T0 + 2 * H)} (in 1h30m)`, "deny layer"]],
    opensAt: T0 + 2 * H,
  },
  {
    name: "allow window open but a deny window of another layer starts in it: held by the deny",
    windows: [win("allow", "0 11 * * *", 3), { ...FREEZE, origin: "manifest layer" }],
    want: [["hold", "window", deny(T0 + H), "manifest layer"]],
    opensAt: T0 + H,
  },
  {
    name: "two deny windows in force: the one that ends last is named, allowed when both are over",
    windows: [FREEZE, win("deny", "30 11 * * *", 3, { reason: "release", origin: "release layer" })],
    want: [["hold", "window", `inside the deny window "30 11 * * *" UTC for 3h (release); deletion is next allowed at ${iso(T0 + 2.5 * H)}`, "release layer"]],
    opensAt: T0 + 2.5 * H,
  },
  // Time zones: Europe/Berlin is UTC+1 in November, so its 12:00 is 11:00Z.
  {
    name: "a deny window in Europe/Berlin has ended by 12:00Z",
    windows: [win("deny", "0 12 * * *", 1, { tz: "Europe/Berlin" })],
    want: [["pass", "window", PASS]],
  },
  {
    name: "a deny window in Europe/Berlin holds at 11:00Z",
    windows: [win("deny", "0 12 * * *", 1, { tz: "Europe/Berlin" })],
    now: T0 - H,
    want: [["hold", "window", `inside the deny window "0 12 * * *" Europe/Berlin for 1h; deletion is next allowed at ${iso(T0)}`, "deny layer"]],
    opensAt: T0,
  },
  // Never allowed within the horizon: no time to wake for.
  {
    name: "deny windows that never leave a gap: held with no next time",
    windows: [win("deny", "0 0 * * *", 25)],
    want: [["hold", "window", `inside the deny window "0 0 * * *" UTC for 25h; deletion is not allowed again within 400 days`, "deny layer"]],
  },
  {
    name: "an allow window on a weekday: held over the weekend until Monday",
    windows: [win("allow", "0 9 * * 1", 8)],
    want: [["hold", "window", `deletion is next allowed at 2026-11-30T09:00:00.000Z (in 1d21h)`, "allow layer"]],
    opensAt: Date.parse("2026-11-30T09:00:00Z"),
  },
];

describe("hold: window", () => {
  it.each(cases)("$name", (c) => {
    const pol: Partial<Policy> = { windows: c.windows, ...(c.origin ? { origin: { windows: c.origin } } : {}) };
    const o = runHold(window, { policy: pol, ...(c.now !== undefined ? { now: c.now } : {}) });
    expectLines(o, c.want);
    expect(o.state.windowOpensAt).toBe(c.opensAt);
    expect(o.verdict.windowOpensAt).toBe(c.opensAt);
  });
});
