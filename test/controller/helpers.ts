// Helpers for the controller suites: the real `rekon run` process with its JSON log lines, a small
// in-test Lease endpoint (coordination.k8s.io/v1) with resourceVersion conflicts, and a kubeconfig for it.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import { BIN, ROOT } from "../helpers/run-cli.js";
import { firstMatch } from "../helpers/wait.js";

export interface LogLine {
  level: number;
  time: number;
  msg: string;
  [k: string]: unknown;
}

export interface RunProcess {
  child: ChildProcess;
  lines: LogLine[];
  stdout(): string;
  stderr(): string;
  /** Resolves with the first line (already seen or future) matching; rejects after timeoutMs. */
  waitFor(pred: (l: LogLine) => boolean, timeoutMs?: number, what?: string): Promise<LogLine>;
  /** Base URL of /healthz etc., from the "listening" line. */
  url(): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  kill(sig?: NodeJS.Signals): void;
}

export function startRun(args: string[], env: Record<string, string>, opts: { maxLifetimeMs?: number } = {}): RunProcess {
  const child = spawn(process.execPath, [BIN, "run", ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: LogLine[] = [];
  let out = "";
  let err = "";
  let partial = "";
  const waiters = new Set<() => void>();
  // The controller logs to stderr (JSON lines); stdout is kept for anything else it prints.
  child.stdout!.on("data", (d: Buffer) => (out += d));
  child.stderr!.on("data", (d: Buffer) => {
    err += d;
    partial += d;
    const parts = partial.split("\n");
    partial = parts.pop()!;
    for (const p of parts) {
      try {
        lines.push(JSON.parse(p) as LogLine);
      } catch {
        lines.push({ level: 0, time: Date.now(), msg: `non-JSON stderr: ${p}` });
      }
    }
    for (const w of waiters) w();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  // Never outlive the test file.
  const safety = setTimeout(() => child.kill("SIGKILL"), opts.maxLifetimeMs ?? 120_000);
  void exited.then(() => clearTimeout(safety));

  const waitFor = (pred: (l: LogLine) => boolean, timeoutMs = 15_000, what = "a matching log line") =>
    firstMatch(lines, waiters, pred, timeoutMs, () => `${what}; last lines:\n${err.split("\n").slice(-8).join("\n")}\nstdout: ${out}`);

  return {
    child,
    lines,
    stdout: () => out,
    stderr: () => err,
    waitFor,
    url: async () => String((await waitFor((l) => typeof l.url === "string" && l.msg.startsWith("rekon run: listening"), 15_000, "the listening line")).url),
    exited,
    kill: (sig = "SIGTERM") => void child.kill(sig),
  };
}

export const cycleFinished = (l: LogLine) => l.msg === "cycle finished";

export async function get(url: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text() };
}

/** The value of one sample in Prometheus text format, e.g. metric(body, 'rekon_versions{project="p",account="123456789012",region="us-east-1",action="delete"}'). */
export function metric(body: string, sample: string): number | undefined {
  const line = body.split("\n").find((l) => l.startsWith(sample + " "));
  return line === undefined ? undefined : Number(line.slice(sample.length + 1));
}

// ---------- a Lease endpoint ----------

export interface LeaseRecord {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion: string };
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; acquireTime?: string; renewTime?: string; leaseTransitions?: number };
}

export interface LeaseServer {
  url: string;
  /** Every change of holder, as the server saw it. */
  history: { holder: string; at: number }[];
  lease(): LeaseRecord | undefined;
  /** Write the lease as another holder would (a forced takeover). */
  steal(holder: string): void;
  /** Answer every request with 500 (an API server outage). */
  setDown(down: boolean): void;
  requests: number;
  close(): Promise<void>;
}

export async function startLeaseServer(namespace = "rekon-test", name = "rekon"): Promise<LeaseServer> {
  let lease: LeaseRecord | undefined;
  let rv = 0;
  let down = false;
  const history: { holder: string; at: number }[] = [];
  const base = `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`;
  const status = (code: number, reason: string) => JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", reason, code });
  const store = (l: LeaseRecord) => {
    const before = lease?.spec.holderIdentity ?? "";
    rv++;
    lease = { ...l, apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { ...l.metadata, name, namespace, resourceVersion: String(rv) } };
    const after = lease.spec.holderIdentity ?? "";
    if (after !== before) history.push({ holder: after, at: Date.now() });
  };
  const srv = {
    requests: 0,
  };
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      srv.requests++;
      const send = (code: number, json: string) => res.writeHead(code, { "content-type": "application/json" }).end(json);
      if (down) return send(500, status(500, "InternalError"));
      const url = (req.url ?? "").split("?")[0];
      if (req.method === "POST" && url === base) {
        if (lease) return send(409, status(409, "AlreadyExists"));
        store(JSON.parse(body) as LeaseRecord);
        return send(201, JSON.stringify(lease));
      }
      if (url !== `${base}/${name}`) return send(404, status(404, "NotFound"));
      if (req.method === "GET") return lease ? send(200, JSON.stringify(lease)) : send(404, status(404, "NotFound"));
      if (req.method === "PUT") {
        if (!lease) return send(404, status(404, "NotFound"));
        const next = JSON.parse(body) as LeaseRecord;
        // Optimistic concurrency, as the API server does it: a write based on an old read is refused.
        if (next.metadata?.resourceVersion !== lease.metadata.resourceVersion) return send(409, status(409, "Conflict"));
        store(next);
        return send(200, JSON.stringify(lease));
      }
      return send(405, status(405, "MethodNotAllowed"));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    history,
    lease: () => lease,
    steal(holder) {
      const now = new Date().toISOString();
      store({
        ...(lease ?? { apiVersion: "", kind: "", metadata: { name, namespace, resourceVersion: "" }, spec: {} }),
        spec: { ...lease?.spec, holderIdentity: holder, renewTime: now, acquireTime: now, leaseDurationSeconds: 60 },
      });
    },
    setDown: (d) => void (down = d),
    get requests() {
      return srv.requests;
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

export function writeKubeconfig(file: string, serverUrl: string, token = "kube-test-token-do-not-log"): void {
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: ${serverUrl}
    # Plain HTTP on loopback; @kubernetes/client-node refuses http:// unless told to skip TLS checks.
    insecure-skip-tls-verify: true
users:
- name: rekon
  user:
    token: ${token}
contexts:
- name: test
  context: {cluster: test, user: rekon}
current-context: test
`,
  );
}

/**
 * The set-up most controller suites share: an emulator with the demo inventory, a temporary folder with a
 * copy of the demo's manifests (unless `manifests: false`) and of deploy/policy.yaml (with `policyExtra`
 * appended under `spec:`, or none with `policy: false`).
 */
export async function controllerFixture(
  name: string,
  o: { emulator?: Parameters<typeof startEmulator>[0]; manifests?: boolean; policy?: boolean; policyExtra?: string } = {},
): Promise<{ emu: Emulator; dir: string }> {
  const emu = await startEmulator(o.emulator ?? {});
  const dir = mkdtempSync(join(tmpdir(), `rekon-${name}-`));
  if (o.manifests !== false) cpSync(join(ROOT, "manifests"), join(dir, "manifests"), { recursive: true });
  if (o.policy !== false) writeFileSync(join(dir, "policy.yaml"), readFileSync(join(ROOT, "deploy/policy.yaml"), "utf8") + (o.policyExtra ?? ""));
  return { emu, dir };
}

/** Its tear-down: the controller killed and reaped, the emulator closed, the folder removed. */
export async function controllerTeardown(run: RunProcess | undefined, emu: Emulator | undefined, dir: string | undefined): Promise<void> {
  run?.kill("SIGKILL");
  await run?.exited;
  await emu?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
