// rekon apply's run, loaded only when apply runs (so `--help` stays fast): plan, check a saved plan,
// apply through the one sequence (reconcile.applyAuthorized), wait if asked, and report every result.
import { createInterface } from "node:readline/promises";
import type { Logger } from "pino";
import { waitForDeletionsReport, type WaitReport } from "../aws/wait.js";
import { DEFAULT_RETRY } from "../aws/retry.js";
import { RefusalError, ValidationError } from "../errors.js";
import type { Io } from "../io.js";
import { Notifier, type Prepared } from "../notify/notifier.js";
import { planExitCode } from "../plan.js";
import { startProgress } from "../progress.js";
import { allAccepted, applyAuthorized, forgeableMarksNote, planPass, type ApplyOutcome, type PlannedPass } from "../reconcile.js";
import { renderResultsMarkdown } from "../render/markdown.js";
import { renderResultsTable } from "../render/table.js";
import { checkSavedPlan, type SavedPlan } from "../savedplan.js";
import type { Plan, PlanAction, WriteResult } from "../types.js";
import { errorJson } from "./errors.js";
import { renderPlan, reportCauses, tableOptions } from "./render.js";
import { openSession } from "./session.js";
import { EXIT, logFormat, retryFlags, type FlagValues } from "./spec.js";

export interface ApplyRunInput {
  flags: FlagValues;
  io: Io;
  level: string;
  output: string;
  saved?: SavedPlan;
  maxPlanAgeMs: number;
  waitTimeoutMs?: number;
  manifests: string[];
  concurrency?: number;
}

type Session = Awaited<ReturnType<typeof openSession>>;

/** What every step of one apply shares. */
interface Run extends ApplyRunInput {
  session: Session;
  log: Logger;
  pass: PlannedPass;
  notices: () => ReturnType<Notifier["run"]>;
  show(p: Plan): string;
  /** Whether a refusal was already told (notifications). */
  told: boolean;
}

export async function runApply(input: ApplyRunInput): Promise<number> {
  const { flags, io, level, output, manifests } = input;
  const session = await openSession(level, logFormat(flags, io), io);
  const { log } = session;
  try {
    // Notifications (docs/notifications.md): the same events as the controller's; nothing when the policy has no channels.
    const notifier = new Notifier({ log, env: io.env, command: "apply" });
    let prepared: Prepared | undefined;
    const pass = await planPass({
      manifests,
      policy: flags.policy as string | undefined,
      log,
      retry: { ...DEFAULT_RETRY, ...retryFlags(flags), signal: session.stop },
      sourceIdentity: "rekon-apply",
      refusalsFor: (i) => (prepared = notifier.prepare(i.policies)).refusals,
    }).catch(async (e: unknown) => {
      if (e instanceof ValidationError) await notifier.invalid(e.issues, flags.policy as string | undefined, { signal: session.abandon });
      throw e;
    });
    const table = tableOptions(io);
    const r: Run = {
      ...input,
      session,
      log,
      pass,
      // Of the plan as it stands when asked (a saved plan cuts it down below).
      notices: () =>
        notifier.run(
          prepared!,
          { plan: pass.plan, desired: pass.desired, policies: pass.policies, live: pass.live },
          { signal: session.abandon, manifests, policy: flags.policy as string | undefined },
        ),
      show: (p: Plan) => renderPlan(p, output, "rekon apply: plan", table),
      told: false,
    };
    try {
      return await applyAndReport(r);
    } catch (e) {
      // A saved plan's own refusal is news too (the gate's was told as it happened).
      if (e instanceof RefusalError && e.rule !== "confirmation" && !r.told) await r.notices().refused(e);
      throw e;
    } finally {
      pass.close();
    }
  } finally {
    session.close();
  }
}

