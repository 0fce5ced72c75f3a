// Several accounts behind one emulator: STS AssumeRole and GetCallerIdentity (query protocol, XML) as the
// SDK's STS client and the AWS CLI parse them, projects owned per account, quotas per (account, region).
import { execFile } from "node:child_process";
import { DeleteProjectVersionCommand, DescribeProjectsCommand, RekognitionClient } from "@aws-sdk/client-rekognition";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import type { EmulatorStateFile } from "../../reconciler/emulator/state.js";
import { validateStateFile } from "../../reconciler/emulator/statecheck.js";
import { FAKE_CREDENTIALS, fakeAwsProcessEnv, findAwsClis } from "./env.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

const A = "111111111111";
const B = "222222222222";
const ROLE_B = `arn:aws:iam::${B}:role/rekon`;
const DENIED = `arn:aws:iam::${B}:role/not-for-you`;
const seed: EmulatorStateFile = {
  account: A,
  projects: [
    { name: "same", createdAt: "2026-01-01T00:00:00Z", versions: [{ name: "a1", status: "STOPPED", createdAt: "2026-02-01T00:00:00Z" }] },
    { name: "same", account: B, createdAt: "2026-01-01T00:00:00Z", versions: [{ name: "b1", status: "STOPPED", createdAt: "2026-02-01T00:00:00Z" }, { name: "b2", status: "STOPPED", createdAt: "2026-02-02T00:00:00Z" }] },
    { name: "same", account: B, region: "eu-west-1", createdAt: "2026-01-01T00:00:00Z", versions: [{ name: "e1", status: "STOPPED", createdAt: "2026-02-01T00:00:00Z" }, { name: "e2", status: "STOPPED", createdAt: "2026-02-02T00:00:00Z" }] },
  ],
};

let emu: Emulator;
const clients: { destroy(): void }[] = [];
beforeAll(async () => {
  emu = await startEmulator({ state: seed, denyRoles: [DENIED] });
});
afterAll(async () => {
  clients.forEach((c) => c.destroy());
  await emu.close();
});

async function assume(roleArn: string, region = "us-east-1") {
  const sts = new STSClient({ region, endpoint: emu.url, credentials: FAKE_CREDENTIALS, maxAttempts: 1 });
  clients.push(sts);
  return sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: "test-session" }));
}

function rekognition(region: string, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) {
  const c = new RekognitionClient({ region, endpoint: emu.url, credentials, maxAttempts: 1 });
  clients.push(c);
  return c;
}

