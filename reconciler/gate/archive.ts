// Archive before delete (spec.archive, docs/archive.md). DeleteProjectVersion cannot be undone; a copy
// (CopyProjectVersion) of a trained Custom Labels model into an archive project can be copied back. This
// module decides, on facts only: which deletion gets an archive step and under which name, when an adapter
// is kept (notArchivable), and whether the copy a last look saw lets the source go (COPYING_COMPLETED, a copy
// of this very version, in the archive project). Pure: the names are derived without I/O or randomness, so a
// rerun finds the copy an earlier run made.
import type { ArchiveStep, LiveVersion, PlanAction, Policy, Reason } from "../types.js";

/** On the copy: the ARN of the version it archives (how a rerun recognises its own copy). */
export const ARCHIVED_FROM_TAG = "rekon.dev/archived-from";
/** On the copy: when rekon made it (RFC 3339 UTC, on the verified clock). */
export const ARCHIVED_AT_TAG = "rekon.dev/archived-at";
/** On a restored copy: the archived version it came from. */
export const RESTORED_FROM_TAG = "rekon.dev/restored-from";
/** CopyProjectVersion's VersionName: AWS's pattern and length. */
export const VERSION_NAME = /^[a-zA-Z0-9_.-]{1,255}$/;
export const MAX_VERSION_NAME = 255;
const SEPARATOR = "--";

/** FNV-1a, 32 bits, as 8 hex digits: short, stable across runs and machines, and pure. */
export function shortHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/**
 * The archived copy's names for a source version. `primary` is `PROJECT--VERSION` (both parts already match
 * AWS's VersionName pattern, so the whole does), readable in the archive project's listing. `alternate` is
 * that name cut to fit with `-` and a hash of the source's ARN: used when the primary is too long (then both
 * are the same), or when the primary is taken by a copy of another version (a version deleted, retrained
 * under the same name and deleted again). Both are derived from the source alone, so a rerun looks for both.
 */
export function archiveNames(project: string, version: string, sourceArn: string): { primary: string; alternate: string } {
  const base = `${project}${SEPARATOR}${version}`;
  const suffix = `-${shortHash(sourceArn)}`;
  const alternate = base.slice(0, MAX_VERSION_NAME - suffix.length) + suffix;
  return { primary: base.length <= MAX_VERSION_NAME ? base : alternate, alternate };
}

/** AWS's bound on a tag value. */
export const MAX_TAG_VALUE = 256;

/**
 * The rekon.dev/archived-from value for a source: its ARN, which fits a tag value unless the project and
 * version names are long (each may be 255 characters, a tag value at most 256); then the ARN cut to fit with
 * `#` and its hash, so the tag still names this source and no other (a copy is also known by AWS's
 * SourceProjectVersionArn and by its derived name).
 */
export function archivedFromValue(sourceArn: string): string {
  if (sourceArn.length <= MAX_TAG_VALUE) return sourceArn;
  const suffix = `#${shortHash(sourceArn)}`;
  return sourceArn.slice(0, MAX_TAG_VALUE - suffix.length) + suffix;
}

/** Whether a version can be copied at all: CopyProjectVersion copies Custom Labels models only, never adapters. */
export function copyable(v: Pick<LiveVersion, "feature">): boolean {
  return v.feature === "CUSTOM_LABELS";
}

/**
 * The archive step of a deletion candidate of `project` under `policy`: where its copy goes, or that it goes
 * without one (noUndo: an adapter under required: false). Nothing for a policy without spec.archive, and
 * nothing for the archive project's own versions: they are the archive, ordinary versions under their set.
 */
export function archiveStep(policy: Policy, project: string, v: Pick<LiveVersion, "feature" | "name" | "arn">): { archive?: ArchiveStep; noUndo?: true } {
  const a = policy.archive;
  if (!a || project === a.project) return {};
  if (!copyable(v)) return a.required ? {} : { noUndo: true };
  return { archive: { project: a.project, versionName: archiveNames(project, v.name, v.arn).primary } };
}

/** The notArchivable guard: under required archiving, a version that cannot be copied is not deleted. */
export function notArchivable(policy: Policy, project: string, v: Pick<LiveVersion, "feature">): Reason | undefined {
  const a = policy.archive;
  if (!a || !a.required || project === a.project || copyable(v)) return undefined;
  return {
    rule: "notArchivable",
    message:
      `a ${v.feature || "non-Custom Labels"} version (an adapter) cannot be copied (CopyProjectVersion copies Custom Labels models only), and ` +
      `spec.archive.required is true; set required: false to delete it without a copy (no undo)`,
    ...(policy.origin.archive ? { layer: policy.origin.archive } : {}),
  };
}

/**
 * Whether `copy` is an archived copy of the version `sourceArn`: the source AWS names decides; rekon's tag only
 * when AWS names none (anyone who may tag could write the tag on a copy of something else, and the source
 * would then be deleted with the wrong model in the archive).
 */
export function isCopyOf(copy: Pick<LiveVersion, "sourceVersionArn" | "tags">, sourceArn: string): boolean {
  if (copy.sourceVersionArn !== undefined) return copy.sourceVersionArn === sourceArn;
  return copy.tags?.[ARCHIVED_FROM_TAG] === archivedFromValue(sourceArn);
}

/**
 * What keeps a deletion with an archive step at its last look: the copy must have been read, be in the archive
 * project, be a copy of this version, and be COPYING_COMPLETED. A deletion the policy would archive but whose
 * planned action has no archive step (a plan made before spec.archive) is not approved either.
 */
export function archiveReasons(
  policy: Policy,
  project: string,
  a: PlanAction,
  v: LiveVersion,
  archives: ReadonlyMap<string, LiveVersion> | undefined,
): Reason[] {
  const want = archiveStep(policy, project, v).archive;
  if (!want && !a.archive) return [];
  const no = (message: string): Reason[] => [{ rule: "notArchived", message, ...(policy.origin.archive ? { layer: policy.origin.archive } : {}) }];
  const step = (x: ArchiveStep | undefined) => (x ? `${x.project}/${x.versionName}` : "none");
  if (!want || !a.archive || a.archive.project !== want.project || a.archive.versionName !== want.versionName)
    return no(`the plan's archive step (${step(a.archive)}) is not the policy's (${step(want)})`);
  const copy = archives?.get(v.arn);
  if (!copy) return no(`no archived copy of it was read in project ${want.project} at the last look`);
  if (copy.project !== want.project) return no(`its copy ${copy.arn} is not in the archive project ${want.project}`);
  if (!isCopyOf(copy, v.arn)) return no(`${copy.arn} is not a copy of it (its source is ${copy.sourceVersionArn ?? "not named"})`);
  if (copy.status !== "COPYING_COMPLETED") return no(`its archived copy ${copy.name} is ${copy.status}, not COPYING_COMPLETED`);
  return [];
}

/** The parts of a project ARN (arn:PARTITION:rekognition:REGION:ACCOUNT:project/NAME/TIME). */
export function projectArnParts(arn: string): { region: string; account: string; project: string } | undefined {
  const m = /^arn:aws[a-z-]*:rekognition:([a-z0-9-]+):([0-9]{12}):project\/([a-zA-Z0-9_.-]{1,255})\/[0-9]+$/.exec(arn);
  return m ? { region: m[1]!, account: m[2]!, project: m[3]! } : undefined;
}
