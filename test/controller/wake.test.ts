// When the loop starts its next cycle: the interval (jittered), or sooner when a deletion window opens or a
// running schedule's occurrence begins or ends, whichever comes first, a second after it.
import { describe, expect, it } from "vitest";
import { nextWake } from "../../reconciler/controller/loop.js";

const NOW = Date.parse("2026-12-07T07:59:30Z");
const HOUR = 3_600_000;
const mid = () => 0.5; // no jitter: the interval exactly

describe("nextWake", () => {
  it("the interval when nothing is timed", () => {
    expect(nextWake({ windowOpens: undefined, runtimeChange: undefined }, HOUR, NOW, mid)).toEqual({ delayMs: HOUR, reason: "interval" });
  });

  it("a running schedule's next change, a second after it, when it is the earliest", () => {
    const change = Date.parse("2026-12-07T08:00:00Z"); // an occurrence begins in 30 s
    const window = Date.parse("2026-12-07T09:00:00Z");
    expect(nextWake({ windowOpens: window, runtimeChange: change }, HOUR, NOW, mid)).toEqual({ delayMs: 31_000, reason: "running schedule" });
    expect(nextWake({ windowOpens: undefined, runtimeChange: change }, HOUR, NOW, mid)).toEqual({ delayMs: 31_000, reason: "running schedule" });
  });

  it("the deletion window when it opens first", () => {
    const window = Date.parse("2026-12-07T08:00:00Z");
    const change = Date.parse("2026-12-07T08:10:00Z");
    expect(nextWake({ windowOpens: window, runtimeChange: change }, HOUR, NOW, mid)).toEqual({ delayMs: 31_000, reason: "deletion window" });
  });

  it("the interval when it comes before both, jitter included", () => {
    const later = NOW + 2 * HOUR;
    expect(nextWake({ windowOpens: later, runtimeChange: later }, HOUR, NOW, () => 0)).toEqual({ delayMs: 0.9 * HOUR, reason: "interval" });
    // A change just past the jittered interval still loses to it.
    expect(nextWake({ windowOpens: undefined, runtimeChange: NOW + 0.9 * HOUR }, HOUR, NOW, () => 0)).toEqual({ delayMs: 0.9 * HOUR, reason: "interval" });
  });

  it("an instant the local clock has already passed wakes after a second, not at once (a plan on a clock a little behind must not spin the loop)", () => {
    expect(nextWake({ windowOpens: undefined, runtimeChange: NOW - 5_000 }, HOUR, NOW, mid)).toEqual({ delayMs: 1_000, reason: "running schedule" });
  });
});
