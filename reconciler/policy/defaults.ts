// The operator policy's defaults, in one place. Pure data: the planner, the gate and tests use it
// without importing the file readers in inputs/.
import type { Policy } from "../types.js";

/**
 * The defaults, in one place. They are chosen to delete little: nothing younger than a
 * day, always the newest version, at most ten per run, never a whole project, and no account at all
 * until the operator names one.
 */
export const DEFAULT_POLICY: Policy = {
  source: "defaults",
  digest: "defaults",
  name: "defaults",
  allowedAccounts: [],
  enforceAccounts: false,
  allowedRegions: [],
  enforceRegions: false,
  minAge: "24h",
  minAgeMs: 24 * 3_600_000,
  keepLatest: 1,
  maxDeletesPerRun: 10,
  allowEmpty: false,
  stopRunning: false,
  rateLimits: {},
  protectTags: [],
  requireProjectTag: [],
  gracePeriod: "0s",
  gracePeriodMs: 0,
  rules: [],
  windows: [],
  maxDeletesPercent: 100,
  requireApproval: false,
  nearMissGuard: true,
  notifications: [],
  remindBefore: "0s",
  remindBeforeMs: 0,
  requireNotice: false,
  // No start budget and no price: a plan shows running units, and costs only where the operator names a price.
  inference: { currency: "USD", allowRestart: false },
  origin: {},
};
