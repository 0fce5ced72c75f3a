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

const WORDS: Record<NotificationEventKind, string> = {
  refused: "refused",
  readFailed: "read failed",
  failed: "failed",
  marked: "marked",
  reminder: "reminder",
  pending: "pending",
  deleted: "deleted",
};

/** mrkdwn needs &, < and > escaped; everything else is shown as written. */
function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : s.slice(0, max - 1) + "…";
}

function line(e: NotificationItem): string {
  const who = [e.set ? `set ${e.set}` : "", e.owner ? `owner ${e.owner}` : "", e.account && e.region ? `${e.account}/${e.region}` : ""]
    .filter(Boolean)
    .join(", ");
  const what = e.versionName ? `\`${e.project}/${e.versionName}\`` : e.project ? `\`${e.project}\`` : "";
  const why = e.reasons.map((r) => `${r.rule}: ${r.message}`).join("; ");
  let detail = "";
  if (e.event === "marked" || e.event === "reminder")
    detail = [e.deletableAfter ? `deletable after ${e.deletableAfter}` : "", e.approve ? `approve: \`${e.approve}\`` : ""].filter(Boolean).join("; ");
  else if (e.event === "failed") detail = [e.operation, e.result, e.code, e.error].filter(Boolean).join(" ");
  else if (e.event === "refused" || e.event === "readFailed") detail = why;
  else if (e.event === "deleted") detail = e.requestId ? `request ${e.requestId}` : "";
  return cut(`• ${[what, who ? `(${who})` : "", detail ? `— ${detail}` : ""].filter(Boolean).join(" ")}`, 500);
}

function heading(kind: NotificationEventKind, n: number): string {
  return `*${TITLES[kind]}* (${n})`;
}

/**
 * Events to one Slack channel, in messages each within Slack's limits and naming every one of its events
 * by a line of its own. A 2xx is all rekon learns, and it is for a whole message: an event a message only
 * counts ("…and N more") would be taken as told to someone who never saw it — and under requireNotice its
 * version would become deletable. Packed in order, so the same events always make the same messages (and
 * the same delivery ids).
 */
export function slackParts(events: readonly NotificationItem[]): NotificationItem[][] {
  const parts: NotificationItem[][] = [];
  let part: NotificationItem[] = [];
  // Per kind in the current message: its events, and the length of their lines (each with its newline).
  let sizes = new Map<NotificationEventKind, { n: number; lines: number }>();
  for (const e of events) {
    const l = 1 + esc(line(e)).length;
    let s = sizes.get(e.event) ?? { n: 0, lines: 0 };
    // The section this event would go in, measured as section() renders it, heading count included.
    if (part.length > 0 && heading(e.event, s.n + 1).length + s.lines + l > SLACK_LIMITS.sectionText) {
      parts.push(part);
      part = [];
      sizes = new Map();
      s = { n: 0, lines: 0 };
    }
    part.push(e);
    sizes.set(e.event, { n: s.n + 1, lines: s.lines + l });
  }
  if (part.length) parts.push(part);
  return parts;
}

/**
 * One section per kind: every line when they fit in Slack's 3000 characters (slackParts sees that they
 * do), else as many as fit and then how many were left out. `named`: how many of `events` it names.
 */
function section(
  kind: NotificationEventKind,
  events: readonly NotificationItem[],
): { block: { type: "section"; text: { type: "mrkdwn"; text: string } }; named: number } {
  const head = heading(kind, events.length);
  const block = (lines: string[]) => ({ type: "section" as const, text: { type: "mrkdwn" as const, text: [head, ...lines].join("\n") } });
  const all = events.map((e) => esc(line(e)));
  if (head.length + all.reduce((n, l) => n + 1 + l.length, 0) <= SLACK_LIMITS.sectionText) return { block: block(all), named: events.length };
  const lines: string[] = [];
  let size = head.length;
  for (const [i, l] of all.entries()) {
    // Room for this line, and for the "…and N more" line that follows it.
    if (size + 1 + l.length + 40 > SLACK_LIMITS.sectionText) {
      lines.push(`…and ${events.length - i} more (see the JSON channel, the audit log or the plan)`);
      return { block: block(lines), named: i };
    }
    lines.push(l);
    size += 1 + l.length;
  }
  return { block: block(lines), named: events.length };
}

/**
 * A Slack message, and the delivery ids of the events it names (only those count as told when it is
 * delivered). `part`: which of the messages a batch was split into (slackParts), said in the header.
 */
export function slackBody(batch: Batch, sender: Sender, part?: { index: number; of: number }): { body: string; named: Set<string> } {
  const kinds = kindsOf(batch.events);
  const summary =
    kinds.map((k) => `${batch.events.filter((e) => e.event === k).length} ${WORDS[k]}`).join(", ") +
    (part && part.of > 1 ? `, message ${part.index + 1} of ${part.of}` : "");
  const first = batch.events[0];
  const header = { type: "header", text: { type: "plain_text", text: cut(`rekon: ${summary}`, SLACK_LIMITS.headerText) } };
  const sections = kinds.map((k) => {
    const of = batch.events.filter((e) => e.event === k);
    const s = section(k, of);
    return { block: s.block, ids: of.slice(0, s.named).map((e) => e.deliveryId) };
  });
  // Seven kinds at most, so far below 50 blocks; should that change, a section left out names nothing.
  const kept = sections.slice(0, SLACK_LIMITS.blocks - 2);
  const context = [
    first ? `manifests ${first.manifests.revision.slice(0, 19)}` : "",
    first ? `policy ${first.policy.name} (${first.policy.digest.slice(0, 19)})` : "",
    `rekon ${sender.version} ${sender.command}`,
    `delivery ${batch.deliveryId}`,
  ]
    .filter(Boolean)
    .join(" · ");
  const blocks = [header, ...kept.map((s) => s.block), { type: "context", elements: [{ type: "mrkdwn", text: esc(cut(context, SLACK_LIMITS.sectionText)) }] }];
  const text = cut(`rekon: ${summary}${first?.project ? ` (${first.project}${batch.events.length > 1 ? ", …" : ""})` : ""}`, SLACK_LIMITS.fallbackText);
  return { body: JSON.stringify({ text, blocks }), named: new Set(kept.flatMap((s) => s.ids)) };
}
