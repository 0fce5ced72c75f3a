// Desired state, from the manifests: the sets of versions that should exist.
import type { SourcePos } from "../errors.js";
import type { DeletionWindow, ScopedPolicy, Suspension } from "./policy.js";

/** A listed version that should be RUNNING (spec.versions[].running). */
export interface RunningSpec {
  minInferenceUnits: number;
  /** Auto scaling up to this many; absent: min only. */
  maxInferenceUnits?: number;
  /** Run only inside these occurrences (allow windows, in the windows' syntax); absent: always. */
  schedule?: DeletionWindow[];
  pos: SourcePos;
}

export interface DesiredVersion {
  name: string;
  pos: SourcePos;
  running?: RunningSpec;
}

export interface DesiredSet {
  /** metadata.name, unique across all manifests. */
  name: string;
  pos: SourcePos;
  project: string;
  /** Resolved region: spec.region, else the default region. */
  region: string;
  /** The region came from the default (not spec.region): `rekon diff` says so when a change writes it out. */
  regionDefaulted?: true;
  /** IAM role to assume for this project (another account); absent = the ambient credentials. */
  roleArn?: string;
  versions: DesiredVersion[];
  /** spec.runtime: "managed" stops listed versions that should not run; "unmanaged" (default) never stops a listed version. */
  runtime?: "managed" | "unmanaged";
  /** spec.suspend: nothing in this set's project is written while in force. */
  suspend?: Suspension;
  /** spec.owner: free text naming who owns the set (a team), echoed in every notification about it. */
  owner?: string;
}

export interface DesiredState {
  sets: DesiredSet[];
  /** DeletionPolicy documents found among the manifests (scoped, tighten-only layers). */
  policies: ScopedPolicy[];
  /** Digest of every manifest file read (ids and contents), for saved plans. */
  digest: string;
  /** Every manifest file read, sorted; for reports and, later, digests. */
  files: string[];
}
