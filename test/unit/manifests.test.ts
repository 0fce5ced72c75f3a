import { symlinkSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { formatIssue } from "../../reconciler/errors.js";
import { loadManifests } from "../../reconciler/inputs/manifests.js";
import { loadPolicy } from "../../reconciler/inputs/policy.js";
import { tmpTree } from "../helpers/tmp.js";

const GOOD = `apiVersion: rekon.dev/v1alpha1
kind: ProjectVersionSet
metadata:
  name: fraud-models
spec:
  project: fraud-detector
  region: us-east-1
  versions:
    - name: fraud-detector.2026-10-01T12.00.00
    - name: v7
`;

let cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.forEach((c) => c());
  cleanups = [];
});
function tree(files: Record<string, string | Buffer>) {
  const t = tmpTree(files);
  cleanups.push(t.cleanup);
  return t;
}
/** Load a folder and return the issues as "file:line:col: path: message" with the folder stripped. */
function issuesOf(files: Record<string, string | Buffer>, opts = {}): string[] {
  const t = tree(files);
  return loadManifests([t.dir], opts).issues.map((i) => formatIssue({ ...i, fix: undefined }).replace(t.dir + "/", ""));
}

describe("manifests: valid input", () => {
  it("loads sets from nested folders and multi-document files, sorted by project", () => {
    const t = tree({
      "a/one.yaml": GOOD,
      "b/two.yml": GOOD.replace("fraud-models", "shelf").replace("fraud-detector", "shelf-scanner") + "---\n" + GOOD.replace("fraud-models", "ads").replace("project: fraud-detector", "project: ads-adapter"),
      "README.md": "not yaml, ignored",
      ".git/config.yaml": "ignored: true",
    });
    const r = loadManifests([t.dir]);
    expect(r.issues).toEqual([]);
    expect(r.desired!.sets.map((s) => s.project)).toEqual(["ads-adapter", "fraud-detector", "shelf-scanner"]);
    expect(r.desired!.files.map((f) => f.replace(t.dir + "/", ""))).toEqual(["a/one.yaml", "b/two.yml"]);
    const fraud = r.desired!.sets.find((s) => s.project === "fraud-detector")!;
    expect(fraud.versions.map((v) => v.name)).toEqual(["fraud-detector.2026-10-01T12.00.00", "v7"]);
    expect(fraud.versions[1]!.pos).toMatchObject({ line: 10, col: 13 });
    expect(fraud.region).toBe("us-east-1");
  });

  it("uses the default region when spec.region is absent", () => {
    const t = tree({ "m.yaml": GOOD.replace("  region: us-east-1\n", "") });
    expect(loadManifests([t.dir], { defaultRegion: "eu-west-1" }).desired!.sets[0]!.region).toBe("eu-west-1");
  });

  it("accepts a single file and repeated paths", () => {
    const t = tree({ "x/a.yaml": GOOD, "y/b.yaml": GOOD.replace("fraud-models", "b").replace("fraud-detector", "other") });
    const r = loadManifests([t.path("x/a.yaml"), t.path("y")]);
    expect(r.issues).toEqual([]);
    expect(r.desired!.sets).toHaveLength(2);
  });
});

