// `rekon run`'s process edges: where its logs go, a listen address on both IP families, a port already in
// use, and a log reader that goes away. The built binary as a child process against the emulator.
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Emulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { BIN, ROOT, runCli } from "../helpers/run-cli.js";
import { cycleFinished, get, metric, startRun, type RunProcess, controllerFixture, controllerTeardown } from "./helpers.js";

let emu: Emulator;
let dir: string;
let run: RunProcess | undefined;
const servers: Server[] = [];

beforeEach(async () => {
  ({ emu, dir } = await controllerFixture("http", {}));
});
afterEach(async () => {
  await controllerTeardown(run, emu, dir);
  run = undefined;
  for (const s of servers.splice(0)) s.close();
});

const args = (...extra: string[]) => ["--manifests", join(dir, "manifests"), "--policy", join(dir, "policy.yaml"), "--interval", "1h", ...extra];

/** A port held by another socket on 127.0.0.1, as another process would. */
async function takenPort(): Promise<number> {
  const s = createServer();
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return (s.address() as { port: number }).port;
}

describe("rekon run: logs and listening", () => {
  it("logs JSON lines to stderr, nothing to stdout", async () => {
    run = startRun(args("--listen", "127.0.0.1:0"), emulatorEnv(emu.url));
    await run.waitFor(cycleFinished, 20_000, "the first cycle");
    run.kill("SIGTERM");
    expect((await run.exited).code).toBe(0);
    expect(run.lines.filter((l) => l.msg === "cycle finished")).toHaveLength(1);
    expect(run.stdout()).toBe("");
  });

  it("--listen :PORT answers on IPv4 and IPv6 loopback alike (one dual-stack socket)", async (ctx) => {
    run = startRun(args("--listen", ":0"), emulatorEnv(emu.url));
    const url = await run.url();
    const port = Number(new URL(url).port);
    expect(port).toBeGreaterThan(0);
    expect((await get(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const v6 = await get(`http://[::1]:${port}/healthz`).catch((e: Error) => e);
    if (v6 instanceof Error && /EADDRNOTAVAIL|EAFNOSUPPORT|ENETUNREACH/.test(String((v6 as { cause?: { code?: string } }).cause?.code))) {
      ctx.skip(`no IPv6 loopback on this machine: ${(v6 as { cause?: { code?: string } }).cause?.code}`);
    }
    expect(v6).toMatchObject({ status: 200 });
  });

  it("an explicit host binds only that host", async () => {
    run = startRun(args("--listen", "127.0.0.1:0"), emulatorEnv(emu.url));
    const port = Number(new URL(await run.url()).port);
    expect((await get(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    await expect(fetch(`http://[::1]:${port}/healthz`)).rejects.toThrow();
  });

  it.each([":PORT", "127.0.0.1:PORT"])("--listen %s on a port in use: one line on stderr, exit 1", async (form) => {
    const port = await takenPort();
    const listen = form.replace("PORT", String(port));
    const r = await runCli(["run", ...args("--listen", listen)], { env: emulatorEnv(emu.url), timeoutMs: 15_000 });
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n").filter((l) => l.startsWith("rekon:"))).toEqual([`rekon: --listen ${listen}: address already in use`]);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe("a log reader that goes away", () => {
  it("stderr closed under a running controller: no EPIPE crash, cycles go on, SIGTERM still exits 0", async () => {
    const child = spawn(process.execPath, [BIN, "run", ...args("--listen", "127.0.0.1:0", "--interval", "500ms")], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...emulatorEnv(emu.url) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    const safety = setTimeout(() => child.kill("SIGKILL"), 40_000);
    try {
      // Read up to the listening line, then close our end of the pipe, as `rekon run 2>&1 | head -1` would.
      const url = await new Promise<string>((resolve, reject) => {
        let buf = "";
        child.stderr!.on("data", (d: Buffer) => {
          buf += d;
          const m = /"url":"([^"]+)"/.exec(buf);
          if (m) resolve(m[1]!);
        });
        child.on("exit", () => reject(new Error(`exited before listening: ${buf}`)));
      });
      child.stderr!.destroy();
      // Every cycle logs; with the pipe closed each of those writes fails. The loop must go on regardless.
      let ok = 0;
      const t0 = Date.now();
      while (ok < 3) {
        if (Date.now() - t0 > 20_000) throw new Error(`only ${ok} ok cycle(s) after the pipe closed`);
        ok = metric((await get(`${url}/metrics`)).body, 'rekon_reconcile_total{result="ok"}') ?? 0;
        await new Promise((r) => setTimeout(r, 100));
      }
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      clearTimeout(safety);
      child.kill("SIGKILL");
    }
  }, 45_000);
});
