// Trigger a cycle soon after the manifests change. git-sync publishes a new revision by checking it out
// into a fresh folder and then atomically swapping a symlink to it, so a watch on the resolved folder alone
// would keep watching the old checkout forever. We watch two things per manifests path:
//   - each symlink on the path, through its parent folder (the swap is a rename in that folder), and
//   - the folder the path currently resolves to, recursively (plain edits, e.g. a mounted ConfigMap).
// After a quiet period (debounce) the path is resolved again, watches move if the links moved, and the
// callback runs. The cycle itself reads through one resolved path (see run.ts), so it never mixes trees.
import { lstatSync, readlinkSync, statSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname, join, resolve, sep } from "node:path";
import type { Logger } from "pino";

export interface WatchOptions {
  debounceMs: number;
  log: Logger;
}

export interface ManifestWatcher {
  close(): void;
}

interface Target {
  dir: string;
  recursive: boolean;
  /** Only events for this entry of `dir` count (a symlink or a single file); undefined = everything. */
  name?: string;
}

/**
 * What to watch for one path: every symlink on it (via its parent folder, where a swap is a rename), then
 * whatever it resolves to now. Link targets are followed link by link, not with realpath, because a
 * Kubernetes ConfigMap volume publishes through two: policy.yaml → ..data/policy.yaml, and ..data →
 * ..<timestamp>; an update swaps only ..data.
 */
export function watchTargets(path: string, depth = 0): Target[] {
  const parts = resolve(path).split(sep).filter(Boolean);
  const targets: Target[] = [];
  let prefix = "";
  for (let i = 0; i < parts.length; i++) {
    prefix += sep + parts[i];
    let isLink: boolean;
    try {
      isLink = lstatSync(prefix).isSymbolicLink();
    } catch {
      // Not there (yet): watch the folder it will appear in, so its creation is seen.
      targets.push({ dir: dirname(prefix), recursive: false, name: parts[i]! });
      return targets;
    }
    if (isLink) {
      targets.push({ dir: dirname(prefix), recursive: false, name: parts[i]! });
      if (depth >= MAX_LINK_DEPTH) return targets; // a loop; the manifest reader reports it
      const rest = parts.slice(i + 1).join(sep);
      const target = resolve(dirname(prefix), readlinkSync(prefix));
      return [...targets, ...watchTargets(rest ? join(target, rest) : target, depth + 1)];
    }
  }
  const isDir = statSafe(prefix)?.isDirectory() ?? false;
  targets.push(isDir ? { dir: prefix, recursive: true } : { dir: dirname(prefix), recursive: false, name: basename(prefix) });
  return targets;
}

const MAX_LINK_DEPTH = 16;

export function watchManifests(paths: string[], onChange: (changed: string) => void, opts: WatchOptions): ManifestWatcher {
  let watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let lastEvent = "";

  const arm = () => {
    const targets = paths.flatMap(watchTargets);
    for (const w of watchers) w.close();
    watchers = [];
    for (const t of targets) {
      try {
        const w = watch(t.dir, { recursive: t.recursive, persistent: false }, (_event, file) => {
          const name = file?.toString();
          if (t.name !== undefined && name !== undefined && name !== t.name) return;
          fire(name ? `${t.dir}${sep}${name}` : t.dir);
        });
        // The watched folder can vanish (git-sync removes old checkouts): look again.
        w.on("error", () => fire(t.dir));
        watchers.push(w);
      } catch (err) {
        opts.log.warn({ dir: t.dir, err: (err as Error).message }, "cannot watch; changes there are seen at the next interval");
      }
    }
    opts.log.debug({ targets }, "watching manifests");
  };

  const fire = (what: string) => {
    if (closed) return;
    // Each change seen, before the debounce: a trace line says what the watch heard (and tests wait on it).
    opts.log.trace({ path: what }, "manifest change seen");
    lastEvent = what;
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (closed) return;
      // Re-arm after every burst, not only when the links moved: a watcher on a folder that was replaced
      // in place may still exist but never fire again.
      arm();
      onChange(lastEvent);
    }, opts.debounceMs);
  };

  arm();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      for (const w of watchers) w.close();
      watchers = [];
    },
  };
}

function statSafe(p: string) {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}
