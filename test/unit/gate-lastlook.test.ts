// The last look (gate/lastlook.ts), exact values: what lookFor asks the look to re-read (the plan's newest
// creation time, the newest versions by name, the ARNs whose tags are needed), what a version created in
// the project since the plan does to a deletion (a copy of it, a copy whose source is not named, a status
// rekon does not know, one the plan already saw), keepLatest's words on fresh facts, and the words of a
// write refused because a set lists the version. A look that asks for the wrong things, or misreads what
// appeared, deletes the source of a copy in progress.
//
// Every world is built inside its test (mutation testing counts collection-time code as "static").
import { describe, expect, it } from "vitest";
import { Gate, type Look } from "../../reconciler/gate/index.js";
import { planWith } from "../../reconciler/plan.js";
import { formatMark, MARK_TAG } from "../../reconciler/policy/guards.js";
import type { LiveVersion, Policy } from "../../reconciler/types.js";
import { desired, liveProject, liveState, NOW, policy, set, version } from "../helpers/builders.js";

const now = NOW.getTime();
const H = 3_600_000;

function run(versions: LiveVersion[], pol: Partial<Policy> = {}, listed = ["keep"]) {
  const gate = Gate.assess({ desired: desired(set("p1", listed)), live: liveState([liveProject(versions)]), policies: policy(pol), now: NOW });
  const plan = planWith(gate, NOW);
  const action = (name: string) => plan.actions.find((a) => a.versionName === name)!;
  return { gate, plan, action, auth: () => gate.authorize(plan) };
}
/** A look finding `vs` by name; its newest versions `newest` (default `vs`; null: not read). */
const look = (vs: LiveVersion[], newest: LiveVersion[] | null = vs): Look => ({
  at: now,
  byName: new Map(vs.map((v) => [v.name, v])),
  ...(newest ? { newest } : {}),
});
const reasons = (d: object) => ("denied" in d ? (d as unknown as { reasons: unknown[] }).reasons : []);

describe("lookFor: exactly what the look re-reads", () => {
  it("the plan's newest creation time, whichever version has it; the newest by name; the candidates' ARNs for tags", () => {
    const vs = [
      version("old", { ageHours: 500 }),
      version("keep", { ageHours: 2 }),
      version("mid", { ageHours: 300 }),
      version("older", { ageHours: 600 }),
      version("young", { ageHours: 3 }),
    ];
    const w = run(vs, { keepLatest: 2, minAgeMs: 0, minAge: "0s" });
    expect(w.action("old").action).toBe("delete");
    expect(w.gate.lookFor([w.action("old"), w.action("older")])).toEqual({
      project: "p1",
      region: "us-east-1",
      projectArn: liveProject([]).projectArn,
      names: ["old", "older", "keep", "young"],
      tags: false,
      tagArns: new Set([vs[0]!.arn, vs[3]!.arn]),
      planNewest: now - 2 * H,
    });
  });

  it("the newest first in the project's list, or last: the same planNewest", () => {
    const a = version("a", { ageHours: 10 });
    const b = version("b", { ageHours: 20 });
    const c = version("c", { ageHours: 30 });
    for (const order of [
      [a, b, c],
      [c, b, a],
      [b, a, c],
    ]) {
      const w = run(order, { keepLatest: 0, minAgeMs: 0, minAge: "0s" }, ["a"]);
      expect(w.gate.lookFor([w.action("c")])!.planNewest).toBe(now - 10 * H);
    }
  });

  it("an action without an ARN: no tags asked for it", () => {
    const w = run([version("keep", { ageHours: 1 }), version("old")], { allowEmpty: true });
    expect(w.gate.lookFor([{ ...w.action("old"), versionArn: null }])!.tagArns).toEqual(new Set());
  });
});

