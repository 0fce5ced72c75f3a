// The documentation, run. Two promises a reader relies on: a link goes somewhere, and an example does what
// the page says it does.
//
// (a) Links: every relative link in README.md, docs/*.md, SECURITY.md and CHANGELOG.md resolves to a file or
//     folder of the repository, and every `#anchor` into a markdown file (or within one) is a heading there,
//     slugged as GitHub does (lowercase; punctuation dropped; spaces to '-'; a repeated heading gets -1, -2).
//     Repository paths written in backticks (`test/e2e/gate.test.ts`, `reconciler/aws/clock.ts`) must exist
//     too: the safety guarantees cite tests by path. The rule ids the docs list are reconciler/rules.ts's.
//
// (b) Runnable blocks. A ```sh block is run when the line just before it is a marker:
//
//       <!-- runnable -->                 every command must exit 0
//       <!-- runnable exit=2 -->          the block's last command must exit 2 (e.g. a plan with deletions pending)
//       <!-- runnable requires=aws -->    skipped, saying why, where the aws CLI is not installed
//
//     A command may state its own status in a trailing comment (`rekon plan …   # exit 2: deletions pending`);
//     every other command must exit 0. Each block runs as a person would paste it: one bash reading it line
//     by line (continuations joined; `export`, `cd` and `&` carry on to the next line; `kill %1` works), in a
//     fresh copy of the repository's manifests/, deploy/ and scripts/, with `rekon` and `npx rekon` mapped to
//     the built binary and the environment the README's tour sets (AWS_ENDPOINT_URL_REKOGNITION and _STS,
//     AWS_REGION, fake keys, no profile files). Each block gets its own emulator with the demo inventory, in
//     process, unless the block starts one itself (`rekon emulator --port 4566 … &`); the example ports 4566
//     (emulator) and 8080 (`rekon run --listen`) are mapped to free ones. After a line that backgrounds a
//     process listening on one of those ports, the run waits until the port answers, as a person would wait
//     for its "listening on" line.
//
//     Left unmarked, because they cannot run here: blocks that need Docker or a container registry
//     (docker build, cosign), a Kubernetes cluster (kubectl), a real AWS account or IAM (aws iam, aws
//     cloudtrail), a real webhook (Slack), git tags and remotes of a release, npm publishing, or files only
//     the reader has (the README's "Rehearse first" block names the reader's own inventory; it is run by
//     test/e2e/readme-rehearsal.test.ts with the demo inventory in its place); and blocks that are not shell
//     (YAML, JSON, program output, synopses with [optional] arguments).
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import pLimit from "p-limit";
import { afterAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import { BIN, ROOT } from "../helpers/run-cli.js";

const PAGES = ["README.md", "SECURITY.md", "CHANGELOG.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

// ---------- Markdown: headings, links, blocks (outside code fences only) ----------

interface Block {
  page: string;
  line: number;
  marker: string;
  text: string;
}
interface Page {
  anchors: Set<string>;
  links: { target: string; line: number }[];
  paths: { path: string; line: number }[];
  blocks: Block[];
  /** Markers not directly followed by a ```sh fence (a misplaced marker would silently run nothing). */
  strayMarkers: number[];
}

/** GitHub's heading anchor: inline markup dropped, lowercase, punctuation removed, spaces to '-'. */
export function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/[`*_~]/g, (c) => (c === "_" ? "_" : ""))
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
}

const MARKER = /^<!--\s*runnable(?<attrs>(?:\s+[a-z]+=[^\s>]+)*)\s*-->$/;
const REPO_PATH = /`((?:test|reconciler|deploy|scripts|schemas|bench|docs)\/[A-Za-z0-9_./-]+)`/g;

function parsePage(page: string): Page {
  const lines = readFileSync(join(ROOT, page), "utf8").split("\n");
  const out: Page = { anchors: new Set(), links: [], paths: [], blocks: [], strayMarkers: [] };
  const seen = new Map<string, number>();
  let fence: { open: string; start: number; marker?: string } | undefined;
  lines.forEach((raw, i) => {
    const fenceMatch = /^\s*(```|~~~)/.exec(raw);
    if (fence) {
      if (fenceMatch && raw.trim() === fence.open) {
        if (fence.marker !== undefined) out.blocks.push({ page, line: fence.start + 1, marker: fence.marker, text: lines.slice(fence.start + 1, i).join("\n") });
        fence = undefined;
      }
      return;
    }
    if (fenceMatch) {
      const prev = lines[i - 1]?.trim() ?? "";
      const marker = MARKER.test(prev) ? prev : undefined;
      if (marker && raw.trim() !== "```sh") out.strayMarkers.push(i);
      fence = { open: fenceMatch[1]!, start: i, ...(marker && raw.trim() === "```sh" ? { marker } : {}) };
      return;
    }
    if (MARKER.test(raw.trim()) && !/^\s*```sh\s*$/.test(lines[i + 1] ?? "")) out.strayMarkers.push(i + 1);
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(raw);
    if (h) {
      const base = slug(h[1]!);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      out.anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of raw.matchAll(REPO_PATH)) out.paths.push({ path: m[1]!, line: i + 1 });
    // Links outside inline code: `[x](y)` in backticks is an example, not a link.
    for (const m of raw.replace(/`[^`]*`/g, "").matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) out.links.push({ target: m[1]!, line: i + 1 });
  });
  return out;
}

