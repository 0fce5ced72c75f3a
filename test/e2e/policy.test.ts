// Policy end to end: the built CLI, the real SDK over HTTP, the emulator's own call log as the witness.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ListTagsForResourceCommand, RekognitionClient, TagResourceCommand } from "@aws-sdk/client-rekognition";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fakeAwsProcessEnv, findAwsClis } from "../emulator/env.js";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import type { EmulatorStateFile } from "../../reconciler/emulator/state.js";
import { emulatorEnv, TEST_CREDENTIALS } from "../helpers/emulator-env.js";
import { runCli } from "../helpers/run-cli.js";

const MARK = "rekon.dev/pending-delete-since";
const state = (): EmulatorStateFile => ({
  account: "123456789012",
  projects: [
    {
      name: "models",
      region: "us-east-1",
      age: "400d",
      tags: { "rekon.dev/managed": "true" },
      versions: [
        { name: "keep1", status: "TRAINING_COMPLETED", age: "100d" },
        { name: "old-a", status: "STOPPED", age: "90d" },
        { name: "old-b", status: "STOPPED", age: "80d", tags: { "rekon.dev/protect": "true" } },
        { name: "old-c", status: "STOPPED", age: "70d", tags: { env: "prod" } },
        { name: "old-d", status: "TRAINING_FAILED", age: "60d" },
        { name: "running", status: "RUNNING", age: "50d" },
        { name: "newest", status: "TRAINING_COMPLETED", age: "1h" },
      ],
    },
    { name: "unmanaged", region: "us-east-1", age: "400d", versions: [{ name: "keep1", status: "STOPPED", age: "90d" }, { name: "old-x", status: "STOPPED", age: "90d" }] },
  ],
});

const set = (project: string, versions: string[]) =>
  `apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata: {name: ${project}}\nspec:\n  project: ${project}\n  region: us-east-1\n  versions: [${versions.map((v) => `{name: ${v}}`).join(", ")}]\n`;
const policy = (extra: string) => `apiVersion: rekon.dev/v1alpha1
kind: DeletionPolicy
metadata: {name: ops}
spec:
  allowedAccounts: ["123456789012"]
  minAge: 24h
  keepLatest: 1
  maxDeletesPerRun: 10
${extra}`;

