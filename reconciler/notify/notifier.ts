// Telling people: which events go to which channel, one request per channel per run (a batch), delivery,
// logs and metrics, and what a delivery means for the writes that wait on it (requireNotice). Used by
// `rekon run` (one Notifier for the life of the process) and `rekon apply` (one per run); `plan` never
// sends. Nothing here writes to AWS: the executor records a delivered notice through the gate.
//
// At most once, without local state. `marked` for a mark written in this run is sent once; under
// requireNotice, a `marked` notice no channel accepted is sent again by every later run until one does and
// its tag is recorded (rekon.dev/notice-delivered-at), and a due reminder until its tag is recorded
// (rekon.dev/reminder-sent-at): the state lives on the version in AWS, like the mark. When the operator's
// policy has a channel for `marked`, only the operator's channels deliver the notice; a manifest layer's
// channel is then an extra recipient (events.ts operatorNotices). `pending` (no writes
// at all: the controller runs without --apply, so no tag can be written), `refused` and `readFailed` are
// remembered in memory by delivery id — a controller tells each once while it persists (a condition that
// clears and comes back is news again; `pending` is once per version per mark), and a restarted one sends
// the same ids, so a receiver drops what it has seen.
import type { Logger } from "pino";
import { loadPolicy } from "../inputs/policy.js";
import { formatIssue, type ValidationIssue } from "../errors.js";
import type { NoticeHook } from "../apply/index.js";
import type { NotificationEventKind, NotificationResult, PolicySet, Reason, RuleId } from "../types.js";
import { buildInfo } from "../controller/buildinfo.js";
import { gitRevision } from "../controller/audit.js";
import { resolveChannels, type ChannelProblem, type ResolvedChannel } from "./channels.js";
import { DEFAULT_DELIVERY, deliver, type DeliveryOptions } from "./deliver.js";
import {
  allChannels,
  batchIdFor,
  channelsFor,
  deliveryIdFor,
  invalidEvent,
  operatorNotices,
  owedEvents,
  planEvents,
  requiresNotice,
  resultEvents,
  type EventContext,
  type EventFact,
  type NotificationItem,
} from "./events.js";
import { jsonBody, kindsOf, slackBody, slackParts, type Batch, type Sender } from "./format.js";

/** At most this many events in one JSON request (Slack's limits split a Slack batch sooner: slackParts). */
const MAX_EVENTS_PER_REQUEST = 500;

/** Remembered by delivery id: told once while the condition lasts. */
const REMEMBERED: ReadonlySet<NotificationEventKind> = new Set(["pending", "refused", "readFailed"]);
/** Of those, forgotten once the condition is gone, so that it is news when it comes back. */
const CLEARS: ReadonlySet<NotificationEventKind> = new Set(["refused", "readFailed"]);

export interface NotifierOptions {
  log: Logger;
  env: NodeJS.ProcessEnv;
  command: Sender["command"];
  /** Default: the running build's (package.json). */
  version?: string;
  delivery?: Partial<DeliveryOptions>;
  /** Told about each event's outcome on each channel (metrics). */
  observe?: (channel: string, event: NotificationEventKind, result: NotificationResult, n: number) => void;
  /** Told every channel name the policies declare, each run (metrics start at 0). */
  channels?: (names: string[]) => void;
  /** Filled with every resolved URL and secret, for the log's redaction (controller/redact.ts). */
  secrets?: Set<string>;
  readFile?: (path: string) => string;
  now?: () => number;
}

/** The channels of one run, resolved from the environment and files. */
export interface Prepared {
  policies: PolicySet;
  resolved: Map<string, ResolvedChannel>;
  problems: ChannelProblem[];
  /** With requireNotice, a channel that cannot be used refuses the run (nothing is written). */
  refusals: Reason[];
  /** Only the operator's channels can deliver a `marked` notice (events.ts operatorNotices). */
  operatorNotices: boolean;
}

export class Notifier {
  private readonly delivery: DeliveryOptions;
  private readonly now: () => number;
  /** Delivery id → kind, of remembered events delivered (see REMEMBERED). */
  private readonly told = new Map<string, NotificationEventKind>();
  /** The last valid policies: where to say that the next ones are invalid. */
  private last?: PolicySet;
  private readonly version: string;

  constructor(private readonly opts: NotifierOptions) {
    this.delivery = { ...DEFAULT_DELIVERY, ...opts.delivery };
    this.now = opts.now ?? Date.now;
    this.version = opts.version ?? buildInfo().version;
  }

