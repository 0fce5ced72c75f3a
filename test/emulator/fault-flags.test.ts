// The random faults from the command line: `rekon emulator --latency, --throttle-rate, --error-rate,
// --rate-limit, --seed` set what only `PUT /_emulator/faults` could set before, and the emulator answers
// accordingly through the real SDK. Bad values are refused, naming the flag, before anything listens.
import { DescribeProjectsCommand, RekognitionClient } from "@aws-sdk/client-rekognition";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseRandomFaults, runEmulatorCommand, type EmulatorCommandArgs } from "../../reconciler/emulator/main.js";
import type { Emulator } from "../../reconciler/emulator/server.js";
import { FAKE_CREDENTIALS } from "./env.js";

const BIN = fileURLToPath(new URL("../../dist/reconciler/bin.js", import.meta.url));

describe("parsing", () => {
  it("turns the flags into the fault config PUT /_emulator/faults takes", () => {
    expect(parseRandomFaults({ latency: "50ms-200ms", throttleRate: ["0.1", "DeleteProjectVersion=0.5"], errorRate: ["DescribeProjects=1"], rateLimit: ["DescribeProjectVersions=5"], seed: "42" })).toEqual({
      latencyMs: { min: 50, max: 200 },
      throttleRate: { "*": 0.1, DeleteProjectVersion: 0.5 },
      errorRate: { DescribeProjects: 1 },
      rateLimits: { DescribeProjectVersions: 5 },
      seed: 42,
    });
    expect(parseRandomFaults({ latency: "1s" })).toEqual({ latencyMs: { min: 1000, max: 1000 } });
    expect(parseRandomFaults({})).toBeUndefined();
  });

  it.each<[Partial<EmulatorCommandArgs>, RegExp]>([
    [{ throttleRate: ["2"] }, /^--throttle-rate 2: a probability is from 0 to 1/],
    [{ errorRate: ["Nope=0.1"] }, /^--error-rate Nope=0.1: unknown operation "Nope"/],
    [{ rateLimit: ["5"] }, /^--rate-limit 5: expected OP=N/],
    [{ rateLimit: ["DescribeProjects=fast"] }, /^--rate-limit DescribeProjects=fast: "fast" is not a number/],
    [{ latency: "200ms-50ms" }, /^--latency 200ms-50ms: the range must go from the shorter time to the longer/],
    [{ latency: "soon" }, /^--latency soon: not a duration/],
    [{ seed: "x" }, /^--seed x: must be a whole number/],
  ])("%o is refused before anything listens", async (args, message) => {
    const out = new PassThrough();
    const err = await runEmulatorCommand({ port: 0, ...args }, out, (m) => new RangeError(m)).catch((e: Error) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect((err as Error).message).toMatch(message);
    expect(out.read()).toBeNull();
  });
});

describe("honoured through the real SDK", () => {
  async function withEmulator(args: Partial<EmulatorCommandArgs>, fn: (client: RekognitionClient, emu: Emulator) => Promise<void>) {
    const emu = await runEmulatorCommand({ port: 0, ...args }, new PassThrough());
    const client = new RekognitionClient({ region: "us-east-1", endpoint: emu.url, credentials: FAKE_CREDENTIALS, maxAttempts: 1 });
    try {
      await fn(client, emu);
    } finally {
      client.destroy();
      await emu.close();
    }
  }
  const describeProjects = (c: RekognitionClient) => c.send(new DescribeProjectsCommand({})).then(() => "ok", (e: Error) => e.name);

  it("--throttle-rate OP=1 throttles that operation; --error-rate 1 answers 500 to all", async () => {
    await withEmulator({ throttleRate: ["DescribeProjects=1"] }, async (c) => expect(await describeProjects(c)).toBe("ThrottlingException"));
    await withEmulator({ errorRate: ["1"] }, async (c) => expect(await describeProjects(c)).toBe("InternalServerError"));
    await withEmulator({ throttleRate: ["DeleteProjectVersion=1"] }, async (c) => expect(await describeProjects(c)).toBe("ok"));
  });

  it("--latency holds each answer; --rate-limit throttles a burst over the rate; --seed makes the draws repeat", async () => {
    await withEmulator({ latency: "300ms" }, async (c) => {
      const t0 = performance.now();
      expect(await describeProjects(c)).toBe("ok");
      expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    });
    await withEmulator({ rateLimit: ["DescribeProjects=1"] }, async (c) => {
      const answers = await Promise.all([1, 2, 3, 4].map(() => describeProjects(c)));
      expect(answers.filter((a) => a === "ThrottlingException").length).toBeGreaterThanOrEqual(2);
      expect(answers).toContain("ok");
    });
    const draws = async () => {
      const seen: string[] = [];
      await withEmulator({ throttleRate: ["0.5"], seed: "7" }, async (c) => {
        for (let i = 0; i < 12; i++) seen.push(await describeProjects(c));
      });
      return seen;
    };
    const first = await draws();
    expect(new Set(first)).toEqual(new Set(["ok", "ThrottlingException"]));
    expect(await draws()).toEqual(first);
  });
});

describe.skipIf(!existsSync(BIN))("the built binary", () => {
  it("rekon emulator --error-rate 1 --latency 10ms-20ms --seed 3 --throttle-rate TagResource=0.5 --rate-limit DescribeProjects=100: the CLI takes them and the emulator answers 500", async () => {
    const child = spawn(process.execPath, [BIN, "emulator", "--port", "0", "--error-rate", "1", "--latency", "10ms-20ms", "--seed", "3", "--throttle-rate", "TagResource=0.5", "--rate-limit", "DescribeProjects=100"], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let buf = "";
        const t = setTimeout(() => reject(new Error(`no listening line within 15 s; got ${JSON.stringify(buf)}`)), 15_000);
        child.stdout.on("data", (d) => {
          buf += d;
          const m = /^listening on (\S+)/m.exec(buf);
          if (m) {
            clearTimeout(t);
            resolve(m[1]!);
          }
        });
      });
      const client = new RekognitionClient({ region: "us-east-1", endpoint: url, credentials: FAKE_CREDENTIALS, maxAttempts: 1 });
      try {
        expect(await client.send(new DescribeProjectsCommand({})).then(() => "ok", (e: Error) => e.name)).toBe("InternalServerError");
      } finally {
        client.destroy();
      }
    } finally {
      child.kill("SIGKILL");
    }
  }, 30_000);
});
