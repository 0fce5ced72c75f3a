// The README's "Rehearse first against the emulator" block, run as written (the port aside): a user who
// copies it must get a plan, not an error about an endpoint the block forgot to set.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT, runCli, startCli } from "../helpers/run-cli.js";

const README = readFileSync(join(ROOT, "README.md"), "utf8");

/** The shell block after the "Rehearse first" sentence: its emulator line, its variables and its rekon command. */
function rehearsal(): { emulator: string[]; env: Record<string, string>; command: string[] } {
  const at = README.indexOf("Rehearse first against the emulator");
  expect(at, "the README's rehearsal paragraph").toBeGreaterThan(0);
  const block = /```sh\n([\s\S]*?)```/.exec(README.slice(at))![1]!;
  const lines = block.replace(/\\\n/g, " ").split("\n").filter((l) => l.trim());
  const emu = lines.find((l) => /\brekon emulator\b/.test(l))!;
  const cmd = lines.find((l) => /\brekon (plan|apply)\b/.test(l) && !/\bemulator\b/.test(l))!;
  const env = Object.fromEntries([...cmd.matchAll(/\b([A-Z][A-Z0-9_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
  const words = (l: string) => l.replace(/\b[A-Z][A-Z0-9_]+=\S+/g, "").replace(/&\s*$/, "").trim().split(/\s+/);
  return { emulator: words(emu).slice(words(emu).indexOf("rekon") + 1), env, command: words(cmd).slice(words(cmd).indexOf("rekon") + 1) };
}

const children: { kill(): void }[] = [];
afterAll(() => children.forEach((c) => c.kill()));

describe("README: rehearse against the emulator", () => {
  it("the block's variables and command give a plan against `rekon emulator` (exit 2: deletions pending)", async () => {
    const r = rehearsal();
    expect(r.emulator[0]).toBe("emulator");
    // The block's own inventory file is the user's; the demo inventory stands in for it, on a free port.
    const emulatorArgs = ["emulator", "--port", "0"];
    const emu = startCli(emulatorArgs, { env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" }, timeoutMs: 60_000 });
    children.push(emu.child);
    let out = "";
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 20_000);
      emu.child.stdout!.on("data", (d: Buffer) => {
        out += d;
        const m = /^listening on (\S+)/m.exec(out);
        if (m) {
          clearTimeout(t);
          resolve(m[1]!);
        }
      });
    });
    const port = /:(\d+)$/.exec(url)![1]!;
    const env = Object.fromEntries(Object.entries(r.env).map(([k, v]) => [k, v.replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${port}`)]));
    expect(Object.keys(env)).toEqual(expect.arrayContaining(["AWS_ENDPOINT_URL_REKOGNITION", "AWS_ENDPOINT_URL_STS", "AWS_REGION"]));
    const plan = await runCli(r.command, { cwd: ROOT, env: { ...env, AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null", AWS_EC2_METADATA_DISABLED: "true", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" }, timeoutMs: 60_000 });
    expect(plan.stderr).not.toMatch(/could not be reached|not read/);
    expect(plan.code).toBe(2);
    expect(plan.stdout).toMatch(/Plan: \d+ to delete/);
  }, 90_000);
});
