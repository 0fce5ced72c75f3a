// One controller cycle: plan afresh from disk, export what was planned, and (when this instance may write)
// apply through the same planPass/applyAuthorized the CLI uses. The loop (run.ts) owns timing,
// signals and the catching of unexpected throws; a cycle only decides and reports.
import { realpathSync } from "node:fs";
import type { Logger } from "pino";
import type { WriteResult } from "../types.js";
import type { RetryOptions } from "../aws/retry.js";
import { formatIssue, ValidationError } from "../errors.js";
import { planExitCode } from "../plan.js";
import { inputsChangedSince } from "../inputs/index.js";
import { applyAuthorized, forgeableMarksNote, planPass, type PlannedPass, type ReconcileOptions } from "../reconcile.js";
import type { Plan, PolicySet } from "../types.js";
import { auditRecords, gitRevision, type AuditSink } from "./audit.js";
import { cycleStatus } from "./status.js";
import type { PlanStatus } from "../types/status.js";
import { recordDeletions, recordPlan, recordRequest, type ControllerMetrics, type CycleResult } from "./metrics.js";
import type { Notifier, Prepared } from "../notify/notifier.js";

export interface CycleInput {
  cycleId: string;
  manifests: string[];
  policy?: string;
  /** Apply this cycle: --apply and, with leader election, holding the lease when the cycle started. */
  write: boolean;
  /** Aborts AWS reads in flight: the cycle timeout, the end of the shutdown grace, a lost lease. */
  callSignal: AbortSignal;
  /** Once aborted, no new write is sent (shutdown has begun, the lease was lost); writes in flight are awaited. */
  writeSignal: AbortSignal;
  /**
   * Once aborted, writes still in flight are no longer awaited and are reported `unknown` (the end of the shutdown grace, the cycle timeout). Default:
   * never. */
  abandonSignal?: AbortSignal;
  /** Set when this cycle must not write (the manifests are stale): it still plans, then ends "refused". */
  writeBlock?: { rule: "manifestsStale"; message: string };
  /** This instance tells (it may write: it holds the lease, or runs without leader election). Default: no. */
  notify?: boolean;
  /** rekon run without --apply: deletions this cycle would make are told as `pending`. */
  dryRun?: boolean;
}

export interface CycleDeps {
  log: Logger;
  metrics: ControllerMetrics;
  audit: AuditSink;
  retry: RetryOptions;
  /** Endpoint/credential overrides (tests); users rely on the SDK's standard chain. */
  client?: ReconcileOptions["client"];
  /** The plan's clock (tests). Default: the verified clock (aws/clock.ts); audit records use the local clock. */
  now?: () => Date;
  /** The run's rate limiters (kept across cycles); see run.ts. */
  limitersFor?: ReconcileOptions["limitersFor"];
  /** The run's resolved identities (once per credential source per process). */
  identities?: ReconcileOptions["identities"];
  /** This instance's identity in the Lease, when leader-elected (for audit records). */
  leaseIdentity?: string;
  /** The last validated inputs, reused while the files hash the same. */
  inputsCache?: ReconcileOptions["inputsCache"];
  /** The run's notifier (one per process: it remembers what it told). */
  notifier?: Notifier;
}

export interface CycleOutcome {
  result: CycleResult;
  /** Whether manifests and policy were valid this cycle. */
  valid: boolean;
  plan?: Plan;
  results: WriteResult[];
  /** The manifests or policy changed while this cycle applied: the loop plans again at once. */
  inputsChanged?: boolean;
  /** AWS's clock minus the local one, as this cycle's answers told (the plan's times are on AWS's clock). */
  clockOffsetMs?: number;
  /** The plan compacted for the status page (made before the pass's live state is let go). */
  status?: PlanStatus;
}

/**
 * Resolve symlinks once, at the start: git-sync swaps its published link atomically, and reading every file
 * through the one folder it pointed to now means a cycle never mixes two revisions.
 */
function snapshot(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path; // missing: let the manifest reader say so, with its usual message
  }
}

/** Said once per process, not every cycle. */
const warnedUnsigned = new Set<string>();

