// One apply under way: its slots, results and breakers, what stops it (a signal, changed inputs, a clock
// that drifted), and what AWS's answer to a write means as a result.
import type { Logger } from "pino";
import type { WriteCall } from "../aws/client.js";
import { readLook, readVersionsNamed, type ReadClient } from "../aws/look.js";
import { GateError, type Gate, type Look } from "../gate/index.js";
import { projectKey, type LiveVersion, type PlanAction, type WriteResult } from "../types.js";
import { firstLine } from "../text.js";
import {
  APPLY_DEFAULTS,
  Changed,
  denialOutcome,
  givesUpOnProject,
  InputsChanged,
  type ApplyContext,
  type ArchiveTarget,
  type AwsAnswer,
  type Slot,
} from "./context.js";
import type { Denial } from "../gate/index.js";

/** One apply under way: its planned writes, their results as they are decided, and the project breakers. */
export class Run {
  readonly now: () => number;
  readonly concurrency: number;
  readonly lookMaxAgeMs: number;
  readonly deletions: Slot[] = [];
  readonly marks: Slot[] = [];
  /** Listed versions stopped (running state), before the deletions; started after them. */
  readonly stops: Slot[] = [];
  readonly starts: Slot[] = [];
  /** Notice and reminder tags, planned once their delivery is known (noticePhase). */
  readonly all: Slot[];
  /** Set once the results were handed back: nothing changes them after that. */
  closed = false;
  // Project breakers: after a project-level failure nothing more is sent in that project this run:
  // writes not yet sent are skipped, and writes being retried stop after their current attempt.
  readonly tripped = new Map<string, string>();
  readonly breakers = new Map<string, AbortController>();
  /** Deletions under spec.archive whose copy exists: where each last look reads it (by source version ARN). */
  readonly archiveTargets = new Map<string, ArchiveTarget>();

  constructor(readonly ctx: ApplyContext) {
    this.now = ctx.now ?? Date.now;
    this.concurrency = Math.max(1, ctx.concurrency ?? APPLY_DEFAULTS.concurrency);
    this.lookMaxAgeMs = ctx.lookMaxAgeMs ?? APPLY_DEFAULTS.lookMaxAgeMs;
    for (const a of ctx.plan.actions) {
      if (!a.versionArn) continue;
      const action = a as PlanAction & { versionArn: string };
      if (a.action === "delete" && ctx.auth.deletable.has(a.versionArn)) this.deletions.push({ action, operation: "delete", sent: false });
      if (a.mark) this.marks.push({ action, operation: a.mark === "add" ? "mark" : "unmark", sent: false });
      const rt = ctx.auth.runtime.get(a.versionArn);
      if (rt && a.action === rt) (rt === "stop" ? this.stops : this.starts).push({ action, operation: rt, sent: false });
    }
    this.all = [...this.stops, ...this.deletions, ...this.starts, ...this.marks];
  }

  /** Why writes stopped under this run (the inputs changed, or the clock drifted), once they have. */
  halted?: { code: "manifestsChanged" | "clockSkew"; why: string };
  readonly halt = new AbortController();

  stopped(): boolean {
    return this.ctx.stop?.aborted === true || this.halted !== undefined;
  }

  /** Before a batch of writes: are the manifests and policy still the ones the plan was made from, and the clock still right? */
  inputsStillHold(): boolean {
    if (this.halted !== undefined) return false;
    const changed = this.ctx.inputsChanged?.();
    const skew = changed === undefined ? this.ctx.clockProblem?.() : undefined;
    if (changed === undefined && skew === undefined) return true;
    this.halted = changed !== undefined ? { code: "manifestsChanged", why: changed } : { code: "clockSkew", why: skew! };
    if (changed !== undefined)
      this.ctx.log.warn({ reason: changed }, "the manifests or policy changed during the apply: no further write; the next plan acts on them");
    else this.ctx.log.error({ reason: skew }, "the local clock drifted from AWS's during the apply: no further write");
    this.halt.abort(new Error(this.halted.why));
    return false;
  }

  /** The result of a write that was not sent because the run stopped (a signal, the inputs changed, the clock drifted). */
  notSent(what: string, extra: Partial<WriteResult> = {}): Partial<WriteResult> & Pick<WriteResult, "result"> {
    if (this.halted === undefined) return { result: "skipped", error: `interrupted before ${what} was sent`, ...extra };
    const next = this.halted.code === "manifestsChanged" ? "; the next plan acts on them" : "";
    return { result: "skipped", code: this.halted.code, error: `not sent: ${this.halted.why}${next}`, ...extra };
  }

  finish(s: Slot, r: Partial<WriteResult> & Pick<WriteResult, "result">): void {
    if (s.result || this.closed) return; // decided once
    const a = s.action;
    s.result = {
      project: a.project,
      region: a.region,
      ...(a.account ? { account: a.account } : {}),
      ...(a.roleArn ? { roleArn: a.roleArn } : {}),
      versionName: a.versionName,
      versionArn: a.versionArn,
      operation: s.operation,
      ...(a.action === "delete" || a.action === "start" || a.action === "stop" ? { planned: a.action } : {}),
      ...(s.archive ? { archive: s.archive, ...(s.archive.versionArn ? { archivedAs: s.archive.versionArn } : {}) } : {}),
      ...r,
    };
    this.ctx.onResult?.(s.result);
  }

  breaker(a: PlanAction): AbortController {
    let b = this.breakers.get(projectKey(a));
    if (!b) this.breakers.set(projectKey(a), (b = new AbortController()));
    return b;
  }

