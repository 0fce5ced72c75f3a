// The real AWS SDK v3 client against the emulator over loopback HTTP. If the SDK cannot parse an answer or
// classifies an error differently from AWS, rekon's own AWS layer would be tested against a fiction.
import {
  DeleteProjectVersionCommand,
  DescribeProjectsCommand,
  DescribeProjectVersionsCommand,
  ListTagsForResourceCommand,
  RekognitionClient,
  StopProjectVersionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  paginateDescribeProjectVersions,
  type ProjectVersionDescription,
} from "@aws-sdk/client-rekognition";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import type { EmulatorStateFile } from "../../reconciler/emulator/state.js";
import { FAKE_CREDENTIALS, withEnv } from "./env.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

const ACCOUNT = "123456789012";
// A fixed clock: transitions and rate limits then depend only on what the test does, never on machine speed.
const START = Date.parse("2026-11-28T12:00:00Z");
let clock = START;

// Written out by hand rather than computed by emulator code, so the ARN format itself is under test.
const BIG_ARN = `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/big/1767225600000`; // 2026-01-01T00:00:00Z
const MODELS_ARN = `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/models/1767225600000`;
const modelArn = (name: string, ageMs: number) =>
  `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/models/version/${name}/${START - ageMs}`;
const HOUR = 3_600_000;

// 250 versions in groups of three sharing one creation time, so page boundaries (100, 200) fall inside
// a tie and the tie-break must keep the order total. Expected newest-first order is big-000 … big-249.
const bigVersions = Array.from({ length: 250 }, (_, i) => ({
  name: `big-${String(i).padStart(3, "0")}`,
  status: "STOPPED" as const,
  age: `${Math.floor(i / 3)}m`,
}));

const seed: EmulatorStateFile = {
  account: ACCOUNT,
  projects: [
    { name: "big", createdAt: "2026-01-01T00:00:00Z", versions: bigVersions },
    {
      name: "models",
      createdAt: "2026-01-01T00:00:00Z",
      tags: { team: "risk" },
      versions: [
        { name: "running", status: "RUNNING", age: "1h" },
        { name: "running-2", status: "RUNNING", age: "2h" },
        { name: "stopped-a", status: "STOPPED", age: "3h" },
        { name: "stopped-b", status: "STOPPED", age: "4h" },
        { name: "failed", status: "TRAINING_FAILED", age: "5h" },
        { name: "tagged", status: "TRAINING_COMPLETED", age: "6h", tags: { keep: "yes" } },
        { name: "copy", status: "COPYING_COMPLETED", age: "7h", sourceVersion: "stopped-b" },
      ],
    },
    {
      name: "adapter",
      feature: "CONTENT_MODERATION",
      createdAt: "2026-02-01T00:00:00Z",
      versions: [{ name: "a1", status: "EXPIRED", age: "10d" }],
    },
    { name: "west-only", region: "us-west-2", versions: [{ name: "w1", status: "STOPPED", age: "1d" }] },
  ],
};

let emu: Emulator;
let client: RekognitionClient;

function clientFor(region: string, endpoint?: string): RekognitionClient {
  return new RekognitionClient({
    region,
    ...(endpoint ? { endpoint } : {}),
    credentials: FAKE_CREDENTIALS,
    maxAttempts: 1, // one attempt, so every error the emulator sends reaches the test as-is
  });
}

async function caught(p: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { $metadata?: { httpStatusCode?: number } };
  }
  throw new Error("expected the call to fail");
}

async function versionsNamed(projectArn: string, ...names: string[]): Promise<ProjectVersionDescription[]> {
  const out = await client.send(new DescribeProjectVersionsCommand({ ProjectArn: projectArn, VersionNames: names }));
  return out.ProjectVersionDescriptions ?? [];
}

beforeAll(async () => {
  emu = await startEmulator({ state: seed, now: () => clock, deleteDelayMs: 5_000, stopDelayMs: 2_000 });
  client = clientFor("us-east-1", emu.url);
});

afterAll(async () => {
  client?.destroy();
  await emu?.close();
});

