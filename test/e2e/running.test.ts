// Running state (issue 22) through the `rekon` binary against the emulator: what plan says (actions, units,
// cost, exit codes), what apply writes and in which order, and what keeps a start or stop from being sent
// (budgets, adapters, failed models, capacity drift, suspensions, saved plans, schedules).
import { writeFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator, type EmulatorStateFile } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { runCli } from "../helpers/run-cli.js";
import { tmpTree } from "../helpers/tmp.js";

const ACCOUNT = "123456789012";
let emu: Emulator | undefined;
let tree: ReturnType<typeof tmpTree> | undefined;
afterEach(async () => {
  await emu?.close();
  tree?.cleanup();
  emu = undefined;
  tree = undefined;
});

interface V {
  name: string;
  running?: string;
}
function set(project: string, versions: V[], extra = ""): string {
  const vs = versions.map((v) => `    - name: "${v.name}"${v.running ? `\n      running: ${v.running}` : ""}`).join("\n");
  return `apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata:\n  name: ${project}\nspec:\n  project: ${project}\n  region: us-east-1\n${extra}  versions:\n${vs}\n`;
}
function policy(inference = "    unitPricePerHour: 4.00\n", extra = ""): string {
  return (
    `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata:\n  name: run\nspec:\n  allowedAccounts: ["${ACCOUNT}"]\n` +
    `  minAge: 24h\n  keepLatest: 0\n  maxDeletesPerRun: 50\n${extra}  inference:\n${inference}`
  );
}

/** p: v-run RUNNING at 2 IU (listed, not declared running), v-new STOPPED (declared running), old STOPPED (unlisted). */
const STATE: EmulatorStateFile = {
  account: ACCOUNT,
  projects: [
    {
      name: "p",
      versions: [
        { name: "old", status: "STOPPED", age: "90d" },
        { name: "v-run", status: "RUNNING", age: "60d", minInferenceUnits: 2 },
        { name: "v-new", status: "TRAINING_COMPLETED", age: "3d" },
      ],
    },
    { name: "ad", feature: "CONTENT_MODERATION", versions: [{ name: "a1", status: "TRAINING_COMPLETED", age: "5d" }] },
  ],
};

async function world(files: Record<string, string>, state: EmulatorStateFile = STATE) {
  emu = await startEmulator({ state, deleteDelayMs: 60_000, startDelayMs: 500, stopDelayMs: 500 });
  tree = tmpTree(files);
  const env = emulatorEnv(emu.url);
  const M = ["--manifests", tree.path("m")];
  const P = ["--policy", tree.path("policy.yaml")];
  return {
    plan: async (...args: string[]) => {
      const r = await runCli(["plan", ...M, ...P, "--output", "json", ...args], { env });
      return { code: r.code, stderr: r.stderr, plan: r.stdout ? JSON.parse(r.stdout) : undefined };
    },
    table: (...args: string[]) => runCli(["plan", ...M, ...P, ...args], { env: { ...env, NO_COLOR: "1", COLUMNS: "200" } }),
    apply: async (...args: string[]) => {
      const r = await runCli(["apply", ...M, ...P, "--auto-approve", "--output", "json", ...args], { env, timeoutMs: 60_000 });
      return { code: r.code, stderr: r.stderr, out: r.stdout ? JSON.parse(r.stdout) : undefined };
    },
    raw: (args: string[]) => runCli(args, { env, timeoutMs: 60_000 }),
    M,
    P,
  };
}
const writes = () =>
  emu!
    .calls()
    .filter((c) => c.phase === "answered" && ["StartProjectVersion", "StopProjectVersion", "DeleteProjectVersion"].includes(c.operation))
    .map((c) => `${c.operation.replace("ProjectVersion", "")} ${c.target!.split("/version/")[1]!.split("/")[0]}`);
const live = (project: string, name: string) => emu!.snapshot().projects.find((p) => p.name === project)!.versions!.find((v) => v.name === name)!;
const act = (plan: { actions: { versionName: string }[] }, name: string) => plan.actions.find((a) => a.versionName === name) as unknown as Record<string, unknown> & { reasons: { rule: string; message: string }[] };
const MANAGED = "  runtime: managed\n";

