// The project-version operations: DescribeProjectVersions, DeleteProjectVersion, and the model lifecycle
// (StopProjectVersion, StartProjectVersion, CopyProjectVersion).

import { PROJECT_ARN_PATTERN, VERSION_ARN_PATTERN, versionArn } from "../arns.js";
import { ApiError, accessDeniedMessage, inUse, invalid, notFound } from "../errors.js";
import { decodeToken, fingerprint, paginate, type SortKey } from "../pagination.js";
import type { VersionStatus } from "../state.js";
import { IN_USE_STATUSES, defaultStatusMessage, type Project, type Version } from "../world.js";
import { denyForeign, optInt, optList, optMap, seconds, str, type Body, type Caller, type Handler } from "./context.js";
/** A trained model at rest: what StartProjectVersion starts. */
const STARTABLE: ReadonlySet<VersionStatus> = new Set<VersionStatus>(["STOPPED", "TRAINING_COMPLETED", "COPYING_COMPLETED"]);
/** A model that finished training (or copying): what CopyProjectVersion copies. */
const COPYABLE: ReadonlySet<VersionStatus> = new Set<VersionStatus>([
  "TRAINING_COMPLETED",
  "STARTING",
  "RUNNING",
  "STOPPING",
  "STOPPED",
  "FAILED",
  "COPYING_COMPLETED",
]);

function versionArnParam(body: Body, caller: Caller): string {
  const arn = str(body, "ProjectVersionArn");
  denyForeign(arn, caller);
  return arn;
}

function describeVersion(project: Project, v: Version): Body {
  const out: Body = {
    ProjectVersionArn: v.arn,
    CreationTimestamp: seconds(v.createdAt),
    Status: v.status,
    StatusMessage: v.statusMessage ?? defaultStatusMessage(v.status),
    Feature: project.feature,
  };
  if (v.description !== undefined) out.VersionDescription = v.description;
  if (v.sourceVersionArn !== undefined) out.SourceProjectVersionArn = v.sourceVersionArn;
  if (project.feature === "CONTENT_MODERATION") out.BaseModelVersion = v.baseModelVersion;
  // AWS reports inference units only for a model that has been started.
  const started = v.status === "RUNNING" || v.status === "STARTING" || v.status === "STOPPING";
  if (v.minInferenceUnits !== undefined || started) out.MinInferenceUnits = v.minInferenceUnits ?? 1;
  if (v.maxInferenceUnits !== undefined) out.MaxInferenceUnits = v.maxInferenceUnits;
  return out;
}

export const DescribeProjectVersions: Handler = (body, { region, account, caller, world }) => {
  const projectArn = str(body, "ProjectArn");
  denyForeign(projectArn, caller);
  const project = world.projectsIn(region, account).find((p) => p.arn === projectArn);
  if (!project) throw notFound(`The project ${projectArn} was not found.`);
  const names = optList(body, "VersionNames");
  const max = optInt(body, "MaxResults") ?? 100;
  const fp = fingerprint(["DescribeProjectVersions", region, projectArn, names ? [...names].sort() : null]);
  const now = world.now();
  const token = decodeToken(body.NextToken, fp, now, world.delays.tokenTtlMs);
  // Newest first, as AWS lists them; equal times fall back to name so the order is total and stable.
  const newestFirst = (a: SortKey, b: SortKey) => b[0] - a[0] || a[1].localeCompare(b[1]);
  const matching = project.versions.filter((v) => !names || names.includes(v.name)).sort((a, b) => newestFirst([a.createdAt, a.name], [b.createdAt, b.name]));
  const { page, next } = paginate(matching, (v) => [v.createdAt, v.name], newestFirst, max, token, fp, now);
  return {
    ProjectVersionDescriptions: page.map((v) => describeVersion(project, v)),
    ...(next ? { NextToken: next } : {}),
  };
};

export const DeleteProjectVersion: Handler = (body, { region, account, caller, world }) => {
  const arn = versionArnParam(body, caller);
  const found = world.findVersion(region, account, arn);
  if (!found) throw notFound(`The project version ${arn} was not found.`);
  const { version } = found;
  // Repeating a delete is harmless, as on AWS: the caller learns it is still going.
  if (version.status === "DELETING") return { Status: "DELETING" };
  if (IN_USE_STATUSES.has(version.status)) {
    throw inUse(`Cannot delete project version ${arn} while its status is ${version.status}.`);
  }
  // Unverified on AWS whether an in-progress copy pins its source; the emulator takes the strict answer
  // so that a client which ignores the possibility finds out here, not in production.
  const copying =
    world.delays.copyPinsSource !== false &&
    world.state.projects.some((p) => p.versions.some((v) => v.sourceVersionArn === arn && v.status === "COPYING_IN_PROGRESS"));
  if (copying) throw inUse(`Cannot delete project version ${arn} while a copy of it is in progress.`);
  version.status = "DELETING";
  delete version.statusMessage;
  version.deleteAt = world.now() + world.delays.deleteMs;
  return { Status: "DELETING" };
};

export const StopProjectVersion: Handler = (body, { region, account, caller, world }) => {
  const arn = versionArnParam(body, caller);
  const found = world.findVersion(region, account, arn);
  if (!found) throw notFound(`The project version ${arn} was not found.`);
  const { project, version } = found;
  if (project.feature !== "CUSTOM_LABELS") {
    throw invalid(`StopProjectVersion is not supported for ${project.feature} project versions.`);
  }
  if (version.status === "RUNNING") {
    version.status = "STOPPING";
    delete version.statusMessage;
    version.stopAt = world.now() + world.delays.stopMs;
    return { Status: "STOPPING" };
  }
  if (IN_USE_STATUSES.has(version.status) || version.status === "DELETING") {
    throw inUse(`Cannot stop project version ${arn} while its status is ${version.status}.`);
  }
  throw invalid(`Project version ${arn} is not running (status ${version.status}).`);
};

