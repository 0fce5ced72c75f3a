// An embedded Amazon Rekognition endpoint (AWS JSON 1.1 over node:http) for tests, demos and dry runs.
//
// Faithful enough that the real AWS SDK v3 client and the AWS CLI (botocore) both work against it unchanged:
// that is the point, because the second client checks that the emulator speaks AWS rather than speaking rekon.
// Imports nothing from the rest of rekon (see state.ts for why).
//
// Several accounts: a project may name its own `account` (state.ts). Callers are in the default account
// unless they sign with credentials from the emulator's STS AssumeRole (same port; point
// AWS_ENDPOINT_URL_STS at it), which hands out keys for the account in the role ARN. As on AWS, each
// account and region is its own world, and per-operation rate limits apply per (account, region).
//
// Admin paths for tests that run the emulator in another process (no auth; loopback callers only):
//   GET  /_emulator/calls        → CallRecord[]
//   POST /_emulator/reset-calls  → 204
//   PUT  /_emulator/faults       → body FaultConfig, replaces the current one
//   GET  /_emulator/state        → snapshot (EmulatorStateFile)

import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { demoState } from "./demo.js";
import {
  FEATURES,
  IN_USE_STATUSES,
  NAME_PATTERN,
  VERSION_ARN_PATTERN,
  buildLiveState,
  defaultStatusMessage,
  tagProblems,
  toStateFile,
  type EmulatorStateFile,
  type LiveState,
  type Project,
  type Version,
} from "./state.js";

export interface EmulatorOptions {
  /** Seed inventory. Defaults to demoState(). */
  state?: EmulatorStateFile;
  /** Defaults to 0: a free port chosen by the OS. */
  port?: number;
  /** Defaults to 127.0.0.1: the emulator has no real auth, so it must not be reachable from the network by default. */
  host?: string;
  /** Overrides the state file's account. Defaults to the file's account, else "123456789012". */
  account?: string;
  /** How long a version stays DELETING before it vanishes. Defaults to 1000 ms. */
  deleteDelayMs?: number;
  /** How long a version stays STOPPING before it is STOPPED. Defaults to 1000 ms. */
  stopDelayMs?: number;
  faults?: FaultConfig;
  /** Epoch-ms clock for ages, transitions, rate limits and the call log. Defaults to Date.now. */
  now?: () => number;
  /** Role ARNs whose AssumeRole is answered AccessDenied. Defaults to none: any well-formed role is granted. */
  denyRoles?: string[];
}

export interface FaultConfig {
  /** Operation name → max requests per second (token bucket, burst = rate); over it → ThrottlingException. */
  rateLimits?: Record<string, number>;
  /** Operation name or "*" → probability 0..1 of answering ThrottlingException. */
  throttleRate?: Record<string, number>;
  /** Operation name or "*" → probability 0..1 of answering InternalServerError (HTTP 500). */
  errorRate?: Record<string, number>;
  /** Uniform extra latency before every answer. */
  latencyMs?: { min: number; max: number };
  /** Seed for a deterministic PRNG behind the probabilities and latency; Math.random when absent. */
  seed?: number;
  /** Only calls in these regions / from these accounts get faults (a storm in one place). Default: all. */
  only?: { regions?: string[]; accounts?: string[] };
}

export interface CallRecord {
  /** Increases for the life of the emulator, across resetCalls(). */
  seq: number;
  time: number;
  operation: string;
  region: string;
  /** The caller's account (the default one unless it signed with assumed-role keys). */
  account?: string;
  /** ARN or project name(s) the call was about, when the request named one. */
  target?: string;
  /** "ok" or the error __type. */
  outcome: string;
  status: number;
}

export interface Emulator {
  url: string;
  port: number;
  calls(): CallRecord[];
  callCount(operation?: string, outcome?: string): number;
  resetCalls(): void;
  setFaults(f: FaultConfig): void;
  snapshot(): EmulatorStateFile;
  close(): Promise<void>;
}

