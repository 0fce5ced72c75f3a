// Leader election on a coordination.k8s.io/v1 Lease, the way client-go's leaderelection does it, so rekon
// replicas behave like every other controller in the cluster:
//   - a lease held by another is taken over only after leaseDuration has passed since *we observed* its
//     last change (local clock only: clocks of other nodes are not trusted);
//   - every write carries the resourceVersion it read, so two contenders cannot both win (409 Conflict);
//   - the leader steps down once it has failed to renew for renewDeadline (< leaseDuration), so it stops
//     writing before anyone else may start.
// Each term has an AbortSignal; losing the lease aborts it at once, which stops writes in flight.
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import type { CoordinationV1Api, V1Lease } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { LeaderOptions } from "./options.js";

export interface LeaderHooks {
  onStartedLeading(): void;
  onStoppedLeading(reason: string): void;
  /** Every failed or timed-out Lease request (for rekon_leader_election_errors_total). */
  onError?(err: Error): void;
}

/**
 * Logging of Lease request failures: an API server outage fails every retry period (2 s by default), and a
 * warning each time would bury everything else. The first failure of a streak is logged at once, then
 * after 2, 4, 8… failures (doubling, so about every 2^k retry periods), and the recovery once, with the count.
 */
export class FailureLog {
  private streak = 0;
  private nextAt = 1;
  /** True when this failure should be logged; `streak` is the failures so far, this one included. */
  failed(): { log: boolean; streak: number } {
    this.streak++;
    if (this.streak < this.nextAt) return { log: false, streak: this.streak };
    this.nextAt = this.streak * 2;
    return { log: true, streak: this.streak };
  }
  /** The number of failures before this success (0 when there was no streak). */
  succeeded(): number {
    const n = this.streak;
    this.streak = 0;
    this.nextAt = 1;
    return n;
  }
}

export class LeaderElector {
  readonly identity: string;
  private term: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private stopped = false;
  private observedVersion: string | undefined;
  /** performance.now() when the lease's version was last seen to change: monotonic, as client-go's clock. */
  private observedAt = 0;
  /** performance.now() when the last successful renewal was sent. */
  private renewSentAt = 0;
  private ticking: Promise<void> = Promise.resolve();
  private readonly failures = new FailureLog();

  constructor(
    private readonly api: CoordinationV1Api,
    private readonly opts: LeaderOptions,
    private readonly log: Logger,
    private readonly hooks: LeaderHooks,
  ) {
    this.identity = opts.identity ?? `${hostname()}_${randomUUID().slice(0, 8)}`;
  }

  isLeader(): boolean {
    return this.term !== undefined && !this.term.signal.aborted;
  }

  /** Aborted when this term of leadership ends; undefined while not leading. */
  termSignal(): AbortSignal | undefined {
    // The deadline timer can fire late after a pause of the process; asked directly, the answer is exact.
    if (this.isLeader() && performance.now() - this.renewSentAt > this.opts.renewDeadlineMs)
      this.lose(`could not renew the lease within ${this.opts.renewDeadlineMs} ms`);
    return this.isLeader() ? this.term!.signal : undefined;
  }

  start(): void {
    this.log.info({ identity: this.identity, lease: `${this.opts.leaseNamespace}/${this.opts.leaseName}` }, "leader election: contending");
    const loop = () => {
      if (this.stopped) return;
      this.ticking = this.tick().finally(() => {
        if (!this.stopped) this.timer = setTimeout(loop, this.opts.retryPeriodMs);
      });
    };
    loop();
  }

  /** Stop contending; a leader gives the lease up so another replica can take over without waiting. */
  async stop(timeoutMs = 2_000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const wasLeader = this.isLeader();
    this.lose("shutting down");
    await withTimeout(this.ticking, timeoutMs).catch(() => undefined);
    if (wasLeader)
      await withTimeout(this.release(), timeoutMs).catch((err: Error) =>
        this.log.warn({ err: err.message }, "leader election: could not release the lease; others take over when it expires"),
      );
  }

