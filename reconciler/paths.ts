// Where rekon's own files (schemas/) live, whether run from source (vitest) or from dist/ (the bin).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "schemas"))) return (root = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error("rekon: cannot find its package root (schemas/ folder) above " + fileURLToPath(import.meta.url));
    dir = up;
  }
}
