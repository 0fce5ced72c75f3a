#!/usr/bin/env node
// `npm run test:mutation [-- STRYKER-ARGS]`: the mutation run of the safety core, kept honest about what it
// reuses. Stryker's incremental mode reuses earlier results for unchanged mutants, but cannot see changes to
// the tests or to the modules they run through (scripts/mutation-inputs.mjs says why); when those changed
// since the results were recorded, this runs everything (--force). After a run that passes the 90 % bar it
// records the inputs the results now describe, for CI's check. Commit test/mutation/stryker-incremental.json
// and test/mutation/stryker-inputs.json together.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const inputs = (mode) => spawnSync(process.execPath, [join(root, "scripts/mutation-inputs.mjs"), mode], { cwd: root, stdio: "inherit" }).status;
const args = process.argv.slice(2);
if (!args.includes("--force") && inputs("--check") !== 0) {
  console.error("mutation: re-testing every mutant (--force), since the earlier results cannot be trusted for the changes above");
  args.push("--force");
}
// A run of some files only (--mutate) re-tests those alone: the others' results are as stale as before,
// so such a run never records the inputs as current.
// It also keeps its results out of the committed file, which must stay a whole run's.
const partial = args.some((a) => a === "--mutate" || a === "-m" || a.startsWith("--mutate="));
if (partial) args.push("--incrementalFile", "reports/stryker-incremental-partial.json");
const stryker = spawnSync(process.execPath, [join(root, "node_modules/@stryker-mutator/core/bin/stryker.js"), "run", ...args], { cwd: root, stdio: "inherit" });
if (stryker.status !== 0) process.exit(stryker.status ?? 1);
if (partial) {
  console.error("mutation: a run of some files (--mutate) does not vouch for the rest: the recorded inputs are left as they were");
  process.exit(0);
}
process.exit(inputs("--write"));
