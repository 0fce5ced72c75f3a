// One reconcile pass, wired from the four steps: read manifests and policy → resolve who rekon is → read
// live → plan (the gate's verdicts) → (act, through the gate's approvals). Shared by `plan`, `apply`,
// the demo and the controller, so all compute the same plan and pass the same gate.
import type { Logger } from "pino";
import { allAccepted, applyPlan, type ApplyContext } from "./apply/index.js";
import { ServerClock } from "./aws/clock.js";
import { createClient, defaultRegion, type ClientOptions, type RetryingRekognitionClient } from "./aws/client.js";
import { Identities } from "./aws/identity.js";
import { readLive } from "./aws/inventory.js";
import { RateLimiters } from "./aws/limiter.js";
import type { RetryOptions } from "./aws/retry.js";
import { withVersionTags } from "./aws/tags.js";
import { ConfigError, RefusalError, ValidationError } from "./errors.js";
import { Gate } from "./gate/index.js";
import { inputsChangedSince, validateInputs } from "./inputs/index.js";
import { readSecret, secretSource } from "./inputs/secrets.js";
import { needsMark } from "./policy/guards.js";
import { MIN_KEY_BYTES, tagSigner, type TagSigner } from "./policy/marks.js";
import { needsProjectTags, planWith } from "./plan.js";
import {
  sourceOf,
  targetKey,
  type DesiredState,
  type LiveState,
  type Plan,
  type Policy,
  type PolicySet,
  type Reason,
  type Target,
  type WriteResult,
} from "./types.js";

export interface ReconcileOptions {
  manifests: string[];
  policy?: string;
  log: Logger;
  /** Endpoint/credential overrides (demo, tests); users rely on the SDK's standard chain. */
  client?: Omit<ClientOptions, "region" | "retry" | "limiters" | "provider" | "account">;
  retry?: RetryOptions;
  /**
   * The time the plan is made for (`plan --at`, tests). Default: the verified clock — the local clock
   * corrected by AWS's Date headers (aws/clock.ts), which is also what every write is decided and dated by.
   */
  now?: () => Date;
  /**
   * Rate limiters to use, given the policy's rateLimits; the caller owns them (the controller keeps them
   * across cycles, so learned rates and request metrics survive). Default: fresh ones for this pass.
   */
  limitersFor?: (rateLimits: Record<string, number>) => RateLimiters;
  /** Resolved identities to reuse (once per source per process). Default: a fresh set for this pass. */
  identities?: Identities;
  /** Run-wide refusals the caller decided (e.g. manifestsStale): the plan shows them and nothing is written. */
  refusals?: Reason[];
  /** Reuse the last validated inputs while their files are unchanged (the controller). Default: read afresh. */
  inputsCache?: InputsCache;
  /** STS SourceIdentity when assuming roles: "rekon-plan" (reads only) or "rekon-apply". Default "rekon-plan". */
  sourceIdentity?: "rekon-plan" | "rekon-apply";
  /** More run-wide refusals, decided from the inputs once read (notification channels that cannot be used under requireNotice). */
  refusalsFor?: (inputs: { desired: DesiredState; policies: PolicySet }) => Reason[];
  /** Where secrets the policy names by variable are read (spec.tagSigning). Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface PlannedPass {
  plan: Plan;
  /** The gate that made the plan's verdicts, holding the facts they rest on; it approves every write. */
  gate: Gate;
  desired: DesiredState;
  /** The operator's policy (the floor). */
  policy: Policy;
  /** The operator's policy with the manifest layers. */
  policies: PolicySet;
  /** What was read from AWS (with tags where read, and the resolved identities): the plan's facts. */
  live: LiveState;
  clientFor(target: Target): RetryingRekognitionClient;
  /** The pass's rate limiters, one per (account, region, operation); observe() them for progress and metrics. */
  limiters: RateLimiters;
  /** Whether the manifests or policy files (as given) changed since this pass read them, and why. */
  inputsChanged(): string | undefined;
  /** What AWS's answers say about the local clock; writes are decided and dated by `clock.now()`. */
  clock: ServerClock;
  close(): void;
}

