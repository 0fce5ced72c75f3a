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
  check(service, service.operations[operation]!, answer, [], out);
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

/**
 * Where in the answer the check is: the members, list indexes and map keys (`{key}`) from `$`. A stack, not
 * a string built at each step: every member of every answer is checked, and a path is only read when
 * something is wrong there (at 100,000 versions a cycle, building each one was most of the check's cost).
 */
type Path = (string | number | { key: string })[];

function pathText(path: Path): string {
  let text = "$";
  for (const p of path) {
    if (typeof p === "number") text += `[${p}]`;
    else if (typeof p === "object") text += `[${JSON.stringify(p.key)}]`;
    else text += /^[A-Za-z_$][\w$]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`;
  }
  return text;
}

/** Characters as the model counts them (code points), without making an array of them. */
function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** Each structure's members as a list, made once per shape rather than once per value checked. */
const memberLists = new WeakMap<object, readonly (readonly [string, string])[]>();
function membersOf(shape: Structure): readonly (readonly [string, string])[] {
  let m = memberLists.get(shape);
  if (!m) memberLists.set(shape, (m = Object.entries(shape.members)));
  return m;
}

/** One value of the wrong type. (Functions, not closures: check() runs for every member of every answer.) */
function wrong(expected: string, shapeName: string, value: unknown, path: Path, out: AnswerProblem[]): void {
  out.push({ path: pathText(path), message: `expected ${expected} (${shapeName}), got ${shown(value)}` });
}

function check(service: ServiceOutputs, shapeName: string, value: unknown, path: Path, out: AnswerProblem[]): void {
  const shape = service.shapes[shapeName];
  if (!shape) return void out.push({ path: pathText(path), message: `the model has no shape ${shapeName}` });
  switch (shape.type) {
    case "structure":
      return isPlainObject(value) ? structure(service, shapeName, shape, value, path, out) : wrong("an object", shapeName, value, path, out);
    case "list":
      if (!Array.isArray(value)) return wrong("a list", shapeName, value, path, out);
      if (VALUES_CHECKED.has(shapeName)) size(shape, value.length, "items", path, out);
      for (let i = 0; i < value.length; i++) {
        path.push(i);
        check(service, shape.member, value[i], path, out);
        path.pop();
      }
      return;
    case "map":
      if (!isPlainObject(value)) return wrong("a map", shapeName, value, path, out);
      if (VALUES_CHECKED.has(shapeName)) size(shape, Object.keys(value).length, "entries", path, out);
      for (const k of Object.keys(value)) {
        path.push({ key: k });
        const keyProblems: AnswerProblem[] = [];
        check(service, shape.key, k, path, keyProblems);
        for (const p of keyProblems) out.push({ path: p.path, message: `key: ${p.message}` });
        check(service, shape.value, value[k], path, out);
        path.pop();
      }
      return;
    case "string":
      if (typeof value !== "string") return wrong("a string", shapeName, value, path, out);
      if (!VALUES_CHECKED.has(shapeName)) return;
      size(shape, codePoints(value), "characters", path, out);
      if (shape.pattern !== undefined && !regex(shape.pattern).test(value)) {
        out.push({ path: pathText(path), message: `${shown(value)} does not match the model's pattern ${shape.pattern} (${shapeName})` });
      }
      return;
    case "integer":
    case "long":
      if (typeof value !== "number" || !Number.isSafeInteger(value))
        return wrong(shape.type === "integer" ? "an integer" : "a long", shapeName, value, path, out);
      return VALUES_CHECKED.has(shapeName) ? range(shape, value, path, out) : undefined;
    case "float":
    case "double":
      // NaN and the infinities are numbers the protocol can carry ("NaN", "Infinity").
      if (typeof value !== "number") return wrong("a number", shapeName, value, path, out);
      return VALUES_CHECKED.has(shapeName) ? range(shape, value, path, out) : undefined;
    case "boolean":
      return typeof value === "boolean" ? undefined : wrong("a boolean", shapeName, value, path, out);
    case "timestamp":
      // The SDK makes a Date of an epoch number, and an Invalid Date of one out of range (1e20).
      return value instanceof Date && !Number.isNaN(value.getTime()) ? undefined : wrong("a valid timestamp", shapeName, value, path, out);
  }
}

type Structure = Extract<OutputShape, { type: "structure" }>;

function structure(service: ServiceOutputs, name: string, shape: Structure, value: Record<string, unknown>, path: Path, out: AnswerProblem[]): void {
  // A member the SDK gives as null (the JSON null) counts as absent.
  for (const m of shape.required ?? []) if (value[m] === undefined || value[m] === null) missing(m, `missing; the model requires it (${name})`, path, out);
  for (const m of MUST_HAVE[name] ?? []) {
    if (!shape.required?.includes(m) && (value[m] === undefined || value[m] === null))
      missing(m, `missing; rekon cannot believe a ${name} without it`, path, out);
  }
  for (const [m, member] of membersOf(shape)) {
    const v = value[m];
    if (v === undefined || v === null) continue;
    path.push(m);
    check(service, member, v, path, out);
    path.pop();
  }
}

function missing(member: string, message: string, path: Path, out: AnswerProblem[]): void {
  path.push(member);
  out.push({ path: pathText(path), message });
  path.pop();
}

function size(shape: { min?: number; max?: number }, n: number, unit: string, path: Path, out: AnswerProblem[]): void {
  if (shape.min !== undefined && n < shape.min) out.push({ path: pathText(path), message: `${n} ${unit}, fewer than the model's minimum ${shape.min}` });
  if (shape.max !== undefined && n > shape.max) out.push({ path: pathText(path), message: `${n} ${unit}, more than the model's maximum ${shape.max}` });
}

function range(shape: { min?: number; max?: number }, n: number, path: Path, out: AnswerProblem[]): void {
  if (shape.min !== undefined && n < shape.min) out.push({ path: pathText(path), message: `${n} is below the model's minimum ${shape.min}` });
  if (shape.max !== undefined && n > shape.max) out.push({ path: pathText(path), message: `${n} is above the model's maximum ${shape.max}` });
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
