// The Rekognition operations the emulator serves, by X-Amz-Target name.

import type { Body, Handler } from "./context.js";
import { DescribeProjects } from "./projects.js";
import { ListTagsForResource, TagResource, UntagResource } from "./tags.js";
import { CopyProjectVersion, DeleteProjectVersion, DescribeProjectVersions, StartProjectVersion, StopProjectVersion } from "./versions.js";

export type { Body, Caller, Ctx, Handler } from "./context.js";

/** In the order the README lists them; fault rules may name these. */
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
