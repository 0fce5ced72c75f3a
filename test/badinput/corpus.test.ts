// Every malformed input in test/fixtures/bad: validate, plan and apply exit 1 with the expected
// message at the expected place, and the emulator records no AWS call at all. Each case runs the CLI's
// own entry point (main, the function bin.ts hands the process to) in this process, which keeps 300
// runs to seconds; a few cases also run the built binary as a child process, end to end.
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../reconciler/cli.js";
import { startEmulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { ROOT, runCli, type CliResult } from "../helpers/run-cli.js";

/** The CLI's entry point in this process, with its output captured. */
async function runMain(args: string[], env: Record<string, string>, dir: string): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const sink = (add: (s: string) => void) => new Writable({ write: (chunk, _enc, cb) => (add(String(chunk)), cb()) });
  const stdin = Object.assign(new (await import("node:stream")).Readable({ read() {} }), { isTTY: false });
  const code = await main([...args, "--log-level", "silent"], { stdout: sink((x) => (stdout += x)), stderr: sink((x) => (stderr += x)), stdin, env: { ...process.env, ...env } });
  // Paths were given absolute; messages are compared as the user who typed relative ones would see them.
  const rel = (t: string) => t.replaceAll(dir + "/", "");
  return { code, signal: null, stdout: rel(stdout), stderr: rel(stderr) };
}

// The SDK reads these from the process environment (as it would in the binary); no credentials leak in.
Object.assign(process.env, emulatorEnv("http://127.0.0.1:9"));

/** These run as the real binary too (a manifest case, a policy case, a generated one). */
const SPAWNED = new Set(["m-unknown-top-field", "p-two-policies", "gen-symlink-outside"]);

const BAD = join(ROOT, "test/fixtures/bad");
const GOOD = join(ROOT, "test/fixtures/good");
const expected: Record<string, string> = JSON.parse(readFileSync(join(BAD, "expected.json"), "utf8"));
const files = readdirSync(BAD).filter((f) => f.endsWith(".yaml")).sort();

const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

interface Case {
  name: string;
  /** Lay out the working folder; return the --policy path to use. */
  setup(dir: string): string;
  expect: string | RegExp;
}

const fromCorpus: Case[] = files.map((f) => {
  const name = f.replace(/\.yaml$/, "");
  const policyCase = name.startsWith("p-");
  return {
    name,
    expect: expected[name]!,
    setup(dir) {
      cpSync(join(BAD, f), join(dir, policyCase ? "ops/case.yaml" : "manifests/case.yaml"));
      if (!policyCase) cpSync(join(GOOD, "policy.yaml"), join(dir, "ops/policy.yaml"));
      return policyCase ? "ops/case.yaml" : "ops/policy.yaml";
    },
  };
});

const good = (dir: string) => {
  cpSync(join(GOOD, "policy.yaml"), join(dir, "ops/policy.yaml"));
  return "ops/policy.yaml";
};
const generated: Case[] = [
  { name: "gen-binary-junk", expect: "manifests/case.yaml:1:1: not a UTF-8 text file", setup: (d) => (writeFileSync(join(d, "manifests/case.yaml"), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0xff, 0xfe])), good(d)) },
  { name: "gen-invalid-utf8", expect: "manifests/case.yaml:1:1: not a UTF-8 text file", setup: (d) => (writeFileSync(join(d, "manifests/case.yaml"), Buffer.from("name: caf\xe9\n", "latin1")), good(d)) },
  { name: "gen-over-size-limit", expect: /manifests\/case\.yaml:1:1: file is \d+ bytes, over the 1048576-byte limit/, setup: (d) => (writeFileSync(join(d, "manifests/case.yaml"), "# " + "x".repeat(1024 * 1024 + 10) + "\n"), good(d)) },
  { name: "gen-symlink-loop", expect: "manifests/loop/again:1:1: symlink loop: this folder was already read", setup: (d) => (mkdirSync(join(d, "manifests/loop")), symlinkSync(join(d, "manifests/loop"), join(d, "manifests/loop/again")), good(d)) },
  { name: "gen-self-symlink", expect: "manifests/self.yaml:1:1: symlink loop", setup: (d) => (symlinkSync(join(d, "manifests/self.yaml"), join(d, "manifests/self.yaml")), good(d)) },
  { name: "gen-symlink-outside", expect: /manifests\/escape\.yaml:1:1: resolves outside the manifests folder \(to .*\/outside\.yaml\)/, setup: (d) => (writeFileSync(join(d, "outside.yaml"), readFileSync(join(GOOD, "manifest.yaml"))), symlinkSync(join(d, "outside.yaml"), join(d, "manifests/escape.yaml")), good(d)) },
  { name: "gen-dotdot-symlink", expect: /manifests\/up:1:1: resolves outside the manifests folder/, setup: (d) => (symlinkSync("..", join(d, "manifests/up")), good(d)) },
];

describe("bad-input corpus", () => {
  it("has at least 60 cases, each with an expected error, and the spawned ones exist", () => {
    for (const n of SPAWNED) expect([...fromCorpus, ...generated].map((c) => c.name)).toContain(n);
    expect(files.length).toBeGreaterThanOrEqual(60);
    expect(Object.keys(expected).sort()).toEqual(files.map((f) => f.replace(/\.yaml$/, "")).sort());
  });

  it.concurrent.each([...fromCorpus, ...generated].map((c) => [c.name, c] as const))("%s: validate, plan and apply exit 1 with the message; no AWS call", async (_name, c) => {
    const dir = mkdtempSync(join(tmpdir(), "rekon-bad-"));
    made.push(dir);
    mkdirSync(join(dir, "manifests"));
    mkdirSync(join(dir, "ops"));
    cpSync(join(GOOD, "manifest.yaml"), join(dir, "manifests/good.yaml"));
    const policy = c.setup(dir);
    const emu = await startEmulator();
    try {
      for (const cmd of [["validate"], ["plan"], ["apply", "--auto-approve"]]) {
        const r = SPAWNED.has(c.name)
          ? await runCli([...cmd, "--manifests", "manifests", "--policy", policy], { env: emulatorEnv(emu.url), cwd: dir, timeoutMs: 20_000 })
          : await runMain([...cmd, "--manifests", join(dir, "manifests"), "--policy", join(dir, policy)], { ...emulatorEnv(emu.url) }, dir);
        expect(r.code, `${cmd[0]} exit code; stderr: ${r.stderr}`).toBe(1);
        if (typeof c.expect === "string") expect(r.stderr).toContain(c.expect);
        else expect(r.stderr).toMatch(c.expect);
      }
      expect(emu.calls()).toEqual([]);
    } finally {
      await emu.close();
    }
  });
});
