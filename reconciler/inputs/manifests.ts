// Manifests → desired state. Returns every issue at once (a person fixes them all in one go); never throws for bad input.
import type { SourcePos, ValidationIssue } from "../errors.js";
import { loadDocuments, type TypedDoc } from "./documents.js";
import { parseSuspend, scopedFromDoc } from "./policy.js";
import { parseDuration } from "../duration.js";
import { windowProblems } from "../policy/windows.js";
import type { DeletionWindow, DesiredSet, DesiredState, RunningSpec, ScopedPolicy } from "../types.js";

export interface LoadOptions {
  /** Region for sets without spec.region (AWS_REGION or the profile's region). */
  defaultRegion?: string;
  /** plan/apply need a region for every set; validate (offline) does not. */
  requireRegion?: boolean;
}

export interface ManifestSetDoc {
  apiVersion: string;
  kind: "ProjectVersionSet";
  metadata: { name: string };
  spec: {
    project: string;
    region?: string;
    roleArn?: string;
    runtime?: "managed" | "unmanaged";
    versions: { name: string; running?: RunningDoc }[];
    suspend?: { reason: string; until?: string };
    owner?: string;
  };
}

/** spec.versions[].running as written (the schema checked its shape). */
interface RunningDoc {
  minInferenceUnits: number;
  maxInferenceUnits?: number;
  schedule?: { schedule: string; duration: string; timeZone?: string }[];
}

/** Load manifests into the desired state. `desired` is present only when there are no issues. */
export function loadManifests(paths: string[], opts: LoadOptions = {}): { desired?: DesiredState; issues: ValidationIssue[]; notes: string[] } {
  const r = new ManifestReader(opts);
  const loaded = loadDocuments(
    paths,
    (d) => r.take(d),
    (d) => r.claimInvalid(d),
  );
  r.issues.push(...loaded.issues);
  if (r.issues.length > 0) return { issues: sortIssues(r.issues), notes: r.notes };
  r.sets.sort((a, b) => cmp(a.project, b.project) || cmp(a.region, b.region));
  r.policies.sort((a, b) => cmp(a.pos.file, b.pos.file) || a.pos.line - b.pos.line);
  return { desired: { sets: r.sets, files: loaded.files, policies: r.policies, digest: loaded.digest }, issues: [], notes: r.notes };
}

/** One read of the manifests: what each document adds, and every issue and note found along the way. */
class ManifestReader {
  /** What validate cannot prove either way and plan/apply will settle with a live read. */
  readonly notes: string[] = [];
  readonly sets: DesiredSet[] = [];
  readonly policies: ScopedPolicy[] = [];
  readonly issues: ValidationIssue[] = [];
  private readonly names = new Map<string, SourcePos>();
  private readonly owners = new Map<string, { set: string; pos: SourcePos; region: string | undefined }[]>();

  constructor(private readonly opts: LoadOptions) {}

  /**
   * A set's name and its claim on a project, checked for every ProjectVersionSet whose identifying fields
   * are readable — schema-invalid ones too, so that an error elsewhere in a set (a mistyped version entry)
   * never hides that it names the same project as another set: every error is reported in one run.
   */
  private claimName(name: string, pos: SourcePos): void {
    const prior = this.names.get(name);
    if (prior) {
      this.issues.push({
        ...pos,
        path: "metadata.name",
        message: `duplicate name "${name}", already used at ${prior.file}:${prior.line}:${prior.col}`,
        fix: "give each ProjectVersionSet a unique metadata.name",
      });
    } else this.names.set(name, pos);
  }

