// The answer check's exact words and bounds (reconciler/aws/answers.ts): each kind of wrong value with
// the message a person reads in the MalformedAnswer error (the shape named, the value shown short), the
// value checks on both sides of each bound, the error's own message (five problems shown, the rest
// counted), and assertAnswer. Then the checker's generic branches no shape of today's model reaches (a
// value-checked list or map, a key that fails, a double, a member name that is not an identifier, a shape
// the model lacks), on a model patched for one test and restored: extract.mjs regenerates the model from
// botocore, and the checker must hold for what it may bring.
import { afterEach, describe, expect, it } from "vitest";
import { answerProblems, assertAnswer, MalformedAnswerError } from "../../reconciler/aws/answers.js";
import { STS_OUTPUTS, type OutputShape } from "../../reconciler/aws/model.js";

const ACCOUNT = "123456789012";
const VERSION = `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/p/version/v1/1767225600000`;
const AT = new Date("2026-01-01T00:00:00Z");
const PVD = "$.ProjectVersionDescriptions[0]";
const versions = (extra: Record<string, unknown>) => ({
  ProjectVersionDescriptions: [{ ProjectVersionArn: VERSION, Status: "STOPPED", CreationTimestamp: AT, ...extra }],
});
const problems = (extra: Record<string, unknown>) => answerProblems("DescribeProjectVersions", versions(extra));

describe("each wrong value, in the words the error shows", () => {
  it.each([
    { member: "Status", value: ["STOPPED"], message: "expected a string (ProjectVersionStatus), got a list" },
    { member: "Status", value: { s: 1 }, message: "expected a string (ProjectVersionStatus), got an object" },
    { member: "Status", value: AT, message: "expected a string (ProjectVersionStatus), got a date" },
    { member: "Status", value: 5, message: "expected a string (ProjectVersionStatus), got number 5" },
    { member: "Status", value: false, message: "expected a string (ProjectVersionStatus), got boolean false" },
    { member: "MinInferenceUnits", value: "2", message: 'expected an integer (InferenceUnits), got string "2"' },
    { member: "MinInferenceUnits", value: 2 ** 53, message: "expected an integer (InferenceUnits), got number 9007199254740992" },
    { member: "CreationTimestamp", value: "2026-01-01", message: 'expected a valid timestamp (DateTime), got string "2026-01-01"' },
    { member: "CreationTimestamp", value: new Date(Number.NaN), message: "expected a valid timestamp (DateTime), got an invalid date" },
    { member: "OutputConfig", value: [], message: "expected an object (OutputConfig), got a list" },
    { member: "OutputConfig", value: AT, message: "expected an object (OutputConfig), got a date" },
    { member: "EvaluationResult", value: { F1Score: "0.9" }, path: `${PVD}.EvaluationResult.F1Score`, message: 'expected a number (Float), got string "0.9"' },
    {
      member: "TestingDataResult",
      value: { Input: { AutoCreate: "true" } },
      path: `${PVD}.TestingDataResult.Input.AutoCreate`,
      message: 'expected a boolean (Boolean), got string "true"',
    },
    {
      member: "TestingDataResult",
      value: { Input: { Assets: {} } },
      path: `${PVD}.TestingDataResult.Input.Assets`,
      message: "expected a list (Assets), got an object",
    },
  ])("$member = $value: $message", ({ member, value, path, message }) => {
    expect(problems({ [member]: value })).toEqual([{ path: path ?? `${PVD}.${member}`, message }]);
  });

  it("a long that is not one (the message says 'an long' today: the article is not checked)", () => {
    expect(problems({ BillableTrainingTimeInSeconds: "1" })).toEqual([
      { path: `${PVD}.BillableTrainingTimeInSeconds`, message: "expected a long (ULong), got string \"1\"" },
    ]);
  });

  it("a map that is not one", () => {
    expect(answerProblems("ListTagsForResource", { Tags: ["a"] })).toEqual([{ path: "$.Tags", message: "expected a map (TagMap), got a list" }]);
  });

  it("a value is shown whole up to 60 characters, cut to 57 and ... beyond", () => {
    const at60 = "x".repeat(58); // JSON: 60 characters with its quotes
    const at61 = "x".repeat(59);
    expect(problems({ MinInferenceUnits: at60 })[0]!.message).toBe(`expected an integer (InferenceUnits), got string "${at60}"`);
    expect(problems({ MinInferenceUnits: at61 })[0]!.message).toBe(`expected an integer (InferenceUnits), got string "${"x".repeat(56)}...`);
  });
});

