// deploy/github/rekon.yml and the action: the apply jobs' concurrency and environment, and the recovery
// path for a refused saved plan, run for real. The workflow's own `run:` scripts are executed with bash
// (an `npx` on PATH that runs the built rekon stands in for `npx --package=github:…`), against the
// emulator: a merged plan goes stale → apply refuses and deletes nothing → the manual re-plan and its
// apply delete exactly what the new plan lists. Every run script and shell file passes shellcheck.
import { execFile, execFileSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { BIN, ROOT } from "../helpers/run-cli.js";

type Step = { name?: string; run?: string; if?: string; env?: Record<string, string>; uses?: string; with?: Record<string, unknown> };
type Job = { if?: string; needs?: string | string[]; environment?: string; concurrency?: { group: string; "cancel-in-progress": boolean }; steps: Step[] };
const workflow = parse(readFileSync(join(ROOT, "deploy/github/rekon.yml"), "utf8")) as { on: Record<string, { inputs?: Record<string, unknown> }>; env: Record<string, string>; jobs: Record<string, Job> };
const jobs = workflow.jobs;
const step = (job: string, name: string) => jobs[job]!.steps.find((s) => s.name?.startsWith(name))!;

/** A run script as bash would get it: ${{ … }} expressions replaced by what GitHub would put there. */
function script(s: Step, values: Record<string, string> = {}): string {
  return s.run!.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expr: string) => values[expr] ?? "EXPR");
}

describe("rekon.yml", () => {
  const writers = ["apply", "replan", "apply-replanned"];
  it("one concurrency group for everything that applies, queued, never cancelled halfway", () => {
    for (const j of writers) expect(jobs[j]!.concurrency, j).toEqual({ group: "rekon-apply", "cancel-in-progress": false });
  });

  it("applies only behind the production environment, and the manual path only from main", () => {
    expect(jobs.apply!.environment).toBe("production");
    expect(jobs["apply-replanned"]!.environment).toBe("production");
    expect(jobs["apply-replanned"]!.needs).toBe("replan");
    expect(jobs.replan!.if).toContain("github.event_name == 'workflow_dispatch'");
    expect(jobs.replan!.if).toContain("github.ref == 'refs/heads/main'");
    expect(workflow.on.workflow_dispatch!.inputs).toHaveProperty("reason");
    // The re-plan's artifact is the one the apply downloads: same run.
    const upload = jobs.replan!.steps.find((s) => s.uses?.startsWith("actions/upload-artifact"))!;
    const download = jobs["apply-replanned"]!.steps.find((s) => s.uses?.startsWith("actions/download-artifact"))!;
    expect(download.with!.name).toBe(upload.with!.name);
    expect(String(upload.with!.name)).toContain("${{ github.run_id }}");
  });

  it("every rekon apply of a saved plan names --manifests and --policy", () => {
    const applies = Object.values(jobs).flatMap((j) => j.steps.filter((s) => s.run?.includes("rekon apply")));
    expect(applies.length).toBe(2);
    for (const s of applies) {
      expect(s.run).toMatch(/rekon apply rekon-plan\.json --manifests "\$MANIFESTS" --policy "\$POLICY"/);
    }
  });
});

