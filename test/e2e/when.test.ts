// When and how much, through the binary: plan --at across a weekend freeze, validate's word on windows,
// suspensions and layers, and an apply whose manifest is edited while it runs.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { ROOT, runCli, startCli } from "../helpers/run-cli.js";

let emu: Emulator;
let dir: string;
let env: Record<string, string>;
beforeEach(async () => {
  emu = await startEmulator({ deleteDelayMs: 60_000 });
  dir = mkdtempSync(join(tmpdir(), "rekon-when-e2e-"));
  cpSync(join(ROOT, "manifests"), join(dir, "manifests"), { recursive: true });
  env = emulatorEnv(emu.url);
});
afterEach(async () => {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

const policy = (extra: string) => writeFileSync(join(dir, "policy.yaml"), readFileSync(join(ROOT, "deploy/policy.yaml"), "utf8") + extra);
const M = () => ["--manifests", join(dir, "manifests")];
const P = () => ["--policy", join(dir, "policy.yaml")];
const FREEZE = `  windows:\n    - kind: deny\n      schedule: "0 18 * * FRI"\n      duration: 64h\n      timeZone: Europe/Berlin\n      reason: weekend change freeze\n`;

describe("plan --at", () => {
  it("shows what the plan will do at the weekend (the freeze holds every deletion) and on Monday (it does not)", async () => {
    policy(FREEZE);
    const saturday = await runCli(["plan", ...M(), ...P(), "--at", "2026-12-05T12:00:00+01:00", "--output", "json"], { env });
    // A deletion window holds deletions only: the start and the stop the demo's manifests ask for are still
    // pending (exit 2); a version's own running schedule decides when it runs.
    expect(saturday.code).toBe(2);
    const sat = JSON.parse(saturday.stdout);
    expect(sat.generatedAt).toBe("2026-12-05T11:00:00.000Z");
    expect(sat.summary).toMatchObject({ delete: 0, start: 1, stop: 1 });
    expect(sat.nextDeletionAllowedAt).toBe("2026-12-07T09:00:00.000Z");
    const held = sat.actions.filter((a: { reasons: { rule: string }[] }) => a.reasons.some((r) => r.rule === "window"));
    expect(held).toHaveLength(7);
    expect(held[0].reasons.find((r: { rule: string }) => r.rule === "window").message).toContain("weekend change freeze");
    const monday = await runCli(["plan", ...M(), ...P(), "--at", "2026-12-07T10:30:00+01:00", "--output", "json"], { env });
    expect(monday.code).toBe(2);
    expect(JSON.parse(monday.stdout).summary.delete).toBe(7);
    expect(emu.calls().filter((c) => !c.operation.startsWith("Describe") && c.operation !== "GetCallerIdentity" && c.operation !== "ListTagsForResource")).toEqual([]);
  });

  it("is refused with --out, with a time that is not RFC 3339, and by apply", async () => {
    policy("");
    expect((await runCli(["plan", ...M(), ...P(), "--at", "2026-12-05T12:00:00Z", "--out", join(dir, "p.json")], { env })).stderr).toContain("--at and --out do not go together");
    expect((await runCli(["plan", ...M(), ...P(), "--at", "next saturday"], { env })).stderr).toContain("--at must be an RFC 3339 time with a zone");
    expect((await runCli(["apply", ...M(), ...P(), "--at", "2026-12-05T12:00:00Z"], { env })).stderr).toContain('--at does not apply to "apply"');
  });
});

describe("validate", () => {
  it("points at a bad window (cron, zone) and at an allow window in a manifest policy", async () => {
    policy(`  windows:\n    - kind: deny\n      schedule: "0 18 * *"\n      duration: 64h\n    - kind: allow\n      schedule: "0 9 * * MON"\n      duration: 8h\n      timeZone: Mars/Base\n`);
    writeFileSync(join(dir, "manifests", "team-policy.yaml"), `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata: {name: team}\nspec:\n  selector: {projects: [fraud-detector]}\n  windows:\n    - kind: allow\n      schedule: "0 9 * * *"\n      duration: 1h\n`);
    const r = await runCli(["validate", ...M(), ...P()], { env: {} });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/policy\.yaml:\d+:\d+: spec\.windows\[0\]\.schedule: schedule "0 18 \* \*" has 4 fields; use exactly 5/);
    expect(r.stderr).toMatch(/policy\.yaml:\d+:\d+: spec\.windows\[1\]\.timeZone: timeZone "Mars\/Base" is not an IANA time zone name/);
  });

  it("an allow window in a manifest policy is a loosening, naming both files", async () => {
    policy("");
    writeFileSync(join(dir, "manifests", "team-policy.yaml"), `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata: {name: team}\nspec:\n  selector: {projects: [fraud-detector]}\n  windows:\n    - kind: allow\n      schedule: "0 9 * * *"\n      duration: 1h\n`);
    const r = await runCli(["validate", ...M(), ...P()], { env: {} });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/team-policy\.yaml:\d+:\d+: spec\.windows: an allow window in a manifest policy: this would loosen the operator policy .*policy\.yaml/);
  });

  it("warns about a suspension whose until has passed (it has no effect), and still passes", async () => {
    policy("  suspend:\n    reason: audit\n    until: 2020-01-01T00:00:00Z\n");
    const r = await runCli(["validate", ...M(), ...P()], { env: {} });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("suspend.until 2020-01-01T00:00:00.000Z is in the past, so this suspension has no effect");
  });
});

