// Truthful shutdown of `rekon run --apply`: after SIGTERM no new write is sent; writes already sent are
// awaited up to --shutdown-grace and audited as AWS answered them; never-sent writes are `skipped`; a
// write still unanswered when the grace runs out is `unknown` (AWS may carry it out after rekon exits).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Emulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { startRun, type RunProcess, controllerFixture, controllerTeardown } from "./helpers.js";

let emu: Emulator;
let dir: string;
let run: RunProcess | undefined;
beforeEach(async () => {
  ({ emu, dir } = await controllerFixture("shutdown", { emulator: { deleteDelayMs: 60_000 } }));
});
afterEach(async () => {
  await controllerTeardown(run, emu, dir);
  run = undefined;
});

interface Audit {
  versionArn: string;
  decision: string;
  result: string;
  requestId?: string;
  actor?: { callerArn?: string; account?: string };
  policy: { digest?: string };
  manifestsDigest?: string;
}

async function sigtermAfterFirstAcceptance(grace: string) {
  // AWS takes a second to answer each deletion (and carries it out even if nobody waits for the answer).
  emu.setFaults({ rules: [{ operation: "DeleteProjectVersion", delayMs: 1_000 }] });
  const auditFile = join(dir, "audit.jsonl");
  run = startRun(
    [
      "--manifests",
      join(dir, "manifests"),
      "--policy",
      join(dir, "policy.yaml"),
      "--apply",
      "--interval",
      "1h",
      "--listen",
      "127.0.0.1:0",
      "--audit-file",
      auditFile,
      "--shutdown-grace",
      grace,
    ],
    emulatorEnv(emu.url),
  );
  await run.waitFor(
    (l) => l.msg === "audit" && (l.audit as Audit).decision === "delete" && (l.audit as Audit).result === "accepted",
    30_000,
    "the first accepted deletion",
  );
  const received = emu.calls({ phase: "received" }).filter((c) => c.operation === "DeleteProjectVersion").length;
  run.kill("SIGTERM");
  const exited = await run.exited;
  // Let every request that reached "AWS" be carried out before comparing.
  const got = emu.calls({ phase: "received" }).filter((c) => c.operation === "DeleteProjectVersion");
  for (const c of got) await emu.waitForCall((x) => x.phase === "answered" && x.requestId === c.requestId, 5_000);
  // The deletions' records (the demo's manifests also start one model and stop another, first and last).
  const audit: Audit[] = readFileSync(auditFile, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l))
    .filter((a: Audit) => a.decision === "delete");
  return { exited, audit, got, receivedAtSignal: received };
}

describe("rekon run: SIGTERM in the middle of an apply", () => {
  it("with a grace longer than AWS's answers: every write sent is awaited and audited accepted; the rest skipped; exit 0", async () => {
    const { exited, audit, got } = await sigtermAfterFirstAcceptance("10s");
    expect(exited.code).toBe(0);
    expect(audit).toHaveLength(7);
    const sent = new Set(got.map((c) => c.target));
    for (const a of audit) {
      expect(["accepted", "skipped"]).toContain(a.result);
      expect(a.result === "accepted").toBe(sent.has(a.versionArn));
      // Who, under which policy and manifests.
      expect(a.actor).toMatchObject({ callerArn: "arn:aws:iam::123456789012:user/emulator", account: "123456789012" });
      expect(a.policy.digest).toMatch(/^sha256:/);
      expect(a.manifestsDigest).toMatch(/^sha256:/);
    }
    // The emulator carried out exactly the accepted ones, and nothing after rekon exited.
    const ok = emu.calls().filter((c) => c.operation === "DeleteProjectVersion" && c.outcome === "ok");
    expect(new Set(ok.map((c) => c.target))).toEqual(new Set(audit.filter((a) => a.result === "accepted").map((a) => a.versionArn)));
    expect(audit.filter((a) => a.result === "accepted").length).toBeLessThan(7);
  }, 60_000);

  it("with a grace shorter than AWS's answers: writes still unanswered are audited unknown, never failed — and AWS did carry them out", async () => {
    const { exited, audit } = await sigtermAfterFirstAcceptance("200ms");
    expect(exited.code).toBe(0);
    expect(audit).toHaveLength(7);
    expect(audit.filter((a) => a.result === "failed")).toEqual([]);
    const unknown = audit.filter((a) => a.result === "unknown");
    expect(unknown.length).toBeGreaterThan(0);
    const ok = new Set(
      emu
        .calls()
        .filter((c) => c.operation === "DeleteProjectVersion" && c.outcome === "ok")
        .map((c) => c.target),
    );
    for (const u of unknown) expect(ok.has(u.versionArn)).toBe(true);
  }, 60_000);
});
