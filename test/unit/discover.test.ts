// discover's pure parts: names, manifest text, ownership, argument checks — exact values.
import { describe, expect, it } from "vitest";
import type { DiscoveredProject } from "../../reconciler/aws/discover.js";
import { discoverArgs } from "../../reconciler/discover/args.js";
import { ownerOf, setAccount } from "../../reconciler/discover/inventory.js";
import { renderManifest, setNameFor, starterManifests, uniqueNames } from "../../reconciler/discover/manifests.js";
import type { DesiredSet, LiveVersion } from "../../reconciler/types.js";

const A = "123456789012";
const NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;

function version(name: string, status: string, created: string, extra: Partial<LiveVersion> = {}): LiveVersion {
  const createdAt = Date.parse(created);
  return {
    arn: `arn:aws:rekognition:us-east-1:${A}:project/p/version/${name}/${createdAt}`,
    name,
    project: "p",
    region: "us-east-1",
    account: A,
    status,
    createdAt,
    feature: "CUSTOM_LABELS",
    ...extra,
  };
}

function project(name: string, versions: LiveVersion[], extra: Partial<DiscoveredProject> = {}): DiscoveredProject {
  return {
    source: "ambient",
    account: A,
    region: "us-east-1",
    project: name,
    projectArn: `arn:aws:rekognition:us-east-1:${A}:project/${name}/1`,
    projectStatus: "CREATED",
    feature: "CUSTOM_LABELS",
    versions,
    ...extra,
  };
}

describe("setNameFor", () => {
  it.each([
    ["shelf-scanner", "shelf-scanner"],
    ["Moderation_Adapter", "moderation-adapter"],
    ["__x__", "x"],
    ["-.a.-", "a"],
    ["___", "project"],
    ["1.0", "1.0"],
    ["A".repeat(255), "a".repeat(253)],
    ["a".repeat(252) + "_b", "a".repeat(252)],
  ])("%j → %j", (p, want) => {
    expect(setNameFor(p)).toBe(want);
    expect(setNameFor(p)).toMatch(NAME);
  });
});

describe("uniqueNames", () => {
  it("suffixes the region, then account and region, then a hash; never a taken name; order-independent", () => {
    const ps = [
      { account: A, region: "us-east-1", project: "shop" },
      { account: A, region: "eu-west-1", project: "shop" },
      { account: "210987654321", region: "us-east-1", project: "shop" },
      { account: A, region: "us-east-1", project: "Foo" },
      { account: A, region: "us-east-1", project: "foo" },
      { account: A, region: "us-east-1", project: "solo" },
      { account: A, region: "us-east-1", project: "taken" },
    ];
    const names = uniqueNames(ps, new Set(["taken"]));
    expect(Object.fromEntries(names)).toEqual({
      [`${A}/eu-west-1/shop`]: "shop-eu-west-1",
      [`${A}/us-east-1/shop`]: `shop-${A}-us-east-1`,
      [`210987654321/us-east-1/shop`]: "shop-210987654321-us-east-1",
      [`${A}/us-east-1/Foo`]: expect.stringMatching(/^foo-[0-9a-f]{8}$/),
      [`${A}/us-east-1/foo`]: expect.stringMatching(/^foo-[0-9a-f]{8}$/),
      [`${A}/us-east-1/solo`]: "solo",
      [`${A}/us-east-1/taken`]: "taken-us-east-1",
    });
    expect(new Set(names.values()).size).toBe(ps.length);
    expect(Object.fromEntries(uniqueNames([...ps].reverse(), new Set(["taken"])))).toEqual(Object.fromEntries(names));
    for (const n of names.values()) expect(n).toMatch(NAME);
  });
});

