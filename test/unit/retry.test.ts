import { describe, expect, it } from "vitest";
import { backoffDelay, classify, DeadlineError, withRetry } from "../../reconciler/aws/retry.js";
import { AwsCallError } from "../../reconciler/errors.js";

const awsError = (name: string, status = 400) => Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status, requestId: "req-1" } });
const netError = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

describe("classify: the one place that decides what is retried", () => {
  it.each([
    { err: awsError("ThrottlingException"), want: "retryable" },
    { err: awsError("ProvisionedThroughputExceededException"), want: "retryable" },
    { err: awsError("Throttling"), want: "retryable" }, // STS and other query-protocol services
    { err: awsError("InternalServerError", 500), want: "retryable" },
    { err: awsError("ServiceUnavailableException", 503), want: "retryable" },
    { err: awsError("SomethingNew", 502), want: "retryable" },
    { err: awsError("TooManyRequestsException", 429), want: "retryable" },
    { err: netError("ECONNRESET"), want: "retryable" },
    { err: netError("ECONNREFUSED"), want: "retryable" },
    { err: netError("ETIMEDOUT"), want: "retryable" },
    { err: Object.assign(new Error("socket"), { name: "TimeoutError" }), want: "retryable" },
    { err: awsError("ResourceInUseException"), want: "terminal" },
    { err: awsError("AccessDeniedException"), want: "terminal" },
    { err: awsError("InvalidParameterException"), want: "terminal" },
    // The JS SDK and botocore count it as throttling; so does rekon.
    { err: awsError("LimitExceededException"), want: "retryable" },
    { err: Object.assign(awsError("InvalidSignatureException", 400), { $metadata: { httpStatusCode: 400, clockSkewCorrected: true } }), want: "retryable" },
    { err: awsError("InvalidSignatureException", 400), want: "terminal" },
    { err: awsError("ResourceNotFoundException"), want: "terminal" },
    { err: awsError("InvalidPaginationTokenException"), want: "terminal" },
    { err: Object.assign(new Error("aborted"), { name: "AbortError" }), want: "terminal" },
    { err: new DeadlineError(1000), want: "terminal" },
    { err: awsError("AccessDenied", 403), want: "terminal" },
    { err: new TypeError("bug"), want: "terminal" },
  ])("$err.name $err.code → $want", ({ err, want }) => {
    expect(classify(err)).toBe(want);
  });
});

describe("backoff: full jitter", () => {
  const o = { baseDelayMs: 100, maxDelayMs: 1000 };
  it.each([
    { attempt: 1, random: 0.999, max: 100 },
    { attempt: 2, random: 0.999, max: 200 },
    { attempt: 4, random: 0.999, max: 800 },
    { attempt: 10, random: 0.999, max: 1000 },
  ])("attempt $attempt stays under $max", ({ attempt, random, max }) => {
    const d = backoffDelay(attempt, o, () => random);
    expect(d).toBeLessThan(max);
    expect(d).toBeGreaterThanOrEqual(max * 0.99 - 1);
  });
  it("can be zero (full jitter, not equal jitter)", () => {
    expect(backoffDelay(5, o, () => 0)).toBe(0);
  });
});

describe("withRetry", () => {
  const fast = { retries: 5, baseDelayMs: 1, maxDelayMs: 5, maxTotalMs: 5_000 };

  it("absorbs throttling and returns the result", async () => {
    let n = 0;
    const retried: string[] = [];
    const r = await withRetry("Op", "arn:x", async () => (++n < 4 ? Promise.reject(awsError("ThrottlingException")) : "ok"), { ...fast, onRetry: (i) => retried.push(i.code) });
    expect(r).toBe("ok");
    expect(n).toBe(4);
    expect(retried).toEqual(["ThrottlingException", "ThrottlingException", "ThrottlingException"]);
  });

  it("does not retry ResourceInUse and says which call failed", async () => {
    let n = 0;
    const err = await withRetry("DeleteProjectVersion", "arn:v1", async () => {
      n++;
      throw awsError("ResourceInUseException");
    }, fast).catch((e) => e);
    expect(n).toBe(1);
    expect(err).toBeInstanceOf(AwsCallError);
    expect(err).toMatchObject({ operation: "DeleteProjectVersion", resource: "arn:v1", code: "ResourceInUseException", attempts: 1, requestId: "req-1" });
  });

  it("gives up after the retry count", async () => {
    let n = 0;
    const err = await withRetry("Op", "r", async () => {
      n++;
      throw awsError("ThrottlingException");
    }, { ...fast, retries: 3 }).catch((e) => e);
    expect(n).toBe(4);
    expect(err).toMatchObject({ code: "ThrottlingException", attempts: 4 });
    expect(err.message).toContain("after 4 attempts");
  });

  it("gives up at the total time bound", async () => {
    const started = Date.now();
    const err = await withRetry("Op", "r", async () => {
      throw awsError("ThrottlingException");
    }, { retries: 1000, baseDelayMs: 20, maxDelayMs: 40, maxTotalMs: 300 }).catch((e) => e);
    const took = Date.now() - started;
    expect(err).toBeInstanceOf(AwsCallError);
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(2_000);
  });

  it("the bound is hard: an attempt that hangs is cut at the bound and the last AWS answer is reported", async () => {
    let n = 0;
    const started = Date.now();
    const err = await withRetry<unknown>("DeleteProjectVersion", "arn:v", ({ signal }) => {
      n++;
      if (n === 1) return Promise.reject(awsError("ThrottlingException"));
      // The second attempt never answers unless its signal aborts (a hung connection, a long token wait).
      return new Promise((_, reject) => signal.addEventListener("abort", () => reject(Object.assign(new Error("aborted"), { name: "AbortError" }))));
    }, { retries: 10, baseDelayMs: 1, maxDelayMs: 1, maxTotalMs: 300 }).then(() => new Error("resolved"), (e: Error) => e);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(err).toMatchObject({ operation: "DeleteProjectVersion", code: "ThrottlingException", attempts: 2 });
    expect(err.message).toMatch(/gave up at the 300ms bound per call \(after 2 attempts\)/);
  });

  it("each attempt gets its number and a live signal", async () => {
    const seen: number[] = [];
    await withRetry("Op", "r", async ({ attempt, signal }) => {
      seen.push(attempt);
      expect(signal.aborted).toBe(false);
      if (attempt < 3) throw awsError("InternalServerError", 500);
      return "ok";
    }, fast);
    expect(seen).toEqual([1, 2, 3]);
  });

  it("stops promptly when the signal aborts", async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("SIGTERM")), 50);
    const started = Date.now();
    const err = await withRetry("Op", "r", async () => {
      throw awsError("ThrottlingException");
    }, { retries: 100, baseDelayMs: 10_000, maxDelayMs: 10_000, maxTotalMs: 60_000, signal: ac.signal }).catch((e) => e);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(err).toMatchObject({ code: "Aborted" });
  });
});
