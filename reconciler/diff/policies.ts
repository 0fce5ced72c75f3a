// Policy comparison for `rekon diff`: field by field, in the direction that matters (does the head allow
// a deletion the base did not?). Pure: no files, no Git.
import { formatDuration } from "../duration.js";
import { manifestLayer, operatorLayer } from "../policy/naming.js";
import type { DeletionWindow, InferencePolicy, Policy, PolicySet, ScopedPolicy, Suspension, TagRule } from "../types.js";
import type { PolicyChange } from "./types.js";

const tagList = (t: TagRule[] | undefined) => (t ?? []).map((x) => `${x.key}=${x.value}`).sort();
const show = (v: unknown) => (v === undefined ? "(unset)" : Array.isArray(v) ? `[${v.join(", ")}]` : String(v));

/** Field by field, in the direction that matters: does `to` allow a deletion that `from` did not? */
function comparePolicies(layer: string, from: Partial<Policy>, to: Partial<Policy>, scoped: boolean): PolicyChange[] {
  const out: PolicyChange[] = [];
  const add = (field: string, f: unknown, t: unknown, loosens: boolean) => {
    if (JSON.stringify(f) !== JSON.stringify(t)) out.push({ layer, field, from: show(f), to: show(t), loosens });
  };
  // In a scoped layer an unset field constrains nothing, so dropping one loosens.
  const num = (
    field: "minAgeMs" | "keepLatest" | "gracePeriodMs" | "maxDeletesPerRun" | "maxDeletesPercent",
    name: string,
    looserIfLarger: boolean,
    fmt: (n: number) => string = String,
  ) => {
    const f = from[field];
    const t = to[field];
    if (f === t) return;
    const loosens = t === undefined ? scoped : f === undefined ? false : looserIfLarger ? t > f : t < f;
    add(name, f === undefined ? undefined : fmt(f), t === undefined ? undefined : fmt(t), loosens);
  };
  num("minAgeMs", "minAge", false, formatDuration);
  num("keepLatest", "keepLatest", false);
  num("gracePeriodMs", "gracePeriod", false, formatDuration);
  num("maxDeletesPerRun", "maxDeletesPerRun", true);
  num("maxDeletesPercent", "maxDeletesPercent", true);
  for (const field of ["allowEmpty", "stopRunning"] as const) add(field, from[field], to[field], to[field] === true && from[field] !== true);
  // Without requireNotice a version no longer waits for its notice to reach anyone.
  add("requireNotice", from.requireNotice, to.requireNotice, from.requireNotice === true && to.requireNotice !== true);
  // Without requireApproval a version no longer waits for a person.
  add("requireApproval", from.requireApproval, to.requireApproval, from.requireApproval === true && to.requireApproval !== true);
  // The near-miss guard is on by default: turning it off loosens, and so does a layer dropping its `true`.
  add(
    "nearMissGuard",
    from.nearMissGuard,
    to.nearMissGuard,
    (from.nearMissGuard !== false && to.nearMissGuard === false) || (scoped && from.nearMissGuard === true && to.nearMissGuard === undefined),
  );
  // When the reminder goes out changes no deletion: reported, not a loosening.
  add("remindBefore", from.remindBefore, to.remindBefore, false);
  out.push(...compareSuspend(layer, from.suspend, to.suspend));
  out.push(...compareWindows(layer, from.windows, to.windows));
  // Who is told changes no deletion: reported, not a loosening.
  const channels = (p: Partial<Policy>) => p.notifications?.map((c) => `${c.name}(${c.format}: ${c.events.join(" ")})`).sort();
  add("notifications", channels(from), channels(to), false);

  const fa = from.allowedAccounts;
  const ta = to.allowedAccounts;
  add(
    "allowedAccounts",
    fa?.slice().sort(),
    ta?.slice().sort(),
    (ta === undefined && fa !== undefined && scoped) || (ta ?? []).some((a) => !(fa ?? []).includes(a)),
  );
  const fr = from.allowedRegions ?? [];
  const tr = to.allowedRegions ?? [];
  add(
    "allowedRegions",
    from.allowedRegions?.slice().sort(),
    to.allowedRegions?.slice().sort(),
    (fr.length > 0 && tr.length === 0) || (fr.length > 0 && tr.some((r) => !fr.includes(r))),
  );
  for (const field of ["protectTags", "requireProjectTag"] as const) {
    const f = tagList(from[field]);
    const t = tagList(to[field]);
    add(
      field,
      from[field] && f,
      to[field] && t,
      f.some((x) => !t.includes(x)),
    );
  }
  const fRules = new Map((from.rules ?? []).map((r) => [r.name, r.deny]));
  const tRules = new Map((to.rules ?? []).map((r) => [r.name, r.deny]));
  for (const name of [...new Set([...fRules.keys(), ...tRules.keys()])].sort()) {
    const f = fRules.get(name);
    const t = tRules.get(name);
    // A changed expression may allow what the old one denied; rekon cannot tell, so a reviewer must.
    if (f !== t) out.push({ layer, field: `rules.${name}`, from: f ?? "(none)", to: t ?? "(removed)", loosens: f !== undefined });
  }
  // Without tag signing, anyone who may tag a version can forge its mark: turning it off loosens. A new key
  // (another variable or file) is reported, not a loosening: old marks then restart their period.
  const signing = (p: Partial<Policy>) =>
    p.tagSigning ? ("fromEnv" in p.tagSigning.secret ? `fromEnv ${p.tagSigning.secret.fromEnv}` : `fromFile ${p.tagSigning.secret.fromFile}`) : undefined;
  add("tagSigning", signing(from), signing(to), from.tagSigning !== undefined && to.tagSigning === undefined);
  out.push(...compareInference(layer, from.inference, to.inference, scoped));
  // Archive before delete is the undo of a deletion: turning it off, or making it optional, loosens; another
  // destination is reported (copies go elsewhere from then on).
  const archive = (p: Partial<Policy>) => {
    const a = p.archive;
    if (!a) return undefined;
    const kms = a.kmsKeyId ? ` kms ${a.kmsKeyId}` : "";
    return `${a.project} s3://${a.outputConfig.s3Bucket}/${a.outputConfig.s3KeyPrefix ?? ""}${kms}${a.required ? "" : " (required: false)"}`;
  };
  add("archive", archive(from), archive(to), from.archive !== undefined && (to.archive === undefined || (from.archive.required && !to.archive.required)));
  if (JSON.stringify(from.rateLimits ?? {}) !== JSON.stringify(to.rateLimits ?? {}))
    out.push({ layer, field: "rateLimits", from: JSON.stringify(from.rateLimits ?? {}), to: JSON.stringify(to.rateLimits ?? {}), loosens: false });
  return out;
}

