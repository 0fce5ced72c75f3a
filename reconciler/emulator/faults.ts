// Injected faults: random storms (rates and probabilities) and targeted rules (this operation, this ARN,
// this error, so many times, after this delay). Faults are decided before an operation runs, so an answered
// fault never changes state; a rule with only a delay lets the operation run afterwards. A rule with an
// `answer` lets the operation run too, exactly as it would, and changes only what is sent back (HTTP 200
// with a malformed body): the state then differs from a clean run in no way, so a test learns what a client
// makes of a broken answer to a call that did take effect.

import { ApiError, accessDeniedMessage } from "./errors.js";

/**
 * One targeted fault. Rules are tried in order; the first that matches the request (operation, ARN,
 * probability draw) and is not spent applies, and no other fault is then drawn for that request.
 */
export interface FaultRule {
  /** Operation name (`DeleteProjectVersion`, STS `AssumeRole`, ...) or "*" for every operation. */
  operation: string;
  /**
   * AWS error code to answer, e.g. AccessDeniedException, ThrottlingException, InternalServerError. On an STS
   * operation AccessDeniedException is answered as STS spells it: AccessDenied (HTTP 403).
   * Without a code the rule only delays, and the operation then runs normally.
   */
  code?: string;
  /**
   * Substring matched against what the request is about: its ProjectVersionArn, ProjectArn, ResourceArn
   * (or SourceProjectVersionArn), or its ProjectNames joined with ","; for STS AssumeRole, the RoleArn.
   * A request that names none of these never matches a rule with `arn`.
   */
  arn?: string;
  /**
   * HTTP status; default: the status AWS sends with `code` (500 InternalServerError and ThrottlingException,
   * 503 ServiceUnavailable, 403 for STS AccessDenied and front-door auth errors, else 400).
   */
  status?: number;
  /** Default: an IAM-style message for access denials, the developer guide's wording for Rekognition's codes. */
  message?: string;
  /** 0..1, default 1. Drawn from the config's seeded PRNG when `seed` is set. */
  probability?: number;
  /** Apply this many times, then the rule is spent. Default: forever. */
  times?: number;
  /**
   * Hold the request this long before answering. The request is executed (or refused with `code`) after the
   * delay even if the client has hung up meanwhile: AWS acts on a call it received whether or not anyone is
   * still listening for the answer.
   */
  delayMs?: number;
  /**
   * Only requests that carry this top-level input member match, e.g. `VersionNames` (DescribeProjectVersions
   * asked by name, as a last look or a wait does, not a project's whole listing). For STS, a form parameter.
   */
  hasMember?: string;
  /** Answer HTTP 200 with the operation's real answer changed (see AnswerChange). Not with `code`. */
  answer?: AnswerChange;
}

/**
 * How a rule changes a success answer. The operation runs first, exactly as without the rule; then `body`
 * (if given) replaces its answer, `omit` removes members and `set` sets them, in that order. Paths are
 * member names joined with ".", a number picks a list item and `*` every item of a list or entry of a map:
 * `Tags`, `ProjectVersionDescriptions.*.Status`, `Credentials.Expiration`. For STS the paths are into the
 * result element (`GetCallerIdentityResult`), whose values are written as XML text (objects as child
 * elements, lists as `<member>` runs).
 */
export interface AnswerChange {
  /** Members to remove, e.g. `["Tags"]`. A path that names nothing removes nothing. */
  omit?: string[];
  /** Path → any JSON value, of any type (that is the point): `{"Status": 5}`, `{"ProjectVersionDescriptions": {}}`. */
  set?: Record<string, unknown>;
  /** The whole answer, replaced by this JSON value. */
  body?: unknown;
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
  /** Only calls in these regions / from these accounts get faults, rules included (a storm in one place). Default: all. */
  only?: { regions?: string[]; accounts?: string[] };
  /** Targeted faults, tried before the random ones above. */
  rules?: FaultRule[];
}

/** What the emulator knows about a request when it decides on faults. */
export interface FaultContext {
  operation: string;
  account: string;
  region: string;
  /** What the request is about (see FaultRule.arn); undefined when it names nothing. */
  target?: string;
  /** The STS query protocol spells some codes differently (Throttling, AccessDenied). */
  sts: boolean;
  /** The caller's identity ARN, for IAM-style denial messages. */
  callerArn: string;
  /** The request's top-level input members (for FaultRule.hasMember). */
  members?: readonly string[];
}

