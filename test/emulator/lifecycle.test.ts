// Starting and copying models (StartProjectVersion, CopyProjectVersion) through the real SDK, and the test-side
// mutation API (updateVersion, PATCH /_emulator/versions) that plays "someone changed this behind rekon's back".
import {
  CopyProjectVersionCommand,
  DeleteProjectVersionCommand,
  DescribeProjectVersionsCommand,
  ListTagsForResourceCommand,
  RekognitionClient,
  StartProjectVersionCommand,
  type StartProjectVersionCommandInput,
} from "@aws-sdk/client-rekognition";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import type { EmulatorStateFile } from "../../reconciler/emulator/state.js";
import { FAKE_CREDENTIALS } from "./env.js";

const ACCOUNT = "123456789012";
const OTHER_ACCOUNT = "210987654321";
const START = Date.parse("2026-11-28T12:00:00Z");
let clock = START;
const T0 = Date.parse("2026-01-01T00:00:00Z");
const project = (name: string, region = "us-east-1", account = ACCOUNT) => `arn:aws:rekognition:${region}:${account}:project/${name}/${T0}`;
const version = (p: string, name: string, region = "us-east-1", account = ACCOUNT) =>
  `arn:aws:rekognition:${region}:${account}:project/${p}/version/${name}/${T0}`;
const at = "2026-01-01T00:00:00Z";

const seed: EmulatorStateFile = {
  account: ACCOUNT,
  projects: [
    {
      name: "models",
      createdAt: at,
      versions: [
        { name: "stopped", status: "STOPPED", createdAt: at },
        { name: "trained", status: "TRAINING_COMPLETED", createdAt: at },
        { name: "copied", status: "COPYING_COMPLETED", createdAt: at },
        { name: "running", status: "RUNNING", createdAt: at },
        { name: "failed", status: "TRAINING_FAILED", createdAt: at },
        { name: "training", status: "TRAINING_IN_PROGRESS", createdAt: at },
        { name: "source", status: "STOPPED", createdAt: at, tags: { team: "risk" } },
      ],
    },
    { name: "target", createdAt: at, versions: [{ name: "taken", status: "STOPPED", createdAt: at }] },
    { name: "adapter", feature: "CONTENT_MODERATION", createdAt: at, versions: [{ name: "a1", status: "TRAINING_COMPLETED", createdAt: at }] },
    { name: "west", region: "us-west-2", createdAt: at, versions: [{ name: "w1", status: "STOPPED", createdAt: at }] },
    { name: "theirs", account: OTHER_ACCOUNT, createdAt: at, versions: [{ name: "t1", status: "STOPPED", createdAt: at }] },
  ],
};

let emu: Emulator;
let client: RekognitionClient;

type AwsError = Error & { $metadata?: { httpStatusCode?: number } };
const failure = (p: Promise<unknown>): Promise<AwsError> =>
  p.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: AwsError) => e,
  );
async function describeVersion(projectArn: string, name: string) {
  const out = await client.send(new DescribeProjectVersionsCommand({ ProjectArn: projectArn, VersionNames: [name] }));
  return out.ProjectVersionDescriptions?.[0];
}

beforeAll(async () => {
  emu = await startEmulator({ state: seed, now: () => clock, startDelayMs: 3_000, copyDelayMs: 4_000 });
  client = new RekognitionClient({ region: "us-east-1", endpoint: emu.url, credentials: FAKE_CREDENTIALS, maxAttempts: 1 });
});
afterAll(async () => {
  client?.destroy();
  await emu?.close();
});

