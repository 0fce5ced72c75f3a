// Concurrent reads over the real SDK against the emulator: the bound on calls in flight per (account,
// region), groups side by side, failures that stay within their project, and a live state that does not
// depend on the order answers arrive in. In-flight calls are counted at the emulator, from its received and
// answered events, so nothing here depends on how long anything takes.
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createClient, type RetryingRekognitionClient } from "../../reconciler/aws/client.js";
import { READS_IN_FLIGHT } from "../../reconciler/aws/concurrency.js";
import { targetKey } from "../../reconciler/types.js";
import { readLive } from "../../reconciler/aws/inventory.js";
import { RateLimiters } from "../../reconciler/aws/limiter.js";
import type { RetryOptions } from "../../reconciler/aws/retry.js";
import { withVersionTags } from "../../reconciler/aws/tags.js";
import { seededRandom, startEmulator, type CallRecord, type Emulator } from "../../reconciler/emulator/server.js";
import type { DesiredSet, IdentityFact, LiveState, Target } from "../../reconciler/types.js";
import { AMBIENT_IDENTITY, desired, set } from "../helpers/builders.js";
import { TEST_CREDENTIALS } from "../helpers/emulator-env.js";

const log = pino({ level: "silent" });
const OTHER = "210987654321";
const ROLE = `arn:aws:iam::${OTHER}:role/rekon`;
const IDS: IdentityFact[] = [AMBIENT_IDENTITY, { source: ROLE, account: OTHER }];
const FAST: RetryOptions = { retries: 10, baseDelayMs: 5, maxDelayMs: 40, maxTotalMs: 10_000 };
const READS = new Set(["DescribeProjects", "DescribeProjectVersions", "ListTagsForResource"]);
// Stated rates far above what these tests send: pacing is never what bounds the calls in flight here.
const UNPACED = { DescribeProjects: 1000, DescribeProjectVersions: 1000, ListTagsForResource: 1000 };

const name = (prefix: string, i: number) => `${prefix}${String(i).padStart(2, "0")}`;
const versions = (n: number) => Array.from({ length: n }, (_, j) => ({ name: `v${String(j).padStart(3, "0")}`, status: "STOPPED" as const, age: `${n + 10 - j}d` }));
// 0 to 250 versions: empty projects, one page, two and three pages (100 a page).
const SIZES = [0, 1, 3, 120, 250];

let emu: Emulator;
const clients: RetryingRekognitionClient[] = [];

beforeAll(async () => {
  emu = await startEmulator({
    state: {
      account: "123456789012",
      projects: [
        ...Array.from({ length: 40 }, (_, i) => ({ name: name("p", i), region: "us-east-1", versions: versions(SIZES[i % SIZES.length]!), ...(i % 7 === 0 ? { tags: { owner: `team-${i}` } } : {}) })),
        ...Array.from({ length: 12 }, (_, i) => ({ name: name("w", i), region: "us-west-2", versions: versions(2 + (i % 3)) })),
        // The same names in another account: its group must read its own projects, not the default account's.
        ...Array.from({ length: 12 }, (_, i) => ({ name: name("p", i), account: OTHER, region: "us-east-1", versions: versions(1 + (i % 4)) })),
        { name: "adapter", region: "us-east-1", feature: "CONTENT_MODERATION" as const, versions: [{ name: "a1", status: "EXPIRED" as const, age: "90d" }] },
      ],
    },
  });
});
afterAll(async () => {
  clients.forEach((c) => c.destroy());
  await emu.close();
});
afterEach(() => {
  emu.setFaults({});
  emu.resetCalls();
});

/** Fresh clients (one per target, as passFor makes them) sharing one set of unpaced limiters. */
function deps(o: { concurrency?: number; retry?: RetryOptions; projectTagsFor?: Set<string> } = {}) {
  const limiters = new RateLimiters(UNPACED);
  const cache = new Map<string, RetryingRekognitionClient>();
  return {
    log,
    ...(o.concurrency !== undefined ? { concurrency: o.concurrency } : {}),
    ...(o.projectTagsFor ? { projectTagsFor: o.projectTagsFor } : {}),
    clientFor(t: Target) {
      let c = cache.get(targetKey(t));
      if (!c) {
        c = createClient({ region: t.region, ...(t.roleArn ? { roleArn: t.roleArn } : {}), retry: o.retry ?? FAST, limiters, endpoint: emu.url, stsEndpoint: emu.url, credentials: TEST_CREDENTIALS });
        cache.set(targetKey(t), c);
        clients.push(c);
      }
      return c;
    },
  };
}

