// The answer check (reconciler/aws/answers.ts): for every operation rekon calls, a well-formed answer passes;
// each member rekon or the model needs, removed, fails naming its JSON path; each member of the wrong type
// fails naming its path; an unknown enum value passes. Then how the failure is classified (retry.ts), and
// what the client does with a malformed 200 through the real SDK, against a raw HTTP server: the checker's
// path and the SDK-throws path both end as one terminal MalformedAnswer failure (a read) or `unknown` (a write).
import { DeleteProjectVersionCommand, DescribeProjectVersionsCommand, ListTagsForResourceCommand } from "@aws-sdk/client-rekognition";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { answerProblems, MalformedAnswerError, MUST_HAVE_SHAPES } from "../../reconciler/aws/answers.js";
import { createClient } from "../../reconciler/aws/client.js";
import { REKOGNITION_OUTPUTS, STS_OUTPUTS } from "../../reconciler/aws/model.js";
import { classify, errorCode, mayHaveRun, toAwsCallError, type RetryOptions } from "../../reconciler/aws/retry.js";

const ACCOUNT = "123456789012";
const PROJECT = `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/p/1767225600000`;
const VERSION = `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/p/version/v1/1767225600000`;
const AT = new Date("2026-01-01T00:00:00Z");
const s3 = () => ({ Bucket: "bucket", Name: "manifests/train.json", Version: "1" });

