// Layering: a DeletionPolicy among the manifests may only tighten the operator's. Every field, both ways.
import { afterEach, describe, expect, it } from "vitest";
import { formatIssue } from "../../reconciler/errors.js";
import { validateInputs } from "../../reconciler/inputs/index.js";
import { effectivePolicy } from "../../reconciler/policy/layers.js";
import { tmpTree } from "../helpers/tmp.js";

const OPERATOR = `apiVersion: rekon.dev/v1alpha1
kind: DeletionPolicy
metadata: {name: ops}
spec:
  allowedAccounts: ["111111111111", "222222222222"]
  allowedRegions: [us-east-1, eu-west-1]
  minAge: 24h
  keepLatest: 2
  maxDeletesPerRun: 10
  allowEmpty: false
  stopRunning: false
  gracePeriod: 24h
  protectTags: {"rekon.dev/protect": "true"}
`;
const SETS = `apiVersion: rekon.dev/v1alpha1
kind: ProjectVersionSet
metadata: {name: fraud}
spec: {project: fraud, region: us-east-1, versions: [{name: v1}]}
---
apiVersion: rekon.dev/v1alpha1
kind: ProjectVersionSet
metadata: {name: shelf}
spec: {project: shelf, region: us-east-1, versions: [{name: v1}]}
`;
const layer = (spec: string) => `apiVersion: rekon.dev/v1alpha1
kind: DeletionPolicy
metadata: {name: strict}
spec:
  selector: {projects: [fraud]}
  ${spec}
`;

let cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.forEach((c) => c());
  cleanups = [];
});
function run(layerDoc: string, operator = OPERATOR) {
  const t = tmpTree({ "ops/policy.yaml": operator, "manifests/sets.yaml": SETS, "manifests/policy.yaml": layerDoc });
  cleanups.push(t.cleanup);
  const r = validateInputs({ manifests: [t.path("manifests")], policy: t.path("ops/policy.yaml") }, { requireRegion: false });
  return { r, t, issues: r.issues.map((i) => formatIssue({ ...i, fix: undefined }).replaceAll(t.dir + "/", "")) };
}

