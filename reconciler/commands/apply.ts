// rekon apply [FILE]: plan, confirm, then carry out the plan through the gate (every write approved on a
// last look), and report one result per planned write. With FILE, only what that saved plan approved.
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline/promises";
import { parseDuration } from "../duration.js";
import { RefusalError, UsageError, ValidationError } from "../errors.js";
import type { Io } from "../io.js";
import type { SavedPlan } from "../savedplan.js";
import type { Plan, PlanAction, WriteResult } from "../types.js";
import { errorJson } from "./errors.js";
import { openSession } from "./session.js";
import { AWS_FLAGS, EXIT, INPUT_FLAGS, LOG_FORMAT_FLAG, logFormat, OUTPUT_FLAG, requireManifests, retryFlags, type Command, type FlagValues } from "./spec.js";

export const apply: Command = {
  name: "apply",
  summary: "plan, confirm, and delete what the gate approves on a fresh read; one result per write",
  usage: ["apply    --manifests PATH [--policy FILE] [--auto-approve] [--wait [--wait-timeout D]] [--output table|json|markdown]", "apply    plan.json --manifests PATH --policy FILE [--max-plan-age 24h] [--auto-approve] [--output ...]"],
  flags: {
    ...INPUT_FLAGS,
    ...OUTPUT_FLAG,
    ...AWS_FLAGS,
    ...LOG_FORMAT_FLAG,
    "auto-approve": { type: "boolean", help: "apply without asking; required when stdin is not a terminal" },
    wait: { type: "boolean", help: "after apply, wait until AWS has finished deleting (polls every 5 s, up to --wait-timeout)" },
    "wait-timeout": { type: "string", value: "D", help: "with --wait: how long to wait before reporting what is still present (default 10m)" },
    concurrency: { type: "string", value: "N", help: "deletions in flight per account and region (default 8); the adaptive rate limiter sets the pace" },
    "max-plan-age": { type: "string", value: "D", help: "apply FILE: refuse a saved plan older than this (default 24h)" },
  },
  outputs: ["table", "json", "markdown"],
  maxArgs: 1,
  exits: [
    "0 every planned write accepted by AWS (or nothing to do)",
    "1 error, refusal, a failed read, or any write failed, skipped, changed at the last look, stale or unknown",
    "130 a second signal (unanswered writes reported unknown)",
  ],
  async run({ flags, args, io, level, output }) {
    const { saved, maxPlanAgeMs, waitTimeoutMs, manifests, concurrency } = await applyOptions(flags, args);
    const format = logFormat(flags, io);

    const [{ planPass, applyAuthorized, forgeableMarksNote, allAccepted }, { planExitCode }, { renderResultsTable }, { renderResultsMarkdown }, { DEFAULT_RETRY }, { waitForDeletionsReport }, { startProgress }, { checkSavedPlan }, { renderPlan, tableOptions, reportCauses }, { Notifier }] = await Promise.all([
      import("../reconcile.js"),
      import("../plan.js"),
      import("../render/table.js"),
      import("../render/markdown.js"),
      import("../aws/retry.js"),
      import("../aws/wait.js"),
      import("../progress.js"),
      import("../savedplan.js"),
      import("./render.js"),
      import("../notify/notifier.js"),
    ]);
    const session = await openSession(level, format, io);
    const table = tableOptions(io);
    const { log } = session;
    try {
      // Notifications (README "Notifications"): the same events as the controller's; nothing when the policy has no channels.
      const notifier = new Notifier({ log, env: io.env, command: "apply" });
      let prepared: import("../notify/notifier.js").Prepared | undefined;
      const pass = await planPass({ manifests, policy: flags.policy as string | undefined, log, retry: { ...DEFAULT_RETRY, ...retryFlags(flags), signal: session.stop }, sourceIdentity: "rekon-apply", refusalsFor: (i) => (prepared = notifier.prepare(i.policies)).refusals }).catch(async (e: unknown) => {
        if (e instanceof ValidationError) await notifier.invalid(e.issues, flags.policy as string | undefined, { signal: session.abandon });
        throw e;
      });
      // Of the plan as it stands when asked (a saved plan cuts it down below).
      const notices = () => notifier.run(prepared!, { plan: pass.plan, desired: pass.desired, policies: pass.policies, live: pass.live }, { signal: session.abandon, manifests });
      const show = (p: Plan) => renderPlan(p, output, "rekon apply: plan", table);
      let told = false;
      try {
        let stale: { action: PlanAction; why: string }[] = [];
        if (saved) {
          const check = checkSavedPlan(saved, pass.plan, pass.live, { manifests: pass.desired.digest, policy: pass.policy.digest }, new Date(), maxPlanAgeMs);
          pass.plan = check.plan;
          stale = check.stale;
          if (check.refusal) {
            if (output === "json") io.stdout.write(JSON.stringify({ ...pass.plan, results: [], error: { kind: "RefusalError", rule: check.refusal.rule, message: check.refusal.message } }, null, 2) + "\n");
            else io.stdout.write(show(pass.plan) + refusedBlock(check.refusal, output));
            throw new RefusalError(check.refusal.message, check.refusal.rule);
          }
        }

        if (output !== "json") io.stdout.write(show(pass.plan));
        const note = forgeableMarksNote(pass);
        if (note) io.stderr.write(`rekon: note: ${note}\n`);
        // A failed read (a project, or any version's tags) makes the run a failure even if it only blocked.
        const readFailed = planExitCode(pass.plan) === 1;
        // Progress on stderr: a bar on a terminal, a log line every few seconds elsewhere.
        let progress: Awaited<ReturnType<typeof startProgress>> | undefined;
        let outcome: Awaited<ReturnType<typeof applyAuthorized>>;
        try {
          outcome = await applyAuthorized(pass, log, {
            stop: session.stop,
            abandon: session.abandon,
            notices: notices().hook(),
            ...(concurrency ? { concurrency } : {}),
            onResult: (r: WriteResult) => progress?.result(r),
            confirm: async (plan) => (plan.summary.delete > 0 && !flags["auto-approve"] ? confirm(plan, io) : undefined),
            starting: async () => {
              session.applying(true);
              if (pass.plan.summary.delete > 0) progress = await startProgress({ total: pass.plan.summary.delete, stream: io.stderr, screen: session.screen, log, limiters: pass.limiters });
            },
            // A refused run is news (not a person answering "no" at the prompt); its mark removals are still
            // written (a removal only delays a deletion), except for a saved plan, which approves only its own writes.
            onRefused: async (e) => {
              told = true;
              await notices().refused(e);
            },
            unmarksOnRefusal: !saved,
          });
        } catch (e) {
          if (output === "json") io.stdout.write(JSON.stringify({ ...pass.plan, results: [], error: errorJson(e) }, null, 2) + "\n");
          else if (e instanceof RefusalError) io.stdout.write(refusedBlock(e, output));
          throw e;
        } finally {
          session.applying(false);
          progress?.stop();
        }
        if (outcome.refused) {
          const removed = outcome.results;
          if (removed.length) io.stderr.write(`rekon: refused, but ${removed.filter((r) => r.result === "accepted").length} of ${removed.length} grace-period mark(s) of versions listed again or now blocked were removed (a removal only delays a deletion)\n`);
          // JSON readers still get the plan they were refused on; table and markdown readers (a PR comment)
          // must not be left with a plan that says "deletions pending".
          if (output === "json") io.stdout.write(JSON.stringify({ ...pass.plan, results: removed, error: errorJson(outcome.refused) }, null, 2) + "\n");
          else io.stdout.write(refusedBlock(outcome.refused, output));
          throw outcome.refused;
        }
        const results = outcome.results;
        let stillPresent: string[] = [];
        let lastSeen: Record<string, string> = {};
        let waitedMs: number | undefined;
        if (flags.wait && !session.stop.aborted && results.some((r) => r.result === "accepted")) {
          const report = await waitForDeletionsReport(results, { clientFor: pass.clientFor, log, signal: session.stop, projects: pass.plan.projects, ...(waitTimeoutMs !== undefined ? { timeoutMs: waitTimeoutMs } : {}) });
          stillPresent = report.stillPresent;
          lastSeen = report.lastSeen;
          waitedMs = report.tookMs;
        }
        results.push(...staleResults(stale));
        report(io, output, flags, pass.plan, results, { stillPresent, lastSeen, waitedMs, stopped: session.stop.aborted }, (r) => renderResultsTable(r, table), renderResultsMarkdown);
        reportCauses(pass.plan, output, io);
        if (readFailed) io.stderr.write(`rekon: some reads failed (a project, or a version's tags); nothing they concern was deleted (see ${output === "table" ? "Error in the plan above" : "the errors above"} and tagsUnreadable reasons)\n`);
        if (stale.length) io.stderr.write(`rekon: ${stale.length} planned write(s) skipped as stale (the world changed since the plan was saved); re-run rekon plan\n`);
        const unknown = results.filter((r) => r.result === "unknown").length;
        if (unknown) io.stderr.write(`rekon: ${unknown} write(s) were sent but not answered: they may have happened; the next plan shows what did\n`);
        if (session.abandon.aborted) return EXIT.interrupted;
        return allAccepted(results) && stale.length === 0 && !readFailed && stillPresent.length === 0 && !session.stop.aborted ? EXIT.ok : EXIT.error;
      } catch (e) {
        // A saved plan's own refusal is news too (the gate's was told above).
        if (e instanceof RefusalError && e.rule !== "confirmation" && !told) await notices().refused(e);
        throw e;
      } finally {
        pass.close();
      }
    } finally {
      session.close();
    }
  },
};

