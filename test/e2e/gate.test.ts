// The gate's regression suite: each way rekon was once made to break its promise (a listed version
// deleted, a grace period skipped, success reported for failed reads or aborted deletions), reproduced
// through the `rekon` binary against the emulator over HTTP. Each test fails on the code before the gate.
import { RekognitionClient, TagResourceCommand } from "@aws-sdk/client-rekognition";
import { readFileSync, writeFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator, type EmulatorStateFile } from "../../reconciler/emulator/server.js";
import { emulatorEnv, TEST_CREDENTIALS } from "../helpers/emulator-env.js";
import { runCli, startCli } from "../helpers/run-cli.js";
import { tmpTree } from "../helpers/tmp.js";

const ACCOUNT = "123456789012";
const MARK = "rekon.dev/pending-delete-since";

let emu: Emulator | undefined;
let tree: ReturnType<typeof tmpTree> | undefined;
afterEach(async () => {
  await emu?.close();
  tree?.cleanup();
  emu = undefined;
  tree = undefined;
});

function set(name: string, project: string, versions: string[], extra = ""): string {
  return `apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata:\n  name: ${name}\nspec:\n  project: ${project}\n  region: us-east-1\n${extra}  versions:${versions.length ? "\n" + versions.map((v) => `    - name: "${v}"`).join("\n") : " []"}\n`;
}

function policy(extra = ""): string {
  return `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata:\n  name: gate\nspec:\n  allowedAccounts: ["${ACCOUNT}"]\n  minAge: 1h\n  keepLatest: 0\n  maxDeletesPerRun: 50\n${extra}`;
}

async function world(state: EmulatorStateFile, files: Record<string, string>, opts: Parameters<typeof startEmulator>[0] = {}) {
  emu = await startEmulator({ state, deleteDelayMs: 50, ...opts });
  tree = tmpTree(files);
  return { emu, tree, env: emulatorEnv(emu.url), M: ["--manifests", tree.path("m")], P: ["--policy", tree.path("policy.yaml")] };
}

const deletes = () => emu!.calls().filter((c) => c.operation === "DeleteProjectVersion");
const deleted = () => deletes().filter((c) => c.outcome === "ok").map((c) => c.target!);
const writes = () => emu!.calls().filter((c) => ["DeleteProjectVersion", "StopProjectVersion", "TagResource", "UntagResource"].includes(c.operation));
function versionArn(project: string, name: string): string {
  const state = emu!.snapshot();
  const p = state.projects.find((x) => x.name === project)!;
  const v = p.versions!.find((x) => x.name === name)!;
  return `arn:aws:rekognition:us-east-1:${p.account ?? state.account}:project/${project}/version/${name}/${Date.parse(v.createdAt!)}`;
}

describe("1. two sets own one project (ambient credentials and a role in the same account)", () => {
  const state: EmulatorStateFile = { account: ACCOUNT, projects: [{ name: "p", versions: ["a", "b", "c"].map((n, i) => ({ name: n, status: "STOPPED" as const, age: `${30 - i}d` })) }] };
  const files = {
    "m/a.yaml": set("set-a", "p", ["a"]),
    "m/b.yaml": set("set-b", "p", ["b"], `  roleArn: arn:aws:iam::${ACCOUNT}:role/rekon\n`),
    "policy.yaml": policy(),
  };

  it("validate notes what only a live read can settle; plan and apply refuse the project, naming both files; nothing is deleted", async () => {
    const w = await world(state, files);
    const v = await runCli(["validate", ...w.M, ...w.P], { env: {} });
    expect(v.code).toBe(0);
    expect(v.stderr).toMatch(/note: .*"set-b" and "set-a" .* both name project "p" in us-east-1, one with the ambient credentials and one with a role/);

    const p = await runCli(["plan", ...w.M, ...w.P, "--output", "json"], { env: w.env });
    expect(p.code).toBe(1);
    const plan = JSON.parse(p.stdout);
    for (const proj of plan.projects) {
      expect(proj).toMatchObject({ status: "error", account: ACCOUNT });
      expect(proj.error).toContain(`claimed by ProjectVersionSet "set-`);
      expect(proj.error).toContain(w.tree.path("m/a.yaml"));
      expect(proj.error).toContain(w.tree.path("m/b.yaml"));
    }
    expect(plan.summary.delete).toBe(0);

    const a = await runCli(["apply", ...w.M, ...w.P, "--auto-approve"], { env: w.env });
    expect(a.code).toBe(1);
    expect(writes()).toEqual([]);
  });
});

