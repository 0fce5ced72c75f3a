// `rekon diff` is what a pull-request reviewer reads: every policy field a change can loosen must be
// compared, in the direction that matters (does the head allow a deletion the base did not?).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { diffDesired, diffPolicies, diffSetSuspensions, type ProjectChange } from "../../reconciler/diff.js";
import type { DeletionWindow, DesiredSet, Policy, PolicyField, ScopedPolicy } from "../../reconciler/types.js";
import { desired, policy, set } from "../helpers/builders.js";

const H = 3_600_000;
const T = Date.UTC(2026, 11, 1);
const deny: DeletionWindow = { kind: "deny", schedule: "0 18 * * FRI", duration: "64h", durationMs: 64 * H, timeZone: "Europe/Berlin", origin: "op" };
const allow: DeletionWindow = { kind: "allow", schedule: "0 9 * * MON-THU", duration: "8h", durationMs: 8 * H, timeZone: "UTC", origin: "op" };
const allow2: DeletionWindow = { ...allow, schedule: "0 9 * * FRI" };

function operator(from: Partial<Policy>, to: Partial<Policy>) {
  const changes = diffPolicies({ operator: policy(from), scoped: [] }, { operator: policy(to), scoped: [] }, true);
  return changes.map((c) => [c.field, c.loosens]);
}