/** A full answer per operation, as the SDK hands it to rekon (timestamps as Dates, no $metadata needed). */
const GOOD: Record<string, Record<string, unknown>> = {
  DescribeProjects: {
    ProjectDescriptions: [
      {
        ProjectArn: PROJECT,
        CreationTimestamp: AT,
        Status: "CREATED",
        Datasets: [
          {
            CreationTimestamp: AT,
            DatasetType: "TRAIN",
            DatasetArn: `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/p/dataset/train/1767225600000`,
            Status: "CREATE_COMPLETE",
            StatusMessage: "ok",
            StatusMessageCode: "SUCCESS",
          },
        ],
        Feature: "CUSTOM_LABELS",
        AutoUpdate: "DISABLED",
      },
    ],
    NextToken: "token",
  },
  DescribeProjectVersions: {
    ProjectVersionDescriptions: [
      {
        ProjectVersionArn: VERSION,
        CreationTimestamp: AT,
        MinInferenceUnits: 1,
        Status: "STOPPED",
        StatusMessage: "The model is stopped.",
        BillableTrainingTimeInSeconds: 3600,
        TrainingEndTimestamp: AT,
        OutputConfig: { S3Bucket: "bucket", S3KeyPrefix: "out/" },
        TrainingDataResult: { Input: { Assets: [{ GroundTruthManifest: { S3Object: s3() } }] } },
        TestingDataResult: { Input: { Assets: [], AutoCreate: true } },
        EvaluationResult: { F1Score: 0.9, Summary: { S3Object: s3() } },
        KmsKeyId: "key-1",
        MaxInferenceUnits: 2,
        SourceProjectVersionArn: VERSION.replace("/v1/", "/v0/"),
        VersionDescription: "first (try)",
        Feature: "CONTENT_MODERATION",
        BaseModelVersion: "1.0",
        FeatureConfig: { ContentModeration: { ConfidenceThreshold: 50 } },
      },
    ],
    NextToken: "token",
  },
  // A tag key that is not a JS identifier, so the path is written the same for a map and a structure.
  ListTagsForResource: { Tags: { "legal-hold": "yes" } },
  DeleteProjectVersion: { Status: "DELETING" },
  StopProjectVersion: { Status: "STOPPING" },
  StartProjectVersion: { Status: "STARTING" },
  CopyProjectVersion: { ProjectVersionArn: VERSION },
  TagResource: {},
  UntagResource: {},
  GetCallerIdentity: { UserId: "AIDAEXAMPLE", Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/rekon` },
  AssumeRole: {
    Credentials: { AccessKeyId: "ASIAEXAMPLEEXAMPLE", SecretAccessKey: "secret", SessionToken: "token", Expiration: AT },
    AssumedRoleUser: { AssumedRoleId: "AROAEXAMPLE:rekon", Arn: `arn:aws:sts::${ACCOUNT}:assumed-role/rekon/rekon` },
    PackedPolicySize: 6,
    SourceIdentity: "rekon-plan",
  },
};

/** What must be present, per operation: rekon's list and the model's own required members. */
const REQUIRED: Record<string, string[]> = {
  DescribeProjects: ["$.ProjectDescriptions", "$.ProjectDescriptions[0].ProjectArn"],
  DescribeProjectVersions: [
    "$.ProjectVersionDescriptions",
    ...["ProjectVersionArn", "Status", "CreationTimestamp"].map((m) => `$.ProjectVersionDescriptions[0].${m}`),
  ],
  ListTagsForResource: ["$.Tags"],
  DeleteProjectVersion: ["$.Status"],
  StopProjectVersion: ["$.Status"],
  StartProjectVersion: ["$.Status"],
  CopyProjectVersion: ["$.ProjectVersionArn"],
  TagResource: [],
  UntagResource: [],
  GetCallerIdentity: ["$.Account", "$.Arn"],
  AssumeRole: [
    "$.Credentials",
    ...["AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"].map((m) => `$.Credentials.${m}`),
    "$.AssumedRoleUser.AssumedRoleId",
    "$.AssumedRoleUser.Arn",
  ],
};

type Leaf = { path: string; value: unknown; parent: Record<string, unknown> | unknown[]; key: string | number };
const key = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`);
/** Every member of an answer with its path, depth first (lists and objects too, not only leaves). */
function members(value: unknown, path = "$", out: Leaf[] = []): Leaf[] {
  const visit = (parent: Leaf["parent"], k: string | number, at: string) => {
    const v = (parent as Record<string | number, unknown>)[k];
    out.push({ path: at, value: v, parent, key: k });
    members(v, at, out);
  };
  if (Array.isArray(value)) value.forEach((_, i) => visit(value, i, `${path}[${i}]`));
  else if (typeof value === "object" && value !== null && !(value instanceof Date)) {
    for (const k of Object.keys(value)) visit(value as Record<string, unknown>, k, `${path}${key(k)}`);
  }
  return out;
}
/** A value of another type than `v`: what a broken deserializer or a broken front end could hand over. */
function wrongType(v: unknown): unknown {
  if (typeof v === "string") return 5;
  if (typeof v === "number") return String(v);
  if (typeof v === "boolean") return "true";
  if (v instanceof Date) return "2026-01-01T00:00:00Z";
  if (Array.isArray(v)) return {};
  return [];
}
/** `answer` with the member at `leaf`'s place changed (or removed): a deep copy, Dates kept. */
function changed(answer: Record<string, unknown>, at: string, change: (parent: Leaf["parent"], key: string | number) => void): Record<string, unknown> {
  const copy = structuredClone(answer);
  const leaf = members(copy).find((l) => l.path === at)!;
  change(leaf.parent, leaf.key);
  return copy;
}

const OPERATIONS = Object.keys(GOOD);
const credentials = GOOD.AssumeRole!.Credentials as Record<string, unknown>;
/** A DescribeProjectVersions answer with one description: the three members rekon needs, and `extra`. */
const versions = (extra: Record<string, unknown>) => ({
  ProjectVersionDescriptions: [{ ProjectVersionArn: VERSION, Status: "STOPPED", CreationTimestamp: AT, ...extra }],
});
/** The same as the raw JSON body AWS would send (timestamps in epoch seconds). */
const raw = (extra: Record<string, unknown>) => JSON.stringify(versions({ CreationTimestamp: AT.getTime() / 1000, ...extra }));
const paths = (op: string, answer: unknown) => answerProblems(op, answer).map((p) => p.path);

describe("answerProblems: every operation rekon calls", () => {
  it("covers every operation of the model, and nothing else", () => {
    expect([...Object.keys(REKOGNITION_OUTPUTS.operations), ...Object.keys(STS_OUTPUTS.operations)].sort()).toEqual([...OPERATIONS].sort());
  });

  it.each(OPERATIONS)("%s: a well-formed answer passes, with the SDK's $metadata and unknown extra members", (op) => {
    expect(answerProblems(op, GOOD[op])).toEqual([]);
    expect(answerProblems(op, { ...GOOD[op], $metadata: { httpStatusCode: 200, requestId: "r" }, SomethingNew: { x: 1 } })).toEqual([]);
  });

  const removals = OPERATIONS.flatMap((op) =>
    members(GOOD[op])
      .filter((l) => typeof l.key === "string")
      .map((l) => ({ op, path: l.path, required: REQUIRED[op]!.includes(l.path) })),
  );
  it.each(removals)("$op without $path: fails naming it when required ($required), passes otherwise", ({ op, path, required }) => {
    const answer = changed(GOOD[op]!, path, (parent, k) => delete (parent as Record<string, unknown>)[k as string]);
    const got = answerProblems(op, answer);
    if (required) expect(got).toEqual([{ path, message: expect.stringMatching(/^missing; /) }]);
    else expect(got).toEqual([]);
  });

  it.each(Object.entries(REQUIRED).flatMap(([op, ps]) => ps.map((path) => ({ op, path }))))("$op: $path as JSON null counts as missing", ({ op, path }) => {
    const answer = changed(GOOD[op]!, path, (parent, k) => ((parent as Record<string, unknown>)[k as string] = null));
    expect(paths(op, answer)).toEqual([path]);
  });

  const breaks = OPERATIONS.flatMap((op) => members(GOOD[op]).map((l) => ({ op, path: l.path, wrong: wrongType(l.value) })));
  it.each(breaks)("$op with $path of the wrong type ($wrong): fails naming it", ({ op, path, wrong }) => {
    const answer = changed(GOOD[op]!, path, (parent, k) => ((parent as Record<string, unknown>)[k as string] = wrong));
    const got = answerProblems(op, answer);
    expect(got.map((p) => p.path)).toEqual([path]);
    expect(got[0]!.message).toMatch(/^expected /);
  });

  it.each([
    ["DescribeProjectVersions", "$.ProjectVersionDescriptions[0].Status", "SOME_NEW_STATUS"],
    ["DescribeProjects", "$.ProjectDescriptions[0].Feature", "SOME_NEW_FEATURE"],
    ["DeleteProjectVersion", "$.Status", "ARCHIVING"],
  ])("%s: an enum value the model does not list (%s = %s) is not a malformed answer", (op, path, value) => {
    expect(answerProblems(op, changed(GOOD[op]!, path, (parent, k) => ((parent as Record<string, unknown>)[k as string] = value)))).toEqual([]);
  });

  const PVD = "$.ProjectVersionDescriptions[0]";
  it.each([
    {
      why: "a ProjectVersionArn not matching the model's pattern",
      op: "DescribeProjectVersions",
      answer: versions({ ProjectVersionArn: VERSION.replace(ACCOUNT, "1") }),
      path: `${PVD}.ProjectVersionArn`,
      message: /does not match the model's pattern/,
    },
    {
      why: "MinInferenceUnits 0",
      op: "DescribeProjectVersions",
      answer: versions({ MinInferenceUnits: 0 }),
      path: `${PVD}.MinInferenceUnits`,
      message: /0 is below the model's minimum 1/,
    },
    {
      why: "MinInferenceUnits 1.5",
      op: "DescribeProjectVersions",
      answer: versions({ MinInferenceUnits: 1.5 }),
      path: `${PVD}.MinInferenceUnits`,
      message: /expected an integer/,
    },
    {
      why: "an Invalid Date (the SDK's make of an epoch out of range)",
      op: "DescribeProjectVersions",
      answer: versions({ CreationTimestamp: new Date(Number.NaN) }),
      path: `${PVD}.CreationTimestamp`,
      message: /got an invalid date/,
    },
    {
      why: "a list item that is null",
      op: "DescribeProjectVersions",
      answer: { ProjectVersionDescriptions: [null] },
      path: PVD,
      message: /expected an object .*got null/,
    },
    { why: "a tag value that is null", op: "ListTagsForResource", answer: { Tags: { k: null } }, path: '$.Tags["k"]', message: /expected a string .*got null/ },
  ])("$why: fails naming the path", ({ op, answer, path, message }) => {
    const got = answerProblems(op, answer);
    expect(got).toEqual([{ path, message: expect.stringMatching(message) }]);
  });

  // Values rekon does not act on are not judged (answers.ts VALUES_CHECKED): refusing a value AWS itself
  // returned would stop the project for good, and nothing rekon decides reads it.
  it.each([
    { why: "a tag key starting aws:", op: "ListTagsForResource", answer: { Tags: { "aws:x": "v" } } },
    { why: "a tag value over 256 characters", op: "ListTagsForResource", answer: { Tags: { k: "x".repeat(257) } } },
    { why: "201 tags", op: "ListTagsForResource", answer: { Tags: Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`k${i}`, "v"])) } },
    { why: "a confidence threshold over 100", op: "DescribeProjectVersions", answer: versions({ FeatureConfig: { ContentModeration: { ConfidenceThreshold: 101 } } }) },
    { why: "an AccessKeyId shorter than 16", op: "AssumeRole", answer: { Credentials: { ...credentials, AccessKeyId: "ASIA" } } },
  ])("$why: not judged (rekon does not act on it)", ({ op, answer }) => {
    expect(answerProblems(op, answer)).toEqual([]);
  });

  it("a float may be NaN (the protocol carries \"NaN\"); the whole answer may not be a list or a string", () => {
    expect(answerProblems("DescribeProjectVersions", versions({ EvaluationResult: { F1Score: Number.NaN } }))).toEqual([]);
    expect(paths("DeleteProjectVersion", [])).toEqual(["$"]);
    expect(paths("DeleteProjectVersion", undefined)).toEqual(["$"]);
  });

  it("every problem is listed, not only the first", () => {
    const many = { ProjectVersionDescriptions: [{ ProjectVersionArn: 1 }, { ProjectVersionArn: VERSION, Status: 2, CreationTimestamp: AT }] };
    expect(paths("DescribeProjectVersions", many)).toEqual([
      "$.ProjectVersionDescriptions[0].Status",
      "$.ProjectVersionDescriptions[0].CreationTimestamp",
      "$.ProjectVersionDescriptions[0].ProjectVersionArn",
      "$.ProjectVersionDescriptions[1].Status",
    ]);
  });

  it("an operation without a known output shape cannot be believed", () => {
    expect(answerProblems("CreateProject", {})).toEqual([{ path: "$", message: expect.stringContaining("no output shape for CreateProject") }]);
  });

  it("rekon's list names shapes the model has, and every pattern in the model compiles", () => {
    const shapes = { ...REKOGNITION_OUTPUTS.shapes, ...STS_OUTPUTS.shapes };
    expect(MUST_HAVE_SHAPES.filter((s) => shapes[s]?.type !== "structure")).toEqual([]);
    for (const s of Object.values(shapes)) if (s.type === "string" && s.pattern) expect(() => new RegExp(`^(?:${s.pattern})$`, "u")).not.toThrow();
  });
});

