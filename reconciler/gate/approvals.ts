// Approvals: a type only the gate can make, and a run-time record of what it made and what was spent.
// Write code cannot reach AWS without one: `Approved<T>` carries a brand whose symbol is not exported, so
// the compiler proves no path skips the gate, and each approval is also checked at run time and spent on
// use (`redeem`): one approval, one write, on one look.
import { sourceOf, type Plan } from "../types.js";

declare const APPROVED: unique symbol;
/** A write the gate approved. Only the gate can construct one; the executor accepts nothing else. */
export type Approved<T> = T & { readonly [APPROVED]: true };

export interface WriteTarget {
  versionArn: string;
  versionName: string;
  project: string;
  region: string;
  /** The account the credentials resolved to; the write must go out with exactly these credentials. */
  account: string;
  /** "ambient" or the role ARN: which credentials to use. */
  source: string;
}

/** Where a write goes: the version, its set's project and region, the account read, the set's credentials. */
export function writeTarget(set: { project: string; region: string; roleArn?: string }, account: string, v: { arn: string; name: string }): WriteTarget {
  return { versionArn: v.arn, versionName: v.name, project: set.project, region: set.region, account, source: sourceOf(set) };
}

export interface DeleteWrite extends WriteTarget {
  kind: "delete";
  /** When the facts it was approved on were read (epoch ms): the executor re-looks when they get old. */
  lookedAt: number;
}
export interface StopWrite extends WriteTarget {
  kind: "stop";
  lookedAt: number;
}
/** StartProjectVersion at the declared inference units (a listed version declared running). */
export interface StartWrite extends WriteTarget {
  kind: "start";
  minInferenceUnits: number;
  maxInferenceUnits?: number;
  lookedAt: number;
}
export interface MarkWrite extends WriteTarget {
  kind: "mark";
  /** The tag value to write: the time, signed under spec.tagSigning. */
  value: string;
  /** The RFC 3339 UTC time the mark records. */
  at: string;
}
export interface UnmarkWrite extends WriteTarget {
  kind: "unmark";
}
/** Recording that a notification about the version reached a channel: its `marked` notice, or its reminder. */
export interface NoticeWrite extends WriteTarget {
  kind: "notice";
  tag: string;
  /** The tag value to write: the delivery time (RFC 3339 UTC, rounded up to the second), signed under spec.tagSigning. */
  value: string;
}
/**
 * A person's approval of one marked version's deletion (requireApproval, `rekon approve`): the tag
 * rekon.dev/deletion-approved, written with the caller's own credentials so that AWS CloudTrail names who
 * approved. Not signed: it is a person's word, and the mark it must postdate is what tag signing protects.
 */
export interface ApprovalWrite extends WriteTarget {
  kind: "approval";
  /** The tag value: the time of the approval, RFC 3339 UTC (whole seconds), from the verified clock. */
  value: string;
}

/**
 * CopyProjectVersion of `versionArn` (in `sourceProjectArn`) into `destinationProjectArn` as `copyName`: the
 * archive step before a deletion (spec.archive), or `rekon restore` copying an archived version back.
 */
export interface CopyWrite extends WriteTarget {
  kind: "copy";
  sourceProjectArn: string;
  destinationProjectArn: string;
  copyName: string;
  outputConfig: { s3Bucket: string; s3KeyPrefix?: string };
  kmsKeyId?: string;
  /** Written on the copy with the copy itself (rekon.dev/archived-from and archived-at, or restored-from). */
  tags: Record<string, string>;
}
export type Write = DeleteWrite | StopWrite | StartWrite | MarkWrite | UnmarkWrite | NoticeWrite | ApprovalWrite | CopyWrite;

const minted = new WeakSet<object>();
const spent = new WeakSet<object>();

/** Only the gate's modules call this. */
export function mint<T extends Write>(w: T): Approved<T> {
  const a = Object.freeze({ ...w }) as unknown as Approved<T>;
  minted.add(a);
  return a;
}

/** A write reached the executor without a valid approval: a bug in rekon, never a user error. */
export class GateError extends Error {
  override readonly name = "GateError";
}

/**
 * Checked by the executor immediately before the SDK call: the approval must have been made by this
 * gate, for this kind of write, and not used before (an approval is for one write, on one look).
 */
export function redeem(a: Approved<Write>, kind: Write["kind"]): void {
  if (!minted.has(a)) throw new GateError(`refusing a ${kind} of ${(a as Write)?.versionArn}: the approval was not made by the gate`);
  if (a.kind !== kind) throw new GateError(`refusing a ${kind} of ${a.versionArn}: the approval is for a ${a.kind}`);
  if (spent.has(a)) throw new GateError(`refusing a ${kind} of ${a.versionArn}: the approval was already used`);
  spent.add(a);
}

declare const AUTHORIZED: unique symbol;
/** A plan the gate agreed to act on as a whole (no refusal, within budget, accounts named). */
export type RunAuthorization = {
  readonly plan: Plan;
  readonly deletable: ReadonlySet<string>;
  readonly marks: ReadonlyMap<string, "add" | "remove">;
  /** The planned starts and stops of listed versions (running state), by version ARN. */
  readonly runtime: ReadonlyMap<string, "start" | "stop">;
  readonly [AUTHORIZED]: true;
};
const authorizations = new WeakSet<object>();

/** Only the gate's modules call this. */
export function makeAuthorization(
  plan: Plan,
  deletable: ReadonlySet<string>,
  marks: ReadonlyMap<string, "add" | "remove">,
  runtime: ReadonlyMap<string, "start" | "stop"> = new Map(),
): RunAuthorization {
  const auth = Object.freeze({ plan, deletable, marks, runtime }) as unknown as RunAuthorization;
  authorizations.add(auth);
  return auth;
}

export function isAuthorized(auth: RunAuthorization): boolean {
  return authorizations.has(auth);
}