describe("layering: tighten accepted, loosen rejected naming both files and the field", () => {
  it.each([
    { field: "allowedAccounts", tighten: 'allowedAccounts: ["111111111111"]', loosen: 'allowedAccounts: ["111111111111", "333333333333"]', msg: "account(s) 333333333333 are not in the operator's allowedAccounts" },
    { field: "allowedRegions", tighten: "allowedRegions: [us-east-1]", loosen: "allowedRegions: [us-east-1, ap-south-1]", msg: "region(s) ap-south-1 are not in the operator's allowedRegions" },
    { field: "minAge", tighten: "minAge: 7d", loosen: "minAge: 1h", msg: "minAge 1h is shorter than the operator's 24h" },
    { field: "keepLatest", tighten: "keepLatest: 5", loosen: "keepLatest: 1", msg: "keepLatest 1 is below the operator's 2" },
    { field: "maxDeletesPerRun", tighten: "maxDeletesPerRun: 3", loosen: "maxDeletesPerRun: 50", msg: "maxDeletesPerRun 50 is above the operator's 10" },
    { field: "allowEmpty", tighten: "allowEmpty: false", loosen: "allowEmpty: true", msg: "allowEmpty: true where the operator has false" },
    { field: "stopRunning", tighten: "stopRunning: false", loosen: "stopRunning: true", msg: "stopRunning: true where the operator has false" },
    { field: "gracePeriod", tighten: "gracePeriod: 72h", loosen: "gracePeriod: 1h", msg: "gracePeriod 1h is shorter than the operator's 24h" },
    { field: "rateLimits", tighten: undefined, loosen: "rateLimits: {DeleteProjectVersion: 1}", msg: "rateLimits are set by the operator only" },
  ])("$field", ({ field, tighten, loosen, msg }) => {
    if (tighten) expect(run(layer(tighten)).issues).toEqual([]);
    const { issues } = run(layer(loosen));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(new RegExp(`^manifests/policy\\.yaml:6:\\d+: spec\\.${field}: `));
    expect(issues[0]).toContain(msg);
    expect(issues[0]).toContain("this would loosen the operator policy");
    expect(issues[0]).toContain("ops/policy.yaml");
  });

  it.each([
    { name: "protectTags only add", spec: 'protectTags: {"team/keep": "*"}' },
    { name: "requireProjectTag only adds", spec: 'requireProjectTag: {"rekon.dev/managed": "true"}' },
    { name: "rules only add", spec: 'rules: [{name: no-prod, deny: "version.tags[\\"env\\"] == \\"prod\\"", message: "prod"}]' },
  ])("$name: accepted (they can only add protection)", ({ spec }) => {
    expect(run(layer(spec)).issues).toEqual([]);
  });

  it("a selector naming a project no set owns is an error (a filter that silently applies to nothing)", () => {
    const { issues } = run(layer("minAge: 7d").replace("projects: [fraud]", "projects: [fraud, frud]"));
    expect(issues).toEqual(['manifests/policy.yaml:5:32: spec.selector.projects[1]: selects project "frud", which no ProjectVersionSet owns, so this policy would apply to nothing']);
  });

  it("a manifest policy without a selector, and an operator policy with one, are errors", () => {
    expect(run(layer("minAge: 7d").replace("  selector: {projects: [fraud]}\n", "")).issues).toEqual(["manifests/policy.yaml:4:1: spec.selector: a DeletionPolicy among the manifests must say which projects it applies to"]);
    expect(run(layer("minAge: 7d"), OPERATOR + "  selector: {projects: [fraud]}\n").issues).toEqual(["ops/policy.yaml:14:3: spec.selector: the operator policy applies to every project and takes no selector"]);
  });

  it("a rule name used in two layers is an error", () => {
    const op = OPERATOR + '  rules: [{name: no-prod, deny: "false", message: "x"}]\n';
    const { issues } = run(layer('rules: [{name: no-prod, deny: "true", message: "y"}]'), op);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toContain('rule "no-prod" is already defined by operator policy');
  });

  it("a CEL type error in a manifest policy is a validation error at the rule", () => {
    const { issues } = run(layer('rules: [{name: bad, deny: "version.ageHours == \\"x\\"", message: "m"}]'));
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^manifests\/policy\.yaml:6:\d+: spec\.rules\[0\]\.deny: CEL TypeError: /);
  });
});

describe("effective policy", () => {
  it("tightest value wins, only for selected projects, with the layer recorded", () => {
    const { r } = run(layer("minAge: 7d\n  keepLatest: 3\n  allowedAccounts: [\"111111111111\"]\n  protectTags: {hold: \"*\"}"));
    const fraud = effectivePolicy(r.policies!, "fraud");
    const shelf = effectivePolicy(r.policies!, "shelf");
    expect(fraud).toMatchObject({ minAge: "7d", keepLatest: 3, allowedAccounts: ["111111111111"], maxDeletesPerRun: 10 });
    expect(fraud.origin.minAge).toMatch(/^manifest policy "strict"/);
    expect(fraud.origin.maxDeletesPerRun).toMatch(/^operator policy /);
    expect(fraud.protectTags.map((t) => t.key)).toEqual(["rekon.dev/protect", "hold"]);
    expect(shelf).toBe(r.policies!.operator);
  });
});

