// The status page's HTML and the board behind it, from hand-made snapshots: every outside value escaped,
// the countdown's words, withdrawn numbers after a cycle that could not plan, bounded lists, and secrets
// scrubbed from every answer.
import { describe, expect, it } from "vitest";
import { StatusBoard, MAX_WRITES } from "../../reconciler/controller/status.js";
import type { AuditRecord } from "../../reconciler/controller/audit.js";
import { countdown, esc, renderStatusPage, STATUS_CSP } from "../../reconciler/render/status-page.js";
import type { PlanStatus, StatusSnapshot } from "../../reconciler/types/status.js";

const EVIL = `<script>alert("x")</script>'"&`;
const ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&quot;&amp;";
const NOW = "2026-12-05T12:00:00.000Z";

function plan(o: Partial<PlanStatus> = {}): PlanStatus {
  return {
    planAt: NOW,
    policy: { source: EVIL, name: EVIL },
    summary: { delete: 0, keep: 1, blocked: 1, missing: 0, start: 0, stop: 0 },
    refusals: [],
    projects: [{ project: EVIL, region: EVIL, account: EVIL, set: EVIL, read: "error", error: EVIL, kept: 1, blocked: 1, marked: 1, deletable: 0 }],
    pending: [
      {
        project: EVIL,
        region: "us-east-1",
        set: EVIL,
        version: EVIL,
        versionArn: EVIL,
        status: "STOPPED",
        state: "waiting",
        markedAt: EVIL,
        deletableAt: "2026-12-06T13:01:02.000Z",
        waits: [{ kind: "gracePeriod", rule: EVIL, until: "2026-12-06T13:01:02.000Z", message: EVIL }],
        notice: { state: "delivered", deliveredAt: EVIL },
        approval: { state: "missing" },
        signature: "forged",
      },
    ],
    pendingTotal: 1,
    suspensions: [{ scope: EVIL, reason: EVIL, until: EVIL, origin: EVIL }],
    nextDeletionAllowedAt: "2026-12-05T13:00:00.000Z",
    inferenceUnits: { now: 0, after: 0 },
    ...o,
  };
}

function snap(o: Partial<StatusSnapshot> = {}): StatusSnapshot {
  return {
    schema: "rekon.status/v1",
    now: NOW,
    controller: { apply: true, intervalMs: 300_000, startedAt: NOW, cycles: 3, running: false },
    lastCycle: { id: EVIL, result: "refused", startedAt: NOW, durationMs: 1234, refusals: [{ rule: "manifestsStale", message: EVIL }] },
    plan: plan(),
    writes: [{ time: NOW, operation: "delete", result: "failed", project: EVIL, region: EVIL, version: EVIL, versionArn: EVIL, requestId: EVIL, code: EVIL, error: EVIL }],
    ...o,
  };
}

