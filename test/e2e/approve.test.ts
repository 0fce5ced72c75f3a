// rekon approve through the binary against the emulator: it refuses every version it must (unknown,
// unmarked, listed, protected, blocked, an unsigned mark under tag signing, a clock off AWS's, no terminal
// to confirm on) with no write at all, and otherwise writes exactly one tag per version, after which
// `rekon apply` deletes it.
import { execFileSync, spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator, type EmulatorStateFile } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { BIN, ROOT, runCli } from "../helpers/run-cli.js";
import { tmpTree } from "../helpers/tmp.js";

const ACCOUNT = "123456789012";
const MARK = "rekon.dev/pending-delete-since";
const APPROVED = "rekon.dev/deletion-approved";
const HOUR = 3_600_000;
const KEY = "k".repeat(40);
const rfc = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

let emu: Emulator | undefined;
let tree: ReturnType<typeof tmpTree> | undefined;
afterEach(async () => {
  await emu?.close();
  tree?.cleanup();
  emu = undefined;
  tree = undefined;
});

const SET = `apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata:\n  name: p\nspec:\n  project: p\n  region: us-east-1\n  versions:\n    - name: keep\n`;
function policy(extra = ""): string {
  return (
    `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata:\n  name: approve\nspec:\n  allowedAccounts: ["${ACCOUNT}"]\n  minAge: 1h\n  keepLatest: 0\n` +
    `  maxDeletesPerRun: 50\n  requireApproval: true\n  protectTags: {"legal-hold": "*"}\n${extra}`
  );
}

function state(): EmulatorStateFile {
  const marked = { [MARK]: rfc(Date.now() - 2 * HOUR) };
  return {
    account: ACCOUNT,
    projects: [
      {
        name: "p",
        versions: [
          { name: "keep", status: "STOPPED", age: "1d" },
          { name: "marked", status: "STOPPED", age: "300d", tags: marked },
          { name: "unmarked", status: "STOPPED", age: "300d" },
          { name: "protected", status: "STOPPED", age: "300d", tags: { ...marked, "legal-hold": "case-1" } },
          { name: "running", status: "RUNNING", age: "300d", minInferenceUnits: 1, tags: marked },
        ],
      },
      { name: "elsewhere", versions: [{ name: "v1", status: "STOPPED", age: "300d", tags: marked }] },
    ],
  };
}

async function world(extra = "", opts: Parameters<typeof startEmulator>[0] = {}) {
  emu = await startEmulator({ state: state(), deleteDelayMs: 50, ...opts });
  tree = tmpTree({ "m/p.yaml": SET, "policy.yaml": policy(extra) });
  return { env: { ...emulatorEnv(emu.url), REKON_TAG_KEY: KEY }, IN: ["--manifests", tree.path("m"), "--policy", tree.path("policy.yaml")] };
}

const writes = () =>
  emu!.calls().filter((c) => ["TagResource", "UntagResource", "DeleteProjectVersion", "StopProjectVersion", "StartProjectVersion"].includes(c.operation));
const arnOf = (name: string) => {
  const v = emu!
    .snapshot()
    .projects.find((p) => p.name === "p")!
    .versions!.find((x) => x.name === name)!;
  return `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/p/version/${name}/${Date.parse(v.createdAt!)}`;
};
const tagsOf = (name: string) =>
  emu!
    .snapshot()
    .projects.find((p) => p.name === "p")!
    .versions!.find((x) => x.name === name)?.tags ?? {};

