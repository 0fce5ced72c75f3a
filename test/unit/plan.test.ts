import { describe, expect, it } from "vitest";
import { plan, planExitCode } from "../../reconciler/plan.js";
import { VERSION_STATUSES, type LiveState, type Policy } from "../../reconciler/types.js";
import { IN_USE_STATUSES } from "../../reconciler/policy/guards.js";
import { ACCOUNT, desired, liveProject, NOW, policy, set, version, liveState, AMBIENT_IDENTITY } from "../helpers/builders.js";

const H = 3_600_000;

/** Plan one project "p1" and return the action for version `target`. */
function decide(listed: string[], versions: ReturnType<typeof version>[], pol: Policy, target: string) {
  const p = plan(desired(set("p1", listed)), liveState([liveProject(versions, { project: "p1" })]), pol, NOW);
  const a = p.actions.find((x) => x.versionName === target);
  if (!a) throw new Error(`no action for ${target}`);
  return { action: a.action, rules: a.reasons.map((r) => r.rule), plan: p };
}

describe("plan: one rule per row", () => {
  const old = (name: string, o = {}) => version(name, { ageHours: 24 * 90, ...o });
  it.each([
    { name: "listed and live → keep", listed: ["a"], versions: [old("a")], pol: policy(), target: "a", action: "keep", rules: [] },
    { name: "unlisted, old, stopped → delete", listed: [], versions: [old("a")], pol: policy({ allowEmpty: true }), target: "a", action: "delete", rules: [] },
    { name: "unlisted beside a listed one → delete", listed: ["b"], versions: [old("a"), old("b", { ageHours: 1 })], pol: policy(), target: "a", action: "delete", rules: [] },
    { name: "younger than minAge → blocked minAge", listed: ["b"], versions: [version("a", { ageHours: 23 }), old("b")], pol: policy(), target: "a", action: "blocked", rules: ["minAge"] },
    { name: "exactly minAge old → delete", listed: ["b"], versions: [version("a", { ageHours: 24 }), old("b")], pol: policy(), target: "a", action: "delete", rules: [] },
    { name: "created in the future (clock skew) → blocked minAge", listed: ["b"], versions: [version("a", { ageHours: -2 }), old("b")], pol: policy(), target: "a", action: "blocked", rules: ["minAge"] },
    { name: "newest of project with keepLatest 1 → blocked keepLatest", listed: ["b"], versions: [old("a", { ageHours: 48 }), old("b")], pol: policy({ keepLatest: 1 }), target: "a", action: "blocked", rules: ["keepLatest"] },
    { name: "second newest with keepLatest 1 → delete", listed: ["b"], versions: [old("a", { ageHours: 500 }), old("b", { ageHours: 48 })], pol: policy({ keepLatest: 1 }), target: "a", action: "delete", rules: [] },
    { name: "a DELETING version does not hold a keepLatest slot", listed: [], versions: [old("gone", { ageHours: 30, status: "DELETING" }), old("a", { ageHours: 40 }), old("z", { ageHours: 900 })], pol: policy({ keepLatest: 1, allowEmpty: true }), target: "a", action: "blocked", rules: ["keepLatest"] },
    { name: "empty set without allowEmpty → blocked allowEmpty", listed: [], versions: [old("a")], pol: policy(), target: "a", action: "blocked", rules: ["allowEmpty"] },
    // A version whose ARN names another account than the credentials resolved to: the gate's identity
    // invariant fires before any policy rule, and the allowlist fires too.
    { name: "foreign account → blocked identityMismatch and accountNotAllowed", listed: ["b"], versions: [old("a", { account: "999999999999" }), old("b")], pol: policy(), target: "a", action: "blocked", rules: ["identityMismatch", "accountNotAllowed"] },
    { name: "account outside allowedAccounts → blocked accountNotAllowed", listed: ["b"], versions: [old("a"), old("b")], pol: policy({ allowedAccounts: ["999999999999"] }), target: "a", action: "blocked", rules: ["accountNotAllowed"] },
    { name: "empty allowlist does not block the plan", listed: ["b"], versions: [old("a"), old("b")], pol: policy({ allowedAccounts: [] }), target: "a", action: "delete", rules: [] },
    { name: "unknown status → blocked unknownStatus", listed: ["b"], versions: [old("a", { status: "HIBERNATING" }), old("b")], pol: policy(), target: "a", action: "blocked", rules: ["unknownStatus"] },
    {
      name: "source of an in-progress copy → blocked copySource",
      listed: ["b", "c"],
      versions: [old("a", { arn: "arn:aws:rekognition:us-east-1:123456789012:project/p1/version/a/1" }), old("b"), old("c", { status: "COPYING_IN_PROGRESS", sourceVersionArn: "arn:aws:rekognition:us-east-1:123456789012:project/p1/version/a/1" })],
      pol: policy(),
      target: "a",
      action: "blocked",
      rules: ["copySource"],
    },
    {
      name: "source of a finished copy → delete",
      listed: ["b", "c"],
      versions: [old("a", { arn: "arn:aws:rekognition:us-east-1:123456789012:project/p1/version/a/1" }), old("b"), old("c", { status: "COPYING_COMPLETED", sourceVersionArn: "arn:aws:rekognition:us-east-1:123456789012:project/p1/version/a/1" })],
      pol: policy(),
      target: "a",
      action: "delete",
      rules: [],
    },
    { name: "RUNNING without stopRunning → blocked inUse", listed: ["b"], versions: [old("a", { status: "RUNNING" }), old("b")], pol: policy(), target: "a", action: "blocked", rules: ["inUse"] },
    { name: "RUNNING with stopRunning → delete (stop first)", listed: ["b"], versions: [old("a", { status: "RUNNING" }), old("b")], pol: policy({ stopRunning: true }), target: "a", action: "delete", rules: [] },
    { name: "STARTING with stopRunning → still blocked inUse", listed: ["b"], versions: [old("a", { status: "STARTING" }), old("b")], pol: policy({ stopRunning: true }), target: "a", action: "blocked", rules: ["inUse"] },
    { name: "RUNNING with stopRunning but too young → blocked minAge only", listed: ["b"], versions: [version("a", { status: "RUNNING", ageHours: 2 }), old("b")], pol: policy({ stopRunning: true }), target: "a", action: "blocked", rules: ["minAge"] },
    {
      name: "every firing rule is listed",
      listed: [],
      versions: [version("a", { ageHours: 1, status: "RUNNING", account: "999999999999" })],
      pol: policy({ keepLatest: 1 }),
      target: "a",
      action: "blocked",
      rules: ["identityMismatch", "inUse", "minAge", "keepLatest", "allowEmpty", "accountNotAllowed"],
    },
  ])("$name", ({ listed, versions, pol, target, action, rules }) => {
    const got = decide(listed, versions, pol, target);
    expect(got.action).toBe(action);
    expect(got.rules).toEqual(rules);
  });

  it.each(VERSION_STATUSES.map((s) => ({ status: s, inUse: IN_USE_STATUSES.has(s) })))("status $status: inUse=$inUse", ({ status, inUse }) => {
    const got = decide(["b"], [version("a", { ageHours: 1000, status }), version("b")], policy(), "a");
    expect(got.rules.includes("inUse")).toBe(inUse);
    expect(got.action).toBe(inUse ? "blocked" : "delete");
  });

  it("stopFirst is set only on deletions of RUNNING versions", () => {
    const p = decide(["b"], [old("a", { status: "RUNNING" }), old("c"), old("b")], policy({ stopRunning: true }), "a").plan;
    expect(p.actions.filter((x) => x.action === "delete").map((x) => [x.versionName, x.stopFirst ?? false])).toEqual([["a", true], ["c", false]]);
  });

  it("the six documented in-use statuses and no others", () => {
    expect([...IN_USE_STATUSES].sort()).toEqual(["COPYING_IN_PROGRESS", "DELETING", "RUNNING", "STARTING", "STOPPING", "TRAINING_IN_PROGRESS"]);
  });
});