/** Read and validate manifests and policies; throws ValidationError with every issue found. */
export async function loadInputs(opts: Pick<ReconcileOptions, "manifests" | "policy">): Promise<{ desired: DesiredState; policies: PolicySet }> {
  const r = validateInputs(opts, { defaultRegion: await defaultRegion(), requireRegion: true });
  if (!r.desired || !r.policies) throw new ValidationError(r.issues);
  return { desired: r.desired, policies: r.policies };
}

/**
 * The last inputs that validated, reused while their files hash the same (the controller's cycles, where
 * git-sync changes them rarely and parsing 1,000 manifests is most of a cycle's allocation). The check
 * reads and hashes every file each time, so the cached parse is always that of the bytes on disk now; a
 * change, or inputs that did not validate, are read and validated again in full.
 */
export class InputsCache {
  private last?: { key: string; inputs: { desired: DesiredState; policies: PolicySet } };

  async load(opts: Pick<ReconcileOptions, "manifests" | "policy">): Promise<{ desired: DesiredState; policies: PolicySet }> {
    const key = JSON.stringify([opts.manifests, opts.policy ?? null]);
    const paths = { manifests: opts.manifests, ...(opts.policy !== undefined ? { policy: opts.policy } : {}) };
    if (
      this.last?.key === key &&
      inputsChangedSince(paths, { manifests: this.last.inputs.desired.digest, policy: this.last.inputs.policies.operator.digest }) === undefined
    )
      return this.last.inputs;
    this.last = undefined;
    const inputs = await loadInputs(opts);
    // Shared by every later cycle: frozen, so that nothing can change what the next plan starts from.
    deepFreeze(inputs.desired);
    this.last = { key, inputs };
    return inputs;
  }
}

function deepFreeze(o: unknown): void {
  if (o === null || typeof o !== "object" || Object.isFrozen(o)) return;
  Object.freeze(o);
  for (const v of Object.values(o)) deepFreeze(v);
}

export async function planPass(opts: ReconcileOptions): Promise<PlannedPass> {
  const pass = await passFor(await (opts.inputsCache ? opts.inputsCache.load(opts) : loadInputs(opts)), opts);
  // Read and hashed again before each batch of writes (not parsed): an edit under a running apply stops it.
  pass.inputsChanged = () =>
    inputsChangedSince(
      { manifests: opts.manifests, ...(opts.policy !== undefined ? { policy: opts.policy } : {}) },
      { manifests: pass.desired.digest, policy: pass.policy.digest },
    );
  return pass;
}

