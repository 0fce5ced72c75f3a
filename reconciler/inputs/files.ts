// Finding and reading manifest files. Every problem becomes an issue with a file name; nothing throws
// for bad input, so one bad file never hides the others' errors.
import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync, type Stats } from "node:fs";
import { createHash } from "node:crypto";
import { extname, isAbsolute, join, relative, sep } from "node:path";
import type { ValidationIssue } from "../errors.js";

/** A manifest larger than this is refused: manifests are short lists, a huge file is a mistake or an attack. */
export const MAX_FILE_BYTES = 1024 * 1024;

export interface SourceFile {
  /** The path as the user would recognise it (as given, or joined below the given folder). */
  file: string;
  /**
   * The file's identity independent of where the tree is checked out: the index of the --manifests
   * argument and the path below it. Digests use it, so a plan saved in one checkout matches another.
   */
  id: string;
  text: string;
}

export interface ReadResult {
  files: SourceFile[];
  issues: ValidationIssue[];
}

const issueAt = (file: string, message: string, fix?: string): ValidationIssue => ({ file, line: 1, col: 1, path: "", message, fix });

/**
 * Expand each path: a file is taken as it is (at its resolved location, so a ConfigMap's `policy.yaml`
 * link or git-sync's worktree link works); a folder is walked recursively, entries in sorted order, for
 * *.yaml and *.yml (any case). The walk starts at the folder's resolved location, so `--manifests` may
 * itself be a link (git-sync publishes `repo -> .worktrees/<hash>`).
 *
 * The link rule, one rule for plan, apply, validate and diff (which reads each Git revision through this
 * very function): below a folder, entries whose name starts with "." are not read, and a symlink is
 * followed only if
 *   1. it resolves inside the folder, and
 *   2. no path segment of its resolved location, relative to the folder, starts with "." — so `.hidden`,
 *      `.git` or git-sync's `.worktrees` are never read, whether reached directly or through a link.
 * A link that breaks the rule, dangles or loops is an error naming the link, where it resolves to and the
 * fix, never skipped in silence: manifests are reviewed in one visible tree, and a file the reviewer
 * does not see (outside the folder, in a dot-folder a diff viewer folds away) must not decide what gets
 * deleted; the run stops (exit 1) and nothing is deleted.
 *
 * One exception, defined narrowly: a Kubernetes ConfigMap or Secret volume mounted as the folder. The
 * kubelet writes it atomically as `..<timestamp>/` (the data), `..data -> ..<timestamp>`, and for each key
 * `name -> ..data/name` at the top of the folder. A top-level entry whose link text is exactly
 * `..data/<its own name>`, where `..data` is itself a symlink in the folder to a `..`-prefixed folder in
 * the folder, is followed, and so is everything below it that stays inside that data folder.
 */
export function readManifestFiles(paths: string[]): ReadResult {
  const issues: ValidationIssue[] = [];
  const found = new Map<string, string>(); // display path → real path
  const ids = new Map<string, string>(); // display path → checkout-independent id
  for (const [index, given] of paths.entries()) {
    let st: Stats;
    let real: string;
    try {
      real = realpathSync(given);
      st = statSync(real);
    } catch (e) {
      issues.push(issueAt(given, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, "check the --manifests path"));
      continue;
    }
    if (st.isFile()) {
      found.set(given, real);
      // A file given by path is known by its position alone: the name it is reached by may differ from
      // the name it resolves to (a link, git-sync's worktree), and the plan's digest (made from the
      // resolved snapshot) must match the check before each write (made from the path as given).
      ids.set(given, `${index}:`);
    } else if (st.isDirectory()) {
      const before = new Set(found.keys());
      walk({ display: given, dir: real, root: real, data: kubeletData(real), viaData: false }, new Set([real]), found, issues);
      for (const shown of found.keys()) if (!before.has(shown)) ids.set(shown, `${index}:${relative(given, shown).split(sep).join("/")}`);
      if (found.size === before.size && !issues.some((i) => i.file.startsWith(given))) {
        issues.push(issueAt(given, "no *.yaml or *.yml files found in this folder", "point --manifests at the folder that holds the manifests"));
      }
    } else {
      issues.push(issueAt(given, "not a regular file or folder", "point --manifests at a file or folder"));
    }
  }

  const files: SourceFile[] = [];
  for (const [file, real] of [...found].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const r = readOne(file, real);
    if ("issue" in r) issues.push(r.issue);
    else files.push({ ...r, id: ids.get(file) ?? file });
  }
  return { files, issues };
}

