// The gate's decisions a user relies on, as tables through its public surface (Gate.assess, planWith,
// verdict, approve, approveMark, approveNotice, authorize, lookFor, refusals): for each way a write could
// go wrong, the verdict, the rule id that says why, and the key words of its message. Written to kill the
// mutants `npm run test:mutation` found alive: each row is a change to the gate that no test noticed.
//
// Every world is built inside its test, never while tests are collected (mutation testing counts
// collection-time code as "static" and runs such mutants against every test).
import { describe, expect, it } from "vitest";
import type { CustomRuleName } from "../../reconciler/rules.js";
import { RefusalError } from "../../reconciler/errors.js";
import { Gate, type Denial, type Look, type RunAuthorization } from "../../reconciler/gate/index.js";
import { planWith } from "../../reconciler/plan.js";
import { APPROVAL_TAG, formatMark, MARK_TAG, NOTICE_TAG, REMINDER_TAG } from "../../reconciler/policy/guards.js";
import type {
  CompiledRule,
  DesiredSet,
  IdentityFact,
  LiveProject,
  LiveVersion,
  NotificationChannel,
  Plan,
  PlanAction,
  Policy,
  PolicySet,
  Reason,
  ScopedPolicy,
} from "../../reconciler/types.js";
import { ACCOUNT, AMBIENT_IDENTITY, desired, liveProject, liveState, NOW, policy, set, version } from "../helpers/builders.js";

const now = NOW.getTime();
const H = 3_600_000;
const OTHER = "999999999999";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/rekon`;
const iso = (t: number) => new Date(t).toISOString();
const channel: NotificationChannel = {
  name: "platform",
  url: { fromEnv: "REKON_WEBHOOK_URL" },
  format: "json",
  events: ["marked", "reminder", "deleted"],
  origin: "test",
};

interface WorldSpec {
  sets?: DesiredSet[];
  projects?: LiveProject[];
  versions?: LiveVersion[];
  listed?: string[];
  pol?: Partial<Policy>;
  policies?: PolicySet;
  identities?: IdentityFact[];
  refusals?: Reason[];
  at?: number;
}

/** One project "p1" listing `listed` (default "keep"), read with the ambient credentials of ACCOUNT, unless the spec says otherwise. */
function assess(s: WorldSpec = {}) {
  const sets = s.sets ?? [set("p1", s.listed ?? ["keep"])];
  const projects = s.projects ?? [liveProject(s.versions ?? [version("keep", { ageHours: 1 }), version("old")])];
  const at = s.at ?? now;
  const gate = Gate.assess({
    desired: desired(...sets),
    live: liveState(projects, s.identities ?? [AMBIENT_IDENTITY, { source: ROLE, account: ACCOUNT }]),
    policies: s.policies ?? policy(s.pol),
    now: new Date(at),
    ...(s.refusals ? { refusals: s.refusals } : {}),
  });
  const plan = planWith(gate, new Date(at));
  const action = (name: string) => plan.actions.find((a) => a.versionName === name)!;
  const project = (name: string) => plan.projects.find((p) => p.project === name)!;
  return { gate, plan, action, project };
}

const rules = (a: { reasons: Reason[] } | Denial | object) => ("reasons" in a ? a.reasons.map((r) => r.rule) : []);
const lookOf = (vs: LiveVersion[], at = now): Look => ({ at, byName: new Map(vs.map((v) => [v.name, v])), newest: vs });
const denied = (x: unknown): x is Denial => typeof x === "object" && x !== null && "denied" in x;

describe("Gate.assess: which projects are read, and what an unreadable one does to its region", () => {
  it.each([
    { name: "the same account: read", account: ACCOUNT, status: "ok" },
    { name: "no account in the answer (nothing to compare): read", account: undefined, status: "ok" },
    {
      name: "another account: the project's ARN is not in the account the credentials resolved to",
      account: OTHER,
      status: "error",
      error: `the project's ARN is in account ${OTHER}, but the ambient credentials resolved to account ${ACCOUNT}; nothing in it is deleted`,
      unknown: `project p1 answered from account ${OTHER}`,
    },
  ])("a project answered from $name", ({ account, status, error, unknown }) => {
    const p1 = { ...liveProject([version("keep", { ageHours: 1 }), version("old")]), account } as LiveProject;
    const p2 = liveProject([version("k2", { project: "p2", ageHours: 1 }), version("o2", { project: "p2" })], { set: "p2-set" });
    const w = assess({ sets: [set("p1", ["keep"]), set("p2", ["k2"])], projects: [p1, p2] });
    expect(w.project("p1").status).toBe(status);
    expect(w.project("p1").error).toBe(error);
    // Nothing is said about the versions of a project that was not read; the project it should have read
    // could hold a copy in progress of any version of the region, so those are kept.
    expect(w.plan.actions.filter((a) => a.project === "p1").map((a) => a.action)).toEqual(status === "ok" ? ["keep", "delete"] : []);
    const o2 = w.action("o2");
    expect(o2.action).toBe(unknown ? "blocked" : "delete");
    if (unknown) expect(o2.reasons).toEqual([{ rule: "copySourceUnknown", message: `whether a copy of it is in progress is unknown: ${unknown}` }]);
  });

  it.each([
    {
      name: "an identity STS could not resolve",
      identities: [{ source: "ambient", error: "ExpiredToken: the token expired\nat …" }],
      error:
        "the account of the ambient credentials could not be resolved (sts:GetCallerIdentity: ExpiredToken: the token expired\nat …); nothing in " +
        "this project is read or deleted",
      unknown: "project p1 in us-east-1 was not read (the ambient credentials unresolved)",
    },
    {
      name: "an identity never asked for",
      identities: [],
      error: "the account of the ambient credentials could not be resolved (sts:GetCallerIdentity was not called); nothing in this project is read or deleted",
      unknown: "project p1 in us-east-1 was not read (the ambient credentials unresolved)",
    },
    {
      name: "a project whose read failed",
      projects: [{ ...liveProject([]), status: "error" as const, error: "AccessDenied: no\nmore" }],
      error: "AccessDenied: no\nmore",
      unknown: "project p1 could not be read (AccessDenied: no)",
    },
    { name: "a project that was not read at all (never empty)", projects: [], error: "live state was not read", unknown: "project p1 could not be read" },
    {
      name: "a read of another project under the set's name",
      projects: [liveProject([version("keep", { project: "p9" })], { project: "p9", set: "p1-set" })],
      error: "live state was not read",
      unknown: "project p1 could not be read",
    },
    {
      name: "a read in another region under the set's name",
      projects: [liveProject([version("keep")], { region: "eu-west-1", set: "p1-set" })],
      error: "live state was not read",
      unknown: "project p1 could not be read",
    },
  ])("$name: the set is an error, and copies in its region are unknown", ({ identities, projects, error, unknown }) => {
    const p2 = liveProject([version("k2", { project: "p2", ageHours: 1 }), version("o2", { project: "p2" })], { set: "p2-set" });
    const w = assess({
      sets: [set("p1", ["keep"]), { ...set("p2", ["k2"]), roleArn: ROLE }],
      projects: [...(projects ?? []), p2],
      identities: [...(identities ?? [AMBIENT_IDENTITY]), { source: ROLE, account: ACCOUNT }],
    });
    expect(w.project("p1")).toMatchObject({ status: "error", error });
    expect(w.action("o2").reasons).toEqual([{ rule: "copySourceUnknown", message: `whether a copy of it is in progress is unknown: ${unknown}` }]);
  });

  it("a read failure under a role names the account; one in another region does not touch this one", () => {
    const p2 = liveProject([version("k2", { project: "p2", ageHours: 1 }), version("o2", { project: "p2" })], { set: "p2-set" });
    const w = assess({ sets: [{ ...set("p1", ["keep"]), roleArn: ROLE }, set("p2", ["k2"])], projects: [p2] });
    expect(w.action("o2").reasons.map((r) => r.message)).toEqual([
      `whether a copy of it is in progress is unknown: project p1 (account ${ACCOUNT}) could not be read`,
    ]);
    const elsewhere = assess({ sets: [set("p1", ["keep"], { region: "eu-west-1" }), set("p2", ["k2"])], projects: [p2] });
    expect(elsewhere.action("o2").action).toBe("delete");
  });

  it("every reason a region was not read completely is named, sorted, the fourth and later counted", () => {
    const p9 = liveProject([version("k9", { project: "p9", ageHours: 1 }), version("o9", { project: "p9" })], { set: "p9-set" });
    const five = ["pa", "pe", "pd", "pc", "pb"].map((p) => set(p, ["x"]));
    const w = assess({ sets: [...five, set("p9", ["k9"])], projects: [p9] });
    expect(w.action("o9").reasons[0]!.message).toBe(
      "whether a copy of it is in progress is unknown: project pa could not be read; project pb could not be read; project pc could not be read; and 2 more",
    );
    const three = assess({ sets: [...five.slice(0, 3), set("p9", ["k9"])], projects: [p9] });
    expect(three.action("o9").reasons[0]!.message).toBe(
      "whether a copy of it is in progress is unknown: project pa could not be read; project pd could not be read; project pe could not be read",
    );
  });

  it("two sets that resolve to one project: both are errors, each named with its file and credentials", () => {
    const a = set("p1", ["keep"], { name: "a" });
    const b = { ...set("p1", ["old"], { name: "b" }), roleArn: ROLE, pos: { file: "b.yaml", line: 3, col: 5 } };
    const w = assess({
      sets: [a, b],
      projects: [liveProject([version("keep"), version("old")], { set: "a" }), liveProject([version("keep"), version("old")], { set: "b" })],
    });
    const a1 = 'ProjectVersionSet "a" (m.yaml:1:1, the ambient credentials)';
    const b1 = `ProjectVersionSet "b" (b.yaml:3:5, role ${ROLE})`;
    const claim = (x: string, y: string) =>
      `project "p1" in us-east-1 of account ${ACCOUNT} is claimed by ${x} and ${y}: they resolve to the same project, so each would delete what ` +
      `the other lists; nothing in it is deleted — merge them into one set`;
    expect(w.plan.projects.map((p) => [p.set, p.status, p.error])).toEqual([
      ["a", "error", claim(a1, b1)],
      ["b", "error", claim(b1, a1)],
    ]);
    expect(w.plan.actions).toEqual([]);
    // One project name in two accounts is two projects: no claim.
    const twoAccounts = assess({
      sets: [a, b],
      projects: [liveProject([version("keep"), version("old")], { set: "a" }), liveProject([version("keep"), version("old")], { set: "b" })],
      identities: [AMBIENT_IDENTITY, { source: ROLE, account: OTHER }],
    });
    expect(twoAccounts.plan.projects.find((p) => p.set === "a")!.status).toBe("ok");
  });

  it("a project not found is said so, with its listed versions missing", () => {
    const w = assess({ projects: [{ ...liveProject([]), status: "notFound", error: "no project p1" }] });
    expect(w.project("p1")).toMatchObject({ status: "notFound", error: "no project p1" });
    expect(w.action("keep")).toMatchObject({ action: "missing", reasons: [{ rule: "missing", message: "project not found" }] });
    // notFound is not a read failure: the region's copies are known.
    const p2 = liveProject([version("k2", { project: "p2", ageHours: 1 }), version("o2", { project: "p2" })], { set: "p2-set" });
    expect(assess({ sets: [set("p1", ["keep"]), set("p2", ["k2"])], projects: [{ ...liveProject([]), status: "notFound" }, p2] }).action("o2").action).toBe(
      "delete",
    );
  });

  it.each([
    { name: "tags present: managed", tags: { owner: "ml" }, status: "ok" },
    { name: "any value of a '*' tag", tags: { owner: "ml", managed: "" }, require: [{ key: "managed", value: "*", origin: "op" }], status: "ok" },
    { name: "tags not read", tags: undefined, status: "error", error: "project tags were not read, so ownership (requireProjectTag) cannot be checked" },
    { name: "a tag missing", tags: { owner: "other" }, status: "notManaged", error: "project lacks required tag(s) owner=ml (op); nothing in it is deleted" },
    {
      name: "two missing, from two layers",
      tags: {},
      require: [
        { key: "owner", value: "ml", origin: "op" },
        { key: "tier", value: "gold", origin: "layer" },
      ],
      status: "notManaged",
      error: "project lacks required tag(s) owner=ml, tier=gold (op; layer); nothing in it is deleted",
    },
  ])("requireProjectTag: $name", ({ tags, require, status, error }) => {
    const w = assess({
      projects: [{ ...liveProject([version("keep", { ageHours: 1 }), version("old")]), ...(tags ? { tags: tags as Record<string, string> } : {}) }],
      pol: { requireProjectTag: require ?? [{ key: "owner", value: "ml", origin: "op" }] },
    });
    expect(w.project("p1").status).toBe(status);
    expect(w.project("p1").error).toBe(error);
    expect(w.plan.actions.some((a) => a.action === "delete")).toBe(status === "ok");
  });

  it("a name listed by any set that reaches the project keeps the version; one listed in another account does not", () => {
    const other = { ...set("p1", ["old"], { name: "elsewhere" }), roleArn: ROLE };
    const sameAccount = assess({
      sets: [set("p1", ["keep"]), { ...other, region: "eu-west-1" }],
      projects: [liveProject([version("keep", { ageHours: 1 }), version("old")])],
    });
    expect(sameAccount.action("old").action).toBe("delete");
    const inOther = { ...liveProject([], { set: "elsewhere" }), account: OTHER };
    const w = assess({
      sets: [set("p1", ["keep"]), other],
      projects: [liveProject([version("keep", { ageHours: 1 }), version("old")]), inOther],
      identities: [AMBIENT_IDENTITY, { source: ROLE, account: OTHER }],
    });
    expect(w.action("old").action).toBe("delete");
    // Two sets whose accounts are unknown list the name: the first one (manifest order) is named.
    const u1 = { ...set("p1", ["old"], { name: "u1" }), roleArn: "arn:aws:iam::000000000001:role/x" };
    const u2 = { ...set("p1", ["old"], { name: "u2" }), roleArn: "arn:aws:iam::000000000002:role/x" };
    const both = assess({ sets: [set("p1", ["keep"]), u1, u2], identities: [AMBIENT_IDENTITY] });
    expect(both.action("old").reasons).toContainEqual({ rule: "listed", message: 'listed by ProjectVersionSet "u1" (m.yaml:1:1)' });
    // Whose account is unknown may own the project in any account: its names are kept everywhere.
    const unknown = assess({
      sets: [set("p1", ["keep"]), other],
      projects: [liveProject([version("keep", { ageHours: 1 }), version("old")])],
      identities: [AMBIENT_IDENTITY, { source: ROLE, error: "AccessDenied" }],
    });
    expect(unknown.action("old").reasons).toContainEqual({ rule: "listed", message: 'listed by ProjectVersionSet "elsewhere" (m.yaml:1:1)' });
  });

  it.each([
    {
      name: "its ARN in another account",
      v: { account: OTHER },
      message: `its ARN is in account ${OTHER}, but the credentials resolved to account ${ACCOUNT}`,
    },
    { name: "its ARN in another region", v: { region: "eu-west-1" }, message: "its ARN is in region eu-west-1, but the set is read in us-east-1" },
    { name: "its ARN in another project", v: { project: "p9" }, message: "its ARN is in project p9, not p1" },
  ])("an answer that is not about the project asked for: $name", ({ v, message }) => {
    const w = assess({ versions: [version("keep", { ageHours: 1 }), version("old", v)] });
    expect(w.action("old")).toMatchObject({ action: "blocked" });
    expect(w.action("old").reasons).toContainEqual({ rule: "identityMismatch", message });
  });
});