export const StartProjectVersion: Handler = (body, { region, account, caller, world }) => {
  const arn = versionArnParam(body, caller);
  const min = body.MinInferenceUnits as number;
  const max = optInt(body, "MaxInferenceUnits");
  if (max !== undefined && max < min) throw invalid(`MaxInferenceUnits (${max}) must be at least MinInferenceUnits (${min}).`);
  const found = world.findVersion(region, account, arn);
  if (!found) throw notFound(`The project version ${arn} was not found.`);
  const { project, version } = found;
  if (project.feature !== "CUSTOM_LABELS") {
    throw invalid(`StartProjectVersion is not supported for ${project.feature} project versions.`);
  }
  if (STARTABLE.has(version.status)) {
    version.status = "STARTING";
    delete version.statusMessage;
    version.minInferenceUnits = min;
    if (max !== undefined) version.maxInferenceUnits = max;
    else delete version.maxInferenceUnits;
    version.startAt = world.now() + world.delays.startMs;
    return { Status: "STARTING" };
  }
  if (IN_USE_STATUSES.has(version.status) || version.status === "DELETING") {
    throw inUse(`Cannot start project version ${arn} while its status is ${version.status}.`);
  }
  throw invalid(`Project version ${arn} cannot be started (status ${version.status}).`);
};

export const CopyProjectVersion: Handler = (body, { region, account, caller, world }) => {
  const sourceProjectArn = str(body, "SourceProjectArn");
  const sourceVersionArn = str(body, "SourceProjectVersionArn");
  const destinationArn = str(body, "DestinationProjectArn");
  const versionName = str(body, "VersionName");
  const tags = optMap(body, "Tags") ?? {};
  // The model's patterns admit any partition; the emulator's worlds are all in the aws partition.
  const src = PROJECT_ARN_PATTERN.exec(sourceProjectArn);
  if (!src) throw invalid(`SourceProjectArn ${sourceProjectArn} is not a project ARN of the aws partition`);
  const srcVersion = VERSION_ARN_PATTERN.exec(sourceVersionArn);
  if (!srcVersion) throw invalid(`SourceProjectVersionArn ${sourceVersionArn} is not a project version ARN of the aws partition`);
  const dest = PROJECT_ARN_PATTERN.exec(destinationArn);
  if (!dest) throw invalid(`DestinationProjectArn ${destinationArn} is not a project ARN of the aws partition`);
  // A copy stays in its region: AWS copies a model only to a project in the same Region.
  for (const [name, arn, arnRegion] of [
    ["SourceProjectArn", sourceProjectArn, src[1]],
    ["SourceProjectVersionArn", sourceVersionArn, srcVersion[1]],
    ["DestinationProjectArn", destinationArn, dest[1]],
  ] as const) {
    if (arnRegion !== region) throw invalid(`${name} ${arn} is in ${arnRegion}; CopyProjectVersion copies within one region (${region}).`);
  }
  if (srcVersion[2] !== src[2] || srcVersion[3] !== src[3]) {
    throw invalid(`SourceProjectVersionArn ${sourceVersionArn} is not a version of SourceProjectArn ${sourceProjectArn}.`);
  }
  denyForeign(destinationArn, caller);
  // Copying from another account needs a project policy on the source project, which the emulator does not
  // model: without one AWS denies it, and so does the emulator, always.
  if (src[2] !== account) {
    throw new ApiError(
      "AccessDeniedException",
      accessDeniedMessage(caller.arn, "rekognition:CopyProjectVersion", sourceVersionArn) + " (no project policy on the source project allows it)",
    );
  }
  const mine = world.projectsIn(region, account);
  const sourceProject = mine.find((p) => p.arn === sourceProjectArn);
  if (!sourceProject) throw notFound(`The project ${sourceProjectArn} was not found.`);
  const source = sourceProject.versions.find((v) => v.arn === sourceVersionArn);
  if (!source) throw notFound(`The project version ${sourceVersionArn} was not found.`);
  const destination = mine.find((p) => p.arn === destinationArn);
  if (!destination) throw notFound(`The project ${destinationArn} was not found.`);
  if (sourceProject.feature !== "CUSTOM_LABELS" || destination.feature !== "CUSTOM_LABELS") {
    throw invalid("CopyProjectVersion copies Custom Labels models only; adapters (CONTENT_MODERATION) cannot be copied.");
  }
  if (!COPYABLE.has(source.status)) {
    if (IN_USE_STATUSES.has(source.status) || source.status === "DELETING") {
      throw inUse(`Cannot copy project version ${sourceVersionArn} while its status is ${source.status}.`);
    }
    throw invalid(`Project version ${sourceVersionArn} cannot be copied (status ${source.status}); only a trained model can.`);
  }
  if (destination.versions.some((v) => v.name === versionName)) {
    throw inUse(`A version named ${versionName} already exists in project ${destinationArn}.`);
  }
  const createdAt = world.now();
  const copy: Version = {
    name: versionName,
    arn: versionArn(region, account, destination.name, versionName, createdAt),
    createdAt,
    status: "COPYING_IN_PROGRESS",
    sourceVersionArn,
    tags: new Map(Object.entries(tags)),
    copyAt: createdAt + world.delays.copyMs,
    ...(world.delays.copyFails?.some((x) => sourceVersionArn.includes(x) || versionName.includes(x)) ? { copyFails: true } : {}),
  };
  destination.versions.push(copy);
  return { ProjectVersionArn: copy.arn };
};
