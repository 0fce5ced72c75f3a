// What to tell, from what a run planned and what AWS answered: pure, no I/O, no clock (`now` is given), so
// the same run always produces the same events and the same delivery ids.
//
// Delivery ids. Each event carries a `deliveryId` derived from the channel, the event and the one fact that
// makes it this event — the version's ARN and its mark for `marked`, `reminder` and `pending`; the ARN alone
// for `deleted` (a version is deleted once); the ARN, the write and the plan's time for `failed` (each
// failure is news); the rules, manifests revision and policy digest for `refused`; the subject and the
// manifests revision for `readFailed`. A retry, a second run or a restarted controller that tells the same
// thing again sends the same id, so a receiver can drop what it has already seen. (A request's own
// X-Rekon-Delivery is derived from the ids it carries.)
import { createHash } from "node:crypto";
import { formatMark, MARK_TAG } from "../policy/guards.js";
import { stateTagTime } from "../policy/marks.js";
import { effectivePolicy } from "../policy/layers.js";
import { approveCommand } from "../render/approve-command.js";
import type {
  DesiredState,
  LiveState,
  NotificationChannel,
  NotificationEventKind,
  Plan,
  PlanAction,
  PolicySet,
  Reason,
  WriteOperation,
  WriteOutcome,
  WriteResult,
} from "../types.js";

/** One event as it is sent (schemas/notification.schema.json, `events[]`). */
export interface NotificationItem {
  event: NotificationEventKind;
  deliveryId: string;
  /** When rekon decided it: the plan's time (so a retried request carries the same body). */
  time: string;
  account?: string;
  region?: string;
  project?: string;
  projectArn?: string | null;
  versionName?: string;
  versionArn?: string;
  set?: string;
  owner?: string;
  /** Why: the rules that fired (refused, pending, a changed write), or what failed (readFailed). */
  reasons: Reason[];
  /** The version's pending-delete mark (RFC 3339 UTC). */
  markedAt?: string;
  /** Not deleted before this time (marked, reminder); with requireNotice a lower bound: counted from the notice's delivery. */
  deletableAfter?: string;
  /** marked, reminder under requireApproval: the exact `rekon approve` command (with the paths rekon was given). */
  approve?: string;
  /** For a deleted version under spec.archive: the ARN of its archived copy (docs/archive.md). */
  archivedAs?: string;
  /** For a failed or deleted write: which write, what AWS answered. */
  operation?: WriteOperation;
  result?: WriteOutcome;
  code?: string;
  error?: string;
  requestId?: string;
  policy: { name: string; digest: string };
  /** revision: the Git revision of the manifests when known, else their digest. */
  manifests: { revision: string; digest: string };
}

/** An event before it is addressed to a channel: its decisive fact, and whose channels get it. */
export interface EventFact extends Omit<NotificationItem, "deliveryId"> {
  /** The fact that makes it this event (see the delivery ids above). */
  key: string;
  /** A project's channels (its effective policy's), or every channel of every layer (a run-wide event). */
  scope: { project: string } | "all";
}

export interface EventContext {
  plan: Plan;
  desired: DesiredState;
  policies: PolicySet;
  /** The live facts the plan was made from (tags: marks and notices). */
  live: LiveState;
  /** The manifests' Git revision, when the checkout tells it. */
  gitRevision?: string;
  /** The manifests and policy paths rekon was given: what a `marked` notice's approve command names. */
  inputs?: { manifests: readonly string[]; policy?: string };
}

/** The approve command for a marked version whose policy waits for a person's approval; else nothing. */
function approveFor(ctx: EventContext, a: PlanAction): { approve?: string } {
  if (!ctx.inputs || !effectivePolicy(ctx.policies, a.project).requireApproval) return {};
  return { approve: approveCommand({ project: a.project, version: a.versionName }, ctx.inputs) };
}

/** sha256 hex, shortened: an id, not a signature. */
function id(...parts: string[]): string {
  return createHash("sha256").update(parts.join("\0")).digest("hex").slice(0, 32);
}

