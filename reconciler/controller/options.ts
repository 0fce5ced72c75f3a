// `rekon run` options: typed, with every default in one place. cli.ts parses the flags;
// this turns them into RunOptions and rejects bad values with plain words before anything starts.
import { readFileSync } from "node:fs";
import { UsageError } from "../errors.js";
import { parseDuration } from "../duration.js";

export interface LeaderOptions {
  /** Lease name. Defaults to "rekon". */
  leaseName: string;
  /** Lease namespace. Defaults to the pod's namespace (service-account mount); required outside a pod. */
  leaseNamespace: string;
  /** How long a lease is valid after its last renewal. Defaults to 15 s (controller-runtime). */
  leaseDurationMs: number;
  /** The leader steps down if it could not renew for this long. Defaults to 10 s; must be < leaseDurationMs. */
  renewDeadlineMs: number;
  /** How often to try to acquire or renew. Defaults to 2 s; must be < renewDeadlineMs. */
  retryPeriodMs: number;
  /** A kubeconfig file. Defaults to the in-cluster config (service-account token). */
  kubeconfig?: string;
  /** This instance's identity in the Lease. Defaults to hostname_random (the pod name in Kubernetes). */
  identity?: string;
}

export interface RunOptions {
  manifests: string[];
  policy?: string;
  /** Time between cycles, jittered by ±10 %. Defaults to 5 m. */
  intervalMs: number;
  /** Bound on one cycle (reads, plan and deletions); the cycle is aborted after it. Defaults to 10 m. */
  cycleTimeoutMs: number;
  /** Quiet time after the last change under the manifests before a cycle starts. Defaults to 1 s. */
  watchDebounceMs: number;
  /** Delete, not only plan. Defaults to false. */
  apply: boolean;
  /**
   * host:port for /healthz, /readyz and /metrics. Defaults to ":8080": host "" means every interface, IPv6
   * and IPv4 (a dual-stack socket), so kubelet probes work on IPv4, IPv6 and dual-stack clusters alike.
   */
  listen: { host: string; port: number };
  /** Append audit records as JSON lines here too. Defaults to none (they are always logged). */
  auditFile?: string;
  /** After SIGTERM, how long in-flight AWS calls may finish before they are aborted. Defaults to 10 s. */
  shutdownGraceMs: number;
  leader?: LeaderOptions;
  /**
   * Stale-manifest guard (--sync-touch-file, --max-sync-age): before each cycle, the file's modification
   * time says when the manifests were last synced; older than maxAgeMs, the cycle plans but deletes
   * nothing (result "refused", rule manifestsStale). Defaults to off; maxAgeMs defaults to 10 m.
   */
  sync?: { touchFile: string; maxAgeMs: number };
}

export const RUN_DEFAULTS = {
  interval: "5m",
  cycleTimeout: "10m",
  watchDebounce: "1s",
  listen: ":8080",
  leaseName: "rekon",
  leaseDuration: "15s",
  renewDeadline: "10s",
  retryPeriod: "2s",
  shutdownGrace: "10s",
  maxSyncAge: "10m",
} as const;

/** The flags cli.ts hands over, as node:util parseArgs returns them. */
export interface RunFlags {
  manifests?: string[];
  policy?: string;
  interval?: string;
  apply?: boolean;
  listen?: string;
  "audit-file"?: string;
  "cycle-timeout"?: string;
  "watch-debounce"?: string;
  "shutdown-grace"?: string;
  "leader-elect"?: boolean;
  "lease-name"?: string;
  "lease-namespace"?: string;
  "lease-duration"?: string;
  "renew-deadline"?: string;
  "retry-period"?: string;
  kubeconfig?: string;
  "sync-touch-file"?: string;
  "max-sync-age"?: string;
}

/** Controller durations: positive, in the units parseDuration takes. */
export function parseControllerDuration(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (!ms) throw new UsageError(`--${flag} must be a positive duration such as 500ms, 30s, 5m or 1h (got "${text}")`);
  return ms;
}

