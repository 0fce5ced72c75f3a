// Slack messages name what they count: over generated batches (every kind, names long and short, with the
// characters mrkdwn escapes), the split keeps every event, in order, each in exactly one message that names
// it within Slack's limits; and a message that had to leave events out does not claim them.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KIND_ORDER, slackBody, slackParts, SLACK_LIMITS, type Batch } from "../../reconciler/notify/format.js";
import type { NotificationItem } from "../../reconciler/notify/events.js";
import type { NotificationEventKind } from "../../reconciler/types.js";

const RUNS = Number(process.env.REKON_PROPERTY_RUNS ?? 60);
const SENDER = { version: "test", command: "apply" as const };

type Body = { text: string; blocks: { type: string; text?: { text: string } }[] };

function item(i: number, event: NotificationEventKind, name: string, detail: string): NotificationItem {
  return {
    event,
    deliveryId: `id-${i}`,
    time: "2026-11-28T12:00:00.000Z",
    account: "123456789012",
    region: "us-east-1",
    project: "p1",
    versionName: name,
    versionArn: `arn:aws:rekognition:us-east-1:123456789012:project/p1/version/${name}/${i}`,
    set: "p1-set",
    owner: "team-vision",
    reasons: [{ rule: "minAge", message: detail }],
    deletableAfter: "2026-12-01T12:00:00.000Z",
    error: detail,
    policy: { name: "test", digest: "sha256:policy" },
    manifests: { revision: "3f1c0ffee", digest: "sha256:m" },
  };
}

const events = fc
  // size "max": fast-check's default keeps arrays and strings short, and a batch must be long for the split to matter.
  .array(fc.record({ kind: fc.constantFrom(...KIND_ORDER), name: fc.stringMatching(/^[a-z0-9.<>&-]{1,120}$/, { size: "max" }), detail: fc.stringMatching(/^[ a-z<>&]{0,700}$/, { size: "max" }) }), { minLength: 1, maxLength: 300, size: "max" })
  // Names unique, as version names in one project are, so each can be looked for in the text.
  .map((xs) => xs.map((x, i) => item(i, x.kind, `${x.name}#${i}#`, x.detail)));

const batchOf = (evs: NotificationItem[]): Batch => ({ channel: "team-slack", deliveryId: "batch", events: evs });

describe("Slack messages (slackParts, slackBody)", () => {
  it("every event lands in exactly one message, in order, and that message names it within Slack's limits", () => {
    fc.assert(
      fc.property(events, (evs) => {
        const parts = slackParts(evs);
        expect(parts.flat()).toEqual(evs);
        for (const [index, part] of parts.entries()) {
          expect(part.length).toBeGreaterThan(0);
          const { body, named } = slackBody(batchOf(part), SENDER, { index, of: parts.length });
          expect([...named].sort()).toEqual(part.map((e) => e.deliveryId).sort());
          const b = JSON.parse(body) as Body;
          expect(b.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
          expect(b.blocks[0]!.text!.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
          const sections = b.blocks.filter((x) => x.type === "section").map((x) => x.text!.text);
          for (const s of sections) expect(s.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
          const all = sections.join("\n");
          expect(all).not.toMatch(/…and \d+ more/);
          // Named by its line (the name as mrkdwn shows it, in its project's backticks).
          for (const e of part) expect(all).toContain(`\`p1/${e.versionName!.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")}\``);
        }
      }),
      // Shrinking a batch of hundreds of events takes minutes; the first counterexample says enough.
      { numRuns: RUNS, endOnFailure: true },
    );
  });

  it("a batch too large for one message, rendered whole, names only the lines it shows", () => {
    const evs = Array.from({ length: 60 }, (_, i) => item(i, "marked", `old-${String(i).padStart(3, "0")}`, ""));
    const { body, named } = slackBody(batchOf(evs), SENDER);
    const text = (JSON.parse(body) as Body).blocks.filter((x) => x.type === "section").map((x) => x.text!.text).join("\n");
    const more = /…and (\d+) more/.exec(text);
    expect(more).not.toBeNull();
    expect(named.size).toBe(60 - Number(more![1]));
    for (const e of evs) expect(text.includes(`\`p1/${e.versionName}\``)).toBe(named.has(e.deliveryId));
  });
});

describe("a marked notice's approve command (requireApproval)", () => {
  it("is shown on the version's line, after when it becomes deletable; absent, the line is as before", () => {
    const cmd = "rekon approve p1/v7 --manifests manifests --policy policy.yaml";
    const withCmd = { ...item(1, "marked", "v7", "x"), approve: cmd };
    const text = (JSON.parse(slackBody(batchOf([withCmd]), SENDER, { index: 0, of: 1 }).body) as Body).blocks.map((b) => b.text?.text ?? "").join("\n");
    expect(text).toContain(`— deletable after 2026-12-01T12:00:00.000Z; approve: \`${cmd}\``);
    const plain = (JSON.parse(slackBody(batchOf([item(1, "marked", "v7", "x")]), SENDER, { index: 0, of: 1 }).body) as Body).blocks.map((b) => b.text?.text ?? "").join("\n");
    expect(plain).toContain("— deletable after 2026-12-01T12:00:00.000Z");
    expect(plain).not.toContain("approve");
  });
});