describe("plan: deletion budget", () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => version(`v${i}`, { ageHours: 100 + i }));
  it.each([
    { name: "under budget", n: 3, max: 5, deletes: 3, refused: false },
    { name: "exactly at budget", n: 5, max: 5, deletes: 5, refused: false },
    { name: "one over budget → nothing deleted", n: 6, max: 5, deletes: 0, refused: true },
    { name: "budget 0 → any deletion refused", n: 1, max: 0, deletes: 0, refused: true },
  ])("$name", ({ n, max, deletes, refused }) => {
    const p = plan(desired(set("p1", ["keep"])), liveState([liveProject([...many(n), version("keep")])]), policy({ maxDeletesPerRun: max }), NOW);
    expect(p.summary.delete).toBe(deletes);
    expect(p.refusals.length > 0).toBe(refused);
    if (refused) {
      expect(p.summary.blocked).toBe(n);
      for (const a of p.actions.filter((x) => x.action === "blocked")) expect(a.reasons.map((r) => r.rule)).toContain("maxDeletesPerRun");
      expect(planExitCode(p)).toBe(1);
    } else expect(planExitCode(p)).toBe(2);
  });

  it("counts the budget across projects", () => {
    const live: LiveState = {
      projects: [liveProject([version("a", { project: "p1" }), version("k", { project: "p1", ageHours: 1 })], { project: "p1" }), liveProject([version("b", { project: "p2" }), version("k", { project: "p2", ageHours: 1 })], { project: "p2" })],
      identities: [AMBIENT_IDENTITY],
    };
    const p = plan(desired(set("p1", ["k"]), set("p2", ["k"])), live, policy({ maxDeletesPerRun: 1 }), NOW);
    expect(p.summary.delete).toBe(0);
    expect(p.refusals[0]?.rule).toBe("maxDeletesPerRun");
  });
});

