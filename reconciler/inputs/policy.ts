// DeletionPolicy documents: the operator's (given with --policy, the floor) and scoped ones found among
// the manifests (which may only tighten it; see layers.ts). Read, validate, fill in documented defaults.
import type { SourcePos, ValidationIssue } from "../errors.js";
import { parseDuration } from "../duration.js";
import { parseRfc3339 } from "../rfc3339.js";
import { loadDocuments, type TypedDoc } from "./documents.js";
import { DEFAULT_POLICY } from "../policy/defaults.js";
import {
  NOTIFICATION_EVENTS,
  type ArchivePolicy,
  type CompiledRule,
  type DeletionWindow,
  type NotificationChannel,
  type NotificationEventKind,
  type Policy,
  type PolicyField,
  type ScopedPolicy,
  type SecretRef,
  type Suspension,
} from "../types.js";
import { windowProblems } from "../policy/windows.js";
import { compileRule } from "../policy/cel.js";
import { manifestLayer, operatorLayer } from "../policy/naming.js";
import { noticeChannelMissing } from "../policy/guards.js";

export interface PolicySpecDoc {
  selector?: { projects: string[] };
  allowedAccounts?: string[];
  allowedRegions?: string[];
  minAge?: string;
  keepLatest?: number;
  maxDeletesPerRun?: number;
  allowEmpty?: boolean;
  stopRunning?: boolean;
  rateLimits?: Record<string, number>;
  protectTags?: Record<string, string>;
  requireProjectTag?: Record<string, string>;
  gracePeriod?: string;
  rules?: { name: string; deny: string; message: string }[];
  windows?: { kind: "deny" | "allow"; schedule: string; duration: string; timeZone?: string; reason?: string }[];
  maxDeletesPercent?: number;
  requireApproval?: boolean;
  suspend?: { reason: string; until?: string };
  nearMissGuard?: boolean;
  notifications?: { name: string; url: SecretRef; secret?: SecretRef; format?: "json" | "slack"; events?: NotificationEventKind[] }[];
  remindBefore?: string;
  requireNotice?: boolean;
  tagSigning?: { secret: SecretRef };
  inference?: { maxInferenceUnits?: number; maxStartsPerRun?: number; unitPricePerHour?: number; currency?: string; allowRestart?: boolean };
  archive?: { project: string; outputConfig: { s3Bucket: string; s3KeyPrefix?: string }; kmsKeyId?: string; required?: boolean };
}

const FIELDS: PolicyField[] = [
  "allowedAccounts",
  "allowedRegions",
  "minAge",
  "keepLatest",
  "maxDeletesPerRun",
  "allowEmpty",
  "stopRunning",
  "protectTags",
  "requireProjectTag",
  "gracePeriod",
  "rules",
  "windows",
  "maxDeletesPercent",
  "requireApproval",
  "suspend",
  "nearMissGuard",
  "notifications",
  "remindBefore",
  "requireNotice",
  "inference",
  "archive",
];

/**
 * A manifest policy may name only REKON_* environment variables, and no files: the manifests repository is
 * less trusted than the operator's policy, and must not point rekon at the controller's other secrets
 * (its credentials, a service-account token) as a webhook URL or signing key.
 */
const MANIFEST_ENV = /^REKON_/;

/** A document's channels, checked (unique names; in a manifest policy, REKON_* variables only). */
function parseChannels(d: TypedDoc, spec: PolicySpecDoc, origin: string, scoped: boolean, issues: ValidationIssue[]): NotificationChannel[] {
  const out: NotificationChannel[] = [];
  const names = new Map<string, number>();
  (spec.notifications ?? []).forEach((c, i) => {
    const at = (...p: (string | number)[]) => ({ file: d.doc.file, ...d.doc.locate(["spec", "notifications", i, ...p]) });
    const first = names.get(c.name);
    if (first !== undefined)
      issues.push({
        ...at("name"),
        path: `spec.notifications[${i}].name`,
        message: `channel name "${c.name}" is used twice (first at spec.notifications[${first}])`,
        fix: "give each channel a unique name: logs, errors and metrics name channels by it",
      });
    else names.set(c.name, i);
    if (scoped) {
      for (const field of ["url", "secret"] as const) {
        const ref = c[field];
        if (!ref) continue;
        if ("fromFile" in ref)
          issues.push({
            ...at(field, "fromFile"),
            path: `spec.notifications[${i}].${field}.fromFile`,
            message: "a DeletionPolicy among the manifests may not read files",
            fix: "use {fromEnv: REKON_…}, a variable the operator provides to rekon",
          });
        else if (!MANIFEST_ENV.test(ref.fromEnv))
          issues.push({
            ...at(field, "fromEnv"),
            path: `spec.notifications[${i}].${field}.fromEnv`,
            message: `a DeletionPolicy among the manifests may name only REKON_* variables, not ${JSON.stringify(ref.fromEnv)}`,
            fix: "ask the operator to provide the webhook as a REKON_… variable",
          });
      }
    }
    out.push({
      name: c.name,
      url: c.url,
      ...(c.secret ? { secret: c.secret } : {}),
      format: c.format ?? "json",
      events: c.events ? [...c.events] : [...NOTIFICATION_EVENTS],
      origin,
    });
  });
  return out;
}

