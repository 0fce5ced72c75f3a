// The SBOM: `npm run sbom` writes a CycloneDX JSON SBOM of the runtime dependencies, and
// scripts/sbom-check.mjs (run by .ci/run, the Dockerfile and image-check.sh) accepts it, and refuses one
// that is not schema-valid, misses a runtime dependency, lacks a licence, or lists a devDependency.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/run-cli.js";

type Component = { type: string; name: string; group?: string; version: string; licenses?: unknown[]; purl?: string };
type Bom = { bomFormat: string; specVersion: string; components: Component[] };

const run = (cmd: string, args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(cmd, args, { cwd: ROOT, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr })),
  );
const check = (file: string) => run(process.execPath, [join(ROOT, "scripts/sbom-check.mjs"), file]);

let dir: string;
let bom: Bom;
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string>; dependencies: Record<string, string>; devDependencies: Record<string, string> };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "rekon-sbom-"));
  // `npm run sbom` exactly, only written elsewhere than the checkout.
  const [cmd, ...args] = pkg.scripts.sbom!.split(" ");
  expect(cmd).toBe("cyclonedx-npm");
  const out = args.indexOf("--output-file");
  args[out + 1] = join(dir, "sbom.cdx.json");
  const r = await run(join(ROOT, "node_modules/.bin/cyclonedx-npm"), args);
  expect(r.code, r.stderr).toBe(0);
  bom = JSON.parse(readFileSync(join(dir, "sbom.cdx.json"), "utf8")) as Bom;
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const named = (c: Component) => (c.group ? `${c.group}/${c.name}` : c.name);
const mutate = (name: string, f: (b: Bom) => void) => {
  const b = structuredClone(bom);
  f(b);
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(b));
  return file;
};

describe("npm run sbom", () => {
  it("is CycloneDX JSON listing @aws-sdk/client-rekognition and every other runtime dependency, with versions and licences", () => {
    expect(pkg.scripts.sbom).toMatch(/--omit dev/);
    expect(bom.bomFormat).toBe("CycloneDX");
    const aws = bom.components.find((c) => named(c) === "@aws-sdk/client-rekognition")!;
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> };
    expect(aws.version).toBe(lock.packages["node_modules/@aws-sdk/client-rekognition"]!.version);
    expect(JSON.stringify(aws.licenses)).toContain("Apache-2.0");
    for (const dep of Object.keys(pkg.dependencies)) expect(bom.components.some((c) => named(c) === dep), dep).toBe(true);
    for (const dev of ["typescript", "vitest", "eslint", "@cyclonedx/cyclonedx-npm"]) expect(bom.components.some((c) => named(c) === dev), dev).toBe(false);
  });

  it("passes sbom-check (schema-valid, every runtime dependency of the lockfile, no devDependency)", async () => {
    const r = await check(join(dir, "sbom.cdx.json"));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`valid CycloneDX ${bom.specVersion.replace(".", "\\.")}, ${bom.components.length} components`));
  });

  it("refuses one that is not schema-valid, misses a runtime dependency, lacks a licence or lists a devDependency, naming each", async () => {
    const devVersion = (JSON.parse(readFileSync(join(ROOT, "node_modules/typescript/package.json"), "utf8")) as { version: string }).version;
    // One file with the four problems (one validator start instead of four); each must be named.
    const r = await check(
      mutate("broken", (b) => {
        b.components.find((c) => named(c) === "picocolors")!.type = "gadget"; // a component type CycloneDX does not have
        b.components = b.components.filter((c) => named(c) !== "@aws-sdk/client-rekognition");
        delete b.components.find((c) => named(c) === "yaml")!.licenses;
        b.components.push({ type: "library", name: "typescript", version: devVersion, licenses: [{ license: { id: "Apache-2.0" } }] });
      }),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trim().split("\n");
    for (const message of [/not valid against the CycloneDX .* JSON schema: .*\/components\/\d+\/type/, /@aws-sdk\/client-rekognition@[\d.]+ \(a runtime dependency .*\) is missing/, /yaml@[\d.]+ has no licence/, /typescript@[\d.]+ is a devDependency/]) {
      expect(lines.filter((l) => message.test(l)), String(message)).toHaveLength(1);
    }
  });
});