  /** Resolve the policies' channels for one run. Problems are logged each run, naming the channel. */
  prepare(policies: PolicySet): Prepared {
    this.last = policies;
    const declared = allChannels(policies);
    this.opts.channels?.(declared.map((c) => c.name));
    const { resolved, problems } = resolveChannels(declared, this.opts.env, this.opts.readFile);
    for (const c of resolved) for (const s of c.secrets) this.opts.secrets?.add(s);
    for (const p of problems) this.opts.log.error({ channel: p.channel }, `${p.message}; nothing is sent to it`);
    const refusals: Reason[] =
      problems.length > 0 && requiresNotice(policies)
        ? [
            {
              rule: "notificationsUnavailable",
              message:
                `requireNotice is on, but ${problems.map((p) => p.message).join("; ")}; nothing is written until every channel can be used (no ` +
                `deletion may wait on a notice that cannot be sent)`,
            },
          ]
        : [];
    return { policies, resolved: new Map(resolved.map((c) => [c.name, c])), problems, refusals, operatorNotices: operatorNotices(policies) };
  }

  /** One run's events, addressed and delivered. `manifests`: where to read the Git revision from, when `ctx` has none. */
  run(
    prepared: Prepared,
    ctx: EventContext,
    extra: { cycleId?: string; signal?: AbortSignal; manifests?: readonly string[]; policy?: string } = {},
  ): RunNotices {
    const { manifests, policy, ...rest } = extra;
    const revision = ctx.gitRevision ?? manifests?.map(gitRevision).find((r) => r !== undefined);
    // The paths as rekon was given them, for the approve command a `marked` notice prints.
    const inputs = manifests ? { inputs: { manifests, ...(policy !== undefined ? { policy } : {}) } } : {};
    return new RunNotices(this, prepared, { ...ctx, ...inputs, ...(revision ? { gitRevision: revision } : {}) }, rest);
  }

  /**
   * Invalid manifests or policy: nothing was planned. Told to the channels of the operator's policy when
   * that file is still valid on its own, else of the last valid policies this process read.
   */
  async invalid(issues: readonly ValidationIssue[], policyFile: string | undefined, extra: { cycleId?: string; signal?: AbortSignal } = {}): Promise<void> {
    const own = policyFile !== undefined ? loadPolicy(policyFile).policy : undefined;
    const policies: PolicySet | undefined = own ? { operator: own, scoped: [] } : this.last;
    if (!policies || allChannels(policies).length === 0) return;
    const prepared = this.prepare(policies);
    this.last = policies;
    const fact = invalidEvent(issues.map(formatIssue), {
      time: new Date(this.now()).toISOString(),
      policy: { name: policies.operator.name, digest: policies.operator.digest },
    });
    await this.send([fact], prepared, extra);
  }

