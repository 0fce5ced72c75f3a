// `rekon diff --base REF [--head REF]`: what a change does to the desired state and to the policies,
// read from Git history alone. Offline (no AWS call, no credentials, no SDK), so it runs in pull-request
// checks of forks that get no secrets. A loosening is flagged loudly.
import { execFile } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, posix, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { formatDuration } from "./duration.js";
import { UsageError, ValidationError, type ValidationIssue } from "./errors.js";
import { validateInputs } from "./inputs/index.js";
import { loadPolicy } from "./inputs/policy.js";
import { manifestLayer, operatorLayer } from "./policy/naming.js";
import { projectKey, type DeletionWindow, type DesiredState, type Policy, type PolicySet, type ScopedPolicy, type Suspension, type TagRule } from "./types.js";

const run = promisify(execFile);

export interface ProjectChange {
  project: string;
  region: string;
  roleArn?: string;
  /** Versions the change takes out of the desired set: apply will delete them if every guard passes. */
  removed: string[];
  added: string[];
  /** The whole ProjectVersionSet appears or disappears (a disappearing set stops management; nothing is deleted). */
  set?: "added" | "removed";
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
  summary: { removed: number; added: number; policyChanges: number; loosenings: number };
}

// ---- pure comparison ----

const key = projectKey;

export function diffDesired(base: DesiredState, head: DesiredState): ProjectChange[] {
  const b = new Map(base.sets.map((s) => [key(s), s]));
  const h = new Map(head.sets.map((s) => [key(s), s]));
  const out: ProjectChange[] = [];
  for (const k of [...new Set([...b.keys(), ...h.keys()])].sort()) {
    const bs = b.get(k);
    const hs = h.get(k);
    const any = (hs ?? bs)!;
    const bv = new Set(bs?.versions.map((v) => v.name) ?? []);
    const hv = new Set(hs?.versions.map((v) => v.name) ?? []);
    const change: ProjectChange = {
      project: any.project,
      region: any.region || "(default region)",
      ...(any.roleArn ? { roleArn: any.roleArn } : {}),
      // A set that disappears stops rekon managing the project; its versions are not deleted.
      removed: hs ? [...bv].filter((v) => !hv.has(v)).sort() : [],
      added: [...hv].filter((v) => !bv.has(v)).sort(),
      ...(!bs ? { set: "added" as const } : !hs ? { set: "removed" as const } : {}),
    };
    if (change.removed.length || change.added.length || change.set) out.push(change);
  }
  return out;
}

const tagList = (t: TagRule[] | undefined) => (t ?? []).map((x) => `${x.key}=${x.value}`).sort();
const show = (v: unknown) => (v === undefined ? "(unset)" : Array.isArray(v) ? `[${v.join(", ")}]` : String(v));

