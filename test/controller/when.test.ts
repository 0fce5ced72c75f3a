// The controller and time: a deny window that ends starts a cycle within seconds (not at the interval),
// and a manifest revision published while an apply runs stops its writes and starts the next cycle.
import { cpSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Emulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { ROOT } from "../helpers/run-cli.js";
import { cycleFinished, get, metric, startRun, type LogLine, type RunProcess, controllerFixture, controllerTeardown } from "./helpers.js";

let emu: Emulator;
let dir: string;
let run: RunProcess | undefined;
beforeEach(async () => {
  ({ emu, dir } = await controllerFixture("when", { emulator: { deleteDelayMs: 60_000 }, manifests: false, policy: false }));
});
afterEach(async () => {
  await controllerTeardown(run, emu, dir);
  run = undefined;
});

const deletes = () => emu.calls().filter((c) => c.operation === "DeleteProjectVersion" && c.outcome === "ok");
const policy = (extra: string) => readFileSync(join(ROOT, "deploy/policy.yaml"), "utf8") + extra;

describe("rekon run and deletion windows", () => {
  it("a deny window that ends starts a cycle within seconds, which deletes; the metric said when", async () => {
    // A deny window whose occurrence began at this minute's start and ends about 6 s from now.
    const now = Date.now();
    const start = now - (now % 60_000);
    const d = new Date(start);
    const durationS = Math.ceil((now - start) / 1000) + 6;
    const ends = start + durationS * 1000;
    cpSync(join(ROOT, "manifests"), join(dir, "manifests"), { recursive: true });
    writeFileSync(
      join(dir, "policy.yaml"),
      policy(
        `  windows:\n    - kind: deny\n      schedule: "${d.getUTCMinutes()} ${d.getUTCHours()} * * *"\n      duration: ${durationS}s\n      reason: change freeze\n`,
      ),
    );
    run = startRun(
      ["--manifests", join(dir, "manifests"), "--policy", join(dir, "policy.yaml"), "--apply", "--interval", "1h", "--listen", "127.0.0.1:0"],
      emulatorEnv(emu.url),
    );
    const url = await run.url();
    const first = await run.waitFor(cycleFinished, 20_000, "the first cycle");
    expect(first).toMatchObject({ result: "ok", summary: { delete: 0 }, deleted: 0 });
    expect(deletes()).toEqual([]);
    const plan = run.lines.find((l) => l.cycleId === first.cycleId && l.msg === "plan")!;
    expect(plan).toBeDefined();
    expect(metric((await get(`${url}/metrics`)).body, "rekon_deletion_next_allowed_timestamp_seconds")).toBe(ends / 1000);

    const second = await run.waitFor((l: LogLine) => cycleFinished(l) && l.cycleId !== first.cycleId, 30_000, "the cycle after the window ends");
    expect(second).toMatchObject({ result: "ok", deleted: 7 });
    const started = run.lines.find((l) => l.msg === "cycle started" && l.cycleId === second.cycleId)!;
    // The interval is an hour: only the window's end can have started it, within seconds of it.
    expect(started.time).toBeGreaterThanOrEqual(ends);
    expect(started.time - ends).toBeLessThan(10_000);
    expect(deletes()).toHaveLength(7);
  }, 60_000);
});

describe("manifests that change while an apply runs", () => {
  /** git-sync's layout: ROOT/.worktrees/<rev>/manifests, published by an atomic rename of ROOT/repo. */
  function publish(root: string, rev: string, edit?: (m: string) => void): void {
    const wt = join(root, ".worktrees", rev);
    mkdirSync(wt, { recursive: true });
    cpSync(join(ROOT, "manifests"), join(wt, "manifests"), { recursive: true });
    edit?.(join(wt, "manifests"));
    symlinkSync(join(".worktrees", rev), join(root, "tmp-link"));
    renameSync(join(root, "tmp-link"), join(root, "repo"));
  }

  it("a revision that lists a pending version: it is not deleted, later writes are skipped (manifestsChanged), the next cycle starts at once", async () => {
    const root = join(dir, "git");
    mkdirSync(root);
    publish(root, "a".repeat(40));
    // One deletion a second: the apply runs for several seconds, time enough for a new revision.
    writeFileSync(join(dir, "policy.yaml"), policy("  rateLimits:\n    DeleteProjectVersion: 1\n"));
    run = startRun(
      [
        "--manifests",
        join(root, "repo", "manifests"),
        "--policy",
        join(dir, "policy.yaml"),
        "--apply",
        "--interval",
        "1h",
        "--listen",
        "127.0.0.1:0",
        "--watch-debounce",
        "30s",
      ],
      emulatorEnv(emu.url),
    );
    await run.url();
    // The shelf-scanner deletions come last (projects are taken in order); re-list v4 once the first deletion has gone out.
    await emu.waitForCall((c) => c.operation === "DeleteProjectVersion" && c.phase === "received", 20_000);
    const v4 = emu
      .snapshot()
      .projects.find((p) => p.name === "shelf-scanner")!
      .versions!.find((v) => v.name === "v4")!;
    const v4Arn = `arn:aws:rekognition:us-east-1:123456789012:project/shelf-scanner/version/v4/${Date.parse(v4.createdAt!)}`;
    const swapped = Date.now();
    publish(root, "b".repeat(40), (m) =>
      writeFileSync(
        join(m, "shelf-scanner.yaml"),
        readFileSync(join(m, "shelf-scanner.yaml"), "utf8").replace("    - name: v6\n", "    - name: v6\n    - name: v4\n"),
      ),
    );

    const skipped = await run.waitFor(
      (l) => l.msg === "audit" && (l.audit as { code?: string }).code === "manifestsChanged",
      20_000,
      "a write skipped because the manifests changed",
    );
    const firstSkip = skipped.time - swapped;
    console.log(`manifest swap → first skipped write: ${firstSkip} ms`);
    expect((skipped.audit as { result: string }).result).toBe("skipped");
    const first = await run.waitFor((l) => cycleFinished(l), 30_000, "the interrupted cycle");
    // The next cycle starts at once from the new revision (the watch is debounced for 30 s and the
    // interval is an hour: only the apply's own signal can have started it so soon).
    const next = await run.waitFor((l) => l.msg === "cycle started" && l.cycleId !== first.cycleId, 10_000, "the next cycle");
    expect(next.time - first.time).toBeLessThan(5_000);
    expect(next.gitRevision).toBe("b".repeat(40));
    await run.waitFor((l) => cycleFinished(l) && l.cycleId === next.cycleId, 30_000, "the next cycle to finish");
    expect(
      emu
        .calls({ phase: "received" })
        .filter((c) => c.operation === "DeleteProjectVersion")
        .map((c) => c.target),
    ).not.toContain(v4Arn);
    const v4Now = emu
      .snapshot()
      .projects.find((p) => p.name === "shelf-scanner")!
      .versions!.find((v) => v.name === "v4")!;
    expect(v4Now.status).toBe("FAILED");
  }, 90_000);
});
