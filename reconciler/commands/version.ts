// rekon version (and rekon --version): which build this is, the package version and the Git revision
// dist/ was built from (or REKON_REVISION), so a bug report or an audit record can name the exact code.
import { EXIT, type Command } from "./spec.js";

export const version: Command = {
  name: "version",
  summary: "print rekon's version and the Git revision it was built from (also rekon --version)",
  usage: ["version  [--output text|json]", "--version"],
  flags: {
    output: { type: "string", value: "FORMAT", help: "text (default): rekon VERSION (REVISION); json: {version, revision}" },
  },
  outputs: ["text", "json"],
  exits: ["0 printed"],
  async run({ io, output }) {
    const { buildInfo } = await import("../controller/buildinfo.js");
    const b = buildInfo(io.env);
    io.stdout.write(output === "json" ? JSON.stringify(b) + "\n" : `rekon ${b.version} (${b.revision === "unknown" ? "revision unknown" : b.revision})\n`);
    return EXIT.ok;
  },
};
