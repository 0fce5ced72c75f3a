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
  summary: { removed: number; added: number; policyChanges: number; loosenings: number };
}
