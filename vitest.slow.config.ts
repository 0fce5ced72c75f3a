import { defineConfig } from "vitest/config";

// Slow suites (real npm installs from clean folders): `npm run test:slow`, which .ci/run also runs.
export default defineConfig({
  test: {
    include: ["test/**/*.slow.test.ts"],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    testTimeout: 300_000,
    hookTimeout: 60_000,
    // One install at a time: each runs npm, tsc and a child process on 2-core machines.
    maxWorkers: 1,
    fileParallelism: false,
  },
});
