// One request through the emulator: read it and log its arrival, identify the caller, check the
// signature's scope and date, route (STS or Rekognition), draw faults, execute, log and send the answer.
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { CallLog, CallPhase } from "./calllog.js";
import { ApiError } from "./errors.js";
import { changeAnswer, type AnswerChange, type Faults } from "./faults.js";
import { STS_INPUTS } from "./model.js";
import { OPERATIONS, targetOf, validateInput, type Body, type Caller } from "./rekognition/index.js";
import { STS_OPERATIONS, type Sts, sendStsError, sendStsResult } from "./sts.js";
import { JSON_11, TARGET_PREFIX, parseAuth, parseJsonObject, readBody, sendAwsJsonError, sendJson, signatureDateProblem, signingTime } from "./transport.js";
import { firstViolation, fromQuery } from "./validate.js";
import type { World } from "./world.js";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const MINUTE = 60_000;

export interface PipelineDeps {
  world: World;
  sts: Sts;
  log: CallLog;
  /** The fault config in force (tests replace it while the emulator runs). */
  faults(): Faults;
  /** The emulator's wall clock: it dates answers and checks signature dates. */
  wallClock(): number;
  /** The /_emulator/* control endpoints. */
  control(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void>;
}

/** What is known of one call once it is read, before anything can hold it. */
interface Call {
  requestId: string;
  operation: string;
  target: string | string[] | undefined;
  region: string;
  account?: string;
  sourceIdentity?: string;
  about?: string;
  members: string[];
  isSts: boolean;
  auth: ReturnType<typeof parseAuth>;
  raw: string;
  params?: URLSearchParams;
  body?: Body;
}

export class Pipeline {
  constructor(private readonly deps: PipelineDeps) {}

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const [path = "/", query = ""] = (req.url ?? "/").split("?", 2);
    if (path.startsWith("/_emulator/")) return this.deps.control(req, res, path, new URLSearchParams(query));
    const requestId = randomUUID();
    // Clients correct their clock offset from this header, so it tells the emulator's wall clock.
    res.setHeader("Date", new Date(this.deps.wallClock()).toUTCString());
    const target = req.headers["x-amz-target"];
    const call: Call = {
      requestId,
      operation: typeof target === "string" && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : String(target ?? ""),
      target,
      region: "",
      members: [],
      isSts: false,
      auth: "missing",
      raw: "",
    };
    const event = (phase: CallPhase, outcome: string, status: number) =>
      this.deps.log.record({
        phase,
        requestId,
        operation: call.operation,
        region: call.region,
        ...(call.account !== undefined ? { account: call.account } : {}),
        ...(call.sourceIdentity !== undefined ? { sourceIdentity: call.sourceIdentity } : {}),
        ...(call.about !== undefined ? { target: call.about } : {}),
        outcome,
        status,
      });
    try {
      // Read and identify the call (best effort) and log its arrival before anything can hold it: a test
      // waiting for a slow call to be in flight acts on this event.
      const readError = await this.read(req, call);
      event("received", "pending", 0);
      if (readError !== undefined) throw readError;
      const delay = this.deps.faults().latency();
      if (delay > 0) await sleep(delay);
      const caller = this.admit(req, call);
      if (call.isSts) return await this.serveSts(res, call, caller, () => event("answered", "ok", 200));
      await this.serveRekognition(req, res, path, call, caller, () => event("answered", "ok", 200));
    } catch (err) {
      const apiErr =
        err instanceof ApiError
          ? err
          : new ApiError(call.isSts ? "InternalFailure" : "InternalServerError", `emulator bug: ${(err as Error)?.message ?? String(err)}`, 500);
      event("answered", apiErr.code, apiErr.status);
      if (res.headersSent || res.destroyed) return;
      if (call.isSts) sendStsError(res, apiErr, requestId);
      else sendAwsJsonError(res, apiErr, requestId);
    }
  }

  /** Read the body and identify the caller and what the call is about; returns a read error to throw once logged. */
  private async read(req: IncomingMessage, call: Call): Promise<unknown> {
    let readError: unknown;
    try {
      call.raw = await readBody(req);
    } catch (err) {
      readError = err;
    }
    const { sts, world } = this.deps;
    call.auth = parseAuth(req.headers.authorization);
    if (typeof call.auth === "object") {
      call.region = call.auth.region;
      call.account = sts.identity(call.auth.accessKey)?.account ?? world.account;
      call.sourceIdentity = sts.identity(call.auth.accessKey)?.sourceIdentity;
      call.isSts = call.auth.service === "sts";
    }
    if (call.isSts) {
      call.params = new URLSearchParams(call.raw);
      call.operation = call.params.get("Action") ?? "";
      call.about = call.params.get("RoleArn") ?? undefined;
      call.members = [...new Set([...call.params.keys()].map((k) => k.split(".")[0]!))];
    } else {
      call.body = parseJsonObject(call.raw);
      call.about = targetOf(call.body);
      call.members = Object.keys(call.body ?? {});
    }
    return readError;
  }

