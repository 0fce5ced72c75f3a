// rekon explain through the binary against the emulator: one version's checks, the values compared, the
// layer that set each, the same decision plan makes, and never a write.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { ROOT, runCli } from "../helpers/run-cli.js";

let emu: Emulator;
let dir: string;
let env: Record<string, string>;
beforeAll(async () => {
  emu = await startEmulator({});
  dir = mkdtempSync(join(tmpdir(), "rekon-explain-e2e-"));
  cpSync(join(ROOT, "manifests"), join(dir, "manifests"), { recursive: true });
  writeFileSync(join(dir, "policy.yaml"), readFileSync(join(ROOT, "deploy/policy.yaml"), "utf8"));
  writeFileSync(join(dir, "grace.yaml"), readFileSync(join(ROOT, "deploy/policy.yaml"), "utf8") + "  gracePeriod: 72h\n");
  env = emulatorEnv(emu.url);
});
afterAll(async () => {
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

const M = () => ["--manifests", join(dir, "manifests")];
const writes = () => emu.calls().filter((c) => !c.operation.startsWith("Describe") && c.operation !== "GetCallerIdentity" && c.operation !== "ListTagsForResource");

interface Check {
  rule: string;
  verdict: string;
  detail: string;
  layer?: string;
}
const explainJson = async (version: string, policy: string) => {
  const r = await runCli(["explain", version, ...M(), "--policy", join(dir, policy), "--output", "json"], { env });
  return { code: r.code, stderr: r.stderr, out: r.stdout ? (JSON.parse(r.stdout) as { sets: { explanation?: { decision: string; checks: Check[]; mark?: string; deletableAt?: string }; missing?: boolean; version?: { arn: string } }[] }) : undefined };
};

describe("rekon explain", () => {
  it("agrees with plan on a version of each kind, and says which check keeps a kept one", async () => {
    const plan = await runCli(["plan", ...M(), "--policy", join(dir, "policy.yaml"), "--output", "json"], { env });
    const actions = (JSON.parse(plan.stdout) as { actions: { action: string; project: string; versionName: string; reasons: { rule: string }[] }[] }).actions;
    expect(actions.length).toBeGreaterThan(10);
    // One of each kind through the binary (the property test in test/property compares every version of
    // generated worlds in-process); blocked twice: one RUNNING, one too young.
    const sample = ["keep", "delete", "missing"].map((k) => actions.find((a) => a.action === k)!);
    sample.push(...actions.filter((a) => a.action === "blocked").slice(0, 2));
    expect(sample.every(Boolean) && sample.length).toBe(5);
    for (const a of sample) {
      const r = await explainJson(`${a.project}/${a.versionName}`, "policy.yaml");
      const e = r.out!.sets[0]!;
      if (a.action === "missing") {
        expect(e.missing).toBe(true);
        continue;
      }
      const x = e.explanation!;
      expect({ v: a.versionName, d: x.decision, code: r.code }).toEqual({ v: a.versionName, d: { keep: "keep", delete: "delete", blocked: x.decision === "held" ? "held" : "blocked" }[a.action], code: a.action === "delete" ? 2 : 0 });
      const fired = x.checks.filter((c) => c.verdict === "block" || c.verdict === "hold").map((c) => c.rule);
      expect(fired.sort()).toEqual(a.reasons.map((r) => r.rule).sort());
    }
    expect(writes()).toEqual([]);
  }, 120_000);

  it("a blocked version: each check that fired with the value compared and the layer that set it; the table names them", async () => {
    const r = await runCli(["explain", "shelf-scanner/v7", ...M(), "--policy", join(dir, "policy.yaml")], { env: { ...env, NO_COLOR: "1" } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("decision: blocked");
    expect(r.stdout).toMatch(/BLOCK\s+minAge\s+age \d+h is under minAge 24h\s+\[operator policy .*policy\.yaml\]/);
    expect(r.stdout).toMatch(/pass\s+inUse\s+TRAINING_COMPLETED is not in use/);
  });

  it("with a grace period: an unmarked deletable version is held, and plan would add its mark", async () => {
    const r = await explainJson("shelf-scanner/v5", "grace.yaml");
    expect(r.code).toBe(0);
    const x = r.out!.sets[0]!.explanation!;
    expect(x.decision).toBe("held");
    expect(x.mark).toBe("add");
    expect(x.checks.find((c) => c.rule === "gracePeriod")).toMatchObject({ verdict: "hold", layer: expect.stringContaining("grace.yaml") });
  });

  it("a protected version: the protectedTag check blocks with the tag it found; for a version another check keeps, explain reads its tags and says what they would do", async () => {
    writeFileSync(join(dir, "protect.yaml"), readFileSync(join(ROOT, "deploy/policy.yaml"), "utf8") + '  protectTags:\n    legal-hold: "*"\n');
    const arnOf = async (v: string) => (await explainJson(v, "policy.yaml")).out!.sets[0]!.version!.arn;
    emu.updateVersion(await arnOf("shelf-scanner/v4"), { tags: { "legal-hold": "case-42" } });
    emu.updateVersion(await arnOf("shelf-scanner/v7"), { tags: { "legal-hold": "case-43" } });
    const p = await explainJson("shelf-scanner/v4", "protect.yaml");
    expect(p.code).toBe(0);
    expect(p.out!.sets[0]!.explanation!.decision).toBe("blocked");
    expect(p.out!.sets[0]!.explanation!.checks.filter((c) => c.verdict === "block")).toEqual([expect.objectContaining({ rule: "protectedTag", detail: expect.stringContaining("legal-hold=case-42"), layer: expect.stringContaining("protect.yaml") })]);
    const d = await explainJson("shelf-scanner/v5", "protect.yaml");
    expect(d.code).toBe(2);
    expect(d.out!.sets[0]!.explanation!.checks.find((c) => c.rule === "protectedTag")).toMatchObject({ verdict: "pass", detail: "no legal-hold tag" });
    const young = await explainJson("shelf-scanner/v7", "protect.yaml");
    expect(young.out!.sets[0]!.explanation!.checks.find((c) => c.rule === "protectedTag")).toMatchObject({ verdict: "skip", detail: expect.stringMatching(/another check already keeps it; it would also keep it: tagged legal-hold=case-43/) });
    expect(writes()).toEqual([]);
  });

  it("its tags cannot be read: kept (tagsUnreadable), and explain exits 1 as plan does — a failed read is not an answer", async () => {
    writeFileSync(join(dir, "protect.yaml"), readFileSync(join(ROOT, "deploy/policy.yaml"), "utf8") + '  protectTags:\n    legal-hold: "*"\n');
    emu.setFaults({ rules: [{ operation: "ListTagsForResource", code: "AccessDeniedException" }] });
    const x = await explainJson("shelf-scanner/v5", "protect.yaml");
    expect(x.code).toBe(1);
    expect(x.out!.sets[0]!.explanation!.decision).toBe("blocked");
    expect(x.out!.sets[0]!.explanation!.checks.find((c) => c.rule === "tagsUnreadable")).toMatchObject({ verdict: "block" });
    expect(writes()).toEqual([]);
  });

  it("by ARN as by name; an unknown version or project, or a malformed argument, is an error", async () => {
    const byName = await explainJson("shelf-scanner/v5", "policy.yaml");
    const arn = byName.out!.sets[0]!.version!.arn;
    const byArn = await explainJson(arn, "policy.yaml");
    expect(byArn.code).toBe(2);
    expect(byArn.out!.sets[0]!.explanation!.decision).toBe("delete");
    const gone = await runCli(["explain", "shelf-scanner/v99", ...M()], { env });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('project "shelf-scanner" has no version "v99"');
    const other = await runCli(["explain", "not-managed/v1", ...M()], { env });
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('names project "not-managed"');
    const bad = await runCli(["explain", "v5", ...M()], { env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("Give PROJECT/VERSION");
  });

  it("without an operator policy, a deletable version is refused: apply would write nothing", async () => {
    const r = await runCli(["explain", "shelf-scanner/v5", ...M(), "--output", "json"], { env });
    expect(r.code).toBe(0);
    const x = JSON.parse(r.stdout).sets[0].explanation;
    expect(x.decision).toBe("refused");
    expect(x.checks.find((c: Check) => c.rule === "accountNotAllowed")).toMatchObject({ verdict: "block" });
  });
});
