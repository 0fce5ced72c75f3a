// The reminder step alone (reconciler/gate/holds/reminder.ts): once per mark, when the version is within
// remindBefore of becoming deletable (with requireNotice, counted from the notice: no reminder of a deletion
// whose notice has not gone out). It never keeps a version and explain shows no line for it; what it
// decides is the verdict's `reminder`: due now, or sent already for this mark.
import { describe, expect, it } from "vitest";
import { reminder } from "../../../reconciler/gate/holds/reminder.js";
import { MARK_TAG, NOTICE_TAG, REMINDER_TAG } from "../../../reconciler/policy/guards.js";
import type { Policy } from "../../../reconciler/types.js";
import { channel, H, iso, OLD, OTHER_SIGNER, runHold, SIGNER, T0 } from "../../helpers/holds.js";

/** gracePeriod 72h, remind 24h before: due from 48h after the mark until 72h after it. */
const ON: Partial<Policy> = {
  gracePeriodMs: 72 * H,
  gracePeriod: "72h",
  remindBeforeMs: 24 * H,
  remindBefore: "24h",
  notifications: [channel(["marked", "reminder"])],
};
const NOTICE: Partial<Policy> = { ...ON, requireNotice: true };
const t = (o: { mark?: number | string; notice?: number; reminder?: number | string }) => ({
  ...(o.mark !== undefined ? { [MARK_TAG]: typeof o.mark === "string" ? o.mark : iso(o.mark) } : {}),
  ...(o.notice !== undefined ? { [NOTICE_TAG]: iso(o.notice) } : {}),
  ...(o.reminder !== undefined ? { [REMINDER_TAG]: typeof o.reminder === "string" ? o.reminder : iso(o.reminder) } : {}),
});
const sign = (key: string, ms: number) => SIGNER.sign(OLD.arn, key, iso(ms));

interface Case {
  name: string;
  pol?: Partial<Policy>;
  tags: Record<string, string>;
  signed?: boolean;
  want: "due" | "sent" | undefined;
}

const cases: Case[] = [
  // Off, or nothing to remind of.
  { name: "no reminder channel: nothing", pol: { ...ON, notifications: [channel(["marked"])] }, tags: t({ mark: T0 - 60 * H }), want: undefined },
  { name: "remindBefore 0: nothing", pol: { ...ON, remindBeforeMs: 0, remindBefore: "0s" }, tags: t({ mark: T0 - 60 * H }), want: undefined },
  {
    name: "no grace, approval or notice (no mark): nothing",
    pol: { ...ON, gracePeriodMs: 0, gracePeriod: "0s" },
    tags: t({ mark: T0 - 60 * H }),
    want: undefined,
  },
  { name: "not marked yet: nothing", tags: {}, want: undefined },
  { name: "a malformed mark: nothing (it counts as none)", tags: t({ mark: "2026-11-25" }), want: undefined },
  // The due window's edges: [mark + grace - remindBefore, mark + grace).
  { name: "one ms before it is due: nothing yet", tags: t({ mark: T0 - 48 * H + 1 }), want: undefined },
  { name: "exactly remindBefore before deletable: due", tags: t({ mark: T0 - 48 * H }), want: "due" },
  { name: "one ms before deletable: due", tags: t({ mark: T0 - 72 * H + 1 }), want: "due" },
  { name: "exactly deletable: no longer due", tags: t({ mark: T0 - 72 * H }), want: undefined },
  { name: "long deletable: nothing", tags: t({ mark: T0 - 1000 * H }), want: undefined },
  // Sent once per mark.
  { name: "sent after the mark, in the window: sent", tags: t({ mark: T0 - 60 * H, reminder: T0 - H }), want: "sent" },
  { name: "sent at the very time of the mark: sent", tags: t({ mark: T0 - 60 * H, reminder: T0 - 60 * H }), want: "sent" },
  { name: "sent, the version since deletable: still sent", tags: t({ mark: T0 - 100 * H, reminder: T0 - 30 * H }), want: "sent" },
  { name: "sent for an earlier mark (one ms before this one): due again", tags: t({ mark: T0 - 60 * H, reminder: T0 - 60 * H - 1 }), want: "due" },
  { name: "a malformed reminder tag: due", tags: t({ mark: T0 - 60 * H, reminder: "done" }), want: "due" },
  { name: "a reminder tag in the far future: due", tags: t({ mark: T0 - 60 * H, reminder: T0 + H }), want: "due" },
  // requireNotice: counted from the notice.
  { name: "requireNotice, notice not delivered: no reminder, however old the mark", pol: NOTICE, tags: t({ mark: T0 - 60 * H }), want: undefined },
  { name: "requireNotice, noticed 50h ago: due", pol: NOTICE, tags: t({ mark: T0 - 100 * H, notice: T0 - 50 * H }), want: "due" },
  {
    name: "requireNotice, noticed one ms short of 48h ago: not yet (the mark's 100h do not count)",
    pol: NOTICE,
    tags: t({ mark: T0 - 100 * H, notice: T0 - 48 * H + 1 }),
    want: undefined,
  },
  { name: "requireNotice, noticed exactly gracePeriod ago: no longer due", pol: NOTICE, tags: t({ mark: T0 - 100 * H, notice: T0 - 72 * H }), want: undefined },
  // Tag signing on.
  { name: "signing: a signed mark in the window: due", signed: true, tags: { [MARK_TAG]: sign(MARK_TAG, T0 - 60 * H) }, want: "due" },
  { name: "signing: an unsigned mark counts as none: nothing", signed: true, tags: t({ mark: T0 - 60 * H }), want: undefined },
  {
    name: "signing: a signed reminder: sent",
    signed: true,
    tags: { [MARK_TAG]: sign(MARK_TAG, T0 - 60 * H), [REMINDER_TAG]: sign(REMINDER_TAG, T0 - H) },
    want: "sent",
  },
  {
    name: "signing: an unsigned reminder does not count: due",
    signed: true,
    tags: { [MARK_TAG]: sign(MARK_TAG, T0 - 60 * H), [REMINDER_TAG]: iso(T0 - H) },
    want: "due",
  },
  {
    name: "signing: a reminder signed with another key does not count: due",
    signed: true,
    tags: { [MARK_TAG]: sign(MARK_TAG, T0 - 60 * H), [REMINDER_TAG]: OTHER_SIGNER.sign(OLD.arn, REMINDER_TAG, iso(T0 - H)) },
    want: "due",
  },
];

describe("step: reminder (remindBefore)", () => {
  it.each(cases)("$name", (c) => {
    const o = runHold(reminder, { policy: c.pol ?? ON, tags: c.tags, signed: c.signed ?? false });
    // Never a reason, never a line: it only says whether a reminder is due.
    expect(o.reasons).toEqual([]);
    expect(o.silent).toBe(true);
    expect(o.lines).toEqual([]);
    expect(o.state.reminder).toBe(c.want);
    expect(o.verdict.reminder).toBe(c.want);
  });
});