describe("StartProjectVersion", () => {
  it("STOPPED → STARTING → RUNNING after startDelayMs, with the inference units asked for", async () => {
    const arn = version("models", "stopped");
    const out = await client.send(new StartProjectVersionCommand({ ProjectVersionArn: arn, MinInferenceUnits: 2, MaxInferenceUnits: 3 }));
    expect(out.Status).toBe("STARTING");
    expect(await describeVersion(project("models"), "stopped")).toMatchObject({ Status: "STARTING", MinInferenceUnits: 2, MaxInferenceUnits: 3 });
    // A starting model is busy: it cannot be deleted.
    expect((await failure(client.send(new DeleteProjectVersionCommand({ ProjectVersionArn: arn })))).name).toBe("ResourceInUseException");
    clock += 2_999;
    expect((await describeVersion(project("models"), "stopped"))?.Status).toBe("STARTING");
    clock += 1;
    expect((await describeVersion(project("models"), "stopped"))?.Status).toBe("RUNNING");
  });

  it("starts TRAINING_COMPLETED and COPYING_COMPLETED models too", async () => {
    for (const name of ["trained", "copied"]) {
      expect((await client.send(new StartProjectVersionCommand({ ProjectVersionArn: version("models", name), MinInferenceUnits: 1 }))).Status).toBe("STARTING");
    }
  });

  it("requires MinInferenceUnits >= 1 and MaxInferenceUnits >= MinInferenceUnits, before looking anything up", async () => {
    const ghost = version("models", "ghost");
    const missing = await failure(client.send(new StartProjectVersionCommand({ ProjectVersionArn: ghost } as StartProjectVersionCommandInput)));
    expect(missing.name).toBe("InvalidParameterException");
    expect(missing.message).toContain("'minInferenceUnits' failed to satisfy constraint: Member must not be null");
    expect((await failure(client.send(new StartProjectVersionCommand({ ProjectVersionArn: ghost, MinInferenceUnits: 0 })))).name).toBe("InvalidParameterException");
    const inverted = await failure(client.send(new StartProjectVersionCommand({ ProjectVersionArn: ghost, MinInferenceUnits: 3, MaxInferenceUnits: 2 })));
    expect(inverted.message).toContain("MaxInferenceUnits");
    expect((await failure(client.send(new StartProjectVersionCommand({ ProjectVersionArn: ghost, MinInferenceUnits: 1 })))).name).toBe("ResourceNotFoundException");
  });

  it("refuses adapters, busy models and models that never trained, leaving them as they were", async () => {
    const adapter = await failure(client.send(new StartProjectVersionCommand({ ProjectVersionArn: version("adapter", "a1"), MinInferenceUnits: 1 })));
    expect(adapter.name).toBe("InvalidParameterException");
    expect(adapter.message).toContain("CONTENT_MODERATION");
    expect((await failure(client.send(new StartProjectVersionCommand({ ProjectVersionArn: version("models", "running"), MinInferenceUnits: 1 })))).name).toBe("ResourceInUseException");
    expect((await failure(client.send(new StartProjectVersionCommand({ ProjectVersionArn: version("models", "training"), MinInferenceUnits: 1 })))).name).toBe("ResourceInUseException");
    expect((await failure(client.send(new StartProjectVersionCommand({ ProjectVersionArn: version("models", "failed"), MinInferenceUnits: 1 })))).name).toBe("InvalidParameterException");
    expect((await describeVersion(project("models"), "failed"))?.Status).toBe("TRAINING_FAILED");
  });
});

describe("CopyProjectVersion", () => {
  const copy = (over: Partial<ConstructorParameters<typeof CopyProjectVersionCommand>[0]> = {}) =>
    client.send(
      new CopyProjectVersionCommand({
        SourceProjectArn: project("models"),
        SourceProjectVersionArn: version("models", "source"),
        DestinationProjectArn: project("target"),
        VersionName: "copy-1",
        OutputConfig: { S3Bucket: "bucket", S3KeyPrefix: "copies/" },
        ...over,
      }),
    );

  it("creates COPYING_IN_PROGRESS with SourceProjectVersionArn, COPYING_COMPLETED after copyDelayMs; the source is pinned meanwhile", async () => {
    const out = await copy({ Tags: { copied: "yes" } });
    expect(out.ProjectVersionArn).toBe(`arn:aws:rekognition:us-east-1:${ACCOUNT}:project/target/version/copy-1/${clock}`);
    expect(await describeVersion(project("target"), "copy-1")).toMatchObject({
      Status: "COPYING_IN_PROGRESS",
      SourceProjectVersionArn: version("models", "source"),
      Feature: "CUSTOM_LABELS",
    });
    expect((await client.send(new ListTagsForResourceCommand({ ResourceArn: out.ProjectVersionArn }))).Tags).toEqual({ copied: "yes" });
    // The source cannot go while its copy is in progress; the copy itself is busy too.
    expect((await failure(client.send(new DeleteProjectVersionCommand({ ProjectVersionArn: version("models", "source") })))).name).toBe("ResourceInUseException");
    expect((await failure(client.send(new DeleteProjectVersionCommand({ ProjectVersionArn: out.ProjectVersionArn })))).name).toBe("ResourceInUseException");
    clock += 4_000;
    expect((await describeVersion(project("target"), "copy-1"))?.Status).toBe("COPYING_COMPLETED");
  });

  it("copies within the same project too", async () => {
    const out = await copy({ DestinationProjectArn: project("models"), VersionName: "copy-same" });
    expect(out.ProjectVersionArn).toContain("project/models/version/copy-same/");
  });

  it("refuses adapters, other regions, other accounts, a taken name and an untrained source", async () => {
    const adapter = await failure(
      copy({ SourceProjectArn: project("adapter"), SourceProjectVersionArn: version("adapter", "a1"), DestinationProjectArn: project("adapter"), VersionName: "a2" }),
    );
    expect(adapter.name).toBe("InvalidParameterException");
    expect(adapter.message).toContain("adapters");
    const west = await failure(copy({ DestinationProjectArn: project("west", "us-west-2"), VersionName: "x" }));
    expect(west.name).toBe("InvalidParameterException");
    expect(west.message).toContain("within one region");
    const foreign = await failure(
      copy({ SourceProjectArn: project("theirs", "us-east-1", OTHER_ACCOUNT), SourceProjectVersionArn: version("theirs", "t1", "us-east-1", OTHER_ACCOUNT), VersionName: "x" }),
    );
    expect(foreign.name).toBe("AccessDeniedException");
    expect(foreign.message).toContain("project policy");
    expect((await failure(copy({ VersionName: "taken" }))).name).toBe("ResourceInUseException");
    expect((await failure(copy({ SourceProjectVersionArn: version("models", "failed"), VersionName: "x" }))).name).toBe("InvalidParameterException");
    const mismatch = await failure(copy({ SourceProjectVersionArn: version("target", "taken"), VersionName: "x" }));
    expect(mismatch.message).toContain("is not a version of SourceProjectArn");
    // None of the refusals created anything.
    const names = emu.snapshot().projects.find((p) => p.name === "target")!.versions!.map((v) => v.name);
    expect(names.sort()).toEqual(["copy-1", "taken"]);
  });
});