const JSON_11 = "application/x-amz-json-1.1";
const TARGET_PREFIX = "RekognitionService.";
const MAX_BODY_BYTES = 1024 * 1024;

/** An AWS error answer: `{"__type": code, "Message": ...}` with HTTP 400, or 500 for InternalServerError. */
class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const invalid = (message: string) => new ApiError("InvalidParameterException", message);
const notFound = (message: string) => new ApiError("ResourceNotFoundException", message);
const inUse = (message: string) => new ApiError("ResourceInUseException", message);

// ---------- faults ----------

/** mulberry32: tiny, fast, and good enough to make fault tests repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function faultConfigProblems(f: unknown): string[] {
  if (typeof f !== "object" || f === null || Array.isArray(f)) return ["fault config must be an object"];
  const cfg = f as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(cfg)) {
    if (!["rateLimits", "throttleRate", "errorRate", "latencyMs", "seed", "only"].includes(key)) problems.push(`${key}: unknown field`);
  }
  const numberMap = (key: string, max?: number) => {
    const m = cfg[key];
    if (m === undefined) return;
    if (typeof m !== "object" || m === null) return void problems.push(`${key}: must be an object of numbers`);
    for (const [op, v] of Object.entries(m)) {
      if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || (max !== undefined && v > max)) {
        problems.push(`${key}.${op}: must be a number in 0..${max ?? "∞"}`);
      }
    }
  };
  numberMap("rateLimits");
  numberMap("throttleRate", 1);
  numberMap("errorRate", 1);
  const lat = cfg.latencyMs as { min?: unknown; max?: unknown } | undefined;
  if (lat !== undefined) {
    if (typeof lat?.min !== "number" || typeof lat.max !== "number" || lat.min < 0 || lat.max < lat.min) {
      problems.push("latencyMs: must be {min, max} with 0 <= min <= max");
    }
  }
  if (cfg.seed !== undefined && !Number.isInteger(cfg.seed)) problems.push("seed: must be an integer");
  const only = cfg.only as Record<string, unknown> | undefined;
  if (only !== undefined) {
    if (typeof only !== "object" || only === null) problems.push("only: must be {regions?, accounts?}");
    else {
      for (const k of Object.keys(only)) {
        const v = only[k];
        if (k !== "regions" && k !== "accounts") problems.push(`only.${k}: unknown field`);
        else if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) problems.push(`only.${k}: must be a list of strings`);
      }
    }
  }
  return problems;
}

class Faults {
  private random: () => number;
  private buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private config: FaultConfig,
    private readonly now: () => number,
  ) {
    this.random = config.seed !== undefined ? seededRandom(config.seed) : Math.random;
  }

  latency(): number {
    const l = this.config.latencyMs;
    if (!l || l.max <= 0) return 0;
    return l.min + this.random() * (l.max - l.min);
  }

  /**
   * The error to answer instead of running `operation`, if any. Runs before the operation so faults never
   * mutate. `scope` is the caller's account and region: AWS quotas are per account, per region.
   */
  check(operation: string, scope = "", throttleCode = "ThrottlingException"): ApiError | undefined {
    const [account = "", region = ""] = scope.split("|");
    const only = this.config.only;
    if (only?.regions && !only.regions.includes(region)) return undefined;
    if (only?.accounts && !only.accounts.includes(account)) return undefined;
    const limit = this.config.rateLimits?.[operation];
    if (limit !== undefined && !this.take(`${scope}|${operation}`, limit)) {
      return new ApiError(throttleCode, `Rate exceeded for ${operation} (${limit}/s)`);
    }
    const throttle = this.config.throttleRate?.[operation] ?? this.config.throttleRate?.["*"] ?? 0;
    if (throttle > 0 && this.random() < throttle) return new ApiError(throttleCode, "Rate exceeded");
    const error = this.config.errorRate?.[operation] ?? this.config.errorRate?.["*"] ?? 0;
    if (error > 0 && this.random() < error) {
      return new ApiError("InternalServerError", "Amazon Rekognition experienced a service issue. Try your call again.", 500);
    }
    return undefined;
  }

  // Token bucket with burst = rate, refilled continuously from the injected clock, so a frozen test clock
  // gives an exact, repeatable number of allowed calls.
  private take(key: string, rate: number): boolean {
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: rate, at: now };
    bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}

