// The controller's status page over HTTP: GET /api/status says what the last cycle did and what is marked
// (with when it goes), GET / renders it with every name escaped, nothing but GET and HEAD is answered on any
// path, and no secret the controller holds (tag-signing key, webhook URL and secret, AWS keys) appears.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StatusSnapshot } from "../../reconciler/types/status.js";
import { HOOK_TOKEN, HOSTILE_OWNER, HOSTILE_REASON, startStatusWorld, TAG_KEY, WEBHOOK_SECRET, type StatusWorld } from "./status-fixture.js";

let w: StatusWorld;
beforeAll(async () => {
  w = await startStatusWorld();
}, 60_000);
afterAll(async () => {
  await w?.close();
});

describe("rekon run: the status page", () => {
  it("GET /api/status: the last cycle, the projects, every marked version with its deletableAt, and the writes with AWS's request ids", async () => {
    const r = await fetch(`${w.url}/api/status`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json");
    expect(r.headers.get("cache-control")).toBe("no-store");
    const s = (await r.json()) as StatusSnapshot;
    expect(s.schema).toBe("rekon.status/v1");
    expect(s.controller).toEqual({ apply: true, intervalMs: 3_600_000, cycles: 1, running: false, startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) });
    expect(s.lastCycle).toMatchObject({ result: "ok", refusals: [] });
    expect(s.lastCycle!.durationMs).toBeGreaterThan(0);
    const plan = s.plan!;
    expect(plan.projects.map((p) => [p.project, p.account, p.read, p.kept, p.blocked, p.marked, p.deletable])).toEqual([
      ["churn", "123456789012", "ok", 1, 0, 0, 0],
      ["fraud-detector", "123456789012", "ok", 1, 3, 2, 0],
    ]);
    // v2's mark is a day old but unsigned: under tag signing it does not count, apply signs a new one, and the
    // 48 h start again; v1 is marked now; v0 (kept by the owner rule) loses its mark.
    const rows = Object.fromEntries(plan.pending.map((p) => [p.version, p]));
    expect(plan.pendingTotal).toBe(3);
    expect(rows.v2).toMatchObject({ state: "waiting", signature: "unsigned", markAdded: true });
    expect(rows.v1).toMatchObject({ state: "waiting", markAdded: true });
    const at = Date.parse(rows.v1!.deletableAt!) - Date.parse(plan.planAt);
    expect(at).toBe(48 * 3_600_000);
    expect(rows.v0).toMatchObject({ state: "unmarking", signature: "unsigned", waits: [{ kind: "kept", rule: "owner-kept", message: HOSTILE_OWNER }] });
    expect(plan.suspensions).toEqual([{ scope: "churn", reason: HOSTILE_REASON, origin: expect.any(String) }]);
    // The first cycle wrote the marks (and removed v0's) and recorded the notices: each in the timeline.
    const ops = s.writes.map((x) => `${x.operation} ${x.version} ${x.result}`).sort();
    expect(ops).toEqual(expect.arrayContaining(["mark v1 accepted", "mark v2 accepted", "unmark v0 accepted"]));
    for (const x of s.writes) expect(x.requestId).toMatch(/\S/);
  });

  it("GET /: server-rendered, escaped, with a countdown and a strict CSP; HEAD answers without a body", async () => {
    const r = await fetch(`${w.url}/`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(r.headers.get("content-security-policy")).toMatch(/default-src 'none'; script-src 'self'; style-src 'sha256-/);
    const html = await r.text();
    expect(html).toContain('<meta http-equiv="refresh" content="30">');
    expect(html).toMatch(/<time class="countdown" datetime="[^"]+">in 1d 23h 59m \d+s<\/time>/);
    expect(html).toContain("fraud-detector/<strong>v1</strong>");
    // Hostile names are shown as text, never as markup.
    expect(html).not.toContain(HOSTILE_OWNER);
    expect(html).not.toContain(HOSTILE_REASON);
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;script&gt;alert(&quot;owner&quot;)&lt;/script&gt;&#39;&quot;");
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(&#39;reason&#39;)&quot;&gt; freeze");
    expect((html.match(/<script/g) ?? []).length).toBe(1); // the page's own, src="/status.js"
    const head = await fetch(`${w.url}/`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const js = await fetch(`${w.url}/status.js`);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(await js.text()).toContain("time.countdown");
  });

  it("no secret reaches the page or the API: tag-signing key, webhook URL, token and secret, AWS secret key", async () => {
    const bodies = [await (await fetch(`${w.url}/`)).text(), await (await fetch(`${w.url}/api/status`)).text()];
    // The controller did use them: the receiver got signed notices at the URL with the token.
    expect(w.receiver.requests.some((q) => q.path.includes(HOOK_TOKEN))).toBe(true);
    for (const b of bodies)
      for (const secret of [TAG_KEY, WEBHOOK_SECRET, HOOK_TOKEN, w.hookUrl, "test-secret", "AKIDREKONTEST"]) expect(b).not.toContain(secret);
  });

  it.each(["/", "/api/status", "/status.js", "/healthz", "/readyz", "/metrics", "/nowhere"])("%s: every method but GET and HEAD is 405", async (path) => {
    for (const method of ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"]) {
      const r = await fetch(`${w.url}${path}`, { method, ...(method === "OPTIONS" ? {} : { body: "{}" }) });
      expect([method, r.status]).toEqual([method, 405]);
      expect(r.headers.get("allow")).toBe("GET, HEAD");
    }
  });
});