/** A pass over inputs already loaded (the controller's cycles and tests that build them in code). */
export async function passFor(
  inputs: { desired: DesiredState; policies: PolicySet | Policy },
  opts: Omit<ReconcileOptions, "manifests" | "policy">,
): Promise<PlannedPass> {
  const desired = inputs.desired;
  const policies: PolicySet = "operator" in inputs.policies ? inputs.policies : { operator: inputs.policies, scoped: [] };
  // The signing key before any AWS call: without it no state tag can be verified or written, so nothing is read.
  const signer = signerFor(policies.operator, opts.env ?? process.env);
  const clock = new ServerClock();
  const refusals = [...(opts.refusals ?? []), ...(opts.refusalsFor?.({ desired, policies }) ?? [])];
  const identities =
    opts.identities ??
    new Identities({
      ...(opts.client?.credentials ? { credentials: opts.client.credentials } : {}),
      ...(opts.client?.stsEndpoint ? { stsEndpoint: opts.client.stsEndpoint } : {}),
      sourceIdentity: opts.sourceIdentity ?? "rekon-plan",
    });
  // Who rekon is, per credential source, before anything else: ownership and every write are keyed by it.
  const facts = await identities.resolve(
    desired.sets.map((s) => ({ source: sourceOf(s), region: s.region })),
    opts.retry,
  );
  // A warning here: the plan reports it as an error once per cause (render/causes.ts), with what to do.
  for (const f of facts)
    if (f.error) opts.log.warn({ source: f.source, err: f.error }, "could not resolve the account of these credentials; their projects are not read");
  const accountOf = new Map(facts.filter((f) => f.account).map((f) => [f.source, f.account!]));

  const clients = new Map<string, RetryingRekognitionClient>();
  // Rates the operator states are ceilings; others start from documented defaults and adapt (aws/limiter.ts).
  const owned = !opts.limitersFor;
  const limiters = opts.limitersFor ? opts.limitersFor(policies.operator.rateLimits) : new RateLimiters(policies.operator.rateLimits);
  // One client per (source, region), with the source's one credential provider and its resolved account.
  const clientFor = (t: Target) => {
    const source = sourceOf(t);
    const k = targetKey(t);
    let c = clients.get(k);
    if (!c) {
      const account = accountOf.get(source);
      c = createClient({
        region: t.region,
        retry: opts.retry,
        limiters,
        ...opts.client,
        provider: identities.credentialsFor(source, t.region, opts.retry),
        clock,
        ...(account ? { account } : {}),
      });
      clients.set(k, c);
    }
    return c;
  };
  const close = () => {
    if (owned) limiters.close();
    clients.forEach((c) => c.destroy());
  };
  try {
    const inventory = await readLive(desired, facts, { clientFor, log: opts.log, projectTagsFor: needsProjectTags(desired, policies) });
    // The clock is checked on the answers just read, before anything is decided: beyond the bound the run is
    // refused as a whole (nothing written), and within it every decision is made on AWS's time.
    const skew = clock.problem();
    if (skew) {
      opts.log.error({ rule: skew.rule }, skew.message);
      refusals.push(skew);
    }
    const now = (opts.now ?? (() => new Date(clock.now())))();
    // Tags only for the versions a guard needs them for: the gate says which on the tag-free facts, then
    // it assesses again with them.
    const first = Gate.assess({ desired, live: inventory, policies, now, ...(refusals.length ? { refusals } : {}), ...(signer ? { signer } : {}) });
    const needTags = first.versionsNeedingTags(now.getTime());
    let gate = first;
    let live = inventory;
    if (needTags.length) {
      const targets = new Map(
        desired.sets.flatMap((s) =>
          inventory.projects
            .filter((p) => p.set === s.name)
            .flatMap((p) => p.versions.map((v) => [v.arn, { region: s.region, ...(s.roleArn ? { roleArn: s.roleArn } : {}) }] as const)),
        ),
      );
      live = await withVersionTags(inventory, needTags, targets, { clientFor, log: opts.log });
      gate = first.withTags(live);
    }
    const p = planWith(gate, now);
    return { plan: p, gate, desired, policy: policies.operator, policies, live, clientFor, limiters, inputsChanged: () => undefined, clock, close };
  } catch (err) {
    close();
    throw err;
  }
}

/** The operator's tag-signing key, read where the policy says; ConfigError when it is named but unusable. */
function signerFor(policy: Policy, env: NodeJS.ProcessEnv): TagSigner | undefined {
  if (!policy.tagSigning) return undefined;
  const r = readSecret(policy.tagSigning.secret, env);
  const fix = `; rekon cannot sign or verify its state tags, so it reads and writes nothing (set it, or remove spec.tagSigning)`;
  if (r.problem) throw new ConfigError(`spec.tagSigning.secret in ${policy.source}: ${r.problem}${fix}`);
  const key = Buffer.from(r.value!, "utf8");
  if (key.length < MIN_KEY_BYTES)
    throw new ConfigError(
      `spec.tagSigning.secret in ${policy.source}: ${secretSource(policy.tagSigning.secret)} holds ${key.length} bytes; use at least ${MIN_KEY_BYTES} random ` +
        `bytes (e.g. openssl rand -base64 48)`,
    );
  return tagSigner(key);
}

/**
 * Said once by plan, apply and the controller when a policy keeps state in tags (a grace period, approval
 * or requireNotice) and the operator has not turned on tag signing: anyone who may tag a version can forge
 * its mark. Undefined when nothing needs saying.
 */
export function forgeableMarksNote(pass: Pick<PlannedPass, "gate" | "policy">): string | undefined {
  if (pass.policy.tagSigning || !pass.gate.views.some((v) => needsMark(v.policy))) return undefined;
  return (
    `rekon's grace-period marks are not signed: anyone with rekognition:TagResource on these versions can write rekon.dev/pending-delete-since (or the ` +
    `notice tag) and skip the grace period. Set spec.tagSigning in the operator's policy (${pass.policy.source}), and deny other principals the rekon.dev/* ` +
    `state tags (deploy/iam/deny-rekon-state-tags.json)`
  );
}

