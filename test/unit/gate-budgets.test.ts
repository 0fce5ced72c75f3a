// The run-wide budgets (gate/budgets.ts) as tables, exact refusals and messages: the start budgets
// (maxInferenceUnits per account and region, maxStartsPerRun; the operator's and a manifest layer's over its
// projects), which projects a deletion share counts, and what authorize lets through. A budget counted over
// the wrong projects, or a start slipping past one, bills inference units nobody agreed to.
//
// Every world is built inside its test (mutation testing counts collection-time code as "static").
import { describe, expect, it } from "vitest";
import { RefusalError } from "../../reconciler/errors.js";
import { Gate } from "../../reconciler/gate/index.js";
import { planWith } from "../../reconciler/plan.js";
import type { InferencePolicy, LiveProject, Plan, PlanAction, Policy, ScopedPolicy } from "../../reconciler/types.js";
import { ACCOUNT, desired, liveProject, liveState, NOW, policy, set, version } from "../helpers/builders.js";

const OPERATOR = "operator policy test-policy";
const LAYER = 'manifest policy "strict" (s.yaml)';
const inference = (o: Partial<InferencePolicy> = {}): Partial<Policy> => ({ inference: { currency: "USD", allowRestart: false, ...o } });
const layer = (projects: string[], inf: Partial<InferencePolicy>): ScopedPolicy => ({
  name: "strict",
  pos: { file: "s.yaml", line: 1, col: 1 },
  projects,
  projectPos: [],
  spec: { inference: inf },
  fieldPos: {},
});

/** Projects p1 and p2 in us-east-1 and p3 in eu-west-1, each read with the ambient credentials of ACCOUNT. */
function gate(o: { pol?: Partial<Policy>; scoped?: ScopedPolicy[]; p3?: Partial<LiveProject> } = {}) {
  const sets = [set("p1", ["a"]), set("p2", ["b"]), set("p3", ["c"], { region: "eu-west-1" })];
  const projects = [
    liveProject([version("a")]),
    liveProject([version("b", { project: "p2" })]),
    liveProject([version("c", { project: "p3", region: "eu-west-1" })], { region: "eu-west-1", ...o.p3 }),
  ];
  return Gate.assess({
    desired: desired(...sets),
    live: liveState(projects),
    policies: { operator: policy(o.pol ?? inference()), scoped: o.scoped ?? [] },
    now: NOW,
  });
}
/** A planned action; account "" for one whose credentials were not resolved. */
const act = (action: PlanAction["action"], project: string, region = "us-east-1", account = ACCOUNT): PlanAction => ({
  action,
  project,
  region,
  ...(account ? { account } : {}),
  versionName: "x",
  versionArn: `arn:aws:rekognition:${region}:${ACCOUNT}:project/${project}/version/x/1`,
  status: "STOPPED",
  createdAt: null,
  feature: "CUSTOM_LABELS",
  reasons: [],
  set: `${project}-set`,
});
const units = (o: Record<string, number>) => new Map(Object.entries(o).map(([p, n]) => [`${p}-set`, n]));

