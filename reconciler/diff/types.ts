// What `rekon diff` reports: the shapes shared by the comparison, the Git reader and the views.

export interface ProjectChange {
  project: string;
  /** The resolved region (spec.region, else the default region), or "(default region)" when unknown offline. */
  region: string;
  roleArn?: string;
  /** Versions the change takes out of the desired set: apply will delete them if every guard passes. */
  removed: string[];
  added: string[];
  /** The whole ProjectVersionSet appears or disappears (a disappearing set stops management; nothing is deleted). */
  set?: "added" | "removed";
  /** What moved between the revisions for the same project (set name, file, region written or defaulted, role). */
  moved?: string[];
  /** A removed set's versions that no set lists any more: not deleted (rekon stops managing), but named. */
  unlisted?: string[];
  /** spec.runtime changed between the matched sets (a new set's base is "unmanaged": nothing was stopped before it). */
  runtime?: { from: Runtime; to: Runtime };
  /** What the change does to running state, version by version (absent: nothing). */
  running?: RunningChange[];
}

export type Runtime = "managed" | "unmanaged";

/**
 * How a version's running state changes. A closed list: the views, the JSON and the docs name the same kinds.
 * - start: declared running now (newly, or newly listed): apply starts it. +minInferenceUnits.
 * - stop: no longer declared running under runtime: managed: apply stops it if it runs. −minInferenceUnits.
 * - notStopped: no longer declared running under runtime: unmanaged: rekon will not stop it. 0.
 * - units: min or max inference units changed: the difference in min.
 * - schedule: a schedule added, changed or removed. 0 (costs are counted as always on: an upper bound).
 * - unlisted: declared running at base, no longer listed: a deletion candidate. 0.
 * - released: declared running at base, its set removed: rekon neither starts nor stops it any more. 0.
 * - stoppable: runtime became managed: a listed version not declared running (or outside its schedule) is stopped if it runs. 0 (diff reads no live state).
 * - notStoppable: runtime became unmanaged: rekon no longer stops it. 0.
 */
export const RUNNING_CHANGES = ["start", "stop", "notStopped", "units", "schedule", "unlisted", "released", "stoppable", "notStoppable"] as const;
export type RunningChangeKind = (typeof RUNNING_CHANGES)[number];

/** A version's `running` as declared at one revision; schedule entries as `"CRON" for DURATION in ZONE`. */
export interface RunningDecl {
  minInferenceUnits: number;
  maxInferenceUnits?: number;
  schedule?: string[];
}

export interface RunningChange {
  version: string;
  change: RunningChangeKind;
  /** Declared at base (absent: not declared running, or not listed). */
  from?: RunningDecl;
  /** Declared at head (absent: not declared running, or not listed). */
  to?: RunningDecl;
  /**
   * Inference units the change adds (+) or takes away (−), counted at minInferenceUnits: what AWS starts a
   * model with (auto scaling up to maxInferenceUnits may bill more). 0 where nothing changes or diff cannot
   * know (it reads no live state).
   */
  units: number;
  /** units × the head operator policy's spec.inference.unitPricePerHour × 720 h; absent without a price. */
  costPer30Days?: number;
  /** What it means, in words (every view prints it). */
  text: string;
}

/** The running-state total of a diff, priced with the head's operator policy. */
export interface RunningTotal {
  /** Entries in every project's `running`. */
  changes: number;
  /** The sum of their `units`. */
  inferenceUnits: number;
  /** spec.inference.unitPricePerHour of the head's operator policy; absent: no price, no cost. */
  unitPricePerHour?: number;
  currency: string;
  /** inferenceUnits × unitPricePerHour × 720 h. */
  costPer30Days?: number;
}

export interface PolicyChange {
  layer: string;
  field: string;
  from: string;
  to: string;
  loosens: boolean;
}

export interface DiffResult {
  base: string;
  head: string;
  projects: ProjectChange[];
  policy: PolicyChange[];
  /** What the reader should know to read the rest (e.g. that no default region was known). */
  notes: string[];
  /** Running state: inference units started or stopped, and their cost per 30 days. */
  running: RunningTotal;
  summary: { removed: number; added: number; policyChanges: number; loosenings: number };
}
