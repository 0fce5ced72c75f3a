// Request bodies: `json` (schemas/notification.schema.json) and `slack` (Block Kit for an incoming webhook).
// Pure: the same batch always gives the same bytes, so a retried request carries the same body and signature.
import type { NotificationEventKind } from "../types.js";
import type { NotificationItem } from "./events.js";

export const PAYLOAD_API_VERSION = "rekon.dev/v1alpha1";
export const PAYLOAD_KIND = "NotificationBatch";

/** Events to one channel in one request. */
export interface Batch {
  channel: string;
  /** X-Rekon-Delivery: derived from the events' own ids (events.ts batchIdFor). */
  deliveryId: string;
  events: NotificationItem[];
}

/** Who sends: rekon's version, which command, which controller cycle. */
export interface Sender {
  version: string;
  command: "run" | "apply";
  cycleId?: string;
}

/** The order kinds are listed in, in headers and in Slack messages. */
export const KIND_ORDER: readonly NotificationEventKind[] = ["refused", "readFailed", "failed", "marked", "reminder", "pending", "deleted"];

export function kindsOf(events: readonly NotificationItem[]): NotificationEventKind[] {
  const present = new Set(events.map((e) => e.event));
  return KIND_ORDER.filter((k) => present.has(k));
}

export function jsonBody(batch: Batch, sender: Sender): string {
  const counts = Object.fromEntries(kindsOf(batch.events).map((k) => [k, batch.events.filter((e) => e.event === k).length]));
  return JSON.stringify({
    apiVersion: PAYLOAD_API_VERSION,
    kind: PAYLOAD_KIND,
    deliveryId: batch.deliveryId,
    channel: batch.channel,
    sender: { name: "rekon", version: sender.version, command: sender.command, ...(sender.cycleId ? { cycleId: sender.cycleId } : {}) },
    counts,
    events: batch.events,
  });
}

// ---- Slack ----

/** Slack's limits (Block Kit reference): 50 blocks per message, 3000 characters per section text, 150 per header. */
export const SLACK_LIMITS = { blocks: 50, sectionText: 3000, headerText: 150, fallbackText: 3000 } as const;

const TITLES: Record<NotificationEventKind, string> = {
  refused: "Run refused: nothing was written",
  readFailed: "Reads failed: nothing they concern was deleted",
  failed: "Writes failed or unknown",
  marked: "Marked for deletion",
  reminder: "Deletion coming up",
  pending: "Would be deleted (rekon run without --apply)",
  deleted: "Deleted",
};

const WORDS: Record<NotificationEventKind, string> = { refused: "refused", readFailed: "read failed", failed: "failed", marked: "marked", reminder: "reminder", pending: "pending", deleted: "deleted" };

/** mrkdwn needs &, < and > escaped; everything else is shown as written. */
function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max - 1) + "…";
}

function line(e: NotificationItem): string {
  const who = [e.set ? `set ${e.set}` : "", e.owner ? `owner ${e.owner}` : "", e.account && e.region ? `${e.account}/${e.region}` : ""].filter(Boolean).join(", ");
  const what = e.versionName ? `\`${e.project}/${e.versionName}\`` : e.project ? `\`${e.project}\`` : "";
  const why = e.reasons.map((r) => `${r.rule}: ${r.message}`).join("; ");
  let detail = "";
  if (e.event === "marked" || e.event === "reminder") detail = e.deletableAfter ? `deletable after ${e.deletableAfter}` : "";
  else if (e.event === "failed") detail = [e.operation, e.result, e.code, e.error].filter(Boolean).join(" ");
  else if (e.event === "refused" || e.event === "readFailed") detail = why;
  else if (e.event === "deleted") detail = e.requestId ? `request ${e.requestId}` : "";
  return cut(`• ${[what, who ? `(${who})` : "", detail ? `— ${detail}` : ""].filter(Boolean).join(" ")}`, 500);
}

/** One section per kind: as many lines as fit in Slack's 3000 characters, then how many were left out. */
function section(kind: NotificationEventKind, events: readonly NotificationItem[]): { type: "section"; text: { type: "mrkdwn"; text: string } } {
  const head = `*${TITLES[kind]}* (${events.length})`;
  const lines: string[] = [];
  let size = head.length;
  for (const [i, e] of events.entries()) {
    const l = esc(line(e));
    const rest = events.length - i - 1;
    // Room for this line, and for the "…and N more" line should anything follow.
    if (size + 1 + l.length + (rest > 0 ? 40 : 0) > SLACK_LIMITS.sectionText) {
      lines.push(`…and ${events.length - i} more (see the JSON channel, the audit log or the plan)`);
      break;
    }
    lines.push(l);
    size += 1 + l.length;
  }
  return { type: "section", text: { type: "mrkdwn", text: [head, ...lines].join("\n") } };
}

export function slackBody(batch: Batch, sender: Sender): string {
  const kinds = kindsOf(batch.events);
  const summary = kinds.map((k) => `${batch.events.filter((e) => e.event === k).length} ${WORDS[k]}`).join(", ");
  const first = batch.events[0];
  const blocks: object[] = [{ type: "header", text: { type: "plain_text", text: cut(`rekon: ${summary}`, SLACK_LIMITS.headerText) } }];
  for (const k of kinds) blocks.push(section(k, batch.events.filter((e) => e.event === k)));
  const context = [first ? `manifests ${first.manifests.revision.slice(0, 19)}` : "", first ? `policy ${first.policy.name} (${first.policy.digest.slice(0, 19)})` : "", `rekon ${sender.version} ${sender.command}`, `delivery ${batch.deliveryId}`].filter(Boolean).join(" · ");
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: esc(cut(context, SLACK_LIMITS.sectionText)) }] });
  // Seven kinds at most, so far below 50 blocks; the cap holds should that ever change.
  const capped = blocks.length > SLACK_LIMITS.blocks ? [...blocks.slice(0, SLACK_LIMITS.blocks - 1), blocks.at(-1)!] : blocks;
  const text = cut(`rekon: ${summary}${first?.project ? ` (${first.project}${batch.events.length > 1 ? ", …" : ""})` : ""}`, SLACK_LIMITS.fallbackText);
  return JSON.stringify({ text, blocks: capped });
}
