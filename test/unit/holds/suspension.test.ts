// The suspension hold alone (reconciler/gate/holds/suspension.ts): while a suspension is in force (the
// operator's, a manifest layer's for the project, or the set's own), nothing is deleted or marked: it holds
// the version and withdraws the mark, notice and reminder the holds before it would write. `until` ends it
// (at `until` exactly it is over); a time that does not parse keeps it in force.
import { describe, expect, it } from "vitest";
import { suspension } from "../../../reconciler/gate/holds/suspension.js";
import { MARK_TAG } from "../../../reconciler/policy/guards.js";
import type { Policy, ScopedPolicy, Suspension } from "../../../reconciler/types.js";
import { channel, expectLines, H, iso, runHold, T0, type Line } from "../../helpers/holds.js";

const S = (reason: string, origin: string, until?: number): Suspension => ({ reason, origin, ...(until !== undefined ? { until } : {}) });
const scoped = (projects: string[], suspend: Suspension): ScopedPolicy => ({
  name: "team",
  pos: { file: "team.yaml", line: 1, col: 1 },
  projects,
  projectPos: [],
  spec: { suspend },
  fieldPos: {},
});
/** A policy under which every other hold would write: a mark (none yet), its notice, and (below) a reminder. */
const BUSY: Partial<Policy> = {
  gracePeriodMs: 72 * H,
  gracePeriod: "72h",
  remindBeforeMs: 24 * H,
  remindBefore: "24h",
  notifications: [channel(["marked", "reminder"])],
};
const DONE = "; nothing is deleted or marked";

interface Case {
  name: string;
  op?: Suspension;
  layers?: ScopedPolicy[];
  set?: Suspension;
  now?: number;
  /** The version's mark: none (apply would add one), or one 60h old (a reminder would be due). */
  markedAgo?: number;
  want: Line[];
}

const cases: Case[] = [
  { name: "no suspension: passes", want: [["pass", "suspended", "not suspended"]] },
  // The operator's.
  { name: "operator, without until: held", op: S("audit", "operator suspend"), want: [["hold", "suspended", `suspended: audit${DONE}`, "operator suspend"]] },
  {
    name: "operator, until an hour from now: held, saying until when",
    op: S("audit", "operator suspend", T0 + H),
    want: [["hold", "suspended", `suspended: audit (until ${iso(T0 + H)})${DONE}`, "operator suspend"]],
  },
  {
    name: "operator, until one ms from now: held",
    op: S("audit", "operator suspend", T0 + 1),
    want: [["hold", "suspended", `(until ${iso(T0 + 1)})`, "operator suspend"]],
  },
  { name: "operator, until exactly now: over, passes", op: S("audit", "operator suspend", T0), want: [["pass", "suspended", "not suspended"]] },
  { name: "operator, until an hour ago: expired, passes", op: S("audit", "operator suspend", T0 - H), want: [["pass", "suspended", "not suspended"]] },
  {
    name: "operator, until a time that does not parse: in force until further notice",
    op: S("audit", "operator suspend", NaN),
    want: [["hold", "suspended", `suspended: audit (until a time that does not parse: until further notice)${DONE}`, "operator suspend"]],
  },
  // A manifest layer's, for the project or not.
  {
    name: "a layer selecting this project: held",
    layers: [scoped(["p1"], S("migration", "team layer"))],
    want: [["hold", "suspended", `suspended: migration${DONE}`, "team layer"]],
  },
  { name: "a layer selecting another project: passes", layers: [scoped(["p2"], S("migration", "team layer"))], want: [["pass", "suspended", "not suspended"]] },
  {
    name: "a layer's suspension that expired: passes",
    layers: [scoped(["p1"], S("migration", "team layer", T0 - 1))],
    want: [["pass", "suspended", "not suspended"]],
  },
  // The set's own.
  { name: "the set's own: held", set: S("release", "set p1-set"), want: [["hold", "suspended", `suspended: release${DONE}`, "set p1-set"]] },
  {
    name: "the set's own, until tomorrow: held",
    set: S("release", "set p1-set", T0 + 24 * H),
    want: [["hold", "suspended", `(until ${iso(T0 + 24 * H)})`, "set p1-set"]],
  },
  // Several: the first in force, in order operator, layers, set.
  {
    name: "operator expired, set in force: the set's",
    op: S("audit", "operator suspend", T0 - H),
    set: S("release", "set p1-set"),
    want: [["hold", "suspended", "suspended: release", "set p1-set"]],
  },
  {
    name: "operator and set both in force: the operator's",
    op: S("audit", "operator suspend"),
    set: S("release", "set p1-set"),
    want: [["hold", "suspended", "suspended: audit", "operator suspend"]],
  },
  {
    name: "layer and set both in force: the layer's",
    layers: [scoped(["p1"], S("migration", "team layer"))],
    set: S("release", "set p1-set"),
    want: [["hold", "suspended", "suspended: migration", "team layer"]],
  },
  // What it withdraws: a version it holds gets no reminder either.
  { name: "marked 60h ago, not suspended: passes (a reminder is due)", markedAgo: 60 * H, want: [["pass", "suspended", "not suspended"]] },
  {
    name: "marked 60h ago, suspended: held (no reminder)",
    markedAgo: 60 * H,
    op: S("audit", "operator suspend"),
    want: [["hold", "suspended", "suspended: audit", "operator suspend"]],
  },
];

describe("hold: suspended", () => {
  it.each(cases)("$name", (c) => {
    const pol: Partial<Policy> = { ...BUSY, ...(c.op ? { suspend: c.op } : {}) };
    const tags: Record<string, string> = c.markedAgo !== undefined ? { [MARK_TAG]: iso(T0 - c.markedAgo) } : {};
    const o = runHold(suspension, { policy: pol, tags, ...(c.layers ? { scoped: c.layers } : {}), ...(c.set ? { setSuspend: c.set } : {}) });
    expectLines(o, c.want);
    // In force, it withdraws what the holds before it would write; otherwise they stand.
    const held = c.want[0]![0] === "hold";
    const unmarked = c.markedAgo === undefined;
    expect(o.state.mark).toBe(held || !unmarked ? undefined : "add");
    expect(o.state.notice).toBe(held ? undefined : "notRequired");
    expect(o.state.reminder).toBe(held || unmarked ? undefined : "due");
    expect([o.verdict.mark, o.verdict.notice, o.verdict.reminder]).toEqual([o.state.mark, o.state.notice, o.state.reminder]);
  });
});