/** Calls in flight at the emulator (received, not yet answered): the peak per (account, region) and overall. */
function watchInFlight() {
  const now = new Map<string, number>();
  const peak = new Map<string, number>();
  const perTarget = new Map<string, number>();
  let total = 0;
  let peakTotal = 0;
  let pagesOverlapped = 0;
  const received: string[] = [];
  const answered: string[] = [];
  const stop = emu.onCall((c: CallRecord) => {
    if (!READS.has(c.operation)) return;
    const k = `${c.account}|${c.region}`;
    const d = c.phase === "received" ? 1 : -1;
    now.set(k, (now.get(k) ?? 0) + d);
    total += d;
    peak.set(k, Math.max(peak.get(k) ?? 0, now.get(k)!));
    peakTotal = Math.max(peakTotal, total);
    // Pages of one project's listing: never two at once (each needs the previous page's token).
    if (c.operation === "DescribeProjectVersions" && c.target) {
      const n = (perTarget.get(c.target) ?? 0) + d;
      perTarget.set(c.target, n);
      if (n > 1) pagesOverlapped++;
      (c.phase === "received" ? received : answered).push(c.target);
    }
  });
  return { peak, peakTotal: () => peakTotal, pagesOverlapped: () => pagesOverlapped, received, answered, stop };
}

const usEast = (n: number, listed: string[] = []) => Array.from({ length: n }, (_, i) => set(name("p", i), listed));
const west = (n: number) => Array.from({ length: n }, (_, i) => set(name("w", i), [], { region: "us-west-2" }));
// (The builder takes no roleArn: it is added here.)
const role = (n: number): DesiredSet[] => Array.from({ length: n }, (_, i) => ({ ...set(name("p", i), [], { name: `other-${name("p", i)}` }), roleArn: ROLE }));

describe("the bound on reads in flight", () => {
  it("a group never has more than `concurrency` calls in flight, uses all of them, and reads each project's pages one after another", async () => {
    emu.setFaults({ rules: [{ operation: "DescribeProjectVersions", delayMs: 100 }] });
    const w = watchInFlight();
    const live = await readLive(desired(...usEast(12)), IDS, deps({ concurrency: 3 }));
    w.stop();
    expect(live.projects.every((p) => p.status === "ok")).toBe(true);
    expect(w.peak.get("123456789012|us-east-1")).toBe(3);
    expect(w.pagesOverlapped()).toBe(0);
  });

  it(`the default bound (READS_IN_FLIGHT = ${READS_IN_FLIGHT}) holds for a group larger than it`, async () => {
    emu.setFaults({ rules: [{ operation: "DescribeProjectVersions", delayMs: 100 }] });
    const w = watchInFlight();
    const live = await readLive(desired(...usEast(40)), IDS, deps());
    w.stop();
    expect(live.projects).toHaveLength(40);
    expect(w.peak.get("123456789012|us-east-1")).toBe(READS_IN_FLIGHT);
  });

  it("groups (credential source, region) read side by side, each within its own bound", async () => {
    emu.setFaults({ rules: [{ operation: "DescribeProjectVersions", delayMs: 100 }] });
    const w = watchInFlight();
    const live = await readLive(desired(...usEast(8), ...west(8), ...role(8)), IDS, deps({ concurrency: 2 }));
    w.stop();
    expect(live.projects.every((p) => p.status === "ok")).toBe(true);
    expect([...w.peak.entries()].sort()).toEqual([
      ["123456789012|us-east-1", 2],
      ["123456789012|us-west-2", 2],
      [`${OTHER}|us-east-1`, 2],
    ]);
    // One group after another would never have more than one group's bound in flight.
    expect(w.peakTotal()).toBeGreaterThan(2);
  });

  it("tag reads are bounded per (account, region) too, and groups' tag reads run side by side", async () => {
    const d = deps({ concurrency: 2 });
    const live = await readLive(desired(...usEast(10), ...west(6)), IDS, d);
    const all = live.projects.flatMap((p) => p.versions);
    const need = [...all.filter((v) => v.region === "us-east-1").slice(0, 20), ...all.filter((v) => v.region === "us-west-2").slice(0, 20)];
    const targets = new Map(need.map((v) => [v.arn, { region: v.region }]));
    expect(new Set(need.map((v) => v.region))).toEqual(new Set(["us-east-1", "us-west-2"]));
    emu.setFaults({ rules: [{ operation: "ListTagsForResource", delayMs: 100 }] });
    const w = watchInFlight();
    const tagged = await withVersionTags(live, need, targets, d);
    w.stop();
    expect(tagged.projects.flatMap((p) => p.versions).filter((v) => v.tags !== undefined)).toHaveLength(need.length);
    expect(w.peak.get("123456789012|us-east-1")).toBe(2);
    expect(w.peak.get("123456789012|us-west-2")).toBe(2);
    expect(w.peakTotal()).toBe(4);
  });
});