const parsed = new Map(PAGES.map((p) => [p, parsePage(p)]));

/** Where a markdown file's anchors come from, parsing pages outside the list on demand. */
function anchorsOf(page: string): Set<string> {
  if (!parsed.has(page)) parsed.set(page, parsePage(page));
  return parsed.get(page)!.anchors;
}

describe("(a) links and paths in the documentation", () => {
  it("every relative link resolves to a file, and every #anchor to a heading there", () => {
    const broken: string[] = [];
    for (const [page, p] of parsed) {
      for (const { target, line } of p.links) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
        const [path, anchor] = target.split("#") as [string, string | undefined];
        const file = path === "" ? page : relative(ROOT, resolve(ROOT, dirname(page), decodeURIComponent(path)));
        if (file.startsWith("..") || !existsSync(join(ROOT, file))) {
          broken.push(`${page}:${line}: ${target}: no such file`);
          continue;
        }
        if (anchor !== undefined && file.endsWith(".md") && !anchorsOf(file).has(anchor)) broken.push(`${page}:${line}: ${target}: no heading "#${anchor}" in ${file}`);
      }
    }
    expect(broken).toEqual([]);
    expect([...parsed.values()].reduce((n, p) => n + p.links.length, 0)).toBeGreaterThan(50);
  });

  it("every repository path named in backticks exists (the tests the safety guarantees cite, the modules the docs point at)", () => {
    const missing = [...parsed].flatMap(([page, p]) => p.paths.filter(({ path }) => !existsSync(join(ROOT, path))).map(({ path, line }) => `${page}:${line}: ${path}`));
    expect(missing).toEqual([]);
  });

  it("the rule ids docs/manifests-and-policy.md lists are exactly reconciler/rules.ts's, and each is explained in a table row", () => {
    const src = readFileSync(join(ROOT, "reconciler/rules.ts"), "utf8");
    const union = new Set(
      [...src.matchAll(/export type (?:Guard|Hold|Refusal|Approval|Other|Runtime)Rule =([^;]+);/g)].flatMap((m) => [...m[1]!.matchAll(/"([A-Za-z]+)"/g)].map((x) => x[1]!)),
    );
    expect(union.size).toBeGreaterThan(40);
    const doc = readFileSync(join(ROOT, "docs/manifests-and-policy.md"), "utf8");
    const section = doc.slice(doc.indexOf("\n## Rule ids\n"), doc.indexOf("\n## ", doc.indexOf("\n## Rule ids\n") + 5));
    const table = section.slice(section.indexOf("| kind | ids |"), section.indexOf("\n\n", section.indexOf("| kind | ids |")));
    const listed = new Set([...table.matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]!));
    expect([...listed].sort()).toEqual([...union].sort());
    const explained = new Set([...doc.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1]!));
    expect([...union].filter((r) => !explained.has(r))).toEqual([]);
  });

  it("no runnable marker is misplaced (it must sit on the line just before a ```sh fence)", () => {
    expect([...parsed].flatMap(([page, p]) => p.strayMarkers.map((l) => `${page}:${l}`))).toEqual([]);
  });
});

// ---------- Running a block ----------

interface Command {
  text: string;
  background: boolean;
  /** The status it must end in; for a background command that listens on an example port, 0 means the port answered. */
  expect?: number;
  /** The port a background command listens on (its `--port` or `--listen`), once mapped. */
  listens?: number;
}

/**
 * The commands a shell reads from the block: a newline ends one unless it is escaped (a continuation, joined)
 * or inside quotes (a multi-line argument, kept); a comment runs to the end of its line.
 */