describe("approve: the last look, on facts re-read a moment before the call", () => {
  const run = (o: WorldSpec & { target?: string } = {}) => {
    const w = assess(o);
    const a = w.action(o.target ?? "old");
    return { ...w, a, auth: w.gate.authorize(w.plan) };
  };

  it("a RUNNING version planned stop-then-delete: stopped while RUNNING, deleted only once it is not", () => {
    const keep = version("keep", { ageHours: 1 });
    const running = version("run", { status: "RUNNING" });
    const { gate, a, auth } = run({ versions: [keep, running], pol: { stopRunning: true }, target: "run" });
    expect(a).toMatchObject({ action: "delete", stopFirst: true });
    expect(gate.approve("stop", auth, a, lookOf([keep, running]), now)).toMatchObject({ kind: "stop", versionArn: running.arn });
    expect(gate.approve("delete", auth, a, lookOf([keep, running]), now)).toEqual({
      denied: true,
      reasons: [{ rule: "inUse", message: "status RUNNING: it must be STOPPED before it is deleted" }],
    });
    expect(gate.approve("delete", auth, a, lookOf([keep, { ...running, status: "STOPPED" }]), now)).toMatchObject({ kind: "delete", versionArn: running.arn });
    expect(gate.approve("stop", auth, a, lookOf([keep, { ...running, status: "STOPPED" }]), now)).toEqual({
      denied: true,
      reasons: [{ rule: "notStoppable", message: "status STOPPED: only a RUNNING Custom Labels version under stopRunning is stopped" }],
    });
  });

  it("an approval carries exactly what the write needs: the version, where it lives, the credentials and when the facts were read", () => {
    const { gate, a, auth } = run({ sets: [{ ...set("p1", ["keep"]), roleArn: ROLE }] });
    const old = version("old");
    expect(gate.approve("delete", auth, a, lookOf([version("keep", { ageHours: 1 }), old], now - 5), now)).toEqual({
      kind: "delete",
      versionArn: old.arn,
      versionName: "old",
      project: "p1",
      region: "us-east-1",
      account: ACCOUNT,
      source: ROLE,
      lookedAt: now - 5,
    });
  });

  it.each([
    {
      name: "an authorization the gate did not make",
      change: (x: { auth: RunAuthorization; a: PlanAction }) => ({ ...x, auth: { ...x.auth } as RunAuthorization }),
      rule: "notAuthorized",
      message: "the run was not authorized by the gate",
    },
    {
      name: "a version the plan keeps",
      change: (x: { auth: RunAuthorization; a: PlanAction; plan: Plan }) => ({
        ...x,
        a: { ...x.plan.actions.find((y) => y.versionName === "keep")!, action: "delete" as const },
      }),
      rule: "notPlanned",
      message: "the plan does not delete this version",
    },
    {
      name: "an action that is not a deletion",
      change: (x: { auth: RunAuthorization; a: PlanAction }) => ({ ...x, a: { ...x.a, action: "blocked" as const } }),
      rule: "notPlanned",
      message: "the plan does not delete this version",
    },
    {
      name: "an action without an ARN",
      change: (x: { auth: RunAuthorization; a: PlanAction }) => ({ ...x, a: { ...x.a, versionArn: null } }),
      rule: "notPlanned",
      message: "the plan does not delete this version",
    },
    {
      name: "an unknown set",
      change: (x: { auth: RunAuthorization; a: PlanAction }) => ({ ...x, a: { ...x.a, set: "nope" } }),
      rule: "notRead",
      message: "its project was not read",
    },
    {
      name: "another set's project, where the version is not",
      change: (x: { auth: RunAuthorization; a: PlanAction }) => ({ ...x, a: { ...x.a, set: "p2-set" } }),
      rule: "notPlanned",
      message: "the version was not in the live state the plan was made from",
    },
  ])("denied: $name", ({ change, rule, message }) => {
    const w = run({
      sets: [set("p1", ["keep"]), set("p2", ["k2"])],
      projects: [liveProject([version("keep", { ageHours: 1 }), version("old")]), liveProject([version("k2", { project: "p2" })], { set: "p2-set" })],
    });
    const x = change({ auth: w.auth, a: w.a, plan: w.plan } as never) as { auth: RunAuthorization; a: PlanAction };
    expect(w.gate.approve("delete", x.auth, x.a, lookOf([version("keep", { ageHours: 1 }), version("old")]), now)).toEqual({
      denied: true,
      reasons: [{ rule, message }],
    });
  });

  it("denied with the project's error when its set is not usable (here: two sets claim it)", () => {
    const ok = run();
    const claimed = assess({
      sets: [set("p1", ["keep"]), { ...set("p1", ["x"], { name: "b" }), roleArn: ROLE }],
      projects: [liveProject([version("keep", { ageHours: 1 }), version("old")]), liveProject([], { set: "b" })],
    });
    const auth = claimed.gate.authorize({ ...claimed.plan, actions: [ok.a] });
    expect(claimed.gate.approve("delete", auth, ok.a, lookOf([version("old")]), now)).toEqual({
      denied: true,
      reasons: [{ rule: "notRead", message: expect.stringContaining('project "p1" in us-east-1 of account 123456789012 is claimed by') }],
    });
  });

  it.each([
    {
      name: "gone: the goal is met",
      fresh: (vs: LiveVersion[]) => vs.filter((v) => v.name !== "old"),
      want: { denied: true, gone: true, reasons: [{ rule: "gone", message: "the last look did not find it: already deleted" }] },
    },
    {
      name: "another version now has the name",
      fresh: (vs: LiveVersion[]) =>
        vs.map((v) => (v.name === "old" ? { ...v, arn: "arn:aws:rekognition:us-east-1:123456789012:project/p1/version/old/2" } : v)),
      want: {
        denied: true,
        reasons: [{ rule: "changed", message: "a different version (arn:aws:rekognition:us-east-1:123456789012:project/p1/version/old/2) now has this name" }],
      },
    },
  ])("$name", ({ fresh, want }) => {
    const { gate, a, auth } = run();
    expect(gate.approve("delete", auth, a, lookOf(fresh([version("keep", { ageHours: 1 }), version("old")])), now)).toEqual(want);
  });

  it("the look's tags replace the plan's: a protection added since is seen, and tags the look could not read block", () => {
    const keep = version("keep", { ageHours: 1, tags: {} });
    const old = version("old", { tags: {} });
    const { gate, a, auth } = run({ versions: [keep, old], pol: { protectTags: [{ key: "hold", value: "*", origin: "op" }] } });
    expect(denied(gate.approve("delete", auth, a, lookOf([keep, old]), now))).toBe(false);
    expect(gate.approve("delete", auth, a, lookOf([keep, { ...old, tags: { hold: "1" } }]), now)).toEqual({
      denied: true,
      reasons: [{ rule: "protectedTag", message: 'tagged hold=1 (protectTags hold: "*")', layer: "op" }],
    });
    const unread = { ...old, tags: undefined, tagsError: "ThrottlingException" } as unknown as LiveVersion;
    expect(gate.approve("delete", auth, a, lookOf([keep, unread]), now)).toEqual({
      denied: true,
      reasons: [{ rule: "tagsUnreadable", message: "tags could not be read: ThrottlingException; protections cannot be checked" }],
    });
  });

  it.each([
    { name: "gone", fresh: (keep: LiveVersion) => [keep].filter(() => false) },
    { name: "DELETING", fresh: (keep: LiveVersion) => [{ ...keep, status: "DELETING" }] },
    { name: "replaced by another version of that name", fresh: (keep: LiveVersion) => [{ ...keep, arn: `${keep.arn}9` }] },
  ])("keepLatest on fresh facts: one of the newest is $name since the plan, so this one may now be among the newest", ({ fresh }) => {
    const newest = version("newest", { ageHours: 2 });
    const keep = version("keep", { ageHours: 1000 });
    const old = version("old", { ageHours: 500 });
    const { gate, a, auth } = run({ versions: [keep, newest, old], pol: { keepLatest: 1, allowEmpty: true } });
    expect(a.action).toBe("delete");
    expect(denied(gate.approve("delete", auth, a, lookOf([keep, newest, old]), now))).toBe(false);
    expect(gate.approve("delete", auth, a, lookOf([keep, old, ...fresh(newest)]), now)).toEqual({
      denied: true,
      reasons: [
        { rule: "keepLatest", message: "one of the project's newest 1 version(s) (newest) is gone or DELETING since the plan; it may now be among the newest" },
      ],
    });
  });

  it.each([
    { name: "gone", fresh: (v: LiveVersion) => [v].filter(() => false) },
    { name: "DELETING", fresh: (v: LiveVersion) => [{ ...v, status: "DELETING" }] },
    { name: "replaced", fresh: (v: LiveVersion) => [{ ...v, arn: `${v.arn}9` }] },
  ])("allowEmpty on fresh facts: the newest listed version is $name, so whether any listed one exists is unknown", ({ fresh }) => {
    const older = version("keep1", { ageHours: 300 });
    const newer = version("keep2", { ageHours: 200 });
    const old = version("old", { ageHours: 500 });
    const { gate, a, auth } = run({ versions: [older, newer, old], listed: ["keep1", "keep2"], pol: { origin: { allowEmpty: "operator policy p.yaml" } } });
    // The anchor is the newest listed version: the older one may go.
    expect(denied(gate.approve("delete", auth, a, lookOf([newer, old]), now))).toBe(false);
    expect(gate.approve("delete", auth, a, lookOf([older, old, ...fresh(newer)]), now)).toEqual({
      denied: true,
      reasons: [
        {
          rule: "allowEmpty",
          message: "the listed version keep2 is gone or DELETING since the plan; whether any listed version still exists is unknown",
          layer: "operator policy p.yaml",
        },
      ],
    });
    // With allowEmpty nothing anchors the list.
    const loose = run({ versions: [older, newer, old], listed: ["keep1", "keep2"], pol: { allowEmpty: true } });
    expect(denied(loose.gate.approve("delete", loose.auth, loose.a, lookOf([old]), now))).toBe(false);
  });

  it.each([
    // The anchor is the newest listed version not already DELETING, the smaller ARN first on a tie.
    {
      name: "a DELETING listed version is no anchor",
      listed: [version("keep1", { ageHours: 300 }), version("keep2", { ageHours: 200, status: "DELETING" })],
      gone: "keep2",
      denied: false,
    },
    { name: "the older listed version went", listed: [version("keep1", { ageHours: 300 }), version("keep2", { ageHours: 200 })], gone: "keep1", denied: false },
    {
      name: "on a tie, the smaller ARN anchors: the larger went",
      listed: [version("keep1", { createdAt: now - 300 * H, arn: "arn:b" }), version("keep2", { createdAt: now - 300 * H, arn: "arn:a" })],
      gone: "keep1",
      denied: false,
    },
    {
      name: "on a tie, the smaller ARN anchors: it went",
      listed: [version("keep1", { createdAt: now - 300 * H, arn: "arn:b" }), version("keep2", { createdAt: now - 300 * H, arn: "arn:a" })],
      gone: "keep2",
      denied: true,
    },
  ])("allowEmpty's anchor at the last look: $name", ({ listed, gone, denied: want }) => {
    const old = version("old", { ageHours: 500 });
    for (const order of [
      [...listed, old],
      [old, ...[...listed].reverse()],
    ]) {
      const { gate, a, auth } = run({ versions: order, listed: ["keep1", "keep2"] });
      const got = gate.approve("delete", auth, a, lookOf([...listed, old].filter((v) => v.name !== gone)), now);
      expect(rules(got)).toEqual(want ? ["allowEmpty"] : []);
    }
  });

  it("a near miss on fresh facts: a listed name close to this one went missing since the plan", () => {
    const vs = [version("keep", { ageHours: 1 }), version("v1", { ageHours: 50 }), version("v10")];
    const { gate, plan, auth, action } = run({ versions: vs, listed: ["keep", "v1"], target: "v10" });
    const a = action("v10");
    expect(a.action).toBe("delete");
    expect(gate.lookFor([a])!.names.sort()).toEqual(["keep", "v1", "v10"]);
    expect(denied(gate.approve("delete", auth, a, lookOf(vs), now))).toBe(false);
    expect(gate.approve("delete", auth, a, lookOf([vs[0]!, vs[2]!]), now)).toEqual({
      denied: true,
      reasons: [{ rule: "nearMiss", message: 'listed "v1" went missing since the plan; did you mean "v10"?' }],
    });
    // Without the guard, neither the look nor the decision cares.
    const off = run({ versions: vs, listed: ["keep", "v1"], target: "v10", pol: { nearMissGuard: false } });
    expect(off.gate.lookFor([off.action("v10")])!.names.sort()).toEqual(["keep", "v10"]);
    expect(denied(off.gate.approve("delete", off.auth, off.action("v10"), lookOf([vs[0]!, vs[2]!]), now))).toBe(false);
    expect(plan.refusals).toEqual([]);
  });
});

