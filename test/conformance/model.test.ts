// The emulator held to the AWS service models (botocore's, in ./model): for every operation it serves, every
// input constraint broken by a signed request is refused with a validation error before any lookup, every
// success answer fits the operation's output shape, and every error an operation rekon calls can get is
// producible on demand with the status and class the real SDK expects.
import {
  DeleteProjectVersionCommand,
  DescribeProjectsCommand,
  DescribeProjectVersionsCommand,
  ListTagsForResourceCommand,
  RekognitionClient,
  StopProjectVersionCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from "@aws-sdk/client-rekognition";
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVED_OPERATIONS, startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import type { EmulatorStateFile } from "../../reconciler/emulator/state.js";
import { CREDENTIALS, rekognitionCall, stsCall } from "./aws-http.js";
import { baseRequest, constraintCases, loadModel, outputProblems, toQuery, xmlToObject, type ConstraintCase, type Model } from "./model.js";

const REKOGNITION = loadModel("rekognition-2016-06-27.json");
const STS = loadModel("sts-2011-06-15.json");
const ACCOUNT = "123456789012";
const T0 = Date.parse("2026-01-01T00:00:00Z");
const projectArn = (name: string) => `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/${name}/${T0}`;
const versionArn = (project: string, name: string) => `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/${project}/version/${name}/${T0}`;

const at = "2026-01-01T00:00:00Z";
const seed: EmulatorStateFile = {
  account: ACCOUNT,
  projects: [
    {
      name: "models",
      createdAt: at,
      tags: { team: "risk" },
      versions: [
        { name: "running", status: "RUNNING", createdAt: at, minInferenceUnits: 2, maxInferenceUnits: 4, tags: { serving: "true" } },
        { name: "stopped", status: "STOPPED", createdAt: at, description: "a stopped model" },
        { name: "copy", status: "COPYING_COMPLETED", createdAt: at, sourceVersion: "stopped" },
        { name: "failed", status: "TRAINING_FAILED", createdAt: at },
        { name: "trained", status: "TRAINING_COMPLETED", createdAt: at },
      ],
    },
    { name: "target", createdAt: at },
    {
      name: "adapter",
      feature: "CONTENT_MODERATION",
      autoUpdate: "ENABLED",
      createdAt: at,
      versions: [
        { name: "a1", status: "EXPIRED", createdAt: at },
        { name: "a2", status: "TRAINING_COMPLETED", createdAt: at, baseModelVersion: "7.0" },
      ],
    },
  ],
};

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ state: seed, deleteDelayMs: 60_000, stopDelayMs: 60_000, startDelayMs: 60_000, copyDelayMs: 60_000 });
});
afterAll(async () => {
  await emu?.close();
});

const rekognitionOps = Object.keys(REKOGNITION.operations);
const stsOps = Object.keys(STS.operations);
const camel = (name: string) => name.charAt(0).toLowerCase() + name.slice(1);

/** The code AWS answers a broken constraint with: see docs/emulator.md, "Held to AWS", for why. */
function expectedCode(model: Model, c: ConstraintCase): string {
  if (model === STS) return "ValidationError";
  if (c.kind === "type") return "SerializationException";
  if (c.member === "MaxResults" && c.kind === "max") return "ValidationException";
  return "InvalidParameterException";
}

const CONSTRAINT_WORDS: Record<string, string> = {
  required: "Member must not be null",
  min: "greater than or equal to",
  max: "less than or equal to",
  pattern: "regular expression pattern",
  enum: "enum value set",
  type: "must be",
};

describe("the models cover what the emulator serves", () => {
  it("every operation the emulator serves is in a model, and the other way round", () => {
    expect([...rekognitionOps, ...stsOps].sort()).toEqual([...SERVED_OPERATIONS].sort());
  });
});

