// The loader's one link rule (reconciler/inputs/files.ts): below a --manifests folder a symlink is followed
// only inside the folder and never into a path with a "."-segment; a refused link is an error, never a
// silent skip. The kubelet's ConfigMap layout is the one, narrow, exception.
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readManifestFiles } from "../../reconciler/inputs/files.js";
import { loadManifests } from "../../reconciler/inputs/manifests.js";
import { tmpTree } from "../helpers/tmp.js";

const SET = (name: string) => `apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata: {name: ${name}}\nspec:\n  project: ${name}\n  region: us-east-1\n  versions: [{name: v1}]\n`;
const TS = "..2026_11_28_12_00_00.123456789";

let cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.forEach((c) => c());
  cleanups = [];
});
/** A folder with files, then symlinks (path → link text), created in order. */
function tree(files: Record<string, string>, links: [string, string][] = []) {
  const t = tmpTree(files);
  cleanups.push(t.cleanup);
  for (const [at, text] of links) {
    mkdirSync(join(t.dir, at, ".."), { recursive: true });
    symlinkSync(text, t.path(at));
  }
  return t;
}
const read = (dir: string) => {
  const r = readManifestFiles([dir]);
  return { files: r.files.map((f) => f.file.replace(dir + "/", "")), issues: r.issues.map((i) => `${i.file.replace(dir + "/", "")}: ${i.message}`) };
};

describe("the link rule", () => {
  it.each<{ name: string; files: Record<string, string>; links: [string, string][]; at: string; to: string }>([
    { name: "a folder link into a dot-folder", files: { ".hidden/a.yaml": SET("a") }, links: [["team", ".hidden"]], at: "team", to: ".hidden" },
    { name: "a file link to a dot-file", files: { ".a.yaml": SET("a") }, links: [["a.yaml", ".a.yaml"]], at: "a.yaml", to: ".a.yaml" },
    { name: "a link into a dot-folder nested deeper", files: { "x/y/.old/z/a.yaml": SET("a") }, links: [["cur.yaml", "x/y/.old/z/a.yaml"]], at: "cur.yaml", to: "x/y/.old/z/a.yaml" },
    { name: "a chain whose last link enters .git", files: { ".git/a.yaml": SET("a") }, links: [["b.yaml", "c.yaml"], ["c.yaml", ".git/a.yaml"]], at: "b.yaml", to: ".git/a.yaml" },
    { name: "git-sync's .worktrees reached through a link", files: { ".worktrees/abc/a.yaml": SET("a") }, links: [["live", ".worktrees/abc"]], at: "live", to: ".worktrees/abc" },
    { name: "a kubelet-like link that is not at the top", files: { [`${TS}/a.yaml`]: SET("a") }, links: [["..data", TS], ["sub/a.yaml", "../..data/a.yaml"]], at: "sub/a.yaml", to: `${TS}/a.yaml` },
    { name: "a top-level link to ..data under another name", files: { [`${TS}/a.yaml`]: SET("a") }, links: [["..data", TS], ["b.yaml", "..data/a.yaml"]], at: "b.yaml", to: `${TS}/a.yaml` },
    { name: "..data/<name> where ..data is a real folder", files: { "..data/a.yaml": SET("a") }, links: [["a.yaml", "..data/a.yaml"]], at: "a.yaml", to: "..data/a.yaml" },
    { name: "..data pointing at a folder that is not ..-prefixed", files: { ".ts/a.yaml": SET("a") }, links: [["..data", ".ts"], ["a.yaml", "..data/a.yaml"]], at: "a.yaml", to: ".ts/a.yaml" },
  ])("refused, as an error naming the link and its target: $name", ({ files, links, at, to }) => {
    const t = tree(files, links);
    const r = read(t.dir);
    expect(r.issues).toContain(`${at}: symlink resolves into a dot-path (to ${to}): rekon never reads a file or folder whose name starts with ".", directly or through a link`);
    // plan, apply and validate stop on it: no desired state, so nothing is deleted.
    expect(loadManifests([t.dir]).desired).toBeUndefined();
  });

  it("links inside the folder that stay out of dot-paths are followed; case-variant extensions are read; order is stable", () => {
    const t = tree({ "shared/z.txt": SET("z"), "B.YAML": SET("b"), "c.Yml": SET("c") }, [["z.yaml", "shared/z.txt"], ["a.yaml", "z.yaml"]]);
    expect(read(t.dir)).toEqual({ files: ["B.YAML", "a.yaml", "c.Yml", "z.yaml"], issues: [] });
    // A folder is read once: a second way into it (a link to a folder the walk reaches anyway) is an error.
    const twice = tree({ "shared/a.yaml": SET("a") }, [["team", "shared"]]);
    expect(read(twice.dir).issues).toEqual(["team: symlink loop: this folder was already read"]);
  });

  it("dot-entries themselves are not read and not errors (.git, .github)", () => {
    const t = tree({ "a.yaml": SET("a"), ".github/workflow.yaml": "on: push\n", ".git/HEAD.yaml": "x" });
    expect(read(t.dir)).toEqual({ files: ["a.yaml"], issues: [] });
  });

  it("dangling links, loops and links out of the folder stay errors", () => {
    const out = tree({ "evil.yaml": SET("e") });
    const t = tree({ "a.yaml": SET("a") }, [["gone.yaml", "nothing.yaml"], ["loop.yaml", "loop.yaml"], ["out.yaml", out.path("evil.yaml")]]);
    expect(read(t.dir).issues).toEqual(["gone.yaml: cannot read: ENOENT", "loop.yaml: symlink loop", `out.yaml: resolves outside the manifests folder (to ${out.path("evil.yaml")})`]);
  });
});

describe("the kubelet's ConfigMap/Secret volume layout", () => {
  it("is followed: name -> ..data/name at the top, ..data -> ..<timestamp>, sub-folders included", () => {
    const t = tree({ [`${TS}/a.yaml`]: SET("a"), [`${TS}/team/b.yml`]: SET("b") }, [["..data", TS], ["a.yaml", "..data/a.yaml"], ["team", "..data/team"]]);
    expect(read(t.dir)).toEqual({ files: ["a.yaml", "team/b.yml"], issues: [] });
    expect(loadManifests([t.dir]).desired?.sets.map((s) => s.name)).toEqual(["a", "b"]);
  });

  it("a link inside the data folder that leaves it for a dot-path is still refused", () => {
    const t = tree({ [`${TS}/x`]: "", ".secret/c.yaml": SET("c") }, [["..data", TS], [`${TS}/c.yaml`, "../.secret/c.yaml"], ["c.yaml", "..data/c.yaml"]]);
    expect(read(t.dir).issues).toEqual(["c.yaml: symlink resolves into a dot-path (to .secret/c.yaml): rekon never reads a file or folder whose name starts with \".\", directly or through a link"]);
  });

  it("a file given directly is taken at its resolved location (--policy /etc/rekon/policy.yaml from a ConfigMap)", () => {
    const t = tree({ [`${TS}/policy.yaml`]: SET("p") }, [["..data", TS], ["policy.yaml", "..data/policy.yaml"]]);
    expect(readManifestFiles([t.path("policy.yaml")]).issues).toEqual([]);
  });

  it("git-sync: the given folder is a link to .worktrees/<hash>; the walk starts at the resolved folder", () => {
    const t = tree({ ".worktrees/abc/m/a.yaml": SET("a") }, [["repo", ".worktrees/abc"]]);
    const r = readManifestFiles([t.path("repo/m")]);
    expect(r.issues).toEqual([]);
    expect(r.files.map((f) => f.file)).toEqual([t.path("repo/m/a.yaml")]);
  });
});
