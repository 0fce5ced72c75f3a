// The grace-period hold alone (reconciler/gate/holds/grace.ts): given a version's mark, the policy and now,
// whether it holds, why, in which layer, whether apply marks it, and when it becomes deletable. A mark that
// is not a strict RFC 3339 UTC time rekon could have written (or, under tag signing, does not verify)
// counts as none, so the period starts again: that is what keeps a hand-written mark from skipping it.
import { describe, expect, it } from "vitest";
import { grace } from "../../../reconciler/gate/holds/grace.js";
import { APPROVAL_TAG, MARK_TAG } from "../../../reconciler/policy/guards.js";
import type { Policy } from "../../../reconciler/types.js";
import { expectLines, H, iso, OLD, OPERATOR, OTHER_SIGNER, runHold, SIGNER, T0, type Line } from "../../helpers/holds.js";

const G72: Partial<Policy> = { gracePeriodMs: 72 * H, gracePeriod: "72h", origin: { gracePeriod: "G" } };
const mark = (ms: number) => ({ [MARK_TAG]: iso(ms) });
const signedMark = (ms: number) => ({ [MARK_TAG]: SIGNER.sign(OLD.arn, MARK_TAG, iso(ms)) });
const ADD = `apply marks it pending deletion (${MARK_TAG}); deletable after ${iso(T0 + 72 * H)} (gracePeriod 72h)`;
const COUNTS_AS_NONE = "is not an RFC 3339 UTC time rekon wrote, so it counts as none; ";

interface Case {
  name: string;
  pol?: Partial<Policy>;
  tags?: Record<string, string>;
  now?: number;
  signed?: boolean;
  want: Line[];
  mark?: "add";
  deletableAt?: string;
}

