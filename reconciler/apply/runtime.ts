// Running state, as phases of one apply: stops first (they free inference units and end their cost), then
// the deletions, then starts (so a start budget counted on the plan's stops is never exceeded in between).
// Each start and stop is approved by the gate on a last look, like a deletion, and sent only on facts no
// older than lookMaxAgeMs. A start is not waited on (STARTING → RUNNING takes minutes; the next plan shows
// it). A restart (allowRestart) is a stop, a wait for STOPPED, then a start approved on the look that saw it.
import pLimit from "p-limit";
import type { Logger } from "pino";
import type { RetryingRekognitionClient } from "../aws/client.js";
import { sendStart, sendStop } from "../aws/writes.js";
import type { Approved, Denial, Look, StartWrite, StopWrite } from "../gate/index.js";
import { firstLine } from "../text.js";
import { projectKey, targetOf, type WriteResult } from "../types.js";
import type { Slot } from "./context.js";
import { lastLook, type Run } from "./run.js";
import { refresher, stopThen } from "./send.js";

/** Starts and stops per look (DescribeProjectVersions takes at most ten names; a look also re-reads others). */
const PER_LOOK = 5;

/** Every planned stop (or start) of listed versions: project by project, a look, then its writes. */
export async function runtimePhase(r: Run, kind: "stop" | "start"): Promise<void> {
  const slots = kind === "stop" ? r.stops : r.starts;
  if (slots.length === 0) return;
  const byProject = new Map<string, Slot[]>();
  for (const s of slots) byProject.set(projectKey(s.action), [...(byProject.get(projectKey(s.action)) ?? []), s]);
  const limit = pLimit(r.concurrency);
  await Promise.all(
    [...byProject.values()].map((group) =>
      limit(async () => {
        for (let i = 0; i < group.length; i += PER_LOOK) {
          const batch = group.slice(i, i + PER_LOOK);
          if (r.stopped() || !r.inputsStillHold()) return;
          await runtimeBatch(r, kind, batch);
        }
      }),
    ),
  );
  for (const s of slots) if (!s.result && r.stopped()) r.finish(s, r.notSent(`the ${kind}`));
}

async function runtimeBatch(r: Run, kind: "stop" | "start", batch: Slot[]): Promise<void> {
  const a0 = batch[0]!.action;
  const client = r.ctx.clientFor(targetOf(a0));
  const log = r.ctx.log.child({ project: a0.project, region: a0.region });
  let look: Look;
  try {
    look = await lastLook(
      client,
      r.ctx.gate,
      batch.map((s) => s.action),
      r.ctx.stop,
      r.now,
      false,
    );
  } catch (err) {
    const code = (err as { code?: string }).code;
    log.error({ err: (err as Error).message }, `the last look before a ${kind} failed; nothing in this batch is written`);
    for (const s of batch)
      r.finish(s, { result: "skipped", ...(code ? { code } : {}), error: `not sent: the last look failed (${firstLine((err as Error).message)})` });
    r.trip(a0, code, log);
    return;
  }
  await Promise.all(
    batch.map((s) => (kind === "start" && s.action.restartFirst ? restart(r, s, look, client, log) : runtimeOne(r, kind, s, look, client, log))),
  );
}

/** A denial of a start or stop: it changed since the plan (a version gone is not a deletion's "already deleted"). */
function denied(r: Run, s: Slot, d: Denial, log: Logger): void {
  log.warn({ versionArn: s.action.versionArn, reasons: d.reasons }, "changed since the plan: not written");
  r.finish(s, { result: "changed", reasons: d.reasons, error: `changed since the plan: ${d.reasons.map((x) => `${x.rule}: ${x.message}`).join("; ")}` });
}

async function runtimeOne(r: Run, kind: "stop" | "start", s: Slot, look: Look, client: RetryingRekognitionClient, log: Logger): Promise<void> {
  if (r.stopped()) return r.finish(s, r.notSent(`the ${kind}`));
  if (kind === "start") {
    const again = (l: Look) => r.ctx.gate.approveRuntime("start", r.ctx.auth, s.action, l, r.now());
    const d = again(look);
    if ("denied" in d) return denied(r, s, d, log);
    return start(r, s, d, again, client, log);
  }
  const again = (l: Look) => r.ctx.gate.approveRuntime("stop", r.ctx.auth, s.action, l, r.now());
  const d = again(look);
  if ("denied" in d) return denied(r, s, d, log);
  const refresh = refresher(r, s, client, d.lookedAt, again);
  const call = await sendStop(d, r.ctx, {
    stop: r.stopFor(s.action),
    beforeSend: async () => {
      const fresh = await refresh();
      s.sent = true;
      return fresh;
    },
  });
  r.finish(s, r.outcome(s, call, log, "stop"));
}

async function start(
  r: Run,
  s: Slot,
  d: Approved<StartWrite>,
  again: (look: Look) => Approved<StartWrite> | Denial,
  client: RetryingRekognitionClient,
  log: Logger,
  extra: Partial<WriteResult> = {},
): Promise<void> {
  const refresh = refresher(r, s, client, d.lookedAt, again);
  const call = await sendStart(d, r.ctx, {
    stop: r.stopFor(s.action),
    beforeSend: async () => {
      const fresh = await refresh();
      s.sent = true;
      return fresh;
    },
  });
  r.finish(s, { ...r.outcome(s, call, log, "start"), ...extra });
}

/** Capacity drift under allowRestart: stop (approved while it still drifts), wait for STOPPED, then start at the declared units. */
async function restart(r: Run, s: Slot, look: Look, client: RetryingRekognitionClient, log: Logger): Promise<void> {
  if (r.stopped()) return r.finish(s, r.notSent("the restart"));
  const againStop = (l: Look) => r.ctx.gate.approveRestartStop(r.ctx.auth, s.action, l, r.now());
  const stop = againStop(look);
  if ("denied" in stop) return denied(r, s, stop, log);
  const againStart = (l: Look) => r.ctx.gate.approveRuntime("start", r.ctx.auth, s.action, l, r.now());
  return stopThen(r, s, stop as Approved<StopWrite>, againStop, client, log, "started", async (fresh, stoppedAfterMs) => {
    if (!r.inputsStillHold()) return r.finish(s, r.notSent("the start", { stoppedAfterMs }));
    const d = againStart(fresh);
    if ("denied" in d) return denied(r, s, d, log);
    return start(r, s, d, againStart, client, log, { stoppedAfterMs });
  });
}
