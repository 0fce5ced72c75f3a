// What every Rekognition handler gets: the request body, who is calling from where, and the world.

import { arnAccount } from "../arns.js";
import { ApiError, accessDeniedMessage, invalid } from "../errors.js";
import type { World } from "../world.js";

export type Body = Record<string, unknown>;

/** Who is calling: account and identity ARN (from the access key), and for what operation (for IAM-style denials). */
export interface Caller {
  account: string;
  arn: string;
  operation: string;
}

export interface Ctx {
  /** From the SigV4 credential scope: each region is its own world. */
  region: string;
  account: string;
  caller: Caller;
  world: World;
}

/** One operation: a JSON body in, a JSON body out, or an ApiError thrown. */
export type Handler = (body: Body, ctx: Ctx) => Body;

/** AWS timestamps on the wire are epoch seconds. */
export const seconds = (ms: number) => ms / 1000;

// Acting on another account's resource is refused as AWS does (no resource policy grants it here).
export function denyForeign(arn: string, caller: Caller): void {
  const owner = arnAccount(arn);
  if (owner !== undefined && owner !== caller.account) {
    throw new ApiError("AccessDeniedException", accessDeniedMessage(caller.arn, `rekognition:${caller.operation}`, arn));
  }
}

export function optionalInt(body: Body, key: string, min: number, max: number): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw invalid(`${key} must be an integer between ${min} and ${max}`);
  }
  return v;
}

export function optionalStringList(body: Body, key: string, min: number, max: number, check: (s: string) => boolean): string[] | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length < min || v.length > max || !v.every((s) => typeof s === "string" && check(s))) {
    throw invalid(`${key} must be a list of ${min} to ${max} valid values`);
  }
  return v as string[];
}

export function requiredString(body: Body, key: string): string {
  const v = body[key];
  if (typeof v !== "string" || v.length === 0) throw invalid(`${key} is required`);
  return v;
}