describe("rekon approve refuses, writing nothing", () => {
  it.each([
    ["an unknown version", ["p/nope"], "unknown", /project p has no version "nope"/],
    ["a project no set manages", ["elsewhere/v1"], "unknown", /no ProjectVersionSet in the manifests names project "elsewhere"/],
    ["an unmarked version", ["p/unmarked"], "approvalRequired", /carries no valid pending-delete mark yet/],
    ["a listed version", ["p/keep"], "listed", /listed by ProjectVersionSet "p"/],
    ["a protected version", ["p/protected"], "protectedTag", /legal-hold/],
    ["a blocked (running) version", ["p/running"], "inUse", /RUNNING/],
    [
      "any refused one among good ones (all or nothing)",
      ["p/marked", "p/unmarked"],
      "approvalRequired",
      /1 of 2 version\(s\) refused; no approval was written/,
    ],
  ])("%s", async (_, targets, rule, said) => {
    const w = await world();
    const r = await runCli(["approve", ...targets, ...w.IN, "--yes"], { env: w.env });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`REFUSED (${rule})`);
    expect(r.stdout + r.stderr).toMatch(said);
    expect(writes()).toEqual([]);
  });

  it("no terminal and no --yes: refused like apply, nothing written", async () => {
    const w = await world();
    const r = await runCli(["approve", "p/marked", ...w.IN], { env: w.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("rekon: refused (confirmation): approve would tag 1 version(s) for deletion but stdin is not a terminal to confirm on");
    expect(writes()).toEqual([]);
  });

  it("a clock 48 h off AWS's: refused (clockSkew), nothing written", async () => {
    const w = await world("", { clockSkewMs: -48 * HOUR, now: () => Date.now() - 48 * HOUR });
    const r = await runCli(["approve", "p/marked", ...w.IN, "--yes"], { env: w.env });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("REFUSED (clockSkew)");
    expect(writes()).toEqual([]);
  });

  it("without requireApproval there is nothing to approve", async () => {
    emu = await startEmulator({ state: state() });
    tree = tmpTree({ "m/p.yaml": SET, "policy.yaml": policy().replace("  requireApproval: true\n", "") });
    const r = await runCli(["approve", "p/marked", "--manifests", tree.path("m"), "--policy", tree.path("policy.yaml"), "--yes"], {
      env: emulatorEnv(emu.url),
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("the policy does not set requireApproval");
    expect(writes()).toEqual([]);
  });
});

describe("rekon approve writes one tag, and apply then deletes", () => {
  it("PROJECT/VERSION: one TagResource with the verified time; plan held it before, apply deletes it after", { timeout: 120_000 }, async () => {
    const w = await world();
    const before = await runCli(["plan", ...w.IN, "--output", "json"], { env: w.env });
    const held = JSON.parse(before.stdout).actions.find((a: { versionName: string }) => a.versionName === "marked");
    expect(held).toMatchObject({ action: "blocked", reasons: [expect.objectContaining({ rule: "approvalRequired" })] });

    const t0 = Date.now();
    const r = await runCli(["approve", "p/marked", ...w.IN, "--yes"], { env: w.env });
    expect(r.stderr).not.toContain("error");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("then: the next rekon apply deletes it");
    expect(r.stdout).toContain("p/marked: approval accepted");
    const tagged = writes();
    expect(tagged.map((c) => [c.operation, c.target])).toEqual([["TagResource", arnOf("marked")]]);
    const value = tagsOf("marked")[APPROVED]!;
    expect(value).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(Date.parse(value)).toBeGreaterThanOrEqual(Math.floor(t0 / 1000) * 1000);
    expect(Date.parse(value)).toBeLessThanOrEqual(Date.now());

    const arn = arnOf("marked");
    const a = await runCli(["apply", ...w.IN, "--auto-approve", "--output", "json"], { env: w.env });
    expect(a.code).toBe(0);
    const deleted = emu!
      .calls()
      .filter((c) => c.operation === "DeleteProjectVersion" && c.outcome === "ok")
      .map((c) => c.target);
    expect(deleted).toEqual([arn]);
  });

  it("by ARN, still in its grace period: written, and the output says what still holds it", { timeout: 120_000 }, async () => {
    const w = await world("  gracePeriod: 72h\n");
    const r = await runCli(["approve", arnOf("marked"), ...w.IN, "--yes", "--output", "json"], { env: w.env });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.versions).toHaveLength(1);
    expect(out.versions[0]).toMatchObject({ kind: "approve", versionArn: arnOf("marked"), holds: [expect.objectContaining({ rule: "gracePeriod" })] });
    expect(out.versions[0].deletableAt).toBe(new Date(Date.parse(tagsOf("marked")[MARK]!) + 72 * HOUR).toISOString());
    expect(out.results).toMatchObject([{ result: "accepted", versionArn: arnOf("marked") }]);
    expect(writes().map((c) => c.operation)).toEqual(["TagResource"]);
    // Already approved: nothing more to write.
    const again = await runCli(["approve", "p/marked", ...w.IN, "--yes"], { env: w.env });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("already approved at");
    expect(writes().map((c) => c.operation)).toEqual(["TagResource"]);
  });

  it("under tag signing: an unsigned mark is refused; the mark apply signs is approved, and the next apply deletes", { timeout: 120_000 }, async () => {
    const w = await world("  tagSigning:\n    secret: {fromEnv: REKON_TAG_KEY}\n");
    const r = await runCli(["approve", "p/marked", ...w.IN, "--yes"], { env: w.env });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("REFUSED (markUnsigned)");
    expect(writes()).toEqual([]);

    // apply re-marks it with a signed mark (and marks the unmarked one); it deletes nothing.
    const marking = await runCli(["apply", ...w.IN, "--auto-approve"], { env: w.env });
    expect(marking.code).toBe(0);
    expect(tagsOf("marked")[MARK]).toMatch(/ hmac1:/);
    expect(emu!.calls().filter((c) => c.operation === "DeleteProjectVersion")).toEqual([]);
    // The mark is in this second: wait until the approval can be later than it.
    await new Promise((res) => setTimeout(res, 1100));
    const ok = await runCli(["approve", "p/marked", "p/unmarked", ...w.IN, "--yes"], { env: w.env });
    expect(ok.stderr).not.toContain("error");
    expect(ok.code).toBe(0);
    const arns = [arnOf("marked"), arnOf("unmarked")];
    const a = await runCli(["apply", ...w.IN, "--auto-approve"], { env: w.env });
    expect(a.code).toBe(0);
    const deleted = emu!
      .calls()
      .filter((c) => c.operation === "DeleteProjectVersion" && c.outcome === "ok")
      .map((c) => c.target);
    expect(deleted.sort()).toEqual(arns.sort());
  });
});

const hasScript = (() => {
  try {
    execFileSync("script", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

/** rekon approve on a pseudo-terminal (util-linux `script`), typing `answer` at its question. */
function onTerminal(args: string[], env: Record<string, string>, answer: string): Promise<{ code: number | null; raw: string }> {
  const q = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const cmd = `exec ${[process.execPath, BIN, ...args].map(q).join(" ")}`;
  const child = spawn("script", ["-q", "-e", "-c", cmd, "/dev/null"], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: "/tmp", TERM: "dumb", ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let raw = "";
  let answered = false;
  child.stdout!.on("data", (d) => {
    raw += d;
    if (!answered && raw.includes('Type "yes" to approve:')) {
      answered = true;
      child.stdin!.write(answer + "\r");
    }
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  return new Promise((resolve) => child.on("exit", (code) => (clearTimeout(timer), resolve({ code, raw }))));
}

describe.skipIf(!hasScript)("rekon approve on a terminal", () => {
  it("asks; anything but yes writes nothing, yes writes the one tag", { timeout: 120_000 }, async () => {
    const w = await world();
    const no = await onTerminal(["approve", "p/marked", ...w.IN], w.env, "no");
    expect(no.raw).toContain('Type "yes" to approve:');
    expect(no.code).toBe(1);
    expect(writes()).toEqual([]);
    const yes = await onTerminal(["approve", "p/marked", ...w.IN], w.env, "yes");
    expect(yes.code).toBe(0);
    expect(writes().map((c) => [c.operation, c.target])).toEqual([["TagResource", arnOf("marked")]]);
  });
});
