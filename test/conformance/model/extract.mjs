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
//
// And reconciler/aws/model.ts: the output shapes of the operations rekon calls, which rekon checks every
// AWS answer against before believing it (reconciler/aws/answers.ts). A copy of its own, not the
// emulator's: rekon and the emulator share no code, so neither can hide the other's mistake.
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

/**
 * The shapes an operation's output reaches, by name (shared shapes once), without enums: an enum value
 * the model does not know yet is a value AWS added, not a malformed answer (reconciler/aws/answers.ts).
 * `float` and `double` are kept (the emulator's input validator has no use for them).
 */
function outputShapes(model, operations) {
  const shapes = {};
  const visit = (name) => {
    if (shapes[name]) return;
    const s = model.shapes[name];
    const pick = (keys) => Object.fromEntries(keys.filter((k) => s[k] !== undefined).map((k) => [k, s[k]]));
    switch (s.type) {
      case "string":
        shapes[name] = { type: "string", ...pick(["min", "max", "pattern"]) };
        return;
      case "integer":
      case "long":
      case "float":
      case "double":
        shapes[name] = { type: s.type, ...pick(["min", "max"]) };
        return;
      case "boolean":
      case "timestamp":
        shapes[name] = { type: s.type };
        return;
      case "list":
        shapes[name] = { type: "list", member: s.member.shape, ...pick(["min", "max"]) };
        return visit(s.member.shape);
      case "map":
        shapes[name] = { type: "map", key: s.key.shape, value: s.value.shape, ...pick(["min", "max"]) };
        visit(s.key.shape);
        return visit(s.value.shape);
      case "structure":
        shapes[name] = { type: "structure", members: Object.fromEntries(Object.entries(s.members).map(([k, m]) => [k, m.shape])), ...pick(["required"]) };
        for (const m of Object.values(s.members)) visit(m.shape);
        return;
      default:
        throw new Error(`shape ${name}: type ${s.type} is not supported by rekon's answer check`);
    }
  };
  for (const op of operations) visit(model.operations[op].output.shape);
  const sorted = Object.fromEntries(Object.keys(shapes).sort().map((n) => [n, shapes[n]]));
  return { operations: Object.fromEntries(operations.map((op) => [op, model.operations[op].output.shape])), shapes: sorted };
}

/** One line per operation and per shape (a structure's members one per line when long): a model change is a small diff. */
function outputsModule(name, outputs) {
  const line = (k, v) => {
    const one = `    ${JSON.stringify(k)}: ${JSON.stringify(v)},`;
    if (one.length <= 160) return one;
    if (v.type !== "structure") return [`    ${JSON.stringify(k)}: {`, ...Object.entries(v).map(([f, x]) => `      ${JSON.stringify(f)}: ${JSON.stringify(x)},`), "    },"].join("\n");
    const { members, ...rest } = v;
    const head = JSON.stringify({ ...rest, members: {} }).replace(/\{\}\}$/, "{");
    const body = Object.entries(members).map(([m, shape]) => `      ${JSON.stringify(m)}: ${JSON.stringify(shape)},`);
    return [`    ${JSON.stringify(k)}: ${head}`, ...body, "    }},"].join("\n");
  };
  const lines = (o) => Object.entries(o).map(([k, v]) => line(k, v));
  return (
    `/** ${name}: operation → output shape name, and every shape those reach. */\n` +
    `export const ${name.toUpperCase()}_OUTPUTS: ServiceOutputs = {\n  operations: {\n${lines(outputs.operations).join("\n")}\n  },\n` +
    `  shapes: {\n${lines(outputs.shapes).join("\n")}\n  },\n};\n`
  );
}

const generated = [];
const outputs = [];
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
  outputs.push(outputsModule(svc.name, outputShapes(model, svc.operations)));
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

const awsTarget = join(HERE, "../../../reconciler/aws/model.ts");
writeFileSync(
  awsTarget,
  `// Generated by test/conformance/model/extract.mjs from botocore ${botocoreVersion}; do not edit by hand, rerun it.\n` +
    `// The output shapes of the operations rekon calls, as the AWS model declares them (enums left out: see\n` +
    `// answers.ts). rekon checks every answer against them before believing it.\n\n` +
    `export type OutputShape =\n` +
    `  | { type: "string"; min?: number; max?: number; pattern?: string }\n` +
    `  | { type: "integer" | "long" | "float" | "double"; min?: number; max?: number }\n` +
    `  | { type: "boolean" | "timestamp" }\n` +
    `  | { type: "list"; member: string; min?: number; max?: number }\n` +
    `  | { type: "map"; key: string; value: string; min?: number; max?: number }\n` +
    `  | { type: "structure"; members: Readonly<Record<string, string>>; required?: readonly string[] };\n\n` +
    `/** Shapes refer to each other by name, as in the model. */\n` +
    `export interface ServiceOutputs {\n  operations: Readonly<Record<string, string>>;\n  shapes: Readonly<Record<string, OutputShape>>;\n}\n\n` +
    outputs.join("\n"),
);
console.log(`${awsTarget}: output shapes`);