describe("plan: starts and stops beside deletions, with units and cost", () => {
  it("a start, a stop and a deletion; units and cost now and after; exit 2", async () => {
    const w = await world({ "m/p.yaml": set("p", [{ name: "v-run" }, { name: "v-new", running: "{minInferenceUnits: 1, maxInferenceUnits: 3}" }], MANAGED), "policy.yaml": policy() });
    const { code, plan } = await w.plan();
    expect(code).toBe(2);
    expect(act(plan, "v-new")).toMatchObject({ action: "start", units: { min: 1, max: 3 } });
    expect(act(plan, "v-run")).toMatchObject({ action: "stop", units: { min: 2 } });
    expect(act(plan, "old")).toMatchObject({ action: "delete" });
    expect(plan.summary).toMatchObject({ delete: 1, start: 1, stop: 1 });
    expect(plan.inferenceUnits).toEqual({ now: 2, after: 1 });
    expect(plan.projects.find((p: { project: string }) => p.project === "p").inferenceUnits).toEqual({ now: 2, after: 1 });
    expect(plan.cost).toEqual({ perHourNow: 8, perHourAfter: 4, currency: "USD" });
    const t = await w.table();
    expect(t.stdout).toContain("Inference: 2 IU running now → 1 IU after the plan (8.00 → 4.00 USD/h; 5,760.00 → 2,880.00 USD per 30 days)");
    expect(t.stdout).toMatch(/start\s+v-new .*\n\s+↳ apply starts it at 1–3 IU/);
    expect(t.stdout).toMatch(/1 to delete, 1 missing|1 to delete/);
    expect(t.stdout).toContain("1 to start, 1 to stop.");
    // explain says the same of each listed version's running state.
    expect((await w.raw(["explain", "p/v-run", ...w.M, ...w.P])).stdout).toContain("running: stop at 2 IU; notDeclaredRunning: RUNNING, but its set");
    expect((await w.raw(["explain", "p/v-new", ...w.M, ...w.P])).stdout).toContain("running: start at 1–3 IU\n");
    expect(writes()).toEqual([]);
  });

  it("runtime: unmanaged (the default) never stops a listed version", async () => {
    const w = await world({ "m/p.yaml": set("p", [{ name: "v-run" }, { name: "v-new" }]), "policy.yaml": policy() });
    const { plan } = await w.plan();
    expect(act(plan, "v-run")).toMatchObject({ action: "keep", units: { min: 2 } });
    expect(plan.summary).toMatchObject({ start: 0, stop: 0 });
  });

  it.each([
    { name: "an adapter", project: "ad", file: set("ad", [{ name: "a1", running: "{minInferenceUnits: 1}" }]), version: "a1", why: /adapter/ },
    {
      name: "a FAILED model",
      project: "p",
      file: set("p", [{ name: "v-run" }, { name: "v-new" }, { name: "old", running: "{minInferenceUnits: 1}" }]),
      version: "old",
      why: /FAILED cannot run/,
      fail: true,
    },
  ])("running declared on $name: a plan error (exit 1), and apply sends no start", async ({ file, project, version, why, fail }) => {
    const w = await world({ [`m/${project}.yaml`]: file, "policy.yaml": policy() });
    if (fail) emu!.updateVersion(`arn:aws:rekognition:us-east-1:${ACCOUNT}:project/p/version/old/${Date.parse(live("p", "old").createdAt!)}`, { status: "FAILED" });
    const { code, plan } = await w.plan();
    expect(code).toBe(1);
    expect(act(plan, version)).toMatchObject({ action: "keep", reasons: [expect.objectContaining({ rule: "notStartable", message: expect.stringMatching(why) })] });
    await w.apply();
    expect(writes().filter((x) => x.startsWith("Start"))).toEqual([]);
  });
});