describe("lookFor: what a last look must re-read", () => {
  it("the planned versions, the newest ones, the listed anchor, by name; tags only when the policy reads them", () => {
    const vs = [version("keep", { ageHours: 300 }), version("new", { ageHours: 2 }), version("old", { ageHours: 500 }), version("older", { ageHours: 600 })];
    const w = assess({ versions: vs, pol: { keepLatest: 1 } });
    expect(w.gate.lookFor([w.action("old"), w.action("older")])).toMatchObject({
      projectArn: liveProject([]).projectArn,
      names: ["old", "older", "new", "keep"],
      tags: false,
    });
    const tagged = assess({ versions: vs, pol: { protectTags: [{ key: "h", value: "*", origin: "o" }] } });
    expect(tagged.gate.lookFor([tagged.action("old")])).toMatchObject({ names: ["old", "keep"], tags: true });
  });

  it("nothing for actions of two sets, an unknown set, or none", () => {
    const w = assess({
      sets: [set("p1", ["keep"]), set("p2", ["k2"])],
      projects: [
        liveProject([version("keep", { ageHours: 1 }), version("old")]),
        liveProject([version("k2", { project: "p2", ageHours: 1 }), version("o2", { project: "p2" })], { set: "p2-set" }),
      ],
    });
    expect(w.gate.lookFor([w.action("old"), w.action("o2")])).toBeUndefined();
    expect(w.gate.lookFor([{ ...w.action("old"), set: "nope" }])).toBeUndefined();
    expect(w.gate.lookFor([])).toBeUndefined();
    const noArn = assess({ projects: [{ ...liveProject([version("keep", { ageHours: 1 }), version("old")]), projectArn: undefined } as LiveProject] });
    expect(noArn.gate.lookFor([noArn.action("old")])).toBeUndefined();
  });
});

