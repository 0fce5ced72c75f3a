// A malformed AWS answer is a failed read, never data (issue #21, case 3). Each attack answers HTTP 200 with
// a body that does not fit the service model (a member left out, or of the wrong type), through the `rekon`
// binary against the emulator; each once made rekon delete a protected version, or report success.
import { afterEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator, type EmulatorStateFile, type FaultRule } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { runCli } from "../helpers/run-cli.js";
import { tmpTree } from "../helpers/tmp.js";

const ACCOUNT = "123456789012";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/rekon`;
const FAST = ["--retries", "2", "--retry-max-time", "2s"];

let emu: Emulator | undefined;
let tree: ReturnType<typeof tmpTree> | undefined;
afterEach(async () => {
  await emu?.close();
  tree?.cleanup();
  emu = undefined;
  tree = undefined;
});

function set(name: string, project: string, versions: string[], extra = ""): string {
  const head = `apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata:\n  name: ${name}\nspec:\n  project: ${project}\n  region: us-east-1\n`;
  return `${head}${extra}  versions:\n${versions.map((v) => `    - name: "${v}"`).join("\n")}\n`;
}

function policy(extra = ""): string {
  const head = `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata:\n  name: gate\nspec:\n  allowedAccounts: ["${ACCOUNT}"]\n`;
  return `${head}  minAge: 1h\n  keepLatest: 0\n  maxDeletesPerRun: 50\n${extra}`;
}

/** One project: a listed version, and an unlisted one old enough to delete. */
const KEEP_AND_OLD: EmulatorStateFile = {
  account: ACCOUNT,
  projects: [{ name: "p", versions: [{ name: "keep", status: "STOPPED", age: "1d" }, { name: "old", status: "STOPPED", age: "300d" }] }],
};

async function world(state: EmulatorStateFile, files: Record<string, string>, rules: FaultRule[]) {
  emu = await startEmulator({ state, deleteDelayMs: 50, faults: { rules } });
  tree = tmpTree(files);
  return { emu, env: emulatorEnv(emu.url), args: ["--manifests", tree.path("m"), "--policy", tree.path("policy.yaml"), ...FAST] };
}

type Action = { versionName: string; action: string; reasons: { rule: string; message: string }[] };
type Result = { versionName: string; operation: string; result: string; code?: string; error?: string };
const actionOf = (plan: { actions: Action[] }, name: string) => plan.actions.find((a) => a.versionName === name)!;
const resultOf = (out: { results: Result[] }, name: string) => out.results.find((r) => r.versionName === name)!;
const deletes = () => emu!.calls().filter((c) => c.operation === "DeleteProjectVersion");
const READS = ["DescribeProjects", "DescribeProjectVersions", "ListTagsForResource"];
const REKOGNITION = new Set([...READS, "DeleteProjectVersion", "StopProjectVersion", "TagResource", "UntagResource"]);

describe("(a) ListTagsForResource answers 200 without Tags, or with Tags of the wrong type", () => {
  const state: EmulatorStateFile = {
    account: ACCOUNT,
    projects: [
      {
        name: "p",
        versions: [
          { name: "keep", status: "STOPPED", age: "1d" },
          { name: "held", status: "STOPPED", age: "300d", tags: { legal: "hold" } },
        ],
      },
    ],
  };
  const files = { "m/p.yaml": set("p", "p", ["keep"]), "policy.yaml": policy('  protectTags: {"legal": "hold"}\n') };

  it.each([
    { how: "without Tags", answer: { omit: ["Tags"] }, path: "$.Tags" },
    { how: "Tags a list", answer: { set: { Tags: [] } }, path: "$.Tags" },
    { how: "a tag value a number", answer: { set: { "Tags.legal": 5 } }, path: '$.Tags["legal"]' },
  ])("$how: the protected version is blocked tagsUnreadable, plan and apply exit 1, no delete", async ({ answer, path }) => {
    const w = await world(state, files, [{ operation: "ListTagsForResource", arn: "/version/held/", answer }]);
    const p = await runCli(["plan", ...w.args, "--output", "json"], { env: w.env });
    expect(p.code).toBe(1);
    const held = actionOf(JSON.parse(p.stdout), "held");
    expect(held.action).toBe("blocked");
    expect(held.reasons.map((r) => r.rule)).toEqual(["tagsUnreadable"]);
    expect(held.reasons[0]!.message).toContain("MalformedAnswer");
    expect(held.reasons[0]!.message).toContain(path);

    const a = await runCli(["apply", ...w.args, "--auto-approve"], { env: w.env });
    expect(a.code).toBe(1);
    expect(a.stderr).toContain("some reads failed");
    expect(deletes()).toEqual([]);
    // The answer is not retried: the same answer would come again.
    expect(w.emu.callCount("ListTagsForResource")).toBe(2);
  });
});

describe("(b) DescribeProjectVersions answers 200 without the list, or with a member of the wrong type", () => {
  const copyState: EmulatorStateFile = {
    account: ACCOUNT,
    projects: [
      { name: "src", versions: [{ name: "v4", status: "STOPPED", age: "40d" }, { name: "v5", status: "STOPPED", age: "10d" }] },
      {
        name: "copyto",
        versions: [{ name: "c1", status: "STOPPED", age: "20d" }, { name: "copy-of-v4", status: "COPYING_IN_PROGRESS", age: "2d", sourceVersion: "src/v4" }],
      },
    ],
  };
  const copyFiles = { "m/src.yaml": set("src", "src", ["v5"]), "m/copyto.yaml": set("copyto", "copyto", ["c1", "copy-of-v4"]), "policy.yaml": policy() };

  it.each([
    { how: "copyto's answer without ProjectVersionDescriptions", answer: { omit: ["ProjectVersionDescriptions"] }, path: "$.ProjectVersionDescriptions" },
    {
      how: "copyto's copy with SourceProjectVersionArn a number",
      answer: { set: { "ProjectVersionDescriptions.*.SourceProjectVersionArn": 42 } },
      path: "$.ProjectVersionDescriptions[1].SourceProjectVersionArn",
    },
  ])("$how: copyto is an error, the copy's source in src is blocked copySourceUnknown, exit 1, nothing deleted", async ({ answer, path }) => {
    const w = await world(copyState, copyFiles, [{ operation: "DescribeProjectVersions", arn: "project/copyto/", answer }]);
    const p = await runCli(["plan", ...w.args, "--output", "json"], { env: w.env });
    expect(p.code).toBe(1);
    const plan = JSON.parse(p.stdout);
    const copyto = plan.projects.find((x: { project: string }) => x.project === "copyto");
    expect(copyto).toMatchObject({ status: "error" });
    expect(copyto.error).toContain("MalformedAnswer");
    expect(copyto.error).toContain(path);
    expect(actionOf(plan, "v4").reasons.map((r) => r.rule)).toEqual(["copySourceUnknown"]);
    expect(plan.actions.filter((a: Action) => a.action === "missing")).toEqual([]);

    const a = await runCli(["apply", ...w.args, "--auto-approve"], { env: w.env });
    expect(a.code).toBe(1);
    expect(deletes()).toEqual([]);
  });

  it("no copy anywhere: the project is an error, its listed versions are not reported missing, plan and apply exit 1", async () => {
    const rule = { operation: "DescribeProjectVersions", answer: { omit: ["ProjectVersionDescriptions"] } };
    const w = await world(KEEP_AND_OLD, { "m/p.yaml": set("p", "p", ["keep"]), "policy.yaml": policy() }, [rule]);
    const p = await runCli(["plan", ...w.args, "--output", "json"], { env: w.env });
    expect(p.code).toBe(1);
    const plan = JSON.parse(p.stdout);
    expect(plan.projects).toEqual([expect.objectContaining({ project: "p", status: "error" })]);
    expect(plan.summary).toMatchObject({ delete: 0, missing: 0 });
    expect(plan.actions.filter((a: Action) => a.action === "missing")).toEqual([]);
    const a = await runCli(["apply", ...w.args, "--auto-approve"], { env: w.env });
    expect(a.code).toBe(1);
    expect(deletes()).toEqual([]);
  });
});

describe("(c) the same answers at the last look before deleting", () => {
  const state = KEEP_AND_OLD;

  // The last look first reads the project's newest versions (one page; for a small project, the whole
  // listing), then, in a large project, the candidates it did not see there by name.
  const MANY: EmulatorStateFile = {
    account: ACCOUNT,
    projects: [{ name: "p", versions: [{ name: "keep", status: "STOPPED", age: "1d" }, ...Array.from({ length: 150 }, (_, i) => ({ name: `n${i}`, status: "STOPPED" as const, age: `${i + 10}s` })), { name: "old", status: "STOPPED", age: "300d" }] }],
  };
  it.each([
    { how: "without ProjectVersionDescriptions", read: "newest", answer: { omit: ["ProjectVersionDescriptions"] } },
    { how: "with CreationTimestamp a word (the SDK throws)", read: "newest", answer: { set: { "ProjectVersionDescriptions.*.CreationTimestamp": "yesterday" } } },
    { how: "without ProjectVersionDescriptions", read: "by name", answer: { omit: ["ProjectVersionDescriptions"] } },
    { how: "with CreationTimestamp a word (the SDK throws)", read: "by name", answer: { set: { "ProjectVersionDescriptions.*.CreationTimestamp": "yesterday" } } },
  ])("DescribeProjectVersions ($read) $how: the batch is skipped, exit 1, no delete", async ({ read, answer }) => {
    const rules: FaultRule[] =
      read === "by name"
        ? [{ operation: "DescribeProjectVersions", hasMember: "VersionNames", answer }]
        : // The plan's read (its two pages) is answered as it should be; the last look's is not.
          [{ operation: "DescribeProjectVersions", delayMs: 0, times: 1 }, { operation: "DescribeProjectVersions", answer }];
    const w = await world(read === "by name" ? MANY : state, { "m/p.yaml": set("p", "p", ["keep"]), "policy.yaml": policy() }, rules);
    const a = await runCli(["apply", ...w.args, "--auto-approve", "--output", "json"], { env: w.env });
    expect(a.code).toBe(1);
    const old = resultOf(JSON.parse(a.stdout), "old");
    expect(old).toMatchObject({ result: "skipped" });
    expect(old.error).toContain("last look");
    expect(old.error).toContain("MalformedAnswer");
    expect(deletes().map((c) => c.target)).not.toContain(expect.stringContaining("/version/old/"));
  });

  it("ListTagsForResource at the last look without Tags, for a version tagged legal=hold after the plan read its tags: not deleted, exit 1", async () => {
    const w = await world(state, { "m/p.yaml": set("p", "p", ["keep"]), "policy.yaml": policy('  protectTags: {"legal": "hold"}\n') }, [
      // The plan's read of the tags is answered as it should be; every later one (the last look's) is not.
      { operation: "ListTagsForResource", arn: "/version/old/", delayMs: 0, times: 1 },
      { operation: "ListTagsForResource", arn: "/version/old/", answer: { omit: ["Tags"] } },
    ]);
    const created = Date.parse(w.emu.snapshot().projects[0]!.versions!.find((v) => v.name === "old")!.createdAt!);
    const arn = `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/p/version/old/${created}`;
    let tagged = false;
    const stop = w.emu.onCall((c) => {
      if (!tagged && c.phase === "answered" && c.operation === "ListTagsForResource") {
        tagged = true;
        w.emu.updateVersion(arn, { tags: { legal: "hold" } });
      }
    });
    const a = await runCli(["apply", ...w.args, "--auto-approve", "--output", "json"], { env: w.env });
    stop();
    expect(tagged).toBe(true);
    expect(a.code).toBe(1);
    const old = resultOf(JSON.parse(a.stdout), "old");
    expect(old.result).not.toBe("accepted");
    expect(JSON.stringify(old)).toContain("tagsUnreadable");
    expect(deletes()).toEqual([]);
    expect(w.emu.callCount("ListTagsForResource")).toBe(2);
  });
});

describe("(d) a write answered 200 with a malformed body may have happened: unknown, exit 1", () => {
  const state = KEEP_AND_OLD;

  it.each([
    { how: "without Status", answer: { omit: ["Status"] }, path: "$.Status" },
    { how: "with Status a number", answer: { set: { Status: 5 } }, path: "$.Status" },
  ])("DeleteProjectVersion $how", async ({ answer, path }) => {
    const w = await world(state, { "m/p.yaml": set("p", "p", ["keep"]), "policy.yaml": policy() }, [{ operation: "DeleteProjectVersion", answer }]);
    const a = await runCli(["apply", ...w.args, "--auto-approve", "--output", "json"], { env: w.env });
    expect(a.code).toBe(1);
    const old = resultOf(JSON.parse(a.stdout), "old");
    expect(old).toMatchObject({ operation: "delete", result: "unknown", code: "MalformedAnswer" });
    expect(old.error).toContain(path);
    // Sent once: a write whose answer cannot be read is not sent again.
    expect(deletes().length).toBe(1);
  });
});

describe("(e) STS answers that cannot be verified: the identity is unresolved, nothing is read or written", () => {
  const state = KEEP_AND_OLD;

  it.each([
    { how: "GetCallerIdentity without Account", role: false, rule: { operation: "GetCallerIdentity", answer: { omit: ["Account"] } } },
    { how: "GetCallerIdentity without Arn", role: false, rule: { operation: "GetCallerIdentity", answer: { omit: ["Arn"] } } },
    { how: "AssumeRole without a SessionToken", role: true, rule: { operation: "AssumeRole", answer: { omit: ["Credentials.SessionToken"] } } },
    {
      how: "AssumeRole with Expiration a word (the SDK throws)",
      role: true,
      rule: { operation: "AssumeRole", answer: { set: { "Credentials.Expiration": "yesterday" } } },
    },
  ])("$how", async ({ role, rule }) => {
    const w = await world(state, { "m/p.yaml": set("p", "p", ["keep"], role ? `  roleArn: ${ROLE}\n` : ""), "policy.yaml": policy() }, [rule]);
    const p = await runCli(["plan", ...w.args, "--output", "json"], { env: w.env });
    expect(p.code).toBe(1);
    expect(p.stdout + p.stderr).toContain("MalformedAnswer");
    const a = await runCli(["apply", ...w.args, "--auto-approve"], { env: w.env });
    expect(a.code).toBe(1);
    expect(w.emu.calls().filter((c) => REKOGNITION.has(c.operation))).toEqual([]);
  });
});