describe("manifests: every error at file:line:col with its field", () => {
  it.each([
    { name: "unknown field with a suggestion", files: { "m.yaml": GOOD.replace("  versions:", "  verisons: []\n  versions:") }, want: ["m.yaml:8:3: spec.verisons: unknown field \"verisons\""] },
    { name: "wrong type", files: { "m.yaml": GOOD.replace("project: fraud-detector", "project: 42") }, want: ["m.yaml:6:12: spec.project: must be a string, got number 42"] },
    { name: "missing required field points at the parent", files: { "m.yaml": GOOD.replace("  project: fraud-detector\n", "") }, want: ["m.yaml:5:1: spec.project: required field is missing"] },
    { name: "bad version name", files: { "m.yaml": GOOD.replace("name: v7", "name: v 7/x") }, want: ['m.yaml:10:13: spec.versions[1].name: invalid value "v 7/x"'] },
    { name: "unknown kind", files: { "m.yaml": GOOD.replace("kind: ProjectVersionSet", "kind: ProjectVersions") }, want: ['m.yaml:2:7: kind: unknown kind "ProjectVersions"'] },
    { name: "unknown apiVersion", files: { "m.yaml": GOOD.replace("rekon.dev/v1alpha1", "rekon.dev/v2") }, want: ['m.yaml:1:13: apiVersion: unknown apiVersion "rekon.dev/v2"'] },
    { name: "duplicate key", files: { "m.yaml": GOOD.replace("  region: us-east-1\n", "  region: us-east-1\n  region: us-west-2\n") }, want: ["m.yaml:8:3: YAML syntax error: Map keys must be unique"] },
    { name: "tab indentation", files: { "m.yaml": GOOD.replace("  project:", "\tproject:") }, want: ["m.yaml:6:1: YAML syntax error: Tabs are not allowed as indentation"] },
    { name: "duplicate version name", files: { "m.yaml": GOOD.replace("name: v7", "name: fraud-detector.2026-10-01T12.00.00") }, want: ['m.yaml:10:13: spec.versions[1].name: version "fraud-detector.2026-10-01T12.00.00" is listed twice (first at spec.versions[0])'] },
    {
      name: "duplicate metadata.name across files",
      files: { "a.yaml": GOOD, "b.yaml": GOOD.replace("fraud-detector", "other") },
      want: ["b.yaml:4:9: metadata.name: duplicate name \"fraud-models\", already used at {dir}a.yaml:4:9"],
    },
    {
      name: "two sets own one project in one region",
      files: { "a.yaml": GOOD, "b.yaml": GOOD.replace("fraud-models", "second") },
      want: ['b.yaml:6:12: spec.project: project "fraud-detector" in us-east-1 is already owned by ProjectVersionSet "fraud-models" at {dir}a.yaml:4:9'],
    },
    { name: "document is not a mapping", files: { "m.yaml": "- just\n- a list\n" }, want: ["m.yaml:1:1: document 1 is a list, not a mapping with apiVersion, kind, metadata and spec"] },
    { name: "empty file", files: { "m.yaml": "# nothing here\n" }, want: ["m.yaml:1:1: file has no YAML documents"] },
    { name: "binary junk", files: { "m.yaml": Buffer.from([0x00, 0xff, 0xfe, 0x41]) }, want: ["m.yaml:1:1: not a UTF-8 text file"] },
    { name: "DeletionPolicy among manifests", files: { "m.yaml": "apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata: {name: p}\nspec: {}\n" }, want: ["m.yaml:4:1: spec.selector: a DeletionPolicy among the manifests must say which projects it applies to"] },
    { name: "alias bomb", files: { "m.yaml": 'a: &a ["x","x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n' }, want: [expect.stringMatching(/^m\.yaml:1:1: YAML could not be expanded: /)] },
    { name: "file over the size limit", files: { "m.yaml": "# " + "x".repeat(1024 * 1024) + "\n" }, want: [expect.stringMatching(/^m\.yaml:1:1: file is \d+ bytes, over the 1048576-byte limit$/)] },
  ])("$name", ({ files, want }) => {
    const t = tree(files as unknown as Record<string, string | Buffer>);
    const got = loadManifests([t.dir]).issues.map((i) => formatIssue({ ...i, fix: undefined }).replaceAll(t.dir + "/", "").replace(t.dir + "/", ""));
    const expected = want.map((w) => (typeof w === "string" ? w.replace("{dir}", t.dir + "/").replace(t.dir + "/", "") : w));
    expect(got).toEqual(expected);
  });

  it("reports all errors at once, across files, sorted", () => {
    const got = issuesOf({ "b.yaml": GOOD.replace("project: fraud-detector", "project: 42"), "a.yaml": GOOD.replace("name: v7", "name: 'bad name'").replace("fraud-models", "a") });
    expect(got).toEqual(['a.yaml:10:13: spec.versions[1].name: invalid value "bad name"', "b.yaml:6:12: spec.project: must be a string, got number 42"]);
  });

  it("gives a fix for unknown fields (closest allowed name)", () => {
    const t = tree({ "m.yaml": GOOD.replace("  versions:", "  verisons: []\n  versions:") });
    expect(loadManifests([t.dir]).issues[0]!.fix).toContain('did you mean "versions"?');
  });

  it("requires a region for plan/apply when there is no default", () => {
    const got = issuesOf({ "m.yaml": GOOD.replace("  region: us-east-1\n", "") }, { requireRegion: true });
    expect(got).toEqual(["m.yaml:6:3: spec.region: no region: spec.region is not set and no default region is configured"]);
  });

  it("a set without a region clashes with any set of the same project when no default is known", () => {
    const got = issuesOf({ "a.yaml": GOOD, "b.yaml": GOOD.replace("fraud-models", "b").replace("  region: us-east-1\n", "") });
    expect(got).toHaveLength(1);
    expect(got[0]).toContain("already owned by");
  });

  it("the same project in two regions is fine", () => {
    expect(issuesOf({ "a.yaml": GOOD, "b.yaml": GOOD.replace("fraud-models", "b").replace("us-east-1", "eu-west-1") })).toEqual([]);
  });

  it("missing path, empty folder, symlink out of the folder and symlink loop", () => {
    const outside = tree({ "evil.yaml": GOOD });
    const t = tree({ "ok.yaml": GOOD, "sub/.keep": "" });
    symlinkSync(outside.path("evil.yaml"), t.path("link.yaml"));
    symlinkSync(t.path("sub"), t.path("sub/loop"));
    const empty = tree({ "notes.txt": "" });
    const r = loadManifests([t.dir, t.path("nope"), empty.dir]);
    const msgs = r.issues.map((i) => `${i.file.replace(t.dir + "/", "").replace(empty.dir, "EMPTY").replace(t.dir, "T")}: ${i.message}`);
    expect(msgs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^link\.yaml: resolves outside the manifests folder/),
        "sub/loop: symlink loop: this folder was already read",
        "nope: cannot read: ENOENT",
        "EMPTY: no *.yaml or *.yml files found in this folder",
      ]),
    );
    expect(r.desired).toBeUndefined();
  });
});

