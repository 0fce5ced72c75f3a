// Archive before delete (spec.archive, docs/archive.md), through the `rekon` binary against the emulator:
// the copy goes first and the source only once a last look sees the copy COPYING_COMPLETED; the source is
// kept while copying and on every kind of copy failure; adapters under both `required` values; an earlier
// copy is reused; a manifest layer cannot turn archiving off; saved plans carry the step; `rekon restore`.
import { writeFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator, type EmulatorStateFile } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { runCli } from "../helpers/run-cli.js";
import { tmpTree } from "../helpers/tmp.js";

const ACCOUNT = "123456789012";
const ARCHIVE = "model-archive";

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

const archiveSpec = (required?: boolean) =>
  `  archive:\n    project: ${ARCHIVE}\n    outputConfig: {s3Bucket: my-model-archive, s3KeyPrefix: rekon/}\n${required === undefined ? "" : `    required: ${required}\n`}`;

function policy(extra = archiveSpec()): string {
  return `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata:\n  name: ops\nspec:\n  allowedAccounts: ["${ACCOUNT}"]\n  minAge: 1h\n  keepLatest: 0\n  maxDeletesPerRun: 50\n${extra}`;
}

const STATE: EmulatorStateFile = {
  account: ACCOUNT,
  projects: [
    {
      name: "p",
      versions: [
        { name: "keep", status: "STOPPED", age: "1d" },
        { name: "old", status: "STOPPED", age: "30d" },
      ],
    },
    { name: ARCHIVE, versions: [] },
  ],
};

async function world(files: Record<string, string>, opts: Parameters<typeof startEmulator>[0] = {}, state: EmulatorStateFile = STATE) {
  emu = await startEmulator({ state, deleteDelayMs: 50, copyDelayMs: 300, ...opts });
  tree = tmpTree(files);
  return { emu, tree, env: emulatorEnv(emu.url), M: ["--manifests", tree.path("m")], P: ["--policy", tree.path("policy.yaml")] };
}

const DEFAULT_FILES = { "m/p.yaml": set("p", "p", ["keep"]), "policy.yaml": policy() };
const ops = () => emu!.calls().map((c) => c.operation);
const writes = () => emu!.calls().filter((c) => ["CopyProjectVersion", "DeleteProjectVersion", "StopProjectVersion", "TagResource"].includes(c.operation));
const versions = (project: string) => emu!.snapshot().projects.find((p) => p.name === project)!.versions ?? [];
const sourceArn = () => {
  const s = emu!.snapshot();
  const v = s.projects.find((p) => p.name === "p")!.versions!.find((x) => x.name === "old")!;
  return `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/p/version/old/${Date.parse(v.createdAt!)}`;
};
const apply = (w: Awaited<ReturnType<typeof world>>, extra: string[] = []) =>
  runCli(["apply", ...w.M, ...w.P, "--auto-approve", "--output", "json", ...extra], { env: w.env });