describe("2. a failed read removes a guard elsewhere (copy source)", () => {
  const state: EmulatorStateFile = {
    account: ACCOUNT,
    projects: [
      { name: "src", versions: [{ name: "v4", status: "STOPPED", age: "40d" }, { name: "v5", status: "STOPPED", age: "10d" }] },
      { name: "copyto", versions: [{ name: "c1", status: "STOPPED", age: "20d" }, { name: "copy-of-v4", status: "COPYING_IN_PROGRESS", age: "2d", sourceVersion: "src/v4" }] },
    ],
  };
  const files = { "m/src.yaml": set("src", "src", ["v5"]), "m/copyto.yaml": set("copyto", "copyto", ["c1", "copy-of-v4"]), "policy.yaml": policy() };

  it("copyto readable: v4 is blocked copySource", async () => {
    const w = await world(state, files);
    const p = await runCli(["plan", ...w.M, ...w.P, "--output", "json"], { env: w.env });
    const v4 = JSON.parse(p.stdout).actions.find((a: { versionName: string }) => a.versionName === "v4");
    expect(v4).toMatchObject({ action: "blocked", reasons: [expect.objectContaining({ rule: "copySource" })] });
  });

  it("copyto's DescribeProjectVersions denied: v4 is blocked copySourceUnknown, plan and apply exit 1, nothing deleted", async () => {
    const w = await world(state, files);
    w.emu.setFaults({ rules: [{ operation: "DescribeProjectVersions", code: "AccessDeniedException", arn: "project/copyto/" }] });
    const p = await runCli(["plan", ...w.M, ...w.P, "--output", "json"], { env: w.env });
    expect(p.code).toBe(1);
    const plan = JSON.parse(p.stdout);
    expect(plan.projects.find((x: { project: string }) => x.project === "copyto")).toMatchObject({ status: "error" });
    const v4 = plan.actions.find((a: { versionName: string }) => a.versionName === "v4");
    expect(v4.action).toBe("blocked");
    expect(v4.reasons.map((r: { rule: string }) => r.rule)).toEqual(["copySourceUnknown"]);
    expect(v4.reasons[0].message).toContain("project copyto could not be read");

    const a = await runCli(["apply", ...w.M, ...w.P, "--auto-approve"], { env: w.env });
    expect(a.code).toBe(1);
    expect(deletes()).toEqual([]);
  });
});

