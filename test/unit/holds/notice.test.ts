// The requireNotice hold alone (reconciler/gate/holds/notice.ts): no notice, no deletion. Counted from when
// a channel accepted the `marked` notice of this very mark: a notice tag earlier than the mark is of another
// mark, and one that is malformed, in the future, or (under tag signing) does not verify counts as none.
import { describe, expect, it } from "vitest";
import { notice } from "../../../reconciler/gate/holds/notice.js";
import { MARK_TAG, NOTICE_TAG } from "../../../reconciler/policy/guards.js";
import type { NoticeStatus, Policy } from "../../../reconciler/types.js";
import { channel, expectLines, H, iso, OLD, OPERATOR, OTHER_SIGNER, runHold, SIGNER, T0, type Line } from "../../helpers/holds.js";

const ON: Partial<Policy> = {
  gracePeriodMs: 72 * H,
  gracePeriod: "72h",
  requireNotice: true,
  notifications: [channel(["marked"])],
  origin: { gracePeriod: "G", requireNotice: "N" },
};
const tags = (markAt?: number, noticeAt?: number | string) => ({
  ...(markAt !== undefined ? { [MARK_TAG]: iso(markAt) } : {}),
  ...(noticeAt !== undefined ? { [NOTICE_TAG]: typeof noticeAt === "string" ? noticeAt : iso(noticeAt) } : {}),
});
const signed = (key: string, ms: number, s = SIGNER, arn = OLD.arn) => s.sign(arn, key, iso(ms));
const PASS = `its \`marked\` notice reached a channel 72h ago or more (${NOTICE_TAG})`;
const PENDING = `its \`marked\` notice has not reached a channel yet; apply sends it, records ${NOTICE_TAG} when a channel accepts it, and it is deletable 72h after that`;
const NOT_OF_MARK = (v: string) =>
  `its \`marked\` notice has not reached a channel yet (${NOTICE_TAG}=${JSON.stringify(v)} is not an RFC 3339 UTC time at or after the mark)`;

interface Case {
  name: string;
  pol?: Partial<Policy>;
  tags?: Record<string, string>;
  now?: number;
  signed?: boolean;
  want: Line[];
  notice?: NoticeStatus;
  deletableAt?: string;
}

