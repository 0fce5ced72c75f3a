// The gate's own contracts, as tables: approvals only the gate can make, spent on use and bound to the
// credentials it checked; strict marks; and no write request built anywhere but writes.ts.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { Gate, GateError, redeem, type Approved, type DeleteWrite, type Look } from "../../reconciler/gate.js";
import { planWith } from "../../reconciler/plan.js";
import { formatMark, MARK_TAG, parseMark } from "../../reconciler/policy/guards.js";
import type { LiveVersion } from "../../reconciler/types.js";
import { sendDelete } from "../../reconciler/writes.js";
import { ACCOUNT, desired, liveProject, liveState, NOW, policy, set, version } from "../helpers/builders.js";
import { ROOT } from "../helpers/run-cli.js";

const now = NOW.getTime();
const H = 3_600_000;

function world(versions: LiveVersion[], listed: string[] = ["keep"]) {
  const gate = Gate.assess({ desired: desired(set("p1", listed)), live: liveState([liveProject(versions)]), policies: policy(), now: NOW });
  const plan = planWith(gate, NOW);
  return { gate, plan };
}

const lookOf = (vs: LiveVersion[], at = now): Look => ({ at, byName: new Map(vs.map((v) => [v.name, v])) });

describe("approvals", () => {
  const keep = version("keep", { ageHours: 1 });
  const old = version("old");
  const { gate, plan } = world([keep, old]);
  const action = plan.actions.find((a) => a.versionName === "old")!;

  it("the gate approves a planned deletion on a fresh look that still allows it", () => {
    const auth = gate.authorize(plan);
    const a = gate.approve("delete", auth, action, lookOf([keep, old]), now);
    expect("denied" in a).toBe(false);
    expect(a).toMatchObject({ kind: "delete", versionArn: old.arn, account: ACCOUNT, region: "us-east-1", source: "ambient", lookedAt: now });
  });

  it("an object shaped like an approval but not made by the gate is refused before any call", async () => {
    const forged = { kind: "delete", versionArn: old.arn, versionName: "old", project: "p1", region: "us-east-1", account: ACCOUNT, source: "ambient", lookedAt: now } as unknown as Approved<DeleteWrite>;
    expect(() => redeem(forged, "delete")).toThrow(GateError);
    let called = false;
    await expect(async () => sendDelete(forged, { clientFor: () => ((called = true), {}) as never })).rejects.toThrow(/not made by the gate/);
    expect(called).toBe(false);
  });

  it("an approval is for one write: a second use is refused", () => {
    const auth = gate.authorize(plan);
    const a = gate.approve("delete", auth, action, lookOf([keep, old]), now) as Approved<DeleteWrite>;
    redeem(a, "delete");
    expect(() => redeem(a, "delete")).toThrow(/already used/);
  });

  it("an approval for one kind of write cannot be spent on another", () => {
    const auth = gate.authorize(plan);
    const a = gate.approve("delete", auth, action, lookOf([keep, old]), now) as Approved<DeleteWrite>;
    expect(() => redeem(a as never, "stop")).toThrow(/approval is for a delete/);
  });

  it("the write goes out only with the credentials whose account the gate checked", async () => {
    const auth = gate.authorize(plan);
    const a = gate.approve("delete", auth, action, lookOf([keep, old]), now) as Approved<DeleteWrite>;
    const wrong = { account: "999999999999", regionName: "us-east-1", sendWrite: () => Promise.reject(new Error("must not be called")) };
    await expect(async () => sendDelete(a, { clientFor: () => wrong as never })).rejects.toThrow(/client is for account 999999999999/);
  });

  it.each([
    { name: "status changed to RUNNING", fresh: () => [keep, { ...old, status: "RUNNING" }], rule: "inUse" },
    { name: "a different version now has the name", fresh: () => [keep, { ...old, arn: old.arn.replace(/\/\d+$/, "/1") }], rule: "changed" },
    { name: "the listed version vanished (allowEmpty can no longer be judged)", fresh: () => [old], rule: "allowEmpty" },
  ])("denied on a fresh look: $name", ({ fresh, rule }) => {
    const auth = gate.authorize(plan);
    const d = gate.approve("delete", auth, action, lookOf(fresh() as LiveVersion[]), now);
    expect("denied" in d && d.reasons.map((r) => r.rule)).toContain(rule);
  });

  it("a version the look did not find is gone, not an error", () => {
    const auth = gate.authorize(plan);
    expect(gate.approve("delete", auth, action, lookOf([keep]), now)).toMatchObject({ denied: true, gone: true });
  });

  it("a plan action the gate did not authorize (not a planned deletion) is denied", () => {
    const auth = gate.authorize(plan);
    const kept = plan.actions.find((a) => a.versionName === "keep")!;
    expect(gate.approve("delete", auth, { ...kept, action: "delete" }, lookOf([keep, old]), now)).toMatchObject({ denied: true, reasons: [{ rule: "notPlanned" }] });
  });

  it("authorize refuses a plan with a refusal, or over budget, or without allowedAccounts", () => {
    const refused = { ...plan, refusals: [{ rule: "maxDeletesPerRun", message: "over" }] };
    expect(() => gate.authorize(refused)).toThrow(/over/);
    const many = Array.from({ length: 12 }, (_, i) => version(`o${i}`));
    const big = world([keep, ...many]);
    // The planner already refused it; a plan edited to drop the refusal is refused again by the gate.
    expect(big.plan.refusals.map((r) => r.rule)).toEqual(["maxDeletesPerRun"]);
    const forgedBig = { ...big.plan, refusals: [], actions: big.plan.actions.map((a) => (a.versionName.startsWith("o") ? { ...a, action: "delete" as const } : a)) };
    expect(() => big.gate.authorize(forgedBig)).toThrow(/maxDeletesPerRun 10/);
    const noAccounts = Gate.assess({ desired: desired(set("p1", ["keep"])), live: liveState([liveProject([keep, old])]), policies: policy({ allowedAccounts: [] }), now: NOW });
    expect(() => noAccounts.authorize(planWith(noAccounts, NOW))).toThrow(/apply needs spec.allowedAccounts/);
  });
});

