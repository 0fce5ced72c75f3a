// Notifications against a real HTTP receiver on loopback: signatures, retries after 500s and 429s (with
// Retry-After), final 4xx, a receiver that is down, batching (one request per channel per run), the
// payload against its JSON Schema, the Slack format's shape and limits, stable delivery ids, and channel
// secrets that never appear in a message.
import { Writable } from "node:stream";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Gate } from "../../reconciler/gate/index.js";
import { planWith } from "../../reconciler/plan.js";
import { formatMark, MARK_TAG, NOTICE_TAG, REMINDER_TAG } from "../../reconciler/policy/guards.js";
import { startEmulator } from "../../reconciler/emulator/server.js";
import { applyPass, passFor } from "../../reconciler/reconcile.js";
import { TEST_CREDENTIALS } from "../helpers/emulator-env.js";
import { resolveChannels } from "../../reconciler/notify/channels.js";
import { deliver, signature } from "../../reconciler/notify/deliver.js";
import { owedEvents, planEvents, resultEvents, type EventContext } from "../../reconciler/notify/events.js";
import { SLACK_LIMITS } from "../../reconciler/notify/format.js";
import { Notifier } from "../../reconciler/notify/notifier.js";
import type { NotificationChannel, Policy, PolicySet, WriteResult } from "../../reconciler/types.js";
import { desired, liveProject, liveState, NOW, policy, set, version } from "../helpers/builders.js";
import { schemaErrors, signedWith, startReceiver, type Receiver } from "../helpers/receiver.js";

const H = 3_600_000;
const FAST = { retries: 3, minTimeoutMs: 20, maxTimeoutMs: 100, attemptTimeoutMs: 2_000, maxTotalMs: 5_000 };
const SECRET = "s3cr3t-hmac-key-for-tests";

let rx: Receiver;
beforeEach(async () => {
  rx = await startReceiver();
});
afterEach(async () => {
  await rx.close();
});

function capture() {
  let out = "";
  const log = pino({ level: "trace" }, new Writable({ write: (c, _e, cb) => ((out += c), cb()) }));
  return { log, text: () => out };
}

const channel = (name: string, o: Partial<NotificationChannel> = {}): NotificationChannel => ({ name, url: { fromEnv: `REKON_${name.toUpperCase().replace(/-/g, "_")}_URL` }, format: "json", events: ["marked", "reminder", "deleted", "failed", "refused", "readFailed", "pending"], origin: "test", ...o });

/** A world of `n` deletable versions under a 72h grace period: the plan marks them all. */
function world(n: number, pol: Partial<Policy> = {}) {
  const versions = [version("keep", { ageHours: 1, tags: {} }), ...Array.from({ length: n }, (_, i) => version(`old-${String(i).padStart(3, "0")}`, { tags: {} }))];
  const s = { ...set("p1", ["keep"]), owner: "team-vision" };
  const live = liveState([liveProject(versions)]);
  const policies: PolicySet = { operator: policy({ gracePeriodMs: 72 * H, gracePeriod: "72h", maxDeletesPerRun: 1000, digest: "sha256:policy", ...pol }), scoped: [] };
  const d = desired(s);
  const plan = planWith(Gate.assess({ desired: d, live, policies, now: NOW }), NOW);
  const ctx: EventContext = { plan, desired: d, policies, live, gitRevision: "3f1c0ffee" };
  const marked: WriteResult[] = plan.actions.filter((a) => a.mark === "add").map((a) => ({ project: a.project, region: a.region, versionName: a.versionName, versionArn: a.versionArn!, operation: "mark", result: "accepted" }));
  return { ctx, plan, marked };
}

