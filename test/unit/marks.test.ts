// Signed state tags: what verifies, what does not, and that a signed value always fits a tag value.
import { describe, expect, it } from "vitest";
import { readStateTag, stateTagTime, tagSigner } from "../../reconciler/policy/marks.js";

const KEY = Buffer.from("0123456789abcdef0123456789abcdef");
const ARN = "arn:aws:rekognition:us-east-1:123456789012:project/p/version/v1/1700000000000";
const MARK = "rekon.dev/pending-delete-since";
const T = "2026-12-01T10:00:00Z";
const s = tagSigner(KEY);
const good = s.sign(ARN, MARK, T);

describe("tag signing", () => {
  it("a value rekon signed verifies, and says its time", () => {
    expect(s.read(ARN, MARK, good)).toEqual({ time: T });
    expect(stateTagTime(good)).toBe(T);
  });

  it.each([
    { name: "no signature (a plain time)", value: T, trouble: "unsigned" },
    { name: "garbage", value: "yes", trouble: "unsigned" },
    { name: "a short signature", value: `${T} hmac1:abc`, trouble: "unsigned" },
    { name: "the time changed (backdated)", value: good.replace("2026-12-01", "2026-11-01"), trouble: "forged" },
    { name: "another version's signature", value: s.sign(ARN.replace("v1", "v2"), MARK, T), trouble: "forged" },
    { name: "another tag's signature (the notice's, reused as a mark)", value: s.sign(ARN, "rekon.dev/notice-delivered-at", T), trouble: "forged" },
    { name: "another key's signature (rotated)", value: tagSigner(Buffer.from("x".repeat(32))).sign(ARN, MARK, T), trouble: "forged" },
    { name: "one character of the signature changed", value: good.slice(0, -1) + (good.endsWith("A") ? "B" : "A"), trouble: "forged" },
  ])("$name does not count", ({ value, trouble }) => {
    expect(s.read(ARN, MARK, value)).toMatchObject({ trouble });
  });

  it("without a signer a tag is its time, as before; an absent tag is nothing", () => {
    expect(readStateTag(undefined, ARN, MARK, T)).toEqual({ time: T });
    expect(readStateTag(s, ARN, MARK, undefined)).toBeUndefined();
  });

  it("the value fits a tag value whatever the names: 256 characters at most, only characters AWS allows", () => {
    const longest = `arn:aws:rekognition:us-east-1:123456789012:project/${"p".repeat(255)}/version/${"v".repeat(255)}/1700000000000`;
    const v = s.sign(longest, MARK, T);
    expect(v.length).toBeLessThanOrEqual(256);
    // The Rekognition TagValue pattern.
    expect(v).toMatch(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u);
    expect(s.read(longest, MARK, v)).toEqual({ time: T });
  });

  it("a key shorter than 32 bytes is refused", () => {
    expect(() => tagSigner(Buffer.from("short"))).toThrow(/at least 32/);
  });
});