describe("diff: operator policy fields, and whether the change loosens", () => {
  it.each([
    { name: "suspend lifted", from: { suspend: { reason: "freeze", origin: "op" } }, to: {}, want: [["suspend", true]] },
    { name: "suspend added", from: {}, to: { suspend: { reason: "freeze", origin: "op" } }, want: [["suspend", false]] },
    { name: "suspend ending sooner", from: { suspend: { reason: "f", until: T + 10 * H, origin: "op" } }, to: { suspend: { reason: "f", until: T + H, origin: "op" } }, want: [["suspend", true]] },
    { name: "suspend given an end", from: { suspend: { reason: "f", origin: "op" } }, to: { suspend: { reason: "f", until: T, origin: "op" } }, want: [["suspend", true]] },
    { name: "suspend extended", from: { suspend: { reason: "f", until: T, origin: "op" } }, to: { suspend: { reason: "f", until: T + H, origin: "op" } }, want: [["suspend", false]] },
    { name: "requireApproval off", from: { requireApproval: true }, to: { requireApproval: false }, want: [["requireApproval", true]] },
    { name: "requireApproval on", from: { requireApproval: false }, to: { requireApproval: true }, want: [["requireApproval", false]] },
    { name: "maxDeletesPercent raised", from: { maxDeletesPercent: 10 }, to: { maxDeletesPercent: 100 }, want: [["maxDeletesPercent", true]] },
    { name: "maxDeletesPercent lowered", from: { maxDeletesPercent: 50 }, to: { maxDeletesPercent: 10 }, want: [["maxDeletesPercent", false]] },
    { name: "nearMissGuard off", from: { nearMissGuard: true }, to: { nearMissGuard: false }, want: [["nearMissGuard", true]] },
    { name: "a deny window removed", from: { windows: [deny] }, to: { windows: [] }, want: [["windows", true]] },
    { name: "a deny window shortened", from: { windows: [deny] }, to: { windows: [{ ...deny, duration: "16h", durationMs: 16 * H }] }, want: [["windows", true]] },
    { name: "a deny window added", from: { windows: [] }, to: { windows: [deny] }, want: [["windows", false]] },
    { name: "the only allow window removed (deletion any time)", from: { windows: [allow] }, to: { windows: [] }, want: [["windows", true]] },
    { name: "an allow window added beside one", from: { windows: [allow] }, to: { windows: [allow, allow2] }, want: [["windows", true]] },
    { name: "a first allow window (deletion only inside it)", from: { windows: [] }, to: { windows: [allow] }, want: [["windows", false]] },
    { name: "tag signing turned off (marks forgeable again)", from: { tagSigning: { secret: { fromEnv: "K" } } }, to: {}, want: [["tagSigning", true]] },
    { name: "tag signing turned on", from: {}, to: { tagSigning: { secret: { fromEnv: "K" } } }, want: [["tagSigning", false]] },
    { name: "tag signing key moved to a file (old marks restart their period)", from: { tagSigning: { secret: { fromEnv: "K" } } }, to: { tagSigning: { secret: { fromFile: "/k" } } }, want: [["tagSigning", false]] },
    { name: "unit ceiling raised (more may run, and bill)", from: { inference: { currency: "USD", allowRestart: false, maxInferenceUnits: 4 } }, to: { inference: { currency: "USD", allowRestart: false, maxInferenceUnits: 8 } }, want: [["inference.maxInferenceUnits", true]] },
    { name: "unit ceiling removed", from: { inference: { currency: "USD", allowRestart: false, maxInferenceUnits: 4 } }, to: { inference: { currency: "USD", allowRestart: false } }, want: [["inference.maxInferenceUnits", true]] },
    { name: "unit ceiling lowered", from: { inference: { currency: "USD", allowRestart: false, maxInferenceUnits: 8 } }, to: { inference: { currency: "USD", allowRestart: false, maxInferenceUnits: 4 } }, want: [["inference.maxInferenceUnits", false]] },
    { name: "starts per run raised", from: { inference: { currency: "USD", allowRestart: false, maxStartsPerRun: 1 } }, to: { inference: { currency: "USD", allowRestart: false, maxStartsPerRun: 5 } }, want: [["inference.maxStartsPerRun", true]] },
    { name: "restarts allowed (downtime)", from: { inference: { currency: "USD", allowRestart: false } }, to: { inference: { currency: "USD", allowRestart: true } }, want: [["inference.allowRestart", true]] },
    { name: "price changed (reported only)", from: { inference: { currency: "USD", allowRestart: false, unitPricePerHour: 4 } }, to: { inference: { currency: "USD", allowRestart: false, unitPricePerHour: 5 } }, want: [["inference.unitPricePerHour", false]] },
    { name: "archiving turned off (no undo)", from: { archive: { project: "a", outputConfig: { s3Bucket: "b" }, required: true, origin: "op" } }, to: {}, want: [["archive", true]] },
    { name: "archiving made optional", from: { archive: { project: "a", outputConfig: { s3Bucket: "b" }, required: true, origin: "op" } }, to: { archive: { project: "a", outputConfig: { s3Bucket: "b" }, required: false, origin: "op" } }, want: [["archive", true]] },
    { name: "archiving turned on", from: {}, to: { archive: { project: "a", outputConfig: { s3Bucket: "b" }, required: true, origin: "op" } }, want: [["archive", false]] },
    { name: "remindBefore changed (no deletion changes)", from: { remindBefore: "24h", remindBeforeMs: 24 * H }, to: { remindBefore: "1h", remindBeforeMs: H }, want: [["remindBefore", false]] },
  ])("$name", ({ from, to, want }) => {
    expect(operator(from as Partial<Policy>, to as Partial<Policy>)).toEqual(want);
  });

  // A new policy field that diff does not compare would be a loosening nobody sees in review.
  it("every policy field is compared", () => {
    const changed: Record<PolicyField, [Partial<Policy>, Partial<Policy>]> = {
      allowedAccounts: [{ allowedAccounts: ["111111111111"] }, { allowedAccounts: ["111111111111", "222222222222"] }],
      allowedRegions: [{ allowedRegions: ["us-east-1"] }, { allowedRegions: ["eu-west-1"] }],
      minAge: [{ minAgeMs: H, minAge: "1h" }, { minAgeMs: 2 * H, minAge: "2h" }],
      keepLatest: [{ keepLatest: 1 }, { keepLatest: 2 }],
      maxDeletesPerRun: [{ maxDeletesPerRun: 1 }, { maxDeletesPerRun: 2 }],
      allowEmpty: [{ allowEmpty: false }, { allowEmpty: true }],
      stopRunning: [{ stopRunning: false }, { stopRunning: true }],
      protectTags: [{ protectTags: [] }, { protectTags: [{ key: "k", value: "*", origin: "op" }] }],
      requireProjectTag: [{ requireProjectTag: [] }, { requireProjectTag: [{ key: "k", value: "*", origin: "op" }] }],
      gracePeriod: [{ gracePeriodMs: 0, gracePeriod: "0s" }, { gracePeriodMs: H, gracePeriod: "1h" }],
      rules: [{ rules: [] }, { rules: [{ name: "r", deny: "true", message: "m", origin: "op" } as unknown as Policy["rules"][number]] }],
      windows: [{ windows: [] }, { windows: [deny] }],
      maxDeletesPercent: [{ maxDeletesPercent: 50 }, { maxDeletesPercent: 60 }],
      requireApproval: [{ requireApproval: false }, { requireApproval: true }],
      suspend: [{}, { suspend: { reason: "r", origin: "op" } }],
      nearMissGuard: [{ nearMissGuard: true }, { nearMissGuard: false }],
      notifications: [{ notifications: [] }, { notifications: [{ name: "c", format: "json", events: ["marked"] } as unknown as Policy["notifications"][number]] }],
      remindBefore: [{ remindBefore: "24h", remindBeforeMs: 24 * H }, { remindBefore: "1h", remindBeforeMs: H }],
      requireNotice: [{ requireNotice: false }, { requireNotice: true }],
      inference: [{ inference: { currency: "USD", allowRestart: false, maxInferenceUnits: 4 } }, { inference: { currency: "USD", allowRestart: false, maxInferenceUnits: 8 } }],
      archive: [{}, { archive: { project: "a", outputConfig: { s3Bucket: "b" }, required: true, origin: "op" } }],
    };
    for (const [field, [from, to]] of Object.entries(changed)) {
      expect(operator(from, to).map(([f]) => String(f).split(".")[0]), field).toContain(field);
    }
  });
});

