// The pull-request workflow end to end: saved plans applied exactly (or refused), and `rekon diff` on a
// real temporary Git repository.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RekognitionClient, TagResourceCommand } from "@aws-sdk/client-rekognition";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv, TEST_CREDENTIALS } from "../helpers/emulator-env.js";
import { ROOT, runCli } from "../helpers/run-cli.js";

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("saved plans", () => {
  let emu: Emulator;
  let env: Record<string, string>;
  beforeEach(async () => {
    emu = await startEmulator({ deleteDelayMs: 50 });
    dir = mkdtempSync(join(tmpdir(), "rekon-saved-"));
    cpSync(join(ROOT, "manifests"), join(dir, "manifests"), { recursive: true });
    writeFileSync(join(dir, "policy.yaml"), readFileSync(join(ROOT, "deploy/policy.yaml"), "utf8") + '  protectTags: {"hold": "*"}\n');
    env = emulatorEnv(emu.url);
  });
  afterEach(() => emu.close());

  const planOut = () => runCli(["plan", "--manifests", "manifests", "--policy", "policy.yaml", "--out", "plan.json", "--output", "json"], { env, cwd: dir });
  const applySaved = (...more: string[]) => runCli(["apply", "plan.json", "--manifests", "manifests", "--policy", "policy.yaml", "--auto-approve", "--output", "json", ...more], { env, cwd: dir });
  const deleted = () => emu.calls().filter((c) => c.operation === "DeleteProjectVersion" && c.outcome === "ok").map((c) => c.target).sort();

  it("(a) nothing changed: deletes exactly the saved plan's deletions", async () => {
    const p = await planOut();
    expect(p.code).toBe(2);
    const savedPlan = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8"));
    expect(savedPlan).toMatchObject({ kind: "SavedPlan", inputs: { manifests: ["manifests"], policy: "policy.yaml" }, digests: { manifests: expect.stringMatching(/^sha256:/), policy: expect.stringMatching(/^sha256:/) } });
    const planned = savedPlan.plan.actions.filter((a: { action: string }) => a.action === "delete").map((a: { versionArn: string }) => a.versionArn).sort();
    expect(planned).toHaveLength(7);
    expect(emu.calls().filter((c) => c.operation === "DeleteProjectVersion")).toEqual([]);

    const r = await applySaved();
    expect(r.code).toBe(0);
    expect(deleted()).toEqual(planned);
  });

  it("(b) a version tagged protected after the plan: skipped as stale, the rest deleted, exit 1", async () => {
    await planOut();
    const savedPlan = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8"));
    const victim = savedPlan.plan.actions.find((a: { action: string }) => a.action === "delete");
    const sdk = new RekognitionClient({ region: "us-east-1", endpoint: emu.url, credentials: TEST_CREDENTIALS });
    await sdk.send(new TagResourceCommand({ ResourceArn: victim.versionArn, Tags: { hold: "legal" } }));
    sdk.destroy();

    const r = await applySaved();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("1 planned write(s) skipped as stale");
    const out = JSON.parse(r.stdout);
    expect(out.results.find((x: { versionArn: string }) => x.versionArn === victim.versionArn)).toMatchObject({ result: "skipped", code: "stale", error: "stale: no longer deletable: blocked (protectedTag)" });
    expect(deleted()).not.toContain(victim.versionArn);
    expect(deleted()).toHaveLength(6);
  });

  it("(c) a manifest changed after the plan: the whole plan is refused, nothing deleted", async () => {
    await planOut();
    writeFileSync(join(dir, "manifests/shelf-scanner.yaml"), readFileSync(join(dir, "manifests/shelf-scanner.yaml"), "utf8") + "    - name: v4\n");
    const r = await applySaved();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("refused (digestMismatch): the manifests changed since the plan was saved");
    expect(deleted()).toEqual([]);
  });

  it("(c) the policy changed after the plan: refused", async () => {
    await planOut();
    writeFileSync(join(dir, "policy.yaml"), readFileSync(join(dir, "policy.yaml"), "utf8").replace("minAge: 24h", "minAge: 48h"));
    const r = await applySaved();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the policy changed since the plan was saved");
    expect(deleted()).toEqual([]);
  });

  it("(d) an expired plan is refused", async () => {
    await planOut();
    const file = join(dir, "plan.json");
    const s = JSON.parse(readFileSync(file, "utf8"));
    s.createdAt = new Date(Date.now() - 25 * 3_600_000).toISOString();
    writeFileSync(file, JSON.stringify(s));
    const r = await applySaved();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refused \(planExpired\): the plan is \d+ minutes old, over --max-plan-age/);
    expect(deleted()).toEqual([]);
    // A longer --max-plan-age accepts it.
    expect((await applySaved("--max-plan-age", "2d")).code).toBe(0);
  });

  it("--output markdown renders the plan for a pull request", async () => {
    const r = await runCli(["plan", "--manifests", "manifests", "--policy", "policy.yaml", "--output", "markdown"], { env, cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout.split("\n")[0]).toBe("### rekon plan: 7 to delete, 1 to keep, 3 blocked, 1 missing, 1 to start, 1 to stop — 🗑️ deletions pending");
    expect(r.stdout).toContain("#### Deletions (7)");
  });
});

