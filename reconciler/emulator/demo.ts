// The demo inventory served by `rekon emulator` with no --state file, and by `rekon demo`.
//
// manifests/ for the demo are written against these exact names, so renaming a version here breaks the demo:
// change DEMO_VERSIONS and the manifests together. Ages are relative to emulator start, so "too young" stays
// too young whatever day the demo runs; the dated names are only labels (console style) and were picked to
// match the ages around late November 2026.
//
// | project            | version                              | status               | age  | feature            |
// |--------------------|--------------------------------------|----------------------|------|--------------------|
// | fraud-detector     | fraud-detector.2026-02-01T09.30.00   | STOPPED              | 300d | CUSTOM_LABELS      |
// | fraud-detector     | fraud-detector.2026-04-02T14.05.12   | TRAINING_FAILED      | 240d | CUSTOM_LABELS      |
// | fraud-detector     | fraud-detector.2026-07-01T08.00.00   | STOPPED              | 150d | CUSTOM_LABELS      |
// | fraud-detector     | fraud-detector.2026-10-01T12.00.00   | RUNNING              | 58d  | CUSTOM_LABELS      |
// | fraud-detector     | fraud-detector.2026-11-14T10.20.00   | TRAINING_COMPLETED   | 14d  | CUSTOM_LABELS      |
// | fraud-detector     | fraud-detector.2026-11-28T11.00.00   | TRAINING_IN_PROGRESS | 2h   | CUSTOM_LABELS      |
// | shelf-scanner      | v4                                   | FAILED               | 180d | CUSTOM_LABELS      |
// | shelf-scanner      | v5                                   | STOPPED              | 120d | CUSTOM_LABELS      |
// | shelf-scanner      | v6                                   | RUNNING              | 45d  | CUSTOM_LABELS      |
// | shelf-scanner      | v7                                   | TRAINING_COMPLETED   | 6h   | CUSTOM_LABELS      |
// | moderation-adapter | adapter-2026-02                      | EXPIRED              | 290d | CONTENT_MODERATION |
// | moderation-adapter | adapter-2026-06                      | DEPRECATED           | 150d | CONTENT_MODERATION |
// | moderation-adapter | adapter-2026-11                      | TRAINING_COMPLETED   | 10d  | CONTENT_MODERATION |
//
// All in account 123456789012, region us-east-1. shelf-scanner/v6 is a copy of a version in another
// (staging) account, so its source is not in this inventory; it was started for a load test and left
// RUNNING at 2 inference units (other RUNNING versions run at 1), which the demo's manifests do not declare. moderation-adapter only shows up in
// DescribeProjects when Features includes CONTENT_MODERATION.

import type { EmulatorStateFile, Feature, VersionStatus } from "./state.js";

export const DEMO_ACCOUNT = "123456789012";
export const DEMO_REGION = "us-east-1";

export interface DemoVersion {
  project: string;
  version: string;
  status: VersionStatus;
  age: string;
  feature: Feature;
}

const FRAUD = "fraud-detector";
const SHELF = "shelf-scanner";
const ADAPTER = "moderation-adapter";
const ARCHIVE = "model-archive";

