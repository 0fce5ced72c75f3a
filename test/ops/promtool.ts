// promtool (Debian's `prometheus` package; .ci/run installs it when missing) for the suites that check
// metrics, alert rules and their unit tests with the real tool rather than hand-written checks.
import { execFile, execFileSync } from "node:child_process";

/** promtool from Debian's `prometheus` package (.ci/run installs it); undefined when it is not installed. */
export function promtool(): string | undefined {
  try {
    execFileSync("promtool", ["--version"], { stdio: "ignore" });
    return "promtool";
  } catch {
    return undefined;
  }
}

/** Feed `input` to promtool; resolves with its exit code and output. */
export function runPromtool(args: string[], input?: string, cwd?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile("promtool", args, { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
    });
    child.stdin!.end(input ?? "");
  });
}


/** Skip the running test, saying why, when promtool is not installed. */
export function skipWithoutPromtool(ctx: { skip: (note?: string) => void }, what: string): void {
  if (promtool()) return;
  const why = `${what} skipped: promtool is not installed (apt-get install prometheus; .ci/run installs it)`;
  console.log(why);
  ctx.skip(why);
}
