// The test-control surface: changing the world behind the API's back (updateVersion), and the /_emulator/*
// HTTP endpoints that give an emulator in another process the same powers as the in-process API.
//
//   GET   /_emulator/calls              → CallRecord[] (answered calls; `?phase=all` adds arrivals, `?phase=received`)
//   POST  /_emulator/reset-calls        → 204
//   PUT   /_emulator/faults             → body FaultConfig, replaces the current one; 400 naming each problem
//   GET   /_emulator/state              → snapshot (EmulatorStateFile)
//   PATCH /_emulator/versions           → body {arn, status?, tags?, removeTags?} → 200 the version; 400; 404
//   GET   /_emulator/meter              → {versionArn: inference-unit hours metered while running}
//
// No auth: loopback callers only, even when the emulator is bound to another address.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { CallPhase, CallRecord } from "./calllog.js";
import { faultConfigProblems, type FaultConfig } from "./faults.js";
import {
  ADAPTER_ONLY_STATUSES,
  NEVER_ADAPTER_STATUSES,
  VERSION_STATUSES,
  type EmulatorStateFile,
  type EmulatorVersionFile,
  type VersionStatus,
} from "./state.js";
import { tagProblems } from "./statecheck.js";
import { isLoopback, readBody, sendJson } from "./transport.js";
import { versionToFile, type World } from "./world.js";

/** A test's change to one version, applied as if AWS had done it (see Emulator.updateVersion). */
export interface VersionUpdate {
  status?: VersionStatus;
  /** Tags to add or overwrite. */
  tags?: Record<string, string>;
  /** Tag keys to remove (applied before `tags`). */
  removeTags?: string[];
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

/** See Emulator.updateVersion. */
export function updateVersion(world: World, arn: string, change: VersionUpdate): EmulatorVersionFile {
  const problems = versionUpdateProblems(change);
  if (problems.length > 0) throw new ControlError(400, `updateVersion ${arn}: ${problems.join("; ")}`);
  world.settle();
  const found = world.findAnyVersion(arn);
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
    delete version.copyFails;
    delete version.statusMessage;
    if (status !== "RUNNING" && status !== "STARTING" && status !== "STOPPING") {
      delete version.minInferenceUnits;
      delete version.maxInferenceUnits;
      delete version.meteredAt;
    } else if (status === "RUNNING") {
      // Running, as AWS would report it: with its units, and billed from now.
      version.minInferenceUnits ??= 1;
      version.meteredAt = world.now();
    }
  }
  return versionToFile(version);
}

/** What the control endpoints act on: the emulator's own in-process API. */
export interface Controlled {
  calls(opts?: { phase?: CallPhase | "all" }): CallRecord[];
  resetCalls(): void;
  setFaults(f: FaultConfig): void;
  snapshot(): EmulatorStateFile;
  updateVersion(arn: string, change: VersionUpdate): EmulatorVersionFile;
  meter(): Record<string, number>;
}

export async function handleControl(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: URLSearchParams,
  emulator: Controlled,
  operations: readonly string[],
): Promise<void> {
  const json = "application/json";
  // Admin paths are unauthenticated; if someone binds a non-loopback host, keep them local anyway.
  if (!isLoopback(req)) return sendJson(res, 403, { message: "admin paths are loopback only" }, json);
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
      return sendJson(res, 200, emulator.calls({ phase }), json);
    }
    if (req.method === "GET" && path === "/_emulator/state") return sendJson(res, 200, emulator.snapshot(), json);
    if (req.method === "GET" && path === "/_emulator/meter") return sendJson(res, 200, emulator.meter(), json);
    if (req.method === "POST" && path === "/_emulator/reset-calls") {
      await readBody(req);
      emulator.resetCalls();
      res.writeHead(204).end();
      return;
    }
    if (req.method === "PUT" && path === "/_emulator/faults") {
      const cfg = await readJson("a FaultConfig");
      const problems = faultConfigProblems(cfg, operations);
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
      return sendJson(res, 200, emulator.updateVersion(arn, change as VersionUpdate), json);
    }
    throw new ControlError(404, `no admin route ${req.method ?? ""} ${path}`);
  } catch (err) {
    const status = err instanceof ControlError ? err.status : 500;
    sendJson(res, status, { message: (err as Error)?.message ?? String(err) }, json);
  }
}
