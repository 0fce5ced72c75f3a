// Targeted faults (an operation, an ARN, an error, so many times, after a delay) and the call events tests
// wait on, all through the real SDK over HTTP: what a safety test needs to make one deletion fail, or to act
// while a deletion is in flight.
import {
  DeleteProjectVersionCommand,
  DescribeProjectsCommand,
  DescribeProjectVersionsCommand,
  ListTagsForResourceCommand,
  RekognitionClient,
} from "@aws-sdk/client-rekognition";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CallRecord, type Emulator } from "../../reconciler/emulator/server.js";
import type { EmulatorStateFile } from "../../reconciler/emulator/state.js";
import { FAKE_CREDENTIALS } from "./env.js";

const ACCOUNT = "123456789012";
const CREATED = Date.parse("2026-01-01T00:00:00Z");
const PROJECT_ARN = `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/models/${CREATED}`;
const v = (name: string) => `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/models/version/${name}/${CREATED}`;

const seed = (): EmulatorStateFile => ({
  account: ACCOUNT,
  projects: [
    {
      name: "models",
      createdAt: "2026-01-01T00:00:00Z",
      versions: ["a", "b", "c", "d", "e", "slow"].map((name) => ({ name, status: "STOPPED" as const, createdAt: "2026-01-01T00:00:00Z" })),
    },
    { name: "other", createdAt: "2026-01-02T00:00:00Z" },
  ],
});

let emu: Emulator;
let client: RekognitionClient;
const extra: { destroy(): void }[] = [];

type AwsError = Error & { $metadata?: { httpStatusCode?: number; requestId?: string }; $fault?: string };
const failure = (p: Promise<unknown>): Promise<AwsError> =>
  p.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: AwsError) => e,
  );
const statusOf = async (name: string) =>
  (await client.send(new DescribeProjectVersionsCommand({ ProjectArn: PROJECT_ARN, VersionNames: [name] }))).ProjectVersionDescriptions?.[0]?.Status;

beforeAll(async () => {
  emu = await startEmulator({ state: seed(), deleteDelayMs: 60_000 });
  client = new RekognitionClient({ region: "us-east-1", endpoint: emu.url, credentials: FAKE_CREDENTIALS, maxAttempts: 1 });
});
afterEach(() => emu.setFaults({}));
afterAll(async () => {
  client?.destroy();
  extra.forEach((c) => c.destroy());
  await emu?.close();
});

