// rekon on a real terminal, as a person sees it. Two kinds of pseudo-terminal:
// - util-linux `script` records the bytes rekon writes (colour codes, the prompt, the bar);
// - tmux renders them into a screen, as a terminal would: what is left where after the bar redrew, the log
//   lines and the tables (`capture-pane -J` joins lines the terminal wrapped).
// Each is skipped, with the reason, where it is not installed.
//
// Golden screens (ANSI stripped) live in test/fixtures/golden/. When the layout changes on purpose,
// regenerate them with `REKON_UPDATE_GOLDEN=1 npx vitest run test/e2e/tty.test.ts` and review the diff.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { BIN, ROOT, runCli } from "../helpers/run-cli.js";

const has = (cmd: string, arg: string) => {
  try {
    execFileSync(cmd, [arg], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};
const hasScript = has("script", "--version");
const hasTmux = has("tmux", "-V");
if (!hasScript) console.log("tty tests skipped: util-linux `script` (for a pseudo-terminal) is not installed");
if (!hasTmux) console.log("terminal-screen tests skipped: tmux is not installed");

const GOLDEN = join(ROOT, "test/fixtures/golden");
const MANIFESTS = join(ROOT, "manifests");
const POLICY = join(ROOT, "deploy/policy.yaml");
/** The terminal every screen here is drawn on. */
const COLS = 100;
const ROWS = 50;

let emu: Emulator;
beforeEach(async () => {
  emu = await startEmulator();
});
afterEach(() => emu.close());

/** Everything a child needs and nothing of the machine's own AWS setup. */
function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", TERM: "xterm-256color", LANG: "C.UTF-8", ...extra };
}

const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
const rekon = (args: string[]) => [process.execPath, BIN, ...args].map(quote).join(" ");

/**
 * Run rekon on a pseudo-terminal from `script`, COLS wide; type `answer` at the confirmation prompt.
 * Returns the raw bytes written to the terminal.
 */
function onScript(args: string[], env: Record<string, string>, answer?: string): Promise<{ code: number | null; raw: string }> {
  const cmd = `stty cols ${COLS} rows ${ROWS}; exec ${rekon(args)}`;
  const child = spawn("script", ["-q", "-e", "-c", cmd, "/dev/null"], { cwd: ROOT, env: baseEnv(env), stdio: ["pipe", "pipe", "pipe"] });
  let raw = "";
  let answered = false;
  child.stdout!.on("data", (d) => {
    raw += d;
    if (answer !== undefined && !answered && raw.includes('Type "yes" to delete:')) {
      answered = true;
      child.stdin!.write(answer + "\r");
    }
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  return new Promise((resolve) =>
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, raw });
    }),
  );
}

/** What a terminal shows of `raw` once colours are dropped: no escape codes, no carriage returns. */
function screenText(raw: string): string {
  return stripVTControlCharacters(raw).replace(/\r\n/g, "\n").replace(/\r/g, "");
}

let tmuxServers = 0;
/**
 * Run rekon in a tmux window COLS×ROWS and return the screen (with scrollback, wrapped lines joined) once it
 * has exited; `answer` is typed at the confirmation prompt.
 */
