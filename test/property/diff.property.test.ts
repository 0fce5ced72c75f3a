// `rekon diff` reads a Git revision as plan reads a checkout of it (issue #21): over generated trees of
// files, symlinks (inside, outside, into dot-folders, dangling, chains, loops, absolute), dot-folders,
// case-variant extensions, multi-document, CRLF and non-UTF-8 files, committed to a real repository, the
// desired state, the policies and every issue that diff's materialisation reads (readRevision) equal what
// validateInputs reads from a Git checkout of the same commit into another folder, file names mapped.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mapStrings, readRevision } from "../../reconciler/diff.js";
import { validateInputs } from "../../reconciler/inputs/index.js";

const RUNS = Number(process.env.REKON_DIFF_PROPERTY_RUNS ?? 40);
const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: "rekon-test", GIT_AUTHOR_EMAIL: "test@rekon.invalid", GIT_COMMITTER_NAME: "rekon-test", GIT_COMMITTER_EMAIL: "test@rekon.invalid", GIT_CONFIG_NOSYSTEM: "1" };

let tmp: string;
let repo: string;
beforeAll(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), "rekon-diffprop-")));
  repo = join(tmp, "repo");
  mkdirSync(repo);
  git(repo, "init", "-q", "-b", "main");
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "commit.gpgsign=false", "-c", "core.symlinks=true", ...args], { cwd, encoding: "utf8", env: GIT_ENV }).trim();
}

const set = (name: string, project: string, region: string, versions: string[]) =>
  `apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata: {name: ${name}}\nspec:\n  project: ${project}\n${region ? `  region: ${region}\n` : ""}  versions: [${versions.map((v) => `{name: ${v}}`).join(", ")}]\n`;
const layer = (name: string, minAge: string) => `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata: {name: ${name}}\nspec:\n  selector: {projects: [p1]}\n  minAge: ${minAge}\n`;
const CONTENTS: (string | Buffer)[] = [
  set("s1", "p1", "us-east-1", ["v1", "v2"]),
  set("s2", "p2", "", ["v3"]),
  set("s3", "p1", "eu-west-1", ["v1"]),
  set("s1", "p3", "us-east-1", ["v9"]) + "---\n" + set("s4", "p4", "us-east-1", ["v8"]),
  set("s5", "p5", "us-east-1", ["a", "b"]).replace(/\n/g, "\r\n"),
  layer("strict", "30d"),
  layer("strict", "2d"),
  "apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata: {name: bad}\nspec:\n  project: p6\n  versons: []\n",
  "key: [unclosed\n",
  "",
  Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0a]),
];

const DIRS = ["m", "m", "m", "m/sub", "m/sub/deep", "m/.hidden", "m/.hidden", "m/sub/.git", "m/..data", "other", "other", ".dot"];
const NAMES = ["a.yaml", "b.YML", "c.Yaml", "d.yml", "e.txt", ".f.yaml", "team", "l1", "l2"];
// Link texts written out (dangling, absolute, climbing, into dot-folders); most links instead point at
// another generated entry (a file, a folder, or another link: chains and loops), so they resolve.
const TARGETS = ["nope.yaml", "/nonexistent-rekon/x.yaml", "..", ".", "../other", ".hidden", "../.dot/a.yaml", "..data/a.yaml", "sub/deep/../a.yaml", "l1"];

type Spec = { path: string; content?: string | Buffer; link?: string }[];
type Gen = { dir: string; name: string; content?: string | Buffer; target?: string | number };

const entryArb: fc.Arbitrary<Gen> = fc.oneof(
  fc.record({ dir: fc.constantFrom(...DIRS), name: fc.constantFrom(...NAMES), content: fc.constantFrom(...CONTENTS) }),
  fc.record({ dir: fc.constantFrom(...DIRS), name: fc.constantFrom(...NAMES), target: fc.oneof({ weight: 1, arbitrary: fc.constantFrom(...TARGETS) }, { weight: 3, arbitrary: fc.nat(20) }) }),
);
const specArb = fc.record({ entries: fc.array(entryArb, { minLength: 2, maxLength: 14 }), viaLink: fc.boolean(), policy: fc.constantFrom("none", "file", "link") });

