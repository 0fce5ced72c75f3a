// The clock is an input, and it is checked. Every age (minAge), grace period and mark rekon decides on is
// a difference between its own clock and a time AWS wrote (CreationTimestamp) or rekon wrote earlier (a
// mark). A host clock 48 h fast makes a 2-hour-old version look 50 hours old; a host 80 h slow writes marks
// that the next normal run reads as long expired. AWS itself keeps answering such a host: the SDK corrects
// its signing clock from the `Date` header of the answers (see docs/aws-behaviour.md), so nothing fails.
//
// So rekon compares its clock with AWS's on the answers it already gets: every Rekognition answer carries
// a `Date` header (HTTP date, whole seconds). The server wrote it between the moment the request left and
// the moment the answer arrived, so the offset (AWS − local) lies within half the round trip plus one
// second of the midpoint estimate. Above MAX_CLOCK_SKEW_MS rekon writes nothing (rule clockSkew); within
// it, rekon's clock is AWS's (local + offset), so marks are dated by the verified clock.
import type { RekognitionClient } from "@aws-sdk/client-rekognition";

/** AWS refuses a request signed more than 5 minutes from its clock; rekon holds its own clock to the same bound. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;

/** A sample whose round trip took longer than this says too little about the offset to be used. */
const MAX_SAMPLE_RTT_MS = 60_000;

export interface ClockReading {
  /** AWS's clock minus the local clock, in ms (positive: the local clock is behind). */
  offsetMs: number;
  /** How far the true offset may be from offsetMs (half the round trip, plus the header's one-second resolution). */
  uncertaintyMs: number;
  /** The local time of the sample (epoch ms). */
  at: number;
}

/** Why the clock does not allow writes: too far from AWS's, or never compared. */
export interface ClockProblem {
  rule: "clockSkew";
  message: string;
}

/** What AWS's answers say about the local clock. One per pass; clients of the pass feed it. */
export class ServerClock {
  private last?: ClockReading;
  /** The offsets every sample since the last step allows: [lo, hi], narrowed by each answer. */
  private bounds?: { lo: number; hi: number };
  private answers = 0;

  constructor(private readonly local: () => number = Date.now) {}

  /** Record an answer's Date header, given when the request left and when the answer arrived (local clock). */
  sample(dateHeader: string | undefined, sentAt: number, receivedAt: number): void {
    this.answers++;
    if (dateHeader === undefined) return;
    const server = Date.parse(dateHeader);
    if (!Number.isFinite(server) || receivedAt - sentAt > MAX_SAMPLE_RTT_MS || receivedAt < sentAt) return;
    // The server's instant lies in [server, server + 1 s) (the header is truncated to the second), and it
    // was taken while the request was out: the offset lies in [server − received, server + 1 s − sent].
    const lo = server - receivedAt;
    const hi = server + 1000 - sentAt;
    // Each answer narrows what the previous ones allowed, so the estimate settles instead of jumping by up
    // to a second with every header (which would make a fresh look seem old). An answer that allows none
    // of it means a clock stepped: start again from that answer.
    const b = this.bounds;
    this.bounds = b && lo <= b.hi && hi >= b.lo ? { lo: Math.max(lo, b.lo), hi: Math.min(hi, b.hi) } : { lo, hi };
    const { lo: l, hi: h } = this.bounds;
    this.last = { offsetMs: Math.round((l + h) / 2), uncertaintyMs: Math.ceil((h - l) / 2), at: receivedAt };
  }

  /** The latest reading, if any answer carried a usable Date header. */
  reading(): ClockReading | undefined {
    return this.last;
  }

  /**
   * The verified clock: local time corrected by the latest offset when that offset is within the bound,
   * else the local time (writes are refused then; reads and plans still show what the local clock says).
   */
  now(): number {
    const t = this.local();
    return this.last && Math.abs(this.last.offsetMs) <= MAX_CLOCK_SKEW_MS ? t + this.last.offsetMs : t;
  }

  /**
   * Whether the local clock may be trusted for writes. Undefined when it may. A skew beyond the bound is a
   * problem (both times named, so a person can see which is wrong); so is an answer count above zero with
   * no Date header at all, since nothing then tells the clock is right. No answer at all: nothing to check
   * and nothing read, so nothing can be written anyway.
   */
  problem(): ClockProblem | undefined {
    const r = this.last;
    if (!r) {
      return this.answers === 0
        ? undefined
        : {
            rule: "clockSkew",
            message:
              `none of ${this.answers} AWS answer(s) carried a usable Date header, so rekon's clock could not be compared with AWS's; nothing is ` + `written`,
          };
    }
    // Only a skew beyond the bound by more than the sample's own uncertainty counts: a slow answer must not
    // make a good clock look wrong.
    if (Math.abs(r.offsetMs) - r.uncertaintyMs <= MAX_CLOCK_SKEW_MS) return undefined;
    const local = new Date(r.at).toISOString();
    const aws = new Date(r.at + r.offsetMs).toISOString();
    const way = r.offsetMs > 0 ? "behind" : "ahead of";
    return {
      rule: "clockSkew",
      message:
        `the local clock (${local}) is ${formatSkew(Math.abs(r.offsetMs))} ${way} AWS's (${aws}, from the Date header of its answers), over the ` +
        `${MAX_CLOCK_SKEW_MS / 60_000}-minute bound; ages, grace periods and marks would be wrong, so nothing is written — fix the host's clock (NTP)`,
    };
  }

  /** Sample every answer (and error answer) of this client. */
  watch(client: Pick<RekognitionClient, "middlewareStack">): void {
    client.middlewareStack.add(
      (next) => async (args) => {
        const sentAt = this.local();
        try {
          const out = await next(args);
          this.sample(dateOf((out as { response?: unknown }).response), sentAt, this.local());
          return out;
        } catch (err) {
          const response = (err as { $response?: unknown }).$response;
          if (response !== undefined) this.sample(dateOf(response), sentAt, this.local());
          throw err;
        }
      },
      // Around the deserializer, so both answers and error answers pass here with their raw headers.
      { step: "deserialize", name: "rekonClockSample", override: true },
    );
  }
}

function dateOf(response: unknown): string | undefined {
  const h = (response as { headers?: Record<string, string | undefined> } | undefined)?.headers;
  return h?.date ?? h?.Date;
}

function formatSkew(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m >= 120 ? `${Math.round(m / 60)} h` : `${m} min`;
}