async function applyAndReport(r: Run): Promise<number> {
  const { io, output, pass, session } = r;
  const stale = r.saved ? checkSaved(r, r.saved) : [];
  if (output !== "json") io.stdout.write(r.show(pass.plan));
  const note = forgeableMarksNote(pass);
  if (note) io.stderr.write(`rekon: note: ${note}\n`);
  // A failed read (a project, or any version's tags) makes the run a failure even if it only blocked.
  const readFailed = planExitCode(pass.plan) === 1;
  const results = (await writes(r)).results;
  const waited = r.flags.wait && !session.stop.aborted && results.some((x) => x.result === "accepted") ? await waitFor(r, results) : undefined;
  results.push(...staleResults(stale));
  const table = tableOptions(io);
  report(
    io,
    output,
    r.flags,
    pass.plan,
    results,
    { stillPresent: waited?.stillPresent ?? [], lastSeen: waited?.lastSeen ?? {}, waitedMs: waited?.tookMs, stopped: session.stop.aborted },
    (x) => renderResultsTable(x, table),
    renderResultsMarkdown,
  );
  reportCauses(pass.plan, output, io);
  if (readFailed) {
    const where = output === "table" ? "Error in the plan above" : "the errors above";
    io.stderr.write(`rekon: some reads failed (a project, or a version's tags); nothing they concern was deleted (see ${where} and tagsUnreadable reasons)\n`);
  }
  if (stale.length)
    io.stderr.write(`rekon: ${stale.length} planned write(s) skipped as stale (the world changed since the plan was saved); re-run rekon plan\n`);
  const unknown = results.filter((x) => x.result === "unknown").length;
  if (unknown) io.stderr.write(`rekon: ${unknown} write(s) were sent but not answered: they may have happened; the next plan shows what did\n`);
  if (session.abandon.aborted) return EXIT.interrupted;
  const clean = allAccepted(results) && stale.length === 0 && !readFailed && (waited?.stillPresent.length ?? 0) === 0 && !session.stop.aborted;
  return clean ? EXIT.ok : EXIT.error;
}

/** A saved plan: only what it approved, on inputs that hash as it recorded; its writes that went stale. */
function checkSaved(r: Run, saved: SavedPlan): { action: PlanAction; why: string }[] {
  const { io, output, pass } = r;
  const check = checkSavedPlan(saved, pass.plan, pass.live, { manifests: pass.desired.digest, policy: pass.policy.digest }, new Date(), r.maxPlanAgeMs);
  pass.plan = check.plan;
  if (check.refusal) {
    const error = { kind: "RefusalError", rule: check.refusal.rule, message: check.refusal.message };
    if (output === "json") io.stdout.write(JSON.stringify({ ...pass.plan, results: [], error }, null, 2) + "\n");
    else io.stdout.write(r.show(pass.plan) + refusedBlock(check.refusal, output));
    throw new RefusalError(check.refusal.message, check.refusal.rule);
  }
  return check.stale;
}

/** The writes, through the one apply sequence: the prompt, progress on stderr, the refusal's mark removals. */
async function writes(r: Run): Promise<ApplyOutcome> {
  const { io, output, pass, session, log } = r;
  // Progress on stderr: a bar on a terminal, a log line every few seconds elsewhere.
  let progress: Awaited<ReturnType<typeof startProgress>> | undefined;
  let outcome: ApplyOutcome;
  try {
    outcome = await applyAuthorized(pass, log, {
      stop: session.stop,
      abandon: session.abandon,
      notices: r.notices().hook(),
      ...(r.concurrency ? { concurrency: r.concurrency } : {}),
      onResult: (x: WriteResult) => progress?.result(x),
      // One question for all writes: a start bills by the hour, a stop takes a serving model offline.
      confirm: async (plan) => (writeCount(plan) > 0 && !r.flags["auto-approve"] ? confirm(plan, io) : undefined),
      starting: async () => {
        session.applying(true);
        const total = writeCount(pass.plan);
        const label = total > pass.plan.summary.delete ? "writing" : "deleting";
        if (total > 0) progress = await startProgress({ total, label, stream: io.stderr, screen: session.screen, log, limiters: pass.limiters });
      },
      // A refused run is news (not a person answering "no" at the prompt); its mark removals are still
      // written (a removal only delays a deletion), except for a saved plan, which approves only its own writes.
      onRefused: async (e) => {
        r.told = true;
        await r.notices().refused(e);
      },
      unmarksOnRefusal: !r.saved,
    });
  } catch (e) {
    if (output === "json") io.stdout.write(JSON.stringify({ ...pass.plan, results: [], error: errorJson(e) }, null, 2) + "\n");
    else if (e instanceof RefusalError) io.stdout.write(refusedBlock(e, output));
    throw e;
  } finally {
    session.applying(false);
    progress?.stop();
  }
  if (!outcome.refused) return outcome;
  const removed = outcome.results;
  if (removed.length) {
    const ok = removed.filter((x) => x.result === "accepted").length;
    io.stderr.write(
      `rekon: refused, but ${ok} of ${removed.length} grace-period mark(s) of versions listed again or now blocked were removed (a removal only delays a ` +
        `deletion)\n`,
    );
  }
  // JSON readers still get the plan they were refused on; table and markdown readers (a PR comment)
  // must not be left with a plan that says "deletions pending".
  if (output === "json") io.stdout.write(JSON.stringify({ ...pass.plan, results: removed, error: errorJson(outcome.refused) }, null, 2) + "\n");
  else io.stdout.write(refusedBlock(outcome.refused, output));
  throw outcome.refused;
}