describe("a version created in the project since the plan", () => {
  const keep = version("keep", { ageHours: 1 });
  const old = version("old");
  const appeared = (o: Partial<LiveVersion>) => version("new", { ageHours: 0, arn: `${old.arn.replace("/old/", "/new/")}9`, ...o });
  it.each([
    {
      name: "a copy of it in progress: copySource, named",
      v: { status: "COPYING_IN_PROGRESS", sourceVersionArn: old.arn },
      want: [{ rule: "copySource", message: "a copy of it (new, COPYING_IN_PROGRESS) was started in the project since the plan" }],
    },
    {
      name: "a copy whose source is not named: copySourceUnknown",
      v: { status: "COPYING_IN_PROGRESS" },
      want: [
        {
          rule: "copySourceUnknown",
          message: "version new appeared in the project since the plan, COPYING_IN_PROGRESS, without a source named; it could be a copy of this version",
        },
      ],
    },
    {
      name: "a status rekon does not know, no source: could be a copy",
      v: { status: "ARCHIVING" },
      want: [
        {
          rule: "copySourceUnknown",
          message: "version new appeared in the project since the plan, ARCHIVING, without a source named; it could be a copy of this version",
        },
      ],
    },
    { name: "a copy of another version: not this one's business", v: { status: "COPYING_IN_PROGRESS", sourceVersionArn: keep.arn }, want: [] },
    { name: "a trained version: not a copy", v: { status: "TRAINING_COMPLETED" }, want: [] },
  ])("$name", ({ v, want }) => {
    const w = run([keep, old]);
    const got = w.gate.approve("delete", w.auth(), w.action("old"), look([keep, old], [keep, old, appeared(v)]), now);
    expect(reasons(got)).toEqual(want);
  });

  it("a copy in progress the plan already saw (its source not named) is not new: the plan judged it", () => {
    const copying = version("c", { status: "COPYING_IN_PROGRESS" });
    const w = run([keep, old, copying]);
    expect(w.action("old").action).toBe("delete");
    expect(reasons(w.gate.approve("delete", w.auth(), w.action("old"), look([keep, old], [keep, old, copying]), now))).toEqual([]);
  });

  it("the newest versions not read: a copy cannot be ruled out", () => {
    const w = run([keep, old]);
    expect(reasons(w.gate.approve("delete", w.auth(), w.action("old"), look([keep, old], null), now))).toEqual([
      { rule: "copySourceUnknown", message: "the last look did not read the project's newest versions, so a copy started since the plan cannot be ruled out" },
    ]);
  });
});

describe("the plan's premises on fresh facts, in words", () => {
  it("keepLatest: the newest version gone since the plan, named", () => {
    const keep = version("keep", { ageHours: 100 });
    const newest = version("newest", { ageHours: 1 });
    const old = version("old", { ageHours: 500 });
    const w = run([keep, newest, old], { keepLatest: 1 });
    expect(w.action("old").action).toBe("delete");
    expect(reasons(w.gate.approve("delete", w.auth(), w.action("old"), look([keep, old]), now))).toEqual([
      { rule: "keepLatest", message: "one of the project's newest 1 version(s) (newest) is gone or DELETING since the plan; it may now be among the newest" },
    ]);
  });

  it("a version its own set lists, planned as a delete by an edited plan: refused as listed, with where", () => {
    const keep = version("keep", { ageHours: 1 });
    const old = version("old");
    const w = run([keep, old]);
    const edited = { ...w.plan, actions: w.plan.actions.map((a) => (a.versionName === "keep" ? { ...a, action: "delete" as const } : a)) };
    const got = w.gate.approve("delete", w.gate.authorize(edited), { ...w.action("keep"), action: "delete" }, look([keep, old]), now);
    expect(reasons(got)).toEqual([{ rule: "listed", message: 'listed by ProjectVersionSet "p1-set" (m.yaml:1:1)' }]);
  });

  it("a mark on a listed version, asked for by an edited plan: refused as listed, with where", () => {
    const keep = version("keep", { ageHours: 1, tags: {} });
    const old = version("old", { tags: { [MARK_TAG]: formatMark(now - H) } });
    const w = run([keep, old], { gracePeriodMs: 72 * H, gracePeriod: "72h" });
    const edited = { ...w.plan, actions: w.plan.actions.map((a) => (a.versionName === "keep" ? { ...a, mark: "add" as const } : a)) };
    const got = w.gate.approveMark(w.gate.authorize(edited), { ...w.action("keep"), mark: "add" }, now);
    expect(reasons(got)).toEqual([{ rule: "listed", message: 'listed by ProjectVersionSet "p1-set" (m.yaml:1:1)' }]);
  });
});
