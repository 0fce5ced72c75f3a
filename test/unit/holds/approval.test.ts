// The requireApproval hold alone (reconciler/gate/holds/approval.ts): a person's approval, an RFC 3339 UTC
// time strictly later than the mark, before a marked version goes. An approval given before (or at) the
// mark is of an earlier mark; a malformed or far-future one counts as none. Approvals are a person's, so
// they are not signed; under tag signing it is the mark they count from that must verify.
import { describe, expect, it } from "vitest";
import { approval } from "../../../reconciler/gate/holds/approval.js";
import { APPROVAL_TAG, MARK_TAG } from "../../../reconciler/policy/guards.js";
import type { Policy } from "../../../reconciler/types.js";
import { expectLines, H, iso, OLD, runHold, SIGNER, T0, type Line } from "../../helpers/holds.js";

const ON: Partial<Policy> = { requireApproval: true, origin: { requireApproval: "A" } };
const MARKED = T0 - 100 * H;
const tags = (markAt: number | string | undefined, approvedAt?: number | string) => ({
  ...(markAt !== undefined ? { [MARK_TAG]: typeof markAt === "string" ? markAt : iso(markAt) } : {}),
  ...(approvedAt !== undefined ? { [APPROVAL_TAG]: typeof approvedAt === "string" ? approvedAt : iso(approvedAt) } : {}),
});
const PASS = `approved after its mark (${APPROVAL_TAG})`;
const UNMARKED = `needs a person's approval: once apply has marked it, tag it ${APPROVAL_TAG}=<RFC 3339 UTC time after the mark>`;
const NEEDS = (since: number) => `needs a person's approval: tag ${APPROVAL_TAG}=<RFC 3339 UTC time after ${iso(since)}>`;
const SEEN = (v: string, why: "not an RFC 3339 UTC time" | "not later than the mark") => `${NEEDS(MARKED)} (${APPROVAL_TAG}=${JSON.stringify(v)} is ${why})`;

interface Case {
  name: string;
  pol?: Partial<Policy>;
  tags: Record<string, string>;
  signed?: boolean;
  want: Line[];
}

const cases: Case[] = [
  { name: "requireApproval off: passes, whatever the tags", pol: {}, tags: tags(undefined, "no"), want: [["pass", "approvalRequired", "requireApproval off"]] },
  {
    name: "requireApproval off with a grace period: passes",
    pol: { gracePeriodMs: H, gracePeriod: "1h" },
    tags: tags(MARKED),
    want: [["pass", "approvalRequired", "requireApproval off"]],
  },
  { name: "not marked yet: held until marked and approved", tags: {}, want: [["hold", "approvalRequired", UNMARKED, "A"]] },
  {
    name: "an approval without a mark: held (there is no mark to approve)",
    tags: tags(undefined, T0 - H),
    want: [["hold", "approvalRequired", UNMARKED, "A"]],
  },
  {
    name: "a malformed mark and an approval: the mark counts as none, held",
    tags: tags("last week", T0 - H),
    want: [["hold", "approvalRequired", UNMARKED, "A"]],
  },
  { name: "marked, not approved: held, naming the mark's time", tags: tags(MARKED), want: [["hold", "approvalRequired", NEEDS(MARKED), "A"]] },
  // The approval's edges against the mark.
  { name: "approved one ms after the mark: passes", tags: tags(MARKED, MARKED + 1), want: [["pass", "approvalRequired", PASS, "A"]] },
  { name: "approved long after the mark: passes", tags: tags(MARKED, T0 - H), want: [["pass", "approvalRequired", PASS, "A"]] },
  {
    name: "approved at the very time of the mark: held (not later)",
    tags: tags(MARKED, MARKED),
    want: [["hold", "approvalRequired", SEEN(iso(MARKED), "not later than the mark"), "A"]],
  },
  {
    name: "approved one ms before the mark (an earlier mark's approval): held",
    tags: tags(MARKED, MARKED - 1),
    want: [["hold", "approvalRequired", SEEN(iso(MARKED - 1), "not later than the mark"), "A"]],
  },
  {
    name: "approved a day before the mark: held",
    tags: tags(MARKED, MARKED - 24 * H),
    want: [["hold", "approvalRequired", SEEN(iso(MARKED - 24 * H), "not later than the mark"), "A"]],
  },
  // Malformed approvals.
  ...[["yes"], [""], ["2026-11-28"], ["2026-11-28T11:00:00+01:00"], ["2026-02-29T00:00:00Z"], [`${iso(T0)} `]].map(([v]): Case => ({
    name: `approval ${JSON.stringify(v)}: not a time, held`,
    tags: tags(MARKED, v),
    want: [["hold", "approvalRequired", SEEN(v!, "not an RFC 3339 UTC time"), "A"]],
  })),
  // In the future: within the clock slack it counts, beyond it not.
  { name: "approved five minutes ahead (the clock slack): passes", tags: tags(MARKED, T0 + 5 * 60_000), want: [["pass", "approvalRequired", PASS, "A"]] },
  {
    name: "approved more than five minutes ahead: counts as none, held",
    tags: tags(MARKED, T0 + 5 * 60_000 + 1),
    want: [["hold", "approvalRequired", SEEN(iso(T0 + 5 * 60_000 + 1), "not an RFC 3339 UTC time"), "A"]],
  },
  {
    name: "with a grace period still running, an approval after the mark passes this hold",
    pol: { ...ON, gracePeriodMs: 72 * H, gracePeriod: "72h" },
    tags: tags(T0 - H, T0 - 1000),
    want: [["pass", "approvalRequired", PASS, "A"]],
  },
  // Tag signing on: the mark must verify; the approval is a person's and is not signed.
  {
    name: "signing: a signed mark and a plain approval after it: passes",
    signed: true,
    tags: { [MARK_TAG]: SIGNER.sign(OLD.arn, MARK_TAG, iso(MARKED)), [APPROVAL_TAG]: iso(MARKED + 1000) },
    want: [["pass", "approvalRequired", PASS, "A"]],
  },
  {
    name: "signing: an unsigned mark counts as none, so an approval of it is of no mark: held",
    signed: true,
    tags: tags(MARKED, MARKED + 1000),
    want: [["hold", "approvalRequired", UNMARKED, "A"]],
  },
  {
    name: "signing: an approval in the signed form is no time (approvals are a person's, plain): held",
    signed: true,
    tags: { [MARK_TAG]: SIGNER.sign(OLD.arn, MARK_TAG, iso(MARKED)), [APPROVAL_TAG]: SIGNER.sign(OLD.arn, APPROVAL_TAG, iso(MARKED - 1000)) },
    want: [["hold", "approvalRequired", "is not an RFC 3339 UTC time", "A"]],
  },
];

describe("hold: approvalRequired (requireApproval)", () => {
  it.each(cases)("$name", (c) => {
    const o = runHold(approval, { policy: c.pol ?? ON, tags: c.tags, signed: c.signed ?? false });
    expectLines(o, c.want);
  });
});
