import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Slow suites (*.slow.test.ts: real npm installs) run with `npm run test:slow` (vitest.slow.config.ts).
    exclude: [...configDefaults.exclude, "test/**/*.slow.test.ts"],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration suites start emulators and child processes; two workers fit the 2-core machines.
    maxWorkers: 2,
  },
});
