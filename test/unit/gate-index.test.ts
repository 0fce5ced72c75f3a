// The Gate's own methods beyond the verdict (reconciler/gate/index.ts), as tables: which versions' tags a
// plan reads, what `rekon explain` says of a listed version's running state and of the archive step, how a
// state tag reads, and the identity check when the credentials' account is unknown. These are the words a
// person acts on and the reads a plan pays for; the mutation run holds each line to a test here.
import { describe, expect, it } from "vitest";
import { Gate } from "../../reconciler/gate/index.js";
import { MARK_TAG, formatMark } from "../../reconciler/policy/guards.js";
import type { ArchivePolicy, LiveProject, LiveVersion, Policy, Reason } from "../../reconciler/types.js";
import { desired, liveProject, liveState, NOW, policy, set, version } from "../helpers/builders.js";

const now = NOW.getTime();
const H = 3_600_000;
const ARCHIVE: ArchivePolicy = { project: "vault", outputConfig: { s3Bucket: "bkt", s3KeyPrefix: "rekon/" }, required: false, origin: "operator policy p.yaml" };
const price: Partial<Policy> = { inference: { currency: "USD", allowRestart: false, unitPricePerHour: 4 } };

function gateOf(projects: LiveProject[], s: ReturnType<typeof set>, pol: Partial<Policy> = {}): Gate {
  return Gate.assess({ desired: desired(s), live: liveState(projects), policies: policy(pol), now: NOW });
}
function explainOf(g: Gate, name: string, refusals: Reason[] = []) {
  const view = g.views[0]!;
  return g.explain(view, view.project!.versions.find((v) => v.name === name)!, now, refusals);
}
const names = (vs: LiveVersion[]) => vs.map((v) => v.name).sort();

describe("versionsNeedingTags: the tags a plan reads, and no more", () => {
  const vs = () => [version("kept"), version("old"), version("going", { status: "DELETING" })];
  it("a tag guard without a grace period: only the candidates (unlisted), never a listed version", () => {
    const g = gateOf([liveProject(vs())], set("p1", ["kept"]), { protectTags: [{ key: "legal-hold", value: "*", origin: "op" }] } as Partial<Policy>);
    expect(names(g.versionsNeedingTags(now))).toEqual(["old"]);
  });
  it("a grace period: every version not already DELETING, listed ones included (a stale mark is cleared)", () => {
    const g = gateOf([liveProject(vs())], set("p1", ["kept"]), { gracePeriodMs: 72 * H, gracePeriod: "72h" } as Partial<Policy>);
    expect(names(g.versionsNeedingTags(now))).toEqual(["kept", "old"]);
  });
  it("no guard reads tags and no grace period: nothing is read", () => {
    const g = gateOf([liveProject(vs())], set("p1", ["kept"]), { protectTags: [] });
    expect(g.versionsNeedingTags(now)).toEqual([]);
  });
  it("a project not read as ok (here notFound, which keeps its live record) contributes no version", () => {
    const failed = liveProject(vs(), { status: "notFound" } as Partial<LiveProject>);
    const g = gateOf([failed], set("p1", ["kept"]), { protectTags: [{ key: "legal-hold", value: "*", origin: "op" }] } as Partial<Policy>);
    expect(g.versionsNeedingTags(now)).toEqual([]);
  });
});