describe("notifications in layers: channels are only added, requireNotice only turned on", () => {
  const OPS_NOTIFY = OPERATOR + "  requireNotice: true\n  remindBefore: 12h\n  notifications:\n    - {name: platform, url: {fromEnv: REKON_WEBHOOK_URL}, events: [marked, deleted]}\n";

  it("requireNotice: false where the operator has true is a loosening naming both files", () => {
    const { issues } = run(layer("requireNotice: false"), OPS_NOTIFY);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^manifests\/policy\.yaml:6:\d+: spec\.requireNotice: requireNotice: false where the operator has true: this would loosen the operator policy .*ops\/policy\.yaml/);
    expect(run(layer("requireNotice: true"), OPS_NOTIFY).issues).toEqual([]);
  });

  it("a shorter remindBefore is a loosening; a longer one wins for the selected projects", () => {
    expect(run(layer("remindBefore: 1h"), OPS_NOTIFY).issues[0]).toContain("remindBefore 1h is shorter than the operator's 12h");
    const { r } = run(layer("remindBefore: 48h"), OPS_NOTIFY);
    expect(effectivePolicy(r.policies!, "fraud")).toMatchObject({ remindBefore: "48h", remindBeforeMs: 48 * 3_600_000 });
    expect(effectivePolicy(r.policies!, "shelf").remindBefore).toBe("12h");
  });

  it("a layer adds channels for its projects only; one reusing an operator channel's name is an error", () => {
    const { r, issues } = run(layer("notifications: [{name: fraud-team, url: {fromEnv: REKON_FRAUD_HOOK}, format: slack}]"), OPS_NOTIFY);
    expect(issues).toEqual([]);
    expect(effectivePolicy(r.policies!, "fraud").notifications.map((c) => [c.name, c.format, c.events.length])).toEqual([["platform", "json", 2], ["fraud-team", "slack", 7]]);
    expect(effectivePolicy(r.policies!, "shelf").notifications.map((c) => c.name)).toEqual(["platform"]);
    const clash = run(layer("notifications: [{name: platform, url: {fromEnv: REKON_OTHER}, events: [deleted]}]"), OPS_NOTIFY).issues;
    expect(clash).toHaveLength(1);
    expect(clash[0]).toContain('notification channel "platform" is already defined by operator policy');
  });

  it("a manifest policy names only REKON_* variables and no files (it must not aim rekon at the controller's other secrets)", () => {
    const issues = run(layer("notifications: [{name: t, url: {fromEnv: AWS_SECRET_ACCESS_KEY}, secret: {fromFile: /var/run/secrets/eks.amazonaws.com/serviceaccount/token}}]"), OPS_NOTIFY).issues;
    expect(issues).toEqual([
      expect.stringMatching(/^manifests\/policy\.yaml:6:\d+: spec\.notifications\[0\]\.url\.fromEnv: a DeletionPolicy among the manifests may name only REKON_\* variables, not "AWS_SECRET_ACCESS_KEY"$/),
      expect.stringMatching(/^manifests\/policy\.yaml:6:\d+: spec\.notifications\[0\]\.secret\.fromFile: a DeletionPolicy among the manifests may not read files$/),
    ]);
  });

  it("requireNotice without a channel that gets `marked` is an error, in the operator's policy and in a layer", () => {
    const op = OPERATOR + "  requireNotice: true\n  notifications: [{name: platform, url: {fromEnv: REKON_WEBHOOK_URL}, events: [deleted]}]\n";
    expect(run(layer("minAge: 7d"), op).issues).toEqual([expect.stringMatching(/^ops\/policy\.yaml:14:\d+: spec\.requireNotice: requireNotice: true, but no notification channel gets the `marked` event/)]);
    expect(run(layer("requireNotice: true"), OPERATOR).issues).toEqual([expect.stringMatching(/^manifests\/policy\.yaml:6:\d+: spec\.requireNotice: requireNotice: true for project "fraud", but no notification channel for it gets the `marked` event/)]);
    // A layer that brings its own channel may turn it on.
    expect(run(layer("requireNotice: true\n  notifications: [{name: fraud-team, url: {fromEnv: REKON_FRAUD_HOOK}}]"), OPERATOR).issues).toEqual([]);
  });

  it("a URL written inline is refused: the policy names where the secret is, never the secret", () => {
    const issues = run(layer("minAge: 7d"), OPERATOR + "  notifications: [{name: platform, url: 'https://hooks.slack.com/services/T0/B0/XXXX'}]\n").issues;
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^ops\/policy\.yaml:14:\d+: spec\.notifications\[0\]\.url: must be a mapping, got the string/);
  });
});
