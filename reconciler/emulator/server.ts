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
//   GET   /_emulator/calls              → CallRecord[] (answered calls; `?phase=all` adds arrivals)
//   POST  /_emulator/reset-calls        → 204
//   PUT   /_emulator/faults             → body FaultConfig, replaces the current one
//   GET   /_emulator/state              → snapshot (EmulatorStateFile)
//   PATCH /_emulator/versions           → body {arn, status?, tags?, removeTags?}: see Emulator.updateVersion

import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { demoState } from "./demo.js";
import { ApiError, accessDeniedMessage, inUse, invalid, notFound } from "./errors.js";
import { Faults, faultConfigProblems, type FaultConfig, type FaultDecision } from "./faults.js";
import { NAME_PATTERN, PROJECT_ARN_PATTERN, VERSION_ARN_PATTERN, versionArn } from "./arns.js";
import {
  ADAPTER_ONLY_STATUSES,
  FEATURES,
  NEVER_ADAPTER_STATUSES,
  VERSION_STATUSES,
  tagProblems,
  type EmulatorStateFile,
  type EmulatorVersionFile,
  type VersionStatus,
} from "./state.js";
import {
  IN_USE_STATUSES,
  buildLiveState,
  defaultStatusMessage,
  toStateFile,
  versionToFile,
  type LiveState,
  type Project,
  type Version,
} from "./world.js";

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
  /** How long a version stays STARTING before it is RUNNING. Defaults to 1000 ms. */
  startDelayMs?: number;
  /** How long a copy stays COPYING_IN_PROGRESS before it is COPYING_COMPLETED. Defaults to 1000 ms. */
  copyDelayMs?: number;
  faults?: FaultConfig;
  /** Epoch-ms clock for ages, transitions, rate limits and the call log. Defaults to Date.now. */
  now?: () => number;
  /** Role ARNs whose AssumeRole is answered AccessDenied. Defaults to none: any well-formed role is granted. */
  denyRoles?: string[];
}

/**
 * One event in the call log. Every request to the AWS API produces two: `received` when it arrives (its body
 * read, before any latency, fault delay or execution) and `answered` when its answer is sent. Both carry the
 * same `requestId` (also the answer's x-amzn-RequestId header, i.e. the SDK's `$metadata.requestId`).
 * `calls()` lists answered events only, so counting calls counts each request once; a test that must act
 * while a slow call is in flight waits for its `received` event (`waitForCall(c => c.phase === "received")`).
 */
export interface CallRecord {
  /** Increases with every event for the life of the emulator, across resetCalls(). */
  seq: number;
  /** The emulator clock when the event happened. */
  time: number;
  phase: CallPhase;
  requestId: string;
  operation: string;
  region: string;
  /** The caller's account (the default one unless it signed with assumed-role keys). */
  account?: string;
  /** ARN or project name(s) the call was about, when the request named one. */
  target?: string;
  /** "ok" or the error __type once answered; "pending" while only received. */
  outcome: string;
  /** The HTTP status once answered; 0 while only received. */
  status: number;
}

export type CallPhase = "received" | "answered";

/** A test's change to one version, applied as if AWS had done it (see Emulator.updateVersion). */
export interface VersionUpdate {
  status?: VersionStatus;
  /** Tags to add or overwrite. */
  tags?: Record<string, string>;
  /** Tag keys to remove (applied before `tags`). */
  removeTags?: string[];
}

export interface Emulator {
  url: string;
  port: number;
  /** Answered calls in order; `{ phase: "all" }` interleaves the received events too. */
  calls(opts?: { phase?: CallPhase | "all" }): CallRecord[];
  /** Answered calls, optionally of one operation and outcome. */
  callCount(operation?: string, outcome?: string): number;
  /** Forgets the log (not the sequence numbers, and not calls already waited on). */
  resetCalls(): void;
  /** Replaces the fault config; throws naming each problem when it is invalid. */
  setFaults(f: FaultConfig): void;
  snapshot(): EmulatorStateFile;
  /**
   * Changes one version (any account, any region) the way AWS might behind rekon's back: its status (one of
   * the 14, and possible for its kind: adapters are never RUNNING, models never EXPIRED), its tags. A new
   * status is a frozen moment like a seeded one: pending transitions of that version are dropped. Returns the
   * version as a state-file entry; throws naming the problem for an unknown ARN or invalid change.
   */
  updateVersion(arn: string, change: VersionUpdate): EmulatorVersionFile;
  /**
   * The first event (received or answered) matching `predicate`, already logged or still to come. Rejects
   * after `timeoutMs` (real time) with a message listing the last events seen.
   */
  waitForCall(predicate: (c: CallRecord) => boolean, timeoutMs?: number): Promise<CallRecord>;
  /** Calls `listener` with every event from now on; returns the unsubscribe function. */
  onCall(listener: (c: CallRecord) => void): () => void;
  close(): Promise<void>;
}

