// rekon apply [FILE]: plan, confirm, then carry out the plan through the gate (every write approved on a
// last look), and report one result per planned write. With FILE, only what that saved plan approved.
import { readFile } from "node:fs/promises";
import { parseDuration } from "../duration.js";
import { UsageError } from "../errors.js";
import type { SavedPlan } from "../savedplan.js";
import { AWS_FLAGS, INPUT_FLAGS, LOG_FORMAT_FLAG, OUTPUT_FLAG, requireManifests, type Command, type FlagValues } from "./spec.js";

export const apply: Command = {
  name: "apply",
  summary: "plan, confirm, and delete what the gate approves on a fresh read; one result per write",
  usage: [
    "apply    --manifests PATH [--policy FILE] [--auto-approve] [--wait [--wait-timeout D]] [--output table|json|markdown]",
    "apply    plan.json --manifests PATH --policy FILE [--max-plan-age 24h] [--auto-approve] [--output ...]",
  ],
  flags: {
    ...INPUT_FLAGS,
    ...OUTPUT_FLAG,
    ...AWS_FLAGS,
    ...LOG_FORMAT_FLAG,
    "auto-approve": { type: "boolean", help: "apply without asking; required when stdin is not a terminal" },
    wait: { type: "boolean", help: "after apply, wait until AWS has finished deleting (polls every 5 s, up to --wait-timeout)" },
    "wait-timeout": { type: "string", value: "D", help: "with --wait: how long to wait before reporting what is still present (default 10m)" },
    concurrency: { type: "string", value: "N", help: "deletions in flight per account and region (default 8); the adaptive rate limiter sets the pace" },
    "max-plan-age": { type: "string", value: "D", help: "apply FILE: refuse a saved plan older than this (default 24h)" },
  },
  outputs: ["table", "json", "markdown"],
  maxArgs: 1,
  exits: [
    "0 every planned write accepted by AWS (or nothing to do)",
    "1 error, refusal, a failed read, or any write failed, skipped, changed at the last look, stale or unknown",
    "130 a second signal (unanswered writes reported unknown)",
  ],
  async run({ flags, args, io, level, output }) {
    const options = await applyOptions(flags, args);
    const { runApply } = await import("./apply-run.js");
    return runApply({ flags, io, level, output, ...options });
  },
};

/** apply's flags and saved plan, checked before anything is read: every usage error before any call. */
async function applyOptions(
  flags: FlagValues,
  args: string[],
): Promise<{ saved?: SavedPlan; maxPlanAgeMs: number; waitTimeoutMs?: number; manifests: string[]; concurrency?: number }> {
  const savedFile = args[0];
  const { DEFAULT_MAX_PLAN_AGE, parseSavedPlan } = await import("../savedplan.js");
  if (flags["max-plan-age"] !== undefined && !savedFile) throw new UsageError("--max-plan-age goes with apply PLAN_FILE");
  const maxPlanAgeMs = parseDuration(String(flags["max-plan-age"] ?? DEFAULT_MAX_PLAN_AGE));
  if (flags["wait-timeout"] !== undefined && !flags.wait) throw new UsageError("--wait-timeout goes with --wait");
  const waitTimeoutMs = flags["wait-timeout"] === undefined ? undefined : parseDuration(String(flags["wait-timeout"]));
  if (waitTimeoutMs === 0 || (flags["wait-timeout"] !== undefined && waitTimeoutMs === undefined))
    throw new UsageError("--wait-timeout must be a duration such as 30s, 10m or 1h");
  if (maxPlanAgeMs === undefined) throw new UsageError("--max-plan-age must be a duration such as 30m, 24h or 2d");
  // A saved plan is an approval of specific writes, never a source of paths: an edited artifact could
  // name a looser policy (with its digest). Its inputs are given again and must hash to what it recorded.
  let saved: SavedPlan | undefined;
  if (savedFile) {
    const text = await readFile(savedFile, "utf8").catch((e: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read saved plan ${savedFile}: ${e.code ?? e.message}`);
    });
    saved = parseSavedPlan(savedFile, text);
    if (!(flags.manifests as string[] | undefined)?.length || flags.policy === undefined) {
      throw new UsageError(
        `apply ${savedFile} needs --manifests and --policy: the same paths the plan was made from (a saved plan never supplies its own; their digests must ` +
          `match it)`,
      );
    }
  }
  const manifests = requireManifests(flags);
  const concurrency = flags.concurrency === undefined ? undefined : Number(flags.concurrency);
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64))
    throw new UsageError("--concurrency must be a whole number from 1 to 64");
  return {
    ...(saved ? { saved } : {}),
    maxPlanAgeMs,
    ...(waitTimeoutMs !== undefined ? { waitTimeoutMs } : {}),
    manifests,
    ...(concurrency !== undefined ? { concurrency } : {}),
  };
}