function tagRules(map: Record<string, string> | undefined, origin: string) {
  return Object.entries(map ?? {}).map(([key, value]) => ({ key, value, origin }));
}

/** A document's windows, checked (5-field cron, IANA zone); each problem is an issue at the window. */
function parseWindows(d: TypedDoc, spec: PolicySpecDoc, origin: string, issues: ValidationIssue[]): DeletionWindow[] {
  const out: DeletionWindow[] = [];
  (spec.windows ?? []).forEach((w, i) => {
    const problems = windowProblems(w);
    for (const m of problems)
      issues.push({
        file: d.doc.file,
        ...d.doc.locate(["spec", "windows", i, m.startsWith("timeZone") ? "timeZone" : "schedule"]),
        path: `spec.windows[${i}].${m.startsWith("timeZone") ? "timeZone" : "schedule"}`,
        message: m,
        fix: 'e.g. schedule: "0 18 * * FRI", timeZone: Europe/Berlin',
      });
    if (problems.length === 0)
      out.push({
        kind: w.kind,
        schedule: w.schedule.trim(),
        duration: w.duration,
        durationMs: parseDuration(w.duration)!,
        timeZone: w.timeZone ?? "UTC",
        ...(w.reason ? { reason: w.reason } : {}),
        origin,
      });
  });
  return out;
}

/**
 * spec.suspend as data. The schema checked the shape of `until`; a time of that shape that does not exist
 * (2026-31-12, 25:00, an offset of +24:00) is an issue at `until`, never a suspension that silently ends.
 */
export function parseSuspend(
  s: { reason: string; until?: string } | undefined,
  origin: string,
  where: { doc: TypedDoc["doc"]; path: (string | number)[]; issues: ValidationIssue[] },
): Suspension | undefined {
  if (!s) return undefined;
  if (s.until === undefined) return { reason: s.reason, origin };
  const until = parseRfc3339(s.until);
  if (until === undefined) {
    where.issues.push({
      file: where.doc.file,
      ...where.doc.locate([...where.path, "until"]),
      path: [...where.path, "until"].join("."),
      message: `suspend.until "${s.until}" is not a time that exists`,
      fix: "an RFC 3339 time with a zone whose date and time exist, e.g. 2026-12-01T09:00:00Z",
    });
    return undefined;
  }
  return { reason: s.reason, until, origin };
}

/** spec.archive as data: `required` defaults to true (a version that cannot be archived is kept). */
function parseArchive(a: PolicySpecDoc["archive"], origin: string): ArchivePolicy | undefined {
  if (!a) return undefined;
  return {
    project: a.project,
    outputConfig: { s3Bucket: a.outputConfig.s3Bucket, ...(a.outputConfig.s3KeyPrefix !== undefined ? { s3KeyPrefix: a.outputConfig.s3KeyPrefix } : {}) },
    ...(a.kmsKeyId !== undefined ? { kmsKeyId: a.kmsKeyId } : {}),
    required: a.required ?? true,
    origin,
  };
}

/** Compile a document's CEL rules; each failure is an issue at the rule's `deny`. */
function compileRules(d: TypedDoc, spec: PolicySpecDoc, origin: string, issues: ValidationIssue[]): CompiledRule[] {
  const rules: CompiledRule[] = [];
  const names = new Set<string>();
  (spec.rules ?? []).forEach((r, i) => {
    if (names.has(r.name)) {
      issues.push({
        file: d.doc.file,
        ...d.doc.locate(["spec", "rules", i, "name"]),
        path: `spec.rules[${i}].name`,
        message: `rule name "${r.name}" is used twice`,
        fix: "give each rule a unique name: it is the rule id in plans",
      });
    }
    names.add(r.name);
    const c = compileRule(r, origin);
    if ("error" in c) {
      issues.push({
        file: d.doc.file,
        ...d.doc.locate(["spec", "rules", i, "deny"]),
        path: `spec.rules[${i}].deny`,
        message: c.error,
        fix: 'see docs/manifests-and-policy.md, "Rules (CEL)", for the variables a rule can use (version, project, now)',
      });
    } else rules.push(c);
  });
  return rules;
}

