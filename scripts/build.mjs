#!/usr/bin/env node
// `npm run build`: compile into a fresh folder beside dist/, then move each file into dist/ with rename(2)
// and remove what the new build no longer has. dist/ itself is never deleted or emptied.
//
// Why not `rm -rf dist && tsc`: `npm pack` and `npm publish` run `prepare` (this build) in the checkout
// they pack, and a checkout's dist/ is often in use at that moment: a test suite spawning dist/reconciler/bin.js,
// a `rekon run` started from it, the slow install tests packing the very checkout the suite runs from. Deleting
// dist/ first makes each of those fail with "Cannot find module" for as long as tsc takes (seconds). A rename
// replaces a file atomically: a reader gets the old file or the new one, never none, and a build of the same
// sources writes the same bytes, so a process that loads modules while the build runs sees a whole rekon.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, unlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
// On the same filesystem as dist/ (rename(2) does not cross filesystems), and unique per build, so two
// builds at once (a test suite's pretest and an npm pack) never write into each other's folder.
const staging = join(root, `.dist-build-${process.pid}`);

/** Every file below `dir`, as paths relative to it. */
function files(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  try {
    walk(dir);
  } catch (err) {
    if (err.code !== "ENOENT") throw err;
  }
  return out;
}

/** Remove empty folders below `dir` (not `dir` itself), deepest first. */
function pruneEmpty(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const p = join(dir, e.name);
    pruneEmpty(p);
    if (readdirSync(p).length === 0) rmdirSync(p);
  }
}

if (process.argv.length > 2) {
  process.stderr.write(`build: takes no arguments (npm run build; it compiles reconciler/ into dist/)\n`);
  process.exit(2);
}

try {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.json"), "--outDir", staging], { stdio: "inherit" });
  execFileSync(process.execPath, [join(root, "scripts", "build-info.mjs"), staging], { stdio: "inherit" });
  chmodSync(join(staging, "reconciler", "bin.js"), 0o755);

  const built = files(staging);
  const fresh = new Set(built);
  // bin.js last: whoever starts rekon during the move finds the modules it imports already in place.
  built.sort((a, b) => Number(a === join("reconciler", "bin.js")) - Number(b === join("reconciler", "bin.js")));
  for (const f of built) {
    mkdirSync(dirname(join(dist, f)), { recursive: true });
    renameSync(join(staging, f), join(dist, f));
  }
  // What an earlier build left that this one did not make (a removed or renamed source file).
  for (const f of files(dist)) if (!fresh.has(f)) unlinkSync(join(dist, f));
  pruneEmpty(dist);
} catch (err) {
  // tsc has printed its errors; a failed step leaves dist/ as it was.
  if (err.status === undefined) console.error(`build: ${err.message}`);
  process.exitCode = 1;
} finally {
  rmSync(staging, { recursive: true, force: true });
}
