// The world as the gate sees it, indexed once per pass: who owns which project (by the account the
// credentials resolved to, never by configuration), what was read completely and what was not, which
// versions are sources of copies in progress, and which unlisted versions nearly match a missing listed
// name. Every verdict and every approval reads these facts; nothing here decides.
import { effectivePolicy } from "../policy/layers.js";
import { missingProjectTags, nearMiss, newest, someListedExists } from "../policy/guards.js";
import type { TagSigner } from "../policy/marks.js";
import { firstLine } from "../text.js";
import {
  sourceOf,
  type DesiredSet,
  type DesiredState,
  type LiveProject,
  type LiveState,
  type LiveVersion,
  type PlanProject,
  type Policy,
  type PolicySet,
  type Reason,
} from "../types.js";

export interface GateWorld {
  desired: DesiredState;
  live: LiveState;
  policies: PolicySet | Policy;
  now: Date;
  /** Run-wide refusals decided by the caller (e.g. manifestsStale from the controller): nothing is written. */
  refusals?: Reason[];
  /** The operator's tag signing (spec.tagSigning), its key resolved at the edge: state tags must verify. */
  signer?: TagSigner;
}

/** One ProjectVersionSet as the gate sees it. */
export interface SetView {
  set: DesiredSet;
  policy: Policy;
  /** The account the set's credentials resolved to. */
  account?: string;
  callerArn?: string;
  status: PlanProject["status"];
  error?: string;
  /** The live project, present when it was read completely (status ok), or for notFound. */
  project?: LiveProject;
  /** The newest `keepLatest` versions' ARNs (plan time). */
  latest: ReadonlySet<string>;
  /** Whether any listed name exists live (allowEmpty), once per project. */
  listedExists?: boolean;
}

const key = (...parts: string[]) => parts.join("|");

export function asPolicySet(p: Policy | PolicySet): PolicySet {
  return "operator" in p ? p : { operator: p, scoped: [] };
}

export function describeSource(s: DesiredSet): string {
  return s.roleArn ? `role ${s.roleArn}` : "the ambient credentials";
}

export class WorldIndex {
  readonly views: readonly SetView[];
  readonly policies: PolicySet;
  readonly signer: TagSigner | undefined;
  /** Run-wide refusals decided by the caller. */
  readonly callerRefusals: readonly Reason[];
  private readonly bySet = new Map<string, SetView>();
  /** account|region|project → names listed by sets resolved to that account. */
  private readonly listed = new Map<string, Map<string, DesiredSet>>();
  /** region|project → names listed by sets whose account is unknown: they may own it in any account. */
  private readonly listedAnyAccount = new Map<string, Map<string, DesiredSet>>();
  /** ARNs that are the source of a copy in progress, across everything read. */
  readonly copySources = new Set<string>();
  /**
   * region → why something in it was not read completely. By region, not (account, region): a copy
   * (CopyProjectVersion) can go to another account's project in the same region, so any unread project in
   * the region, in any account, could hold a copy of a candidate in progress.
   */
  private readonly incomplete = new Map<string, Set<string>>();
  private readonly incompleteText = new Map<string, string | undefined>();
  /** Version ARN → the listed names that do not exist and that it nearly matches (a probable typo). */
  readonly nearMisses = new Map<string, string[]>();
  /** Version ARN → every listed name it nearly matches, there or not (computed when a look needs it). */
  private readonly nearListed = new Map<string, string[]>();
  private readonly known = new Map<string, ReadonlySet<string>>();

  constructor(world: GateWorld) {
    this.policies = asPolicySet(world.policies);
    this.callerRefusals = world.refusals ?? [];
    this.signer = world.signer;
    const identities = new Map((world.live.identities ?? []).map((i) => [i.source, i]));
    const liveBySet = new Map(world.live.projects.map((p) => [p.set, p]));

    // Ownership is keyed by the account the credentials resolved to: two sets that reach one project
    // (say, ambient credentials and a role in the same account) would each delete what the other lists.
    const owners = new Map<string, DesiredSet[]>();
    for (const s of world.desired.sets) {
      const id = identities.get(sourceOf(s));
      if (id?.account) owners.set(key(id.account, s.region, s.project), [...(owners.get(key(id.account, s.region, s.project)) ?? []), s]);
      const names = new Map(s.versions.map((v) => [v.name, s] as const));
      if (id?.account) addAll(this.listed, key(id.account, s.region, s.project), names);
      else addAll(this.listedAnyAccount, key(s.region, s.project), names);
    }
    for (const p of world.live.projects)
      for (const v of p.versions) if (v.status === "COPYING_IN_PROGRESS" && v.sourceVersionArn) this.copySources.add(v.sourceVersionArn);

    const views: SetView[] = [];
    for (const s of world.desired.sets) {
      const id = identities.get(sourceOf(s));
      const view = this.viewOf(
        s,
        id?.account ? { account: id.account, ...(id.arn ? { arn: id.arn } : {}) } : { error: id?.error },
        liveBySet.get(s.name),
        owners,
      );
      views.push(view);
      this.bySet.set(s.name, view);
    }
    this.views = views;
    for (const view of views) this.findNearMisses(view);
  }

