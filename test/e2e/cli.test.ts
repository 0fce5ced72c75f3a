// The `rekon` binary end to end: a child process, the real SDK, HTTP to an emulator on 127.0.0.1.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { ROOT, runCli, spawnEmulator } from "../helpers/run-cli.js";

let emu: Emulator;
let dir: string;
let env: Record<string, string>;

beforeEach(async () => {
  emu = await startEmulator({ deleteDelayMs: 100 }); // the demo inventory
  dir = mkdtempSync(join(tmpdir(), "rekon-e2e-"));
  cpSync(join(ROOT, "manifests"), join(dir, "manifests"), { recursive: true });
  cpSync(join(ROOT, "deploy/policy.yaml"), join(dir, "policy.yaml"));
  env = emulatorEnv(emu.url);
});
afterEach(async () => {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

const M = () => ["--manifests", join(dir, "manifests")];
const P = () => ["--policy", join(dir, "policy.yaml")];
const deleteCalls = () => emu.calls().filter((c) => c.operation === "DeleteProjectVersion");
const READS = new Set(["ListTagsForResource", "GetCallerIdentity"]);
const writeCalls = () => emu.calls().filter((c) => !c.operation.startsWith("Describe") && !READS.has(c.operation));

describe("validate", () => {
  it("accepts the example manifests and policy, offline", async () => {
    const r = await runCli(["validate", ...M(), ...P()], { env: {} });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`valid: 3 file(s), 3 ProjectVersionSet(s), 0 manifest DeletionPolicy(s), policy: ${join(dir, "policy.yaml")}\n`);
  });

  it("never loads the AWS SDK", async () => {
    const trace = join(dir, "imports.txt");
    writeFileSync(trace, "");
    const r = await runCli(["validate", ...M(), ...P()], { env: { REKON_IMPORT_TRACE: trace }, nodeArgs: ["--import", join(ROOT, "test/helpers/import-trace.mjs")] });
    expect(r.code).toBe(0);
    const loaded = readFileSync(trace, "utf8");
    expect(loaded).toContain("/inputs/manifests.js"); // the trace works
    expect(loaded).not.toMatch(/@aws-sdk|@smithy/);
  });

  it("reports every error with file:line:col and exits 1", async () => {
    writeFileSync(join(dir, "manifests/bad.yaml"), "apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata: {name: bad}\nspec:\n  project: fraud-detector\n  versons: []\n");
    const r = await runCli(["validate", ...M()], { env: {} });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(dir, "manifests/bad.yaml")}:4:1: spec.versions: required field is missing`);
    expect(r.stderr).toContain(`${join(dir, "manifests/bad.yaml")}:6:3: spec.versons: unknown field "versons" (fix: did you mean "versions"?`);
  });
});

describe("no region anywhere", () => {
  it("is said once, with its fix, and every set that lacks one listed at file:line:col", async () => {
    for (const f of ["fraud-detector.yaml", "shelf-scanner.yaml", "trust-safety/moderation-adapter.yaml"]) {
      const file = join(dir, "manifests", f);
      writeFileSync(file, readFileSync(file, "utf8").replace(/^ {2}region: .*\n/m, ""));
    }
    const r = await runCli(["plan", ...M(), ...P()], { env: { AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null" } });
    expect(r.code).toBe(1);
    const lines = r.stderr.split("\n").filter((l) => l.startsWith("  "));
    expect(lines).toEqual([
      "  spec.region: no region: spec.region is not set and no default region is configured (fix: set spec.region, or AWS_REGION (or a region in your AWS profile)), in 3 places:",
      `    ${join(dir, "manifests/fraud-detector.yaml")}:9:3`,
      `    ${join(dir, "manifests/shelf-scanner.yaml")}:11:3`,
      `    ${join(dir, "manifests/trust-safety/moderation-adapter.yaml")}:7:3`,
    ]);
    expect(emu.calls()).toEqual([]);
  });
});

describe("plan", () => {
  it("exit 2 with deletions pending; --output json is pure JSON on stdout", async () => {
    const r = await runCli(["plan", ...M(), ...P(), "--output", "json"], { env });
    expect(r.code).toBe(2);
    const plan = JSON.parse(r.stdout);
    expect(plan.summary).toEqual({ delete: 7, keep: 1, blocked: 3, missing: 1, start: 1, stop: 1 });
    expect(plan.projects.map((p: { project: string; status: string }) => [p.project, p.status])).toEqual([
      ["fraud-detector", "ok"],
      ["moderation-adapter", "ok"],
      ["shelf-scanner", "ok"],
    ]);
    const running = plan.actions.find((a: { versionName: string }) => a.versionName === "fraud-detector.2026-10-01T12.00.00");
    expect(running).toMatchObject({ action: "blocked", status: "RUNNING", reasons: [{ rule: "inUse" }] });
    expect(writeCalls()).toEqual([]);
  });

  it("exit 0 when every live version is listed", async () => {
    // Every project with versions (the demo's empty archive project has none to list).
    const all = emu.snapshot().projects.filter((p) => p.versions?.length).map(
      (p) => `apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata: {name: ${p.name}}\nspec:\n  project: ${p.name}\n  region: us-east-1\n  versions:\n${(p.versions ?? []).map((v) => `    - name: ${v.name}\n`).join("")}`,
    );
    rmSync(join(dir, "manifests"), { recursive: true });
    cpSync(join(ROOT, "manifests"), join(dir, "manifests"), { recursive: true, filter: () => false });
    writeFileSync(join(dir, "all.yaml"), all.join("---\n"));
    const r = await runCli(["plan", "--manifests", join(dir, "all.yaml"), ...P()], { env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Plan: 0 to delete, 13 to keep, 0 blocked, 0 missing\./);
  });

  it("exit 1 when a named project does not exist, and nothing in it is touched", async () => {
    writeFileSync(join(dir, "manifests/ghost.yaml"), "apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata: {name: ghost}\nspec:\n  project: ghost\n  region: us-east-1\n  versions: [{name: v1}]\n");
    const r = await runCli(["plan", ...M(), ...P()], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("Error: project not found\n");
    expect(r.stdout).toContain("  1 project not found; nothing in it is deleted:\n    ghost  us-east-1, account 123456789012\n");
  });

  it("exit 1 when the live read fails (throttle storm), with no deletion", async () => {
    emu.setFaults({ throttleRate: { DescribeProjectVersions: 1 } });
    const r = await runCli(["apply", ...M(), ...P(), "--auto-approve", "--output", "json", "--retries", "2", "--retry-max-time", "5s"], { env, timeoutMs: 60_000 });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.projects.every((p: { status: string }) => p.status === "error")).toBe(true);
    expect(out.summary.delete).toBe(0);
    expect(deleteCalls()).toEqual([]);
  }, 70_000);
});

describe("apply", () => {
  it("--auto-approve deletes exactly the plan's delete set, then the next plan is clean", async () => {
    const planned = JSON.parse((await runCli(["plan", ...M(), ...P(), "--output", "json"], { env })).stdout);
    const expected = planned.actions.filter((a: { action: string }) => a.action === "delete").map((a: { versionArn: string }) => a.versionArn).sort();
    expect(expected).toHaveLength(7);

    const r = await runCli(["apply", ...M(), ...P(), "--auto-approve", "--wait", "--output", "json"], { env });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    // The seven deletions, and the demo's start and stop.
    expect(out.results.map((x: { operation: string; result: string }) => `${x.operation} ${x.result}`).sort()).toEqual(
      [...Array(7).fill("delete accepted"), "start accepted", "stop accepted"].sort(),
    );
    expect(out.stillPresent).toEqual([]);
    expect(deleteCalls().map((c) => c.target).sort()).toEqual(expected);

    const again = await runCli(["plan", ...M(), ...P()], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("Plan: 0 to delete, 3 to keep, 3 blocked, 1 missing.");
  });

  it("refuses without --auto-approve when stdin is not a terminal", async () => {
    const r = await runCli(["apply", ...M(), ...P()], { env, input: "yes\n" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("stdin is not a terminal");
    expect(r.stderr).toContain("--auto-approve");
    expect(deleteCalls()).toEqual([]);
  });

  it("refuses when the policy names no allowed account", async () => {
    const r = await runCli(["apply", ...M(), "--auto-approve"], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refused \(accountNotAllowed\): apply needs spec.allowedAccounts/);
    expect(deleteCalls()).toEqual([]);
  });

  it("a refused apply says so on stdout too, after the plan (a PR comment must not read 'deletions pending')", async () => {
    const md = await runCli(["apply", ...M(), "--auto-approve", "--output", "markdown"], { env });
    expect(md.code).toBe(1);
    expect(md.stdout).toMatch(/> \[!CAUTION\]\n> \*\*Refused\*\* \(`accountNotAllowed`\): apply needs spec.allowedAccounts.*\. Nothing was deleted\.\n$/s);
    const table = await runCli(["apply", ...M(), ...P()], { env, input: "yes\n" });
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(/\nRefused \(confirmation\): apply would delete versions but stdin is not a terminal.*Nothing was deleted\.\n$/s);
    expect(deleteCalls()).toEqual([]);
  });

  it("a bad manifest among good ones: exit 1 and no AWS call at all", async () => {
    writeFileSync(join(dir, "manifests/zz-bad.yaml"), "apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata: {name: zz}\nspec:\n  project: other\n  region: us-east-1\n  versions:\n    - name: ok\n    - nme: typo\n");
    const r = await runCli(["apply", ...M(), ...P(), "--auto-approve"], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(dir, "manifests/zz-bad.yaml")}:9:7: spec.versions[1].nme: unknown field "nme"`);
    expect(r.stderr).toContain("nothing was read from or changed in AWS");
    expect(emu.calls()).toEqual([]);
  });

  it("over the deletion budget: exit 1 and zero deletions", async () => {
    writeFileSync(join(dir, "policy.yaml"), readFileSync(join(dir, "policy.yaml"), "utf8").replace("maxDeletesPerRun: 10", "maxDeletesPerRun: 6"));
    const plan = await runCli(["plan", ...M(), ...P()], { env });
    expect(plan.code).toBe(1);
    expect(plan.stdout).toContain("REFUSED (maxDeletesPerRun): the run would delete 7 versions, over maxDeletesPerRun 6");
    const r = await runCli(["apply", ...M(), ...P(), "--auto-approve"], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("refused (maxDeletesPerRun)");
    expect(deleteCalls()).toEqual([]);
  });

  it("exit 1 when deletions get only server errors: each is reported unknown (a 500 may have run), never failed or accepted", async () => {
    emu.setFaults({ errorRate: { DeleteProjectVersion: 1 } });
    const r = await runCli(["apply", ...M(), ...P(), "--auto-approve", "--output", "json", "--retries", "2", "--retry-max-time", "5s"], { env, timeoutMs: 60_000 });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    const deletions = out.results.filter((x: { operation: string }) => x.operation === "delete");
    expect(deletions).toHaveLength(7);
    expect(deletions.every((x: { result: string; code: string }) => x.result === "unknown" && x.code === "InternalServerError")).toBe(true);
    expect(r.stderr).toContain("7 write(s) were sent but not answered: they may have happened");
  }, 70_000);
});

describe("usage", () => {
  it.each([
    { args: ["plan"], msg: "--manifests PATH is required" },
    { args: ["plan", "--manifests", "x", "--output", "xml"], msg: "--output must be one of: table, json" },
    { args: ["frobnicate"], msg: 'unknown command "frobnicate"' },
    { args: ["plan", "--nope"], msg: "Unknown option '--nope'" },
    { args: ["plan", "--manifests", "x", "--apply"], msg: '--apply does not apply to "plan"' },
    { args: ["validate", "--manifests", "x", "--auto-approve"], msg: '--auto-approve does not apply to "validate"' },
    { args: ["plan", "--manifests", "x", "--log-format", "xml"], msg: "--log-format must be one of: json, pretty" },
    { args: ["validate", "--manifests", "x", "--log-format", "json"], msg: '--log-format does not apply to "validate"' },
  ])("$args → exit 1: $msg", async ({ args, msg }) => {
    const r = await runCli(args, { env: {} });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(msg);
  });

  it("--help lists every command and the exit codes", async () => {
    const r = await runCli(["--help"], { env: {} });
    expect(r.code).toBe(0);
    for (const c of ["validate", "plan", "apply", "emulator", "demo", "Exit codes"]) expect(r.stdout).toContain(c);
  });
});

describe("rekon --version", () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
  const built = (JSON.parse(readFileSync(join(ROOT, "dist/build-info.json"), "utf8")) as { revision: string }).revision;

  it("prints the package version and the Git revision dist/ was built from; rekon version says the same", async () => {
    const r = await runCli(["--version"], { env: {} });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(`rekon ${pkg.version} (${built === "unknown" ? "revision unknown" : built})\n`);
    expect(built).toMatch(/^([0-9a-f]{40}(-dirty)?|unknown)$/);
    expect((await runCli(["version"], { env: {} })).stdout).toBe(r.stdout);
  });

  it("--output json, and REKON_REVISION at run time (as images set it) wins", async () => {
    const r = await runCli(["version", "--output", "json"], { env: { REKON_REVISION: "0123abc" } });
    expect(JSON.parse(r.stdout)).toEqual({ version: pkg.version, revision: "0123abc" });
    expect((await runCli(["--version", "--output", "json"], { env: {} })).stdout).toBe(JSON.stringify({ version: pkg.version, revision: built }) + "\n");
  });

  it("is rekon's, not a command's: plan --version is refused", async () => {
    const r = await runCli(["plan", "--version"], { env: {} });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--version does not apply to "plan"');
  });
});

describe("rekon emulator", () => {
  it("announces its port on the first stdout line, serves the demo inventory to rekon plan, and exits 0 on SIGTERM", async () => {
    const { child, firstLine: first, exited } = await spawnEmulator();
    try {
      expect(first).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/);
      const url = first.replace("listening on ", "");
      const r = await runCli(["plan", ...M(), ...P(), "--output", "json"], { env: emulatorEnv(url) });
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout).summary.delete).toBe(7);
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
  });
});
