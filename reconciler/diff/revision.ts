// One Git revision, read exactly as `plan` would read a checkout of it. The revision is written out as a
// real tree (files with their exact bytes, symlinks with their exact link text) into a temporary folder,
// and that folder is read by the one loader plan and apply use (validateInputs → readManifestFiles). There
// is no second walker or parser of manifests: an earlier diff had its own (`git show` of each *.yaml),
// which took a symlink's text for the file and dropped dot-folders, so a link into `.hidden` or a link
// whose text was YAML showed reviewers one desired state while apply ran another (issue #21).
//
// `git ls-tree` + `git cat-file`, not `git archive`: archive honours in-tree .gitattributes
// (export-ignore, export-subst), so a pull request could hide a file from the review or rewrite it.
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { ValidationIssue } from "../errors.js";
import { validateInputs } from "../inputs/index.js";
import type { DesiredState, PolicySet } from "../types.js";
import { listTree, readBlobs, type TreeEntry } from "./git.js";

const LINK = "120000";
const SUBMODULE = "160000";
/** The kernel's limit on links followed in one path (Linux MAXSYMLINKS); beyond it the loader sees ELOOP. */
const MAX_HOPS = 40;

export interface RevisionRead {
  /** The desired state and policies as plan reads them from a checkout; file names are repository paths. */
  desired?: DesiredState;
  policies?: PolicySet;
  /** Every problem, each file named `LABEL:repo/path`. */
  issues: ValidationIssue[];
  notes: string[];
  /** The --manifests paths that do not exist at this revision: each is an empty desired state. */
  absent: string[];
  /** The --policy path does not exist at this revision: the built-in defaults stand in for it. */
  policyAbsent: boolean;
}

export interface RevisionOptions {
  /** The repository's top folder. */
  repo: string;
  /** A commit id. */
  commit: string;
  /** How files of this revision are named in issues: `LABEL:path` (the ref as the user gave it). */
  label: string;
  /** Repository-relative paths ("." for the whole repository). */
  manifests: string[];
  policy?: string;
  defaultRegion?: string;
  /** An empty folder (a resolved path) to write the revision into. */
  into: string;
}

type Resolved = { kind: "dir" | "file"; path: string } | { kind: "missing" | "outside" };

/** Which entries of a commit the loader may touch, found by resolving paths as the kernel would. */
class Closure {
  readonly write = new Set<string>();
  readonly mkdirs = new Set<string>();
  readonly submodules = new Set<string>();
  private readonly dirs = new Set<string>([""]);
  private readonly followed = new Set<string>();

  constructor(
    readonly entries: Map<string, TreeEntry>,
    private readonly linkText: (path: string) => string,
  ) {
    for (const p of entries.keys()) for (let i = p.indexOf("/"); i >= 0; i = p.indexOf("/", i + 1)) this.dirs.add(p.slice(0, i));
  }

  /** Absent: nothing at `path`, and every folder above it is a plain folder (not a link, not a file). */
  absent(path: string): boolean {
    const parts = split(path);
    if (parts.length === 0) return false;
    if (this.entries.has(parts.join("/")) || this.dirs.has(parts.join("/"))) return false;
    return parts.slice(0, -1).every((_, i) => this.dirs.has(parts.slice(0, i + 1).join("/")));
  }

  /** Resolve like realpath: links expanded component by component (their text relative to their folder). */
  resolve(path: string): Resolved {
    let pending = split(path);
    const cur: string[] = [];
    let hops = 0;
    while (pending.length > 0) {
      const c = pending.shift()!;
      if (c === "..") {
        if (cur.length === 0) return { kind: "outside" };
        cur.pop();
        continue;
      }
      const p = [...cur, c].join("/");
      const e = this.entries.get(p);
      if (e?.mode === LINK) {
        this.write.add(p);
        const text = this.linkText(p);
        if (text.startsWith("/")) return { kind: "outside" };
        if (++hops > MAX_HOPS || text === "") return { kind: "missing" }; // ELOOP or ENOENT for the loader
        pending = [...split(text), ...pending];
      } else if (e?.mode === SUBMODULE) {
        this.submodules.add(p);
        return { kind: "missing" };
      } else if (e) {
        if (pending.length > 0) return { kind: "missing" }; // a file used as a folder: ENOTDIR for the loader
        this.write.add(p);
        return { kind: "file", path: p };
      } else if (this.dirs.has(p)) {
        cur.push(c);
      } else {
        return { kind: "missing" };
      }
    }
    return { kind: "dir", path: cur.join("/") };
  }

  /** Everything below a folder the loader walks, and (transitively) what each symlink in it points at. */
  addTree(dir: string, roots: string[]): void {
    const under = dir === "" ? () => true : (p: string) => p.startsWith(dir + "/");
    const links: string[] = [];
    for (const [p, e] of this.entries) {
      if (!under(p)) continue;
      if (e.mode === SUBMODULE) this.submodules.add(p);
      else this.write.add(p);
      if (e.mode === LINK) links.push(p);
    }
    for (const l of links) this.follow(l, roots);
  }

