// rekon approve: a person's approval of marked versions' deletion (requireApproval), without hand-written
// tags. It reads what plan reads, asks the gate for each version (gate/approve.ts), shows each with its
// mark and what else still holds it, asks, and writes rekon.dev/deletion-approved=<now> with the caller's
// own credentials — so AWS CloudTrail records who approved. All or nothing: any version refused (unknown,
// unmarked, listed, protected, blocked) means no tag is written at all.
import { UsageError } from "../errors.js";
import { parseTarget } from "./explain.js";
import { AWS_FLAGS, INPUT_FLAGS, LOG_FORMAT_FLAG, logFormat, OUTPUT_FLAG, requireManifests, retryFlags, type Command } from "./spec.js";

export const approve: Command = {
  name: "approve",
  summary: "approve the deletion of marked versions (requireApproval): tag them, with your credentials, after a confirmation",
  usage: ["approve  PROJECT/VERSION|VERSION-ARN... --manifests PATH [--policy FILE] [--yes] [--output table|json]"],
  flags: {
    ...INPUT_FLAGS,
    ...OUTPUT_FLAG,
    ...AWS_FLAGS,
    ...LOG_FORMAT_FLAG,
    yes: { type: "boolean", help: "approve without asking; required when stdin is not a terminal" },
  },
  outputs: ["table", "json"],
  maxArgs: 1000,
  exits: [
    "0 every approval written (or each version was approved already)",
    "1 error, a failed read, any version refused (nothing written), or a write failed",
  ],
  async run({ flags, args, io, level, output }) {
    const manifests = requireManifests(flags);
    if (args.length === 0) throw new UsageError("approve takes one or more versions: PROJECT/VERSION or a version ARN");
    const wanted = args.map((arg) => ({ arg, ...parseTarget(arg) }));
    const { runApprove } = await import("./approve-run.js");
    return runApprove({ manifests, wanted, flags, io, level, output, format: logFormat(flags, io), retry: retryFlags(flags) });
  },
};
