// `rekon diff` must review exactly what `plan` and `apply` will run (issue #21). Each case is an attack that
// once worked: diff read the revision with a walker of its own (link text taken as file content, dot-folders
// dropped, sets compared by an exact key), so it showed "nothing is deleted" for a change that apply then
// used to delete versions. Each test commits base and head in a real Git repository, runs the built binary,
// and for the link cases runs plan/apply at head against the emulator to show that diff and the runtime agree.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator, type EmulatorStateFile } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { ROOT, runCli, type CliResult } from "../helpers/run-cli.js";

const ACCOUNT = "123456789012";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/rekon`;
const GIT_ENV = { GIT_AUTHOR_NAME: "rekon-test", GIT_AUTHOR_EMAIL: "test@rekon.invalid", GIT_COMMITTER_NAME: "rekon-test", GIT_COMMITTER_EMAIL: "test@rekon.invalid", GIT_CONFIG_NOSYSTEM: "1" };

let dir: string;
let emu: Emulator | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "rekon-diffrun-"));
  git("init", "-q", "-b", "main");
});
afterEach(async () => {
  await emu?.close();
  emu = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function git(...args: string[]): string {
  return execFileSync("git", ["-c", "commit.gpgsign=false", "-c", "core.symlinks=true", ...args], { cwd: dir, encoding: "utf8", env: { ...process.env, ...GIT_ENV } });
}

type Entry = string | { link: string } | null;
/** Write files (string), symlinks ({link: target text}) and removals (null), then commit everything. */
function commit(message: string, tree: Record<string, Entry>): void {
  for (const [rel, entry] of Object.entries(tree)) {
    const p = join(dir, rel);
    rmSync(p, { recursive: true, force: true });
    if (entry === null) continue;
    mkdirSync(dirname(p), { recursive: true });
    if (typeof entry === "string") writeFileSync(p, entry);
    else symlinkSync(entry.link, p);
  }
  git("add", "-A");
  git("commit", "-q", "--allow-empty", "-m", message);
}

function set(name: string, versions: string[], o: { region?: string; roleArn?: string; project?: string } = {}): string {
  const region = o.region ? `  region: ${o.region}\n` : "";
  const role = o.roleArn ? `  roleArn: ${o.roleArn}\n` : "";
  return `apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata: {name: ${name}}\nspec:\n  project: ${o.project ?? "p1"}\n${region}${role}  versions: [${versions.map((v) => `{name: ${v}}`).join(", ")}]\n`;
}
const operator = (minAge: string) => `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata: {name: ops}\nspec:\n  allowedAccounts: ["${ACCOUNT}"]\n  minAge: ${minAge}\n  keepLatest: 0\n  maxDeletesPerRun: 50\n`;
const layer = (extra: string) => `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata: {name: strict}\nspec:\n  selector: {projects: [p1]}\n${extra}`;

const diff = (...args: string[]) => runCli(["diff", "--base", "HEAD~1", ...args], { env: {}, cwd: dir });
const diffJson = async (args: string[], env: Record<string, string> = {}) => {
  const r = await runCli(["diff", "--base", "HEAD~1", "--output", "json", ...args], { env, cwd: dir });
  return { ...r, d: r.code === 2 || r.code === 0 ? JSON.parse(r.stdout) : undefined };
};
/** Every string diff printed, for the "no temporary path leaks" check. */
const noTmp = (r: CliResult) => expect(r.stdout + r.stderr).not.toMatch(/rekon-diff-/);

async function emulator(versions: { name: string; age: string }[]): Promise<Record<string, string>> {
  const state: EmulatorStateFile = { account: ACCOUNT, projects: [{ name: "p1", versions: versions.map((v) => ({ ...v, status: "STOPPED" as const })) }] };
  emu = await startEmulator({ state, deleteDelayMs: 20 });
  return emulatorEnv(emu.url);
}
const deleted = () =>
  emu!
    .calls()
    .filter((c) => c.operation === "DeleteProjectVersion" && c.outcome === "ok")
    .map((c) => c.target!.split("/version/")[1]!.split("/")[0]!)
    .sort();
const planned = (stdout: string) =>
  (JSON.parse(stdout) as { actions: { action: string; versionName: string }[] }).actions
    .filter((a) => a.action === "delete")
    .map((a) => a.versionName)
    .sort();

describe("1a. a set moved behind a link into a dot-folder", () => {
  it("diff refuses the link (naming HEAD:path), and plan/apply at head refuse it too: nothing deleted", async () => {
    commit("base", { "m/a.yaml": set("s1", ["v1", "v2", "v3"], { region: "us-east-1" }), "policy.yaml": operator("1d") });
    commit("hide it", { "m/a.yaml": null, "m/.hidden/a.yaml": set("s1", ["v3"], { region: "us-east-1" }), "m/team": { link: ".hidden" } });

    const d = await diff("--manifests", "m");
    expect(d.code).toBe(1);
    expect(d.stderr).toContain("HEAD:m/team");
    expect(d.stderr).toMatch(/resolves into a dot-path \(to \.hidden\)/);
    noTmp(d);

    const env = await emulator([
      { name: "v1", age: "30d" },
      { name: "v2", age: "20d" },
      { name: "v3", age: "10d" },
    ]);
    const plan = await runCli(["plan", "--manifests", "m", "--policy", "policy.yaml"], { env, cwd: dir });
    expect(plan.code).toBe(1);
    expect(plan.stderr).toMatch(/m\/team.*resolves into a dot-path/);
    const apply = await runCli(["apply", "--manifests", "m", "--policy", "policy.yaml", "--auto-approve"], { env, cwd: dir });
    expect(apply.code).toBe(1);
    expect(deleted()).toEqual([]);
  });

  it("variant: a folder link into a dot-folder nested deeper, and a second link to that link", async () => {
    commit("base", { "m/a.yaml": set("s1", ["v1", "v2", "v3"], { region: "us-east-1" }) });
    commit("hide it deeper", { "m/a.yaml": null, "m/lib/x/.old/y/a.yaml": set("s1", ["v3"], { region: "us-east-1" }), "m/current": { link: "lib/x/.old/y" }, "m/team": { link: "current" } });
    const d = await diff("--manifests", "m");
    expect(d.code).toBe(1);
    // One refusal, in both places that reach the dot-folder (the chain's second link resolves there too).
    expect(d.stderr).toContain("symlink resolves into a dot-path (to lib/x/.old/y)");
    expect(d.stderr).toMatch(/in 2 places:\n\s+HEAD:m\/current:1:1\n\s+HEAD:m\/team:1:1/);
    noTmp(d);
  });

  it("an accepted link (inside the folder, no dot-path): diff names exactly what plan deletes", async () => {
    commit("base", { "m/a.yaml": set("s1", ["v1", "v2", "v3"], { region: "us-east-1" }), "policy.yaml": operator("1d") });
    // The link's text is not YAML; the old diff parsed it as the file. The runtime reads lib/s1.txt.
    commit("link it", { "m/a.yaml": { link: "lib/s1.txt" }, "m/lib/s1.txt": set("s1", ["v3"], { region: "us-east-1" }) });
    const d = await diffJson(["--manifests", "m"]);
    expect(d.code).toBe(2);
    expect(d.d.projects).toEqual([{ project: "p1", region: "us-east-1", removed: ["v1", "v2"], added: [] }]);
    const env = await emulator([
      { name: "v1", age: "30d" },
      { name: "v2", age: "20d" },
      { name: "v3", age: "10d" },
    ]);
    const plan = await runCli(["plan", "--manifests", "m", "--policy", "policy.yaml", "--output", "json"], { env, cwd: dir });
    expect(plan.code).toBe(2);
    expect(planned(plan.stdout)).toEqual(d.d.projects[0].removed);
  });

  it("a dangling link at head is an error, not 'absent at this revision'", async () => {
    commit("base", { "m/a.yaml": set("s1", ["v1", "v2"], { region: "us-east-1" }) });
    commit("dangle", { "m/a.yaml": { link: "gone.yaml" } });
    const d = await diff("--manifests", "m");
    expect(d.code).toBe(1);
    expect(d.stderr).toContain("HEAD:m/a.yaml");
    expect(d.stderr).toContain("ENOENT");
  });
});

// A link's target text that is itself YAML: the old diff parsed the text, the runtime follows the link.
const LINK_YAML_STRICT = `${layer("  minAge: 30d\n")}`; // "apiVersion: rekon.dev" / "v1alpha1\nkind: …minAge: 30d\n"
const LINK_YAML_OPERATOR = operator("30d");

describe("1b. a policy replaced by a link whose target text is YAML", () => {
  const versions = [
    { name: "keep", age: "60d" },
    { name: "old", age: "40d" },
    { name: "ten", age: "10d" },
    { name: "five", age: "5d" },
  ];

  it("a manifest layer: diff reads the followed file and flags the lost minAge; plan deletes what it unlocks", async () => {
    commit("base", { "m/a.yaml": set("s1", ["keep"], { region: "us-east-1" }), "m/strict.yaml": layer("  minAge: 30d\n"), "policy.yaml": operator("1d") });
    const [dirName, fileName] = [LINK_YAML_STRICT.slice(0, LINK_YAML_STRICT.indexOf("/")), LINK_YAML_STRICT.slice(LINK_YAML_STRICT.indexOf("/") + 1)];
    commit("swap in a link", { "m/strict.yaml": { link: LINK_YAML_STRICT }, [`m/${dirName}/${fileName}`]: layer("  keepLatest: 0\n") });

    const d = await diffJson(["--manifests", "m", "--policy", "policy.yaml"]);
    expect(d.stderr).toBe("");
    expect(d.d.policy.map((p: { field: string; from: string; to: string; loosens: boolean }) => [p.field, p.from, p.to, p.loosens])).toContainEqual(["minAge", "30d", "(unset)", true]);
    const fail = await diff("--manifests", "m", "--policy", "policy.yaml", "--fail-on-loosen");
    expect(fail.code).toBe(1);
    expect(fail.stdout).toMatch(/^LOOSENS manifest policy "strict" \(m\/strict\.yaml\): minAge 30d → \(unset\)$/m);
    noTmp(fail);

    // The runtime at head: the 10- and 5-day-old versions the layer protected are now planned for deletion.
    const env = await emulator(versions);
    const plan = await runCli(["plan", "--manifests", "m", "--policy", "policy.yaml", "--output", "json"], { env, cwd: dir });
    expect(plan.code).toBe(2);
    expect(planned(plan.stdout)).toEqual(["five", "old", "ten"]);
  });

  it("variant: the link renamed to a case-variant extension (Strict.YML)", async () => {
    commit("base", { "m/a.yaml": set("s1", ["keep"], { region: "us-east-1" }), "m/strict.yaml": layer("  minAge: 30d\n") });
    const slash = LINK_YAML_STRICT.indexOf("/");
    commit("rename into a link", { "m/strict.yaml": null, "m/Strict.YML": { link: LINK_YAML_STRICT }, [`m/${LINK_YAML_STRICT.slice(0, slash)}/${LINK_YAML_STRICT.slice(slash + 1)}`]: layer("  keepLatest: 1\n") });
    const fail = await diff("--manifests", "m", "--fail-on-loosen");
    expect(fail.code).toBe(1);
    expect(fail.stdout).toMatch(/^LOOSENS manifest policy "strict" \(m\/Strict\.YML\): minAge 30d → \(unset\)$/m);
  });

  it("variant: the operator policy (--policy) becomes such a link; diff names it by its repository path", async () => {
    commit("base", { "m/a.yaml": set("s1", ["keep"], { region: "us-east-1" }), "deploy/policy.yaml": operator("30d") });
    const slash = LINK_YAML_OPERATOR.indexOf("/");
    commit("swap in a link", { "deploy/policy.yaml": { link: LINK_YAML_OPERATOR }, [`deploy/${LINK_YAML_OPERATOR.slice(0, slash)}/${LINK_YAML_OPERATOR.slice(slash + 1)}`]: operator("1d") });
    const fail = await diff("--manifests", "m", "--policy", "deploy/policy.yaml", "--fail-on-loosen");
    expect(fail.code).toBe(1);
    // Issue #27: the layer is named by its repository path, never by a temporary copy.
    expect(fail.stdout).toMatch(/^LOOSENS operator policy deploy\/policy\.yaml: minAge 30d → 1d$/m);
    noTmp(fail);

    const env = await emulator(versions);
    const plan = await runCli(["plan", "--manifests", "m", "--policy", "deploy/policy.yaml", "--output", "json"], { env, cwd: dir });
    expect(plan.code).toBe(2);
    expect(planned(plan.stdout)).toEqual(["five", "old", "ten"]);
  });
});

describe("2. a set moved to another key (region written, role added): the dropped version is named", () => {
  const three = [
    { name: "v1", age: "30d" },
    { name: "v2", age: "20d" },
    { name: "v3", age: "10d" },
  ];

  it("region written equal to the default region: diff names v1, exactly what plan deletes", async () => {
    commit("base", { "m/a.yaml": set("s1", ["v1", "v2", "v3"]), "policy.yaml": operator("1d") });
    commit("write the region, drop v1", { "m/a.yaml": set("s1", ["v2", "v3"], { region: "us-east-1" }) });

    const d = await diffJson(["--manifests", "m"], { AWS_REGION: "us-east-1" });
    expect(d.code).toBe(2);
    expect(d.d.projects).toEqual([{ project: "p1", region: "us-east-1", removed: ["v1"], added: [], moved: ["region us-east-1 now written (was the default region)"] }]);
    expect(d.d.summary.removed).toBe(1);
    const t = await runCli(["diff", "--base", "HEAD~1", "--manifests", "m", "--region", "us-east-1"], { env: {}, cwd: dir });
    expect(t.stdout).toContain("p1 (us-east-1): removes v1 (deleted by apply if every guard passes)");
    expect(t.stdout).not.toContain("ProjectVersionSet removed");

    const env = await emulator(three);
    const plan = await runCli(["plan", "--manifests", "m", "--policy", "policy.yaml", "--output", "json"], { env, cwd: dir });
    expect(plan.code).toBe(2);
    expect(planned(plan.stdout)).toEqual(d.d.projects[0].removed);
  });

  it("a roleArn added in the same account: v1 is named (the ambient account is unknown offline)", async () => {
    commit("base", { "m/a.yaml": set("s1", ["v1", "v2", "v3"], { region: "us-east-1" }), "policy.yaml": operator("1d") });
    commit("use a role, drop v1", { "m/a.yaml": set("s1", ["v2", "v3"], { region: "us-east-1", roleArn: ROLE }) });

    const d = await diffJson(["--manifests", "m"]);
    expect(d.code).toBe(2);
    expect(d.d.projects).toEqual([{ project: "p1", region: "us-east-1", roleArn: ROLE, removed: ["v1"], added: [], moved: [`role ${ROLE} (was the ambient credentials)`] }]);

    const env = await emulator(three);
    const plan = await runCli(["plan", "--manifests", "m", "--policy", "policy.yaml", "--output", "json"], { env, cwd: dir });
    expect(plan.code).toBe(2);
    expect(planned(plan.stdout)).toEqual(["v1"]);
  });

  it("variant: moved between files, renamed, and its region written, all at once", async () => {
    commit("base", { "m/a.yaml": set("s1", ["v1", "v2", "v3"]) });
    commit("move", { "m/a.yaml": null, "m/team/b.yml": set("p1-models", ["v2", "v3", "v4"], { region: "us-east-1" }) });
    const d = await diffJson(["--manifests", "m", "--region", "us-east-1"]);
    expect(d.code).toBe(2);
    expect(d.d.projects).toEqual([
      {
        project: "p1",
        region: "us-east-1",
        removed: ["v1"],
        added: ["v4"],
        moved: ['set "s1" → "p1-models"', "file m/a.yaml → m/team/b.yml", "region us-east-1 now written (was the default region)"],
      },
    ]);
    const md = await runCli(["diff", "--base", "HEAD~1", "--manifests", "m", "--region", "us-east-1", "--output", "markdown"], { env: {}, cwd: dir });
    expect(md.stdout).toContain("| `p1` (moved: set \"s1\" → \"p1-models\"; file m/a.yaml → m/team/b.yml; region us-east-1 now written (was the default region)) | us-east-1 | `v1` | `v4` |");
  });

  it("variant: no default region known: a set without one may be in any region, so v1 is still named", async () => {
    commit("base", { "m/a.yaml": set("s1", ["v1", "v2", "v3"]) });
    commit("pin a region", { "m/a.yaml": set("s1", ["v2", "v3"], { region: "eu-west-1" }) });
    const d = await diffJson(["--manifests", "m"]);
    expect(d.code).toBe(2);
    expect(d.d.projects).toEqual([{ project: "p1", region: "eu-west-1", removed: ["v1"], added: [], moved: ["region eu-west-1 now written (was the default region, unknown offline)"] }]);
  });

  it("a set moved to a role in another account stops management there: its versions are still named", async () => {
    const other = "arn:aws:iam::210987654321:role/rekon";
    commit("base", { "m/a.yaml": set("s1", ["v1", "v2"], { region: "us-east-1", roleArn: ROLE }) });
    commit("other account", { "m/a.yaml": set("s1", ["v2"], { region: "us-east-1", roleArn: other }) });
    const t = await diff("--manifests", "m");
    expect(t.code).toBe(2);
    expect(t.stdout).toContain(`p1 (us-east-1, ${ROLE}): ProjectVersionSet removed — rekon stops managing the project (nothing is deleted); no longer listed by any set: v1`);
    expect(t.stdout).toContain(`p1 (us-east-1, ${other}): ProjectVersionSet added`);
  });
});

describe("what diff reads, and what it does not", () => {
  it("a --manifests folder new in the change is an empty base; a submodule in it is an error", async () => {
    commit("base", { "README.md": "hello\n" });
    commit("add manifests", { "m/a.yaml": set("s1", ["v1"], { region: "us-east-1" }) });
    const d = await diffJson(["--manifests", "m"]);
    expect(d.code).toBe(2);
    expect(d.d.projects).toEqual([{ project: "p1", region: "us-east-1", removed: [], added: ["v1"], set: "added" }]);

    // A submodule's content is in another repository: it cannot be reviewed here.
    git("update-index", "--add", "--cacheinfo", `160000,${git("rev-parse", "HEAD").trim()},m/vendor`);
    git("commit", "-q", "-m", "submodule");
    const s = await diff("--manifests", "m");
    expect(s.code).toBe(1);
    expect(s.stderr).toContain("HEAD:m/vendor:1:1: is a Git submodule");
  });

  it("never loads the AWS SDK, and no output names a temporary copy", async () => {
    commit("base", { "m/a.yaml": set("s1", ["v1", "v2"]), "deploy/policy.yaml": operator("30d") });
    commit("change", { "m/a.yaml": set("s1", ["v2"], { region: "us-east-1" }), "deploy/policy.yaml": operator("1d") });
    const trace = join(dir, "..", `imports-${Date.now()}.txt`);
    writeFileSync(trace, "");
    try {
      for (const output of ["table", "json", "markdown"]) {
        const r = await runCli(["diff", "--base", "HEAD~1", "--manifests", "m", "--policy", "deploy/policy.yaml", "--output", output], {
          env: { REKON_IMPORT_TRACE: trace, AWS_REGION: "us-east-1" },
          nodeArgs: ["--import", join(ROOT, "test/helpers/import-trace.mjs")],
          cwd: dir,
        });
        expect(r.code).toBe(2);
        expect(r.stdout).toContain("deploy/policy.yaml");
        noTmp(r);
      }
      const loaded = readFileSync(trace, "utf8");
      expect(loaded).toContain("/inputs/manifests.js"); // the trace works
      expect(loaded).not.toMatch(/@aws-sdk|@smithy/);
    } finally {
      rmSync(trace, { force: true });
    }
  });
});
