// JSON Schema validation (ajv) of parsed documents, with errors mapped back to file:line:col.
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { ValidationIssue } from "../errors.js";
import { packageRoot } from "../paths.js";
import type { ParsedDoc } from "./yaml.js";

export const API_VERSION = "rekon.dev/v1alpha1";
export const KINDS = ["ProjectVersionSet", "DeletionPolicy"] as const;
export type Kind = (typeof KINDS)[number];

const SCHEMA_FILES: Record<Kind, string> = {
  ProjectVersionSet: "projectversionset.schema.json",
  DeletionPolicy: "deletionpolicy.schema.json",
};

let validators: Record<Kind, ValidateFunction> | undefined;

function compiled(): Record<Kind, ValidateFunction> {
  if (validators) return validators;
  // allErrors: report every problem at once; verbose: keep parentSchema so messages can name allowed fields.
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
  // `x-fix` carries the human fix for a field; it is documentation, not a validation keyword.
  ajv.addVocabulary(["x-fix"]);
  const out = {} as Record<Kind, ValidateFunction>;
  for (const kind of KINDS) {
    const schema = JSON.parse(readFileSync(join(packageRoot(), "schemas", SCHEMA_FILES[kind]), "utf8"));
    out[kind] = ajv.compile(schema);
  }
  return (validators = out);
}

/** Identify the document's kind. Returns issues (not a throw) when apiVersion/kind are wrong. */
export function identify(doc: ParsedDoc): { kind?: Kind; issues: ValidationIssue[] } {
  const v = doc.value;
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    return {
      issues: [
        {
          file: doc.file,
          ...doc.locate([]),
          path: "",
          message: `document ${doc.index + 1} is ${describe(v)}, not a mapping with apiVersion, kind, metadata and spec`,
          fix: `start the document with "apiVersion: ${API_VERSION}" and "kind: ProjectVersionSet"`,
        },
      ],
    };
  }
  const obj = v as Record<string, unknown>;
  const issues: ValidationIssue[] = [];
  if (obj.apiVersion !== API_VERSION) {
    issues.push({
      file: doc.file,
      ...doc.locate(["apiVersion"]),
      path: "apiVersion",
      message: obj.apiVersion === undefined ? "required field is missing" : `unknown apiVersion ${JSON.stringify(obj.apiVersion)}`,
      fix: `use apiVersion: ${API_VERSION}`,
    });
  }
  if (!KINDS.includes(obj.kind as Kind)) {
    issues.push({
      file: doc.file,
      ...doc.locate(["kind"]),
      path: "kind",
      message: obj.kind === undefined ? "required field is missing" : `unknown kind ${JSON.stringify(obj.kind)}`,
      fix: `use one of: ${KINDS.join(", ")}`,
    });
  }
  return issues.length ? { issues } : { kind: obj.kind as Kind, issues };
}

export function validateAgainstSchema(doc: ParsedDoc, kind: Kind): ValidationIssue[] {
  const validate = compiled()[kind];
  if (validate(doc.value)) return [];
  const issues = (validate.errors ?? []).map((e) => toIssue(doc, e)).filter((i): i is ValidationIssue => i !== undefined);
  // ajv may report one field twice (e.g. type and pattern); keep the first per location and message.
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.line}:${i.col}:${i.path}:${i.message}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
}

function toIssue(doc: ParsedDoc, e: ErrorObject): ValidationIssue | undefined {
  const path = pointerToPath(e.instancePath);
  const fix = (e.parentSchema as Record<string, unknown> | undefined)?.["x-fix"] as string | undefined;
  // A bad map key: ajv reports the key's own failure (with propertyName set), then a generic
  // "property name must be valid"; the first says what is wrong, so keep only it, at the key.
  if (e.keyword === "propertyNames") return undefined;
  const key = (e as ErrorObject & { propertyName?: string }).propertyName;
  if (key !== undefined) {
    const allowed = e.keyword === "enum" ? (e.params as { allowedValues: unknown[] }).allowedValues : undefined;
    return {
      file: doc.file,
      ...doc.locate([...path, key], true),
      path: joinPath([...path, key]),
      message: allowed ? `unknown key "${key}"` : `invalid key "${key}"`,
      fix: allowed ? `use one of: ${allowed.join(", ")}` : fix,
    };
  }
  switch (e.keyword) {
    case "required": {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      // Point at the parent's key ("spec:"), where the missing field has to be added.
      return {
        file: doc.file,
        ...doc.locate(path, true),
        path: joinPath([...path, missing]),
        message: "required field is missing",
        fix: `add "${missing}:" under ${path.length ? joinPath(path) : "the document"}`,
      };
    }
    case "additionalProperties": {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      const allowed = Object.keys(((e.parentSchema as { properties?: object }) ?? {}).properties ?? {});
      const close = closest(extra, allowed);
      return {
        file: doc.file,
        ...doc.locate([...path, extra], true),
        path: joinPath([...path, extra]),
        message: `unknown field "${extra}"`,
        fix: close ? `did you mean "${close}"? allowed here: ${allowed.join(", ")}` : `remove it; allowed here: ${allowed.join(", ")}`,
      };
    }
    case "type":
      return {
        file: doc.file,
        ...doc.locate(path),
        path: joinPath(path),
        message: `must be ${article((e.params as { type: string }).type)}, got ${describe(e.data)}`,
        fix: fix ?? ((e.params as { type: string }).type === "string" && typeof e.data === "number" ? "quote the value" : undefined),
      };
    case "pattern":
      return {
        file: doc.file,
        ...doc.locate(path),
        path: joinPath(path),
        message: `invalid value ${JSON.stringify(e.data)}`,
        fix,
      };
    case "const":
      return {
        file: doc.file,
        ...doc.locate(path),
        path: joinPath(path),
        message: `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}, got ${JSON.stringify(e.data)}`,
        fix,
      };
    case "uniqueItems": {
      const { i, j } = e.params as { i: number; j: number };
      return {
        file: doc.file,
        ...doc.locate([...path, i]),
        path: joinPath([...path, i]),
        message: `repeats ${joinPath([...path, j])}`,
        fix: "remove the repeated entry",
      };
    }
    case "enum":
      return {
        file: doc.file,
        ...doc.locate(path),
        path: joinPath(path),
        message: `must be one of: ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")}`,
        fix,
      };
    default:
      return { file: doc.file, ...doc.locate(path), path: joinPath(path), message: e.message ?? e.keyword, fix };
  }
}

/** `/spec/versions/1/name` → ["spec", "versions", 1, "name"] */
function pointerToPath(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** ["spec", "versions", 1, "name"] → `spec.versions[1].name` */
export function joinPath(path: (string | number)[]): string {
  return path.reduce<string>((acc, seg) => (typeof seg === "number" ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), "");
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)}`;
  return `${typeof v} ${String(v)}`;
}

function article(type: string): string {
  const words: Record<string, string> = { object: "a mapping", array: "a list", integer: "a whole number", boolean: "true or false" };
  return words[type] ?? `a ${type}`;
}

/** The allowed name within edit distance 2, to turn a typo into a suggestion. */
function closest(word: string, options: string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const o of options) {
    const d = editDistance(word.toLowerCase(), o.toLowerCase());
    if (d < bestD) [best, bestD] = [o, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
