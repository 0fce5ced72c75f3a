// The gate's decision for `rekon approve` (reconciler/gate/approve.ts), from a table: what is approved,
// with what value and what still holds it, and every refusal with its rule.
import { describe, expect, it } from "vitest";
import { sendApproval } from "../../reconciler/aws/writes.js";
import { redeem } from "../../reconciler/gate/approvals.js";
import { Gate } from "../../reconciler/gate/index.js";
import { APPROVAL_TAG, MARK_TAG } from "../../reconciler/policy/guards.js";
import type { LiveVersion, Policy } from "../../reconciler/types.js";
import { desired, liveProject, liveState, NOW, policy, set, version } from "../helpers/builders.js";

const H = 3_600_000;
const T0 = NOW.getTime();
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.000Z$/, "Z");
const MARKED = T0 - 2 * H;

function decide(v: LiveVersion, pol: Partial<Policy> = {}, listed: string[] = ["keep"]) {
  const keep = version("keep", { ageHours: 1, tags: {} });
  const p = liveProject([keep, v]);
  const gate = Gate.assess({ desired: desired(set("p1", listed)), live: liveState([p]), policies: policy({ requireApproval: true, ...pol }), now: NOW });
  const view = gate.views[0]!;
  return gate.approval(
    view,
    view.project!.versions.find((x) => x.name === v.name)!,
    T0,
  );
}

