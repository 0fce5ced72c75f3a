// The Git commands `rekon diff` runs: plumbing only (rev-parse, ls-tree, cat-file), binary-safe, so a
// revision is read exactly as Git stores it, with no filter, no textconv and no encoding change.
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { UsageError } from "../errors.js";

const run = promisify(execFile);

function failed(args: string[], e: { code?: string | number; stderr?: string | Buffer; message: string }): UsageError {
  if (e.code === "ENOENT") return new UsageError("rekon diff needs the git command");
  return new UsageError(
    `git ${args.join(" ")}: ${
      String(e.stderr || e.message)
        .trim()
        .split("\n")[0]
    }`,
  );
}

export async function git(args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run("git", args, { cwd, maxBuffer: 256 * 1024 * 1024, encoding: "utf8" });
    return stdout;
  } catch (e) {
    throw failed(args, e as { code?: string; stderr?: string; message: string });
  }
}

/** Run git with `input` on stdin; stdout as bytes. */
function gitBytes(args: string[], cwd: string, input: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, { cwd, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", (e) => reject(failed(args, e as { code?: string; message: string })));
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(failed(args, { code: code ?? "signal", stderr: err, message: `exit ${code}` }));
    });
    child.stdin.end(input);
  });
}

export interface TreeEntry {
  /** 100644 / 100755 (file), 120000 (symlink: the blob is the link text), 160000 (submodule: a commit elsewhere). */
  mode: string;
  oid: string;
  /** Repository-relative, "/"-separated. */
  path: string;
}

/**
 * Every file, symlink and submodule of a commit, with `--full-tree` so the answer does not depend on the
 * folder git runs in. The whole tree is listed (names only, cheap): a symlink may point anywhere in it.
 */
export async function listTree(commit: string, repo: string): Promise<TreeEntry[]> {
  const out = await git(["ls-tree", "-r", "-z", "--full-tree", commit], repo);
  return out
    .split("\0")
    .filter(Boolean)
    .map((line) => {
      const tab = line.indexOf("\t");
      const [mode, , oid] = line.slice(0, tab).split(" ");
      return { mode: mode!, oid: oid!, path: line.slice(tab + 1) };
    });
}

/** The exact bytes of each blob (`git cat-file --batch`: raw objects, no filters), by object id. */
export async function readBlobs(oids: string[], repo: string): Promise<Map<string, Buffer>> {
  const unique = [...new Set(oids)];
  const blobs = new Map<string, Buffer>();
  if (unique.length === 0) return blobs;
  const out = await gitBytes(["cat-file", "--batch"], repo, unique.join("\n") + "\n");
  let at = 0;
  for (const oid of unique) {
    const nl = out.indexOf(10, at);
    const header = out.subarray(at, nl).toString("utf8").split(" ");
    if (header[1] !== "blob") throw new UsageError(`git cat-file: object ${oid} is ${header[1] ?? "unreadable"}, not a blob`);
    const size = Number(header[2]);
    blobs.set(oid, out.subarray(nl + 1, nl + 1 + size));
    at = nl + 1 + size + 1;
  }
  return blobs;
}