describe("3. a malformed grace mark skips the grace period", () => {
  it.each(["12", "2025", "1", "2026-02-30T00:00:00Z", "2026-11-01T00:00:00+00:00", "2099-01-01T00:00:00Z"])("mark %j counts as no mark: rewritten as RFC 3339 UTC, not deleted", async (bad) => {
    const state: EmulatorStateFile = { account: ACCOUNT, projects: [{ name: "p", versions: [{ name: "keep", status: "STOPPED", age: "1d" }, { name: "x", status: "STOPPED", age: "300d", tags: { [MARK]: bad } }] }] };
    const w = await world(state, { "m/p.yaml": set("p", "p", ["keep"]), "policy.yaml": policy("  gracePeriod: 72h\n") });
    const a = await runCli(["apply", ...w.M, ...w.P, "--auto-approve", "--output", "json"], { env: w.env });
    expect(a.code).toBe(0);
    const out = JSON.parse(a.stdout);
    expect(out.actions.find((x: { versionName: string }) => x.versionName === "x")).toMatchObject({ action: "blocked", mark: "add", reasons: [expect.objectContaining({ rule: "gracePeriod" })] });
    expect(deletes()).toEqual([]);
    const tags = w.emu.snapshot().projects[0]!.versions!.find((v) => v.name === "x")!.tags!;
    expect(tags[MARK]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(Date.now() - Date.parse(tags[MARK]!)).toBeLessThan(60_000);
  });
});

describe("4. failed tag reads look like success", () => {
  const state: EmulatorStateFile = { account: ACCOUNT, projects: [{ name: "p", versions: [{ name: "keep", status: "STOPPED", age: "1d" }, { name: "old1", status: "STOPPED", age: "300d" }, { name: "old2", status: "STOPPED", age: "200d" }] }] };
  const files = { "m/p.yaml": set("p", "p", ["keep"]), "policy.yaml": policy('  protectTags: {"legal-hold": "*"}\n') };

  it.each([
    { how: "denied", faults: { rules: [{ operation: "ListTagsForResource", code: "AccessDeniedException" }] } },
    { how: "throttled past the bound", faults: { throttleRate: { ListTagsForResource: 1 } } },
  ])("ListTagsForResource $how: every candidate blocked tagsUnreadable, plan and apply exit 1, nothing deleted", async ({ faults }) => {
    const w = await world(state, files);
    w.emu.setFaults(faults);
    const p = await runCli(["plan", ...w.M, ...w.P, "--output", "json", "--retries", "2", "--retry-max-time", "2s"], { env: w.env });
    expect(p.code).toBe(1);
    const plan = JSON.parse(p.stdout);
    for (const n of ["old1", "old2"]) expect(plan.actions.find((a: { versionName: string }) => a.versionName === n).reasons.map((r: { rule: string }) => r.rule)).toEqual(["tagsUnreadable"]);
    const a = await runCli(["apply", ...w.M, ...w.P, "--auto-approve", "--retries", "2", "--retry-max-time", "2s"], { env: w.env });
    expect(a.code).toBe(1);
    expect(a.stderr).toContain("some reads failed");
    expect(deletes()).toEqual([]);
  });
});

describe("5. saved plans trust their own paths", () => {
  const state: EmulatorStateFile = { account: ACCOUNT, projects: [{ name: "p", versions: [{ name: "keep", status: "STOPPED", age: "1d" }, { name: "held", status: "STOPPED", age: "300d", tags: { "legal-hold": "yes" } }, { name: "old", status: "STOPPED", age: "200d" }] }] };
  const files = { "m/p.yaml": set("p", "p", ["keep"]), "policy.yaml": policy('  protectTags: {"legal-hold": "*"}\n'), "loose.yaml": policy() };

  it("apply FILE without --manifests and --policy is a usage error before any AWS call", async () => {
    const w = await world(state, files);
    expect((await runCli(["plan", ...w.M, ...w.P, "--out", w.tree.path("plan.json")], { env: w.env })).code).toBe(2);
    w.emu.resetCalls();
    for (const args of [["apply", w.tree.path("plan.json"), "--auto-approve"], ["apply", w.tree.path("plan.json"), ...w.M, "--auto-approve"], ["apply", w.tree.path("plan.json"), ...w.P, "--auto-approve"]]) {
      const r = await runCli(args, { env: w.env });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("needs --manifests and --policy");
    }
    expect(w.emu.calls()).toEqual([]);
  });

  it("an artifact edited to name a looser policy (with its digest) deletes nothing protected: the policy given must match the plan", async () => {
    const w = await world(state, files);
    await runCli(["plan", ...w.M, ...w.P, "--out", w.tree.path("plan.json")], { env: w.env });
    await runCli(["plan", ...w.M, "--policy", w.tree.path("loose.yaml"), "--out", w.tree.path("loose-plan.json")], { env: w.env });
    const saved = JSON.parse(readFileSync(w.tree.path("plan.json"), "utf8"));
    const loose = JSON.parse(readFileSync(w.tree.path("loose-plan.json"), "utf8"));
    // The attacker's edit: point the saved plan at the loose policy and add the held version's deletion.
    saved.inputs.policy = w.tree.path("loose.yaml");
    saved.digests.policy = loose.digests.policy;
    saved.plan = loose.plan;
    saved.facts = loose.facts;
    writeFileSync(w.tree.path("plan.json"), JSON.stringify(saved));
    const r = await runCli(["apply", w.tree.path("plan.json"), ...w.M, ...w.P, "--auto-approve"], { env: w.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("refused (digestMismatch): the policy changed since the plan was saved");
    expect(deletes()).toEqual([]);
  });

  it("the example workflow and the action pass both --manifests and --policy to apply", () => {
    const wf = readFileSync(new URL("../../deploy/github/rekon.yml", import.meta.url), "utf8");
    // Every line that runs `rekon apply` (a run step, possibly continued with a backslash).
    const applyLines = wf.split("\n").filter((l) => /\brekon apply\b/.test(l) && !/^\s*#/.test(l) && !/^\s*(- )?name:|description:/.test(l));
    expect(applyLines.length).toBeGreaterThan(0);
    for (const l of applyLines) {
      expect(l).toContain("--manifests");
      expect(l).toContain("--policy");
    }
  });
});

describe("6. no look after the stop wait", () => {
  it("a protect tag added while rekon waits for STOPPED is seen: the version is not deleted (changed), exit 1", async () => {
    const state: EmulatorStateFile = { account: ACCOUNT, projects: [{ name: "p", versions: [{ name: "keep", status: "STOPPED", age: "1d" }, { name: "serving", status: "RUNNING", age: "100d" }] }] };
    const w = await world(state, { "m/p.yaml": set("p", "p", ["keep"]), "policy.yaml": policy('  stopRunning: true\n  protectTags: {"legal-hold": "*"}\n') }, { stopDelayMs: 4_000 });
    const run = startCli(["apply", ...w.M, ...w.P, "--auto-approve", "--output", "json"], { env: w.env, timeoutMs: 60_000 });
    await w.emu.waitForCall((c) => c.operation === "StopProjectVersion" && c.phase === "answered" && c.outcome === "ok", 20_000);
    const target = versionArn("p", "serving");
    const sdk = new RekognitionClient({ region: "us-east-1", endpoint: w.emu.url, credentials: TEST_CREDENTIALS });
    await sdk.send(new TagResourceCommand({ ResourceArn: target, Tags: { "legal-hold": "case-7" } }));
    sdk.destroy();
    const r = await run.done;
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout).results.find((x: { versionName: string }) => x.versionName === "serving");
    expect(result).toMatchObject({ result: "changed", operation: "delete" });
    expect(result.reasons.map((x: { rule: string }) => x.rule)).toContain("protectedTag");
    expect(deletes()).toEqual([]);
  }, 60_000);
});

describe("6b. a stop sent on an old look", () => {
  it("a stop waiting behind another stop's wait looks again first: a version protected meanwhile is not stopped (changed)", async () => {
    const state: EmulatorStateFile = { account: ACCOUNT, projects: [{ name: "p", versions: [{ name: "keep", status: "STOPPED", age: "1d" }, { name: "serving-a", status: "RUNNING", age: "100d" }, { name: "serving-b", status: "RUNNING", age: "99d" }] }] };
    const w = await world(state, { "m/p.yaml": set("p", "p", ["keep"]), "policy.yaml": policy('  stopRunning: true\n  protectTags: {"legal-hold": "*"}\n') }, { stopDelayMs: 4_000 });
    // One stop at a time: the second waits while the first waits for STOPPED.
    const run = startCli(["apply", ...w.M, ...w.P, "--auto-approve", "--concurrency", "1", "--output", "json"], { env: w.env, timeoutMs: 60_000 });
    const first = await w.emu.waitForCall((c) => c.operation === "StopProjectVersion" && c.phase === "answered" && c.outcome === "ok", 20_000);
    const other = first.target === versionArn("p", "serving-a") ? versionArn("p", "serving-b") : versionArn("p", "serving-a");
    const sdk = new RekognitionClient({ region: "us-east-1", endpoint: w.emu.url, credentials: TEST_CREDENTIALS });
    await sdk.send(new TagResourceCommand({ ResourceArn: other, Tags: { "legal-hold": "case-8" } }));
    sdk.destroy();
    const r = await run.done;
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout).results.find((x: { versionArn: string }) => x.versionArn === other);
    expect(result).toMatchObject({ result: "changed", operation: "stop" });
    expect(result.reasons.map((x: { rule: string }) => x.rule)).toContain("protectedTag");
    expect(w.emu.calls().filter((c) => c.operation === "StopProjectVersion" && c.target === other)).toEqual([]);
    expect(deletes().map((c) => c.target)).toEqual([first.target]);
  }, 60_000);
});

describe("6c. a stale mark outlives a refused run", () => {
  it("a version listed again while every run is refused loses its mark anyway; unlisted again later, it is marked afresh, not deleted", async () => {
    const old = new Date(Date.now() - 5 * 24 * 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    const state: EmulatorStateFile = {
      account: ACCOUNT,
      projects: [
        { name: "p", versions: [{ name: "keep", status: "STOPPED", age: "1d" }, { name: "x", status: "STOPPED", age: "100d", tags: { [MARK]: old } }] },
        { name: "q", versions: [{ name: "q0", status: "STOPPED", age: "1d" }, ...["q1", "q2", "q3"].map((n) => ({ name: n, status: "STOPPED" as const, age: "100d", tags: { [MARK]: old } }))] },
      ],
    };
    const grace = "  gracePeriod: 72h\n";
    const w = await world(state, { "m/p.yaml": set("p", "p", ["keep", "x"]), "m/q.yaml": set("q", "q", ["q0"]), "policy.yaml": policy(grace).replace("maxDeletesPerRun: 50", "maxDeletesPerRun: 2") });
    const x = versionArn("p", "x");
    // Three deletions in q against a budget of 2: refused; x, listed again, still loses its old mark.
    const refused = await runCli(["apply", ...w.M, ...w.P, "--auto-approve", "--output", "json"], { env: w.env });
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout).error).toMatchObject({ rule: "maxDeletesPerRun" });
    expect(writes().map((c) => [c.operation, c.target])).toEqual([["UntagResource", x]]);
    expect(w.emu.snapshot().projects[0]!.versions!.find((v) => v.name === "x")!.tags ?? {}).not.toHaveProperty(MARK);
    // Later: x unlisted again and the budget raised. x starts a new grace period; it is not deleted.
    w.emu.resetCalls();
    writeFileSync(w.tree.path("m/p.yaml"), set("p", "p", ["keep"]));
    writeFileSync(w.tree.path("policy.yaml"), policy(grace));
    const later = await runCli(["apply", ...w.M, ...w.P, "--auto-approve", "--output", "json"], { env: w.env });
    expect(later.code).toBe(0);
    expect(deleted()).not.toContain(x);
    expect(deleted()).toHaveLength(3);
    expect(writes().filter((c) => c.target === x).map((c) => c.operation)).toEqual(["TagResource"]);
  }, 60_000);
});

describe("7. all-typo lists prune everything", () => {
  it("a list none of whose names exists blocks every unlisted version (allowEmpty); nothing is deleted", async () => {
    const state: EmulatorStateFile = { account: ACCOUNT, projects: [{ name: "p", versions: ["v1", "v2", "v3"].map((n, i) => ({ name: n, status: "STOPPED" as const, age: `${30 - i}d` })) }] };
    const w = await world(state, { "m/p.yaml": set("p", "p", ["V1", "V2"]), "policy.yaml": policy() });
    const p = await runCli(["plan", ...w.M, ...w.P, "--output", "json"], { env: w.env });
    expect(p.code).toBe(0);
    const plan = JSON.parse(p.stdout);
    expect(plan.summary).toMatchObject({ delete: 0, blocked: 3, missing: 2 });
    for (const a of plan.actions.filter((x: { action: string }) => x.action === "blocked")) {
      expect(a.reasons).toContainEqual(expect.objectContaining({ rule: "allowEmpty", message: expect.stringContaining("none of the 2 listed versions") }));
    }
    // The two that differ from a listed name only in case are near misses as well.
    const rules = (n: string) => plan.actions.find((x: { versionName: string }) => x.versionName === n).reasons.map((r: { rule: string }) => r.rule);
    expect([rules("v1"), rules("v2"), rules("v3")]).toEqual([["allowEmpty", "nearMiss"], ["allowEmpty", "nearMiss"], ["allowEmpty"]]);
    expect((await runCli(["apply", ...w.M, ...w.P, "--auto-approve"], { env: w.env })).code).toBe(0);
    expect(deletes()).toEqual([]);
  });
});

describe("8. signals tell the truth", () => {
  const state: EmulatorStateFile = {
    account: ACCOUNT,
    projects: [{ name: "p", versions: [{ name: "keep", status: "STOPPED", age: "1d" }, ...Array.from({ length: 6 }, (_, i) => ({ name: `old${i}`, status: "STOPPED" as const, age: `${100 + i}d` })), { name: "marked", status: "STOPPED" as const, age: "90d" }, { name: "unmarked", status: "STOPPED" as const, age: "91d" }] }],
  };

  it("first SIGTERM: writes already sent are awaited and reported as AWS answered; writes never sent are skipped (marks included); exit 1", async () => {
    const w = await world({ ...state, projects: [{ ...state.projects[0]!, versions: state.projects[0]!.versions!.filter((v) => v.name !== "marked" && v.name !== "unmarked") }] }, { "m/p.yaml": set("p", "p", ["keep"]), "policy.yaml": policy() });
    // Every deletion is held 2 s by "AWS" before it is carried out.
    w.emu.setFaults({ rules: [{ operation: "DeleteProjectVersion", delayMs: 2_000 }] });
    const run = startCli(["apply", ...w.M, ...w.P, "--auto-approve", "--output", "json"], { env: w.env, timeoutMs: 60_000 });
    await w.emu.waitForCall((c) => c.operation === "DeleteProjectVersion" && c.phase === "received", 20_000);
    run.child.kill("SIGTERM");
    const r = await run.done;
    expect(r.code).toBe(1);
    const results: { versionArn: string; result: string; requestId?: string }[] = JSON.parse(r.stdout).results;
    expect(results).toHaveLength(6);
    const answered = deletes();
    const received = w.emu.calls({ phase: "received" }).filter((c) => c.operation === "DeleteProjectVersion");
    // What AWS received is what was in flight; every one of them was awaited and is reported accepted.
    expect(received.length).toBeGreaterThan(0);
    expect(answered.filter((c) => c.outcome === "ok").length).toBe(received.length);
    const accepted = results.filter((x) => x.result === "accepted");
    expect(new Set(accepted.map((x) => x.versionArn))).toEqual(new Set(received.map((c) => c.target)));
    for (const x of accepted) expect(answered.map((c) => c.requestId)).toContain(x.requestId);
    // Nothing else was sent after the signal, and the rest say so.
    expect(results.filter((x) => x.result === "skipped").length).toBe(6 - received.length);
    expect(results.filter((x) => x.result === "failed" || x.result === "unknown")).toEqual([]);
  }, 60_000);

  it("first SIGTERM before the marks: the marks are reported skipped, not dropped", async () => {
    const w = await world(state, { "m/p.yaml": set("p", "p", ["keep", "old0", "old1", "old2", "old3", "old4"]), "policy.yaml": policy("  gracePeriod: 1h\n") });
    // Give one version an old valid mark so it is deleted; "unmarked" and "marked" need marks... and old5 too.
    w.emu.updateVersion(versionArn("p", "old5"), { tags: { [MARK]: new Date(Date.now() - 2 * 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z") } });
    w.emu.setFaults({ rules: [{ operation: "DeleteProjectVersion", delayMs: 2_000 }] });
    const run = startCli(["apply", ...w.M, ...w.P, "--auto-approve", "--output", "json"], { env: w.env, timeoutMs: 60_000 });
    await w.emu.waitForCall((c) => c.operation === "DeleteProjectVersion" && c.phase === "received", 20_000);
    run.child.kill("SIGTERM");
    const r = await run.done;
    expect(r.code).toBe(1);
    const results: { versionName: string; operation: string; result: string }[] = JSON.parse(r.stdout).results;
    expect(results.find((x) => x.versionName === "old5")).toMatchObject({ operation: "delete", result: "accepted" });
    const marks = results.filter((x) => x.operation === "mark");
    expect(marks.map((x) => x.versionName).sort()).toEqual(["marked", "unmarked"]);
    expect(marks.every((x) => x.result === "skipped")).toBe(true);
    expect(w.emu.calls().filter((c) => c.operation === "TagResource")).toEqual([]);
  }, 60_000);

  it("a second signal exits at once (130): a write still unanswered is reported unknown, never failed — and AWS did carry it out", async () => {
    const w = await world(state, { "m/p.yaml": set("p", "p", ["keep"]), "policy.yaml": policy() });
    w.emu.setFaults({ rules: [{ operation: "DeleteProjectVersion", delayMs: 3_000 }] });
    const run = startCli(["apply", ...w.M, ...w.P, "--auto-approve", "--output", "json"], { env: w.env, timeoutMs: 60_000 });
    const first = await w.emu.waitForCall((c) => c.operation === "DeleteProjectVersion" && c.phase === "received", 20_000);
    run.child.kill("SIGTERM");
    // The second signal once the first has been taken (its log line), so the two are not merged into one.
    await run.waitForStderr("interrupted: no new write will be sent");
    run.child.kill("SIGTERM");
    const r = await run.done;
    expect(r.code).toBe(130);
    const results: { versionArn: string; result: string }[] = JSON.parse(r.stdout).results;
    const mine = results.find((x) => x.versionArn === first.target)!;
    expect(mine.result).toBe("unknown");
    expect(results.filter((x) => x.result === "failed")).toEqual([]);
    // AWS carried out the request rekon stopped waiting for: "unknown" was the truth, "failed" would not have been.
    await w.emu.waitForCall((c) => c.operation === "DeleteProjectVersion" && c.phase === "answered" && c.target === first.target, 10_000);
    expect(deleted()).toContain(first.target);
  }, 60_000);
});

describe("SourceIdentity: a role's trust policy can tell plan's sessions from apply's", () => {
  const OTHER = "210987654321";
  const state: EmulatorStateFile = { account: ACCOUNT, projects: [{ name: "q", account: OTHER, versions: ["a", "b"].map((n, i) => ({ name: n, status: "STOPPED" as const, age: `${30 - i}d` })) }] };
  const files = {
    "m/q.yaml": set("set-q", "q", ["a"], `  roleArn: arn:aws:iam::${OTHER}:role/rekon\n`),
    "policy.yaml": policy().replace(`allowedAccounts: ["${ACCOUNT}"]`, `allowedAccounts: ["${OTHER}"]`),
  };

  it("plan's calls through the role carry rekon-plan; apply's, its deletion included, carry rekon-apply", async () => {
    const w = await world(state, files);
    const plan = await runCli(["plan", ...w.M, ...w.P, "--output", "json"], { env: w.env });
    expect(plan.code).toBe(2);
    const planCalls = emu!.calls().filter((c) => c.account === OTHER);
    expect(planCalls.length).toBeGreaterThan(0);
    expect(new Set(planCalls.map((c) => c.sourceIdentity))).toEqual(new Set(["rekon-plan"]));
    emu!.resetCalls();
    const apply = await runCli(["apply", ...w.M, ...w.P, "--auto-approve", "--output", "json"], { env: w.env });
    expect(apply.code).toBe(0);
    const applied = emu!.calls().filter((c) => c.account === OTHER);
    expect(applied.some((c) => c.operation === "DeleteProjectVersion" && c.outcome === "ok")).toBe(true);
    expect(new Set(applied.map((c) => c.sourceIdentity))).toEqual(new Set(["rekon-apply"]));
  });
});