describe("updateVersion and PATCH /_emulator/versions", () => {
  it("changes status and tags as AWS would show them, dropping pending transitions", async () => {
    const arn = version("models", "trained");
    const out = emu.updateVersion(arn, { status: "STOPPED", tags: { owner: "ana", env: "prod" } });
    expect(out).toMatchObject({ name: "trained", status: "STOPPED", tags: { owner: "ana", env: "prod" } });
    clock += 10_000; // the start it had pending must not turn it RUNNING now
    expect((await describeVersion(project("models"), "trained"))?.Status).toBe("STOPPED");
    emu.updateVersion(arn, { removeTags: ["env"] });
    expect((await client.send(new ListTagsForResourceCommand({ ResourceArn: arn }))).Tags).toEqual({ owner: "ana" });
  });

  it("reaches versions of any account and region", () => {
    expect(emu.updateVersion(version("theirs", "t1", "us-east-1", OTHER_ACCOUNT), { status: "FAILED" }).status).toBe("FAILED");
    expect(emu.updateVersion(version("west", "w1", "us-west-2"), { status: "RUNNING" }).status).toBe("RUNNING");
  });

  it("refuses an unknown status, an impossible one, bad tags and unknown ARNs, naming the problem", () => {
    const arn = version("models", "stopped");
    expect(() => emu.updateVersion(arn, { status: "RUNNNING" as never })).toThrow(/status: "RUNNNING" is not one of the 14 version statuses \(TRAINING_IN_PROGRESS, /);
    expect(() => emu.updateVersion(version("adapter", "a1"), { status: "RUNNING" })).toThrow(/adapters \(CONTENT_MODERATION\) are never RUNNING/);
    expect(() => emu.updateVersion(arn, { status: "EXPIRED" })).toThrow(/only adapters/);
    expect(() => emu.updateVersion(arn, { tags: { "aws:x": "1" } })).toThrow(/must not start with "aws:"/);
    expect(() => emu.updateVersion(version("models", "ghost"), { status: "STOPPED" })).toThrow(/no version with ARN/);
  });

  it("over HTTP: 200 with the version, 400 naming the problem, 404 for an unknown ARN", async () => {
    const patch = (body: unknown) => fetch(`${emu.url}/_emulator/versions`, { method: "PATCH", body: JSON.stringify(body) });
    const ok = await patch({ arn: version("models", "failed"), status: "TRAINING_COMPLETED", tags: { k: "v" } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ name: "failed", status: "TRAINING_COMPLETED", tags: { k: "v" } });
    expect((await describeVersion(project("models"), "failed"))?.Status).toBe("TRAINING_COMPLETED");
    const bad = await patch({ arn: version("models", "failed"), status: "GONE" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain('status: "GONE" is not one of the 14');
    const unknownField = await patch({ arn: version("models", "failed"), colour: "red" });
    expect(((await unknownField.json()) as { message: string }).message).toContain("colour: unknown field");
    expect((await patch({ arn: version("models", "ghost"), status: "STOPPED" })).status).toBe(404);
    expect((await patch({ status: "STOPPED" })).status).toBe(400);
  });
});