// ---------- request parsing helpers ----------

type Body = Record<string, unknown>;

function optionalInt(body: Body, key: string, min: number, max: number): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw invalid(`${key} must be an integer between ${min} and ${max}`);
  }
  return v;
}

function optionalStringList(body: Body, key: string, min: number, max: number, check: (s: string) => boolean): string[] | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length < min || v.length > max || !v.every((s) => typeof s === "string" && check(s))) {
    throw invalid(`${key} must be a list of ${min} to ${max} valid values`);
  }
  return v as string[];
}

function requiredString(body: Body, key: string): string {
  const v = body[key];
  if (typeof v !== "string" || v.length === 0) throw invalid(`${key} is required`);
  return v;
}

// Tokens are opaque to clients but carry the position (last key served) and a fingerprint of the query,
// so a token replayed against a different query is refused like AWS does, and a deletion between pages
// cannot shift later items out of view (a cursor, not an offset).
interface PageToken {
  after: [number, string];
  fp: string;
}

function fingerprint(parts: unknown): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("base64url").slice(0, 16);
}

function encodeToken(t: PageToken): string {
  return Buffer.from(JSON.stringify(t)).toString("base64url");
}

function decodeToken(raw: unknown, fp: string): PageToken | undefined {
  if (raw === undefined || raw === null) return undefined;
  const bad = new ApiError("InvalidPaginationTokenException", "Invalid pagination token provided");
  if (typeof raw !== "string" || raw.length === 0) throw bad;
  let t: unknown;
  try {
    t = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
  } catch {
    throw bad;
  }
  const tok = t as Partial<PageToken> | null;
  if (
    !tok ||
    tok.fp !== fp ||
    !Array.isArray(tok.after) ||
    typeof tok.after[0] !== "number" ||
    typeof tok.after[1] !== "string"
  ) {
    throw bad;
  }
  return tok as PageToken;
}

function paginate<T>(
  items: T[],
  key: (item: T) => [number, string],
  cmp: (a: [number, string], b: [number, string]) => number,
  max: number,
  token: PageToken | undefined,
  fp: string,
): { page: T[]; next?: string } {
  const rest = token ? items.filter((i) => cmp(key(i), token.after) > 0) : items;
  const page = rest.slice(0, max);
  const last = page[page.length - 1];
  if (rest.length > max && last !== undefined) return { page, next: encodeToken({ after: key(last), fp }) };
  return { page };
}

const seconds = (ms: number) => ms / 1000;