export async function runCycle(input: CycleInput, deps: CycleDeps): Promise<CycleOutcome> {
  const { log, metrics } = deps;
  const manifests = input.manifests.map(snapshot);
  const policy = input.policy === undefined ? undefined : snapshot(input.policy);
  const revision = manifests.map(gitRevision).find((r) => r !== undefined);
  log.info({ manifests, ...(revision ? { gitRevision: revision } : {}), write: input.write }, "cycle started");

  const retry: RetryOptions = { ...deps.retry, signal: input.callSignal };

  // Notification channels are resolved once the policies are read; under requireNotice one that cannot be
  // used refuses the cycle (the gate sees it as a run refusal).
  let prepared: Prepared | undefined;
  const notifier = deps.notifier;
  const tell = input.notify === true && notifier !== undefined;
  const sendOpts = { cycleId: input.cycleId, ...(input.abandonSignal ? { signal: input.abandonSignal } : {}) };
  let pass;
  try {
    pass = await planPass({
      manifests,
      ...(policy !== undefined ? { policy } : {}),
      log,
      retry,
      ...(deps.client ? { client: deps.client } : {}),
      ...(deps.limitersFor ? { limitersFor: deps.limitersFor } : {}),
      ...(deps.identities ? { identities: deps.identities } : {}),
      ...(deps.inputsCache ? { inputsCache: deps.inputsCache } : {}),
      ...(input.writeBlock ? { refusals: [{ rule: input.writeBlock.rule, message: input.writeBlock.message }] } : {}),
      ...(notifier ? { refusalsFor: (i: { policies: PolicySet }) => (prepared = notifier.prepare(i.policies)).refusals } : {}),
      ...(deps.now ? { now: deps.now } : {}),
    });
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    // Fail closed: nothing is planned from the last good manifests, nothing is deleted, and the numbers
    // of the last good plan are withdrawn rather than left to look current.
    metrics.manifestValid.set(0);
    recordPlan(metrics, undefined);
    log.error({ issues: err.issues.map(formatIssue) }, `${err.issues.length} validation error(s) in manifests or policy: this cycle deletes nothing`);
    if (tell) await notifier.invalid(err.issues, policy, sendOpts);
    return { result: "invalid", valid: false, results: [] };
  }

  try {
    const plan = pass.plan;
    const clockOffsetMs = pass.clock.now() - Date.now();
    const note = forgeableMarksNote(pass);
    if (note && !warnedUnsigned.has(note)) {
      warnedUnsigned.add(note);
      log.warn(note);
    }
    metrics.manifestValid.set(1);
    recordPlan(metrics, plan, pass.policy.inference);
    for (const p of plan.projects.filter((x) => x.status !== "ok"))
      log.warn({ project: p.project, region: p.region, status: p.status, error: p.error }, "project not read: nothing in it is deleted");
    logPlan(log, plan);
    log.info({ summary: plan.summary, refusals: plan.refusals, policy: plan.policy }, "plan");
    // Stale manifests reach the gate as a run refusal: the plan shows it, and nothing is written.
    if (input.writeBlock) log.warn({ rule: input.writeBlock.rule, reason: input.writeBlock.message }, "refused: nothing is deleted this cycle");
    // What every outcome of this cycle carries; the status page's data is made before the writes (it shows the plan they came from).
    const base = { valid: true, plan, clockOffsetMs, status: cycleStatus(pass, log) };
    const planResult: CycleResult = plan.refusals.length > 0 ? "refused" : planExitCode(plan) === 1 ? "failed" : "ok";
    const notices =
      tell && prepared
        ? notifier.run(
            prepared,
            { plan, desired: pass.desired, policies: pass.policies, live: pass.live, ...(revision ? { gitRevision: revision } : {}) },
            { ...sendOpts, manifests: input.manifests, ...(input.policy !== undefined ? { policy: input.policy } : {}) },
          )
        : undefined;
    // Grace-period marks are writes too: a cycle with marks to write and nothing to delete yet must still
    // apply, or the first mark would never be written and nothing would ever become deletable. So are the
    // notices owed (a `marked` notice not yet delivered, a due reminder) and the tags that record them.
    const owed = notices ? plan.actions.filter((a) => a.notice === "pending" || a.reminder === "due").length : 0;
    // Starts and stops are writes of their own: a cycle whose only change is a model to start (its schedule
    // began) must apply.
    const writes = plan.summary.delete + plan.summary.start + plan.summary.stop + plan.actions.filter((a) => a.mark).length + owed;
    if (!input.write || writes === 0) {
      await notices?.planOnly({ pending: input.dryRun === true });
      return { result: planResult, ...base, results: [] };
    }

    const audit = auditor(input, deps, pass, revision);

    // AWS request metrics come from the run's limiters (run.ts), which see every attempt of every phase.
    const unobserve = deps.limitersFor ? () => undefined : pass.limiters.observe((e) => recordRequest(metrics, e));
    let outcome;
    try {
      // Each write is audited the moment its answer arrives, so a SIGKILL loses at most the calls in flight.
      // The check before each batch of writes hashes the paths as given (not the snapshot this cycle read):
      // behind git-sync's link they show the newly published revision.
      const given = { manifests: input.manifests, ...(input.policy !== undefined ? { policy: input.policy } : {}) };
      const inputsChanged = () => inputsChangedSince(given, { manifests: pass!.desired.digest, policy: pass!.policy.digest });
      outcome = await applyAuthorized(pass, log, {
        stop: input.writeSignal,
        ...(input.abandonSignal ? { abandon: input.abandonSignal } : {}),
        onResult: (r: WriteResult) => audit([r]),
        inputsChanged,
        ...(notices ? { notices: notices.hook() } : {}),
        // Refused: nothing is deleted; the plan's mark removals are still written (they can only delay a deletion).
        onRefused: async (err) => {
          log.warn({ rule: err.rule, reason: err.message }, "refused: nothing is deleted this cycle");
          await notices?.refused(err);
        },
      });
    } finally {
      unobserve();
    }
    const results = outcome.results;
    if (outcome.refused) {
      audit(results);
      return { result: "refused", ...base, results };
    }
    audit(results); // anything not yet audited (skipped at the end, unknown on abandon)
    recordDeletions(metrics, results, plan);

    const result: CycleResult = input.writeSignal.aborted ? "aborted" : writesFailed(results) || planResult !== "ok" ? "failed" : "ok";
    return { result, ...base, results, inputsChanged: results.some((r) => r.code === "manifestsChanged") };
  } finally {
    pass.close();
  }
}