/**
 * What to do with a request: wait `delayMs` first (0: not at all), then answer `error` or run the operation,
 * and answer its result changed by `answer` when there is one.
 */
export interface FaultDecision {
  delayMs: number;
  error?: ApiError;
  answer?: AnswerChange;
}

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

const CONFIG_KEYS = ["rateLimits", "throttleRate", "errorRate", "latencyMs", "seed", "only", "rules"];
const RULE_KEYS = ["operation", "code", "arn", "status", "message", "probability", "times", "delayMs", "hasMember", "answer"];
const ANSWER_KEYS = ["omit", "set", "body"];
// An AWS error code: a word such as ThrottlingException or InternalFailure (no spaces, no punctuation).
const CODE_PATTERN = /^[A-Z][A-Za-z0-9]{1,127}$/;

/**
 * Every problem with a fault config, as `field: message`. `operations` are the operation names the emulator
 * serves: a rule naming anything else would never fire, so a typo in a test is refused rather than ignored.
 */
export function faultConfigProblems(f: unknown, operations?: readonly string[]): string[] {
  if (typeof f !== "object" || f === null || Array.isArray(f)) return ["fault config must be an object"];
  const cfg = f as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(cfg)) {
    if (!CONFIG_KEYS.includes(key)) problems.push(`${key}: unknown field (known: ${CONFIG_KEYS.join(", ")})`);
  }
  const numberMap = (key: string, max?: number) => {
    const m = cfg[key];
    if (m === undefined) return;
    if (typeof m !== "object" || m === null || Array.isArray(m)) return void problems.push(`${key}: must be an object of numbers`);
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
    if (typeof only !== "object" || only === null || Array.isArray(only)) problems.push("only: must be {regions?, accounts?}");
    else {
      for (const k of Object.keys(only)) {
        const v = only[k];
        if (k !== "regions" && k !== "accounts") problems.push(`only.${k}: unknown field`);
        else if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) problems.push(`only.${k}: must be a list of strings`);
      }
    }
  }
  if (cfg.rules !== undefined) {
    if (!Array.isArray(cfg.rules)) problems.push("rules: must be a list of rules");
    else cfg.rules.forEach((r, i) => problems.push(...ruleProblems(r, `rules[${i}]`, operations)));
  }
  return problems;
}

function ruleProblems(r: unknown, path: string, operations?: readonly string[]): string[] {
  if (typeof r !== "object" || r === null || Array.isArray(r)) return [`${path}: must be an object`];
  const rule = r as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(rule)) {
    if (!RULE_KEYS.includes(key)) problems.push(`${path}.${key}: unknown field (known: ${RULE_KEYS.join(", ")})`);
  }
  if (typeof rule.operation !== "string" || rule.operation === "") problems.push(`${path}.operation: required, an operation name or "*"`);
  else if (operations && rule.operation !== "*" && !operations.includes(rule.operation)) {
    problems.push(`${path}.operation: "${rule.operation}" is not an operation the emulator serves (${operations.join(", ")}, or "*")`);
  }
  if (rule.code !== undefined && (typeof rule.code !== "string" || !CODE_PATTERN.test(rule.code))) {
    problems.push(`${path}.code: ${JSON.stringify(rule.code)} is not an AWS error code like ThrottlingException`);
  }
  if (rule.arn !== undefined && (typeof rule.arn !== "string" || rule.arn === "")) problems.push(`${path}.arn: must be a non-empty string`);
  if (rule.status !== undefined && (!Number.isInteger(rule.status) || (rule.status as number) < 400 || (rule.status as number) > 599)) {
    problems.push(`${path}.status: must be an HTTP error status 400..599`);
  }
  if (rule.status !== undefined && rule.code === undefined) problems.push(`${path}.status: only meaningful with a code`);
  if (rule.message !== undefined && typeof rule.message !== "string") problems.push(`${path}.message: must be a string`);
  if (rule.message !== undefined && rule.code === undefined) problems.push(`${path}.message: only meaningful with a code`);
  const p = rule.probability;
  if (p !== undefined && (typeof p !== "number" || !(p >= 0 && p <= 1))) problems.push(`${path}.probability: must be a number in 0..1`);
  if (rule.times !== undefined && (!Number.isInteger(rule.times) || (rule.times as number) < 1)) problems.push(`${path}.times: must be a positive integer`);
  const d = rule.delayMs;
  if (d !== undefined && (typeof d !== "number" || !Number.isFinite(d) || d < 0)) problems.push(`${path}.delayMs: must be a number of milliseconds >= 0`);
  if (rule.hasMember !== undefined && (typeof rule.hasMember !== "string" || rule.hasMember === "")) {
    problems.push(`${path}.hasMember: must be a non-empty string`);
  }
  if (rule.answer !== undefined) problems.push(...answerProblems(rule.answer, `${path}.answer`));
  if (rule.answer !== undefined && rule.code !== undefined) problems.push(`${path}.answer: a changed answer is a success (HTTP 200); it cannot go with a code`);
  if (rule.code === undefined && rule.delayMs === undefined && rule.answer === undefined) {
    problems.push(`${path}: does nothing; give a code, a delayMs, an answer, or a delay with one of the others`);
  }
  return problems;
}

