// rekon run: the controller. Its flags' meanings and defaults live in controller/options.ts.
import type { RunFlags } from "../controller/options.js";
import { AWS_FLAGS, INPUT_FLAGS, retryFlags, type Command } from "./spec.js";

export const run: Command = {
  name: "run",
  summary: "the controller: plan (and with --apply, apply) every interval and on every manifest change",
  usage: [
    "run      --manifests PATH [--policy FILE] [--interval 5m] [--apply] [--listen :8080] [--audit-file FILE]",
    "         [--leader-elect [--lease-name N] [--lease-namespace NS]] [--cycle-timeout 10m]",
    "         [--sync-touch-file FILE [--max-sync-age 10m]]",
  ],
  flags: {
    ...INPUT_FLAGS,
    ...AWS_FLAGS,
    interval: { type: "string", value: "D", help: "time between cycles, ±10 % jitter (default 5m); manifest changes trigger a cycle sooner" },
    apply: { type: "boolean", help: "delete what each cycle plans (default: plan only)" },
    listen: { type: "string", value: "ADDR", help: "host:port for /healthz, /readyz, /metrics (default :8080: IPv6 and IPv4)" },
    "audit-file": { type: "string", value: "FILE", help: "also append audit records (one per write) as JSON lines" },
    "cycle-timeout": { type: "string", value: "D", help: "bound on one cycle (default 10m)" },
    "watch-debounce": { type: "string", value: "D", help: "quiet time after a manifest change before a cycle (default 1s)" },
    "shutdown-grace": {
      type: "string",
      value: "D",
      help: "after SIGTERM, how long writes in flight are awaited before they are reported unknown (default 10s)",
    },
    "leader-elect": { type: "boolean", help: "only the holder of a Kubernetes Lease applies" },
    "lease-name": { type: "string", value: "N", help: "the Lease (default rekon)" },
    "lease-namespace": { type: "string", value: "NS", help: "the Lease's namespace (default: the pod's)" },
    "lease-duration": { type: "string", value: "D", help: "lease validity after its last renewal (default 15s)" },
    "renew-deadline": { type: "string", value: "D", help: "the leader steps down if it could not renew for this long (default 10s)" },
    "retry-period": { type: "string", value: "D", help: "how often to try to acquire or renew (default 2s)" },
    kubeconfig: { type: "string", value: "FILE", help: "where the Lease API is (default: in-cluster)" },
    "sync-touch-file": {
      type: "string",
      value: "FILE",
      help: "a file touched on every sync of the manifests; when older than --max-sync-age a cycle plans but writes nothing (manifestsStale)",
    },
    "max-sync-age": { type: "string", value: "D", help: "how old --sync-touch-file may be (default 10m)" },
  },
  exits: ["0 stopped by SIGTERM/SIGINT", "1 could not start (bad flags, port in use)"],
  async run({ flags, io, level }) {
    // The controller loads the SDK (and, with --leader-elect, the Kubernetes client) only when run.
    const [{ resolveRunOptions }, { runController }] = await Promise.all([import("../controller/options.js"), import("../controller/run.js")]);
    return runController(resolveRunOptions(flags as RunFlags), io, { level, retry: retryFlags(flags) });
  },
};
