// The live world the server reads and mutates: projects and versions per account and region, built from a
// state file (state.ts), with the clock-driven transitions AWS makes after an API call.

import { projectArn, versionArn } from "./arns.js";
import {
  DEFAULT_ACCOUNT,
  DEFAULT_REGION,
  EmulatorStateError,
  UNIT_MS,
  parseAge,
  type AutoUpdate,
  type EmulatorStateFile,
  type EmulatorVersionFile,
  type Feature,
  type ProjectStatus,
  type VersionStatus,
} from "./state.js";
import { validateStateFile } from "./statecheck.js";

const DEFAULT_BASE_MODEL_VERSION = "7.0";

/** Statuses in which a Custom Labels model is busy; AWS refuses to delete these. */
export const IN_USE_STATUSES: ReadonlySet<VersionStatus> = new Set<VersionStatus>([
  "RUNNING",
  "STARTING",
  "STOPPING",
  "TRAINING_IN_PROGRESS",
  "COPYING_IN_PROGRESS",
]);

export interface Version {
  name: string;
  arn: string;
  createdAt: number; // epoch ms; also the ARN suffix
  status: VersionStatus;
  statusMessage?: string;
  description?: string;
  minInferenceUnits?: number;
  baseModelVersion?: string;
  sourceVersionArn?: string;
  tags: Map<string, string>;
  /** When a DELETING version vanishes (epoch ms); set only by DeleteProjectVersion. */
  deleteAt?: number;
  /** When a STOPPING version becomes STOPPED (epoch ms); set only by StopProjectVersion. */
  stopAt?: number;
  /** When a STARTING version becomes RUNNING (epoch ms); set only by StartProjectVersion. */
  startAt?: number;
  /** When a COPYING_IN_PROGRESS version becomes COPYING_COMPLETED (epoch ms); set only by CopyProjectVersion. */
  copyAt?: number;
  /** The copy ends COPYING_FAILED instead (the copyFails fault). */
  copyFails?: boolean;
  maxInferenceUnits?: number;
  /** The meter: inference-unit hours billed while RUNNING (at its min units), up to `meteredAt`. */
  unitHours?: number;
  meteredAt?: number;
}

export interface Project {
  name: string;
  arn: string;
  account: string;
  region: string;
  createdAt: number;
  status: ProjectStatus;
  feature: Feature;
  autoUpdate: AutoUpdate;
  tags: Map<string, string>;
  versions: Version[];
}

export interface LiveState {
  account: string;
  projects: Project[];
}

// ---------- building the live model ----------

// What AWS typically says for each status; a fixture can override it. Kept short and plain on purpose.
const DEFAULT_STATUS_MESSAGES: Record<VersionStatus, string> = {
  TRAINING_IN_PROGRESS: "The model is being trained.",
  TRAINING_COMPLETED: "The model is ready to run.",
  TRAINING_FAILED: "The manifest file contains too many invalid data objects.",
  STARTING: "The model is starting.",
  RUNNING: "The model is running.",
  FAILED: "The model failed to start.",
  STOPPING: "The model is being stopped.",
  STOPPED: "The model is stopped.",
  DELETING: "The model is being deleted.",
  COPYING_IN_PROGRESS: "The model is being copied.",
  COPYING_COMPLETED: "The model copy is complete.",
  COPYING_FAILED: "The model copy failed.",
  DEPRECATED: "The adapter's base model version is deprecated.",
  EXPIRED: "The adapter's base model version has expired.",
};

export function defaultStatusMessage(status: VersionStatus): string {
  return DEFAULT_STATUS_MESSAGES[status];
}

function resolveTime(entry: { age?: string; createdAt?: string }, now: number): number | undefined {
  if (entry.createdAt !== undefined) return Date.parse(entry.createdAt);
  if (entry.age !== undefined) return Math.round(now - (parseAge(entry.age) ?? 0));
  return undefined;
}

/**
 * Turns a (validated) state file into the live model, resolving ages against `now`.
 * Throws EmulatorStateError when the file is invalid, so programmatic seeds get the same checks as files.
 */