/** apply --wait: until the accepted deletions have gone, or the bound; what was last seen of the rest. */
function waitFor(r: Run, results: WriteResult[]): Promise<WaitReport> {
  return waitForDeletionsReport(results, {
    clientFor: r.pass.clientFor,
    log: r.log,
    signal: r.session.stop,
    projects: r.pass.plan.projects,
    ...(r.waitTimeoutMs !== undefined ? { timeoutMs: r.waitTimeoutMs } : {}),
  });
}

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
    io.stdout.write(
      JSON.stringify(
        {
          ...plan,
          results,
          ...(flags.wait ? { stillPresent: w.stillPresent, lastSeen: w.lastSeen, ...(w.waitedMs !== undefined ? { waitedMs: w.waitedMs } : {}) } : {}),
        },
        null,
        2,
      ) + "\n",
    );
    return;
  }
  if (output === "markdown") {
    io.stdout.write("\n" + markdown(results));
    return;
  }
  io.stdout.write("\n" + table(results));
  const took = w.waitedMs !== undefined ? ` (waited ${(w.waitedMs / 1000).toFixed(1)}s)` : "";
  if (flags.wait && !w.stopped)
    io.stdout.write(
      w.stillPresent.length
        ? `Still present after waiting${took}: ${w.stillPresent.map((a) => `${a} (${w.lastSeen[a] ?? "?"})`).join(", ")}\n`
        : `All accepted deletions have completed${took}.\n`,
    );
}

/** The plan's writes a person confirms: deletions, starts and stops (marks are bookkeeping that only delays). */
function writeCount(plan: Plan): number {
  return plan.summary.delete + plan.summary.start + plan.summary.stop;
}

async function confirm(plan: Plan, io: Io): Promise<void> {
  const { delete: del, start, stop } = plan.summary;
  if (!io.stdin.isTTY) {
    const what = del > 0 ? "delete versions" : "start or stop models";
    throw new RefusalError(`apply would ${what} but stdin is not a terminal to confirm on; review the plan and pass --auto-approve`, "confirmation");
  }
  const runtime = [start && `start ${start}`, stop && `stop ${stop}`].filter(Boolean).join(" and ");
  const question =
    del > 0
      ? `\nrekon will permanently delete ${del} version(s)${runtime ? ` and ${runtime}` : ""} listed above. A deleted model can't be undeleted.\n` +
        `Type "yes" to delete: `
      : `\nrekon will ${runtime} version(s) listed above (a running model bills per inference-unit hour; a stopped one serves nothing).\n` +
        `Type "yes" to apply: `;
  const rl = createInterface({ input: io.stdin, output: io.stderr });
  try {
    const answer = await rl.question(question);
    if (answer.trim() !== "yes") throw new RefusalError("not confirmed; nothing was written", "confirmation");
  } finally {
    rl.close();
  }
}
