// apply on a real terminal (a pseudo-terminal from util-linux `script`): the confirmation prompt and the
// progress bar, as a person sees them. Skipped, with the reason, where `script` is not installed.
import { execFileSync, spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { BIN, ROOT } from "../helpers/run-cli.js";

const hasScript = (() => {
  try {
    execFileSync("script", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
if (!hasScript) console.log("tty tests skipped: util-linux `script` (for a pseudo-terminal) is not installed");

let emu: Emulator;
beforeEach(async () => {
  emu = await startEmulator();
});
afterEach(() => emu.close());

/** Run apply on a pseudo-terminal; type `answer` at the prompt. */
function applyOnTty(answer: string): Promise<{ code: number | null; screen: string }> {
  const cmd = [process.execPath, BIN, "apply", "--manifests", join(ROOT, "manifests"), "--policy", join(ROOT, "deploy/policy.yaml"), "--log-level", "warn"].map((a) => `'${a}'`).join(" ");
  const child = spawn("script", ["-q", "-e", "-c", cmd, "/dev/null"], { env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", TERM: "xterm", ...emulatorEnv(emu.url) }, stdio: ["pipe", "pipe", "pipe"] });
  let screen = "";
  let answered = false;
  child.stdout!.on("data", (d) => {
    screen += d;
    if (!answered && screen.includes('Type "yes" to delete:')) {
      answered = true;
      child.stdin!.write(answer + "\r");
    }
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  return new Promise((resolve) =>
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, screen });
    }),
  );
}

describe.skipIf(!hasScript)("apply on a terminal", () => {
  it("asks before deleting; anything but yes deletes nothing", async () => {
    const r = await applyOnTty("y");
    expect(r.screen).toContain("rekon will permanently delete 7 version(s) listed above. A deleted model can't be undeleted.");
    expect(r.screen).toContain("refused (confirmation): not confirmed; nothing was deleted");
    expect(r.code).toBe(1);
    expect(emu.calls().filter((c) => c.operation === "DeleteProjectVersion")).toEqual([]);
  });

  it("yes deletes the plan's deletions, with a progress bar", async () => {
    const r = await applyOnTty("yes");
    expect(r.code).toBe(0);
    expect(emu.calls().filter((c) => c.operation === "DeleteProjectVersion" && c.outcome === "ok")).toHaveLength(7);
    expect(r.screen).toMatch(/deleting \[[█░]+\] 7\/7 \| [\d.]+\/s \| ETA \S+ \| throttles \d+ \| failed 0/);
    expect(r.screen).toContain("Apply: 7 accepted, 0 already deleted, 0 failed, 0 skipped, 0 changed, 0 unknown.");
  });
});
