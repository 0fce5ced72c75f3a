// HTTP for the emulator: the listening socket, bodies, SigV4 credential scopes, and AWS JSON 1.1 answers.

import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ApiError } from "./errors.js";

export const JSON_11 = "application/x-amz-json-1.1";
export const TARGET_PREFIX = "RekognitionService.";
const MAX_BODY_BYTES = 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ApiError("SerializationException", "Request body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** A JSON object body, or undefined when the text is not one. Empty text is `{}`, as AWS accepts. */
export function parseJsonObject(raw: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = raw.trim() === "" ? {} : JSON.parse(raw);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export interface Auth {
  accessKey: string;
  /** The credential scope's date, YYYYMMDD. */
  date: string;
  region: string;
  service: string;
}

// SigV4 is not verified (no secrets here), but its presence is, and the region comes from the credential
// scope exactly as AWS routes it: each region is its own world.
export function parseAuth(header: string | undefined): Auth | "missing" | "malformed" {
  if (typeof header !== "string" || !header.startsWith("AWS4-HMAC-SHA256")) return "missing";
  const scope = /Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request/.exec(header);
  if (!scope) return "malformed";
  return { accessKey: scope[1] ?? "", date: scope[2] ?? "", region: scope[3] ?? "", service: scope[4] ?? "" };
}

const BASIC_ISO = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const basic = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");

/** Epoch ms of the request's signing time (X-Amz-Date, else Date), or undefined when it has none that parses. */
export function signingTime(headers: IncomingMessage["headers"]): number | undefined {
  const amz = headers["x-amz-date"];
  if (typeof amz === "string") {
    const m = BASIC_ISO.exec(amz);
    return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) : undefined;
  }
  const date = typeof headers.date === "string" ? Date.parse(headers.date) : Number.NaN;
  return Number.isNaN(date) ? undefined : date;
}

/**
 * Why a signature dated `signedAt` is refused by a server whose clock reads `now`, in the words AWS uses
 * ("Signature expired: ... is now earlier than ... (... - 5 min.)"); undefined while within `windowMs`.
 */
export function signatureDateProblem(signedAt: number, now: number, windowMs: number): string | undefined {
  const minutes = Math.round(windowMs / 60_000);
  if (signedAt < now - windowMs) return `Signature expired: ${basic(signedAt)} is now earlier than ${basic(now - windowMs)} (${basic(now)} - ${minutes} min.)`;
  if (signedAt > now + windowMs)
    return `Signature not yet current: ${basic(signedAt)} is still later than ${basic(now + windowMs)} (${basic(now)} + ${minutes} min.)`;
  return undefined;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, contentType = JSON_11, requestId: string = randomUUID()): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": contentType,
    "Content-Length": Buffer.byteLength(text),
    "x-amzn-RequestId": requestId,
  });
  res.end(text);
}

export function sendAwsJsonError(res: ServerResponse, err: ApiError, requestId: string): void {
  // Rekognition error bodies carry Code and Logref as well as Message; __type is what clients key on. Errors
  // from AWS's front door (signature, authentication) come before Rekognition and carry only a lowercase message.
  const body = err.frontDoor ? { __type: err.code, message: err.message } : { __type: err.code, Code: err.code, Message: err.message, Logref: randomUUID() };
  sendJson(res, err.status, body, JSON_11, requestId);
}

export function isLoopback(req: IncomingMessage): boolean {
  const remote = req.socket.remoteAddress ?? "";
  return remote === "127.0.0.1" || remote === "::1" || remote.startsWith("::ffff:127.");
}

export interface Listening {
  url: string;
  port: number;
  /** Idempotent. */
  close(): Promise<void>;
}

/** Serves `handle` on host:port (0: any free port); a handler that throws answers a bare 500. */
export async function listen(host: string, port: number, handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<Listening> {
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${actual}`,
    port: actual,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets from SDK agents would otherwise hold close() open for seconds.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
