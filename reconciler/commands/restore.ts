// rekon restore: copy an archived version back (docs/archive.md). The undo of an archived deletion: a
// CopyProjectVersion through the gate into a project of the same region and account; nothing is deleted.
import { UsageError, ValidationError } from "../errors.js";
import { AWS_FLAGS, EXIT, LOG_FORMAT_FLAG, logFormat, retryFlags, type Command } from "./spec.js";
import { openSession } from "./session.js";
import { parseTarget } from "./explain.js";

export const restore: Command = {
  name: "restore",
  summary: "copy an archived version back into a project (spec.archive's undo; deletes nothing)",
  usage: ["restore  ARCHIVED-VERSION-ARN|ARCHIVE-PROJECT/VERSION --to PROJECT [--name NAME] --policy FILE"],
  flags: {
    to: { type: "string", value: "PROJECT", help: "restore: the project to copy the archived version into (same region and account)" },
    name: { type: "string", value: "NAME", help: "restore: the restored version's name (default: the archived version's); must not exist" },
    policy: { type: "string", value: "FILE", help: "the operator's DeletionPolicy (default: built-in defaults; apply then refuses)" },
    ...AWS_FLAGS,
    ...LOG_FORMAT_FLAG,
  },
  maxArgs: 1,
  exits: ["0 restored (COPYING_COMPLETED)", "1 refused, failed or not found (nothing deleted)", "130 interrupted"],
  async run({ flags, args, io, level }) {
    if (args.length !== 1)
      throw new UsageError("which archived version? Give its ARN or ARCHIVE-PROJECT/VERSION, e.g. rekon restore model-archive/p--v3 --to p");
    const from = parseTarget(args[0]!);
    const to = flags.to as string | undefined;
    if (!to) throw new UsageError("--to PROJECT is required: the project the archived version is copied into");
    const policyFile = flags.policy as string | undefined;
    if (!policyFile) throw new UsageError("--policy FILE is required: the operator's DeletionPolicy with spec.archive (its output bucket is the copy's)");
    const [{ loadPolicy }, { defaultRegion }, { restore: run }, { DEFAULT_RETRY }] = await Promise.all([
      import("../inputs/policy.js"),
      import("../aws/client.js"),
      import("../apply/restore.js"),
      import("../aws/retry.js"),
    ]);
    const { policy, issues } = loadPolicy(policyFile);
    if (!policy) throw new ValidationError(issues);
    const region = from.arn?.split(":")[3] ?? (await defaultRegion());
    if (!region) throw new UsageError("no region: give the archived version's ARN, or set AWS_REGION");
    const session = await openSession(level, logFormat(flags, io), io);
    try {
      const r = await run({
        from: { ...(from.arn ? { arn: from.arn } : {}), project: from.project!, version: from.version! },
        to,
        ...(flags.name !== undefined ? { name: flags.name as string } : {}),
        region,
        policy,
        log: session.log,
        retry: { ...DEFAULT_RETRY, ...retryFlags(flags), signal: session.stop },
        stop: session.stop,
        progress: (status, ms) => io.stderr.write(`restore: ${from.project}/${from.version} → ${to}: ${status} (${Math.round(ms / 1000)}s)\n`),
      });
      io.stdout.write(
        `Restored ${from.project}/${from.version} as ${r.project}/${r.name}:\n  ${r.arn}\n` +
          `It is a new version with a new ARN (the deleted one's ARN is gone for good): point clients at the new ARN, and list ${r.name} in the ` +
          `manifests (the ProjectVersionSet of project ${r.project}), or the next plan deletes it once it is older than minAge.\n`,
      );
      return EXIT.ok;
    } finally {
      session.close();
    }
  },
};