describe("plan: live read failures fail closed", () => {
  it("project not found → missing listed versions, no deletions, exit 1", () => {
    const p = plan(desired(set("p1", ["a", "b"])), liveState([liveProject([], { project: "p1", status: "notFound", error: "not found" })]), policy(), NOW);
    expect(p.projects[0]!.status).toBe("notFound");
    expect(p.actions.map((a) => [a.action, a.versionName])).toEqual([["missing", "a"], ["missing", "b"]]);
    expect(planExitCode(p)).toBe(1);
  });

  it("read error → no actions for that project, exit 1; in the same account and region copy sources are unknown, elsewhere planning goes on", () => {
    const live: LiveState = liveState([
      liveProject([version("x")], { project: "p1", status: "error", error: "Throttling" }),
      liveProject([version("old", { project: "p2" }), version("k", { project: "p2", ageHours: 1 })], { project: "p2" }),
      liveProject([version("old", { project: "p3", region: "eu-west-1" }), version("k", { project: "p3", region: "eu-west-1", ageHours: 1 })], { project: "p3", region: "eu-west-1" }),
    ]);
    const p = plan(desired(set("p1", []), set("p2", ["k"]), set("p3", ["k"], { region: "eu-west-1" })), live, policy(), NOW);
    expect(p.actions.filter((a) => a.project === "p1")).toEqual([]);
    // p1 could hold a copy in progress of p2's "old": that protection cannot be checked, so it holds.
    const p2old = p.actions.find((a) => a.project === "p2" && a.versionName === "old")!;
    expect(p2old.action).toBe("blocked");
    expect(p2old.reasons.map((r) => r.rule)).toEqual(["copySourceUnknown"]);
    expect(p2old.reasons[0]!.message).toContain("project p1 could not be read (Throttling)");
    expect(p.actions.find((a) => a.project === "p3" && a.versionName === "old")?.action).toBe("delete");
    expect(p.projects.find((x) => x.project === "p1")).toMatchObject({ status: "error", error: "Throttling" });
    expect(planExitCode(p)).toBe(1);
  });

  it("a read error in another account of the same region makes copy sources unknown too (copies cross accounts, not regions)", () => {
    const OTHER = "210987654321";
    const role = `arn:aws:iam::${OTHER}:role/rekon`;
    const live: LiveState = liveState(
      [
        liveProject([version("old"), version("k", { ageHours: 1 })], { project: "p1" }),
        { ...liveProject([], { project: "theirs", status: "error", error: "AccessDeniedException" }), account: OTHER },
        liveProject([version("old", { project: "p3", region: "eu-west-1" }), version("k", { project: "p3", region: "eu-west-1", ageHours: 1 })], { project: "p3", region: "eu-west-1" }),
      ],
      [AMBIENT_IDENTITY, { source: role, account: OTHER, arn: `arn:aws:sts::${OTHER}:assumed-role/rekon/s` }],
    );
    const p = plan(desired(set("p1", ["k"]), { ...set("theirs", []), roleArn: role }, set("p3", ["k"], { region: "eu-west-1" })), live, policy({ allowedAccounts: [ACCOUNT, OTHER] }), NOW);
    const old = p.actions.find((a) => a.project === "p1" && a.versionName === "old")!;
    expect(old.action).toBe("blocked");
    expect(old.reasons.map((r) => r.rule)).toEqual(["copySourceUnknown"]);
    expect(old.reasons[0]!.message).toContain(`project theirs (account ${OTHER}) could not be read`);
    // Another region is not affected: a copy stays in its region.
    expect(p.actions.find((a) => a.project === "p3" && a.versionName === "old")?.action).toBe("delete");
  });

  it("a project missing from the live state is treated as a read error, not as empty", () => {
    const p = plan(desired(set("p1", ["a"])), liveState([]), policy(), NOW);
    expect(p.projects[0]).toMatchObject({ status: "error" });
    expect(p.actions).toEqual([]);
    expect(planExitCode(p)).toBe(1);
  });

  it("a project with the same name in another region is not mixed up", () => {
    const p = plan(desired(set("p1", ["a"], { region: "eu-west-1" })), liveState([liveProject([version("z")], { project: "p1", region: "us-east-1" })]), policy(), NOW);
    expect(p.projects[0]!.status).toBe("error");
    expect(p.actions).toEqual([]);
  });
});

