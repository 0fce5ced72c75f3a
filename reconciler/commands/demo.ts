// rekon demo (npm start): the whole product on the embedded emulator.
import type { Command } from "./spec.js";

export const demo: Command = {
  name: "demo",
  summary: "plan, apply, wait and plan again against the embedded emulator with demo data",
  usage: ["demo"],
  flags: {},
  exits: ["0 converged", "1 it did not"],
  async run({ io }) {
    // The demo talks only to the embedded emulator; the SDK's notice about future Node versions concerns
    // real deployments and would only clutter the walkthrough.
    io.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
    const { runDemo } = await import("../demo.js");
    return runDemo(io);
  },
};