async function onTmux(args: string[], env: Record<string, string>, answer?: string): Promise<{ code: number; screen: string }> {
  // A server of its own, on a socket in a folder of its own (removed after), so nothing is left behind.
  const dir = mkdtempSync(join(tmpdir(), `rekon-tmux-${++tmuxServers}-`));
  const socket = join(dir, "socket");
  const tmux = (...a: string[]) => execFileSync("tmux", ["-S", socket, "-f", "/dev/null", ...a], { encoding: "utf8", env: baseEnv() });
  const envs = Object.entries(baseEnv(env)).map(([k, v]) => `${k}=${quote(v)}`);
  tmux("new-session", "-d", "-c", ROOT, "-x", String(COLS), "-y", String(ROWS), `env -i ${envs.join(" ")} ${rekon(args)}; echo "[exit $?]"; sleep 60`);
  tmux("set-option", "-g", "history-limit", "5000");
  try {
    const capture = () => tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "0");
    const started = Date.now();
    let answered = answer === undefined;
    for (;;) {
      const screen = capture();
      if (!answered && screen.includes('Type "yes" to delete:')) {
        tmux("send-keys", "-t", "0", answer!, "Enter");
        answered = true;
      }
      const done = /\[exit (\d+)\]/.exec(screen);
      if (done) return { code: Number(done[1]), screen: screen.slice(0, done.index).replace(/\n+$/, "\n") };
      if (Date.now() - started > 30_000) throw new Error(`rekon did not finish on the terminal within 30 s; screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    tmux("kill-server");
    rmSync(dir, { recursive: true, force: true });
  }
}

function golden(name: string, actual: string): void {
  const file = join(GOLDEN, name);
  if (process.env.REKON_UPDATE_GOLDEN) writeFileSync(file, actual);
  expect(existsSync(file), `${file} is missing: REKON_UPDATE_GOLDEN=1 npx vitest run test/e2e/tty.test.ts writes it (review it before committing)`).toBe(true);
  expect(actual).toBe(readFileSync(file, "utf8"));
}

describe.skipIf(!hasScript)("apply on a terminal (script)", () => {
  const args = ["apply", "--manifests", MANIFESTS, "--policy", POLICY, "--log-level", "warn"];

  it("asks before deleting; anything but yes deletes nothing", async () => {
    const r = await onScript(args, emulatorEnv(emu.url), "y");
    const text = screenText(r.raw);
    expect(text).toContain("rekon will permanently delete 7 version(s) and start 1 and stop 1 listed above. A deleted model can't be undeleted.");
    expect(text).toContain("refused (confirmation): not confirmed; nothing was written");
    expect(r.code).toBe(1);
    expect(emu.calls().filter((c) => /^(Delete|Start|Stop)ProjectVersion$/.test(c.operation))).toEqual([]);
  });

  it("yes deletes the plan's deletions, with a progress bar", async () => {
    const r = await onScript(args, emulatorEnv(emu.url), "yes");
    const text = screenText(r.raw);
    expect(r.code).toBe(0);
    expect(emu.calls().filter((c) => c.operation === "DeleteProjectVersion" && c.outcome === "ok")).toHaveLength(7);
    expect(text).toMatch(/writing \[[█░]+\] 9\/9 \| [\d.]+\/s \| ETA \S+ \| throttles \d+ \| failed 0/);
    expect(text).toContain("Apply: 9 accepted, 0 already deleted, 0 failed, 0 skipped, 0 changed, 0 unknown.");
  });
});

describe.skipIf(!hasScript)("colour: on a terminal, not with NO_COLOR, not into a pipe", () => {
  const args = ["plan", "--manifests", MANIFESTS, "--policy", POLICY];

  it("a terminal gets colour: delete red, blocked yellow, missing cyan, the summary bold", async () => {
    const r = await onScript(args, emulatorEnv(emu.url));
    expect(r.code).toBe(2);
    expect(r.raw).toContain("\x1b[31mdelete\x1b[39m");
    expect(r.raw).toContain("\x1b[33mblocked\x1b[39m");
    expect(r.raw).toContain("\x1b[36mmissing\x1b[39m");
    expect(r.raw).toContain("\x1b[1mPlan: 7 to delete, 1 to keep, 3 blocked, 1 missing, 1 to start, 1 to stop.");
  });

  it("NO_COLOR=1 on a terminal: not one escape code", async () => {
    const r = await onScript(args, { ...emulatorEnv(emu.url), NO_COLOR: "1" });
    expect(r.code).toBe(2);
    expect(r.raw).toContain("Plan: 7 to delete");
    expect(r.raw).not.toMatch(/\x1b/);
  });

  it("piped (stdout and stderr not terminals): no escape code, logs stay JSON", async () => {
    const r = await runCli([...args, "--log-level", "debug"], { env: emulatorEnv(emu.url) });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain("Plan: 7 to delete");
    expect(r.stdout + r.stderr).not.toMatch(/\x1b/);
    for (const line of r.stderr.trim().split("\n").filter(Boolean)) expect(() => JSON.parse(line), line).not.toThrow();
  });

  it("--log-format pretty into a pipe: readable lines, still no escape code", async () => {
    const r = await runCli(["apply", "--manifests", MANIFESTS, "--policy", POLICY, "--auto-approve", "--log-level", "info", "--log-format", "pretty", "--output", "json"], { env: emulatorEnv(emu.url) });
    expect(r.code).toBe(0);
    const lines = r.stderr.trim().split("\n");
    expect(lines.filter((l) => l.includes("deletion accepted"))).toHaveLength(7);
    for (const line of lines) expect(line).toMatch(/^\d\d:\d\d:\d\d (TRACE|DEBUG|INFO|WARN|ERROR|FATAL): /);
    expect(r.stderr).not.toMatch(/\x1b/);
    expect(JSON.parse(r.stdout).results).toHaveLength(9);
  });

  it("--output json and markdown on a terminal: never an escape code", async () => {
    for (const output of ["json", "markdown"]) {
      const r = await onScript([...args, "--output", output], emulatorEnv(emu.url));
      expect(r.code).toBe(2);
      expect(r.raw).not.toMatch(/\x1b/);
    }
  });
});

describe.skipIf(!hasScript)("golden screens (ANSI stripped)", () => {
  it("the demo's plan", async () => {
    // The emulator's clock stands still at its start, so every age is exactly the demo's ("2h", "300d")
    // whatever the time of the run; the plan table shows no ARN and no timestamp.
    await emu.close();
    const t0 = Date.now();
    emu = await startEmulator({ now: () => t0 });
    const r = await onScript(["plan", "--manifests", "manifests", "--policy", "deploy/policy.yaml"], emulatorEnv(emu.url));
    expect(r.code).toBe(2);
    golden("plan-demo.txt", screenText(r.raw));
  });

  it("no credentials, three projects: the cause once, the projects under it", async () => {
    const env = { ...emulatorEnv(emu.url) };
    delete (env as Record<string, string | undefined>).AWS_ACCESS_KEY_ID;
    delete (env as Record<string, string | undefined>).AWS_SECRET_ACCESS_KEY;
    const r = await onScript(["plan", "--manifests", "manifests", "--policy", "deploy/policy.yaml", "--retries", "0"], env);
    expect(r.code).toBe(1);
    const text = screenText(r.raw);
    expect(text.match(/no AWS credentials were found/g)).toHaveLength(1);
    expect(text.match(/set AWS_PROFILE or AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY, or run aws sso login/g)).toHaveLength(1);
    expect(text.match(/^Error:/gm)).toHaveLength(1);
    expect(text).toContain("  3 projects not read; nothing in them is deleted:\n    fraud-detector      us-east-1\n    moderation-adapter  us-east-1\n    shelf-scanner       us-east-1\n");
    // The log line on stderr is one readable line per credential source (its time masked for the golden).
    golden("plan-no-credentials.txt", text.replace(/^\d\d:\d\d:\d\d /gm, "HH:MM:SS "));
    expect(emu.calls().filter((c) => c.operation !== "GetCallerIdentity")).toEqual([]);
  });
});

describe("no credentials, not on a terminal", () => {
  it("the JSON plan keeps one error per project; stderr says the cause once", async () => {
    const env = { ...emulatorEnv(emu.url) };
    delete (env as Record<string, string | undefined>).AWS_ACCESS_KEY_ID;
    delete (env as Record<string, string | undefined>).AWS_SECRET_ACCESS_KEY;
    const r = await runCli(["plan", "--manifests", MANIFESTS, "--policy", POLICY, "--output", "json", "--retries", "0", "--log-level", "silent"], { env });
    expect(r.code).toBe(1);
    const plan = JSON.parse(r.stdout) as { projects: { status: string; error: string }[] };
    expect(plan.projects.map((p) => p.status)).toEqual(["error", "error", "error"]);
    for (const p of plan.projects) expect(p.error).toContain("Could not load credentials from any providers");
    expect(r.stderr).toBe(
      "rekon: error: no AWS credentials were found — 3 projects not read, nothing in them deleted: fraud-detector, moderation-adapter, shelf-scanner; set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run aws sso login\n",
    );
  });
});

describe.skipIf(!hasTmux)("the apply screen, rendered (tmux)", () => {
  it("log lines above the bar, one readable line each; no JSON; the bar and the result table intact", async () => {
    const r = await onTmux(["apply", "--manifests", MANIFESTS, "--policy", POLICY, "--log-level", "info"], emulatorEnv(emu.url), "yes");
    expect(r.code, r.screen).toBe(0);
    const lines = r.screen.split("\n");
    // Nothing of pino's JSON reaches the terminal.
    expect(r.screen).not.toMatch(/\{"level"|"msg":|"time":/);
    // One line per accepted deletion, each whole: time, level, message, fields.
    const logs = lines.filter((l) => l.includes("deletion accepted"));
    expect(logs).toHaveLength(7);
    for (const l of logs) expect(l).toMatch(/^\d\d:\d\d:\d\d INFO: deletion accepted region=us-east-1 version=[\w.-]+\/[\w.-]+ status=DELETING$/);
    // The bar, drawn last, alone on its line, complete.
    const bars = lines.filter((l) => l.includes("writing ["));
    expect(bars).toHaveLength(1);
    expect(bars[0]).toMatch(/^writing \[█{40}\] 9\/9 \| [\d.]+\/s \| ETA \S+ \| throttles 0 \| failed 0$/);
    expect(lines.indexOf(bars[0]!)).toBeGreaterThan(lines.indexOf(logs.at(-1)!));
    // The result table after it, every row whole and in its project's group.
    const table = lines.slice(lines.indexOf(bars[0]!) + 1);
    expect(table[0]).toBe("");
    expect(table[1]).toMatch(/^ {2}RESULT +VERSION +STATUS +REQUEST$/);
    const rows = table.filter((l) => l.startsWith("  accepted"));
    expect(rows).toHaveLength(7);
    for (const row of rows) expect(row).toMatch(/^ {2}accepted +[\w.-]+ +DELETING {2}[0-9a-f-]{36}$/);
    // The demo's start and stop, each a row of its own.
    expect(table.filter((l) => /^ {2}(start|stop) accepted +[\w.-]+ +(STARTING|STOPPING) {2}[0-9a-f-]{36}$/.test(l))).toHaveLength(2);
    for (const p of ["fraud-detector", "moderation-adapter", "shelf-scanner"]) expect(table).toContain(`${p} (123456789012/us-east-1)`);
    expect(table.filter(Boolean).at(-1)).toBe("Apply: 9 accepted, 0 already deleted, 0 failed, 0 skipped, 0 changed, 0 unknown.");
  });

  it("--log-format json on a terminal: whole JSON lines, still above the bar", async () => {
    const r = await onTmux(["apply", "--manifests", MANIFESTS, "--policy", POLICY, "--log-level", "info", "--log-format", "json", "--auto-approve"], emulatorEnv(emu.url));
    expect(r.code, r.screen).toBe(0);
    const lines = r.screen.split("\n");
    const logs = lines.filter((l) => l.includes('"deletion accepted"'));
    expect(logs).toHaveLength(7);
    for (const l of logs) expect(JSON.parse(l)).toMatchObject({ level: 30, msg: "deletion accepted", status: "DELETING" });
    const bar = lines.findIndex((l) => l.includes("writing ["));
    expect(lines[bar]).toMatch(/^writing \[█{40}\] 9\/9 \| [\d.]+\/s \| ETA \S+ \| throttles 0 \| failed 0$/);
    expect(bar).toBeGreaterThan(lines.indexOf(logs.at(-1)!));
  });
});