describe("diff: scoped layers and sets", () => {
  const scoped = (spec: ScopedPolicy["spec"]): ScopedPolicy => ({ name: "team", pos: { file: "m/team.yaml", line: 1, col: 1 }, projects: ["p1"], projectPos: [], spec, fieldPos: {} });
  it.each([
    { name: "a layer drops requireApproval", from: { requireApproval: true }, field: "requireApproval" },
    { name: "a layer drops maxDeletesPercent", from: { maxDeletesPercent: 10 }, field: "maxDeletesPercent" },
    { name: "a layer drops its suspension", from: { suspend: { reason: "r", origin: "team" } }, field: "suspend" },
    { name: "a layer drops its deny window", from: { windows: [deny] }, field: "windows" },
    { name: "a layer drops nearMissGuard: true", from: { nearMissGuard: true }, field: "nearMissGuard" },
  ])("$name: loosens", ({ from, field }) => {
    const changes = diffPolicies({ operator: policy(), scoped: [scoped(from as ScopedPolicy["spec"])] }, { operator: policy(), scoped: [scoped({})] }, false);
    expect(changes.map((c) => [c.field, c.loosens])).toEqual([[field, true]]);
  });

  it("a set's own suspension lifted loosens; added does not", () => {
    const on = { ...set("p1", ["a"]), suspend: { reason: "audit", origin: "set" } };
    const off = set("p1", ["a"]);
    expect(diffSetSuspensions(desired(on), desired(off)).map((c) => [c.field, c.loosens])).toEqual([["suspend", true]]);
    expect(diffSetSuspensions(desired(off), desired(on)).map((c) => [c.field, c.loosens])).toEqual([["suspend", false]]);
    expect(diffSetSuspensions(desired(on), desired(on))).toEqual([]);
  });
});

// ---- desired versions, per project (issue #21) ----

const ROLE_A = "arn:aws:iam::111111111111:role/rekon";
const ROLE_A2 = "arn:aws:iam::111111111111:role/other";
const ROLE_B = "arn:aws:iam::222222222222:role/rekon";

/** A set as the loader makes it: region "" = unknown (no spec.region, no default); `defaulted` = from the default. */
function S(name: string, versions: string[], o: { project?: string; region?: string; defaulted?: boolean; roleArn?: string; file?: string; suspend?: DesiredSet["suspend"] } = {}): DesiredSet {
  const pos = { file: o.file ?? "m/a.yaml", line: 3, col: 11 };
  return {
    name,
    pos,
    project: o.project ?? "p1",
    region: o.region ?? "us-east-1",
    ...(o.defaulted ? { regionDefaulted: true as const } : {}),
    ...(o.roleArn ? { roleArn: o.roleArn } : {}),
    versions: versions.map((v) => ({ name: v, pos })),
    ...(o.suspend ? { suspend: o.suspend } : {}),
  };
}

