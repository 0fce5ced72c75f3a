#!/usr/bin/env node
// Check a CycloneDX SBOM of rekon (what `npm run sbom` writes, and what the image carries):
//   node scripts/sbom-check.mjs FILE [--lock package-lock.json]
// 1. it is valid against the CycloneDX JSON schema of its specVersion (strict; the schemas ship with
//    @cyclonedx/cyclonedx-library, a dependency of @cyclonedx/cyclonedx-npm) — a missing validator is a
//    failure, never a skipped check;
// 2. it lists every runtime dependency the lockfile installs (package.json's dependencies and everything
//    they pull in; devDependencies excluded), each with its exact version and a licence;
// 3. it lists no devDependency.
// Prints one line per problem and exits 1, or one summary line and exits 0.
import { createRequire } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
let args;
try {
  args = parseArgs({ allowPositionals: true, options: { lock: { type: "string" }, help: { type: "boolean", short: "h" } } });
} catch (err) {
  console.error(`sbom-check: ${err.message}; usage: node scripts/sbom-check.mjs FILE [--lock package-lock.json]`);
  process.exit(2);
}
if (args.values.help || args.positionals.length !== 1) {
  (args.values.help ? console.log : console.error)("usage: node scripts/sbom-check.mjs FILE [--lock package-lock.json]");
  process.exit(args.values.help ? 0 : 2);
}
const file = resolve(args.positionals[0]);
const lockFile = resolve(args.values.lock ?? join(root, "package-lock.json"));

const problems = [];
let bom;
try {
  bom = JSON.parse(readFileSync(file, "utf8"));
} catch (err) {
  console.error(`sbom-check: ${file}: cannot read it as JSON: ${err.message}`);
  process.exit(1);
}
if (bom.bomFormat !== "CycloneDX") problems.push(`bomFormat is ${JSON.stringify(bom.bomFormat)}, not "CycloneDX"`);

// 1. The schema. The library lives below cyclonedx-npm; resolve it from there.
const requireFromNpm = createRequire(createRequire(import.meta.url).resolve("@cyclonedx/cyclonedx-npm"));
const { Validation, Spec } = requireFromNpm("@cyclonedx/cyclonedx-library");
const version = Object.values(Spec.Version).find((v) => v === bom.specVersion);
if (!version) problems.push(`specVersion ${JSON.stringify(bom.specVersion)} is not one the validator knows`);
else {
  const errors = await new Validation.JsonStrictValidator(version).validate(JSON.stringify(bom));
  if (errors !== null) problems.push(`not valid against the CycloneDX ${version} JSON schema: ${JSON.stringify(errors).slice(0, 2000)}`);
}

// 2 and 3. The components, by name (with @scope) and version.
const components = new Map();
const walk = (list) => {
  for (const c of list ?? []) {
    const name = c.group ? `${c.group}/${c.name}` : c.name;
    const licences = (c.licenses ?? []).map((l) => l.license?.id ?? l.license?.name ?? l.expression).filter(Boolean);
    components.set(`${name}@${c.version}`, { name, version: c.version, licences });
    walk(c.components);
  }
};
walk(bom.components);

const lock = JSON.parse(readFileSync(lockFile, "utf8"));
const nodeModules = join(dirname(lockFile), "node_modules");
let runtime = 0;
for (const [path, entry] of Object.entries(lock.packages ?? {})) {
  if (!path.startsWith("node_modules/") && !path.includes("/node_modules/")) continue; // the root package
  const name = entry.name ?? path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
  const key = `${name}@${entry.version}`;
  if (entry.dev) {
    // A package both a dev and a runtime dependency use at one version is one component: only a dev-only one counts.
    const alsoRuntime = Object.entries(lock.packages).some(([p, e]) => !e.dev && p.endsWith(`node_modules/${name}`) && e.version === entry.version);
    if (components.has(key) && !alsoRuntime) problems.push(`${key} is a devDependency (or only needed by one) but the SBOM lists it`);
    continue;
  }
  // An optional dependency for another platform is in the lockfile but not installed: not part of rekon here.
  if (entry.optional && existsSync(nodeModules) && !existsSync(join(dirname(lockFile), path))) continue;
  runtime++;
  const c = components.get(key);
  if (!c) problems.push(`${key} (a runtime dependency in ${lockFile}) is missing`);
  else if (c.licences.length === 0) problems.push(`${key} has no licence`);
}
for (const dep of Object.keys(lock.packages?.[""]?.dependencies ?? {})) {
  if (![...components.values()].some((c) => c.name === dep)) problems.push(`${dep} (a dependency in package.json) is missing`);
}
if (runtime === 0) problems.push(`no runtime dependency found in ${lockFile}: wrong lockfile?`);

if (problems.length > 0) {
  for (const p of problems) console.error(`sbom-check: ${file}: ${p}`);
  process.exit(1);
}
const aws = components.get(`@aws-sdk/client-rekognition@${lock.packages["node_modules/@aws-sdk/client-rekognition"]?.version}`);
console.log(`sbom-check: ${file}: valid CycloneDX ${bom.specVersion}, ${components.size} components, every one of the ${runtime} runtime dependencies with version and licence (e.g. @aws-sdk/client-rekognition ${aws?.version} ${aws?.licences.join(" ")}), no devDependency`);
