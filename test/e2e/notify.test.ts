// Notifications end to end: the built binary (`rekon run`, `rekon apply`) against the emulator, telling a
// real HTTP receiver on loopback. Grace periods of seconds, so the whole story — marked, reminder, deleted —
// happens within a test; every wait is on an event (a request received, a log line, a plan that says so).
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import type { CallRecord } from "../../reconciler/emulator/calllog.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { schemaErrors, signedWith, startReceiver, type Receiver } from "../helpers/receiver.js";
import { runCli } from "../helpers/run-cli.js";
import { cycleFinished, startRun, type LogLine, type RunProcess } from "../controller/helpers.js";

const ACCOUNT = "123456789012";
const SECRET = "hmac-Secret-7c1d9e";
const TOKEN = "T0KEN-in-the-webhook-path-5b2f";
const NOTICE = "rekon.dev/notice-delivered-at";
const MARK = "rekon.dev/pending-delete-since";

let emu: Emulator;
let rx: Receiver;
let dir: string;
let run: RunProcess | undefined;

beforeEach(async () => {
  emu = await startEmulator({
    deleteDelayMs: 60_000,
    state: { account: ACCOUNT, projects: [{ name: "fraud", versions: [{ name: "keep", status: "STOPPED", age: "1d" }, { name: "old1", status: "STOPPED", age: "30d" }, { name: "old2", status: "TRAINING_COMPLETED", age: "31d" }] }] },
  });
  rx = await startReceiver();
  dir = mkdtempSync(join(tmpdir(), "rekon-notify-"));
  writeFileSync(join(dir, "fraud.yaml"), "apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata: {name: fraud-models}\nspec:\n  project: fraud\n  owner: team-vision\n  versions: [{name: keep}]\n");
});
afterEach(async () => {
  run?.kill("SIGKILL");
  await run?.exited;
  run = undefined;
  await rx.close();
  await emu.close();
  rmSync(dir, { recursive: true, force: true });
});

function policy(spec: string): string {
  const file = join(dir, "policy.yaml");
  writeFileSync(file, `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata: {name: notify-test}\nspec:\n  allowedAccounts: ["${ACCOUNT}"]\n  minAge: 1h\n  keepLatest: 1\n${spec}`);
  return file;
}

const CHANNELS = `  notifications:
    - name: platform
      url: {fromEnv: REKON_WEBHOOK_URL}
      secret: {fromEnv: REKON_WEBHOOK_SECRET}
`;

const env = () => ({ ...emulatorEnv(emu.url), REKON_WEBHOOK_URL: `${rx.url}/hooks/${TOKEN}`, REKON_WEBHOOK_SECRET: SECRET });
const deletes = () => emu.calls().filter((c) => c.operation === "DeleteProjectVersion");
const tagsOf = (name: string): Record<string, string> => emu.snapshot().projects.flatMap((p) => p.versions ?? []).find((v) => v.name === name)?.tags ?? {};
/** Events delivered (2xx) to the JSON channel, in the order they arrived. */
const told = () => rx.requests.filter((r) => r.status < 300 && r.path === `/hooks/${TOKEN}`).flatMap((r) => r.json.events ?? []);

