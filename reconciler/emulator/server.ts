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
// This module wires the parts together and runs each request through one pipeline: read and log its
// arrival, identify the caller, route (STS or Rekognition), draw faults, execute, log and send the answer.
//   transport.ts  HTTP, SigV4 scope, JSON framing     rekognition/  one module per resource family
//   sts.ts        STS on the same port                 faults.ts     injected faults and rules
//   calllog.ts    call events and waiting on them      control.ts    /_emulator/* and updateVersion
//   world.ts      the live model                       state.ts      the state file

import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { CallLog, type CallPhase, type CallRecord } from "./calllog.js";
import { handleControl, updateVersion, type VersionUpdate } from "./control.js";
import { demoState } from "./demo.js";
import { ApiError } from "./errors.js";
import { Faults, changeAnswer, faultConfigProblems, type AnswerChange, type FaultConfig } from "./faults.js";
import { STS_INPUTS } from "./model.js";
import { OPERATIONS, REKOGNITION_OPERATIONS, targetOf, validateInput, type Body, type Caller } from "./rekognition/index.js";
import type { EmulatorStateFile, EmulatorVersionFile } from "./state.js";
import { STS_OPERATIONS, Sts, sendStsError, sendStsResult } from "./sts.js";
import { JSON_11, TARGET_PREFIX, listen, parseAuth, parseJsonObject, readBody, sendAwsJsonError, sendJson, signatureDateProblem, signingTime } from "./transport.js";
import { firstViolation, fromQuery } from "./validate.js";
import { World, buildLiveState } from "./world.js";

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
  /**
   * Whether a copy in progress blocks deleting its source (ResourceInUseException). Unverified on AWS; default
   * true. false plays the other possible answer, where only the client can keep the source.
   */
  copyPinsSource?: boolean;
  faults?: FaultConfig;
  /** Epoch-ms clock for ages, transitions, rate limits and the call log. Defaults to Date.now. */
  now?: () => number;
  /** Role ARNs whose AssumeRole is answered AccessDenied. Defaults to none: any well-formed role is granted. */
  denyRoles?: string[];
  /**
   * A NextToken older than this (emulator clock) answers InvalidPaginationTokenException, as an expired token
   * does on AWS. Defaults to undefined: tokens never expire.
   */
  tokenTtlMs?: number;
  /**
   * How far the emulator's wall clock is ahead of the real one (negative: behind). That clock, not `now`, checks
   * request signature dates (AWS refuses one more than 5 minutes off, 15 for STS) and dates answers (the Date
   * header clients correct their clock offset from). Defaults to 0. `now` stays the model's clock, so tests
   * that freeze it still sign requests with the real time.
   */
  clockSkewMs?: number;
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
   * version as a state-file entry; throws ControlError naming the problem for an unknown ARN or invalid change.
   */
  updateVersion(arn: string, change: VersionUpdate): EmulatorVersionFile;
  /**
   * The first event (received or answered) matching `predicate`, already logged or still to come. Rejects
   * after `timeoutMs` (real time) with a message listing the last events seen, or when the emulator closes.
   */
  waitForCall(predicate: (c: CallRecord) => boolean, timeoutMs?: number): Promise<CallRecord>;
  /** Calls `listener` with every event from now on; returns the unsubscribe function. */
  onCall(listener: (c: CallRecord) => void): () => void;
  close(): Promise<void>;
}

export type { CallPhase, CallRecord } from "./calllog.js";
export type { VersionUpdate } from "./control.js";
export { ControlError } from "./control.js";
export type { AnswerChange, FaultConfig, FaultRule } from "./faults.js";
export { seededRandom } from "./faults.js";
export type { EmulatorStateFile } from "./state.js";