interface WalkAt {
  /** The folder as the user would recognise it (below the path given). */
  display: string;
  /** The folder's resolved location. */
  dir: string;
  /** The resolved manifests folder the rule is relative to. */
  root: string;
  /** The resolved kubelet data folder (`..data`'s target), when the folder is a ConfigMap/Secret volume. */
  data: string | undefined;
  /** Below an entry followed by the kubelet exception. */
  viaData: boolean;
}

function walk(at: WalkAt, seen: Set<string>, found: Map<string, string>, issues: ValidationIssue[]): void {
  let entries: string[];
  try {
    entries = readdirSync(at.dir).sort();
  } catch (e) {
    issues.push(issueAt(at.display, `cannot list folder: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`));
    return;
  }
  for (const name of entries) {
    if (name.startsWith(".")) continue;
    const shown = join(at.display, name);
    let real: string;
    let st: Stats;
    try {
      real = realpathSync(join(at.dir, name));
      st = statSync(real);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ELOOP") issues.push(issueAt(shown, "symlink loop", "remove the looping symlink"));
      else issues.push(issueAt(shown, `cannot read: ${code ?? (e as Error).message}`, code === "ENOENT" ? "link to a file that exists" : undefined));
      continue;
    }
    if (!isInside(real, at.root)) {
      const fix = "keep manifests inside the folder given to --manifests; do not link out of it";
      issues.push(issueAt(shown, `resolves outside the manifests folder (to ${real})`, fix));
      continue;
    }
    const viaData = at.viaData || (at.dir === at.root && at.data !== undefined && linkText(join(at.dir, name)) === `..data/${name}`);
    const inData = viaData && at.data !== undefined && isInside(real, at.data) && !hasDotSegment(relative(at.data, real));
    const rel = relative(at.root, real);
    if (hasDotSegment(rel) && !inData) {
      const to = rel.split(sep).join("/");
      const why = `symlink resolves into a dot-path (to ${to}): rekon never reads a file or folder whose name starts with ".", directly or through a link`;
      issues.push(issueAt(shown, why, "move the file out of the dot-folder and link to it there (or drop the link and keep the file where reviewers see it)"));
      continue;
    }
    if (st.isDirectory()) {
      if (seen.has(real)) {
        issues.push(issueAt(shown, "symlink loop: this folder was already read", "remove the looping symlink"));
        continue;
      }
      seen.add(real);
      walk({ ...at, display: shown, dir: real, viaData: inData }, seen, found, issues);
    } else if (st.isFile() && [".yaml", ".yml"].includes(extname(name).toLowerCase())) {
      found.set(shown, real);
    }
  }
}

const hasDotSegment = (rel: string) => rel.split(sep).some((seg) => seg.startsWith("."));

function linkText(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined; // not a link
  }
}

/**
 * The kubelet's atomic-writer data folder, when `root` is a ConfigMap/Secret volume: `..data` is a symlink
 * whose text is one `..`-prefixed name of a folder directly in `root`. Anything else gets no exception.
 */
function kubeletData(root: string): string | undefined {
  const link = join(root, "..data");
  try {
    if (!lstatSync(link).isSymbolicLink()) return undefined;
    const text = readlinkSync(link);
    if (!/^\.\.[^/\\]+$/.test(text)) return undefined;
    const target = join(root, text);
    return realpathSync(link) === target && statSync(target).isDirectory() ? target : undefined;
  } catch {
    return undefined;
  }
}

function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  // "..2026_01_01…" (the kubelet's data folder) is inside; only ".." itself or "../…" climbs out.
  return rel === "" || (rel !== ".." && !rel.startsWith(".." + sep) && !isAbsolute(rel));
}

function readOne(file: string, real: string): Omit<SourceFile, "id"> | { issue: ValidationIssue } {
  let buf: Buffer;
  try {
    const size = statSync(real).size;
    if (size > MAX_FILE_BYTES) {
      return { issue: issueAt(file, `file is ${size} bytes, over the ${MAX_FILE_BYTES}-byte limit`, "split it into smaller manifest files") };
    }
    buf = readFileSync(real);
  } catch (e) {
    return { issue: issueAt(file, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`) };
  }
  let text: string;
  try {
    if (buf.includes(0)) throw new Error("NUL byte");
    text = new TextDecoder("utf-8", { fatal: true }).decode(buf);
  } catch {
    return { issue: issueAt(file, "not a UTF-8 text file", "manifests must be UTF-8 YAML; check that this is the file you meant") };
  }
  return { file, text };
}

/**
 * A digest of a set of files: their checkout-independent ids and exact contents. Saved plans carry it,
 * so applying one after the manifests or policy changed is refused.
 */
export function digestFiles(files: SourceFile[]): string {
  const h = createHash("sha256");
  for (const f of [...files].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    h.update(f.id).update("\0").update(createHash("sha256").update(f.text).digest("hex")).update("\n");
  }
  return "sha256:" + h.digest("hex");
}
