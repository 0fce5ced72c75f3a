// Approvals for CopyProjectVersion: the archive step of a planned deletion (spec.archive), and `rekon restore`
// copying an archived version back. A copy deletes nothing, but it is still a write in someone's account: it
// goes where the policy (or the person restoring) said, in the region and account the credentials resolved
// to, under a name derived from the source, and only for a version the gate would delete on a fresh look.
import { formatMark } from "../policy/guards.js";
import { type LiveVersion, type PlanAction, type Reason } from "../types.js";
import { mint, writeTarget, type Approved, type CopyWrite, type RunAuthorization } from "./approvals.js";
import { ARCHIVED_AT_TAG, ARCHIVED_FROM_TAG, RESTORED_FROM_TAG, archiveNames, archivedFromValue, copyable, projectArnParts, VERSION_NAME } from "./archive.js";
import { freshDeletion, type Denial, type Look } from "./lastlook.js";
import type { WorldIndex } from "./world.js";

const denied = (reasons: Reason[]): Denial => ({ denied: true, reasons });

/**
 * Approve copying planned deletion `a` into its archive project (ARN `destinationProjectArn`, as read just
 * now) as `copyName`: every guard and premise of the deletion must hold on the look (an archive is only made
 * of what is about to be deleted), the destination must be the policy's archive project in the source's own
 * region and account, and the name one of the two derived from the source (archive.ts archiveNames).
 */
export function approveArchive(
  index: WorldIndex,
  auth: RunAuthorization,
  a: PlanAction,
  look: Look,
  destinationProjectArn: string,
  copyName: string,
  now: number,
): Approved<CopyWrite> | Denial {
  const f = freshDeletion(index, auth, a, look, now);
  if ("denied" in f) return f;
  const { view, v, reasons } = f;
  const policy = view.policy.archive;
  const step = a.archive;
  const no = (message: string) => reasons.push({ rule: "notArchived", message, ...(view.policy.origin.archive ? { layer: view.policy.origin.archive } : {}) });
  if (!policy || !step || step.project !== policy.project)
    no(`the plan's archive step (${step?.project ?? "none"}) is not the policy's (${policy?.project ?? "none"})`);
  if (!copyable(v)) no(`a ${v.feature} version cannot be copied`);
  const dest = projectArnParts(destinationProjectArn);
  if (!dest || dest.project !== step?.project || dest.region !== view.set.region || dest.account !== view.account)
    no(`the destination ${destinationProjectArn} is not project ${step?.project ?? "?"} in ${view.set.region} of account ${view.account}`);
  if (dest?.project === view.set.project) no("the archive project is the version's own project");
  const names = archiveNames(view.set.project, v.name, v.arn);
  if (step && step.versionName !== names.primary) no(`the plan's archive name ${step.versionName} is not the one derived from the source (${names.primary})`);
  if (copyName !== names.primary && copyName !== names.alternate)
    no(`${copyName} is not a name derived from the source (${names.primary} or ${names.alternate})`);
  const projectArn = view.project?.projectArn;
  if (!projectArn) no("the source project's ARN is not known");
  if (reasons.length > 0) return denied(reasons);
  return mint({
    kind: "copy",
    ...writeTarget(view.set, view.account, v),
    sourceProjectArn: projectArn!,
    destinationProjectArn,
    copyName,
    outputConfig: { ...policy!.outputConfig },
    ...(policy!.kmsKeyId !== undefined ? { kmsKeyId: policy!.kmsKeyId } : {}),
    tags: { [ARCHIVED_FROM_TAG]: archivedFromValue(v.arn), [ARCHIVED_AT_TAG]: formatMark(now) },
  });
}

/** What `rekon restore` read before asking: the archived version, both projects, and who is asking. */
export interface RestoreFacts {
  /** The archived version as read just now (in `sourceProjectArn`). */
  version: LiveVersion;
  sourceProjectArn: string;
  destinationProjectArn: string;
  /** The restored version's name. */
  name: string;
  /** Whether the destination already has a version of that name (as read just now). */
  nameTaken: boolean;
  /** The account the credentials resolved to (STS), and the client's region. */
  account: string;
  region: string;
  /** "ambient" or the role ARN. */
  source: string;
  outputConfig: { s3Bucket: string; s3KeyPrefix?: string };
  kmsKeyId?: string;
  /** Whether the operator's policy allows writing in `account` (allowedAccounts). */
  accountAllowed: boolean;
}

/** Statuses of a trained model at rest or serving: what CopyProjectVersion copies. */
const RESTORABLE = new Set(["COPYING_COMPLETED", "TRAINING_COMPLETED", "STOPPED", "RUNNING", "STARTING", "STOPPING", "FAILED"]);

/**
 * Approve `rekon restore`: a copy back, which deletes nothing. The archived version must be a trained Custom
 * Labels model, both projects in the credentials' account and region, and the name valid and free: a
 * restore never takes the name of a version that exists (AWS would refuse it; rekon says so first).
 */
export function approveRestore(f: RestoreFacts): Approved<CopyWrite> | Denial {
  const reasons: Reason[] = [];
  const no = (message: string) => reasons.push({ rule: "notPlanned", message });
  const src = projectArnParts(f.sourceProjectArn);
  const dest = projectArnParts(f.destinationProjectArn);
  if (!copyable(f.version)) no(`a ${f.version.feature} version cannot be copied`);
  if (!RESTORABLE.has(f.version.status)) no(`${f.version.name} is ${f.version.status}; only a trained (or completely copied) model can be copied`);
  for (const [what, p] of [
    ["the archived version's project", src],
    ["the destination project", dest],
  ] as const) {
    if (!p) no(`${what} ARN is not a Rekognition project ARN`);
    else if (p.account !== f.account || p.region !== f.region)
      no(`${what} is in account ${p.account}, ${p.region}; the credentials resolved to account ${f.account}, ${f.region}`);
  }
  if (!f.accountAllowed) no(`account ${f.account} is not in the operator policy's allowedAccounts`);
  if (f.version.account !== f.account || f.version.region !== f.region) no(`${f.version.arn} is not in account ${f.account}, ${f.region}`);
  if (!VERSION_NAME.test(f.name)) no(`${JSON.stringify(f.name)} is not a valid version name (letters, digits, '_', '.', '-'; 1 to 255)`);
  if (f.nameTaken) no(`project ${dest?.project ?? f.destinationProjectArn} already has a version named ${f.name}; choose another with --name`);
  if (reasons.length > 0) return denied(reasons);
  return mint({
    kind: "copy",
    versionArn: f.version.arn,
    versionName: f.version.name,
    project: f.version.project,
    region: f.region,
    account: f.account,
    source: f.source,
    sourceProjectArn: f.sourceProjectArn,
    destinationProjectArn: f.destinationProjectArn,
    copyName: f.name,
    outputConfig: { ...f.outputConfig },
    ...(f.kmsKeyId !== undefined ? { kmsKeyId: f.kmsKeyId } : {}),
    tags: { [RESTORED_FROM_TAG]: archivedFromValue(f.version.arn) },
  });
}