describe("input constraints: a request breaking one is refused with a validation error, before any lookup", () => {
  const cases = [...rekognitionOps.flatMap((op) => constraintCases(REKOGNITION, op)), ...stsOps.flatMap((op) => constraintCases(STS, op))];

  it("the well-formed base requests pass validation (and so reach the lookup: not found, or success)", async () => {
    const outcomes: Record<string, string> = {};
    for (const op of rekognitionOps) {
      const res = await rekognitionCall(emu.url, op, baseRequest(REKOGNITION, op));
      outcomes[op] = res.status === 200 ? "ok" : String(res.json?.__type);
    }
    expect(outcomes).toEqual({
      DescribeProjects: "ok",
      DescribeProjectVersions: "ResourceNotFoundException",
      DeleteProjectVersion: "ResourceNotFoundException",
      StopProjectVersion: "ResourceNotFoundException",
      StartProjectVersion: "ResourceNotFoundException",
      CopyProjectVersion: "ResourceNotFoundException",
      ListTagsForResource: "ResourceNotFoundException",
      TagResource: "ResourceNotFoundException",
      UntagResource: "ResourceNotFoundException",
    });
  });

  it(`every constraint of every operation (${cases.length} cases) gets the validation error, naming the member`, async () => {
    const perOp = new Map<string, number>();
    const wrong: string[] = [];
    for (const c of cases) {
      const model = stsOps.includes(c.operation) ? STS : REKOGNITION;
      const res =
        model === STS ? await stsCall(emu.url, toQuery(c.operation, "2011-06-15", c.request)) : await rekognitionCall(emu.url, c.operation, c.request);
      const code = model === STS ? (/<Code>([^<]+)<\/Code>/.exec(res.text)?.[1] ?? "(none)") : String(res.json?.__type);
      const message = model === STS ? (/<Message>([^<]*)<\/Message>/.exec(res.text)?.[1] ?? "") : String(res.json?.Message ?? res.json?.message ?? "");
      const expected = expectedCode(model, c);
      const namesMember = message.includes(camel(c.member)) || message.includes(c.member);
      if (res.status !== 400 || code !== expected || !namesMember || !message.includes(CONSTRAINT_WORDS[c.kind]!)) {
        wrong.push(`${c.operation} ${c.path} (${c.kind}): got ${res.status} ${code} "${message.slice(0, 160)}", expected 400 ${expected}`);
      }
      perOp.set(c.operation, (perOp.get(c.operation) ?? 0) + 1);
    }
    const kinds = cases.reduce<Record<string, number>>((acc, c) => ((acc[c.kind] = (acc[c.kind] ?? 0) + 1), acc), {});
    console.log(
      `conformance: ${perOp.size} operations × ${cases.length} input constraints checked (${[...perOp].map(([op, n]) => `${op} ${n}`).join(", ")}; by kind: ${Object.entries(kinds)
        .map(([k, n]) => `${k} ${n}`)
        .join(", ")})`,
    );
    expect(wrong).toEqual([]);
    // Every served operation with input members has cases; a model that failed to load would have none.
    expect([...perOp.keys()].sort()).toEqual([...rekognitionOps, "AssumeRole"].sort());
    expect(cases.length).toBeGreaterThan(150);
  });

  it("a short or malformed ARN is a validation error, never ResourceNotFound", async () => {
    for (const [op, member] of [
      ["DescribeProjectVersions", "ProjectArn"],
      ["DeleteProjectVersion", "ProjectVersionArn"],
      ["ListTagsForResource", "ResourceArn"],
    ] as const) {
      for (const bad of ["arn:aws:short", "not-an-arn-but-long-enough-to-pass-length"]) {
        const res = await rekognitionCall(emu.url, op, { [member]: bad });
        expect({ op, bad, code: res.json?.__type }).toEqual({ op, bad, code: "InvalidParameterException" });
      }
    }
  });
});

