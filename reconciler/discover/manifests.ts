// Starter manifests from a discovery: one ProjectVersionSet per project that lists every live version
// (DELETING ones excepted: they are already going), so that `rekon plan` with them, under any policy,
// deletes nothing. Pure: the text only; discover/write.ts puts it on disk.
//
// Names. metadata.name must be a Kubernetes-style name (lower case, digits, '-' and '.', starting and
// ending with a letter or digit) and unique across all manifests; a project name ([a-zA-Z0-9_.-]) may not
// be one. So the name is the project name made lower case with '_' as '-' and its ends trimmed; names that
// then collide (the same project in two regions or accounts, or "Foo" and "foo") take the region, then the
// account and region, then a short hash of the project's ARN key as a suffix — the same inputs always give
// the same names. The file is DIR/<metadata.name>.yaml: <project>.yaml whenever the project name is itself
// a valid, unique name.
import { createHash } from "node:crypto";
import type { DiscoveredProject } from "../aws/discover.js";
import { formatUnits } from "../render/inference.js";
import { AMBIENT } from "../types.js";

/** metadata.name's limit (the schema's pattern allows 253 characters). */
const MAX_NAME = 253;

export interface StarterManifest {
  /** metadata.name. */
  name: string;
  /** The file name inside the target folder. */
  file: string;
  project: string;
  account: string;
  region: string;
  text: string;
}

/** What discover leaves out of the manifests, and why. */
export interface Skipped {
  project: string;
  account: string;
  region: string;
  why: string;
}

/** The project name as a valid metadata.name (see the top of this file). */
export function setNameFor(project: string): string {
  const n = trimEnds(project.toLowerCase().replace(/_/g, "-"));
  return n.length > MAX_NAME ? trimEnds(n.slice(0, MAX_NAME)) : n || "project";
}

function trimEnds(s: string): string {
  return s.replace(/^[^a-z0-9]+/, "").replace(/[^a-z0-9]+$/, "");
}

/** `base` with `suffix`, cut so that the whole stays within the limit and valid. */
function withSuffix(base: string, suffix: string): string {
  const room = MAX_NAME - suffix.length - 1;
  return `${trimEnds(base.slice(0, room)) || "project"}-${suffix}`;
}

function keyOf(p: Pick<DiscoveredProject, "account" | "region" | "project">): string {
  return `${p.account}/${p.region}/${p.project}`;
}

/**
 * A unique metadata.name per project, none of them in `taken` (names of sets that already exist), decided
 * on the whole list so that the result does not depend on the order the reads came back in.
 */
export function uniqueNames(
  projects: readonly Pick<DiscoveredProject, "account" | "region" | "project">[],
  taken: ReadonlySet<string> = new Set(),
): Map<string, string> {
  const tiers = [
    (p: (typeof projects)[number]) => setNameFor(p.project),
    (p: (typeof projects)[number]) => withSuffix(setNameFor(p.project), p.region),
    (p: (typeof projects)[number]) => withSuffix(setNameFor(p.project), `${p.account}-${p.region}`),
    (p: (typeof projects)[number]) => withSuffix(setNameFor(p.project), createHash("sha256").update(keyOf(p)).digest("hex").slice(0, 8)),
  ];
  const out = new Map<string, string>();
  let pending = [...projects].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
  const used = new Set(taken);
  for (const tier of tiers) {
    const counts = new Map<string, number>();
    for (const p of pending) counts.set(tier(p), (counts.get(tier(p)) ?? 0) + 1);
    const next: typeof pending = [];
    for (const p of pending) {
      const n = tier(p);
      if (counts.get(n) === 1 && !used.has(n)) {
        out.set(keyOf(p), n);
        used.add(n);
      } else next.push(p);
    }
    pending = next;
  }
  // Two ARN keys with the same 8-hex hash and the same name (practically never): number them.
  for (const p of pending) {
    let i = 2;
    while (used.has(withSuffix(setNameFor(p.project), String(i)))) i++;
    const n = withSuffix(setNameFor(p.project), String(i));
    out.set(keyOf(p), n);
    used.add(n);
  }
  return out;
}

/** A YAML double-quoted string: names like 1.0, true or null must stay strings. */
function q(s: string): string {
  return JSON.stringify(s);
}

/** One project's manifest text. `defaultRegion`: the region plan uses for a set without spec.region. */
export function renderManifest(p: DiscoveredProject, name: string, opts: { defaultRegion?: string; at: string }): string {
  const versions = p.versions
    .filter((v) => v.status !== "DELETING")
    .sort((a, b) => b.createdAt - a.createdAt || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const leaving = p.versions.length - versions.length;
  const lines = [
    `# Written by rekon discover at ${opts.at} from account ${p.account}, ${p.region} (${p.source === AMBIENT ? "ambient credentials" : `role ${p.source}`}).`,
    `# It lists every version that existed then (${versions.length}${leaving ? `; ${leaving} DELETING left out` : ""}), so rekon plan deletes none of them:`,
    "# remove a version's line to let the policy delete it. Running state is not declared: rekon neither starts",
    "# nor stops these versions until you add `running:` (and `runtime: managed`); see docs/running.md.",
    "apiVersion: rekon.dev/v1alpha1",
    "kind: ProjectVersionSet",
    "metadata:",
    `  name: ${q(name)}`,
    "spec:",
    `  project: ${q(p.project)}`,
    // Only where the default would be wrong: a set without region uses AWS_REGION, one without roleArn the ambient credentials.
    ...(opts.defaultRegion === p.region ? [] : [`  region: ${q(p.region)}`]),
    ...(p.source === AMBIENT ? [] : [`  roleArn: ${q(p.source)}`]),
  ];
  if (versions.length === 0) lines.push("  versions: []");
  else {
    lines.push("  versions:");
    for (const v of versions) {
      const units =
        v.minInferenceUnits !== undefined && (v.status === "RUNNING" || v.status === "STARTING")
          ? `, ${formatUnits({ min: v.minInferenceUnits, ...(v.maxInferenceUnits !== undefined ? { max: v.maxInferenceUnits } : {}) })}`
          : "";
      lines.push(`    - name: ${q(v.name)} # ${v.status}${units}, created ${new Date(v.createdAt).toISOString()}`);
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * The manifests for a discovery: every project read completely, except those a set already owns
 * (`owned`: their set lists them) and projects being deleted. `taken`: metadata.names already in use.
 */
export function starterManifests(
  projects: readonly DiscoveredProject[],
  opts: { defaultRegion?: string; at: string; owned?: (p: DiscoveredProject) => string | undefined; taken?: ReadonlySet<string> },
): { manifests: StarterManifest[]; skipped: Skipped[] } {
  const skipped: Skipped[] = [];
  const chosen: DiscoveredProject[] = [];
  for (const p of projects) {
    const where = { project: p.project, account: p.account, region: p.region };
    const owner = opts.owned?.(p);
    if (owner !== undefined) skipped.push({ ...where, why: `already managed by ProjectVersionSet "${owner}"` });
    else if (p.projectStatus === "DELETING") skipped.push({ ...where, why: "the project is being deleted" });
    else chosen.push(p);
  }
  const names = uniqueNames(chosen, opts.taken);
  const manifests = chosen
    .map((p) => {
      const name = names.get(keyOf(p))!;
      return { name, file: `${name}.yaml`, project: p.project, account: p.account, region: p.region, text: renderManifest(p, name, opts) };
    })
    .sort((a, b) => (a.file < b.file ? -1 : 1));
  return { manifests, skipped };
}
