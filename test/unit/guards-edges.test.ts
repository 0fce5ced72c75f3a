// The guards' edges the tables of guards.test.ts leave open (reconciler/policy/guards.ts): the whole message
// for a RUNNING version, a mark dated in the future on both sides of the five-minute slack, the
// newest-version tie broken by ARN whatever the input order, a listed name that differs only by spaces
// around it, and the tag guards called on a version whose tags were not read (they say nothing: the
// unreadable guard speaks for them, and a custom rule is never evaluated on tags it has not got).
import { describe, expect, it } from "vitest";
import { customRule, formatMark, inUse, nearMiss, newest, parseMark, protectedTag, type Candidate } from "../../reconciler/policy/guards.js";
import type { CompiledRule } from "../../reconciler/types.js";
import { liveProject, NOW, policy, set, version } from "../helpers/builders.js";

const now = NOW.getTime();
const candidate = (v = version("old")): Candidate => ({
  version: v,
  project: liveProject([v]),
  set: set("p1", ["keep"]),
  policy: policy(),
  now,
  latest: new Set(),
  copySources: new Set(),
});

describe("guard edges", () => {
  it("a RUNNING version: the whole message, with the fix", () => {
    expect(inUse(candidate(version("old", { status: "RUNNING" })))).toEqual({
      rule: "inUse",
      message:
        "status RUNNING: stop the model first, or set stopRunning: true in the policy to let rekon stop it (it bills per inference-unit hour while running)",
    });
  });

  it("a mark up to five minutes ahead is believed (clocks differ); one a second later is no mark", () => {
    const at = (ms: number) => formatMark(ms);
    expect(parseMark(at(now + 5 * 60_000), now)).toBe(now + 5 * 60_000);
    expect(parseMark(at(now + 5 * 60_000 + 1000), now)).toBeUndefined();
    expect(parseMark(undefined, now)).toBeUndefined();
  });

  it("formatMark: RFC 3339 UTC, whole seconds, rounded down", () => {
    expect(formatMark(now)).toBe("2026-11-28T12:00:00Z");
    expect(formatMark(now + 999)).toBe("2026-11-28T12:00:00Z");
    expect(formatMark(now - 1)).toBe("2026-11-28T11:59:59Z");
  });

  it("newest: versions created at the same time are ranked by ARN, whatever order they come in", () => {
    const a = version("a", { ageHours: 5, arn: "arn:aws:rekognition:us-east-1:123456789012:project/p1/version/a/1" });
    const b = version("b", { ageHours: 5, arn: "arn:aws:rekognition:us-east-1:123456789012:project/p1/version/b/1" });
    const older = version("c", { ageHours: 9 });
    for (const order of [
      [a, b, older],
      [b, a, older],
      [older, b, a],
    ]) {
      expect(newest(order, 1)).toEqual(new Set([a.arn]));
      expect(newest(order, 2)).toEqual(new Set([a.arn, b.arn]));
    }
  });

  it("nearMiss: the same name but for spaces around it, on either side", () => {
    expect(nearMiss(" model-v1", "model-v1 ")).toBe(true);
    expect(nearMiss("model-v1", " model-v1")).toBe(true);
    expect(nearMiss("  model-v1", "model-v1  ")).toBe(true);
    expect(nearMiss("model-v1", "model-v3x")).toBe(false);
  });

  it("tags not read: the tag guards say nothing, and a custom rule is not evaluated", () => {
    const unread = candidate(version("old"));
    expect(protectedTag(unread, { key: "hold", value: "*", origin: "op" })).toBeUndefined();
    let calls = 0;
    const rule: CompiledRule = {
      name: "always" as CompiledRule["name"],
      deny: "true",
      message: "always",
      origin: "op",
      evaluate: () => {
        calls++;
        return true;
      },
    };
    expect(customRule(unread, rule)).toBeUndefined();
    expect(calls).toBe(0);
    expect(customRule(candidate(version("old", { tags: {} })), rule)).toEqual({ rule: "always", message: "always", layer: "op" });
    expect(calls).toBe(1);
  });
});