/** One line per planned deletion; blocked, kept and missing versions only at debug: at 100,000 versions a
 * line each would be most of a cycle's work and of the log's volume (rekon explain answers "why kept"). */
function logPlan(log: Logger, plan: Plan): void {
  const debug = log.isLevelEnabled("debug");
  for (const a of plan.actions) {
    if (a.action !== "delete" && !debug) continue;
    const fields = {
      versionArn: a.versionArn ?? `${a.region}/${a.project}/${a.versionName}`,
      action: a.action,
      set: a.set,
      status: a.status,
      reasons: a.reasons.map((r) => r.rule),
    };
    if (a.action === "delete") log.info(fields, "planned");
    else log.debug(fields, "planned");
  }
}

/** Audit records of this cycle's writes, each written once, the moment its answer is known. */
function auditor(input: CycleInput, deps: CycleDeps, pass: PlannedPass, revision: string | undefined): (rs: WriteResult[]) => void {
  const audited = new Set<WriteResult>();
  const actors = Object.fromEntries(pass.live.identities.filter((i) => i.arn).map((i) => [i.source, i.arn!]));
  const auditCtx = {
    cycleId: input.cycleId,
    plan: pass.plan,
    desired: pass.desired,
    ...(revision ? { gitRevision: revision } : {}),
    now: deps.now ?? (() => new Date()),
    actors,
    policyDigest: pass.policy.digest,
    manifestsDigest: pass.desired.digest,
    ...(deps.leaseIdentity ? { lease: deps.leaseIdentity } : {}),
  };
  return (rs) => {
    const fresh = rs.filter((r) => !audited.has(r));
    fresh.forEach((r) => audited.add(r));
    deps.audit.write(auditRecords(fresh, auditCtx));
  };
}

/**
 * A write AWS refused, or one that may or may not have happened, fails the cycle; so does a version changed
 * because its tags could not be read, and a write skipped for any reason but the two that are the world
 * moving (the manifests changed: a new cycle starts at once; a notice not yet delivered: a hold with its
 * own alert) — a last look that could not read is a failed read, never a clean cycle. `changed` otherwise
 * is the world moving: re-planned next.
 */
function writesFailed(results: readonly WriteResult[]): boolean {
  return results.some(
    (r) =>
      r.result === "failed" ||
      r.result === "unknown" ||
      (r.result === "changed" && r.reasons?.some((x) => x.rule === "tagsUnreadable")) ||
      (r.result === "skipped" && r.code !== "manifestsChanged" && r.code !== "noticeNotDelivered"),
  );
}
