// `rekon diff` shows what a pull request does to running state (issue 22): which listed versions apply
// starts or stops, in inference units and, with the operator's price, per 30 days. A reviewer approving a
// change that starts models must see what it bills; a change that drops `running` must say whether rekon
// stops the model (runtime: managed) or leaves it running (unmanaged).
import { describe, expect, it } from "vitest";
import { diffDesired, diffPolicies, priceRunning, renderDiffMarkdown, renderDiffTable, type DiffResult, type ProjectChange } from "../../reconciler/diff.js";
import { formatUnitsCost } from "../../reconciler/render/inference.js";
import type { DeletionWindow, DesiredSet, DesiredVersion, InferencePolicy, ScopedPolicy } from "../../reconciler/types.js";
import { desired, policy } from "../helpers/builders.js";

const H = 3_600_000;
const pos = { file: "m/a.yaml", line: 3, col: 11 };
const office: DeletionWindow = { kind: "allow", schedule: "0 8 * * MON-FRI", duration: "12h", durationMs: 12 * H, timeZone: "Europe/Berlin", origin: "set" };
const late: DeletionWindow = { ...office, schedule: "0 10 * * MON-FRI" };

type V = string | [name: string, min: number, o?: { max?: number; schedule?: DeletionWindow[] }];
/** A version: a name, or [name, minInferenceUnits, {max, schedule}] for one declared running. */
function V(v: V): DesiredVersion {
  if (typeof v === "string") return { name: v, pos };
  const [name, min, o = {}] = v;
  const running = {
    minInferenceUnits: min,
    ...(o.max !== undefined ? { maxInferenceUnits: o.max } : {}),
    ...(o.schedule ? { schedule: o.schedule } : {}),
    pos,
  };
  return { name, pos, running };
}
function S(versions: V[], o: { runtime?: "managed" | "unmanaged"; name?: string; region?: string; defaulted?: boolean } = {}): DesiredSet {
  return {
    name: o.name ?? "s1",
    pos,
    project: "p1",
    region: o.region ?? "us-east-1",
    ...(o.defaulted ? { regionDefaulted: true as const } : {}),
    versions: versions.map(V),
    ...(o.runtime ? { runtime: o.runtime } : {}),
  };
}
/** Each running entry as [version, change, units]; and the runtime switch, if any. */
const entries = (cs: ProjectChange[]) => cs.flatMap((c) => (c.running ?? []).map((r) => [r.version, r.change, r.units]));
const runtimes = (cs: ProjectChange[]) => cs.flatMap((c) => (c.runtime ? [[c.runtime.from, c.runtime.to]] : []));