/** Field by field, in the direction that matters: does `to` allow a deletion that `from` did not? */
function comparePolicies(layer: string, from: Partial<Policy>, to: Partial<Policy>, scoped: boolean): PolicyChange[] {
  const out: PolicyChange[] = [];
  const add = (field: string, f: unknown, t: unknown, loosens: boolean) => {
    if (JSON.stringify(f) !== JSON.stringify(t)) out.push({ layer, field, from: show(f), to: show(t), loosens });
  };
  // In a scoped layer an unset field constrains nothing, so dropping one loosens.
  const num = (field: "minAgeMs" | "keepLatest" | "gracePeriodMs" | "maxDeletesPerRun" | "maxDeletesPercent", name: string, looserIfLarger: boolean, fmt: (n: number) => string = String) => {
    const f = from[field];
    const t = to[field];
    if (f === t) return;
    const loosens = t === undefined ? scoped : f === undefined ? false : looserIfLarger ? t > f : t < f;
    add(name, f === undefined ? undefined : fmt(f), t === undefined ? undefined : fmt(t), loosens);
  };
  num("minAgeMs", "minAge", false, formatDuration);
  num("keepLatest", "keepLatest", false);
  num("gracePeriodMs", "gracePeriod", false, formatDuration);
  num("maxDeletesPerRun", "maxDeletesPerRun", true);
  num("maxDeletesPercent", "maxDeletesPercent", true);
  for (const field of ["allowEmpty", "stopRunning"] as const) add(field, from[field], to[field], to[field] === true && from[field] !== true);
  // Without requireNotice a version no longer waits for its notice to reach anyone.
  add("requireNotice", from.requireNotice, to.requireNotice, from.requireNotice === true && to.requireNotice !== true);
  // Without requireApproval a version no longer waits for a person.
  add("requireApproval", from.requireApproval, to.requireApproval, from.requireApproval === true && to.requireApproval !== true);
  // The near-miss guard is on by default: turning it off loosens, and so does a layer dropping its `true`.
  add("nearMissGuard", from.nearMissGuard, to.nearMissGuard, (from.nearMissGuard !== false && to.nearMissGuard === false) || (scoped && from.nearMissGuard === true && to.nearMissGuard === undefined));
  // When the reminder goes out changes no deletion: reported, not a loosening.
  add("remindBefore", from.remindBefore, to.remindBefore, false);
  out.push(...compareSuspend(layer, from.suspend, to.suspend));
  out.push(...compareWindows(layer, from.windows, to.windows));
  // Who is told changes no deletion: reported, not a loosening.
  const channels = (p: Partial<Policy>) => p.notifications?.map((c) => `${c.name}(${c.format}: ${c.events.join(" ")})`).sort();
  add("notifications", channels(from), channels(to), false);

  const fa = from.allowedAccounts;
  const ta = to.allowedAccounts;
  add("allowedAccounts", fa?.slice().sort(), ta?.slice().sort(), (ta === undefined && fa !== undefined && scoped) || (ta ?? []).some((a) => !(fa ?? []).includes(a)));
  const fr = from.allowedRegions ?? [];
  const tr = to.allowedRegions ?? [];
  add("allowedRegions", from.allowedRegions?.slice().sort(), to.allowedRegions?.slice().sort(), (fr.length > 0 && tr.length === 0) || (fr.length > 0 && tr.some((r) => !fr.includes(r))));
  for (const field of ["protectTags", "requireProjectTag"] as const) {
    const f = tagList(from[field]);
    const t = tagList(to[field]);
    add(field, from[field] && f, to[field] && t, f.some((x) => !t.includes(x)));
  }
  const fRules = new Map((from.rules ?? []).map((r) => [r.name, r.deny]));
  const tRules = new Map((to.rules ?? []).map((r) => [r.name, r.deny]));
  for (const name of [...new Set([...fRules.keys(), ...tRules.keys()])].sort()) {
    const f = fRules.get(name);
    const t = tRules.get(name);
    // A changed expression may allow what the old one denied; rekon cannot tell, so a reviewer must.
    if (f !== t) out.push({ layer, field: `rules.${name}`, from: f ?? "(none)", to: t ?? "(removed)", loosens: f !== undefined });
  }
  if (JSON.stringify(from.rateLimits ?? {}) !== JSON.stringify(to.rateLimits ?? {})) out.push({ layer, field: "rateLimits", from: JSON.stringify(from.rateLimits ?? {}), to: JSON.stringify(to.rateLimits ?? {}), loosens: false });
  return out;
}

const suspendText = (s: Suspension | undefined) => (s === undefined ? undefined : `${s.reason}${s.until !== undefined ? ` (until ${Number.isFinite(s.until) ? new Date(s.until).toISOString() : "?"})` : ""}`);

/** A suspension lifted, or ending sooner, allows deletions it held. */
function compareSuspend(layer: string, from: Suspension | undefined, to: Suspension | undefined): PolicyChange[] {
  const f = suspendText(from);
  const t = suspendText(to);
  if (f === t) return [];
  const sooner = from !== undefined && to !== undefined && (from.until === undefined ? to.until !== undefined : to.until !== undefined && to.until < from.until);
  return [{ layer, field: "suspend", from: f ?? "(unset)", to: t ?? "(unset)", loosens: (from !== undefined && to === undefined) || sooner }];
}