describe("DescribeProjects", () => {
  it("hides adapter projects unless Features asks for them", async () => {
    const none = await client.send(new DescribeProjectsCommand({}));
    expect(none.ProjectDescriptions?.map((p) => p.ProjectArn)).toEqual([BIG_ARN, MODELS_ARN]);

    const both = await client.send(new DescribeProjectsCommand({ Features: ["CUSTOM_LABELS", "CONTENT_MODERATION"] }));
    const adapter = both.ProjectDescriptions?.find((p) => p.Feature === "CONTENT_MODERATION");
    expect(both.ProjectDescriptions).toHaveLength(3);
    expect(adapter?.ProjectArn).toBe(`arn:aws:rekognition:us-east-1:${ACCOUNT}:project/adapter/1769904000000`);
    expect(adapter?.CreationTimestamp).toEqual(new Date("2026-02-01T00:00:00Z"));
    expect(adapter?.Status).toBe("CREATED");
  });

  it("filters by ProjectNames and rejects an empty list", async () => {
    const out = await client.send(new DescribeProjectsCommand({ ProjectNames: ["models", "no-such"] }));
    expect(out.ProjectDescriptions?.map((p) => p.ProjectArn)).toEqual([MODELS_ARN]);
    const err = await caught(client.send(new DescribeProjectsCommand({ ProjectNames: [] })));
    expect(err.name).toBe("InvalidParameterException");
  });

  it("isolates regions by the SigV4 credential scope", async () => {
    const west = clientFor("us-west-2", emu.url);
    try {
      const out = await west.send(new DescribeProjectsCommand({ Features: ["CUSTOM_LABELS", "CONTENT_MODERATION"] }));
      expect(out.ProjectDescriptions?.map((p) => p.ProjectArn)).toEqual([
        expect.stringMatching(/^arn:aws:rekognition:us-west-2:123456789012:project\/west-only\/\d+$/),
      ]);
      const err = await caught(west.send(new DescribeProjectVersionsCommand({ ProjectArn: MODELS_ARN })));
      expect(err.name).toBe("ResourceNotFoundException");
    } finally {
      west.destroy();
    }
  });

  it("is reachable through AWS_ENDPOINT_URL_REKOGNITION with no endpoint in code", async () => {
    const before = emu.callCount("DescribeProjects");
    await withEnv({ AWS_ENDPOINT_URL_REKOGNITION: emu.url, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: undefined }, async () => {
      const viaEnv = clientFor("us-east-1");
      try {
        const out = await viaEnv.send(new DescribeProjectsCommand({ ProjectNames: ["big"] }));
        expect(out.ProjectDescriptions?.[0]?.ProjectArn).toBe(BIG_ARN);
      } finally {
        viaEnv.destroy();
      }
    });
    expect(emu.callCount("DescribeProjects")).toBe(before + 1);
  });
});

