// Believe nothing unverified: each way rekon was made to delete a version it had to keep (or to report
// success for something that failed) by believing an input it had not checked — its own clock, a "not
// found" answer, a last look that read only the names it expected — reproduced through the `rekon` binary
// against the emulator. Each test fails on the code before the fix.
import { CopyProjectVersionCommand, DeleteProjectVersionCommand, RekognitionClient } from "@aws-sdk/client-rekognition";
import { afterEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator, type EmulatorStateFile } from "../../reconciler/emulator/server.js";
import { emulatorEnv, TEST_CREDENTIALS } from "../helpers/emulator-env.js";
import { runCli, startCli } from "../helpers/run-cli.js";
import { tmpTree } from "../helpers/tmp.js";

const ACCOUNT = "123456789012";
const MARK = "rekon.dev/pending-delete-since";
const HOUR = 3_600_000;

let emu: Emulator | undefined;
let tree: ReturnType<typeof tmpTree> | undefined;
afterEach(async () => {
  await emu?.close();
  tree?.cleanup();
  emu = undefined;
  tree = undefined;
});

function set(name: string, project: string, versions: string[]): string {
  return `apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata:\n  name: ${name}\nspec:\n  project: ${project}\n  region: us-east-1\n  versions:\n${versions.map((v) => `    - name: "${v}"`).join("\n")}\n`;
}

function policy(extra = ""): string {
  return `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata:\n  name: trust\nspec:\n  allowedAccounts: ["${ACCOUNT}"]\n  minAge: 24h\n  keepLatest: 0\n  maxDeletesPerRun: 50\n${extra}`;
}

async function world(state: EmulatorStateFile, files: Record<string, string>, opts: Parameters<typeof startEmulator>[0] = {}) {
  emu = await startEmulator({ state, deleteDelayMs: 60_000, ...opts });
  tree = tmpTree(files);
  return { emu, tree, env: emulatorEnv(emu.url), M: ["--manifests", tree.path("m")], P: ["--policy", tree.path("policy.yaml")] };
}

const calls = (op: string) => emu!.calls().filter((c) => c.operation === op);
const deleted = () => calls("DeleteProjectVersion").filter((c) => c.outcome === "ok").map((c) => c.target!);
function versionArn(project: string, name: string): string {
  const state = emu!.snapshot();
  const p = state.projects.find((x) => x.name === project)!;
  const v = p.versions!.find((x) => x.name === name)!;
  return `arn:aws:rekognition:us-east-1:${p.account ?? state.account}:project/${project}/version/${name}/${Date.parse(v.createdAt!)}`;
}
function projectArn(project: string): string {
  const p = emu!.snapshot().projects.find((x) => x.name === project)!;
  return `arn:aws:rekognition:us-east-1:${p.account ?? ACCOUNT}:project/${project}/${Date.parse(p.createdAt!)}`;
}
const sdk = () => new RekognitionClient({ region: "us-east-1", endpoint: emu!.url, credentials: TEST_CREDENTIALS });

describe("#21.4 the last look sees versions created in the candidate's project since the plan", () => {
  const state: EmulatorStateFile = { account: ACCOUNT, projects: [{ name: "p", versions: [{ name: "keep", status: "STOPPED", age: "2d" }, { name: "v1", status: "STOPPED", age: "40d" }] }] };

  it.each([
    { how: "a copy of v1 (its source named)", copyOf: "v1", rule: "copySource" },
    { how: "a copy of the listed version (another source)", copyOf: "keep", rule: undefined },
  ])("$how started in the project between the plan's read and the last look", async ({ copyOf, rule }) => {
    // The other possible AWS answer (unverified): a copy in progress does NOT stop its source's deletion, so
    // only rekon's own look can keep the source.
    const w = await world(state, { "m/p.yaml": set("p", "p", ["keep"]), "policy.yaml": policy() }, { copyPinsSource: false, copyDelayMs: 120_000 });
    // The plan's read passes; the last look's first read is held while the copy is started.
    w.emu.setFaults({ rules: [{ operation: "DescribeProjectVersions", delayMs: 0, times: 1 }, { operation: "DescribeProjectVersions", delayMs: 1_500, times: 1 }] });
    const run = startCli(["apply", ...w.M, ...w.P, "--auto-approve", "--output", "json"], { env: w.env, timeoutMs: 60_000 });
    // The second DescribeProjectVersions to arrive is the last look's (the first, the plan's, was answered).
    await w.emu.waitForCall((c) => c.operation === "DescribeProjectVersions" && c.phase === "received" && calls("DescribeProjectVersions").length === 1, 20_000);
    const c = sdk();
    await c.send(new CopyProjectVersionCommand({ SourceProjectArn: projectArn("p"), SourceProjectVersionArn: versionArn("p", copyOf), DestinationProjectArn: projectArn("p"), VersionName: `${copyOf}-copy`, OutputConfig: { S3Bucket: "bucket" } }));
    c.destroy();
    const r = await run.done;
    const v1 = JSON.parse(r.stdout).results.find((x: { versionName: string }) => x.versionName === "v1");
    if (rule) {
      expect(r.code).toBe(1);
      expect(v1).toMatchObject({ result: "changed", operation: "delete" });
      expect(v1.reasons.map((x: { rule: string }) => x.rule)).toContain(rule);
      expect(v1.error).toContain("v1-copy");
      expect(deleted()).toEqual([]);
    } else {
      // A copy of another version changes nothing for v1.
      expect(r.code).toBe(0);
      expect(v1).toMatchObject({ result: "accepted" });
    }
  }, 60_000);
});

