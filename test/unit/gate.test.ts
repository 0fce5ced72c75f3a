// The gate's own contracts, as tables: approvals only the gate can make, spent on use and bound to the
// credentials it checked; strict marks; and no write request built anywhere but aws/writes.ts.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { Gate, GateError, redeem, type Approved, type DeleteWrite, type Look } from "../../reconciler/gate/index.js";
import { planWith } from "../../reconciler/plan.js";
import { formatMark, formatNotice, MARK_TAG, NOTICE_TAG, parseMark, REMINDER_TAG } from "../../reconciler/policy/guards.js";
import type { LiveVersion, NotificationChannel, Plan, PlanAction, Policy, Reason } from "../../reconciler/types.js";
import { sendDelete } from "../../reconciler/aws/writes.js";
import { ACCOUNT, desired, liveProject, liveState, NOW, policy, set, version } from "../helpers/builders.js";
import { ROOT } from "../helpers/run-cli.js";

const now = NOW.getTime();
const H = 3_600_000;

function world(versions: LiveVersion[], listed: string[] = ["keep"]) {
  const gate = Gate.assess({ desired: desired(set("p1", listed)), live: liveState([liveProject(versions)]), policies: policy(), now: NOW });
  const plan = planWith(gate, NOW);
  return { gate, plan };
}

const lookOf = (vs: LiveVersion[], at = now): Look => ({ at, byName: new Map(vs.map((v) => [v.name, v])), newest: vs });