describe("authorize: a plan is acted on as a whole, or not at all", () => {
  it("a refused plan: every refusal's message, and the first one's rule", () => {
    const w = assess();
    const refused = {
      ...w.plan,
      refusals: [
        { rule: "manifestsStale" as const, message: "stale" },
        { rule: "maxDeletesPerRun" as const, message: "too many" },
      ],
    };
    const err = (() => {
      try {
        w.gate.authorize(refused);
      } catch (e) {
        return e as RefusalError;
      }
    })();
    expect(err).toBeInstanceOf(RefusalError);
    expect({ message: err!.message, rule: err!.rule }).toEqual({ message: "stale; too many", rule: "manifestsStale" });
  });

  it("a plan edited past its budget is refused again by the gate, naming the budget", () => {
    const w = assess({ versions: [version("keep", { ageHours: 1 }), version("a"), version("b")], pol: { maxDeletesPerRun: 1 } });
    expect(w.plan.refusals.map((r) => r.rule)).toEqual(["maxDeletesPerRun"]);
    const edited = { ...w.plan, refusals: [], actions: w.plan.actions.map((a) => (a.versionName === "keep" ? a : { ...a, action: "delete" as const })) };
    expect(() => w.gate.authorize(edited)).toThrow(
      new RefusalError("the run would delete 2 versions, over maxDeletesPerRun 1; nothing is deleted", "maxDeletesPerRun"),
    );
  });

  it("writes wait for the accounts to be named: deletions and new marks are refused, a plan that only removes marks is not", () => {
    const deletes = assess({ pol: { allowedAccounts: [] } });
    expect(() => deletes.gate.authorize(deletes.plan)).toThrow(/apply needs spec.allowedAccounts in the DeletionPolicy \(test-policy\)/);
    const marks = assess({
      versions: [version("keep", { ageHours: 1 }), version("old", { tags: {} })],
      pol: { allowedAccounts: [], gracePeriodMs: H, gracePeriod: "1h" },
    });
    expect(marks.action("old").mark).toBe("add");
    expect(() => marks.gate.authorize(marks.plan)).toThrow(RefusalError);
    const unmarks = assess({
      versions: [version("keep", { ageHours: 1, tags: { [MARK_TAG]: formatMark(now - H) } })],
      pol: { allowedAccounts: [], gracePeriodMs: H, gracePeriod: "1h" },
    });
    expect(unmarks.action("keep").mark).toBe("remove");
    expect(unmarks.gate.authorize(unmarks.plan).marks).toEqual(new Map([[unmarks.action("keep").versionArn, "remove"]]));
  });

  it("authorizeUnmarks: in a refused run, only the mark removals, and only once the accounts are named", () => {
    const vs = [version("keep", { ageHours: 1, tags: { [MARK_TAG]: formatMark(now - H) } }), version("a", { tags: {} }), version("b", { tags: {} })];
    const w = assess({ versions: vs, pol: { gracePeriodMs: H, gracePeriod: "1h" }, refusals: [{ rule: "manifestsStale" as const, message: "stale" }] });
    const got = w.gate.authorizeUnmarks(w.plan)!;
    expect(got.plan.actions.map((a) => [a.versionName, a.mark])).toEqual([["keep", "remove"]]);
    expect([...got.auth.deletable]).toEqual([]);
    expect(w.gate.approveMark(got.auth, w.action("keep"), now)).toMatchObject({ kind: "unmark", versionArn: vs[0]!.arn });
    expect(w.gate.approve("delete", got.auth, { ...w.action("a"), action: "delete" }, lookOf(vs), now)).toMatchObject({
      denied: true,
      reasons: [{ rule: "notPlanned" }],
    });
    const noAccounts = assess({ versions: vs, pol: { allowedAccounts: [], gracePeriodMs: H, gracePeriod: "1h" } });
    expect(noAccounts.gate.authorizeUnmarks(noAccounts.plan)).toBeUndefined();
    const nothing = assess({ versions: [version("keep", { ageHours: 1, tags: {} })], pol: { gracePeriodMs: H, gracePeriod: "1h" } });
    expect(nothing.gate.authorizeUnmarks(nothing.plan)).toBeUndefined();
  });
});