describe("DescribeProjectVersions", () => {
  it("pages 250 versions newest first with the SDK paginator, none repeated", async () => {
    const pages: number[] = [];
    const names: string[] = [];
    for await (const page of paginateDescribeProjectVersions({ client, pageSize: 100 }, { ProjectArn: BIG_ARN })) {
      pages.push(page.ProjectVersionDescriptions?.length ?? 0);
      for (const v of page.ProjectVersionDescriptions ?? []) names.push(v.ProjectVersionArn?.split("/")[3] ?? "");
      if (pages.length > 10) break; // a token that never ends must fail this test, not hang it
    }
    expect(pages).toEqual([100, 100, 50]);
    expect(names).toEqual(bigVersions.map((v) => v.name));
    expect(new Set(names).size).toBe(250);
  });

  it("filters by VersionNames and describes copies", async () => {
    const out = await versionsNamed(MODELS_ARN, "copy", "tagged", "absent");
    expect(out.map((v) => v.ProjectVersionArn)).toEqual([modelArn("tagged", 6 * HOUR), modelArn("copy", 7 * HOUR)]);
    expect(out[1]).toMatchObject({
      Status: "COPYING_COMPLETED",
      Feature: "CUSTOM_LABELS",
      SourceProjectVersionArn: modelArn("stopped-b", 4 * HOUR),
      CreationTimestamp: new Date(START - 7 * HOUR),
    });
  });

  it("describes adapters with their base model", async () => {
    const projects = await client.send(new DescribeProjectsCommand({ Features: ["CONTENT_MODERATION"] }));
    const arn = projects.ProjectDescriptions?.[0]?.ProjectArn ?? "";
    const out = await client.send(new DescribeProjectVersionsCommand({ ProjectArn: arn }));
    expect(out.ProjectVersionDescriptions?.[0]).toMatchObject({ Feature: "CONTENT_MODERATION", Status: "EXPIRED", BaseModelVersion: "7.0" });
  });

  it("rejects a garbage NextToken and a token from another query", async () => {
    const garbage = await caught(client.send(new DescribeProjectVersionsCommand({ ProjectArn: BIG_ARN, NextToken: "not-a-token" })));
    expect(garbage.name).toBe("InvalidPaginationTokenException");

    const first = await client.send(new DescribeProjectVersionsCommand({ ProjectArn: BIG_ARN, MaxResults: 2 }));
    expect(first.NextToken).toBeTruthy();
    const replayed = await caught(
      client.send(new DescribeProjectVersionsCommand({ ProjectArn: MODELS_ARN, MaxResults: 2, NextToken: first.NextToken })),
    );
    expect(replayed.name).toBe("InvalidPaginationTokenException");
  });

  it("answers ResourceNotFoundException for an unknown project and InvalidParameter for MaxResults 0", async () => {
    const err = await caught(
      client.send(new DescribeProjectVersionsCommand({ ProjectArn: `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/nope/1` })),
    );
    expect(err.name).toBe("ResourceNotFoundException");
    const bad = await caught(client.send(new DescribeProjectVersionsCommand({ ProjectArn: BIG_ARN, MaxResults: 0 })));
    expect(bad.name).toBe("InvalidParameterException");
  });
});

describe("DeleteProjectVersion", () => {
  it("goes DELETING, repeats idempotently, then the version is gone after the delay", async () => {
    const arn = modelArn("stopped-a", 3 * HOUR);
    expect((await client.send(new DeleteProjectVersionCommand({ ProjectVersionArn: arn }))).Status).toBe("DELETING");
    expect((await versionsNamed(MODELS_ARN, "stopped-a"))[0]?.Status).toBe("DELETING");
    expect((await client.send(new DeleteProjectVersionCommand({ ProjectVersionArn: arn }))).Status).toBe("DELETING");

    clock += 4_999;
    expect(await versionsNamed(MODELS_ARN, "stopped-a")).toHaveLength(1);
    clock += 1;
    expect(await versionsNamed(MODELS_ARN, "stopped-a")).toHaveLength(0);
    const again = await caught(client.send(new DeleteProjectVersionCommand({ ProjectVersionArn: arn })));
    expect(again.name).toBe("ResourceNotFoundException");
  });

  it("refuses a RUNNING version with ResourceInUseException and leaves it running", async () => {
    const err = await caught(client.send(new DeleteProjectVersionCommand({ ProjectVersionArn: modelArn("running", HOUR) })));
    expect(err.name).toBe("ResourceInUseException");
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect((await versionsNamed(MODELS_ARN, "running"))[0]?.Status).toBe("RUNNING");
  });

  it("answers ResourceNotFoundException for an unknown version ARN", async () => {
    const err = await caught(client.send(new DeleteProjectVersionCommand({ ProjectVersionArn: modelArn("ghost", 1) })));
    expect(err.name).toBe("ResourceNotFoundException");
  });
});

describe("StopProjectVersion", () => {
  it("goes RUNNING → STOPPING → STOPPED after the delay", async () => {
    const arn = modelArn("running-2", 2 * HOUR);
    expect((await client.send(new StopProjectVersionCommand({ ProjectVersionArn: arn }))).Status).toBe("STOPPING");
    expect((await versionsNamed(MODELS_ARN, "running-2"))[0]?.Status).toBe("STOPPING");
    const busy = await caught(client.send(new DeleteProjectVersionCommand({ ProjectVersionArn: arn })));
    expect(busy.name).toBe("ResourceInUseException");
    clock += 2_000;
    expect((await versionsNamed(MODELS_ARN, "running-2"))[0]?.Status).toBe("STOPPED");
  });

  it("refuses a version that is not running", async () => {
    const err = await caught(client.send(new StopProjectVersionCommand({ ProjectVersionArn: modelArn("failed", 5 * HOUR) })));
    expect(err.name).toBe("InvalidParameterException");
  });
});

