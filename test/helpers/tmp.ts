import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** A real temporary folder with the given files; removed by the returned cleanup. */
export function tmpTree(files: Record<string, string | Buffer>): { dir: string; path(rel: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "rekon-test-"));
  for (const [rel, content] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, content);
  }
  return { dir, path: (rel) => join(dir, rel), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