/** True when every planned write was accepted by AWS (or its version was already gone). */
export { allAccepted };

export type ActOptions = Pick<
  ApplyContext,
  "concurrency" | "onResult" | "stopPollMs" | "stopTimeoutMs" | "lookMaxAgeMs" | "stop" | "abandon" | "now" | "inputsChanged" | "notices"
>;

/** How one apply sequence is told about its steps (apply's prompt and progress, the controller's audit). */
export interface ApplySteps extends ActOptions {
  /**
   * Asked once the gate has authorized the plan, before any write: `rekon apply`'s prompt. Throwing (a
   * person's "no", RefusalError rule confirmation) ends the run with nothing written, mark removals included.
   */
  confirm?: (plan: Plan) => Promise<void>;
  /** Told when the writes begin (after the prompt): progress bars. */
  starting?: () => Promise<void> | void;
  /** Told of a refusal by policy or budget, before its mark removals are written (notifications, logs). */
  onRefused?: (refusal: RefusalError) => Promise<void>;
  /** Write the plan's mark removals after such a refusal. Default true; false for a saved plan (it approves only its own writes). */
  unmarksOnRefusal?: boolean;
}

/** What an apply did: its results, and the refusal that stopped it (then its results are the mark removals only). */
export interface ApplyOutcome {
  results: WriteResult[];
  refused?: RefusalError;
}

/**
 * The one apply sequence, used by `rekon apply` (and `apply FILE`), the controller and the demo: the gate
 * authorizes the plan once, as a whole; on a refusal only the plan's mark removals are written (a removal
 * only delays a deletion; Gate.authorizeUnmarks); otherwise, after the caller's confirmation, every
 * deletion on a last look, then the marks, then the notices. One result per planned write.
 */
export async function applyAuthorized(pass: PlannedPass, log: Logger, steps: ApplySteps = {}): Promise<ApplyOutcome> {
  const { confirm, starting, onRefused, unmarksOnRefusal = true, ...act } = steps;
  let auth;
  try {
    auth = pass.gate.authorize(pass.plan);
  } catch (err) {
    if (!(err instanceof RefusalError)) throw err;
    await onRefused?.(err);
    const removed = unmarksOnRefusal ? await applyUnmarks(pass, log, act) : [];
    return { results: removed, refused: err };
  }
  await confirm?.(pass.plan);
  await starting?.();
  const results = await applyPlan({
    inputsChanged: pass.inputsChanged,
    now: () => pass.clock.now(),
    clockProblem: () => pass.clock.problem()?.message,
    ...act,
    plan: pass.plan,
    gate: pass.gate,
    auth,
    clientFor: pass.clientFor,
    log,
  });
  return { results };
}

/** applyAuthorized for code that treats a refusal as an error (tests, the bench): throws it, writing nothing. */
export async function applyPass(pass: PlannedPass, log: Logger, act: ActOptions = {}): Promise<WriteResult[]> {
  const out = await applyAuthorized(pass, log, { ...act, unmarksOnRefusal: false });
  if (out.refused) throw out.refused;
  return out.results;
}

/**
 * After a refusal: write only the mark removals of the plan (see Gate.authorizeUnmarks), no notices. One
 * result per removal; none when the gate sees nothing to remove or the accounts are not named.
 */
async function applyUnmarks(pass: PlannedPass, log: Logger, act: Omit<ActOptions, "notices">): Promise<WriteResult[]> {
  const only = pass.gate.authorizeUnmarks(pass.plan);
  if (!only) return [];
  log.info({ unmarks: only.plan.actions.length }, "refused run: removing grace-period marks only (a removal can only delay a deletion)");
  // No clock check here: a removal only delays a deletion, whatever the clock says.
  const { notices: _, ...rest } = act as ActOptions;
  return applyPlan({
    inputsChanged: pass.inputsChanged,
    now: () => pass.clock.now(),
    ...rest,
    plan: only.plan,
    gate: pass.gate,
    auth: only.auth,
    clientFor: pass.clientFor,
    log,
  });
}