describe("approveMark: a mark needs the version deletable but for the holds; its removal only the right identity", () => {
  const graced = (o: WorldSpec = {}) => {
    const w = assess({
      versions: [version("keep", { ageHours: 1, tags: { [MARK_TAG]: formatMark(now - H) } }), version("old", { ageHours: 30, tags: {} })],
      pol: { gracePeriodMs: 72 * H, gracePeriod: "72h", minAgeMs: 24 * H, minAge: "24h" },
      ...o,
    });
    return { ...w, auth: w.gate.authorize(w.plan) };
  };

  it("adds the mark the plan shows, at the plan's time, whole seconds", () => {
    const w = graced();
    expect(w.gate.approveMark(w.auth, w.action("old"), now + 999)).toMatchObject({
      kind: "mark",
      versionArn: w.action("old").versionArn,
      value: formatMark(now),
      account: ACCOUNT,
      source: "ambient",
    });
  });

  it("denies a mark the facts no longer support, with the guard that now keeps it", () => {
    const w = graced();
    // Seven hours earlier the version was 23 h old: under minAge.
    expect(w.gate.approveMark(w.auth, w.action("old"), now - 7 * H)).toEqual({ denied: true, reasons: [expect.objectContaining({ rule: "minAge" })] });
  });

  it("denies a mark nothing asks for", () => {
    const w = assess();
    const forged = { ...w.plan, actions: w.plan.actions.map((a) => (a.versionName === "old" ? { ...a, mark: "add" as const } : a)) };
    const auth = w.gate.authorize(forged);
    expect(w.gate.approveMark(auth, { ...w.action("old"), mark: "add" }, now)).toEqual({
      denied: true,
      reasons: [{ rule: "notPlanned", message: "it needs no new mark" }],
    });
  });

  it("removes a listed version's mark (listing is why it goes); refuses only when the identity is wrong", () => {
    const w = graced();
    expect(w.gate.approveMark(w.auth, w.action("keep"), now)).toMatchObject({ kind: "unmark", versionName: "keep" });
    const foreign = graced({ versions: [version("keep", { ageHours: 1, account: OTHER, tags: { [MARK_TAG]: formatMark(now - H) } })] });
    expect(foreign.gate.approveMark(foreign.auth, foreign.action("keep"), now)).toEqual({
      denied: true,
      reasons: [{ rule: "identityMismatch", message: `its ARN is in account ${OTHER}, but the credentials resolved to account ${ACCOUNT}` }],
    });
  });

  it.each([
    {
      name: "an authorization the gate did not make",
      a: (w: ReturnType<typeof graced>) => w.action("old"),
      auth: (w: ReturnType<typeof graced>) => ({ ...w.auth }) as RunAuthorization,
      rule: "notAuthorized",
      message: "the run was not authorized by the gate",
    },
    {
      name: "a mark the plan did not make",
      a: (w: ReturnType<typeof graced>) => ({ ...w.action("old"), mark: "remove" as const }),
      rule: "notPlanned",
      message: "the plan does not mark this version",
    },
    {
      name: "no mark at all",
      a: (w: ReturnType<typeof graced>) => ({ ...w.action("old"), mark: undefined }) as PlanAction,
      rule: "notPlanned",
      message: "the plan does not mark this version",
    },
    {
      name: "no ARN",
      a: (w: ReturnType<typeof graced>) => ({ ...w.action("old"), versionArn: null }),
      rule: "notPlanned",
      message: "the plan does not mark this version",
    },
    {
      name: "an unknown set",
      a: (w: ReturnType<typeof graced>) => ({ ...w.action("old"), set: "nope" }),
      rule: "notRead",
      message: "its project was not read",
    },
  ])("denied: $name", ({ a, auth, rule, message }) => {
    const w = graced();
    expect(w.gate.approveMark(auth ? auth(w) : w.auth, a(w), now)).toEqual({ denied: true, reasons: [{ rule, message }] });
  });

  it("denied when the version is not in the project the action names", () => {
    const w = graced({
      sets: [set("p1", ["keep"]), set("p2", ["k2"])],
      projects: [
        liveProject([version("keep", { ageHours: 1 }), version("old", { ageHours: 30, tags: {} })]),
        liveProject([version("k2", { project: "p2" })], { set: "p2-set" }),
      ],
    });
    expect(w.gate.approveMark(w.auth, { ...w.action("old"), set: "p2-set" }, now)).toEqual({
      denied: true,
      reasons: [{ rule: "notPlanned", message: "the version was not in the live state the plan was made from" }],
    });
  });
});

describe("approveNotice: recording that a notification reached a channel", () => {
  const noticed = (tags: Record<string, string>, pol: Partial<Policy> = {}) => {
    const w = assess({
      versions: [version("keep", { ageHours: 1, tags: {} }), version("old", { tags })],
      pol: { gracePeriodMs: 72 * H, gracePeriod: "72h", requireNotice: true, notifications: [channel], ...pol },
    });
    return { ...w, auth: w.gate.authorize(w.plan), a: w.action("old") };
  };

  it("the delivery must lie between the plan and now, both ends included", () => {
    const w = noticed({ [MARK_TAG]: formatMark(now - 100 * H) });
    expect(w.gate.approveNotice(w.auth, w.a, "notice", now, now)).toMatchObject({ kind: "notice", tag: NOTICE_TAG, value: formatMark(now) });
    expect(w.gate.approveNotice(w.auth, w.a, "notice", now + 7_000, now + 7_000)).toMatchObject({ kind: "notice" });
    expect(w.gate.approveNotice(w.auth, w.a, "notice", now + 7_001, now + 7_000)).toEqual({
      denied: true,
      reasons: [{ rule: "notPlanned", message: `the delivery time ${iso(now + 7_001)} is not between the plan (${iso(now)}) and now` }],
    });
  });

  it.each([
    {
      name: "a notice already delivered",
      tags: { [MARK_TAG]: formatMark(now - 100 * H), [NOTICE_TAG]: formatMark(now - 90 * H) },
      which: "notice",
      message: "its `marked` notice is delivered, not pending",
    },
    {
      name: "a notice nobody requires",
      tags: { [MARK_TAG]: formatMark(now - 100 * H) },
      pol: { requireNotice: false },
      which: "notice",
      message: "its `marked` notice is notRequired, not pending",
    },
    {
      name: "a notice without channels",
      tags: { [MARK_TAG]: formatMark(now - 100 * H) },
      pol: { requireNotice: false, notifications: [] },
      which: "notice",
      message: "its `marked` notice is not needed, not pending",
    },
    { name: "a reminder not due", tags: { [MARK_TAG]: formatMark(now - 100 * H) }, which: "reminder", message: "its reminder is not due" },
    {
      name: "a reminder already sent",
      tags: { [MARK_TAG]: formatMark(now - 60 * H), [REMINDER_TAG]: formatMark(now - H) },
      pol: { requireNotice: false, remindBeforeMs: 24 * H, remindBefore: "24h" },
      which: "reminder",
      message: "its reminder is sent",
    },
  ] as const)("denied: $name", ({ tags, pol, which, message }) => {
    const w = noticed(tags as unknown as Record<string, string>, pol as Partial<Policy> | undefined);
    expect(w.gate.approveNotice(w.auth, w.a, which, now, now)).toEqual({ denied: true, reasons: [{ rule: "notPlanned", message }] });
  });

  it("a due reminder is recorded with its own tag", () => {
    const w = noticed({ [MARK_TAG]: formatMark(now - 60 * H) }, { requireNotice: false, remindBeforeMs: 24 * H, remindBefore: "24h" });
    expect(w.a.reminder).toBe("due");
    expect(w.gate.approveNotice(w.auth, w.a, "reminder", now, now)).toMatchObject({ kind: "notice", tag: REMINDER_TAG, versionName: "old" });
  });

  it.each([
    {
      name: "an authorization the gate did not make",
      auth: (w: ReturnType<typeof noticed>) => ({ ...w.auth }) as RunAuthorization,
      a: (w: ReturnType<typeof noticed>) => w.a,
      rule: "notAuthorized",
      message: "the run was not authorized by the gate",
    },
    {
      name: "an action without an ARN",
      a: (w: ReturnType<typeof noticed>) => ({ ...w.a, versionArn: null }),
      rule: "notRead",
      message: "its project was not read",
    },
    { name: "an unknown set", a: (w: ReturnType<typeof noticed>) => ({ ...w.a, set: "nope" }), rule: "notRead", message: "its project was not read" },
    {
      name: "a version the authorized plan does not hold",
      auth: (w: ReturnType<typeof noticed>) => w.gate.authorize({ ...w.plan, actions: w.plan.actions.filter((a) => a.versionName !== "old") }),
      a: (w: ReturnType<typeof noticed>) => w.a,
      rule: "notPlanned",
      message: "the version was not in the live state the plan was made from",
    },
  ])("denied: $name", ({ auth, a, rule, message }) => {
    const w = noticed({ [MARK_TAG]: formatMark(now - 100 * H) });
    expect(w.gate.approveNotice(auth ? auth(w) : w.auth, a(w), "notice", now, now)).toEqual({ denied: true, reasons: [{ rule, message }] });
  });
});

describe("budgets: the run is refused as a whole, each exceeded budget named", () => {
  const many = (n: number, extra: LiveVersion[] = []) => [version("keep", { ageHours: 1 }), ...Array.from({ length: n }, (_, i) => version(`o${i}`)), ...extra];

  it("maxDeletesPerRun: over it, nothing is deleted; at it, all is", () => {
    expect(assess({ versions: many(3), pol: { maxDeletesPerRun: 3 } }).plan.refusals).toEqual([]);
    expect(assess({ versions: many(4), pol: { maxDeletesPerRun: 3 } }).plan.refusals).toEqual([
      {
        rule: "maxDeletesPerRun",
        message: "the run would delete 4 versions, over maxDeletesPerRun 3; nothing is deleted",
        layer: "operator policy test-policy",
      },
    ]);
  });

  it("maxDeletesPercent: counted over the versions not already DELETING, with the share rounded in the message", () => {
    const w = assess({
      versions: many(2, [version("gone", { status: "DELETING" })]),
      pol: { maxDeletesPercent: 60, origin: { maxDeletesPercent: "operator policy p.yaml" } },
    });
    expect(w.plan.refusals).toEqual([
      {
        rule: "maxDeletesPercent",
        message: `the run would delete 2 of the 3 live versions of project p1 (${ACCOUNT}/us-east-1), 67%, over maxDeletesPercent 60; nothing is deleted`,
        layer: "operator policy p.yaml",
      },
    ]);
    expect(assess({ versions: many(2), pol: { maxDeletesPercent: 67 } }).plan.refusals).toEqual([]);
    expect(assess({ versions: many(2), pol: { maxDeletesPercent: 66 } }).plan.refusals[0]).not.toHaveProperty("layer");
    expect(assess({ versions: [version("keep", { ageHours: 1 })], pol: { maxDeletesPercent: 0 } }).plan.refusals).toEqual([]);
  });

  it("a manifest layer's maxDeletesPerRun counts only its own projects", () => {
    const scoped: ScopedPolicy = {
      name: "strict",
      pos: { file: "s.yaml", line: 1, col: 1 },
      projects: ["p1"],
      projectPos: [],
      spec: { maxDeletesPerRun: 1 },
      fieldPos: {},
    };
    const sets = [set("p1", ["keep"]), set("p2", ["k2"])];
    const projects = (n: number) => [
      liveProject(many(n)),
      liveProject([version("k2", { project: "p2", ageHours: 1 }), ...Array.from({ length: 3 }, (_, i) => version(`x${i}`, { project: "p2" }))], {
        set: "p2-set",
      }),
    ];
    expect(assess({ sets, projects: projects(1), policies: { operator: policy(), scoped: [scoped] } }).plan.refusals).toEqual([]);
    expect(assess({ sets, projects: projects(2), policies: { operator: policy(), scoped: [scoped] } }).plan.refusals).toEqual([
      {
        rule: "maxDeletesPerRun",
        message: "the run would delete 2 versions in p1, over maxDeletesPerRun 1; nothing is deleted",
        layer: 'manifest policy "strict" (s.yaml)',
      },
    ]);
  });

  it("the caller's refusals come first, and a refused run adds no mark", () => {
    const w = assess({
      versions: [version("keep", { ageHours: 1 }), version("old", { tags: {} })],
      pol: { gracePeriodMs: H, gracePeriod: "1h" },
      refusals: [{ rule: "manifestsStale" as const, message: "stale" }],
    });
    expect(w.plan.refusals.map((r) => r.rule)).toEqual(["manifestsStale"]);
    expect(w.action("old").mark).toBeUndefined();
    expect(w.gate.refusals([])).toEqual([{ rule: "manifestsStale" as const, message: "stale" }]);
  });
});

