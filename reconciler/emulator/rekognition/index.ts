// The Rekognition operations the emulator serves, by X-Amz-Target name.

import { ApiError } from "../errors.js";
import { REKOGNITION_INPUTS } from "../model.js";
import { firstViolation } from "../validate.js";
import type { Body, Handler } from "./context.js";
import { DescribeProjects } from "./projects.js";
import { ListTagsForResource, TagResource, UntagResource } from "./tags.js";
import { CopyProjectVersion, DeleteProjectVersion, DescribeProjectVersions, StartProjectVersion, StopProjectVersion } from "./versions.js";

export type { Body, Caller, Ctx, Handler } from "./context.js";

/** In the order docs/emulator.md lists them; fault rules may name these. */
export const OPERATIONS: Readonly<Record<string, Handler>> = {
  DescribeProjects,
  DescribeProjectVersions,
  DeleteProjectVersion,
  StopProjectVersion,
  StartProjectVersion,
  CopyProjectVersion,
  ListTagsForResource,
  TagResource,
  UntagResource,
};

export const REKOGNITION_OPERATIONS: readonly string[] = Object.keys(OPERATIONS);

/** What a request is about, for the call log and fault rules; best effort, even for rejected requests. */
export function targetOf(body: Body | undefined): string | undefined {
  if (!body) return undefined;
  for (const key of ["ProjectVersionArn", "ProjectArn", "ResourceArn", "SourceProjectVersionArn"]) {
    if (typeof body[key] === "string") return body[key] as string;
  }
  if (Array.isArray(body.ProjectNames)) return body.ProjectNames.join(",");
  return undefined;
}

/**
 * Refuses a request that breaks its input shape's constraints, before any lookup. The code: ValidationException
 * for MaxResults over its maximum (the model's documentation says so for both Describe operations);
 * SerializationException for a member of the wrong JSON type (the body cannot be read as the shape);
 * InvalidParameterException, which every served operation lists, for everything else.
 */
export function validateInput(operation: string, body: Body): void {
  const shape = REKOGNITION_INPUTS[operation];
  if (!shape) return;
  const v = firstViolation(shape, body);
  if (!v) return;
  if (v.kind === "type") throw new ApiError("SerializationException", `${v.path}: ${v.message.replace(/^.*failed to satisfy constraint: /, "")}`);
  if (v.member === "MaxResults" && v.kind === "max") throw new ApiError("ValidationException", v.message);
  throw new ApiError("InvalidParameterException", v.message);
}
