// rekon pending: what will be deleted, and when. Every version that carries a pending-delete mark or that
// apply marks now, with when it becomes deletable, what it waits for, and the command that approves it.
// It reads exactly what plan reads and never writes.
import { AWS_FLAGS, INPUT_FLAGS, LOG_FORMAT_FLAG, logFormat, OUTPUT_FLAG, requireManifests, retryFlags, type Command } from "./spec.js";
import { openSession } from "./session.js";

export const pending: Command = {
  name: "pending",
  summary: "list what is marked for deletion, when each goes and what it waits for (never writes)",
  usage: ["pending  --manifests PATH [--policy FILE] [--output table|json]"],
  flags: { ...INPUT_FLAGS, ...OUTPUT_FLAG, ...AWS_FLAGS, ...LOG_FORMAT_FLAG },
  outputs: ["table", "json"],
  exits: ["0 listed (also when nothing is pending)", "1 error or a failed read (the list would be incomplete)"],
  async run({ flags, io, level, output }) {
    const manifests = requireManifests(flags);
    const policy = flags.policy as string | undefined;
    const format = logFormat(flags, io);
    const [{ planPass }, { pendingRows }, { renderPending }, { approveCommand }, { DEFAULT_RETRY }, { style, colorEnabled }] = await Promise.all([
      import("../reconcile.js"),
      import("../pending.js"),
      import("../render/pending.js"),
      import("../render/approve-command.js"),
      import("../aws/retry.js"),
      import("../render/style.js"),
    ]);
    const session = await openSession(level, format, io);
    try {
      const pass = await planPass({ manifests, policy, log: session.log, retry: { ...DEFAULT_RETRY, ...retryFlags(flags), signal: session.stop } });
      try {
        const rows = pendingRows(pass.gate, pass.plan);
        // `rekon approve` takes the same inputs as this command, so the printed command approves against the same plan.
        const approveFor = (r: (typeof rows)[number]) =>
          r.approval?.state === "missing" && r.markedAt !== undefined && !r.markAdded
            ? approveCommand({ project: r.project, version: r.version }, { manifests, ...(policy !== undefined ? { policy } : {}) })
            : undefined;
        if (output === "json") {
          const out = rows.map((r) => {
            const cmd = approveFor(r);
            return cmd ? { ...r, approveCommand: cmd } : r;
          });
          io.stdout.write(JSON.stringify({ generatedAt: pass.plan.generatedAt, versions: out }, null, 2) + "\n");
        } else io.stdout.write(renderPending(rows, pass.plan.generatedAt, style(colorEnabled(io.stdout, io.env)), approveFor));
        // Fail closed: a project or a version's tags not read means marks this list cannot show.
        const failed = [
          ...pass.plan.projects
            .filter((p) => p.status === "error" || p.status === "notFound")
            .map((p) => `project ${p.project} (${p.region}): ${p.error ?? p.status}`),
          ...pass.plan.actions
            .filter((a) => a.reasons.some((r) => r.rule === "tagsUnreadable"))
            .map((a) => `tags of ${a.versionArn ?? a.versionName} not read`),
        ];
        if (failed.length) {
          io.stderr.write(`rekon: error: ${failed.length} read(s) failed, so this list may miss marked versions:\n${failed.map((f) => `  ${f}\n`).join("")}`);
          return 1;
        }
        return 0;
      } finally {
        pass.close();
      }
    } finally {
      session.close();
    }
  },
};
