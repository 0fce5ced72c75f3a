// The archive step of the deletions under spec.archive (docs/archive.md): before any of them is deleted, each
// is copied (CopyProjectVersion, approved by the gate on a last look) into the archive project, or the copy
// an earlier run made is found and reused. Then the copies are read: a deletion goes on to the lanes (where
// the gate approves it only on a look that sees its copy COPYING_COMPLETED) or is decided here — `archiving`
// while the copy is in progress (the next run deletes it), `failed` when the copy was refused, failed or
// vanished (the source is kept). Nothing here deletes.
import type { Logger } from "pino";
import type { RetryingRekognitionClient } from "../aws/client.js";
import { readProjectNamed, readVersionsNamed } from "../aws/look.js";
import { sendCopy } from "../aws/writes.js";
import { archiveNames, isCopyOf, type Look } from "../gate/index.js";
import { firstLine } from "../text.js";
import { projectKey, targetOf, type LiveVersion, type WriteResult } from "../types.js";
import type { ArchiveTarget, Slot } from "./context.js";
import { lastLook, type Run } from "./run.js";

type Outcome = Partial<WriteResult> & Pick<WriteResult, "result">;

export async function archivePhase(r: Run): Promise<void> {
  const groups = new Map<string, Slot[]>();
  for (const s of r.deletions) if (s.action.archive) groups.set(projectKey(s.action), [...(groups.get(projectKey(s.action)) ?? []), s]);
  await Promise.all([...groups.values()].map((slots) => archiveGroup(r, slots)));
}

/** The deletions of one source project: one archive project, one read of earlier copies, one last look. */
async function archiveGroup(r: Run, slots: Slot[]): Promise<void> {
  const a0 = slots[0]!.action;
  const project = a0.archive!.project;
  const client = r.ctx.clientFor(targetOf(a0));
  const log = r.ctx.log.child({ project: a0.project, region: a0.region, archiveProject: project });
  const each = (o: (s: Slot) => Outcome) => slots.forEach((s) => r.finish(s, o(s)));
  const readFailed = (what: string, err: unknown) => {
    const code = (err as { code?: string; name?: string }).code ?? (err as Error).name;
    log.error({ err: (err as Error).message }, `${what} failed; nothing in this batch is archived or deleted`);
    each(() => ({ result: "skipped", ...(code ? { code } : {}), error: `not deleted: ${what} failed (${firstLine((err as Error).message)})` }));
    r.trip(a0, code, log);
  };
  let dest: Awaited<ReturnType<typeof readProjectNamed>>;
  try {
    dest = await readProjectNamed(client, project, a0.region, r.ctx.stop);
  } catch (err) {
    return readFailed(`reading the archive project ${project}`, err);
  }
  // Fail closed: without the archive project there is no undo, so nothing is deleted.
  if (!dest) {
    log.error({}, "the archive project does not exist; nothing is archived or deleted");
    for (const s of slots)
      s.archive = { project, versionName: archiveNames(s.action.project, s.action.versionName, s.action.versionArn).primary, copy: "failed" };
    return each(() => ({
      result: "failed",
      code: "ArchiveProjectNotFound",
      error:
        `archive project "${project}" does not exist in ${a0.region}${a0.account ? ` (account ${a0.account})` : ""}: create it (a Custom Labels project) or ` +
        `change spec.archive.project; nothing was copied or deleted`,
    }));
  }
  const spec = { project, region: a0.region, projectArn: dest.arn };
  const names = (s: Slot) => archiveNames(s.action.project, s.action.versionName, s.action.versionArn);
  let found: LiveVersion[];
  let look: Look;
  try {
    found = await readVersionsNamed(
      client,
      spec,
      slots.flatMap((s) => Object.values(names(s))),
      r.ctx.stop,
    );
    look = await lastLook(
      client,
      r.ctx.gate,
      slots.map((s) => s.action),
      r.ctx.stop,
      r.now,
    );
  } catch (err) {
    return readFailed("the last look before archiving", err);
  }
  for (const s of slots) {
    if (r.stopped() || !r.inputsStillHold()) r.finish(s, r.notSent("this deletion"));
    else await copyOne(r, s, client, spec, found, look, log);
  }
  await settle(
    r,
    slots.filter((s) => !s.result && s.archive?.versionArn),
    client,
    spec,
    log,
  );
}