describe("startRefusals: maxInferenceUnits, per account and region", () => {
  it("nothing to start: no refusal, whatever the units", () => {
    const g = gate({ pol: inference({ maxInferenceUnits: 1, maxStartsPerRun: 0 }) });
    expect(g.startRefusals([], units({ p1: 9 }))).toEqual([]);
    // Stops are not starts: they never count against maxStartsPerRun.
    expect(g.startRefusals([act("stop", "p1"), act("delete", "p1")], units({ p1: 9 }))).toEqual([]);
  });

  it("the operator's: over it in the region a start goes to, refused with the total; at it, allowed", () => {
    const g = gate({ pol: inference({ maxInferenceUnits: 4 }) });
    expect(g.startRefusals([act("start", "p1")], units({ p1: 2, p2: 2, p3: 9 }))).toEqual([]);
    expect(g.startRefusals([act("start", "p1")], units({ p1: 3, p2: 2 }))).toEqual([
      {
        rule: "maxInferenceUnits",
        message: `the starts would take the running inference units in ${ACCOUNT}/us-east-1 to 5, over maxInferenceUnits 4; nothing is started`,
        layer: OPERATOR,
      },
    ]);
    // Over it only in a region nothing is started in: not this run's doing.
    expect(g.startRefusals([act("start", "p3", "eu-west-1")], units({ p1: 3, p2: 2, p3: 1 }))).toEqual([]);
  });

  it("a layer's counts only its projects, and says which", () => {
    const g = gate({ scoped: [layer(["p1"], { maxInferenceUnits: 2 })] });
    // p2's units are not the layer's business.
    expect(g.startRefusals([act("start", "p1")], units({ p1: 2, p2: 7 }))).toEqual([]);
    // A start outside the layer's projects is not refused by it, even with its projects over.
    expect(g.startRefusals([act("start", "p2")], units({ p1: 3, p2: 1 }))).toEqual([]);
    expect(g.startRefusals([act("start", "p1")], units({ p1: 3, p2: 7 }))).toEqual([
      {
        rule: "maxInferenceUnits",
        message: `the starts would take the running inference units in p1 in ${ACCOUNT}/us-east-1 to 3, over maxInferenceUnits 2; nothing is started`,
        layer: LAYER,
      },
    ]);
    // Two projects are named both; a layer without the field sets no budget.
    expect(gate({ scoped: [layer(["p1", "p2"], { maxInferenceUnits: 2 })] }).startRefusals([act("start", "p2")], units({ p1: 1, p2: 2 }))).toEqual([
      expect.objectContaining({ message: expect.stringContaining("running inference units in p1, p2 in ") }),
    ]);
    expect(gate({ scoped: [layer(["p1"], { allowRestart: false })] }).startRefusals([act("start", "p1")], units({ p1: 99 }))).toEqual([]);
  });

  it("a layer without spec.inference sets no start budget", () => {
    const plain: ScopedPolicy = { ...layer(["p1"], {}), spec: { maxDeletesPerRun: 5 } };
    expect(gate({ scoped: [plain] }).startRefusals([act("start", "p1"), act("start", "p1")], units({ p1: 99 }))).toEqual([]);
  });

  it("a set whose account was not resolved counts under ?/region", () => {
    const g = Gate.assess({
      desired: desired(set("p1", ["a"])),
      live: liveState([liveProject([version("a")])], []),
      policies: policy(inference({ maxInferenceUnits: 1 })),
      now: NOW,
    });
    expect(g.startRefusals([act("start", "p1", "us-east-1", "")], units({ p1: 2 }))).toEqual([
      expect.objectContaining({
        message: "the starts would take the running inference units in ?/us-east-1 to 2, over maxInferenceUnits 1; nothing is started",
      }),
    ]);
  });
});

describe("startRefusals: maxStartsPerRun", () => {
  it("the operator's: over it refused, at it allowed", () => {
    const g = gate({ pol: inference({ maxStartsPerRun: 1 }) });
    expect(g.startRefusals([act("start", "p1"), act("stop", "p2")], new Map())).toEqual([]);
    expect(g.startRefusals([act("start", "p1"), act("start", "p2")], new Map())).toEqual([
      { rule: "maxStartsPerRun", message: "the run would start 2 versions, over maxStartsPerRun 1; nothing is started", layer: OPERATOR },
    ]);
  });

  it("a layer's counts only the starts in its projects, and names them", () => {
    const g = gate({ scoped: [layer(["p1", "p3"], { maxStartsPerRun: 1 })] });
    expect(g.startRefusals([act("start", "p1"), act("start", "p2")], new Map())).toEqual([]);
    expect(g.startRefusals([act("start", "p1"), act("start", "p3", "eu-west-1"), act("start", "p2")], new Map())).toEqual([
      { rule: "maxStartsPerRun", message: "the run would start 2 versions in p1, p3, over maxStartsPerRun 1; nothing is started", layer: LAYER },
    ]);
    expect(gate({ scoped: [layer(["p1"], { maxInferenceUnits: 9 })] }).startRefusals([act("start", "p1"), act("start", "p1")], new Map())).toEqual([]);
  });
});

