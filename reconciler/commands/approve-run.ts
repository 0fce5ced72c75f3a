// rekon approve's run, loaded only when approve runs: plan's reads, the gate's decision per version, the
// prompt, then the approvals (apply/approve.ts). Every refusal is decided before anything is written.
import { createInterface } from "node:readline/promises";
import { sendApprovals, type ApprovalResult } from "../apply/approve.js";
import { DEFAULT_RETRY, type RetryOptions } from "../aws/retry.js";
import { RefusalError } from "../errors.js";
import type { ApprovalDecision, Approved, ApprovalWrite, SetView } from "../gate/index.js";
import type { Io } from "../io.js";
import type { LogFormat } from "../log.js";
import { APPROVAL_TAG } from "../policy/guards.js";
import { planPass, type PlannedPass } from "../reconcile.js";
import type { LiveVersion, Reason, RuleId } from "../types.js";
import { openSession } from "./session.js";
import { EXIT, type FlagValues } from "./spec.js";

export interface Wanted {
  arg: string;
  arn?: string;
  project?: string;
  version?: string;
}

export interface ApproveInput {
  manifests: string[];
  wanted: Wanted[];
  flags: FlagValues;
  io: Io;
  level: string;
  output: string;
  format: LogFormat;
  retry: Partial<RetryOptions>;
}

/** One argument, decided. */
export interface ApproveEntry {
  arg: string;
  versionArn?: string;
  set?: string;
  decision: ApprovalDecision | { kind: "refuse"; rule: RuleId | "unknown"; reasons: { rule: string; message: string }[] };
}

/** The version an argument names, in the one set that reaches it; or why there is none. */
export function findVersion(views: readonly SetView[], w: Wanted): { view: SetView; v: LiveVersion } | { rule: "unknown" | "notRead"; message: string } {
  const sets = views.filter((x) => x.set.project === w.project);
  if (!sets.length)
    return {
      rule: "unknown",
      message: `no ProjectVersionSet in the manifests names project "${w.project}"; rekon approves only versions of projects it manages`,
    };
  const unread = sets.find((x) => x.status !== "ok" || !x.project);
  if (unread) return { rule: "notRead", message: `project ${w.project} (${unread.set.region}) was not read: ${unread.error ?? unread.status}` };
  const found = sets.flatMap((view) =>
    view.project!.versions.filter((v) => (w.arn !== undefined ? v.arn === w.arn : v.name === w.version)).map((v) => ({ view, v })),
  );
  if (!found.length) return { rule: "unknown", message: `project ${w.project} has no version ${w.arn ?? JSON.stringify(w.version)}` };
  if (found.length > 1)
    return { rule: "unknown", message: `${w.arg} names ${found.length} versions (${found.map((f) => f.v.arn).join(", ")}); give the version ARN` };
  return found[0]!;
}

export async function runApprove(input: ApproveInput): Promise<number> {
  const { io } = input;
  const session = await openSession(input.level, input.format, io);
  try {
    const pass = await planPass({
      manifests: input.manifests,
      policy: input.flags.policy as string | undefined,
      log: session.log,
      retry: { ...DEFAULT_RETRY, ...input.retry, signal: session.stop },
      // Writes follow: the role session says so in CloudTrail, as apply's does.
      sourceIdentity: "rekon-apply",
    });
    try {
      return await decideAndWrite(pass, input, session.stop, session.log);
    } finally {
      pass.close();
    }
  } finally {
    session.close();
  }
}

