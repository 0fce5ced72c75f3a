#!/usr/bin/env node
// Run by `npm run build` (scripts/build.mjs) after tsc: record which Git revision dist/ was built from, for
// rekon_build_info. The output folder is the first argument (the build's staging folder), default dist/.
// REKON_REVISION wins (the Dockerfile passes its REVISION build argument, since .git is not in the build
// context); otherwise `git rev-parse HEAD` when building inside a Git checkout; otherwise "unknown".
import { execFileSync } from "node:child_process";
import { mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
let revision = process.env.REKON_REVISION || "";
if (!revision) {
  const git = (...args) => execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  try {
    // Only this package's own checkout counts, not a repository it happens to sit inside.
    revision = realpathSync(git("rev-parse", "--show-toplevel")) === realpathSync(root) ? git("rev-parse", "HEAD") : "unknown";
    // Built from a working tree with local changes: say so, so --version never claims a clean commit.
    if (revision !== "unknown" && git("status", "--porcelain", "--untracked-files=no") !== "") revision += "-dirty";
  } catch {
    revision = "unknown"; // no git binary, or not a checkout (a tarball, a Docker build context)
  }
}
if (process.argv.length > 3 || process.argv[2]?.startsWith("-")) {
  process.stderr.write(`build-info: usage: node scripts/build-info.mjs [OUT_DIR] (default dist/; npm run build runs it)\n`);
  process.exit(2);
}
const out = process.argv[2] ?? join(root, "dist");
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "build-info.json"), JSON.stringify({ revision }) + "\n");
