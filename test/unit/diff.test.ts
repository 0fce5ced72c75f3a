// `rekon diff` is what a pull-request reviewer reads: every policy field a change can loosen must be
// compared, in the direction that matters (does the head allow a deletion the base did not?).
import { describe, expect, it } from "vitest";
import { diffPolicies, diffSetSuspensions } from "../../reconciler/diff.js";
import type { DeletionWindow, Policy, PolicyField, ScopedPolicy } from "../../reconciler/types.js";
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
