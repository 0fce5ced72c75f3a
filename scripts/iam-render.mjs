#!/usr/bin/env node
// Fill in the IAM policy templates in deploy/iam/ for one account:
//
//   node scripts/iam-render.mjs --account 123456789012 --region us-east-1 [--region eu-west-1 …]
//        [--project fraud-detector …] [--target-role arn:aws:iam::210987654321:role/rekon-target …]
//        [--oidc-provider oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE] [--namespace rekon] [--service-account rekon]
//        [--github-repo org/manifests] [--github-branch main] [--github-environment production]
//        [--plan-role-arn ARN --apply-role-arn ARN] [--rekon-role ARN …] [--partition aws] --out DIR
//
// Placeholders are ${Name}. A string that holds ${Region}, ${Project} or ${TargetRoleArn} stands for one
// string per value given (per region, per project, per target role), so a policy names exactly the
// regions it may act in; a statement left with no resource (no --target-role) is dropped. The partition
// is not hard-coded: it follows from the regions (cn-* → aws-cn, us-gov-* → aws-us-gov, else aws) unless
// --partition says otherwise. A file is written only when every placeholder it uses has a value; the
// others are listed with the flags they need.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const TEMPLATES = join(dirname(fileURLToPath(import.meta.url)), "..", "deploy", "iam");
const LISTS = { Region: "region", Project: "project", TargetRoleArn: "target-role", RekonRoleArn: "rekon-role" };
const FLAG_OF = {
  Partition: "partition", Account: "account", Region: "region", Project: "project", TargetRoleArn: "target-role",
  OidcProvider: "oidc-provider", Namespace: "namespace", ServiceAccount: "service-account",
  GitHubRepo: "github-repo", GitHubBranch: "github-branch", GitHubEnvironment: "github-environment",
  PlanRoleArn: "plan-role-arn", ApplyRoleArn: "apply-role-arn", RekonRoleArn: "rekon-role",
};

function partitionOf(region) {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  if (region.startsWith("us-iso-")) return "aws-iso";
  if (region.startsWith("us-isob-")) return "aws-iso-b";
  if (region.startsWith("eu-isoe-")) return "aws-iso-e";
  return "aws";
}

function fail(msg) {
  process.stderr.write(`iam-render: ${msg}\n`);
  process.exit(2);
}