describe("budgetRefusals: which projects a deletion share counts", () => {
  it("a project not found is not counted, even with deletions named in it (it has no live versions to take a share of)", () => {
    const g = gate({ pol: { maxDeletesPercent: 10 }, p3: { status: "notFound", versions: [] } });
    expect(g.view("p3-set")!.project).toBeDefined();
    expect(g.refusals([act("delete", "p3", "eu-west-1")])).toEqual([]);
  });

  it("a project not read ok is not counted, even with deletions named in it (nothing there is deleted anyway)", () => {
    const g = gate({ pol: { maxDeletesPercent: 10 }, p3: { status: "error", error: "AccessDenied" } });
    expect(g.refusals([act("delete", "p3", "eu-west-1")])).toEqual([]);
    expect(g.refusals([act("delete", "p1")]).map((r) => r.rule)).toEqual(["maxDeletesPercent"]);
  });
});

describe("authorize: what the run may write", () => {
  function planned(pol: Partial<Policy>): Plan {
    const g = gate({ pol });
    return planWith(g, NOW);
  }
  const withActions = (plan: Plan, actions: PlanAction[]): Plan => ({ ...plan, refusals: [], actions });

  it("the marks and the starts and stops it carries, by version ARN; keeps and deletes are not runtime writes", () => {
    const g = gate();
    const plan = withActions(planWith(g, NOW), [
      { ...act("start", "p1"), versionArn: "arn:start" },
      { ...act("stop", "p2"), versionArn: "arn:stop" },
      { ...act("keep", "p1"), versionArn: "arn:keep", mark: "remove" },
      { ...act("blocked", "p1"), versionArn: "arn:blocked", mark: "add" },
      { ...act("start", "p1"), versionArn: null },
      { ...act("keep", "p1"), versionArn: null, mark: "add" },
    ]);
    const auth = g.authorize(plan);
    expect(auth.runtime).toEqual(
      new Map([
        ["arn:start", "start"],
        ["arn:stop", "stop"],
      ]),
    );
    expect(auth.marks).toEqual(
      new Map([
        ["arn:keep", "remove"],
        ["arn:blocked", "add"],
      ]),
    );
    expect([...auth.deletable]).toEqual([]);
  });

  it.each([
    { name: "a start", actions: () => [act("start", "p1")] },
    { name: "a stop", actions: () => [act("stop", "p1")] },
    { name: "a deletion and a start (they add up)", actions: () => [act("delete", "p1"), act("start", "p2")] },
    { name: "a new mark", actions: () => [{ ...act("blocked", "p1"), mark: "add" as const }] },
  ])("without allowedAccounts, $name is refused, with the fix", ({ actions }) => {
    const g = gate({ pol: { allowedAccounts: [] } });
    const plan = withActions(planned({ allowedAccounts: [] }), actions());
    expect(() => g.authorize(plan)).toThrow(
      new RefusalError(
        'apply needs spec.allowedAccounts in the DeletionPolicy (test-policy): name the 12-digit AWS account IDs whose versions rekon may delete, e.g. allowedAccounts: ["123456789012"], and pass the file with --policy',
        "accountNotAllowed",
      ),
    );
  });

  it("without allowedAccounts, a plan that only keeps or only removes marks is authorized", () => {
    const g = gate({ pol: { allowedAccounts: [] } });
    const plan = withActions(planned({ allowedAccounts: [] }), [act("keep", "p1"), { ...act("keep", "p2"), mark: "remove" }]);
    expect(g.authorize(plan).marks).toEqual(new Map([[act("keep", "p2").versionArn, "remove"]]));
  });
});
