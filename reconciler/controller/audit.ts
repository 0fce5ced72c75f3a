// Audit records: one per write result (deletion, stop-then-delete, grace-period mark), so "who deleted this
// model, and why" can be answered from the log alone. Each names the version ARN, the decision and the
// rules that fired, the manifest and ProjectVersionSet that no longer listed it, the manifests' Git
// revision, and AWS's request id (CloudTrail's requestID for the same call).
//
// Where they go, in this order: --audit-file (appended, synchronously), then stdout as their own JSON
// lines (`"schema":"rekon.audit/v1"`, nothing else is written there by `rekon run`), then the log line
// "audit". stdout is the default route into a cluster's log pipeline: container runtimes collect it with
// no volume or flag, and a collector can pick the records by their schema field, apart from the log lines
// on stderr. The schema is an interface (docs/audit.md): fields are added, never renamed or removed,
// without a new schema name.
import { appendFileSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import type { Logger } from "pino";
import type { WriteResult } from "../types.js";
import type { DesiredState, Plan, Reason } from "../types.js";

/** Names the record's shape; a breaking change gets a new name (docs/audit.md). */
export const AUDIT_SCHEMA = "rekon.audit/v1";

export interface AuditRecord {
  schema: typeof AUDIT_SCHEMA;
  time: string;
  cycleId: string;
  versionArn: string;
  versionName: string;
  project: string;
  region: string;
  /** The planned action that led here (e.g. "delete"). */
  decision: string;
  /** What AWS answered: accepted, alreadyDeleted, failed, skipped; archiving (spec.archive: the copy is in progress, the source held). */
  result: string;
  /** Which write: delete (default), stop (stop-then-delete failed at the stop), mark or unmark (grace period). */
  operation: string;
  stoppedAfterMs?: number;
  /** Rules that fired for this version (none for a plain delete: every guard passed); for `changed`, those the last look found. */
  reasons: Reason[];
  policy: { source: string; name: string; digest?: string };
  /** Who wrote: the caller ARN the credentials resolved to (STS), and the Lease holder identity when leader-elected. */
  actor?: { callerArn?: string; account?: string; lease?: string };
  /** Digest of the manifests the plan was made from (with gitRevision when the checkout tells it). */
  manifestsDigest?: string;
  /** metadata.name of the ProjectVersionSet that owns the project. */
  set: string;
  manifestFile?: string;
  /** Git commit of the manifests, when it can be told from the checkout. */
  gitRevision?: string;
  requestId?: string;
  code?: string;
  error?: string;
  /** A deletion under spec.archive: its archive step (the copy's project, name, how it went, its status). */
  archive?: { project: string; versionName: string; copy: string; status?: string };
  /** The ARN of the archived copy (a deletion under spec.archive): what `rekon restore` copies back. */
  archivedAs?: string;
}

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * The commit the manifests at `path` were checked out at, without running git: git-sync names each
 * checkout folder after its commit (the published symlink points at it), else `.git/HEAD` is resolved
 * (a plain clone, or a worktree whose `.git` file points at its gitdir). Undefined when neither says.
 */
export function gitRevision(path: string): string | undefined {
  let dir = resolve(path);
  try {
    if (!statSync(dir).isDirectory()) dir = dirname(dir);
  } catch {
    return undefined;
  }
  for (;;) {
    if (SHA.test(basename(dir))) return basename(dir);
    const dotGit = join(dir, ".git");
    const st = statOrUndefined(dotGit);
    if (st?.isDirectory()) return headOf(dotGit);
    if (st?.isFile()) {
      const m = /^gitdir:\s*(.+)$/m.exec(readOrEmpty(dotGit));
      if (m) return headOf(isAbsolute(m[1]!.trim()) ? m[1]!.trim() : resolve(dir, m[1]!.trim()));
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

function headOf(gitDir: string): string | undefined {
  const head = readOrEmpty(join(gitDir, "HEAD")).trim();
  if (SHA.test(head)) return head;
  const ref = /^ref:\s*(\S+)$/.exec(head)?.[1];
  if (!ref) return undefined;
  // Worktrees keep refs in the common dir.
  const common = readOrEmpty(join(gitDir, "commondir")).trim();
  const dirs = [gitDir, ...(common ? [resolve(gitDir, common)] : [])];
  for (const d of dirs) {
    const loose = readOrEmpty(join(d, ref)).trim();
    if (SHA.test(loose)) return loose;
    for (const line of readOrEmpty(join(d, "packed-refs")).split("\n")) {
      const [sha, name] = line.trim().split(" ");
      if (name === ref && sha && SHA.test(sha)) return sha;
    }
  }
  return undefined;
}

export interface AuditContext {
  cycleId: string;
  plan: Plan;
  desired: DesiredState;
  gitRevision?: string;
  now: () => Date;
  /** Caller ARN per credential source ("ambient" or the role ARN). */
  actors?: Record<string, string>;
  lease?: string;
  policyDigest?: string;
  manifestsDigest?: string;
}

export function auditRecords(results: WriteResult[], ctx: AuditContext): AuditRecord[] {
  const actions = new Map(ctx.plan.actions.filter((a) => a.versionArn).map((a) => [a.versionArn!, a]));
  const files = new Map(ctx.desired.sets.map((s) => [s.name, s.pos.file]));
  return results.map((r) => {
    const a = actions.get(r.versionArn);
    const set = a?.set ?? "";
    const manifestFile = files.get(set);
    return {
      schema: AUDIT_SCHEMA,
      time: ctx.now().toISOString(),
      cycleId: ctx.cycleId,
      versionArn: r.versionArn,
      versionName: r.versionName,
      project: r.project,
      region: r.region,
      decision: a?.action ?? "unknown",
      result: r.result,
      operation: r.operation,
      ...(r.stoppedAfterMs !== undefined ? { stoppedAfterMs: r.stoppedAfterMs } : {}),
      reasons: r.reasons ?? a?.reasons ?? [],
      policy: { ...ctx.plan.policy, ...(ctx.policyDigest ? { digest: ctx.policyDigest } : {}) },
      actor: {
        ...(ctx.actors?.[r.roleArn ?? "ambient"] ? { callerArn: ctx.actors[r.roleArn ?? "ambient"] } : {}),
        ...(r.account ? { account: r.account } : {}),
        ...(ctx.lease ? { lease: ctx.lease } : {}),
      },
      ...(ctx.manifestsDigest ? { manifestsDigest: ctx.manifestsDigest } : {}),
      set,
      ...(manifestFile ? { manifestFile } : {}),
      ...(ctx.gitRevision ? { gitRevision: ctx.gitRevision } : {}),
      ...(r.requestId ? { requestId: r.requestId } : {}),
      ...(r.code ? { code: r.code } : {}),
      ...(r.error ? { error: r.error } : {}),
      ...(r.archive
        ? {
            archive: {
              project: r.archive.project,
              versionName: r.archive.versionName,
              copy: r.archive.copy,
              ...(r.archive.status ? { status: r.archive.status } : {}),
            },
          }
        : {}),
      ...(r.archivedAs ? { archivedAs: r.archivedAs } : {}),
    };
  });
}

export class AuditSink {
  /** Records that could not be appended to the file, for the life of the process. */
  failures = 0;

  constructor(
    private readonly log: Logger,
    private readonly file?: string,
    private readonly onFailure?: () => void,
    /** Each record as its own JSON line (`rekon run`: stdout); none when absent. */
    private readonly out?: NodeJS.WritableStream,
    /** Told of each record once written (the status page's timeline). */
    private readonly observe?: (rec: AuditRecord) => void,
  ) {}

  write(records: AuditRecord[]): void {
    for (const rec of records) {
      if (this.file) {
        try {
          // Synchronous, and before the log line: once the log shows a record, the file has it too.
          appendFileSync(this.file, JSON.stringify(rec) + "\n");
        } catch (err) {
          // Not only a log line: the cycle is failed and a counter moves, so a full or read-only volume is seen.
          this.failures++;
          this.onFailure?.();
          this.log.error({ file: this.file, err: (err as Error).message }, "cannot append to the audit file; the record is on stdout and in the next log line");
        }
      }
      // A pipe to the container runtime is written synchronously on Linux, so a SIGKILL right after an
      // answer loses nothing here either; a reader that went away costs the line, never the write.
      this.out?.write(JSON.stringify(rec) + "\n");
      this.log.child({ versionArn: rec.versionArn }).info({ audit: rec }, "audit");
      this.observe?.(rec);
    }
  }
}

function statOrUndefined(p: string) {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

function readOrEmpty(p: string): string {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return "";
  }
}