function values(opts) {
  const regions = opts.region ?? [];
  if (!opts.account || !/^[0-9]{12}$/.test(opts.account)) fail("--account must be a 12-digit AWS account ID");
  if (regions.length === 0) fail("--region is required (repeat it for each region rekon acts in)");
  for (const r of regions) if (!/^[a-z]{2}(-[a-z]+)+-[0-9]$/.test(r)) fail(`--region ${r} is not a region name such as us-east-1`);
  const partitions = new Set(regions.map(partitionOf));
  if (!opts.partition && partitions.size > 1) fail(`the regions span partitions (${[...partitions].join(", ")}): render each partition separately`);
  if (opts["github-repo"] && !/^[\w.-]+\/[\w.-]+$/.test(opts["github-repo"])) fail("--github-repo must be owner/name");
  return {
    scalar: {
      Partition: opts.partition ?? [...partitions][0],
      Account: opts.account,
      OidcProvider: opts["oidc-provider"]?.replace(/^https:\/\//, ""),
      Namespace: opts.namespace ?? "rekon",
      ServiceAccount: opts["service-account"] ?? "rekon",
      GitHubRepo: opts["github-repo"],
      GitHubBranch: opts["github-branch"] ?? "main",
      GitHubEnvironment: opts["github-environment"] ?? "production",
      PlanRoleArn: opts["plan-role-arn"],
      ApplyRoleArn: opts["apply-role-arn"],
    },
    lists: { Region: regions, Project: opts.project?.length ? opts.project : ["*"], TargetRoleArn: opts["target-role"] ?? [], RekonRoleArn: opts["rekon-role"] ?? [] },
  };
}

/** Lists a template cannot do without (the statement would mean something else with none). */
const REQUIRED_LISTS = new Set(["RekonRoleArn"]);

const PLACEHOLDER = /\$\{(\w+)\}/g;

/** Every placeholder name a template uses. */
function placeholders(node, out = new Set()) {
  if (typeof node === "string") for (const m of node.matchAll(PLACEHOLDER)) out.add(m[1]);
  else if (Array.isArray(node)) node.forEach((n) => placeholders(n, out));
  else if (node && typeof node === "object") for (const [k, v] of Object.entries(node)) placeholders(k, out), placeholders(v, out);
  return out;
}

/** One string → the strings it stands for (one per combination of the list placeholders it holds). */
function expand(s, v) {
  let outs = [s];
  for (const [name, list] of Object.entries(v.lists)) {
    if (!s.includes(`\${${name}}`)) continue;
    outs = outs.flatMap((o) => list.map((x) => o.replaceAll(`\${${name}}`, x)));
  }
  return outs.map((o) => o.replace(PLACEHOLDER, (_, n) => v.scalar[n]));
}

function render(node, v) {
  if (typeof node === "string") {
    const e = expand(node, v);
    if (e.length !== 1) throw new Error(`"${node}" stands for ${e.length} values where one is needed`);
    return e[0];
  }
  if (Array.isArray(node)) return node.flatMap((n) => (typeof n === "string" ? expand(n, v) : [render(n, v)]));
  if (node && typeof node === "object") {
    const out = {};
    for (const [k, val] of Object.entries(node)) {
      // Resource and condition values may be lists: a placeholder with several values makes one entry each.
      const listy = typeof val === "string" && Object.keys(v.lists).some((n) => val.includes(`\${${n}}`));
      out[render(k, v)] = listy ? expand(val, v) : render(val, v);
    }
    return out;
  }
  return node;
}

function renderPolicy(template, v) {
  const doc = render(template, v);
  // A statement whose resources all came from an empty list (no --target-role) grants nothing: drop it.
  if (Array.isArray(doc.Statement)) doc.Statement = doc.Statement.filter((s) => !(Array.isArray(s.Resource) && s.Resource.length === 0));
  return doc;
}

const USAGE = `usage: node scripts/iam-render.mjs --account ID --region REGION [--region …] --out DIR
       [--project NAME …] [--target-role ARN …] [--oidc-provider HOST/id/ID] [--namespace NS]
       [--service-account NAME] [--github-repo ORG/REPO] [--github-branch BRANCH] [--github-environment ENV]
       [--plan-role-arn ARN --apply-role-arn ARN] [--rekon-role ARN …] [--partition aws|aws-cn|aws-us-gov|…]
Fills in the IAM policy templates of deploy/iam/ and writes each one whose placeholders all have values
to DIR; the others are listed with the flags they need (docs/controller.md, "IAM").
`;

function parseOptions() {
  try {
    return parseArgs({
      options: {
        help: { type: "boolean", short: "h" },
      account: { type: "string" }, region: { type: "string", multiple: true }, partition: { type: "string" },
      project: { type: "string", multiple: true }, "target-role": { type: "string", multiple: true },
      "oidc-provider": { type: "string" }, namespace: { type: "string" }, "service-account": { type: "string" },
      "github-repo": { type: "string" }, "github-branch": { type: "string" }, "github-environment": { type: "string" },
      "plan-role-arn": { type: "string" }, "apply-role-arn": { type: "string" }, "rekon-role": { type: "string", multiple: true }, out: { type: "string" },
      },
    }).values;
  } catch (err) {
    // node:util's parse errors (an unknown flag, a missing value) as one line, never a stack trace.
    fail(`${err.message.replace(/\. To specify a positional argument.*$/s, "")} (node scripts/iam-render.mjs --help for usage)`);
  }
}

function main() {
  const opts = parseOptions();
  if (opts.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (!opts.out) fail("--out DIR is required (node scripts/iam-render.mjs --help for usage)");
  const v = values(opts);
  mkdirSync(opts.out, { recursive: true });
  for (const file of readdirSync(TEMPLATES).filter((f) => f.endsWith(".json")).sort()) {
    const template = JSON.parse(readFileSync(join(TEMPLATES, file), "utf8"));
    // A list that exempts principals from a Deny must not be empty: an empty exemption would deny rekon too.
    const missing = [...placeholders(template)].filter((n) => (n in v.lists ? REQUIRED_LISTS.has(n) && v.lists[n].length === 0 : v.scalar[n] === undefined));
    if (missing.length) {
      process.stdout.write(`skipped ${file}: needs ${missing.map((n) => `--${FLAG_OF[n]}`).join(", ")}\n`);
      continue;
    }
    writeFileSync(join(opts.out, file), JSON.stringify(renderPolicy(template, v), null, 2) + "\n");
    process.stdout.write(`wrote ${join(opts.out, file)}\n`);
  }
}

try {
  main();
} catch (err) {
  // A folder that cannot be written, a template that cannot be read: one line naming it.
  fail(err.code && err.path ? `${err.path}: ${err.code}` : err.message);
}