/** What stdout says after the plan when the run is refused: nothing was deleted, and why. */
function refusedBlock(r: { rule: string; message: string }, output: string): string {
  if (output === "markdown") return `\n> [!CAUTION]\n> **Refused** (\`${r.rule}\`): ${r.message.replace(/\.$/, "")}. Nothing was deleted.\n`;
  return `\nRefused (${r.rule}): ${r.message.replace(/\.$/, "")}. Nothing was deleted.\n`;
}

/** Planned writes the saved plan approved but that changed since: reported, never carried out. */
function staleResults(stale: { action: PlanAction; why: string }[]): WriteResult[] {
  return stale.map(({ action: a, why }) => ({
    project: a.project,
    region: a.region,
    ...(a.account ? { account: a.account } : {}),
    ...(a.roleArn ? { roleArn: a.roleArn } : {}),
    versionName: a.versionName,
    versionArn: a.versionArn!,
    operation: a.action === "delete" ? "delete" : a.mark === "add" ? "mark" : "unmark",
    result: "skipped",
    code: "stale",
    error: `stale: ${why}`,
  }));
}

function report(
  io: Io,
  output: string,
  flags: FlagValues,
  plan: Plan,
  results: WriteResult[],
  w: { stillPresent: string[]; lastSeen: Record<string, string>; waitedMs: number | undefined; stopped: boolean },
  table: (r: WriteResult[]) => string,
  markdown: (r: WriteResult[]) => string,
): void {
  if (output === "json") {
    io.stdout.write(JSON.stringify({ ...plan, results, ...(flags.wait ? { stillPresent: w.stillPresent, lastSeen: w.lastSeen, ...(w.waitedMs !== undefined ? { waitedMs: w.waitedMs } : {}) } : {}) }, null, 2) + "\n");
    return;
  }
  if (output === "markdown") {
    io.stdout.write("\n" + markdown(results));
    return;
  }
  io.stdout.write("\n" + table(results));
  const took = w.waitedMs !== undefined ? ` (waited ${(w.waitedMs / 1000).toFixed(1)}s)` : "";
  if (flags.wait && !w.stopped) io.stdout.write(w.stillPresent.length ? `Still present after waiting${took}: ${w.stillPresent.map((a) => `${a} (${w.lastSeen[a] ?? "?"})`).join(", ")}\n` : `All accepted deletions have completed${took}.\n`);
}

