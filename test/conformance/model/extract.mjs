// Regenerates the AWS service models the conformance tests hold the emulator to, from botocore's data
// (the models the AWS CLI and boto3 are generated from). Keeps only the operations the emulator serves and
// the shapes they reach (input, output, errors), without documentation, so a model change shows up as a
// small, reviewable diff.
//
//   node test/conformance/model/extract.mjs [BOTOCORE_DATA_DIR]
//
// Without an argument it asks the python3 on PATH where botocore lives (the AWS CLI v1 ships it).
//
// It also writes reconciler/emulator/model.ts: the input shapes of those operations, which the emulator
// validates requests against. The emulator cannot read this folder at run time (it ships without tests),
// so it gets its own generated copy; the conformance tests read the JSON here and check the answers.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";

const HERE = dirname(fileURLToPath(import.meta.url));
const SERVICES = [
  {
    name: "rekognition",
    version: "2016-06-27",
    operations: [
      "DescribeProjects",
      "DescribeProjectVersions",
      "DeleteProjectVersion",
      "StopProjectVersion",
      "StartProjectVersion",
      "CopyProjectVersion",
      "ListTagsForResource",
      "TagResource",
      "UntagResource",
    ],
  },
  { name: "sts", version: "2011-06-15", operations: ["AssumeRole", "GetCallerIdentity"] },
];

function botocoreData() {
  if (process.argv[2]) return process.argv[2];
  const out = execFileSync("python3", ["-c", "import botocore, os; print(botocore.__version__); print(os.path.join(os.path.dirname(botocore.__file__), 'data'))"], { encoding: "utf8" });
  const [version, dir] = out.trim().split("\n");
  console.log(`botocore ${version} at ${dir}`);
  return { dir, version };
}

function readModel(dir, service, version) {
  const base = join(dir, service, version, "service-2.json");
  try {
    return JSON.parse(gunzipSync(readFileSync(`${base}.gz`)).toString("utf8"));
  } catch {
    return JSON.parse(readFileSync(base, "utf8"));
  }
}

const strip = (x) => (Array.isArray(x) ? x.map(strip) : x && typeof x === "object" ? Object.fromEntries(Object.entries(x).filter(([k]) => k !== "documentation" && k !== "documentationUrl").map(([k, v]) => [k, strip(v)])) : x);

/** An input shape with every reference resolved, as the emulator's validator takes it (see validate.ts). */
function inline(model, name, depth = 0) {
  if (depth > 20) throw new Error(`shape ${name} nests too deep (recursive?)`);
  const s = model.shapes[name];
  const pick = (keys) => Object.fromEntries(keys.filter((k) => s[k] !== undefined).map((k) => [k, s[k]]));
  switch (s.type) {
    case "string":
      return { type: "string", ...pick(["min", "max", "pattern", "enum"]) };
    case "integer":
    case "long":
      return { type: s.type, ...pick(["min", "max"]) };
    case "boolean":
    case "timestamp":
      return { type: s.type };
    case "list":
      return { type: "list", member: inline(model, s.member.shape, depth + 1), ...pick(["min", "max"]) };
    case "map":
      return { type: "map", key: inline(model, s.key.shape, depth + 1), value: inline(model, s.value.shape, depth + 1), ...pick(["min", "max"]) };
    case "structure":
      return {
        type: "structure",
        members: Object.fromEntries(Object.entries(s.members).map(([k, m]) => [k, inline(model, m.shape, depth + 1)])),
        ...(s.required ? { required: s.required } : {}),
      };
    default:
      throw new Error(`shape ${name}: type ${s.type} is not supported by the emulator's validator`);
  }
}

const generated = [];
const found = botocoreData();
const dir = typeof found === "string" ? found : found.dir;
const botocoreVersion = typeof found === "string" ? "(given directory)" : found.version;
for (const svc of SERVICES) {
  const model = readModel(dir, svc.name, svc.version);
  const shapes = new Set();
  const visit = (name) => {
    if (!name || shapes.has(name)) return;
    shapes.add(name);
    const s = model.shapes[name];
    for (const m of Object.values(s.members ?? {})) visit(m.shape);
    visit(s.member?.shape);
    visit(s.key?.shape);
    visit(s.value?.shape);
  };
  const operations = {};
  for (const op of svc.operations) {
    const o = model.operations[op];
    if (!o) throw new Error(`${svc.name} has no operation ${op}`);
    operations[op] = strip(o);
    visit(o.input?.shape);
    visit(o.output?.shape);
    for (const e of o.errors ?? []) visit(e.shape);
  }
  const out = {
    "x-source": `botocore ${botocoreVersion}: data/${svc.name}/${svc.version}/service-2.json (served operations and the shapes they reach; documentation removed)`,
    metadata: model.metadata,
    operations,
    shapes: Object.fromEntries([...shapes].sort().map((n) => [n, strip(model.shapes[n])])),
  };
  generated.push(
    `/** ${svc.name} ${svc.version}: operation → input shape. */\nexport const ${svc.name.toUpperCase()}_INPUTS: Readonly<Record<string, StructureShape>> = ${JSON.stringify(
      Object.fromEntries(svc.operations.map((op) => [op, inline(model, model.operations[op].input.shape)])),
      null,
      2,
    )};\n`,
  );
  const file = join(HERE, `${svc.name}-${svc.version}.json`);
  writeFileSync(file, JSON.stringify(out, null, 1) + "\n");
  console.log(`${file}: ${svc.operations.length} operations, ${shapes.size} shapes`);
}

const target = join(HERE, "../../../reconciler/emulator/model.ts");
writeFileSync(
  target,
  `// Generated by test/conformance/model/extract.mjs from botocore ${botocoreVersion}; do not edit by hand, rerun it.\n` +
    `// The input shapes of the operations the emulator serves, as the AWS model declares them.\n\n` +
    `import type { Shape } from "./validate.js";\n\ntype StructureShape = Extract<Shape, { type: "structure" }>;\n\n` +
    generated.join("\n"),
);
console.log(`${target}: input shapes`);
