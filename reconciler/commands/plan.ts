// rekon plan: what apply would do, and why; never a write. With --out, a saved plan for `apply FILE`.
import { rename, writeFile } from "node:fs/promises";
import { UsageError } from "../errors.js";
import { AWS_FLAGS, INPUT_FLAGS, LOG_FORMAT_FLAG, logFormat, OUTPUT_FLAG, requireManifests, retryFlags, type Command } from "./spec.js";
import { openSession } from "./session.js";

export const plan: Command = {
  name: "plan",
  summary: "read AWS and print what apply would delete and why (never writes)",
  usage: ["plan     --manifests PATH [--policy FILE] [--output table|json|markdown] [--out plan.json] [--at TIME]"],
  flags: {
    ...INPUT_FLAGS,
    ...OUTPUT_FLAG,
    ...AWS_FLAGS,
    ...LOG_FORMAT_FLAG,
    out: { type: "string", value: "FILE", help: 'also save the plan, with digests of its inputs, for "rekon apply FILE"' },
    at: { type: "string", value: "TIME", help: "evaluate windows, ages, marks and approvals at this RFC 3339 time (e.g. the weekend); reads are still now" },
  },
  outputs: ["table", "json", "markdown"],
  exits: ["0 nothing to delete", "2 deletions pending", "1 error, refusal or a failed read (nothing deleted)"],
  async run({ flags, io, level, output }) {
    const manifests = requireManifests(flags);
    let at: Date | undefined;
    if (flags.at !== undefined) {
      // A plan for another time is for reading; saving it would let apply act on a moment that is not now.
      if (flags.out !== undefined) throw new UsageError("--at and --out do not go together: a saved plan is for now");
      const t = String(flags.at);
      if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(t) || Number.isNaN(Date.parse(t)))
        throw new UsageError(`--at must be an RFC 3339 time with a zone, e.g. 2026-12-05T20:00:00+01:00 (got "${t}")`);
      at = new Date(t);
    }
    const format = logFormat(flags, io);
    const [{ planPass, forgeableMarksNote }, { planExitCode }, { renderPlan, tableOptions, reportCauses }, { DEFAULT_RETRY }, { savePlan }] = await Promise.all(
      [import("../reconcile.js"), import("../plan.js"), import("./render.js"), import("../aws/retry.js"), import("../savedplan.js")],
    );
    const session = await openSession(level, format, io);
    try {
      const pass = await planPass({
        manifests,
        policy: flags.policy as string | undefined,
        log: session.log,
        retry: { ...DEFAULT_RETRY, ...retryFlags(flags), signal: session.stop },
        ...(at ? { now: () => at } : {}),
      });
      try {
        const out = flags.out as string | undefined;
        if (out) {
          const file = savePlan(
            pass.plan,
            pass.live,
            { manifests, policy: (flags.policy as string | undefined) ?? null },
            { manifests: pass.desired.digest, policy: pass.policy.digest },
          );
          // Write then rename, so a reader (or an upload step) never sees half a plan.
          await writeFile(out + ".tmp", JSON.stringify(file, null, 2) + "\n");
          await rename(out + ".tmp", out);
        }
        io.stdout.write(output === "json" ? JSON.stringify(pass.plan, null, 2) + "\n" : renderPlan(pass.plan, output, "rekon plan", tableOptions(io)));
        reportCauses(pass.plan, output, io);
        const note = forgeableMarksNote(pass);
        if (note) io.stderr.write(`rekon: note: ${note}\n`);
        return planExitCode(pass.plan);
      } finally {
        pass.close();
      }
    } finally {
      session.close();
    }
  },
};
