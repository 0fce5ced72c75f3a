// The AWS service models (botocore's, trimmed; see model/extract.mjs) and what the conformance tests derive
// from them: one bad request per input constraint, and a check of answers against output shapes.
import { readFileSync } from "node:fs";

export interface ModelShape {
  type: string;
  members?: Record<string, { shape: string }>;
  required?: string[];
  member?: { shape: string };
  key?: { shape: string };
  value?: { shape: string };
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  exception?: boolean;
  fault?: boolean;
  error?: { code?: string; httpStatusCode?: number };
}

export interface Model {
  metadata: { protocol: string };
  operations: Record<string, { input?: { shape: string }; output?: { shape: string }; errors?: { shape: string }[] }>;
  shapes: Record<string, ModelShape>;
}

export function loadModel(file: string): Model {
  return JSON.parse(readFileSync(new URL(`./model/${file}`, import.meta.url), "utf8")) as Model;
}

const camel = (name: string) => name.charAt(0).toLowerCase() + name.slice(1);

/** Whole-value match with Unicode classes, the reading the emulator is held to. */
export const matches = (pattern: string, value: string) => new RegExp(`^(?:${pattern})$`, "u").test(value);

// ---------- output shapes ----------

/** Every way `value` departs from `shapeName`: unknown members, wrong types, enums, lengths, ranges, patterns. */
export function outputProblems(model: Model, shapeName: string, value: unknown, path = "$"): string[] {
  const s = model.shapes[shapeName];
  if (!s) return [`${path}: model has no shape ${shapeName}`];
  const out: string[] = [];
  switch (s.type) {
    case "structure": {
      if (typeof value !== "object" || value === null || Array.isArray(value)) return [`${path}: expected an object (${shapeName})`];
      const obj = value as Record<string, unknown>;
      for (const [k, v] of Object.entries(obj)) {
        const m = s.members?.[k];
        if (!m) out.push(`${path}.${k}: not a member of ${shapeName} (members: ${Object.keys(s.members ?? {}).join(", ")})`);
        else out.push(...outputProblems(model, m.shape, v, `${path}.${k}`));
      }
      for (const r of s.required ?? []) if (obj[r] === undefined) out.push(`${path}.${r}: required by ${shapeName}, missing`);
      return out;
    }
    case "list":
      if (!Array.isArray(value)) return [`${path}: expected a list`];
      if (s.min !== undefined && value.length < s.min) out.push(`${path}: ${value.length} items, min ${s.min}`);
      if (s.max !== undefined && value.length > s.max) out.push(`${path}: ${value.length} items, max ${s.max}`);
      value.forEach((v, i) => out.push(...outputProblems(model, s.member!.shape, v, `${path}[${i}]`)));
      return out;
    case "map":
      if (typeof value !== "object" || value === null || Array.isArray(value)) return [`${path}: expected a map`];
      for (const [k, v] of Object.entries(value)) {
        out.push(...outputProblems(model, s.key!.shape, k, `${path}{key ${k}}`), ...outputProblems(model, s.value!.shape, v, `${path}.${k}`));
      }
      return out;
    case "string":
      if (typeof value !== "string") return [`${path}: expected a string, got ${JSON.stringify(value)}`];
      if (s.enum && !s.enum.includes(value)) out.push(`${path}: "${value}" not in enum ${shapeName} (${s.enum.join(", ")})`);
      if (s.min !== undefined && [...value].length < s.min) out.push(`${path}: length < ${s.min}`);
      if (s.max !== undefined && [...value].length > s.max) out.push(`${path}: length > ${s.max}`);
      if (s.pattern !== undefined && !matches(s.pattern, value)) out.push(`${path}: "${value}" does not match ${s.pattern}`);
      return out;
    case "integer":
    case "long":
      if (typeof value !== "number" || !Number.isInteger(value)) return [`${path}: expected an integer, got ${JSON.stringify(value)}`];
      if (s.min !== undefined && value < s.min) out.push(`${path}: ${value} < ${s.min}`);
      if (s.max !== undefined && value > s.max) out.push(`${path}: ${value} > ${s.max}`);
      return out;
    case "float":
    case "double":
      return typeof value === "number" ? [] : [`${path}: expected a number`];
    case "boolean":
      return typeof value === "boolean" ? [] : [`${path}: expected a boolean`];
    case "timestamp":
      // AWS JSON 1.1 sends timestamps as epoch seconds; the query protocol (XML) as ISO 8601.
      return typeof value === "number" || (typeof value === "string" && !Number.isNaN(Date.parse(value))) ? [] : [`${path}: expected a timestamp`];
    default:
      return [`${path}: shape type ${s.type} not handled by this check`];
  }
}