  trip(a: PlanAction, code: string | undefined, log: Logger): void {
    const k = projectKey(a);
    if (this.tripped.has(k) || !givesUpOnProject(code)) return;
    this.tripped.set(k, `an earlier call in project ${a.project} (${a.region}) gave up (${code})`);
    log.error({ project: a.project, region: a.region, code }, "giving up on the rest of this project in this run");
    this.breaker(a).abort(new Error(this.tripped.get(k)));
  }

  /** No new attempt once the run stops or the project's breaker trips. */
  stopFor(a: PlanAction): AbortSignal {
    return AbortSignal.any([...(this.ctx.stop ? [this.ctx.stop] : []), this.breaker(a).signal, this.halt.signal]);
  }

  decideDenied(s: Slot, d: Denial, log: Logger): void {
    // A deletion held back by its archive copy (failed, vanished, no longer complete) is a failure, not a change
    // of plan: the undo the policy requires is missing.
    const copy = d.reasons.filter((x) => x.rule === "notArchived");
    if (copy.length && !d.gone) {
      if (s.archive) s.archive.copy = "failed";
      log.error({ versionArn: s.action.versionArn, reasons: d.reasons }, "archive copy not complete at the last look: not deleted");
      return this.finish(s, { result: "failed", code: "notArchived", reasons: d.reasons, error: `not deleted: ${copy.map((x) => x.message).join("; ")}` });
    }
    this.finish(s, denialOutcome(s, d, log));
  }

  /** What AWS's answer (or its absence) means for this write. Trips the project's breaker where due. */
  outcome(s: Slot, call: WriteCall<AwsAnswer>, log: Logger, what: string): Partial<WriteResult> & Pick<WriteResult, "result"> {
    if (call.kind === "ok") {
      log.info({ versionArn: s.action.versionArn, status: call.output.Status, requestId: call.output.$metadata.requestId }, `${what} accepted`);
      return {
        result: "accepted",
        ...(call.output.Status ? { status: call.output.Status } : {}),
        ...(call.output.$metadata.requestId ? { requestId: call.output.$metadata.requestId } : {}),
      };
    }
    if (call.kind === "cancelled") {
      const e = call.error;
      if (e instanceof Changed) return denialOutcome(s, e.denial, log);
      if (e instanceof InputsChanged) return this.notSent(`the ${what}`);
      if (e instanceof GateError) throw e;
      const code = (e as { code?: string }).code;
      this.trip(s.action, code, log);
      return { result: "skipped", ...(code ? { code } : {}), error: `not sent: the last look failed (${firstLine((e as Error).message)})` };
    }
    const e = call.error;
    const req = e.requestId ? { requestId: e.requestId } : {};
    if (call.kind === "unknown") {
      log.error({ versionArn: s.action.versionArn, code: e.code, err: e.message }, `${what} unanswered: it may have happened`);
      return {
        result: "unknown",
        code: e.code,
        error: `sent, but no answer settled it (${e.message}); it may have happened — the next plan re-reads it`,
        ...req,
      };
    }
    if (call.interrupted) {
      if (this.halted !== undefined) return this.notSent(`the ${what}`);
      const why =
        this.tripped.get(projectKey(s.action)) && !this.stopped()
          ? `not sent again: ${this.tripped.get(projectKey(s.action))}; it is retried on the next run`
          : `interrupted before the ${what} was sent`;
      return { result: "skipped", error: `${why}${e.code !== "Interrupted" ? ` (the last answer was ${e.code}: it did not happen)` : ""}` };
    }
    log.error({ versionArn: s.action.versionArn, code: e.code, err: e.message }, `${what} failed`);
    this.trip(s.action, e.code, log);
    return { result: "failed", code: e.code, error: e.message, ...req };
  }
}

/**
 * The last look for planned writes of one project (aws/look.ts readLook, on what the gate says to read).
 * Throws when a read fails, or when the gate cannot say what to read.
 */
export async function lastLook(
  client: ReadClient,
  gate: Gate,
  actions: readonly PlanAction[],
  signal: AbortSignal | undefined,
  now: () => number,
  withTags = true,
  archives?: ReadonlyMap<string, ArchiveTarget>,
): Promise<Look & { tagsNeeded: boolean }> {
  const spec = gate.lookFor(actions);
  if (!spec) throw Object.assign(new Error("the project's ARN is not known, so the versions cannot be looked at again"), { code: "NoProjectArn" });
  const look = await readLook(client, spec, { ...(signal ? { signal } : {}), now, withTags });
  // Archive before delete: the copies are read with the sources, so the gate approves a deletion on the very
  // look that saw its copy COPYING_COMPLETED (a copy deleted or failed since is seen here, not assumed).
  const mine = actions.flatMap((a) => (a.versionArn && archives?.get(a.versionArn) ? [[a.versionArn, archives.get(a.versionArn)!] as const] : []));
  if (mine.length === 0) return look;
  const copies = new Map<string, LiveVersion>();
  for (const t of new Map(mine.map(([, t]) => [t.projectArn, t])).values()) {
    const here = mine.filter(([, x]) => x.projectArn === t.projectArn);
    const read = await readVersionsNamed(
      client,
      t,
      here.map(([, x]) => x.name),
      signal,
    );
    for (const [arn, x] of here) {
      const v = read.find((c) => c.name === x.name);
      if (v) copies.set(arn, v);
    }
  }
  return { ...look, archives: copies };
}