const suspendText = (s: Suspension | undefined) =>
  s === undefined ? undefined : `${s.reason}${s.until !== undefined ? ` (until ${Number.isFinite(s.until) ? new Date(s.until).toISOString() : "?"})` : ""}`;

/** A suspension lifted, or ending sooner, allows deletions it held. */
export function compareSuspend(layer: string, from: Suspension | undefined, to: Suspension | undefined): PolicyChange[] {
  const f = suspendText(from);
  const t = suspendText(to);
  if (f === t) return [];
  const sooner =
    from !== undefined && to !== undefined && (from.until === undefined ? to.until !== undefined : to.until !== undefined && to.until < from.until);
  return [{ layer, field: "suspend", from: f ?? "(unset)", to: t ?? "(unset)", loosens: (from !== undefined && to === undefined) || sooner }];
}

const windowText = (w: DeletionWindow) => `${w.kind} "${w.schedule}" for ${w.duration} in ${w.timeZone}`;

/**
 * Windows, each as a whole (kind, schedule, duration, zone): a deny window removed or changed loosens; an
 * allow window added (or changed) loosens when allow windows were already in force, and removing the last
 * one lifts the restriction altogether.
 */
function compareWindows(layer: string, from: DeletionWindow[] | undefined, to: DeletionWindow[] | undefined): PolicyChange[] {
  const f = (from ?? []).map(windowText).sort();
  const t = (to ?? []).map(windowText).sort();
  if (JSON.stringify(f) === JSON.stringify(t)) return [];
  const fAllow = (from ?? []).filter((w) => w.kind === "allow").map(windowText);
  const tAllow = (to ?? []).filter((w) => w.kind === "allow").map(windowText);
  const denyRemoved = (from ?? [])
    .filter((w) => w.kind === "deny")
    .map(windowText)
    .some((x) => !t.includes(x));
  const allowWidened = fAllow.length > 0 && (tAllow.length === 0 || tAllow.some((x) => !fAllow.includes(x)));
  return [
    {
      layer,
      field: "windows",
      from: f.length ? `[${f.join("; ")}]` : "(unset)",
      to: t.length ? `[${t.join("; ")}]` : "(unset)",
      loosens: denyRemoved || allowWidened,
    },
  ];
}