describe("the gate's approval decision", () => {
  it("a marked, deletable version: approved at now (whole seconds), the next apply deletes it", () => {
    const d = decide(version("old", { tags: { [MARK_TAG]: iso(MARKED) } }));
    expect(d.kind).toBe("approve");
    if (d.kind !== "approve") return;
    expect(d.write).toMatchObject({ kind: "approval", versionName: "old", project: "p1", region: "us-east-1", account: "123456789012", source: "ambient" });
    expect(d.write.value).toBe("2026-11-28T12:00:00Z");
    expect(d.markedAt).toBe(new Date(MARKED).toISOString());
    expect(d.holds).toEqual([]);
    // Made by the gate: the executor accepts it once.
    expect(() => redeem(d.write, "approval")).not.toThrow();
    expect(() => redeem(d.write, "approval")).toThrow(/already used/);
  });

  it("still in its grace period: approved, and the grace period is what still holds it", () => {
    const d = decide(version("old", { tags: { [MARK_TAG]: iso(MARKED) } }), { gracePeriodMs: 72 * H, gracePeriod: "72h" });
    expect(d.kind).toBe("approve");
    if (d.kind !== "approve") return;
    expect(d.holds.map((r) => r.rule)).toEqual(["gracePeriod"]);
    expect(d.deletableAt).toBe(new Date(MARKED + 72 * H).toISOString());
  });

  it("approved already after its mark: nothing to write", () => {
    const d = decide(version("old", { tags: { [MARK_TAG]: iso(MARKED), [APPROVAL_TAG]: iso(MARKED + H) } }));
    expect(d).toEqual({ kind: "already", markedAt: new Date(MARKED).toISOString(), approvedAt: new Date(MARKED + H).toISOString(), holds: [] });
  });

  it("approved already, still in its grace period: what holds it, and when it goes", () => {
    const d = decide(version("old", { tags: { [MARK_TAG]: iso(MARKED), [APPROVAL_TAG]: iso(MARKED + H) } }), { gracePeriodMs: 72 * H, gracePeriod: "72h" });
    expect(d).toMatchObject({ kind: "already", approvedAt: new Date(MARKED + H).toISOString(), deletableAt: new Date(MARKED + 72 * H).toISOString() });
    if (d.kind === "already") expect(d.holds.map((r) => r.rule)).toEqual(["gracePeriod"]);
  });

  // An approval counts only when it is later than the mark: one from an earlier mark (the version was
  // unmarked and marked again), or one in the mark's own second, is not this mark's approval.
  it.each([
    ["an approval older than the mark", MARKED - H],
    ["an approval at the mark's own time", MARKED],
  ])("%s does not count: approved anew, with a new value", (_, approvedAt) => {
    const d = decide(version("old", { tags: { [MARK_TAG]: iso(MARKED), [APPROVAL_TAG]: iso(approvedAt) } }));
    expect(d.kind).toBe("approve");
    if (d.kind === "approve") expect(d.write.value).toBe(iso(T0));
  });

  it("a project that could not be read: refused notRead, with the read's error", () => {
    const keep = version("keep", { ageHours: 1, tags: {} });
    const old = version("old", { tags: { [MARK_TAG]: iso(MARKED) } });
    const gate = Gate.assess({
      desired: desired(set("p1", ["keep"])),
      live: liveState([liveProject([keep, old], { status: "error", error: "AccessDeniedException: not allowed" })]),
      policies: policy({ requireApproval: true }),
      now: NOW,
    });
    const d = gate.approval(gate.views[0]!, old, T0);
    expect(d).toMatchObject({ kind: "refuse", rule: "notRead" });
    if (d.kind === "refuse") expect(d.reasons).toEqual([{ rule: "notRead", message: expect.stringContaining("AccessDeniedException: not allowed") }]);
  });

  it.each([
    ["listed", version("keep2", { tags: { [MARK_TAG]: iso(MARKED) } }), ["keep", "keep2"], {}, 'listed by ProjectVersionSet "p1-set" (m.yaml:1:1): rekon keeps it'],
    ["unmarked", version("old", { tags: {} }), undefined, {}, "it carries no valid pending-delete mark yet: rekon apply marks it first"],
    ["requireApproval off", version("old", { tags: { [MARK_TAG]: iso(MARKED) } }), undefined, { requireApproval: false }, "the policy does not set requireApproval for project p1"],
    ["marked this very second", version("old", { tags: { [MARK_TAG]: iso(T0) } }), undefined, {}, "less than a second ago; approve it again in a moment"],
  ] as const)("the words of a refusal: %s", (_, v, listed, pol, words) => {
    const d = decide(v as LiveVersion, pol as Partial<Policy>, listed ? [...listed] : undefined);
    expect(d.kind).toBe("refuse");
    if (d.kind === "refuse") {
      expect(d.reasons).toHaveLength(1);
      expect(d.reasons[0]!.rule).toBe(d.rule);
      expect(d.reasons[0]!.message).toContain(words);
    }
  });

  it.each([
    ["listed", version("keep2", { tags: { [MARK_TAG]: iso(MARKED) } }), {}, ["keep", "keep2"], "listed"],
    ["unmarked", version("old", { tags: {} }), {}, undefined, "approvalRequired"],
    ["a mark that is not RFC 3339 UTC", version("old", { tags: { [MARK_TAG]: "yesterday" } }), {}, undefined, "approvalRequired"],
    [
      "protected",
      version("old", { tags: { [MARK_TAG]: iso(MARKED), hold: "x" } }),
      { protectTags: [{ key: "hold", value: "*", layer: "L" }] },
      undefined,
      "protectedTag",
    ],
    ["running (not stopRunning)", version("old", { status: "RUNNING", tags: { [MARK_TAG]: iso(MARKED) } }), {}, undefined, "inUse"],
    ["too young", version("old", { ageHours: 1, tags: { [MARK_TAG]: iso(MARKED) } }), { minAgeMs: 24 * H, minAge: "24h" }, undefined, "minAge"],
    ["tags unreadable", version("old", { tagsError: "AccessDenied" }), {}, undefined, "tagsUnreadable"],
    ["requireApproval off", version("old", { tags: { [MARK_TAG]: iso(MARKED) } }), { requireApproval: false }, undefined, "notPlanned"],
    ["marked this very second", version("old", { tags: { [MARK_TAG]: iso(T0) } }), {}, undefined, "changed"],
  ] as const)("refused: %s", (_, v, pol, listed, rule) => {
    const d = decide(v as LiveVersion, pol as Partial<Policy>, listed ? [...listed] : undefined);
    expect(d.kind).toBe("refuse");
    if (d.kind === "refuse") expect(d.rule).toBe(rule);
  });
});

describe("sendApproval (aws/writes.ts)", () => {
  it("sends exactly one TagResource with the approval tag, with the credentials the gate checked, and spends the approval", async () => {
    const d = decide(version("old", { tags: { [MARK_TAG]: iso(MARKED) } }));
    if (d.kind !== "approve") throw new Error(`expected an approval, got ${d.kind}`);
    const sent: { command: string; input: unknown }[] = [];
    const targets: unknown[] = [];
    const client = {
      account: "123456789012",
      regionName: "us-east-1",
      sendWrite: async (command: { constructor: { name: string }; input: unknown }) => (
        sent.push({ command: command.constructor.name, input: command.input }),
        { kind: "ok" }
      ),
    };
    await sendApproval(d.write, { clientFor: (t) => (targets.push(t), client as never) });
    expect(sent).toEqual([{ command: "TagResourceCommand", input: { ResourceArn: d.write.versionArn, Tags: { [APPROVAL_TAG]: "2026-11-28T12:00:00Z" } } }]);
    expect(targets).toEqual([{ region: "us-east-1" }]);
    expect(() => sendApproval(d.write, { clientFor: () => client as never })).toThrow(/already used/);
  });
});
