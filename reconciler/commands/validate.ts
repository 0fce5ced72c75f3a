// rekon validate: manifests and policies, offline. It must never load the AWS SDK (a test traces imports).
import { ValidationError } from "../errors.js";
import { EXIT, INPUT_FLAGS, OUTPUT_FLAG, requireManifests, type Command } from "./spec.js";

export const validate: Command = {
  name: "validate",
  summary: "check manifests and the policy, offline (no AWS call, no credentials)",
  usage: ["validate --manifests PATH [--policy FILE] [--output text|json]"],
  flags: { ...INPUT_FLAGS, ...OUTPUT_FLAG },
  outputs: ["text", "json"],
  exits: ["0 valid", "1 invalid (every error listed at file:line:col)"],
  async run({ flags, io, output }) {
    const manifests = requireManifests(flags);
    // Loaded here, not at the top: `rekon --help` must not pay for the YAML, ajv and CEL modules.
    const { validateInputs } = await import("../inputs/index.js");
    // Offline: the default region comes from the environment only; no SDK, no profile files.
    const r = validateInputs(
      { manifests, policy: flags.policy as string | undefined },
      { defaultRegion: io.env.AWS_REGION || undefined, requireRegion: false },
    );
    if (!r.desired || !r.policies) throw new ValidationError(r.issues);
    const sets = r.desired.sets.length;
    const files = r.desired.files.length;
    const layers = r.policies.scoped.length;
    const source = r.policies.operator.source;
    for (const n of r.notes) io.stderr.write(`rekon: note: ${n}\n`);
    if (output === "json") io.stdout.write(JSON.stringify({ valid: true, files, sets, policies: layers, policy: source, notes: r.notes }) + "\n");
    else io.stdout.write(`valid: ${files} file(s), ${sets} ProjectVersionSet(s), ${layers} manifest DeletionPolicy(s), policy: ${source}\n`);
    return EXIT.ok;
  },
};