describe("custom rules through the plan: an answer that is not `false` keeps the version", () => {
  const rule = (answer: () => unknown): CompiledRule => ({
    name: "no-prod" as CustomRuleName,
    deny: "…",
    message: "prod models stay",
    origin: "operator policy p.yaml",
    evaluate: answer,
  });
  it.each([
    { name: "true", answer: () => true, message: "prod models stay" },
    { name: "a string", answer: () => "yes", message: "rule returned yes, not a bool; blocked to be safe" },
    { name: "undefined", answer: () => undefined, message: "rule returned undefined, not a bool; blocked to be safe" },
    {
      name: "an error",
      answer: () => {
        throw new Error("No such key: env");
      },
      message: "rule could not be evaluated (No such key: env); blocked to be safe",
    },
  ])("$name: blocked under the rule's name", ({ answer, message }) => {
    const w = assess({ versions: [version("keep", { ageHours: 1, tags: {} }), version("old", { tags: {} })], pol: { rules: [rule(answer)] } });
    expect(w.action("old")).toMatchObject({ action: "blocked", reasons: [{ rule: "no-prod", message, layer: "operator policy p.yaml" }] });
  });

  it("false: deleted", () => {
    const w = assess({ versions: [version("keep", { ageHours: 1, tags: {} }), version("old", { tags: {} })], pol: { rules: [rule(() => false)] } });
    expect(w.action("old").action).toBe("delete");
  });
});