const windowText = (w: DeletionWindow) => `${w.kind} "${w.schedule}" for ${w.duration} in ${w.timeZone}`;

/**
 * Windows, each as a whole (kind, schedule, duration, zone): a deny window removed or changed loosens; an
 * allow window added (or changed) loosens when allow windows were already in force, and removing the last
 * one lifts the restriction altogether.
 */
function compareWindows(layer: string, from: DeletionWindow[] | undefined, to: DeletionWindow[] | undefined): PolicyChange[] {
  const f = (from ?? []).map(windowText).sort();
  const t = (to ?? []).map(windowText).sort();
  if (JSON.stringify(f) === JSON.stringify(t)) return [];
  const fAllow = (from ?? []).filter((w) => w.kind === "allow").map(windowText);
  const tAllow = (to ?? []).filter((w) => w.kind === "allow").map(windowText);
  const denyRemoved = (from ?? []).filter((w) => w.kind === "deny").map(windowText).some((x) => !t.includes(x));
  const allowWidened = fAllow.length > 0 && (tAllow.length === 0 || tAllow.some((x) => !fAllow.includes(x)));
  return [{ layer, field: "windows", from: f.length ? `[${f.join("; ")}]` : "(unset)", to: t.length ? `[${t.join("; ")}]` : "(unset)", loosens: denyRemoved || allowWidened }];
}

/** A set's own suspension, lifted or ending sooner (sets matched by project, as in diffDesired). */
export function diffSetSuspensions(base: DesiredState, head: DesiredState): PolicyChange[] {
  const h = new Map(head.sets.map((s) => [key(s), s]));
  const out: PolicyChange[] = [];
  for (const bs of base.sets) {
    const hs = h.get(key(bs));
    if (!hs) continue; // a set removed stops rekon managing the project: nothing in it is deleted
    out.push(...compareSuspend(`ProjectVersionSet "${hs.name}" (${hs.pos.file}:${hs.pos.line}:${hs.pos.col})`, bs.suspend, hs.suspend));
  }
  for (const hs of head.sets) if (!base.sets.some((bs) => key(bs) === key(hs)) && hs.suspend) out.push(...compareSuspend(`ProjectVersionSet "${hs.name}" (${hs.pos.file}:${hs.pos.line}:${hs.pos.col})`, undefined, hs.suspend));
  return out;
}

export function diffPolicies(base: PolicySet, head: PolicySet, operatorChanged: boolean): PolicyChange[] {
  const out: PolicyChange[] = [];
  if (operatorChanged) out.push(...comparePolicies(operatorLayer(head.operator.source), base.operator, head.operator, false));
  const b = new Map(base.scoped.map((s) => [s.name, s]));
  const h = new Map(head.scoped.map((s) => [s.name, s]));
  for (const name of [...new Set([...b.keys(), ...h.keys()])].sort()) {
    const bs = b.get(name);
    const hs = h.get(name);
    const layer = manifestLayer((hs ?? bs)!.pos, name);
    if (!hs) {
      out.push({ layer, field: "(whole policy)", from: `selects ${bs!.projects.join(", ")}`, to: "(removed)", loosens: true });
      continue;
    }
    if (!bs) {
      out.push({ layer, field: "(whole policy)", from: "(none)", to: `selects ${hs.projects.join(", ")}`, loosens: false });
      continue;
    }
    const dropped = bs.projects.filter((p) => !hs.projects.includes(p));
    if (dropped.length || hs.projects.some((p) => !bs.projects.includes(p))) out.push({ layer, field: "selector.projects", from: show(bs.projects), to: show(hs.projects), loosens: dropped.length > 0 });
    out.push(...comparePolicies(layer, scopedAsPolicy(bs), scopedAsPolicy(hs), true));
  }
  return out;
}

function scopedAsPolicy(s: ScopedPolicy): Partial<Policy> {
  return s.spec as Partial<Policy>;
}

// ---- Git ----