let emu: Emulator;
let dir: string;
let env: Record<string, string>;
let sdk: RekognitionClient;
beforeEach(async () => {
  emu = await startEmulator({ state: state(), deleteDelayMs: 50 });
  dir = mkdtempSync(join(tmpdir(), "rekon-policy-"));
  env = emulatorEnv(emu.url);
  sdk = new RekognitionClient({ region: "us-east-1", endpoint: emu.url, credentials: TEST_CREDENTIALS });
});
afterEach(async () => {
  sdk.destroy();
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

function write(files: Record<string, string>) {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}
const args = (cmd: string, ...more: string[]) => [cmd, "--manifests", join(dir, "m.yaml"), "--policy", join(dir, "p.yaml"), ...more];
// ARNs are taken before anything is deleted (a deleted version is gone from the snapshot).
let arns: Map<string, string>;
beforeEach(() => {
  const p = emu.snapshot().projects.find((x) => x.name === "models")!;
  arns = new Map(p.versions!.map((v) => [v.name, `arn:aws:rekognition:us-east-1:123456789012:project/models/version/${v.name}/${Date.parse(v.createdAt!)}`]));
});
const versionArn = (name: string) => arns.get(name)!;
const calls = (op: string) => emu.calls().filter((c) => c.operation === op && c.outcome === "ok");
async function tagsOf(name: string) {
  return (await sdk.send(new ListTagsForResourceCommand({ ResourceArn: versionArn(name) }))).Tags ?? {};
}

describe("protect tags, ownership and CEL rules", () => {
  it("blocks protected and rule-denied versions, skips an unmanaged project, and reads tags only for candidates", async () => {
    write({
      "m.yaml": set("models", ["keep1"]) + "---\n" + set("unmanaged", ["keep1"]),
      "p.yaml": policy(`  protectTags: {"rekon.dev/protect": "true"}
  requireProjectTag: {"rekon.dev/managed": "true"}
  rules:
    - name: no-prod
      deny: '"env" in version.tags && version.tags["env"] == "prod"'
      message: production versions are deleted by hand
`),
    });
    const r = await runCli(args("plan", "--output", "json"), { env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(2);
    const plan = JSON.parse(r.stdout);
    const by = (n: string) => plan.actions.find((a: { versionName: string; project: string }) => a.project === "models" && a.versionName === n);
    expect(by("old-b")).toMatchObject({ action: "blocked", reasons: [{ rule: "protectedTag", layer: `operator policy ${join(dir, "p.yaml")}` }] });
    expect(by("old-c")).toMatchObject({ action: "blocked", reasons: [{ rule: "no-prod", message: "production versions are deleted by hand" }] });
    expect(by("old-a").action).toBe("delete");
    expect(by("old-d").action).toBe("delete");
    expect(plan.projects.find((p: { project: string }) => p.project === "unmanaged")).toMatchObject({ status: "notManaged", error: expect.stringContaining("rekon.dev/managed=true") });
    expect(plan.actions.filter((a: { project: string }) => a.project === "unmanaged")).toEqual([]);

    // Candidates are old-a..old-d (running, newest and keep1 are decided without tags), plus one read
    // per project for requireProjectTag.
    const tagReads = emu.calls().filter((c) => c.operation === "ListTagsForResource").map((c) => c.target);
    expect(tagReads.sort()).toEqual([versionArn("old-a"), versionArn("old-b"), versionArn("old-c"), versionArn("old-d"), ...emu.snapshot().projects.map((p) => `arn:aws:rekognition:us-east-1:123456789012:project/${p.name}/${Date.parse(p.createdAt!)}`)].sort());

    const applied = await runCli(args("apply", "--auto-approve", "--output", "json"), { env });
    expect(applied.code).toBe(0);
    expect(calls("DeleteProjectVersion").map((c) => c.target).sort()).toEqual([versionArn("old-a"), versionArn("old-d")].sort());
  });

  it("validate fails on a CEL type error, at the rule, without any AWS call", async () => {
    write({ "m.yaml": set("models", ["keep1"]), "p.yaml": policy(`  rules:\n    - name: typo\n      deny: 'version.ageHours > "48"'\n      message: x\n`) });
    for (const cmd of ["validate", "plan", "apply"]) {
      const r = await runCli(args(cmd, ...(cmd === "apply" ? ["--auto-approve"] : [])), { env });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`${join(dir, "p.yaml").replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}:11:13: spec\\.rules\\[0\\]\\.deny: CEL TypeError`));
    }
    expect(emu.calls()).toEqual([]);
  });
});

describe("grace period (two-phase delete)", () => {
  it("run 1 marks, run 2 deletes nothing, a re-listed version loses its mark, run 3 past the period deletes", async () => {
    write({ "m.yaml": set("models", ["keep1"]), "p.yaml": policy("  gracePeriod: 72h\n") });

    // plan never writes
    const planned = await runCli(args("plan", "--output", "json"), { env });
    expect(planned.code).toBe(0);
    const a = JSON.parse(planned.stdout).actions.find((x: { versionName: string }) => x.versionName === "old-a");
    expect(a).toMatchObject({ action: "blocked", mark: "add", reasons: [{ rule: "gracePeriod" }] });
    expect(Date.parse(a.deletableAt) - Date.now()).toBeGreaterThan(71 * 3_600_000);
    expect(calls("TagResource")).toEqual([]);

    // run 1: marks the two deletable versions, deletes nothing
    const run1 = await runCli(args("apply", "--auto-approve", "--output", "json"), { env });
    expect(run1.code).toBe(0);
    expect(JSON.parse(run1.stdout).results.map((r: { versionName: string; operation: string }) => `${r.operation}:${r.versionName}`).sort()).toEqual(["mark:old-a", "mark:old-b", "mark:old-c", "mark:old-d"]);
    expect(calls("DeleteProjectVersion")).toEqual([]);
    const mark = (await tagsOf("old-a"))[MARK]!;
    expect(Date.parse(mark)).toBeGreaterThan(Date.now() - 60_000);

    // The mark is visible to independent clients: every AWS CLI installed here (skipped, saying so, only
    // where none is installed; a CLI that is there and fails fails the test).
    const clis = findAwsClis();
    if (clis.length === 0) console.log("AWS CLI check skipped: no aws CLI installed");
    for (const cli of clis) {
      const aws = await promisify(execFile)(cli.path, ["rekognition", "list-tags-for-resource", "--resource-arn", versionArn("old-a"), "--endpoint-url", emu.url, "--region", "us-east-1", "--output", "json"], { env: fakeAwsProcessEnv(), timeout: 30_000 });
      expect(JSON.parse(aws.stdout).Tags[MARK], cli.path).toBe(mark);
    }

    // run 2, within the grace period: nothing deleted, nothing re-marked
    emu.resetCalls();
    const run2 = await runCli(args("apply", "--auto-approve"), { env });
    expect(run2.code).toBe(0);
    expect(calls("DeleteProjectVersion")).toEqual([]);
    expect(calls("TagResource")).toEqual([]);

    // old-d is listed again; the grace period has passed for the others (marks set 100 h back)
    for (const n of ["old-a", "old-b", "old-c", "old-d"]) {
      await sdk.send(new TagResourceCommand({ ResourceArn: versionArn(n), Tags: { [MARK]: new Date(Date.now() - 100 * 3_600_000).toISOString() } }));
    }
    write({ "m.yaml": set("models", ["keep1", "old-d"]) });
    emu.resetCalls();
    const run3 = await runCli(args("apply", "--auto-approve", "--output", "json"), { env });
    expect(run3.code).toBe(0);
    expect(calls("DeleteProjectVersion").map((c) => c.target).sort()).toEqual([versionArn("old-a"), versionArn("old-b"), versionArn("old-c")].sort());
    expect(calls("UntagResource").map((c) => c.target)).toEqual([versionArn("old-d")]);
    expect(await tagsOf("old-d")).toEqual({});
    // Four CLI runs and every installed AWS CLI: generous on a loaded machine.
  }, 120_000);
});
