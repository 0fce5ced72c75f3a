// Manifests and policies, read and validated together. Offline and free of the AWS SDK, so `validate`
// runs the very checks plan and apply run, without credentials.
import { loadManifests, sortIssues } from "./manifests.js";
import { checkLayers } from "../policy/layers.js";
import { loadPolicy } from "./policy.js";
import type { DesiredState, PolicySet } from "../types.js";
import type { ValidationIssue } from "../errors.js";

export interface Inputs {
  desired?: DesiredState;
  policies?: PolicySet;
  issues: ValidationIssue[];
  /** Cases validate cannot settle offline (plan and apply settle them with a live read). */
  notes: string[];
}

/**
 * Read and validate manifests and policies, including that no manifest policy loosens the operator's.
 * Returns every issue found (validate shows them; plan and apply stop on them).
 */
export function validateInputs(opts: { manifests: string[]; policy?: string }, load: { defaultRegion?: string; requireRegion: boolean }): Inputs {
  const pol = loadPolicy(opts.policy);
  const man = loadManifests(opts.manifests, load);
  const issues = [...pol.issues, ...man.issues];
  if (pol.policy && man.desired) {
    issues.push(...checkLayers({ operator: pol.policy, scoped: man.desired.policies }, new Set(man.desired.sets.map((s) => s.project))));
  }
  if (issues.length > 0 || !pol.policy || !man.desired) return { issues: sortIssues(issues), notes: man.notes };
  return { desired: man.desired, policies: { operator: pol.policy, scoped: man.desired.policies } as PolicySet, issues: [], notes: man.notes };
}