/** A tiny XML reader for STS answers: nested elements to objects, `<member>` runs to lists, text to strings. */
export function xmlToObject(xml: string): Record<string, unknown> {
  const tokens = xml.replace(/<\?xml[^>]*\?>/, "").match(/<\/?[A-Za-z][^>]*>|[^<]+/g) ?? [];
  let i = 0;
  const unescape = (t: string) => t.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&amp;/g, "&");
  const element = (): unknown => {
    const children: [string, unknown][] = [];
    let text = "";
    while (i < tokens.length) {
      const t = tokens[i++]!;
      if (t.startsWith("</")) break;
      if (t.startsWith("<")) {
        const name = /^<([A-Za-z][\w.-]*)/.exec(t)![1]!;
        children.push([name, t.endsWith("/>") ? "" : element()]);
      } else text += t;
    }
    if (children.length === 0) return unescape(text.trim());
    if (children.every(([n]) => n === "member")) return children.map(([, v]) => v);
    return Object.fromEntries(children);
  };
  return element() as Record<string, unknown>;
}

// ---------- one bad request per input constraint ----------

export type ConstraintKind = "required" | "type" | "min" | "max" | "pattern" | "enum";

export interface ConstraintCase {
  operation: string;
  /** Member path in the input, as AWS names it in messages (lowerCamel, `.1.member` for list items). */
  path: string;
  /** The top-level input member the case is about. */
  member: string;
  kind: ConstraintKind;
  /** The whole request body (JSON protocol) or structure to form-encode (query protocol). */
  request: Record<string, unknown>;
}

/**
 * Valid values for members whose shape has a pattern or a meaning (ARNs name resources in the caller's
 * account that do not exist, so a request that passed validation would be answered ResourceNotFound).
 */
export const EXAMPLES: Record<string, unknown> = {
  ProjectArn: "arn:aws:rekognition:us-east-1:123456789012:project/ghost/1",
  ProjectVersionArn: "arn:aws:rekognition:us-east-1:123456789012:project/ghost/version/v1/1",
  ResourceArn: "arn:aws:rekognition:us-east-1:123456789012:project/ghost/version/v1/1",
  ProjectName: "ghost",
  VersionName: "v1",
  S3Bucket: "bucket",
  S3KeyPrefix: "prefix/",
  KmsKeyId: "key-1",
  TagKey: "k",
  TagValue: "v",
  ExtendedPaginationToken: "token",
  InferenceUnits: 1,
  ProjectsPageSize: 10,
  ProjectVersionsPageSize: 10,
  arnType: "arn:aws:iam::210987654321:role/conformance",
  roleSessionNameType: "session",
  externalIdType: "external-id",
  serialNumberType: "arn:aws:iam::123456789012:mfa/user",
  tokenCodeType: "123456",
  sourceIdentityType: "source",
  tagKeyType: "k",
  tagValueType: "v",
  unrestrictedSessionPolicyDocumentType: '{"Version":"2012-10-17","Statement":[]}',
  contextAssertionType: "assertion",
  roleDurationSecondsType: 3600,
};

/** An operation's request with its required members only, each valid. */
export function baseRequest(model: Model, operation: string): Record<string, unknown> {
  const s = model.shapes[model.operations[operation]!.input!.shape]!;
  return Object.fromEntries((s.required ?? []).map((r) => [r, validValue(model, s.members![r]!.shape)]));
}

const ABSENT = Symbol("absent");
type Place = (value: unknown) => Record<string, unknown>;

/** A valid value of a shape: its example, else the least that satisfies it. */
export function validValue(model: Model, name: string): unknown {
  if (name in EXAMPLES) return EXAMPLES[name];
  const s = model.shapes[name]!;
  switch (s.type) {
    case "string":
      if (s.enum) return s.enum[0];
      if (s.pattern) throw new Error(`shape ${name} has a pattern (${s.pattern}): give it an example in EXAMPLES`);
      return "x".repeat(Math.max(s.min ?? 1, 1));
    case "integer":
    case "long":
      return s.min ?? 1;
    case "boolean":
      return true;
    case "list":
      return Array.from({ length: s.min ?? 1 }, () => validValue(model, s.member!.shape));
    case "map":
      return { [validValue(model, s.key!.shape) as string]: validValue(model, s.value!.shape) };
    case "structure": {
      // Required members; a structure with none gets its first member, so that it is not empty (an empty
      // structure vanishes in the query protocol, and a list of them with it).
      const names = s.required?.length ? s.required : Object.keys(s.members ?? {}).slice(0, 1);
      return Object.fromEntries(names.map((r) => [r, validValue(model, s.members![r]!.shape)]));
    }
    default:
      throw new Error(`shape ${name}: no valid value for type ${s.type}`);
  }
}

/** Distinct valid values for list items (a list over its max must not be refused for something else). */
function nthValid(model: Model, name: string, n: number): unknown {
  const v = validValue(model, name);
  const s = model.shapes[name]!;
  if (s.type === "string" && !s.enum) {
    const candidate = `${v as string}${n}`;
    if (!s.pattern || matches(s.pattern, candidate)) return candidate;
  }
  return v;
}

/** A string that breaks `pattern` and nothing else: the example with one character inserted or replaced. */
export function patternBreaker(model: Model, name: string): string {
  const s = model.shapes[name]!;
  const example = String(validValue(model, name));
  for (const bad of ["#", "\u0001", " ", "\u00e9"]) {
    const mid = Math.floor(example.length / 2);
    for (const v of [example.slice(0, mid) + bad + example.slice(mid), example.slice(0, mid) + bad + example.slice(mid + 1), bad + example.slice(1)]) {
      const len = [...v].length;
      if ((s.min === undefined || len >= s.min) && (s.max === undefined || len <= s.max) && !matches(s.pattern!, v)) return v;
    }
  }
  throw new Error(`no value breaks the pattern of ${name} (${s.pattern}) within its length`);
}

