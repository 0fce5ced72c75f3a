// What AWS does around the operations, held to what AWS documents or visibly answers: signature dates and
// the SDK's own clock-skew correction, unsigned requests, expiring pagination tokens, tag patterns, and
// identity (a caller sees its own account in the region it signs for, and is denied other accounts' ARNs).
import {
  CopyProjectVersionCommand,
  DeleteProjectVersionCommand,
  DescribeProjectsCommand,
  DescribeProjectVersionsCommand,
  ListTagsForResourceCommand,
  RekognitionClient,
  StartProjectVersionCommand,
  StopProjectVersionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  paginateDescribeProjectVersions,
} from "@aws-sdk/client-rekognition";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDurationFlag } from "../../reconciler/emulator/main.js";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import type { EmulatorStateFile } from "../../reconciler/emulator/state.js";
import { tagProblems } from "../../reconciler/emulator/statecheck.js";
import { CREDENTIALS, rekognitionCall, stsCall } from "./aws-http.js";
import { toQuery } from "./model.js";

const A = "123456789012";
const B = "210987654321";
const T0 = Date.parse("2026-01-01T00:00:00Z");
const at = "2026-01-01T00:00:00Z";
const projectArn = (name: string, account = A, region = "us-east-1") => `arn:aws:rekognition:${region}:${account}:project/${name}/${T0}`;
const versionArn = (project: string, name: string, account = A, region = "us-east-1") =>
  `arn:aws:rekognition:${region}:${account}:project/${project}/version/${name}/${T0}`;
const MINUTE = 60_000;

const seed: EmulatorStateFile = {
  account: A,
  projects: [
    { name: "models", createdAt: at, versions: Array.from({ length: 5 }, (_, i) => ({ name: `v${i}`, status: "STOPPED" as const, createdAt: at })) },
    { name: "models", account: B, createdAt: at, versions: [{ name: "theirs", status: "STOPPED", createdAt: at }] },
    { name: "west", region: "us-west-2", createdAt: at, versions: [{ name: "w1", status: "STOPPED", createdAt: at }] },
  ],
};

let emu: Emulator;
const clients: { destroy(): void }[] = [];
const rekognition = (opts: Partial<ConstructorParameters<typeof RekognitionClient>[0]> = {}, url = emu.url) => {
  const c = new RekognitionClient({ region: "us-east-1", endpoint: url, credentials: CREDENTIALS, maxAttempts: 1, ...opts });
  clients.push(c);
  return c;
};
type AwsError = Error & { $metadata?: { httpStatusCode?: number; clockSkewCorrected?: boolean } };
const failure = (p: Promise<unknown>): Promise<AwsError> =>
  p.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: AwsError) => e,
  );

beforeAll(async () => {
  emu = await startEmulator({ state: seed });
});
afterAll(async () => {
  clients.forEach((c) => c.destroy());
  await emu?.close();
});