function logicalLines(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "\\" && text[i + 1] === "\n") {
      cur += " ";
      i++;
      continue;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "#" && (cur === "" || /\s/.test(cur.at(-1)!))) {
      const end = text.indexOf("\n", i) === -1 ? text.length : text.indexOf("\n", i);
      cur += text.slice(i, end);
      i = end - 1;
      continue;
    } else if (c === "\n") {
      out.push(cur);
      cur = "";
      continue;
    }
    cur += c;
  }
  if (cur) out.push(cur);
  return out;
}

/** The block as a person pastes it, command by command, comment-only lines dropped, with the status each must end in. */
export function commandsOf(text: string, lastExit: number): Command[] {
  const out: Command[] = [];
  for (const line of logicalLines(text)) {
    if (!line.trim() || line.trim().startsWith("#")) continue;
    const at = commentAt(line);
    const comment = line.slice(at);
    const code = line.slice(0, at).trimEnd();
    const stated = /\bexit (\d+)\b/.exec(comment)?.[1];
    out.push({ text: line, background: /[^&]&$/.test(code), ...(stated !== undefined ? { expect: Number(stated) } : {}) });
  }
  const last = [...out].reverse().find((c) => !c.background);
  if (last && last.expect === undefined) last.expect = lastExit;
  for (const c of out) if (!c.background && c.expect === undefined) c.expect = 0;
  return out;
}

/** Where a shell comment starts on a line: the first `#` after whitespace, outside quotes (the line's length if none). */
function commentAt(line: string): number {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]!))) return i;
  }
  return line.length;
}