  /**
   * A link's target must exist in the copy for the loader to judge it as it would in a checkout (outside
   * the folder, into a dot-folder, or fine). A folder outside every root only needs to exist: the loader
   * refuses it without reading it, so its contents are not copied.
   */
  private follow(link: string, roots: string[]): void {
    if (this.followed.has(link)) return;
    this.followed.add(link);
    const r = this.resolve(link);
    if (r.kind === "dir" && !roots.some((root) => root === "" || r.path === root || r.path.startsWith(root + "/"))) this.mkdirs.add(r.path);
  }
}

const split = (path: string) => path.split("/").filter((c) => c !== "" && c !== ".");

/** Write the revision's tree (what the loader may touch) below `into`, then read it with the loader. */
export async function readRevision(o: RevisionOptions): Promise<RevisionRead> {
  const listed = await listTree(o.commit, o.repo);
  const entries = new Map(listed.map((e) => [e.path, e]));
  const linkBlobs = await readBlobs(
    listed.filter((e) => e.mode === LINK).map((e) => e.oid),
    o.repo,
  );
  const closure = new Closure(entries, (p) => linkBlobs.get(entries.get(p)!.oid)!.toString("utf8"));

  const issues: ValidationIssue[] = [];
  const at = (path: string, message: string, fix: string): ValidationIssue => ({ file: `${o.label}:${path}`, line: 1, col: 1, path: "", message, fix });
  const absent = o.manifests.filter((p) => closure.absent(p));
  const policyAbsent = o.policy !== undefined && closure.absent(o.policy);
  const wanted = [...o.manifests.filter((p) => !absent.includes(p)), ...(o.policy !== undefined && !policyAbsent ? [o.policy] : [])];
  const roots: string[] = [];
  for (const p of wanted) {
    const r = closure.resolve(p);
    if (r.kind === "dir") roots.push(r.path);
    if (r.kind === "outside") issues.push(at(p, "resolves outside the repository", "keep the manifests and the policy in the repository"));
  }
  for (const r of roots) closure.addTree(r, roots);
  for (const s of closure.submodules) {
    const why = "is a Git submodule: its content is not in this repository, so it cannot be reviewed here";
    issues.push(at(s, why, "keep manifests in this repository, not in a submodule"));
  }
  if (issues.length > 0) return { issues, notes: [], absent, policyAbsent };

  const tree = join(o.into, basename(o.repo) || "repo");
  await writeTree(tree, closure, entries, linkBlobs, o.repo);
  const manifests = o.manifests.filter((p) => !absent.includes(p)).map((p) => join(tree, p));
  const policy = o.policy !== undefined && !policyAbsent ? { policy: join(tree, o.policy) } : {};
  const r = validateInputs({ manifests, ...policy }, { requireRegion: false, ...(o.defaultRegion ? { defaultRegion: o.defaultRegion } : {}) });
  // Name what was read by where it is in the repository, never by the temporary copy (issue #27).
  // A link that climbs out of the repository resolves next to the copy: show it next to the repository.
  const outside: [string, string][] = [
    [o.into + "/", dirname(o.repo) + "/"],
    [o.into, dirname(o.repo)],
  ];
  const inRepo = renamer([[tree + "/", ""], [tree, "."], ...outside]);
  const asRef = renamer([[tree + "/", `${o.label}:`], [tree, `${o.label}:.`], ...outside]);
  return {
    ...(r.desired ? { desired: mapStrings(r.desired, inRepo) } : {}),
    ...(r.policies ? { policies: mapStrings(r.policies, inRepo) } : {}),
    issues: mapStrings(r.issues, asRef),
    notes: mapStrings(r.notes, inRepo),
    absent,
    policyAbsent,
  };
}

async function writeTree(tree: string, closure: Closure, entries: Map<string, TreeEntry>, linkBlobs: Map<string, Buffer>, repo: string): Promise<void> {
  const paths = [...closure.write].sort();
  const blobs = await readBlobs(
    paths
      .map((p) => entries.get(p)!)
      .filter((e) => e.mode !== LINK)
      .map((e) => e.oid),
    repo,
  );
  await mkdir(tree, { recursive: true });
  for (const d of closure.mkdirs) await mkdir(join(tree, d), { recursive: true });
  for (const p of paths) {
    const e = entries.get(p)!;
    const dest = join(tree, p);
    await mkdir(dirname(dest), { recursive: true });
    // The link text as Git stores it, byte for byte: the loader follows it as a checkout would.
    if (e.mode === LINK) await symlink(linkBlobs.get(e.oid)!, dest);
    else await writeFile(dest, blobs.get(e.oid)!, { mode: e.mode === "100755" ? 0o755 : 0o644 });
  }
}

/** Rewrite path prefixes in a string, in order: each `from` (with its "/" or alone) becomes `to`. */
function renamer(pairs: [from: string, to: string][]): (s: string) => string {
  return (s) => pairs.reduce((acc, [from, to]) => acc.split(from).join(to), s);
}

/** Every string in plain objects and arrays, mapped; anything else (functions, class instances) kept as it is. */
export function mapStrings<T>(v: T, f: (s: string) => string): T {
  if (typeof v === "string") return f(v) as T;
  if (Array.isArray(v)) return v.map((x) => mapStrings(x, f)) as T;
  if (v !== null && typeof v === "object" && [Object.prototype, null].includes(Object.getPrototypeOf(v))) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapStrings(x, f)])) as T;
  }
  return v;
}
