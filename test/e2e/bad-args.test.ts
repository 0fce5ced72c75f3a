// Every command and every script, given bad arguments, says what is wrong in one line and exits non-zero:
// no Node stack trace, no "node:internal", no multi-line dump. (`--help` of a script is not an error: it
// prints its usage and exits 0.) The emulator on a port in use and with an unreadable --state too.
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../../reconciler/commands/index.js";
import { BIN, ROOT } from "../helpers/run-cli.js";

function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(cmd, args, { cwd: ROOT, timeout: 30_000, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", AWS_EC2_METADATA_DISABLED: "true" } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    ),
  );
}

/** One line on stderr, starting with the tool's name, saying `mentions`; no stack trace. */
function expectOneClearLine(r: { code: number | null; stderr: string }, prefix: string, mentions: RegExp) {
  expect(r.code, r.stderr).not.toBe(0);
  expect(r.code).not.toBeNull(); // exited, not killed by the timeout
  expect(r.stderr).not.toMatch(/^\s+at |node:internal|Error \[ERR_|^\s*\^\s*$/m);
  const lines = r.stderr.trimEnd().split("\n");
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]!.startsWith(prefix), lines[0]).toBe(true);
  expect(lines[0]).toMatch(mentions);
}

// A port in use on 127.0.0.1, for the emulator.
let busy: Server;
let busyPort = 0;
beforeAll(async () => {
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
  busyPort = (busy.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => busy.close(() => resolve())));

describe("rekon: every command with an unknown flag", () => {
  it.each(COMMANDS.map((c) => c.name))("rekon %s --no-such-flag", async (name) => {
    expectOneClearLine(await run(process.execPath, [BIN, name, "--no-such-flag"]), "rekon: ", /Unknown option '--no-such-flag'/);
  });
});

describe("rekon: bad arguments and values", () => {
  it.each<[string[], RegExp]>([
    [["no-such-command"], /unknown command "no-such-command"/],
    [["plan", "--manifests", "manifests", "stray"], /unexpected argument "stray"/],
    [["plan", "--manifests"], /--manifests needs a value/],
    [["run", "--manifests", "manifests", "--apply=yes"], /--apply takes no value/],
    [["validate"], /--manifests PATH is required/],
    [["plan", "--manifests", "manifests", "--output", "yaml"], /--output must be one of/],
    [["plan", "--manifests", "manifests", "--log-level", "loud"], /--log-level must be one of/],
    [["run", "--manifests", "manifests", "--interval", "soon"], /--interval must be a positive duration/],
    [["run", "--manifests", "manifests", "--listen", "nope"], /--listen must be host:port/],
    [["explain", "--manifests", "manifests"], /explain takes one version/],
    [["diff"], /--base REF is required/],
    [["apply", "/nonexistent/plan.json", "--manifests", "manifests", "--policy", "deploy/policy.yaml"], /cannot read saved plan \/nonexistent\/plan\.json: ENOENT/],
    [["version", "--output", "yaml"], /--output must be one of: text, json/],
    [["demo", "stray"], /unexpected argument "stray"/],
    [["emulator", "--port", "99999"], /--port must be a whole number from 0 to 65535/],
    [["emulator", "--state", "/nonexistent/state.json", "--port", "0"], /--state \/nonexistent\/state\.json: cannot read: ENOENT/],
    [["emulator", "--throttle-rate", "2"], /--throttle-rate 2: a probability is from 0 to 1/],
    [["emulator", "--fault", "Delete:Nope"], /--fault Delete:Nope: unknown operation "Delete"/],
  ])("rekon %j", async (args, message) => {
    expectOneClearLine(await run(process.execPath, [BIN, ...args]), "rekon: ", message);
  });

  it("rekon emulator on a port in use", async () => {
    expectOneClearLine(await run(process.execPath, [BIN, "emulator", "--port", String(busyPort)]), "rekon: ", new RegExp(`--port ${busyPort}: address already in use on 127\\.0\\.0\\.1`));
  });
});

describe("scripts", () => {
  const node = (script: string, ...args: string[]) => run(process.execPath, [join(ROOT, script), ...args]);
  it.each<[string, string[], string, RegExp]>([
    ["scripts/iam-render.mjs", ["--no-such-flag"], "iam-render: ", /Unknown option '--no-such-flag'.*--help for usage/],
    ["scripts/iam-render.mjs", ["--account"], "iam-render: ", /--account <value>' argument missing/],
    ["scripts/iam-render.mjs", ["--account", "123456789012", "--region", "us-east-1"], "iam-render: ", /--out DIR is required/],
    ["scripts/iam-render.mjs", ["stray"], "iam-render: ", /Unexpected argument 'stray'/],
    ["scripts/sbom-check.mjs", [], "usage: ", /sbom-check\.mjs FILE/],
    ["scripts/sbom-check.mjs", ["--no-such-flag"], "sbom-check: ", /Unknown option '--no-such-flag'/],
    ["scripts/sbom-check.mjs", ["/nonexistent/sbom.json"], "sbom-check: ", /\/nonexistent\/sbom\.json: cannot read it as JSON/],
    ["scripts/lint-workflows.mjs", ["--no-such-flag"], "lint-workflows: ", /unknown option --no-such-flag/],
    ["scripts/lint-workflows.mjs", ["/nonexistent/workflow.yml"], "/nonexistent/workflow.yml: ", /cannot read: ENOENT/],
    ["scripts/build-info.mjs", ["--no-such-flag"], "build-info: ", /usage/],
    ["scripts/build.mjs", ["stray"], "build: ", /takes no arguments/],
  ])("node %s %j", async (script, args, prefix, message) => {
    expectOneClearLine(await node(script, ...args), prefix, message);
  });

  it.each([["scripts/image-check.sh"], [".ci/run"]])("bash %s --no-such-flag (and it runs nothing)", async (script) => {
    expectOneClearLine(await run("bash", [join(ROOT, script), "--no-such-flag"]), script === ".ci/run" ? ".ci/run: " : "image-check: ", /takes no arguments, got '--no-such-flag'/);
  });

  it("--help is not an error: usage on stdout, exit 0", async () => {
    for (const [cmd, args] of [[process.execPath, [join(ROOT, "scripts/iam-render.mjs"), "--help"]], [process.execPath, [join(ROOT, "scripts/sbom-check.mjs"), "--help"]], [process.execPath, [join(ROOT, "scripts/lint-workflows.mjs"), "--help"]], ["bash", [join(ROOT, "scripts/image-check.sh"), "--help"]]] as const) {
      const r = await run(cmd, [...args]);
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/usage|Reproduce the Dockerfile/i);
      expect(r.stderr).toBe("");
    }
  });
});
