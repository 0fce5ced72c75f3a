// Client-side rate limiting, one adaptive token bucket per (identity, region, operation): Rekognition
// quotas are per operation, per account, per region, and low (docs/aws-behaviour.md). Staying just under the
// quota is faster than bouncing off it, because every throttled call costs a backoff sleep.
//
// The rate adapts like the AWS SDK's "adaptive" retry mode (CUBIC, as in TCP): a throttle cuts the rate
// multiplicatively (β = 0.7) and remembers where it was cut (wMax); the rate then grows back along a cubic
// curve that is steep far from wMax, flat near it, and probes past it slowly. Before the first throttle it
// doubles every second it is the bottleneck (slow start), so a low default finds a higher quota in seconds.

/** Requests per second rekon starts from when the policy names no rate for an operation. */
export const DEFAULT_RATES: Readonly<Record<string, number>> = {
  // Reads are a handful of calls per run (⌈projects/10⌉ and ⌈versions/100⌉ per project); modest rates cost
  // little time and leave the account's quota to the applications that serve traffic.
  DescribeProjects: 5,
  DescribeProjectVersions: 5,
  ListTagsForResource: 5,
  TagResource: 2,
  UntagResource: 2,
  // Writes start low: the published default TPS for these is not stated in our sources, and a slow start
  // that probes upward finds a higher quota within seconds, while starting too high means throttles.
  DeleteProjectVersion: 2,
  StopProjectVersion: 2,
};
/** For an operation not in DEFAULT_RATES. */
export const FALLBACK_RATE = 2;
/** Probing above a default never goes past this (a guess is probed; a stated quota is a ceiling). */
export const PROBE_CEILING = 100;
/** The rate never drops below this, so a storm slows rekon down without stalling it. */
export const MIN_RATE = 0.5;

/** CUBIC constants as in the SDK's DefaultRateLimiter (and RFC 8312): β multiplicative decrease, C scale. */
const BETA = 0.7;
const SCALE = 0.4;

export interface LimiterOptions {
  /** Starting rate (requests/s). */
  rate: number;
  /**
   * The highest rate it may reach. An operator-stated rate is treated as the quota (or the share of it
   * rekon may use; the quota is shared with the applications in the account), so it is the ceiling.
   */
  ceiling: number;
  minRate?: number;
  now?: () => number;
}

/** Handed out by acquire() and returned with the outcome, so a throttle is attributed to the rate it was sent at. */
export interface Ticket {
  epoch: number;
}

interface Waiter {
  resolve(t: Ticket): void;
  reject(err: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export class AdaptiveRateLimiter {
  private rateNow: number;
  private readonly ceiling: number;
  private readonly minRate: number;
  private readonly now: () => number;
  // Burst capacity of one token: calls are paced evenly. Sending at the quota in bursts would empty the
  // server's bucket and turn latency jitter into throttles; even pacing leaves the server's burst as slack.
  private tokens = 1;
  private lastRefill: number;
  private queue: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** Incremented on every decrease; a throttle from a call sent under an older epoch was already answered. */
  private epoch = 0;
  private slowStart = true;
  private wMax = 0;
  /** Seconds the limiter has been the bottleneck since the last decrease (rate grows only with demand). */
  private limitedSeconds = 0;
  private lastTick: number;
  private throttleCount = 0;
  private grantedCount = 0;

  constructor(opts: LimiterOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.minRate = opts.minRate ?? MIN_RATE;
    this.ceiling = Math.max(opts.ceiling, this.minRate);
    this.rateNow = clamp(opts.rate, this.minRate, this.ceiling);
    this.lastRefill = this.lastTick = this.now();
  }

  get rate(): number {
    return this.rateNow;
  }
  get throttles(): number {
    return this.throttleCount;
  }
  get granted(): number {
    return this.grantedCount;
  }
  get waiting(): number {
    return this.queue.length;
  }

  /** Wait for a token (FIFO). Rejects with the signal's reason when it aborts first. */
  acquire(signal?: AbortSignal): Promise<Ticket> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new Error("aborted"));
    this.tick();
    this.refill();
    if (this.queue.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      this.grantedCount++;
      return Promise.resolve({ epoch: this.epoch });
    }
    return new Promise<Ticket>((resolve, reject) => {
      const w: Waiter = { resolve, reject, signal };
      if (signal) {
        w.onAbort = () => {
          this.queue = this.queue.filter((x) => x !== w);
          reject(signal.reason ?? new Error("aborted"));
          this.schedule();
        };
        signal.addEventListener("abort", w.onAbort, { once: true });
      }
      this.queue.push(w);
      this.schedule();
    });
  }