describe("success answers fit the model's output shapes, with no extra members", () => {
  it("every served operation, over the kinds of answer the seed allows", async () => {
    const checks: [string, Record<string, unknown>][] = [
      ["DescribeProjects", {}],
      ["DescribeProjects", { Features: ["CUSTOM_LABELS", "CONTENT_MODERATION"] }],
      ["DescribeProjects", { ProjectNames: ["models"], MaxResults: 1 }],
      ["DescribeProjectVersions", { ProjectArn: projectArn("models") }],
      ["DescribeProjectVersions", { ProjectArn: projectArn("models"), MaxResults: 2 }],
      ["DescribeProjectVersions", { ProjectArn: projectArn("adapter") }],
      ["ListTagsForResource", { ResourceArn: projectArn("models") }],
      ["ListTagsForResource", { ResourceArn: versionArn("models", "running") }],
      ["TagResource", { ResourceArn: versionArn("models", "stopped"), Tags: { owner: "ana" } }],
      ["UntagResource", { ResourceArn: versionArn("models", "stopped"), TagKeys: ["owner"] }],
      ["StopProjectVersion", { ProjectVersionArn: versionArn("models", "running") }],
      ["StartProjectVersion", { ProjectVersionArn: versionArn("models", "trained"), MinInferenceUnits: 1, MaxInferenceUnits: 2 }],
      [
        "CopyProjectVersion",
        {
          SourceProjectArn: projectArn("models"),
          SourceProjectVersionArn: versionArn("models", "stopped"),
          DestinationProjectArn: projectArn("target"),
          VersionName: "copied",
          OutputConfig: { S3Bucket: "bucket", S3KeyPrefix: "out/" },
        },
      ],
      ["DeleteProjectVersion", { ProjectVersionArn: versionArn("models", "failed") }],
      // After the transitions above: STOPPING, STARTING, DELETING and a copy in progress, all described.
      ["DescribeProjectVersions", { ProjectArn: projectArn("models") }],
      ["DescribeProjectVersions", { ProjectArn: projectArn("target") }],
    ];
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const [op, body] of checks) {
      const res = await rekognitionCall(emu.url, op, body);
      if (res.status !== 200) {
        problems.push(`${op} ${JSON.stringify(body)}: ${res.status} ${res.text}`);
        continue;
      }
      expect(res.headers.get("content-type")).toBe("application/x-amz-json-1.1");
      problems.push(...outputProblems(REKOGNITION, REKOGNITION.operations[op]!.output!.shape, res.json).map((p) => `${op}: ${p}`));
      seen.add(op);
    }
    // STS answers are XML: their result element must fit the output shape too.
    for (const [action, params] of [
      ["AssumeRole", { RoleArn: "arn:aws:iam::210987654321:role/reader", RoleSessionName: "conformance" }],
      ["GetCallerIdentity", {}],
    ] as const) {
      const res = await stsCall(emu.url, toQuery(action, "2011-06-15", params));
      expect(res.status).toBe(200);
      const doc = xmlToObject(res.text);
      const result = (doc[`${action}Response`] as Record<string, unknown>)[`${action}Result`];
      problems.push(...outputProblems(STS, STS.operations[action]!.output!.shape, result).map((p) => `${action}: ${p}`));
      seen.add(action);
    }
    expect(problems).toEqual([]);
    expect([...seen].sort()).toEqual([...SERVED_OPERATIONS].sort());
    // The check can fail: an extra member is caught.
    expect(outputProblems(REKOGNITION, "DeleteProjectVersionResponse", { Status: "DELETING", Extra: 1 })).toEqual([
      "$.Extra: not a member of DeleteProjectVersionResponse (members: Status)",
    ]);
  });
});

