// `rekon emulator`'s fault flags: parsed in reconciler/emulator/main.ts, and honoured by the built binary.
import { DeleteProjectVersionCommand, DescribeProjectsCommand, RekognitionClient } from "@aws-sdk/client-rekognition";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { DEMO_ACCOUNT } from "../../reconciler/emulator/demo.js";
import { parseDenyFlag, parseFaultFlag, runEmulatorCommand } from "../../reconciler/emulator/main.js";
import { FAKE_CREDENTIALS } from "./env.js";

const BIN = fileURLToPath(new URL("../../dist/reconciler/bin.js", import.meta.url));

describe("flag parsing", () => {
  it("OP:CODE[@ARN] and OP[@ARN] become rules", () => {
    expect(parseFaultFlag("DeleteProjectVersion:ThrottlingException")).toEqual({ operation: "DeleteProjectVersion", code: "ThrottlingException" });
    expect(parseFaultFlag("*:InternalServerError@arn:aws:rekognition:us-east-1:1:project/x/")).toEqual({
      operation: "*",
      code: "InternalServerError",
      arn: "arn:aws:rekognition:us-east-1:1:project/x/",
    });
    expect(parseDenyFlag("TagResource@/version/v3/")).toEqual({ operation: "TagResource", code: "AccessDeniedException", arn: "/version/v3/" });
    expect(parseDenyFlag("AssumeRole")).toEqual({ operation: "AssumeRole", code: "AccessDeniedException" });
  });

  it.each([
    ["fault", "DeleteProjectVersion", /expected OP:CODE\[@ARN_SUBSTRING\]/],
    ["fault", "DeleteVersion:ThrottlingException", /unknown operation "DeleteVersion"/],
    ["fault", "DescribeProjects:not-a-code", /"not-a-code" is not an AWS error code/],
    ["fault", "DescribeProjects:ThrottlingException@", /nothing after "@"/],
    ["deny", "Nope@x", /unknown operation "Nope"/],
    ["tokenTtl", "soon", /--token-ttl soon: not a duration like 500ms, 30s, 5m, 1h30m$/],
    ["clockSkew", "5x", /--clock-skew 5x: not a duration like .* \(or -5m\)$/],
  ])("--%s %s is refused before anything listens", async (kind, text, message) => {
    const out = new PassThrough();
    const value = kind === "fault" || kind === "deny" ? [text] : text;
    const err = await runEmulatorCommand({ port: 0, [kind]: value }, out, (m) => new RangeError(m)).catch((e: Error) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect((err as Error).message).toMatch(message);
    expect(out.read()).toBeNull();
  });
});

describe.skipIf(!existsSync(BIN))("the built binary", () => {
  it("rekon emulator --deny, --fault, --token-ttl, --clock-skew: answers as told; a bad flag exits 1 naming it", async () => {
    const child = spawn(
      process.execPath,
      // --token-ttl and --clock-skew must be accepted by the CLI (a minute of skew is within AWS's 5).
      [BIN, "emulator", "--port", "0", "--deny", "DeleteProjectVersion@/version/v5/", "--fault", "DescribeProjects:ThrottlingException", "--token-ttl", "1m", "--clock-skew=-1m"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const first = await new Promise<string>((resolve, reject) => {
        let buf = "";
        const t = setTimeout(() => reject(new Error(`no listening line within 15 s; got ${JSON.stringify(buf)}`)), 15_000);
        child.stdout.on("data", (d) => {
          buf += d;
          if (buf.includes("\n")) {
            clearTimeout(t);
            resolve(buf.split("\n")[0]!);
          }
        });
      });
      const url = first.replace("listening on ", "");
      const client = new RekognitionClient({ region: "us-east-1", endpoint: url, credentials: FAKE_CREDENTIALS, maxAttempts: 1 });
      try {
        const v5 = (await fetch(`${url}/_emulator/state`).then((r) => r.json())) as { projects: { name: string; createdAt: string; versions: { name: string; createdAt: string }[] }[] };
        const shelf = v5.projects.find((p) => p.name === "shelf-scanner")!;
        const created = Date.parse(shelf.versions.find((v) => v.name === "v5")!.createdAt);
        const arn = `arn:aws:rekognition:us-east-1:${DEMO_ACCOUNT}:project/shelf-scanner/version/v5/${created}`;
        const denied = await client.send(new DeleteProjectVersionCommand({ ProjectVersionArn: arn })).catch((e: Error) => e);
        expect(denied).toMatchObject({ name: "AccessDeniedException" });
        expect((denied as Error).message).toContain(`rekognition:DeleteProjectVersion on resource: ${arn}`);
        const throttled = await client.send(new DescribeProjectsCommand({})).catch((e: Error) => e);
        expect(throttled).toMatchObject({ name: "ThrottlingException" });
      } finally {
        client.destroy();
      }
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }

    const bad = spawn(process.execPath, [BIN, "emulator", "--port", "0", "--fault", "Delete:Nope"], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    bad.stderr.on("data", (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => bad.on("exit", (c) => resolve(c)));
    expect(code).toBe(1);
    expect(stderr).toContain('rekon: --fault Delete:Nope: unknown operation "Delete"');
  }, 30_000);
});
