import { describe, expect, it } from "vitest";
import { compileRule, ruleContext } from "../../reconciler/policy/cel.js";
import type { CompiledRule } from "../../reconciler/types.js";

const NOW = Date.parse("2026-11-28T12:00:00Z");
const v = (o: Partial<{ status: string; ageHours: number; tags: Record<string, string> }> = {}) => ({
  name: "v1",
  arn: "arn:aws:rekognition:us-east-1:123456789012:project/p/version/v1/1",
  status: o.status ?? "STOPPED",
  feature: "CUSTOM_LABELS",
  createdAt: NOW - (o.ageHours ?? 100) * 3_600_000,
  ...(o.tags ? { tags: o.tags } : {}),
});
const p = (tags?: Record<string, string>) => ({ name: "p", arn: "arn:aws:rekognition:us-east-1:123456789012:project/p/1", ...(tags ? { tags } : {}) });

function compiled(deny: string): CompiledRule {
  const r = compileRule({ name: "r", deny, message: "m" }, "test");
  if ("error" in r) throw new Error(r.error);
  return r;
}

describe("CEL rules: compile and type-check", () => {
  it.each([
    { deny: "version.ageHours < 48.0", ok: true },
    { deny: 'version.tags["team"] == "risk"', ok: true },
    { deny: '"keep" in version.tags', ok: true },
    { deny: 'now - version.createdAt < duration("72h")', ok: true },
    { deny: 'project.name.startsWith("prod-") && version.status == "STOPPED"', ok: true },
    { deny: "version.status == 1", ok: false, err: /CEL TypeError/ },
    { deny: 'version.nme == "x"', ok: false, err: /CEL TypeError/ },
    { deny: "version.ageHours < ", ok: false, err: /CEL ParseError/ },
    { deny: "version.ageHours", ok: false, err: /deny must be a bool expression, but it is double/ },
  ])("$deny → ok=$ok", ({ deny, ok, err }) => {
    const r = compileRule({ name: "r", deny, message: "m" }, "test");
    expect("error" in r).toBe(!ok);
    if (!ok && "error" in r) expect(r.error).toMatch(err!);
  });
});

describe("CEL rules: evaluate", () => {
  it.each([
    { name: "young version denied", deny: "version.ageHours < 200.0", version: v({ ageHours: 100 }), project: p(), want: true },
    { name: "old version passes", deny: "version.ageHours < 50.0", version: v({ ageHours: 100 }), project: p(), want: false },
    { name: "tag lookup", deny: 'version.tags["team"] == "risk"', version: v({ tags: { team: "risk" } }), project: p(), want: true },
    { name: "project tag lookup", deny: 'project.tags["env"] == "prod"', version: v({ tags: {} }), project: p({ env: "prod" }), want: true },
    { name: "timestamp arithmetic", deny: 'now - version.createdAt > duration("96h")', version: v({ ageHours: 100 }), project: p(), want: true },
  ])("$name", ({ deny, version, project, want }) => {
    expect(compiled(deny).evaluate(ruleContext(version, project, NOW))).toBe(want);
  });

  it.each([
    { name: "missing map key", deny: 'version.tags["absent"] == "x"', version: v({ tags: {} }), project: p() },
    { name: "project tags not read", deny: 'project.tags["env"] == "prod"', version: v({ tags: {} }), project: p() },
  ])("evaluation error throws (the planner then blocks): $name", ({ deny, version, project }) => {
    expect(() => compiled(deny).evaluate(ruleContext(version, project, NOW))).toThrow();
  });
});
