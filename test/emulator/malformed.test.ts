// Fault rules that answer HTTP 200 with a malformed body (`answer`), and the `hasMember` matcher: what a test
// needs to show a client a broken success answer. Read over plain HTTP (signed by the SDK's own signer is not
// needed: the emulator checks only the signature's presence and date), so the bytes the emulator sends are
// what is asserted, not what an SDK makes of them.
import { DeleteProjectVersionCommand, DescribeProjectVersionsCommand, RekognitionClient } from "@aws-sdk/client-rekognition";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
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
      versions: ["a", "b"].map((name) => ({ name, status: "STOPPED" as const, createdAt: "2026-01-01T00:00:00Z", tags: { legal: "hold" } })),
    },
  ],
});

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ state: seed(), deleteDelayMs: 60_000 });
});
afterEach(() => emu.setFaults({}));
afterAll(async () => {
  await emu?.close();
});

const AUTH = `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/rekognition/aws4_request, SignedHeaders=host, Signature=0`;
const STS_AUTH = AUTH.replace("/rekognition/", "/sts/");
const amzDate = () => new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");

async function call(operation: string, body: Record<string, unknown>): Promise<{ status: number; json: unknown }> {
  const res = await fetch(emu.url, {
    method: "POST",
    headers: { "X-Amz-Target": `RekognitionService.${operation}`, "Content-Type": "application/x-amz-json-1.1", Authorization: AUTH, "X-Amz-Date": amzDate() },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

async function sts(form: Record<string, string>): Promise<{ status: number; text: string }> {
  const res = await fetch(emu.url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: STS_AUTH, "X-Amz-Date": amzDate() },
    body: new URLSearchParams({ Version: "2011-06-15", ...form }).toString(),
  });
  return { status: res.status, text: await res.text() };
}

describe("answer: a 200 with the real answer changed", () => {
  it("omit removes a member: ListTagsForResource without Tags", async () => {
    emu.setFaults({ rules: [{ operation: "ListTagsForResource", answer: { omit: ["Tags"] } }] });
    expect(await call("ListTagsForResource", { ResourceArn: v("a") })).toEqual({ status: 200, json: {} });
    emu.setFaults({});
    expect(await call("ListTagsForResource", { ResourceArn: v("a") })).toEqual({ status: 200, json: { Tags: { legal: "hold" } } });
  });

  it("set gives any member any JSON value, through lists with *; omit with * reaches every item", async () => {
    const answer = { set: { "ProjectVersionDescriptions.*.Status": 5 }, omit: ["ProjectVersionDescriptions.*.CreationTimestamp"] };
    emu.setFaults({ rules: [{ operation: "DescribeProjectVersions", answer }] });
    const got = (await call("DescribeProjectVersions", { ProjectArn: PROJECT_ARN })).json as { ProjectVersionDescriptions: Record<string, unknown>[] };
    expect(got.ProjectVersionDescriptions).toHaveLength(2);
    for (const d of got.ProjectVersionDescriptions) {
      expect(d.Status).toBe(5);
      expect(d).not.toHaveProperty("CreationTimestamp");
      expect(d.ProjectVersionArn).toMatch(/version\/[ab]\//);
    }
    emu.setFaults({ rules: [{ operation: "DescribeProjectVersions", answer: { set: { ProjectVersionDescriptions: {} } } }] });
    expect((await call("DescribeProjectVersions", { ProjectArn: PROJECT_ARN })).json).toEqual({ ProjectVersionDescriptions: {} });
    emu.setFaults({ rules: [{ operation: "DescribeProjectVersions", answer: { body: { Unrelated: true } } }] });
    expect((await call("DescribeProjectVersions", { ProjectArn: PROJECT_ARN })).json).toEqual({ Unrelated: true });
  });

  it("the operation still runs: a delete answered without Status has deleted all the same, and the world's tags are not touched by omit", async () => {
    const client = new RekognitionClient({ region: "us-east-1", endpoint: emu.url, credentials: FAKE_CREDENTIALS, maxAttempts: 1 });
    try {
      emu.setFaults({
        rules: [
          { operation: "DeleteProjectVersion", answer: { omit: ["Status"] } },
          { operation: "ListTagsForResource", answer: { omit: ["Tags.legal"] } },
        ],
      });
      const out = await client.send(new DeleteProjectVersionCommand({ ProjectVersionArn: v("b") }));
      expect(out.Status).toBeUndefined();
      expect(emu.calls().at(-1)).toMatchObject({ operation: "DeleteProjectVersion", outcome: "ok", status: 200 });
      expect((await call("ListTagsForResource", { ResourceArn: v("a") })).json).toEqual({ Tags: {} });
      emu.setFaults({});
      const d = await client.send(new DescribeProjectVersionsCommand({ ProjectArn: PROJECT_ARN, VersionNames: ["b"] }));
      expect(d.ProjectVersionDescriptions?.[0]?.Status).toBe("DELETING");
      expect(emu.snapshot().projects[0]!.versions!.find((x) => x.name === "a")!.tags).toEqual({ legal: "hold" });
    } finally {
      client.destroy();
    }
  });

  it("an error answer is not changed: a rule's answer applies to success answers only", async () => {
    emu.setFaults({ rules: [{ operation: "ListTagsForResource", answer: { set: { Tags: [] } } }] });
    const gone = await call("ListTagsForResource", { ResourceArn: v("nope") });
    expect(gone.status).toBe(400);
    expect(gone.json).toMatchObject({ __type: "ResourceNotFoundException" });
  });

  it("hasMember matches only requests carrying that member: DescribeProjectVersions by VersionNames, not the whole listing", async () => {
    emu.setFaults({ rules: [{ operation: "DescribeProjectVersions", hasMember: "VersionNames", answer: { omit: ["ProjectVersionDescriptions"] } }] });
    expect((await call("DescribeProjectVersions", { ProjectArn: PROJECT_ARN })).json).toHaveProperty("ProjectVersionDescriptions");
    expect((await call("DescribeProjectVersions", { ProjectArn: PROJECT_ARN, VersionNames: ["a"] })).json).toEqual({});
  });

  it("STS answers change in their result element, written as XML", async () => {
    emu.setFaults({ rules: [{ operation: "GetCallerIdentity", answer: { omit: ["Account"] } }] });
    const who = await sts({ Action: "GetCallerIdentity" });
    expect(who.status).toBe(200);
    const arn = `arn:aws:iam::${ACCOUNT}:user/emulator`;
    expect(who.text).toContain(`<GetCallerIdentityResult><Arn>${arn}</Arn><UserId>AKIDEXAMPLE</UserId></GetCallerIdentityResult>`);
    emu.setFaults({ rules: [{ operation: "AssumeRole", answer: { set: { "Credentials.Expiration": "yesterday" } } }] });
    const role = await sts({ Action: "AssumeRole", RoleArn: "arn:aws:iam::210987654321:role/r", RoleSessionName: "s1" });
    expect(role.text).toMatch(/<Credentials><AccessKeyId>ASIA\w+<\/AccessKeyId><SecretAccessKey>[^<]+<\/SecretAccessKey><SessionToken>[^<]+<\/SessionToken>/);
    expect(role.text).toContain("<Expiration>yesterday</Expiration></Credentials>");
  });

  it.each([
    [{ operation: "ListTagsForResource", answer: { omit: ["Tags"] }, code: "ThrottlingException" }, /rules\[0\]\.answer: .* cannot go with a code/],
    [{ operation: "ListTagsForResource", answer: {} }, /rules\[0\]\.answer: changes nothing/],
    [{ operation: "ListTagsForResource", answer: { omit: "Tags" } }, /rules\[0\]\.answer\.omit: must be a list/],
    [{ operation: "ListTagsForResource", answer: { omit: ["Tags..x"] } }, /rules\[0\]\.answer\.omit\[0\]: "Tags\.\.x" is not a member path/],
    [{ operation: "ListTagsForResource", answer: { set: [] } }, /rules\[0\]\.answer\.set: must be an object/],
    [{ operation: "ListTagsForResource", answer: { replace: {} } }, /rules\[0\]\.answer\.replace: unknown field/],
    [{ operation: "ListTagsForResource", hasMember: "", answer: { omit: ["Tags"] } }, /rules\[0\]\.hasMember: must be a non-empty string/],
  ])("refuses a malformed rule, naming the field: %j", (rule, message) => {
    expect(() => emu.setFaults({ rules: [rule as never] })).toThrow(message);
  });
});