/** Entries that fit in one tree (no path both a file and a folder), plus m/keep.txt so that m exists. */
function toSpec(entries: Gen[]): Spec {
  const out: Spec = [{ path: "m/keep.txt", content: "kept\n" }];
  const clash = (p: string) => out.some((e) => e.path === p || e.path.startsWith(p + "/") || p.startsWith(e.path + "/"));
  const paths = entries.map((e) => `${e.dir}/${e.name}`);
  for (const [i, e] of entries.entries()) {
    const path = paths[i]!;
    if (clash(path)) continue;
    if (e.target === undefined) out.push({ path, content: e.content! });
    // A number points at another generated entry (or one of its folders), written relative to the link.
    else if (typeof e.target === "number") {
      const to = paths[e.target % paths.length]!;
      const target = e.target % 3 === 0 ? dirname(to) : to;
      out.push({ path, link: relative(dirname(path), target) || "." });
    } else out.push({ path, link: e.target });
  }
  return out;
}

function commit(spec: Spec): string {
  for (const name of readdirSync(repo)) if (name !== ".git") rmSync(join(repo, name), { recursive: true, force: true });
  for (const e of spec) {
    mkdirSync(dirname(join(repo, e.path)), { recursive: true });
    if (e.link !== undefined) symlinkSync(e.link, join(repo, e.path));
    else writeFileSync(join(repo, e.path), e.content!);
  }
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "--allow-empty", "-m", "revision");
  return git(repo, "rev-parse", "HEAD");
}

describe("diff's materialisation reads what a checkout reads", () => {
  it(
    "desired state, policies and issues agree with validateInputs on a checkout",
    async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(specArb, async ({ entries, viaLink, policy }) => {
          const spec = toSpec(entries);
          if (viaLink) spec.push({ path: "mm", link: "m" }); // the --manifests path itself a link (git-sync-like)
          if (policy === "file") spec.push({ path: "p.yaml", content: "apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata: {name: ops}\nspec:\n  minAge: 2d\n" });
          if (policy === "link") spec.push({ path: "p.yaml", link: "other/a.yaml" });
          const manifests = viaLink ? "mm" : "m";
          const commitId = commit(spec);
          const run = join(tmp, `run${n++}`);
          const checkout = join(run, "checkout");
          mkdirSync(run);
          // A real checkout of the commit into another folder (Git's own checkout code, symlinks included).
          mkdirSync(checkout);
          git(repo, `--work-tree=${checkout}`, "checkout", "-q", "-f", commitId, "--", ".");
          try {
            const into = join(run, "diff");
            mkdirSync(into);
            const got = await readRevision({ repo, commit: commitId, label: "REV", manifests: [manifests], ...(policy !== "none" ? { policy: "p.yaml" } : {}), into });
            const want = validateInputs({ manifests: [join(checkout, manifests)], ...(policy !== "none" ? { policy: join(checkout, "p.yaml") } : {}) }, { requireRegion: false });
            // Names: the checkout's folder is the repository (desired state) or REV: (issues).
            const inRepo = (s: string) => s.split(checkout + "/").join("").split(checkout).join(".");
            const asRef = (s: string) => s.split(checkout + "/").join("REV:").split(checkout).join("REV:.");
            expect({ desired: got.desired, policies: got.policies, issues: got.issues, notes: got.notes }).toEqual({
              desired: mapStrings(want.desired, inRepo),
              policies: mapStrings(want.policies, inRepo),
              issues: mapStrings(want.issues, asRef),
              notes: mapStrings(want.notes, inRepo),
            });
          } finally {
            rmSync(run, { recursive: true, force: true });
          }
        }),
        { numRuns: RUNS },
      );
    },
    // Bounded: about half a second a run on a busy two-core machine (git processes dominate).
    Math.max(60_000, RUNS * 3_000),
  );
});
