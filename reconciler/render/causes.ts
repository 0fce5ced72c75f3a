// One message per cause. A failure that stops every project for the same reason (no credentials, an
// expired token, an unreachable endpoint, one IAM action denied) is one problem with one fix, so the human
// views say it once, with what to do, and list the projects it stopped under it. The JSON plan keeps one
// error per project: this is only how the errors are told.
//
// The cause is read from the error text, which carries the AWS error code and message (identity failures:
// `... (sts:GetCallerIdentity: GetCallerIdentity ambient: CODE: message)`; reads: `DescribeProjects failed:
// OPERATION RESOURCE: CODE: message`). What is not recognised is grouped by its text with the resource
// taken out, so identical failures still collapse and different ones never do.
import type { PlanAction, PlanProject, Reason, WriteResult } from "../types.js";

export type CauseKind = "credentials" | "expired" | "region" | "endpoint" | "accessDenied" | "throttled" | "notFound" | "other";

export interface Cause {
  kind: CauseKind;
  /** Errors with equal keys are one cause. */
  key: string;
  /** What went wrong, in a few words. */
  title: string;
  /** What to do about it. */
  fix?: string;
  /** accessDenied: the IAM action that was denied, and the principal it was denied to (when AWS said). */
  action?: string;
  principal?: string;
}

export interface AffectedProject {
  project: PlanProject;
  /** accessDenied: the resource the action was denied on, for this project. */
  resource?: string;
}

export interface CauseGroup {
  cause: Cause;
  /** The distinct underlying errors (AWS's words), in first-seen order. */
  details: string[];
  affected: AffectedProject[];
}

const CREDENTIALS_MISSING = /CredentialsProviderError|Could not load credentials|Unable to locate credentials|MissingAuthenticationToken/i;
const CREDENTIALS_REFUSED = new RegExp(
  [
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "InvalidSignatureException",
    "IncompleteSignature",
    "security token included in the request is invalid",
  ].join("|"),
  "i",
);
const EXPIRED = /ExpiredToken|token (?:has |is )?expired|session (?:associated with this profile )?has expired|SSO session .*expired/i;
const REGION = /Region is missing|no region|Invalid region|UnknownEndpoint/i;
const NETWORK = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|ENETUNREACH|EPIPE)\b|socket hang up|TimeoutError|getaddrinfo/;
const DENIED = /AccessDenied(?:Exception)?\b|not authorized to perform/;
const THROTTLED = /ThrottlingException|Throttling\b|TooManyRequests|ProvisionedThroughputExceeded|LimitExceededException|Rate exceeded/;

const FIX = {
  credentialsMissing: "set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run aws sso login",
  credentialsRefused: "check AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (the key is unknown to this endpoint, or the secret does not match it)",
  expired: "refresh the credentials (run aws sso login, or get new temporary credentials with their AWS_SESSION_TOKEN) and run rekon again",
  region: "set spec.region in the manifests, or AWS_REGION (or a region in your AWS profile)",
  throttled: "run rekon again later; if it keeps happening, lower the policy's rateLimits or raise --retry-max-time",
} as const;

/** The cause of one project's error (status error or notFound). */
export function classifyError(p: Pick<PlanProject, "status" | "error" | "account">): Cause & { resource?: string } {
  const cause = classify(p);
  // identity.ts adds this hint when only AWS_ENDPOINT_URL_REKOGNITION is set: STS then went to AWS, and
  // whatever AWS answered (unknown key, unreachable) is a symptom of that one mistake.
  if (/set AWS_ENDPOINT_URL_STS as well as/.test(p.error ?? "") && cause.kind !== "accessDenied") {
    return {
      ...cause,
      key: `${cause.key}|emulator`,
      fix: "set AWS_ENDPOINT_URL_STS as well as AWS_ENDPOINT_URL_REKOGNITION: rekon asks STS who it is before reading, and that call went to AWS",
    };
  }
  return cause;
}

