// The AWS CLI (botocore, Python) as a second, independent client. The JS SDK and the emulator were both
// read by the same people; botocore was not, so agreement here means the emulator speaks AWS, not "our AWS".
import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import type { EmulatorStateFile } from "../../reconciler/emulator/state.js";
import { fakeAwsProcessEnv, findAws } from "./env.js";

const AWS = findAws();
if (!AWS) console.warn("awscli.test.ts: skipped, `aws` (AWS CLI) is not on PATH");

const ACCOUNT = "123456789012";
const PROJECT_ARN = `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/many/1767225600000`; // 2026-01-01T00:00:00Z
const START = Date.parse("2026-11-28T12:00:00Z");
const RUNNING_ARN = `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/many/version/live/${START - 60_000}`;

const seed: EmulatorStateFile = {
  account: ACCOUNT,
  projects: [
    {
      name: "many",
      createdAt: "2026-01-01T00:00:00Z",
      versions: [
        ...Array.from({ length: 249 }, (_, i) => ({ name: `v${i}`, status: "STOPPED" as const, age: `${i + 2}m` })),
        { name: "live", status: "RUNNING" as const, age: "1m" },
      ],
    },
    { name: "adapter", feature: "CONTENT_MODERATION", versions: [{ name: "a1", status: "DEPRECATED", age: "1d" }] },
  ],
};

let emu: Emulator;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function aws(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      AWS ?? "aws",
      ["rekognition", ...args, "--endpoint-url", emu.url, "--region", "us-east-1", "--output", "json"],
      // One attempt: an error must surface as the emulator sent it, not after botocore's retries.
      { env: fakeAwsProcessEnv({ AWS_MAX_ATTEMPTS: "1" }), timeout: 20_000, encoding: "utf8" },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  emu = await startEmulator({ state: seed, now: () => START });
});

afterAll(async () => {
  await emu?.close();
});

describe.skipIf(!AWS)("AWS CLI against the emulator", () => {
  it("auto-paginates describe-project-versions: all 250 versions exactly once, newest first", async () => {
    emu.resetCalls();
    const res = await aws(["describe-project-versions", "--project-arn", PROJECT_ARN, "--page-size", "100"]);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as { ProjectVersionDescriptions: { ProjectVersionArn: string; CreationTimestamp: number; Status: string }[] };
    const arns = out.ProjectVersionDescriptions.map((v) => v.ProjectVersionArn);
    expect(arns).toHaveLength(250);
    expect(new Set(arns).size).toBe(250);
    expect(arns[0]).toBe(RUNNING_ARN);
    expect(out.ProjectVersionDescriptions[0]?.Status).toBe("RUNNING");
    const times = out.ProjectVersionDescriptions.map((v) => v.CreationTimestamp);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    // --page-size 100 means three requests of MaxResults 100, not one big one.
    expect(emu.callCount("DescribeProjectVersions", "ok")).toBe(3);
  }, 30_000);

  it("describe-projects shows the adapter project only with --features", async () => {
    const plain = await aws(["describe-projects"]);
    const withFeatures = await aws(["describe-projects", "--features", "CUSTOM_LABELS", "CONTENT_MODERATION"]);
    expect(plain.code).toBe(0);
    expect(withFeatures.code).toBe(0);
    type Out = { ProjectDescriptions: { ProjectArn: string; Feature: string }[] };
    expect((JSON.parse(plain.stdout) as Out).ProjectDescriptions.map((p) => p.ProjectArn)).toEqual([PROJECT_ARN]);
    expect((JSON.parse(withFeatures.stdout) as Out).ProjectDescriptions.map((p) => p.Feature).sort()).toEqual([
      "CONTENT_MODERATION",
      "CUSTOM_LABELS",
    ]);
  }, 30_000);

  it("surfaces ResourceInUseException with a non-zero exit when deleting a RUNNING version", async () => {
    const res = await aws(["delete-project-version", "--project-version-arn", RUNNING_ARN]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("ResourceInUseException");
    expect(res.stderr).toContain("DeleteProjectVersion");
    expect(emu.snapshot().projects[0]?.versions?.find((v) => v.name === "live")?.status).toBe("RUNNING");
  }, 30_000);
});
