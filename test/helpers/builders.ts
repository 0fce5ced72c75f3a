// Builders for plan inputs, so each table row states only what it is about.
import type { DesiredSet, DesiredState, LiveProject, LiveState, LiveVersion, Policy, RunningSpec } from "../../reconciler/types.js";
import { DEFAULT_POLICY } from "../../reconciler/policy/defaults.js";

export const NOW = new Date("2026-11-28T12:00:00Z");
export const ACCOUNT = "123456789012";
const H = 3_600_000;

export function version(name: string, o: Partial<LiveVersion> & { ageHours?: number; project?: string } = {}): LiveVersion {
  const project = o.project ?? "p1";
  const region = o.region ?? "us-east-1";
  const account = o.account ?? ACCOUNT;
  const createdAt = o.createdAt ?? NOW.getTime() - (o.ageHours ?? 24 * 30) * H;
  return {
    arn: o.arn ?? `arn:aws:rekognition:${region}:${account}:project/${project}/version/${name}/${createdAt}`,
    name,
    project,
    region,
    account,
    status: o.status ?? "STOPPED",
    createdAt,
    feature: o.feature ?? "CUSTOM_LABELS",
    ...(o.sourceVersionArn ? { sourceVersionArn: o.sourceVersionArn } : {}),
    ...(o.tags ? { tags: o.tags } : {}),
    ...(o.tagsError ? { tagsError: o.tagsError } : {}),
    ...(o.minInferenceUnits !== undefined ? { minInferenceUnits: o.minInferenceUnits } : {}),
    ...(o.maxInferenceUnits !== undefined ? { maxInferenceUnits: o.maxInferenceUnits } : {}),
  };
}

export function liveProject(versions: LiveVersion[], o: Partial<LiveProject> = {}): LiveProject {
  const project = o.project ?? versions[0]?.project ?? "p1";
  const region = o.region ?? "us-east-1";
  return {
    set: o.set ?? `${project}-set`,
    project,
    region,
    status: o.status ?? "ok",
    projectArn: `arn:aws:rekognition:${region}:${ACCOUNT}:project/${project}/1700000000000`,
    account: ACCOUNT,
    versions,
    ...(o.error ? { error: o.error } : {}),
  };
}

/** A set listing `listed`; `running` declares some of them running (units, schedule), as spec.versions[].running does. */
export function set(
  project: string,
  listed: string[],
  o: Partial<DesiredSet> & { running?: Record<string, Omit<RunningSpec, "pos">> } = {},
): DesiredSet {
  const pos = { file: "m.yaml", line: 1, col: 1 };
  const versions = listed.map((name) => ({ name, pos, ...(o.running?.[name] ? { running: { ...o.running[name]!, pos } } : {}) }));
  return {
    name: o.name ?? `${project}-set`,
    pos,
    project,
    region: o.region ?? "us-east-1",
    versions,
    ...(o.runtime ? { runtime: o.runtime } : {}),
    ...(o.suspend ? { suspend: o.suspend } : {}),
  };
}

export function desired(...sets: DesiredSet[]): DesiredState {
  return { sets, files: ["m.yaml"], policies: [], digest: "sha256:test" };
}

export function policy(o: Partial<Policy> = {}): Policy {
  const allowedAccounts = o.allowedAccounts ?? [ACCOUNT];
  return { ...DEFAULT_POLICY, keepLatest: 0, source: "test-policy", name: "test", ...o, allowedAccounts, enforceAccounts: o.enforceAccounts ?? allowedAccounts.length > 0 };
}

/** The identity facts of a world where the ambient credentials resolved to ACCOUNT (STS GetCallerIdentity). */
export const AMBIENT_IDENTITY = { source: "ambient", account: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:user/test` };

/** A live state read with the ambient credentials of ACCOUNT (plus any role identities given). */
export function liveState(projects: LiveProject[], identities: LiveState["identities"] = [AMBIENT_IDENTITY]): LiveState {
  return { projects, identities };
}