  /** The signature's presence, scope and date, as AWS checks them; the caller it names. */
  private admit(req: IncomingMessage, call: Call): Caller {
    const auth = call.auth;
    if (auth === "missing") throw new ApiError("MissingAuthenticationTokenException", "Missing Authentication Token", undefined, true);
    if (auth === "malformed") throw new ApiError("IncompleteSignatureException", "Authorization header requires a valid Credential scope.", undefined, true);
    // The signature itself is not verified (no secrets here), but its date is, as AWS does: a client whose
    // clock is off learns it from this answer and its Date header, and the SDK corrects its offset.
    const signedAt = signingTime(req.headers);
    if (signedAt === undefined) {
      throw new ApiError(
        "IncompleteSignatureException",
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        undefined,
        true,
      );
    }
    const dateProblem = signatureDateProblem(signedAt, this.deps.wallClock(), (call.isSts ? 15 : 5) * MINUTE);
    if (dateProblem)
      throw call.isSts ? new ApiError("SignatureDoesNotMatch", dateProblem) : new ApiError("InvalidSignatureException", dateProblem, undefined, true);
    return {
      account: call.account!,
      arn: this.deps.sts.identity(auth.accessKey)?.arn ?? `arn:aws:iam::${call.account!}:user/emulator`,
      operation: call.operation,
    };
  }

  private async serveSts(res: ServerResponse, call: Call, caller: Caller, answered: () => void): Promise<void> {
    if (!STS_OPERATIONS.includes(call.operation)) throw new ApiError("InvalidAction", `Could not find operation ${call.operation} for version 2011-06-15`);
    const change = await this.applyFaults(caller, call);
    const violation = firstViolation(STS_INPUTS[call.operation]!, fromQuery(call.params!, STS_INPUTS[call.operation]!));
    if (violation) throw new ApiError("ValidationError", violation.message);
    const result = this.deps.sts.run(call.params!, caller, (call.auth as { accessKey: string }).accessKey);
    answered();
    sendStsResult(res, call.operation, change ? changeAnswer(result, change) : result, call.requestId);
  }

  private async serveRekognition(req: IncomingMessage, res: ServerResponse, path: string, call: Call, caller: Caller, answered: () => void): Promise<void> {
    if ((call.auth as { service: string }).service !== "rekognition") {
      throw new ApiError("InvalidSignatureException", `Credential should be scoped to correct service: 'rekognition'.`, undefined, true);
    }
    if (req.method !== "POST" || path !== "/") throw new ApiError("UnknownOperationException", `Only POST / is served (got ${req.method ?? ""} ${path}).`);
    const op = typeof call.target === "string" && call.target.startsWith(TARGET_PREFIX) ? OPERATIONS[call.operation] : undefined;
    if (!op) throw new ApiError("UnknownOperationException", `Unknown operation ${String(call.target ?? "(no X-Amz-Target)")}`);
    if (!call.body)
      throw new ApiError(
        "SerializationException",
        parseJsonObject(`{"v":${call.raw}}`) ? "Request body must be a JSON object" : "Request body is not valid JSON",
      );
    const change = await this.applyFaults(caller, call);
    // Constraint violations are answered before anything is looked up (assumed of AWS; see docs/emulator.md, "Held to AWS"),
    // so a malformed ARN can never pass for a resource that is gone.
    validateInput(call.operation, call.body);
    const { world } = this.deps;
    world.settle();
    const result = op(call.body, { region: call.region, account: caller.account, caller, world });
    answered();
    // A changed answer is still the answer to an operation that ran: the world has changed as it would have.
    sendJson(res, 200, change ? changeAnswer(result, change) : result, JSON_11, call.requestId);
  }

  /** Decides this request's faults; waits out a rule's delay; throws the fault's error, if any; returns how to change the answer, if at all. */
  private async applyFaults(caller: Caller, call: Call): Promise<AnswerChange | undefined> {
    const decision = this.deps.faults().decide({
      operation: caller.operation,
      account: caller.account,
      region: call.region,
      ...(call.about !== undefined ? { target: call.about } : {}),
      sts: STS_OPERATIONS.includes(caller.operation),
      callerArn: caller.arn,
      members: call.members,
    });
    // Deliberately not abandoned when the client hangs up: AWS executes a call it received.
    if (decision.delayMs > 0) await sleep(decision.delayMs);
    if (decision.error) throw decision.error;
    return decision.answer;
  }
}