function classify(p: Pick<PlanProject, "status" | "error" | "account">): Cause & { resource?: string } {
  const m = p.error ?? "";
  const viaSts = /sts:GetCallerIdentity|GetCallerIdentity |AssumeRole /.test(m);
  if (p.status === "notFound") {
    return {
      kind: "notFound",
      key: "notFound",
      title: "project not found",
      fix:
        `check the project's name and region in the manifest, and that the credentials are for the account it lives ` +
        `in${p.account ? ` (they resolved to ${p.account})` : ""}`,
    };
  }
  if (DENIED.test(m)) {
    // IAM's wording: "User: ARN is not authorized to perform: ACTION on resource: RESOURCE [because ...]".
    const iam = /(?:User: (\S+) is )?not authorized to perform: ([\w-]+:[\w*]+)(?: on resource: ([^\s;)]+))?/.exec(m);
    const action = iam?.[2] ?? operationOf(m);
    const principal = iam?.[1];
    return {
      kind: "accessDenied",
      key: `accessDenied|${action ?? "?"}|${principal ?? ""}`,
      title: `access denied${action ? `: ${action}` : ""}`,
      fix: action
        ? `allow ${action}${principal ? ` for ${principal}` : ""}${iam?.[3] ? ` on ${genericResource(iam[3])}` : ""} (deploy/iam has least-privilege policies)`
        : "check the IAM policy of these credentials (deploy/iam has least-privilege policies)",
      ...(action ? { action } : {}),
      ...(principal ? { principal } : {}),
      ...(iam?.[3] ? { resource: iam[3] } : {}),
    };
  }
  if (EXPIRED.test(m)) return { kind: "expired", key: "expired", title: "the AWS credentials have expired", fix: FIX.expired };
  if (CREDENTIALS_MISSING.test(m))
    return { kind: "credentials", key: "credentials|missing", title: "no AWS credentials were found", fix: FIX.credentialsMissing };
  if (CREDENTIALS_REFUSED.test(m))
    return { kind: "credentials", key: "credentials|refused", title: "AWS refused the credentials", fix: FIX.credentialsRefused };
  if (REGION.test(m)) return { kind: "region", key: "region", title: "no AWS region", fix: FIX.region };
  const net = NETWORK.exec(m);
  if (net) {
    // "connect ECONNREFUSED 127.0.0.1:4566", "getaddrinfo ENOTFOUND sts.us-east-1.amazonaws.com"
    const host = /(?:connect|getaddrinfo) [A-Z_]+ ([^\s);,]+)/.exec(m)?.[1];
    const service = viaSts ? "STS" : "Rekognition";
    const variable = viaSts ? "AWS_ENDPOINT_URL_STS" : "AWS_ENDPOINT_URL_REKOGNITION";
    return {
      kind: "endpoint",
      key: `endpoint|${service}|${host ?? net[1] ?? "?"}`,
      title: `the ${service} endpoint could not be reached${host ? ` (${host})` : ""}`,
      fix: `check the network, and ${variable} if it is set (unset it to use AWS; for the emulator, start rekon emulator)`,
    };
  }
  if (THROTTLED.test(m))
    return {
      kind: "throttled",
      key: `throttled|${operationOf(m) ?? "?"}`,
      title: `AWS throttled ${operationOf(m) ?? "the calls"} past the retry bound`,
      fix: FIX.throttled,
    };
  const text = withoutResources(m);
  return { kind: "other", key: `other|${text}`, title: text || p.status };
}

/** The group for `key`, made on first sight (a Map keeps first-seen order, the order groups are shown in). */
function groupOf<G>(groups: Map<string, G>, key: string, make: () => G): G {
  let g = groups.get(key);
  if (!g) groups.set(key, (g = make()));
  return g;
}

/** Group the projects that could not be read by cause, in the order the projects come. */
export function groupProjectErrors(projects: readonly PlanProject[]): CauseGroup[] {
  const groups = new Map<string, CauseGroup>();
  for (const p of projects) {
    if (p.status !== "error" && p.status !== "notFound") continue;
    const { resource, ...cause } = classifyError(p);
    const g = groupOf(groups, cause.key, () => ({ cause, details: [], affected: [] }));
    const detail = detailOf(p);
    if (detail && cause.kind !== "notFound" && cause.kind !== "other" && !g.details.includes(detail)) g.details.push(detail);
    g.affected.push({ project: p, ...(resource ? { resource } : {}) });
  }
  return [...groups.values()];
}

/** A cause that several versions share: kept because their tags could not be read, or a write that failed. */
export interface VersionCauseGroup<T extends { project: string } = PlanAction> {
  cause: Cause;
  details: string[];
  versions: T[];
}

/**
 * The cause of a tagsUnreadable reason when it is one of the causes above (a denied ListTagsForResource,
 * expired credentials, an unreachable endpoint...), else undefined: a reason of its own stays with its
 * version.
 */
export function tagReadCause(r: Reason): Cause | undefined {
  if (r.rule !== "tagsUnreadable") return undefined;
  const { resource: _resource, ...cause } = classifyError({ status: "error", error: r.message });
  return cause.kind === "other" ? undefined : cause;
}