describe("a suspension's until that does not exist", () => {
  it.each(["2026-31-12T09:00:00Z", "2026-12-01T25:00:00Z", "2026-12-01T09:00:00+24:00"])("%s is an error at until, in the operator's policy and in a set", async (until) => {
    policy(`  suspend:\n    reason: incident\n    until: "${until}"\n`);
    const r = await runCli(["validate", ...M(), ...P()], { env: {} });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`policy\\.yaml:\\d+:\\d+: spec\\.suspend\\.until: suspend\\.until "${until.replace(/[.+]/g, "\\$&")}" is not a time that exists`));
    policy("");
    const f = join(dir, "manifests", "fraud-detector.yaml");
    const before = readFileSync(f, "utf8");
    writeFileSync(f, before + `  suspend:\n    reason: incident\n    until: "${until}"\n`);
    const s = await runCli(["plan", ...M(), ...P()], { env });
    writeFileSync(f, before);
    expect(s.code).toBe(1);
    expect(s.stderr).toMatch(/fraud-detector\.yaml:\d+:\d+: spec\.suspend\.until: /);
    expect(emu.calls().filter((c) => c.operation === "DeleteProjectVersion")).toEqual([]);
  });
});

describe("suspend through the binary", () => {
  it("a set suspended in Git: plan shows suspended with the reason; apply writes nothing there", async () => {
    policy("");
    const f = join(dir, "manifests", "fraud-detector.yaml");
    writeFileSync(f, readFileSync(f, "utf8") + "  suspend:\n    reason: model audit INC-4711\n");
    const p = await runCli(["plan", ...M(), ...P(), "--output", "json"], { env });
    const plan = JSON.parse(p.stdout);
    const fraud = plan.actions.filter((a: { project: string; action: string }) => a.project === "fraud-detector" && a.action === "blocked");
    expect(fraud.length).toBeGreaterThan(0);
    for (const a of fraud) expect(a.reasons.map((r: { message: string }) => r.message).join(" ")).toContain("suspended: model audit INC-4711");
    const r = await runCli(["apply", ...M(), ...P(), "--auto-approve", "--output", "json"], { env });
    expect(r.code).toBe(0);
    const deleted = emu.calls().filter((c) => c.operation === "DeleteProjectVersion").map((c) => c.target!);
    expect(deleted.filter((a) => a.includes("/fraud-detector/"))).toEqual([]);
    expect(deleted.length).toBe(4); // the other projects went ahead
  });
});

describe("an apply whose manifests are edited while it runs", () => {
  it("the version listed by the edit is not deleted; later writes are skipped (manifestsChanged); exit 1", async () => {
    policy("  rateLimits:\n    DeleteProjectVersion: 1\n");
    const run = startCli(["apply", ...M(), ...P(), "--auto-approve", "--output", "json"], { env, timeoutMs: 60_000 });
    await emu.waitForCall((c) => c.operation === "DeleteProjectVersion" && c.phase === "received", 20_000);
    const f = join(dir, "manifests", "shelf-scanner.yaml");
    writeFileSync(f, readFileSync(f, "utf8").replace("    - name: v6\n", "    - name: v6\n    - name: v4\n"));
    const r = await run.done;
    expect(r.code).toBe(1);
    const results: { versionName: string; result: string; code?: string }[] = JSON.parse(r.stdout).results;
    const skipped = results.filter((x) => x.code === "manifestsChanged");
    expect(skipped.length).toBeGreaterThan(0);
    expect(skipped.every((x) => x.result === "skipped")).toBe(true);
    expect(results.find((x) => x.versionName === "v4")).toMatchObject({ result: "skipped", code: "manifestsChanged" });
    expect(emu.calls({ phase: "received" }).filter((c) => c.operation === "DeleteProjectVersion" && c.target!.includes("/shelf-scanner/version/v4/"))).toEqual([]);
  }, 60_000);
});
