// Custom rules in CEL (the Common Expression Language, as Kubernetes ValidatingAdmissionPolicy uses).
// Every expression is parsed and type-checked when the policy loads, so `rekon validate` catches a typo
// before any run; an evaluation error at run time blocks the version, never passes it.
import { Environment } from "@marcbachmann/cel-js";
import type { CompiledRule, CustomRuleName } from "../types.js";
import { firstLine } from "../text.js";

/** What a rule can see. Documented in docs/manifests-and-policy.md ("Rules (CEL)"); kept small so rules stay reviewable. */
function environment(): Environment {
  return new Environment({ limits: { maxAstNodes: 2000, maxDepth: 50, maxListElements: 1000, maxMapEntries: 1000, maxCallArguments: 32 } })
    .registerVariable({
      name: "version",
      schema: {
        name: "string",
        arn: "string",
        status: "string",
        feature: "string",
        createdAt: "google.protobuf.Timestamp",
        ageHours: "double",
        tags: "map<string, string>",
      },
    })
    .registerVariable({ name: "project", schema: { name: "string", arn: "string", tags: "map<string, string>" } })
    .registerVariable("now", "google.protobuf.Timestamp");
}

let env: Environment | undefined;

/** Compile and type-check one rule. Returns the rule, or a message saying what is wrong. */
export function compileRule(rule: { name: string; deny: string; message: string }, origin: string): CompiledRule | { error: string } {
  env ??= environment();
  let checked: { valid: boolean; type?: string; error?: { message?: string; name?: string } };
  try {
    checked = env.check(rule.deny) as typeof checked;
  } catch (e) {
    return { error: `CEL: ${firstLine((e as Error).message)}` };
  }
  if (!checked.valid) return { error: `CEL ${checked.error?.name ?? "error"}: ${firstLine(checked.error?.message ?? "invalid expression")}` };
  if (checked.type !== "bool") return { error: `CEL: deny must be a bool expression, but it is ${checked.type}` };
  const program = env.parse(rule.deny);
  // The one place a custom rule name becomes a rule id.
  return { name: rule.name as CustomRuleName, deny: rule.deny, message: rule.message, origin, evaluate: (ctx) => program(ctx) };
}

/** The values a rule sees for one candidate. `projectTags` absent means they were not read: using them errors (and so blocks). */
export function ruleContext(
  v: { name: string; arn: string; status: string; feature: string; createdAt: number; tags?: Record<string, string> },
  p: { name: string; arn: string; tags?: Record<string, string> },
  now: number,
): Record<string, unknown> {
  return {
    version: {
      name: v.name,
      arn: v.arn,
      status: v.status,
      feature: v.feature,
      createdAt: new Date(v.createdAt),
      ageHours: (now - v.createdAt) / 3_600_000,
      ...(v.tags ? { tags: v.tags } : {}),
    },
    project: { name: p.name, arn: p.arn, ...(p.tags ? { tags: p.tags } : {}) },
    now: new Date(now),
  };
}
