// rekon's client side of AWS's error model, against the emulator's faults over the real SDK: throttling
// under every name AWS uses, expiring pagination tokens, clock skew, and credentials refused mid-apply.
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createClient } from "../../reconciler/aws/client.js";
import { readLive } from "../../reconciler/aws/inventory.js";
import { RateLimiters } from "../../reconciler/aws/limiter.js";
import type { RetryOptions } from "../../reconciler/aws/retry.js";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import { applyPass } from "../../reconciler/reconcile.js";
import { AMBIENT_IDENTITY, desired, policy, set } from "../helpers/builders.js";
import { TEST_CREDENTIALS } from "../helpers/emulator-env.js";
import { emuPass } from "../helpers/pass.js";

const log = pino({ level: "silent" });
const FAST: RetryOptions = { retries: 6, baseDelayMs: 5, maxDelayMs: 40, maxTotalMs: 10_000 };
const versions = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `v${String(i).padStart(3, "0")}`, status: "STOPPED" as const, age: `${300 - i}d` }));

let emu: Emulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

function reader(e: Emulator, limiters = new RateLimiters()) {
  const client = createClient({ region: "us-east-1", retry: FAST, limiters, endpoint: e.url, credentials: TEST_CREDENTIALS, account: AMBIENT_IDENTITY.account });
  return { client, limiters, read: (name: string) => readLive(desired(set(name, [])), [AMBIENT_IDENTITY], { clientFor: () => client, log }) };
}

describe("client side of AWS's error model", () => {
  it("LimitExceededException is throttling (as the JS SDK and botocore treat it): retried, and it slows the limiter", async () => {
    emu = await startEmulator({ state: { projects: [{ name: "p", versions: versions(3) }] }, faults: { rules: [{ operation: "DescribeProjectVersions", code: "LimitExceededException", times: 2 }] } });
    const r = reader(emu);
    let throttled = 0;
    r.limiters.observe((e) => e.throttled && throttled++);
    const live = await r.read("p");
    r.client.destroy();
    expect(live.projects[0]).toMatchObject({ status: "ok" });
    expect(live.projects[0]!.versions).toHaveLength(3);
    expect(emu.callCount("DescribeProjectVersions", "LimitExceededException")).toBe(2);
    expect(throttled).toBe(2);
  });

  it("a pagination token that expires mid-listing: the project is read again from the first page, once", async () => {
    // Tokens live 500 ms; the second page of the first listing is held 800 ms, so its token has expired.
    // (A stated rate keeps rekon's own pacing well inside the token's life.)
    emu = await startEmulator({ state: { projects: [{ name: "big", versions: versions(250) }] }, tokenTtlMs: 500, faults: { rules: [{ operation: "DescribeProjectVersions", delayMs: 0, times: 1 }, { operation: "DescribeProjectVersions", delayMs: 800, times: 1 }] } });
    const r = reader(emu, new RateLimiters({ DescribeProjectVersions: 50 }));
    const live = await r.read("big");
    r.client.destroy();
    expect(live.projects[0]).toMatchObject({ status: "ok" });
    expect(new Set(live.projects[0]!.versions.map((v) => v.arn)).size).toBe(250);
    expect(emu.callCount("DescribeProjectVersions", "InvalidPaginationTokenException")).toBe(1);
    expect(emu.callCount("DescribeProjectVersions", "ok")).toBe(1 + 3);
  });

  it("tokens that keep expiring: after one restart the project's read fails closed", async () => {
    emu = await startEmulator({ state: { projects: [{ name: "big", versions: versions(250) }] }, tokenTtlMs: 500, faults: { rules: [{ operation: "DescribeProjectVersions", delayMs: 800 }] } });
    const r = reader(emu, new RateLimiters({ DescribeProjectVersions: 50 }));
    const live = await r.read("big");
    r.client.destroy();
    expect(live.projects[0]).toMatchObject({ status: "error", versions: [] });
    expect(live.projects[0]!.error).toContain("InvalidPaginationTokenException");
    expect(emu.callCount("DescribeProjectVersions", "InvalidPaginationTokenException")).toBe(2);
  });

  it("a signature refused for clock skew is retried once, after the SDK corrected its offset", async () => {
    // The emulator's clock is an hour ahead of ours: our first signature is "expired" to it.
    emu = await startEmulator({ state: { projects: [{ name: "p", versions: versions(2) }] }, clockSkewMs: 3_600_000 });
    const r = reader(emu);
    const live = await r.read("p");
    r.client.destroy();
    expect(live.projects[0]).toMatchObject({ status: "ok" });
    expect(emu.callCount("DescribeProjects", "InvalidSignatureException")).toBe(1);
    expect(emu.callCount("DescribeProjects", "ok")).toBe(1);
  });

  it("credentials refused on a delete: that project gives up (the rest skipped), and the refusal is reported failed, not unknown", async () => {
    emu = await startEmulator({ state: { account: AMBIENT_IDENTITY.account, projects: [{ name: "p", versions: versions(4) }] } });
    const pass = await emuPass(emu, desired(set("p", ["v003"])), policy({ keepLatest: 0, minAgeMs: 0, minAge: "0s" }), { retry: FAST });
    emu.setFaults({ rules: [{ operation: "DeleteProjectVersion", code: "UnrecognizedClientException", status: 403 }] });
    const results = await applyPass(pass, log, { concurrency: 1 });
    pass.close();
    expect(results.map((x) => x.result).sort()).toEqual(["failed", "skipped", "skipped"]);
    expect(results.find((x) => x.result === "failed")).toMatchObject({ code: "UnrecognizedClientException" });
    expect(emu.callCount("DeleteProjectVersion")).toBe(1);
  });

  it("a throttle answered with HTTP 500 (a server fault in the model) means refused, not 'may have run'", async () => {
    emu = await startEmulator({ state: { account: AMBIENT_IDENTITY.account, projects: [{ name: "p", versions: versions(2) }] } });
    const pass = await emuPass(emu, desired(set("p", ["v001"])), policy({ keepLatest: 0, minAgeMs: 0, minAge: "0s" }), { retry: { ...FAST, retries: 2 } });
    emu.setFaults({ rules: [{ operation: "DeleteProjectVersion", code: "ThrottlingException", status: 500 }] });
    const results = await applyPass(pass, log);
    pass.close();
    expect(results).toEqual([expect.objectContaining({ result: "failed", code: "ThrottlingException" })]);
  });
});
