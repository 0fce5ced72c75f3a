// An AWS answer is checked against the service model before rekon believes it (issue #21, case 3). A 200
// answer whose body does not fit is a failed call, never data: ListTagsForResource without `Tags` once read
// as "no tags" (and a version under legal hold was deleted), DescribeProjectVersions without its list as an
// empty project (and the source of a copy in progress was deleted).
//
// What the SDK hands back is checked, not the raw body: the SDK v3 deserializer passes most wrong types
// through unchanged (a number for a string, a list for a map, a string for a list), coerces a few, and throws
// on others (docs/aws-behaviour.md, "Malformed answers"); a throw is classified in retry.ts.
import { AwsCallError } from "../errors.js";
import { REKOGNITION_OUTPUTS, STS_OUTPUTS, type OutputShape, type ServiceOutputs } from "./model.js";

/** One way an answer departs from what rekon can believe: where (a JSON path from `$`, the answer) and what. */
export interface AnswerProblem {
  path: string;
  message: string;
}

/**
 * What must be present, beyond what the model marks required, by shape name. The model marks almost
 * nothing in Rekognition's answers required, yet an answer missing the list it exists to return is not
 * evidence of an empty list, and a description without its ARN, status or creation time cannot be judged.
 * Whether AWS ever leaves out an empty list is unverified; either way the safe reading is a failed read.
 */
const MUST_HAVE: Readonly<Record<string, readonly string[]>> = {
  DescribeProjectsResponse: ["ProjectDescriptions"],
  ProjectDescription: ["ProjectArn"],
  DescribeProjectVersionsResponse: ["ProjectVersionDescriptions"],
  ProjectVersionDescription: ["ProjectVersionArn", "Status", "CreationTimestamp"],
  ListTagsForResourceResponse: ["Tags"],
  // A write's answer says what AWS did; without it the write may or may not have happened.
  DeleteProjectVersionResponse: ["Status"],
  StopProjectVersionResponse: ["Status"],
  StartProjectVersionResponse: ["Status"],
  CopyProjectVersionResponse: ["ProjectVersionArn"],
  // Who rekon is decides which account it may write in; an identity it cannot read is unresolved.
  GetCallerIdentityResponse: ["Account", "Arn"],
  // The model itself requires the four members of Credentials.
  AssumeRoleResponse: ["Credentials"],
};

/** Exported for the tests, which check that every shape named above exists in the model. */
export const MUST_HAVE_SHAPES: readonly string[] = Object.keys(MUST_HAVE);

const SERVICES: readonly ServiceOutputs[] = [REKOGNITION_OUTPUTS, STS_OUTPUTS];

/**
 * Every problem with `answer`, the SDK's output of `operation` (its `$metadata` aside); [] when it can be
 * believed. Enums are not checked: a status the model does not list yet is a value AWS added, not a broken
 * answer; it is passed on as it is, and rekon treats an unknown version status as in use and never deletes
 * it (the unknownStatus guard). Members the model does not know are ignored (the SDK drops them anyway).
 */
export function answerProblems(operation: string, answer: unknown): AnswerProblem[] {
  const service = SERVICES.find((s) => s.operations[operation] !== undefined);
  // A call rekon makes without a known answer shape cannot be believed either: add it to extract.mjs.
  if (!service) return [{ path: "$", message: `no output shape for ${operation} in reconciler/aws/model.ts, so its answer cannot be checked` }];
  const out: AnswerProblem[] = [];
  check(service, service.operations[operation]!, answer, "$", out);
  return out;
}

/**
 * The shapes whose values rekon acts on — the ARNs it deletes, copies and tags by, the account it writes
 * in, the inference units it counts — have their values checked too (patterns, lengths, ranges). Elsewhere
 * only types and presence are: a value AWS returns that its own published pattern rejects (an old
 * description, a bucket name) is not rekon's to judge, and refusing it would stop a project for good.
 */
const VALUES_CHECKED: ReadonlySet<string> = new Set(["ProjectArn", "ProjectVersionArn", "InferenceUnits", "accountType", "arnType"]);

const patterns = new Map<string, RegExp>();
// Model patterns match the whole value (as the services' validators do), with Unicode classes such as \p{L}.
function regex(pattern: string): RegExp {
  let r = patterns.get(pattern);
  // Stryker disable next-line ConditionalExpression: equivalent, compiling a pattern again gives the same regex (the cache only saves time)
  if (!r) patterns.set(pattern, (r = new RegExp(`^(?:${pattern})$`, "u")));
  return r;
}

/** A value as a message shows it: short, and its type plain. */
function shown(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? "an invalid date" : "a date";
  if (typeof v === "object") return "an object";
  const text = JSON.stringify(v) ?? String(v);
  return `${typeof v} ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
const memberPath = (path: string, key: string) => (/^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`);

