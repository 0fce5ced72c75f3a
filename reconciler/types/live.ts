// Live state, from AWS: the projects and versions read, the identities the credentials resolved to.

/** The 14 documented statuses (docs/aws-behaviour.md). A status outside this list is treated as unknown and never deleted. */
export const VERSION_STATUSES = [
  "TRAINING_IN_PROGRESS",
  "TRAINING_COMPLETED",
  "TRAINING_FAILED",
  "STARTING",
  "RUNNING",
  "FAILED",
  "STOPPING",
  "STOPPED",
  "DELETING",
  "COPYING_IN_PROGRESS",
  "COPYING_COMPLETED",
  "COPYING_FAILED",
  "DEPRECATED",
  "EXPIRED",
] as const;

export interface LiveVersion {
  arn: string;
  name: string;
  project: string;
  region: string;
  account: string;
  status: string;
  statusMessage?: string;
  /** Epoch milliseconds. */
  createdAt: number;
  feature: string;
  sourceVersionArn?: string;
  /** While it runs (RUNNING, STARTING, STOPPING): its inference units, as DescribeProjectVersions reports them. */
  minInferenceUnits?: number;
  maxInferenceUnits?: number;
  /** Read with ListTagsForResource only when a guard needs them (deletion candidates). */
  tags?: Record<string, string>;
  /** Why the tag read failed; the version is then blocked (tagsUnreadable). */
  tagsError?: string;
}

/** notManaged: the project lacks the policy's requireProjectTag; it is reported and never touched. */
export type ProjectReadStatus = "ok" | "notFound" | "error" | "notManaged";

/** Where a project lives and with which identity rekon reaches it. */
export interface Target {
  region: string;
  /** Role to assume (another account); absent = ambient credentials. */
  roleArn?: string;
}

export interface LiveProject {
  /** The ProjectVersionSet this read was for: the join key between desired and live state. */
  set: string;
  project: string;
  region: string;
  status: ProjectReadStatus;
  projectArn?: string;
  account?: string;
  feature?: string;
  /** Why the read failed (status "error") or what was not found. */
  error?: string;
  /** Complete list of the project's versions; only meaningful when status is "ok". */
  versions: LiveVersion[];
  /** Project tags, read only when a policy requires a project tag (or a rule reads them). */
  tags?: Record<string, string>;
}

/** The credentials a set reaches its project with: the SDK's default chain, or a role it names. */
export const AMBIENT = "ambient";

/** Which credentials a set uses: "ambient", or its roleArn. */
export function sourceOf(set: { roleArn?: string }): string {
  return set.roleArn ?? AMBIENT;
}

/** Where a set, a plan action, a result or an approved write (`source`: "ambient" or a role ARN) is reached. */
export function targetOf(x: { region: string; roleArn?: string; source?: string }): Target {
  const role = x.roleArn ?? (x.source !== undefined && x.source !== AMBIENT ? x.source : undefined);
  return { region: x.region, ...(role ? { roleArn: role } : {}) };
}

/** The key of one (credentials, region): one client, one group of reads and writes. */
export function targetKey(t: { roleArn?: string; region: string }): string {
  return `${sourceOf(t)}|${t.region}`;
}

/** The key that tells projects apart across credentials and regions (the same name can live in several). */
export function projectKey(x: { roleArn?: string; region: string; project: string }): string {
  return `${targetKey(x)}|${x.project}`;
}

/**
 * The account one credential source resolved to (STS GetCallerIdentity). Ownership and every write are
 * keyed by this, never by an account written in configuration: a roleArn and the ambient credentials
 * can be the same account, and only AWS can say so.
 */
export interface IdentityFact {
  /** "ambient" or the role ARN. */
  source: string;
  account?: string;
  /** The caller ARN STS answered (for audit records). */
  arn?: string;
  /** Why it could not be resolved; every set using this source is then unreadable. */
  error?: string;
}

export interface LiveState {
  projects: LiveProject[];
  /** One fact per credential source the sets use. A set whose source has no resolved fact is never written to. */
  identities: IdentityFact[];
}

/** What one last look must read for a batch of writes in one project (Gate.lookFor; read by aws/look.ts). */
export interface LookSpec {
  project: string;
  region: string;
  projectArn: string;
  /** Versions to re-read by name: the batch's, the project's newest (keepLatest), the allowEmpty anchor, near misses. */
  names: string[];
  /** Whether the policy reads tags: then the tags of `tagArns` (the batch's versions) are read too. */
  tags: boolean;
  tagArns: ReadonlySet<string>;
  /**
   * The creation time of the newest version the plan saw (epoch ms), undefined when it saw none: the look
   * reads the project's listing, newest first, at least back past this time (aws/look.ts readNewest).
   */
  planNewest: number | undefined;
}