export function buildLiveState(file: EmulatorStateFile, now: number, accountOverride?: string): LiveState {
  const result = validateStateFile(file);
  if ("errors" in result) throw new EmulatorStateError("(seed)", result.errors);
  const account = accountOverride ?? file.account ?? DEFAULT_ACCOUNT;

  const projects: Project[] = file.projects.map((p) => {
    const region = p.region ?? DEFAULT_REGION;
    // A project without its own account belongs to the default one (the override, else the file's).
    const owner = p.account ?? account;
    const feature = p.feature ?? "CUSTOM_LABELS";
    const versions: Version[] = (p.versions ?? []).map((v) => {
      const createdAt = resolveTime(v, now) ?? now;
      const version: Version = {
        name: v.name,
        arn: versionArn(region, owner, p.name, v.name, createdAt),
        createdAt,
        status: v.status,
        tags: new Map(Object.entries(v.tags ?? {})),
      };
      if (v.statusMessage !== undefined) version.statusMessage = v.statusMessage;
      if (v.description !== undefined) version.description = v.description;
      if (v.minInferenceUnits !== undefined) version.minInferenceUnits = v.minInferenceUnits;
      if (v.maxInferenceUnits !== undefined) version.maxInferenceUnits = v.maxInferenceUnits;
      // A running model always has its units (AWS reports MinInferenceUnits); a seed that gives none runs at 1.
      // Its meter starts with the emulator.
      if (v.status === "RUNNING" || v.status === "STOPPING") {
        version.minInferenceUnits ??= 1;
        version.meteredAt = now;
      }
      if (feature === "CONTENT_MODERATION") version.baseModelVersion = v.baseModelVersion ?? DEFAULT_BASE_MODEL_VERSION;
      if (v.sourceVersionArn !== undefined) version.sourceVersionArn = v.sourceVersionArn;
      return version;
    });
    const oldest = versions.reduce((min, v) => Math.min(min, v.createdAt), Number.POSITIVE_INFINITY);
    // A project predates its versions; without a time given, place it a day before the oldest one.
    const createdAt = resolveTime(p, now) ?? (Number.isFinite(oldest) ? oldest - UNIT_MS.d! : now);
    return {
      name: p.name,
      arn: projectArn(region, owner, p.name, createdAt),
      account: owner,
      region,
      createdAt,
      status: p.status ?? "CREATED",
      feature,
      autoUpdate: p.autoUpdate ?? "DISABLED",
      tags: new Map(Object.entries(p.tags ?? {})),
      versions,
    };
  });

  // sourceVersion names become ARNs only once every version has its creation time.
  file.projects.forEach((p, i) => {
    const region = p.region ?? DEFAULT_REGION;
    const owner = p.account ?? account;
    (p.versions ?? []).forEach((v, j) => {
      if (v.sourceVersion === undefined) return;
      const [projName, verName] = v.sourceVersion.includes("/") ? v.sourceVersion.split("/", 2) : [p.name, v.sourceVersion];
      const source = projects.find((q) => q.account === owner && q.region === region && q.name === projName)?.versions.find((q) => q.name === verName);
      const target = projects[i]?.versions[j];
      if (source && target) target.sourceVersionArn = source.arn;
    });
  });

  return { account, projects };
}

/** The live model as a state file with absolute times, loadable again with the same ARNs. */
export function toStateFile(state: LiveState): EmulatorStateFile {
  return {
    account: state.account,
    projects: state.projects.map((p) => ({
      name: p.name,
      ...(p.account !== state.account ? { account: p.account } : {}),
      region: p.region,
      feature: p.feature,
      createdAt: new Date(p.createdAt).toISOString(),
      status: p.status,
      autoUpdate: p.autoUpdate,
      tags: Object.fromEntries(p.tags),
      versions: p.versions.map(versionToFile),
    })),
  };
}

/** One live version as a state-file entry with an absolute time. */
export function versionToFile(v: Version): EmulatorVersionFile {
  const out: EmulatorVersionFile = {
    name: v.name,
    status: v.status,
    createdAt: new Date(v.createdAt).toISOString(),
    tags: Object.fromEntries(v.tags),
  };
  if (v.sourceVersionArn !== undefined) out.sourceVersionArn = v.sourceVersionArn;
  if (v.statusMessage !== undefined) out.statusMessage = v.statusMessage;
  if (v.description !== undefined) out.description = v.description;
  if (v.minInferenceUnits !== undefined) out.minInferenceUnits = v.minInferenceUnits;
  if (v.maxInferenceUnits !== undefined) out.maxInferenceUnits = v.maxInferenceUnits;
  if (v.baseModelVersion !== undefined) out.baseModelVersion = v.baseModelVersion;
  return out;
}

