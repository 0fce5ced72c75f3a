// What every Rekognition handler gets: the request body (already valid against the model's input shape, see
// index.ts), who is calling from where, and the world.

import { arnAccount } from "../arns.js";
import { ApiError, accessDeniedMessage } from "../errors.js";
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

// Typed reads of members the model validation has already checked (type, presence when required).
export const str = (body: Body, key: string) => body[key] as string;
export const optStr = (body: Body, key: string) => (body[key] ?? undefined) as string | undefined;
export const optInt = (body: Body, key: string) => (body[key] ?? undefined) as number | undefined;
export const optList = (body: Body, key: string) => (body[key] ?? undefined) as string[] | undefined;
export const optMap = (body: Body, key: string) => (body[key] ?? undefined) as Record<string, string> | undefined;