describe("STS over the SDK's STS client", () => {
  it("AssumeRole answers credentials the SDK parses, with an expiration, for the role's account", async () => {
    const out = await assume(ROLE_B);
    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA[A-Z0-9]{16}$/);
    expect(out.Credentials?.SecretAccessKey).toBeTruthy();
    expect(out.Credentials?.SessionToken).toBeTruthy();
    expect(out.Credentials?.Expiration).toBeInstanceOf(Date);
    expect(out.Credentials!.Expiration!.getTime()).toBeGreaterThan(Date.now() + 50 * 60_000);
    expect(out.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${B}:assumed-role/rekon/test-session`);
  });

  it("a denied role is AccessDenied (HTTP 403), which the SDK raises by name", async () => {
    const err = await assume(DENIED).catch((e: Error & { $metadata?: { httpStatusCode?: number } }) => e);
    expect(err).toMatchObject({ name: "AccessDenied", $metadata: { httpStatusCode: 403 } });
  });

  it("a malformed role ARN is a ValidationError", async () => {
    const err = await assume("arn:aws:iam::12:role/x").catch((e: Error) => e);
    expect(err).toMatchObject({ name: "ValidationError" });
  });
});

describe("accounts", () => {
  it("each caller sees only its own account's projects, in the region it signs for", async () => {
    const c = (await assume(ROLE_B)).Credentials!;
    const asB = { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! };
    const arns = async (region: string, creds: typeof asB | typeof FAKE_CREDENTIALS) =>
      ((await rekognition(region, creds).send(new DescribeProjectsCommand({}))).ProjectDescriptions ?? []).map((p) => p.ProjectArn);
    expect(await arns("us-east-1", FAKE_CREDENTIALS)).toEqual([`arn:aws:rekognition:us-east-1:${A}:project/same/1767225600000`]);
    expect(await arns("us-east-1", asB)).toEqual([`arn:aws:rekognition:us-east-1:${B}:project/same/1767225600000`]);
    expect(await arns("eu-west-1", asB)).toEqual([`arn:aws:rekognition:eu-west-1:${B}:project/same/1767225600000`]);
    expect(await arns("eu-west-1", FAKE_CREDENTIALS)).toEqual([]);
    const calls = emu.calls().filter((x) => x.operation === "DescribeProjects");
    expect(calls.slice(-4).map((x) => `${x.account}/${x.region}`)).toEqual([`${A}/us-east-1`, `${B}/us-east-1`, `${B}/eu-west-1`, `${A}/eu-west-1`]);
  });

  it("acting on another account's version is AccessDeniedException and changes nothing", async () => {
    const bVersion = `arn:aws:rekognition:us-east-1:${B}:project/same/version/b1/${Date.parse("2026-02-01T00:00:00Z")}`;
    const err = await rekognition("us-east-1", FAKE_CREDENTIALS).send(new DeleteProjectVersionCommand({ ProjectVersionArn: bVersion })).catch((e: Error) => e);
    expect(err).toMatchObject({ name: "AccessDeniedException" });
    expect(emu.snapshot().projects.find((p) => p.account === B && p.region === "us-east-1")!.versions!.map((v) => v.status)).toEqual(["STOPPED", "STOPPED"]);
  });

  it("rate limits apply per (account, region): one account's throttling leaves the other's quota alone", async () => {
    emu.setFaults({ rateLimits: { DescribeProjects: 2 } });
    try {
      const c = (await assume(ROLE_B)).Credentials!;
      const asB = rekognition("us-east-1", { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! });
      const asA = rekognition("us-east-1", FAKE_CREDENTIALS);
      const outcome = (p: Promise<unknown>) => p.then(() => "ok", (e: Error) => e.name);
      // Burst 2 each: the third call of A throttles, B's two still pass.
      const a = [await outcome(asA.send(new DescribeProjectsCommand({}))), await outcome(asA.send(new DescribeProjectsCommand({}))), await outcome(asA.send(new DescribeProjectsCommand({})))];
      const b = [await outcome(asB.send(new DescribeProjectsCommand({}))), await outcome(asB.send(new DescribeProjectsCommand({})))];
      expect(a).toEqual(["ok", "ok", "ThrottlingException"]);
      expect(b).toEqual(["ok", "ok"]);
    } finally {
      emu.setFaults({});
    }
  });

  it("state files: a project's account must be 12 digits; the same name may exist once per account and region", () => {
    expect(validateStateFile({ projects: [{ name: "p", account: "12" }] })).toEqual({ errors: ['projects[0].account: "12" must be 12 digits'] });
    expect("state" in validateStateFile({ projects: [{ name: "p" }, { name: "p", account: B }] })).toBe(true);
    expect(validateStateFile({ projects: [{ name: "p", account: B }, { name: "p", account: B }] })).toEqual({ errors: [`projects[1].name: duplicate project "p" in us-east-1 (account ${B})`] });
  });

  it("snapshots keep each project's account, so a saved state loads back the same", () => {
    const snap = emu.snapshot();
    expect(snap.projects.map((p) => p.account ?? snap.account)).toEqual([A, B, B]);
  });
});

const CLIS = findAwsClis();
if (CLIS.length === 0) console.warn("accounts.test.ts: AWS CLI checks skipped, no AWS CLI found");

describe.skipIf(CLIS.length === 0).each(CLIS)("STS with $label (botocore parses the XML too)", (cli) => {
  const aws = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(cli.path, [...args, "--endpoint-url", emu.url, "--region", "us-east-1", "--output", "json"], { env: fakeAwsProcessEnv(), timeout: 20_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  it("assume-role and get-caller-identity", async () => {
    const r = await aws(["sts", "assume-role", "--role-arn", ROLE_B, "--role-session-name", "cli"]);
    expect(r.stderr).toBe("");
    const out = JSON.parse(r.stdout);
    expect(out.AssumedRoleUser.Arn).toBe(`arn:aws:sts::${B}:assumed-role/rekon/cli`);
    const who = await aws(["sts", "get-caller-identity"]);
    expect(JSON.parse(who.stdout)).toMatchObject({ Account: A });
  });

  it("a denied role: the CLI reports AccessDenied", async () => {
    const r = await aws(["sts", "assume-role", "--role-arn", DENIED, "--role-session-name", "cli"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/AccessDenied/);
  });
});