describe("failures stay within their project", () => {
  it("a page that fails mid-listing fails only that project; the projects read alongside it are complete", async () => {
    const sets = usEast(20);
    const clean = await readLive(desired(...sets), IDS, deps());
    // p03 has 120 versions (two pages): the first page is answered, every attempt at the second fails.
    emu.resetCalls();
    emu.setFaults({
      rules: [
        { operation: "DescribeProjectVersions", arn: "project/p03/", delayMs: 1, times: 1 },
        { operation: "DescribeProjectVersions", arn: "project/p03/", code: "InternalServerError" },
        { operation: "DescribeProjectVersions", delayMs: 50 },
      ],
    });
    const live = await readLive(desired(...sets), IDS, deps({ retry: { retries: 2, baseDelayMs: 1, maxDelayMs: 5, maxTotalMs: 5_000 } }));
    const p03 = emu.calls().filter((c) => c.operation === "DescribeProjectVersions" && c.target?.includes("project/p03/"));
    expect(p03.map((c) => c.outcome)).toEqual(["ok", "InternalServerError", "InternalServerError", "InternalServerError"]);
    const failed = live.projects.find((p) => p.project === "p03")!;
    expect(failed).toMatchObject({ status: "error", versions: [] });
    expect(failed.error).toMatch(/^DescribeProjectVersions failed: .*InternalServerError/);
    expect(live.projects.filter((p) => p.project !== "p03")).toEqual(clean.projects.filter((p) => p.project !== "p03"));
  });

  it("a DescribeProjects batch that fails marks only its ten projects as errors", async () => {
    const sets = usEast(25);
    emu.setFaults({ rules: [{ operation: "DescribeProjects", arn: "p10,p11", code: "AccessDeniedException" }] });
    const live = await readLive(desired(...sets), IDS, deps());
    expect(live.projects.map((p) => [p.project, p.status])).toEqual(sets.map((s, i) => [s.project, i >= 10 && i < 20 ? "error" : "ok"]));
    expect(live.projects[10]!.error).toMatch(/^DescribeProjects failed: /);
  });
});

describe("the same live state whatever order answers arrive in", () => {
  // Interleaved across groups on purpose; some sets need their project's tags, some name no project.
  const sets: DesiredSet[] = [
    ...usEast(40).slice(0, 25),
    set("missing", []),
    ...west(12),
    ...role(12),
    set("adapter", []),
    ...usEast(40).slice(25),
    set("w99", [], { region: "us-west-2" }),
  ];
  // A seeded shuffle, so groups alternate in the manifests' order.
  const random = seededRandom(7);
  for (let i = sets.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [sets[i], sets[j]] = [sets[j]!, sets[i]!];
  }
  const projectTagsFor = new Set(sets.filter((_, i) => i % 3 === 0).map((s) => s.name));

  it("projects are listed group by group (in the order the sets first name each group), then in the sets' order", async () => {
    const live = await readLive(desired(...sets), IDS, deps({ projectTagsFor }));
    const group = (s: DesiredSet) => targetKey({ region: s.region, ...(s.roleArn ? { roleArn: s.roleArn } : {}) });
    const groups = [...new Set(sets.map(group))];
    const expected = groups.flatMap((g) => sets.filter((s) => group(s) === g).map((s) => s.name));
    expect(live.projects.map((p) => p.set)).toEqual(expected);
    expect(live.projects.filter((p) => p.status === "notFound").map((p) => p.project).sort()).toEqual(["missing", "w99"]);
    expect(live.projects.filter((p) => p.status === "error")).toEqual([]);
  });

  it("one call at a time and in-order answers, or many at once with seeded random latency: the identical LiveState", async () => {
    const baseline: LiveState = await readLive(desired(...sets), IDS, deps({ concurrency: 1, projectTagsFor }));
    expect(baseline.projects.find((p) => p.project === "p07" && p.set === "p07-set")?.tags).toEqual({ owner: "team-7" });
    for (const seed of [1, 2, 3]) {
      emu.setFaults({ latencyMs: { min: 0, max: 40 }, seed });
      const w = watchInFlight();
      const live = await readLive(desired(...sets), IDS, deps({ projectTagsFor }));
      w.stop();
      // The answers did arrive in another order than the calls were sent in, or this would prove nothing.
      expect(w.answered).not.toEqual(w.received);
      expect(live).toEqual(baseline);
    }
  });
});