describe("rekon run --apply: marked → reminder → deleted, with requireNotice", () => {
  it("each version is told before and after, deleted only gracePeriod after its notice reached the channel", async () => {
    const GRACE_MS = 4_000;
    const file = policy(`  gracePeriod: 4s\n  remindBefore: 3s\n  requireNotice: true\n${CHANNELS}    - name: team-slack\n      url: {fromFile: ${join(dir, "slack-url")}}\n      format: slack\n      events: [marked, deleted, failed]\n`);
    writeFileSync(join(dir, "slack-url"), `${rx.url}/services/T000/B000/${TOKEN}\n`);
    // At each deletion, what the version's notice tag said (the emulator's own state, as AWS would hold it).
    const atDelete: { name: string; time: number; notice?: string }[] = [];
    emu.onCall((c: CallRecord) => {
      if (c.operation !== "DeleteProjectVersion" || c.phase !== "received") return;
      const name = c.target!.split("/version/")[1]!.split("/")[0]!;
      atDelete.push({ name, time: c.time, notice: tagsOf(name)[NOTICE] });
    });
    run = startRun(["--manifests", join(dir, "fraud.yaml"), "--policy", file, "--apply", "--interval", "1s", "--listen", "127.0.0.1:0", "--log-level", "debug"], env(), { maxLifetimeMs: 90_000 });
    await rx.waitFor((r) => r.path === `/hooks/${TOKEN}` && (r.json.events ?? []).filter((e) => e.event === "deleted").length > 0, 40_000, "the deleted events");
    await run.waitFor((l) => cycleFinished(l) && (l.deleted as number) > 0, 20_000, "the cycle that deleted");

    const events = told();
    const byVersion = (n: string) => events.filter((e) => e.versionName === n).map((e) => e.event);
    expect(byVersion("old1")).toEqual(["marked", "reminder", "deleted"]);
    expect(byVersion("old2")).toEqual(["marked", "reminder", "deleted"]);
    expect(events.filter((e) => e.versionName === "keep")).toEqual([]);
    // Batched: both marks in one request per channel; every request valid and signed.
    const jsonRequests = rx.requests.filter((r) => r.path === `/hooks/${TOKEN}`);
    expect(jsonRequests[0]!.json.events!.map((e) => [e.event, e.versionName]).sort()).toEqual([["marked", "old1"], ["marked", "old2"]]);
    for (const r of jsonRequests) {
      expect(schemaErrors(r.json)).toEqual([]);
      expect(signedWith(r, SECRET)).toBe(true);
      expect(r.headers["x-rekon-delivery"]).toBe(r.json.deliveryId);
    }
    expect(events[0]).toMatchObject({ owner: "team-vision", set: "fraud-models", project: "fraud", account: ACCOUNT, region: "us-east-1", policy: { name: "notify-test" } });
    // Slack got marked and deleted (not the reminder), as Block Kit.
    const slack = rx.requests.filter((r) => r.path.startsWith("/services/"));
    expect(slack.map((r) => r.headers["x-rekon-event"])).toEqual(["marked", "deleted"]);
    expect(slack[0]!.json).toMatchObject({ text: expect.stringMatching(/^rekon: 2 marked/), blocks: expect.arrayContaining([expect.objectContaining({ type: "header" })]) });

    // No notice, no deletion: each deletion came gracePeriod after the notice its version carried.
    expect(atDelete.map((d) => d.name).sort()).toEqual(["old1", "old2"]);
    for (const d of atDelete) {
      expect(d.notice).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(d.time).toBeGreaterThanOrEqual(Date.parse(d.notice!) + GRACE_MS);
      // The notice was recorded after the receiver accepted the marked event (rounded up to the second).
      const marked = jsonRequests.find((r) => r.json.events!.some((e) => e.event === "marked" && e.versionName === d.name) && r.status < 300)!;
      expect(Date.parse(d.notice!)).toBeGreaterThanOrEqual(Math.floor(marked.at / 1000) * 1000);
    }
    // The reminders said when the deletion would come, and it did not come earlier.
    for (const e of events.filter((x) => x.event === "reminder")) expect(atDelete.find((d) => d.name === e.versionName)!.time).toBeGreaterThanOrEqual(Date.parse(e.deletableAfter!));
    // Logs: one line per delivery outcome, naming the channel, never its URL.
    const delivered = run.lines.filter((l) => l.msg === "notification delivered to channel platform");
    expect(delivered.length).toBe(jsonRequests.length);
    expect(run.stderr()).not.toContain(TOKEN);
    expect(run.stderr()).not.toContain(SECRET);
    // Printed for the report: the sequence the receiver captured.
    console.log(["event sequence captured by the receiver (rekon run --apply):", ...jsonRequests.map((r) => `  ${new Date(r.at).toISOString()} ${r.status} X-Rekon-Event: ${r.headers["x-rekon-event"]} X-Rekon-Delivery: ${r.headers["x-rekon-delivery"]} ${r.json.events!.map((e) => `${e.event}(${e.versionName}${e.deletableAfter ? `, deletable after ${e.deletableAfter}` : ""})`).join(" ")}`)].join("\n"));
  }, 90_000);
});

