// Manifests and policies, read and validated together. Offline and free of the AWS SDK, so `validate`
// runs the very checks plan and apply run, without credentials.
import { digestFiles, readManifestFiles } from "./files.js";
import { loadManifests, sortIssues } from "./manifests.js";
import { checkLayers } from "../policy/layers.js";
import { loadPolicy } from "./policy.js";
import type { DesiredState, Policy, PolicySet, Suspension } from "../types.js";
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
export function validateInputs(opts: { manifests: string[]; policy?: string }, load: { defaultRegion?: string; requireRegion: boolean; now?: number }): Inputs {
  const pol = loadPolicy(opts.policy);
  const man = loadManifests(opts.manifests, load);
  const issues = [...pol.issues.map(asPolicyIssue), ...man.issues];
  if (pol.policy && man.desired) {
    issues.push(...checkLayers({ operator: pol.policy, scoped: man.desired.policies }, new Set(man.desired.sets.map((s) => s.project))));
  }
  if (issues.length > 0 || !pol.policy || !man.desired) return { issues: sortIssues(issues), notes: man.notes };
  const notes = [...man.notes, ...pastSuspensions(pol.policy, man.desired, load.now ?? Date.now())];
  return { desired: man.desired, policies: { operator: pol.policy, scoped: man.desired.policies } as PolicySet, issues: [], notes };
}

/**
 * The policy file is read by the same file reader as the manifests, whose fixes name --manifests; for the
 * file given with --policy the fix must name --policy ("check the --manifests path" sent people to the
 * wrong flag when the policy path was the mistyped one).
 */
function asPolicyIssue(i: ValidationIssue): ValidationIssue {
  return i.fix?.includes("--manifests")
    ? {
        ...i,
        fix: i.fix
          .replaceAll("--manifests", "--policy")
          .replace("point --policy at the folder that holds the manifests", "point --policy at the DeletionPolicy file"),
      }
    : i;
}

/** A suspension whose `until` has passed has no effect: probably a forgotten line, so say so. */
function pastSuspensions(policy: Policy, desired: DesiredState, now: number): string[] {
  const all = [policy.suspend, ...desired.policies.map((p) => p.spec.suspend), ...desired.sets.map((s) => s.suspend)];
  return all
    .filter((s): s is Suspension => s?.until !== undefined && s.until <= now)
    .map(
      (s) =>
        `${s.origin}: suspend.until ${new Date(s.until!).toISOString()} is in the past, so this suspension has no effect (remove it, or set a later until)`,
    );
}

/**
 * Whether the manifests or the policy differ from what a plan was made from (`digests`): the files are
 * read and hashed again, not parsed (the same digests the plan recorded). Returns why, or undefined.
 * Paths are the ones the user gave: behind a git-sync link, they show the newly published revision.
 */
export function inputsChangedSince(paths: { manifests: string[]; policy?: string }, digests: { manifests: string; policy: string }): string | undefined {
  const m = readManifestFiles(paths.manifests);
  if (m.issues.length > 0 || digestFiles(m.files) !== digests.manifests) return "the manifests changed since the plan";
  if (paths.policy !== undefined && digests.policy !== "defaults") {
    const p = readManifestFiles([paths.policy]);
    if (p.issues.length > 0 || digestFiles(p.files) !== digests.policy) return "the policy changed since the plan";
  }
  return undefined;
}
