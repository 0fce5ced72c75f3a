// How many reads rekon keeps in flight. The rate limiter (limiter.ts) decides how fast calls are sent;
// this bound only decides how many may wait on an answer at once, so that a read of many projects takes
// the time its calls need at the allowed rate, not the sum of every answer's latency.

/**
 * Reads in flight per (credential source, region): DescribeProjects batches, each project's listing (its
 * pages one after another: each needs the previous page's token) and tag reads.
 *
 * Why 16: the limiter probes up to 100 calls/s per operation on its defaults (PROBE_CEILING), and at
 * ~100 ms per answer that pace needs about 10 calls in flight; 16 leaves room for slower answers. More would
 * only lengthen the limiter's queue: the account's quota, not this bound, is what a large read waits on.
 * Separate (source, region) pairs have separate quotas, so each gets its own bound and they read side by side.
 */
export const READS_IN_FLIGHT = 16;

/**
 * A bound on tasks in flight. A task waiting with a lower `priority` number starts before any waiting with
 * a higher one, FIFO within a priority: a project whose DescribeProjects batch was answered is read before
 * the next batch is asked for, so versions are read from the first answer on, not after every lookup.
 */
export class Bound {
  private active = 0;
  private readonly waiting: (() => void)[][] = [];

  constructor(readonly size: number = READS_IN_FLIGHT) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`a concurrency bound must be a whole number >= 1 (got ${size})`);
  }

  /** Tasks running now. */
  get inFlight(): number {
    return this.active;
  }

  async run<T>(task: () => Promise<T>, priority = 0): Promise<T> {
    if (this.active < this.size) this.active++;
    else await new Promise<void>((resolve) => (this.waiting[priority] ??= []).push(resolve));
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private release(): void {
    // The slot passes straight to the next task, so none can slip in between and exceed the bound.
    const next = this.waiting.find((q) => q !== undefined && q.length > 0)?.shift();
    if (next) next();
    else this.active--;
  }
}

/** One bound per key, each made on first use. */
export function boundPerKey(size: number = READS_IN_FLIGHT): (key: string) => Bound {
  const bounds = new Map<string, Bound>();
  return (key) => {
    let b = bounds.get(key);
    if (!b) {
      b = new Bound(size);
      bounds.set(key, b);
    }
    return b;
  };
}