describe("explain: a listed version's running state", () => {
  const declared = set("p1", ["v1"], { running: { v1: { minInferenceUnits: 2 } } });
  it("STOPPED and declared running: a start at the declared units", () => {
    const x = explainOf(gateOf([liveProject([version("v1")])], declared, price), "v1");
    expect(x.decision).toBe("keep");
    expect(x.running).toEqual({ action: "start", units: { min: 2 }, reasons: [] });
  });
  it("a refused run: no start, and the refusal is said as the reason", () => {
    const refusal: Reason = { rule: "budgetExceeded", message: "over the budget" } as Reason;
    const x = explainOf(gateOf([liveProject([version("v1")])], declared, price), "v1", [refusal]);
    expect(x.running).toEqual({ units: { min: 2 }, reasons: [refusal] });
  });
  it("running at other units under allowRestart: a start that stops it first", () => {
    const live = [version("v1", { status: "RUNNING", minInferenceUnits: 1 })];
    const x = explainOf(gateOf([liveProject(live)], declared, { inference: { currency: "USD", allowRestart: true, unitPricePerHour: 4 } }), "v1");
    expect(x.running).toMatchObject({ action: "start", restartFirst: true, units: { min: 2 } });
  });
  it("drift without allowRestart: no action, no restart, the drift as the reason", () => {
    const live = [version("v1", { status: "RUNNING", minInferenceUnits: 1 })];
    const x = explainOf(gateOf([liveProject(live)], declared, price), "v1");
    expect(x.running?.action).toBeUndefined();
    expect(x.running?.restartFirst).toBeUndefined();
    expect(x.running?.reasons.map((r) => r.rule)).toEqual(["capacityDrift"]);
  });
  it("listed, STOPPED and not declared running: nothing to say about running", () => {
    const x = explainOf(gateOf([liveProject([version("v1")])], set("p1", ["v1"]), price), "v1");
    expect(x.running).toBeUndefined();
  });
  it("an unlisted version: no running state, whatever runs", () => {
    const x = explainOf(gateOf([liveProject([version("v1"), version("old", { status: "RUNNING", minInferenceUnits: 1 })])], declared, price), "old");
    expect(x.decision).not.toBe("keep");
    expect(x.running).toBeUndefined();
  });
});

describe("explain: the archive step", () => {
  const detail = (pol: Partial<Policy>, v: LiveVersion, project = "p1") => {
    const g = gateOf([liveProject([version("keep", { project }), v], { project })], set(project, ["keep"]), pol);
    return explainOf(g, v.name).checks.find((c) => c.rule === "notArchivable");
  };
  it("no archive in the policy: the check is not shown", () => {
    expect(detail({}, version("old"))).toBeUndefined();
  });
  it("a model: archived first, to the archive project under its derived name", () => {
    const c = detail({ archive: ARCHIVE }, version("old"));
    expect(c).toMatchObject({ verdict: "pass" });
    expect(c!.detail).toBe("archived first: copied to vault/p1--old and deleted only once the copy is COPYING_COMPLETED");
  });
  it("an adapter under required: false: deleted without a copy, and the words say there is no undo", () => {
    const c = detail({ archive: ARCHIVE }, version("old", { feature: "CUSTOM_ADAPTER" } as Partial<LiveVersion>));
    expect(c!.detail).toMatch(/^an adapter cannot be copied, and archive.required is false: deleted without a copy \(no undo\)$/);
  });
  it("an adapter under required: true: blocked notArchivable", () => {
    const c = detail({ archive: { ...ARCHIVE, required: true } }, version("old", { feature: "CUSTOM_ADAPTER" } as Partial<LiveVersion>));
    expect(c).toMatchObject({ verdict: "block", rule: "notArchivable" });
  });
  it("a version of the archive project itself: ordinary, deleted without a copy of a copy", () => {
    const c = detail({ archive: ARCHIVE }, version("old", { project: "vault" }), "vault");
    expect(c!.detail).toBe('this is the archive project: its versions are ordinary versions under ProjectVersionSet "vault-set", deleted without a copy');
  });
});

describe("stateTag: a state tag as read under the operator's signing", () => {
  it("an unsigned mark, with no signing configured, reads as its time", () => {
    const at = now - 5 * H;
    const v = version("old", { tags: { [MARK_TAG]: formatMark(at) } });
    const g = gateOf([liveProject([version("keep"), v])], set("p1", ["keep"]));
    expect(g.stateTag(v, MARK_TAG)).toEqual({ time: formatMark(at) });
  });
  it("a version without the tag: nothing to read", () => {
    const v = version("old");
    const g = gateOf([liveProject([version("keep"), v])], set("p1", ["keep"]));
    expect(g.stateTag(v, MARK_TAG)).toBeUndefined();
  });
});

describe("identity: a view whose credentials' account is unknown", () => {
  // The world never pairs a read project with an unresolved account (such a set is not read at all); the
  // check stands in case that ever changes, and says so in words.
  it("every candidate is blocked identityMismatch, saying the account is unknown", () => {
    const g = gateOf([liveProject([version("keep"), version("old")])], set("p1", ["keep"]));
    const view = { ...g.views[0]!, account: undefined };
    const x = g.explain(view, view.project!.versions.find((v) => v.name === "old")!, now);
    expect(x.checks).toContainEqual(expect.objectContaining({ rule: "identityMismatch", verdict: "block", detail: "the account of the credentials is unknown" }));
  });
});
