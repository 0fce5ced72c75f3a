import { defineConfig } from "vitest/config";

// What `npm run test:mutation` (Stryker, stryker.config.mjs) runs against each mutant of the safety core:
// test/mutation/core.mutation.ts, one file that imports the fast tables and property tests exercising the
// gate, the guards, strict times and the write builders. No binary or emulator suite: they run the built
// dist/, not the mutated sources, and cost seconds each.
export default defineConfig({
  test: {
    include: ["test/mutation/core.mutation.ts"],
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      // Each mutant no table kills runs every property that covers it: fewer runs keep the whole run in minutes.
      REKON_PROPERTY_RUNS: process.env.REKON_PROPERTY_RUNS ?? "10",
      // Leaves out the property that starts emulators (it mutates nothing here and takes seconds).
      REKON_MUTATION_RUN: "1",
    },
    testTimeout: 30_000,
  },
});
