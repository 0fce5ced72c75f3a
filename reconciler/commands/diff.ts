// rekon diff: what a change to the manifests (and policies) does, read from Git; offline, no credentials.
import { UsageError } from "../errors.js";
import { INPUT_FLAGS, OUTPUT_FLAG, type Command } from "./spec.js";

export const diff: Command = {
  name: "diff",
  summary: "compare desired versions and policies between two Git revisions (offline)",
  usage: ["diff     --base REF [--head REF] [--manifests PATH] [--policy FILE] [--region REGION] [--output table|json|markdown] [--fail-on-loosen]"],
  flags: {
    ...INPUT_FLAGS,
    ...OUTPUT_FLAG,
    base: { type: "string", value: "REF", help: "Git revision to compare from (e.g. origin/main); required" },
    head: { type: "string", value: "REF", help: "Git revision to compare to (default HEAD)" },
    region: {
      type: "string",
      multiple: true,
      value: "REGION",
      help: "discover: a region to read, repeatable (default AWS_REGION); diff: the default region apply runs with, for sets without spec.region",
    },
    "fail-on-loosen": { type: "boolean", help: "exit 1 when the change loosens a deletion policy" },
  },
  outputs: ["table", "json", "markdown"],
  exits: ["0 no change to desired versions or policy", "2 changes", "1 error (or a loosening with --fail-on-loosen)"],
  async run({ flags, io, output }) {
    if (!flags.base) throw new UsageError("--base REF is required (e.g. --base origin/main)");
    const { diffRefs, renderDiffMarkdown, renderDiffTable } = await import("../diff.js");
    const manifests = flags.manifests as string[] | undefined;
    // Offline, as validate: the environment only, no SDK and no profile files. AWS_REGION is what the SDK
    // (and so plan) reads; AWS_DEFAULT_REGION is not (SDK v3 ignores it), so it is not taken here either.
    // --region is repeatable for discover (one flag, one declaration); diff takes one.
    const regions = (flags.region as string[] | undefined) ?? [];
    if (regions.length > 1) throw new UsageError("diff takes one --region (the default region apply runs with)");
    const defaultRegion = regions[0] || io.env.AWS_REGION || undefined;
    const d = await diffRefs({
      base: String(flags.base),
      head: String(flags.head ?? "HEAD"),
      manifests: manifests?.length ? manifests : ["manifests"],
      ...(flags.policy ? { policy: String(flags.policy) } : {}),
      ...(defaultRegion ? { defaultRegion } : {}),
      cwd: process.cwd(),
    });
    io.stdout.write(output === "json" ? JSON.stringify(d, null, 2) + "\n" : output === "markdown" ? renderDiffMarkdown(d) : renderDiffTable(d));
    if (flags["fail-on-loosen"] && d.summary.loosenings > 0) {
      io.stderr.write(`rekon: the change loosens a deletion policy (${d.summary.loosenings} field(s)); failing as --fail-on-loosen asks\n`);
      return 1;
    }
    return d.projects.length || d.policy.length ? 2 : 0;
  },
};