/** Every demo version, oldest first within each project. Read-only: demoState() builds fresh objects. */
export const DEMO_VERSIONS: readonly DemoVersion[] = [
  { project: FRAUD, version: "fraud-detector.2026-02-01T09.30.00", status: "STOPPED", age: "300d", feature: "CUSTOM_LABELS" },
  { project: FRAUD, version: "fraud-detector.2026-04-02T14.05.12", status: "TRAINING_FAILED", age: "240d", feature: "CUSTOM_LABELS" },
  { project: FRAUD, version: "fraud-detector.2026-07-01T08.00.00", status: "STOPPED", age: "150d", feature: "CUSTOM_LABELS" },
  { project: FRAUD, version: "fraud-detector.2026-10-01T12.00.00", status: "RUNNING", age: "58d", feature: "CUSTOM_LABELS" },
  { project: FRAUD, version: "fraud-detector.2026-11-14T10.20.00", status: "TRAINING_COMPLETED", age: "14d", feature: "CUSTOM_LABELS" },
  { project: FRAUD, version: "fraud-detector.2026-11-28T11.00.00", status: "TRAINING_IN_PROGRESS", age: "2h", feature: "CUSTOM_LABELS" },
  { project: SHELF, version: "v4", status: "FAILED", age: "180d", feature: "CUSTOM_LABELS" },
  { project: SHELF, version: "v5", status: "STOPPED", age: "120d", feature: "CUSTOM_LABELS" },
  { project: SHELF, version: "v6", status: "RUNNING", age: "45d", feature: "CUSTOM_LABELS" },
  { project: SHELF, version: "v7", status: "TRAINING_COMPLETED", age: "6h", feature: "CUSTOM_LABELS" },
  { project: ADAPTER, version: "adapter-2026-02", status: "EXPIRED", age: "290d", feature: "CONTENT_MODERATION" },
  { project: ADAPTER, version: "adapter-2026-06", status: "DEPRECATED", age: "150d", feature: "CONTENT_MODERATION" },
  { project: ADAPTER, version: "adapter-2026-11", status: "TRAINING_COMPLETED", age: "10d", feature: "CONTENT_MODERATION" },
];

// Extra per-version detail that makes the demo read like a real account, kept apart from the table above.
const EXTRA: Record<
  string,
  { tags?: Record<string, string>; statusMessage?: string; sourceVersionArn?: string; description?: string; minInferenceUnits?: number }
> = {
  "fraud-detector.2026-04-02T14.05.12": {
    statusMessage: "The manifest file contains too many invalid data objects.",
  },
  "fraud-detector.2026-10-01T12.00.00": { tags: { serving: "true", "cost-center": "fraud-ops" } },
  v4: { statusMessage: "The model failed to start: insufficient inference capacity." },
  v6: {
    sourceVersionArn: "arn:aws:rekognition:us-east-1:210987654321:project/shelf-scanner-staging/version/v6/1779580800000",
    description: "copied from staging; started for a load test",
    minInferenceUnits: 2,
  },
  "adapter-2026-02": { statusMessage: "The base model version of this adapter has expired." },
};

/** A fresh copy of the demo inventory (callers may mutate it). */
export function demoState(): EmulatorStateFile {
  const project = (name: string, age: string, feature: Feature, extra: { autoUpdate?: "ENABLED"; tags: Record<string, string> }) => ({
    name,
    region: DEMO_REGION,
    feature,
    age,
    status: "CREATED" as const,
    autoUpdate: extra.autoUpdate ?? ("DISABLED" as const),
    tags: extra.tags,
    versions: DEMO_VERSIONS.filter((v) => v.project === name).map((v) => ({
      name: v.version,
      status: v.status,
      age: v.age,
      tags: { ...(EXTRA[v.version]?.tags ?? {}) },
      ...(EXTRA[v.version]?.statusMessage !== undefined ? { statusMessage: EXTRA[v.version]?.statusMessage } : {}),
      ...(EXTRA[v.version]?.sourceVersionArn !== undefined ? { sourceVersionArn: EXTRA[v.version]?.sourceVersionArn } : {}),
      ...(EXTRA[v.version]?.description !== undefined ? { description: EXTRA[v.version]?.description } : {}),
      ...(EXTRA[v.version]?.minInferenceUnits !== undefined ? { minInferenceUnits: EXTRA[v.version]?.minInferenceUnits } : {}),
    })),
  });
  return {
    account: DEMO_ACCOUNT,
    projects: [
      project(FRAUD, "400d", "CUSTOM_LABELS", { tags: { team: "risk", env: "prod" } }),
      project(SHELF, "200d", "CUSTOM_LABELS", { tags: { team: "retail", env: "prod" } }),
      project(ADAPTER, "310d", "CONTENT_MODERATION", { autoUpdate: "ENABLED", tags: { team: "trust-safety" } }),
      // Where `rekon demo` archives a version before deleting it (spec.archive); no set names it, so no plan reads it.
      { name: ARCHIVE, age: "100d", tags: { team: "platform" }, versions: [] },
    ],
  };
}