describe("renderStatusPage", () => {
  it("escapes every value that came from outside: no markup but the page's own", () => {
    const html = renderStatusPage(snap());
    expect(html).not.toContain("<script>alert");
    expect(html).not.toContain(`'"&<`);
    // Each field above carries EVIL: the escaped form appears once per field shown.
    expect(html.split(ESCAPED).length - 1).toBeGreaterThanOrEqual(20);
    expect((html.match(/<script/g) ?? []).length).toBe(1);
    expect(html).toContain('<script src="/status.js" defer></script>');
  });

  it("a marked version's countdown, in words the script repeats; the next window's countdown", () => {
    const html = renderStatusPage(snap());
    expect(html).toContain('<time class="countdown" datetime="2026-12-06T13:01:02.000Z">in 1d 1h 1m 2s</time>');
    expect(html).toContain('<time class="countdown" datetime="2026-12-05T13:00:00.000Z">in 1h 0m 0s</time>');
    expect(html).toContain('<meta http-equiv="refresh" content="30">');
  });

  it("the refusal is shown; no plan means the numbers are withdrawn", () => {
    expect(renderStatusPage(snap())).toContain(`Refused: nothing was deleted.</p><ul><li><code>manifestsStale</code> ${ESCAPED}</li></ul>`);
    const html = renderStatusPage(snap({ plan: undefined }));
    expect(html).toContain("No plan from the last cycle");
    expect(html).not.toContain('id="projects"');
    expect(html).not.toContain('id="pending"');
  });

  it("before the first cycle", () => {
    const s = snap({ writes: [] });
    delete s.lastCycle;
    delete s.plan;
    expect(renderStatusPage({ ...s, controller: { ...s.controller, running: true } })).toContain("The first cycle is running.");
    expect(renderStatusPage(s)).toContain("No write since this controller started.");
  });

  it.each([
    [0, "now"],
    [-5, "now"],
    [999, "in 0s"],
    [59_000, "in 59s"],
    [61_000, "in 1m 1s"],
    [3_600_000, "in 1h 0m 0s"],
    [90_061_000, "in 1d 1h 1m 1s"],
  ])("countdown(%i) = %s", (ms, words) => expect(countdown(ms)).toBe(words));

  it("esc", () => expect(esc(EVIL)).toBe(ESCAPED));

  it("the CSP allows no inline script, only the page's style block by hash", () => {
    expect(STATUS_CSP).toMatch(/^default-src 'none'; script-src 'self'; style-src 'sha256-[A-Za-z0-9+/=]{44}'; img-src data:;/);
    expect(STATUS_CSP).not.toContain("unsafe");
  });
});

describe("StatusBoard", () => {
  const rec = (i: number): AuditRecord =>
    ({ time: `t${i}`, operation: "mark", result: "accepted", project: "p", region: "r", versionName: `v${i}`, versionArn: `arn${i}`, requestId: `req${i}` }) as AuditRecord;

  it("keeps the newest writes first, at most MAX_WRITES", () => {
    const b = new StatusBoard({ apply: false, intervalMs: 1, startedAt: 0 });
    for (let i = 0; i < MAX_WRITES + 7; i++) b.record(rec(i));
    const s = b.snapshot({ cycles: 0, running: false }, 0);
    expect(s.writes).toHaveLength(MAX_WRITES);
    expect(s.writes[0]).toEqual({ time: `t${MAX_WRITES + 6}`, operation: "mark", result: "accepted", project: "p", region: "r", version: `v${MAX_WRITES + 6}`, versionArn: `arn${MAX_WRITES + 6}`, requestId: `req${MAX_WRITES + 6}` });
  });

  it("a cycle without a plan withdraws the last plan", () => {
    const b = new StatusBoard({ apply: true, intervalMs: 1, startedAt: 0 });
    b.cycle({ id: "1", result: "ok", startedAt: NOW, durationMs: 1, refusals: [] }, plan());
    expect(b.snapshot({ cycles: 1, running: false }).plan).toBeDefined();
    b.cycle({ id: "2", result: "invalid", startedAt: NOW, durationMs: 1, refusals: [] }, undefined);
    const s = b.snapshot({ cycles: 2, running: false });
    expect(s.plan).toBeUndefined();
    expect(s.lastCycle).toMatchObject({ id: "2", result: "invalid" });
  });

  it("scrubs the secrets it is given from every answer, wherever they appear", () => {
    const hook = "https://hooks.example.com/services/T0/B0/secret-token-xyz";
    const b = new StatusBoard({ apply: true, intervalMs: 1, startedAt: 0 }, () => [hook, "tag-key-0123456789"]);
    b.cycle({ id: "1", result: "failed", startedAt: NOW, durationMs: 1, refusals: [{ rule: "notificationsUnavailable", message: `cannot reach ${hook}` }] }, undefined);
    b.record({ ...rec(1), error: "signed with tag-key-0123456789" });
    const body = JSON.stringify(b.snapshot({ cycles: 1, running: false }));
    expect(body).not.toContain("secret-token-xyz");
    expect(body).not.toContain("tag-key-0123456789");
    expect(body).toContain("cannot reach [redacted]");
  });
});