  /** Feed back how a call sent with `ticket` ended: a throttle cuts the rate, anything else lets it grow. */
  record(ticket: Ticket, throttled: boolean): void {
    this.tick();
    if (!throttled) return;
    this.throttleCount++;
    // Calls already in flight when the rate was cut report the same congestion again: one cut per epoch,
    // or ten concurrent throttles would cut the rate to 0.7^10 of itself.
    if (ticket.epoch !== this.epoch) return;
    this.epoch++;
    this.wMax = this.rateNow;
    this.rateNow = clamp(this.rateNow * BETA, this.minRate, this.ceiling);
    this.slowStart = false;
    this.limitedSeconds = 0;
    // Drop any saved-up token: the server just said its bucket is empty.
    this.tokens = Math.min(this.tokens, 0);
    this.schedule();
  }

  /** Stop the wake-up timer; waiters are rejected. For client shutdown. */
  close(reason: unknown = new Error("rate limiter closed")): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.queue) {
      if (w.onAbort) w.signal?.removeEventListener("abort", w.onAbort);
      w.reject(reason);
    }
    this.queue = [];
  }

  // Advance the growth clock; the rate grows only while callers are waiting on it.
  private tick(): void {
    const t = this.now();
    const dt = Math.max(0, (t - this.lastTick) / 1000);
    this.lastTick = t;
    if (this.queue.length === 0 || dt === 0) return;
    this.limitedSeconds += dt;
    if (this.slowStart) {
      this.rateNow = clamp(this.rateNow * 2 ** dt, this.minRate, this.ceiling);
    } else {
      // W(t) = C·(t − K)³ + wMax with K = ∛(wMax·(1−β)/C): back to wMax after K seconds, then probing.
      const k = Math.cbrt((this.wMax * (1 - BETA)) / SCALE);
      const target = SCALE * (this.limitedSeconds - k) ** 3 + this.wMax;
      this.rateNow = clamp(Math.max(this.rateNow, target), this.minRate, this.ceiling);
    }
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(1, this.tokens + ((t - this.lastRefill) / 1000) * this.rateNow);
    this.lastRefill = t;
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0) return;
    this.refill();
    const waitMs = this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.rateNow) * 1000;
    this.timer = setTimeout(() => this.wake(), Math.ceil(waitMs));
  }

  private wake(): void {
    this.timer = undefined;
    this.tick();
    this.refill();
    while (this.queue.length > 0 && this.tokens >= 1) {
      const w = this.queue.shift()!;
      this.tokens -= 1;
      this.grantedCount++;
      if (w.onAbort) w.signal?.removeEventListener("abort", w.onAbort);
      w.resolve({ epoch: this.epoch });
    }
    this.schedule();
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

/** What the client reports about every attempt, for progress, logs and metrics (rekon_aws_requests_total). */
export interface RequestEvent {
  /** "ambient" or the AWS account of the assumed role. */
  identity: string;
  region: string;
  operation: string;
  /** "ok" or the error code of this attempt. */
  outcome: string;
  throttled: boolean;
  attempt: number;
  durationMs: number;
  /** The limiter's rate after this attempt. */
  rate: number;
}

export type RequestObserver = (e: RequestEvent) => void;

/**
 * The limiters of one run, created on first use. Separate accounts and regions never share a bucket:
 * their quotas are separate, and one throttled account must not slow another.
 */
export class RateLimiters {
  private readonly limiters = new Map<string, AdaptiveRateLimiter>();
  private readonly observers = new Set<RequestObserver>();

  constructor(
    /** Operator-stated rates (policy `rateLimits`): ceilings. Other operations start from DEFAULT_RATES and probe. */
    private readonly configured: Readonly<Record<string, number>> = {},
    private readonly now?: () => number,
  ) {}

  get(identity: string, region: string, operation: string): AdaptiveRateLimiter {
    const key = `${identity}|${region}|${operation}`;
    let l = this.limiters.get(key);
    if (!l) {
      const stated = this.configured[operation];
      const rate = stated ?? DEFAULT_RATES[operation] ?? FALLBACK_RATE;
      l = new AdaptiveRateLimiter({ rate, ceiling: stated ?? PROBE_CEILING, ...(this.now ? { now: this.now } : {}) });
      this.limiters.set(key, l);
    }
    return l;
  }

  /** Subscribe to every attempt's outcome; returns the unsubscribe function. */
  observe(fn: RequestObserver): () => void {
    this.observers.add(fn);
    return () => this.observers.delete(fn);
  }

  emit(e: RequestEvent): void {
    for (const fn of this.observers) {
      try {
        fn(e);
      } catch {
        // An observer (progress bar, metrics) must never break an AWS call.
      }
    }
  }

  /** Per-limiter figures, for reports, tests and the benchmark. */
  stats(): { identity: string; region: string; operation: string; rate: number; throttles: number; granted: number }[] {
    return [...this.limiters].map(([k, l]) => {
      const [identity = "", region = "", operation = ""] = k.split("|");
      return { identity, region, operation, rate: l.rate, throttles: l.throttles, granted: l.granted };
    });
  }

  close(): void {
    for (const l of this.limiters.values()) l.close();
  }
}