/** JSON of the wrong type for a shape (what a client that ignores the model would send). */
function wrongType(s: ModelShape): unknown {
  switch (s.type) {
    case "string":
      return 123;
    case "integer":
    case "long":
      return "12";
    case "boolean":
      return "true";
    case "list":
      return "not-a-list";
    case "map":
      return ["not-a-map"];
    default:
      return "not-a-structure";
  }
}

/** Every input constraint of `operation`, each as a request breaking it and nothing else. */
export function constraintCases(model: Model, operation: string): ConstraintCase[] {
  const query = model.metadata.protocol === "query";
  const inputName = model.operations[operation]!.input!.shape;
  const out: ConstraintCase[] = [];
  const add = (path: string, member: string, kind: ConstraintKind, request: Record<string, unknown>) => out.push({ operation, path, member, kind, request });

  const walk = (name: string, place: Place, path: string, member: string) => {
    const s = model.shapes[name]!;
    // The query protocol carries every value as text: only a number that is not one has the wrong type.
    if (!query || s.type === "integer" || s.type === "long") {
      if (s.type !== "structure" || !query) add(path, member, "type", place(query ? "not-a-number" : wrongType(s)));
    }
    switch (s.type) {
      case "structure": {
        const base = validValue(model, name) as Record<string, unknown>;
        for (const [m, ref] of Object.entries(s.members ?? {})) {
          const placeMember: Place = (v) => {
            const copy = { ...base };
            if (v === ABSENT) delete copy[m];
            else copy[m] = v;
            return place(copy);
          };
          const childPath = path ? `${path}.${camel(m)}` : camel(m);
          const top = member || m;
          if (s.required?.includes(m)) add(childPath, top, "required", placeMember(ABSENT));
          walk(ref.shape, placeMember, childPath, top);
        }
        return;
      }
      case "list": {
        const item = s.member!.shape;
        if (s.min !== undefined && s.min > 0) add(path, member, "min", place([]));
        if (s.max !== undefined) add(path, member, "max", place(Array.from({ length: s.max + 1 }, (_, i) => nthValid(model, item, i))));
        const pad = Array.from({ length: Math.max((s.min ?? 1) - 1, 0) }, (_, i) => nthValid(model, item, i + 1));
        walk(item, (v) => place([v, ...pad]), `${path}.1.member`, member);
        return;
      }
      case "map": {
        const keyShape = s.key!.shape;
        const valueShape = s.value!.shape;
        if (s.min !== undefined && s.min > 0) add(path, member, "min", place({}));
        if (s.max !== undefined) {
          add(path, member, "max", place(Object.fromEntries(Array.from({ length: s.max + 1 }, (_, i) => [nthValid(model, keyShape, i), validValue(model, valueShape)]))));
        }
        // JSON keys are always strings: a map key has every constraint but type.
        const keyCases: ConstraintCase[] = [];
        const keyOut = out.length;
        walk(keyShape, (k) => place({ [String(k)]: validValue(model, valueShape) }), `${path}.key`, member);
        keyCases.push(...out.splice(keyOut).filter((c) => c.kind !== "type"));
        out.push(...keyCases);
        walk(valueShape, (v) => place({ [String(validValue(model, keyShape))]: v }), `${path}.member`, member);
        return;
      }
      case "string":
        if (s.min !== undefined && s.min > 0) add(path, member, "min", place("a".repeat(s.min - 1)));
        if (s.max !== undefined) add(path, member, "max", place("a".repeat(s.max + 1)));
        if (s.pattern !== undefined) add(path, member, "pattern", place(patternBreaker(model, name)));
        if (s.enum !== undefined) add(path, member, "enum", place("NOT_AN_ENUM_VALUE"));
        return;
      case "integer":
      case "long":
        if (s.min !== undefined) add(path, member, "min", place(s.min - 1));
        if (s.max !== undefined) add(path, member, "max", place(s.max + 1));
        return;
      default:
        return;
    }
  };
  walk(inputName, (v) => v as Record<string, unknown>, "", "");
  // The root structure itself has no "type" case worth sending (the body is always an object).
  return out.filter((c) => c.path !== "");
}

/** A structure as query-protocol form parameters (STS): lists as `.member.N`, nested members dotted. */
export function toQuery(action: string, version: string, input: Record<string, unknown>): URLSearchParams {
  const params = new URLSearchParams({ Action: action, Version: version });
  const put = (prefix: string, v: unknown) => {
    if (Array.isArray(v)) {
      if (v.length === 0) params.set(prefix, "");
      v.forEach((item, i) => put(`${prefix}.member.${i + 1}`, item));
    } else if (v !== null && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) put(`${prefix}.${k}`, x);
    } else params.set(prefix, String(v));
  };
  for (const [k, v] of Object.entries(input)) put(k, v);
  return params;
}