describe("#21.6 rekon checks its own clock against AWS's", () => {
  const young: EmulatorStateFile = { account: ACCOUNT, projects: [{ name: "p", versions: [{ name: "keep", status: "STOPPED", age: "3d" }, { name: "young", status: "STOPPED", age: "2h" }, { name: "old", status: "STOPPED", age: "30d" }] }] };

  it("the host clock 48 h ahead of AWS: a 2-hour-old version does not pass minAge 24h; nothing is written, exit 1, both times printed", async () => {
    // AWS's clock (the emulator's) is 48 h behind the host's: its ages, its Date header and its signature check.
    const w = await world(young, { "m/p.yaml": set("p", "p", ["keep"]), "policy.yaml": policy() }, { clockSkewMs: -48 * HOUR, now: () => Date.now() - 48 * HOUR });
    const p = await runCli(["plan", ...w.M, ...w.P, "--output", "json"], { env: w.env });
    expect(p.code).toBe(1);
    const plan = JSON.parse(p.stdout);
    expect(plan.refusals.map((x: { rule: string }) => x.rule)).toEqual(["clockSkew"]);
    const why = plan.refusals[0].message as string;
    expect(why).toMatch(/local clock \(\d{4}-\d\d-\d\dT[\d:.]+Z\) is 48 h ahead of AWS's \(\d{4}-\d\d-\d\dT[\d:.]+Z/);
    const a = await runCli(["apply", ...w.M, ...w.P, "--auto-approve"], { env: w.env });
    expect(a.code).toBe(1);
    expect(a.stdout + a.stderr).toContain("clockSkew");
    expect(w.emu.calls().filter((c) => ["DeleteProjectVersion", "TagResource", "UntagResource", "StopProjectVersion"].includes(c.operation))).toEqual([]);
  });

  it("the host clock 80 h behind: no mark is written that a later run would read as long expired", async () => {
    const w = await world(young, { "m/p.yaml": set("p", "p", ["keep"]), "policy.yaml": policy("  gracePeriod: 72h\n") }, { clockSkewMs: 80 * HOUR, now: () => Date.now() + 80 * HOUR });
    const a = await runCli(["apply", ...w.M, ...w.P, "--auto-approve", "--output", "json"], { env: w.env });
    expect(a.code).toBe(1);
    expect(JSON.parse(a.stdout).error).toMatchObject({ rule: "clockSkew" });
    expect(calls("TagResource")).toEqual([]);
    expect(emu!.snapshot().projects[0]!.versions!.find((v) => v.name === "old")!.tags ?? {}).not.toHaveProperty(MARK);
  });

  it("within the bound, marks are dated by AWS's clock, not the host's", async () => {
    const skew = 3 * 60_000;
    const w = await world(young, { "m/p.yaml": set("p", "p", ["keep"]), "policy.yaml": policy("  gracePeriod: 72h\n") }, { clockSkewMs: skew, now: () => Date.now() + skew });
    const a = await runCli(["apply", ...w.M, ...w.P, "--auto-approve"], { env: w.env });
    expect(a.code).toBe(0);
    const mark = Date.parse(emu!.snapshot().projects[0]!.versions!.find((v) => v.name === "old")!.tags![MARK]!);
    // Dated within a few seconds of AWS's time, 3 minutes after the host's.
    expect(Math.abs(mark - (Date.now() + skew))).toBeLessThan(15_000);
    expect(Math.abs(mark - Date.now())).toBeGreaterThan(skew - 15_000);
  });
});

describe("#21.7 a ResourceNotFound answer to a delete is confirmed by a read", () => {
  const state: EmulatorStateFile = { account: ACCOUNT, projects: [{ name: "p", versions: [{ name: "keep", status: "STOPPED", age: "2d" }, { name: "x", status: "STOPPED", age: "40d" }] }] };

  it.each([[], ["--wait"]])("the version is still there: result unknown, exit 1 %j", async (...extra) => {
    const w = await world(state, { "m/p.yaml": set("p", "p", ["keep"]), "policy.yaml": policy() });
    w.emu.setFaults({ rules: [{ operation: "DeleteProjectVersion", code: "ResourceNotFoundException" }] });
    const a = await runCli(["apply", ...w.M, ...w.P, "--auto-approve", "--output", "json", ...extra.flat()], { env: w.env, timeoutMs: 60_000 });
    expect(a.code).toBe(1);
    const x = JSON.parse(a.stdout).results.find((r: { versionName: string }) => r.versionName === "x");
    expect(x).toMatchObject({ result: "unknown", code: "ResourceNotFoundException", status: "STOPPED" });
    expect(x.error).toContain("a read still lists it (status STOPPED)");
    expect(emu!.snapshot().projects[0]!.versions!.map((v) => v.name)).toContain("x");
  }, 60_000);

  it("the version really went (deleted behind rekon's back): alreadyDeleted, confirmed, exit 0", async () => {
    const w = await world(state, { "m/p.yaml": set("p", "p", ["keep"]), "policy.yaml": policy() });
    w.emu.setFaults({ rules: [{ operation: "DeleteProjectVersion", code: "ResourceNotFoundException", delayMs: 1_500, times: 1 }] });
    const run = startCli(["apply", ...w.M, ...w.P, "--auto-approve", "--output", "json"], { env: w.env, timeoutMs: 60_000 });
    await w.emu.waitForCall((c) => c.operation === "DeleteProjectVersion" && c.phase === "received", 20_000);
    const c = sdk();
    await c.send(new DeleteProjectVersionCommand({ ProjectVersionArn: versionArn("p", "x") }));
    c.destroy();
    const r = await run.done;
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).results.find((x: { versionName: string }) => x.versionName === "x")).toMatchObject({ result: "alreadyDeleted", code: "ResourceNotFoundException" });
  }, 60_000);

  it("--wait says what it saw of a version still present", async () => {
    const w = await world(state, { "m/p.yaml": set("p", "p", ["keep"]), "policy.yaml": policy() }, { deleteDelayMs: 600_000 });
    const a = await runCli(["apply", ...w.M, ...w.P, "--auto-approve", "--wait", "--wait-timeout", "3s", "--output", "json"], { env: w.env, timeoutMs: 60_000 });
    const out = JSON.parse(a.stdout);
    expect(out.stillPresent).toEqual([versionArn("p", "x")]);
    expect(out.lastSeen).toEqual({ [versionArn("p", "x")]: "DELETING" });
    expect(a.code).toBe(1);
  }, 60_000);
});

