// rekon installs and runs the ways a user gets it, from clean temporary folders: `npm pack` (which must not
// take dist/ away from the checkout it runs in) then `npm install <tarball>` and `npm install -g`, and `npm install git+file://<clone>` / `npx --package=<git URL> rekon` (what the
// GitHub workflow does with github:org/rekon). Each install must give a working `rekon` (dist/ is built
// by `prepare` and shipped through package.json `files`), talk to `rekon emulator` started from the
// installed package, and carry no devDependency. Slow (real npm installs): run by `npm run test:slow`.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, type Dirent } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/run-cli.js";

const TIMEOUT = 300_000;
let tmp: string;
const children: ChildProcess[] = [];
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "rekon-install-"));
});
afterAll(() => {
  for (const c of children) c.kill("SIGKILL");
  // Several full node_modules trees (a git clone's includes the devDependencies): minutes on a busy machine.
  rmSync(tmp, { recursive: true, force: true });
}, TIMEOUT);

/** The environment of a user's shell: none of the npm_* variables `npm run` sets for this test run. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== "INIT_CWD" && k !== "NODE_OPTIONS") env[k] = v;
  return { ...env, NPM_CONFIG_UPDATE_NOTIFIER: "false", NPM_CONFIG_FUND: "false", NPM_CONFIG_AUDIT: "false", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", AWS_EC2_METADATA_DISABLED: "true", ...extra };
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = cleanEnv(), timeoutMs = TIMEOUT): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

function appDir(name: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: `rekon-install-check-${name}`, version: "1.0.0", private: true }));
  return dir;
}

/** `rekon emulator --port 0` from an installed package; resolves with its URL once it says where it listens. */
function startInstalledEmulator(bin: string, cwd: string): Promise<string> {
  const child = spawn(bin, ["emulator", "--port", "0"], { cwd, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    const t = setTimeout(() => reject(new Error(`no listening line within 20 s: ${out}`)), 20_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d;
      const m = /^listening on (\S+)/m.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
    child.on("exit", (code) => reject(new Error(`rekon emulator exited ${code}: ${out}`)));
  });
}

/** What a user checks after installing: --help, then a plan against the emulator of the same package. */
async function checkInstalled(app: string): Promise<void> {
  const bin = join(app, "node_modules/.bin/rekon");
  expect(existsSync(bin), "node_modules/.bin/rekon").toBe(true);
  const help = await run(bin, ["--help"], app);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain("rekon run");

  const pkg = join(app, "node_modules/rekon");
  const url = await startInstalledEmulator(bin, app);
  const env = cleanEnv({ AWS_ENDPOINT_URL_REKOGNITION: url, AWS_ENDPOINT_URL_STS: url, AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "AKIDINSTALLCHECK", AWS_SECRET_ACCESS_KEY: "install-check", AWS_CONFIG_FILE: "/dev/null", AWS_SHARED_CREDENTIALS_FILE: "/dev/null" });
  const plan = await run(bin, ["plan", "--manifests", join(pkg, "manifests"), "--policy", join(pkg, "deploy/policy.yaml")], app, env, 60_000);
  expect(plan.stderr).not.toMatch(/not found|Cannot find/);
  expect(plan.code).toBe(2); // deletions pending
  expect(plan.stdout).toContain("Plan: 7 to delete");

  // Production dependencies only, and no sources or source maps shipped.
  for (const dev of ["typescript", "vitest"]) expect(existsSync(join(app, "node_modules", dev)), dev).toBe(false);
  expect(existsSync(join(pkg, "reconciler"))).toBe(false);
  expect(readdirSync(join(pkg, "dist/reconciler")).some((f) => f.endsWith(".map"))).toBe(false);
  expect(JSON.parse(readFileSync(join(pkg, "dist/build-info.json"), "utf8")).revision).toMatch(/\S/);
}

/** A Git repository holding exactly the working tree's files (tracked and new, not ignored), committed. */
async function cloneWorkingTree(): Promise<string> {
  const src = join(tmp, "src");
  const files = (await run("git", ["ls-files", "-co", "--exclude-standard", "-z"], ROOT)).stdout.split("\0").filter((f) => f && existsSync(join(ROOT, f)));
  for (const f of files) {
    mkdirSync(dirname(join(src, f)), { recursive: true });
    cpSync(join(ROOT, f), join(src, f));
  }
  const g = (...args: string[]) => run("git", ["-c", "user.name=rekon-test", "-c", "user.email=test@rekon.invalid", "-c", "commit.gpgsign=false", ...args], src);
  expect((await g("init", "-q", "-b", "main")).code).toBe(0);
  expect((await g("add", "-A")).code).toBe(0);
  expect((await g("commit", "-q", "-m", "working tree")).code).toBe(0);
  return src;
}

/** Every file below `dir`, relative to it. */
function listFiles(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as Dirent[]).filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

let tarball: string | undefined;

describe("clean-directory installs", () => {
  it("npm pack rebuilds dist/ without ever deleting it: every file stays readable while it runs, and a stale file goes", async () => {
    // npm pack runs `prepare` (the build) in this very checkout, whose dist/ the rest of the suite is using.
    const dist = join(ROOT, "dist");
    const before = listFiles(dist);
    expect(before).toContain("reconciler/bin.js");
    // A file no source compiles to (as a renamed module leaves behind): the build must remove it.
    const stale = join(dist, "reconciler", "zz-removed-module.js");
    writeFileSync(stale, "export {};\n");
    const missing = new Set<string>();
    let looks = 0;
    const watcher = setInterval(() => {
      looks++;
      for (const f of before) if (!existsSync(join(dist, f))) missing.add(f);
    }, 5);
    try {
      const packed = await run("npm", ["pack", "--pack-destination", tmp, "--silent"], ROOT);
      expect(packed.code, packed.stderr).toBe(0);
      tarball = join(tmp, packed.stdout.trim().split("\n").at(-1)!);
    } finally {
      clearInterval(watcher);
    }
    expect(looks).toBeGreaterThan(100); // the watcher really looked while the build ran (seconds of tsc)
    expect([...missing]).toEqual([]);
    expect(existsSync(stale)).toBe(false);
    expect(listFiles(dist)).toEqual(before);
    expect(existsSync(tarball)).toBe(true);
  }, TIMEOUT);

  it("npm install -g ./rekon-*.tgz → rekon --version in a clean folder", async () => {
    expect(tarball, "the pack test ran first").toBeDefined();
    const prefix = join(tmp, "global");
    const install = await run("npm", ["install", "-g", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", tarball!], tmp);
    expect(install.code, install.stderr).toBe(0);
    const clean = mkdtempSync(join(tmp, "clean-"));
    const env = cleanEnv({ PATH: `${join(prefix, "bin")}:${dirname(process.execPath)}:/usr/bin:/bin` });
    const r = await run("rekon", ["--version"], clean, env, 30_000);
    expect(r.code, r.stderr).toBe(0);
    const version = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
    expect(r.stdout).toMatch(new RegExp(`^rekon ${version.replaceAll(".", "\\.")} `));
    expect(r.stderr).toBe("");
    expect(readdirSync(clean)).toEqual([]);
    rmSync(prefix, { recursive: true, force: true });
  }, TIMEOUT);

  it("the GitHub Action's install step with a release (here the packed tarball): no build, a rekon that runs", async () => {
    expect(tarball, "the pack test ran first").toBeDefined();
    const runner = mkdtempSync(join(tmp, "runner-"));
    writeFileSync(join(runner, "out.txt"), "");
    const r = await run("bash", [join(ROOT, "deploy/github/install.sh")], tmp, cleanEnv({ GITHUB_ACTION_PATH: ROOT, RUNNER_TEMP: runner, GITHUB_OUTPUT: join(runner, "out.txt"), INPUT_VERSION: `file:${tarball}` }));
    expect(r.code, r.stderr).toBe(0);
    const out = Object.fromEntries(readFileSync(join(runner, "out.txt"), "utf8").trim().split("\n").map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]));
    expect(out.mode).toBe("release");
    expect(out.bin).toBe(join(runner, "rekon/node_modules/rekon/dist/reconciler/bin.js"));
    const v = await run(process.execPath, [out.bin!, "--version"], tmp);
    expect(v.stdout).toMatch(/^rekon \d+\.\d+\.\d+ /);
    // Installed, not built: no TypeScript compiler came with it.
    expect(existsSync(join(runner, "rekon/node_modules/typescript"))).toBe(false);
    rmSync(runner, { recursive: true, force: true });
  }, TIMEOUT);

  it("npm publish --dry-run is clean: no warning but the missing login of a dry run", async () => {
    const r = await run("npm", ["publish", "--dry-run", "--ignore-scripts"], ROOT, cleanEnv(), 120_000);
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.split("\n").filter((l) => /^npm (warn|error)/i.test(l) && !/requires you to be logged in/.test(l));
    expect(warnings).toEqual([]);
    expect(r.stdout + r.stderr).toMatch(/\+ rekon@\d+\.\d+\.\d+/);
  }, TIMEOUT);

  it("npm install <tarball> → rekon --help and a plan against rekon emulator", async () => {
    expect(tarball, "the pack test ran first").toBeDefined();
    const app = appDir("tarball");
    const install = await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", tarball!], app);
    expect(install.code, install.stderr).toBe(0);
    await checkInstalled(app);
  }, TIMEOUT);

  it("npm install git+file://<clone> (prepare builds dist/ in the clone) → the same checks", async () => {
    const src = await cloneWorkingTree();
    const app = appDir("git");
    const install = await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error", `git+file://${src}`], app);
    expect(install.code, install.stderr).toBe(0);
    await checkInstalled(app);
    // Built from a Git checkout: the revision is the clone's commit.
    const head = (await run("git", ["rev-parse", "HEAD"], src)).stdout.trim();
    expect(JSON.parse(readFileSync(join(app, "node_modules/rekon/dist/build-info.json"), "utf8")).revision).toBe(head);
  }, TIMEOUT);

  it("npx --package=git+file://<clone> rekon --help (the workflow's npx --package=github:… form)", async () => {
    const src = existsSync(join(tmp, "src")) ? join(tmp, "src") : await cloneWorkingTree();
    // npx keeps what it installs under <cache>/_npx; remove this run's entries afterwards.
    const npxDir = join(homedir(), ".npm/_npx");
    const before = new Set(existsSync(npxDir) ? readdirSync(npxDir) : []);
    try {
      const r = await run("npx", ["--yes", "--prefer-offline", `--package=git+file://${src}`, "rekon", "--help"], tmp);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain("rekon run");
    } finally {
      for (const d of existsSync(npxDir) ? readdirSync(npxDir) : []) {
        if (before.has(d)) continue;
        const manifest = join(npxDir, d, "package.json");
        if (existsSync(manifest) && readFileSync(manifest, "utf8").includes(src)) rmSync(join(npxDir, d), { recursive: true, force: true });
      }
    }
  }, TIMEOUT);
});