function check(service: ServiceOutputs, shapeName: string, value: unknown, path: string, out: AnswerProblem[]): void {
  const shape = service.shapes[shapeName];
  if (!shape) return void out.push({ path, message: `the model has no shape ${shapeName}` });
  const wrong = (expected: string): void => void out.push({ path, message: `expected ${expected} (${shapeName}), got ${shown(value)}` });
  switch (shape.type) {
    case "structure":
      return isPlainObject(value) ? structure(service, shapeName, shape, value, path, out) : wrong("an object");
    case "list":
      if (!Array.isArray(value)) return wrong("a list");
      if (VALUES_CHECKED.has(shapeName)) size(shape, value.length, "items", path, out);
      return value.forEach((item, i) => check(service, shape.member, item, `${path}[${i}]`, out));
    case "map":
      if (!isPlainObject(value)) return wrong("a map");
      if (VALUES_CHECKED.has(shapeName)) size(shape, Object.keys(value).length, "entries", path, out);
      for (const [k, v] of Object.entries(value)) {
        const at = `${path}[${JSON.stringify(k)}]`;
        const keyProblems: AnswerProblem[] = [];
        check(service, shape.key, k, at, keyProblems);
        out.push(...keyProblems.map((p) => ({ path: p.path, message: `key: ${p.message}` })));
        check(service, shape.value, v, at, out);
      }
      return;
    case "string":
      if (typeof value !== "string") return wrong("a string");
      if (!VALUES_CHECKED.has(shapeName)) return;
      size(shape, [...value].length, "characters", path, out);
      if (shape.pattern !== undefined && !regex(shape.pattern).test(value)) {
        out.push({ path, message: `${shown(value)} does not match the model's pattern ${shape.pattern} (${shapeName})` });
      }
      return;
    case "integer":
    case "long":
      if (typeof value !== "number" || !Number.isSafeInteger(value)) return wrong(`an ${shape.type}`);
      return VALUES_CHECKED.has(shapeName) ? range(shape, value, path, out) : undefined;
    case "float":
    case "double":
      // NaN and the infinities are numbers the protocol can carry ("NaN", "Infinity").
      if (typeof value !== "number") return wrong("a number");
      return VALUES_CHECKED.has(shapeName) ? range(shape, value, path, out) : undefined;
    case "boolean":
      return typeof value === "boolean" ? undefined : wrong("a boolean");
    case "timestamp":
      // The SDK makes a Date of an epoch number, and an Invalid Date of one out of range (1e20).
      return value instanceof Date && !Number.isNaN(value.getTime()) ? undefined : wrong("a valid timestamp");
  }
}

type Structure = Extract<OutputShape, { type: "structure" }>;

function structure(service: ServiceOutputs, name: string, shape: Structure, value: Record<string, unknown>, path: string, out: AnswerProblem[]): void {
  // A member the SDK gives as null (the JSON null) counts as absent.
  const absent = (m: string) => value[m] === undefined || value[m] === null;
  for (const m of shape.required ?? []) if (absent(m)) out.push({ path: memberPath(path, m), message: `missing; the model requires it (${name})` });
  for (const m of MUST_HAVE[name] ?? []) {
    if (!shape.required?.includes(m) && absent(m)) out.push({ path: memberPath(path, m), message: `missing; rekon cannot believe a ${name} without it` });
  }
  for (const [m, member] of Object.entries(shape.members)) {
    if (value[m] !== undefined && value[m] !== null) check(service, member, value[m], memberPath(path, m), out);
  }
}

function size(shape: { min?: number; max?: number }, n: number, unit: string, path: string, out: AnswerProblem[]): void {
  if (shape.min !== undefined && n < shape.min) out.push({ path, message: `${n} ${unit}, fewer than the model's minimum ${shape.min}` });
  if (shape.max !== undefined && n > shape.max) out.push({ path, message: `${n} ${unit}, more than the model's maximum ${shape.max}` });
}

function range(shape: { min?: number; max?: number }, n: number, path: string, out: AnswerProblem[]): void {
  if (shape.min !== undefined && n < shape.min) out.push({ path, message: `${n} is below the model's minimum ${shape.min}` });
  if (shape.max !== undefined && n > shape.max) out.push({ path, message: `${n} is above the model's maximum ${shape.max}` });
}

/** Problems shown in a message; the error keeps them all. */
const SHOWN = 5;

/**
 * AWS answered with success (HTTP 2xx), and the answer does not fit the model or could not be read at all.
 * Terminal (the same answer would come again). For a write it means the write may have happened; client.ts
 * says so where it reads the write's own answer. It carries no `$metadata` on purpose: the same error from
 * AssumeRole, met while a write's credentials were being fetched, means that write was never sent.
 */
export class MalformedAnswerError extends AwsCallError {
  /** The success status AWS answered with. */
  readonly httpStatusCode: number;

  constructor(
    operation: string,
    resource: string,
    readonly problems: readonly AnswerProblem[],
    meta: { httpStatusCode?: number; requestId?: string } | undefined,
    attempts: number,
    options?: { cause?: unknown },
  ) {
    const listed = problems.slice(0, SHOWN).map((p) => `${p.path}: ${p.message}`);
    if (problems.length > SHOWN) listed.push(`and ${problems.length - SHOWN} more`);
    const message = `AWS answered ${meta?.httpStatusCode ?? 200} with an answer rekon cannot believe (${listed.join("; ")})`;
    super(operation, resource, "MalformedAnswer", attempts, message, meta?.requestId, options);
    this.httpStatusCode = meta?.httpStatusCode ?? 200;
  }
}

/** Throws MalformedAnswerError when `answer` (the SDK's output of `operation`) cannot be believed. */
export function assertAnswer(operation: string, resource: string, answer: unknown, attempts = 1): void {
  const problems = answerProblems(operation, answer);
  if (problems.length === 0) return;
  const meta = (answer as { $metadata?: { httpStatusCode?: number; requestId?: string } } | undefined)?.$metadata;
  throw new MalformedAnswerError(operation, resource, problems, meta, attempts);
}