// ---------- the emulator ----------

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const now = opts.now ?? Date.now;
  const deleteDelayMs = opts.deleteDelayMs ?? 1000;
  const stopDelayMs = opts.stopDelayMs ?? 1000;
  const state: LiveState = buildLiveState(opts.state ?? demoState(), now(), opts.account);
  let faults = new Faults(opts.faults ?? {}, now);
  let log: CallRecord[] = [];
  let seq = 0;
  /** Keys handed out by AssumeRole → whose they are. Any other key signs as the default account. */
  const issuedKeys = new Map<string, { account: string; arn: string; userId: string }>();
  const denyRoles = new Set(opts.denyRoles ?? []);

  // Transitions are applied lazily from the clock rather than by timers: deterministic under a fake clock,
  // and nothing keeps the process alive after close().
  function settle(): void {
    const t = now();
    for (const p of state.projects) {
      p.versions = p.versions.filter((v) => !(v.status === "DELETING" && v.deleteAt !== undefined && v.deleteAt <= t));
      for (const v of p.versions) {
        if (v.status === "STOPPING" && v.stopAt !== undefined && v.stopAt <= t) {
          v.status = "STOPPED";
          delete v.stopAt;
          delete v.statusMessage;
          delete v.minInferenceUnits;
        }
      }
    }
  }

  function projectsIn(region: string, account: string): Project[] {
    return state.projects.filter((p) => p.region === region && p.account === account);
  }

  function findVersion(region: string, account: string, arn: string): { project: Project; version: Version } | undefined {
    for (const project of projectsIn(region, account)) {
      const version = project.versions.find((v) => v.arn === arn);
      if (version) return { project, version };
    }
    return undefined;
  }

  function findTaggable(region: string, account: string, arn: string): Map<string, string> {
    denyForeign(arn, account);
    for (const project of projectsIn(region, account)) {
      if (project.arn === arn) return project.tags;
      const version = project.versions.find((v) => v.arn === arn);
      if (version) return version.tags;
    }
    throw notFound(`The resource ${arn} was not found.`);
  }

  function versionArnParam(body: Body, account: string): string {
    const arn = requiredString(body, "ProjectVersionArn");
    if (!VERSION_ARN_PATTERN.test(arn)) throw invalid(`ProjectVersionArn ${arn} is not a valid project version ARN`);
    denyForeign(arn, account);
    return arn;
  }

  // Acting on another account's resource is refused as AWS does (no resource policy grants it here).
  function denyForeign(arn: string, account: string): void {
    const owner = /^arn:aws[a-z-]*:rekognition:[a-z0-9-]*:(\d{12}):/.exec(arn)?.[1];
    if (owner !== undefined && owner !== account) {
      throw new ApiError("AccessDeniedException", `User in account ${account} is not authorized to access ${arn}.`);
    }
  }

  function describeVersion(project: Project, v: Version): Body {
    const out: Body = {
      ProjectVersionArn: v.arn,
      CreationTimestamp: seconds(v.createdAt),
      Status: v.status,
      StatusMessage: v.statusMessage ?? defaultStatusMessage(v.status),
      Feature: project.feature,
    };
    if (v.description !== undefined) out.VersionDescription = v.description;
    if (v.sourceVersionArn !== undefined) out.SourceProjectVersionArn = v.sourceVersionArn;
    if (project.feature === "CONTENT_MODERATION") out.BaseModelVersion = v.baseModelVersion;
    // AWS reports inference units only for a model that has been started.
    const started = v.status === "RUNNING" || v.status === "STARTING" || v.status === "STOPPING";
    if (v.minInferenceUnits !== undefined || started) out.MinInferenceUnits = v.minInferenceUnits ?? 1;
    return out;
  }

  const operations: Record<string, (body: Body, region: string, account: string) => Body> = {
    DescribeProjects(body, region, account) {
      const names = optionalStringList(body, "ProjectNames", 1, 10, (s) => NAME_PATTERN.test(s));
      const features = optionalStringList(body, "Features", 1, 2, (s) => (FEATURES as readonly string[]).includes(s));
      // Real AWS hides adapter projects unless CONTENT_MODERATION is asked for; a client that forgets
      // Features must not see them here either.
      const wanted = new Set<string>(features ?? ["CUSTOM_LABELS"]);
      const max = optionalInt(body, "MaxResults", 1, 100) ?? 100;
      const fp = fingerprint(["DescribeProjects", region, names ? [...names].sort() : null, [...wanted].sort()]);
      const token = decodeToken(body.NextToken, fp);
      const matching = projectsIn(region, account)
        .filter((p) => wanted.has(p.feature) && (!names || names.includes(p.name)))
        .sort((a, b) => a.createdAt - b.createdAt || a.name.localeCompare(b.name));
      const ascending = (a: [number, string], b: [number, string]) => a[0] - b[0] || a[1].localeCompare(b[1]);
      const { page, next } = paginate(matching, (p) => [p.createdAt, p.name], ascending, max, token, fp);
      return {
        ProjectDescriptions: page.map((p) => ({
          ProjectArn: p.arn,
          CreationTimestamp: seconds(p.createdAt),
          Status: p.status,
          Feature: p.feature,
          AutoUpdate: p.autoUpdate,
        })),
        ...(next ? { NextToken: next } : {}),
      };
    },

    DescribeProjectVersions(body, region, account) {
      const projectArn = requiredString(body, "ProjectArn");
      denyForeign(projectArn, account);
      const project = projectsIn(region, account).find((p) => p.arn === projectArn);
      if (!project) throw notFound(`The project ${projectArn} was not found.`);
      const names = optionalStringList(body, "VersionNames", 1, 10, (s) => NAME_PATTERN.test(s));
      const max = optionalInt(body, "MaxResults", 1, 100) ?? 100;
      const fp = fingerprint(["DescribeProjectVersions", region, projectArn, names ? [...names].sort() : null]);
      const token = decodeToken(body.NextToken, fp);
      // Newest first, as AWS lists them; equal times fall back to name so the order is total and stable.
      const newestFirst = (a: [number, string], b: [number, string]) => b[0] - a[0] || a[1].localeCompare(b[1]);
      const matching = project.versions
        .filter((v) => !names || names.includes(v.name))
        .sort((a, b) => newestFirst([a.createdAt, a.name], [b.createdAt, b.name]));
      const { page, next } = paginate(matching, (v) => [v.createdAt, v.name], newestFirst, max, token, fp);
      return {
        ProjectVersionDescriptions: page.map((v) => describeVersion(project, v)),
        ...(next ? { NextToken: next } : {}),
      };
    },

    DeleteProjectVersion(body, region, account) {
      const arn = versionArnParam(body, account);
      const found = findVersion(region, account, arn);
      if (!found) throw notFound(`The project version ${arn} was not found.`);
      const { version } = found;
      // Repeating a delete is harmless, as on AWS: the caller learns it is still going.
      if (version.status === "DELETING") return { Status: "DELETING" };
      if (IN_USE_STATUSES.has(version.status)) {
        throw inUse(`Cannot delete project version ${arn} while its status is ${version.status}.`);
      }
      // Unverified on AWS whether an in-progress copy pins its source; the emulator takes the strict answer
      // so that a client which ignores the possibility finds out here, not in production.
      const copying = state.projects.some((p) =>
        p.versions.some((v) => v.sourceVersionArn === arn && v.status === "COPYING_IN_PROGRESS"),
      );
      if (copying) throw inUse(`Cannot delete project version ${arn} while a copy of it is in progress.`);
      version.status = "DELETING";
      delete version.statusMessage;
      version.deleteAt = now() + deleteDelayMs;
      return { Status: "DELETING" };
    },

    StopProjectVersion(body, region, account) {
      const arn = versionArnParam(body, account);
      const found = findVersion(region, account, arn);
      if (!found) throw notFound(`The project version ${arn} was not found.`);
      const { project, version } = found;
      if (project.feature !== "CUSTOM_LABELS") {
        throw invalid(`StopProjectVersion is not supported for ${project.feature} project versions.`);
      }
      if (version.status === "RUNNING") {
        version.status = "STOPPING";
        delete version.statusMessage;
        version.stopAt = now() + stopDelayMs;
        return { Status: "STOPPING" };
      }
      if (IN_USE_STATUSES.has(version.status) || version.status === "DELETING") {
        throw inUse(`Cannot stop project version ${arn} while its status is ${version.status}.`);
      }
      throw invalid(`Project version ${arn} is not running (status ${version.status}).`);
    },

    ListTagsForResource(body, region, account) {
      const tags = findTaggable(region, account, requiredString(body, "ResourceArn"));
      return { Tags: Object.fromEntries(tags) };
    },

    TagResource(body, region, account) {
      const tags = findTaggable(region, account, requiredString(body, "ResourceArn"));
      const add = body.Tags;
      if (typeof add !== "object" || add === null || Array.isArray(add)) throw invalid("Tags is required");
      const addRecord = add as Record<string, unknown>;
      const problems = tagProblems(addRecord);
      if (problems.length > 0) throw invalid(problems.join("; "));
      const merged = new Set([...tags.keys(), ...Object.keys(addRecord)]);
      if (merged.size > 200) throw invalid(`A resource can have at most 200 tags (would have ${merged.size}).`);
      for (const [k, v] of Object.entries(addRecord)) tags.set(k, v as string);
      return {};
    },

    UntagResource(body, region, account) {
      const tags = findTaggable(region, account, requiredString(body, "ResourceArn"));
      const keys = body.TagKeys;
      if (!Array.isArray(keys) || keys.length > 200 || !keys.every((k) => typeof k === "string")) {
        throw invalid("TagKeys must be a list of at most 200 keys");
      }
      for (const k of keys as string[]) {
        if (k.length < 1 || k.length > 128 || k.toLowerCase().startsWith("aws:")) throw invalid(`Invalid tag key "${k}"`);
      }
      for (const k of keys as string[]) tags.delete(k);
      return {};
    },
  };

  /** What a request was about, for the call log; best effort, even for rejected requests. */
  function targetOf(body: Body | undefined): string | undefined {
    if (!body) return undefined;
    for (const key of ["ProjectVersionArn", "ProjectArn", "ResourceArn"]) {
      if (typeof body[key] === "string") return body[key] as string;
    }
    if (Array.isArray(body.ProjectNames)) return body.ProjectNames.join(",");
    return undefined;
  }

  function record(entry: Omit<CallRecord, "seq" | "time">): void {
    const rec: CallRecord = { seq: ++seq, time: now(), operation: entry.operation, region: entry.region, outcome: entry.outcome, status: entry.status };
    if (entry.account !== undefined) rec.account = entry.account;
    if (entry.target !== undefined) rec.target = entry.target;
    log.push(rec);
  }

  function send(res: ServerResponse, status: number, body: unknown, contentType = JSON_11): void {
    const text = body === undefined ? "" : JSON.stringify(body);
    res.writeHead(status, {
      "Content-Type": contentType,
      "Content-Length": Buffer.byteLength(text),
      "x-amzn-RequestId": randomUUID(),
    });
    res.end(text);
  }

  function sendError(res: ServerResponse, err: ApiError): void {
    // Rekognition error bodies carry Code and Logref as well as Message; __type is what clients key on.
    send(res, err.status, { __type: err.code, Code: err.code, Message: err.message, Logref: randomUUID() });
  }

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) throw new ApiError("SerializationException", "Request body too large");
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString("utf8");
  }

  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    // Admin paths are unauthenticated; if someone binds a non-loopback host, keep them local anyway.
    const remote = req.socket.remoteAddress ?? "";
    if (!(remote === "127.0.0.1" || remote === "::1" || remote.startsWith("::ffff:127."))) {
      return send(res, 403, { message: "admin paths are loopback only" }, "application/json");
    }
    const json = "application/json";
    if (req.method === "GET" && path === "/_emulator/calls") return send(res, 200, emulator.calls(), json);
    if (req.method === "GET" && path === "/_emulator/state") return send(res, 200, emulator.snapshot(), json);
    if (req.method === "POST" && path === "/_emulator/reset-calls") {
      await readBody(req);
      emulator.resetCalls();
      res.writeHead(204).end();
      return;
    }
    if (req.method === "PUT" && path === "/_emulator/faults") {
      let cfg: unknown;
      try {
        cfg = JSON.parse((await readBody(req)) || "{}");
      } catch {
        return send(res, 400, { message: "body must be a JSON FaultConfig" }, json);
      }
      const problems = faultConfigProblems(cfg);
      if (problems.length > 0) return send(res, 400, { message: problems.join("; ") }, json);
      emulator.setFaults(cfg as FaultConfig);
      res.writeHead(204).end();
      return;
    }
    send(res, 404, { message: `no admin route ${req.method ?? ""} ${path}` }, json);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path.startsWith("/_emulator/")) return handleAdmin(req, res, path);

    const target = req.headers["x-amz-target"];
    const operation =
      typeof target === "string" && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : String(target ?? "");
    let region = "";
    let account: string | undefined;
    let body: Body | undefined;
    try {
      const raw = await readBody(req);
      const delay = faults.latency();
      if (delay > 0) await sleep(delay);

      // SigV4 is not verified (no secrets here), but its presence is, and the region comes from the
      // credential scope exactly as AWS routes it: each region is its own world. The access key says
      // which account is calling (keys from our AssumeRole), else the default account.
      const auth = req.headers.authorization;
      if (typeof auth !== "string" || !auth.startsWith("AWS4-HMAC-SHA256")) {
        throw new ApiError("MissingAuthenticationTokenException", "Missing Authentication Token");
      }
      const scope = /Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request/.exec(auth);
      if (!scope) throw new ApiError("IncompleteSignatureException", "Authorization header requires a valid Credential scope.");
      region = scope[3] ?? "";
      const caller = issuedKeys.get(scope[1] ?? "");
      account = caller?.account ?? state.account;
      if (scope[4] === "sts") return handleSts(res, raw, region, scope[1] ?? "", caller);
      if (scope[4] !== "rekognition") {
        throw new ApiError("InvalidSignatureException", `Credential should be scoped to correct service: 'rekognition'.`);
      }

      if (req.method !== "POST" || path !== "/") {
        throw new ApiError("UnknownOperationException", `Only POST / is served (got ${req.method ?? ""} ${path}).`);
      }
      const op = typeof target === "string" && target.startsWith(TARGET_PREFIX) ? operations[operation] : undefined;
      if (!op) throw new ApiError("UnknownOperationException", `Unknown operation ${String(target ?? "(no X-Amz-Target)")}`);

      let parsed: unknown;
      try {
        parsed = raw.trim() === "" ? {} : JSON.parse(raw);
      } catch {
        throw new ApiError("SerializationException", "Request body is not valid JSON");
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new ApiError("SerializationException", "Request body must be a JSON object");
      }
      body = parsed as Body;

      const fault = faults.check(operation, `${account}|${region}`);
      if (fault) throw fault;

      settle();
      const result = op(body, region, account);
      record({ operation, region, account, target: targetOf(body), outcome: "ok", status: 200 });
      send(res, 200, result);
    } catch (err) {
      const apiErr =
        err instanceof ApiError ? err : new ApiError("InternalServerError", `emulator bug: ${(err as Error)?.message ?? String(err)}`, 500);
      record({ operation, region, ...(account !== undefined ? { account } : {}), target: targetOf(body), outcome: apiErr.code, status: apiErr.status });
      if (!res.headersSent) sendError(res, apiErr);
    }
  }

  // ---------- STS (query protocol: form-encoded request, XML answer) ----------

  const STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/";
  const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
  const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

  function xml(s: string): string {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  function sendXml(res: ServerResponse, status: number, text: string, requestId: string): void {
    res.writeHead(status, { "Content-Type": "text/xml", "Content-Length": Buffer.byteLength(text), "x-amzn-RequestId": requestId });
    res.end(text);
  }

  function handleSts(res: ServerResponse, raw: string, region: string, accessKey: string, caller: { account: string; arn: string; userId: string } | undefined): void {
    const params = new URLSearchParams(raw);
    const action = params.get("Action") ?? "";
    const requestId = randomUUID();
    const account = caller?.account ?? state.account;
    try {
      const fault = faults.check(action, `${account}|${region}`, "Throttling");
      if (fault) throw fault;
      let result: string;
      if (action === "AssumeRole") {
        const roleArn = params.get("RoleArn") ?? "";
        const session = params.get("RoleSessionName") ?? "";
        const m = ROLE_ARN.exec(roleArn);
        if (!m) throw new ApiError("ValidationError", `RoleArn ${JSON.stringify(roleArn)} is not a valid IAM role ARN`);
        if (!SESSION_NAME.test(session)) throw new ApiError("ValidationError", "RoleSessionName must be 2..64 characters of [\\w+=,.@-]");
        if (denyRoles.has(roleArn)) {
          throw new ApiError("AccessDenied", `User: ${caller?.arn ?? `arn:aws:iam::${account}:user/emulator`} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, 403);
        }
        const duration = Number(params.get("DurationSeconds") ?? 3600);
        if (!Number.isInteger(duration) || duration < 900 || duration > 43200) throw new ApiError("ValidationError", "DurationSeconds must be 900..43200");
        const roleAccount = m[1]!;
        const key = `ASIA${randomUUID().replace(/-/g, "").slice(0, 16).toUpperCase()}`;
        const roleId = `AROA${createHash("sha256").update(roleArn).digest("hex").slice(0, 17).toUpperCase()}`;
        const assumedArn = `arn:aws:sts::${roleAccount}:assumed-role/${m[2]}/${session}`;
        issuedKeys.set(key, { account: roleAccount, arn: assumedArn, userId: `${roleId}:${session}` });
        const expiration = new Date(now() + duration * 1000).toISOString();
        result =
          `<AssumeRoleResult><Credentials><AccessKeyId>${key}</AccessKeyId><SecretAccessKey>${randomUUID()}</SecretAccessKey>` +
          `<SessionToken>${Buffer.from(randomUUID()).toString("base64")}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
          `<AssumedRoleUser><AssumedRoleId>${xml(roleId)}:${xml(session)}</AssumedRoleId><Arn>${xml(assumedArn)}</Arn></AssumedRoleUser></AssumeRoleResult>`;
      } else if (action === "GetCallerIdentity") {
        const arn = caller?.arn ?? `arn:aws:iam::${account}:user/emulator`;
        result = `<GetCallerIdentityResult><Arn>${xml(arn)}</Arn><UserId>${xml(caller?.userId ?? accessKey)}</UserId><Account>${account}</Account></GetCallerIdentityResult>`;
      } else {
        throw new ApiError("InvalidAction", `Could not find operation ${action} for version 2011-06-15`);
      }
      record({ operation: action, region, account, target: params.get("RoleArn") ?? undefined, outcome: "ok", status: 200 });
      sendXml(res, 200, `<${action}Response xmlns="${STS_NS}">${result}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`, requestId);
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError("InternalFailure", `emulator bug: ${(err as Error)?.message ?? String(err)}`, 500);
      record({ operation: action, region, account, target: params.get("RoleArn") ?? undefined, outcome: e.code, status: e.status });
      const type = e.status >= 500 ? "Receiver" : "Sender";
      sendXml(res, e.status, `<ErrorResponse xmlns="${STS_NS}"><Error><Type>${type}</Type><Code>${xml(e.code)}</Code><Message>${xml(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`, requestId);
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });

  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  let closing: Promise<void> | undefined;

  const emulator: Emulator = {
    url: `http://${urlHost}:${port}`,
    port,
    calls: () => log.map((c) => ({ ...c })),
    callCount: (operation, outcome) =>
      log.filter((c) => (operation === undefined || c.operation === operation) && (outcome === undefined || c.outcome === outcome)).length,
    resetCalls: () => {
      log = [];
    },
    setFaults: (f) => {
      const problems = faultConfigProblems(f);
      if (problems.length > 0) throw new Error(`invalid fault config: ${problems.join("; ")}`);
      faults = new Faults(f, now);
    },
    snapshot: () => {
      settle();
      return toStateFile(state);
    },
    close: () => {
      // Idempotent, so an afterAll that runs after a failed test's own cleanup cannot fail the file.
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets from SDK agents would otherwise hold close() open for seconds.
        server.closeAllConnections();
      });
      return closing;
    },
  };
  return emulator;
}

export type { EmulatorStateFile };