describe("renderManifest", () => {
  it("lists every version but DELETING ones, newest first, quoted, with a comment; region and roleArn only when not the default", () => {
    const p = project("p", [
      version("old", "STOPPED", "2026-01-01T00:00:00Z"),
      version("run", "RUNNING", "2026-03-01T00:00:00Z", { minInferenceUnits: 1, maxInferenceUnits: 3 }),
      version("gone", "DELETING", "2026-04-01T00:00:00Z"),
      version("true", "TRAINING_COMPLETED", "2026-02-01T00:00:00Z"),
    ]);
    expect(renderManifest(p, "p", { defaultRegion: "us-east-1", at: "2026-12-05T22:00:00Z" })).toBe(
      [
        "# Written by rekon discover at 2026-12-05T22:00:00Z from account 123456789012, us-east-1 (ambient credentials).",
        "# It lists every version that existed then (3; 1 DELETING left out), so rekon plan deletes none of them:",
        "# remove a version's line to let the policy delete it. Running state is not declared: rekon neither starts",
        "# nor stops these versions until you add `running:` (and `runtime: managed`); see docs/running.md.",
        "apiVersion: rekon.dev/v1alpha1",
        "kind: ProjectVersionSet",
        "metadata:",
        '  name: "p"',
        "spec:",
        '  project: "p"',
        "  versions:",
        '    - name: "run" # RUNNING, 1–3 IU, created 2026-03-01T00:00:00.000Z',
        '    - name: "true" # TRAINING_COMPLETED, created 2026-02-01T00:00:00.000Z',
        '    - name: "old" # STOPPED, created 2026-01-01T00:00:00.000Z',
        "",
      ].join("\n"),
    );
    const role = "arn:aws:iam::210987654321:role/r";
    const text = renderManifest({ ...p, source: role, versions: [] }, "p", { defaultRegion: "eu-west-1", at: "t" });
    expect(text).toContain(`spec:\n  project: "p"\n  region: "us-east-1"\n  roleArn: "${role}"\n  versions: []\n`);
  });
});

describe("starterManifests", () => {
  it("skips projects a set owns and projects being deleted, and files are <name>.yaml", () => {
    const ps = [project("a", []), project("b", []), project("c", [], { projectStatus: "DELETING" })];
    const out = starterManifests(ps, { at: "t", owned: (p) => (p.project === "b" ? "set-b" : undefined), taken: new Set(["set-b"]) });
    expect(out.manifests.map((m) => [m.file, m.name])).toEqual([["a.yaml", "a"]]);
    expect(out.skipped).toEqual([
      { project: "b", account: A, region: "us-east-1", why: 'already managed by ProjectVersionSet "set-b"' },
      { project: "c", account: A, region: "us-east-1", why: "the project is being deleted" },
    ]);
  });
});

describe("ownership", () => {
  const set = (name: string, project: string, region: string, roleArn?: string) => ({ name, project, region, ...(roleArn ? { roleArn } : {}) }) as DesiredSet;
  it("matches project, region and account (a role's account, or the ambient one)", () => {
    expect(setAccount(set("s", "p", "us-east-1", "arn:aws:iam::210987654321:role/x"), A)).toBe("210987654321");
    expect(setAccount(set("s", "p", "us-east-1"), A)).toBe(A);
    const sets = [set("east", "p", "us-east-1"), set("other", "p", "us-east-1", "arn:aws:iam::210987654321:role/x")];
    expect(ownerOf({ project: "p", region: "us-east-1", account: A }, sets, A)).toBe("east");
    expect(ownerOf({ project: "p", region: "us-east-1", account: "210987654321" }, sets, A)).toBe("other");
    expect(ownerOf({ project: "p", region: "eu-west-1", account: A }, sets, A)).toBeUndefined();
    expect(ownerOf({ project: "q", region: "us-east-1", account: A }, sets, A)).toBeUndefined();
  });
});

describe("discoverArgs", () => {
  it("defaults: the default region, all features, no roles", () => {
    expect(discoverArgs({}, "eu-west-1")).toEqual({ regions: ["eu-west-1"], roles: [], features: ["CUSTOM_LABELS", "CONTENT_MODERATION"] });
  });
  it("takes repeated regions and roles once each, and a feature", () => {
    const r = "arn:aws:iam::210987654321:role/rekon-read";
    expect(
      discoverArgs({ region: ["us-east-1", "eu-west-1", "us-east-1"], "role-arn": [r, r], feature: "adapters", "write-manifests": "out" }, undefined),
    ).toEqual({
      regions: ["us-east-1", "eu-west-1"],
      roles: [r],
      features: ["CONTENT_MODERATION"],
      writeTo: "out",
    });
  });
  it.each([
    [{}, undefined, "no region: pass --region REGION (repeatable) or set AWS_REGION"],
    [{ region: ["US-EAST-1"] }, undefined, '--region "US-EAST-1" is not an AWS region code (e.g. us-east-1)'],
    [{ "role-arn": ["rekon"] }, "us-east-1", '--role-arn "rekon" is not an IAM role ARN (e.g. arn:aws:iam::123456789012:role/rekon-read)'],
    [{ feature: "labels" }, "us-east-1", "--feature must be one of: custom-labels, adapters, all"],
  ])("%j refused", (flags, dflt, message) => {
    expect(() => discoverArgs(flags, dflt)).toThrow(message);
  });
});