describe("policy", () => {
  const POLICY = `apiVersion: rekon.dev/v1alpha1
kind: DeletionPolicy
metadata: {name: prod}
spec:
  allowedAccounts: ["123456789012"]
  minAge: 7d
  keepLatest: 2
  maxDeletesPerRun: 5
  allowEmpty: true
  stopRunning: true
  rateLimits: {DeleteProjectVersion: 5, DescribeProjectVersions: 10}
`;
  it("loads every field", () => {
    const t = tree({ "p.yaml": POLICY });
    expect(loadPolicy(t.path("p.yaml")).policy).toMatchObject({ source: t.path("p.yaml"), name: "prod", allowedAccounts: ["123456789012"], enforceAccounts: true, enforceRegions: false, minAge: "7d", minAgeMs: 7 * 86_400_000, keepLatest: 2, maxDeletesPerRun: 5, allowEmpty: true, stopRunning: true, rateLimits: { DeleteProjectVersion: 5, DescribeProjectVersions: 10 }, protectTags: [], requireProjectTag: [], gracePeriodMs: 0, rules: [] });
  });
  it("defaults when no file is given", () => {
    expect(loadPolicy(undefined).policy).toMatchObject({ allowedAccounts: [], minAge: "24h", keepLatest: 1, maxDeletesPerRun: 10, allowEmpty: false, stopRunning: false, rateLimits: {} });
  });
  it.each([
    { name: "unquoted account ID", text: POLICY.replace('["123456789012"]', "[123456789012]"), want: "p.yaml:5:21: spec.allowedAccounts[0]: must be a string, got number 123456789012", fix: "quote" },
    { name: "bad duration", text: POLICY.replace("7d", "1 week"), want: 'p.yaml:6:11: spec.minAge: invalid value "1 week"', fix: "24h or 7d" },
    { name: "negative keepLatest", text: POLICY.replace("keepLatest: 2", "keepLatest: -1"), want: "p.yaml:7:15: spec.keepLatest: must be >= 0", fix: undefined },
    { name: "unknown field", text: POLICY.replace("allowEmpty: true", "allowEmpty: true\n  maxDeletes: 3"), want: 'p.yaml:10:3: spec.maxDeletes: unknown field "maxDeletes"', fix: "maxDeletesPerRun" },
    { name: "zero rate", text: POLICY.replace("DeleteProjectVersion: 5", "DeleteProjectVersion: 0"), want: "p.yaml:11:38: spec.rateLimits.DeleteProjectVersion: must be > 0", fix: undefined },
    { name: "a manifest instead of a policy", text: GOOD, want: "p.yaml:2:7: kind: --policy expects a DeletionPolicy, got ProjectVersionSet", fix: "--policy" },
  ])("$name", ({ text, want, fix }) => {
    const t = tree({ "p.yaml": text });
    const r = loadPolicy(t.path("p.yaml"));
    expect(r.policy).toBeUndefined();
    expect(r.issues.map((i) => formatIssue({ ...i, fix: undefined }).replace(t.dir + "/", ""))).toEqual([want]);
    if (fix) expect(r.issues[0]!.fix).toContain(fix);
  });
});
