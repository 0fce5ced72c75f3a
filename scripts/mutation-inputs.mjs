#!/usr/bin/env node
// Whether the committed mutation results (test/mutation/stryker-incremental.json) still describe the code:
//   node scripts/mutation-inputs.mjs --write   record the inputs (after a mutation run; npm run test:mutation does it)
//   node scripts/mutation-inputs.mjs --check   exit 1, naming each changed file, when they differ (CI's mutation phase)
//
// Why this exists: Stryker's incremental mode re-tests a mutant when the mutated file changes around it or
// when a test file changes. Our mutation suite is one file (test/mutation/core.mutation.ts) that imports the
// tables, so Stryker sees one test file whose text is a list of imports: a test weakened in an imported file,
// or a change to a module the tests run through (plan.ts, the policy loader), would leave every earlier
// "killed" standing. So the test inputs Stryker cannot see are recorded here, by content hash: every file
// under test/ that core.mutation.ts reaches through relative imports (tables, properties, their reference
// models and builders), plus the two configuration files. Any difference means the results are stale.
// This restores Stryker's own model (mutated files and tests are compared); like Stryker, it does not
// follow changes to the non-mutated modules the tests run through (plan.ts, the loaders): a full run
// (npm run test:mutation -- --force) after such a change is the remedy, and docs/development.md says so.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const RECORD = "test/mutation/stryker-inputs.json";
const ENTRY = "test/mutation/core.mutation.ts";
const CONFIGS = ["stryker.config.mjs", "vitest.mutation.config.ts"];

const mode = process.argv[2];
if (process.argv.length !== 3 || (mode !== "--write" && mode !== "--check")) {
  console.error("usage: node scripts/mutation-inputs.mjs --write|--check");
  process.exit(2);
}

const TYPE_ONLY = /\b(?:import|export)\s+type\s[^;]*?\bfrom\s*["'][^"']+["']/gs;
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"']+)["']/g;
/** The repository file a relative import names, or undefined outside test/ (production code never imports a test). */
function resolveImport(fromFile, spec) {
  const abs = resolve(dirname(join(root, fromFile)), spec);
  if (!relative(root, abs).startsWith("test/")) return undefined;
  for (const candidate of [abs.replace(/\.js$/, ".ts"), abs, `${abs}.ts`, join(abs, "index.ts")]) if (existsSync(candidate)) return relative(root, candidate);
  throw new Error(`${fromFile}: cannot resolve import "${spec}"`);
}

function inputs() {
  const seen = new Set([ENTRY]);
  const queue = [ENTRY];
  while (queue.length) {
    const file = queue.pop();
    // Type-only imports run nothing (tsc and vitest erase them), so they cannot change a result.
    const code = readFileSync(join(root, file), "utf8").replace(TYPE_ONLY, "");
    for (const m of code.matchAll(IMPORT)) {
      const dep = resolveImport(file, m[1]);
      if (dep !== undefined && !seen.has(dep)) {
        seen.add(dep);
        queue.push(dep);
      }
    }
  }
  const files = [...seen].concat(CONFIGS).sort();
  return Object.fromEntries(files.map((f) => [f, createHash("sha256").update(readFileSync(join(root, f))).digest("hex")]));
}

const now = inputs();
if (mode === "--write") {
  writeFileSync(join(root, RECORD), `${JSON.stringify({ note: "written by scripts/mutation-inputs.mjs --write; see there", files: now }, null, 2)}\n`);
  console.log(`mutation-inputs: recorded ${Object.keys(now).length} files in ${RECORD}`);
  process.exit(0);
}
if (!existsSync(join(root, RECORD))) {
  console.error(`mutation-inputs: ${RECORD} is missing: run 'npm run test:mutation' and commit it with test/mutation/stryker-incremental.json`);
  process.exit(1);
}
const was = JSON.parse(readFileSync(join(root, RECORD), "utf8")).files;
const changed = [...new Set([...Object.keys(was), ...Object.keys(now)])]
  .sort()
  .filter((f) => was[f] !== now[f])
  .map((f) => `  ${f} (${!(f in was) ? "added" : !(f in now) ? "no longer used" : "changed"})`);
if (changed.length) {
  console.error(
    `mutation-inputs: the committed mutation results are stale: ${changed.length} file(s) the mutation suite runs changed since they were recorded:\n` +
      `${changed.join("\n")}\n` +
      "Stryker cannot see these changes, so its earlier results may no longer hold. Refresh them with 'npm run test:mutation -- --force' " +
      "(about 35 minutes on 2 cores) and commit test/mutation/stryker-incremental.json and test/mutation/stryker-inputs.json.",
  );
  process.exit(1);
}
console.log(`mutation-inputs: the ${Object.keys(now).length} files the mutation suite runs are those the committed results were measured on`);
