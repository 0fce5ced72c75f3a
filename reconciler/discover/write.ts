// Writing discover's starter manifests: all of them or none. Every target is checked first (an existing
// file is never overwritten: it may be a manifest someone edited), then each is written to a temporary
// file and linked into place — link(2) fails rather than replace a file that appeared since the check — and
// if any step fails, what was already put in place is removed again.
import { closeSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../errors.js";
import type { StarterManifest } from "./manifests.js";

/** Write `manifests` into `dir` (created if missing). Throws ConfigError, with nothing written, when any file exists or a write fails. */
export function writeManifests(dir: string, manifests: readonly StarterManifest[]): string[] {
  const targets = manifests.map((m) => ({ path: join(dir, m.file), text: m.text }));
  const existing = targets.filter((t) => exists(t.path)).map((t) => t.path);
  if (existing.length)
    throw new ConfigError(
      `--write-manifests: ${existing.length} file(s) already exist and are never overwritten: ${existing.join(", ")}; nothing was written ` +
        `(move them, or write to a new folder)`,
    );
  mkdirSync(dir, { recursive: true });
  const temps: string[] = [];
  const placed: string[] = [];
  try {
    for (const [i, t] of targets.entries()) {
      const tmp = join(dir, `.rekon-discover-${process.pid}-${i}.tmp`);
      const fd = openSync(tmp, "wx", 0o644);
      temps.push(tmp);
      try {
        writeSync(fd, t.text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    for (const [i, t] of targets.entries()) {
      linkSync(temps[i]!, t.path);
      placed.push(t.path);
    }
  } catch (err) {
    for (const p of placed) tryUnlink(p);
    const e = err as NodeJS.ErrnoException;
    const why = e.code === "EEXIST" ? "a file appeared there meanwhile" : (e.code ?? e.message);
    throw new ConfigError(`--write-manifests: could not write ${e.path ?? dir} (${why}); nothing was written`);
  } finally {
    for (const t of temps) tryUnlink(t);
  }
  return placed;
}

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw e;
  }
}

function tryUnlink(p: string): void {
  try {
    unlinkSync(p);
  } catch {
    // already gone
  }
}
