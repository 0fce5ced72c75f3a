import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BIN = join(ROOT, "dist/reconciler/bin.js");

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run the built `rekon` binary as a user would, with a bounded time. */
export function runCli(args: string[], opts: { env?: Record<string, string>; input?: string; timeoutMs?: number; nodeArgs?: string[]; cwd?: string } = {}): Promise<CliResult> {
  return startCli(args, opts).done;
}

/** Like runCli, with the child at hand (to signal it while it runs). */
export function startCli(args: string[], opts: { env?: Record<string, string>; input?: string; timeoutMs?: number; nodeArgs?: string[]; cwd?: string } = {}): { child: import("node:child_process").ChildProcess; done: Promise<CliResult>; waitForStderr(text: string, timeoutMs?: number): Promise<void> } {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run "npm run build" (npm test does it in pretest)`);
  let child!: import("node:child_process").ChildProcess;
  let stderrSoFar = "";
  const done = new Promise<CliResult>((resolve, reject) => {
    child = spawn(process.execPath, [...(opts.nodeArgs ?? []), BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => {
      stderr += d;
      stderrSoFar += d;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 20_000);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin!.end(opts.input ?? "");
  });
  /** Resolves once stderr has contained `text` (a log line the test waits on), rejects after the bound. */
  const waitForStderr = (text: string, timeoutMs = 15_000) =>
    new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const t = setInterval(() => {
        if (stderrSoFar.includes(text)) {
          clearInterval(t);
          resolve();
        } else if (Date.now() - started > timeoutMs) {
          clearInterval(t);
          reject(new Error(`stderr did not contain ${JSON.stringify(text)} within ${timeoutMs} ms; it has: ${stderrSoFar.slice(-2000)}`));
        }
      }, 10);
    });
  return { child, done, waitForStderr };
}

/** `rekon emulator` as a child process: resolves with its first stdout line (the "listening on" line). */
export async function spawnEmulator(args: string[] = ["--port", "0"]): Promise<{ child: import("node:child_process").ChildProcess; firstLine: string; exited: Promise<number | null> }> {
  const { spawn } = await import("node:child_process");
  const child = spawn(process.execPath, [BIN, "emulator", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const firstLine = await new Promise<string>((resolve, reject) => {
    let buf = "";
    const t = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("rekon emulator printed no listening line within 10 s"));
    }, 10_000);
    child.stdout!.on("data", (d) => {
      buf += d;
      if (buf.includes("\n")) {
        clearTimeout(t);
        resolve(buf.split("\n")[0]!);
      }
    });
  });
  return { child, firstLine, exited };
}