describe("every modeled error of the operations rekon calls is producible on demand", () => {
  // The operations rekon's AWS layer calls; their model error lists are what it must handle.
  const REKON_CALLS = ["DescribeProjects", "DescribeProjectVersions", "ListTagsForResource", "TagResource", "UntagResource", "DeleteProjectVersion", "StopProjectVersion"];
  const arn = versionArn("models", "stopped");
  const calls: Record<string, () => unknown> = {
    DescribeProjects: () => new DescribeProjectsCommand({}),
    DescribeProjectVersions: () => new DescribeProjectVersionsCommand({ ProjectArn: projectArn("models") }),
    ListTagsForResource: () => new ListTagsForResourceCommand({ ResourceArn: arn }),
    TagResource: () => new TagResourceCommand({ ResourceArn: arn, Tags: { a: "b" } }),
    UntagResource: () => new UntagResourceCommand({ ResourceArn: arn, TagKeys: ["a"] }),
    DeleteProjectVersion: () => new DeleteProjectVersionCommand({ ProjectVersionArn: arn }),
    StopProjectVersion: () => new StopProjectVersionCommand({ ProjectVersionArn: arn }),
  };

  /** The wire code, HTTP status and SDK fault class the model implies for an error shape. */
  function implied(model: Model, shape: string) {
    const s = model.shapes[shape]!;
    const status = s.error?.httpStatusCode ?? (s.fault ? 500 : 400);
    return { code: s.error?.code ?? shape, status, fault: s.fault || status >= 500 ? "server" : "client" };
  }

  it("Rekognition: each error of each operation, with the SDK's class, the model's status and fault", async () => {
    const client = new RekognitionClient({ region: "us-east-1", endpoint: emu.url, credentials: CREDENTIALS, maxAttempts: 1 });
    const wrong: string[] = [];
    let checked = 0;
    try {
      for (const op of REKON_CALLS) {
        for (const { shape } of REKOGNITION.operations[op]!.errors ?? []) {
          const want = implied(REKOGNITION, shape);
          emu.setFaults({ rules: [{ operation: op, code: want.code }] });
          const err = (await client.send(calls[op]!() as never).then(
            () => undefined,
            (e: unknown) => e,
          )) as { name?: string; $fault?: string; $metadata?: { httpStatusCode?: number } } | undefined;
          const got = { name: err?.name, status: err?.$metadata?.httpStatusCode, fault: err?.$fault };
          if (got.name !== shape || got.status !== want.status || got.fault !== want.fault) wrong.push(`${op} ${shape}: got ${JSON.stringify(got)}, want ${JSON.stringify({ ...want, name: shape })}`);
          checked++;
        }
      }
    } finally {
      emu.setFaults({});
      client.destroy();
    }
    console.log(`conformance: ${checked} (operation, modeled error) pairs produced through the SDK for ${REKON_CALLS.length} operations`);
    expect(wrong).toEqual([]);
    expect(checked).toBe(REKON_CALLS.reduce((n, op) => n + (REKOGNITION.operations[op]!.errors?.length ?? 0), 0));
    expect(checked).toBeGreaterThanOrEqual(45);
  });

  it("STS: each AssumeRole error with its model code and status; GetCallerIdentity models none but still takes rules", async () => {
    const sts = new STSClient({ region: "us-east-1", endpoint: emu.url, credentials: CREDENTIALS, maxAttempts: 1 });
    const wrong: string[] = [];
    try {
      const errors = STS.operations.AssumeRole!.errors ?? [];
      expect(errors.map((e) => e.shape).sort()).toEqual(["ExpiredTokenException", "MalformedPolicyDocumentException", "PackedPolicyTooLargeException", "RegionDisabledException"]);
      for (const { shape } of errors) {
        const want = implied(STS, shape);
        emu.setFaults({ rules: [{ operation: "AssumeRole", code: want.code }] });
        const err = (await sts.send(new AssumeRoleCommand({ RoleArn: "arn:aws:iam::210987654321:role/r", RoleSessionName: "s1" })).catch((e: unknown) => e)) as {
          name?: string;
          $metadata?: { httpStatusCode?: number };
        };
        if (err?.name !== shape || err.$metadata?.httpStatusCode !== want.status) wrong.push(`AssumeRole ${shape}: got ${err?.name} ${err?.$metadata?.httpStatusCode}, want ${want.status}`);
      }
      emu.setFaults({ rules: [{ operation: "GetCallerIdentity", code: "AccessDenied" }] });
      const denied = (await sts.send(new GetCallerIdentityCommand({})).catch((e: unknown) => e)) as { name?: string; $metadata?: { httpStatusCode?: number } };
      expect({ name: denied.name, status: denied.$metadata?.httpStatusCode }).toEqual({ name: "AccessDenied", status: 403 });
    } finally {
      emu.setFaults({});
      sts.destroy();
    }
    expect(wrong).toEqual([]);
  });
});
