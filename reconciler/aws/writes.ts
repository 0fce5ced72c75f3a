// The only place rekon builds a write request (DeleteProjectVersion, StopProjectVersion,
// StartProjectVersion, CopyProjectVersion, TagResource, UntagResource): deletions, stops, starts, archive
// copies and restores, grace-period marks, the notice tags and a person's approval (`rekon approve`). Each
// function takes an approval only the gate can make, spends it (an approval is for one write), and sends
// with exactly the credentials whose account the gate checked. A test keeps these command names out of
// every other module.
import {
  CopyProjectVersionCommand,
  type CopyProjectVersionCommandOutput,
  DeleteProjectVersionCommand,
  StartProjectVersionCommand,
  StopProjectVersionCommand,
  type StartProjectVersionCommandOutput,
  TagResourceCommand,
  UntagResourceCommand,
  type DeleteProjectVersionCommandOutput,
  type StopProjectVersionCommandOutput,
} from "@aws-sdk/client-rekognition";
import type { RetryingRekognitionClient, WriteCall, WriteHooks } from "./client.js";
import {
  GateError,
  redeem,
  type Approved,
  type ApprovalWrite,
  type CopyWrite,
  type DeleteWrite,
  type MarkWrite,
  type NoticeWrite,
  type StartWrite,
  type StopWrite,
  type UnmarkWrite,
  type Write,
} from "../gate/approvals.js";
import { APPROVAL_TAG, MARK_TAG, MARK_TAGS } from "../policy/guards.js";
import { targetOf, type Target } from "../types.js";

export interface WriteDeps {
  clientFor(target: Target): RetryingRekognitionClient;
}

export interface FreshHooks<W extends DeleteWrite | StopWrite | StartWrite> extends Omit<WriteHooks, "beforeSend"> {
  /**
   * Runs right before each attempt (after its rate-limit slot). It may return a fresh approval for the same
   * version (a new last look when the facts got old), which is spent here; throwing cancels the write.
   */
  beforeSend?: (attempt: number) => Promise<Approved<W> | void>;
}
export type DeleteHooks = FreshHooks<DeleteWrite>;

/** Wraps beforeSend so that a fresh approval it returns is spent, and must be for the very same version. */
function spendFresh<W extends DeleteWrite | StopWrite | StartWrite>(a: Approved<W>, kind: W["kind"], hooks: FreshHooks<W>): WriteHooks {
  return {
    ...(hooks.stop ? { stop: hooks.stop } : {}),
    ...(hooks.beforeSend
      ? {
          beforeSend: async (attempt: number) => {
            const again = await hooks.beforeSend!(attempt);
            if (again) {
              redeem(again, kind);
              if (again.versionArn !== a.versionArn)
                throw new GateError(`refusing a ${kind} of ${a.versionArn}: the fresh approval is for ${again.versionArn}`);
            }
          },
        }
      : {}),
  };
}

function clientOf(a: Approved<Write>, deps: WriteDeps): RetryingRekognitionClient {
  const c = deps.clientFor(targetOf(a));
  // The gate checked the version's account against the account these credentials resolved to; a client
  // for anything else would send the write with an identity nobody checked.
  if (c.account !== a.account || c.regionName !== a.region) {
    throw new GateError(
      `refusing a ${a.kind} of ${a.versionArn}: the client is for account ${c.account ?? "unknown"} in ${c.regionName}, the approval for ${a.account} in ` +
        `${a.region}`,
    );
  }
  return c;
}

export function sendDelete(a: Approved<DeleteWrite>, deps: WriteDeps, hooks: DeleteHooks = {}): Promise<WriteCall<DeleteProjectVersionCommandOutput>> {
  redeem(a, "delete");
  const client = clientOf(a, deps);
  return client.sendWrite<DeleteProjectVersionCommandOutput>(
    new DeleteProjectVersionCommand({ ProjectVersionArn: a.versionArn }),
    spendFresh(a, "delete", hooks),
  );
}

