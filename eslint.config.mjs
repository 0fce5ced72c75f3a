// Lint for what types cannot say: an unawaited promise in a deletion path is a write nobody waits for (its
// result unreported, its failure unseen). And the sizes that keep the code readable; the layout itself is
// Prettier's (npm run lint checks it).
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
  {
    // Rooms small enough to live in: a file a person can read through, a function that fits a screen, lines
    // a side-by-side diff can show. Generated model data aside.
    files: ["reconciler/**/*.ts"],
    ignores: ["reconciler/emulator/model.ts", "reconciler/aws/model.ts"],
    rules: {
      "max-lines": ["error", { max: 400 }],
      "max-lines-per-function": ["error", { max: 120 }],
      "max-len": ["error", { code: 160, ignoreUrls: false }],
    },
  },
);