const cases: Case[] = [
  // Off.
  { name: "no grace period, approval or notice: nothing to mark", pol: {}, want: [["pass", "gracePeriod", "no grace period"]] },
  {
    name: "no grace period but requireApproval: marked (the approval counts from the mark), not held",
    pol: { requireApproval: true, origin: { requireApproval: "A" } },
    want: [["pass", "gracePeriod", "no grace period"]],
    mark: "add",
  },
  {
    name: "no grace period but requireNotice: marked (the notice is of the mark), not held",
    pol: { requireNotice: true },
    want: [["pass", "gracePeriod", "no grace period"]],
    mark: "add",
  },
  // No mark yet.
  {
    name: "unmarked: apply marks it, deletable a full period from now",
    pol: G72,
    want: [["hold", "gracePeriod", ADD, "G"]],
    mark: "add",
    deletableAt: iso(T0 + 72 * H),
  },
  {
    name: "unmarked under requireNotice: deletable a period after the notice, so no time yet",
    pol: { ...G72, requireNotice: true },
    want: [["hold", "gracePeriod", "deletable 72h after its notice reaches a channel (requireNotice) (gracePeriod 72h)", "G"]],
    mark: "add",
  },
  // The period's edges.
  {
    name: "marked exactly gracePeriod ago: passes",
    pol: G72,
    tags: mark(T0 - 72 * H),
    want: [["pass", "gracePeriod", `marked ${iso(T0 - 72 * H)}, 72h ago or more`, "G"]],
  },
  {
    name: "marked longer ago: passes",
    pol: G72,
    tags: mark(T0 - 1000 * H),
    want: [["pass", "gracePeriod", `marked ${iso(T0 - 1000 * H)}, 72h ago or more`, "G"]],
  },
  {
    name: "one ms before the period ends: held, deletable at that ms",
    pol: G72,
    tags: mark(T0 - 72 * H),
    now: T0 - 1,
    want: [["hold", "gracePeriod", `marked pending deletion at ${iso(T0 - 72 * H)}; deletable after ${iso(T0)} (gracePeriod 72h, 0s to go)`, "G"]],
    deletableAt: iso(T0),
  },
  {
    name: "a mark with milliseconds, one ms short of the period: held",
    pol: G72,
    tags: { [MARK_TAG]: "2026-11-25T12:00:00.001Z" },
    want: [["hold", "gracePeriod", `deletable after ${iso(T0 + 1)}`, "G"]],
    deletableAt: iso(T0 + 1),
  },
  {
    name: "marked an hour ago: held, with the time to go",
    pol: G72,
    tags: mark(T0 - H),
    want: [["hold", "gracePeriod", `deletable after ${iso(T0 + 71 * H)} (gracePeriod 72h, 2d23h to go)`, "G"]],
    deletableAt: iso(T0 + 71 * H),
  },
  // A mark in the future: a clock or a hand was wrong.
  {
    name: "a mark five minutes ahead (the clock slack): believed, held a full period from it",
    pol: G72,
    tags: mark(T0 + 5 * 60_000),
    want: [["hold", "gracePeriod", `marked pending deletion at ${iso(T0 + 5 * 60_000)}`, "G"]],
    deletableAt: iso(T0 + 5 * 60_000 + 72 * H),
  },
  {
    name: "a mark more than five minutes ahead: counts as none, marked again",
    pol: G72,
    tags: mark(T0 + 5 * 60_000 + 1),
    want: [["hold", "gracePeriod", `its mark "${iso(T0 + 5 * 60_000 + 1)}" ${COUNTS_AS_NONE}${ADD}`, "G"]],
    mark: "add",
    deletableAt: iso(T0 + 72 * H),
  },
  // Malformed marks count as none (a lenient parse would let a hand-written value skip the period).
  ...[
    ["a date alone", "2026-01-01"],
    ["a year", "2025"],
    ["words", "long ago"],
    ["an offset, not UTC", "2026-01-01T00:00:00+01:00"],
    ["a date that does not exist", "2026-02-30T00:00:00Z"],
    ["hour 24", "2026-01-01T24:00:00Z"],
    ["empty", ""],
    ["a signed value, with signing off", `${iso(T0 - 100 * H)} hmac1:${"A".repeat(43)}`],
  ].map(([what, value]): Case => ({
    name: `a malformed mark (${what}): counts as none, marked again`,
    pol: G72,
    tags: { [MARK_TAG]: value! },
    want: [["hold", "gracePeriod", `its mark ${JSON.stringify(value)} ${COUNTS_AS_NONE}${ADD}`, "G"]],
    mark: "add",
    deletableAt: iso(T0 + 72 * H),
  })),
  {
    name: "a malformed mark with no grace period but requireApproval: held for approval, marked again",
    pol: { requireApproval: true, origin: { requireApproval: "A" } },
    tags: { [MARK_TAG]: "yesterday" },
    want: [["hold", "approvalRequired", `its mark "yesterday" ${COUNTS_AS_NONE}apply marks it again`, "A"]],
    mark: "add",
  },
  {
    name: "an approval tag does not stand in for a mark",
    pol: G72,
    tags: { [APPROVAL_TAG]: iso(T0 - 100 * H) },
    want: [["hold", "gracePeriod", ADD, "G"]],
    mark: "add",
    deletableAt: iso(T0 + 72 * H),
  },
  // Tag signing on: only a mark that verifies counts.
  {
    name: "signing: a signed mark a period old passes",
    pol: G72,
    signed: true,
    tags: signedMark(T0 - 72 * H),
    want: [["pass", "gracePeriod", "72h ago or more", "G"]],
  },
  {
    name: "signing: a signed mark an hour old holds",
    pol: G72,
    signed: true,
    tags: signedMark(T0 - H),
    want: [["hold", "gracePeriod", `marked pending deletion at ${iso(T0 - H)}`, "G"]],
    deletableAt: iso(T0 + 71 * H),
  },
  {
    name: "signing: an unsigned mark, however old, counts as none",
    pol: G72,
    signed: true,
    tags: mark(T0 - 1000 * H),
    want: [
      [
        "hold",
        "markUnsigned",
        `its mark "${iso(T0 - 1000 * H)}" carries no signature, so under tagSigning it counts as none; apply writes a signed mark`,
        OPERATOR,
      ],
      ["hold", "gracePeriod", `${ADD}`, "G"],
    ],
    mark: "add",
    deletableAt: iso(T0 + 72 * H),
  },
  ...[
    ["another key's (rotated)", OTHER_SIGNER.sign(OLD.arn, MARK_TAG, iso(T0 - 100 * H))],
    ["another version's", SIGNER.sign(`${OLD.arn}0`, MARK_TAG, iso(T0 - 100 * H))],
    ["another tag's", SIGNER.sign(OLD.arn, APPROVAL_TAG, iso(T0 - 100 * H))],
    ["a backdated time under a signature", SIGNER.sign(OLD.arn, MARK_TAG, iso(T0 - H)).replace(iso(T0 - H), iso(T0 - 100 * H))],
  ].map(([what, value]): Case => ({
    name: `signing: ${what} signature is forged, the mark counts as none`,
    pol: G72,
    signed: true,
    tags: { [MARK_TAG]: value! },
    want: [
      ["hold", "markForged", `its mark ${JSON.stringify(value)} has a signature that does not verify`, OPERATOR],
      ["hold", "gracePeriod", ADD, "G"],
    ],
    mark: "add",
    deletableAt: iso(T0 + 72 * H),
  })),
  {
    name: "signing: a signed value that is not a time counts as none",
    pol: G72,
    signed: true,
    tags: { [MARK_TAG]: SIGNER.sign(OLD.arn, MARK_TAG, "yesterday") },
    want: [["hold", "gracePeriod", `its mark ${JSON.stringify(SIGNER.sign(OLD.arn, MARK_TAG, "yesterday"))} ${COUNTS_AS_NONE}`, "G"]],
    mark: "add",
    deletableAt: iso(T0 + 72 * H),
  },
  {
    name: "signing: an unsigned mark with no grace period (requireApproval) still says so",
    pol: { requireApproval: true },
    signed: true,
    tags: mark(T0 - H),
    want: [["hold", "markUnsigned", "carries no signature", OPERATOR]],
    mark: "add",
  },
];

describe("hold: gracePeriod", () => {
  it.each(cases)("$name", (c) => {
    const o = runHold(grace, {
      policy: c.pol ?? G72,
      ...(c.tags ? { tags: c.tags } : {}),
      ...(c.now !== undefined ? { now: c.now } : {}),
      signed: c.signed ?? false,
    });
    expectLines(o, c.want);
    expect(o.state.mark).toBe(c.mark);
    expect(o.state.deletableAt).toBe(c.deletableAt);
    // The mark the hold asks for is the one the verdict carries (no later hold removes it here).
    expect(o.verdict.mark).toBe(c.mark);
  });
});