export type { FaultConfig, FaultRule } from "./faults.js";
export { seededRandom } from "./faults.js";

const JSON_11 = "application/x-amz-json-1.1";
const TARGET_PREFIX = "RekognitionService.";
const MAX_BODY_BYTES = 1024 * 1024;

// ---------- request parsing helpers ----------

type Body = Record<string, unknown>;

/** Who is calling: account and identity ARN (from the access key), and for what operation (for IAM-style denials). */
interface Caller {
  account: string;
  arn: string;
  operation: string;
}

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

/** The Rekognition operations served, in the order the README lists them; fault rules may name these. */
const REKOGNITION_OPERATIONS = [
  "DescribeProjects",
  "DescribeProjectVersions",
  "DeleteProjectVersion",
  "StopProjectVersion",
  "StartProjectVersion",
  "CopyProjectVersion",
  "ListTagsForResource",
  "TagResource",
  "UntagResource",
] as const;
const STS_OPERATIONS = ["AssumeRole", "GetCallerIdentity"] as const;
export const SERVED_OPERATIONS: readonly string[] = [...REKOGNITION_OPERATIONS, ...STS_OPERATIONS];

// No documented ceiling for inference units; the bound only keeps numbers sane.
const MAX_INFERENCE_UNITS = 2_147_483_647;
/** A trained model at rest: what StartProjectVersion starts. */
const STARTABLE: ReadonlySet<VersionStatus> = new Set<VersionStatus>(["STOPPED", "TRAINING_COMPLETED", "COPYING_COMPLETED"]);
/** A model that finished training (or copying): what CopyProjectVersion copies. */
const COPYABLE: ReadonlySet<VersionStatus> = new Set<VersionStatus>([
  "TRAINING_COMPLETED",
  "STARTING",
  "RUNNING",
  "STOPPING",
  "STOPPED",
  "FAILED",
  "COPYING_COMPLETED",
]);

