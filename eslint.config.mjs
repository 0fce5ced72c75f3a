// Lint for what types cannot say: an unawaited promise in a deletion path is a write nobody waits for (its
// result unreported, its failure unseen). Only the async-discipline rules; formatting is not linted.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "bench/**", "scripts/**", "**/*.mjs", "**/*.cjs"] },
  {
    files: ["reconciler/**/*.ts", "test/**/*.ts"],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { project: ["./tsconfig.json", "./test/tsconfig.json"], tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "@typescript-eslint": tseslint.plugin },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      // A promise returned (not awaited) inside try escapes its catch and finally: an error meant to be
      // answered, or a write meant to be reported, would go unhandled.
      "@typescript-eslint/return-await": ["error", "in-try-catch"],
    },
  },
);