describe("the recovery path, run for real", () => {
  let emu: Emulator;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeEach(async () => {
    emu = await startEmulator({ deleteDelayMs: 50 });
    dir = mkdtempSync(join(tmpdir(), "rekon-gh-"));
    cpSync(join(ROOT, "manifests"), join(dir, "manifests"), { recursive: true });
    mkdirSync(join(dir, "ops"));
    cpSync(join(ROOT, "deploy/policy.yaml"), join(dir, "ops/policy.yaml"));
    // `npx --yes --package=… rekon ARGS` → the built rekon with ARGS.
    mkdirSync(join(dir, ".bin"));
    writeFileSync(join(dir, ".bin/npx"), `#!/usr/bin/env bash\nwhile [ "$1" != rekon ]; do shift; done; shift\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(join(dir, ".bin/npx"), 0o755);
    writeFileSync(join(dir, "summary.md"), "");
    env = { PATH: `${join(dir, ".bin")}:${process.env.PATH}`, HOME: process.env.HOME ?? "/tmp", ...emulatorEnv(emu.url), ...workflow.env, GITHUB_STEP_SUMMARY: join(dir, "summary.md"), GITHUB_ACTOR: "octocat" };
  });
  afterEach(async () => {
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const bash = (s: Step, stepEnv: Record<string, string> = {}) =>
    new Promise<{ code: number; out: string }>((resolve) => {
      execFile("bash", ["-eo", "pipefail", "-c", script(s)], { cwd: dir, env: { ...env, ...stepEnv }, timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }));
    });
  const deleted = () => emu.calls().filter((c) => c.operation === "DeleteProjectVersion" && c.outcome === "ok").map((c) => c.target).sort();
  const planned = () => (JSON.parse(readFileSync(join(dir, "rekon-plan.json"), "utf8")).plan.actions as { action: string; versionArn: string }[]).filter((a) => a.action === "delete").map((a) => a.versionArn).sort();
  const summary = () => readFileSync(join(dir, "summary.md"), "utf8");

  it("a plan gone stale is refused (nothing deleted); re-plan and apply delete exactly the new plan", async () => {
    // The pull request's plan (the replan step makes the same kind of saved plan).
    const plan = await bash(step("replan", "rekon plan"), { REASON: "first plan" });
    expect(plan.code, plan.out).toBe(0);
    expect(planned()).toHaveLength(7);

    // Another pull request merged first: shelf-scanner no longer lists v6. The saved plan is stale.
    const shelf = join(dir, "manifests/shelf-scanner.yaml");
    writeFileSync(shelf, readFileSync(shelf, "utf8").replace("    - name: v6\n", ""));
    const refused = await bash(step("apply", "rekon apply"));
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/refused/);
    expect(deleted()).toEqual([]);
    expect((await bash(step("apply", "If the saved plan was refused"))).code).toBe(0);
    expect(summary()).toContain("Nothing was deleted.");
    expect(summary()).toContain("Run workflow");

    // Recovery: Run workflow → replan (its plan in the summary) → approve → apply-replanned.
    const replan = await bash(step("replan", "rekon plan"), { REASON: "saved plan refused as stale" });
    expect(replan.code, replan.out).toBe(0);
    expect(summary()).toContain("Manual re-plan requested by octocat: saved plan refused as stale");
    const fresh = planned();
    expect(fresh.length).toBeGreaterThan(0);
    const applied = await bash(step("apply-replanned", "rekon apply"));
    expect(applied.code, applied.out).toBe(0);
    expect(deleted()).toEqual(fresh);
  }, 90_000);

  it("the re-plan step fails on a plan error (exit 1), not on pending deletions (exit 2)", async () => {
    writeFileSync(join(dir, "ops/policy.yaml"), "not: a policy\n");
    const r = await bash(step("replan", "rekon plan"), { REASON: "x" });
    expect(r.code).not.toBe(0);
    expect(existsSync(join(dir, "rekon-plan.json"))).toBe(false);
  }, 30_000);
});

describe("the action", () => {
  it("refuses to plan without a policy (a saved plan is applied with the same --manifests and --policy)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rekon-act-"));
    try {
      cpSync(join(ROOT, "manifests"), join(dir, "manifests"), { recursive: true });
      execFileSync("git", ["init", "-q"], { cwd: dir });
      writeFileSync(join(dir, "summary.md"), "");
      const r = await new Promise<{ code: number; stderr: string }>((resolve) =>
        execFile("bash", [join(ROOT, "deploy/github/action.sh")], { env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", GITHUB_WORKSPACE: dir, GITHUB_STEP_SUMMARY: join(dir, "summary.md"), RUNNER_TEMP: dir, REKON_BIN: BIN, INPUT_MANIFESTS: "manifests", INPUT_PLAN: "true" }, timeout: 30_000 }, (err, _o, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
        ),
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("the policy input is required when plan is true");
      expect(readFileSync(join(dir, "summary.md"), "utf8")).toContain("rekon plan: ❌ no policy");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);
});

describe("shellcheck", () => {
  const hasShellcheck = (() => {
    try {
      execFileSync("shellcheck", ["--version"], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  })();
  const shellcheck = (args: string[], input?: string) => {
    try {
      execFileSync("shellcheck", args, { input, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
      return "";
    } catch (e) {
      return String((e as { stdout?: string }).stdout ?? e);
    }
  };
  const runSteps = Object.entries(jobs).flatMap(([j, job]) => job.steps.filter((s) => s.run).map((s) => ({ name: `${j}: ${s.name ?? s.run!.split("\n")[0]}`, s })));
  it.for(runSteps)("workflow step $name", ({ s }, ctx) => {
    if (!hasShellcheck) {
      console.log("shellcheck skipped: not installed (apt-get install shellcheck; .ci/run installs it)");
      ctx.skip();
    }
    expect(shellcheck(["--shell=bash", "-"], script(s))).toBe("");
  });
  it.for([".ci/run", "scripts/image-check.sh", "deploy/github/action.sh"])("%s", (file, ctx) => {
    if (!hasShellcheck) ctx.skip();
    expect(shellcheck([join(ROOT, file)])).toBe("");
  });
  it("shellcheck can fail", (ctx) => {
    if (!hasShellcheck) ctx.skip();
    expect(shellcheck(["--shell=bash", "-"], "rm -rf $DIR/*\n")).toContain("SC2115");
  });
});