  private claim(doc: TypedDoc["doc"], m: { name: string; project: string; region: string | undefined; roleArn: string | undefined }, pos: SourcePos): void {
    this.claimName(m.name, pos);
    const region = m.region;
    // One owner per project and region (and account: a roleArn names another account, where the same
    // project name is a different project). A set without a region, when no default is known, could land
    // in any region, so it conflicts with every other set for the same project in that account.
    const account = m.roleArn ? m.roleArn.split(":")[4] : "";
    const ownerKey = `${account}/${m.project}`;
    const list = this.owners.get(ownerKey) ?? [];
    const clash = list.find((o) => o.region === undefined || region === undefined || o.region === region);
    if (clash) {
      this.issues.push({
        file: doc.file,
        ...doc.locate(["spec", "project"]),
        path: "spec.project",
        message:
          `project "${m.project}"${region ? ` in ${region}` : ""} is already owned by ProjectVersionSet "${clash.set}" at ` +
          `${clash.pos.file}:${clash.pos.line}:${clash.pos.col}`,
        fix: "exactly one ProjectVersionSet may own a project per region: merge the two version lists",
      });
    }
    list.push({ set: m.name, pos, region });
    this.owners.set(ownerKey, list);
    // The ambient credentials' account is known only to AWS: a set using them and a set naming a role
    // may reach the same project. plan and apply resolve both with STS and refuse a shared project;
    // offline, say so rather than stay silent.
    const otherKey = account ? `/${m.project}` : undefined;
    const maybe =
      otherKey !== undefined
        ? (this.owners.get(otherKey) ?? [])
        : [...this.owners.entries()].filter(([k]) => k !== ownerKey && k.endsWith(`/${m.project}`) && !k.startsWith("/")).flatMap(([, l]) => l);
    const overlap = maybe.find((o) => o.region === undefined || region === undefined || o.region === region);
    if (overlap) {
      const where = `${overlap.pos.file}:${overlap.pos.line}:${overlap.pos.col}`;
      this.notes.push(
        `${doc.file}:${pos.line}:${pos.col}: ProjectVersionSet "${m.name}" and "${overlap.set}" (${where}) both name project ` +
          `"${m.project}"${region ? ` in ${region}` : ""}, one with the ambient credentials and one with a role; if they are the same account they own the ` +
          `same project, which plan and apply refuse (only a live read can tell: STS GetCallerIdentity)`,
      );
    }
  }

  /** What a schema-invalid ProjectVersionSet still says about its name and project, when those fields are readable. */
  claimInvalid({ doc, kind }: TypedDoc): void {
    if (kind !== "ProjectVersionSet") return;
    const v = doc.value as { metadata?: { name?: unknown }; spec?: { project?: unknown; region?: unknown; roleArn?: unknown } };
    const str = (x: unknown) => (typeof x === "string" && x !== "" ? x : undefined);
    const name = str(v.metadata?.name);
    const project = str(v.spec?.project);
    if (!name) return;
    const pos = { file: doc.file, ...doc.locate(["metadata", "name"]) };
    const region = v.spec?.region === undefined ? this.opts.defaultRegion : str(v.spec.region);
    // A project, region or role that is not one cannot be said to clash: the name still counts.
    const unreadable =
      !project ||
      (v.spec?.region !== undefined && region === undefined) ||
      (v.spec?.roleArn !== undefined && !/^arn:[\w-]+:iam::\d{12}:role\/\S+$/.test(String(v.spec.roleArn)));
    if (unreadable) this.claimName(name, pos);
    else this.claim(doc, { name, project, region, roleArn: str(v.spec?.roleArn) }, pos);
  }