function answerProblems(a: unknown, path: string): string[] {
  if (typeof a !== "object" || a === null || Array.isArray(a)) return [`${path}: must be an object {omit?, set?, body?}`];
  const answer = a as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(answer)) if (!ANSWER_KEYS.includes(key)) problems.push(`${path}.${key}: unknown field (known: ${ANSWER_KEYS.join(", ")})`);
  if (Object.keys(answer).length === 0) problems.push(`${path}: changes nothing; give omit, set or body`);
  const badPath = (p: unknown) => typeof p !== "string" || p.split(".").some((seg) => seg === "");
  if (answer.omit !== undefined) {
    if (!Array.isArray(answer.omit)) problems.push(`${path}.omit: must be a list of member paths like "ProjectVersionDescriptions.*.Status"`);
    else answer.omit.forEach((p, i) => badPath(p) && problems.push(`${path}.omit[${i}]: ${JSON.stringify(p)} is not a member path like "Tags" or "A.*.B"`));
  }
  if (answer.set !== undefined) {
    if (typeof answer.set !== "object" || answer.set === null || Array.isArray(answer.set)) {
      problems.push(`${path}.set: must be an object of member path → JSON value`);
    } else {
      for (const p of Object.keys(answer.set)) if (badPath(p)) problems.push(`${path}.set: ${JSON.stringify(p)} is not a member path like "Tags" or "A.*.B"`);
    }
  }
  if ("body" in answer && answer.body === undefined) problems.push(`${path}.body: must be a JSON value`);
  return problems;
}

/** The answer `result` changed as `change` says; `result` itself (which may share objects with the world) is left alone. */
export function changeAnswer(result: unknown, change: AnswerChange): unknown {
  const out = clone("body" in change ? change.body : (result ?? {}));
  if (typeof out !== "object" || out === null) return out;
  for (const p of change.omit ?? []) omitAt(out as Container, p.split("."));
  for (const [p, v] of Object.entries(change.set ?? {})) setAt(out as Container, p.split("."), v);
  return out;
}

type Container = Record<string, unknown> | unknown[];
const clone = (v: unknown): unknown => (v === undefined ? undefined : (JSON.parse(JSON.stringify(v)) as unknown));
const isContainer = (v: unknown): v is Container => typeof v === "object" && v !== null;
const entry = (c: Container, k: string): unknown => (c as Record<string, unknown>)[k];

/** Removes the member (or list item) at `path`, in place; `*` is every one. */
function omitAt(c: Container, [head, ...rest]: string[]): void {
  const keys = head === "*" ? Object.keys(c) : [head!];
  if (rest.length > 0) {
    for (const k of keys) if (isContainer(entry(c, k))) omitAt(entry(c, k) as Container, rest);
  } else if (Array.isArray(c)) {
    if (head === "*") c.length = 0;
    else if (/^\d+$/.test(head!)) c.splice(Number(head), 1);
  } else for (const k of keys) delete c[k];
}

/** Sets the member at `path` to a copy of `v`, in place; `*` is every one; missing parents are made as objects. */
function setAt(c: Container, [head, ...rest]: string[], v: unknown): void {
  const target = c as Record<string, unknown>;
  for (const k of head === "*" ? Object.keys(c) : [head!]) {
    if (rest.length === 0) target[k] = clone(v);
    else {
      if (!isContainer(target[k])) target[k] = {};
      setAt(target[k] as Container, rest, v);
    }
  }
}

export class Faults {
  private random: () => number;
  private buckets = new Map<string, { tokens: number; at: number }>();
  /** Uses left per rule index; absent = unlimited. Kept apart so the caller's config is never mutated. */
  private left = new Map<number, number>();