async function confirm(plan: Plan, io: Io): Promise<void> {
  if (!io.stdin.isTTY) {
    throw new RefusalError("apply would delete versions but stdin is not a terminal to confirm on; review the plan and pass --auto-approve", "confirmation");
  }
  const rl = createInterface({ input: io.stdin, output: io.stderr });
  try {
    const answer = await rl.question(`\nrekon will permanently delete ${plan.summary.delete} version(s) listed above. A deleted model can't be undeleted.\nType "yes" to delete: `);
    if (answer.trim() !== "yes") throw new RefusalError("not confirmed; nothing was deleted", "confirmation");
  } finally {
    rl.close();
  }
}

/** apply's flags and saved plan, checked before anything is read: every usage error before any call. */
async function applyOptions(flags: FlagValues, args: string[]): Promise<{ saved?: SavedPlan; maxPlanAgeMs: number; waitTimeoutMs?: number; manifests: string[]; concurrency?: number }> {
  const savedFile = args[0];
  const { DEFAULT_MAX_PLAN_AGE, parseSavedPlan } = await import("../savedplan.js");
  if (flags["max-plan-age"] !== undefined && !savedFile) throw new UsageError("--max-plan-age goes with apply PLAN_FILE");
  const maxPlanAgeMs = parseDuration(String(flags["max-plan-age"] ?? DEFAULT_MAX_PLAN_AGE));
  if (flags["wait-timeout"] !== undefined && !flags.wait) throw new UsageError("--wait-timeout goes with --wait");
  const waitTimeoutMs = flags["wait-timeout"] === undefined ? undefined : parseDuration(String(flags["wait-timeout"]));
  if (waitTimeoutMs === 0 || (flags["wait-timeout"] !== undefined && waitTimeoutMs === undefined)) throw new UsageError("--wait-timeout must be a duration such as 30s, 10m or 1h");
  if (maxPlanAgeMs === undefined) throw new UsageError("--max-plan-age must be a duration such as 30m, 24h or 2d");
  // A saved plan is an approval of specific writes, never a source of paths: an edited artifact could
  // name a looser policy (with its digest). Its inputs are given again and must hash to what it recorded.
  let saved: SavedPlan | undefined;
  if (savedFile) {
    const text = await readFile(savedFile, "utf8").catch((e: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read saved plan ${savedFile}: ${e.code ?? e.message}`);
    });
    saved = parseSavedPlan(savedFile, text);
    if (!(flags.manifests as string[] | undefined)?.length || flags.policy === undefined) {
      throw new UsageError(`apply ${savedFile} needs --manifests and --policy: the same paths the plan was made from (a saved plan never supplies its own; their digests must match it)`);
    }
  }
  const manifests = requireManifests(flags);
  const concurrency = flags.concurrency === undefined ? undefined : Number(flags.concurrency);
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)) throw new UsageError("--concurrency must be a whole number from 1 to 64");
  return { ...(saved ? { saved } : {}), maxPlanAgeMs, ...(waitTimeoutMs !== undefined ? { waitTimeoutMs } : {}), manifests, ...(concurrency !== undefined ? { concurrency } : {}) };
}
