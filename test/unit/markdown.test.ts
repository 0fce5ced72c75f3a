// Markdown for pull requests: asserted by structure and content, not against a frozen blob.
import { describe, expect, it } from "vitest";
import { plan } from "../../reconciler/plan.js";
import { renderPlanMarkdown, renderResultsMarkdown } from "../../reconciler/render/markdown.js";
import type { Plan } from "../../reconciler/types.js";
import { desired, liveProject, NOW, policy, set, version, liveState, AMBIENT_IDENTITY } from "../helpers/builders.js";

function samplePlan(): Plan {
  const live = {
    projects: [
      liveProject([version("old|pipe", { ageHours: 2000 }), version("run", { status: "RUNNING", ageHours: 900 }), version("young", { ageHours: 2 }), version("keep", { ageHours: 5 })], { project: "p1" }),
      liveProject([], { project: "ghost", status: "notFound", error: 'project "ghost" not found in us-east-1' }),
    ],
    identities: [AMBIENT_IDENTITY],
  };
  return plan(desired(set("p1", ["keep", "planned"]), set("ghost", ["x"])), live, policy(), NOW);
}

const lines = (md: string) => md.split("\n");

describe("plan markdown", () => {
  const md = renderPlanMarkdown(samplePlan());

  it("starts with one summary line with every count", () => {
    expect(lines(md)[0]).toBe("### rekon plan: 1 to delete, 1 to keep, 2 blocked, 2 missing — ⚠️ errors");
  });

  it("puts errors first and loud, before any table", () => {
    const caution = md.indexOf("> [!CAUTION]");
    expect(caution).toBeGreaterThan(0);
    expect(md).toContain("> **ERROR: project not found** — 1 project not found, nothing in it is deleted: `ghost` (123456789012 / us-east-1) — fix: check the project's name and region in the manifest");
    expect(caution).toBeLessThan(md.indexOf("#### Deletions"));
  });

  it("one error line per cause, with the fix and every project it stopped", () => {
    const why = "the account of the ambient credentials could not be resolved (sts:GetCallerIdentity: GetCallerIdentity ambient: CredentialsProviderError: Could not load credentials from any providers); nothing in this project is read or deleted";
    const unresolved = { projects: [], identities: [{ source: "ambient", error: "x" }] };
    const p = plan(desired(set("a", ["v1"]), set("b", ["v1"]), set("c", ["v1"])), unresolved, policy(), NOW);
    for (const x of p.projects) x.error = why;
    const errors = renderPlanMarkdown(p).split("\n").filter((l) => l.includes("**ERROR"));
    expect(errors).toEqual([
      "> **ERROR: no AWS credentials were found** — 3 projects not read, nothing in them is deleted: `a` (account unknown / us-east-1), `b` (account unknown / us-east-1), `c` (account unknown / us-east-1) — fix: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run aws sso login — AWS: sts:GetCallerIdentity: GetCallerIdentity ambient: CredentialsProviderError: Could not load credentials from any providers",
    ]);
  });

  it("lists deletions in a table, escaping table syntax in names", () => {
    const i = lines(md).indexOf("| Project | Account / region | Version | Status | Age | Kind |");
    expect(i).toBeGreaterThan(0);
    expect(lines(md)[i + 2]).toBe("| `p1` | 123456789012 / us-east-1 | `old\\|pipe` | STOPPED | 83d8h | model |");
  });

  it("folds blocked versions into <details> with every rule and message", () => {
    const details = md.slice(md.indexOf("<details>"), md.indexOf("</details>"));
    expect(details).toContain("<summary>Blocked: 2 unlisted version(s) kept by a guard</summary>");
    expect(details).toMatch(/\| `p1` \| `run` \| RUNNING \| 37d12h \| \*\*inUse\*\*: status RUNNING: stop the model first/);
    expect(details).toContain("| `p1` | `young` | STOPPED | 2h | **minAge**: age 2h is under minAge 24h |");
  });

  it("lists missing versions, has no ANSI codes, and is deterministic", () => {
    expect(md).toContain("#### Missing (2)");
    expect(md).toContain("| `p1` | `planned` |");
    expect(md).not.toMatch(/\x1b\[/);
    expect(renderPlanMarkdown(samplePlan())).toBe(md);
  });

  it("shows a refusal as an error, and a clean plan as nothing to delete", () => {
    const refused = plan(desired(set("p1", ["keep"])), liveState([liveProject([version("a"), version("b"), version("keep", { ageHours: 1 })])]), policy({ maxDeletesPerRun: 1 }), NOW);
    const r = renderPlanMarkdown(refused);
    expect(lines(r)[0]).toMatch(/— ⛔ refused$/);
    expect(r).toContain("> **REFUSED (maxDeletesPerRun)**: the run would delete 2 versions, over maxDeletesPerRun 1; nothing is deleted");
    const clean = renderPlanMarkdown(plan(desired(set("p1", ["keep"])), liveState([liveProject([version("keep")])]), policy(), NOW));
    expect(lines(clean)[0]).toBe("### rekon plan: 0 to delete, 1 to keep, 0 blocked, 0 missing — ✅ nothing to delete");
    expect(clean).not.toContain("[!CAUTION]");
  });
});

describe("plan markdown: truncation within GitHub's comment size", () => {
  const many = Array.from({ length: 3000 }, (_, i) => version(`version-with-a-long-name-${String(i).padStart(5, "0")}`, { ageHours: 100 + i }));
  const big = plan(desired(set("p1", ["keep"])), liveState([liveProject([...many, version("keep", { ageHours: 1 })])]), policy({ maxDeletesPerRun: 100000 }), NOW);

  it("cuts the table, counts what was left out, never the summary", () => {
    const md = renderPlanMarkdown(big, { maxChars: 20_000 });
    expect(md.length).toBeLessThanOrEqual(20_000);
    expect(lines(md)[0]).toBe("### rekon plan: 3000 to delete, 1 to keep, 0 blocked, 0 missing — 🗑️ deletions pending");
    const shown = lines(md).filter((l) => l.startsWith("| `p1` | 123456789012 / us-east-1 | `version-with-a-long-name-")).length;
    const note = md.match(/\| _… (\d+) more row\(s\) not shown \(comment size limit\); see the job log or --output json_ \| \| \| \| \| \|/);
    expect(note).not.toBeNull();
    expect(shown + Number(note![1])).toBe(3000);
    expect(shown).toBeGreaterThan(100);
  });

  it("fits the default budget under GitHub's 65,536-character limit", () => {
    expect(renderPlanMarkdown(big).length).toBeLessThanOrEqual(65_536);
  });
});

describe("apply results markdown", () => {
  it("summarises results and flags failures", () => {
    const md = renderResultsMarkdown([
      { project: "p1", region: "us-east-1", versionName: "a", versionArn: "arn:a", operation: "delete", result: "accepted", status: "DELETING", requestId: "r1" },
      { project: "p1", region: "us-east-1", versionName: "b", versionArn: "arn:b", operation: "delete", result: "failed", code: "ResourceInUseException", error: "in use | busy" },
      { project: "p1", region: "us-east-1", versionName: "c", versionArn: "arn:c", operation: "delete", result: "skipped", code: "stale", error: "stale: tags changed" },
    ]);
    expect(lines(md)[0]).toBe("### rekon apply: 1 accepted, 0 already deleted, 1 failed, 1 skipped, 0 changed, 0 unknown");
    expect(md).toContain("> **1 write(s) failed**");
    expect(md).toContain("| failed | `p1` | `b` | in use \\| busy |");
    expect(md).toContain("| skipped | `p1` | `c` | stale: tags changed |");
  });
});
