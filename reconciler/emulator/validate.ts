// Input validation against the service model's constraints (required, type, length, range, pattern, enum,
// list and map size), done before an operation looks anything up, as AWS does. The shapes themselves are in
// model.ts, generated from the AWS model the conformance tests also read.

export type Shape =
  | { type: "string"; min?: number; max?: number; pattern?: string; enum?: readonly string[] }
  | { type: "integer" | "long"; min?: number; max?: number }
  | { type: "boolean" }
  | { type: "timestamp" }
  | { type: "list"; member: Shape; min?: number; max?: number }
  | { type: "map"; key: Shape; value: Shape; min?: number; max?: number }
  | { type: "structure"; members: Readonly<Record<string, Shape>>; required?: readonly string[] };

export type ViolationKind = "required" | "type" | "min" | "max" | "pattern" | "enum";

/** The first constraint a request breaks: where (`path`, lowerCamel as AWS reports it), which, and the wording. */
export interface Violation {
  /** The top-level input member it concerns, e.g. MaxResults. */
  member: string;
  path: string;
  kind: ViolationKind;
  message: string;
}

const patterns = new Map<string, RegExp>();
// Model patterns are matched against the whole value (as the services' Java validators do), with Unicode
// classes such as \p{L} understood.
function regex(pattern: string): RegExp {
  let r = patterns.get(pattern);
  if (!r) {
    r = new RegExp(`^(?:${pattern})$`, "u");
    patterns.set(pattern, r);
  }
  return r;
}

const camel = (name: string) => name.charAt(0).toLowerCase() + name.slice(1);
const show = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

/** The first violation of `shape` by `input` (a parsed request body), in member order; undefined when valid. */
export function firstViolation(shape: Extract<Shape, { type: "structure" }>, input: Record<string, unknown>): Violation | undefined {
  for (const [name, member] of Object.entries(shape.members)) {
    const v = check(member, input[name], camel(name), name, shape.required?.includes(name) ?? false);
    if (v) return v;
  }
  return undefined;
}

function violation(member: string, path: string, kind: ViolationKind, value: unknown, constraint: string): Violation {
  const shown = value === undefined || value === null ? "null" : `'${show(value)}'`;
  return { member, path, kind, message: `1 validation error detected: Value ${shown} at '${path}' failed to satisfy constraint: ${constraint}` };
}

function check(shape: Shape, value: unknown, path: string, member: string, required: boolean): Violation | undefined {
  if (value === undefined || value === null) return required ? violation(member, path, "required", value, "Member must not be null") : undefined;
  switch (shape.type) {
    case "string": {
      if (typeof value !== "string") return violation(member, path, "type", value, "Member must be a string");
      // Lengths count characters (code points), as the model's length trait does.
      const length = [...value].length;
      if (shape.min !== undefined && length < shape.min)
        return violation(member, path, "min", value, `Member must have length greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && length > shape.max)
        return violation(member, path, "max", value, `Member must have length less than or equal to ${shape.max}`);
      if (shape.pattern !== undefined && !regex(shape.pattern).test(value)) {
        return violation(member, path, "pattern", value, `Member must satisfy regular expression pattern: ${shape.pattern}`);
      }
      if (shape.enum !== undefined && !shape.enum.includes(value))
        return violation(member, path, "enum", value, `Member must satisfy enum value set: [${shape.enum.join(", ")}]`);
      return undefined;
    }
    case "integer":
    case "long": {
      if (typeof value !== "number" || !Number.isInteger(value)) return violation(member, path, "type", value, `Member must be an ${shape.type}`);
      if (shape.min !== undefined && value < shape.min)
        return violation(member, path, "min", value, `Member must have value greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && value > shape.max)
        return violation(member, path, "max", value, `Member must have value less than or equal to ${shape.max}`);
      return undefined;
    }
    case "boolean":
      return typeof value === "boolean" ? undefined : violation(member, path, "type", value, "Member must be a boolean");
    case "timestamp":
      return typeof value === "number" ? undefined : violation(member, path, "type", value, "Member must be a timestamp");
    case "list": {
      if (!Array.isArray(value)) return violation(member, path, "type", value, "Member must be a list");
      if (shape.min !== undefined && value.length < shape.min)
        return violation(member, path, "min", value, `Member must have length greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && value.length > shape.max)
        return violation(member, path, "max", value, `Member must have length less than or equal to ${shape.max}`);
      for (let i = 0; i < value.length; i++) {
        // A null list item is a missing value where one is required.
        const v = check(shape.member, value[i], `${path}.${i + 1}.member`, member, true);
        if (v) return v;
      }
      return undefined;
    }
    case "map": {
      if (typeof value !== "object" || Array.isArray(value)) return violation(member, path, "type", value, "Member must be a map");
      const entries = Object.entries(value as Record<string, unknown>);
      if (shape.min !== undefined && entries.length < shape.min)
        return violation(member, path, "min", value, `Member must have length greater than or equal to ${shape.min}`);
      if (shape.max !== undefined && entries.length > shape.max)
        return violation(member, path, "max", value, `Member must have length less than or equal to ${shape.max}`);
      for (const [k, v] of entries) {
        const bad = check(shape.key, k, `${path}.key`, member, true) ?? check(shape.value, v, `${path}.${k}.member`, member, true);
        if (bad) return bad;
      }
      return undefined;
    }
    case "structure": {
      if (typeof value !== "object" || Array.isArray(value)) return violation(member, path, "type", value, "Member must be a structure");
      for (const [name, m] of Object.entries(shape.members)) {
        const v = check(m, (value as Record<string, unknown>)[name], `${path}.${camel(name)}`, member, shape.required?.includes(name) ?? false);
        if (v) return v;
      }
      return undefined;
    }
  }
}

/**
 * A query-protocol (STS) form as the structure it encodes: `Tags.member.1.Key=k` → `{Tags: [{Key: "k"}]}`,
 * numbers for integer members. A value that is not a number where one is expected stays a string, so the
 * validator reports it as a type error.
 */
export function fromQuery(params: URLSearchParams, shape: Extract<Shape, { type: "structure" }>): Record<string, unknown> {
  const read = (s: Shape, prefix: string): unknown => {
    switch (s.type) {
      case "structure": {
        const out: Record<string, unknown> = {};
        for (const [name, m] of Object.entries(s.members)) {
          const v = read(m, prefix ? `${prefix}.${name}` : name);
          if (v !== undefined) out[name] = v;
        }
        return prefix && Object.keys(out).length === 0 ? undefined : out;
      }
      case "list": {
        const items: unknown[] = [];
        // An empty list is sent as `Name=` (key present, no members).
        if (params.has(prefix) && params.get(prefix) === "") return items;
        for (let i = 1; ; i++) {
          const item = read(s.member, `${prefix}.member.${i}`);
          if (item === undefined) break;
          items.push(item);
        }
        return items.length > 0 ? items : undefined;
      }
      case "integer":
      case "long": {
        const raw = params.get(prefix);
        if (raw === null) return undefined;
        return /^-?\d+$/.test(raw) ? Number(raw) : raw;
      }
      case "boolean": {
        const raw = params.get(prefix);
        return raw === null ? undefined : raw === "true" ? true : raw === "false" ? false : raw;
      }
      default:
        return params.get(prefix) ?? undefined;
    }
  };
  return read(shape, "") as Record<string, unknown>;
}