const until = async (ok: () => boolean, ms = 5000) => {
  for (const t0 = Date.now(); !ok(); ) {
    if (Date.now() - t0 > ms) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe("plan: the archive step on each Custom Labels deletion", () => {
  it("the delete action carries archive {project, versionName}; the table says so", async () => {
    const w = await world(DEFAULT_FILES);
    const p = await runCli(["plan", ...w.M, ...w.P, "--output", "json"], { env: w.env });
    expect(p.code).toBe(2);
    const old = JSON.parse(p.stdout).actions.find((a: { versionName: string }) => a.versionName === "old");
    expect(old).toMatchObject({ action: "delete", archive: { project: ARCHIVE, versionName: "p--old" } });
    expect(old.noUndo).toBeUndefined();
    const t = await runCli(["plan", ...w.M, ...w.P], { env: w.env });
    expect(t.stdout).toContain(`archive: apply copies it to ${ARCHIVE}/p--old first`);
    // explain walks the same checks: the archive step is one of them.
    const x = await runCli(["explain", "p/old", ...w.M, ...w.P], { env: w.env });
    expect(x.stdout).toContain(`archived first: copied to ${ARCHIVE}/p--old and deleted only once the copy is COPYING_COMPLETED`);
  });
});

describe("apply: copy, then delete only once the copy is complete", () => {
  it("first run: copy started, source held (archiving, exit 0); second run: source deleted after the copy completed", async () => {
    const w = await world(DEFAULT_FILES);
    const src = sourceArn();
    const a1 = await apply(w);
    expect(a1.code).toBe(0);
    const r1 = JSON.parse(a1.stdout).results.find((r: { versionName: string }) => r.versionName === "old");
    expect(r1).toMatchObject({ result: "archiving", archive: { project: ARCHIVE, versionName: "p--old", copy: "copied", status: "COPYING_IN_PROGRESS" } });
    expect(ops()).not.toContain("DeleteProjectVersion");
    expect(versions("p").map((v) => v.name)).toContain("old");
    // The copy carries the tags that say whose copy it is and when it was made.
    const copy = versions(ARCHIVE).find((v) => v.name === "p--old")!;
    expect(copy.tags).toMatchObject({ "rekon.dev/archived-from": src, "rekon.dev/archived-at": expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) });
    expect(copy.sourceVersionArn ?? src).toBe(src);
    const copyCall = emu!.calls().find((c) => c.operation === "CopyProjectVersion")!;
    expect(copyCall.outcome).toBe("ok");

    await until(() => versions(ARCHIVE).find((v) => v.name === "p--old")?.status === "COPYING_COMPLETED");
    emu!.resetCalls();
    const a2 = await apply(w);
    expect(a2.code).toBe(0);
    const r2 = JSON.parse(a2.stdout).results.find((r: { versionName: string }) => r.versionName === "old");
    expect(r2).toMatchObject({ result: "accepted", archive: { copy: "reused", status: "COPYING_COMPLETED" }, archivedAs: expect.stringContaining(`project/${ARCHIVE}/version/p--old/`) });
    // Reused, never duplicated: no second copy; and the deletion comes after a read of the copy.
    expect(ops()).not.toContain("CopyProjectVersion");
    const log = emu!.calls();
    const del = log.findIndex((c) => c.operation === "DeleteProjectVersion");
    expect(del).toBeGreaterThan(-1);
    const lastCopyRead = log
      .slice(0, del)
      .map((c) => c.operation === "DescribeProjectVersions" && (c.target ?? "").includes(`project/${ARCHIVE}/`))
      .lastIndexOf(true);
    expect(lastCopyRead).toBeGreaterThan(-1);
    expect(versions(ARCHIVE)).toHaveLength(1);
  });

  it("a copy that completes within the run: CopyProjectVersion, then DeleteProjectVersion, in that order (one run)", async () => {
    const w = await world(DEFAULT_FILES, { copyDelayMs: 0 });
    const a = await apply(w);
    expect(a.code).toBe(0);
    const r = JSON.parse(a.stdout).results.find((x: { versionName: string }) => x.versionName === "old");
    expect(r).toMatchObject({ result: "accepted", archive: { copy: "copied", status: "COPYING_COMPLETED" } });
    const order = writes().map((c) => c.operation);
    expect(order).toEqual(["CopyProjectVersion", "DeleteProjectVersion"]);
  });
});

describe("the source is kept on every copy failure (exit 1, AWS's words)", () => {
  it("COPYING_FAILED: failed with the status message, source kept", async () => {
    const w = await world(DEFAULT_FILES, { copyDelayMs: 0, copyFails: ["p--old"] });
    const a = await apply(w);
    expect(a.code).toBe(1);
    const r = JSON.parse(a.stdout).results.find((x: { versionName: string }) => x.versionName === "old");
    expect(r).toMatchObject({ result: "failed", code: "ArchiveCopyFailed", status: "COPYING_FAILED" });
    expect(r.error).toContain("copyFails fault");
    expect(ops()).not.toContain("DeleteProjectVersion");
    expect(versions("p").map((v) => v.name)).toContain("old");
  });

  it("a refused copy (AccessDenied): failed with AWS's message, source kept", async () => {
    const w = await world(DEFAULT_FILES);
    w.emu.setFaults({ rules: [{ operation: "CopyProjectVersion", code: "AccessDeniedException", message: "no rekognition:CopyProjectVersion for you" }] });
    const a = await apply(w);
    expect(a.code).toBe(1);
    const r = JSON.parse(a.stdout).results.find((x: { versionName: string }) => x.versionName === "old");
    expect(r).toMatchObject({ result: "failed", code: "AccessDeniedException", archive: { copy: "failed" } });
    expect(r.error).toContain("no rekognition:CopyProjectVersion for you");
    expect(ops()).not.toContain("DeleteProjectVersion");
  });

  it("a copy that vanished (accepted, then not listed): failed ArchiveCopyVanished, source kept", async () => {
    const w = await world(DEFAULT_FILES, { copyDelayMs: 0 });
    // Every read of the archive project by name answers as if the copy were not there.
    w.emu.setFaults({ rules: [{ operation: "DescribeProjectVersions", arn: `project/${ARCHIVE}/`, hasMember: "VersionNames", answer: { set: { ProjectVersionDescriptions: [] } } }] });
    const a = await apply(w);
    expect(a.code).toBe(1);
    const r = JSON.parse(a.stdout).results.find((x: { versionName: string }) => x.versionName === "old");
    expect(r).toMatchObject({ result: "failed", code: "ArchiveCopyVanished", archive: { copy: "failed" } });
    expect(r.error).toContain("vanished");
    expect(ops()).toContain("CopyProjectVersion");
    expect(ops()).not.toContain("DeleteProjectVersion");
    expect(versions("p").map((v) => v.name)).toContain("old");
  });

  it("a copy that fails after it completed, before the deletion's look: failed notArchived, source kept", async () => {
    const w = await world(DEFAULT_FILES, { copyDelayMs: 0 });
    // Right after the archive step's read saw the copy complete, the copy turns COPYING_FAILED (as a test can make AWS do).
    let reads = 0;
    const off = w.emu.onCall((c) => {
      if (c.phase !== "answered" || c.operation !== "DescribeProjectVersions" || !(c.target ?? "").includes(`project/${ARCHIVE}/`)) return;
      if (++reads === 2) {
        const copy = versions(ARCHIVE).find((v) => v.name === "p--old")!;
        w.emu.updateVersion(`arn:aws:rekognition:us-east-1:${ACCOUNT}:project/${ARCHIVE}/version/p--old/${Date.parse(copy.createdAt!)}`, { status: "COPYING_FAILED" });
      }
    });
    const a = await apply(w);
    off();
    expect(a.code).toBe(1);
    const r = JSON.parse(a.stdout).results.find((x: { versionName: string }) => x.versionName === "old");
    expect(r).toMatchObject({ result: "failed", code: "notArchived" });
    expect(r.error).toContain("COPYING_FAILED");
    expect(ops()).not.toContain("DeleteProjectVersion");
  });

  it("no archive project: fails closed with a clear message, nothing copied or deleted", async () => {
    const w = await world(DEFAULT_FILES, {}, { account: ACCOUNT, projects: [STATE.projects[0]!] });
    const a = await apply(w);
    expect(a.code).toBe(1);
    const r = JSON.parse(a.stdout).results.find((x: { versionName: string }) => x.versionName === "old");
    expect(r).toMatchObject({ result: "failed", code: "ArchiveProjectNotFound" });
    expect(r.error).toContain(`archive project "${ARCHIVE}" does not exist in us-east-1`);
    expect(writes()).toEqual([]);
  });
});

describe("adapters cannot be copied", () => {
  const state: EmulatorStateFile = {
    account: ACCOUNT,
    projects: [
      {
        name: "ad",
        feature: "CONTENT_MODERATION",
        versions: [
          { name: "a1", status: "TRAINING_COMPLETED", age: "1d" },
          { name: "a0", status: "TRAINING_COMPLETED", age: "30d" },
        ],
      },
      { name: ARCHIVE, versions: [] },
    ],
  };
  it("required (default): blocked notArchivable, nothing written", async () => {
    const w = await world({ "m/ad.yaml": set("ad", "ad", ["a1"]), "policy.yaml": policy() }, {}, state);
    const p = await runCli(["plan", ...w.M, ...w.P, "--output", "json"], { env: w.env });
    const a0 = JSON.parse(p.stdout).actions.find((a: { versionName: string }) => a.versionName === "a0");
    expect(a0).toMatchObject({ action: "blocked", reasons: [expect.objectContaining({ rule: "notArchivable" })] });
    expect((await apply(w)).code).toBe(0);
    expect(writes()).toEqual([]);
  });
  it("required: false: deleted without a copy, and the plan says there is no undo", async () => {
    const w = await world({ "m/ad.yaml": set("ad", "ad", ["a1"]), "policy.yaml": policy(archiveSpec(false)) }, {}, state);
    const p = await runCli(["plan", ...w.M, ...w.P, "--output", "json"], { env: w.env });
    const a0 = JSON.parse(p.stdout).actions.find((a: { versionName: string }) => a.versionName === "a0");
    expect(a0).toMatchObject({ action: "delete", noUndo: true });
    expect(a0.archive).toBeUndefined();
    const t = await runCli(["plan", ...w.M, ...w.P], { env: w.env });
    expect(t.stdout).toContain("no undo");
    expect((await apply(w)).code).toBe(0);
    expect(writes().map((c) => c.operation)).toEqual(["DeleteProjectVersion"]);
  });
});

describe("layers", () => {
  it("a manifest layer turns archiving on for its project", async () => {
    const layer = `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata:\n  name: team\nspec:\n  selector: {projects: [p]}\n${archiveSpec()}`;
    const w = await world({ "m/p.yaml": set("p", "p", ["keep"]), "m/layer.yaml": layer, "policy.yaml": policy("") });
    const p = await runCli(["plan", ...w.M, ...w.P, "--output", "json"], { env: w.env });
    const old = JSON.parse(p.stdout).actions.find((a: { versionName: string }) => a.versionName === "old");
    expect(old.archive).toEqual({ project: ARCHIVE, versionName: "p--old" });
  });
  it.each([
    ["required: false", archiveSpec(false)],
    ["another destination", `  archive:\n    project: elsewhere\n    outputConfig: {s3Bucket: my-model-archive, s3KeyPrefix: rekon/}\n`],
  ])("a manifest layer cannot turn the operator's archiving off (%s): validation error at file:line:col", async (_n, spec) => {
    const layer = `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata:\n  name: team\nspec:\n  selector: {projects: [p]}\n${spec}`;
    const w = await world({ "m/p.yaml": set("p", "p", ["keep"]), "m/layer.yaml": layer, "policy.yaml": policy() });
    const v = await runCli(["validate", ...w.M, ...w.P], { env: w.env });
    expect(v.code).not.toBe(0);
    expect(v.stderr).toMatch(new RegExp(`${w.tree.path("m/layer.yaml").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:8:5: spec.archive`));
    expect(v.stderr).toContain("spec.archive");
    expect((await apply(w)).code).not.toBe(0);
    expect(writes()).toEqual([]);
  });
});

describe("saved plans carry the archive step", () => {
  it("plan --out, then apply FILE: copy then delete, as planned", async () => {
    const w = await world(DEFAULT_FILES, { copyDelayMs: 0 });
    const out = w.tree.path("plan.json");
    expect((await runCli(["plan", ...w.M, ...w.P, "--out", out], { env: w.env })).code).toBe(2);
    const saved = JSON.parse((await import("node:fs")).readFileSync(out, "utf8"));
    expect(saved.plan.actions.find((a: { versionName: string }) => a.versionName === "old").archive).toEqual({ project: ARCHIVE, versionName: "p--old" });
    const a = await runCli(["apply", out, ...w.M, ...w.P, "--auto-approve", "--output", "json"], { env: w.env });
    expect(a.code).toBe(0);
    expect(writes().map((c) => c.operation)).toEqual(["CopyProjectVersion", "DeleteProjectVersion"]);
  });
  it("a saved plan whose archive step was edited out is refused for that version (nothing deleted)", async () => {
    const w = await world(DEFAULT_FILES, { copyDelayMs: 0 });
    const out = w.tree.path("plan.json");
    await runCli(["plan", ...w.M, ...w.P, "--out", out], { env: w.env });
    const fs = await import("node:fs");
    const saved = JSON.parse(fs.readFileSync(out, "utf8"));
    for (const a of saved.plan.actions) delete a.archive;
    writeFileSync(out, JSON.stringify(saved));
    const a = await runCli(["apply", out, ...w.M, ...w.P, "--auto-approve", "--output", "json"], { env: w.env });
    expect(a.code).toBe(1);
    const old = JSON.parse(a.stdout).actions.find((x: { versionName: string }) => x.versionName === "old");
    expect(old).toMatchObject({ action: "blocked", reasons: [expect.objectContaining({ rule: "stale", message: expect.stringContaining("archive step changed") })] });
    expect(ops()).not.toContain("DeleteProjectVersion");
    expect(ops()).not.toContain("CopyProjectVersion");
  });
});

describe("rekon restore", () => {
  async function archived() {
    const w = await world(DEFAULT_FILES, { copyDelayMs: 0 });
    expect((await apply(w)).code).toBe(0);
    return w;
  }
  it("copies an archived version back (by archive-project/VERSION), waits for COPYING_COMPLETED, prints the new ARN; deletes nothing", async () => {
    const w = await archived();
    emu!.resetCalls();
    const r = await runCli(["restore", `${ARCHIVE}/p--old`, "--to", "p", "--name", "old-restored", ...w.P], { env: w.env });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("COPYING_COMPLETED");
    const restored = versions("p").find((v) => v.name === "old-restored")!;
    expect(restored.status).toBe("COPYING_COMPLETED");
    const arn = `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/p/version/old-restored/${Date.parse(restored.createdAt!)}`;
    expect(r.stdout).toContain(arn);
    expect(r.stdout).toMatch(/new ARN/);
    expect(r.stdout).toMatch(/list old-restored in the manifests/);
    expect(ops()).not.toContain("DeleteProjectVersion");
    expect(ops().filter((o) => o === "CopyProjectVersion")).toHaveLength(1);
  });
  it("by ARN; refuses a destination name that exists (nothing copied)", async () => {
    const w = await archived();
    const copy = versions(ARCHIVE).find((v) => v.name === "p--old")!;
    const arn = `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/${ARCHIVE}/version/p--old/${Date.parse(copy.createdAt!)}`;
    emu!.resetCalls();
    const r = await runCli(["restore", arn, "--to", "p", "--name", "keep", ...w.P], { env: w.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("already has a version named keep");
    expect(ops()).not.toContain("CopyProjectVersion");
  });
});
