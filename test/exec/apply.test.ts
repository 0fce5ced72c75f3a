// The built `rekon` binary doing a multi-account apply end to end: roles assumed through the emulator's
// STS found via AWS_ENDPOINT_URL_STS, --concurrency, progress lines on stderr off a terminal, --wait
// reporting its time, and a second plan with nothing left to delete.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { runCli } from "../helpers/run-cli.js";
import { tmpTree } from "../helpers/tmp.js";

const A = "123456789012";
const B = "222222222222";
const ROLE = `arn:aws:iam::${B}:role/rekon`;
const versions = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `v${i}`, status: "STOPPED" as const, age: `${100 - i}d` }));

let emu: Emulator;
let tree: ReturnType<typeof tmpTree>;
beforeAll(async () => {
  emu = await startEmulator({
    state: { account: A, projects: [{ name: "home", versions: versions(4) }, { name: "away", account: B, region: "eu-west-1", versions: [...versions(3), { name: "serving", status: "RUNNING", age: "50d" }] }] },
    deleteDelayMs: 300,
    stopDelayMs: 300,
  });
  const set = (name: string, project: string, region: string, keep: string, role?: string) =>
    `apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata:\n  name: ${name}\nspec:\n  project: ${project}\n  region: ${region}\n${role ? `  roleArn: ${role}\n` : ""}  versions:\n    - name: ${keep}\n`;
  tree = tmpTree({
    "m/home.yaml": set("home", "home", "us-east-1", "v3"),
    "m/away.yaml": set("away", "away", "eu-west-1", "v2", ROLE),
    "policy.yaml": `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata:\n  name: exec\nspec:\n  allowedAccounts: ["${A}", "${B}"]\n  keepLatest: 0\n  stopRunning: true\n  maxDeletesPerRun: 20\n  rateLimits:\n    DeleteProjectVersion: 20\n`,
  });
});
afterAll(async () => {
  tree.cleanup();
  await emu.close();
});

const env = () => ({ ...emulatorEnv(emu.url), AWS_ENDPOINT_URL_STS: emu.url });

describe("rekon apply across two accounts", () => {
  it("assumes the role via AWS_ENDPOINT_URL_STS, stops then deletes, waits, and reports progress and time", async () => {
    const r = await runCli(["apply", "--manifests", tree.path("m"), "--policy", tree.path("policy.yaml"), "--auto-approve", "--wait", "--concurrency", "2"], { env: env(), timeoutMs: 60_000 });
    expect(r.stderr).not.toMatch(/unexpected error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/All accepted deletions have completed \(waited \d+\.\ds\)/);
    // Off a terminal: progress as a pino line on stderr.
    const lines = r.stderr.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { msg: string; done?: number; total?: number });
    expect(lines.find((l) => l.msg === "apply finished")).toMatchObject({ done: 6, total: 6 });
    const calls = emu.calls();
    expect(calls.filter((c) => c.operation === "AssumeRole" && c.outcome === "ok").length).toBeGreaterThanOrEqual(1);
    expect(calls.filter((c) => c.operation === "DeleteProjectVersion" && c.outcome === "ok").map((c) => `${c.account}/${c.region}`).sort()).toEqual([
      `${A}/us-east-1`, `${A}/us-east-1`, `${A}/us-east-1`, `${B}/eu-west-1`, `${B}/eu-west-1`, `${B}/eu-west-1`,
    ]);
    expect(calls.find((c) => c.operation === "StopProjectVersion")).toMatchObject({ account: B, region: "eu-west-1", outcome: "ok" });

    const again = await runCli(["plan", "--manifests", tree.path("m"), "--policy", tree.path("policy.yaml"), "--output", "json"], { env: env(), timeoutMs: 30_000 });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).summary.delete).toBe(0);
  });

  it("--concurrency is checked and belongs to apply", async () => {
    const bad = await runCli(["apply", "--manifests", tree.path("m"), "--concurrency", "0"], { env: env() });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--concurrency must be a whole number from 1 to 64/);
    const onPlan = await runCli(["plan", "--manifests", tree.path("m"), "--concurrency", "4"], { env: env() });
    expect(onPlan.code).toBe(1);
    expect(onPlan.stderr).toMatch(/--concurrency does not apply to "plan"/);
  });
});
