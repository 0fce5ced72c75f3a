// The last look's read of a project's newest versions: how many pages it reads, and that it stays complete
// when the listing is not in the order it relies on (newest first).
import { describe, expect, it } from "vitest";
import { confirmGone, readLook, readNewest } from "../../reconciler/aws/look.js";
import type { LookSpec } from "../../reconciler/types.js";

const ACCOUNT = "123456789012";
const PROJECT_ARN = `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/p/1`;
const T0 = Date.parse("2026-01-01T00:00:00Z");
const desc = (name: string, created: number, extra: Record<string, unknown> = {}) => ({
  ProjectVersionArn: `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/p/version/${name}/${created}`,
  Status: "STOPPED",
  CreationTimestamp: new Date(created),
  ...extra,
});

/** A fake DescribeProjectVersions over `all` (in the given order), paged by MaxResults; records each call. */
function fake(all: ReturnType<typeof desc>[]) {
  const calls: Record<string, unknown>[] = [];
  return {
    calls,
    async send(cmd: { input: Record<string, unknown> }) {
      const input = cmd.input;
      calls.push(input);
      if (input.VersionNames) return { ProjectVersionDescriptions: all.filter((d) => (input.VersionNames as string[]).some((n) => d.ProjectVersionArn.includes(`/version/${n}/`))), $metadata: {} };
      const start = Number(input.NextToken ?? 0);
      const size = Number(input.MaxResults ?? 100);
      const page = all.slice(start, start + size);
      return { ProjectVersionDescriptions: page, ...(start + size < all.length ? { NextToken: String(start + size) } : {}), $metadata: {} };
    },
  };
}

const spec = (over: Partial<LookSpec> = {}): LookSpec => ({ project: "p", region: "us-east-1", projectArn: PROJECT_ARN, names: [], tags: false, tagArns: new Set(), planNewest: undefined, ...over });
const many = (n: number, from = 0) => Array.from({ length: n }, (_, i) => desc(`v${String(from + n - i).padStart(4, "0")}`, T0 + (from + n - i) * 1000));

describe("readNewest", () => {
  it.each([
    { name: "a small project is read in one call, whole", versions: many(30), planNewest: T0 + 30_000, calls: 1, count: 30 },
    { name: "a large project: one page reaches back past the plan's newest", versions: many(300), planNewest: T0 + 300_000, calls: 1, count: 100 },
    { name: "150 versions created since the plan: the look reads on until it reaches the plan's newest", versions: many(450), planNewest: T0 + 300_000, calls: 2, count: 200 },
    { name: "no version at plan time: every page", versions: many(250), planNewest: undefined, calls: 3, count: 250 },
  ])("$name", async ({ versions, planNewest, calls, count }) => {
    const f = fake(versions);
    const r = await readNewest(f, spec({ planNewest }));
    expect(f.calls.length).toBe(calls);
    expect(r.versions.length).toBe(count);
    // Every version at least as new as the plan's newest is there.
    for (const d of versions) if (planNewest === undefined || d.CreationTimestamp.getTime() >= planNewest) expect(r.versions.map((v) => v.arn)).toContain(d.ProjectVersionArn);
  });

  it("a listing that is not newest first is read whole: a new copy listed last is still seen", async () => {
    const old = many(300).reverse(); // oldest first
    const copy = desc("copy-of-v0001", T0 + 999_000, { Status: "COPYING_IN_PROGRESS" });
    const f = fake([...old, copy]);
    const r = await readNewest(f, spec({ planNewest: T0 + 300_000 }));
    expect(f.calls.length).toBe(4);
    expect(r.complete).toBe(true);
    expect(r.versions.map((v) => v.name)).toContain("copy-of-v0001");
  });

  it("readLook takes the named versions from the pages read where they are, and asks by name only for the rest", async () => {
    const f = fake(many(300));
    const look = await readLook(f, spec({ planNewest: T0 + 300_000, names: ["v0300", "v0250", "v0005", "v0004"] }), { now: () => 1, withTags: false });
    expect(f.calls.map((c) => (c.VersionNames ? "names" : "page"))).toEqual(["page", "names"]);
    expect(f.calls[1]!.VersionNames).toEqual(["v0005", "v0004"]);
    expect([...look.byName.keys()].sort()).toEqual(["v0004", "v0005", "v0250", "v0300"]);
    // A whole listing answers every name: nothing is asked by name.
    const g = fake(many(20));
    const small = await readLook(g, spec({ planNewest: T0 + 20_000, names: ["v0003", "gone"] }), { now: () => 1, withTags: false });
    expect(g.calls.length).toBe(1);
    expect([...small.byName.keys()]).toEqual(["v0003"]);
  });

  it("an answer rekon cannot understand fails the look", async () => {
    const f = fake([desc("v1", T0), { ...desc("v2", T0 - 1), ProjectVersionArn: "arn:aws:rekognition:us-east-1:999999999999:project/other/version/v2/1" }]);
    await expect(readNewest(f, spec({ planNewest: T0 }))).rejects.toThrow(/does not belong to project p/);
  });
});

describe("confirmGone", () => {
  it.each([
    { name: "not listed", versions: [], gone: true },
    { name: "DELETING", versions: [desc("x", T0, { Status: "DELETING" })], gone: true },
    { name: "still STOPPED", versions: [desc("x", T0)], gone: false },
    { name: "another version with the name (a new ARN)", versions: [desc("x", T0 + 5)], gone: true },
  ])("$name", async ({ versions, gone }) => {
    const r = await confirmGone(fake(versions), spec(), "x", desc("x", T0).ProjectVersionArn);
    expect(r.gone).toBe(gone);
  });
});