describe("fault rules", () => {
  it("denies one operation on one ARN with an IAM-style AccessDeniedException and changes nothing", async () => {
    emu.setFaults({ rules: [{ operation: "DeleteProjectVersion", code: "AccessDeniedException", arn: "/version/a/" }] });
    const err = await failure(client.send(new DeleteProjectVersionCommand({ ProjectVersionArn: v("a") })));
    expect(err.name).toBe("AccessDeniedException");
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(err.message).toBe(`User: arn:aws:iam::${ACCOUNT}:user/emulator is not authorized to perform: rekognition:DeleteProjectVersion on resource: ${v("a")}`);
    expect(await statusOf("a")).toBe("STOPPED");
    // Another version, and another operation on the denied one, are untouched by the rule.
    expect((await client.send(new DeleteProjectVersionCommand({ ProjectVersionArn: v("b") }))).Status).toBe("DELETING");
    expect((await client.send(new ListTagsForResourceCommand({ ResourceArn: v("a") }))).Tags).toEqual({});
  });

  it("a rule with times is spent after that many answers", async () => {
    emu.setFaults({ rules: [{ operation: "DescribeProjects", code: "ThrottlingException", times: 2 }] });
    const outcomes: string[] = [];
    for (let i = 0; i < 4; i++) outcomes.push(await client.send(new DescribeProjectsCommand({})).then(() => "ok", (e: Error) => e.name));
    expect(outcomes).toEqual(["ThrottlingException", "ThrottlingException", "ok", "ok"]);
  });

  it("answers each code with the status AWS uses unless told otherwise, and the SDK classifies 5xx as server faults", async () => {
    const cases: [string, number | undefined, number, string][] = [
      ["InternalServerError", undefined, 500, "server"],
      ["ServiceUnavailable", undefined, 503, "server"],
      ["ProvisionedThroughputExceededException", undefined, 400, "client"],
      ["LimitExceededException", 429, 429, "client"],
    ];
    for (const [code, status, expected, fault] of cases) {
      emu.setFaults({ rules: [{ operation: "ListTagsForResource", code, ...(status ? { status } : {}), message: `boom ${code}` }] });
      const err = await failure(client.send(new ListTagsForResourceCommand({ ResourceArn: v("c") })));
      expect({ name: err.name, status: err.$metadata?.httpStatusCode, fault: err.$fault, message: err.message }).toEqual({
        name: code,
        status: expected,
        fault,
        message: `boom ${code}`,
      });
    }
  });

  it("matches ProjectNames for DescribeProjects, and only the first matching rule applies", async () => {
    emu.setFaults({
      rules: [
        { operation: "*", code: "AccessDeniedException", arn: "other" },
        { operation: "DescribeProjects", code: "InternalServerError" },
      ],
    });
    const denied = await failure(client.send(new DescribeProjectsCommand({ ProjectNames: ["models", "other"] })));
    expect(denied.name).toBe("AccessDeniedException");
    expect(denied.message).toContain(`rekognition:DescribeProjects on resource: arn:aws:rekognition:us-east-1:${ACCOUNT}:project/*`);
    expect((await failure(client.send(new DescribeProjectsCommand({ ProjectNames: ["models"] })))).name).toBe("InternalServerError");
  });

  it("probability draws from the seeded PRNG: the same seed gives the same outcomes", async () => {
    const run = async () => {
      emu.setFaults({ seed: 7, rules: [{ operation: "ListTagsForResource", code: "ThrottlingException", probability: 0.5 }] });
      const seen: string[] = [];
      for (let i = 0; i < 12; i++) seen.push(await client.send(new ListTagsForResourceCommand({ ResourceArn: v("c") })).then(() => "ok", (e: Error) => e.name));
      return seen;
    };
    const first = await run();
    expect(first).toContain("ok");
    expect(first).toContain("ThrottlingException");
    expect(await run()).toEqual(first);
  });

  it("refuses a rule that could never fire or does nothing, naming the problem", () => {
    expect(() => emu.setFaults({ rules: [{ operation: "DeleteProjectVersions", code: "ThrottlingException" }] })).toThrow(
      /rules\[0\]\.operation: "DeleteProjectVersions" is not an operation the emulator serves/,
    );
    expect(() => emu.setFaults({ rules: [{ operation: "DescribeProjects" }] })).toThrow(/rules\[0\]: does nothing/);
    expect(() => emu.setFaults({ rules: [{ operation: "*", code: "not a code" }] })).toThrow(/rules\[0\]\.code/);
    expect(() => emu.setFaults({ rules: [{ operation: "*", code: "X1", probability: 2, times: 0 }] })).toThrow(/probability.*times|times.*probability/s);
  });

  it("is settable at start and over PUT /_emulator/faults", async () => {
    const other = await startEmulator({ state: seed(), faults: { rules: [{ operation: "DescribeProjects", code: "AccessDeniedException" }] } });
    const c = new RekognitionClient({ region: "us-east-1", endpoint: other.url, credentials: FAKE_CREDENTIALS, maxAttempts: 1 });
    try {
      expect((await failure(c.send(new DescribeProjectsCommand({})))).name).toBe("AccessDeniedException");
      const put = await fetch(`${other.url}/_emulator/faults`, { method: "PUT", body: JSON.stringify({ rules: [{ operation: "DescribeProjects", code: "ServiceUnavailable" }] }) });
      expect(put.status).toBe(204);
      expect((await failure(c.send(new DescribeProjectsCommand({})))).$metadata?.httpStatusCode).toBe(503);
      const bad = await fetch(`${other.url}/_emulator/faults`, { method: "PUT", body: JSON.stringify({ rules: [{ operation: "Nope", code: "X1" }] }) });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { message: string }).message).toContain('"Nope" is not an operation');
    } finally {
      c.destroy();
      await other.close();
    }
  });

  it("STS operations take rules too, and a denial there is STS's AccessDenied (HTTP 403)", async () => {
    emu.setFaults({ rules: [{ operation: "AssumeRole", code: "AccessDeniedException", arn: "role/blocked" }] });
    const sts = new STSClient({ region: "us-east-1", endpoint: emu.url, credentials: FAKE_CREDENTIALS, maxAttempts: 1 });
    extra.push(sts);
    const err = await failure(sts.send(new AssumeRoleCommand({ RoleArn: "arn:aws:iam::210987654321:role/blocked", RoleSessionName: "s1" })));
    expect(err.name).toBe("AccessDenied");
    expect(err.$metadata?.httpStatusCode).toBe(403);
    expect(err.message).toBe(`User: arn:aws:iam::${ACCOUNT}:user/emulator is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::210987654321:role/blocked`);
    const ok = await sts.send(new AssumeRoleCommand({ RoleArn: "arn:aws:iam::210987654321:role/fine", RoleSessionName: "s1" }));
    expect(ok.AssumedRoleUser?.Arn).toBe("arn:aws:sts::210987654321:assumed-role/fine/s1");
    expect((await sts.send(new GetCallerIdentityCommand({}))).Account).toBe(ACCOUNT);
  });
});