export function deliveryIdFor(channel: string, fact: Pick<EventFact, "event" | "key">): string {
  return id(channel, fact.event, fact.key);
}

/** A request's id: stable for the same channel and the same events, whatever their order. */
export function batchIdFor(channel: string, itemIds: readonly string[]): string {
  return id(channel, ...[...itemIds].sort());
}

/** The channels (of every layer) that get `kind` for this scope. */
export function channelsFor(policies: PolicySet, scope: EventFact["scope"], kind: NotificationEventKind): NotificationChannel[] {
  const all = scope === "all" ? allChannels(policies) : effectivePolicy(policies, scope.project).notifications;
  return all.filter((c) => c.events.includes(kind));
}

/** A channel and whether the operator's policy declared it (else a manifest layer added it). */
export interface DeclaredChannel extends NotificationChannel {
  operator: boolean;
}

/** Every channel of every layer, once each (names are unique across layers), with the layer it came from. */
export function allChannels(policies: PolicySet): DeclaredChannel[] {
  const seen = new Map<string, DeclaredChannel>();
  for (const c of policies.operator.notifications) if (!seen.has(c.name)) seen.set(c.name, { ...c, operator: true });
  for (const c of policies.scoped.flatMap((s) => s.spec.notifications ?? [])) if (!seen.has(c.name)) seen.set(c.name, { ...c, operator: false });
  return [...seen.values()];
}

/**
 * Whether only the operator's channels can deliver a `marked` notice (requireNotice, the notice tag): yes
 * when the operator's policy has a channel for `marked`. requireNotice promises that the operator's own
 * receiver heard before anything is deleted; a pull request may add a channel, and a receiver that always
 * answers 2xx must not stand in for one that is down. Without an operator channel for `marked`, the
 * operator has named no receiver for notices, and any layer's channel counts (a layer that turns
 * requireNotice on must bring one: layers.ts checkLayers).
 */
export function operatorNotices(policies: PolicySet): boolean {
  return policies.operator.notifications.some((c) => c.events.includes("marked"));
}

/** Whether requireNotice is in force anywhere (the operator's policy or a layer). */
export function requiresNotice(policies: PolicySet): boolean {
  return policies.operator.requireNotice || policies.scoped.some((s) => s.spec.requireNotice === true);
}

class Builder {
  private readonly sets: Map<string, DesiredState["sets"][number]>;
  private readonly projectArns: Map<string, string | null>;
  private readonly versions: Map<string, { tags?: Record<string, string> }>;
  private readonly actions: Map<string, PlanAction>;
  readonly common: Pick<NotificationItem, "time" | "policy" | "manifests">;

  constructor(private readonly ctx: EventContext) {
    this.sets = new Map(ctx.desired.sets.map((s) => [s.name, s]));
    this.projectArns = new Map(ctx.plan.projects.map((p) => [p.set, p.projectArn]));
    this.versions = new Map(ctx.live.projects.flatMap((p) => p.versions.map((v) => [v.arn, v] as const)));
    this.actions = new Map(ctx.plan.actions.filter((a) => a.versionArn).map((a) => [a.versionArn!, a]));
    this.common = {
      time: ctx.plan.generatedAt,
      policy: { name: ctx.policies.operator.name, digest: ctx.policies.operator.digest },
      manifests: { revision: ctx.gitRevision ?? ctx.desired.digest, digest: ctx.desired.digest },
    };
  }

  get revision(): string {
    return this.common.manifests.revision;
  }

  /** What every event about a set says: where, whose. */
  about(x: {
    set: string;
    project: string;
    region: string;
    account?: string;
  }): Pick<NotificationItem, "account" | "region" | "project" | "projectArn" | "set" | "owner"> {
    const owner = this.sets.get(x.set)?.owner;
    return {
      ...(x.account ? { account: x.account } : {}),
      region: x.region,
      project: x.project,
      projectArn: this.projectArns.get(x.set) ?? null,
      set: x.set,
      ...(owner !== undefined ? { owner } : {}),
    };
  }

