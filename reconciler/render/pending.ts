// `rekon pending` as text: one block per version, soonest deletable first, each with what it waits for (and
// until when), its mark, notice, approval and signature, and the command that approves it where a person's
// approval is what is missing.
import { formatDuration } from "../duration.js";
import type { PendingRow, PendingWait } from "../pending.js";
import type { Style } from "./style.js";

const WAIT_WORDS: Record<PendingWait["kind"], string> = {
  gracePeriod: "grace period",
  notice: "notice",
  approval: "approval",
  window: "deletion window",
  suspended: "suspension",
  signature: "signature",
  refused: "refused run",
  kept: "kept",
};

/** When, and how far from `now`: "2026-12-07T10:00:00.000Z (in 1d12h)". */
export function when(at: string, now: number): string {
  const ms = Date.parse(at) - now;
  return ms > 0 ? `${at} (in ${formatDuration(ms)})` : `${at} (now)`;
}

/** A row's approve command, where its approval is missing and its mark counts (an approval must come after the mark). */
export type ApproveFor = (row: PendingRow) => string | undefined;

export function renderPending(rows: readonly PendingRow[], generatedAt: string, s: Style, approveFor: ApproveFor): string {
  const now = Date.parse(generatedAt);
  if (rows.length === 0) return `nothing is marked or about to be marked for deletion (as of ${generatedAt})\n`;
  const lines = [`${rows.length} version(s) marked or about to be marked for deletion (as of ${generatedAt}), soonest first:`, ""];
  for (const r of rows) {
    const head =
      r.state === "deletable"
        ? s.red("deletable now: apply deletes it")
        : r.state === "unmarking"
          ? s.dim("kept: apply removes its mark")
          : r.deletableAt
            ? s.yellow(`deletable at ${when(r.deletableAt, now)}`)
            : s.yellow("deletable at: unknown (a wait below has no set end)");
    lines.push(`${s.bold(`${r.project}/${r.version}`)}  ${head}`);
    lines.push(`  ${r.versionArn}  (${r.region}${r.account ? `, account ${r.account}` : ""}, set "${r.set}", ${r.status})`);
    const sig = r.signature ? `, signature ${r.signature === "verified" ? "verified" : s.yellow(r.signature)}` : "";
    const mark =
      r.markedAt !== undefined
        ? `marked ${r.markedAt}${sig}${r.markAdded ? "; it does not count, apply marks it again" : ""}`
        : "not marked yet: apply marks it now";
    lines.push(`  mark: ${mark}`);
    for (const w of r.waits) lines.push(`  waits for ${WAIT_WORDS[w.kind]}${w.until ? ` until ${when(w.until, now)}` : ""}: ${w.message}`);
    if (r.notice) lines.push(`  notice: ${r.notice.state}${r.notice.deliveredAt ? ` (a channel accepted it at ${r.notice.deliveredAt})` : ""}`);
    if (r.approval) lines.push(`  approval: ${r.approval.state}${r.approval.approvedAt ? ` (approved at ${r.approval.approvedAt})` : ""}`);
    const cmd = approveFor(r);
    if (cmd) lines.push(`  approve with: ${cmd}`);
    lines.push("");
  }
  return lines.join("\n");
}
