// The GitHub Action's script, run locally with the variables GitHub sets, against a temporary Git
// repository and the emulator.
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { BIN, ROOT } from "../helpers/run-cli.js";

let emu: Emulator;
let dir: string;
let tmp: string;
const g = (...args: string[]) => execFileSync("git", ["-c", "user.name=rekon-test", "-c", "user.email=test@rekon.invalid", "-c", "commit.gpgsign=false", ...args], { cwd: dir, encoding: "utf8" });
const set = (versions: string[]) =>
  `apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata: {name: fraud-models}\nspec:\n  project: fraud-detector\n  region: us-east-1\n  versions: [${versions.map((v) => `{name: ${v}}`).join(", ")}]\n`;

beforeEach(async () => {
  emu = await startEmulator();
  dir = mkdtempSync(join(tmpdir(), "rekon-action-"));
  tmp = mkdtempSync(join(tmpdir(), "rekon-runner-"));
  g("init", "-q", "-b", "main");
  mkdirSync(join(dir, "manifests"));
  mkdirSync(join(dir, "ops"));
  writeFileSync(join(dir, "ops/policy.yaml"), readFileSync(join(ROOT, "deploy/policy.yaml")));
  writeFileSync(join(dir, "manifests/fraud.yaml"), set(["fraud-detector.2026-11-14T10.20.00", "fraud-detector.2026-07-01T08.00.00"]));
  g("add", "-A");
  g("commit", "-q", "-m", "base");
  g("update-ref", "refs/remotes/origin/main", "HEAD");
  // The pull request: stop listing the July model.
  writeFileSync(join(dir, "manifests/fraud.yaml"), set(["fraud-detector.2026-11-14T10.20.00"]));
  g("commit", "-q", "-am", "retire the July model");
});
afterEach(async () => {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
});

function runAction(inputs: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string; summary: string; outputs: Record<string, string> }> {
  const summary = join(tmp, "summary.md");
  const output = join(tmp, "output.txt");
  writeFileSync(summary, "");
  writeFileSync(output, "");
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/tmp",
    ...emulatorEnv(emu.url),
    GITHUB_ACTIONS: "true",
    GITHUB_EVENT_NAME: "pull_request",
    GITHUB_BASE_REF: "main",
    GITHUB_HEAD_REF: "retire-july",
    GITHUB_WORKSPACE: dir,
    GITHUB_STEP_SUMMARY: summary,
    GITHUB_OUTPUT: output,
    RUNNER_TEMP: tmp,
    REKON_BIN: BIN,
    ...inputs,
  };
  return new Promise((resolve) => {
    execFile("bash", [join(ROOT, "deploy/github/action.sh")], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      const outputs = Object.fromEntries(
        readFileSync(output, "utf8")
          .split("\n")
          .filter(Boolean)
          .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
      );
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr, summary: readFileSync(summary, "utf8"), outputs });
    });
  });
}

describe("GitHub Action script", () => {
  it("validates, diffs against origin/<base>, plans, and writes the summary, comment file and outputs", async () => {
    const r = await runAction({ INPUT_MANIFESTS: "manifests", INPUT_POLICY: "ops/policy.yaml", INPUT_PLAN: "true", INPUT_PLAN_FILE: "rekon-plan.json" });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.summary).toContain("### rekon diff: 1 version(s) removed, 0 added, 0 policy change(s), 0 loosening(s)");
    expect(r.summary).toContain("| `fraud-detector` | us-east-1 | `fraud-detector.2026-07-01T08.00.00` |  |");
    expect(r.summary).toMatch(/### rekon plan: 3 to delete, 1 to keep, 2 blocked, 0 missing — 🗑️ deletions pending/);
    expect(r.outputs["plan-exit-code"]).toBe("2");
    expect(r.outputs["diff-exit-code"]).toBe("2");
    expect(readFileSync(r.outputs["comment-file"]!, "utf8")).toBe(r.summary);
    expect(r.outputs["plan-file"]).toBe("rekon-plan.json");
    expect(JSON.parse(readFileSync(join(dir, "rekon-plan.json"), "utf8")).kind).toBe("SavedPlan");
    expect(emu.calls().filter((c) => c.operation === "DeleteProjectVersion")).toEqual([]);
  });

  it("without AWS (a fork): validate and diff only", async () => {
    const r = await runAction({ INPUT_POLICY: "ops/policy.yaml", INPUT_PLAN: "false", AWS_ENDPOINT_URL_REKOGNITION: "http://127.0.0.1:9" });
    expect(r.code).toBe(0);
    expect(r.summary).toContain("### rekon diff:");
    expect(r.summary).not.toContain("rekon plan");
    expect(r.outputs["plan-exit-code"]).toBe("");
    expect(existsSync(join(dir, "rekon-plan.json"))).toBe(false);
  });

  it("an invalid manifest fails the step with the error in the summary", async () => {
    writeFileSync(join(dir, "manifests/bad.yaml"), "apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata: {name: bad}\nspec: {project: x, versons: []}\n");
    const r = await runAction({ INPUT_POLICY: "ops/policy.yaml" });
    expect(r.code).toBe(1);
    expect(r.summary).toContain("### rekon validate: ❌ invalid manifests or policy");
    expect(r.summary).toContain("manifests/bad.yaml:4:1: spec.versions: required field is missing");
    expect(emu.calls()).toEqual([]);
  });
});
