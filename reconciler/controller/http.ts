// /healthz, /readyz and /metrics on node:http. Health answers "is the loop alive", readiness answers "is
// what this instance reports trustworthy" (first cycle done, manifests valid).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface Probe {
  ok: boolean;
  reason: string;
}

export interface HttpDeps {
  healthz(): Probe;
  readyz(): Probe;
  registry: Registry;
}

export interface ProbeServer {
  /** The address actually bound (port 0 picks a free one). */
  address: { host: string; port: number };
  close(): Promise<void>;
}

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
    res.writeHead(404, { "content-type": "text/plain" }).end("not found: try /healthz, /readyz or /metrics\n");
  });
  // Probes must not keep a stopping process alive.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => {
      server.off("error", reject);
      resolve();
    });
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