describe("delivery (deliver): one POST, retried and bounded", () => {
  const req = (path = "/hook/a") => ({ url: `${rx.url}${path}`, secret: SECRET, body: '{"hello":"world"}', event: "marked", deliveryId: "0123456789abcdef0123456789abcdef", userAgent: "rekon/test" });

  it("2xx is delivered; the body is signed the way GitHub signs webhooks; the headers say what and which delivery", async () => {
    const out = await deliver(req(), FAST);
    expect(out).toMatchObject({ ok: true, status: 200, attempts: 1 });
    const r = rx.requests[0]!;
    expect(r.headers).toMatchObject({ "content-type": "application/json", "x-rekon-event": "marked", "x-rekon-delivery": "0123456789abcdef0123456789abcdef", "user-agent": "rekon/test" });
    expect(signedWith(r, SECRET)).toBe(true);
    expect(signedWith(r, "another key")).toBe(false);
    expect(r.headers["x-rekon-signature"]).toBe(signature(SECRET, '{"hello":"world"}'));
    // No secret, no signature header.
    await deliver({ ...req(), secret: undefined as never }, FAST);
    expect(rx.requests[1]!.headers["x-rekon-signature"]).toBeUndefined();
  });

  it("500s are retried with the same body and delivery id until a 2xx", async () => {
    rx.answer((n) => ({ status: n < 2 ? 500 : 204 }));
    const out = await deliver(req(), FAST);
    expect(out).toMatchObject({ ok: true, status: 204, attempts: 3 });
    expect(new Set(rx.requests.map((r) => r.body)).size).toBe(1);
    expect(new Set(rx.requests.map((r) => r.headers["x-rekon-delivery"])).size).toBe(1);
    expect(rx.requests.every((r) => signedWith(r, SECRET))).toBe(true);
  });

  it("429 with Retry-After is waited out before the next attempt", async () => {
    rx.answer((n) => (n === 0 ? { status: 429, headers: { "retry-after": "1" } } : { status: 200 }));
    const out = await deliver(req(), FAST);
    expect(out).toMatchObject({ ok: true, attempts: 2 });
    expect(rx.requests[1]!.at - rx.requests[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it("a Retry-After past the bound is not waited for; other 4xx are final", async () => {
    rx.answer(() => ({ status: 429, headers: { "retry-after": "3600" } }));
    const started = Date.now();
    expect(await deliver(req(), FAST)).toMatchObject({ ok: false, attempts: 1, status: 429, error: expect.stringContaining("past the 5s bound") });
    expect(Date.now() - started).toBeLessThan(2_000);
    rx.answer(() => ({ status: 404 }));
    expect(await deliver(req(), FAST)).toMatchObject({ ok: false, attempts: 1, status: 404, error: "HTTP 404 after 1 attempt" });
    rx.answer(() => ({ status: 302, headers: { location: "http://127.0.0.1:1/elsewhere" } }));
    expect(await deliver(req(), FAST)).toMatchObject({ ok: false, attempts: 1, status: 302 });
  });

  it("a receiver that is down: retried within the bound, then given up, naming no URL", async () => {
    await rx.stop();
    const started = Date.now();
    const out = await deliver(req("/hook/very-secret-path"), FAST);
    expect(out).toMatchObject({ ok: false, attempts: 4, error: "ECONNREFUSED after 4 attempts" });
    expect(Date.now() - started).toBeLessThan(FAST.maxTotalMs);
  });
});

describe("the notifier: events to channels, one request per channel per run", () => {
  const env = { REKON_PLATFORM_URL: "", REKON_TEAM_SLACK_URL: "", REKON_SECRET: SECRET };
  const setup = (pol: Partial<Policy>) => {
    const e = { ...env, REKON_PLATFORM_URL: `${rx.url}/hook/platform-T0K3N`, REKON_TEAM_SLACK_URL: `${rx.url}/services/T000/B000/XXXXSLACKTOKEN` };
    const { log, text } = capture();
    const observed: string[] = [];
    const notifier = new Notifier({ log, env: e, command: "run", version: "test", delivery: FAST, observe: (c, ev, r, n) => observed.push(`${c} ${ev} ${r} ${n}`) });
    return { notifier, text, observed, pol };
  };

  it("200 marks: one JSON request, and Slack messages that each name their share, all valid and within limits, with stable delivery ids", async () => {
    const channels = [channel("platform", { secret: { fromEnv: "REKON_SECRET" } }), channel("team-slack", { format: "slack" })];
    const { ctx, marked } = world(200, { notifications: channels });
    const { notifier, observed, text } = setup({});
    const prepared = notifier.prepare(ctx.policies);
    expect(prepared.problems).toEqual([]);
    const hook = notifier.run(prepared, ctx, { cycleId: "c1" }).hook();
    const got = await hook.deliver(marked);
    const jsons = rx.requests.filter((r) => r.path.startsWith("/hook/"));
    const slack = rx.requests.filter((r) => r.path.startsWith("/services/"));
    expect(jsons).toHaveLength(1);
    expect(slack.length).toBeGreaterThan(1);
    const json = jsons[0]!;

    // JSON: the schema, the signature, one event per mark, the set's owner, the manifests revision.
    expect(schemaErrors(json.json)).toEqual([]);
    expect(signedWith(json, SECRET)).toBe(true);
    expect(json.headers["x-rekon-event"]).toBe("marked");
    expect(json.json.deliveryId).toBe(json.headers["x-rekon-delivery"]);
    expect(json.json.events).toHaveLength(200);
    expect(json.json.events![0]).toMatchObject({ event: "marked", owner: "team-vision", set: "p1-set", project: "p1", account: "123456789012", region: "us-east-1", markedAt: formatMark(NOW.getTime()), deletableAfter: new Date(NOW.getTime() + 72 * H).toISOString(), manifests: { revision: "3f1c0ffee" }, policy: { digest: "sha256:policy" } });
    expect(got.marked.size).toBe(200);

    // Slack: Block Kit within Slack's limits, a text fallback; the marks split over messages, each named once.
    const named: string[] = [];
    let counted = 0;
    for (const [i, m] of slack.entries()) {
      const body = m.json as { text: string; blocks: { type: string; text?: { type: string; text: string }; elements?: { text: string }[] }[] };
      expect(m.headers["x-rekon-signature"]).toBeUndefined();
      expect(body.text).toMatch(new RegExp(`^rekon: \\d+ marked, message ${i + 1} of ${slack.length}`));
      expect(body.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
      expect(body.blocks[0]).toMatchObject({ type: "header", text: { type: "plain_text" } });
      expect(body.blocks[0]!.text!.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
      const sections = body.blocks.filter((b) => b.type === "section");
      expect(sections).toHaveLength(1);
      const t = sections[0]!.text!.text;
      expect(t.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
      expect(t).toMatch(/^\*Marked for deletion\* \(\d+\)\n• `p1\/old-/);
      expect(t).not.toMatch(/…and \d+ more/);
      counted += Number(/\((\d+)\)/.exec(t)![1]);
      named.push(...[...t.matchAll(/`p1\/(old-\d+)`/g)].map((x) => x[1]!));
      expect(body.blocks.at(-1)).toMatchObject({ type: "context" });
    }
    expect(counted).toBe(200);
    expect(named.sort()).toEqual(json.json.events!.map((e) => e.versionName!).sort());

    // The same run told again (a retry, a restarted controller): the same ids.
    const again = await startReceiver();
    try {
      const n2 = new Notifier({ log: pino({ level: "silent" }), env: { REKON_PLATFORM_URL: `${again.url}/hook/x`, REKON_TEAM_SLACK_URL: `${again.url}/s`, REKON_SECRET: SECRET }, command: "run", version: "test", delivery: FAST });
      await n2.run(n2.prepare(ctx.policies), ctx).hook().deliver(marked);
      const j2 = again.requests.find((r) => r.path === "/hook/x")!;
      expect(j2.json.deliveryId).toBe(json.json.deliveryId);
      expect(j2.json.events!.map((e) => e.deliveryId)).toEqual(json.json.events!.map((e) => e.deliveryId));
      expect(again.requests.filter((r) => r.path === "/s").map((r) => r.headers["x-rekon-delivery"])).toEqual(slack.map((r) => r.headers["x-rekon-delivery"]));
    } finally {
      await again.close();
    }
    // Ids differ per channel, so one receiver behind two channels does not drop one of them.
    expect(slack.map((r) => r.headers["x-rekon-delivery"])).not.toContain(json.json.deliveryId);

    const perChannel = new Map<string, number>();
    for (const o of observed) {
      const [c, ev, r, n] = o.split(" ");
      expect([ev, r]).toEqual(["marked", "delivered"]);
      perChannel.set(c!, (perChannel.get(c!) ?? 0) + Number(n));
    }
    expect(Object.fromEntries(perChannel)).toEqual({ platform: 200, "team-slack": 200 });
    expect(text()).toContain('"msg":"notification delivered to channel platform"');
    for (const s of ["platform-T0K3N", "XXXXSLACKTOKEN", SECRET, rx.url]) expect(text()).not.toContain(s);
  });

  it("routes by subscription and by project: a layer's channel hears only about its projects; refused goes to all", async () => {
    const ops = channel("platform", { events: ["refused", "deleted"] });
    const { ctx } = world(2, { notifications: [ops] });
    const layered: PolicySet = { ...ctx.policies, scoped: [{ name: "team", pos: { file: "m.yaml", line: 1, col: 1 }, projects: ["other"], projectPos: [], spec: { notifications: [channel("team-slack", { events: ["refused", "marked"] })] }, fieldPos: {} }] };
    const { notifier } = setup({});
    const c2: EventContext = { ...ctx, policies: layered, plan: { ...ctx.plan, refusals: [{ rule: "maxDeletesPerRun", message: "over budget" }] } };
    await notifier.run(notifier.prepare(layered), c2).planOnly({ pending: false });
    expect(rx.requests.map((r) => [r.path.split("/")[1], r.headers["x-rekon-event"]]).sort()).toEqual([["hook", "refused"], ["services", "refused"]]);
    // A mark in p1 is not for the layer's channel (it selects "other"), nor for platform (no `marked`).
    rx.requests.length = 0;
    await notifier.run(notifier.prepare(layered), { ...ctx, policies: layered }).hook().deliver(world(1).marked);
    expect(rx.requests).toEqual([]);
  });

  it("refused and readFailed are told once while they last (a controller's memory), and again when they come back", async () => {
    const { ctx } = world(1, { notifications: [channel("platform")] });
    const { notifier } = setup({});
    const refused: EventContext = { ...ctx, plan: { ...ctx.plan, refusals: [{ rule: "manifestsStale", message: "the manifests are 2h old" }] } };
    const cycle = (c: EventContext) => notifier.run(notifier.prepare(c.policies), c).planOnly({ pending: false });
    await cycle(refused);
    await cycle(refused);
    expect(rx.requests).toHaveLength(1);
    await cycle(ctx); // cleared
    await cycle(refused);
    expect(rx.requests).toHaveLength(2);
    expect(rx.requests[0]!.json.events![0]!.deliveryId).toBe(rx.requests[1]!.json.events![0]!.deliveryId);
  });

  it("pending: at most once per version per mark", async () => {
    const { ctx } = world(0, { notifications: [channel("platform")], gracePeriodMs: 0, gracePeriod: "0s" });
    const versions = [version("keep", { ageHours: 1 }), version("old")];
    const live = liveState([liveProject(versions)]);
    const plan = planWith(Gate.assess({ desired: ctx.desired, live, policies: ctx.policies, now: NOW }), NOW);
    const c: EventContext = { ...ctx, plan, live };
    const { notifier } = setup({});
    for (let i = 0; i < 3; i++) await notifier.run(notifier.prepare(c.policies), c).planOnly({ pending: true });
    expect(rx.requests).toHaveLength(1);
    expect(rx.requests[0]!.json.events).toMatchObject([{ event: "pending", versionName: "old" }]);
    expect(schemaErrors(rx.requests[0]!.json)).toEqual([]);
  });

  it("owed notices: a `marked` notice no channel accepted yet (requireNotice) is sent again, and a due reminder", () => {
    const markedAt = formatMark(NOW.getTime() - 100 * H);
    const versions = [version("keep", { ageHours: 1, tags: {} }), version("old", { tags: { [MARK_TAG]: markedAt } }), version("soon", { tags: { [MARK_TAG]: formatMark(NOW.getTime() - 60 * H) } })];
    const live = liveState([liveProject(versions)]);
    const s = set("p1", ["keep"]);
    const mk = (pol: Partial<Policy>) => {
      const policies: PolicySet = { operator: policy({ gracePeriodMs: 72 * H, gracePeriod: "72h", notifications: [channel("platform")], remindBeforeMs: 24 * H, remindBefore: "24h", ...pol }), scoped: [] };
      const plan = planWith(Gate.assess({ desired: desired(s), live, policies, now: NOW }), NOW);
      return owedEvents({ plan, desired: desired(s), policies, live }, new Set(), NOW.getTime());
    };
    expect(mk({ requireNotice: true }).map((f) => [f.event, f.versionName])).toEqual([["marked", "old"], ["marked", "soon"]]);
    const reminders = mk({});
    expect(reminders.map((f) => [f.event, f.versionName, f.deletableAfter])).toEqual([["reminder", "soon", new Date(NOW.getTime() + 12 * H).toISOString()]]);
  });

  it("under requireApproval a marked notice and a reminder carry the exact approve command, with the paths rekon was given; without it, none", async () => {
    const markedAt = formatMark(NOW.getTime() - 100 * H);
    const versions = [version("keep", { ageHours: 1, tags: {} }), version("old v'1", { tags: { [MARK_TAG]: markedAt } }), version("soon", { tags: { [MARK_TAG]: formatMark(NOW.getTime() - 60 * H) } })];
    const live = liveState([liveProject(versions)]);
    const s = set("p1", ["keep"]);
    const inputs = { manifests: ["team manifests"], policy: "ops/policy.yaml" };
    const mk = (pol: Partial<Policy>, withInputs = true) => {
      const policies: PolicySet = { operator: policy({ gracePeriodMs: 72 * H, gracePeriod: "72h", notifications: [channel("platform")], remindBeforeMs: 24 * H, remindBefore: "24h", ...pol }), scoped: [] };
      const plan = planWith(Gate.assess({ desired: desired(s), live, policies, now: NOW }), NOW);
      return owedEvents({ plan, desired: desired(s), policies, live, ...(withInputs ? { inputs } : {}) }, new Set(), NOW.getTime());
    };
    const approving = mk({ requireNotice: true, requireApproval: true });
    expect(approving.filter((f) => f.event === "marked").map((f) => [f.versionName, f.approve])).toEqual([
      ["old v'1", `rekon approve 'p1/old v'\\''1' --manifests 'team manifests' --policy ops/policy.yaml`],
      ["soon", "rekon approve p1/soon --manifests 'team manifests' --policy ops/policy.yaml"],
    ]);
    expect(mk({ requireApproval: true }).map((f) => [f.event, f.approve])).toEqual([["reminder", "rekon approve p1/soon --manifests 'team manifests' --policy ops/policy.yaml"]]);
    expect(mk({ requireNotice: true }).map((f) => f.approve)).toEqual([undefined, undefined]);
    expect(mk({ requireNotice: true, requireApproval: true }, false).map((f) => f.approve)).toEqual([undefined, undefined]);
  });

  it("a channel that cannot be used is an error naming it and where its URL comes from, never the value; under requireNotice the run is refused", () => {
    const { log, text } = capture();
    const notifier = new Notifier({ log, env: { REKON_BAD: "hooks.slack.com/services/T0/B0/NOTAURLTOKEN", REKON_EMPTY: "" }, command: "apply", version: "test", readFile: () => { throw Object.assign(new Error("nope /var/run/x"), { code: "ENOENT" }); } });
    const chans = [channel("missing"), channel("bad", { url: { fromEnv: "REKON_BAD" } }), channel("empty", { url: { fromEnv: "REKON_EMPTY" } }), channel("file", { url: { fromFile: "/var/run/secrets/rekon/webhook" } })];
    const p1 = notifier.prepare({ operator: policy({ notifications: chans }), scoped: [] });
    expect(p1.problems.map((p) => p.message)).toEqual([
      'notification channel "missing": url: environment variable REKON_MISSING_URL is not set',
      'notification channel "bad": url: the value of environment variable REKON_BAD is not an http(s) URL',
      'notification channel "empty": url: environment variable REKON_EMPTY is empty',
      'notification channel "file": url: file /var/run/secrets/rekon/webhook cannot be read (ENOENT)',
    ]);
    expect(p1.refusals).toEqual([]);
    expect(text()).not.toContain("NOTAURLTOKEN");
    const p2 = notifier.prepare({ operator: policy({ notifications: chans, requireNotice: true }), scoped: [] });
    expect(p2.refusals).toMatchObject([{ rule: "notificationsUnavailable", message: expect.stringContaining('requireNotice is on, but notification channel "missing"') }]);
    expect(JSON.stringify(p2.refusals)).not.toContain("NOTAURLTOKEN");
    // A file's content is read and trimmed.
    expect(resolveChannels([channel("f", { url: { fromFile: "/x" } })], {}, () => "https://example.test/hook\n").resolved[0]!.url).toBe("https://example.test/hook");
  });

  it("a deleted event under spec.archive carries archivedAs (the copy's ARN); the payload is schema-valid", async () => {
    const { ctx, plan } = world(1, { notifications: [channel("platform")], gracePeriodMs: 0, gracePeriod: "0s" });
    const del = plan.actions.find((a) => a.action === "delete")!;
    const copy = `arn:aws:rekognition:us-east-1:123456789012:project/vault/version/p1--${del.versionName}/1`;
    const results: WriteResult[] = [
      { project: "p1", region: "us-east-1", versionName: del.versionName, versionArn: del.versionArn!, operation: "delete", result: "accepted", status: "DELETING", requestId: "req-1", archivedAs: copy, archive: { project: "vault", versionName: `p1--${del.versionName}`, versionArn: copy, copy: "reused", status: "COPYING_COMPLETED" } },
    ];
    expect(resultEvents(ctx, results, NOW.getTime())).toMatchObject([{ event: "deleted", archivedAs: copy }]);
    const { notifier } = setup({});
    await notifier.run(notifier.prepare(ctx.policies), ctx).hook().deliver(results);
    const r = rx.requests[0]!;
    expect(schemaErrors(r.json)).toEqual([]);
    expect(r.json.events).toMatchObject([{ event: "deleted", archivedAs: copy }]);
  });

  it("failed and deleted events carry what AWS answered; the payload is schema-valid", async () => {
    const { ctx, plan } = world(2, { notifications: [channel("platform")], gracePeriodMs: 0, gracePeriod: "0s" });
    const dels = plan.actions.filter((a) => a.action === "delete");
    const results: WriteResult[] = [
      { project: "p1", region: "us-east-1", versionName: dels[0]!.versionName, versionArn: dels[0]!.versionArn!, operation: "delete", result: "accepted", status: "DELETING", requestId: "req-1" },
      { project: "p1", region: "us-east-1", versionName: dels[1]!.versionName, versionArn: dels[1]!.versionArn!, operation: "delete", result: "unknown", code: "InternalServerError", error: "sent, but no answer settled it" },
    ];
    expect(resultEvents(ctx, results, NOW.getTime()).map((f) => f.event)).toEqual(["deleted", "failed"]);
    const { notifier } = setup({});
    await notifier.run(notifier.prepare(ctx.policies), ctx).hook().deliver(results);
    const r = rx.requests[0]!;
    expect(r.headers["x-rekon-event"]).toBe("failed,deleted");
    expect(schemaErrors(r.json)).toEqual([]);
    expect(r.json.events).toMatchObject([{ event: "deleted", requestId: "req-1" }, { event: "failed", result: "unknown", code: "InternalServerError", operation: "delete" }]);
    expect(planEvents(ctx, { pending: false })).toEqual([]);
  });
});

describe("Slack: a version counts as told only when a delivered message names it", () => {
  type SlackBlock = { type: string; text?: { text: string }; elements?: { text: string }[] };
  const sectionsOf = (r: { json: { blocks?: unknown[] } }) => (r.json.blocks as SlackBlock[]).filter((b) => b.type === "section").map((b) => b.text!.text);
  const slackOnly = (n: number) => world(n, { requireNotice: true, notifications: [channel("team-slack", { format: "slack", events: ["marked"] })] });
  const notifier = () => new Notifier({ log: pino({ level: "silent" }), env: { REKON_TEAM_SLACK_URL: `${rx.url}/services/T000/B000/XXXXSLACKTOKEN` }, command: "apply", version: "test", delivery: FAST });
  const names = (ctx: EventContext) => new Map(ctx.plan.actions.filter((a) => a.versionArn).map((a) => [a.versionArn!, a.versionName]));

  it("60 marks to a Slack-only channel: split into messages within Slack's limits, each naming its versions; all 60 counted, each named in a message the receiver accepted", async () => {
    const { ctx, marked } = slackOnly(60);
    const n = notifier();
    const got = await n.run(n.prepare(ctx.policies), ctx).hook().deliver(marked);

    // The safety property: every version counted as told was named in a message the receiver accepted.
    const accepted = rx.requests.filter((r) => r.status < 300);
    const text = accepted.map((r) => sectionsOf(r).join("\n"));
    const byArn = names(ctx);
    for (const arn of got.marked.keys()) expect(text.filter((t) => t.includes(`\`p1/${byArn.get(arn)}\``)), byArn.get(arn)).toHaveLength(1);
    expect(got.marked.size).toBe(60);

    // Several messages, each within Slack's limits and a delivery of its own.
    expect(rx.requests.length).toBeGreaterThan(1);
    expect(accepted).toHaveLength(rx.requests.length);
    for (const r of rx.requests) {
      const blocks = r.json.blocks as SlackBlock[];
      expect(blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
      expect(blocks[0]!.text!.text.length).toBeLessThanOrEqual(SLACK_LIMITS.headerText);
      for (const s of sectionsOf(r)) expect(s.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
      expect(sectionsOf(r).join("\n")).not.toMatch(/…and \d+ more/);
    }
    expect(new Set(rx.requests.map((r) => r.headers["x-rekon-delivery"])).size).toBe(rx.requests.length);
  });

  it("a message the receiver refused counts for none of its versions; the other messages still count for theirs", async () => {
    const { ctx, marked } = slackOnly(60);
    // Final (400, not retried): whichever message names old-040.
    rx.answer((_n, _path, body) => (body.includes("`p1/old-040`") ? { status: 400 } : { status: 200 }));
    const n = notifier();
    const got = await n.run(n.prepare(ctx.policies), ctx).hook().deliver(marked);

    const refused = rx.requests.filter((r) => r.status >= 300);
    expect(refused).toHaveLength(1);
    const byArn = names(ctx);
    const inRefused = [...byArn.entries()].filter(([, v]) => sectionsOf(refused[0]!).join("\n").includes(`\`p1/${v}\``)).map(([arn]) => arn);
    expect(inRefused.length).toBeGreaterThan(0);
    for (const arn of inRefused) expect(got.marked.has(arn)).toBe(false);
    expect(got.marked.size).toBe(60 - inRefused.length);
    // Every version is still in the run's sent set: under requireNotice the next run sends it again.
    expect(got.markedSent.size).toBe(60);
  });
});

describe("requireNotice: which channels' 2xx delivers the `marked` notice", () => {
  const layer = (spec: Partial<PolicySet["scoped"][number]["spec"]>): PolicySet["scoped"][number] => ({ name: "team", pos: { file: "m.yaml", line: 1, col: 1 }, projects: ["p1"], projectPos: [], spec, fieldPos: {} });
  const extra = channel("always-ok", { events: ["marked"] });
  const deliverWith = async (policies: PolicySet, answer: (path: string) => number) => {
    const { ctx, marked } = world(2);
    rx.answer((_n, path) => ({ status: answer(path) }));
    const { log, text } = capture();
    const n = new Notifier({ log, env: { REKON_PLATFORM_URL: `${rx.url}/hook/platform`, REKON_ALWAYS_OK_URL: `${rx.url}/always-ok` }, command: "apply", version: "test", delivery: FAST });
    const c: EventContext = { ...ctx, policies };
    const got = await n.run(n.prepare(policies), c).hook().deliver(marked);
    return { got, text };
  };
  const down = (path: string) => (path.startsWith("/hook/") ? 500 : 200);

  it("the operator's channel answers 500 (or is unreachable), a manifest-added channel 200: the notice is not delivered", async () => {
    const policies: PolicySet = { operator: policy({ requireNotice: true, notifications: [channel("platform")] }), scoped: [layer({ notifications: [extra] })] };
    const { got, text } = await deliverWith(policies, down);
    // The extra recipient heard, and says so in the log; it does not count.
    expect(rx.requests.filter((r) => r.path === "/always-ok" && r.status === 200).flatMap((r) => r.json.events ?? []).map((e) => e.event)).toEqual(["marked", "marked"]);
    expect(got.marked.size).toBe(0);
    expect(got.markedSent.size).toBe(2);
    expect(text()).toContain('"noticeCounts":false');

    // Unreachable (nothing listening on the operator's port) is the same.
    rx.requests.length = 0;
    const closed = await startReceiver();
    await closed.close();
    const n = new Notifier({ log: pino({ level: "silent" }), env: { REKON_PLATFORM_URL: `${closed.url}/hook/platform`, REKON_ALWAYS_OK_URL: `${rx.url}/always-ok` }, command: "apply", version: "test", delivery: FAST });
    const { ctx, marked } = world(2);
    rx.answer(() => ({ status: 200 }));
    const got2 = await n.run(n.prepare(policies), { ...ctx, policies }).hook().deliver(marked);
    expect(rx.requests.filter((r) => r.path === "/always-ok" && r.status === 200)).toHaveLength(1);
    expect(got2.marked.size).toBe(0);
  });

  it("the operator's channel answers 200: the notice counts (whatever the extra recipient answers)", async () => {
    const policies: PolicySet = { operator: policy({ requireNotice: true, notifications: [channel("platform")] }), scoped: [layer({ notifications: [extra] })] };
    const { got } = await deliverWith(policies, (path) => (path.startsWith("/hook/") ? 200 : 500));
    expect(got.marked.size).toBe(2);
    const platform = rx.requests.find((r) => r.path.startsWith("/hook/") && r.status === 200)!;
    for (const at of got.marked.values()) expect(at).toBeGreaterThanOrEqual(platform.at);
  });

  it("the operator's policy has no channel (or none for `marked`): a layer's channel delivers the notice, as the layer's requireNotice needs", async () => {
    for (const own of [[], [channel("platform", { events: ["refused", "deleted"] })]]) {
      rx.requests.length = 0;
      const policies: PolicySet = { operator: policy({ notifications: own }), scoped: [layer({ requireNotice: true, notifications: [extra] })] };
      const { got } = await deliverWith(policies, down);
      expect(rx.requests.filter((r) => r.path === "/always-ok" && r.status === 200)).toHaveLength(1);
      expect(got.marked.size).toBe(2);
    }
  });
});

describe("a mark removed takes its notice with it", () => {
  it("a version listed again loses its mark, notice and reminder tags in one UntagResource (a new mark needs a new notice)", async () => {
    const t = formatMark(Date.now() - 10 * H);
    const emu = await startEmulator({ state: { account: "123456789012", projects: [{ name: "p1", versions: [{ name: "keep", status: "STOPPED", age: "1d" }, { name: "back", status: "STOPPED", age: "30d", tags: { [MARK_TAG]: t, [NOTICE_TAG]: t, [REMINDER_TAG]: t, team: "vision" } }] }] } });
    try {
      const pos = { file: "m.yaml", line: 1, col: 1 };
      const d = { sets: [{ name: "s", pos, project: "p1", region: "us-east-1", versions: [{ name: "keep", pos }, { name: "back", pos }] }], policies: [], files: [], digest: "x" };
      const pass = await passFor({ desired: d, policies: policy({ gracePeriodMs: 72 * H, gracePeriod: "72h", requireNotice: true, notifications: [channel("platform")] }) }, { log: pino({ level: "silent" }), client: { endpoint: emu.url, stsEndpoint: emu.url, credentials: TEST_CREDENTIALS } });
      try {
        expect(pass.plan.actions.find((a) => a.versionName === "back")).toMatchObject({ action: "keep", mark: "remove" });
        const results = await applyPass(pass, pino({ level: "silent" }));
        expect(results).toMatchObject([{ versionName: "back", operation: "unmark", result: "accepted" }]);
        expect(emu.snapshot().projects[0]!.versions!.find((v) => v.name === "back")!.tags).toEqual({ team: "vision" });
      } finally {
        pass.close();
      }
    } finally {
      await emu.close();
    }
  });
});
