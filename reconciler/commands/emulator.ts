// rekon emulator: the embedded Rekognition (and STS) endpoint, for rehearsals and tests.
import { ConfigError, UsageError } from "../errors.js";
import { EXIT, type Command } from "./spec.js";

export const emulator: Command = {
  name: "emulator",
  summary: "serve the embedded Rekognition emulator on 127.0.0.1 (rehearse without an AWS account)",
  usage: [
    "emulator [--state FILE] [--port N] [--fault OP:CODE[@ARN]]... [--deny OP[@ARN]]...",
    "         [--token-ttl D] [--clock-skew D] [--latency D[-D]] [--throttle-rate [OP=]P]... [--error-rate [OP=]P]...",
    "         [--rate-limit OP=N]... [--seed N]",
  ],
  flags: {
    state: { type: "string", value: "FILE", help: "JSON inventory to serve (default: the demo inventory)" },
    port: { type: "string", value: "N", help: "port on 127.0.0.1 (default 4566; 0 picks a free one)" },
    fault: {
      type: "string",
      multiple: true,
      value: "OP:CODE[@ARN]",
      help: "answer OP with error CODE (only for requests naming ARN, a substring); repeatable; OP may be *",
    },
    deny: { type: "string", multiple: true, value: "OP[@ARN]", help: "answer OP with AccessDeniedException, as IAM would; repeatable" },
    "token-ttl": { type: "string", value: "D", help: "a NextToken older than D answers InvalidPaginationTokenException" },
    "clock-skew": {
      type: "string",
      value: "D",
      help: "its clock runs D ahead (--clock-skew=-D: behind); requests signed over 5 min off it are refused as AWS refuses them",
    },
    latency: { type: "string", value: "D[-D]", help: "hold every answer this long (50ms), or a time drawn from the range (50ms-200ms)" },
    "throttle-rate": {
      type: "string",
      multiple: true,
      value: "[OP=]P",
      help: "answer ThrottlingException with probability P (0..1) to OP, or to every operation; repeatable",
    },
    "error-rate": {
      type: "string",
      multiple: true,
      value: "[OP=]P",
      help: "answer InternalServerError (HTTP 500) with probability P to OP, or to every operation; repeatable",
    },
    "rate-limit": {
      type: "string",
      multiple: true,
      value: "OP=N",
      help: "over N requests a second to OP answer ThrottlingException, as a quota does; repeatable",
    },
    seed: { type: "string", value: "N", help: "draw the probabilities and latencies from a generator seeded with N (repeatable runs)" },
  },
  exits: ["0 stopped by SIGINT/SIGTERM", "1 could not start"],
  async run({ flags, io }) {
    const port = flags.port === undefined ? 4566 : Number(flags.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError("--port must be a whole number from 0 to 65535");
    const { runEmulatorCommand } = await import("../emulator/main.js");
    const str = (name: string) => flags[name] as string | undefined;
    const list = (name: string) => flags[name] as string[] | undefined;
    const emu = await runEmulatorCommand(
      {
        state: str("state"),
        port,
        fault: list("fault"),
        deny: list("deny"),
        tokenTtl: str("token-ttl"),
        clockSkew: str("clock-skew"),
        latency: str("latency"),
        throttleRate: list("throttle-rate"),
        errorRate: list("error-rate"),
        rateLimit: list("rate-limit"),
        seed: str("seed"),
      },
      io.stdout,
      (m) => new UsageError(m),
      (m) => new ConfigError(m),
    );
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once("SIGINT", stop).once("SIGTERM", stop);
    });
    await emu.close();
    return EXIT.ok;
  },
};