describe("diff: running state per version, base → head", () => {
  it.each([
    { name: "nothing changed", base: [S([["v1", 2]])], head: [S([["v1", 2]])], want: [] },
    { name: "running added: apply starts it at min", base: [S(["v1"])], head: [S([["v1", 2]])], want: [["v1", "start", 2]] },
    { name: "running added with auto scaling: counted at min", base: [S(["v1"])], head: [S([["v1", 2, { max: 5 }]])], want: [["v1", "start", 2]] },
    { name: "a new version listed running", base: [S(["v1"])], head: [S(["v1", ["v2", 1]])], want: [["v2", "start", 1]] },
    { name: "running removed, unmanaged: not stopped, 0", base: [S([["v1", 2]])], head: [S(["v1"])], want: [["v1", "notStopped", 0]] },
    {
      name: "running removed, managed: stopped",
      base: [S([["v1", 2]], { runtime: "managed" })],
      head: [S(["v1"], { runtime: "managed" })],
      want: [["v1", "stop", -2]],
    },
    { name: "min raised", base: [S([["v1", 1]])], head: [S([["v1", 3]])], want: [["v1", "units", 2]] },
    { name: "min lowered", base: [S([["v1", 3]])], head: [S([["v1", 1]])], want: [["v1", "units", -2]] },
    { name: "only max changed: 0 (counted at min)", base: [S([["v1", 1, { max: 2 }]])], head: [S([["v1", 1, { max: 4 }]])], want: [["v1", "units", 0]] },
    { name: "schedule added: upper bound unchanged", base: [S([["v1", 1]])], head: [S([["v1", 1, { schedule: [office] }]])], want: [["v1", "schedule", 0]] },
    {
      name: "schedule changed",
      base: [S([["v1", 1, { schedule: [office] }]])],
      head: [S([["v1", 1, { schedule: [late] }]])],
      want: [["v1", "schedule", 0]],
    },
    { name: "schedule removed", base: [S([["v1", 1, { schedule: [office] }]])], head: [S([["v1", 1]])], want: [["v1", "schedule", 0]] },
    {
      name: "units and schedule changed together: two entries",
      base: [S([["v1", 1, { schedule: [office] }]])],
      head: [S([["v1", 2]])],
      want: [
        ["v1", "units", 1],
        ["v1", "schedule", 0],
      ],
    },
    { name: "declared running, then no longer listed", base: [S([["v1", 2], "v2"])], head: [S(["v2"])], want: [["v1", "unlisted", 0]] },
    {
      name: "unmanaged → managed: a listed version not declared running becomes stoppable",
      base: [S([["v1", 1], "v2"])],
      head: [S([["v1", 1], "v2"], { runtime: "managed" })],
      want: [["v2", "stoppable", 0]],
      runtime: [["unmanaged", "managed"]],
    },
    {
      name: "unmanaged → managed: a scheduled version becomes stoppable outside its schedule",
      base: [S([["v1", 1, { schedule: [office] }]])],
      head: [S([["v1", 1, { schedule: [office] }]], { runtime: "managed" })],
      want: [["v1", "stoppable", 0]],
      runtime: [["unmanaged", "managed"]],
    },
    {
      name: "managed → unmanaged: rekon no longer stops it",
      base: [S([["v1", 1], "v2"], { runtime: "managed" })],
      head: [S([["v1", 1], "v2"], { runtime: "unmanaged" })],
      want: [["v2", "notStoppable", 0]],
      runtime: [["managed", "unmanaged"]],
    },
    {
      name: "running removed while the set turns managed: stopped",
      base: [S([["v1", 2]])],
      head: [S(["v1"], { runtime: "managed" })],
      want: [["v1", "stop", -2]],
      runtime: [["unmanaged", "managed"]],
    },
    {
      name: "a new managed set: running versions start, the others are stoppable",
      base: [],
      head: [S([["v1", 2], "v2"], { runtime: "managed" })],
      want: [
        ["v1", "start", 2],
        ["v2", "stoppable", 0],
      ],
    },
    { name: "a new unmanaged set: running versions start", base: [], head: [S([["v1", 2], "v2"])], want: [["v1", "start", 2]] },
    { name: "a set removed: released, 0", base: [S([["v1", 2], "v2"])], head: [], want: [["v1", "released", 0]] },
    {
      name: "a set moved (region written): its running change is still seen",
      base: [S(["v1"], { defaulted: true })],
      head: [S([["v1", 2]], { name: "renamed" })],
      want: [["v1", "start", 2]],
    },
    {
      name: "two base sets listed it: the higher units count",
      base: [S([["v1", 1]], { name: "a", region: "" }), S([["v1", 3]], { name: "b" })],
      head: [S([["v1", 4]], { name: "b" })],
      want: [["v1", "units", 1]],
    },
  ])("$name", ({ base, head, want, runtime }) => {
    const cs = diffDesired(desired(...base), desired(...head));
    expect(entries(cs)).toEqual(want);
    expect(runtimes(cs)).toEqual(runtime ?? []);
  });

  it("says what each change does, in the words a reviewer reads", () => {
    const text = (base: DesiredSet[], head: DesiredSet[]) =>
      diffDesired(desired(...base), desired(...head)).flatMap((c) => (c.running ?? []).map((r) => r.text));
    expect(text([S([["v1", 2]])], [S(["v1"])])).toEqual(["no longer declared running; rekon will not stop it (runtime: unmanaged; was 2 IU)"]);
    // Unmanaged: started inside its schedule and left running after it, so always on is what it bills.
    expect(text([S(["v1"])], [S([["v1", 2, { max: 4, schedule: [office] }]])])).toEqual([
      'starts: declared running at 2–4 IU (auto scaling), from its schedule "0 8 * * MON-FRI" for 12h in Europe/Berlin on, not stopped outside it (runtime: unmanaged): counted as always on',
    ]);
    // Managed: stopped outside its schedule, so always on is an upper bound.
    expect(text([S(["v1"], { runtime: "managed" })], [S([["v1", 2, { schedule: [office] }]], { runtime: "managed" })])).toEqual([
      'starts: declared running at 2 IU, only inside its schedule "0 8 * * MON-FRI" for 12h in Europe/Berlin: counted as if always on (an upper bound)',
    ]);
    expect(text([S([["v1", 1]], { runtime: "managed" })], [S([["v1", 1, { schedule: [office] }]], { runtime: "managed" })])).toEqual([
      'now runs only inside its schedule "0 8 * * MON-FRI" for 12h in Europe/Berlin (was always): counted as if always on (an upper bound)',
    ]);
    expect(text([S(["v1", "v2"])], [S(["v1", "v2"], { runtime: "managed" })])).toEqual([
      "not declared running: stopped if running (runtime: managed, was unmanaged)",
      "not declared running: stopped if running (runtime: managed, was unmanaged)",
    ]);
  });

  it("the JSON entry carries what was and is declared", () => {
    const [c] = diffDesired(desired(S([["v1", 1, { schedule: [office] }]])), desired(S([["v1", 2, { max: 3 }]])));
    expect(c!.running![0]).toMatchObject({
      version: "v1",
      change: "units",
      from: { minInferenceUnits: 1, schedule: ['"0 8 * * MON-FRI" for 12h in Europe/Berlin'] },
      to: { minInferenceUnits: 2, maxInferenceUnits: 3 },
      units: 1,
    });
  });
});