export function diffPolicies(base: PolicySet, head: PolicySet, operatorChanged: boolean): PolicyChange[] {
  const out: PolicyChange[] = [];
  if (operatorChanged) out.push(...comparePolicies(operatorLayer(head.operator.source), base.operator, head.operator, false));
  const b = new Map(base.scoped.map((s) => [s.name, s]));
  const h = new Map(head.scoped.map((s) => [s.name, s]));
  for (const name of [...new Set([...b.keys(), ...h.keys()])].sort()) {
    const bs = b.get(name);
    const hs = h.get(name);
    const layer = manifestLayer((hs ?? bs)!.pos, name);
    if (!hs) {
      out.push({ layer, field: "(whole policy)", from: `selects ${bs!.projects.join(", ")}`, to: "(removed)", loosens: true });
      continue;
    }
    if (!bs) {
      out.push({ layer, field: "(whole policy)", from: "(none)", to: `selects ${hs.projects.join(", ")}`, loosens: false });
      continue;
    }
    const dropped = bs.projects.filter((p) => !hs.projects.includes(p));
    if (dropped.length || hs.projects.some((p) => !bs.projects.includes(p)))
      out.push({ layer, field: "selector.projects", from: show(bs.projects), to: show(hs.projects), loosens: dropped.length > 0 });
    out.push(...comparePolicies(layer, scopedAsPolicy(bs), scopedAsPolicy(hs), true));
  }
  return out;
}

function scopedAsPolicy(s: ScopedPolicy): Partial<Policy> {
  return s.spec as Partial<Policy>;
}

/**
 * spec.inference: a higher (or removed) unit ceiling or start budget lets a run start more, so it bills more:
 * a loosening. Restarts allowed where they were not are too (a restart is downtime). The price is reported.
 * A manifest layer (`scoped`) sets only what it writes, and may write only `allowRestart: false`: dropping
 * that `false` hands the decision back to the operator, who may allow restarts, so it loosens too.
 */
export function compareInference(
  layer: string,
  from: Partial<InferencePolicy> | undefined,
  to: Partial<InferencePolicy> | undefined,
  scoped = false,
): PolicyChange[] {
  const out: PolicyChange[] = [];
  const raised = (f: number | undefined, t: number | undefined) => f !== undefined && (t === undefined || t > f);
  for (const field of ["maxInferenceUnits", "maxStartsPerRun"] as const) {
    const f = from?.[field];
    const t = to?.[field];
    if (f !== t) out.push({ layer, field: `inference.${field}`, from: show(f), to: show(t), loosens: raised(f, t) });
  }
  const price = (p: Partial<InferencePolicy> | undefined) => (p?.unitPricePerHour === undefined ? undefined : `${p.unitPricePerHour} ${p.currency}`);
  if (price(from) !== price(to)) out.push({ layer, field: "inference.unitPricePerHour", from: show(price(from)), to: show(price(to)), loosens: false });
  // The operator's allowRestart defaults to false; a layer's is unset unless it writes `false`.
  const restart = (p: Partial<InferencePolicy> | undefined) => (scoped ? p?.allowRestart : (p?.allowRestart ?? false));
  const f = restart(from);
  const t = restart(to);
  if (f !== t) out.push({ layer, field: "inference.allowRestart", from: show(f), to: show(t), loosens: t === true || (scoped && f === false) });
  return out;
}