  /**
   * Address each event to the channels that get it, one request per channel (a JSON batch split past 500
   * events; a Slack batch into as many messages as Slack's limits need to name every event), all channels
   * at once; return when each event first reached a channel.
   */
  async send(
    facts: readonly EventFact[],
    prepared: Prepared,
    extra: { cycleId?: string; signal?: AbortSignal },
    whole = false,
  ): Promise<{ first: Map<string, number>; sent: Set<string> }> {
    const log = extra.cycleId ? this.opts.log.child({ cycleId: extra.cycleId }) : this.opts.log;
    // `whole`: these are all of a run's conditions; the ones no longer present clear.
    const present = new Set<string>();
    const byChannel = new Map<string, NotificationItem[]>();
    for (const f of facts) {
      for (const c of channelsFor(prepared.policies, f.scope, f.event)) {
        const deliveryId = deliveryIdFor(c.name, f);
        if (REMEMBERED.has(f.event)) {
          present.add(deliveryId);
          if (this.told.has(deliveryId)) continue;
        }
        if (!prepared.resolved.has(c.name)) {
          this.opts.observe?.(c.name, f.event, "failed", 1);
          continue;
        }
        const { key: _k, scope: _s, ...rest } = f;
        const items = byChannel.get(c.name) ?? [];
        items.push({ ...rest, deliveryId } as NotificationItem);
        byChannel.set(c.name, items);
      }
    }
    if (whole) for (const [id, kind] of this.told) if (CLEARS.has(kind) && !present.has(id)) this.told.delete(id);

    const firstDelivered = new Map<string, number>();
    const sent = new Set([...byChannel.values()].flatMap((items) => items.map((it) => `${it.event}|${it.versionArn ?? ""}`)));
    const sender: Sender = { version: this.version, command: this.opts.command, ...(extra.cycleId ? { cycleId: extra.cycleId } : {}) };
    await Promise.all(
      [...byChannel.entries()].map(async ([name, items]) => {
        const ch = prepared.resolved.get(name)!;
        // A manifest layer's channel is an extra recipient when the operator has its own for notices: its
        // 2xx tells people, but does not deliver the `marked` notice that requireNotice waits for.
        const notices = !prepared.operatorNotices || ch.operator;
        const chunks = ch.format === "slack" ? slackParts(items) : chunk(items, MAX_EVENTS_PER_REQUEST);
        for (const [index, events] of chunks.entries()) {
          const batch: Batch = {
            channel: name,
            deliveryId: batchIdFor(
              name,
              events.map((e) => e.deliveryId),
            ),
            events,
          };
          const kinds = kindsOf(events);
          // A Slack message says which events it names; a JSON body carries every event whole.
          const { body, named } =
            ch.format === "slack" ? slackBody(batch, sender, { index, of: chunks.length }) : { body: jsonBody(batch, sender), named: undefined };
          const out = await deliver(
            {
              url: ch.url,
              ...(ch.secret ? { secret: ch.secret } : {}),
              body,
              event: kinds.join(","),
              deliveryId: batch.deliveryId,
              userAgent: `rekon/${sender.version}`,
            },
            this.delivery,
            extra.signal,
          );
          for (const k of kinds) this.opts.observe?.(name, k, out.ok ? "delivered" : "failed", events.filter((e) => e.event === k).length);
          const fields = {
            channel: name,
            event: kinds.join(","),
            deliveryId: batch.deliveryId,
            events: events.length,
            attempts: out.attempts,
            ...(out.ok ? { status: out.status } : out.status !== undefined ? { status: out.status } : {}),
          };
          if (!out.ok) {
            log.warn({ ...fields, error: out.error }, `notification not delivered to channel ${name}: ${out.error}`);
            continue;
          }
          log.info({ ...fields, ...(!notices && kinds.includes("marked") ? { noticeCounts: false } : {}) }, `notification delivered to channel ${name}`);
          for (const it of events) {
            // Told only if the body named it: a delivered message tells no more than it says.
            if (named && !named.has(it.deliveryId)) continue;
            if (REMEMBERED.has(it.event)) this.told.set(it.deliveryId, it.event);
            if (it.event === "marked" && !notices) continue;
            const k = `${it.event}|${it.versionArn ?? ""}`;
            if (!firstDelivered.has(k) || firstDelivered.get(k)! > out.at) firstDelivered.set(k, out.at);
          }
        }
      }),
    );
    return { first: firstDelivered, sent };
  }

  get clock(): () => number {
    return this.now;
  }
}

function chunk<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out.length ? out : [];
}

/** One run's notifications. */
export class RunNotices {
  constructor(
    private readonly notifier: Notifier,
    private readonly prepared: Prepared,
    private readonly ctx: EventContext,
    private readonly extra: { cycleId?: string; signal?: AbortSignal },
  ) {}

  /** A run that writes nothing: its refusals, failed reads, and with `pending` the deletions it would make. */
  async planOnly(opts: { pending: boolean }): Promise<void> {
    // No channel in any layer: no event could be addressed to one, so none is built (at 100,000 versions,
    // maps of every version and action each controller cycle); send still forgets what no longer holds.
    const facts = allChannels(this.prepared.policies).length === 0 ? [] : planEvents(this.ctx, opts);
    await this.notifier.send(facts, this.prepared, this.extra, true);
  }

  /** The run was refused after the plan (its refusals, or `err`: no allowedAccounts, a stale saved plan). */
  async refused(err: { rule: RuleId; message: string }): Promise<void> {
    const refusals = this.ctx.plan.refusals.length ? [] : [{ rule: err.rule, message: err.message }];
    await this.notifier.send(planEvents(this.ctx, { pending: false, refusals }), this.prepared, this.extra, true);
  }

  /** For the executor: everything the run tells after its writes, and which notices reached someone. */
  hook(): NoticeHook {
    return {
      deliver: async (results) => {
        const now = this.notifier.clock();
        const markedNow = new Set(results.filter((r) => r.operation === "mark" && r.result === "accepted").map((r) => r.versionArn));
        const facts = [...planEvents(this.ctx, { pending: false }), ...resultEvents(this.ctx, results, now), ...owedEvents(this.ctx, markedNow, now)];
        const { first, sent } = await this.notifier.send(facts, this.prepared, this.extra, true);
        const pick = (kind: "marked" | "reminder") =>
          new Map([...first].filter(([k]) => k.startsWith(`${kind}|`)).map(([k, at]) => [k.slice(kind.length + 1), at]));
        return {
          marked: pick("marked"),
          reminder: pick("reminder"),
          markedSent: new Set([...sent].filter((k) => k.startsWith("marked|")).map((k) => k.slice("marked|".length))),
        };
      },
      settle: async (results) => {
        const facts = resultEvents(this.ctx, results, this.notifier.clock());
        if (facts.length) await this.notifier.send(facts, this.prepared, this.extra);
      },
    };
  }
}
