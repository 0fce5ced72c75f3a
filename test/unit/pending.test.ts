// The rows of `rekon pending` (and the status page): which versions are listed, their state, each wait with
// its time, and when each becomes deletable — exact values, on both sides of every condition.
import { describe, expect, it } from "vitest";
import { Gate } from "../../reconciler/gate/index.js";
import { pendingRows, pendingSummary, type PendingRow } from "../../reconciler/pending.js";
import { planWith } from "../../reconciler/plan.js";
import { APPROVAL_TAG, formatMark, MARK_TAG, NOTICE_TAG } from "../../reconciler/policy/guards.js";
import { approveCommand, shellQuote } from "../../reconciler/render/approve-command.js";
import type { DeletionWindow, LiveVersion, Policy, Reason, Suspension } from "../../reconciler/types.js";
import { desired, liveProject, liveState, NOW, policy, set, version } from "../helpers/builders.js";
import { channel, OTHER_SIGNER, SIGNER } from "../helpers/holds.js";

const T = NOW.getTime(); // 2026-11-28T12:00:00Z
const H = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();
const mark = (ms: number) => formatMark(ms);
/** A daily freeze 12:00–13:00 UTC: NOW is inside it. */
const FREEZE: DeletionWindow = { kind: "deny", schedule: "0 12 * * *", durationMs: H, duration: "1h", timeZone: "UTC", reason: "freeze", origin: "operator windows" };
const GRACE = { gracePeriod: "48h", gracePeriodMs: 48 * H };

function rows(
  versions: LiveVersion[],
  pol: Partial<Policy> = {},
  o: { listed?: string[]; refusals?: Reason[]; signed?: boolean; suspend?: Suspension } = {},
): PendingRow[] {
  const gate = Gate.assess({
    desired: desired(set("p1", o.listed ?? ["keep"], o.suspend ? { suspend: o.suspend } : {})),
    live: liveState([liveProject([version("keep", { tags: {} }), ...versions])]),
    policies: policy({ ...pol, ...(o.signed ? { tagSigning: { secret: { fromEnv: "K" } } } : {}) }),
    now: NOW,
    ...(o.refusals ? { refusals: o.refusals } : {}),
    ...(o.signed ? { signer: SIGNER } : {}),
  });
  return pendingRows(gate, planWith(gate, NOW));
}
const one = (...a: Parameters<typeof rows>) => {
  const r = rows(...a);
  expect(r).toHaveLength(1);
  return r[0]!;
};
const waits = (r: PendingRow) => r.waits.map((w) => [w.kind, w.until ?? null]);

describe("which versions are pending", () => {
  it("an unmarked version under no grace, approval or notice is not listed (nothing marks it; plan deletes it)", () => {
    expect(rows([version("old", { tags: {} })])).toEqual([]);
  });
  it("a version that carries a mark is listed even when the policy no longer needs one: deletable now", () => {
    const r = one([version("old", { tags: { [MARK_TAG]: mark(T - H) } })]);
    expect(r).toMatchObject({ version: "old", state: "deletable", deletableAt: iso(T), markedAt: mark(T - H), waits: [] });
    expect(r.markAdded).toBeUndefined();
  });
  it("an unmarked version apply marks now: the grace period ends gracePeriod from now", () => {
    const r = one([version("old", { tags: {} })], GRACE);
    expect(r).toMatchObject({ state: "waiting", markAdded: true, deletableAt: iso(T + 48 * H) });
    expect(r.markedAt).toBeUndefined();
    expect(waits(r)).toEqual([["gracePeriod", iso(T + 48 * H)]]);
  });
  it("listed again or kept by a guard: unmarking, no deletableAt, the reason kept", () => {
    const listed = one([version("old", { tags: { [MARK_TAG]: mark(T - H) } })], GRACE, { listed: ["keep", "old"] });
    expect(listed).toMatchObject({ state: "unmarking", waits: [{ kind: "kept", rule: "listed" }] });
    expect(listed.deletableAt).toBeUndefined();
    const running = one([version("old", { status: "RUNNING", tags: { [MARK_TAG]: mark(T - H) } })], GRACE);
    expect(running).toMatchObject({ state: "unmarking", waits: [{ kind: "kept", rule: "inUse" }] });
    expect(running.deletableAt).toBeUndefined();
  });
});

describe("grace period", () => {
  it.each([
    { name: "marked 47 h ago: waits 1 h more", age: 47, state: "waiting", at: T + H, w: [["gracePeriod", iso(T + H)]] },
    { name: "marked 48 h ago: deletable now", age: 48, state: "deletable", at: T, w: [] },
    { name: "marked 49 h ago: deletable now", age: 49, state: "deletable", at: T, w: [] },
  ])("$name", ({ age, state, at, w }) => {
    const r = one([version("old", { tags: { [MARK_TAG]: mark(T - age * H) } })], GRACE);
    expect(r).toMatchObject({ state, deletableAt: iso(at), markedAt: mark(T - age * H) });
    expect(waits(r)).toEqual(w);
  });
});

