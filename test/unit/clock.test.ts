// The clock check: what a Date header says about the local clock, and when writes are refused.
import { describe, expect, it } from "vitest";
import { MAX_CLOCK_SKEW_MS, ServerClock } from "../../reconciler/aws/clock.js";

const T = Date.parse("2026-12-05T12:00:00Z");
const httpDate = (ms: number) => new Date(ms).toUTCString();

describe("ServerClock", () => {
  it.each([
    { name: "in step", serverAt: T, problem: false, offsetNear: 0 },
    { name: "4 minutes fast", serverAt: T - 4 * 60_000, problem: false, offsetNear: -4 * 60_000 },
    { name: "4 minutes slow", serverAt: T + 4 * 60_000, problem: false, offsetNear: 4 * 60_000 },
    { name: "6 minutes fast", serverAt: T - 6 * 60_000, problem: true, offsetNear: -6 * 60_000 },
    { name: "48 hours fast", serverAt: T - 48 * 3_600_000, problem: true, offsetNear: -48 * 3_600_000 },
    { name: "80 hours slow", serverAt: T + 80 * 3_600_000, problem: true, offsetNear: 80 * 3_600_000 },
  ])("local clock $name", ({ serverAt, problem, offsetNear }) => {
    const c = new ServerClock(() => T);
    c.sample(httpDate(serverAt), T - 100, T);
    const r = c.reading()!;
    // Within half a second (the header's resolution) plus half the round trip.
    expect(Math.abs(r.offsetMs - offsetNear)).toBeLessThanOrEqual(r.uncertaintyMs);
    const p = c.problem();
    expect(p !== undefined).toBe(problem);
    if (p) {
      expect(p.rule).toBe("clockSkew");
      expect(p.message).toContain(new Date(T).toISOString());
      expect(p.message).toContain(offsetNear < 0 ? "ahead of AWS's" : "behind AWS's");
      // The clock used for decisions is not corrected past the bound: writes are refused instead.
      expect(c.now()).toBe(T);
    } else expect(c.now()).toBe(T + r.offsetMs);
  });

  it("a slow answer's uncertainty never makes a good clock look wrong, nor a wrong one right", () => {
    const c = new ServerClock(() => T);
    // The answer took 50 s and its Date is 4 min 40 s after it arrived: the estimate (from the midpoint) is
    // over 5 minutes, but the clock may be only 4 min 40 s off.
    c.sample(httpDate(T + MAX_CLOCK_SKEW_MS - 20_000), T - 50_000, T);
    expect(c.reading()!.offsetMs).toBeGreaterThan(MAX_CLOCK_SKEW_MS);
    expect(c.problem()).toBeUndefined();
    // An answer that took over a minute says nothing and is not used.
    const d = new ServerClock(() => T);
    d.sample(httpDate(T + 48 * 3_600_000), T - 61_000, T);
    expect(d.reading()).toBeUndefined();
  });

  it("answers narrow the estimate instead of moving it by up to a second each (the header is whole seconds)", () => {
    let local = T;
    const c = new ServerClock(() => local);
    const trueOffset = 1234;
    const seen: number[] = [];
    for (let i = 0; i < 50; i++) {
      local = T + i * 137;
      c.sample(httpDate(local + trueOffset), local - 20, local);
      seen.push(c.reading()!.offsetMs);
    }
    // Every estimate allows the true offset; after the first few they hardly move.
    const last = c.reading()!;
    expect(Math.abs(last.offsetMs - trueOffset)).toBeLessThanOrEqual(last.uncertaintyMs);
    expect(last.uncertaintyMs).toBeLessThan(100);
    const moves = seen.slice(10).map((x, i) => Math.abs(x - seen[9 + i]!));
    expect(Math.max(...moves)).toBeLessThan(100);
  });

  it("answers without a Date header leave the clock unchecked, which refuses writes; no answer at all needs no check", () => {
    const c = new ServerClock(() => T);
    expect(c.problem()).toBeUndefined();
    c.sample(undefined, T - 10, T);
    c.sample("not a date", T - 10, T);
    expect(c.problem()?.message).toContain("none of 2 AWS answer(s) carried a usable Date header");
    c.sample(httpDate(T), T - 10, T);
    expect(c.problem()).toBeUndefined();
  });

  it("the latest answer decides: a clock stepped back to the right time is trusted again", () => {
    let local = T;
    const c = new ServerClock(() => local);
    c.sample(httpDate(T - 3_600_000), T - 10, T);
    expect(c.problem()).toBeDefined();
    local = T + 1000;
    c.sample(httpDate(T + 1000), T + 990, T + 1000);
    expect(c.problem()).toBeUndefined();
  });
});