  /** One set's view: read completely and owned alone, or why nothing in it is written. */
  private viewOf(
    s: DesiredSet,
    id: { account?: string; arn?: string; error?: string | undefined },
    lp0: LiveProject | undefined,
    owners: Map<string, DesiredSet[]>,
  ): SetView {
    const policy = effectivePolicy(this.policies, s.project);
    const base = { set: s, policy, latest: new Set<string>() as ReadonlySet<string> };
    if (!id.account) {
      const why =
        `the account of ${describeSource(s)} could not be resolved (sts:GetCallerIdentity${id.error ? `: ${id.error}` : " was not called"}); ` +
        `nothing in this project is read or deleted`;
      this.markIncomplete(s.region, `project ${s.project} in ${s.region} was not read (${describeSource(s)} unresolved)`);
      return { ...base, status: "error", error: why };
    }
    const account = id.account;
    const withId = { ...base, account, ...(id.arn ? { callerArn: id.arn } : {}) };
    const lp = lp0 && lp0.project === s.project && lp0.region === s.region ? lp0 : undefined;
    if (!lp || lp.status === "error")
      this.markIncomplete(
        s.region,
        `project ${s.project}${s.roleArn ? ` (account ${account})` : ""} could not be read${lp?.error ? ` (${firstLine(lp.error)})` : ""}`,
      );
    const others = (owners.get(key(account, s.region, s.project)) ?? []).filter((o) => o !== s);
    if (others.length > 0) {
      const claimed = [s, ...others].map((o) => `ProjectVersionSet "${o.name}" (${o.pos.file}:${o.pos.line}:${o.pos.col}, ${describeSource(o)})`).join(" and ");
      return {
        ...withId,
        status: "error",
        error:
          `project "${s.project}" in ${s.region} of account ${account} is claimed by ${claimed}: they resolve to the same project, so each would delete ` +
          `what the other lists; nothing in it is deleted — merge them into one set`,
      };
    }
    // A project that was not read at all is a read failure, never "empty": fail closed.
    if (!lp) return { ...withId, status: "error", error: "live state was not read" };
    if (lp.status !== "ok") return { ...withId, status: lp.status, error: lp.error ?? lp.status, ...(lp.status === "notFound" ? { project: lp } : {}) };
    if (lp.account !== undefined && lp.account !== account) {
      this.markIncomplete(s.region, `project ${s.project} answered from account ${lp.account}`);
      return {
        ...withId,
        status: "error",
        error: `the project's ARN is in account ${lp.account}, but ${describeSource(s)} resolved to account ${account}; nothing in it is deleted`,
      };
    }
    if (policy.requireProjectTag.length > 0) {
      if (!lp.tags) return { ...withId, status: "error", error: "project tags were not read, so ownership (requireProjectTag) cannot be checked" };
      const missing = missingProjectTags(policy, lp.tags);
      if (missing.length) {
        const origins = [...new Set(missing.map((t) => t.origin))].join("; ");
        return {
          ...withId,
          status: "notManaged",
          error: `project lacks required tag(s) ${missing.map((t) => `${t.key}=${t.value}`).join(", ")} (${origins}); nothing in it is deleted`,
        };
      }
    }
    return { ...withId, status: "ok", project: lp, latest: newest(lp.versions, policy.keepLatest), listedExists: someListedExists(s, lp) };
  }