  action(arn: string): PlanAction | undefined {
    return this.actions.get(arn);
  }

  /** The time the version's mark records (a signed value's time part; for telling, not deciding). */
  markOf(arn: string): string | undefined {
    const v = this.versions.get(arn)?.tags?.[MARK_TAG];
    return v === undefined ? undefined : stateTagTime(v);
  }

  version(a: PlanAction): Pick<NotificationItem, "versionName" | "versionArn"> {
    return { versionName: a.versionName, versionArn: a.versionArn! };
  }

  fact(
    event: NotificationEventKind,
    key: string,
    scope: EventFact["scope"],
    rest: Omit<NotificationItem, "event" | "deliveryId" | "time" | "policy" | "manifests">,
  ): EventFact {
    return { event, key, scope, ...this.common, ...rest };
  }
}

/**
 * Events a plan alone tells: the run refused (its refusals, or `refusals` the caller met), reads that
 * failed, and — the controller without --apply — the deletions it would make (`pending`).
 */
export function planEvents(ctx: EventContext, opts: { pending: boolean; refusals?: readonly Reason[] }): EventFact[] {
  const b = new Builder(ctx);
  const out: EventFact[] = [];
  const refusals = [...ctx.plan.refusals, ...(opts.refusals ?? []).filter((r) => !ctx.plan.refusals.some((x) => x.rule === r.rule && x.message === r.message))];
  if (refusals.length) out.push(refusedFact(b, refusals));
  for (const p of ctx.plan.projects) {
    if (p.status !== "error") continue;
    out.push(
      b.fact(
        "readFailed",
        [p.set, p.project, p.region, "project", b.revision].join("\0"),
        { project: p.project },
        { ...b.about(p), reasons: [{ rule: "readFailed", message: p.error ?? "the project could not be read" }] },
      ),
    );
  }
  for (const a of ctx.plan.actions) {
    if (!a.versionArn) continue;
    const unreadable = a.reasons.filter((r) => r.rule === "tagsUnreadable");
    if (unreadable.length)
      out.push(
        b.fact(
          "readFailed",
          [a.set, a.project, a.region, a.versionArn, b.revision].join("\0"),
          { project: a.project },
          { ...b.about(a), ...b.version(a), reasons: unreadable },
        ),
      );
    if (opts.pending && a.action === "delete") {
      const mark = b.markOf(a.versionArn);
      out.push(
        b.fact(
          "pending",
          [a.versionArn, mark ?? "unmarked"].join("\0"),
          { project: a.project },
          {
            ...b.about(a),
            ...b.version(a),
            reasons: [{ rule: "pending", message: "rekon run would delete it (it runs without --apply)" }],
            ...(mark ? { markedAt: mark } : {}),
          },
        ),
      );
    }
  }
  return out;
}

function refusedFact(b: Builder, refusals: readonly Reason[]): EventFact {
  const rules = [...new Set(refusals.map((r) => r.rule))].sort();
  return b.fact("refused", [rules.join(","), b.revision, b.common.policy.digest].join("\0"), "all", { reasons: [...refusals] });
}

/** The run refused before anything was planned (invalid manifests or policy): the issues are the fact. */
export function invalidEvent(issues: readonly string[], common: { time: string; policy: NotificationItem["policy"] }): EventFact {
  return {
    event: "refused",
    key: ["invalid", ...[...issues].sort()].join("\0"),
    scope: "all",
    ...common,
    manifests: { revision: "invalid", digest: "invalid" },
    reasons: issues.map((message) => ({ rule: "invalid", message })),
  };
}

/**
 * Events the writes tell: a mark AWS accepted (`marked`, with when it becomes deletable), a deletion AWS
 * accepted (`deleted`), a write that failed or whose outcome is unknown (`failed`).
 */
