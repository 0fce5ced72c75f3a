// The controller's small pure-ish parts: option parsing, jitter, git revision discovery, the watch across
// a git-sync symlink swap. Real temporary folders, no mocks.
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { sep } from "node:path";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { gitRevision } from "../../reconciler/controller/audit.js";
import { resolveRunOptions, type RunFlags } from "../../reconciler/controller/options.js";
import { jittered } from "../../reconciler/controller/run.js";
import { watchManifests } from "../../reconciler/controller/watch.js";
import { tmpTree } from "../helpers/tmp.js";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
function tree(files: Record<string, string>) {
  const t = tmpTree(files);
  cleanups.push(t.cleanup);
  return t;
}

describe("resolveRunOptions", () => {
  const ns = () => undefined;
  it("documented defaults", () => {
    expect(resolveRunOptions({ manifests: ["m"] }, ns)).toEqual({
      manifests: ["m"],
      intervalMs: 300_000,
      cycleTimeoutMs: 600_000,
      watchDebounceMs: 1_000,
      shutdownGraceMs: 10_000,
      apply: false,
      listen: { host: "", port: 8080 },
    });
  });
  it("leader election defaults like controller-runtime, namespace from the pod", () => {
    expect(resolveRunOptions({ manifests: ["m"], "leader-elect": true }, () => "ml").leader).toEqual({
      leaseName: "rekon",
      leaseNamespace: "ml",
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
  });
  it.each<{ name: string; flags: RunFlags; msg: string }>([
    { name: "no manifests", flags: {}, msg: "--manifests PATH is required" },
    { name: "bad interval", flags: { manifests: ["m"], interval: "5 minutes" }, msg: "--interval must be a positive duration" },
    { name: "zero interval", flags: { manifests: ["m"], interval: "0s" }, msg: "--interval must be a positive duration" },
    { name: "bad listen", flags: { manifests: ["m"], listen: "8080" }, msg: "--listen must be host:port" },
    { name: "lease flag without election", flags: { manifests: ["m"], "lease-name": "x" }, msg: "--lease-name needs --leader-elect" },
    { name: "no namespace outside a pod", flags: { manifests: ["m"], "leader-elect": true }, msg: "--lease-namespace" },
    {
      name: "renew deadline over lease",
      flags: { manifests: ["m"], "leader-elect": true, "lease-namespace": "n", "renew-deadline": "20s" },
      msg: "--retry-period < --renew-deadline < --lease-duration",
    },
    {
      name: "fractional lease",
      flags: { manifests: ["m"], "leader-elect": true, "lease-namespace": "n", "lease-duration": "1500ms", "renew-deadline": "1s", "retry-period": "100ms" },
      msg: "whole seconds",
    },
    { name: "grace too long for Kubernetes", flags: { manifests: ["m"], "shutdown-grace": "1m" }, msg: "at most 15s" },
  ])("$name → $msg", ({ flags, msg }) => {
    expect(() => resolveRunOptions(flags, ns)).toThrow(msg);
  });
  it("listen forms", () => {
    expect(resolveRunOptions({ manifests: ["m"], listen: "127.0.0.1:0" }, ns).listen).toEqual({ host: "127.0.0.1", port: 0 });
    expect(resolveRunOptions({ manifests: ["m"], listen: "[::1]:9090" }, ns).listen).toEqual({ host: "::1", port: 9090 });
  });
});

describe("jittered", () => {
  it.each([0, 0.5, 0.999])("stays within ±10 %% (random %s)", (r) => {
    const v = jittered(100_000, () => r);
    expect(v).toBeGreaterThanOrEqual(90_000);
    expect(v).toBeLessThanOrEqual(110_000);
  });
});

describe("gitRevision", () => {
  const SHA = "0123456789abcdef0123456789abcdef01234567";
  const OTHER = "89abcdef0123456789abcdef0123456789abcdef";
  it.each<{ name: string; files: Record<string, string>; at: string; want: string | undefined }>([
    { name: "git-sync checkout folder", files: { [`.worktrees/${SHA}/manifests/a.yaml`]: "x" }, at: `.worktrees/${SHA}/manifests`, want: SHA },
    { name: "detached HEAD", files: { ".git/HEAD": `${SHA}\n`, "manifests/a.yaml": "x" }, at: "manifests", want: SHA },
    {
      name: "branch, loose ref",
      files: { ".git/HEAD": "ref: refs/heads/main\n", ".git/refs/heads/main": `${SHA}\n`, "m/a.yaml": "x" },
      at: "m/a.yaml",
      want: SHA,
    },
    {
      name: "branch, packed ref",
      files: { ".git/HEAD": "ref: refs/heads/main\n", ".git/packed-refs": `# pack-refs\n${OTHER} refs/heads/dev\n${SHA} refs/heads/main\n`, "m/a.yaml": "x" },
      at: "m",
      want: SHA,
    },
    {
      name: "worktree .git file → gitdir, refs in commondir",
      files: {
        "wt/.git": "gitdir: ../repo/.git/worktrees/wt\n",
        "repo/.git/worktrees/wt/HEAD": "ref: refs/heads/feature\n",
        "repo/.git/worktrees/wt/commondir": "../..\n",
        "repo/.git/refs/heads/feature": `${SHA}\n`,
        "wt/m/a.yaml": "x",
      },
      at: "wt/m",
      want: SHA,
    },
    { name: "no git at all", files: { "m/a.yaml": "x" }, at: "m", want: undefined },
  ])("$name", ({ files, at, want }) => {
    const t = tree(files);
    // tmpdir names are never 40 hex characters, so only what the test built can be found.
    expect(gitRevision(t.path(at))).toBe(want);
  });
});

describe("watchManifests", () => {
  // The watch logs every change it hears at trace level: tests wait on those lines and on calls, not on time.
  let heard: string[] = [];
  const log = pino({ level: "trace" }, { write: (line: string) => void heard.push(JSON.parse(line).path ?? "") });
  beforeEach(() => void (heard = []));
  const waitFor = async (what: string, cond: () => boolean, ms = 5_000) => {
    const t0 = Date.now();
    while (!cond()) {
      if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const waitCalls = async (calls: string[], n: number, ms: number) => {
    await waitFor(`${n} call(s)`, () => calls.length >= n, ms);
    return calls.length;
  };

  it("fires once per burst of edits in a folder, after the debounce", async () => {
    const t = tree({ "m/a.yaml": "a", "m/sub/b.yaml": "b" });
    const calls: string[] = [];
    const w = watchManifests([t.path("m")], (c) => calls.push(c), { debounceMs: 150, log });
    cleanups.push(() => w.close());
    for (let i = 0; i < 5; i++) writeFileSync(t.path("m/sub/b.yaml"), `b${i}`);
    expect(await waitCalls(calls, 1, 2_000)).toBe(1);
    // A later edit gives a second call; had the burst not been debounced into one, there would be more.
    writeFileSync(t.path("m/a.yaml"), "a2");
    await waitCalls(calls, 2, 2_000);
    expect(calls).toHaveLength(2);
    expect(calls[1]).toContain("a.yaml");
  });

  it("follows a git-sync symlink swap, and watches the new checkout afterwards", async () => {
    const t = tree({ ".worktrees/one/m/a.yaml": "1", ".worktrees/two/m/a.yaml": "2", ".worktrees/three/m/a.yaml": "3" });
    symlinkSync(".worktrees/one", t.path("repo"));
    const calls: string[] = [];
    const w = watchManifests([t.path("repo/m")], (c) => calls.push(c), { debounceMs: 100, log });
    cleanups.push(() => w.close());
    const swap = (to: string) => {
      symlinkSync(`.worktrees/${to}`, t.path("tmp-link"));
      renameSync(t.path("tmp-link"), t.path("repo"));
    };
    swap("two");
    expect(await waitCalls(calls, 1, 2_000)).toBe(1);
    // An edit inside the new checkout is seen (the watch moved with the link)...
    writeFileSync(t.path(".worktrees/two/m/a.yaml"), "2b");
    expect(await waitCalls(calls, 2, 2_000)).toBe(2);
    // ...and one inside the old checkout is not: an edit there, then one in the new checkout; once the
    // watch has heard the second, it had heard the first too if it were still watching there.
    writeFileSync(t.path(".worktrees/one/m/a.yaml"), "1b");
    writeFileSync(t.path(".worktrees/two/m/a.yaml"), "2c");
    await waitFor("the edit in the new checkout to be heard", () => heard.some((p) => p.includes(`two${sep}m`) && p.endsWith("a.yaml")) && calls.length === 3);
    expect(heard.filter((p) => p.includes(`one${sep}m`))).toEqual([]);
  });

  it("follows a ConfigMap volume update (..data swapped under policy.yaml → ..data/policy.yaml)", async () => {
    const t = tree({ "vol/..2026_11_28_1/policy.yaml": "1", "vol/..2026_11_28_2/policy.yaml": "2" });
    symlinkSync("..2026_11_28_1", t.path("vol/..data"));
    symlinkSync("..data/policy.yaml", t.path("vol/policy.yaml"));
    const calls: string[] = [];
    const w = watchManifests([t.path("vol/policy.yaml")], (c) => calls.push(c), { debounceMs: 100, log });
    cleanups.push(() => w.close());
    symlinkSync("..2026_11_28_2", t.path("vol/..data_tmp"));
    renameSync(t.path("vol/..data_tmp"), t.path("vol/..data"));
    expect(await waitCalls(calls, 1, 2_000)).toBe(1);
  });

  it("a manifests path that does not exist yet fires when it appears", async () => {
    const t = tree({ "x.txt": "" });
    const calls: string[] = [];
    const w = watchManifests([t.path("repo/m")], (c) => calls.push(c), { debounceMs: 100, log });
    cleanups.push(() => w.close());
    mkdirSync(t.path("repo"));
    expect(await waitCalls(calls, 1, 2_000)).toBe(1);
  });
});