describe("rekon apply with requireNotice and a receiver that is down", () => {
  it("marks are written, nothing is deleted (noticeNotDelivered), and the deletion comes once a notice got through and the period passed", async () => {
    const file = policy(`  gracePeriod: 2s\n  requireNotice: true\n${CHANNELS}`);
    const apply = () => runCli(["apply", "--manifests", join(dir, "fraud.yaml"), "--policy", file, "--auto-approve", "--output", "json"], { env: env(), timeoutMs: 60_000 });
    const plan = async () => JSON.parse((await runCli(["plan", "--manifests", join(dir, "fraud.yaml"), "--policy", file, "--output", "json"], { env: env() })).stdout) as { generatedAt: string; actions: { versionName: string; action: string; notice?: string; reasons: { rule: string }[] }[] };
    await rx.stop();

    // 1. Down: the marks are written; the marked notice reaches no one; the run says so (exit 1).
    const first = await apply();
    expect(first.code).toBe(1);
    const r1 = JSON.parse(first.stdout) as { results: { versionName: string; operation: string; result: string; code?: string }[] };
    expect(r1.results.filter((r) => r.operation === "mark").map((r) => r.result)).toEqual(["accepted", "accepted"]);
    expect(r1.results.filter((r) => r.operation === "notice")).toMatchObject([{ result: "skipped", code: "noticeNotDelivered" }, { result: "skipped", code: "noticeNotDelivered" }]);
    expect(tagsOf("old1")[MARK]).toBeDefined();
    expect(tagsOf("old1")[NOTICE]).toBeUndefined();
    expect(first.stderr).toContain("notification not delivered to channel platform: ECONNREFUSED");

    // 2. The plan holds them with noticeNotDelivered (a hold: the marks stay); plan itself sends nothing.
    const p2 = await plan();
    for (const n of ["old1", "old2"]) expect(p2.actions.find((a) => a.versionName === n)).toMatchObject({ action: "blocked", notice: "pending", reasons: [{ rule: "noticeNotDelivered" }] });

    // 3. Still down, and the grace period since the mark has long passed: still nothing is deleted.
    const marked = Date.parse(tagsOf("old1")[MARK]!);
    await waitUntil(() => Date.now() > marked + 2_500);
    expect((await apply()).code).toBe(1);
    expect(deletes()).toEqual([]);
    expect(emu.calls().filter((c) => c.operation === "UntagResource")).toEqual([]);

    // 4. Back up: the notice is sent again and recorded through the gate; not deleted yet (the period runs from the notice).
    await rx.start();
    const third = await apply();
    expect(third.code).toBe(0);
    expect(told().map((e) => [e.event, e.versionName]).sort()).toEqual([["marked", "old1"], ["marked", "old2"]]);
    expect(told()[0]!.markedAt).toBe(tagsOf("old1")[MARK]); // the notice is of this very mark
    const noticed = Date.parse(tagsOf("old1")[NOTICE]!);
    expect(noticed).toBeGreaterThanOrEqual(Math.floor(rx.requests.at(-1)!.at / 1000) * 1000);
    expect(deletes()).toEqual([]);
    // The plan holds it until gracePeriod after the notice, by the plan's own clock (generatedAt); on a machine
    // so loaded that the plan ran after that, "no deletion before notice + gracePeriod" is checked at the end.
    const p4 = await plan();
    if (Date.parse(p4.generatedAt) < noticed + 2_000)
      expect(p4.actions.find((a) => a.versionName === "old1")).toMatchObject({ action: "blocked", notice: "delivered", reasons: [{ rule: "noticeNotDelivered" }] });
    expect(rx.requests.filter((r) => r.status < 300)).toHaveLength(1); // plan sent nothing

    // 5. Once the plan says so (gracePeriod after the notice), apply deletes and tells.
    await waitUntil(async () => (await plan()).actions.filter((a) => a.action === "delete").length === 2, 45_000); // generous: each plan is a process start on a possibly loaded machine
    const fourth = await apply();
    expect(fourth.code).toBe(0);
    expect(deletes().map((c) => c.target!.split("/version/")[1]!.split("/")[0]).sort()).toEqual(["old1", "old2"]);
    expect(deletes().every((c) => c.time >= noticed + 2_000)).toBe(true);
    expect(told().filter((e) => e.event === "deleted").map((e) => e.versionName).sort()).toEqual(["old1", "old2"]);
  }, 120_000);

  it("a channel that cannot be used refuses the whole run under requireNotice: nothing written, an error naming the channel", async () => {
    const file = policy(`  gracePeriod: 2s\n  requireNotice: true\n${CHANNELS}`);
    const r = await runCli(["apply", "--manifests", join(dir, "fraud.yaml"), "--policy", file, "--auto-approve"], { env: { ...env(), REKON_WEBHOOK_SECRET: "" }, timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain('notification channel "platform": secret: environment variable REKON_WEBHOOK_SECRET is empty');
    expect(r.stdout).toContain("REFUSED (notificationsUnavailable)");
    expect(emu.calls().filter((c) => c.operation === "TagResource" || c.operation === "DeleteProjectVersion")).toEqual([]);
  });
});

describe("rekon apply with requireNotice and a channel a manifest policy added", () => {
  it("the manifest's channel answering 2xx does not count while the operator's answers 500: held (noticeNotDelivered), no notice tag; once the operator's accepts, it counts", async () => {
    // A pull request adds a DeletionPolicy whose channel always says 2xx; the operator's receiver is failing.
    const manifests = join(dir, "manifests");
    mkdirSync(manifests);
    renameSync(join(dir, "fraud.yaml"), join(manifests, "fraud.yaml"));
    writeFileSync(join(manifests, "team-policy.yaml"), "apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata: {name: team}\nspec:\n  selector: {projects: [fraud]}\n  notifications:\n    - name: always-ok\n      url: {fromEnv: REKON_ALWAYS_OK_URL}\n      events: [marked]\n");
    const file = policy(`  gracePeriod: 2s\n  requireNotice: true\n${CHANNELS}`);
    let operatorUp = false;
    rx.answer((_n, path) => ({ status: path.startsWith("/hooks/") && !operatorUp ? 500 : 200 }));
    const apply = () => runCli(["apply", "--manifests", manifests, "--policy", file, "--auto-approve", "--output", "json"], { env: { ...env(), REKON_ALWAYS_OK_URL: `${rx.url}/always-ok` }, timeoutMs: 60_000 });
    const plan = async () => JSON.parse((await runCli(["plan", "--manifests", manifests, "--policy", file, "--output", "json"], { env: env() })).stdout) as { actions: { versionName: string; action: string; notice?: string; reasons: { rule: string }[] }[] };

    // 1. The extra recipient got the marked notices (2xx); the operator's channel did not: nothing counts.
    const first = await apply();
    for (const n of ["old1", "old2"]) expect(tagsOf(n)[NOTICE], n).toBeUndefined();
    expect(first.code).toBe(1);
    const extra = rx.requests.filter((r) => r.path === "/always-ok" && r.status < 300).flatMap((r) => r.json.events ?? []);
    expect(extra.map((e) => [e.event, e.versionName]).sort()).toEqual([["marked", "old1"], ["marked", "old2"]]);
    expect(rx.requests.filter((r) => r.path.startsWith("/hooks/")).every((r) => r.status === 500)).toBe(true);
    const r1 = JSON.parse(first.stdout) as { results: { versionName: string; operation: string; result: string; code?: string }[] };
    expect(r1.results.filter((r) => r.operation === "notice")).toMatchObject([{ result: "skipped", code: "noticeNotDelivered" }, { result: "skipped", code: "noticeNotDelivered" }]);
    const p1 = await plan();
    for (const n of ["old1", "old2"]) expect(p1.actions.find((a) => a.versionName === n)).toMatchObject({ action: "blocked", notice: "pending", reasons: [{ rule: "noticeNotDelivered" }] });

    // 2. The operator's receiver accepts: the notice counts and is recorded.
    operatorUp = true;
    const second = await apply();
    expect(second.code).toBe(0);
    for (const n of ["old1", "old2"]) expect(tagsOf(n)[NOTICE]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(deletes()).toEqual([]);
  }, 90_000);
});

describe("rekon apply tells refusals and failed reads", () => {
  it("over the budget: refused (nothing written); a tag read denied: readFailed; a deletion AWS refuses: failed", async () => {
    const apply = (file: string) => runCli(["apply", "--manifests", join(dir, "fraud.yaml"), "--policy", file, "--auto-approve"], { env: env(), timeoutMs: 30_000 });
    expect((await apply(policy(`  maxDeletesPerRun: 1
${CHANNELS}`))).code).toBe(1);
    const refused = await rx.waitFor((r) => r.headers["x-rekon-event"] === "refused", 5_000);
    expect(refused.json.events).toMatchObject([{ event: "refused", reasons: [{ rule: "maxDeletesPerRun" }], manifests: { revision: expect.stringMatching(/^(sha256:|[0-9a-f]{40})/) } }]);
    expect(schemaErrors(refused.json)).toEqual([]);
    expect(emu.calls().filter((c) => c.operation === "TagResource" || c.operation === "DeleteProjectVersion")).toEqual([]);

    emu.setFaults({ rules: [{ operation: "ListTagsForResource", code: "AccessDeniedException", arn: "/version/old2/" }, { operation: "DeleteProjectVersion", code: "AccessDeniedException", arn: "/version/old1/" }] });
    expect((await apply(policy(`  protectTags: {hold: "*"}
${CHANNELS}`))).code).toBe(1);
    const r = await rx.waitFor((x) => x !== refused && x.status < 300, 5_000);
    expect(schemaErrors(r.json)).toEqual([]);
    expect(r.headers["x-rekon-event"]).toBe("readFailed,failed");
    expect(r.json.events).toMatchObject([
      { event: "readFailed", versionName: "old2", reasons: [{ rule: "tagsUnreadable" }] },
      { event: "failed", versionName: "old1", operation: "delete", result: "failed", code: "AccessDeniedException" },
    ]);
  });
});

describe("rekon run without --apply: pending, once per version, with the same ids after a restart", () => {
  it("tells the deletions it would make once per process; a restarted controller sends the same delivery ids", async () => {
    const file = policy(CHANNELS);
    const args = ["--manifests", join(dir, "fraud.yaml"), "--policy", file, "--interval", "1s", "--listen", "127.0.0.1:0"];
    run = startRun(args, env());
    const first = await rx.waitFor((r) => r.headers["x-rekon-event"] === "pending", 20_000, "the pending events");
    expect(first.json.events!.map((e) => e.versionName).sort()).toEqual(["old1", "old2"]);
    expect(schemaErrors(first.json)).toEqual([]);
    // Two more cycles: nothing new is told (the controller remembers what it told).
    const cycles = () => run!.lines.filter(cycleFinished).length;
    const seen = cycles();
    await run.waitFor((l: LogLine) => cycleFinished(l) && cycles() >= seen + 2, 20_000, "two more cycles");
    expect(rx.requests).toHaveLength(1);
    expect(deletes()).toEqual([]);

    run.kill("SIGTERM");
    await run.exited;
    run = startRun(args, env());
    const again = await rx.waitFor((r) => r !== first && r.headers["x-rekon-event"] === "pending", 20_000, "the restarted controller's pending events");
    expect(again.json.deliveryId).toBe(first.json.deliveryId);
    expect(again.headers["x-rekon-delivery"]).toBe(first.headers["x-rekon-delivery"]);
    expect(again.json.events!.map((e) => e.deliveryId).sort()).toEqual(first.json.events!.map((e) => e.deliveryId).sort());
  }, 60_000);
});

describe("rekon run with invalid manifests", () => {
  it("tells `refused` (rule invalid, each issue at file:line:col) once while the manifests stay invalid, on the operator policy's channels", async () => {
    const file = policy(CHANNELS);
    writeFileSync(join(dir, "fraud.yaml"), "apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata: {name: fraud-models}\nspec:\n  project: fraud\n  versions: [{nme: keep}]\n");
    run = startRun(["--manifests", join(dir, "fraud.yaml"), "--policy", file, "--apply", "--interval", "1s", "--listen", "127.0.0.1:0"], env());
    const r = await rx.waitFor((x) => x.headers["x-rekon-event"] === "refused", 20_000);
    expect(schemaErrors(r.json)).toEqual([]);
    expect(r.json.events).toMatchObject([{ event: "refused", reasons: [{ rule: "invalid" }, { rule: "invalid", message: expect.stringMatching(/fraud\.yaml:6:\d+: spec\.versions\[0\]\.nme: unknown field "nme"/) }] }]);
    const cycles = () => run!.lines.filter(cycleFinished).length;
    const seen = cycles();
    await run.waitFor(() => cycles() >= seen + 2, 20_000, "two more invalid cycles");
    expect(rx.requests).toHaveLength(1);
    expect(emu.calls()).toEqual([]);
  }, 40_000);
});

/** Poll a condition about time or the world (not about the absence of something), bounded. */
async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