describe("deletion windows", () => {
  it("kept only by the freeze: deletable when it ends", () => {
    const r = one([version("old", { tags: { [MARK_TAG]: mark(T - 50 * H) } })], { ...GRACE, windows: [FREEZE] });
    expect(r.deletableAt).toBe(iso(T + H));
    expect(waits(r)).toEqual([["window", iso(T + H)]]);
  });
  it.each([
    { name: "grace ends inside the freeze (12:30): deletable when the freeze ends (13:00)", left: 0.5, at: T + H },
    { name: "grace ends after the freeze (14:00): deletable then", left: 2, at: T + 2 * H },
  ])("$name", ({ left, at }) => {
    const r = one([version("old", { tags: { [MARK_TAG]: mark(T - (48 - left) * H) } })], { ...GRACE, windows: [FREEZE] });
    expect(r.deletableAt).toBe(iso(at));
    expect(waits(r)).toEqual([
      ["gracePeriod", iso(T + left * H)],
      ["window", iso(T + H)],
    ]);
  });
});

describe("approval", () => {
  const pol = { ...GRACE, requireApproval: true };
  it("no approval: missing, deletableAt unknown (a person decides when)", () => {
    const r = one([version("old", { tags: { [MARK_TAG]: mark(T - 49 * H) } })], pol);
    expect(r).toMatchObject({ state: "waiting", approval: { state: "missing" } });
    expect(r.deletableAt).toBeUndefined();
    expect(waits(r)).toEqual([["approval", null]]);
  });
  it("approved after the mark: approved, deletable now", () => {
    const r = one([version("old", { tags: { [MARK_TAG]: mark(T - 49 * H), [APPROVAL_TAG]: mark(T - H) } })], pol);
    expect(r).toMatchObject({ state: "deletable", deletableAt: iso(T), approval: { state: "approved", approvedAt: iso(T - H) } });
  });
  it("approved before the mark: it does not count (missing)", () => {
    const r = one([version("old", { tags: { [MARK_TAG]: mark(T - 49 * H), [APPROVAL_TAG]: mark(T - 50 * H) } })], pol);
    expect(r.approval).toEqual({ state: "missing" });
    expect(r.state).toBe("waiting");
  });
  it("no approval field without requireApproval", () => {
    expect(one([version("old", { tags: { [MARK_TAG]: mark(T - 49 * H) } })], GRACE).approval).toBeUndefined();
  });
});

describe("notice", () => {
  const pol = { ...GRACE, requireNotice: true, notifications: [channel(["marked"])] };
  it("not delivered: pending, no time for the notice or the grace that counts from it", () => {
    const r = one([version("old", { tags: { [MARK_TAG]: mark(T - 49 * H) } })], pol);
    expect(r).toMatchObject({ notice: { state: "pending" } });
    expect(r.notice!.deliveredAt).toBeUndefined();
    expect(r.deletableAt).toBeUndefined();
    expect(waits(r)).toEqual([["notice", null]]);
  });
  it("delivered 10 h ago: the notice's wait ends gracePeriod after its delivery", () => {
    const r = one([version("old", { tags: { [MARK_TAG]: mark(T - 49 * H), [NOTICE_TAG]: mark(T - 10 * H) } })], pol);
    expect(r).toMatchObject({ notice: { state: "delivered", deliveredAt: iso(T - 10 * H) }, deletableAt: iso(T + 38 * H) });
    expect(waits(r)).toEqual([["notice", iso(T + 38 * H)]]);
  });
  it("delivered 49 h ago: deletable now", () => {
    const r = one([version("old", { tags: { [MARK_TAG]: mark(T - 49 * H), [NOTICE_TAG]: mark(T - 49 * H) } })], pol);
    expect(r).toMatchObject({ state: "deletable", notice: { state: "delivered" } });
  });
});

