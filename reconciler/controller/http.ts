// /healthz, /readyz and /metrics on node:http. Health answers "is the loop alive", readiness answers "is
// what this instance reports trustworthy" (first cycle done, manifests valid). With a status board, also the
// read-only status page: GET / (HTML), GET /api/status (JSON) and the page's script, GET /status.js.
// Every path answers GET and HEAD only: nothing here changes anything, so any other method is 405.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { ConfigError } from "../errors.js";
import { renderStatusPage, STATUS_CSP, STATUS_SCRIPT } from "../render/status-page.js";
import type { StatusSnapshot } from "../types/status.js";

export interface Probe {
  ok: boolean;
  reason: string;
}

export interface HttpDeps {
  healthz(): Probe;
  readyz(): Probe;
  registry: Registry;
  /** The status page's data; without it, / and /api/status are 404. */
  status?: () => StatusSnapshot;
}

/** Headers of every status answer: never cached (it is a live view), never sniffed into another type, never framed. */
const NO_STORE = { "cache-control": "no-store", "x-content-type-options": "nosniff", "referrer-policy": "no-referrer" };

export interface ProbeServer {
  /** The address actually bound (port 0 picks a free one). */
  address: { host: string; port: number };
  close(): Promise<void>;
}

/** The --listen value as a person wrote it: ":8080" (every interface), "127.0.0.1:9090", "[::1]:9090". */
export function formatListen(listen: { host: string; port: number }): string {
  const host = listen.host.includes(":") ? `[${listen.host}]` : listen.host;
  return `${host}:${listen.port}`;
}

/** Words for the errors a bind can meet; anything else keeps its code. */
const BIND_ERRORS: Record<string, string> = {
  EADDRINUSE: "address already in use",
  EACCES: "permission denied (ports below 1024 need privileges; use e.g. :8080)",
  EADDRNOTAVAIL: "address not available on this machine",
  EAFNOSUPPORT: "address family not supported here (no IPv6?)",
};

/**
 * Listen on `listen`. An empty host means every interface, IPv6 and IPv4 alike: Node then binds `::`
 * with ipv6Only off (one dual-stack socket), or 0.0.0.0 where the kernel has no IPv6, so kubelet probes
 * and Prometheus reach the pod over whichever family the cluster uses. An explicit host binds only it.
 */
export async function startProbeServer(listen: { host: string; port: number }, deps: HttpDeps): Promise<ProbeServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/healthz" || path === "/readyz") {
      const p = path === "/healthz" ? deps.healthz() : deps.readyz();
      res.writeHead(p.ok ? 200 : 503, { "content-type": "text/plain; charset=utf-8" }).end(`${p.ok ? "ok" : "unavailable"}: ${p.reason}\n`);
      return;
    }
    if (path === "/metrics") {
      deps.registry.metrics().then(
        (body) => res.writeHead(200, { "content-type": deps.registry.contentType }).end(body),
        (err: Error) => res.writeHead(500, { "content-type": "text/plain" }).end(`metrics failed: ${err.message}\n`),
      );
      return;
    }
    if (deps.status && (path === "/" || path === "/api/status" || path === "/status.js")) {
      if (path === "/status.js") res.writeHead(200, { "content-type": "text/javascript; charset=utf-8", ...NO_STORE }).end(STATUS_SCRIPT);
      else if (path === "/api/status")
        res.writeHead(200, { "content-type": "application/json", ...NO_STORE }).end(JSON.stringify(deps.status(), null, 2) + "\n");
      else
        res
          .writeHead(200, { "content-type": "text/html; charset=utf-8", "content-security-policy": STATUS_CSP, "x-frame-options": "DENY", ...NO_STORE })
          .end(renderStatusPage(deps.status()));
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end(`not found: try ${deps.status ? "/ (status), /api/status, " : ""}/healthz, /readyz or /metrics\n`);
  });
  // Probes must not keep a stopping process alive.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException) => {
      // One line a person can act on (exit 1 from cli.ts), not a stack trace.
      const what = BIND_ERRORS[err.code ?? ""] ?? `${err.code ?? "error"}: ${err.message}`;
      reject(new ConfigError(`--listen ${formatListen(listen)}: ${what}`));
    };
    server.once("error", fail);
    const ready = () => {
      server.off("error", fail);
      resolve();
    };
    if (listen.host === "") server.listen({ port: listen.port, ipv6Only: false }, ready);
    else server.listen({ port: listen.port, host: listen.host, ipv6Only: false }, ready);
  });
  const a = server.address() as AddressInfo;
  return {
    address: { host: a.address, port: a.port },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
