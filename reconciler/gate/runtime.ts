// Running state: whether a listed version should be started or stopped, decided like any write. A RUNNING
// Custom Labels model bills per inference-unit hour, idle or not; a stop takes a serving model offline.
// Both are writes through the gate: decided here on the plan's facts, approved again on a last look, held by
// a suspension, counted against the start budgets.
//
// Starts (StartProjectVersion) only for Custom Labels versions listed with `running`, inside their schedule,
// in a status AWS starts from. Stops (StopProjectVersion) of a listed version only under `runtime: managed`,
// when it runs and should not (not declared running, or outside its schedule). A version running at other
// units than declared is reported (capacityDrift) and restarted only under allowRestart (downtime).
import { windowVerdict } from "../policy/windows.js";
import type { DesiredVersion, InferenceUnits, Reason } from "../types.js";
import { STATIC_CHECKS } from "./checks.js";
import { candidateOf, type VersionFacts } from "./facts.js";
import { suspensionReason } from "./holds/index.js";

/** Statuses AWS starts a model from (the emulator is held to the same). */
export const STARTABLE: ReadonlySet<string> = new Set(["TRAINING_COMPLETED", "STOPPED", "COPYING_COMPLETED"]);
/** Statuses a model can never run from: declaring one running is a mistake in the manifest. */
const NEVER_RUNS: ReadonlySet<string> = new Set(["FAILED", "TRAINING_FAILED", "DEPRECATED", "EXPIRED", "COPYING_FAILED"]);
/** Statuses billed as running (what `inferenceUnits.now` counts). */
export const BILLED: ReadonlySet<string> = new Set(["RUNNING", "STARTING"]);

/** What to do with a listed version's running state. */
export interface RuntimeVerdict {
  action?: "start" | "stop";
  /** start: the declared units; stop: the units it runs at. */
  units?: InferenceUnits;
  /** start of a version running at other units (allowRestart): stop it, wait for STOPPED, then start. */
  restartFirst?: boolean;
  /** Why: a start or stop that cannot happen (blocked), or what the plan should say (capacity drift, a suspension). */
  reasons: Reason[];
  /** A declared start that can never happen (an adapter, a failed model): the plan reports an error. */
  blocked?: boolean;
}

/** The units a version runs at, as DescribeProjectVersions reports them. */
export function liveUnits(v: { minInferenceUnits?: number; maxInferenceUnits?: number }): InferenceUnits | undefined {
  return v.minInferenceUnits === undefined
    ? undefined
    : { min: v.minInferenceUnits, ...(v.maxInferenceUnits !== undefined ? { max: v.maxInferenceUnits } : {}) };
}

const sameUnits = (a: InferenceUnits, b: InferenceUnits) => a.min === b.min && (a.max ?? a.min) === (b.max ?? b.min);
const show = (u: InferenceUnits) => (u.max !== undefined && u.max !== u.min ? `${u.min}–${u.max} IU` : `${u.min} IU`);

/** The running state a listed version `f.v` should have under `d` (its own set's entry), at `f.now`. */
export function runtimeVerdict(f: VersionFacts, d: DesiredVersion): RuntimeVerdict {
  const wrote = runtimeWanted(f, d);
  if (!wrote.action) return wrote;
  // A write to the version: the identity it would use must be the one the gate checked, and a suspension holds it.
  const identity = STATIC_CHECKS.find((c) => c.rule === "identityMismatch")!.run(f, candidateOf(f));
  if (identity.length) return { reasons: identity, blocked: true };
  // Only in the accounts the operator named (allowedAccounts): a start bills there, a stop takes a model offline.
  const account = STATIC_CHECKS.find((c) => c.rule === "accountNotAllowed")!.run(f, candidateOf(f));
  if (account.length) return { reasons: account, blocked: true };
  const suspended = suspensionReason(f);
  if (suspended) return { reasons: [suspended, ...wrote.reasons] };
  return wrote;
}

/** The running state wanted, before the identity and suspension checks every write gets. */
function runtimeWanted(f: VersionFacts, d: DesiredVersion): RuntimeVerdict {
  const { v, view, policy, now } = f;
  const want = d.running;
  const units = liveUnits(v);
  const running = v.status === "RUNNING" || v.status === "STARTING";
  if (!want) {
    // Not declared running: stopped only under runtime: managed (default: rekon never stops a listed version).
    if (view.set.runtime === "managed" && v.status === "RUNNING") {
      return {
        action: "stop",
        ...(units ? { units } : {}),
        reasons: [{ rule: "notDeclaredRunning", message: "RUNNING, but its set does not declare it " + "running (runtime: managed)" }],
      };
    }
    return { reasons: [] };
  }
  if (v.feature !== "CUSTOM_LABELS") {
    return {
      reasons: [
        {
          rule: "notStartable",
          message: `declared running, but it is an adapter (${v.feature}): adapters are not started; remove running from ` + `this version`,
        },
      ],
      blocked: true,
    };
  }
  if (NEVER_RUNS.has(v.status)) {
    return {
      reasons: [{ rule: "notStartable", message: `declared running, but its status ${v.status} cannot run; remove running from this ` + `version` }],
      blocked: true,
    };
  }
  const open = !want.schedule || windowVerdict(want.schedule, now).allowed;
  if (!open) {
    if (!running) return { reasons: [] };
    if (view.set.runtime === "managed" && v.status === "RUNNING") {
      return {
        action: "stop",
        ...(units ? { units } : {}),
        reasons: [{ rule: "outsideSchedule", message: "RUNNING outside its schedule (runtime: " + "managed)" }],
      };
    }
    return { reasons: [{ rule: "outsideSchedule", message: `${v.status} outside its schedule; not stopped (runtime: unmanaged)` }] };
  }
  const declared: InferenceUnits = { min: want.minInferenceUnits, ...(want.maxInferenceUnits !== undefined ? { max: want.maxInferenceUnits } : {}) };
  if (v.status === "RUNNING" && units && !sameUnits(units, declared)) {
    const drift: Reason = {
      rule: "capacityDrift",
      message: `running at ${show(units)}, declared ` + `${show(declared)}`,
      ...(policy.origin.inference ? { layer: policy.origin.inference } : {}),
    };
    if (policy.inference.allowRestart)
      return { action: "start", units: declared, restartFirst: true, reasons: [{ ...drift, message: `${drift.message}: ` + `restarted (allowRestart)` }] };
    return { reasons: [{ ...drift, message: `${drift.message}; not restarted (a restart is downtime: set inference.allowRestart: true to allow it)` }] };
  }
  if (STARTABLE.has(v.status)) return { action: "start", units: declared, reasons: [] };
  // RUNNING at its units, STARTING, or a status it must leave first (STOPPING, training, copying): nothing now.
  return { reasons: [] };
}
