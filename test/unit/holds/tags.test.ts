// rekon's state tags as the holds believe them (reconciler/gate/holds/tags.ts): without tag signing a tag's
// value is its time; with it, only a value that verifies for this version and this tag key counts, and
// one that does not is `markUnsigned` (no signature) or `markForged` (a signature that does not verify),
// named in the operator's layer, while the hold that read it starts over. The grace and notice tables show
// these reasons in their findings; this table pins what each value reads as, and the reason's words.
import { describe, expect, it } from "vitest";
import { stateTag, troubleReason } from "../../../reconciler/gate/holds/tags.js";
import { MARK_TAG, NOTICE_TAG, REMINDER_TAG } from "../../../reconciler/policy/guards.js";
import type { TagTrouble } from "../../../reconciler/policy/marks.js";
import { factsFor, iso, OLD, OPERATOR, OTHER_SIGNER, SIGNER, T0 } from "../../helpers/holds.js";

const T = iso(T0 - 1000);
const sig = (key: string, time = T, s = SIGNER, arn = OLD.arn) => s.sign(arn, key, time);
/** The signature's first character changed (the last one's low bits are base64 padding, which may decode the same). */
const tamper = (v: string) => v.replace(/hmac1:(.)/, (_, c: string) => `hmac1:${c === "A" ? "B" : "A"}`);

interface ReadCase {
  name: string;
  signed: boolean;
  key: string;
  value: string | undefined;
  want: { time?: string; trouble?: TagTrouble };
}

const reads: ReadCase[] = [
  // Signing off: a value is its time, whatever it looks like (the hold then decides if it is one).
  { name: "off: absent is nothing", signed: false, key: MARK_TAG, value: undefined, want: {} },
  { name: "off: a plain time is that time", signed: false, key: MARK_TAG, value: T, want: { time: T } },
  { name: "off: a signed value is read whole (and is then no time)", signed: false, key: MARK_TAG, value: sig(MARK_TAG), want: { time: sig(MARK_TAG) } },
  { name: "off: words are read as they are", signed: false, key: NOTICE_TAG, value: "soon", want: { time: "soon" } },
  // Signing on.
  { name: "on: absent is nothing (not trouble)", signed: true, key: MARK_TAG, value: undefined, want: {} },
  ...[MARK_TAG, NOTICE_TAG, REMINDER_TAG].map((key): ReadCase => ({
    name: `on: ${key} signed for this version and key: its time`,
    signed: true,
    key,
    value: sig(key),
    want: { time: T },
  })),
  { name: "on: a plain time: unsigned", signed: true, key: MARK_TAG, value: T, want: { trouble: "unsigned" } },
  { name: "on: empty: unsigned", signed: true, key: MARK_TAG, value: "", want: { trouble: "unsigned" } },
  {
    name: "on: a truncated signature: unsigned (not the signed form)",
    signed: true,
    key: MARK_TAG,
    value: sig(MARK_TAG).slice(0, -1),
    want: { trouble: "unsigned" },
  },
  { name: "on: the signed form with no time: unsigned", signed: true, key: MARK_TAG, value: sig(MARK_TAG).replace(`${T} `, ""), want: { trouble: "unsigned" } },
  { name: "on: another key's signature: forged", signed: true, key: MARK_TAG, value: sig(MARK_TAG, T, OTHER_SIGNER), want: { trouble: "forged" } },
  { name: "on: another version's signature: forged", signed: true, key: MARK_TAG, value: sig(MARK_TAG, T, SIGNER, `${OLD.arn}9`), want: { trouble: "forged" } },
  { name: "on: the mark's signature on the notice tag: forged", signed: true, key: NOTICE_TAG, value: sig(MARK_TAG), want: { trouble: "forged" } },
  { name: "on: the notice's signature on the reminder tag: forged", signed: true, key: REMINDER_TAG, value: sig(NOTICE_TAG), want: { trouble: "forged" } },
  {
    name: "on: a backdated time under a signature: forged",
    signed: true,
    key: MARK_TAG,
    value: sig(MARK_TAG).replace(T, iso(T0 - 1_000_000_000)),
    want: { trouble: "forged" },
  },
  { name: "on: one signature character changed: forged", signed: true, key: MARK_TAG, value: tamper(sig(MARK_TAG)), want: { trouble: "forged" } },
];

describe("state tags under tag signing: what a value reads as", () => {
  it.each(reads)("$name", (c) => {
    const f = factsFor({ signed: c.signed, tags: c.value === undefined ? {} : { [c.key]: c.value } });
    expect(stateTag(f, c.key)).toEqual(c.want);
  });
});

interface ReasonCase {
  name: string;
  trouble: TagTrouble;
  what: string;
  key: string;
  value: string;
  source?: string;
  rule: string;
  says: string;
  layer: string;
}

const reasons: ReasonCase[] = [
  {
    name: "an unsigned mark",
    trouble: "unsigned",
    what: "mark",
    key: MARK_TAG,
    value: T,
    rule: "markUnsigned",
    says: `its mark "${T}" carries no signature, so under tagSigning it counts as none; THEN`,
    layer: OPERATOR,
  },
  {
    name: "a forged notice",
    trouble: "forged",
    what: "notice tag",
    key: NOTICE_TAG,
    value: "x hmac1:y",
    rule: "markForged",
    says: `its notice tag "x hmac1:y" has a signature that does not verify (written by someone else, for another version, or with a rotated key), so under tagSigning it counts as none; THEN`,
    layer: OPERATOR,
  },
  {
    name: "under the built-in defaults",
    trouble: "forged",
    what: "mark",
    key: MARK_TAG,
    value: T,
    source: "defaults",
    rule: "markForged",
    says: "does not verify",
    layer: "built-in defaults",
  },
];

describe("state tags under tag signing: the reason a hold gives", () => {
  it.each(reasons)("$name", (c) => {
    const f = factsFor({ signed: true, tags: { [c.key]: c.value }, ...(c.source ? { policy: { source: c.source } } : {}) });
    const r = troubleReason(f, c.trouble, c.what, c.key, "THEN");
    expect(r).toEqual({ rule: c.rule, message: expect.stringContaining(c.says) as unknown, layer: c.layer });
  });
});