describe("approvals", () => {
  const keep = version("keep", { ageHours: 1 });
  const old = version("old");
  // Made before each test, not while the tests are collected: mutation testing counts collection-time code
  // as "static", and runs each static mutant against every test.
  let gate: Gate, plan: Plan, action: PlanAction;
  beforeEach(() => {
    ({ gate, plan } = world([keep, old]));
    action = plan.actions.find((a) => a.versionName === "old")!;
  });

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

  it.each([
    { name: "a copy of it, in progress", made: () => version("copy", { ageHours: 0, status: "COPYING_IN_PROGRESS", sourceVersionArn: old.arn }), rules: ["copySource"] },
    { name: "a copy of it, in a status rekon does not know", made: () => version("copy", { ageHours: 0, status: "ARCHIVING", sourceVersionArn: old.arn }), rules: ["copySource"] },
    { name: "a copy in progress whose source is not named", made: () => version("copy", { ageHours: 0, status: "COPYING_IN_PROGRESS" }), rules: ["copySourceUnknown"] },
    { name: "a copy of another version", made: () => version("copy", { ageHours: 0, status: "COPYING_IN_PROGRESS", sourceVersionArn: keep.arn }), rules: [] },
    { name: "a copy of it, already complete", made: () => version("copy", { ageHours: 0, status: "COPYING_COMPLETED", sourceVersionArn: old.arn }), rules: [] },
    { name: "a retrained version", made: () => version("v9", { ageHours: 0, status: "TRAINING_IN_PROGRESS" }), rules: [] },
  ])("a version created in the project since the plan: $name", ({ made, rules }) => {
    const auth = gate.authorize(plan);
    const fresh = [keep, old];
    const d = gate.approve("delete", auth, action, { at: now, byName: new Map(fresh.map((v) => [v.name, v])), newest: [made(), ...fresh] }, now);
    expect("denied" in d ? d.reasons.map((r) => r.rule) : []).toEqual(rules);
  });

  it("a look that did not read the project's newest versions approves no deletion", () => {
    const auth = gate.authorize(plan);
    const d = gate.approve("delete", auth, action, { at: now, byName: new Map([keep, old].map((v) => [v.name, v])) }, now);
    expect(d).toMatchObject({ denied: true, reasons: [{ rule: "copySourceUnknown" }] });
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
    const refused = { ...plan, refusals: [{ rule: "maxDeletesPerRun" as const, message: "over" }] };
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

describe("no notice, no deletion (requireNotice)", () => {
  const channel: NotificationChannel = { name: "platform", url: { fromEnv: "REKON_WEBHOOK_URL" }, format: "json", events: ["marked", "reminder", "deleted"], origin: "test" };
  const pol = (o: Partial<Policy> = {}) => policy({ gracePeriodMs: 72 * H, gracePeriod: "72h", requireNotice: true, notifications: [channel], ...o });
  const keep = version("keep", { ageHours: 1, tags: {} });
  const planOf = (tags: Record<string, string> | undefined, p = pol(), at = NOW) => {
    const gate = Gate.assess({ desired: desired(set("p1", ["keep"])), live: liveState([liveProject([keep, version("x", tags ? { tags } : {})])]), policies: p, now: at });
    const plan = planWith(gate, at);
    return { gate, plan, x: plan.actions.find((a) => a.versionName === "x")! };
  };
  const rules = (a: { reasons: { rule: string }[] }) => a.reasons.map((r) => r.rule);

  it.each([
    { name: "not yet marked: apply marks it, the notice is pending, and when it becomes deletable is not known yet", tags: {}, mark: "add", notice: "pending", rules: ["gracePeriod", "noticeNotDelivered"], deletableAt: undefined },
    { name: "marked long ago, no notice tag: held (the mark stays)", tags: { [MARK_TAG]: formatMark(now - 100 * H) }, mark: undefined, notice: "pending", rules: ["noticeNotDelivered"], deletableAt: undefined },
    { name: "notice delivered an hour ago: held until the notice is gracePeriod old", tags: { [MARK_TAG]: formatMark(now - 100 * H), [NOTICE_TAG]: formatMark(now - H) }, mark: undefined, notice: "delivered", rules: ["noticeNotDelivered"], deletableAt: new Date(now + 71 * H).toISOString() },
    { name: "mark and notice both younger than gracePeriod: the later one decides", tags: { [MARK_TAG]: formatMark(now - 10 * H), [NOTICE_TAG]: formatMark(now - 9 * H) }, mark: undefined, notice: "delivered", rules: ["gracePeriod", "noticeNotDelivered"], deletableAt: new Date(now + 63 * H).toISOString() },
    { name: "notice delivered gracePeriod ago: deletable", tags: { [MARK_TAG]: formatMark(now - 100 * H), [NOTICE_TAG]: formatMark(now - 72 * H) }, mark: undefined, notice: "delivered", rules: [], deletableAt: undefined },
    { name: "a notice older than the mark is of an earlier mark: none", tags: { [MARK_TAG]: formatMark(now - 80 * H), [NOTICE_TAG]: formatMark(now - 90 * H) }, mark: undefined, notice: "pending", rules: ["noticeNotDelivered"], deletableAt: undefined },
    { name: "a notice that is not strict RFC 3339 UTC is none", tags: { [MARK_TAG]: formatMark(now - 100 * H), [NOTICE_TAG]: "2025" }, mark: undefined, notice: "pending", rules: ["noticeNotDelivered"], deletableAt: undefined },
    { name: "a notice with an offset is none", tags: { [MARK_TAG]: formatMark(now - 100 * H), [NOTICE_TAG]: "2026-11-20T00:00:00+00:00" }, mark: undefined, notice: "pending", rules: ["noticeNotDelivered"], deletableAt: undefined },
    { name: "a notice in the future is none", tags: { [MARK_TAG]: formatMark(now - 100 * H), [NOTICE_TAG]: formatMark(now + H) }, mark: undefined, notice: "pending", rules: ["noticeNotDelivered"], deletableAt: undefined },
    { name: "a malformed mark: marked again, and an old notice does not count for the new mark", tags: { [MARK_TAG]: "12", [NOTICE_TAG]: formatMark(now - 100 * H) }, mark: "add", notice: "pending", rules: ["gracePeriod", "noticeNotDelivered"], deletableAt: undefined },
  ])("$name", ({ tags, mark, notice, rules: want, deletableAt }) => {
    const { x } = planOf(tags as Record<string, string>);
    expect({ action: x.action, mark: x.mark, notice: x.notice, rules: rules(x), deletableAt: x.deletableAt }).toEqual({ action: want.length ? "blocked" : "delete", mark, notice, rules: want, deletableAt });
  });

  it("with gracePeriod 0, a delivered notice is enough; without requireNotice the notice is notRequired; without channels there is no notice field", () => {
    expect(planOf({ [MARK_TAG]: formatMark(now - H), [NOTICE_TAG]: formatMark(now - H) }, pol({ gracePeriodMs: 0, gracePeriod: "0s" })).x).toMatchObject({ action: "delete", notice: "delivered" });
    expect(planOf({ [MARK_TAG]: formatMark(now - H) }, pol({ gracePeriodMs: 0, gracePeriod: "0s" })).x).toMatchObject({ action: "blocked", notice: "pending", reasons: [{ rule: "noticeNotDelivered" }] });
    expect(planOf({ [MARK_TAG]: formatMark(now - 100 * H) }, pol({ requireNotice: false })).x).toMatchObject({ action: "delete", notice: "notRequired" });
    expect(planOf({ [MARK_TAG]: formatMark(now - 100 * H) }, pol({ requireNotice: false, notifications: [] })).x).not.toHaveProperty("notice");
  });

  it("a version blocked by another guard loses its mark (and with it its notice); a suspended one shows no notice", () => {
    const tags = { [MARK_TAG]: formatMark(now - 100 * H), [NOTICE_TAG]: formatMark(now - 90 * H), hold: "x" };
    expect(planOf(tags, pol({ protectTags: [{ key: "hold", value: "*", origin: "t" }] })).x).toMatchObject({ action: "blocked", mark: "remove" });
    const s = planOf({ [MARK_TAG]: formatMark(now - 100 * H) }, pol({ suspend: { reason: "audit", origin: "t" } })).x;
    expect(s.notice).toBeUndefined();
    expect(rules(s)).toEqual(["noticeNotDelivered", "suspended"]);
  });

  it("the last look enforces it again: a notice tag gone (or younger) since the plan denies the deletion", () => {
    const tags = { [MARK_TAG]: formatMark(now - 100 * H), [NOTICE_TAG]: formatMark(now - 80 * H) };
    const { gate, plan, x } = planOf(tags);
    expect(x.action).toBe("delete");
    const auth = gate.authorize(plan);
    const v = version("x", { tags });
    expect("denied" in gate.approve("delete", auth, x, lookOf([keep, v]), now)).toBe(false);
    expect(gate.approve("delete", auth, x, lookOf([keep, { ...v, tags: { [MARK_TAG]: tags[MARK_TAG] } }]), now)).toMatchObject({ denied: true, reasons: [{ rule: "noticeNotDelivered" }] });
    expect(gate.approve("delete", auth, x, lookOf([keep, { ...v, tags: { ...tags, [NOTICE_TAG]: formatMark(now - H) } }]), now)).toMatchObject({ denied: true, reasons: [{ rule: "noticeNotDelivered" }] });
  });

  it("approveNotice: only for a pending notice, after the plan and not in the future, rounded up to the second", () => {
    const { gate, plan, x } = planOf({ [MARK_TAG]: formatMark(now - 100 * H) });
    const auth = gate.authorize(plan);
    const at = now + 1_234;
    const a = gate.approveNotice(auth, x, "notice", at, now + 5_000);
    expect(a).toMatchObject({ kind: "notice", tag: NOTICE_TAG, value: formatMark(now + 2_000), versionArn: x.versionArn, account: ACCOUNT });
    expect(formatNotice(at)).toBe("2026-11-28T12:00:02Z");
    expect(gate.approveNotice(auth, x, "notice", now - 1, now)).toMatchObject({ denied: true });
    expect(gate.approveNotice(auth, x, "notice", now + 10_000, now + 5_000)).toMatchObject({ denied: true });
    expect(gate.approveNotice(auth, x, "reminder", at, now + 5_000)).toMatchObject({ denied: true, reasons: [{ rule: "notPlanned" }] });
    const keepAction = plan.actions.find((y) => y.versionName === "keep")!;
    expect(gate.approveNotice(auth, keepAction, "notice", at, now + 5_000)).toMatchObject({ denied: true, reasons: [{ rule: "listed" }] });
    // Delivered already: nothing to record.
    const done = planOf({ [MARK_TAG]: formatMark(now - 100 * H), [NOTICE_TAG]: formatMark(now - 90 * H) });
    expect(done.gate.approveNotice(done.gate.authorize(done.plan), done.x, "notice", at, now + 5_000)).toMatchObject({ denied: true });
    // The approval is single-use, and only for a notice write.
    const b = gate.approveNotice(auth, x, "notice", at, now + 5_000) as Approved<never>;
    expect(() => redeem(b, "mark")).toThrow(/approval is for a notice/);
  });

  it("reminders: due once within remindBefore of deletable (counted from the notice under requireNotice), then sent", () => {
    const p = pol({ remindBeforeMs: 24 * H, remindBefore: "24h" });
    const noticed = (h: number, extra = {}) => planOf({ [MARK_TAG]: formatMark(now - 100 * H), [NOTICE_TAG]: formatMark(now - h * H), ...extra }, p).x.reminder;
    expect(noticed(10)).toBeUndefined(); // 62 h to go
    expect(noticed(50)).toBe("due"); // 22 h to go
    expect(noticed(50, { [REMINDER_TAG]: formatMark(now - H) })).toBe("sent");
    expect(noticed(50, { [REMINDER_TAG]: formatMark(now - 101 * H) })).toBe("due"); // a reminder of an earlier mark
    expect(noticed(80)).toBeUndefined(); // deletable now: the deletion itself is the news
    expect(planOf({ [MARK_TAG]: formatMark(now - 100 * H) }, p).x.reminder).toBeUndefined(); // no notice yet, no reminder
    const noRequire = planOf({ [MARK_TAG]: formatMark(now - 60 * H) }, pol({ requireNotice: false, remindBeforeMs: 24 * H, remindBefore: "24h" }));
    expect(noRequire.x.reminder).toBe("due");
    const auth = noRequire.gate.authorize(noRequire.plan);
    expect(noRequire.gate.approveNotice(auth, noRequire.x, "reminder", now, now)).toMatchObject({ kind: "notice", tag: REMINDER_TAG });
    // A channel that does not take reminders means none are due.
    expect(planOf({ [MARK_TAG]: formatMark(now - 60 * H) }, pol({ requireNotice: false, remindBeforeMs: 24 * H, remindBefore: "24h", notifications: [{ ...channel, events: ["deleted"] }] })).x.reminder).toBeUndefined();
  });
});

describe("write requests are built in aws/writes.ts only", () => {
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
      .filter((f) => !f.includes(`${join("reconciler", "emulator")}`) && !f.endsWith(join("reconciler", "aws", "writes.ts")))
      .filter((f) => /\b(DeleteProjectVersion|StopProjectVersion|StartProjectVersion|CopyProjectVersion|TagResource|UntagResource)Command\b/.test(readFileSync(f, "utf8")))
      .map((f) => relative(ROOT, f));
    expect(offenders).toEqual([]);
    // And aws/writes.ts does name them: the check above would pass vacuously if they had moved elsewhere.
    expect(readFileSync(join(ROOT, "reconciler/aws/writes.ts"), "utf8")).toMatch(/new DeleteProjectVersionCommand/);
  });
});

describe("explain: the gate's decision for one version, as plan makes it", () => {
  const marked = (name: string, o: Parameters<typeof version>[1] = {}) => version(name, { ...o, tags: { [MARK_TAG]: formatMark(now - 100 * H) } });
  const cases: { name: string; versions: LiveVersion[]; listed: string[]; refusals?: Reason[]; pol?: Partial<Policy>; of: string; decision: string; mark?: string; fired: string[] }[] = [
    { name: "listed again: keep, and its old mark goes", versions: [marked("a"), version("b")], listed: ["a"], of: "a", decision: "keep", mark: "remove", fired: [] },
    // A removal can only delay a deletion: a refused run still writes it.
    { name: "listed again in a refused run: keep, and its old mark still goes", versions: [marked("a"), version("b")], listed: ["a"], refusals: [{ rule: "manifestsStale" as const, message: "stale" }], of: "a", decision: "keep", mark: "remove", fired: [] },
    { name: "blocked and marked in a refused run: its mark still goes", versions: [version("a"), marked("b", { ageHours: 1 })], listed: ["a"], refusals: [{ rule: "manifestsStale" as const, message: "stale" }], pol: { gracePeriodMs: 72 * H, gracePeriod: "72h" }, of: "b", decision: "blocked", mark: "remove", fired: ["minAge"] },
    { name: "deletable in a refused run: refused, the refusal named", versions: [version("a"), version("b")], listed: ["a"], refusals: [{ rule: "manifestsStale" as const, message: "stale" }], of: "b", decision: "refused", fired: ["manifestsStale"] },
    { name: "blocked in a refused run: blocked by its guard alone", versions: [version("a"), version("b", { ageHours: 1 })], listed: ["a"], refusals: [{ rule: "manifestsStale" as const, message: "stale" }], of: "b", decision: "blocked", fired: ["minAge"] },
    { name: "unmarked under a grace period: held, and marked", versions: [version("a"), version("b", { tags: {} })], listed: ["a"], pol: { gracePeriodMs: 72 * H, gracePeriod: "72h" }, of: "b", decision: "held", mark: "add", fired: ["gracePeriod"] },
    { name: "marked long enough: delete", versions: [version("a"), marked("b")], listed: ["a"], pol: { gracePeriodMs: 72 * H, gracePeriod: "72h" }, of: "b", decision: "delete", fired: [] },
    { name: "young and marked: blocked, the mark removed, the holds not evaluated", versions: [version("a"), marked("b", { ageHours: 1 })], listed: ["a"], pol: { gracePeriodMs: 72 * H, gracePeriod: "72h" }, of: "b", decision: "blocked", mark: "remove", fired: ["minAge"] },
    { name: "RUNNING with stopRunning: stop then delete", versions: [version("a"), version("b", { status: "RUNNING" })], listed: ["a"], pol: { stopRunning: true }, of: "b", decision: "stop then delete", fired: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const gate = Gate.assess({ desired: desired(set("p1", c.listed)), live: liveState([liveProject(c.versions)]), policies: policy(c.pol), now: NOW, ...(c.refusals ? { refusals: c.refusals } : {}) });
      const plan = planWith(gate, NOW);
      const view = gate.views[0]!;
      const v = c.versions.find((x) => x.name === c.of)!;
      const x = gate.explain(view, v, now, plan.refusals);
      expect({ decision: x.decision, mark: x.mark, fired: x.checks.filter((k) => k.verdict === "block" || k.verdict === "hold").map((k) => k.rule) }).toEqual({ decision: c.decision, mark: c.mark, fired: c.fired });
      const a = plan.actions.find((y) => y.versionArn === v.arn)!;
      expect(x.mark).toBe(a.mark);
      if (c.fired.includes("minAge")) expect(x.checks.find((k) => k.rule === "gracePeriod")?.verdict).toBe(c.pol?.gracePeriodMs ? "skip" : "pass");
    });
  }
});