  private async tick(): Promise<void> {
    // Monotonic: a wall clock stepped forward (NTP) must neither expire another's lease early nor ours late.
    const sentAt = performance.now();
    try {
      const held = await withTimeout(this.tryAcquireOrRenew(), this.opts.renewDeadlineMs);
      if (this.stopped) return;
      const after = this.failures.succeeded();
      if (after > 0) this.log.info({ failures: after }, "leader election: lease requests succeed again");
      if (held) {
        if (!this.isLeader()) {
          this.term = new AbortController();
          this.log.info({ identity: this.identity }, "leader election: acquired the lease; this instance may write");
          this.hooks.onStartedLeading();
        }
        // Step down renewDeadline after the last renewal *was sent* (conservative), whatever the requests do.
        clearTimeout(this.deadline);
        this.renewSentAt = sentAt;
        this.deadline = setTimeout(
          () => this.lose(`could not renew the lease within ${this.opts.renewDeadlineMs} ms`),
          Math.max(0, this.opts.renewDeadlineMs - (performance.now() - sentAt)),
        );
      } else if (this.isLeader()) {
        this.lose("the lease is held by another instance");
      }
    } catch (err) {
      this.hooks.onError?.(err as Error);
      const f = this.failures.failed();
      if (f.log)
        this.log.warn(
          { err: (err as Error).message, code: (err as { code?: number }).code, failures: f.streak },
          f.streak === 1
            ? "leader election: lease request failed"
            : `leader election: lease requests keep failing (${f.streak} in a row; next warning after ${f.streak * 2})`,
        );
    }
  }

  private lose(reason: string): void {
    clearTimeout(this.deadline);
    if (!this.isLeader()) return;
    this.term!.abort(new Error(`lost leadership: ${reason}`));
    this.log.warn({ identity: this.identity, reason }, "leader election: lost the lease; writes stop now");
    this.hooks.onStoppedLeading(reason);
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { leaseName: name, leaseNamespace: namespace } = this.opts;
    const seconds = Math.round(this.opts.leaseDurationMs / 1000);
    const now = new Date();
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if (status(err) !== 404) throw err;
      try {
        await this.api.createNamespacedLease({
          namespace,
          body: {
            apiVersion: "coordination.k8s.io/v1",
            kind: "Lease",
            metadata: { name, namespace },
            spec: { holderIdentity: this.identity, leaseDurationSeconds: seconds, acquireTime: now, renewTime: now, leaseTransitions: 0 },
          },
        });
        return true;
      } catch (e) {
        if (status(e) === 409) return false; // another instance created it first
        throw e;
      }
    }

    const spec = lease.spec ?? {};
    const version = lease.metadata?.resourceVersion;
    if (version !== this.observedVersion) {
      this.observedVersion = version;
      this.observedAt = performance.now();
    }
    const holder = spec.holderIdentity ?? "";
    const durationMs = (spec.leaseDurationSeconds ?? seconds) * 1000;
    if (holder !== "" && holder !== this.identity && this.observedAt + durationMs > performance.now()) return false;

    const mine = holder === this.identity;
    const body: V1Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: this.identity,
        leaseDurationSeconds: seconds,
        renewTime: now,
        acquireTime: mine && spec.acquireTime ? spec.acquireTime : now,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
      },
    };
    try {
      const updated = await this.api.replaceNamespacedLease({ name, namespace, body });
      this.observedVersion = updated.metadata?.resourceVersion;
      this.observedAt = performance.now();
      return true;
    } catch (err) {
      if (status(err) === 409) return false; // someone wrote it since we read it
      throw err;
    }
  }

  private async release(): Promise<void> {
    const { leaseName: name, leaseNamespace: namespace } = this.opts;
    const lease = await this.api.readNamespacedLease({ name, namespace });
    if (lease.spec?.holderIdentity !== this.identity) return;
    // As client-go's ReleaseOnCancel: an empty holder may be taken at once.
    await this.api.replaceNamespacedLease({
      name,
      namespace,
      body: { ...lease, spec: { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: new Date() } },
    });
    this.log.info({ identity: this.identity }, "leader election: released the lease");
  }
}

/** Build the Lease client: in-cluster (service-account token) unless a kubeconfig file is given. */
export async function leaseApi(opts: LeaderOptions): Promise<CoordinationV1Api> {
  const k8s = await import("@kubernetes/client-node");
  const kc = new k8s.KubeConfig();
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromCluster();
  return kc.makeApiClient(k8s.CoordinationV1Api);
}

function status(err: unknown): number | undefined {
  const c = (err as { code?: unknown })?.code;
  return typeof c === "number" ? c : undefined;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error(`lease request took longer than ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}
