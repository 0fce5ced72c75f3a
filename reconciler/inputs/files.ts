// Finding and reading manifest files. Every problem becomes an issue with a file name; nothing throws
// for bad input, so one bad file never hides the others' errors.
import { readdirSync, readFileSync, realpathSync, statSync, type Stats } from "node:fs";
import { createHash } from "node:crypto";
import { basename, extname, join, relative, sep } from "node:path";
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

const at = (file: string, message: string, fix?: string): ValidationIssue => ({ file, line: 1, col: 1, path: "", message, fix });

/**
 * Expand each path: a file is taken as it is; a folder is walked recursively for *.yaml and *.yml.
 * Dot-entries (.git, .github, git-sync's internals) are skipped. A symlink below a folder must resolve
 * inside that folder: manifests are reviewed in one tree, and a link out of it would let unreviewed
 * files decide what gets deleted.
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
      issues.push(at(given, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, "check the --manifests path"));
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
      walk(given, real, real, new Set([real]), found, issues);
      for (const shown of found.keys()) if (!before.has(shown)) ids.set(shown, `${index}:${relative(given, shown).split(sep).join("/")}`);
      if (found.size === before.size && !issues.some((i) => i.file.startsWith(given))) {
        issues.push(at(given, "no *.yaml or *.yml files found in this folder", "point --manifests at the folder that holds the manifests"));
      }
    } else {
      issues.push(at(given, "not a regular file or folder", "point --manifests at a file or folder"));
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

function walk(display: string, dir: string, root: string, seen: Set<string>, found: Map<string, string>, issues: ValidationIssue[]): void {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch (e) {
    issues.push(at(display, `cannot list folder: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`));
    return;
  }
  for (const name of entries) {
    if (name.startsWith(".")) continue;
    const shown = join(display, name);
    let real: string;
    let st: Stats;
    try {
      real = realpathSync(join(dir, name));
      st = statSync(real);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      issues.push(at(shown, code === "ELOOP" ? "symlink loop" : `cannot read: ${code ?? (e as Error).message}`, code === "ELOOP" ? "remove the looping symlink" : undefined));
      continue;
    }
    if (!isInside(real, root)) {
      issues.push(at(shown, `resolves outside the manifests folder (to ${real})`, "keep manifests inside the folder given to --manifests; do not link out of it"));
      continue;
    }
    if (st.isDirectory()) {
      if (seen.has(real)) {
        issues.push(at(shown, "symlink loop: this folder was already read", "remove the looping symlink"));
        continue;
      }
      seen.add(real);
      walk(shown, real, root, seen, found, issues);
    } else if (st.isFile() && [".yaml", ".yml"].includes(extname(name).toLowerCase())) {
      found.set(shown, real);
    }
  }
}

function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !rel.startsWith(sep) && rel !== "..");
}

function readOne(file: string, real: string): Omit<SourceFile, "id"> | { issue: ValidationIssue } {
  let buf: Buffer;
  try {
    const size = statSync(real).size;
    if (size > MAX_FILE_BYTES) {
      return { issue: at(file, `file is ${size} bytes, over the ${MAX_FILE_BYTES}-byte limit`, "split it into smaller manifest files") };
    }
    buf = readFileSync(real);
  } catch (e) {
    return { issue: at(file, `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`) };
  }
  let text: string;
  try {
    if (buf.includes(0)) throw new Error("NUL byte");
    text = new TextDecoder("utf-8", { fatal: true }).decode(buf);
  } catch {
    return { issue: at(file, "not a UTF-8 text file", "manifests must be UTF-8 YAML; check that this is the file you meant") };
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