  take({ doc, kind }: TypedDoc): void {
    if (kind === "DeletionPolicy") return this.takePolicy({ doc, kind });
    const m = doc.value as ManifestSetDoc;
    const pos: SourcePos = { file: doc.file, ...doc.locate(["metadata", "name"]) };
    const region = m.spec.region ?? this.opts.defaultRegion;
    this.claim(doc, { name: m.metadata.name, project: m.spec.project, region, roleArn: m.spec.roleArn }, pos);
    const seenVersions = new Map<string, number>();
    m.spec.versions.forEach((v, i) => {
      const first = seenVersions.get(v.name);
      if (first === undefined) return void seenVersions.set(v.name, i);
      const at = doc.locate(["spec", "versions", i, "name"]);
      this.issues.push({
        file: doc.file,
        ...at,
        path: `spec.versions[${i}].name`,
        message: `version "${v.name}" is listed twice (first at spec.versions[${first}])`,
        fix: "remove the repeated entry",
      });
    });
    if (!region && this.opts.requireRegion) {
      this.issues.push({
        file: doc.file,
        ...doc.locate(["spec"]),
        path: "spec.region",
        message: "no region: spec.region is not set and no default region is configured",
        fix: "set spec.region, or AWS_REGION (or a region in your AWS profile)",
      });
    }
    const suspend = parseSuspend(m.spec.suspend, `ProjectVersionSet "${m.metadata.name}" (${doc.file}:${pos.line}:${pos.col})`, {
      doc,
      path: ["spec", "suspend"],
      issues: this.issues,
    });
    this.sets.push({
      name: m.metadata.name,
      pos,
      project: m.spec.project,
      region: region ?? "",
      ...(m.spec.region === undefined && region !== undefined ? { regionDefaulted: true as const } : {}),
      ...(m.spec.roleArn ? { roleArn: m.spec.roleArn } : {}),
      versions: m.spec.versions.map((v, i) => {
        const running = v.running ? this.running(doc, i, v.running, `ProjectVersionSet "${m.metadata.name}" (${doc.file}:${pos.line}:${pos.col})`) : undefined;
        return { name: v.name, pos: { file: doc.file, ...doc.locate(["spec", "versions", i, "name"]) }, ...(running ? { running } : {}) };
      }),
      runtime: m.spec.runtime ?? "unmanaged",
      ...(m.spec.owner !== undefined ? { owner: m.spec.owner } : {}),
      ...(suspend ? { suspend } : {}),
    });
  }

  /** A version's `running`: units in order, each schedule entry a valid occurrence (the windows' rules). */
  private running(doc: TypedDoc["doc"], i: number, r: RunningDoc, origin: string): RunningSpec | undefined {
    const at = (...p: (string | number)[]) => ({ file: doc.file, ...doc.locate(["spec", "versions", i, "running", ...p]) });
    const before = this.issues.length;
    if (r.maxInferenceUnits !== undefined && r.maxInferenceUnits < r.minInferenceUnits) {
      this.issues.push({
        ...at("maxInferenceUnits"),
        path: `spec.versions[${i}].running.maxInferenceUnits`,
        message: `maxInferenceUnits ${r.maxInferenceUnits} is below minInferenceUnits ${r.minInferenceUnits}`,
        fix: `use ${r.minInferenceUnits} or more, or leave maxInferenceUnits out (no auto scaling)`,
      });
    }
    const schedule: DeletionWindow[] = [];
    (r.schedule ?? []).forEach((w, j) => {
      for (const m of windowProblems(w)) {
        const field = m.startsWith("timeZone") ? "timeZone" : "schedule";
        this.issues.push({
          ...at("schedule", j, field),
          path: `spec.versions[${i}].running.schedule[${j}].${field}`,
          message: m,
          fix: 'e.g. schedule: "0 8 * * MON-FRI", duration: 12h, timeZone: Europe/Berlin',
        });
      }
      schedule.push({
        kind: "allow",
        schedule: w.schedule.trim(),
        duration: w.duration,
        durationMs: parseDuration(w.duration)!,
        timeZone: w.timeZone ?? "UTC",
        origin,
      });
    });
    if (this.issues.length > before) return undefined;
    return {
      minInferenceUnits: r.minInferenceUnits,
      ...(r.maxInferenceUnits !== undefined ? { maxInferenceUnits: r.maxInferenceUnits } : {}),
      ...(schedule.length ? { schedule } : {}),
      pos: at(),
    };
  }

  private takePolicy(d: TypedDoc): void {
    const pol = scopedFromDoc(d, this.issues);
    if (!pol) return;
    const prior = this.names.get(`DeletionPolicy/${pol.name}`);
    if (prior)
      this.issues.push({
        ...pol.pos,
        path: "metadata.name",
        message: `duplicate DeletionPolicy name "${pol.name}", already used at ${prior.file}:${prior.line}:${prior.col}`,
        fix: "give each DeletionPolicy a unique metadata.name",
      });
    else this.names.set(`DeletionPolicy/${pol.name}`, pol.pos);
    this.policies.push(pol);
  }
}

export function sortIssues(issues: ValidationIssue[]): ValidationIssue[] {
  return [...issues].sort((a, b) => cmp(a.file, b.file) || a.line - b.line || a.col - b.col || cmp(a.path, b.path));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