describe("tag signing", () => {
  const arn = version("old").arn;
  it("a signed mark verifies", () => {
    const r = one([version("old", { tags: { [MARK_TAG]: SIGNER.sign(arn, MARK_TAG, mark(T - H)) } })], GRACE, { signed: true });
    expect(r).toMatchObject({ signature: "verified", markedAt: mark(T - H), deletableAt: iso(T + 47 * H) });
    expect(r.markAdded).toBeUndefined();
  });
  it.each([
    { name: "unsigned", value: () => mark(T - 47 * H), sig: "unsigned" },
    { name: "signed with another key", value: () => OTHER_SIGNER.sign(arn, MARK_TAG, mark(T - 47 * H)), sig: "forged" },
  ])("$name: the mark does not count; apply marks again and the period starts now", ({ value, sig }) => {
    const r = one([version("old", { tags: { [MARK_TAG]: value() } })], GRACE, { signed: true });
    expect(r).toMatchObject({ signature: sig, markAdded: true, markedAt: mark(T - 47 * H), deletableAt: iso(T + 48 * H) });
    expect(waits(r)).toEqual([
      ["signature", null],
      ["gracePeriod", iso(T + 48 * H)],
    ]);
  });
  it("no signature field without tag signing", () => {
    expect(one([version("old", { tags: { [MARK_TAG]: mark(T - H) } })], GRACE).signature).toBeUndefined();
  });
});

describe("suspension and refusals: no time anyone can tell", () => {
  it("suspended", () => {
    const r = one([version("old", { tags: { [MARK_TAG]: mark(T - 49 * H) } })], GRACE, { suspend: { reason: "incident", origin: "set" } });
    expect(waits(r)).toEqual([["suspended", null]]);
    expect(r.deletableAt).toBeUndefined();
  });
  it("a refused run", () => {
    const r = one([version("old", { tags: { [MARK_TAG]: mark(T - 49 * H) } })], GRACE, { refusals: [{ rule: "manifestsStale", message: "stale" }] });
    expect(r).toMatchObject({ state: "waiting", waits: [{ kind: "refused", rule: "manifestsStale" }] });
    expect(r.deletableAt).toBeUndefined();
  });
});

it("sorted by deletableAt, unknown last, then by name", () => {
  const r = rows(
    [
      version("z-unknown", { tags: { [MARK_TAG]: mark(T - H) } }),
      version("b-later", { tags: { [MARK_TAG]: mark(T - 40 * H) } }),
      version("a-later", { tags: { [MARK_TAG]: mark(T - 40 * H) } }),
      version("c-soon", { tags: { [MARK_TAG]: mark(T - 47 * H) } }),
      version("y-running", { status: "RUNNING", tags: { [MARK_TAG]: mark(T - H) } }),
    ],
    { ...GRACE, requireApproval: false },
    {},
  );
  // z-unknown is 1 h in: deletable in 47 h; the running one is unmarked (no time).
  expect(r.map((x) => x.version)).toEqual(["c-soon", "a-later", "b-later", "z-unknown", "y-running"]);
});

it("pendingSummary keeps only the first `limit` rows, in the same order, and counts them all", () => {
  const versions = Array.from({ length: 9 }, (_, i) => version(`v${i}`, { tags: { [MARK_TAG]: mark(T - (i * 5 + 1) * H) } }));
  versions.push(version("r", { status: "RUNNING", tags: { [MARK_TAG]: mark(T - H) } }));
  const gate = Gate.assess({ desired: desired(set("p1", ["keep"])), live: liveState([liveProject([version("keep", { tags: {} }), ...versions])]), policies: policy(GRACE), now: NOW });
  const plan = planWith(gate, NOW);
  const all = pendingRows(gate, plan);
  // v8 was marked longest ago (41 h): deletable first; the running one (kept, no time) last.
  expect(all.map((r) => r.version)).toEqual(["v8", "v7", "v6", "v5", "v4", "v3", "v2", "v1", "v0", "r"]);
  for (const limit of [0, 1, 3, 10, 50]) {
    const s = pendingSummary(gate, plan, limit);
    expect(s.rows.map((r) => r.version)).toEqual(all.slice(0, limit).map((r) => r.version));
    expect(s.total).toBe(10);
    expect(Object.fromEntries(s.markedBySet)).toEqual({ "p1-set": 9 }); // the running one is unmarked, not counted
  }
});

describe("approveCommand", () => {
  it("the exact command, names and paths bare when safe", () => {
    expect(approveCommand({ project: "fraud", version: "v1.2" }, { manifests: ["manifests/"], policy: "deploy/policy.yaml" })).toBe(
      "rekon approve fraud/v1.2 --manifests manifests/ --policy deploy/policy.yaml",
    );
    expect(approveCommand({ project: "p", version: "v" }, { manifests: ["a", "b"] })).toBe("rekon approve p/v --manifests a --manifests b");
  });
  it("quotes what a shell would split or run", () => {
    expect(approveCommand({ project: "p", version: "v" }, { manifests: ["my dir/it's; rm -rf ~"] })).toBe(`rekon approve p/v --manifests 'my dir/it'\\''s; rm -rf ~'`);
    expect(shellQuote("$(x)")).toBe(`'$(x)'`);
    expect(shellQuote("")).toBe(`''`);
  });
});
