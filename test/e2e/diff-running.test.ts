// `rekon diff` in a pull request shows what the change does to running state (issue 22): the versions it
// starts or stops, in inference units and, with the operator's price, per 30 days. Through the built binary
// on a real Git repository with two commits; plan at head, against the emulator, starts what diff priced.
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { ROOT, runCli } from "../helpers/run-cli.js";

const ACCOUNT = "123456789012";
const GIT_ENV = {
  GIT_AUTHOR_NAME: "rekon-test",
  GIT_AUTHOR_EMAIL: "test@rekon.invalid",
  GIT_COMMITTER_NAME: "rekon-test",
  GIT_COMMITTER_EMAIL: "test@rekon.invalid",
  GIT_CONFIG_NOSYSTEM: "1",
};

let dir: string;
let emu: Emulator | undefined;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "rekon-diffrunning-"));
  git("init", "-q", "-b", "main");
});
afterEach(async () => {
  await emu?.close();
  emu = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function git(...args: string[]): string {
  return execFileSync("git", ["-c", "commit.gpgsign=false", ...args], { cwd: dir, encoding: "utf8", env: { ...process.env, ...GIT_ENV } });
}
function commit(message: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  git("add", "-A");
  git("commit", "-q", "-m", message);
}

/** A set listing v1 and v2; `running` is v1's running block, if any. */
const set = (running?: string) =>
  "apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata: {name: shelf}\nspec:\n  project: p1\n  region: us-east-1\n  versions:\n" +
  `    - name: v1\n${running ? `      running: ${running}\n` : ""}    - name: v2\n`;
const operator = (inference: string) =>
  `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata: {name: ops}\nspec:\n  allowedAccounts: ["${ACCOUNT}"]\n  minAge: 24h\n  inference: ${inference}\n`;
const layer = (inference: string) =>
  `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata: {name: team}\nspec:\n  selector: {projects: [p1]}\n  inference: ${inference}\n`;

const diff = (...args: string[]) => runCli(["diff", "--base", "HEAD~1", "--manifests", "m", "--policy", "policy.yaml", ...args], { env: {}, cwd: dir });

describe("rekon diff: running state and its cost in a review", () => {
  it("a change that starts 2 IU shows +2 IU ≈ +5,760 USD / 30 days (4.00 USD per IU-hour × 720 h), and plan at head starts it", async () => {
    commit("base", { "m/shelf.yaml": set(), "policy.yaml": operator("{unitPricePerHour: 4.00}") });
    commit("run v1", { "m/shelf.yaml": set("{minInferenceUnits: 2, maxInferenceUnits: 3}") });

    const md = await diff("--output", "markdown");
    expect(md.code).toBe(2); // a change, not an error, not a loosening
    const lines = md.stdout.split("\n");
    expect(lines[0]).toBe("### rekon diff: 0 version(s) removed, 0 added, 0 policy change(s), 0 loosening(s); running state +2 IU ≈ +5,760 USD / 30 days");
    expect(lines).toContain("| `p1` | us-east-1 | `v1` | starts: declared running at 2–3 IU (auto scaling) | +2 IU ≈ +5,760 USD / 30 days |");
    expect(lines).toContain("**Running state, total: +2 IU ≈ +5,760 USD / 30 days**");

    const json = await diff("--output", "json");
    expect(json.code).toBe(2);
    const d = JSON.parse(json.stdout);
    expect(d.running).toEqual({ changes: 1, inferenceUnits: 2, unitPricePerHour: 4, currency: "USD", costPer30Days: 5760 });
    expect(d.projects).toEqual([
      {
        project: "p1",
        region: "us-east-1",
        removed: [],
        added: [],
        running: [
          {
            version: "v1",
            change: "start",
            to: { minInferenceUnits: 2, maxInferenceUnits: 3 },
            units: 2,
            costPer30Days: 5760,
            text: "starts: declared running at 2–3 IU (auto scaling)",
          },
        ],
      },
    ]);
    expect(d.summary).toEqual({ removed: 0, added: 0, policyChanges: 0, loosenings: 0 });

    // Starting units is shown, not failed: --fail-on-loosen is about the policy, not the bill.
    expect((await diff("--fail-on-loosen")).code).toBe(2);

    // What diff priced is what plan at head starts: v1 at 2 IU, 5,760.00 USD per 30 days after the plan.
    emu = await startEmulator({
      state: {
        account: ACCOUNT,
        projects: [
          {
            name: "p1",
            versions: [
              { name: "v1", age: "30d", status: "STOPPED" },
              { name: "v2", age: "20d", status: "STOPPED" },
            ],
          },
        ],
      },
    });
    const plan = await runCli(["plan", "--manifests", "m", "--policy", "policy.yaml", "--output", "json"], {
      env: emulatorEnv(emu.url),
      cwd: dir,
    });
    expect(plan.code, plan.stderr).toBe(2);
    const p = JSON.parse(plan.stdout) as { actions: { action: string; versionName: string; units?: unknown }[]; cost: { perHourAfter: number } };
    expect(p.actions.filter((a) => a.action === "start").map((a) => [a.versionName, a.units])).toEqual([["v1", { min: 2, max: 3 }]]);
    expect(p.cost.perHourAfter * 720).toBe(d.running.costPer30Days);
  });

  it("without a price: units, and where to set the price", async () => {
    commit("base", { "m/shelf.yaml": set(), "policy.yaml": operator("{}") });
    commit("run v1", { "m/shelf.yaml": set("{minInferenceUnits: 2}") });
    const r = await diff();
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("  p1 (us-east-1): v1 starts: declared running at 2 IU — +2 IU\n");
    expect(r.stdout).toContain("  Total: +2 IU (set spec.inference.unitPricePerHour in the policy to see the cost)\n");
  });

  it("--fail-on-loosen fails a raised unit ceiling in the operator policy, and a layer dropping allowRestart: false", async () => {
    commit("base", {
      "m/shelf.yaml": set(),
      "m/team.yaml": layer("{allowRestart: false}"),
      "policy.yaml": operator("{maxInferenceUnits: 4, allowRestart: true}"),
    });
    commit("more units", { "m/team.yaml": layer("{}"), "policy.yaml": operator("{maxInferenceUnits: 8, allowRestart: true}") });
    const r = await diff("--fail-on-loosen");
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("LOOSENS operator policy policy.yaml: inference.maxInferenceUnits 4 → 8\n");
    expect(r.stdout).toContain('LOOSENS manifest policy "team" (m/team.yaml): inference.allowRestart false → (unset)\n');
    expect(r.stderr).toContain("loosens a deletion policy (2 field(s))");
  });

  it("the example comment in docs/pr-workflow.md is what diff prints for its example", async () => {
    // The page's runnable block, step by step: the demo inputs (priced, runtime: managed), then v6 served at 2–4 IU.
    for (const d of ["manifests", "deploy"]) cpSync(join(ROOT, d), join(dir, d), { recursive: true });
    git("add", "-A");
    git("commit", "-q", "-m", "base");
    const shelf = join(dir, "manifests/shelf-scanner.yaml");
    const edited = readFileSync(shelf, "utf8").replace(/^ {4}- name: v6$/m, "    - name: v6\n      running: {minInferenceUnits: 2, maxInferenceUnits: 4}");
    writeFileSync(shelf, edited);
    git("commit", "-q", "-am", "serve v6 at 2 IU");
    const r = await runCli(
      ["diff", "--base", "HEAD~1", "--manifests", "manifests", "--policy", "deploy/policy.yaml", "--region", "us-east-1", "--output", "markdown"],
      {
        env: {},
        cwd: dir,
      },
    );
    expect(r.code).toBe(2);
    const page = readFileSync(join(ROOT, "docs/pr-workflow.md"), "utf8");
    const shown = /The comment it writes:\n\n```markdown\n([\s\S]*?)\n```/.exec(page)?.[1];
    expect(shown).toBe(r.stdout.trimEnd());
  });
});