async function git(args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run("git", args, { cwd, maxBuffer: 256 * 1024 * 1024, encoding: "utf8" });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string; code?: string };
    if (err.code === "ENOENT") throw new UsageError("rekon diff needs the git command");
    throw new UsageError(`git ${args.join(" ")}: ${(err.stderr ?? err.message).trim().split("\n")[0]}`);
  }
}

/** Write the manifests (and policy) as they were at `ref` into a temporary folder. */
async function materialize(ref: string, repoPaths: string[], policyRepoPath: string | undefined, root: string, into: string): Promise<{ manifests: string[]; policy?: string }> {
  const manifests: string[] = [];
  for (const [i, p] of repoPaths.entries()) {
    const dest = join(into, String(i));
    await mkdir(dest, { recursive: true });
    manifests.push(dest);
    const listed = (await git(["ls-tree", "-r", "-z", "--name-only", ref, "--", p], root)).split("\0").filter(Boolean);
    for (const f of listed) {
      const rel = f === p ? posix.basename(f) : posix.relative(p, f);
      if (rel.split("/").some((seg) => seg.startsWith("."))) continue;
      if (f !== p && !/\.ya?ml$/i.test(f)) continue;
      const content = await git(["show", `${ref}:${f}`], root);
      await mkdir(dirname(join(dest, rel)), { recursive: true });
      await writeFile(join(dest, rel), content);
    }
  }
  let policy: string | undefined;
  if (policyRepoPath) {
    const exists = (await git(["ls-tree", "--name-only", ref, "--", policyRepoPath], root)).trim();
    if (exists) {
      policy = join(into, "policy", posix.basename(policyRepoPath));
      await mkdir(dirname(policy), { recursive: true });
      await writeFile(policy, await git(["show", `${ref}:${policyRepoPath}`], root));
    }
  }
  return { manifests, ...(policy ? { policy } : {}) };
}

