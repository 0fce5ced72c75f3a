// rekon discover: a read-only inventory of every project and version the credentials can see, and, with
// --write-manifests, starter manifests that keep all of it (plan with them deletes nothing). Never writes
// to AWS. A failed read — an identity, a region's project listing, a project's versions — makes the run a
// failure (exit 1), and then no manifest is written at all: a manifest from half a listing would leave
// versions unlisted, and unlisted versions are what rekon deletes.
import { discoverArgs } from "../discover/args.js";
import { AWS_FLAGS, INPUT_FLAGS, LOG_FORMAT_FLAG, logFormat, OUTPUT_FLAG, retryFlags, type Command } from "./spec.js";
import { openSession } from "./session.js";

export const discover: Command = {
  name: "discover",
  summary: "list every project and version the credentials can see; write starter manifests that keep them all (never writes to AWS)",
  usage: [
    "discover [--region R]... [--role-arn ARN]... [--feature custom-labels|adapters|all] [--manifests PATH] [--policy FILE]",
    "         [--output table|json] [--write-manifests DIR]",
  ],
  flags: {
    ...INPUT_FLAGS,
    ...OUTPUT_FLAG,
    ...AWS_FLAGS,
    ...LOG_FORMAT_FLAG,
    region: {
      type: "string",
      multiple: true,
      value: "REGION",
      help: "discover: a region to read, repeatable (default AWS_REGION); diff: the default region apply runs with, for sets without spec.region",
    },
    "role-arn": { type: "string", multiple: true, value: "ARN", help: "also read the account this role reaches (STS AssumeRole); repeatable" },
    feature: { type: "string", value: "F", help: "custom-labels, adapters or all (default all)" },
    "write-manifests": { type: "string", value: "DIR", help: "write one ProjectVersionSet per project into DIR, listing every live version; never overwrites" },
  },
  outputs: ["table", "json"],
  exits: ["0 every read succeeded (and the manifests, if asked, were written)", "1 error, a failed read, or a file in the way (no manifest written)"],
  async run({ flags, io, level, output }) {
    const [{ defaultRegion }, { runDiscover }] = await Promise.all([import("../aws/client.js"), import("./discover-run.js")]);
    const dflt = await defaultRegion();
    const args = discoverArgs(flags, dflt);
    const session = await openSession(level, logFormat(flags, io), io);
    try {
      return await runDiscover(args, {
        io,
        output,
        log: session.log,
        retry: retryFlags(flags),
        signal: session.stop,
        ...(dflt ? { defaultRegion: dflt } : {}),
      });
    } finally {
      session.close();
    }
  },
};