export function parseListen(text: string): { host: string; port: number } {
  const m = /^(.*):([0-9]{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new UsageError(`--listen must be host:port or :port, e.g. :8080 or 127.0.0.1:9090 (got "${text}")`);
  const host = m[1]!.replace(/^\[(.*)\]$/, "$1");
  return { host, port };
}

const SA_NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

export function resolveRunOptions(flags: RunFlags, readNamespace: () => string | undefined = podNamespace): RunOptions {
  if (!flags.manifests?.length) throw new UsageError("--manifests PATH is required (a manifest file or folder; repeatable)");
  const d = (flag: keyof typeof FLAG_DEFAULTS) => parseControllerDuration(flag, (flags[flag] as string | undefined) ?? FLAG_DEFAULTS[flag]);
  const opts: RunOptions = {
    manifests: flags.manifests,
    ...(flags.policy !== undefined ? { policy: flags.policy } : {}),
    intervalMs: d("interval"),
    cycleTimeoutMs: d("cycle-timeout"),
    watchDebounceMs: d("watch-debounce"),
    shutdownGraceMs: d("shutdown-grace"),
    apply: flags.apply ?? false,
    listen: parseListen(flags.listen ?? RUN_DEFAULTS.listen),
    ...(flags["audit-file"] !== undefined ? { auditFile: flags["audit-file"] } : {}),
  };
  if (flags["max-sync-age"] !== undefined && flags["sync-touch-file"] === undefined)
    throw new UsageError("--max-sync-age needs --sync-touch-file (the file git-sync touches when a sync completes)");
  if (flags["sync-touch-file"] !== undefined) {
    if (flags["sync-touch-file"] === "") throw new UsageError("--sync-touch-file must name a file");
    opts.sync = { touchFile: flags["sync-touch-file"], maxAgeMs: d("max-sync-age") };
  }
  if (opts.shutdownGraceMs > 15_000)
    throw new UsageError(
      "--shutdown-grace must be at most 15s: Kubernetes kills the pod 30 s after SIGTERM by default, and rekon must release its lease and exit before that",
    );

  const leaseFlags = ["lease-name", "lease-namespace", "lease-duration", "renew-deadline", "retry-period", "kubeconfig"] as const;
  if (!flags["leader-elect"]) {
    const stray = leaseFlags.find((f) => flags[f] !== undefined);
    if (stray) throw new UsageError(`--${stray} needs --leader-elect`);
    return opts;
  }
  const namespace = flags["lease-namespace"] ?? readNamespace();
  if (!namespace) throw new UsageError("--leader-elect needs --lease-namespace NS (outside a pod the namespace cannot be read from the service account)");
  const leader: LeaderOptions = {
    leaseName: flags["lease-name"] ?? RUN_DEFAULTS.leaseName,
    leaseNamespace: namespace,
    leaseDurationMs: d("lease-duration"),
    renewDeadlineMs: d("renew-deadline"),
    retryPeriodMs: d("retry-period"),
    ...(flags.kubeconfig !== undefined ? { kubeconfig: flags.kubeconfig } : {}),
  };
  // The Lease stores whole seconds; the order of the three is what keeps two leaders from overlapping:
  // a leader gives up after renewDeadline, others may take over only after leaseDuration.
  if (leader.leaseDurationMs % 1000 !== 0) throw new UsageError("--lease-duration must be whole seconds (the Lease stores leaseDurationSeconds)");
  if (!(leader.retryPeriodMs < leader.renewDeadlineMs && leader.renewDeadlineMs < leader.leaseDurationMs)) {
    throw new UsageError("leader election needs --retry-period < --renew-deadline < --lease-duration (defaults 2s < 10s < 15s)");
  }
  return { ...opts, leader };
}

const FLAG_DEFAULTS = {
  interval: RUN_DEFAULTS.interval,
  "cycle-timeout": RUN_DEFAULTS.cycleTimeout,
  "watch-debounce": RUN_DEFAULTS.watchDebounce,
  "shutdown-grace": RUN_DEFAULTS.shutdownGrace,
  "lease-duration": RUN_DEFAULTS.leaseDuration,
  "renew-deadline": RUN_DEFAULTS.renewDeadline,
  "retry-period": RUN_DEFAULTS.retryPeriod,
  "max-sync-age": RUN_DEFAULTS.maxSyncAge,
} as const;

function podNamespace(): string | undefined {
  try {
    return readFileSync(SA_NAMESPACE_FILE, "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}