export async function diffRefs(opts: { base: string; head: string; manifests: string[]; policy?: string; cwd: string }): Promise<DiffResult> {
  const root = (await git(["rev-parse", "--show-toplevel"], opts.cwd)).trim();
  for (const ref of [opts.base, opts.head]) await git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], root);
  const toRepo = (p: string) => relative(root, resolve(opts.cwd, p)).split("\\").join("/") || ".";
  const repoPaths = opts.manifests.map(toRepo);
  const policyRepoPath = opts.policy ? toRepo(opts.policy) : undefined;
  if (policyRepoPath?.startsWith("..")) throw new UsageError(`--policy ${opts.policy} is outside the Git repository, so diff cannot see its history; leave it out`);

  const tmp = await mkdtemp(join(tmpdir(), "rekon-diff-"));
  try {
    const states: { desired: DesiredState; policies: PolicySet }[] = [];
    const absent: number[] = [];
    for (const [i, ref] of [opts.base, opts.head].entries()) {
      const m = await materialize(ref, repoPaths, policyRepoPath, root, join(tmp, String(i)));
      const r = validateInputs({ manifests: m.manifests, ...(m.policy ? { policy: m.policy } : {}) }, { requireRegion: false });
      // A folder that did not exist yet at base is an empty desired state, not an error.
      const isAbsent = (x: { message: string }) => /no \*\.yaml or \*\.yml files found/.test(x.message) || /cannot read: ENOENT/.test(x.message);
      if (r.issues.some(isAbsent)) absent.push(i);
      const issues = r.issues.filter((x) => !isAbsent(x));
      if (issues.length) throw new ValidationError(issues.map((x) => relabel(x, m.manifests, repoPaths, m.policy, policyRepoPath, ref)));
      const desired = r.desired ?? { sets: [], files: [], policies: [], digest: "" };
      const policies = r.policies ?? { operator: loadPolicy(m.policy).policy!, scoped: [] };
      states.push({ desired, policies });
    }
    // Absent at both revisions is a wrong path, not "no change": a mistyped --manifests must not pass review.
    if (absent.length === 2 && states.every((x) => x.desired.sets.length === 0)) {
      throw new UsageError(`--manifests ${opts.manifests.join(", ")}: no manifests there at ${opts.base} nor at ${opts.head}; check the path (relative to ${opts.cwd})`);
    }
    const [b, h] = states as [(typeof states)[0], (typeof states)[0]];
    const projects = diffDesired(b.desired, h.desired);
    const policy = [...diffPolicies(b.policies, h.policies, policyRepoPath !== undefined), ...diffSetSuspensions(b.desired, h.desired)];
    return {
      base: opts.base,
      head: opts.head,
      projects,
      policy,
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

/** Point an issue found in a temporary copy back at `REF:path` in the repository. */
function relabel(i: ValidationIssue, dirs: string[], repoPaths: string[], policyTmp: string | undefined, policyRepo: string | undefined, ref: string): ValidationIssue {
  if (policyTmp && policyRepo && i.file === policyTmp) return { ...i, file: `${ref}:${policyRepo}` };
  for (const [k, d] of dirs.entries()) {
    if (i.file === d || i.file.startsWith(d + "/")) return { ...i, file: `${ref}:${posix.join(repoPaths[k]!, relative(d, i.file).split("\\").join("/"))}` };
  }
  return i;
}

// ---- rendering ----

export function renderDiffTable(d: DiffResult): string {
  const out: string[] = [`rekon diff ${d.base}..${d.head}`, ""];
  const loose = d.policy.filter((p) => p.loosens);
  for (const p of loose) out.push(`LOOSENS ${p.layer}: ${p.field} ${p.from} → ${p.to}`);
  if (loose.length) out.push("");
  if (d.projects.length) out.push("Desired versions:");
  for (const p of d.projects) {
    const where = `${p.project} (${p.region}${p.roleArn ? `, ${p.roleArn}` : ""})`;
    if (p.set === "removed") out.push(`  ${where}: ProjectVersionSet removed — rekon stops managing the project (nothing is deleted)`);
    else if (p.set === "added") out.push(`  ${where}: ProjectVersionSet added — every unlisted version becomes a deletion candidate`);
    if (p.removed.length) out.push(`  ${where}: removes ${p.removed.join(", ")} (deleted by apply if every guard passes)`);
    if (p.added.length) out.push(`  ${where}: adds ${p.added.join(", ")}`);
  }
  const other = d.policy.filter((p) => !p.loosens);
  if (other.length) out.push("", "Policy changes that do not loosen:", ...other.map((p) => `  ${p.layer}: ${p.field} ${p.from} → ${p.to}`));
  out.push("", `Diff: ${d.summary.removed} version(s) removed, ${d.summary.added} added, ${d.summary.policyChanges} policy change(s), ${d.summary.loosenings} loosening(s).`);
  return out.join("\n") + "\n";
}

export function renderDiffMarkdown(d: DiffResult): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const out: string[] = [`### rekon diff: ${d.summary.removed} version(s) removed, ${d.summary.added} added, ${d.summary.policyChanges} policy change(s), ${d.summary.loosenings} loosening(s)`, ""];
  const loose = d.policy.filter((p) => p.loosens);
  if (loose.length) out.push("> [!WARNING]", "> **This change loosens a deletion policy:**", ...loose.map((p) => `> - ${esc(p.layer)}: \`${esc(p.field)}\` ${esc(p.from)} → ${esc(p.to)}`), "");
  if (d.projects.length) {
    out.push("| Project | Region | Removed (deletion candidates) | Added |", "| --- | --- | --- | --- |");
    for (const p of d.projects) out.push(`| \`${esc(p.project)}\`${p.set ? ` (set ${p.set})` : ""} | ${esc(p.region)} | ${p.removed.map((v) => `\`${esc(v)}\``).join(", ")} | ${p.added.map((v) => `\`${esc(v)}\``).join(", ")} |`);
    out.push("");
  }
  const other = d.policy.filter((p) => !p.loosens);
  if (other.length) out.push("<details><summary>Other policy changes</summary>", "", ...other.map((p) => `- ${esc(p.layer)}: \`${esc(p.field)}\` ${esc(p.from)} → ${esc(p.to)}`), "", "</details>", "");
  return out.join("\n");
}
