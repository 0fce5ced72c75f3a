// The AWS SDK's Node-version paragraph never reaches a user's terminal: on Node 20 rekon says it in one
// line of its own, once; on a supported newer Node (22, 24: CI runs this suite on each) nothing at all.
// Other process warnings still print as Node prints them. Run without the variable that silences the SDK
// (the test environment sets it everywhere else).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { runCli } from "../helpers/run-cli.js";

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(() => emu.close());

const major = Number(process.versions.node.split(".")[0]);
const env = () => {
  const e = emulatorEnv(emu.url);
  delete e.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  return e;
};

describe(`the SDK's Node-version warning on Node ${process.version}`, () => {
  it(major < 22 ? "becomes one line from rekon, said once" : "does not reach the terminal", async () => {
    const r = await runCli(["plan", "--manifests", "manifests", "--policy", "deploy/policy.yaml"], { env: env(), timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).not.toMatch(/NodeVersionSupportWarning|a\.co\/|trace-warnings/);
    const ours = r.stderr.split("\n").filter((l) => l.startsWith("rekon: Node.js"));
    if (major < 22) expect(ours).toEqual([`rekon: Node.js ${process.version} still works, but AWS SDK releases after the first week of January 2027 need Node.js 22 or later, and so will rekon's: upgrade to Node.js 22 or 24`]);
    else expect(ours).toEqual([]);
    expect(r.stderr.trim()).toBe(ours.join("\n")); // and nothing else on a plan that went well
  }, 90_000);

  it("an offline command that never makes an AWS client says nothing", async () => {
    const r = await runCli(["validate", "--manifests", "manifests", "--policy", "deploy/policy.yaml"], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
  });

  it("other warnings still print as Node prints them", async () => {
    // A warning raised once rekon runs (after bin.js took over the "warning" event), not at load time.
    const raise = `data:text/javascript,setTimeout(()=>process.emitWarning("rekon-test-other-warning"),200)`;
    const r = await runCli(["validate", "--manifests", "manifests"], { env: env(), nodeArgs: ["--import", raise] });
    expect(r.stderr).toMatch(/^\(node:\d+\) Warning: rekon-test-other-warning$/m);
  });
});