const inference = (o: Partial<InferencePolicy> = {}): InferencePolicy => ({ currency: "USD", allowRestart: false, ...o });

describe("diff: running state priced with the head's operator policy (units × price × 720 h)", () => {
  const changes = diffDesired(desired(S([["v1", 1], "v2", "v3"], { runtime: "managed" })), desired(S(["v1", ["v2", 2], ["v3", 10]], { runtime: "managed" })));
  it.each([
    {
      name: "4.00 USD: +11 IU",
      price: inference({ unitPricePerHour: 4 }),
      cost: [-2880, 5760, 28800],
      total: { changes: 3, inferenceUnits: 11, unitPricePerHour: 4, currency: "USD", costPer30Days: 31680 },
    },
    {
      name: "1.5 EUR",
      price: inference({ unitPricePerHour: 1.5, currency: "EUR" }),
      cost: [-1080, 2160, 10800],
      total: { changes: 3, inferenceUnits: 11, unitPricePerHour: 1.5, currency: "EUR", costPer30Days: 11880 },
    },
    {
      name: "an odd price: the JSON carries cents, not float noise",
      price: inference({ unitPricePerHour: 1.2345 }),
      cost: [-888.84, 1777.68, 8888.4],
      total: { changes: 3, inferenceUnits: 11, unitPricePerHour: 1.2345, currency: "USD", costPer30Days: 9777.24 },
    },
    { name: "no price: units only", price: inference(), cost: [undefined, undefined, undefined], total: { changes: 3, inferenceUnits: 11, currency: "USD" } },
  ])("$name", ({ price, cost, total }) => {
    const { projects, total: got } = priceRunning(changes, price);
    expect(projects.flatMap((p) => p.running!.map((r) => r.costPer30Days))).toEqual(cost);
    expect(got).toEqual(total);
  });

  it.each([
    { units: 2, price: 4, want: "+2 IU ≈ +5,760 USD / 30 days" },
    { units: -1, price: 4, want: "−1 IU ≈ −2,880 USD / 30 days" },
    { units: 0, price: 4, want: "0 IU ≈ 0 USD / 30 days" },
    { units: 3, price: 1.2345, want: "+3 IU ≈ +2,667 USD / 30 days" },
    { units: 2, price: undefined, want: "+2 IU" },
  ])("formatUnitsCost($units, $price) = $want", ({ units, price, want }) => {
    expect(formatUnitsCost(units, { ...(price !== undefined ? { unitPricePerHour: price } : {}), currency: "USD" })).toBe(want);
  });
});

function result(base: DesiredSet[], head: DesiredSet[], price?: number): DiffResult {
  const { projects, total } = priceRunning(diffDesired(desired(...base), desired(...head)), inference(price !== undefined ? { unitPricePerHour: price } : {}));
  return { base: "main", head: "HEAD", projects, policy: [], notes: [], running: total, summary: { removed: 0, added: 0, policyChanges: 0, loosenings: 0 } };
}