describe("apply: stops, then deletions, then starts, each through the gate", () => {
  it("writes in that order, starts at the declared units, and a second plan has nothing to do", async () => {
    const w = await world({ "m/p.yaml": set("p", [{ name: "v-run" }, { name: "v-new", running: "{minInferenceUnits: 2, maxInferenceUnits: 4}" }], MANAGED), "policy.yaml": policy() });
    const { code, out } = await w.apply();
    expect(code).toBe(0);
    expect(writes()).toEqual(["Stop v-run", "Delete old", "Start v-new"]);
    expect(out.results.map((r: { operation?: string; versionName: string; result: string }) => [r.versionName, r.operation, r.result]).sort()).toEqual([
      ["old", "delete", "accepted"],
      ["v-new", "start", "accepted"],
      ["v-run", "stop", "accepted"],
    ]);
    expect(live("p", "v-new")).toMatchObject({ minInferenceUnits: 2, maxInferenceUnits: 4 });
    const again = await w.plan();
    expect(again.plan.summary).toMatchObject({ start: 0, stop: 0 });
  });

  it.each([
    { name: "maxInferenceUnits", inference: "    maxInferenceUnits: 1\n", rule: "maxInferenceUnits" },
    { name: "maxStartsPerRun", inference: "    maxStartsPerRun: 1\n", rule: "maxStartsPerRun" },
  ])("over $name: nothing is started (exit 1), the budget named on each start", async ({ inference, rule }) => {
    const file = set("p", [{ name: "v-run", running: "{minInferenceUnits: 2}" }, { name: "v-new", running: "{minInferenceUnits: 1}" }, { name: "old", running: "{minInferenceUnits: 1}" }]);
    const w = await world({ "m/p.yaml": file, "policy.yaml": policy(inference) });
    const { code, plan } = await w.plan();
    expect(code).toBe(1);
    expect(act(plan, "v-new").reasons.map((r) => r.rule)).toEqual([rule]);
    const a = await w.apply();
    expect(a.code).toBe(1);
    expect(writes().filter((x) => x.startsWith("Start"))).toEqual([]);
  });

  it("capacity drift is reported and left alone; with allowRestart the version is stopped, then started at the declared units", async () => {
    const file = set("p", [{ name: "v-run", running: "{minInferenceUnits: 3}" }, { name: "v-new" }, { name: "old" }]);
    const w = await world({ "m/p.yaml": file, "policy.yaml": policy() });
    const { code, plan } = await w.plan();
    expect(code).toBe(0);
    expect(act(plan, "v-run").reasons).toEqual([expect.objectContaining({ rule: "capacityDrift", message: expect.stringMatching(/running at 2 IU, declared 3 IU; not restarted/) })]);
    writeFileSync(tree!.path("policy.yaml"), policy("    unitPricePerHour: 4.00\n    allowRestart: true\n"));
    const r = await w.apply();
    expect(r.code).toBe(0);
    expect(writes()).toEqual(["Stop v-run", "Start v-run"]);
    expect(live("p", "v-run").minInferenceUnits).toBe(3);
  });

  it("a suspended set starts and stops nothing", async () => {
    const file = set("p", [{ name: "v-run" }, { name: "v-new", running: "{minInferenceUnits: 1}" }, { name: "old" }], `${MANAGED}  suspend: {reason: "incident 42"}\n`);
    const w = await world({ "m/p.yaml": file, "policy.yaml": policy() });
    const { plan } = await w.plan();
    expect(plan.summary).toMatchObject({ start: 0, stop: 0 });
    expect(act(plan, "v-new").reasons.map((r) => r.rule)).toContain("suspended");
    await w.apply();
    expect(writes()).toEqual([]);
  });
});

describe("saved plans and schedules", () => {
  it("apply FILE makes the starts and stops the saved plan lists, and refuses all of them when the manifests changed", async () => {
    const file = set("p", [{ name: "v-run" }, { name: "v-new", running: "{minInferenceUnits: 1}" }, { name: "old" }], MANAGED);
    const w = await world({ "m/p.yaml": file, "policy.yaml": policy() });
    const out = tree!.path("plan.json");
    expect((await w.raw(["plan", ...w.M, ...w.P, "--out", out])).code).toBe(2);
    writeFileSync(tree!.path("m/p.yaml"), file.replace("minInferenceUnits: 1", "minInferenceUnits: 4"));
    const refused = await w.raw(["apply", out, ...w.M, ...w.P, "--auto-approve"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr + refused.stdout).toMatch(/manifests changed since the plan was saved/);
    expect(writes()).toEqual([]);
    writeFileSync(tree!.path("m/p.yaml"), file);
    const ok = await w.raw(["apply", out, ...w.M, ...w.P, "--auto-approve"]);
    expect(ok.code).toBe(0);
    expect(writes()).toEqual(["Stop v-run", "Start v-new"]);
  });

  it("plan --at: inside the schedule it starts; outside, under managed, it stops, and names the next change", async () => {
    const sched = `{minInferenceUnits: 1, schedule: [{schedule: "0 8 * * MON-FRI", duration: 12h, timeZone: UTC}]}`;
    const w = await world({ "m/p.yaml": set("p", [{ name: "v-run", running: sched }, { name: "v-new", running: sched }, { name: "old" }], MANAGED), "policy.yaml": policy() });
    const monday = await w.plan("--at", "2026-11-30T10:00:00Z");
    expect(act(monday.plan, "v-new").action).toBe("start");
    expect(monday.plan.nextRuntimeChangeAt).toBe("2026-11-30T20:00:00.000Z");
    const saturday = await w.plan("--at", "2026-12-05T10:00:00Z");
    expect(act(saturday.plan, "v-new")).toMatchObject({ action: "keep", reasons: [] });
    expect(act(saturday.plan, "v-run")).toMatchObject({ action: "stop", reasons: [expect.objectContaining({ rule: "outsideSchedule" })] });
    expect(saturday.plan.nextRuntimeChangeAt).toBe("2026-12-07T08:00:00.000Z");
  });
});