describe("rekon diff", () => {
  const g = (...args: string[]) => execFileSync("git", ["-c", "user.name=rekon-test", "-c", "user.email=test@rekon.invalid", "-c", "commit.gpgsign=false", ...args], { cwd: dir, encoding: "utf8" });
  const set = (name: string, versions: string[]) => `apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata: {name: ${name}}\nspec:\n  project: ${name}\n  region: us-east-1\n  versions: [${versions.map((v) => `{name: ${v}}`).join(", ")}]\n`;
  const pol = (minAge: string) => `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata: {name: ops}\nspec:\n  allowedAccounts: ["123456789012"]\n  minAge: ${minAge}\n`;
  const strict = `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata: {name: strict}\nspec:\n  selector: {projects: [fraud]}\n  keepLatest: 3\n`;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "rekon-diff-"));
    g("init", "-q", "-b", "main");
    mkdirSync(join(dir, "manifests"));
    writeFileSync(join(dir, "manifests/fraud.yaml"), set("fraud", ["v1", "v2", "v3"]));
    writeFileSync(join(dir, "manifests/strict.yaml"), strict);
    writeFileSync(join(dir, "policy.yaml"), pol("24h"));
    g("add", "-A");
    g("commit", "-q", "-m", "base");
    // The change under review: removes v2, adds v4 and a new project, shortens minAge, drops a layer.
    writeFileSync(join(dir, "manifests/fraud.yaml"), set("fraud", ["v1", "v3", "v4"]));
    writeFileSync(join(dir, "manifests/shelf.yaml"), set("shelf", ["s1"]));
    rmSync(join(dir, "manifests/strict.yaml"));
    writeFileSync(join(dir, "policy.yaml"), pol("1h"));
    g("add", "-A");
    g("commit", "-q", "-m", "change");
  });

  it("reports removed and added versions and flags loosening, without AWS", async () => {
    const r = await runCli(["diff", "--base", "HEAD~1", "--policy", "policy.yaml", "--output", "json"], { env: {}, cwd: dir });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(2);
    const d = JSON.parse(r.stdout);
    expect(d.projects).toEqual([
      { project: "fraud", region: "us-east-1", removed: ["v2"], added: ["v4"] },
      { project: "shelf", region: "us-east-1", removed: [], added: ["s1"], set: "added" },
    ]);
    expect(d.policy.map((p: { field: string; from: string; to: string; loosens: boolean }) => [p.field, p.from, p.to, p.loosens])).toEqual([
      ["minAge", "1d", "1h", true],
      ["(whole policy)", "selects fraud", "(removed)", true],
    ]);
    expect(d.policy.map((p: { layer: string }) => p.layer)).toEqual([expect.stringMatching(/^operator policy /), expect.stringMatching(/^manifest policy "strict"/)]);
    expect(d.summary).toEqual({ removed: 1, added: 2, policyChanges: 2, loosenings: 2 });
  });

  it("table and markdown say it loudly; --fail-on-loosen exits 1; no change exits 0", async () => {
    const t = await runCli(["diff", "--base", "HEAD~1", "--policy", "policy.yaml"], { env: {}, cwd: dir });
    expect(t.stdout).toMatch(/^LOOSENS operator policy .*policy\.yaml: minAge 1d → 1h$/m);
    expect(t.stdout).toContain("fraud (us-east-1): removes v2 (deleted by apply if every guard passes)");
    const md = await runCli(["diff", "--base", "HEAD~1", "--policy", "policy.yaml", "--output", "markdown"], { env: {}, cwd: dir });
    expect(md.stdout).toContain("> [!WARNING]");
    expect(md.stdout).toContain("| `fraud` | us-east-1 | `v2` | `v4` |");
    const fail = await runCli(["diff", "--base", "HEAD~1", "--policy", "policy.yaml", "--fail-on-loosen"], { env: {}, cwd: dir });
    expect(fail.code).toBe(1);
    expect(fail.stderr).toContain("the change loosens a deletion policy");
    const same = await runCli(["diff", "--base", "HEAD", "--policy", "policy.yaml"], { env: {}, cwd: dir });
    expect(same.code).toBe(0);
  });

  it("a --manifests path absent at both revisions is an error, not 'no change'", async () => {
    const r = await runCli(["diff", "--base", "HEAD~1", "--manifests", "manifestz", "--fail-on-loosen"], { env: {}, cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("--manifests manifestz: no manifests there at HEAD~1 nor at HEAD");
  });

  it("an unknown ref is a clear error", async () => {
    const r = await runCli(["diff", "--base", "no-such-ref"], { env: {}, cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("rekon: git rev-parse --verify --quiet no-such-ref^{commit}");
  });
});
