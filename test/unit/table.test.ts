// The terminal views of a plan and of apply results: grouped by project, reasons under their version,
// lines within the width, problems and the summary at the end, colour only when asked for.
import { stripVTControlCharacters } from "node:util";
import { describe, expect, it } from "vitest";
import { plan } from "../../reconciler/plan.js";
import { hanging, outputWidth, visibleLength, wrap } from "../../reconciler/render/layout.js";
import { colorEnabled, COLOR, PLAIN } from "../../reconciler/render/style.js";
import { renderPlanTable, renderResultsTable } from "../../reconciler/render/table.js";
import type { Plan, WriteResult } from "../../reconciler/types.js";
import { ACCOUNT, desired, liveProject, liveState, NOW, policy, set, version } from "../helpers/builders.js";

const LONG = "fraud-detector.2026-11-28T11.00.00-with-a-much-longer-suffix-than-usual";

function samplePlan(): Plan {
  const live = liveState([
    liveProject([version("old", { ageHours: 2000 }), version("run", { status: "RUNNING", ageHours: 900 }), version("young", { ageHours: 2 }), version("keep", { ageHours: 5 })], { project: "p1" }),
    liveProject([version("a", { project: "p2", ageHours: 3000, feature: "CONTENT_MODERATION" }), version(LONG, { project: "p2", ageHours: 3000, feature: "CONTENT_MODERATION" })], { project: "p2" }),
    liveProject([], { project: "ghost", status: "notFound", error: 'project "ghost" not found in us-east-1' }),
  ]);
  return plan(desired(set("p1", ["keep", "planned"]), set("p2", ["a"]), set("ghost", ["x"])), live, policy(), NOW);
}

const plain = (s: string) => s.split("\n");