describe("tags", () => {
  it("round-trips on versions and projects", async () => {
    const arn = modelArn("tagged", 6 * HOUR);
    await client.send(new TagResourceCommand({ ResourceArn: arn, Tags: { owner: "ana", tier: "gold" } }));
    await client.send(new UntagResourceCommand({ ResourceArn: arn, TagKeys: ["tier"] }));
    const tags = await client.send(new ListTagsForResourceCommand({ ResourceArn: arn }));
    expect(tags.Tags).toEqual({ keep: "yes", owner: "ana" });
    const project = await client.send(new ListTagsForResourceCommand({ ResourceArn: MODELS_ARN }));
    expect(project.Tags).toEqual({ team: "risk" });
  });

  it("enforces the tag rules and unknown ARNs", async () => {
    const arn = modelArn("tagged", 6 * HOUR);
    const reserved = await caught(client.send(new TagResourceCommand({ ResourceArn: arn, Tags: { "aws:x": "1" } })));
    expect(reserved.name).toBe("InvalidParameterException");
    const many = Object.fromEntries(Array.from({ length: 199 }, (_, i) => [`k${i}`, "v"]));
    const tooMany = await caught(client.send(new TagResourceCommand({ ResourceArn: arn, Tags: many })));
    expect(tooMany.name).toBe("ServiceQuotaExceededException"); // 2 existing + 199 > 200: the resource's quota
    const missing = await caught(client.send(new ListTagsForResourceCommand({ ResourceArn: modelArn("ghost", 1) })));
    expect(missing.name).toBe("ResourceNotFoundException");
  });
});

