// A webhook receiver for the notification tests: a real node:http server on 127.0.0.1 that records every
// request (headers and raw body) and answers as the test says — 2xx, a status with headers (500, 429 with
// Retry-After), or not at all (stopped: connection refused, on the same port when started again).
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Ajv } from "ajv";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./run-cli.js";
import { firstMatch } from "./wait.js";

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The parsed body. */
  json: { deliveryId?: string; events?: NotificationEvent[]; blocks?: unknown[]; text?: string; [k: string]: unknown };
  status: number;
  at: number;
}

export interface NotificationEvent {
  event: string;
  deliveryId: string;
  versionArn?: string;
  versionName?: string;
  project?: string;
  owner?: string;
  set?: string;
  markedAt?: string;
  deletableAfter?: string;
  reasons: { rule: string; message: string }[];
  [k: string]: unknown;
}

export type Answer = { status: number; headers?: Record<string, string> };

export interface Receiver {
  /** The base URL; tests give channels `${url}/hook/<secret-looking path>`. */
  url: string;
  requests: Received[];
  /** Every event of every request answered 2xx, in order. */
  delivered(): NotificationEvent[];
  /** How to answer the n-th request (0-based, counting every request), given its path and raw body; default 200. */
  answer(fn: (n: number, path: string, body: string) => Answer): void;
  /** Resolves with the first request (already received or future) matching; rejects after the bound. */
  waitFor(pred: (r: Received) => boolean, timeoutMs?: number, what?: string): Promise<Received>;
  /** Stop listening (connections are refused) / listen again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const requests: Received[] = [];
  let answer: (n: number, path: string, body: string) => Answer = () => ({ status: 200 });
  const waiters = new Set<() => void>();
  let server: Server | undefined;
  let port = 0;
  const listen = async () => {
    server = createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (d: string) => (body += d));
      req.on("end", () => {
        const a = answer(requests.length, req.url ?? "", body);
        let json: Received["json"] = {};
        try {
          json = JSON.parse(body) as Received["json"];
        } catch {
          json = {};
        }
        requests.push({ path: req.url ?? "", headers: req.headers, body, json, status: a.status, at: Date.now() });
        res.writeHead(a.status, { "content-type": "text/plain", ...a.headers }).end(a.status < 300 ? "ok" : "no");
        for (const w of waiters) w();
      });
    });
    await new Promise<void>((r) => server!.listen(port, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  };
  const stop = () =>
    new Promise<void>((r) => {
      if (!server) return r();
      server.close(() => r());
      server.closeAllConnections();
      server = undefined;
    });
  await listen();
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    delivered: () => requests.filter((r) => r.status < 300).flatMap((r) => r.json.events ?? []),
    answer: (fn) => void (answer = fn),
    waitFor: (pred, timeoutMs = 20_000, what = "a matching request") =>
      firstMatch(requests, waiters, pred, timeoutMs, () => `${what}; received ${requests.length} request(s): ${requests.map((r) => `${r.status} ${r.headers["x-rekon-event"]}`).join(", ")}`),
    stop,
    start: listen,
    close: stop,
  };
}

/** Whether X-Rekon-Signature is GitHub's `sha256=` + hex HMAC-SHA256 of the raw body under `secret`. */
export function signedWith(r: Received, secret: string): boolean {
  const got = String(r.headers["x-rekon-signature"] ?? "");
  const want = `sha256=${createHmac("sha256", secret).update(r.body).digest("hex")}`;
  return got.length === want.length && timingSafeEqual(Buffer.from(got), Buffer.from(want));
}

let validator: ReturnType<Ajv["compile"]> | undefined;
/** The payload schema's verdict on a JSON body: [] when valid, else ajv's errors as text. */
export function schemaErrors(body: unknown): string[] {
  validator ??= new Ajv({ allErrors: true }).compile(JSON.parse(readFileSync(join(ROOT, "schemas/notification.schema.json"), "utf8")));
  return validator(body) ? [] : (validator.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}
