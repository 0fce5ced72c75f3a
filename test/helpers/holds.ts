// One hold, run alone on the facts a table row gives: one unlisted version "old" of project p1 that every
// guard lets go (30 days old, STOPPED, its tags read; the set lists "keep", which exists), the operator's
// policy, the tags, and `now`. The holds before it in HOLDS run first on the same state, as the verdict runs
// them (grace reads the mark the others count from); the assertions are on this hold's finding alone, as
// the lines `rekon explain` prints for it — and each table also checks that explain prints exactly those.
import { expect } from "vitest";
import type { Hold, HoldState, VersionFacts } from "../../reconciler/gate/facts.js";
import { HOLDS } from "../../reconciler/gate/holds/index.js";
import { Gate, type ExplainCheck, type Verdict } from "../../reconciler/gate/index.js";
import { WorldIndex, type GateWorld } from "../../reconciler/gate/world.js";
import { tagSigner } from "../../reconciler/policy/marks.js";
import type { LiveVersion, NotificationChannel, Policy, Reason, ScopedPolicy, Suspension } from "../../reconciler/types.js";
import { desired, liveProject, liveState, NOW, policy, set, version } from "./builders.js";

export const H = 3_600_000;
export const T0 = NOW.getTime();
export const iso = (ms: number) => new Date(ms).toISOString();
/** The operator's tag-signing key, and another (a rotated one, or an attacker's). */
export const SIGNER = tagSigner(Buffer.from("k".repeat(32)));
export const OTHER_SIGNER = tagSigner(Buffer.from("x".repeat(32)));
/** The version every row is about (its ARN is what signatures are made for). */
export const OLD: LiveVersion = version("old", { tags: {} });
/** The operator layer as reasons name it (policy() sets source "test-policy"). */
export const OPERATOR = "operator policy test-policy";

export function channel(events: NotificationChannel["events"], name = "ops"): NotificationChannel {
  return { name, url: { fromEnv: "HOOK" }, format: "json", events, origin: "channels layer" };
}

export interface HoldInput {
  tags?: Record<string, string>;
  policy?: Partial<Policy>;
  /** Epoch ms; default NOW. */
  now?: number;
  /** Tag signing on (spec.tagSigning) with SIGNER. */
  signed?: boolean;
  scoped?: ScopedPolicy[];
  setSuspend?: Suspension;
}

export interface HoldOutcome {
  reasons: Reason[];
  pass: string;
  silent: boolean;
  /** The state after this hold (and those before it). */
  state: HoldState;
  /** This hold's finding as explain prints it. */
  lines: ExplainCheck[];
  /** What the public gate says of the same version: its explain lines and its verdict. */
  explained: ExplainCheck[];
  verdict: Verdict;
}

function world(i: HoldInput): GateWorld {
  const op = policy(i.policy);
  return {
    desired: desired(set("p1", ["keep"], i.setSuspend ? { suspend: i.setSuspend } : {})),
    live: liveState([liveProject([version("keep", { ageHours: 1, tags: {} }), { ...OLD, tags: i.tags ?? {} }])]),
    policies: { operator: op, scoped: i.scoped ?? [] },
    now: NOW,
    ...(i.signed ? { signer: SIGNER } : {}),
  };
}

/** The facts every hold is given for "old", as the gate indexes them (Gate.assess does the same). */
export function factsFor(i: HoldInput): VersionFacts {
  const index = new WorldIndex(world(i));
  const view = index.view("p1-set")!;
  const v = view.project!.versions.find((x) => x.name === "old")!;
  return { index, view, policy: view.policy, v, now: i.now ?? T0 };
}

export function runHold(hold: Hold, i: HoldInput): HoldOutcome {
  const f = factsFor(i);
  const { view, v, now } = f;
  const at = HOLDS.indexOf(hold);
  if (at < 0) throw new Error(`${hold.rule} is not in HOLDS`);
  const state: HoldState = {};
  for (const h of HOLDS.slice(0, at)) h.run(f, state);
  const r = hold.run(f, state);
  const field = hold.field ? view.policy.origin[hold.field] : undefined;
  const lay = (l: string | undefined) => (l ? { layer: l } : {});
  const lines: ExplainCheck[] = r.silent
    ? []
    : r.reasons.length
      ? r.reasons.map((x) => ({ rule: x.rule, verdict: "hold" as const, detail: x.message, ...lay(x.layer ?? field) }))
      : [{ rule: hold.rule, verdict: "pass", detail: r.pass, ...lay(field) }];
  const gate = Gate.assess(world(i));
  const gv = gate.view("p1-set")!;
  return {
    reasons: r.reasons,
    pass: r.pass,
    silent: r.silent === true,
    state,
    lines,
    explained: gate.explain(gv, v, now).checks,
    verdict: gate.verdict(gv, v, now),
  };
}

/** An expected explain line of the hold: its verdict, rule, a fragment of its detail, and its layer (none: no layer). */
export type Line = [verdict: "hold" | "pass", rule: string, fragment: string, layer?: string];

/** The hold's lines are `want`, and the public gate's explain prints them, in order, among its others. */
export function expectLines(o: HoldOutcome, want: Line[]): void {
  expect(o.lines).toEqual(
    want.map(([verdict, rule, fragment, layer]) => ({ verdict, rule, detail: expect.stringContaining(fragment) as unknown, ...(layer ? { layer } : {}) })),
  );
  const at = o.lines.length ? o.explained.findIndex((c) => c.rule === o.lines[0]!.rule && c.detail === o.lines[0]!.detail) : 0;
  expect(at, "explain prints the hold's first line").toBeGreaterThanOrEqual(0);
  expect(o.explained.slice(at, at + o.lines.length)).toEqual(o.lines);
}