describe("protocol", () => {
  // The emulator checks the signature's date against the real clock (not the frozen model clock above).
  const amzDate = () => new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const signed = () => ({
    Authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/${amzDate().slice(0, 8)}/us-east-1/rekognition/aws4_request, SignedHeaders=host;x-amz-date, Signature=00`,
    "X-Amz-Date": amzDate(),
  });
  const post = (headers: Record<string, string>, body: string) =>
    fetch(`${emu.url}/`, { method: "POST", headers: { "Content-Type": "application/x-amz-json-1.1", ...headers }, body });

  it("rejects a request without SigV4 authorization with 403, as AWS's front door does", async () => {
    const res = await post({ "X-Amz-Target": "RekognitionService.DescribeProjects" }, "{}");
    expect(res.status).toBe(403);
    expect(res.headers.get("x-amzn-requestid")).toMatch(/^[0-9a-f-]{36}$/);
    expect(await res.json()).toEqual({ __type: "MissingAuthenticationTokenException", message: "Missing Authentication Token" });
    expect(emu.calls().at(-1)).toMatchObject({ operation: "DescribeProjects", outcome: "MissingAuthenticationTokenException", status: 403 });
  });

  it("answers UnknownOperationException and SerializationException with __type bodies", async () => {
    const unknown = await post({ ...signed(), "X-Amz-Target": "RekognitionService.DetectDragons" }, "{}");
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { __type: string }).__type).toBe("UnknownOperationException");
    const garbled = await post({ ...signed(), "X-Amz-Target": "RekognitionService.DescribeProjects" }, "{not json");
    expect(garbled.headers.get("content-type")).toBe("application/x-amz-json-1.1");
    expect(((await garbled.json()) as { __type: string }).__type).toBe("SerializationException");
  });
});

describe("faults and the call log", () => {
  it("rate-limits per operation with ThrottlingException the SDK recognises, without mutating", async () => {
    emu.setFaults({ rateLimits: { DeleteProjectVersion: 1 } });
    try {
      // The clock is frozen, so the bucket holds exactly one token: a delete we expect to be refused.
      const refused = await caught(client.send(new DeleteProjectVersionCommand({ ProjectVersionArn: modelArn("ghost", 1) })));
      expect(refused.name).toBe("ResourceNotFoundException");
      const arn = modelArn("failed", 5 * HOUR);
      const err = await caught(client.send(new DeleteProjectVersionCommand({ ProjectVersionArn: arn })));
      expect(err.name).toBe("ThrottlingException");
      // The model marks ThrottlingException a server fault: HTTP 500, which the SDK also sees as a server fault.
      expect(err.$metadata?.httpStatusCode).toBe(500);
      expect((await versionsNamed(MODELS_ARN, "failed"))[0]?.Status).toBe("TRAINING_FAILED");
      expect(emu.calls().at(-2)).toMatchObject({ operation: "DeleteProjectVersion", target: arn, outcome: "ThrottlingException" });
      clock += 1_000; // one second refills one token
      expect((await client.send(new DeleteProjectVersionCommand({ ProjectVersionArn: arn }))).Status).toBe("DELETING");
    } finally {
      emu.setFaults({});
    }
  });

  it("answers InternalServerError with HTTP 500 at errorRate 1, and throttles at throttleRate 1", async () => {
    emu.setFaults({ errorRate: { "*": 1 } });
    try {
      const err = await caught(client.send(new DescribeProjectsCommand({})));
      expect(err.name).toBe("InternalServerError");
      expect(err.$metadata?.httpStatusCode).toBe(500);
      emu.setFaults({ throttleRate: { DescribeProjects: 1 } });
      expect((await caught(client.send(new DescribeProjectsCommand({})))).name).toBe("ThrottlingException");
      expect((await client.send(new ListTagsForResourceCommand({ ResourceArn: MODELS_ARN }))).Tags).toBeDefined();
    } finally {
      emu.setFaults({});
    }
  });

  it("adds the configured latency, and a seed makes probabilistic faults repeatable", async () => {
    emu.setFaults({ latencyMs: { min: 60, max: 60 } });
    try {
      const t0 = performance.now();
      await client.send(new DescribeProjectsCommand({}));
      expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
    } finally {
      emu.setFaults({});
    }
    const outcomes = async () => {
      emu.setFaults({ throttleRate: { "*": 0.5 }, seed: 42 });
      const seen: string[] = [];
      for (let i = 0; i < 12; i++) {
        seen.push(await client.send(new ListTagsForResourceCommand({ ResourceArn: MODELS_ARN })).then(() => "ok", (e: Error) => e.name));
      }
      emu.setFaults({});
      return seen;
    };
    const first = await outcomes();
    expect(first).toContain("ok");
    expect(first).toContain("ThrottlingException");
    expect(await outcomes()).toEqual(first);
  });

  it("records every call in order, and serves the log and faults over HTTP", async () => {
    emu.resetCalls();
    await client.send(new DescribeProjectsCommand({}));
    await caught(client.send(new DeleteProjectVersionCommand({ ProjectVersionArn: modelArn("running", HOUR) })));
    expect(emu.callCount()).toBe(2);
    expect(emu.callCount("DeleteProjectVersion", "ResourceInUseException")).toBe(1);
    const calls = emu.calls();
    expect(calls[0]).toMatchObject({ operation: "DescribeProjects", region: "us-east-1", outcome: "ok", status: 200, time: clock });
    expect(calls[1]!.seq).toBeGreaterThan(calls[0]!.seq);

    const overHttp = (await (await fetch(`${emu.url}/_emulator/calls`)).json()) as unknown[];
    expect(overHttp).toEqual(calls);
    const put = await fetch(`${emu.url}/_emulator/faults`, { method: "PUT", body: JSON.stringify({ errorRate: { "*": 1 } }) });
    expect(put.status).toBe(204);
    try {
      expect((await caught(client.send(new DescribeProjectsCommand({})))).name).toBe("InternalServerError");
    } finally {
      await fetch(`${emu.url}/_emulator/faults`, { method: "PUT", body: "{}" });
    }
    const badFaults = await fetch(`${emu.url}/_emulator/faults`, { method: "PUT", body: JSON.stringify({ errorRate: { "*": 2 } }) });
    expect(badFaults.status).toBe(400);
    expect((await fetch(`${emu.url}/_emulator/reset-calls`, { method: "POST" })).status).toBe(204);
    expect(emu.callCount()).toBe(0);
    const state = (await (await fetch(`${emu.url}/_emulator/state`)).json()) as EmulatorStateFile;
    expect(state.projects.map((p) => p.name)).toEqual(["big", "models", "adapter", "west-only"]);
  });
});