describe("verdict: the holds and their words, as the plan shows them", () => {
  const graced = { gracePeriodMs: 72 * H, gracePeriod: "72h" };
  const held = (tags: Record<string, string>, pol: Partial<Policy>, o: WorldSpec = {}) =>
    assess({ versions: [version("keep", { ageHours: 1, tags: {} }), version("old", { tags })], pol, ...o }).action("old");

  it.each([
    {
      name: "unmarked: apply marks it, and says when it becomes deletable",
      tags: {},
      pol: graced,
      reasons: [["gracePeriod", `apply marks it pending deletion (${MARK_TAG}); deletable after 2026-12-01T12:00:00.000Z (gracePeriod 72h)`]],
      mark: "add",
      deletableAt: "2026-12-01T12:00:00.000Z",
    },
    {
      name: "a mark that is no time: counts as none, said so",
      tags: { [MARK_TAG]: "2025" },
      pol: graced,
      reasons: [
        [
          "gracePeriod",
          `its mark "2025" is not an RFC 3339 UTC time rekon wrote, so it counts as none; apply marks it pending deletion (${MARK_TAG}); ` +
            `deletable after 2026-12-01T12:00:00.000Z (gracePeriod 72h)`,
        ],
      ],
      mark: "add",
      deletableAt: "2026-12-01T12:00:00.000Z",
    },
    {
      name: "marked 10 h ago: how long to go",
      tags: { [MARK_TAG]: formatMark(now - 10 * H) },
      pol: graced,
      reasons: [
        ["gracePeriod", "marked pending deletion at 2026-11-28T02:00:00.000Z; deletable after 2026-12-01T02:00:00.000Z (gracePeriod 72h, 2d14h to go)"],
      ],
      deletableAt: "2026-12-01T02:00:00.000Z",
    },
    { name: "marked exactly gracePeriod ago: deletable", tags: { [MARK_TAG]: formatMark(now - 72 * H) }, pol: graced, reasons: [] },
    {
      name: "approval without a grace period, on a mark that is no time: marked again",
      tags: { [MARK_TAG]: "12" },
      pol: { requireApproval: true },
      reasons: [
        ["approvalRequired", 'its mark "12" is not an RFC 3339 UTC time rekon wrote, so it counts as none; apply marks it again'],
        ["approvalRequired", `needs a person's approval: once apply has marked it, tag it ${APPROVAL_TAG}=<RFC 3339 UTC time after the mark>`],
      ],
      mark: "add",
    },
    {
      name: "approval, unmarked and no grace period: marked, one reason",
      tags: {},
      pol: { requireApproval: true },
      reasons: [["approvalRequired", `needs a person's approval: once apply has marked it, tag it ${APPROVAL_TAG}=<RFC 3339 UTC time after the mark>`]],
      mark: "add",
    },
    {
      name: "approval, marked, not approved",
      tags: { [MARK_TAG]: formatMark(now - H) },
      pol: { requireApproval: true },
      reasons: [["approvalRequired", `needs a person's approval: tag ${APPROVAL_TAG}=<RFC 3339 UTC time after 2026-11-28T11:00:00.000Z>`]],
    },
    {
      name: "approval that is no time",
      tags: { [MARK_TAG]: formatMark(now - H), [APPROVAL_TAG]: "yes" },
      pol: { requireApproval: true },
      reasons: [
        [
          "approvalRequired",
          `needs a person's approval: tag ${APPROVAL_TAG}=<RFC 3339 UTC time after 2026-11-28T11:00:00.000Z> (${APPROVAL_TAG}="yes" is not an ` +
            `RFC 3339 UTC time)`,
        ],
      ],
    },
    {
      name: "approval at the very time of the mark: not later",
      tags: { [MARK_TAG]: formatMark(now - H), [APPROVAL_TAG]: formatMark(now - H) },
      pol: { requireApproval: true },
      reasons: [
        [
          "approvalRequired",
          `needs a person's approval: tag ${APPROVAL_TAG}=<RFC 3339 UTC time after 2026-11-28T11:00:00.000Z> ` +
            `(${APPROVAL_TAG}="2026-11-28T11:00:00Z" is not later than the mark)`,
        ],
      ],
    },
    {
      name: "approval a second after the mark: approved",
      tags: { [MARK_TAG]: formatMark(now - H), [APPROVAL_TAG]: formatMark(now - H + 1000) },
      pol: { requireApproval: true },
      reasons: [],
    },
    {
      name: "a notice that is no time",
      tags: { [MARK_TAG]: formatMark(now - 100 * H), [NOTICE_TAG]: "soon" },
      pol: { ...graced, requireNotice: true, notifications: [channel] },
      reasons: [
        [
          "noticeNotDelivered",
          `its \`marked\` notice has not reached a channel yet (${NOTICE_TAG}="soon" is not an RFC 3339 UTC time at or after the mark); apply ` +
            `sends it, records ${NOTICE_TAG} when a channel accepts it, and it is deletable 72h after that`,
        ],
      ],
      notice: "pending",
    },
    {
      name: "marked, no notice tag at all",
      tags: { [MARK_TAG]: formatMark(now - 100 * H) },
      pol: { ...graced, requireNotice: true, notifications: [channel] },
      reasons: [
        [
          "noticeNotDelivered",
          `its \`marked\` notice has not reached a channel yet; apply sends it, records ${NOTICE_TAG} when a channel accepts it, and it is ` +
            `deletable 72h after that`,
        ],
      ],
      notice: "pending",
    },
    {
      name: "a notice 10 h old: held until it is gracePeriod old",
      tags: { [MARK_TAG]: formatMark(now - 100 * H), [NOTICE_TAG]: formatMark(now - 10 * H) },
      pol: { ...graced, requireNotice: true, notifications: [channel] },
      reasons: [
        [
          "noticeNotDelivered",
          "its `marked` notice reached a channel at 2026-11-28T02:00:00.000Z, less than gracePeriod 72h ago; deletable after " +
            "2026-12-01T02:00:00.000Z (2d14h to go)",
        ],
      ],
      notice: "delivered",
      deletableAt: "2026-12-01T02:00:00.000Z",
    },
  ])("$name", ({ tags, pol, reasons, mark, notice, deletableAt }) => {
    const a = held(tags as Record<string, string>, pol as Partial<Policy>);
    expect({ reasons: a.reasons.map((r) => [r.rule, r.message]), mark: a.mark, notice: a.notice, deletableAt: a.deletableAt }).toEqual({
      reasons,
      mark,
      notice,
      deletableAt,
    });
  });

  it("a reason names the layer that set the hold", () => {
    const a = held(
      {},
      {
        ...graced,
        requireApproval: true,
        requireNotice: true,
        notifications: [channel],
        origin: { gracePeriod: "G", requireApproval: "A", requireNotice: "N" },
      },
    );
    expect(a.reasons.map((r) => [r.rule, r.layer])).toEqual([
      ["gracePeriod", "G"],
      ["noticeNotDelivered", "N"],
      ["approvalRequired", "A"],
    ]);
  });

  it.each([
    { name: "exactly remindBefore before deletable: due", markedHoursAgo: 48, reminder: "due" },
    { name: "a second earlier: not yet", markedHoursAgo: 48 - 1 / 3600, reminder: undefined },
    { name: "at the very moment it becomes deletable: the deletion is the news", markedHoursAgo: 72, reminder: undefined },
  ])("reminders: $name", ({ markedHoursAgo, reminder }) => {
    const a = held({ [MARK_TAG]: formatMark(now - markedHoursAgo * H) }, { ...graced, remindBeforeMs: 24 * H, remindBefore: "24h", notifications: [channel] });
    expect(a.reminder).toBe(reminder);
  });

  it("reminders: one channel that takes them is enough; with remindBefore 0 none is due or sent, whatever the tags say", () => {
    const other = { ...channel, name: "ops", events: ["deleted" as const] };
    const tags = { [MARK_TAG]: formatMark(now - 60 * H) };
    expect(held(tags, { ...graced, remindBeforeMs: 24 * H, remindBefore: "24h", notifications: [other, channel] }).reminder).toBe("due");
    expect(
      held({ ...tags, [REMINDER_TAG]: formatMark(now - H) }, { ...graced, remindBeforeMs: 0, remindBefore: "0s", notifications: [channel] }).reminder,
    ).toBeUndefined();
  });

  it.each([
    {
      name: "until a moment from now: in force, with its end",
      until: now + 1,
      rules: ["suspended"],
      message: "suspended: audit (until 2026-11-28T12:00:00.001Z); nothing is deleted or marked",
    },
    { name: "until now: over", until: now, rules: [] },
    { name: "until further notice", until: undefined, rules: ["suspended"], message: "suspended: audit; nothing is deleted or marked" },
    {
      name: "until a time that did not parse: in force",
      until: Number.NaN,
      rules: ["suspended"],
      message: "suspended: audit (until a time that does not parse: until further notice); nothing is deleted or marked",
    },
  ])("a suspension $name", ({ until, rules: want, message }) => {
    const a = held({}, { suspend: { reason: "audit", ...(until !== undefined ? { until } : {}), origin: "op" } });
    expect(a.reasons.map((r) => r.rule)).toEqual(want);
    if (message) expect(a.reasons[0]).toEqual({ rule: "suspended", message, layer: "op" });
  });

  it("a manifest layer's suspension covers only the projects it selects; a set's own covers its project", () => {
    const layer = (projects: string[]): ScopedPolicy => ({
      name: "pause",
      pos: { file: "pause.yaml", line: 1, col: 1 },
      projects,
      projectPos: [],
      spec: { suspend: { reason: "migration", origin: "layer pause" } },
      fieldPos: {},
    });
    const on = (projects: string[]) => assess({ policies: { operator: policy(), scoped: [layer(projects)] } }).action("old");
    expect(on(["p1"]).reasons).toEqual([{ rule: "suspended", message: "suspended: migration; nothing is deleted or marked", layer: "layer pause" }]);
    expect(on(["p2"]).action).toBe("delete");
    const own = assess({ sets: [{ ...set("p1", ["keep"]), suspend: { reason: "mine", origin: "m.yaml" } }] }).action("old");
    expect(own.reasons.map((r) => r.message)).toEqual(["suspended: mine; nothing is deleted or marked"]);
  });

  it("a version kept by a window alone becomes deletable when the window allows; the plan says when", () => {
    const freeze = { kind: "deny" as const, schedule: "0 12 * * *", durationMs: H, duration: "1h", timeZone: "UTC", reason: "freeze", origin: "op" };
    const w = assess({ pol: { windows: [freeze] } });
    expect(w.action("old")).toMatchObject({ action: "blocked", deletableAt: "2026-11-28T13:00:00.000Z", reasons: [{ rule: "window", layer: "op" }] });
    expect(w.plan.nextDeletionAllowedAt).toBe("2026-11-28T13:00:00.000Z");
    // Kept by something else as well: when the window opens says nothing about when it goes.
    const young = assess({ versions: [version("keep", { ageHours: 1 }), version("old", { ageHours: 2 })], pol: { windows: [freeze] } });
    expect(young.action("old").deletableAt).toBeUndefined();
    expect(young.plan.nextDeletionAllowedAt).toBeUndefined();
  });

  it("a blocked, marked version loses its mark; one whose tags were not read keeps it (its mark cannot be seen)", () => {
    const marked = { [MARK_TAG]: formatMark(now - 100 * H) };
    expect(held(marked, { ...graced, minAgeMs: 1000 * H, minAge: "1000h" })).toMatchObject({ action: "blocked", mark: "remove" });
    expect(held(marked, { ...graced, suspend: { reason: "x", origin: "o" }, minAgeMs: 1000 * H, minAge: "1000h" })).toMatchObject({ mark: "remove" });
  });

  it("stop first only for a candidate nothing else keeps", () => {
    const running = (pol: Partial<Policy>) =>
      assess({ versions: [version("keep", { ageHours: 1, tags: {} }), version("old", { status: "RUNNING", tags: {} })], pol }).action("old");
    expect(running({ stopRunning: true })).toMatchObject({ action: "delete", stopFirst: true });
    expect(running({ stopRunning: true, ...graced })).not.toHaveProperty("stopFirst");
  });
});

describe("the gate's other answers", () => {
  it("a near miss at plan time: the missing listed names, and the fix", () => {
    const w = assess({
      versions: [version("keep", { ageHours: 1 }), version("v5")],
      listed: ["keep", "V5", "v5 "],
      pol: { origin: { nearMissGuard: "operator policy p.yaml" } },
    });
    expect(w.action("v5").reasons).toEqual([
      {
        rule: "nearMiss",
        message: 'listed "V5", "v5 " are missing; did you mean "v5"? Names are case-sensitive: fix the manifest, or remove the listed name',
        layer: "operator policy p.yaml",
      },
    ]);
    const one = assess({ versions: [version("keep", { ageHours: 1 }), version("v5")], listed: ["keep", "V5"] });
    expect(one.action("v5").reasons).toEqual([
      { rule: "nearMiss", message: 'listed "V5" is missing; did you mean "v5"? Names are case-sensitive: fix the manifest, or remove the listed name' },
    ]);
    expect(
      assess({ versions: [version("keep", { ageHours: 1 }), version("v5")], listed: ["keep", "V5"], pol: { nearMissGuard: false } }).action("v5").action,
    ).toBe("delete");
    // A listed name that exists is no miss, however close.
    expect(assess({ versions: [version("keep", { ageHours: 1 }), version("v5"), version("v6")], listed: ["keep", "v6"] }).action("v5").action).toBe("delete");
  });

  it("a project not usable: the verdict says notRead with its error", () => {
    const w = assess({ projects: [{ ...liveProject([]), status: "error", error: "AccessDenied" }] });
    const view = w.gate.view("p1-set")!;
    expect(w.gate.verdict(view, version("old"), now).reasons).toEqual([{ rule: "notRead", message: "AccessDenied" }]);
    expect(w.gate.verdict({ ...view, error: undefined } as never, version("old"), now).reasons).toEqual([{ rule: "notRead", message: "project not read" }]);
  });

  it("projects are told apart exactly by account, region and name", () => {
    // "us-east-1" + "1a" and "us-east-11" + "a" run together the same: they must not be one project.
    const a = set("1a", ["keep"], { name: "a" });
    const b = set("a", ["v"], { name: "b", region: "us-east-11" });
    const w = assess({
      sets: [a, b],
      projects: [
        liveProject([version("keep", { project: "1a", ageHours: 1 }), version("v", { project: "1a" })], { set: "a" }),
        liveProject([version("v", { project: "a", region: "us-east-11" })], { set: "b", region: "us-east-11" }),
      ],
    });
    expect(w.plan.projects.map((p) => p.status)).toEqual(["ok", "ok"]);
    expect(w.plan.actions.find((x) => x.set === "a" && x.versionName === "v")!.action).toBe("delete");
  });

  it("versionsNeedingTags: under a grace period every version not already leaving; otherwise only candidates the tag-free guards pass", () => {
    const vs = [version("keep", { ageHours: 1 }), version("old"), version("young", { ageHours: 2 }), version("going", { status: "DELETING" })];
    const names = (pol: Partial<Policy>) =>
      assess({ versions: vs, pol })
        .gate.versionsNeedingTags(now)
        .map((v) => v.name);
    expect(names({ gracePeriodMs: H, gracePeriod: "1h" })).toEqual(["keep", "old", "young"]);
    expect(names({ protectTags: [{ key: "h", value: "*", origin: "o" }] })).toEqual(["old"]);
    expect(names({})).toEqual([]);
    expect(assess({ versions: vs, projects: [{ ...liveProject(vs), status: "error" }] }).gate.versionsNeedingTags(now)).toEqual([]);
  });
});