describe("delays and call events", () => {
  it("logs a call when it arrives and again when answered, with the request id the SDK sees", async () => {
    emu.resetCalls();
    const out = await client.send(new DescribeProjectsCommand({ ProjectNames: ["models"] }));
    const events = emu.calls({ phase: "all" });
    expect(events.map((c) => [c.phase, c.operation, c.outcome, c.status])).toEqual([
      ["received", "DescribeProjects", "pending", 0],
      ["answered", "DescribeProjects", "ok", 200],
    ]);
    expect(events[0]!.requestId).toBe(out.$metadata.requestId);
    expect(events[1]!.requestId).toBe(out.$metadata.requestId);
    expect(events[0]!.target).toBe("models");
    expect(emu.calls()).toEqual([events[1]]); // calls() counts each request once
    const overHttp = (await (await fetch(`${emu.url}/_emulator/calls?phase=all`)).json()) as CallRecord[];
    expect(overHttp).toEqual(events);
  });

  it("a delayed delete is in flight after its received event, and still executes after the client hung up", async () => {
    emu.setFaults({ rules: [{ operation: "DeleteProjectVersion", arn: "/version/slow/", delayMs: 1_500 }] });
    const abort = new AbortController();
    const call = client.send(new DeleteProjectVersionCommand({ ProjectVersionArn: v("slow") }), { abortSignal: abort.signal });
    const arrived = await emu.waitForCall((c) => c.phase === "received" && c.target === v("slow"));
    // Held, not executed: the version is untouched while the call is in flight.
    expect(await statusOf("slow")).toBe("STOPPED");
    abort.abort();
    expect((await failure(call)).name).toMatch(/Abort/);
    const answered = await emu.waitForCall((c) => c.phase === "answered" && c.requestId === arrived.requestId);
    expect(answered.outcome).toBe("ok");
    expect(await statusOf("slow")).toBe("DELETING");
  });

  it("a delay with a code answers the error after the delay", async () => {
    emu.setFaults({ rules: [{ operation: "DeleteProjectVersion", arn: "/version/d/", delayMs: 200, code: "InternalServerError", times: 1 }] });
    const t0 = performance.now();
    const err = await failure(client.send(new DeleteProjectVersionCommand({ ProjectVersionArn: v("d") })));
    expect(err.name).toBe("InternalServerError");
    expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
    expect(await statusOf("d")).toBe("STOPPED");
  });

  it("waitForCall resolves on an event already logged, or on a later one; onCall unsubscribes", async () => {
    emu.resetCalls();
    await client.send(new DescribeProjectsCommand({}));
    const past = await emu.waitForCall((c) => c.operation === "DescribeProjects" && c.phase === "answered");
    expect(past.outcome).toBe("ok");

    const seen: string[] = [];
    const off = emu.onCall((c) => seen.push(`${c.phase}:${c.operation}`));
    const future = emu.waitForCall((c) => c.operation === "ListTagsForResource" && c.phase === "answered");
    await client.send(new ListTagsForResourceCommand({ ResourceArn: v("e") }));
    expect((await future).target).toBe(v("e"));
    off();
    await client.send(new DescribeProjectsCommand({}));
    expect(seen).toEqual(["received:ListTagsForResource", "answered:ListTagsForResource"]);
  });

  it("waitForCall rejects on timeout naming the last events, and when the emulator closes", async () => {
    const err = await emu.waitForCall((c) => c.operation === "StartProjectVersion", 50).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^waitForCall: no matching call within 50 ms; last events: /);

    const other = await startEmulator({ state: seed() });
    const pending = other.waitForCall(() => false);
    await other.close();
    await expect(pending).rejects.toThrow(/closed/);
  });
});