/** Find this version's copy from an earlier run, or make one (through the gate). Decides the slot only on a failure. */
async function copyOne(
  r: Run,
  s: Slot,
  client: RetryingRekognitionClient,
  spec: Omit<ArchiveTarget, "name">,
  found: LiveVersion[],
  look: Look,
  log: Logger,
): Promise<void> {
  const arn = s.action.versionArn;
  const n = archiveNames(s.action.project, s.action.versionName, arn);
  const mine = (vs: LiveVersion[]) => vs.find((v) => (v.name === n.primary || v.name === n.alternate) && isCopyOf(v, arn));
  const reuse = (v: LiveVersion) => {
    s.archive = { project: spec.project, versionName: v.name, versionArn: v.arn, copy: "reused", status: v.status };
    r.archiveTargets.set(arn, { ...spec, name: v.name });
    log.info({ versionArn: arn, copy: v.arn, status: v.status }, "archive copy from an earlier run found: reused");
  };
  const earlier = mine(found);
  if (earlier) return reuse(earlier);
  // The readable name, unless a copy of another version holds it (a name deleted, retrained and deleted again).
  const taken = (name: string) => found.some((v) => v.name === name);
  const name = taken(n.primary) ? n.alternate : n.primary;
  const failed = (code: string, error: string): void => {
    s.archive = { project: spec.project, versionName: name, copy: "failed" };
    r.finish(s, { result: "failed", code, error: `${error}; not deleted` });
  };
  if (taken(name)) return failed("ArchiveNameTaken", `both archive names (${n.primary}, ${n.alternate}) are taken in ${spec.project} by other versions`);
  const d = r.ctx.gate.approveArchive(r.ctx.auth, s.action, look, spec.projectArn, name, r.now());
  if ("denied" in d) return r.decideDenied(s, d, log);
  const call = await sendCopy(d, r.ctx, { stop: r.stopFor(s.action) });
  if (call.kind === "ok") {
    const copy = call.output.ProjectVersionArn!;
    s.archive = { project: spec.project, versionName: name, versionArn: copy, copy: "copied" };
    r.archiveTargets.set(arn, { ...spec, name });
    log.info({ versionArn: arn, copy, requestId: call.output.$metadata.requestId }, "archive copy started");
    return;
  }
  // In use: the name exists now — a retry of a copy AWS did make, or another run's. Reused if it is this version's.
  if (call.kind === "failed" && call.error.code === "ResourceInUseException") {
    const again = await readVersionsNamed(client, spec, [name], r.ctx.stop).catch(() => []);
    const ours = mine(again);
    if (ours) return reuse(ours);
  }
  s.archive = { project: spec.project, versionName: name, copy: "failed" };
  const o = r.outcome(s, call as never, log, "archive copy");
  r.finish(s, { ...o, ...(o.error ? { error: `archive copy: ${o.error}; not deleted` } : {}) });
}

/**
 * The copies as they are now: COPYING_COMPLETED goes on to the deletion (approved on a look that reads the copy
 * again); in progress is `archiving`, the source held for the next run; failed or vanished keeps the source.
 */
async function settle(r: Run, slots: Slot[], client: RetryingRekognitionClient, spec: Omit<ArchiveTarget, "name">, log: Logger): Promise<void> {
  if (slots.length === 0) return;
  let now: LiveVersion[];
  try {
    now = await readVersionsNamed(
      client,
      spec,
      slots.map((s) => s.archive!.versionName),
      r.ctx.stop,
    );
  } catch (err) {
    for (const s of slots)
      r.finish(s, { result: "skipped", error: `not deleted: reading its archive copy failed (${firstLine((err as Error).message)}); the next run retries` });
    return;
  }
  for (const s of slots) {
    const c = now.find((v) => v.arn === s.archive!.versionArn);
    if (c) s.archive!.status = c.status;
    if (c?.status === "COPYING_COMPLETED") continue;
    r.archiveTargets.delete(s.action.versionArn);
    if (c?.status === "COPYING_IN_PROGRESS") {
      log.info({ versionArn: s.action.versionArn, copy: c.arn }, "archive copy in progress: the source is kept until it completes");
      r.finish(s, { result: "archiving", status: c.status });
      continue;
    }
    s.archive!.copy = "failed";
    const why = c ? `is ${c.status}${c.statusMessage ? ` (${c.statusMessage})` : ""}` : "vanished: the archive project no longer lists it";
    log.error({ versionArn: s.action.versionArn, copy: s.archive!.versionArn, status: c?.status }, "archive copy not complete: the source is kept");
    r.finish(s, {
      result: "failed",
      code: c ? "ArchiveCopyFailed" : "ArchiveCopyVanished",
      ...(c ? { status: c.status } : {}),
      error:
        `its archive copy ${spec.project}/${s.archive!.versionName} ${why}; not deleted` +
        (c ? " (delete that copy once its cause is fixed, and the next run copies again)" : " (the next run copies again)"),
    });
  }
}