describe("marks: only strict RFC 3339 UTC counts", () => {
  it.each([
    ["2026-11-28T10:00:00Z", Date.parse("2026-11-28T10:00:00Z")],
    ["2026-11-28T10:00:00.5Z", Date.parse("2026-11-28T10:00:00.500Z")],
    ["2026-11-28T10:00:00.123456789Z", Date.parse("2026-11-28T10:00:00.123Z")],
    ["12", undefined],
    ["2025", undefined],
    ["1", undefined],
    ["", undefined],
    ["2026-11-28", undefined],
    ["2026-11-28 10:00:00Z", undefined],
    ["2026-11-28T10:00:00+00:00", undefined],
    ["2026-11-28T10:00:00z", undefined],
    ["2026-02-30T00:00:00Z", undefined],
    ["2026-13-01T00:00:00Z", undefined],
    ["2026-11-28T24:00:00Z", undefined],
    ["2026-11-28T12:04:00Z", Date.parse("2026-11-28T12:04:00Z")], // 4 minutes ahead: clock skew
    ["2026-11-28T12:06:00Z", undefined], // more than 5 minutes in the future
    ["Sat, 28 Nov 2026 10:00:00 GMT", undefined],
  ])("%j → %s", (value, want) => {
    expect(parseMark(value, now)).toBe(want);
  });

  it("rekon writes what it reads: whole seconds, UTC, Z", () => {
    expect(formatMark(Date.parse("2026-11-28T10:00:00.987Z"))).toBe("2026-11-28T10:00:00Z");
    expect(parseMark(formatMark(now - H), now)).toBe(now - H);
  });

  it("a malformed mark is no mark: the plan marks again and the period starts now", () => {
    const pol = policy({ gracePeriodMs: 72 * H, gracePeriod: "72h" });
    const gate = Gate.assess({ desired: desired(set("p1", ["keep"])), live: liveState([liveProject([version("keep", { ageHours: 1, tags: {} }), version("x", { tags: { [MARK_TAG]: "2025" } })])]), policies: pol, now: NOW });
    const x = planWith(gate, NOW).actions.find((a) => a.versionName === "x")!;
    expect(x).toMatchObject({ action: "blocked", mark: "add", deletableAt: new Date(now + 72 * H).toISOString() });
    expect(x.reasons[0]!.message).toContain('its mark "2025" is not an RFC 3339 UTC time');
  });

  it("a marked version blocked by another guard loses its mark (the notice must be continuous); the budget does not remove it", () => {
    const pol = policy({ gracePeriodMs: 1 * H, gracePeriod: "1h" });
    const mark = { [MARK_TAG]: formatMark(now - 2 * H) };
    const gate = Gate.assess({ desired: desired(set("p1", ["keep"])), live: liveState([liveProject([version("keep", { ageHours: 1, tags: {} }), version("run", { status: "RUNNING", tags: mark })])]), policies: pol, now: NOW });
    expect(planWith(gate, NOW).actions.find((a) => a.versionName === "run")).toMatchObject({ action: "blocked", mark: "remove" });
  });
});

describe("write requests are built in writes.ts only", () => {
  it("no other module under reconciler/ (outside the emulator) names a write command", () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d)) {
        const p = join(d, e);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith(".ts")) files.push(p);
      }
    };
    walk(join(ROOT, "reconciler"));
    const offenders = files
      .filter((f) => !f.includes(`${join("reconciler", "emulator")}`) && !f.endsWith(join("reconciler", "writes.ts")))
      .filter((f) => /\b(DeleteProjectVersion|StopProjectVersion|TagResource|UntagResource)Command\b/.test(readFileSync(f, "utf8")))
      .map((f) => relative(ROOT, f));
    expect(offenders).toEqual([]);
    // And writes.ts does name them: the check above would pass vacuously if they had moved elsewhere.
    expect(readFileSync(join(ROOT, "reconciler/writes.ts"), "utf8")).toMatch(/new DeleteProjectVersionCommand/);
  });
});
