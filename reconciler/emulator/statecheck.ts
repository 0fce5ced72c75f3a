// State files checked before the emulator loads them: every problem at once, as `path: message`.
import { readFile } from "node:fs/promises";
import { NAME_PATTERN, VERSION_ARN_PATTERN } from "./arns.js";
import {
  ADAPTER_ONLY_STATUSES,
  EmulatorStateError,
  parseAge,
  AUTO_UPDATES,
  DEFAULT_REGION,
  FEATURES,
  NEVER_ADAPTER_STATUSES,
  PROJECT_STATUSES,
  VERSION_STATUSES,
  type EmulatorStateFile,
} from "./state.js";

const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const ACCOUNT_PATTERN = /^\d{12}$/;
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// The Rekognition model's TagKey and TagValue patterns. The aws: prefix check is case-sensitive, as the model's
// pattern is: "AWS:x" is an ordinary key.
const TAG_KEY = /^(?!aws:)[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/** Checks one tag set against the Rekognition limits; returns messages without a path prefix. */
export function tagProblems(tags: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const keys = Object.keys(tags);
  if (keys.length > 200) problems.push(`${keys.length} tags, at most 200 allowed`);
  for (const key of keys) {
    const value = tags[key];
    const length = [...key].length;
    if (length < 1 || length > 128) problems.push(`tag key "${key}" must be 1..128 characters`);
    // AWS reserves the aws: prefix for its own tags; users cannot set or remove them.
    if (key.startsWith("aws:")) problems.push(`tag key "${key}" must not start with "aws:"`);
    else if (!TAG_KEY.test(key)) problems.push(`tag key "${key}" may hold only letters, digits, spaces and _ . : / = + - @`);
    if (typeof value !== "string") problems.push(`tag "${key}" must have a string value`);
    else if ([...value].length > 256) problems.push(`tag "${key}" value must be at most 256 characters`);
    else if (!TAG_VALUE.test(value)) problems.push(`tag "${key}" value may hold only letters, digits, spaces and _ . : / = + - @`);
  }
  return problems;
}

const PROJECT_KEYS = new Set(["name", "account", "region", "feature", "age", "createdAt", "status", "autoUpdate", "tags", "versions"]);
const VERSION_KEYS = new Set([
  "name",
  "status",
  "age",
  "createdAt",
  "tags",
  "sourceVersion",
  "sourceVersionArn",
  "statusMessage",
  "description",
  "minInferenceUnits",
  "maxInferenceUnits",
  "baseModelVersion",
]);

function checkEnum(errors: string[], path: string, value: unknown, allowed: readonly string[], what: string): void {
  if (value === undefined) return;
  if (typeof value !== "string" || !allowed.includes(value)) {
    errors.push(`${path}: unknown ${what} ${JSON.stringify(value)} (expected one of ${allowed.join(", ")})`);
  }
}

function checkTime(errors: string[], path: string, obj: Record<string, unknown>): void {
  if (obj.age !== undefined && obj.createdAt !== undefined) {
    errors.push(`${path}: give either "age" or "createdAt", not both`);
  }
  if (obj.age !== undefined && (typeof obj.age !== "string" || parseAge(obj.age) === undefined)) {
    errors.push(`${path}.age: ${JSON.stringify(obj.age)} is not a duration like "30d", "2h", "1d12h"`);
  }
  if (obj.createdAt !== undefined) {
    if (typeof obj.createdAt !== "string" || !ISO_WITH_ZONE.test(obj.createdAt) || Number.isNaN(Date.parse(obj.createdAt))) {
      errors.push(`${path}.createdAt: ${JSON.stringify(obj.createdAt)} is not an ISO time with a zone like "2025-01-01T00:00:00Z"`);
    }
  }
}

function checkTags(errors: string[], path: string, tags: unknown): void {
  if (tags === undefined) return;
  if (!isRecord(tags)) {
    errors.push(`${path}.tags: must be an object of string values`);
    return;
  }
  for (const p of tagProblems(tags)) errors.push(`${path}.tags: ${p}`);
}

function checkName(errors: string[], path: string, name: unknown): name is string {
  if (typeof name !== "string") {
    errors.push(`${path}.name: required string`);
    return false;
  }
  if (!NAME_PATTERN.test(name)) {
    errors.push(`${path}.name: ${JSON.stringify(name)} must match [a-zA-Z0-9_.\\-]{1,255}`);
    return false;
  }
  return true;
}

/**
 * Validates an already-parsed state file. Returns every problem at once (as `path: message`), so a
 * fixture author fixes them in one round rather than one per run.
 */
/** A project entry's own fields; the names of its versions, for sourceVersion references in any order. */
function checkProject(p: unknown, path: string, errors: string[], versionNames: Map<string, Set<string>>, seenProjects: Set<string>): void {
  if (!isRecord(p)) {
    errors.push(`${path}: must be an object`);
    return;
  }
  for (const key of Object.keys(p)) if (!PROJECT_KEYS.has(key)) errors.push(`${path}.${key}: unknown field`);
  const region = p.region ?? DEFAULT_REGION;
  if (typeof region !== "string" || !REGION_PATTERN.test(region)) {
    errors.push(`${path}.region: ${JSON.stringify(p.region)} is not a region like "us-east-1"`);
  }
  if (p.account !== undefined && (typeof p.account !== "string" || !ACCOUNT_PATTERN.test(p.account))) {
    errors.push(`${path}.account: ${JSON.stringify(p.account)} must be 12 digits`);
  }
  const acct = typeof p.account === "string" ? p.account : "";
  const named = checkName(errors, path, p.name);
  if (named) {
    const key = `${acct}/${String(region)}/${p.name as string}`;
    if (seenProjects.has(key)) errors.push(`${path}.name: duplicate project "${p.name as string}" in ${String(region)}${acct ? ` (account ${acct})` : ""}`);
    seenProjects.add(key);
  }
  checkEnum(errors, `${path}.feature`, p.feature, FEATURES, "feature");
  checkEnum(errors, `${path}.status`, p.status, PROJECT_STATUSES, "project status");
  checkEnum(errors, `${path}.autoUpdate`, p.autoUpdate, AUTO_UPDATES, "autoUpdate");
  checkTime(errors, path, p);
  checkTags(errors, path, p.tags);
  if (p.versions !== undefined && !Array.isArray(p.versions)) {
    errors.push(`${path}.versions: must be an array`);
    return;
  }
  const names = new Set<string>();
  (p.versions ?? []).forEach((v: unknown, j: number) => {
    if (isRecord(v) && typeof v.name === "string") {
      if (names.has(v.name)) errors.push(`${path}.versions[${j}].name: duplicate version "${v.name}" in project`);
      names.add(v.name);
    }
  });
  if (named) versionNames.set(`${acct}/${String(region)}/${p.name as string}`, names);
}

/** Where a version sits, for its checks. */
interface VersionPlace {
  project: Record<string, unknown>;
  region: string;
  acct: string;
  adapter: boolean;
  versionNames: Map<string, Set<string>>;
}

function checkVersionStatus(errors: string[], vpath: string, v: Record<string, unknown>, adapter: boolean): void {
  if (v.status === undefined) errors.push(`${vpath}.status: required (one of ${VERSION_STATUSES.join(", ")})`);
  else checkEnum(errors, `${vpath}.status`, v.status, VERSION_STATUSES, "status");
  if (typeof v.status !== "string") return;
  if (adapter && NEVER_ADAPTER_STATUSES.has(v.status)) errors.push(`${vpath}.status: adapters (CONTENT_MODERATION) are never ${v.status}`);
  if (!adapter && ADAPTER_ONLY_STATUSES.has(v.status)) errors.push(`${vpath}.status: only adapters (CONTENT_MODERATION) can be ${v.status}`);
}

function checkUnits(errors: string[], vpath: string, v: Record<string, unknown>): void {
  if (v.minInferenceUnits !== undefined && (!Number.isInteger(v.minInferenceUnits) || (v.minInferenceUnits as number) < 1)) {
    errors.push(`${vpath}.minInferenceUnits: must be a positive integer`);
  }
  if (v.maxInferenceUnits === undefined) return;
  if (!Number.isInteger(v.maxInferenceUnits) || (v.maxInferenceUnits as number) < 1) errors.push(`${vpath}.maxInferenceUnits: must be a positive integer`);
  else if (typeof v.minInferenceUnits === "number" && (v.maxInferenceUnits as number) < v.minInferenceUnits) {
    errors.push(`${vpath}.maxInferenceUnits: must be >= minInferenceUnits`);
  }
}

function checkSource(errors: string[], vpath: string, v: Record<string, unknown>, at: VersionPlace): void {
  if (v.sourceVersion !== undefined && v.sourceVersionArn !== undefined) errors.push(`${vpath}: give either "sourceVersion" or "sourceVersionArn", not both`);
  if ((v.sourceVersion !== undefined || v.sourceVersionArn !== undefined) && at.adapter)
    errors.push(`${vpath}: adapters (CONTENT_MODERATION) cannot be copies`);
  if (v.sourceVersion !== undefined) {
    const ref = v.sourceVersion;
    if (typeof ref !== "string") errors.push(`${vpath}.sourceVersion: must be a string`);
    else {
      const [proj, ver] = ref.includes("/") ? ref.split("/", 2) : [at.project.name as string, ref];
      const known = at.versionNames.get(`${at.acct}/${at.region}/${proj ?? ""}`);
      if (!known?.has(ver ?? "")) errors.push(`${vpath}.sourceVersion: no version "${ver ?? ""}" in project "${proj ?? ""}" (${at.region})`);
      else if (proj === at.project.name && ver === v.name) errors.push(`${vpath}.sourceVersion: a version cannot be a copy of itself`);
    }
  }
  if (v.sourceVersionArn !== undefined && (typeof v.sourceVersionArn !== "string" || !VERSION_ARN_PATTERN.test(v.sourceVersionArn))) {
    errors.push(`${vpath}.sourceVersionArn: ${JSON.stringify(v.sourceVersionArn)} is not a project version ARN`);
  }
}

function checkVersion(v: unknown, vpath: string, errors: string[], at: VersionPlace): void {
  if (!isRecord(v)) {
    errors.push(`${vpath}: must be an object`);
    return;
  }
  for (const key of Object.keys(v)) if (!VERSION_KEYS.has(key)) errors.push(`${vpath}.${key}: unknown field`);
  checkName(errors, vpath, v.name);
  checkVersionStatus(errors, vpath, v, at.adapter);
  checkTime(errors, vpath, v);
  checkTags(errors, vpath, v.tags);
  for (const key of ["statusMessage", "description", "baseModelVersion"] as const) {
    if (v[key] !== undefined && typeof v[key] !== "string") errors.push(`${vpath}.${key}: must be a string`);
  }
  if (v.baseModelVersion !== undefined && !at.adapter) errors.push(`${vpath}.baseModelVersion: only adapters have a base model`);
  checkUnits(errors, vpath, v);
  checkSource(errors, vpath, v, at);
}

/** Every problem with a state file, as `path: message`; the state when there is none. */
export function validateStateFile(raw: unknown): { state: EmulatorStateFile } | { errors: string[] } {
  const errors: string[] = [];
  if (!isRecord(raw)) return { errors: ['(root): must be an object with a "projects" array'] };
  for (const key of Object.keys(raw)) {
    if (key !== "account" && key !== "projects") errors.push(`${key}: unknown field`);
  }
  if (raw.account !== undefined && (typeof raw.account !== "string" || !ACCOUNT_PATTERN.test(raw.account))) {
    errors.push(`account: ${JSON.stringify(raw.account)} must be 12 digits`);
  }
  if (!Array.isArray(raw.projects)) {
    errors.push("projects: required array");
    return { errors };
  }
  // First pass: collect names per region so sourceVersion references can be resolved in any order.
  const versionNames = new Map<string, Set<string>>(); // "account/region/project" → version names
  const seenProjects = new Set<string>();
  raw.projects.forEach((p, i) => checkProject(p, `projects[${i}]`, errors, versionNames, seenProjects));
  raw.projects.forEach((p, i) => {
    if (!isRecord(p) || !Array.isArray(p.versions)) return;
    const at: VersionPlace = {
      project: p,
      region: typeof p.region === "string" ? p.region : DEFAULT_REGION,
      acct: typeof p.account === "string" ? p.account : "",
      adapter: p.feature === "CONTENT_MODERATION",
      versionNames,
    };
    p.versions.forEach((v: unknown, j: number) => checkVersion(v, `projects[${i}].versions[${j}]`, errors, at));
  });
  if (errors.length > 0) return { errors };
  return { state: raw as unknown as EmulatorStateFile };
}

/** Reads and validates a JSON state file; throws EmulatorStateError naming each bad field. */
export async function loadStateFile(path: string): Promise<EmulatorStateFile> {
  const text = await readFile(path, "utf8");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new EmulatorStateError(path, [`(root): not valid JSON: ${(err as Error).message}`]);
  }
  const result = validateStateFile(raw);
  if ("errors" in result) throw new EmulatorStateError(path, result.errors);
  return result.state;
}