const cases: Case[] = [
  // Off.
  { name: "requireNotice off, nothing marked: passes, no notice", pol: {}, want: [["pass", "noticeNotDelivered", "requireNotice off"]] },
  {
    name: "requireNotice off with channels, nothing marked: no notice to speak of",
    pol: { notifications: [channel(["marked"])] },
    want: [["pass", "noticeNotDelivered", "requireNotice off"]],
  },
  {
    name: "requireNotice off, a grace period and channels: the notice is not required",
    pol: { gracePeriodMs: 72 * H, gracePeriod: "72h", notifications: [channel(["marked"])] },
    tags: tags(T0 - H),
    want: [["pass", "noticeNotDelivered", "requireNotice off"]],
    notice: "notRequired",
    deletableAt: iso(T0 + 71 * H),
  },
  {
    name: "requireNotice off, a grace period and no channel: nothing to say of a notice",
    pol: { gracePeriodMs: 72 * H, gracePeriod: "72h" },
    tags: tags(T0 - 100 * H),
    want: [["pass", "noticeNotDelivered", "requireNotice off"]],
  },
  // Not delivered.
  {
    name: "not marked yet: held until its notice goes out, no deletable time",
    tags: {},
    want: [["hold", "noticeNotDelivered", `once marked, ${PENDING}`, "N"]],
    notice: "pending",
  },
  { name: "marked, no notice tag: held, pending", tags: tags(T0 - 100 * H), want: [["hold", "noticeNotDelivered", PENDING, "N"]], notice: "pending" },
  {
    name: "a notice one second before the mark is of another mark: held",
    tags: tags(T0 - 100 * H, T0 - 100 * H - 1000),
    want: [["hold", "noticeNotDelivered", NOT_OF_MARK(iso(T0 - 100 * H - 1000)), "N"]],
    notice: "pending",
  },
  {
    name: "a notice one ms before the mark: held",
    tags: tags(T0 - 100 * H, T0 - 100 * H - 1),
    want: [["hold", "noticeNotDelivered", NOT_OF_MARK(iso(T0 - 100 * H - 1)), "N"]],
    notice: "pending",
  },
  { name: "a malformed notice: held", tags: tags(T0 - 100 * H, "soon"), want: [["hold", "noticeNotDelivered", NOT_OF_MARK("soon"), "N"]], notice: "pending" },
  {
    name: "a notice with an offset (not UTC): held",
    tags: tags(T0 - 100 * H, "2026-11-20T12:00:00+00:00"),
    want: [["hold", "noticeNotDelivered", NOT_OF_MARK("2026-11-20T12:00:00+00:00"), "N"]],
    notice: "pending",
  },
  {
    name: "a notice more than five minutes in the future: held",
    tags: tags(T0 - 100 * H, T0 + 5 * 60_000 + 1),
    want: [["hold", "noticeNotDelivered", NOT_OF_MARK(iso(T0 + 5 * 60_000 + 1)), "N"]],
    notice: "pending",
  },
  {
    name: "a notice tag but no mark: the notice is of no mark",
    tags: { [NOTICE_TAG]: iso(T0 - 100 * H) },
    want: [["hold", "noticeNotDelivered", `once marked, ${PENDING}`, "N"]],
    notice: "pending",
  },
  // Delivered: the period counts from the notice.
  {
    name: "noticed at the mark, exactly gracePeriod ago: passes",
    tags: tags(T0 - 72 * H, T0 - 72 * H),
    want: [["pass", "noticeNotDelivered", PASS, "N"]],
    notice: "delivered",
  },
  {
    name: "noticed one ms short of gracePeriod ago: held, deletable at that ms",
    tags: tags(T0 - 100 * H, T0 - 72 * H + 1),
    want: [
      [
        "hold",
        "noticeNotDelivered",
        `reached a channel at ${iso(T0 - 72 * H + 1)}, less than gracePeriod 72h ago; deletable after ${iso(T0 + 1)} (0s to go)`,
        "N",
      ],
    ],
    notice: "delivered",
    deletableAt: iso(T0 + 1),
  },
  {
    name: "marked long ago, noticed an hour ago: held from the notice, not the mark",
    tags: tags(T0 - 1000 * H, T0 - H),
    want: [["hold", "noticeNotDelivered", `deletable after ${iso(T0 + 71 * H)} (2d23h to go)`, "N"]],
    notice: "delivered",
    deletableAt: iso(T0 + 71 * H),
  },
  {
    name: "the later of the mark's and the notice's deletable times wins",
    tags: tags(T0 - 10 * H, T0 - 9 * H),
    want: [["hold", "noticeNotDelivered", `deletable after ${iso(T0 + 63 * H)}`, "N"]],
    notice: "delivered",
    deletableAt: iso(T0 + 63 * H),
  },
  {
    name: "no grace period: a delivered notice suffices at once",
    pol: { ...ON, gracePeriodMs: 0, gracePeriod: "0s" },
    tags: tags(T0 - 1000, T0),
    want: [["pass", "noticeNotDelivered", "reached a channel 0s ago or more", "N"]],
    notice: "delivered",
  },
  // Tag signing on.
  {
    name: "signing: a signed notice a period old after a signed mark passes",
    signed: true,
    tags: { [MARK_TAG]: signed(MARK_TAG, T0 - 100 * H), [NOTICE_TAG]: signed(NOTICE_TAG, T0 - 72 * H) },
    want: [["pass", "noticeNotDelivered", PASS, "N"]],
    notice: "delivered",
  },
  {
    name: "signing: an unsigned notice counts as none",
    signed: true,
    tags: { [MARK_TAG]: signed(MARK_TAG, T0 - 100 * H), [NOTICE_TAG]: iso(T0 - 90 * H) },
    want: [
      [
        "hold",
        "markUnsigned",
        `its notice tag "${iso(T0 - 90 * H)}" carries no signature, so under tagSigning it counts as none; apply sends the notice again`,
        OPERATOR,
      ],
      ["hold", "noticeNotDelivered", PENDING, "N"],
    ],
    notice: "pending",
  },
  {
    name: "signing: a notice signed with another key is forged",
    signed: true,
    tags: { [MARK_TAG]: signed(MARK_TAG, T0 - 100 * H), [NOTICE_TAG]: signed(NOTICE_TAG, T0 - 90 * H, OTHER_SIGNER) },
    want: [
      ["hold", "markForged", "its notice tag", OPERATOR],
      ["hold", "noticeNotDelivered", PENDING, "N"],
    ],
    notice: "pending",
  },
  {
    name: "signing: the mark's signature copied to the notice tag is forged",
    signed: true,
    tags: { [MARK_TAG]: signed(MARK_TAG, T0 - 100 * H), [NOTICE_TAG]: signed(MARK_TAG, T0 - 100 * H) },
    want: [
      ["hold", "markForged", "has a signature that does not verify", OPERATOR],
      ["hold", "noticeNotDelivered", PENDING, "N"],
    ],
    notice: "pending",
  },
  {
    name: "signing: an unsigned notice of an unsigned mark: the mark's trouble is the grace hold's; no notice of no mark",
    signed: true,
    tags: tags(T0 - 100 * H, T0 - 90 * H),
    want: [["hold", "noticeNotDelivered", `once marked, ${PENDING}`, "N"]],
    notice: "pending",
  },
];

describe("hold: noticeNotDelivered (requireNotice)", () => {
  it.each(cases)("$name", (c) => {
    const o = runHold(notice, {
      policy: c.pol ?? ON,
      ...(c.tags ? { tags: c.tags } : {}),
      ...(c.now !== undefined ? { now: c.now } : {}),
      signed: c.signed ?? false,
    });
    expectLines(o, c.want);
    expect(o.state.notice).toBe(c.notice);
    expect(o.state.deletableAt).toBe(c.deletableAt);
    expect(o.verdict.notice).toBe(c.notice);
  });
});