function attrs(marker: string): { exit: number; requires: string[] } {
  const a = Object.fromEntries([...(MARKER.exec(marker)!.groups!.attrs ?? "").matchAll(/([a-z]+)=([^\s>]+)/g)].map((m) => [m[1]!, m[2]!]));
  const unknown = Object.keys(a).filter((k) => k !== "exit" && k !== "requires");
  if (unknown.length) throw new Error(`unknown marker attribute(s) ${unknown.join(", ")} in ${marker}`);
  return { exit: Number(a.exit ?? 0), requires: a.requires ? a.requires.split(",") : [] };
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const scratch = mkdtempSync(join(tmpdir(), "rekon-docs-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** `rekon` and `npx rekon` as the built binary; any other npx use would reach for the registry, so it fails. */
function binDir(): string {
  const dir = join(scratch, "bin");
  if (existsSync(dir)) return dir;
  mkdirSync(dir);
  writeFileSync(join(dir, "rekon"), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  writeFileSync(join(dir, "npx"), `#!/bin/sh\nif [ "$1" = rekon ]; then shift; exec "${dir}/rekon" "$@"; fi\necho "npx $*: only 'npx rekon' runs in the docs test" >&2\nexit 127\n`);
  for (const f of ["rekon", "npx"]) chmodSync(join(dir, f), 0o755);
  return dir;
}

/** The script bash reads: each foreground command followed by a line recording its status; waits after listeners. */
function script(cmds: Command[], rcFile: string): string {
  // Polls the port (bash's /dev/tcp) while the process that should open it ($2) is alive; 20 s at most.
  const wait =
    `__wait_port() { for __i in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; ` +
    `kill -0 "$2" 2>/dev/null || break; sleep 0.1; done; echo "port $1 never answered" >&2; return 1; }`;
  const body = cmds.map((c, i) => {
    if (!c.background) return `${c.text}\necho "${i} $?" >> "${rcFile}"`;
    return c.listens !== undefined ? `${c.text}\n__wait_port ${c.listens} $!\necho "${i} $?" >> "${rcFile}"` : c.text;
  });
  return [wait, ...body, ""].join("\n");
}

/** Background commands that listen on one of the mapped ports must come up: the run waits for them, and checks. */
function markListeners(cmds: Command[], ports: number[]): Command[] {
  for (const c of cmds) {
    const port = c.background ? ports.find((p) => new RegExp(`(?:--port |:)${p}\\b`).test(c.text)) : undefined;
    if (port !== undefined) Object.assign(c, { listens: port, expect: 0 });
  }
  return cmds;
}

interface BlockRun {
  statuses: Map<number, number>;
  stdout: string;
  stderr: string;
  cmds: Command[];
}

async function runBlock(block: Pick<Block, "text" | "marker">): Promise<BlockRun> {
  const work = mkdtempSync(join(scratch, "block-"));
  for (const d of ["manifests", "deploy", "scripts"]) cpSync(join(ROOT, d), join(work, d), { recursive: true });
  const ownEmulator = /\brekon emulator\b[^\n]*&\s*(#.*)?$/m.test(block.text.replace(/\\\n/g, " "));
  let emu: Emulator | undefined;
  const emuPort = ownEmulator ? await freePort() : (emu = await startEmulator({ deleteDelayMs: 300 })).port;
  const listenPort = await freePort();
  const text = block.text.replace(/\b4566\b/g, String(emuPort)).replace(/\b8080\b/g, String(listenPort));
  const cmds = markListeners(commandsOf(text, attrs(block.marker).exit), [emuPort, listenPort]);
  const rcFile = join(work, ".statuses");
  writeFileSync(join(work, ".block.sh"), script(cmds, rcFile));
  const url = `http://127.0.0.1:${emuPort}`;
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AWS_")));
  const env = {
    ...base,
    PATH: `${binDir()}:${process.env.PATH ?? ""}:${dirname(process.execPath)}`,
    HOME: work,
    GIT_CONFIG_NOSYSTEM: "1",
    NO_COLOR: "1",
    COLUMNS: "120",
    AWS_ENDPOINT_URL_REKOGNITION: url,
    AWS_ENDPOINT_URL_STS: url,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "x",
    AWS_SECRET_ACCESS_KEY: "x",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_PAGER: "",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
  try {
    const { stdout, stderr } = await bash(join(work, ".block.sh"), work, env);
    const statuses = new Map(
      (existsSync(rcFile) ? readFileSync(rcFile, "utf8") : "")
        .trim()
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split(" ").map(Number) as [number, number]),
    );
    return { statuses, stdout, stderr, cmds };
  } finally {
    await emu?.close();
  }
}

/** bash reading the script, in its own process group so that whatever the block left running is ended with it. */
function bash(file: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn("bash", ["--noprofile", "--norc", file], { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const killGroup = () => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // the group is already gone
      }
    };
    const timer = setTimeout(killGroup, 40_000);
    child.on("error", reject);
    child.on("exit", () => {
      clearTimeout(timer);
      killGroup();
    });
    child.on("close", () => resolvePromise({ stdout, stderr }));
  });
}

/** What went wrong with a run, command by command; [] when every command exited as stated. */
function mismatches(r: BlockRun): string[] {
  return r.cmds.flatMap((c, i) => {
    if (c.background && c.listens === undefined) return [];
    const got = r.statuses.get(i);
    if (got === c.expect) return [];
    return [`\`${c.text.trim()}\` exited ${got ?? "(never ran)"}, expected ${c.expect}`];
  });
}

const tail = (s: string) => s.split("\n").slice(-25).join("\n");

function hasTool(tool: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" }).status === 0;
}

const blocks = [...parsed.values()].flatMap((p) => p.blocks).filter((b) => !b.page.endsWith("CHANGELOG.md"));
const limit = pLimit(3);

describe("(b) runnable blocks run against the emulator", () => {
  it("the runner catches a broken block: a misspelt flag exits non-zero where the page says 0", async () => {
    const r = await limit(() => runBlock({ marker: "<!-- runnable -->", text: "rekon plan --manifest manifests --policy deploy/policy.yaml\n" }));
    expect(mismatches(r)).toHaveLength(1);
    expect(r.stderr).toContain("--manifest");
  }, 60_000);

  it("the runner catches a background process that never listens, and a command that exits as the page did not say", async () => {
    const r = await limit(() => runBlock({ marker: "<!-- runnable exit=2 -->", text: "rekon emulator --port 4566 --no-such-flag &\nrekon version\n" }));
    expect(mismatches(r)).toEqual([
      expect.stringMatching(/^`rekon emulator --port \d+ --no-such-flag &` exited 1, expected 0/),
      "`rekon version` exited 0, expected 2",
    ]);
  }, 60_000);

  it("the docs mark their examples runnable", () => {
    expect(blocks.filter((b) => b.page === "README.md").length).toBeGreaterThanOrEqual(5);
    expect(new Set(blocks.map((b) => b.page)).size).toBeGreaterThanOrEqual(6);
  });

  it.concurrent.for(blocks.map((b) => ({ ...b, name: `${b.page}:${b.line}` })))("$name", { timeout: 90_000 }, async (b, ctx) => {
    const missing = attrs(b.marker).requires.filter((t) => !hasTool(t));
    if (missing.length) return ctx.skip(`${missing.join(", ")} not installed here`);
    const r = await limit(() => runBlock(b));
    ctx.expect(mismatches(r), `${b.page}:${b.line}\n--- stdout\n${tail(r.stdout)}\n--- stderr\n${tail(r.stderr)}`).toEqual([]);
  });
});
