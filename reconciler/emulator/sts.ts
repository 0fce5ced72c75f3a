// STS on the same port (query protocol: form-encoded request, XML answer): AssumeRole hands out keys that
// sign as the role's account, GetCallerIdentity says who a key belongs to. Point AWS_ENDPOINT_URL_STS at
// the emulator to use it.

import { createHash, randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { ApiError, accessDeniedMessage } from "./errors.js";
import type { Caller } from "./rekognition/index.js";

export const STS_OPERATIONS: readonly string[] = ["AssumeRole", "GetCallerIdentity"];

const STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/";
const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

/** Who holds an access key the emulator issued. */
export interface Identity {
  account: string;
  arn: string;
  userId: string;
  /** AssumeRole's SourceIdentity: it stays with the session (and, on AWS, with any role chained from it). */
  sourceIdentity?: string;
}

function xml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function sendXml(res: ServerResponse, status: number, text: string, requestId: string): void {
  res.writeHead(status, { "Content-Type": "text/xml", "Content-Length": Buffer.byteLength(text), "x-amzn-RequestId": requestId });
  res.end(text);
}

/** A result structure as the query protocol writes it: members as elements in order, lists as `<member>` runs. */
function toXml(value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => `<member>${toXml(v)}</member>`).join("");
  if (typeof value === "object" && value !== null)
    return Object.entries(value)
      .map(([k, v]) => `<${k}>${toXml(v)}</${k}>`)
      .join("");
  return value === null || value === undefined ? "" : xml(String(value));
}

/** The answer to `action`: its result structure inside `<{action}Result>`; any JSON value (a fault rule may have changed it). */
export function sendStsResult(res: ServerResponse, action: string, result: unknown, requestId: string): void {
  const body = `<${action}Result>${toXml(result)}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>`;
  sendXml(res, 200, `<${action}Response xmlns="${STS_NS}">${body}</${action}Response>`, requestId);
}

export function sendStsError(res: ServerResponse, e: ApiError, requestId: string): void {
  const type = e.status >= 500 ? "Receiver" : "Sender";
  sendXml(
    res,
    e.status,
    `<ErrorResponse xmlns="${STS_NS}"><Error><Type>${type}</Type><Code>${xml(e.code)}</Code>` +
      `<Message>${xml(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    requestId,
  );
}

export class Sts {
  /** Keys handed out by AssumeRole → whose they are. Any other key signs as the default account. */
  private readonly issued = new Map<string, Identity>();

  constructor(
    private readonly now: () => number,
    private readonly denyRoles: ReadonlySet<string>,
  ) {}

  /** The identity behind an access key the emulator issued, if it did. */
  identity(accessKey: string): Identity | undefined {
    return this.issued.get(accessKey);
  }

  /** The result structure of an STS action (members in the order AWS writes them); throws ApiError with STS's codes. */
  run(params: URLSearchParams, caller: Caller, accessKey: string): Record<string, unknown> {
    if (caller.operation === "AssumeRole") return this.assumeRole(params, caller);
    // GetCallerIdentity
    const userId = this.issued.get(accessKey)?.userId ?? accessKey;
    return { Arn: caller.arn, UserId: userId, Account: caller.account };
  }

  private assumeRole(params: URLSearchParams, caller: Caller): Record<string, unknown> {
    const roleArn = params.get("RoleArn") ?? "";
    const session = params.get("RoleSessionName") ?? "";
    const m = ROLE_ARN.exec(roleArn);
    if (!m) throw new ApiError("ValidationError", `RoleArn ${JSON.stringify(roleArn)} is not a valid IAM role ARN`);
    if (!SESSION_NAME.test(session)) throw new ApiError("ValidationError", "RoleSessionName must be 2..64 characters of [\\w+=,.@-]");
    if (this.denyRoles.has(roleArn)) throw new ApiError("AccessDenied", accessDeniedMessage(caller.arn, "sts:AssumeRole", roleArn));
    const duration = Number(params.get("DurationSeconds") ?? 3600);
    if (!Number.isInteger(duration) || duration < 900 || duration > 43200) throw new ApiError("ValidationError", "DurationSeconds must be 900..43200");
    const sourceIdentity = params.get("SourceIdentity") ?? undefined;
    if (sourceIdentity !== undefined && !/^[\w+=,.@-]{2,64}$/.test(sourceIdentity))
      throw new ApiError("ValidationError", "SourceIdentity must be 2..64 characters of [\\w+=,.@-]");
    const roleAccount = m[1]!;
    const newKey = `ASIA${randomUUID().replace(/-/g, "").slice(0, 16).toUpperCase()}`;
    const roleId = `AROA${createHash("sha256").update(roleArn).digest("hex").slice(0, 17).toUpperCase()}`;
    const assumedArn = `arn:aws:sts::${roleAccount}:assumed-role/${m[2]}/${session}`;
    this.issued.set(newKey, {
      account: roleAccount,
      arn: assumedArn,
      userId: `${roleId}:${session}`,
      ...(sourceIdentity !== undefined ? { sourceIdentity } : {}),
    });
    const expiration = new Date(this.now() + duration * 1000).toISOString();
    return {
      Credentials: { AccessKeyId: newKey, SecretAccessKey: randomUUID(), SessionToken: Buffer.from(randomUUID()).toString("base64"), Expiration: expiration },
      AssumedRoleUser: { AssumedRoleId: `${roleId}:${session}`, Arn: assumedArn },
    };
  }
}
