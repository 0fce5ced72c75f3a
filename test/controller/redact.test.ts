// Secrets never reach the controller's log: not under known keys, not deep inside an error a library
// threw, not quoted inside a message. Checked on the real pino logger the controller uses.
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { clean, redactingLogger, redactingStream, redactLine, REDACTED } from "../../reconciler/controller/redact.js";

const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const SESSION = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN0123456789";
const BEARER = "eyJhbGciOiJSUzI1NiIsImtpZCI6IkVYQU1QTEUifQ.payload.sig";
const SIGNATURE = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024";

function capture(env: NodeJS.ProcessEnv) {
  let out = "";
  const sink = new Writable({
    write(chunk, _enc, cb) {
      out += chunk;
      cb();
    },
  });
  const log = redactingLogger("debug", sink, env);
  return { log, out: () => out };
}

describe("controller log redaction", () => {
  const env = { AWS_SECRET_ACCESS_KEY: SECRET, AWS_SESSION_TOKEN: SESSION, AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE" };

  it("an error object carrying a signed request, credentials and a bearer header logs none of them", () => {
    const { log, out } = capture(env);
    const err = Object.assign(new Error(`request failed for key ${SECRET}`), {
      name: "UnrecognizedClientException",
      $metadata: { httpStatusCode: 403, requestId: "req-123" },
      $request: {
        headers: {
          Authorization: `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261128/us-east-1/rekognition/aws4_request, SignedHeaders=host, Signature=${SIGNATURE}`,
          "X-Amz-Security-Token": SESSION,
        },
      },
      config: { credentials: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: SECRET, sessionToken: SESSION } },
      response: { headers: { authorization: `Bearer ${BEARER}` }, body: { token: BEARER } },
    });
    log
      .child({ cycleId: "c1" })
      .child({ versionArn: "arn:v" })
      .error({ err, env: { ...env } }, "call failed");
    log.info(`retrying with Authorization: Bearer ${BEARER} and signature Signature=${SIGNATURE}`);
    const text = out();
    for (const s of [SECRET, SESSION, BEARER, SIGNATURE, "AKIAIOSFODNN7EXAMPLE"]) expect(text).not.toContain(s);
    // What a person needs to act is still there.
    const first = JSON.parse(text.split("\n")[0]!);
    expect(first).toMatchObject({ cycleId: "c1", versionArn: "arn:v", msg: "call failed", err: { type: "Error", $metadata: { requestId: "req-123" } } });
    expect(first.err.message).toBe(`request failed for key ${REDACTED}`);
    expect(first.err.$request.headers.Authorization).toBe(REDACTED);
    expect(first.err.config.credentials).toBe(REDACTED);
  });

  it("short or absent credentials are not used as patterns (they would mangle every line)", () => {
    expect(redactLine(JSON.stringify({ msg: "x marks the spot" }), [])).toBe('{"msg":"x marks the spot"}');
    const { log, out } = capture({ AWS_SECRET_ACCESS_KEY: "x" });
    log.info("x marks the spot");
    expect(JSON.parse(out()).msg).toBe("x marks the spot");
  });

  it("non-JSON text is still scrubbed", () => {
    expect(redactLine(`oops ${SECRET} Bearer ${BEARER}`, [SECRET])).toBe(`oops ${REDACTED} Bearer ${REDACTED}`);
  });
});

describe("notification secrets join the redacted values once read", () => {
  it("a URL or signing key added to the set after the logger was made is redacted from every later line", () => {
    const extra = new Set<string>();
    let out = "";
    const log = redactingLogger("debug", new Writable({ write: (c, _e, cb) => ((out += c), cb()) }), {}, extra);
    const url = "https://hooks.slack.com/services/T000/B000/XXXXTOKEN";
    log.info(`before: ${url}`);
    extra.add(url);
    extra.add("hmac-secret-value");
    log.warn({ err: { message: `POST ${url} failed`, headers: { "x-sig": "hmac-secret-value" } } }, "quoted by a library");
    const [before, after] = out
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(before.msg).toContain(url); // not yet known: the redaction is of values rekon was given
    expect(JSON.stringify(after)).not.toContain("XXXXTOKEN");
    expect(JSON.stringify(after)).not.toContain("hmac-secret-value");
    expect(after.err.message).toBe(`POST ${REDACTED} failed`);
  });
});

describe("lines that cannot hold a secret are written as they are", () => {
  const write = (lines: string[], secrets: NodeJS.ProcessEnv = {}) => {
    let out = "";
    const stream = redactingStream(new Writable({ write: (c, _e, cb) => ((out += c), cb()) }), secrets);
    for (const l of lines) stream.write(l + "\n");
    return out.trim().split("\n");
  };

  it("a plain line passes byte for byte (not parsed and re-serialised); the same line with a secret key does not", () => {
    const plain = '{"level":30,"versionArn":"arn:aws:rekognition:us-east-1:1:project/p/version/v1/1","reasons":[],"n":1.50,"msg":"planned"}';
    expect(clean(plain, [])).toBe(true);
    // 1.50 would come back as 1.5 from JSON.parse and JSON.stringify: the line was not rewritten.
    expect(write([plain])).toEqual([plain]);
    expect(write(['{"msg":"x","Credentials":{"a":1}}'])).toEqual([`{"msg":"x","Credentials":"${REDACTED}"}`]);
  });

  it("a key or a secret spelled with a JSON escape is still found (the line is parsed)", () => {
    // "to\u006ben" is the key "token" once parsed; "S\u0045CRET..." is the secret key's value.
    const escapedKey = '{"msg":"x","to\\u006ben":"abcdefgh"}';
    const escapedSecret = '{"msg":"key S\\u0045CRETVALUE1 here"}';
    expect(clean(escapedKey, [])).toBe(false);
    expect(write([escapedKey, escapedSecret], { AWS_SECRET_ACCESS_KEY: "SECRETVALUE1" })).toEqual([
      `{"msg":"x","token":"${REDACTED}"}`,
      `{"msg":"key ${REDACTED} here"}`,
    ]);
  });

  it("a secret value, a bearer token or a signature in any case sends the line to the full check", () => {
    expect(clean('{"msg":"has SECRETVALUE1"}', ["SECRETVALUE1"])).toBe(false);
    expect(clean('{"msg":"bearer abc"}', [])).toBe(false);
    expect(clean('{"msg":"SIGNATURE=ab"}', [])).toBe(false);
  });
});