describe("classification: a malformed answer is terminal, and a write answered so may have happened", () => {
  const sdkThrow = (status: number) =>
    Object.assign(new TypeError("Expected real number, got implicit NaN\n  Deserialization error: ..."), {
      $metadata: { httpStatusCode: status, requestId: "req-9" },
    });
  const problems = [{ path: "$.Tags", message: "missing" }];
  const checked = new MalformedAnswerError("ListTagsForResource", VERSION, problems, { httpStatusCode: 200, requestId: "req-1" }, 1);

  it("the checker's error: terminal, code MalformedAnswer, operation, resource, request id and paths in the message", () => {
    expect(classify(checked)).toBe("terminal");
    expect(errorCode(checked)).toBe("MalformedAnswer");
    expect(checked).toMatchObject({ operation: "ListTagsForResource", resource: VERSION, code: "MalformedAnswer", requestId: "req-1", problems });
    expect(checked.message).toBe(`ListTagsForResource ${VERSION}: MalformedAnswer: AWS answered 200 with an answer rekon cannot believe ($.Tags: missing)`);
    // Met as a credential failure (AssumeRole's answer, while a write's credentials were fetched): not sent.
    expect(mayHaveRun(checked)).toBe(false);
  });

  it("the SDK's own throw on a 200: terminal, MalformedAnswer, and a write may have happened", () => {
    expect(classify(sdkThrow(200))).toBe("terminal");
    expect(errorCode(sdkThrow(200))).toBe("MalformedAnswer");
    expect(mayHaveRun(sdkThrow(200))).toBe(true);
    const e = toAwsCallError("DescribeProjectVersions", PROJECT, sdkThrow(200), 1);
    expect(e).toBeInstanceOf(MalformedAnswerError);
    const read = { path: "$", message: "the SDK could not read it: Expected real number, got implicit NaN" };
    expect(e).toMatchObject({ code: "MalformedAnswer", requestId: "req-9", problems: [read] });
    // A 4xx the SDK could not read stays what it was.
    expect(mayHaveRun(sdkThrow(400))).toBe(false);
    expect(errorCode(sdkThrow(400))).toBe("TypeError");
  });

  it("a connection reset while a 200's body was read is still a network failure (retried)", () => {
    const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET", $metadata: { httpStatusCode: 200 } });
    expect(classify(reset)).toBe("retryable");
    expect(errorCode(reset)).toBe("ECONNRESET");
  });
});