describe("diff views: the running state in the table and in Markdown", () => {
  const base = [S(["v1", ["v2", 1]])];
  const head = [S([["v1", 2], "v2"])];

  it("the table names each version, its units and cost, and the total", () => {
    const t = renderDiffTable(result(base, head, 4));
    expect(t).toContain("  p1 (us-east-1): v1 starts: declared running at 2 IU — +2 IU ≈ +5,760 USD / 30 days\n");
    expect(t).toContain("  p1 (us-east-1): v2 no longer declared running; rekon will not stop it (runtime: unmanaged; was 1 IU) — 0 IU\n");
    expect(t).toContain("  Total: +2 IU ≈ +5,760 USD / 30 days\n");
    expect(t).toContain("Diff: 0 version(s) removed, 0 added, 0 policy change(s), 0 loosening(s); running state +2 IU ≈ +5,760 USD / 30 days.\n");
  });

  it("without a price the total says where to set one", () => {
    const t = renderDiffTable(result(base, head));
    expect(t).toContain("  p1 (us-east-1): v1 starts: declared running at 2 IU — +2 IU\n");
    expect(t).toContain("  Total: +2 IU (set spec.inference.unitPricePerHour in the policy to see the cost)\n");
    expect(renderDiffMarkdown(result(base, head))).toContain(
      "**Running state, total: +2 IU (set spec.inference.unitPricePerHour in the policy to see the cost)**\n",
    );
  });

  it("Markdown: a row per change, the total line, and the cron's stars escaped", () => {
    const m = renderDiffMarkdown(result([S(["v1"])], [S([["v1", 2, { schedule: [office] }], "v2"], { runtime: "managed" })], 4));
    expect(m).toContain("### rekon diff: 0 version(s) removed, 0 added, 0 policy change(s), 0 loosening(s); running state +2 IU ≈ +5,760 USD / 30 days\n");
    expect(m).toContain(
      "| `p1` | us-east-1 | (the set) | spec.runtime unmanaged → managed: a listed version not declared running (or outside its schedule) is stopped if it runs |  |\n",
    );
    expect(m).toContain(
      '| `p1` | us-east-1 | `v1` | starts: declared running at 2 IU, only inside its schedule "0 8 \\* \\* MON-FRI" for 12h in Europe/Berlin: counted as if always on (an upper bound) | +2 IU ≈ +5,760 USD / 30 days |\n',
    );
    expect(m).toContain("| `p1` | us-east-1 | `v2` | not declared running: stopped if running (runtime: managed, was unmanaged) | 0 IU |\n");
    expect(m).toContain("**Running state, total: +2 IU ≈ +5,760 USD / 30 days**\n");
    expect(m).toContain("Priced at 4.00 USD per IU-hour × 720 h (the operator policy at HEAD).");
  });

  it("no running change: no running section, and the totals line as before", () => {
    const m = renderDiffMarkdown(result([S(["v1", "v2"])], [S(["v1"])], 4));
    expect(m).not.toContain("Running state");
    expect(m.split("\n")[0]).toBe("### rekon diff: 0 version(s) removed, 0 added, 0 policy change(s), 0 loosening(s)");
  });
});

describe("diff: spec.inference in manifest layers (scoped DeletionPolicy documents) and --fail-on-loosen", () => {
  const layer = (inference?: Partial<InferencePolicy>): ScopedPolicy => ({
    name: "team",
    pos: { file: "m/team.yaml", line: 1, col: 1 },
    projects: ["p1"],
    projectPos: [],
    spec: inference ? { inference } : {},
    fieldPos: {},
  });
  const op = policy({ inference: inference({ maxInferenceUnits: 10, maxStartsPerRun: 5, allowRestart: true }) });
  it.each([
    { name: "a layer raises its unit ceiling", from: { maxInferenceUnits: 2 }, to: { maxInferenceUnits: 4 }, want: [["inference.maxInferenceUnits", true]] },
    { name: "a layer drops its unit ceiling", from: { maxInferenceUnits: 2 }, to: {}, want: [["inference.maxInferenceUnits", true]] },
    { name: "a layer lowers its unit ceiling", from: { maxInferenceUnits: 4 }, to: { maxInferenceUnits: 2 }, want: [["inference.maxInferenceUnits", false]] },
    { name: "a layer sets a first ceiling", from: undefined, to: { maxInferenceUnits: 2 }, want: [["inference.maxInferenceUnits", false]] },
    { name: "a layer drops its start budget", from: { maxStartsPerRun: 1 }, to: {}, want: [["inference.maxStartsPerRun", true]] },
    { name: "a layer raises its start budget", from: { maxStartsPerRun: 1 }, to: { maxStartsPerRun: 3 }, want: [["inference.maxStartsPerRun", true]] },
    {
      name: "a layer drops allowRestart: false (the operator's true applies)",
      from: { allowRestart: false },
      to: {},
      want: [["inference.allowRestart", true]],
    },
    {
      name: "a layer drops its whole inference block",
      from: { allowRestart: false, maxInferenceUnits: 2 },
      to: undefined,
      want: [
        ["inference.maxInferenceUnits", true],
        ["inference.allowRestart", true],
      ],
    },
    { name: "a layer forbids restarts", from: {}, to: { allowRestart: false }, want: [["inference.allowRestart", false]] },
  ])("$name", ({ from, to, want }) => {
    const changes = diffPolicies({ operator: op, scoped: [layer(from)] }, { operator: op, scoped: [layer(to)] }, false);
    expect(changes.map((c) => [c.field, c.loosens])).toEqual(want);
    for (const c of changes) expect(c.layer).toBe(`manifest policy "team" (m/team.yaml)`);
  });
});