  constructor(
    private readonly config: FaultConfig,
    private readonly now: () => number,
  ) {
    this.random = config.seed !== undefined ? seededRandom(config.seed) : Math.random;
    config.rules?.forEach((r, i) => {
      if (r.times !== undefined) this.left.set(i, r.times);
    });
  }

  latency(): number {
    const l = this.config.latencyMs;
    if (!l || l.max <= 0) return 0;
    return l.min + this.random() * (l.max - l.min);
  }

  /** Decides the request's fate before the operation runs. */
  decide(ctx: FaultContext): FaultDecision {
    const only = this.config.only;
    if (only?.regions && !only.regions.includes(ctx.region)) return { delayMs: 0 };
    if (only?.accounts && !only.accounts.includes(ctx.account)) return { delayMs: 0 };

    const rule = this.matchRule(ctx);
    if (rule) {
      const delayMs = rule.delayMs ?? 0;
      return { delayMs, ...(rule.code !== undefined ? { error: ruleError(rule, ctx) } : {}), ...(rule.answer ? { answer: rule.answer } : {}) };
    }

    const throttleCode = ctx.sts ? "Throttling" : "ThrottlingException";
    const limit = this.config.rateLimits?.[ctx.operation];
    // AWS quotas are per account, per region: each pair has its own bucket.
    if (limit !== undefined && !this.take(`${ctx.account}|${ctx.region}|${ctx.operation}`, limit)) {
      return { delayMs: 0, error: new ApiError(throttleCode, `Rate exceeded for ${ctx.operation} (${limit}/s)`) };
    }
    const throttle = this.config.throttleRate?.[ctx.operation] ?? this.config.throttleRate?.["*"] ?? 0;
    if (throttle > 0 && this.random() < throttle) return { delayMs: 0, error: new ApiError(throttleCode, "Rate exceeded") };
    const error = this.config.errorRate?.[ctx.operation] ?? this.config.errorRate?.["*"] ?? 0;
    if (error > 0 && this.random() < error) {
      const code = ctx.sts ? "InternalFailure" : "InternalServerError";
      return { delayMs: 0, error: new ApiError(code, "Amazon Rekognition experienced a service issue. Try your call again.") };
    }
    return { delayMs: 0 };
  }

  private matchRule(ctx: FaultContext): FaultRule | undefined {
    const rules = this.config.rules ?? [];
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      if (rule.operation !== "*" && rule.operation !== ctx.operation) continue;
      if (rule.arn !== undefined && !(ctx.target ?? "").includes(rule.arn)) continue;
      if (rule.hasMember !== undefined && !(ctx.members ?? []).includes(rule.hasMember)) continue;
      const left = this.left.get(i);
      if (left !== undefined && left <= 0) continue;
      // Draw only for a real probability, so adding a certain rule does not shift a seeded storm's sequence.
      const p = rule.probability ?? 1;
      if (p < 1 && !(this.random() < p)) continue;
      if (left !== undefined) this.left.set(i, left - 1);
      return rule;
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

// The messages the Rekognition developer guide's error list gives for its codes.
const DOCUMENTED_MESSAGES: Record<string, string> = {
  InternalServerError: "Internal server error",
  ThrottlingException: "Service Unavailable",
  ProvisionedThroughputExceededException: "Provisioned Rate exceeded.",
  InvalidParameterException: "Request has invalid parameters.",
  InvalidPaginationTokenException: "Invalid Pagination Token",
  ResourceInUseException: "Specified resource is in use.",
};

function ruleError(rule: FaultRule, ctx: FaultContext): ApiError {
  let code = rule.code!;
  const denial = code === "AccessDeniedException" || code === "AccessDenied";
  if (denial) code = ctx.sts ? "AccessDenied" : "AccessDeniedException";
  const service = ctx.sts ? "sts" : "rekognition";
  // IAM names the resource the policy was evaluated against; a list call without one is evaluated on every project.
  const resource = ctx.target?.startsWith("arn:") ? ctx.target : ctx.sts ? "*" : `arn:aws:rekognition:${ctx.region}:${ctx.account}:project/*`;
  const message =
    rule.message ??
    (denial
      ? accessDeniedMessage(ctx.callerArn, `${service}:${ctx.operation}`, resource)
      : (DOCUMENTED_MESSAGES[code] ?? `${code} (injected by the emulator for ${ctx.operation})`));
  return new ApiError(code, message, rule.status);
}