/** A stop takes a serving model offline: like a deletion, it is sent on facts no older than the caller allows. */
export function sendStop(a: Approved<StopWrite>, deps: WriteDeps, hooks: FreshHooks<StopWrite> = {}): Promise<WriteCall<StopProjectVersionCommandOutput>> {
  redeem(a, "stop");
  const client = clientOf(a, deps);
  return client.sendWrite<StopProjectVersionCommandOutput>(new StopProjectVersionCommand({ ProjectVersionArn: a.versionArn }), spendFresh(a, "stop", hooks));
}

export function sendMark(a: Approved<MarkWrite>, deps: WriteDeps, hooks: WriteHooks = {}): Promise<WriteCall<unknown>> {
  redeem(a, "mark");
  return clientOf(a, deps).sendWrite(new TagResourceCommand({ ResourceArn: a.versionArn, Tags: { [MARK_TAG]: a.value } }), hooks);
}

/** Removes the mark and what belongs to it (its notice and reminder tags): a new mark needs a new notice. */
export function sendUnmark(a: Approved<UnmarkWrite>, deps: WriteDeps, hooks: WriteHooks = {}): Promise<WriteCall<unknown>> {
  redeem(a, "unmark");
  return clientOf(a, deps).sendWrite(new UntagResourceCommand({ ResourceArn: a.versionArn, TagKeys: [...MARK_TAGS] }), hooks);
}

/** Records that a notification about the version reached a channel (requireNotice's notice, or a reminder). */
export function sendNotice(a: Approved<NoticeWrite>, deps: WriteDeps, hooks: WriteHooks = {}): Promise<WriteCall<unknown>> {
  redeem(a, "notice");
  return clientOf(a, deps).sendWrite(new TagResourceCommand({ ResourceArn: a.versionArn, Tags: { [a.tag]: a.value } }), hooks);
}

/** A start bills per inference-unit hour from the moment AWS accepts it: sent on facts no older than the caller allows. */
export function sendStart(a: Approved<StartWrite>, deps: WriteDeps, hooks: FreshHooks<StartWrite> = {}): Promise<WriteCall<StartProjectVersionCommandOutput>> {
  redeem(a, "start");
  const client = clientOf(a, deps);
  const input = {
    ProjectVersionArn: a.versionArn,
    MinInferenceUnits: a.minInferenceUnits,
    ...(a.maxInferenceUnits !== undefined ? { MaxInferenceUnits: a.maxInferenceUnits } : {}),
  };
  return client.sendWrite<StartProjectVersionCommandOutput>(new StartProjectVersionCommand(input), spendFresh(a, "start", hooks));
}

/** A person's approval of a marked version's deletion (`rekon approve`), sent with the caller's own credentials: CloudTrail names who approved. */
export function sendApproval(a: Approved<ApprovalWrite>, deps: WriteDeps, hooks: WriteHooks = {}): Promise<WriteCall<unknown>> {
  redeem(a, "approval");
  return clientOf(a, deps).sendWrite(new TagResourceCommand({ ResourceArn: a.versionArn, Tags: { [APPROVAL_TAG]: a.value } }), hooks);
}

/**
 * CopyProjectVersion: the archive step before a deletion, or a restore. The copy's tags go with the request
 * itself, so a copy never exists without the tag that says whose copy it is (a rerun finds it by that).
 */
export function sendCopy(a: Approved<CopyWrite>, deps: WriteDeps, hooks: WriteHooks = {}): Promise<WriteCall<CopyProjectVersionCommandOutput>> {
  redeem(a, "copy");
  const input = {
    SourceProjectArn: a.sourceProjectArn,
    SourceProjectVersionArn: a.versionArn,
    DestinationProjectArn: a.destinationProjectArn,
    VersionName: a.copyName,
    OutputConfig: { S3Bucket: a.outputConfig.s3Bucket, ...(a.outputConfig.s3KeyPrefix !== undefined ? { S3KeyPrefix: a.outputConfig.s3KeyPrefix } : {}) },
    ...(a.kmsKeyId !== undefined ? { KmsKeyId: a.kmsKeyId } : {}),
    Tags: { ...a.tags },
  };
  return clientOf(a, deps).sendWrite<CopyProjectVersionCommandOutput>(new CopyProjectVersionCommand(input), hooks);
}
