// The adaptive rate limiter on a fake clock: pacing, one cut per throttle epoch, stated rates as
// ceilings, slow start and CUBIC recovery for defaults, abort, and separate buckets per key.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AdaptiveRateLimiter, DEFAULT_RATES, PROBE_CEILING, RateLimiters } from "../../reconciler/aws/limiter.js";

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

const clock = () => Date.now();

/** Acquire `n` tokens back to back (all queued at once) and return the fake time each was granted. */
async function grants(l: AdaptiveRateLimiter, n: number): Promise<number[]> {
  const times: number[] = [];
  const all = Array.from({ length: n }, () => l.acquire().then(() => times.push(Date.now())));
  await vi.advanceTimersByTimeAsync(60_000);
  await Promise.all(all);
  return times;
}

describe("AdaptiveRateLimiter", () => {
  it("paces evenly at a stated rate, with no burst (the server's burst stays as slack)", async () => {
    const l = new AdaptiveRateLimiter({ rate: 10, ceiling: 10, now: clock });
    const t = await grants(l, 11);
    expect(t[0]).toBe(0);
    expect(t[10]).toBeGreaterThanOrEqual(990);
    expect(t[10]).toBeLessThanOrEqual(1_020);
    // No two grants closer than one interval (allowing 1 ms of timer rounding).
    for (let i = 1; i < t.length; i++) expect(t[i]! - t[i - 1]!).toBeGreaterThanOrEqual(99);
  });

  it("a stated rate is a ceiling: long demand never pushes it higher", async () => {
    const l = new AdaptiveRateLimiter({ rate: 5, ceiling: 5, now: clock });
    await grants(l, 50);
    expect(l.rate).toBe(5);
  });

  it("a default probes upward while it is the bottleneck (slow start doubles per second)", async () => {
    const l = new AdaptiveRateLimiter({ rate: 2, ceiling: PROBE_CEILING, now: clock });
    const t = await grants(l, 60);
    expect(l.rate).toBeGreaterThan(8);
    // 60 calls at a fixed 2/s would take 30 s; probing finishes far sooner.
    expect(t[59]!).toBeLessThan(10_000);
  });

  it("does not grow while nobody waits (idle time is not a signal that more is possible)", async () => {
    const l = new AdaptiveRateLimiter({ rate: 2, ceiling: PROBE_CEILING, now: clock });
    await l.acquire();
    await vi.advanceTimersByTimeAsync(30_000);
    await l.acquire();
    expect(l.rate).toBe(2);
  });

  it("cuts the rate by 0.7 on a throttle, once for all calls sent at the old rate", () => {
    const l = new AdaptiveRateLimiter({ rate: 10, ceiling: 10, now: clock });
    const ticket = { epoch: 0 };
    for (let i = 0; i < 10; i++) l.record(ticket, true);
    expect(l.rate).toBeCloseTo(7);
    expect(l.throttles).toBe(10);
    // A throttle of a call sent after the cut cuts again.
    l.record({ epoch: 1 }, true);
    expect(l.rate).toBeCloseTo(4.9);
  });

  it("never drops below the floor in a storm", () => {
    const l = new AdaptiveRateLimiter({ rate: 10, ceiling: 10, minRate: 0.5, now: clock });
    for (let e = 0; e < 50; e++) l.record({ epoch: e }, true);
    expect(l.rate).toBe(0.5);
  });

  it("recovers along the cubic curve to where it was cut, then probes past it", async () => {
    const l = new AdaptiveRateLimiter({ rate: 10, ceiling: PROBE_CEILING, now: clock });
    l.record({ epoch: 0 }, true); // wMax 10 → 7
    expect(l.rate).toBeCloseTo(7);
    // K = ∛(10·0.3/0.4) ≈ 1.96 s of demand to get back to 10.
    await grants(l, 20);
    expect(l.rate).toBeGreaterThanOrEqual(10);
    expect(l.rate).toBeLessThan(20);
  });

  it("a waiter whose signal aborts is rejected at once and leaves the queue", async () => {
    const l = new AdaptiveRateLimiter({ rate: 1, ceiling: 1, now: clock });
    await l.acquire();
    const ac = new AbortController();
    const p = l.acquire(ac.signal);
    ac.abort(new Error("SIGTERM"));
    await expect(p).rejects.toThrow("SIGTERM");
    expect(l.waiting).toBe(0);
  });
});

describe("RateLimiters", () => {
  it("keeps one bucket per (identity, region, operation), stated rates as ceilings, defaults otherwise", () => {
    const ls = new RateLimiters({ DeleteProjectVersion: 7 }, clock);
    const a = ls.get("ambient", "us-east-1", "DeleteProjectVersion");
    expect(ls.get("ambient", "us-east-1", "DeleteProjectVersion")).toBe(a);
    expect(ls.get("222222222222", "us-east-1", "DeleteProjectVersion")).not.toBe(a);
    expect(ls.get("ambient", "eu-west-1", "DeleteProjectVersion")).not.toBe(a);
    expect(a.rate).toBe(7);
    expect(ls.get("ambient", "us-east-1", "DescribeProjects").rate).toBe(DEFAULT_RATES.DescribeProjects);
    expect(ls.stats()).toHaveLength(4);
  });

  it("an observer that throws never breaks the call that reported to it", () => {
    const ls = new RateLimiters({}, clock);
    const seen: string[] = [];
    ls.observe(() => {
      throw new Error("bad observer");
    });
    ls.observe((e) => seen.push(e.outcome));
    ls.emit({ identity: "ambient", region: "us-east-1", operation: "X", outcome: "ok", throttled: false, attempt: 1, durationMs: 1, rate: 1 });
    expect(seen).toEqual(["ok"]);
  });
});
