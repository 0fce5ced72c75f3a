// One HTTP POST to a webhook, retried with p-retry and bounded in time. 2xx is delivered; 429, 408, 5xx and
// network errors are retried (a Retry-After is waited out when it fits in the bound); any other 4xx, and
// 3xx (a redirect is not followed: the body would go somewhere nobody configured), is final. Headers follow
// GitHub's webhook convention: X-Rekon-Event, X-Rekon-Delivery, and X-Rekon-Signature: sha256=<hex HMAC of
// the body> when the channel has a secret. Errors name the channel and say what happened (a status, an
// error code, a timeout), never the URL.
import { createHmac } from "node:crypto";
import pRetry, { AbortError } from "p-retry";

export interface DeliveryOptions {
  /** Retries after the first attempt. */
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
  /** One attempt, connection to answer. */
  attemptTimeoutMs: number;
  /** The whole delivery, retries and waits included: a run never waits longer for one channel. */
  maxTotalMs: number;
}

/**
 * Three retries, 250 ms doubling (with jitter): a blip is ridden out within seconds; an outage is not waited
 * for — the next run tries again (and under requireNotice, the version waits for it).
 */
export const DEFAULT_DELIVERY: DeliveryOptions = { retries: 3, minTimeoutMs: 250, maxTimeoutMs: 5_000, attemptTimeoutMs: 10_000, maxTotalMs: 30_000 };

export interface DeliveryRequest {
  url: string;
  secret?: string;
  body: string;
  event: string;
  deliveryId: string;
  userAgent: string;
}

export type DeliveryOutcome = { ok: true; status: number; attempts: number; at: number } | { ok: false; attempts: number; error: string; status?: number };

/** The X-Rekon-Signature value for a body: GitHub's `sha256=` followed by the hex HMAC-SHA256. */
export function signature(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly retryAfterMs: number | undefined,
  ) {
    super(`HTTP ${status}`);
  }
}

/** Retry-After: seconds, or an HTTP date. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** What a failed attempt was, in words that carry no URL (undici's causes may quote host and path). */
function describe(err: unknown): string {
  if (err instanceof HttpError) return err.message;
  const e = err as { name?: string; code?: string; cause?: { code?: string; name?: string } };
  if (e?.name === "TimeoutError" || e?.cause?.name === "TimeoutError") return "timed out";
  if (e?.name === "AbortError") return "aborted";
  return e?.cause?.code ?? e?.code ?? "network error";
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

export async function deliver(req: DeliveryRequest, opts: DeliveryOptions = DEFAULT_DELIVERY, signal?: AbortSignal): Promise<DeliveryOutcome> {
  const started = Date.now();
  const deadline = started + opts.maxTotalMs;
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": req.userAgent,
    "x-rekon-event": req.event,
    "x-rekon-delivery": req.deliveryId,
    ...(req.secret ? { "x-rekon-signature": signature(req.secret, req.body) } : {}),
  };
  let attempts = 0;
  let lastStatus: number | undefined;
  const total = AbortSignal.any([AbortSignal.timeout(opts.maxTotalMs), ...(signal ? [signal] : [])]);
  try {
    const status = await pRetry(
      async () => {
        attempts++;
        const res = await fetch(req.url, {
          method: "POST",
          headers,
          body: req.body,
          redirect: "manual",
          signal: AbortSignal.any([total, AbortSignal.timeout(opts.attemptTimeoutMs)]),
        });
        // The answer's body is not needed; reading it frees the connection.
        await res.arrayBuffer().catch(() => undefined);
        lastStatus = res.status;
        if (res.status >= 200 && res.status < 300) return res.status;
        const retryable = res.status === 429 || res.status === 408 || res.status >= 500;
        const e = new HttpError(res.status, retryAfterMs(res.headers.get("retry-after")));
        throw retryable ? e : new AbortError(e);
      },
      {
        retries: opts.retries,
        minTimeout: opts.minTimeoutMs,
        maxTimeout: opts.maxTimeoutMs,
        randomize: true,
        maxRetryTime: opts.maxTotalMs,
        signal: total,
        onFailedAttempt: async ({ error }) => {
          // Honour Retry-After when it fits in what is left of the bound; otherwise give up now.
          const wait = error instanceof HttpError ? error.retryAfterMs : undefined;
          if (wait === undefined) return;
          if (Date.now() + wait > deadline)
            throw new AbortError(`${error.message}; Retry-After ${Math.round(wait / 1000)}s is past the ${Math.round(opts.maxTotalMs / 1000)}s bound`);
          await sleep(wait, total);
        },
      },
    );
    return { ok: true, status, attempts, at: Date.now() };
  } catch (err) {
    // A final HTTP answer (or the last one when retries ran out), a Retry-After past the bound, the bound
    // itself, the caller's abort, or the network.
    const why =
      err instanceof HttpError || err instanceof AbortError
        ? err.message
        : signal?.aborted
          ? "aborted"
          : total.aborted
            ? `gave up at the ${Math.round(opts.maxTotalMs / 1000)}s bound`
            : describe(err);
    return {
      ok: false,
      attempts,
      error: `${why} after ${attempts} attempt${attempts === 1 ? "" : "s"}`,
      ...(lastStatus !== undefined ? { status: lastStatus } : {}),
    };
  }
}