describe("plan: shape and determinism", () => {
  const versions = [version("a", { ageHours: 10 }), version("b", { ageHours: 5000 }), version("c", { ageHours: 300 }), version("d", { ageHours: 2000, status: "RUNNING" })];
  const d = desired(set("p1", ["c", "missing-one"]));

  it("exit code 0 when nothing to delete, 2 when deletions pending", () => {
    expect(planExitCode(plan(d, liveState([liveProject(versions)]), policy(), NOW))).toBe(2);
    expect(planExitCode(plan(desired(set("p1", ["a", "b", "c", "d"])), liveState([liveProject(versions)]), policy(), NOW))).toBe(0);
  });

  it("summary counts match actions, and order is newest first with missing last", () => {
    const p = plan(d, liveState([liveProject(versions)]), policy(), NOW);
    expect(p.summary).toEqual({ delete: 1, keep: 1, blocked: 2, missing: 1, start: 0, stop: 0 });
    expect(p.actions.map((a) => a.versionName)).toEqual(["a", "c", "d", "b", "missing-one"]);
    expect(p.generatedAt).toBe(NOW.toISOString());
    expect(p.actions.find((a) => a.versionName === "b")).toMatchObject({ action: "delete", versionArn: expect.stringContaining(`:${ACCOUNT}:project/p1/version/b/`), status: "STOPPED", createdAt: new Date(NOW.getTime() - 5000 * H).toISOString() });
  });

  it("does not depend on the order of live versions or projects", () => {
    const a = plan(d, liveState([liveProject(versions)]), policy({ keepLatest: 2 }), NOW);
    const b = plan(d, liveState([liveProject([...versions].reverse())]), policy({ keepLatest: 2 }), NOW);
    expect(b).toEqual(a);
  });

  it("does not mutate its inputs", () => {
    const live: LiveState = liveState([liveProject(versions)]);
    const before = JSON.stringify(live);
    plan(d, live, policy({ keepLatest: 3 }), NOW);
    expect(JSON.stringify(live)).toBe(before);
  });
});
