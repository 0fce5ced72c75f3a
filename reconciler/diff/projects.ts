// The desired-state half of `rekon diff`, per project rather than per set. Pure: no files, no Git, no SDK.
//
// A set is keyed at run time by (credential source, region, project), but offline diff cannot know
// everything that key resolves to: the ambient credentials' account is known only to STS, and a set
// without spec.region lands in whatever default region the run has. Comparing sets by an exact key let a
// change that wrote out the default region, or added a role in the same account, look like "set removed
// (nothing is deleted)" + "set added", while apply deleted the version it dropped (issue #21). So sets are
// matched when they *may* be the same project, and every name the matched base sets listed that the head
// set does not list is named as removed.
import { AMBIENT, type DesiredSet, type DesiredState } from "../types.js";
import { compareSuspend } from "./policies.js";
import { diffRunning, releasedRunning } from "./running.js";
import type { PolicyChange, ProjectChange } from "./types.js";

export const UNKNOWN_REGION = "(default region)";

/** The account a role ARN names (arn:partition:iam::ACCOUNT:role/…), or undefined when it names none. */
function roleAccount(roleArn: string | undefined): string | undefined {
  return roleArn?.split(":")[4] || undefined;
}

/**
 * Whether two sets may reach the same project: the same project name, the same region or one unknown
 * (no spec.region, no default: any region), and sources that may be one account — always, unless both
 * are roles whose ARNs name different accounts (the ambient account is unknown offline).
 */
export function mayBeSameProject(a: DesiredSet, b: DesiredSet): boolean {
  if (a.project !== b.project) return false;
  if (a.region !== "" && b.region !== "" && a.region !== b.region) return false;
  const x = roleAccount(a.roleArn);
  const y = roleAccount(b.roleArn);
  return !(x !== undefined && y !== undefined && x !== y);
}

const names = (sets: DesiredSet[]) => new Set(sets.flatMap((s) => s.versions.map((v) => v.name)));
const sorted = (xs: Iterable<string>) => [...xs].sort();
const where = (s: DesiredSet) => ({ project: s.project, region: s.region || UNKNOWN_REGION, ...(s.roleArn ? { roleArn: s.roleArn } : {}) });
const written = (s: DesiredSet) => s.region !== "" && s.regionDefaulted !== true;

/** What changed about how one set reaches its project, in words a reviewer reads. */
export function describeMove(from: DesiredSet, to: DesiredSet): string[] {
  const out: string[] = [];
  if (from.name !== to.name) out.push(`set "${from.name}" → "${to.name}"`);
  if (from.pos.file !== to.pos.file) out.push(`file ${from.pos.file} → ${to.pos.file}`);
  if (!written(from) && written(to)) out.push(`region ${to.region} now written (was the default region${from.region === "" ? ", unknown offline" : ""})`);
  if (written(from) && !written(to)) {
    const now = to.region === "" ? "region now the default region, unknown offline" : `region ${to.region} now the default region`;
    out.push(`${now} (was ${to.region === "" ? from.region : "written"})`);
  }
  if (from.roleArn && to.roleArn && from.roleArn !== to.roleArn) out.push(`role ${to.roleArn} (was ${from.roleArn})`);
  else if (!from.roleArn && to.roleArn) out.push(`role ${to.roleArn} (was the ambient credentials)`);
  else if (from.roleArn && !to.roleArn) out.push(`the ambient credentials (was role ${from.roleArn})`);
  return out;
}

function moves(matched: DesiredSet[], head: DesiredSet): string[] {
  if (matched.length === 1) return describeMove(matched[0]!, head);
  return [`takes over from the sets ${matched.map((s) => `"${s.name}" (${s.pos.file})`).join(", ")}`];
}

/**
 * For each head set H: removed(H) = every name listed at base by a set that may be the same project as H
 * and not listed by H. A base set no head set may continue is "set removed" (rekon stops managing the
 * project; nothing is deleted), and the names no head set of that project lists are still named, so a
 * version no set lists any more always appears in the output. Running state is compared by the same
 * matching (diff/running.ts), so moving a set cannot hide a start or a stop either.
 */
export function diffDesired(base: DesiredState, head: DesiredState): ProjectChange[] {
  const out: ProjectChange[] = [];
  for (const h of head.sets) {
    const matched = base.sets.filter((b) => mayBeSameProject(b, h));
    const before = names(matched);
    const now = names([h]);
    const moved = matched.length ? moves(matched, h) : [];
    const change: ProjectChange = {
      ...where(h),
      removed: sorted([...before].filter((v) => !now.has(v))),
      added: sorted([...now].filter((v) => !before.has(v))),
      ...(matched.length === 0 ? { set: "added" as const } : {}),
      ...(moved.length ? { moved } : {}),
      ...diffRunning(matched, h),
    };
    if (change.removed.length || change.added.length || change.set || change.moved || change.runtime || change.running) out.push(change);
  }
  for (const b of base.sets) {
    if (head.sets.some((h) => mayBeSameProject(b, h))) continue;
    const still = names(head.sets.filter((h) => h.project === b.project));
    const unlisted = sorted(b.versions.map((v) => v.name).filter((v) => !still.has(v)));
    const running = releasedRunning(b);
    out.push({ ...where(b), removed: [], added: [], set: "removed", ...(unlisted.length ? { unlisted } : {}), ...(running.length ? { running } : {}) });
  }
  const key = (c: ProjectChange) => `${c.project}\0${c.region}\0${c.roleArn ?? AMBIENT}\0${c.set ?? ""}`;
  return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

const setLayer = (s: DesiredSet) => `ProjectVersionSet "${s.name}" (${s.pos.file}:${s.pos.line}:${s.pos.col})`;

/**
 * A set's own suspension, lifted or ending sooner, compared with every base set that may be the same
 * project (the rule diffDesired uses): a suspension cannot be shed by moving the set to another file,
 * writing out its region or naming a role.
 */
export function diffSetSuspensions(base: DesiredState, head: DesiredState): PolicyChange[] {
  const out: PolicyChange[] = [];
  const seen = new Set<string>();
  for (const h of head.sets) {
    const matched = base.sets.filter((b) => mayBeSameProject(b, h));
    const before = matched.length ? matched.map((b) => b.suspend) : [undefined];
    const changes = before.flatMap((s) => compareSuspend(setLayer(h), s, h.suspend));
    for (const c of changes) {
      const k = JSON.stringify(c);
      if (!seen.has(k)) out.push(c);
      seen.add(k);
    }
  }
  return out;
}
