// The emulator's state file: its format, and the checks that refuse a malformed one. The live model built
// from it is in world.ts.
//
// This module (like everything under reconciler/emulator/) imports nothing from the rest of rekon:
// an emulator that reused rekon's own parsing or policy code would agree with rekon's bugs.
//
// ## State file format (JSON)
//
// ```json
// {
//   "account": "123456789012",                   // the default account: callers without an assumed role
//   "projects": [
//     {
//       "name": "fraud-detector",                  // [a-zA-Z0-9_.\-]{1,255}, unique per account and region
//       "account": "210987654321",                 // optional: another account, reached by assuming a role
//                                                  //   arn:aws:iam::210987654321:role/ANY (STS AssumeRole)
//       "region": "us-east-1",                     // default us-east-1
//       "feature": "CUSTOM_LABELS",                // or CONTENT_MODERATION (adapter project); default CUSTOM_LABELS
//       "age": "400d",                             // relative to emulator start (s, m, h, d; "1d12h" works),
//       "createdAt": "2025-01-01T00:00:00Z",       //   or an absolute ISO time with a zone; not both.
//                                                  //   Default: one day before its oldest version, else now.
//       "status": "CREATED",                       // CREATING | CREATED | DELETING; default CREATED
//       "autoUpdate": "DISABLED",                  // ENABLED | DISABLED; default DISABLED
//       "tags": { "team": "risk" },
//       "versions": [
//         {
//           "name": "v3",                          // unique within the project
//           "status": "TRAINING_COMPLETED",        // required, one of the 14 version statuses
//           "age": "30d",                          // or "createdAt"; default now
//           "tags": {},
//           "sourceVersion": "v2",                 // a copy of another version: "NAME" (same project)
//                                                  //   or "PROJECT/NAME" (same region) ...
//           "sourceVersionArn": "arn:aws:...",     //   ... or any version ARN (e.g. another account); not both
//           "statusMessage": "...",                // default: a message typical for the status
//           "description": "...",                  // VersionDescription
//           "minInferenceUnits": 1,                // default 1 while STARTING/RUNNING/STOPPING
//           "maxInferenceUnits": 2,                // optional, >= minInferenceUnits (auto-scaling bound)
//           "baseModelVersion": "7.0"              // adapters only; default "7.0"
//         }
//       ]
//     }
//   ]
// }
// ```
//
// ARNs follow AWS: project `arn:aws:rekognition:REGION:ACCOUNT:project/NAME/CREATION_MILLIS`, version
// `arn:aws:rekognition:REGION:ACCOUNT:project/NAME/version/VERSION_NAME/CREATION_MILLIS`.
//
// Seeded statuses are a frozen moment: a seeded TRAINING_IN_PROGRESS or DELETING version stays so forever,
// which lets tests rely on an "in use" fixture. Only transitions caused by API calls (Delete, Stop, Start,
// Copy) move on.
//
// Impossible states are rejected rather than served, so a typo in a fixture cannot quietly test nothing:
// adapters (CONTENT_MODERATION) are never started, stopped or copied, and only adapters are DEPRECATED/EXPIRED.

export const VERSION_STATUSES = [
  "TRAINING_IN_PROGRESS",
  "TRAINING_COMPLETED",
  "TRAINING_FAILED",
  "STARTING",
  "RUNNING",
  "FAILED",
  "STOPPING",
  "STOPPED",
  "DELETING",
  "COPYING_IN_PROGRESS",
  "COPYING_COMPLETED",
  "COPYING_FAILED",
  "DEPRECATED",
  "EXPIRED",
] as const;
export type VersionStatus = (typeof VERSION_STATUSES)[number];

export const PROJECT_STATUSES = ["CREATING", "CREATED", "DELETING"] as const;
export type ProjectStatus = (typeof PROJECT_STATUSES)[number];

export const FEATURES = ["CUSTOM_LABELS", "CONTENT_MODERATION"] as const;
export type Feature = (typeof FEATURES)[number];

export const AUTO_UPDATES = ["ENABLED", "DISABLED"] as const;
export type AutoUpdate = (typeof AUTO_UPDATES)[number];

export const DEFAULT_ACCOUNT = "123456789012";
export const DEFAULT_REGION = "us-east-1";

// ISO 8601 with an explicit zone: a zoneless time would mean different instants on different machines.

export const ADAPTER_ONLY_STATUSES: ReadonlySet<string> = new Set(["DEPRECATED", "EXPIRED"]);
export const NEVER_ADAPTER_STATUSES: ReadonlySet<string> = new Set([
  "STARTING",
  "RUNNING",
  "STOPPING",
  "STOPPED",
  "COPYING_IN_PROGRESS",
  "COPYING_COMPLETED",
  "COPYING_FAILED",
]);

export interface EmulatorVersionFile {
  name: string;
  status: VersionStatus;
  age?: string;
  createdAt?: string;
  tags?: Record<string, string>;
  sourceVersion?: string;
  sourceVersionArn?: string;
  statusMessage?: string;
  description?: string;
  minInferenceUnits?: number;
  maxInferenceUnits?: number;
  baseModelVersion?: string;
}

export interface EmulatorProjectFile {
  name: string;
  /** The account that owns it; default: the file's account. */
  account?: string;
  region?: string;
  feature?: Feature;
  age?: string;
  createdAt?: string;
  status?: ProjectStatus;
  autoUpdate?: AutoUpdate;
  tags?: Record<string, string>;
  versions?: EmulatorVersionFile[];
}

export interface EmulatorStateFile {
  account?: string;
  projects: EmulatorProjectFile[];
}

/** A state file that failed validation; `errors` holds every problem as `path: message`. */
export class EmulatorStateError extends Error {
  constructor(
    readonly source: string,
    readonly errors: string[],
  ) {
    super(`invalid emulator state ${source}:\n  ${errors.join("\n  ")}`);
    this.name = "EmulatorStateError";
  }
}

// ---------- validation ----------

const DURATION_PART = /(\d+(?:\.\d+)?)([smhd])/g;
export const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses "30d", "2h", "1d12h" into milliseconds; undefined when malformed. */
export function parseAge(text: string): number | undefined {
  if (!/^(\d+(?:\.\d+)?[smhd])+$/.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(DURATION_PART)) total += Number(m[1]) * (UNIT_MS[m[2] ?? ""] ?? 0);
  return total;
}