// ---------- the emulator ----------

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const now = opts.now ?? Date.now;
  const deleteDelayMs = opts.deleteDelayMs ?? 1000;
  const stopDelayMs = opts.stopDelayMs ?? 1000;
  const startDelayMs = opts.startDelayMs ?? 1000;
  const copyDelayMs = opts.copyDelayMs ?? 1000;
  const state: LiveState = buildLiveState(opts.state ?? demoState(), now(), opts.account);
  const faultProblems = faultConfigProblems(opts.faults ?? {}, SERVED_OPERATIONS);
  if (faultProblems.length > 0) throw new Error(`invalid fault config: ${faultProblems.join("; ")}`);
  let faults = new Faults(opts.faults ?? {}, now);
  /** Every event, both phases; calls() filters the answered ones. */
  let log: CallRecord[] = [];
  let seq = 0;
  const listeners = new Set<(c: CallRecord) => void>();
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
          delete v.maxInferenceUnits;
        }
        if (v.status === "STARTING" && v.startAt !== undefined && v.startAt <= t) {
          v.status = "RUNNING";
          delete v.startAt;
          delete v.statusMessage;
        }
        if (v.status === "COPYING_IN_PROGRESS" && v.copyAt !== undefined && v.copyAt <= t) {
          v.status = "COPYING_COMPLETED";
          delete v.copyAt;
          delete v.statusMessage;
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

  function findTaggable(region: string, account: string, arn: string, caller: Caller): Map<string, string> {
    denyForeign(arn, caller);
    for (const project of projectsIn(region, account)) {
      if (project.arn === arn) return project.tags;
      const version = project.versions.find((v) => v.arn === arn);
      if (version) return version.tags;
    }
    throw notFound(`The resource ${arn} was not found.`);
  }

  function versionArnParam(body: Body, caller: Caller): string {
    const arn = requiredString(body, "ProjectVersionArn");
    if (!VERSION_ARN_PATTERN.test(arn)) throw invalid(`ProjectVersionArn ${arn} is not a valid project version ARN`);
    denyForeign(arn, caller);
    return arn;
  }

  // Acting on another account's resource is refused as AWS does (no resource policy grants it here).
  function denyForeign(arn: string, caller: Caller): void {
    const owner = /^arn:aws[a-z-]*:rekognition:[a-z0-9-]*:(\d{12}):/.exec(arn)?.[1];
    if (owner !== undefined && owner !== caller.account) {
      throw new ApiError("AccessDeniedException", accessDeniedMessage(caller.arn, `rekognition:${caller.operation}`, arn));
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
    if (v.maxInferenceUnits !== undefined) out.MaxInferenceUnits = v.maxInferenceUnits;
    return out;
  }

  const operations: Record<string, (body: Body, ctx: { region: string; account: string; caller: Caller }) => Body> = {
    DescribeProjects(body, { region, account, caller }) {
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

    DescribeProjectVersions(body, { region, account, caller }) {
      const projectArn = requiredString(body, "ProjectArn");
      denyForeign(projectArn, caller);
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

    DeleteProjectVersion(body, { region, account, caller }) {
      const arn = versionArnParam(body, caller);
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

    StopProjectVersion(body, { region, account, caller }) {
      const arn = versionArnParam(body, caller);
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

    StartProjectVersion(body, { region, account, caller }) {
      const arn = versionArnParam(body, caller);
      if (body.MinInferenceUnits === undefined || body.MinInferenceUnits === null) throw invalid("MinInferenceUnits is required");
      const min = optionalInt(body, "MinInferenceUnits", 1, MAX_INFERENCE_UNITS)!;
      const max = optionalInt(body, "MaxInferenceUnits", 1, MAX_INFERENCE_UNITS);
      if (max !== undefined && max < min) throw invalid(`MaxInferenceUnits (${max}) must be at least MinInferenceUnits (${min}).`);
      const found = findVersion(region, account, arn);
      if (!found) throw notFound(`The project version ${arn} was not found.`);
      const { project, version } = found;
      if (project.feature !== "CUSTOM_LABELS") {
        throw invalid(`StartProjectVersion is not supported for ${project.feature} project versions.`);
      }
      if (STARTABLE.has(version.status)) {
        version.status = "STARTING";
        delete version.statusMessage;
        version.minInferenceUnits = min;
        if (max !== undefined) version.maxInferenceUnits = max;
        else delete version.maxInferenceUnits;
        version.startAt = now() + startDelayMs;
        return { Status: "STARTING" };
      }
      if (IN_USE_STATUSES.has(version.status) || version.status === "DELETING") {
        throw inUse(`Cannot start project version ${arn} while its status is ${version.status}.`);
      }
      throw invalid(`Project version ${arn} cannot be started (status ${version.status}).`);
    },

    CopyProjectVersion(body, { region, account, caller }) {
      const sourceProjectArn = requiredString(body, "SourceProjectArn");
      const sourceVersionArn = requiredString(body, "SourceProjectVersionArn");
      const destinationArn = requiredString(body, "DestinationProjectArn");
      const versionName = requiredString(body, "VersionName");
      if (!NAME_PATTERN.test(versionName)) throw invalid(`VersionName ${JSON.stringify(versionName)} must match [a-zA-Z0-9_.\\-]{1,255}`);
      const output = body.OutputConfig;
      if (typeof output !== "object" || output === null || Array.isArray(output)) throw invalid("OutputConfig is required");
      const tags = body.Tags;
      if (tags !== undefined && (typeof tags !== "object" || tags === null || Array.isArray(tags))) throw invalid("Tags must be a map");
      const tagIssues = tagProblems((tags ?? {}) as Record<string, unknown>);
      if (tagIssues.length > 0) throw invalid(tagIssues.join("; "));
      const src = PROJECT_ARN_PATTERN.exec(sourceProjectArn);
      if (!src) throw invalid(`SourceProjectArn ${sourceProjectArn} is not a valid project ARN`);
      const srcVersion = VERSION_ARN_PATTERN.exec(sourceVersionArn);
      if (!srcVersion) throw invalid(`SourceProjectVersionArn ${sourceVersionArn} is not a valid project version ARN`);
      const dest = PROJECT_ARN_PATTERN.exec(destinationArn);
      if (!dest) throw invalid(`DestinationProjectArn ${destinationArn} is not a valid project ARN`);
      // A copy stays in its region: AWS copies a model only to a project in the same Region.
      for (const [name, arn, arnRegion] of [["SourceProjectArn", sourceProjectArn, src[1]], ["SourceProjectVersionArn", sourceVersionArn, srcVersion[1]], ["DestinationProjectArn", destinationArn, dest[1]]] as const) {
        if (arnRegion !== region) throw invalid(`${name} ${arn} is in ${arnRegion}; CopyProjectVersion copies within one region (${region}).`);
      }
      if (srcVersion[2] !== src[2] || srcVersion[3] !== src[3]) {
        throw invalid(`SourceProjectVersionArn ${sourceVersionArn} is not a version of SourceProjectArn ${sourceProjectArn}.`);
      }
      denyForeign(destinationArn, caller);
      // Copying from another account needs a project policy on the source project, which the emulator does not
      // model: without one AWS denies it, and so does the emulator, always.
      if (src[2] !== account) {
        throw new ApiError(
          "AccessDeniedException",
          accessDeniedMessage(caller.arn, "rekognition:CopyProjectVersion", sourceVersionArn) + " (no project policy on the source project allows it)",
        );
      }
      const mine = projectsIn(region, account);
      const sourceProject = mine.find((p) => p.arn === sourceProjectArn);
      if (!sourceProject) throw notFound(`The project ${sourceProjectArn} was not found.`);
      const source = sourceProject.versions.find((v) => v.arn === sourceVersionArn);
      if (!source) throw notFound(`The project version ${sourceVersionArn} was not found.`);
      const destination = mine.find((p) => p.arn === destinationArn);
      if (!destination) throw notFound(`The project ${destinationArn} was not found.`);
      if (sourceProject.feature !== "CUSTOM_LABELS" || destination.feature !== "CUSTOM_LABELS") {
        throw invalid("CopyProjectVersion copies Custom Labels models only; adapters (CONTENT_MODERATION) cannot be copied.");
      }
      if (!COPYABLE.has(source.status)) {
        if (IN_USE_STATUSES.has(source.status) || source.status === "DELETING") {
          throw inUse(`Cannot copy project version ${sourceVersionArn} while its status is ${source.status}.`);
        }
        throw invalid(`Project version ${sourceVersionArn} cannot be copied (status ${source.status}); only a trained model can.`);
      }
      if (destination.versions.some((v) => v.name === versionName)) {
        throw inUse(`A version named ${versionName} already exists in project ${destinationArn}.`);
      }
      const createdAt = now();
      const copy: Version = {
        name: versionName,
        arn: versionArn(region, account, destination.name, versionName, createdAt),
        createdAt,
        status: "COPYING_IN_PROGRESS",
        sourceVersionArn,
        tags: new Map(Object.entries((tags ?? {}) as Record<string, string>)),
        copyAt: createdAt + copyDelayMs,
      };
      destination.versions.push(copy);
      return { ProjectVersionArn: copy.arn };
    },

    ListTagsForResource(body, { region, account, caller }) {
      const tags = findTaggable(region, account, requiredString(body, "ResourceArn"), caller);
      return { Tags: Object.fromEntries(tags) };
    },

    TagResource(body, { region, account, caller }) {
      const tags = findTaggable(region, account, requiredString(body, "ResourceArn"), caller);
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

    UntagResource(body, { region, account, caller }) {
      const tags = findTaggable(region, account, requiredString(body, "ResourceArn"), caller);
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

  /** What a request was about, for the call log and fault rules; best effort, even for rejected requests. */
  function targetOf(body: Body | undefined): string | undefined {
    if (!body) return undefined;
    for (const key of ["ProjectVersionArn", "ProjectArn", "ResourceArn", "SourceProjectVersionArn"]) {
      if (typeof body[key] === "string") return body[key] as string;
    }
    if (Array.isArray(body.ProjectNames)) return body.ProjectNames.join(",");
    return undefined;
  }

  // ---------- the call log and its events ----------

  const pendingWaits = new Set<(err: Error) => void>();

  function record(entry: Omit<CallRecord, "seq" | "time">): void {
    const rec: CallRecord = {
      seq: ++seq,
      time: now(),
      phase: entry.phase,
      requestId: entry.requestId,
      operation: entry.operation,
      region: entry.region,
      outcome: entry.outcome,
      status: entry.status,
    };
    if (entry.account !== undefined) rec.account = entry.account;
    if (entry.target !== undefined) rec.target = entry.target;
    log.push(rec);
    for (const listener of [...listeners]) {
      try {
        listener({ ...rec });
      } catch (err) {
        // A test's listener must not break the server; say so loudly instead.
        process.emitWarning(`emulator onCall listener threw: ${(err as Error)?.stack ?? String(err)}`);
      }
    }
  }

  function describeEvents(events: CallRecord[]): string {
    if (events.length === 0) return "none";
    return events.map((c) => `#${c.seq} ${c.phase} ${c.operation}${c.target ? ` ${c.target}` : ""} → ${c.outcome}`).join("; ");
  }

  function waitForCall(predicate: (c: CallRecord) => boolean, timeoutMs = 10_000): Promise<CallRecord> {
    if (typeof predicate !== "function") return Promise.reject(new Error("waitForCall: predicate must be a function"));
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) return Promise.reject(new Error(`waitForCall: timeoutMs must be a positive number (got ${timeoutMs})`));
    return new Promise<CallRecord>((resolve, reject) => {
      let done = false;
      let unsubscribe = () => {};
      const finish = (err: Error | undefined, rec?: CallRecord) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        unsubscribe();
        pendingWaits.delete(onClose);
        if (err) reject(err);
        else resolve(rec!);
      };
      const test = (c: CallRecord) => {
        try {
          if (predicate(c)) finish(undefined, { ...c });
        } catch (err) {
          finish(err as Error);
        }
      };
      const onClose = (err: Error) => finish(err);
      const timer = setTimeout(() => {
        finish(new Error(`waitForCall: no matching call within ${timeoutMs} ms; last events: ${describeEvents(log.slice(-10))}`));
      }, timeoutMs);
      pendingWaits.add(onClose);
      for (const c of log) {
        test(c);
        if (done) return;
      }
      listeners.add(test);
      unsubscribe = () => listeners.delete(test);
    });
  }

  // ---------- test-side mutation ----------

  function updateVersion(arn: string, change: VersionUpdate): EmulatorVersionFile {
    const problems = versionUpdateProblems(change);
    if (problems.length > 0) throw new ControlError(400, `updateVersion ${arn}: ${problems.join("; ")}`);
    settle();
    let found: { project: Project; version: Version } | undefined;
    for (const project of state.projects) {
      const version = project.versions.find((v) => v.arn === arn);
      if (version) found = { project, version };
    }
    if (!found) throw new ControlError(404, `updateVersion: no version with ARN ${arn} (any account, any region)`);
    const { project, version } = found;
    const status = change.status;
    if (status !== undefined) {
      const adapter = project.feature === "CONTENT_MODERATION";
      if (adapter && NEVER_ADAPTER_STATUSES.has(status)) throw new ControlError(400, `updateVersion ${arn}: adapters (CONTENT_MODERATION) are never ${status}`);
      if (!adapter && ADAPTER_ONLY_STATUSES.has(status)) throw new ControlError(400, `updateVersion ${arn}: only adapters (CONTENT_MODERATION) can be ${status}`);
    }
    const tags = new Map(version.tags);
    for (const k of change.removeTags ?? []) tags.delete(k);
    for (const [k, v] of Object.entries(change.tags ?? {})) tags.set(k, v);
    if (tags.size > 200) throw new ControlError(400, `updateVersion ${arn}: a resource can have at most 200 tags (would have ${tags.size})`);
    version.tags = tags;
    if (status !== undefined) {
      version.status = status;
      // A status set by a test is a frozen moment, like a seeded one: nothing already scheduled moves it on.
      delete version.deleteAt;
      delete version.stopAt;
      delete version.startAt;
      delete version.copyAt;
      delete version.statusMessage;
      if (status !== "RUNNING" && status !== "STARTING" && status !== "STOPPING") {
        delete version.minInferenceUnits;
        delete version.maxInferenceUnits;
      }
    }
    return versionToFile(version);
  }

  // ---------- transport ----------

  function send(res: ServerResponse, status: number, body: unknown, contentType = JSON_11, requestId: string = randomUUID()): void {
    const text = body === undefined ? "" : JSON.stringify(body);
    res.writeHead(status, {
      "Content-Type": contentType,
      "Content-Length": Buffer.byteLength(text),
      "x-amzn-RequestId": requestId,
    });
    res.end(text);
  }

  function sendError(res: ServerResponse, err: ApiError, requestId: string): void {
    // Rekognition error bodies carry Code and Logref as well as Message; __type is what clients key on.
    send(res, err.status, { __type: err.code, Code: err.code, Message: err.message, Logref: randomUUID() }, JSON_11, requestId);
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

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> {
    // Admin paths are unauthenticated; if someone binds a non-loopback host, keep them local anyway.
    const remote = req.socket.remoteAddress ?? "";
    const json = "application/json";
    if (!(remote === "127.0.0.1" || remote === "::1" || remote.startsWith("::ffff:127."))) {
      return send(res, 403, { message: "admin paths are loopback only" }, json);
    }
    const readJson = async (what: string): Promise<unknown> => {
      try {
        return JSON.parse((await readBody(req)) || "{}");
      } catch {
        throw new ControlError(400, `body must be ${what} as JSON`);
      }
    };
    try {
      if (req.method === "GET" && path === "/_emulator/calls") {
        const phase = query.get("phase") ?? "answered";
        if (phase !== "answered" && phase !== "received" && phase !== "all") throw new ControlError(400, "phase must be answered, received or all");
        return send(res, 200, emulator.calls({ phase }), json);
      }
      if (req.method === "GET" && path === "/_emulator/state") return send(res, 200, emulator.snapshot(), json);
      if (req.method === "POST" && path === "/_emulator/reset-calls") {
        await readBody(req);
        emulator.resetCalls();
        res.writeHead(204).end();
        return;
      }
      if (req.method === "PUT" && path === "/_emulator/faults") {
        const cfg = await readJson("a FaultConfig");
        const problems = faultConfigProblems(cfg, SERVED_OPERATIONS);
        if (problems.length > 0) throw new ControlError(400, problems.join("; "));
        emulator.setFaults(cfg as FaultConfig);
        res.writeHead(204).end();
        return;
      }
      if (req.method === "PATCH" && path === "/_emulator/versions") {
        const body = await readJson("{arn, status?, tags?, removeTags?}");
        if (typeof body !== "object" || body === null || Array.isArray(body)) throw new ControlError(400, "body must be {arn, status?, tags?, removeTags?}");
        const { arn, ...change } = body as Record<string, unknown>;
        if (typeof arn !== "string" || arn === "") throw new ControlError(400, "arn: required, the version's ARN");
        return send(res, 200, emulator.updateVersion(arn, change as VersionUpdate), json);
      }
      throw new ControlError(404, `no admin route ${req.method ?? ""} ${path}`);
    } catch (err) {
      const status = err instanceof ControlError ? err.status : 500;
      send(res, status, { message: (err as Error)?.message ?? String(err) }, json);
    }
  }

  interface Auth {
    accessKey: string;
    region: string;
    service: string;
  }

  // SigV4 is not verified (no secrets here), but its presence is, and the region comes from the credential
  // scope exactly as AWS routes it: each region is its own world.
  function parseAuth(header: string | undefined): Auth | "missing" | "malformed" {
    if (typeof header !== "string" || !header.startsWith("AWS4-HMAC-SHA256")) return "missing";
    const scope = /Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request/.exec(header);
    if (!scope) return "malformed";
    return { accessKey: scope[1] ?? "", region: scope[3] ?? "", service: scope[4] ?? "" };
  }

  function parseJsonBody(raw: string): Body | undefined {
    try {
      const parsed: unknown = raw.trim() === "" ? {} : JSON.parse(raw);
      return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Body) : undefined;
    } catch {
      return undefined;
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const [pathPart = "/", queryPart = ""] = (req.url ?? "/").split("?", 2);
    const path = pathPart;
    if (path.startsWith("/_emulator/")) return handleAdmin(req, res, path, new URLSearchParams(queryPart));

    const requestId = randomUUID();
    const target = req.headers["x-amz-target"];
    let operation =
      typeof target === "string" && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : String(target ?? "");
    let region = "";
    let account: string | undefined;
    let about: string | undefined;
    let sts = false;
    const answered = (outcome: string, status: number) =>
      record({ phase: "answered", requestId, operation, region, ...(account !== undefined ? { account } : {}), ...(about !== undefined ? { target: about } : {}), outcome, status });
    try {
      // Read and identify the call (best effort) and log its arrival before anything can hold it: a test
      // waiting for a slow call to be in flight acts on this event.
      let raw = "";
      let readError: unknown;
      try {
        raw = await readBody(req);
      } catch (err) {
        readError = err;
      }
      const auth = parseAuth(req.headers.authorization);
      if (typeof auth === "object") {
        region = auth.region;
        account = issuedKeys.get(auth.accessKey)?.account ?? state.account;
        sts = auth.service === "sts";
      }
      let params: URLSearchParams | undefined;
      let body: Body | undefined;
      if (sts) {
        params = new URLSearchParams(raw);
        operation = params.get("Action") ?? "";
        about = params.get("RoleArn") ?? undefined;
      } else {
        body = parseJsonBody(raw);
        about = targetOf(body);
      }
      record({ phase: "received", requestId, operation, region, ...(account !== undefined ? { account } : {}), ...(about !== undefined ? { target: about } : {}), outcome: "pending", status: 0 });
      if (readError !== undefined) throw readError;

      const delay = faults.latency();
      if (delay > 0) await sleep(delay);

      if (auth === "missing") throw new ApiError("MissingAuthenticationTokenException", "Missing Authentication Token", 400);
      if (auth === "malformed") throw new ApiError("IncompleteSignatureException", "Authorization header requires a valid Credential scope.");
      const key = issuedKeys.get(auth.accessKey);
      const caller: Caller = { account: account!, arn: key?.arn ?? `arn:aws:iam::${account!}:user/emulator`, operation };

      if (sts) {
        if (!(STS_OPERATIONS as readonly string[]).includes(operation)) {
          throw new ApiError("InvalidAction", `Could not find operation ${operation} for version 2011-06-15`);
        }
        await applyFaults(caller, region, about);
        const result = stsOperation(params!, caller, key, auth.accessKey);
        answered("ok", 200);
        sendXml(res, 200, `<${operation}Response xmlns="${STS_NS}">${result}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`, requestId);
        return;
      }
      if (auth.service !== "rekognition") {
        throw new ApiError("InvalidSignatureException", `Credential should be scoped to correct service: 'rekognition'.`, 400);
      }
      if (req.method !== "POST" || path !== "/") {
        throw new ApiError("UnknownOperationException", `Only POST / is served (got ${req.method ?? ""} ${path}).`);
      }
      const op = typeof target === "string" && target.startsWith(TARGET_PREFIX) ? operations[operation] : undefined;
      if (!op) throw new ApiError("UnknownOperationException", `Unknown operation ${String(target ?? "(no X-Amz-Target)")}`);
      if (!body) {
        throw new ApiError("SerializationException", parseJsonBody(`{"v":${raw}}`) ? "Request body must be a JSON object" : "Request body is not valid JSON");
      }

      await applyFaults(caller, region, about);
      settle();
      const result = op(body, { region, account: caller.account, caller });
      answered("ok", 200);
      send(res, 200, result, JSON_11, requestId);
    } catch (err) {
      const apiErr =
        err instanceof ApiError ? err : new ApiError(sts ? "InternalFailure" : "InternalServerError", `emulator bug: ${(err as Error)?.message ?? String(err)}`, 500);
      answered(apiErr.code, apiErr.status);
      if (res.headersSent || res.destroyed) return;
      if (sts) sendStsError(res, apiErr, requestId);
      else sendError(res, apiErr, requestId);
    }
  }

  /** Decides this request's faults; waits out a rule's delay; throws the fault's error, if any. */
  async function applyFaults(caller: Caller, region: string, about: string | undefined): Promise<void> {
    const decision: FaultDecision = faults.decide({
      operation: caller.operation,
      account: caller.account,
      region,
      ...(about !== undefined ? { target: about } : {}),
      sts: (STS_OPERATIONS as readonly string[]).includes(caller.operation),
      callerArn: caller.arn,
    });
    // Deliberately not abandoned when the client hangs up: AWS executes a call it received.
    if (decision.delayMs > 0) await sleep(decision.delayMs);
    if (decision.error) throw decision.error;
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

  function sendStsError(res: ServerResponse, e: ApiError, requestId: string): void {
    const type = e.status >= 500 ? "Receiver" : "Sender";
    sendXml(res, e.status, `<ErrorResponse xmlns="${STS_NS}"><Error><Type>${type}</Type><Code>${xml(e.code)}</Code><Message>${xml(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`, requestId);
  }

  /** The XML result element of an STS action; throws ApiError with STS's codes. */
  function stsOperation(params: URLSearchParams, caller: Caller, key: { userId: string } | undefined, accessKey: string): string {
    if (caller.operation === "AssumeRole") {
      const roleArn = params.get("RoleArn") ?? "";
      const session = params.get("RoleSessionName") ?? "";
      const m = ROLE_ARN.exec(roleArn);
      if (!m) throw new ApiError("ValidationError", `RoleArn ${JSON.stringify(roleArn)} is not a valid IAM role ARN`);
      if (!SESSION_NAME.test(session)) throw new ApiError("ValidationError", "RoleSessionName must be 2..64 characters of [\\w+=,.@-]");
      if (denyRoles.has(roleArn)) throw new ApiError("AccessDenied", accessDeniedMessage(caller.arn, "sts:AssumeRole", roleArn));
      const duration = Number(params.get("DurationSeconds") ?? 3600);
      if (!Number.isInteger(duration) || duration < 900 || duration > 43200) throw new ApiError("ValidationError", "DurationSeconds must be 900..43200");
      const roleAccount = m[1]!;
      const newKey = `ASIA${randomUUID().replace(/-/g, "").slice(0, 16).toUpperCase()}`;
      const roleId = `AROA${createHash("sha256").update(roleArn).digest("hex").slice(0, 17).toUpperCase()}`;
      const assumedArn = `arn:aws:sts::${roleAccount}:assumed-role/${m[2]}/${session}`;
      issuedKeys.set(newKey, { account: roleAccount, arn: assumedArn, userId: `${roleId}:${session}` });
      const expiration = new Date(now() + duration * 1000).toISOString();
      return (
        `<AssumeRoleResult><Credentials><AccessKeyId>${newKey}</AccessKeyId><SecretAccessKey>${randomUUID()}</SecretAccessKey>` +
        `<SessionToken>${Buffer.from(randomUUID()).toString("base64")}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
        `<AssumedRoleUser><AssumedRoleId>${xml(roleId)}:${xml(session)}</AssumedRoleId><Arn>${xml(assumedArn)}</Arn></AssumedRoleUser></AssumeRoleResult>`
      );
    }
    // GetCallerIdentity
    return `<GetCallerIdentityResult><Arn>${xml(caller.arn)}</Arn><UserId>${xml(key?.userId ?? accessKey)}</UserId><Account>${caller.account}</Account></GetCallerIdentityResult>`;
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
  const answeredOnly = () => log.filter((c) => c.phase === "answered");

  const emulator: Emulator = {
    url: `http://${urlHost}:${port}`,
    port,
    calls: (o) => {
      const phase = o?.phase ?? "answered";
      return log.filter((c) => phase === "all" || c.phase === phase).map((c) => ({ ...c }));
    },
    callCount: (operation, outcome) =>
      answeredOnly().filter((c) => (operation === undefined || c.operation === operation) && (outcome === undefined || c.outcome === outcome)).length,
    resetCalls: () => {
      log = [];
    },
    setFaults: (f) => {
      const problems = faultConfigProblems(f, SERVED_OPERATIONS);
      if (problems.length > 0) throw new Error(`invalid fault config: ${problems.join("; ")}`);
      faults = new Faults(f, now);
    },
    snapshot: () => {
      settle();
      return toStateFile(state);
    },
    updateVersion,
    waitForCall,
    onCall: (listener) => {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    close: () => {
      // Idempotent, so an afterAll that runs after a failed test's own cleanup cannot fail the file.
      closing ??= new Promise<void>((resolve, reject) => {
        for (const fail of [...pendingWaits]) fail(new Error("waitForCall: the emulator was closed before a matching call"));
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets from SDK agents would otherwise hold close() open for seconds.
        server.closeAllConnections();
      });
      return closing;
    },
  };
  return emulator;
}

/** A problem with a test's control request (in-process or over /_emulator/*): its HTTP status and message. */
export class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ControlError";
  }
}

const UPDATE_KEYS = ["status", "tags", "removeTags"];

function versionUpdateProblems(change: unknown): string[] {
  if (typeof change !== "object" || change === null || Array.isArray(change)) return ["the change must be {status?, tags?, removeTags?}"];
  const c = change as Record<string, unknown>;
  const problems: string[] = [];
  for (const k of Object.keys(c)) if (!UPDATE_KEYS.includes(k)) problems.push(`${k}: unknown field (known: ${UPDATE_KEYS.join(", ")})`);
  if (c.status !== undefined && (typeof c.status !== "string" || !(VERSION_STATUSES as readonly string[]).includes(c.status))) {
    problems.push(`status: ${JSON.stringify(c.status)} is not one of the 14 version statuses (${VERSION_STATUSES.join(", ")})`);
  }
  if (c.tags !== undefined) {
    if (typeof c.tags !== "object" || c.tags === null || Array.isArray(c.tags)) problems.push("tags: must be an object of string values");
    else problems.push(...tagProblems(c.tags as Record<string, unknown>).map((p) => `tags: ${p}`));
  }
  if (c.removeTags !== undefined && (!Array.isArray(c.removeTags) || !c.removeTags.every((k) => typeof k === "string"))) {
    problems.push("removeTags: must be a list of tag keys");
  }
  return problems;
}

export type { EmulatorStateFile };