async function decideAndWrite(pass: PlannedPass, input: ApproveInput, stop: AbortSignal, log: import("pino").Logger): Promise<number> {
  const { io, output } = input;
  const skew = pass.clock.problem();
  const now = pass.clock.now();
  const entries: ApproveEntry[] = input.wanted.map((w) => {
    // A clock off AWS's dates the approval wrongly: nothing is approved on it.
    if (skew) return { arg: w.arg, decision: { kind: "refuse", rule: skew.rule, reasons: [{ rule: skew.rule, message: skew.message }] } };
    const found = findVersion(pass.gate.views, w);
    if ("rule" in found) return { arg: w.arg, decision: { kind: "refuse", rule: found.rule, reasons: [{ rule: found.rule, message: found.message }] } };
    return { arg: w.arg, versionArn: found.v.arn, set: found.view.set.name, decision: pass.gate.approval(found.view, found.v, now) };
  });
  const refused = entries.filter((e) => e.decision.kind === "refuse");
  const toWrite = entries.flatMap((e) => (e.decision.kind === "approve" ? [e.decision.write] : []));
  if (output !== "json") io.stdout.write(renderEntries(entries));
  if (refused.length) {
    if (output === "json") io.stdout.write(JSON.stringify({ versions: entries.map(entryJson), results: [] }, null, 2) + "\n");
    io.stderr.write(`rekon: ${refused.length} of ${entries.length} version(s) refused; no approval was written\n`);
    return EXIT.error;
  }
  let results: ApprovalResult[] = [];
  if (toWrite.length) {
    if (!input.flags.yes) await confirm(toWrite, io);
    results = await sendApprovals(toWrite, { clientFor: pass.clientFor, log, clockProblem: () => pass.clock.problem()?.message, stop });
  }
  if (output === "json") io.stdout.write(JSON.stringify({ versions: entries.map(entryJson), results }, null, 2) + "\n");
  else for (const r of results) io.stdout.write(`${r.project}/${r.versionName}: approval ${r.result}${r.error ? ` (${r.code ?? "error"}: ${r.error})` : ""}\n`);
  const bad = results.filter((r) => r.result !== "accepted");
  if (bad.length) {
    io.stderr.write(`rekon: ${bad.length} approval(s) not written (see above); run rekon approve again for them\n`);
    return EXIT.error;
  }
  return EXIT.ok;
}

function entryJson(e: ApproveEntry): object {
  const d = e.decision;
  if (d.kind === "approve") {
    const { write, ...rest } = d;
    return { arg: e.arg, versionArn: e.versionArn, set: e.set, ...rest, approvedAt: write.value };
  }
  return { arg: e.arg, ...(e.versionArn ? { versionArn: e.versionArn, set: e.set } : {}), ...d };
}

function holdLines(holds: readonly Reason[], deletableAt: string | undefined): string[] {
  if (!holds.length) return ["  then: the next rekon apply deletes it"];
  return [`  still held by:${deletableAt ? ` (deletable from ${deletableAt})` : ""}`, ...holds.map((h) => `    ${h.rule}: ${h.message}`)];
}

/** What approve will do (or refuses), one block per argument. */
export function renderEntries(entries: readonly ApproveEntry[]): string {
  const lines: string[] = [];
  for (const e of entries) {
    const d = e.decision;
    lines.push(`${e.arg}${e.versionArn && e.versionArn !== e.arg ? `  ${e.versionArn}` : ""}`);
    if (d.kind === "refuse") lines.push(`  REFUSED (${d.rule}):`, ...d.reasons.map((r) => `    ${r.rule}: ${r.message}`));
    else if (d.kind === "already")
      lines.push(`  marked ${d.markedAt}; already approved at ${d.approvedAt}: nothing to write`, ...holdLines(d.holds, d.deletableAt));
    else lines.push(`  marked ${d.markedAt}; approve: ${APPROVAL_TAG}=${d.write.value}`, ...holdLines(d.holds, d.deletableAt));
    lines.push("");
  }
  return lines.join("\n");
}

async function confirm(writes: readonly Approved<ApprovalWrite>[], io: Io): Promise<void> {
  if (!io.stdin.isTTY)
    throw new RefusalError(
      `approve would tag ${writes.length} version(s) for deletion but stdin is not a terminal to confirm on; review the versions above and pass --yes`,
      "confirmation",
    );
  const rl = createInterface({ input: io.stdin, output: io.stderr });
  try {
    const answer = await rl.question(
      `\nrekon will approve the deletion of ${writes.length} version(s) listed above (rekon apply then deletes them once nothing else holds them; a deleted ` +
        `model can't be undeleted).\nType "yes" to approve: `,
    );
    if (answer.trim() !== "yes") throw new RefusalError("not confirmed; nothing was written", "confirmation");
  } finally {
    rl.close();
  }
}