export function loadPolicy(file: string | undefined): { policy?: Policy; issues: ValidationIssue[] } {
  if (file === undefined) return { policy: { ...DEFAULT_POLICY, origin: Object.fromEntries(FIELDS.map((f) => [f, operatorLayer("defaults")])) }, issues: [] };
  const { docs, issues, digest } = loadDocuments([file]);
  if (issues.length > 0) return { issues };
  const policies = docs.filter((d) => d.kind === "DeletionPolicy");
  for (const d of docs) {
    if (d.kind !== "DeletionPolicy") {
      issues.push({
        file: d.doc.file,
        ...d.doc.locate(["kind"]),
        path: "kind",
        message: `--policy expects a DeletionPolicy, got ${d.kind}`,
        fix: "pass manifests with --manifests, the DeletionPolicy with --policy",
      });
    }
  }
  if (policies.length > 1) {
    const second = policies[1]!.doc;
    issues.push({
      file: second.file,
      ...second.locate([]),
      path: "",
      message: "more than one DeletionPolicy in the --policy file",
      fix: "keep exactly one DeletionPolicy document in that file",
    });
  }
  if (policies.length === 0 && issues.length === 0) {
    issues.push({ file, line: 1, col: 1, path: "", message: "no DeletionPolicy document found", fix: "add a document with kind: DeletionPolicy" });
  }
  if (issues.length > 0) return { issues };

  const d = policies[0]!;
  const { spec, metadata } = d.doc.value as { metadata: { name: string }; spec: PolicySpecDoc };
  if (spec.selector) {
    issues.push({
      file,
      ...d.doc.locate(["spec", "selector"], true),
      path: "spec.selector",
      message: "the operator policy applies to every project and takes no selector",
      fix: "remove spec.selector; scope a stricter DeletionPolicy among the manifests instead",
    });
  }
  const origin = operatorLayer(file);
  const rules = compileRules(d, spec, origin, issues);
  const windows = parseWindows(d, spec, origin, issues);
  const notifications = parseChannels(d, spec, origin, false, issues);
  if (spec.requireNotice && noticeChannelMissing(notifications)) {
    issues.push({
      file,
      ...d.doc.locate(["spec", "requireNotice"]),
      path: "spec.requireNotice",
      message: "requireNotice: true, but no notification channel gets the `marked` event, so no notice could ever be delivered and nothing would be deleted",
      fix: "add a channel under spec.notifications whose events include marked (or leave events out: all)",
    });
  }
  const suspend = parseSuspend(spec.suspend, origin, { doc: d.doc, path: ["spec", "suspend"], issues });
  if (issues.length > 0) return { issues };
  const remindBefore = spec.remindBefore ?? DEFAULT_POLICY.remindBefore;

  const minAge = spec.minAge ?? DEFAULT_POLICY.minAge;
  const gracePeriod = spec.gracePeriod ?? DEFAULT_POLICY.gracePeriod;
  const allowedAccounts = spec.allowedAccounts ?? [];
  const allowedRegions = spec.allowedRegions ?? [];
  return {
    policy: {
      source: file,
      digest,
      name: metadata.name,
      allowedAccounts,
      enforceAccounts: allowedAccounts.length > 0,
      allowedRegions,
      enforceRegions: allowedRegions.length > 0,
      minAge,
      // The schema has already checked the shape, so parseDuration cannot fail here.
      minAgeMs: parseDuration(minAge)!,
      keepLatest: spec.keepLatest ?? DEFAULT_POLICY.keepLatest,
      maxDeletesPerRun: spec.maxDeletesPerRun ?? DEFAULT_POLICY.maxDeletesPerRun,
      allowEmpty: spec.allowEmpty ?? DEFAULT_POLICY.allowEmpty,
      stopRunning: spec.stopRunning ?? DEFAULT_POLICY.stopRunning,
      rateLimits: spec.rateLimits ?? DEFAULT_POLICY.rateLimits,
      protectTags: tagRules(spec.protectTags, origin),
      requireProjectTag: tagRules(spec.requireProjectTag, origin),
      gracePeriod,
      gracePeriodMs: parseDuration(gracePeriod)!,
      rules,
      windows,
      maxDeletesPercent: spec.maxDeletesPercent ?? DEFAULT_POLICY.maxDeletesPercent,
      requireApproval: spec.requireApproval ?? DEFAULT_POLICY.requireApproval,
      ...(suspend ? { suspend } : {}),
      nearMissGuard: spec.nearMissGuard ?? DEFAULT_POLICY.nearMissGuard,
      notifications,
      remindBefore,
      remindBeforeMs: parseDuration(remindBefore)!,
      requireNotice: spec.requireNotice ?? DEFAULT_POLICY.requireNotice,
      inference: { ...DEFAULT_POLICY.inference, ...(spec.inference ?? {}) },
      ...(spec.archive ? { archive: parseArchive(spec.archive, origin)! } : {}),
      ...(spec.tagSigning ? { tagSigning: { secret: spec.tagSigning.secret } } : {}),
      origin: Object.fromEntries(FIELDS.map((f) => [f, origin])),
    },
    issues: [],
  };
}

