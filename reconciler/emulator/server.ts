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

import { CallLog, type CallPhase, type CallRecord } from "./calllog.js";
import { handleControl, updateVersion, type VersionUpdate } from "./control.js";
import { demoState } from "./demo.js";
import { Faults, faultConfigProblems, type FaultConfig } from "./faults.js";
import { Pipeline } from "./pipeline.js";
import { REKOGNITION_OPERATIONS } from "./rekognition/index.js";
import type { EmulatorStateFile, EmulatorVersionFile } from "./state.js";
import { STS_OPERATIONS, Sts } from "./sts.js";
import { listen } from "./transport.js";
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
  /**
   * A fault: a copy whose source version ARN or new VersionName contains one of these strings ends
   * COPYING_FAILED after copyDelayMs, with a status message, instead of COPYING_COMPLETED. Defaults to none.
   */
  copyFails?: string[];
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
  /** Inference-unit hours metered per version ARN while it ran (what AWS bills for a running model). */
  meter(): Record<string, number>;
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

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const now = opts.now ?? Date.now;
  const world = new World(buildLiveState(opts.state ?? demoState(), now(), opts.account), now, {
    deleteMs: opts.deleteDelayMs ?? 1000,
    stopMs: opts.stopDelayMs ?? 1000,
    startMs: opts.startDelayMs ?? 1000,
    copyMs: opts.copyDelayMs ?? 1000,
    ...(opts.tokenTtlMs !== undefined ? { tokenTtlMs: opts.tokenTtlMs } : {}),
    ...(opts.copyPinsSource !== undefined ? { copyPinsSource: opts.copyPinsSource } : {}),
    ...(opts.copyFails ? { copyFails: [...opts.copyFails] } : {}),
  });
  for (const [name, v] of [
    ["tokenTtlMs", opts.tokenTtlMs],
    ["clockSkewMs", opts.clockSkewMs],
  ] as const) {
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

  const pipeline = new Pipeline({
    world,
    sts,
    log,
    faults: () => faults,
    wallClock,
    control: (req, res, path, query) => handleControl(req, res, path, query, emulator, SERVED_OPERATIONS),
  });

  const server = await listen(opts.host ?? "127.0.0.1", opts.port ?? 0, (req, res) => pipeline.handle(req, res));

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
    meter: () => world.meter(),
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
