// Raw, genuinely SigV4-signed HTTP to the emulator, for requests the SDK would refuse to send (bad input) and
// for reading answers byte for byte (output shapes, error bodies, headers).
import { SignatureV4 } from "@smithy/signature-v4";
import { createHash, createHmac } from "node:crypto";

export const CREDENTIALS = { accessKeyId: "AKIDCONFORMANCE", secretAccessKey: "conformance-secret" };

const bytes = (d: string | ArrayBuffer | ArrayBufferView): string | Uint8Array =>
  typeof d === "string" ? d : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

/** The checksum constructor SignatureV4 takes: SHA-256, or HMAC-SHA-256 when given a secret. */
class Sha256 {
  private readonly h;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}

export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: Record<string, unknown> | undefined;
}

async function send(url: string, service: string, region: string, headers: Record<string, string>, body: string, signingDate?: Date): Promise<RawAnswer> {
  const endpoint = new URL(url);
  const signer = new SignatureV4({ service, region, credentials: CREDENTIALS, sha256: Sha256 });
  const signed = await signer.sign(
    { method: "POST", protocol: endpoint.protocol, hostname: endpoint.hostname, port: Number(endpoint.port), path: "/", headers: { host: endpoint.host, ...headers }, body },
    signingDate ? { signingDate } : {},
  );
  const { host: _host, ...sendHeaders } = signed.headers as Record<string, string>;
  const res = await fetch(`${url}/`, { method: "POST", headers: sendHeaders, body });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** A Rekognition (AWS JSON 1.1) call with any body, signed for `region`. */
export function rekognitionCall(url: string, operation: string, body: unknown, opts: { region?: string; signingDate?: Date } = {}): Promise<RawAnswer> {
  return send(
    url,
    "rekognition",
    opts.region ?? "us-east-1",
    { "content-type": "application/x-amz-json-1.1", "x-amz-target": `RekognitionService.${operation}` },
    typeof body === "string" ? body : JSON.stringify(body),
    opts.signingDate,
  );
}

/** An STS (query protocol) call with form parameters, signed for `region`. */
export function stsCall(url: string, params: URLSearchParams, opts: { region?: string; signingDate?: Date } = {}): Promise<RawAnswer> {
  return send(url, "sts", opts.region ?? "us-east-1", { "content-type": "application/x-www-form-urlencoded; charset=utf-8" }, params.toString(), opts.signingDate);
}
