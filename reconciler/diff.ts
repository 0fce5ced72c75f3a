// `rekon diff --base REF [--head REF]`: what a change does to the desired state and to the policies,
// read from Git history alone. Offline (no AWS call, no credentials, no SDK), so it runs in pull-request
// checks of forks that get no secrets. A loosening is flagged loudly.
//
// It must review exactly what plan and apply will run: each revision is read by the loader they use
// (diff/revision.ts), and versions are compared per project, not per set (diff/projects.ts).
import { mkdtemp, realpath, rm } from "node:fs/promises";
import { realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { UsageError, ValidationError } from "./errors.js";
import type { DesiredState, PolicySet } from "./types.js";
import { git } from "./diff/git.js";
import { diffPolicies } from "./diff/policies.js";
import { diffDesired, diffSetSuspensions } from "./diff/projects.js";
import { readRevision } from "./diff/revision.js";
import { priceRunning } from "./diff/running.js";
import type { DiffResult } from "./diff/types.js";

export { diffPolicies } from "./diff/policies.js";
export { diffDesired, diffSetSuspensions, mayBeSameProject } from "./diff/projects.js";
export { mapStrings, readRevision, type RevisionRead } from "./diff/revision.js";
export { renderDiffMarkdown, renderDiffTable } from "./diff/render.js";
export { diffRunning, priceRunning } from "./diff/running.js";
export type { DiffResult, PolicyChange, ProjectChange, RunningChange, RunningTotal } from "./diff/types.js";

const UNKNOWN_REGION_NOTE =
  "no default region is known offline (--region, AWS_REGION), so a set without spec.region is compared with the same project in every region";

export interface DiffOptions {
  base: string;
  head: string;
  manifests: string[];
  policy?: string;
  /** Region for sets without spec.region, as plan's default region (--region, else AWS_REGION); unset = unknown. */
  defaultRegion?: string;
  cwd: string;
}

export async function diffRefs(opts: DiffOptions): Promise<DiffResult> {
  const root = (await git(["rev-parse", "--show-toplevel"], opts.cwd)).trim();
  const commits: string[] = [];
  for (const ref of [opts.base, opts.head]) commits.push((await git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], root)).trim());
  const cwd = realpathSync(opts.cwd);
  const toRepo = (p: string) => relative(realpathSync(root), resolve(cwd, p)).split("\\").join("/") || ".";
  const repoPaths = opts.manifests.map(toRepo);
  const policyRepoPath = opts.policy ? toRepo(opts.policy) : undefined;
  const given: [flag: string, path: string, inRepo: string][] = [
    ...opts.manifests.map((m, i): [string, string, string] => ["--manifests", m, repoPaths[i]!]),
    ...(opts.policy ? [["--policy", opts.policy, policyRepoPath!] as [string, string, string]] : []),
  ];
  for (const [flag, path, p] of given) {
    if (p === ".." || p.startsWith("../") || p.startsWith("/")) {
      const fix = flag === "--policy" ? "leave it out" : "run diff inside the repository";
      throw new UsageError(`${flag} ${path} is outside the Git repository, so diff cannot see its history; ${fix}`);
    }
  }

  const tmp = await realpath(await mkdtemp(join(tmpdir(), "rekon-diff-")));
  try {
    const states: { desired: DesiredState; policies: PolicySet; absent: boolean }[] = [];
    for (const [i, ref] of [opts.base, opts.head].entries()) {
      const into = join(tmp, String(i));
      const r = await readRevision({
        repo: root,
        commit: commits[i]!,
        label: ref,
        manifests: repoPaths,
        ...(policyRepoPath ? { policy: policyRepoPath } : {}),
        ...(opts.defaultRegion ? { defaultRegion: opts.defaultRegion } : {}),
        into,
      });
      // Only a --manifests root that does not exist at this revision is an empty desired state; every other
      // issue (a dangling or refused link among them) is an error, as it is for plan.
      if (r.issues.length > 0 || !r.desired || !r.policies) throw new ValidationError(r.issues);
      // The operator layer is named by its repository path (issue #27), the same at both revisions.
      const operator = policyRepoPath && !r.policyAbsent ? { ...r.policies.operator, source: policyRepoPath } : r.policies.operator;
      states.push({ desired: r.desired, policies: { ...r.policies, operator }, absent: r.absent.length === repoPaths.length });
    }
    // Absent at both revisions is a wrong path, not "no change": a mistyped --manifests must not pass review.
    if (states.every((x) => x.absent)) {
      const where = `${opts.manifests.join(", ")}: no manifests there at ${opts.base} nor at ${opts.head}`;
      throw new UsageError(`--manifests ${where}; check the path (relative to ${opts.cwd})`);
    }
    const [b, h] = states as [(typeof states)[0], (typeof states)[0]];
    // Priced with the head's operator policy: the one apply will run with after the merge.
    const { projects, total: running } = priceRunning(diffDesired(b.desired, h.desired), h.policies.operator.inference);
    const policy = [...diffPolicies(b.policies, h.policies, policyRepoPath !== undefined), ...diffSetSuspensions(b.desired, h.desired)];
    const unknownRegion = !opts.defaultRegion && [...b.desired.sets, ...h.desired.sets].some((s) => s.region === "");
    return {
      base: opts.base,
      head: opts.head,
      projects,
      policy,
      notes: unknownRegion ? [UNKNOWN_REGION_NOTE] : [],
      running,
      summary: {
        removed: projects.reduce((n, p) => n + p.removed.length, 0),
        added: projects.reduce((n, p) => n + p.added.length, 0),
        policyChanges: policy.length,
        loosenings: policy.filter((p) => p.loosens).length,
      },
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