describe("signature dates", () => {
  const BASIC = /\d{8}T\d{6}Z/.source;

  it("Rekognition refuses a signature more than 5 minutes off with 400 InvalidSignatureException, in AWS's words", async () => {
    const old = await rekognitionCall(emu.url, "DescribeProjects", {}, { signingDate: new Date(Date.now() - 6 * MINUTE) });
    expect(old.status).toBe(400);
    expect(Object.keys(old.json ?? {}).sort()).toEqual(["__type", "message"]);
    expect(old.json?.__type).toBe("InvalidSignatureException");
    expect(old.json?.message).toMatch(new RegExp(`^Signature expired: ${BASIC} is now earlier than ${BASIC} \\(${BASIC} - 5 min\\.\\)$`));
    const future = await rekognitionCall(emu.url, "DescribeProjects", {}, { signingDate: new Date(Date.now() + 6 * MINUTE) });
    expect(future.json?.message).toMatch(new RegExp(`^Signature not yet current: ${BASIC} is still later than ${BASIC} \\(${BASIC} \\+ 5 min\\.\\)$`));
    const within = await rekognitionCall(emu.url, "DescribeProjects", {}, { signingDate: new Date(Date.now() - 4 * MINUTE) });
    expect(within.status).toBe(200);
  });

  it("STS allows 15 minutes, then answers SignatureDoesNotMatch (403)", async () => {
    const params = () => toQuery("GetCallerIdentity", "2011-06-15", {});
    expect((await stsCall(emu.url, params(), { signingDate: new Date(Date.now() - 14 * MINUTE) })).status).toBe(200);
    const old = await stsCall(emu.url, params(), { signingDate: new Date(Date.now() - 16 * MINUTE) });
    expect(old.status).toBe(403);
    expect(old.text).toMatch(/<Code>SignatureDoesNotMatch<\/Code><Message>Signature expired: .* - 15 min\.\)<\/Message>/);
  });

  it("a request with no signing date at all is an IncompleteSignatureException", async () => {
    const res = await fetch(`${emu.url}/`, {
      method: "POST",
      headers: {
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "RekognitionService.DescribeProjects",
        authorization: `AWS4-HMAC-SHA256 Credential=AKIDX/20260101/us-east-1/rekognition/aws4_request, SignedHeaders=host, Signature=00`,
      },
      body: "{}",
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { __type: string }).__type).toBe("IncompleteSignatureException");
  });

  it("the real SDK with a clock an hour slow recovers on its own: refused once, offset corrected from Date, retried", async () => {
    emu.resetCalls();
    const client = rekognition({ systemClockOffset: -60 * MINUTE, maxAttempts: 3 });
    const out = await client.send(new DescribeProjectsCommand({}));
    expect(out.ProjectDescriptions?.length).toBeGreaterThan(0);
    expect(emu.calls().map((c) => c.outcome)).toEqual(["InvalidSignatureException", "ok"]);
    expect(Math.abs((client.config as { systemClockOffset: number }).systemClockOffset)).toBeLessThan(MINUTE);
  });

  it("against an emulator whose clock runs 2 h ahead, a one-attempt client fails once, then its next call succeeds", async () => {
    const ahead = await startEmulator({ state: seed, clockSkewMs: 120 * MINUTE });
    try {
      const raw = await rekognitionCall(ahead.url, "DescribeProjects", {}, { signingDate: new Date(Date.now() + 120 * MINUTE) });
      expect(raw.status).toBe(200);
      expect(Math.abs(Date.parse(raw.headers.get("date")!) - (Date.now() + 120 * MINUTE))).toBeLessThan(MINUTE);
      const client = rekognition({ maxAttempts: 1 }, ahead.url);
      const err = await failure(client.send(new DescribeProjectsCommand({})));
      expect(err.name).toBe("InvalidSignatureException");
      expect(err.message).toMatch(/^Signature expired: /);
      expect(err.$metadata?.clockSkewCorrected).toBe(true);
      // The SDK kept the corrected offset: rekon's own retry of such a call would now go through.
      expect((await client.send(new DescribeProjectsCommand({}))).ProjectDescriptions?.length).toBeGreaterThan(0);
    } finally {
      await ahead.close();
    }
  });

  it("--clock-skew and --token-ttl take durations, a negative skew written as -5m", () => {
    expect(parseDurationFlag("--clock-skew", "-5m", true)).toBe(-5 * MINUTE);
    expect(parseDurationFlag("--token-ttl", "1h30m")).toBe(90 * MINUTE);
    expect(parseDurationFlag("--token-ttl", "250ms")).toBe(250);
    expect(() => parseDurationFlag("--token-ttl", "-5m")).toThrow(/--token-ttl -5m: not a duration/);
  });
});

describe("unsigned requests", () => {
  it("are 403 MissingAuthenticationTokenException, which the SDK surfaces by name", async () => {
    const res = await fetch(`${emu.url}/`, { method: "POST", headers: { "x-amz-target": "RekognitionService.DescribeProjects", "content-type": "application/x-amz-json-1.1" }, body: "{}" });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ __type: "MissingAuthenticationTokenException", message: "Missing Authentication Token" });
  });
});

describe("expiring pagination tokens", () => {
  it("a NextToken older than tokenTtlMs is InvalidPaginationTokenException; a fresh listing works", async () => {
    let clock = Date.parse("2026-11-28T12:00:00Z");
    const ttl = await startEmulator({ state: seed, now: () => clock, tokenTtlMs: 30_000 });
    try {
      const client = rekognition({}, ttl.url);
      const first = await client.send(new DescribeProjectVersionsCommand({ ProjectArn: projectArn("models"), MaxResults: 2 }));
      clock += 30_000;
      const second = await client.send(new DescribeProjectVersionsCommand({ ProjectArn: projectArn("models"), MaxResults: 2, NextToken: first.NextToken }));
      expect(second.ProjectVersionDescriptions).toHaveLength(2);
      clock += 30_001;
      const expired = await failure(client.send(new DescribeProjectVersionsCommand({ ProjectArn: projectArn("models"), MaxResults: 2, NextToken: second.NextToken })));
      expect({ name: expired.name, message: expired.message, status: expired.$metadata?.httpStatusCode }).toEqual({
        name: "InvalidPaginationTokenException",
        message: "Invalid Token",
        status: 400,
      });
      // The SDK's paginator meets it mid-listing too, which is what a client must survive.
      const pages = paginateDescribeProjectVersions({ client, pageSize: 2 }, { ProjectArn: projectArn("models") });
      const seen: number[] = [];
      const err = await (async () => {
        try {
          for await (const page of pages) {
            seen.push(page.ProjectVersionDescriptions?.length ?? 0);
            clock += 30_001; // every token is stale by the time it is used
          }
        } catch (e) {
          return e as Error;
        }
        return undefined;
      })();
      expect(seen).toEqual([2]);
      expect(err?.name).toBe("InvalidPaginationTokenException");
      const fresh = await client.send(new DescribeProjectVersionsCommand({ ProjectArn: projectArn("models") }));
      expect(fresh.ProjectVersionDescriptions).toHaveLength(5);
    } finally {
      await ttl.close();
    }
  });
});