/** How long each API-started transition takes, and how long a NextToken lives, in ms of the emulator's clock. */
export interface Delays {
  deleteMs: number;
  stopMs: number;
  startMs: number;
  copyMs: number;
  /** Undefined: tokens never expire. */
  tokenTtlMs?: number;
  /**
   * Whether a copy in progress blocks deleting its source (ResourceInUseException). Unverified on AWS, so
   * both answers are playable; default true (the strict one).
   */
  copyPinsSource?: boolean;
  /**
   * A fault: a copy whose source version ARN or new VersionName contains one of these ends COPYING_FAILED
   * (after copyMs) instead of COPYING_COMPLETED.
   */
  copyFails?: readonly string[];
}

/** The live state with its clock: lookups per (account, region) and the transitions AWS makes on its own. */
export class World {
  constructor(
    readonly state: LiveState,
    readonly now: () => number,
    readonly delays: Delays,
  ) {}

  /** The default account: callers that did not sign with assumed-role keys. */
  get account(): string {
    return this.state.account;
  }

  // Transitions are applied lazily from the clock rather than by timers: deterministic under a fake clock,
  // and nothing keeps the process alive after close().
  settle(): void {
    const t = this.now();
    for (const p of this.state.projects) {
      p.versions = p.versions.filter((v) => !(v.status === "DELETING" && v.deleteAt !== undefined && v.deleteAt <= t));
      for (const v of p.versions) {
        // The meter runs while RUNNING (and, as AWS bills it, until the model has stopped: STOPPING too),
        // from the moment it became RUNNING: a transition found late is dated when it happened.
        if (v.status === "STARTING" && v.startAt !== undefined && v.startAt <= t) v.meteredAt = v.startAt;
        const billed = v.status === "RUNNING" || v.status === "STARTING" || v.status === "STOPPING";
        if (billed && v.meteredAt !== undefined && v.minInferenceUnits !== undefined) {
          const until = v.status === "STOPPING" && v.stopAt !== undefined && v.stopAt <= t ? v.stopAt : t;
          v.unitHours = (v.unitHours ?? 0) + (v.minInferenceUnits * Math.max(0, until - v.meteredAt)) / 3_600_000;
          v.meteredAt = until;
        }
        if (v.status === "STOPPING" && v.stopAt !== undefined && v.stopAt <= t) {
          v.status = "STOPPED";
          delete v.stopAt;
          delete v.statusMessage;
          delete v.minInferenceUnits;
          delete v.maxInferenceUnits;
        }
        if (v.status === "STARTING" && v.startAt !== undefined && v.startAt <= t) {
          v.status = "RUNNING";
          delete v.startAt;
          delete v.statusMessage;
        }
        if (v.status === "COPYING_IN_PROGRESS" && v.copyAt !== undefined && v.copyAt <= t) {
          v.status = v.copyFails ? "COPYING_FAILED" : "COPYING_COMPLETED";
          delete v.copyAt;
          delete v.statusMessage;
          if (v.copyFails) v.statusMessage = "The model copy failed: the emulator's copyFails fault.";
          delete v.copyFails;
        }
      }
    }
  }

  /** What one account sees in one region: each is its own world, as on AWS. */
  projectsIn(region: string, account: string): Project[] {
    return this.state.projects.filter((p) => p.region === region && p.account === account);
  }

  findVersion(region: string, account: string, arn: string): { project: Project; version: Version } | undefined {
    for (const project of this.projectsIn(region, account)) {
      const version = project.versions.find((v) => v.arn === arn);
      if (version) return { project, version };
    }
    return undefined;
  }

  /** A version in any account and region (for tests acting as AWS itself). */
  findAnyVersion(arn: string): { project: Project; version: Version } | undefined {
    for (const project of this.state.projects) {
      const version = project.versions.find((v) => v.arn === arn);
      if (version) return { project, version };
    }
    return undefined;
  }

  snapshot(): EmulatorStateFile {
    this.settle();
    return toStateFile(this.state);
  }

  /** Inference-unit hours metered per version ARN so far (what AWS would bill for running models). */
  meter(): Record<string, number> {
    this.settle();
    const out: Record<string, number> = {};
    for (const p of this.state.projects) for (const v of p.versions) if (v.unitHours !== undefined || v.meteredAt !== undefined) out[v.arn] = v.unitHours ?? 0;
    return out;
  }
}
