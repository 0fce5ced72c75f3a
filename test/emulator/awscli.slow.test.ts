// The AWS CLI (botocore, Python) as a second, independent client. The JS SDK and the emulator were both
// read by the same people; botocore was not, so agreement here means the emulator speaks AWS, not "our AWS".
// Runs against every installed CLI, v1 (pip) and v2 (Debian's awscli, or AWS's installer), each with what its
// own bundled model supports.
import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import type { EmulatorStateFile } from "../../reconciler/emulator/state.js";
import { fakeAwsProcessEnv, findAwsClis, type AwsCli } from "./env.js";

const CLIS = findAwsClis();
if (CLIS.length === 0) console.warn("awscli.slow.test.ts: skipped, no AWS CLI found (on PATH, /usr/bin/aws, /usr/local/bin/aws)");
else console.log(`awscli.slow.test.ts: running against ${CLIS.map((c) => c.label).join(", ")}`);
for (const major of [1, 2]) {
  if (CLIS.length > 0 && !CLIS.some((c) => c.major === major)) console.warn(`awscli.slow.test.ts: no AWS CLI v${major} installed; its run is skipped`);
}

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

function aws(cli: AwsCli, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      cli.path,
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

describe.skipIf(CLIS.length === 0).each(CLIS)("$label against the emulator", (cli) => {
  it("auto-paginates describe-project-versions: all 250 versions exactly once, newest first", async () => {
    emu.resetCalls();
    const res = await aws(cli, ["describe-project-versions", "--project-arn", PROJECT_ARN, "--page-size", "100"]);
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

  it("describe-projects hides the adapter project, and shows it with --features where the CLI knows that option", async () => {
    type Out = { ProjectDescriptions: { ProjectArn: string; Feature: string }[] };
    const plain = await aws(cli, ["describe-projects"]);
    expect(plain.code).toBe(0);
    expect((JSON.parse(plain.stdout) as Out).ProjectDescriptions.map((p) => p.ProjectArn)).toEqual([PROJECT_ARN]);
    const withFeatures = await aws(cli, ["describe-projects", "--features", "CUSTOM_LABELS", "CONTENT_MODERATION"]);
    if (!cli.describeProjectsTakesFeatures) {
      // Its bundled model predates Features (and adapters): it refuses the option itself, before sending.
      console.log(`${cli.label}: describe-projects has no --features; adapter listing not checked with this CLI`);
      expect(withFeatures.code).not.toBe(0);
      expect(withFeatures.stderr).toMatch(/Unknown options: --features|--features/);
      return;
    }
    expect(withFeatures.code).toBe(0);
    expect((JSON.parse(withFeatures.stdout) as Out).ProjectDescriptions.map((p) => p.Feature).sort()).toEqual([
      "CONTENT_MODERATION",
      "CUSTOM_LABELS",
    ]);
  }, 30_000);

  it("surfaces ResourceInUseException with a non-zero exit when deleting a RUNNING version", async () => {
    const res = await aws(cli, ["delete-project-version", "--project-version-arn", RUNNING_ARN]);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("ResourceInUseException");
    expect(res.stderr).toContain("DeleteProjectVersion");
    expect(emu.snapshot().projects[0]?.versions?.find((v) => v.name === "live")?.status).toBe("RUNNING");
  }, 30_000);
});
