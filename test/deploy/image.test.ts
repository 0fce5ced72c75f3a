// The Dockerfile's promises that need no Docker engine to check (scripts/image-check.sh reproduces and runs
// its stages): a numeric non-root user, no npm/npx/corepack/yarn in the runtime stage, OCI labels from
// build arguments, the SBOM at the path its label names, and a .dockerignore that keeps everything but the copied sources out of the context.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../helpers/run-cli.js";

const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
// Continuation lines joined, so each instruction is one line.
const stages = dockerfile.replace(/\\\n\s*/g, " ").split(/^FROM /m).slice(1);
const runtime = stages.at(-1)!;

describe("Dockerfile", () => {
  it("runs as a numeric non-root user", () => {
    const users = [...runtime.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]!);
    expect(users.at(-1)).toMatch(/^[1-9][0-9]*(:[0-9]+)?$/);
  });

  it("the runtime stage deletes npm, npx, corepack and yarn, and never runs them", () => {
    const rm = /^RUN rm -rf (.*)$/m.exec(runtime)![1]!;
    for (const p of ["/usr/local/lib/node_modules", "/usr/local/bin/npm", "/usr/local/bin/npx", "/usr/local/bin/corepack", "/usr/local/bin/yarn"]) expect(rm).toContain(p);
    const runs = [...runtime.matchAll(/^RUN (.*)$/gm)].map((m) => m[1]!);
    for (const r of runs.filter((x) => !x.startsWith("rm -rf "))) expect(r).not.toMatch(/\b(npm|npx|corepack|yarn)\b/);
  });

  it("OCI labels come from build arguments", () => {
    for (const [label, arg] of [["revision", "REVISION"], ["version", "VERSION"], ["source", "SOURCE"], ["created", "CREATED"]]) {
      expect(runtime).toMatch(new RegExp(`org\\.opencontainers\\.image\\.${label}="\\$\\{${arg}\\}"`));
      expect(runtime).toMatch(new RegExp(`^ARG ${arg}$`, "m"));
      expect(dockerfile).toMatch(new RegExp(`^ARG ${arg}=unknown$`, "m"));
    }
    // The revision also reaches rekon_build_info through the build.
    expect(stages[0]).toMatch(/REKON_REVISION="\$REVISION" npm run build/);
  });

  it("the runtime stage carries the SBOM the build stage wrote and checked, at the path its label names", () => {
    const label = /dev\.rekon\.sbom="([^"]+)"/.exec(runtime)?.[1];
    expect(label).toBe("/usr/share/rekon/sbom.cdx.json");
    expect(runtime).toMatch(new RegExp(`^COPY --from=build /src/sbom\\.cdx\\.json ${label!.replaceAll(".", "\\.")}$`, "m"));
    // Written by npm run sbom (package.json) and refused by the build if sbom-check fails.
    expect(stages[0]).toMatch(/^RUN npm run sbom --silent && node scripts\/sbom-check\.mjs sbom\.cdx\.json$/m);
  });

  it(".dockerignore excludes everything but what is copied", () => {
    const lines = readFileSync(join(ROOT, ".dockerignore"), "utf8").split("\n").filter((l) => l && !l.startsWith("#"));
    expect(lines[0]).toBe("*");
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.*)$/gm)].flatMap((m) => m[1]!.split(/\s+/).slice(0, -1));
    expect(lines.slice(1).sort()).toEqual([...new Set(copied)].map((c) => `!${c}`).sort());
  });
});