describe("#21.5 rekon's state tags are tamper-evident under spec.tagSigning", () => {
  const KEY = "k".repeat(20) + "-a-long-enough-secret-key";
  const OTHER = "z".repeat(20) + "-another-long-secret-key-";
  const NOTICE = "rekon.dev/notice-delivered-at";
  const ago = (h: number) => new Date(Date.now() - h * HOUR).toISOString().replace(/\.\d{3}Z$/, "Z");
  const signing = "  tagSigning:\n    secret: {fromEnv: REKON_TAG_KEY}\n";
  // A webhook nobody listens on: the notice cannot be delivered.
  const notice = "  requireNotice: true\n  notifications:\n    - name: ops\n      url: {fromEnv: REKON_HOOK}\n      events: [marked]\n";
  const hookEnv = { REKON_HOOK: "http://127.0.0.1:9/hook" };
  const forgedState = (mark: string, noticeTag: string): EmulatorStateFile => ({ account: ACCOUNT, projects: [{ name: "p", versions: [{ name: "keep", status: "STOPPED", age: "2d" }, { name: "old", status: "STOPPED", age: "40d", tags: { [MARK]: mark, [NOTICE]: noticeTag } }] }] });

  it.each([
    { how: "unsigned (written by a principal with TagResource only)", mark: ago(240), notice: ago(230), rule: "markUnsigned" },
    { how: "signed with a made-up signature", mark: `${ago(240)} hmac1:${"A".repeat(43)}`, notice: `${ago(230)} hmac1:${"B".repeat(43)}`, rule: "markForged" },
  ])("a backdated mark and notice, $how, count as none: rewritten signed, not deleted, no receiver needed to be contacted", async ({ mark, notice: n, rule }) => {
    const w = await world(forgedState(mark, n), { "m/p.yaml": set("p", "p", ["keep"]), "policy.yaml": policy(`  gracePeriod: 72h\n${notice}${signing}`) });
    const env = { ...w.env, ...hookEnv, REKON_TAG_KEY: KEY };
    const p = await runCli(["plan", ...w.M, ...w.P, "--output", "json"], { env });
    const old = JSON.parse(p.stdout).actions.find((a: { versionName: string }) => a.versionName === "old");
    expect(old).toMatchObject({ action: "blocked", mark: "add" });
    expect(old.reasons.map((r: { rule: string }) => r.rule)).toEqual(expect.arrayContaining([rule, "gracePeriod"]));
    const a = await runCli(["apply", ...w.M, ...w.P, "--auto-approve", "--output", "json"], { env });
    expect(deleted()).toEqual([]);
    const tags = emu!.snapshot().projects[0]!.versions!.find((v) => v.name === "old")!.tags!;
    // The mark is rekon's own now: dated now, signed.
    expect(tags[MARK]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ hmac1:[A-Za-z0-9_-]{43}$/);
    expect(Date.now() - Date.parse(tags[MARK]!.split(" ")[0]!)).toBeLessThan(60_000);
    expect(a.stdout).toContain('"result": "accepted"');
  }, 60_000);

  it("marks rekon signed are believed (deleted after the grace period); a rotated key restarts the period, never shortens it", async () => {
    const st: EmulatorStateFile = { account: ACCOUNT, projects: [{ name: "p", versions: [{ name: "keep", status: "STOPPED", age: "2d" }, { name: "old", status: "STOPPED", age: "40d" }, { name: "old2", status: "STOPPED", age: "40d" }] }] };
    const w = await world(st, { "m/p.yaml": set("p", "p", ["keep"]), "policy.yaml": policy(`  gracePeriod: 2s\n${signing}`) });
    const marked = await runCli(["apply", ...w.M, ...w.P, "--auto-approve"], { env: { ...w.env, REKON_TAG_KEY: KEY } });
    expect(marked.code).toBe(0);
    expect(calls("TagResource").length).toBe(2);
    const since = Date.parse(emu!.snapshot().projects[0]!.versions!.find((v) => v.name === "old")!.tags![MARK]!.split(" ")[0]!);
    // Wait out the grace period on the emulator's clock, as a person would.
    await new Promise((r) => setTimeout(r, Math.max(0, since + 3_000 - Date.now())));
    // Rotated key: both marks no longer verify; they are written again, nothing is deleted.
    const rotated = await runCli(["apply", ...w.M, ...w.P, "--auto-approve", "--output", "json"], { env: { ...w.env, REKON_TAG_KEY: OTHER } });
    expect(rotated.code).toBe(0);
    expect(deleted()).toEqual([]);
    expect(JSON.parse(rotated.stdout).actions.filter((a: { mark?: string }) => a.mark === "add").length).toBe(2);
    const since2 = Date.parse(emu!.snapshot().projects[0]!.versions!.find((v) => v.name === "old")!.tags![MARK]!.split(" ")[0]!);
    await new Promise((r) => setTimeout(r, Math.max(0, since2 + 3_000 - Date.now())));
    const done = await runCli(["apply", ...w.M, ...w.P, "--auto-approve"], { env: { ...w.env, REKON_TAG_KEY: OTHER } });
    expect(done.code).toBe(0);
    expect(deleted().length).toBe(2);
  }, 60_000);

  it("the key is the operator's: a manifest layer that sets it is a validation error; a key that cannot be read stops the run before any call", async () => {
    const layer = `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata:\n  name: mine\nspec:\n  selector: {projects: [p]}\n${signing}`;
    const w = await world(forgedState(ago(1), ago(1)), { "m/p.yaml": set("p", "p", ["keep"]), "m/layer.yaml": layer, "policy.yaml": policy(`  gracePeriod: 72h\n${signing}`) });
    const v = await runCli(["validate", ...w.M, ...w.P], { env: {} });
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/layer\.yaml:\d+:\d+: spec\.tagSigning: tagSigning is set by the operator only/);
    w.tree.cleanup();
    tree = tmpTree({ "m/p.yaml": set("p", "p", ["keep"]), "policy.yaml": policy(`  gracePeriod: 72h\n${signing}`) });
    w.emu.resetCalls();
    for (const key of [undefined, "short"]) {
      const r = await runCli(["plan", "--manifests", tree.path("m"), "--policy", tree.path("policy.yaml")], { env: { ...w.env, ...(key ? { REKON_TAG_KEY: key } : {}) } });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("spec.tagSigning.secret");
      expect(r.stderr).toContain(key ? "at least 32" : "REKON_TAG_KEY is not set");
    }
    expect(w.emu.calls()).toEqual([]);
  });

  it("without a key, plan says once that marks are forgeable, and where to fix it", async () => {
    const w = await world(forgedState(ago(1), ago(1)), { "m/p.yaml": set("p", "p", ["keep"]), "policy.yaml": policy("  gracePeriod: 72h\n") });
    const p = await runCli(["plan", ...w.M, ...w.P], { env: w.env });
    expect(p.stderr.match(/marks are not signed/g)).toHaveLength(1);
    expect(p.stderr).toContain("spec.tagSigning");
    expect(p.stderr).toContain("deny-rekon-state-tags.json");
  });
});