describe("more edges the mutants found", () => {
  const lookOfAll = (vs: LiveVersion[]) => lookOf(vs);

  it("near misses at the last look: only listed names close to the version count, each one named", () => {
    const vs = [
      version("keep", { ageHours: 1 }),
      version("v1", { ageHours: 50 }),
      version("v11", { ageHours: 60 }),
      version("far", { ageHours: 70 }),
      version("v10"),
    ];
    const w = assess({ versions: vs, listed: ["keep", "v1", "v11", "far"] });
    const a = w.action("v10");
    const auth = w.gate.authorize(w.plan);
    expect(w.gate.lookFor([a])!.names.sort()).toEqual(["keep", "v1", "v10", "v11"]);
    // A listed name that is not close going missing says nothing about this one.
    expect(denied(w.gate.approve("delete", auth, a, lookOfAll(vs.filter((v) => v.name !== "far")), now))).toBe(false);
    expect(w.gate.approve("delete", auth, a, lookOfAll(vs.filter((v) => v.name !== "v1" && v.name !== "v11")), now)).toEqual({
      denied: true,
      reasons: [{ rule: "nearMiss", message: 'listed "v1", "v11" went missing since the plan; did you mean "v10"?' }],
    });
  });

  it("lookFor: no anchor under allowEmpty; an action without an ARN adds only its name; a project not usable gives nothing", () => {
    const w = assess({ versions: [version("keep", { ageHours: 1 }), version("old")], pol: { allowEmpty: true } });
    expect(w.gate.lookFor([w.action("old")])!.names).toEqual(["old"]);
    expect(w.gate.lookFor([{ ...w.action("old"), versionArn: null }])!.names).toEqual(["old"]);
    const claimed = assess({
      sets: [set("p1", ["keep"], { name: "a" }), { ...set("p1", ["x"], { name: "b" }), roleArn: ROLE }],
      projects: [liveProject([version("old")], { set: "a" }), liveProject([], { set: "b" })],
    });
    expect(claimed.gate.lookFor([{ ...w.action("old"), set: "a" }])).toBeUndefined();
  });

  it("a set's view carries the account and the caller STS answered (for audit records)", () => {
    expect(assess().gate.view("p1-set")).toMatchObject({ status: "ok", account: ACCOUNT, callerArn: AMBIENT_IDENTITY.arn });
    expect(assess({ identities: [{ source: "ambient", account: ACCOUNT }] }).gate.view("p1-set")).not.toHaveProperty("callerArn");
  });

  it("a project whose read failed lists nothing, not even the listed versions as missing", () => {
    const w = assess({ projects: [{ ...liveProject([]), status: "error", error: "AccessDenied" }] });
    expect(w.plan.actions).toEqual([]);
  });

  it("the verdict for a project not found: notRead with why, not guards", () => {
    const w = assess({ projects: [{ ...liveProject([]), status: "notFound", error: "no such project" }] });
    expect(w.gate.verdict(w.gate.view("p1-set")!, version("old"), now).reasons).toEqual([{ rule: "notRead", message: "no such project" }]);
  });

  it("every hold's reason names its layer", () => {
    const origin = { gracePeriod: "G", requireApproval: "A", requireNotice: "N" };
    const reasonsOf = (tags: Record<string, string>, pol: Partial<Policy>) =>
      assess({ versions: [version("keep", { ageHours: 1, tags: {} }), version("old", { tags })], pol: { ...pol, origin } })
        .action("old")
        .reasons.map((r) => [r.rule, r.layer]);
    const marked = { [MARK_TAG]: formatMark(now - H) };
    expect(reasonsOf({ [MARK_TAG]: "bad" }, { requireApproval: true })).toEqual([
      ["approvalRequired", "A"],
      ["approvalRequired", "A"],
    ]);
    expect(reasonsOf(marked, { gracePeriodMs: 72 * H, gracePeriod: "72h" })).toEqual([["gracePeriod", "G"]]);
    expect(reasonsOf(marked, { requireApproval: true })).toEqual([["approvalRequired", "A"]]);
    expect(
      reasonsOf({ ...marked, [NOTICE_TAG]: formatMark(now - H) }, { gracePeriodMs: H / 2, gracePeriod: "30m", requireNotice: true, notifications: [channel] }),
    ).toEqual([]);
    expect(
      reasonsOf(
        { ...marked, [NOTICE_TAG]: formatMark(now - H / 4) },
        { gracePeriodMs: H / 2, gracePeriod: "30m", requireNotice: true, notifications: [channel] },
      ),
    ).toEqual([["noticeNotDelivered", "N"]]);
  });

  it("an unmarked version's notice tag is not quoted (there is no mark it could be the notice of)", () => {
    const a = assess({
      versions: [version("keep", { ageHours: 1, tags: {} }), version("old", { tags: { [NOTICE_TAG]: formatMark(now - H) } })],
      pol: { requireNotice: true, notifications: [channel] },
    }).action("old");
    expect(a.reasons).toEqual([
      {
        rule: "noticeNotDelivered",
        message:
          `once marked, its \`marked\` notice has not reached a channel yet; apply sends it, records ${NOTICE_TAG} ` +
          "when a channel accepts it, and it is deletable 0s after that",
      },
    ]);
  });

  it("budgets: a layer over two projects names both; authorize joins every budget exceeded, and names the first", () => {
    const scoped: ScopedPolicy = {
      name: "strict",
      pos: { file: "s.yaml", line: 1, col: 1 },
      projects: ["p1", "p2"],
      projectPos: [],
      spec: { maxDeletesPerRun: 1 },
      fieldPos: {},
    };
    const projects = [
      liveProject([version("keep", { ageHours: 1 }), version("old")]),
      liveProject([version("k2", { project: "p2", ageHours: 1 }), version("o2", { project: "p2" })], { set: "p2-set" }),
    ];
    const w = assess({ sets: [set("p1", ["keep"]), set("p2", ["k2"])], projects, policies: { operator: policy({ maxDeletesPercent: 10 }), scoped: [scoped] } });
    expect(w.plan.refusals.map((r) => r.message)).toEqual([
      `the run would delete 1 of the 2 live versions of project p1 (${ACCOUNT}/us-east-1), 50%, over maxDeletesPercent 10; nothing is deleted`,
      `the run would delete 1 of the 2 live versions of project p2 (${ACCOUNT}/us-east-1), 50%, over maxDeletesPercent 10; nothing is deleted`,
      "the run would delete 2 versions in p1, p2, over maxDeletesPerRun 1; nothing is deleted",
    ]);
    const edited = {
      ...w.plan,
      refusals: [],
      actions: w.plan.actions.map((a) => (a.versionName === "old" || a.versionName === "o2" ? { ...a, action: "delete" as const } : a)),
    };
    expect(() => w.gate.authorize(edited)).toThrow(new RefusalError(w.plan.refusals.map((r) => r.message).join("; "), "maxDeletesPercent"));
  });

  it("authorize without allowedAccounts refuses under the rule accountNotAllowed", () => {
    const w = assess({ pol: { allowedAccounts: [] } });
    const err = (() => {
      try {
        w.gate.authorize(w.plan);
      } catch (e) {
        return e as RefusalError;
      }
    })();
    expect(err?.rule).toBe("accountNotAllowed");
  });

  it("approveMark: an action the plan does not mark is refused as such, not judged again", () => {
    const w = assess();
    const auth = w.gate.authorize(w.plan);
    expect(w.gate.approveMark(auth, w.action("old"), now)).toEqual({
      denied: true,
      reasons: [{ rule: "notPlanned", message: "the plan does not mark this version" }],
    });
  });

  it("approveMark and approveNotice on a project two sets claim: notRead, with the claim", () => {
    const ok = assess({
      versions: [version("keep", { ageHours: 1, tags: {} }), version("old", { tags: { [MARK_TAG]: formatMark(now - H) } })],
      pol: { gracePeriodMs: 72 * H, gracePeriod: "72h", notifications: [channel], requireNotice: true },
    });
    const a = { ...ok.action("old"), mark: "add" as const };
    const claimed = assess({
      sets: [set("p1", ["keep"]), { ...set("p1", ["x"], { name: "b" }), roleArn: ROLE }],
      projects: [liveProject([version("old")]), liveProject([], { set: "b" })],
    });
    const auth = claimed.gate.authorize({ ...claimed.plan, actions: [a] });
    const notRead = { denied: true, reasons: [{ rule: "notRead", message: expect.stringContaining("is claimed by") }] };
    expect(claimed.gate.approveMark(auth, a, now)).toEqual(notRead);
    expect(claimed.gate.approveNotice(auth, a, "notice", now, now)).toEqual(notRead);
  });
});