export function resultEvents(ctx: EventContext, results: readonly WriteResult[], now: number): EventFact[] {
  const b = new Builder(ctx);
  const planNow = Date.parse(ctx.plan.generatedAt);
  const out: EventFact[] = [];
  for (const r of results) {
    const a = b.action(r.versionArn);
    if (!a) continue;
    const about = { ...b.about(a), ...b.version(a) };
    if (r.operation === "mark" && r.result === "accepted") {
      const markedAt = r.markedAt ?? formatMark(planNow);
      out.push(
        b.fact(
          "marked",
          [r.versionArn, markedAt].join("\0"),
          { project: a.project },
          { ...about, reasons: a.reasons, markedAt, deletableAfter: deletableAfter(ctx, a, Date.parse(markedAt), now), ...approveFor(ctx, a) },
        ),
      );
    } else if (r.operation === "delete" && r.result === "accepted") {
      const mark = b.markOf(r.versionArn);
      out.push(
        b.fact(
          "deleted",
          r.versionArn,
          { project: a.project },
          {
            ...about,
            reasons: a.reasons,
            operation: r.operation,
            result: r.result,
            ...(r.requestId ? { requestId: r.requestId } : {}),
            ...(mark ? { markedAt: mark } : {}),
            ...(r.archivedAs ? { archivedAs: r.archivedAs } : {}),
          },
        ),
      );
    } else if (r.result === "failed" || r.result === "unknown") {
      out.push(
        b.fact(
          "failed",
          [r.versionArn, r.operation, ctx.plan.generatedAt].join("\0"),
          { project: a.project },
          {
            ...about,
            reasons: r.reasons ?? [],
            operation: r.operation,
            result: r.result,
            ...(r.code ? { code: r.code } : {}),
            ...(r.error ? { error: r.error } : {}),
            ...(r.requestId ? { requestId: r.requestId } : {}),
          },
        ),
      );
    }
  }
  return out;
}

/**
 * Notices the plan says are owed for marks already in place: a `marked` notice still pending (requireNotice:
 * sent again each run until a channel accepts it and its tag is recorded) and reminders that are due.
 * `markedNow`: versions this run marked, whose `marked` event comes from their write result instead.
 */
export function owedEvents(ctx: EventContext, markedNow: ReadonlySet<string>, now: number): EventFact[] {
  const b = new Builder(ctx);
  const out: EventFact[] = [];
  for (const a of ctx.plan.actions) {
    if (!a.versionArn) continue;
    const mark = b.markOf(a.versionArn);
    if (a.notice === "pending" && !a.mark && mark !== undefined && !markedNow.has(a.versionArn)) {
      out.push(
        b.fact(
          "marked",
          [a.versionArn, mark].join("\0"),
          { project: a.project },
          {
            ...b.about(a),
            ...b.version(a),
            reasons: a.reasons,
            markedAt: mark,
            deletableAfter: deletableAfter(ctx, a, Date.parse(mark), now),
            ...approveFor(ctx, a),
          },
        ),
      );
    }
    if (a.reminder === "due" && mark !== undefined) {
      out.push(
        b.fact(
          "reminder",
          [a.versionArn, mark].join("\0"),
          { project: a.project },
          {
            ...b.about(a),
            ...b.version(a),
            reasons: a.reasons,
            markedAt: mark,
            ...(a.deletableAt ? { deletableAfter: a.deletableAt } : {}),
            ...approveFor(ctx, a),
          },
        ),
      );
    }
  }
  return out;
}

/**
 * Not deleted before: the mark plus gracePeriod; with requireNotice, gracePeriod from the notice's delivery,
 * which is no earlier than `now` (the notice is being sent) — a promise the receiver can rely on.
 */
function deletableAfter(ctx: EventContext, a: PlanAction, markedAt: number, now: number): string {
  const pol = effectivePolicy(ctx.policies, a.project);
  return new Date((pol.requireNotice ? Math.max(markedAt, now) : markedAt) + pol.gracePeriodMs).toISOString();
}
