// The operator's DeletionPolicy: read, validate, fill in the documented defaults.
import type { ValidationIssue } from "../errors.js";
import { loadDocuments } from "../manifests/load.js";
import { parseDuration } from "../duration.js";
import type { Policy } from "../types.js";

/**
 * The defaults, in one place (STYLE rule 9). They are chosen to delete little: nothing younger than a
 * day, always the newest version, at most ten per run, never a whole project, and no account at all
 * until the operator names one.
 */
export const DEFAULT_POLICY: Policy = {
  source: "defaults",
  name: "defaults",
  allowedAccounts: [],
  minAge: "24h",
  minAgeMs: 24 * 3_600_000,
  keepLatest: 1,
  maxDeletesPerRun: 10,
  allowEmpty: false,
  stopRunning: false,
  rateLimits: {},
};

interface PolicyDoc {
  metadata: { name: string };
  spec: { allowedAccounts?: string[]; minAge?: string; keepLatest?: number; maxDeletesPerRun?: number; allowEmpty?: boolean; stopRunning?: boolean; rateLimits?: Record<string, number> };
}

export function loadPolicy(file: string | undefined): { policy?: Policy; issues: ValidationIssue[] } {
  if (file === undefined) return { policy: DEFAULT_POLICY, issues: [] };
  const { docs, issues } = loadDocuments([file]);
  if (issues.length > 0) return { issues };
  const policies = docs.filter((d) => d.kind === "DeletionPolicy");
  for (const d of docs) {
    if (d.kind !== "DeletionPolicy") {
      issues.push({ file: d.doc.file, ...d.doc.locate(["kind"]), path: "kind", message: `--policy expects a DeletionPolicy, got ${d.kind}`, fix: "pass manifests with --manifests, the DeletionPolicy with --policy" });
    }
  }
  if (policies.length > 1) {
    const second = policies[1]!.doc;
    issues.push({ file: second.file, ...second.locate([]), path: "", message: "more than one DeletionPolicy in the --policy file", fix: "keep exactly one DeletionPolicy document in that file" });
  }
  if (policies.length === 0 && issues.length === 0) {
    issues.push({ file, line: 1, col: 1, path: "", message: "no DeletionPolicy document found", fix: "add a document with kind: DeletionPolicy" });
  }
  if (issues.length > 0) return { issues };

  const { spec, metadata } = policies[0]!.doc.value as PolicyDoc;
  const minAge = spec.minAge ?? DEFAULT_POLICY.minAge;
  return {
    policy: {
      source: file,
      name: metadata.name,
      allowedAccounts: spec.allowedAccounts ?? DEFAULT_POLICY.allowedAccounts,
      minAge,
      // The schema has already checked the shape, so parseDuration cannot fail here.
      minAgeMs: parseDuration(minAge)!,
      keepLatest: spec.keepLatest ?? DEFAULT_POLICY.keepLatest,
      maxDeletesPerRun: spec.maxDeletesPerRun ?? DEFAULT_POLICY.maxDeletesPerRun,
      allowEmpty: spec.allowEmpty ?? DEFAULT_POLICY.allowEmpty,
      stopRunning: spec.stopRunning ?? DEFAULT_POLICY.stopRunning,
      rateLimits: spec.rateLimits ?? DEFAULT_POLICY.rateLimits,
    },
    issues: [],
  };
}