/** Every operation the emulator answers (Rekognition, then STS); fault rules may name these. */
export const SERVED_OPERATIONS: readonly string[] = [...REKOGNITION_OPERATIONS, ...STS_OPERATIONS];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const MINUTE = 60_000;

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const now = opts.now ?? Date.now;
  const world = new World(buildLiveState(opts.state ?? demoState(), now(), opts.account), now, {
    deleteMs: opts.deleteDelayMs ?? 1000,
    stopMs: opts.stopDelayMs ?? 1000,
    startMs: opts.startDelayMs ?? 1000,
    copyMs: opts.copyDelayMs ?? 1000,
    ...(opts.tokenTtlMs !== undefined ? { tokenTtlMs: opts.tokenTtlMs } : {}),
    ...(opts.copyPinsSource !== undefined ? { copyPinsSource: opts.copyPinsSource } : {}),
  });
  for (const [name, v] of [["tokenTtlMs", opts.tokenTtlMs], ["clockSkewMs", opts.clockSkewMs]] as const) {
    if (v !== undefined && !Number.isFinite(v)) throw new Error(`${name} must be a finite number of milliseconds (got ${v})`);
  }
  if (opts.tokenTtlMs !== undefined && opts.tokenTtlMs < 0) throw new Error(`tokenTtlMs must be >= 0 (got ${opts.tokenTtlMs})`);
  const clockSkewMs = opts.clockSkewMs ?? 0;
  const wallClock = () => Date.now() + clockSkewMs;
  const faultProblems = faultConfigProblems(opts.faults ?? {}, SERVED_OPERATIONS);
  if (faultProblems.length > 0) throw new Error(`invalid fault config: ${faultProblems.join("; ")}`);
  let faults = new Faults(opts.faults ?? {}, now);
  const log = new CallLog(now);
  const sts = new Sts(now, new Set(opts.denyRoles ?? []));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const [path = "/", query = ""] = (req.url ?? "/").split("?", 2);
    if (path.startsWith("/_emulator/")) return handleControl(req, res, path, new URLSearchParams(query), emulator, SERVED_OPERATIONS);

    const requestId = randomUUID();
    // Clients correct their clock offset from this header, so it tells the emulator's wall clock.
    res.setHeader("Date", new Date(wallClock()).toUTCString());
    const target = req.headers["x-amz-target"];
    let operation = typeof target === "string" && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : String(target ?? "");
    let region = "";
    let account: string | undefined;
    let sourceIdentity: string | undefined;
    let about: string | undefined;
    let members: string[] = [];
    let isSts = false;
    const event = (phase: CallPhase, outcome: string, status: number) =>
      log.record({ phase, requestId, operation, region, ...(account !== undefined ? { account } : {}), ...(sourceIdentity !== undefined ? { sourceIdentity } : {}), ...(about !== undefined ? { target: about } : {}), outcome, status });
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
        account = sts.identity(auth.accessKey)?.account ?? world.account;
        sourceIdentity = sts.identity(auth.accessKey)?.sourceIdentity;
        isSts = auth.service === "sts";
      }
      let params: URLSearchParams | undefined;
      let body: Body | undefined;
      if (isSts) {
        params = new URLSearchParams(raw);
        operation = params.get("Action") ?? "";
        about = params.get("RoleArn") ?? undefined;
        members = [...new Set([...params.keys()].map((k) => k.split(".")[0]!))];
      } else {
        body = parseJsonObject(raw);
        about = targetOf(body);
        members = Object.keys(body ?? {});
      }
      event("received", "pending", 0);
      if (readError !== undefined) throw readError;

      const delay = faults.latency();
      if (delay > 0) await sleep(delay);

      if (auth === "missing") throw new ApiError("MissingAuthenticationTokenException", "Missing Authentication Token", undefined, true);
      if (auth === "malformed") throw new ApiError("IncompleteSignatureException", "Authorization header requires a valid Credential scope.", undefined, true);
      // The signature itself is not verified (no secrets here), but its date is, as AWS does: a client whose
      // clock is off learns it from this answer and its Date header, and the SDK corrects its offset.
      const signedAt = signingTime(req.headers);
      if (signedAt === undefined) {
        throw new ApiError("IncompleteSignatureException", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.", undefined, true);
      }
      const dateProblem = signatureDateProblem(signedAt, wallClock(), (isSts ? 15 : 5) * MINUTE);
      if (dateProblem) throw isSts ? new ApiError("SignatureDoesNotMatch", dateProblem) : new ApiError("InvalidSignatureException", dateProblem, undefined, true);
      const caller: Caller = { account: account!, arn: sts.identity(auth.accessKey)?.arn ?? `arn:aws:iam::${account!}:user/emulator`, operation };

      if (isSts) {
        if (!STS_OPERATIONS.includes(operation)) throw new ApiError("InvalidAction", `Could not find operation ${operation} for version 2011-06-15`);
        const change = await applyFaults(caller, region, about, members);
        const violation = firstViolation(STS_INPUTS[operation]!, fromQuery(params!, STS_INPUTS[operation]!));
        if (violation) throw new ApiError("ValidationError", violation.message);
        const result = sts.run(params!, caller, auth.accessKey);
        event("answered", "ok", 200);
        sendStsResult(res, operation, change ? changeAnswer(result, change) : result, requestId);
        return;
      }
      if (auth.service !== "rekognition") {
        throw new ApiError("InvalidSignatureException", `Credential should be scoped to correct service: 'rekognition'.`, undefined, true);
      }
      if (req.method !== "POST" || path !== "/") {
        throw new ApiError("UnknownOperationException", `Only POST / is served (got ${req.method ?? ""} ${path}).`);
      }
      const op = typeof target === "string" && target.startsWith(TARGET_PREFIX) ? OPERATIONS[operation] : undefined;
      if (!op) throw new ApiError("UnknownOperationException", `Unknown operation ${String(target ?? "(no X-Amz-Target)")}`);
      if (!body) {
        throw new ApiError("SerializationException", parseJsonObject(`{"v":${raw}}`) ? "Request body must be a JSON object" : "Request body is not valid JSON");
      }

      const change = await applyFaults(caller, region, about, members);
      // Constraint violations are answered before anything is looked up (assumed of AWS; see the README table),
      // so a malformed ARN can never pass for a resource that is gone.
      validateInput(operation, body);
      world.settle();
      const result = op(body, { region, account: caller.account, caller, world });
      event("answered", "ok", 200);
      // A changed answer is still the answer to an operation that ran: the world has changed as it would have.
      sendJson(res, 200, change ? changeAnswer(result, change) : result, JSON_11, requestId);
    } catch (err) {
      const apiErr =
        err instanceof ApiError ? err : new ApiError(isSts ? "InternalFailure" : "InternalServerError", `emulator bug: ${(err as Error)?.message ?? String(err)}`, 500);
      event("answered", apiErr.code, apiErr.status);
      if (res.headersSent || res.destroyed) return;
      if (isSts) sendStsError(res, apiErr, requestId);
      else sendAwsJsonError(res, apiErr, requestId);
    }
  }

  /** Decides this request's faults; waits out a rule's delay; throws the fault's error, if any; returns how to change the answer, if at all. */
  async function applyFaults(caller: Caller, region: string, about: string | undefined, members: string[]): Promise<AnswerChange | undefined> {
    const decision = faults.decide({
      operation: caller.operation,
      account: caller.account,
      region,
      ...(about !== undefined ? { target: about } : {}),
      sts: STS_OPERATIONS.includes(caller.operation),
      callerArn: caller.arn,
      members,
    });
    // Deliberately not abandoned when the client hangs up: AWS executes a call it received.
    if (decision.delayMs > 0) await sleep(decision.delayMs);
    if (decision.error) throw decision.error;
    return decision.answer;
  }

  const server = await listen(opts.host ?? "127.0.0.1", opts.port ?? 0, handle);

  const emulator: Emulator = {
    url: server.url,
    port: server.port,
    calls: (o) => log.calls(o?.phase ?? "answered"),
    callCount: (operation, outcome) => log.count(operation, outcome),
    resetCalls: () => log.reset(),
    setFaults: (f) => {
      const problems = faultConfigProblems(f, SERVED_OPERATIONS);
      if (problems.length > 0) throw new Error(`invalid fault config: ${problems.join("; ")}`);
      faults = new Faults(f, now);
    },
    snapshot: () => world.snapshot(),
    updateVersion: (arn, change) => updateVersion(world, arn, change),
    waitForCall: (predicate, timeoutMs) => log.waitFor(predicate, timeoutMs),
    onCall: (listener) => log.onCall(listener),
    close: () => {
      // Idempotent, so an afterAll that runs after a failed test's own cleanup cannot fail the file.
      log.close();
      return server.close();
    },
  };
  return emulator;
}
