// `rekon discover`'s inventory: one row per version, with who owns it. Pure: the reads are aws/discover.ts's,
// the clock and the price are handed in.
import type { DiscoveredProject, Discovery } from "../aws/discover.js";
import { formatDuration } from "../duration.js";
import { BILLED } from "../gate/index.js";
import { formatMoney, formatUnits } from "../render/inference.js";
import { AMBIENT, type DesiredSet, type InferenceUnits } from "../types.js";

export interface InventoryRow {
  account: string;
  region: string;
  /** The credentials it was read with: "ambient" or a role ARN. */
  source: string;
  project: string;
  feature: string;
  version: string;
  versionArn: string;
  status: string;
  /** RFC 3339 UTC. */
  createdAt: string;
  ageMs: number;
  /** While it runs (RUNNING, STARTING): the units AWS reports. */
  inferenceUnits?: InferenceUnits;
  /** With the policy's unitPricePerHour: min units × price. */
  costPerHour?: number;
  currency?: string;
  /** With --manifests: the ProjectVersionSet that owns the project, or "unmanaged". */
  owner?: string;
}

/** The account a set reaches: its role's account, or the ambient credentials' (as STS answered). */
export function setAccount(set: Pick<DesiredSet, "roleArn">, ambientAccount: string | undefined): string | undefined {
  if (!set.roleArn) return ambientAccount;
  // An assumed role acts in the account the role belongs to; the schema holds the ARN to this form.
  return /^arn:aws[a-z-]*:iam::(\d{12}):role\//.exec(set.roleArn)?.[1];
}

/** The set that owns a discovered project: same project name, region and account. Undefined: unmanaged. */
export function ownerOf(
  p: Pick<DiscoveredProject, "project" | "region" | "account">,
  sets: readonly DesiredSet[],
  ambientAccount: string | undefined,
): string | undefined {
  return sets.find((s) => s.project === p.project && s.region === p.region && setAccount(s, ambientAccount) === p.account)?.name;
}

export function inventoryRows(
  d: Discovery,
  opts: { now: number; price?: { unitPricePerHour: number; currency: string }; sets?: readonly DesiredSet[] },
): InventoryRow[] {
  const ambient = d.identities.find((i) => i.source === AMBIENT)?.account;
  const rows: InventoryRow[] = [];
  for (const p of d.projects) {
    const owner = opts.sets ? (ownerOf(p, opts.sets, ambient) ?? "unmanaged") : undefined;
    for (const v of p.versions) {
      const units =
        BILLED.has(v.status) && v.minInferenceUnits !== undefined
          ? { min: v.minInferenceUnits, ...(v.maxInferenceUnits !== undefined ? { max: v.maxInferenceUnits } : {}) }
          : undefined;
      rows.push({
        account: p.account,
        region: p.region,
        source: p.source,
        project: p.project,
        feature: v.feature,
        version: v.name,
        versionArn: v.arn,
        status: v.status,
        createdAt: new Date(v.createdAt).toISOString(),
        ageMs: Math.max(0, opts.now - v.createdAt),
        ...(units ? { inferenceUnits: units } : {}),
        ...(units && opts.price ? { costPerHour: units.min * opts.price.unitPricePerHour, currency: opts.price.currency } : {}),
        ...(owner !== undefined ? { owner } : {}),
      });
    }
  }
  // Stable: by account, region, project, then newest first (as AWS lists them), then name.
  return rows.sort(
    (a, b) => cmp(a.account, b.account) || cmp(a.region, b.region) || cmp(a.project, b.project) || cmp(b.createdAt, a.createdAt) || cmp(a.version, b.version),
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const FEATURE: Record<string, string> = { CUSTOM_LABELS: "custom-labels", CONTENT_MODERATION: "adapter" };

/** The table: one line per version, then the failures and the totals. */
export function renderInventoryTable(rows: readonly InventoryRow[], d: Pick<Discovery, "failures" | "projects" | "sameAccount">, withOwner: boolean): string {
  const head = ["ACCOUNT", "REGION", "PROJECT", "FEATURE", "VERSION", "STATUS", "AGE", "UNITS", "COST/H", ...(withOwner ? ["OWNER"] : [])];
  const body = rows.map((r) => [
    r.account,
    r.region,
    r.project,
    FEATURE[r.feature] ?? r.feature,
    r.version,
    r.status,
    formatDuration(r.ageMs),
    r.inferenceUnits ? formatUnits(r.inferenceUnits) : "-",
    r.costPerHour !== undefined ? `${formatMoney(r.costPerHour)} ${r.currency}` : "-",
    ...(withOwner ? [r.owner ?? "-"] : []),
  ]);
  const all = [head, ...body];
  const widths = head.map((_, i) => Math.max(...all.map((row) => row[i]!.length)));
  const lines = all.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join("  "));
  // Projects with no version still exist: say so, or they vanish from the inventory.
  const empty = d.projects.filter((p) => !p.error && p.versions.length === 0);
  for (const p of empty) lines.push(`${p.account}  ${p.region}  ${p.project}: no versions`);
  for (const s of d.sameAccount) lines.push(`note: ${s.source} reaches account ${s.account}, already read with ${s.readWith}`);
  const failed = [
    ...d.failures.map((f) => `${f.account ?? f.source}${f.region ? ` ${f.region}` : ""}: ${f.error}`),
    ...d.projects.filter((p) => p.error).map((p) => `${p.account} ${p.region} ${p.project}: ${p.error}`),
  ];
  for (const f of failed) lines.push(`FAILED READ ${f}`);
  const cost = rows.filter((r) => r.costPerHour !== undefined);
  const running = rows.filter((r) => r.inferenceUnits).reduce((n, r) => n + r.inferenceUnits!.min, 0);
  const money = cost.length ? `, ${formatMoney(cost.reduce((n, r) => n + r.costPerHour!, 0))} ${cost[0]!.currency}/h` : "";
  lines.push("");
  lines.push(
    `${rows.length} version(s) in ${d.projects.length} project(s); ${running} IU running${money}${failed.length ? `; ${failed.length} read(s) FAILED` : ""}`,
  );
  return lines.join("\n") + "\n";
}