/** A DeletionPolicy found among the manifests. It must be scoped with spec.selector.projects. */
export function scopedFromDoc(d: TypedDoc, issues: ValidationIssue[]): ScopedPolicy | undefined {
  const { spec, metadata } = d.doc.value as { metadata: { name: string }; spec: PolicySpecDoc };
  const pos: SourcePos = { file: d.doc.file, ...d.doc.locate(["metadata", "name"]) };
  if (!spec.selector) {
    issues.push({
      file: d.doc.file,
      ...d.doc.locate(["spec"], true),
      path: "spec.selector",
      message: "a DeletionPolicy among the manifests must say which projects it applies to",
      fix: "add spec.selector.projects: [project names]; the operator's own policy is given with --policy",
    });
    return undefined;
  }
  const before = issues.length;
  // The key that makes state tags trustworthy is the operator's: a manifest layer that could set it could
  // sign its own marks, and one that could remove it would make them forgeable again.
  if (spec.tagSigning)
    issues.push({
      file: d.doc.file,
      ...d.doc.locate(["spec", "tagSigning"], true),
      path: "spec.tagSigning",
      message: "tagSigning is set by the operator only: a DeletionPolicy among the manifests can neither set nor change the key rekon signs its tags with",
      fix: "remove spec.tagSigning from this manifest policy; the operator sets it in the --policy file",
    });
  const rules = compileRules(d, spec, manifestLayer(pos, metadata.name), issues);
  const windows = parseWindows(d, spec, manifestLayer(pos, metadata.name), issues);
  const notifications = parseChannels(d, spec, manifestLayer(pos, metadata.name), true, issues);
  const suspend = parseSuspend(spec.suspend, manifestLayer(pos, metadata.name), { doc: d.doc, path: ["spec", "suspend"], issues });
  if (issues.length > before) return undefined;
  const fieldPos: ScopedPolicy["fieldPos"] = {};
  for (const f of [...FIELDS, "rateLimits" as const, "selector" as const]) {
    if ((spec as Record<string, unknown>)[f] !== undefined) fieldPos[f] = { file: d.doc.file, ...d.doc.locate(["spec", f]) };
  }
  const out: ScopedPolicy["spec"] = {};
  if (spec.allowedAccounts) out.allowedAccounts = spec.allowedAccounts;
  if (spec.allowedRegions) out.allowedRegions = spec.allowedRegions;
  if (spec.minAge !== undefined) Object.assign(out, { minAge: spec.minAge, minAgeMs: parseDuration(spec.minAge)! });
  if (spec.keepLatest !== undefined) out.keepLatest = spec.keepLatest;
  if (spec.maxDeletesPerRun !== undefined) out.maxDeletesPerRun = spec.maxDeletesPerRun;
  if (spec.allowEmpty !== undefined) out.allowEmpty = spec.allowEmpty;
  if (spec.stopRunning !== undefined) out.stopRunning = spec.stopRunning;
  if (spec.rateLimits !== undefined) out.rateLimits = spec.rateLimits;
  const origin = manifestLayer(pos, metadata.name);
  if (spec.protectTags) out.protectTags = tagRules(spec.protectTags, origin);
  if (spec.requireProjectTag) out.requireProjectTag = tagRules(spec.requireProjectTag, origin);
  if (spec.gracePeriod !== undefined) Object.assign(out, { gracePeriod: spec.gracePeriod, gracePeriodMs: parseDuration(spec.gracePeriod)! });
  if (rules.length) out.rules = rules;
  if (spec.windows) out.windows = windows;
  if (spec.maxDeletesPercent !== undefined) out.maxDeletesPercent = spec.maxDeletesPercent;
  if (spec.requireApproval !== undefined) out.requireApproval = spec.requireApproval;
  if (suspend) out.suspend = suspend;
  if (spec.nearMissGuard !== undefined) out.nearMissGuard = spec.nearMissGuard;
  if (spec.notifications) out.notifications = notifications;
  if (spec.remindBefore !== undefined) Object.assign(out, { remindBefore: spec.remindBefore, remindBeforeMs: parseDuration(spec.remindBefore)! });
  if (spec.requireNotice !== undefined) out.requireNotice = spec.requireNotice;
  if (spec.inference) out.inference = { ...spec.inference };
  if (spec.archive) out.archive = parseArchive(spec.archive, origin)!;
  const projectPos = spec.selector.projects.map((_, i) => ({ file: d.doc.file, ...d.doc.locate(["spec", "selector", "projects", i]) }));
  return { name: metadata.name, pos, projects: spec.selector.projects, projectPos, spec: out, fieldPos };
}
