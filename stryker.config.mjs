// Mutation tests of the safety core (`npm run test:mutation`): Stryker changes one thing at a time in the
// files below (a condition negated, a `<` turned into `<=`, a check removed, a message emptied) and runs the
// tests that cover that spot (vitest.mutation.config.ts); a change no test notices is a "survivor", a hole in
// the tests through which a broken gate could ship. The run fails under a 90 % mutation score.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  plugins: ["@stryker-mutator/vitest-runner"],
  vitest: { configFile: "vitest.mutation.config.ts", related: false },
  mutate: [
    "reconciler/gate/**/*.ts",
    "reconciler/policy/guards.ts",
    "reconciler/rfc3339.ts",
    "reconciler/aws/writes.ts",
    "reconciler/aws/answers.ts",
  ],
  // Each mutant runs only the tests that executed its code in the first (dry) run.
  coverageAnalysis: "perTest",
  concurrency: 2,
  // A mutant that loops forever is a kill, but so would be a slow run on a busy machine: leave room (default 5 s).
  timeoutMS: 15_000,
  thresholds: { high: 95, low: 90, break: 90 },
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/mutation.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  // Incremental: a run re-tests only the mutants whose code or covering tests changed since the results in
  // the incremental file, and keeps the rest (a full run: npm run test:mutation -- --force). The file is
  // committed, so CI (.ci/run's mutation phase) re-tests only what a change touched and still holds the whole
  // core to the 90 % bar; a change to the core that is committed without refreshing the file makes CI re-test
  // those mutants (slower, never wrong). Tests are matched by name and place, so a change to
  // test/mutation/core.mutation.ts's list re-tests nearly everything.
  incremental: true,
  incrementalFile: "test/mutation/stryker-incremental.json",
  tempDirName: ".stryker-tmp",
  ignorePatterns: ["dist", "coverage", "reports", "bench", ".rekon-tmp"],
  cleanTempDir: "always",
};