describe("the values rekon acts on, on both sides of each bound", () => {
  const arn = (n: number) => `arn:aws:iam::${ACCOUNT}:user/${"u".repeat(n - 31)}`; // n characters
  const caller = (Arn: string) => answerProblems("GetCallerIdentity", { Account: ACCOUNT, Arn });
  it("an identity ARN (arnType): 20 to 2048 characters", () => {
    expect(arn(31)).toHaveLength(31);
    expect(caller("arn:aws:iam::1:u/abc")).toEqual([]);
    expect(caller("arn:aws:iam::1:u/ab")).toEqual([{ path: "$.Arn", message: "19 characters, fewer than the model's minimum 20" }]);
    expect(caller(arn(2048))).toEqual([]);
    expect(caller(arn(2049))).toEqual([{ path: "$.Arn", message: "2049 characters, more than the model's maximum 2048" }]);
    // Characters, not UTF-16 units: 19 characters with one outside the BMP are still 19.
    expect(caller("arn:aws:iam::1:u/a\u{1F600}")[0]!.message).toBe("19 characters, fewer than the model's minimum 20");
  });

  it("an identity ARN with a control character: fails the model's pattern, shown", () => {
    expect(caller("arn:aws:iam::1:user/a\u0001b")).toEqual([
      {
        path: "$.Arn",
        message: `string "arn:aws:iam::1:user/a\\u0001b" does not match the model's pattern ${STS_OUTPUTS.shapes.arnType!.type === "string" ? (STS_OUTPUTS.shapes.arnType as { pattern: string }).pattern : ""} (arnType)`,
      },
    ]);
  });

  it("a project ARN (ProjectArn) that is not one: named", () => {
    const ProjectArn = `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/p`;
    expect(answerProblems("DescribeProjects", { ProjectDescriptions: [{ ProjectArn }] })).toEqual([
      { path: "$.ProjectDescriptions[0].ProjectArn", message: expect.stringMatching(/^string ".*" does not match the model's pattern .* \(ProjectArn\)$/) },
    ]);
    expect(answerProblems("DescribeProjects", { ProjectDescriptions: [{ ProjectArn: `${ProjectArn}/1` }] })).toEqual([]);
  });

  it("inference units: 1 and up", () => {
    expect(problems({ MinInferenceUnits: 1, MaxInferenceUnits: 1 })).toEqual([]);
    expect(problems({ MaxInferenceUnits: 0 })).toEqual([{ path: `${PVD}.MaxInferenceUnits`, message: "0 is below the model's minimum 1" }]);
  });

  it("values rekon does not act on are not judged: a too short token, a long description", () => {
    expect(answerProblems("GetCallerIdentity", { Account: "1", Arn: "arn:aws:iam::1:u/abc", UserId: "" })).toEqual([]);
    expect(problems({ StatusMessage: "", BaseModelVersion: "x".repeat(5000) })).toEqual([]);
  });
});

describe("MalformedAnswerError and assertAnswer", () => {
  const p = (i: number) => ({ path: `$.p${i}`, message: `m${i}` });
  it("five problems shown, joined by '; '; more are counted", () => {
    const five = new MalformedAnswerError("Op", "res", [1, 2, 3, 4, 5].map(p), { httpStatusCode: 200 }, 1);
    expect(five.message).toBe(
      "Op res: MalformedAnswer: AWS answered 200 with an answer rekon cannot believe ($.p1: m1; $.p2: m2; $.p3: m3; $.p4: m4; $.p5: m5)",
    );
    const seven = new MalformedAnswerError("Op", "res", [1, 2, 3, 4, 5, 6, 7].map(p), undefined, 1);
    expect(seven.message).toBe(
      "Op res: MalformedAnswer: AWS answered 200 with an answer rekon cannot believe ($.p1: m1; $.p2: m2; $.p3: m3; $.p4: m4; $.p5: m5; and 2 more)",
    );
    expect(seven.problems).toHaveLength(7);
    expect(seven).toMatchObject({ httpStatusCode: 200, attempts: 1 });
    expect(seven.requestId).toBeUndefined();
  });

  it("the success status AWS answered with is kept and shown", () => {
    const e = new MalformedAnswerError("Op", "res", [p(1)], { httpStatusCode: 204, requestId: "r-1" }, 1);
    expect(e).toMatchObject({ httpStatusCode: 204, requestId: "r-1" });
    expect(e.message).toContain("AWS answered 204 with");
  });

  it("assertAnswer: a good answer passes; a bad one throws with the answer's own status and request id", () => {
    expect(() => assertAnswer("DeleteProjectVersion", VERSION, { Status: "DELETING" })).not.toThrow();
    let thrown: unknown;
    try {
      assertAnswer("DeleteProjectVersion", VERSION, { $metadata: { httpStatusCode: 202, requestId: "r-2" } }, 3);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(MalformedAnswerError);
    expect(thrown).toMatchObject({
      operation: "DeleteProjectVersion",
      resource: VERSION,
      httpStatusCode: 202,
      requestId: "r-2",
      attempts: 3,
      problems: [{ path: "$.Status" }],
    });
    expect(() => assertAnswer("DeleteProjectVersion", VERSION, undefined)).toThrow(
      /AWS answered 200 with an answer rekon cannot believe \(\$: expected an object/,
    );
  });
});

describe("the checker's generic branches, on a patched model", () => {
  // GetCallerIdentity's Account member is shape accountType, a value-checked name: each test gives it
  // another shape (and may add shapes), and the model is put back after it.
  const shapes = STS_OUTPUTS.shapes as Record<string, OutputShape>;
  const saved = { ...shapes };
  afterEach(() => {
    for (const k of Object.keys(shapes)) if (!(k in saved)) delete shapes[k];
    Object.assign(shapes, saved);
  });
  const account = (value: unknown) => answerProblems("GetCallerIdentity", { Account: value, Arn: "arn:aws:iam::1:u/abc" });

  it("a value-checked list: its length within min and max", () => {
    shapes.accountType = { type: "list", member: "userIdType", min: 1, max: 2 };
    expect(account(["a"])).toEqual([]);
    expect(account(["a", "b"])).toEqual([]);
    expect(account([])).toEqual([{ path: "$.Account", message: "0 items, fewer than the model's minimum 1" }]);
    expect(account(["a", "b", "c"])).toEqual([{ path: "$.Account", message: "3 items, more than the model's maximum 2" }]);
    expect(account([1])).toEqual([{ path: "$.Account[0]", message: "expected a string (userIdType), got number 1" }]);
  });

  it("a list not value-checked: its length is not judged", () => {
    shapes.userIdType = { type: "list", member: "tokenType", min: 1, max: 1 };
    expect(answerProblems("GetCallerIdentity", { Account: ACCOUNT, Arn: "arn:aws:iam::1:u/abc", UserId: [] })).toEqual([]);
  });

  it("a value-checked map: its entries counted, each key and value checked, a key's problem said to be the key's", () => {
    shapes.accountType = { type: "map", key: "arnType", value: "userIdType", min: 1, max: 1 };
    const good = "arn:aws:iam::1:u/abc";
    expect(account({ [good]: "v" })).toEqual([]);
    expect(account({})).toEqual([{ path: "$.Account", message: "0 entries, fewer than the model's minimum 1" }]);
    expect(account({ [good]: "v", [`${good}d`]: "w" })).toEqual([{ path: "$.Account", message: "2 entries, more than the model's maximum 1" }]);
    expect(account({ short: 5 })).toEqual([
      { path: '$.Account["short"]', message: "key: 5 characters, fewer than the model's minimum 20" },
      { path: '$.Account["short"]', message: "expected a string (userIdType), got number 5" },
    ]);
  });

  it("a value-checked float and double: within min and max; an integer outside its max", () => {
    for (const type of ["float", "double"] as const) {
      shapes.accountType = { type, min: 0.5, max: 1.5 };
      expect(account(0.5)).toEqual([]);
      expect(account(1.5)).toEqual([]);
      expect(account(0.4)).toEqual([{ path: "$.Account", message: "0.4 is below the model's minimum 0.5" }]);
      expect(account(1.6)).toEqual([{ path: "$.Account", message: "1.6 is above the model's maximum 1.5" }]);
      expect(account("1")).toEqual([{ path: "$.Account", message: `expected a number (accountType), got string "1"` }]);
    }
    shapes.accountType = { type: "integer", max: 3 };
    expect(account(3)).toEqual([]);
    expect(account(4)).toEqual([{ path: "$.Account", message: "4 is above the model's maximum 3" }]);
    shapes.accountType = { type: "long" };
    expect(account(-5)).toEqual([]);
  });

  // The checker compiles each pattern once and keeps it for the process: a pattern no earlier test used is
  // compiled here, by the code under test (a mutation run keeps one process across many runs).
  let runs = 0;
  const fresh = (pattern: string) => `${pattern}|never-${Date.now()}-${++runs}-${Math.random()}`;
  it("a pattern with Unicode classes matches whole values, as the service's validator does", () => {
    const letters = fresh("\\p{L}+");
    shapes.accountType = { type: "string", pattern: letters };
    expect(account("é")).toEqual([]);
    expect(account("é1")).toEqual([{ path: "$.Account", message: `string "é1" does not match the model's pattern ${letters} (accountType)` }]);
    shapes.accountType = { type: "string", pattern: fresh("a|b") };
    expect(account("b")).toEqual([]);
    expect(account("ab")).toHaveLength(1);
  });

  it("a member whose name is not an identifier is written in brackets; a shape the model lacks is a problem", () => {
    shapes.GetCallerIdentityResponse = { type: "structure", members: { "x-y": "userIdType", Gone: "NoSuchShape" }, required: ["x-y"] };
    expect(answerProblems("GetCallerIdentity", { Gone: 1 })).toEqual([
      { path: '$["x-y"]', message: "missing; the model requires it (GetCallerIdentityResponse)" },
      { path: "$.Account", message: "missing; rekon cannot believe a GetCallerIdentityResponse without it" },
      { path: "$.Arn", message: "missing; rekon cannot believe a GetCallerIdentityResponse without it" },
      { path: "$.Gone", message: "the model has no shape NoSuchShape" },
    ]);
    expect(answerProblems("GetCallerIdentity", { "x-y": 1, Account: ACCOUNT, Arn: "arn:aws:iam::1:u/abc" })).toContainEqual({
      path: '$["x-y"]',
      message: "expected a string (userIdType), got number 1",
    });
  });
});
