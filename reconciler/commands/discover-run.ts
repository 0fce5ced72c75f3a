// rekon discover's run, loaded only when discover runs (so --help stays fast): read the inputs it was
// given (policy for the price, manifests for ownership), read AWS, print, and write manifests only when
// every read succeeded.
import type { Logger } from "pino";
import { discoverAll, type Discovery } from "../aws/discover.js";
import { DEFAULT_RETRY, type RetryOptions } from "../aws/retry.js";
import { inventoryRows, ownerOf, renderInventoryTable } from "../discover/inventory.js";
import { starterManifests } from "../discover/manifests.js";
import { writeManifests } from "../discover/write.js";
import { ValidationError } from "../errors.js";
import { validateInputs } from "../inputs/index.js";
import { loadPolicy } from "../inputs/policy.js";
import type { Io } from "../io.js";
import { AMBIENT, type DesiredSet } from "../types.js";
import type { DiscoverArgs } from "../discover/args.js";
import { EXIT } from "./spec.js";

export interface DiscoverContext {
  io: Io;
  output: string;
  log: Logger;
  retry: Partial<RetryOptions>;
  signal: AbortSignal;
  defaultRegion?: string;
}

export async function runDiscover(args: DiscoverArgs, ctx: DiscoverContext): Promise<number> {
  const { io, output } = ctx;
  // Inputs first, offline: a bad policy or manifest is found before any AWS call.
  let sets: DesiredSet[] | undefined;
  let price: { unitPricePerHour: number; currency: string } | undefined;
  if (args.manifests) {
    const r = validateInputs(
      { manifests: args.manifests, ...(args.policy !== undefined ? { policy: args.policy } : {}) },
      { ...(ctx.defaultRegion ? { defaultRegion: ctx.defaultRegion } : {}), requireRegion: true },
    );
    if (!r.desired || !r.policies) throw new ValidationError(r.issues);
    sets = r.desired.sets;
    const inf = r.policies.operator.inference;
    if (inf.unitPricePerHour !== undefined) price = { unitPricePerHour: inf.unitPricePerHour, currency: inf.currency };
  } else if (args.policy !== undefined) {
    const p = loadPolicy(args.policy);
    if (!p.policy) throw new ValidationError(p.issues);
    if (p.policy.inference.unitPricePerHour !== undefined)
      price = { unitPricePerHour: p.policy.inference.unitPricePerHour, currency: p.policy.inference.currency };
  }

  const d = await discoverAll({
    sources: [AMBIENT, ...args.roles],
    regions: args.regions,
    features: args.features,
    log: ctx.log,
    retry: { ...DEFAULT_RETRY, ...ctx.retry, signal: ctx.signal },
  });
  const now = Date.now();
  const rows = inventoryRows(d, { now, ...(price ? { price } : {}), ...(sets ? { sets } : {}) });
  const failed = failedReads(d);
  const ambient = d.identities.find((i) => i.source === AMBIENT)?.account;

  let written: string[] = [];
  let skipped: ReturnType<typeof starterManifests>["skipped"] = [];
  if (args.writeTo !== undefined && failed === 0) {
    const out = starterManifests(d.projects, {
      ...(ctx.defaultRegion ? { defaultRegion: ctx.defaultRegion } : {}),
      at: new Date(Math.floor(now / 1000) * 1000).toISOString().replace(/\.000Z$/, "Z"),
      ...(sets ? { owned: (p) => ownerOf(p, sets, ambient), taken: new Set(sets.map((s) => s.name)) } : {}),
    });
    skipped = out.skipped;
    written = writeManifests(args.writeTo, out.manifests);
  }

  if (output === "json") {
    io.stdout.write(
      JSON.stringify(
        {
          identities: d.identities,
          regions: args.regions,
          versions: rows,
          projects: d.projects.map(({ versions, ...p }) => ({ ...p, versions: versions.length })),
          failures: d.failures,
          sameAccount: d.sameAccount,
          ...(args.writeTo !== undefined ? { written, skipped } : {}),
        },
        null,
        2,
      ) + "\n",
    );
  } else {
    io.stdout.write(renderInventoryTable(rows, d, sets !== undefined));
    for (const s of skipped) io.stdout.write(`no manifest for ${s.project} (${s.account}/${s.region}): ${s.why}\n`);
    if (written.length) io.stdout.write(`Wrote ${written.length} manifest(s) to ${args.writeTo}: ${written.join(", ")}\n`);
  }
  if (failed > 0) {
    const why = args.writeTo !== undefined ? ", so no manifest was written (one made from part of a listing would leave versions unlisted)" : "";
    io.stderr.write(`rekon: ${failed} read(s) failed; the inventory above is incomplete${why}\n`);
    return EXIT.error;
  }
  return EXIT.ok;
}

function failedReads(d: Discovery): number {
  return d.failures.length + d.projects.filter((p) => p.error).length;
}