  private findNearMisses(view: SetView): void {
    if (!view.project || view.status !== "ok") return;
    const live = new Set(view.project.versions.map((v) => v.name));
    const missing = view.set.versions.map((d) => d.name).filter((n) => !live.has(n));
    const listed = new Set(view.set.versions.map((d) => d.name));
    for (const v of view.project.versions) {
      if (listed.has(v.name)) continue;
      const near = missing.filter((m) => nearMiss(m, v.name)).sort();
      if (near.length) this.nearMisses.set(v.arn, near);
    }
  }

  /** The same index with the versions' tags as read (the views' projects replaced; nothing else changes). */
  withTags(live: LiveState): WorldIndex {
    const tagged = new Map(live.projects.map((p) => [p.set, p]));
    const copy = Object.create(WorldIndex.prototype) as WorldIndex;
    Object.assign(copy, this);
    const views = this.views.map((v) => (v.project && tagged.get(v.set.name) ? { ...v, project: tagged.get(v.set.name)! } : v));
    Object.assign(copy, { views, bySet: new Map(views.map((v) => [v.set.name, v])) });
    return copy;
  }

  view(setName: string): SetView | undefined {
    return this.bySet.get(setName);
  }

  /** Why the region was not read completely, every reason sorted (the text must not depend on the order of reads). */
  incompleteWhy(region: string): string | undefined {
    // Stryker disable next-line ConditionalExpression: equivalent, a cache (markIncomplete clears it): computing the text again gives the same text
    if (!this.incompleteText.has(region)) {
      const whys = [...(this.incomplete.get(region) ?? [])].sort();
      this.incompleteText.set(
        region,
        whys.length === 0 ? undefined : whys.length <= 3 ? whys.join("; ") : `${whys.slice(0, 3).join("; ")}; and ${whys.length - 3} more`,
      );
    }
    return this.incompleteText.get(region);
  }

  private markIncomplete(region: string, why: string): void {
    this.incomplete.set(region, (this.incomplete.get(region) ?? new Set()).add(why));
    this.incompleteText.delete(region);
  }

  /** A set that lists this version's name for its project, in its account (or in any, when the set's account is unknown). */
  listedBy(v: LiveVersion): DesiredSet | undefined {
    return this.listed.get(key(v.account, v.region, v.project))?.get(v.name) ?? this.listedAnyAccount.get(key(v.region, v.project))?.get(v.name);
  }

  /** The listed names close to a planned deletion: if one goes missing before the last look, it is a near miss. */
  closeListed(view: SetView, arn: string, name: string): string[] {
    let close = this.nearListed.get(arn);
    // Stryker disable next-line ConditionalExpression: equivalent, a cache: computing the close names again gives the same names
    if (!close)
      this.nearListed.set(
        arn,
        (close = view.set.versions
          .map((d) => d.name)
          .filter((m) => nearMiss(m, name))
          .sort()),
      );
    return close;
  }

  /** The ARNs of the versions the plan saw in this set's project. */
  knownArns(view: SetView): ReadonlySet<string> {
    let known = this.known.get(view.set.name);
    // Stryker disable next-line ConditionalExpression,LogicalOperator,OptionalChaining,ArrayDeclaration: equivalent, a cache; views read ok only
    if (!known) this.known.set(view.set.name, (known = new Set(view.project?.versions.map((v) => v.arn) ?? [])));
    return known;
  }

  /** The version as planned, for facts a look does not re-read (creation time, copy source). */
  planned(view: SetView, arn: string): LiveVersion | undefined {
    // Stryker disable next-line OptionalChaining: equivalent, asked only for views read ok (which have a project)
    return view.project?.versions.find((v) => v.arn === arn);
  }

  /**
   * A listed version that exists (the newest): while it is there, the set's list is not "none of the
   * listed versions exists" (allowEmpty). The last look re-reads it; if it went, only a new plan can tell.
   */
  anchor(view: SetView): LiveVersion | undefined {
    if (view.policy.allowEmpty || !view.project) return undefined;
    const listed = new Set(view.set.versions.map((d) => d.name));
    return view.project.versions
      .filter((v) => listed.has(v.name) && v.status !== "DELETING")
      .sort((a, b) => b.createdAt - a.createdAt || (a.arn < b.arn ? -1 : 1))[0];
  }
}

function addAll(m: Map<string, Map<string, DesiredSet>>, k: string, names: Map<string, DesiredSet>): void {
  const cur = m.get(k) ?? new Map<string, DesiredSet>();
  for (const [n, s] of names) if (!cur.has(n)) cur.set(n, s);
  m.set(k, cur);
}