describe("tag patterns (the model's, with a case-sensitive aws: prefix)", () => {
  it("refuses keys and values outside the pattern and the aws: prefix; accepts AWS: and Unicode letters", async () => {
    const client = rekognition();
    const arn = versionArn("models", "v0");
    const refused: Record<string, string>[] = [{ "a#b": "1" }, { ok: "x#y" }, { "aws:team": "1" }, { "": "1" }];
    for (const tags of refused) {
      const err = await failure(client.send(new TagResourceCommand({ ResourceArn: arn, Tags: tags })));
      expect({ tags, name: err.name }).toEqual({ tags, name: "InvalidParameterException" });
    }
    expect((await failure(client.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: ["aws:team"] })))).name).toBe("InvalidParameterException");
    await client.send(new TagResourceCommand({ ResourceArn: arn, Tags: { "AWS:team": "risk", équipe: "données", "a b:c/d=e+f-g@h_i.j": "" } }));
    expect((await client.send(new ListTagsForResourceCommand({ ResourceArn: arn }))).Tags).toEqual({ "AWS:team": "risk", équipe: "données", "a b:c/d=e+f-g@h_i.j": "" });
    // State files are held to the same rules.
    expect(tagProblems({ "AWS:x": "1", ok: "v" })).toEqual([]);
    expect(tagProblems({ "a#b": "1" })).toEqual(['tag key "a#b" may hold only letters, digits, spaces and _ . : / = + - @']);
  });
});

describe("identity: own account, own region", () => {
  it("every operation given another account's ARN answers AccessDeniedException, IAM-worded, and changes nothing", async () => {
    const client = rekognition();
    const theirs = versionArn("models", "theirs", B);
    const commands = [
      new DescribeProjectVersionsCommand({ ProjectArn: projectArn("models", B) }),
      new DeleteProjectVersionCommand({ ProjectVersionArn: theirs }),
      new StopProjectVersionCommand({ ProjectVersionArn: theirs }),
      new StartProjectVersionCommand({ ProjectVersionArn: theirs, MinInferenceUnits: 1 }),
      new ListTagsForResourceCommand({ ResourceArn: theirs }),
      new TagResourceCommand({ ResourceArn: theirs, Tags: { a: "b" } }),
      new UntagResourceCommand({ ResourceArn: theirs, TagKeys: ["a"] }),
      new CopyProjectVersionCommand({
        SourceProjectArn: projectArn("models"),
        SourceProjectVersionArn: versionArn("models", "v1"),
        DestinationProjectArn: projectArn("models", B),
        VersionName: "stolen",
        OutputConfig: { S3Bucket: "bucket" },
      }),
    ];
    for (const command of commands) {
      const err = await failure(client.send(command as never));
      const op = command.constructor.name.replace(/Command$/, "");
      expect({ op, name: err.name }).toEqual({ op, name: "AccessDeniedException" });
      expect(err.message).toMatch(new RegExp(`^User: arn:aws:iam::${A}:user/emulator is not authorized to perform: rekognition:${op} on resource: arn:aws:rekognition:us-east-1:${B}:`));
    }
    expect(emu.snapshot().projects.find((p) => p.account === B)!.versions).toMatchObject([{ name: "theirs", status: "STOPPED", tags: {} }]);
  });

  it("its own ARN from another region is not found where it signs, and found where it lives", async () => {
    const west = versionArn("west", "w1", A, "us-west-2");
    expect((await failure(rekognition().send(new ListTagsForResourceCommand({ ResourceArn: west })))).name).toBe("ResourceNotFoundException");
    expect((await rekognition({ region: "us-west-2" }).send(new ListTagsForResourceCommand({ ResourceArn: west }))).Tags).toEqual({});
  });

  it("keys from the emulator's AssumeRole act as the role's account: GetCallerIdentity and what they can reach", async () => {
    const sts = new STSClient({ region: "us-east-1", endpoint: emu.url, credentials: CREDENTIALS, maxAttempts: 1 });
    clients.push(sts);
    expect((await sts.send(new GetCallerIdentityCommand({}))).Account).toBe(A);
    const c = (await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${B}:role/reader`, RoleSessionName: "conformance" }))).Credentials!;
    const creds = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
    const asB = new STSClient({ region: "us-east-1", endpoint: emu.url, credentials: creds, maxAttempts: 1 });
    clients.push(asB);
    expect(await asB.send(new GetCallerIdentityCommand({}))).toMatchObject({ Account: B, Arn: `arn:aws:sts::${B}:assumed-role/reader/conformance` });
    const rekB = rekognition({ credentials: creds });
    expect((await rekB.send(new ListTagsForResourceCommand({ ResourceArn: versionArn("models", "theirs", B) }))).Tags).toEqual({});
    const denied = await failure(rekB.send(new ListTagsForResourceCommand({ ResourceArn: versionArn("models", "v0") })));
    expect(denied.name).toBe("AccessDeniedException");
    expect(denied.message).toContain(`User: arn:aws:sts::${B}:assumed-role/reader/conformance is not authorized`);
  });
});