describe("diff: desired versions per project, whatever moved between sets, files, regions and roles", () => {
  const cases: { name: string; base: DesiredSet[]; head: DesiredSet[]; want: ProjectChange[] }[] = [
    { name: "nothing changed", base: [S("s1", ["v1", "v2"])], head: [S("s1", ["v1", "v2"])], want: [] },
    { name: "a version dropped, a version added", base: [S("s1", ["v1", "v2"])], head: [S("s1", ["v2", "v3"])], want: [{ project: "p1", region: "us-east-1", removed: ["v1"], added: ["v3"] }] },
    {
      name: "region written equal to the default",
      base: [S("s1", ["v1", "v2"], { defaulted: true })],
      head: [S("s1", ["v2"])],
      want: [{ project: "p1", region: "us-east-1", removed: ["v1"], added: [], moved: ["region us-east-1 now written (was the default region)"] }],
    },
    {
      name: "a written region dropped for the same default",
      base: [S("s1", ["v1", "v2"])],
      head: [S("s1", ["v2"], { defaulted: true })],
      want: [{ project: "p1", region: "us-east-1", removed: ["v1"], added: [], moved: ["region us-east-1 now the default region (was written)"] }],
    },
    {
      name: "no default known: a set without a region may be in any region",
      base: [S("s1", ["v1", "v2"], { region: "" })],
      head: [S("s1", ["v2"], { region: "eu-west-1" })],
      want: [{ project: "p1", region: "eu-west-1", removed: ["v1"], added: [], moved: ["region eu-west-1 now written (was the default region, unknown offline)"] }],
    },
    {
      name: "a role added (ambient may be the role's account)",
      base: [S("s1", ["v1", "v2"])],
      head: [S("s1", ["v2"], { roleArn: ROLE_A })],
      want: [{ project: "p1", region: "us-east-1", roleArn: ROLE_A, removed: ["v1"], added: [], moved: [`role ${ROLE_A} (was the ambient credentials)`] }],
    },
    {
      name: "a role dropped for the ambient credentials",
      base: [S("s1", ["v1", "v2"], { roleArn: ROLE_A })],
      head: [S("s1", ["v2"])],
      want: [{ project: "p1", region: "us-east-1", removed: ["v1"], added: [], moved: [`the ambient credentials (was role ${ROLE_A})`] }],
    },
    {
      name: "another role of the same account",
      base: [S("s1", ["v1", "v2"], { roleArn: ROLE_A })],
      head: [S("s1", ["v2"], { roleArn: ROLE_A2 })],
      want: [{ project: "p1", region: "us-east-1", roleArn: ROLE_A2, removed: ["v1"], added: [], moved: [`role ${ROLE_A2} (was ${ROLE_A})`] }],
    },
    {
      name: "a role of another account: a different project; the old one stops being managed, its dropped names still named",
      base: [S("s1", ["v1", "v2"], { roleArn: ROLE_A })],
      head: [S("s1", ["v2"], { roleArn: ROLE_B })],
      want: [
        { project: "p1", region: "us-east-1", roleArn: ROLE_A, removed: [], added: [], set: "removed", unlisted: ["v1"] },
        { project: "p1", region: "us-east-1", roleArn: ROLE_B, removed: [], added: ["v2"], set: "added" },
      ],
    },
    {
      name: "another written region: a different project",
      base: [S("s1", ["v1", "v2"])],
      head: [S("s1", ["v2"], { region: "eu-west-1" })],
      want: [
        { project: "p1", region: "eu-west-1", removed: [], added: ["v2"], set: "added" },
        { project: "p1", region: "us-east-1", removed: [], added: [], set: "removed", unlisted: ["v1"] },
      ],
    },
    {
      name: "moved between files and renamed, region written, all at once",
      base: [S("s1", ["v1", "v2"], { defaulted: true })],
      head: [S("p1-models", ["v2", "v3"], { file: "m/team/b.yml" })],
      want: [{ project: "p1", region: "us-east-1", removed: ["v1"], added: ["v3"], moved: ['set "s1" → "p1-models"', "file m/a.yaml → m/team/b.yml", "region us-east-1 now written (was the default region)"] }],
    },
    {
      name: "a file renamed, nothing else: reported as a move, no version changes",
      base: [S("s1", ["v1"])],
      head: [S("s1", ["v1"], { file: "m/b.yaml" })],
      want: [{ project: "p1", region: "us-east-1", removed: [], added: [], moved: ["file m/a.yaml → m/b.yaml"] }],
    },
    {
      name: "two base sets merged into one that may be either: every name it drops is named",
      base: [S("east", ["a", "b"]), S("west", ["c"], { region: "eu-west-1", file: "m/w.yaml" })],
      head: [S("any", ["a"], { region: "" })],
      want: [{ project: "p1", region: "(default region)", removed: ["b", "c"], added: [], moved: ['takes over from the sets "east" (m/a.yaml), "west" (m/w.yaml)'] }],
    },
    {
      name: "a version moved from one region's set to another's: removed from the first",
      base: [S("east", ["a", "b"]), S("west", ["c"], { region: "eu-west-1" })],
      head: [S("east", ["a"]), S("west", ["c", "b"], { region: "eu-west-1" })],
      want: [
        { project: "p1", region: "eu-west-1", removed: [], added: ["b"] },
        { project: "p1", region: "us-east-1", removed: ["b"], added: [] },
      ],
    },
    {
      name: "a set removed: nothing deleted, every name it listed named",
      base: [S("s1", ["v1", "v2"]), S("s2", ["x"], { project: "p2" })],
      head: [S("s2", ["x"], { project: "p2" })],
      want: [{ project: "p1", region: "us-east-1", removed: [], added: [], set: "removed", unlisted: ["v1", "v2"] }],
    },
    {
      name: "a project renamed: the old one stops being managed",
      base: [S("s1", ["v1"])],
      head: [S("s1", ["v1"], { project: "p9" })],
      want: [
        { project: "p1", region: "us-east-1", removed: [], added: [], set: "removed", unlisted: ["v1"] },
        { project: "p9", region: "us-east-1", removed: [], added: ["v1"], set: "added" },
      ],
    },
  ];
  it.each(cases)("$name", ({ base, head, want }) => {
    expect(diffDesired(desired(...base), desired(...head))).toEqual(want);
  });

  // Whatever moved, a version no set of its project lists any more is named: removed (a deletion candidate)
  // or unlisted (its set is gone, so rekon stops managing the project).
  it("a name no set of its project lists any more always appears in the output", () => {
    const setArb = fc.record({
      project: fc.constantFrom("p1", "p2"),
      region: fc.constantFrom("", "us-east-1", "eu-west-1"),
      defaulted: fc.boolean(),
      roleArn: fc.constantFrom(undefined, ROLE_A, ROLE_A2, ROLE_B),
      file: fc.constantFrom("m/a.yaml", "m/b.yaml"),
      versions: fc.uniqueArray(fc.constantFrom("v1", "v2", "v3", "v4"), { maxLength: 4 }),
    });
    const toSets = (xs: { project: string; region: string; defaulted: boolean; roleArn: string | undefined; file: string; versions: string[] }[]) =>
      xs.map((x, i) => S(`s${i}`, x.versions, { project: x.project, region: x.region, defaulted: x.defaulted && x.region !== "", file: x.file, ...(x.roleArn ? { roleArn: x.roleArn } : {}) }));
    fc.assert(
      fc.property(fc.array(setArb, { maxLength: 4 }), fc.array(setArb, { maxLength: 4 }), (b, h) => {
        const base = toSets(b);
        const head = toSets(h);
        const out = diffDesired(desired(...base), desired(...head));
        for (const bs of base) {
          for (const { name: v } of bs.versions) {
            if (head.some((hs) => hs.project === bs.project && hs.versions.some((x) => x.name === v))) continue;
            expect(out.some((c) => c.project === bs.project && (c.removed.includes(v) || c.unlisted?.includes(v)))).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("a set's suspension lifted while the set moved (region written, role added) still loosens", () => {
    const on = S("s1", ["a"], { defaulted: true, suspend: { reason: "audit", origin: "set" } });
    const moved = S("s1", ["a"], { roleArn: ROLE_A, file: "m/b.yaml" });
    expect(diffSetSuspensions(desired(on), desired(moved)).map((c) => [c.layer, c.field, c.loosens])).toEqual([['ProjectVersionSet "s1" (m/b.yaml:3:11)', "suspend", true]]);
    // A role of another account is another project: the suspended one stops being managed (nothing is deleted).
    const onA = S("s1", ["a"], { roleArn: ROLE_A, suspend: { reason: "audit", origin: "set" } });
    expect(diffSetSuspensions(desired(onA), desired(S("s1", ["a"], { roleArn: ROLE_B, file: "m/b.yaml" })))).toEqual([]);
    expect(diffSetSuspensions(desired(onA), desired(S("s1", ["a"], { roleArn: ROLE_A2 }))).map((c) => c.loosens)).toEqual([true]);
  });
});