describe("the client, through the real SDK, against a server answering 200 with a malformed body", () => {
  let server: Server | undefined;
  let requests = 0;
  afterEach(async () => {
    await new Promise((r) => server?.close(r));
    server = undefined;
    requests = 0;
  });
  async function answering(body: string): Promise<string> {
    server = createServer((req, res) => {
      requests++;
      req.resume();
      req.on("end", () => res.writeHead(200, { "Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "req-7" }).end(body));
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const RETRY: RetryOptions = { retries: 3, baseDelayMs: 1, maxDelayMs: 5, maxTotalMs: 5_000 };
  const credentials = { accessKeyId: "AKIDTEST", secretAccessKey: "x" };
  const client = (endpoint: string) => createClient({ region: "us-east-1", retry: RETRY, endpoint, credentials });

  it.each([
    { why: "without Tags (the SDK passes it on)", op: "ListTagsForResource", body: "{}", path: "$.Tags" },
    { why: "Tags a list (the SDK passes it on)", op: "ListTagsForResource", body: '{"Tags": []}', path: "$.Tags" },
    {
      why: "the list an object (the SDK passes it on)",
      op: "DescribeProjectVersions",
      body: "{\"ProjectVersionDescriptions\": {}}",
      path: "$.ProjectVersionDescriptions",
    },
    { why: "Status a number (the SDK passes it on)", op: "DescribeProjectVersions", body: raw({ Status: 5 }), path: "$.ProjectVersionDescriptions[0].Status" },
    { why: "CreationTimestamp a word (the SDK throws)", op: "DescribeProjectVersions", body: raw({ CreationTimestamp: "yesterday" }), path: "$" },
    { why: "not JSON at all (the SDK throws)", op: "DescribeProjectVersions", body: "<html>", path: "$" },
  ])("a read $why: one attempt, a MalformedAnswerError naming $path", async ({ op, body, path }) => {
    const c = client(await answering(body));
    const tags = op === "ListTagsForResource";
    const cmd = tags ? new ListTagsForResourceCommand({ ResourceArn: VERSION }) : new DescribeProjectVersionsCommand({ ProjectArn: PROJECT });
    const err = await c.send(cmd).then(
      () => undefined,
      (e: unknown) => e,
    );
    c.destroy();
    expect(err).toBeInstanceOf(MalformedAnswerError);
    expect(err).toMatchObject({ operation: op, code: "MalformedAnswer", requestId: "req-7", attempts: 1 });
    expect((err as MalformedAnswerError).problems.map((p) => p.path)).toContain(path);
    expect(requests).toBe(1);
  });

  it.each([
    { why: "without Status", body: "{}" },
    { why: "Status a number", body: '{"Status": 5}' },
    { why: "not JSON at all (the SDK throws)", body: "Status: DELETING" },
  ])("a write answered $why: unknown (it may have happened), sent once", async ({ body }) => {
    const c = client(await answering(body));
    const call = await c.sendWrite(new DeleteProjectVersionCommand({ ProjectVersionArn: VERSION }));
    c.destroy();
    expect(call).toMatchObject({ kind: "unknown", attempts: 1, error: { code: "MalformedAnswer", requestId: "req-7" } });
    expect(requests).toBe(1);
  });
});