/** Versions kept because their tags could not be read, grouped by cause (only the causes tagReadCause knows). */
export function groupTagReadErrors(actions: readonly PlanAction[]): VersionCauseGroup[] {
  const groups = new Map<string, VersionCauseGroup>();
  for (const a of actions) {
    for (const r of a.reasons) {
      const cause = tagReadCause(r);
      if (!cause) continue;
      const g = groupOf(groups, cause.key, () => ({ cause, details: [], versions: [] }));
      const detail = r.message.replace(/^tags could not be read: /, "").replace(/; protections cannot be checked$/, "");
      if (!g.details.includes(detail)) g.details.push(detail);
      if (!g.versions.includes(a)) g.versions.push(a);
    }
  }
  return [...groups.values()];
}

/**
 * The cause of a failed write when it is one that would fail every write alike (access denied, refused
 * or expired credentials, an unreachable endpoint), else undefined.
 */
export function writeFailureCause(r: WriteResult): Cause | undefined {
  if (r.result !== "failed" || !r.error) return undefined;
  const { resource: _resource, ...cause } = classifyError({ status: "error", error: r.error });
  return ["accessDenied", "credentials", "expired", "endpoint"].includes(cause.kind) ? cause : undefined;
}

/** Failed writes grouped by such a cause. */
export function groupWriteFailures(results: readonly WriteResult[]): VersionCauseGroup<WriteResult>[] {
  const groups = new Map<string, VersionCauseGroup<WriteResult>>();
  for (const r of results) {
    const cause = writeFailureCause(r);
    if (!cause) continue;
    const g = groupOf(groups, cause.key, (): VersionCauseGroup<WriteResult> => ({ cause, details: [], versions: [] }));
    if (!g.details.includes(r.error!)) g.details.push(r.error!);
    g.versions.push(r);
  }
  return [...groups.values()];
}

/**
 * One line per cause, for stderr when stdout is JSON or markdown: the cause, what to do, and the projects.
 * `rekon: ` is the caller's prefix.
 */
export function causeLines(groups: readonly CauseGroup[]): string[] {
  return groups.map((g) => {
    const names = g.affected.map((a) => a.project.project);
    const n = names.length;
    const fix = g.cause.fix ? `; ${g.cause.fix}` : "";
    return `${g.cause.title} — ${n} project${n === 1 ? "" : "s"} not read, nothing in ${n === 1 ? "it" : "them"} deleted: ${names.join(", ")}${fix}`;
  });
}

/** A denied resource as a policy would name it for every project: the project's name and ids as wildcards. */
function genericResource(arn: string): string {
  const m = /^(arn:[\w-]+:rekognition:[^:]*:[^:]*:)project\/[^/]+(\/version\/[^/]+)?\/\d+$/.exec(arn);
  return m ? `${m[1]}project/*${m[2] ? "/version/*" : ""}/*` : arn;
}

/** As causeLines, for versions kept because their tags could not be read. */
export function tagCauseLines(groups: readonly VersionCauseGroup[]): string[] {
  return groups.map((g) => {
    const n = g.versions.length;
    return (
      `${g.cause.title} (reading version tags) — ${n} version${n === 1 ? "" : "s"} kept (tagsUnreadable): their protections cannot be ` +
      `checked${g.cause.fix ? `; ${g.cause.fix}` : ""}`
    );
  });
}

/** The words of the failure itself, without rekon's framing around it. */
function detailOf(p: PlanProject): string {
  const m = p.error ?? "";
  const sts = /could not be resolved \((.*)\); nothing in this project is read or deleted$/.exec(m);
  return (sts ? sts[1]! : m).trim();
}

/** The AWS operation a read error names ("DescribeProjects failed: ..." or "OPERATION RESOURCE: CODE: ..."). */
function operationOf(m: string): string | undefined {
  const op = /\b(sts:\w+|[A-Z][A-Za-z]+) failed:/.exec(m)?.[1] ?? /\b((?:Describe|List|Get|Assume)[A-Za-z]*) \S+: /.exec(m)?.[1];
  if (!op) return undefined;
  return op.includes(":") ? op : /^(GetCallerIdentity|AssumeRole)/.test(op) ? `sts:${op}` : `rekognition:${op}`;
}

/** An error's text with what differs per project (ARNs, the OPERATION RESOURCE prefix) taken out. */
function withoutResources(m: string): string {
  return m
    .replace(/^(\w+) failed: \1 \S+: /, "$1 failed: ")
    .replace(/arn:aws[\w-]*:[^\s,;)]+/g, "<arn>")
    .trim();
}
