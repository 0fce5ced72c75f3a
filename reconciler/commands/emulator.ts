// rekon emulator: the embedded Rekognition (and STS) endpoint, for rehearsals and tests.
import { UsageError } from "../errors.js";
import { EXIT, type Command } from "./spec.js";

export const emulator: Command = {
  name: "emulator",
  summary: "serve the embedded Rekognition emulator on 127.0.0.1 (rehearse without an AWS account)",
  usage: ["emulator [--state FILE] [--port N] [--fault OP:CODE[@ARN]]... [--deny OP[@ARN]]...", "         [--token-ttl D] [--clock-skew D]"],
  flags: {
    state: { type: "string", value: "FILE", help: "JSON inventory to serve (default: the demo inventory)" },
    port: { type: "string", value: "N", help: "port on 127.0.0.1 (default 4566; 0 picks a free one)" },
    fault: { type: "string", multiple: true, value: "OP:CODE[@ARN]", help: "answer OP with error CODE (only for requests naming ARN, a substring); repeatable; OP may be *" },
    deny: { type: "string", multiple: true, value: "OP[@ARN]", help: "answer OP with AccessDeniedException, as IAM would; repeatable" },
    "token-ttl": { type: "string", value: "D", help: "a NextToken older than D answers InvalidPaginationTokenException" },
    "clock-skew": { type: "string", value: "D", help: "its clock runs D ahead (--clock-skew=-D: behind); requests signed over 5 min off it are refused as AWS refuses them" },
  },
  exits: ["0 stopped by SIGINT/SIGTERM", "1 could not start"],
  async run({ flags, io }) {
    const port = flags.port === undefined ? 4566 : Number(flags.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError("--port must be a whole number from 0 to 65535");
    const { runEmulatorCommand } = await import("../emulator/main.js");
    const emu = await runEmulatorCommand(
      { state: flags.state as string | undefined, port, fault: flags.fault as string[] | undefined, deny: flags.deny as string[] | undefined, tokenTtl: flags["token-ttl"] as string | undefined, clockSkew: flags["clock-skew"] as string | undefined },
      io.stdout,
      (m) => new UsageError(m),
    );
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once("SIGINT", stop).once("SIGTERM", stop);
    });
    await emu.close();
    return EXIT.ok;
  },
};
