// One /metrics scrape of a real `rekon run --apply` against the emulator, after its first cycle (so the
// per-project series, deletions, AWS latencies and limiter rates exist), for checks of what rekon exports.
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmulator } from "../../reconciler/emulator/server.js";
import { cycleFinished, get, startRun } from "../controller/helpers.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { ROOT } from "../helpers/run-cli.js";

export async function liveScrape(): Promise<string> {
  const emu = await startEmulator({ deleteDelayMs: 50 });
  const dir = mkdtempSync(join(tmpdir(), "rekon-scrape-"));
  cpSync(join(ROOT, "manifests"), join(dir, "manifests"), { recursive: true });
  cpSync(join(ROOT, "deploy/policy.yaml"), join(dir, "policy.yaml"));
  const touch = join(dir, "FETCH_HEAD");
  cpSync(join(ROOT, "package.json"), touch); // any file: its modification time is now
  const run = startRun(["--manifests", join(dir, "manifests"), "--policy", join(dir, "policy.yaml"), "--apply", "--interval", "1h", "--listen", "127.0.0.1:0", "--sync-touch-file", touch], emulatorEnv(emu.url));
  try {
    const url = await run.url();
    const first = await run.waitFor(cycleFinished, 20_000, "the first cycle");
    if (first.result !== "ok") throw new Error(`first cycle ended ${String(first.result)}`);
    return (await get(`${url}/metrics`)).body;
  } finally {
    run.kill("SIGKILL");
    await run.exited;
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Metric names a scrape exports: each family from its TYPE line, with _bucket/_sum/_count for histograms. */
export function exportedNames(scrape: string): Set<string> {
  const names = new Set<string>();
  for (const m of scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(m[1]!);
    if (m[2] === "histogram" || m[2] === "summary") for (const s of ["_bucket", "_sum", "_count"]) names.add(m[1]! + s);
  }
  return names;
}

const KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan"]);

/**
 * The metric names a PromQL expression reads. Strings, label matchers, durations, grouping clauses and
 * Grafana variables are removed first; what is left that looks like an identifier and is not a function
 * call or keyword is a metric name.
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\$\{?\w+\}?/g, " ");
  const out = new Set<string>();
  // (?<![\w.]): not the unit of a number such as 5m or 1e3.
  for (const m of bare.matchAll(/(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?/g)) {
    if (m[1]) continue; // a function call
    if (KEYWORDS.has(m[0].toLowerCase())) continue;
    out.add(m[0]);
  }
  return [...out];
}
