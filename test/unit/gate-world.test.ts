// The world index (gate/world.ts) where the verdicts do not show it directly: the same gate with the tags
// as read (withTags: each set's project replaced by its tagged copy, nothing else), and the listed names
// close to a candidate the last look re-reads, sorted. A tagged copy applied to the wrong set would judge a
// version on another version's tags.
//
// Every world is built inside its test (mutation testing counts collection-time code as "static").
import { describe, expect, it } from "vitest";
import { Gate } from "../../reconciler/gate/index.js";
import { planWith } from "../../reconciler/plan.js";
import type { LiveVersion, Policy } from "../../reconciler/types.js";
import { desired, liveProject, liveState, NOW, policy, set, version } from "../helpers/builders.js";

const now = NOW.getTime();
const PROTECT: Partial<Policy> = { protectTags: [{ key: "hold", value: "*", origin: "op" }] };

describe("withTags: the verdicts on the tags as read", () => {
  it("each set's project is replaced by its tagged copy; a set the tagged state does not name keeps its own", () => {
    const p1 = [version("keep", { ageHours: 1 }), version("old")];
    const p2 = [version("k2", { project: "p2", ageHours: 1 }), version("o2", { project: "p2" })];
    const gate = Gate.assess({
      desired: desired(set("p1", ["keep"]), set("p2", ["k2"])),
      live: liveState([liveProject(p1), liveProject(p2, { set: "p2-set" })]),
      policies: policy(PROTECT),
      now: NOW,
    });
    const rule = (g: Gate, setName: string, v: LiveVersion) => g.verdict(g.view(setName)!, v, now).reasons.map((r) => r.rule);
    expect(rule(gate, "p1-set", p1[1]!)).toEqual(["tagsUnreadable"]);
    const held: LiveVersion[] = p1.map((v) => ({ ...v, tags: v.name === "old" ? { hold: "yes" } : ({} as Record<string, string>) }));
    const tagged = gate.withTags(liveState([liveProject(held)]));
    // The view's project is the tagged copy: its versions carry the tags.
    expect(tagged.view("p1-set")!.project!.versions).toEqual(held);
    expect(tagged.views.map((v) => v.project!.versions)).toEqual([held, p2]);
    expect(rule(tagged, "p1-set", held[1]!)).toEqual(["protectedTag"]);
    // The other set is the one assessed, untouched; the original gate is unchanged.
    expect(tagged.view("p2-set")).toBe(gate.view("p2-set"));
    expect(gate.view("p1-set")!.project!.versions).toEqual(p1);
    const free = gate.withTags(liveState([liveProject(p1.map((v) => ({ ...v, tags: {} })))]));
    expect(rule(free, "p1-set", { ...p1[1]!, tags: {} })).toEqual([]);
  });

  it("a set whose project was not read stays without one", () => {
    const gate = Gate.assess({
      desired: desired(set("p1", ["keep"])),
      live: liveState([liveProject([version("keep")], { status: "error", error: "AccessDenied" })]),
      policies: policy(),
      now: NOW,
    });
    const tagged = gate.withTags(liveState([liveProject([version("keep", { tags: {} })])]));
    expect(tagged.view("p1-set")!.project).toBeUndefined();
    expect(tagged.view("p1-set")!.status).toBe("error");
  });
});

describe("the listed names close to a candidate, as the last look re-reads them", () => {
  it("every listed name within one edit of the candidate, sorted, after the candidates, the newest and the anchor", () => {
    const vs = [version("zzz", { ageHours: 1 }), version("modelb", { ageHours: 2 }), version("modela", { ageHours: 3 }), version("modelc", { ageHours: 900 })];
    const names = (listed: string[]) => {
      const gate = Gate.assess({
        desired: desired(set("p1", listed)),
        live: liveState([liveProject(vs)]),
        policies: policy({ nearMissGuard: true }),
        now: NOW,
      });
      const a = planWith(gate, NOW).actions.find((x) => x.versionName === "modelc")!;
      expect(a.action).toBe("delete");
      return gate.lookFor([a])!.names;
    };
    // The anchor (the newest listed version) first, then the close names sorted, whatever the set's order.
    expect(names(["zzz", "modelb", "modela"])).toEqual(["modelc", "zzz", "modela", "modelb"]);
    expect(names(["modela", "zzz", "modelb"])).toEqual(["modelc", "zzz", "modela", "modelb"]);
    // Off: no close names.
    const gate = Gate.assess({
      desired: desired(set("p1", ["zzz", "modelb", "modela"])),
      live: liveState([liveProject(vs)]),
      policies: policy({ nearMissGuard: false }),
      now: NOW,
    });
    expect(gate.lookFor([planWith(gate, NOW).actions.find((x) => x.versionName === "modelc")!])!.names).toEqual(["modelc", "zzz"]);
  });
});

describe("versionsNeedingTags: a listed version is not a candidate", () => {
  it("under protectTags alone, only the unlisted candidates the tag-free guards pass, never a listed one however old", () => {
    const vs = [version("keep", { ageHours: 900 }), version("old", { ageHours: 800 }), version("young", { ageHours: 1 })];
    const gate = Gate.assess({ desired: desired(set("p1", ["keep"])), live: liveState([liveProject(vs)]), policies: policy(PROTECT), now: NOW });
    expect(gate.versionsNeedingTags(now).map((v) => v.name)).toEqual(["old"]);
  });
});