describe("plan table", () => {
  const out = renderPlanTable(samplePlan(), { width: 100 });
  const lines = plain(out);

  it("one header line per (account, region, project), with the kind and the counts; rows under it", () => {
    const p1 = lines.indexOf(`p1 (models, ${ACCOUNT}/us-east-1): 1 to delete, 1 to keep, 2 blocked, 1 missing`);
    const p2 = lines.indexOf(`p2 (adapters, ${ACCOUNT}/us-east-1): 1 to delete, 1 to keep`);
    expect(p1).toBeGreaterThan(0);
    expect(p2).toBeGreaterThan(p1);
    expect(lines.slice(p1 + 1, p2 - 1).filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim().split(/\s+/).slice(0, 2).join(" "))).toEqual(["blocked young", "keep keep", "blocked run", "delete old", "missing planned"]);
  });

  it("reasons are indented lines under their version, each starting with ↳ and naming its rule", () => {
    const young = lines.findIndex((l) => /^ {2}blocked +young /.test(l));
    expect(lines[young + 1]).toBe("           ↳ minAge: age 2h is under minAge 24h");
    const run = lines.findIndex((l) => /^ {2}blocked +run /.test(l));
    expect(lines[run + 1]).toMatch(/^ {11}↳ inUse: status RUNNING: stop the model first/);
    // a wrapped reason continues under its text, not under the arrow
    expect(lines[run + 2]).toMatch(/^ {13}\S/);
  });

  it("a project not found is an error at the end, with what to do, and its header says so", () => {
    expect(lines).toContain(`ghost (${ACCOUNT}/us-east-1) not found: 1 missing`);
    const err = lines.indexOf("Error: project not found");
    expect(err).toBeGreaterThan(lines.findIndex((l) => l.startsWith("p2 ")));
    expect(lines[err + 1]).toMatch(/^ {2}→ check the project's name and region in the manifest/);
    expect(out).toContain(`  1 project not found; nothing in it is deleted:\n    ghost  us-east-1, account ${ACCOUNT}\n`);
  });

  it("the summary is the last line", () => {
    expect(lines.at(-2)).toBe("Plan: 2 to delete, 2 to keep, 2 blocked, 2 missing. (policy: test-policy)");
    expect(lines.at(-1)).toBe("");
  });

  it("fits the width: no line wider, and a name longer than its column wraps whole, never cut", () => {
    for (const width of [60, 80, 100, 140]) {
      const ls = plain(renderPlanTable(samplePlan(), { width }));
      for (const l of ls) expect(visibleLength(l), `${width}: ${l}`).toBeLessThanOrEqual(width);
    }
    const narrow = renderPlanTable(samplePlan(), { width: 60 });
    const at = plain(narrow).findIndex((l) => l.includes("fraud-detector.2026"));
    const joined = plain(narrow)
      .slice(at, at + 4)
      .map((l) => l.slice(11).split("  ")[0]!.trim())
      .join("");
    expect(joined.startsWith(LONG)).toBe(true);
  });

  it("refusals come after the projects and before the summary; the refused versions point to it once", () => {
    const refused = plan(desired(set("p1", ["keep"])), liveState([liveProject([version("a"), version("b"), version("keep", { ageHours: 1 })])]), policy({ maxDeletesPerRun: 1 }), NOW);
    const ls = plain(renderPlanTable(refused, { width: 100 }));
    const at = ls.findIndex((l) => l.startsWith("REFUSED (maxDeletesPerRun): the run would delete 2 versions"));
    expect(at).toBeGreaterThan(ls.findIndex((l) => l.startsWith("p1 ")));
    expect(ls.findIndex((l) => l.startsWith("Plan: 0 to delete"))).toBeGreaterThan(at);
    expect(ls.at(-2)).toMatch(/^Plan: 0 to delete/);
    expect(ls.filter((l) => l.includes("↳ maxDeletesPerRun: the whole run is refused (see REFUSED below)"))).toHaveLength(2);
  });

  it("colour: delete red, blocked yellow, missing cyan, keep dim, the summary bold; none without a style", () => {
    const c = renderPlanTable(samplePlan(), { width: 100, style: COLOR });
    expect(c).toContain("\x1b[31mdelete\x1b[39m");
    expect(c).toContain("\x1b[33mblocked\x1b[39m");
    expect(c).toContain("\x1b[36mmissing\x1b[39m");
    expect(c).toMatch(/\x1b\[2m {2}keep +keep /);
    expect(c).toContain("\x1b[1mPlan: 2 to delete");
    expect(stripVTControlCharacters(c)).toBe(out);
    expect(out).not.toMatch(/\x1b/);
  });

  it("versions whose tags could not be read for one cause: the cause once at the end, each version pointing to it", () => {
    const denied = (p: string, v: string) => `ListTagsForResource arn:aws:rekognition:us-east-1:${ACCOUNT}:project/${p}/version/${v}/1: AccessDeniedException: User: arn:aws:iam::${ACCOUNT}:user/ci is not authorized to perform: rekognition:ListTagsForResource on resource: arn:aws:rekognition:us-east-1:${ACCOUNT}:project/${p}/version/${v}/1`;
    const live = liveState([
      liveProject([version("a", { tagsError: denied("p1", "a") }), version("b", { tagsError: denied("p1", "b") }), version("c", { tagsError: "ListTagsForResource x: InternalServerError: boom" })], { project: "p1" }),
      liveProject([version("d", { project: "p2", tagsError: denied("p2", "d") })], { project: "p2" }),
    ]);
    const p = plan(desired(set("p1", []), set("p2", [])), live, policy({ allowEmpty: true, protectTags: [{ key: "keep", value: "*", origin: "test" }] }), NOW);
    const ls = plain(renderPlanTable(p, { width: 120 }));
    expect(ls.filter((l) => l.includes("↳ tagsUnreadable: tags could not be read, access denied: rekognition:ListTagsForResource (see Error below)"))).toHaveLength(3);
    // a failure of its own stays with its version, whole
    expect(ls.some((l) => l.startsWith("           ↳ tagsUnreadable: tags could not be read: ListTagsForResource x: InternalServerError: boom;"))).toBe(true);
    const err = ls.indexOf("Error: access denied: rekognition:ListTagsForResource (reading version tags)");
    expect(err).toBeGreaterThan(0);
    expect(ls.slice(err + 1, err + 3).map((l) => l.trim()).join(" ")).toBe(`→ allow rekognition:ListTagsForResource for arn:aws:iam::${ACCOUNT}:user/ci on arn:aws:rekognition:us-east-1:${ACCOUNT}:project/*/version/*/* (deploy/iam has least-privilege policies)`);
    expect(ls.slice(err)).toContain("  (and 2 more like it)");
    expect(ls.slice(err)).toContain("  3 versions kept (tagsUnreadable above): their protections cannot be checked until their tags can be read:");
    expect(ls.slice(err)).toEqual(expect.arrayContaining(["    p1  2 versions", "    p2  1 version"]));
  });

  it("an empty plan is just the summary", () => {
    const empty = plan(desired(), liveState([]), policy(), NOW);
    expect(renderPlanTable(empty)).toBe("Plan: 0 to delete, 0 to keep, 0 blocked, 0 missing. (policy: test-policy)\n");
  });
});

describe("results table", () => {
  const arn = (p: string, v: string) => `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/${p}/version/${v}/1`;
  const base = { region: "us-east-1", account: ACCOUNT, operation: "delete" as const };
  const results: WriteResult[] = [
    { ...base, project: "p1", versionName: "v1", versionArn: arn("p1", "v1"), result: "accepted", status: "DELETING", requestId: "req-1" },
    { ...base, project: "p2", versionName: "v9", versionArn: arn("p2", "v9"), result: "failed", code: "AccessDeniedException", error: "DeleteProjectVersion arn:…: AccessDeniedException: User: arn:aws:iam::123456789012:user/ci is not authorized to perform: rekognition:DeleteProjectVersion on resource: arn:aws:rekognition:us-east-1:123456789012:project/p2/version/v9/1" },
    { ...base, project: "p1", versionName: "v2", versionArn: arn("p1", "v2"), result: "changed", status: "RUNNING", reasons: [{ rule: "inUse", message: "status RUNNING: stop the model first" }] },
    { ...base, project: "p1", versionName: "v3", versionArn: arn("p1", "v3"), operation: "mark", result: "accepted" },
  ];

  it("grouped by project: result, version, status and request id; why under what did not simply succeed; summary last", () => {
    const ls = plain(renderResultsTable(results, { width: 120 }));
    expect(ls[0]).toMatch(/^ {2}RESULT +VERSION +STATUS +REQUEST$/);
    const p1 = ls.indexOf(`p1 (${ACCOUNT}/us-east-1)`);
    const p2 = ls.indexOf(`p2 (${ACCOUNT}/us-east-1)`);
    expect(p1).toBeGreaterThan(0);
    expect(p2).toBeGreaterThan(p1);
    expect(ls[p1 + 1]).toMatch(/^ {2}accepted +v1 +DELETING +req-1$/);
    expect(ls[p1 + 2]).toMatch(/^ {2}changed +v2 +RUNNING$/);
    expect(ls[p1 + 3]).toMatch(/^ {17}↳ inUse: status RUNNING: stop the model first$/);
    expect(ls[p1 + 4]).toMatch(/^ {2}mark accepted +v3 +-$/);
    expect(ls[p2 + 1]).toMatch(/^ {2}failed +v9 +-$/);
    // a cause every write would meet alike is told once, after the groups
    expect(ls[p2 + 2]).toBe("                 ↳ access denied: rekognition:DeleteProjectVersion (see Error below)");
    const err = ls.indexOf("Error: access denied: rekognition:DeleteProjectVersion");
    expect(err).toBeGreaterThan(p2);
    expect(ls.slice(err + 1, err + 3).map((l) => l.trim()).join(" ")).toBe(`→ allow rekognition:DeleteProjectVersion for arn:aws:iam::${ACCOUNT}:user/ci on arn:aws:rekognition:us-east-1:${ACCOUNT}:project/*/version/*/* (deploy/iam has least-privilege policies)`);
    expect(ls.slice(err)).toEqual(expect.arrayContaining(["  1 write failed (retried by the next run):", "    p2  1 version"]));
    expect(ls.at(-2)).toBe("Apply: 1 accepted, 0 already deleted, 1 failed, 0 skipped, 1 changed, 0 unknown. Marks: 1 written, 0 not (0 unknown).");
  });

  it("fits the width; the request id is left out when the table would not fit with it", () => {
    for (const width of [50, 80, 120]) for (const l of plain(renderResultsTable(results, { width }))) expect(visibleLength(l), `${width}: ${l}`).toBeLessThanOrEqual(width);
    const uuid = "036a5032-e083-4f0d-a14e-a8aa91e34522";
    const one: WriteResult[] = [{ ...results[0]!, versionName: "fraud-detector.2026-07-01T08.00.00", requestId: uuid }];
    expect(renderResultsTable(one, { width: 94 })).toContain(`  accepted  fraud-detector.2026-07-01T08.00.00  DELETING  ${uuid}\n`);
    const narrow = plain(renderResultsTable(one, { width: 80 }));
    expect(narrow[0]).toMatch(/^ {2}RESULT +VERSION +STATUS$/);
    expect(narrow).toContain("  accepted  fraud-detector.2026-07-01T08.00.00  DELETING");
  });

  it("colour: failed red, accepted green, changed yellow, the summary bold", () => {
    const c = renderResultsTable(results, { width: 120, style: COLOR });
    expect(c).toContain("\x1b[31mfailed\x1b[39m");
    expect(c).toContain("\x1b[32maccepted\x1b[39m");
    expect(c).toContain("\x1b[33mchanged\x1b[39m");
    expect(c).toContain("\x1b[1mApply: ");
    expect(stripVTControlCharacters(c)).toBe(renderResultsTable(results, { width: 120, style: PLAIN }));
  });

  it("no results: one line", () => {
    expect(renderResultsTable([])).toBe("Apply: nothing to delete.\n");
  });
});

describe("colour and width decisions", () => {
  it.each([
    { name: "a terminal", tty: true, env: {}, want: true },
    { name: "a pipe", tty: false, env: {}, want: false },
    { name: "NO_COLOR on a terminal", tty: true, env: { NO_COLOR: "1" }, want: false },
    { name: "an empty NO_COLOR (unset, per no-color.org)", tty: true, env: { NO_COLOR: "" }, want: true },
    { name: "TERM=dumb", tty: true, env: { TERM: "dumb" }, want: false },
    { name: "FORCE_COLOR into a pipe", tty: false, env: { FORCE_COLOR: "1" }, want: true },
    { name: "FORCE_COLOR wins over NO_COLOR", tty: false, env: { FORCE_COLOR: "1", NO_COLOR: "1" }, want: true },
    { name: "FORCE_COLOR=0 on a terminal", tty: true, env: { FORCE_COLOR: "0" }, want: false },
    { name: "FORCE_COLOR=false", tty: true, env: { FORCE_COLOR: "false" }, want: false },
  ])("$name → $want", ({ tty, env, want }) => {
    expect(colorEnabled({ isTTY: tty }, env)).toBe(want);
  });

  it("width: the terminal's columns, else COLUMNS, else 100; never below 40", () => {
    expect(outputWidth({ isTTY: true, columns: 132 }, { COLUMNS: "90" })).toBe(132);
    expect(outputWidth({ isTTY: false }, { COLUMNS: "90" })).toBe(90);
    expect(outputWidth({ isTTY: false }, {})).toBe(100);
    expect(outputWidth({ isTTY: true, columns: 20 }, {})).toBe(40);
  });

  it("wrap breaks at spaces, and a long word after punctuation near the end", () => {
    expect(wrap("aaa bbb ccc", 7)).toEqual(["aaa bbb", "ccc"]);
    expect(wrap("fraud-detector.2026-11-28T11.00.00", 16)).toEqual(["fraud-detector.", "2026-11-28T11.", "00.00"]);
    expect(wrap("", 10)).toEqual([""]);
    expect(hanging("  ↳ ", "one two three four five six", 4, 24)).toEqual(["  ↳ one two three four", "    five six"]);
    expect(wrap("aaa bbb ccc ddd", 7, 5)).toEqual(["aaa bbb", "ccc", "ddd"]);
  });
});
