// `rekon pending` through the binary against the emulator: every marked (or now-marked) version with when it
// goes and what it waits for — the grace period, the notice, a person's approval, a deletion window — with
// their times, the exact approve command, and no write call at all.
import { afterEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator, type EmulatorStateFile } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { runCli } from "../helpers/run-cli.js";
import { tmpTree } from "../helpers/tmp.js";

const ACCOUNT = "123456789012";
const MARK = "rekon.dev/pending-delete-since";
const NOTICE = "rekon.dev/notice-delivered-at";
const APPROVED = "rekon.dev/deletion-approved";
const H = 3_600_000;
const D = 24 * H;

let emu: Emulator | undefined;
let tree: ReturnType<typeof tmpTree> | undefined;
afterEach(async () => {
  await emu?.close();
  tree?.cleanup();
  emu = tree = undefined;
});

/** A tag time as rekon writes it: RFC 3339 UTC, whole seconds. */
const tagTime = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
const iso = (t: string) => new Date(Date.parse(t)).toISOString();

/** The next 1 January, 03:00 UTC after `now`: when the policy's only allow window next opens. */
function nextNewYear(now: number): number {
  const y = new Date(now).getUTCFullYear();
  const t = Date.UTC(y, 0, 1, 3);
  return t > now ? t : Date.UTC(y + 1, 0, 1, 3);
}

const POLICY = `apiVersion: rekon.dev/v1alpha1
kind: DeletionPolicy
metadata:
  name: ops
spec:
  allowedAccounts: ["${ACCOUNT}"]
  minAge: 1h
  keepLatest: 0
  gracePeriod: 48h
  requireApproval: true
  requireNotice: true
  notifications:
    - name: platform
      url: {fromEnv: REKON_WEBHOOK_URL}
      events: [marked]
  windows:
    - kind: allow
      schedule: "0 3 1 1 *"
      duration: 1h
      timeZone: UTC
      reason: new-year cleanup
`;

const SET = `apiVersion: rekon.dev/v1alpha1
kind: ProjectVersionSet
metadata:
  name: fraud
spec:
  project: fraud-detector
  region: us-east-1
  versions:
    - name: keep
    - name: listed-marked
`;

describe("rekon pending", () => {
  it("lists grace, notice, approval and window waits with their times, soonest first, with the approve command; writes nothing", async () => {
    const now = Date.now();
    const markedB = tagTime(now - 1 * D);
    const noticedB = tagTime(now - 1 * D + 60_000);
    const markedC = tagTime(now - 3 * D);
    const state: EmulatorStateFile = {
      account: ACCOUNT,
      projects: [
        {
          name: "fraud-detector",
          versions: [
            { name: "keep", status: "STOPPED", age: "1d" },
            { name: "listed-marked", status: "STOPPED", age: "20d", tags: { [MARK]: markedC } },
            { name: "a-new", status: "STOPPED", age: "10d" },
            { name: "b-waiting", status: "STOPPED", age: "11d", tags: { [MARK]: markedB, [NOTICE]: noticedB } },
            { name: "c-approved", status: "STOPPED", age: "12d", tags: { [MARK]: markedC, [NOTICE]: markedC, [APPROVED]: tagTime(now - 2 * D) } },
            { name: "d-running", status: "RUNNING", age: "13d", tags: { [MARK]: markedC } },
          ],
        },
      ],
    };
    emu = await startEmulator({ state });
    tree = tmpTree({ "m/set.yaml": SET, "policy.yaml": POLICY });
    const env = emulatorEnv(emu.url);
    const args = ["pending", "--manifests", tree.path("m"), "--policy", tree.path("policy.yaml")];

    const j = await runCli([...args, "--output", "json"], { env });
    expect(j.stderr).not.toMatch(/error/);
    expect(j.code).toBe(0);
    const out = JSON.parse(j.stdout) as { generatedAt: string; versions: Record<string, any>[] };
    const by = Object.fromEntries(out.versions.map((r) => [r.version, r]));
    // Sorted by deletableAt, unknown last: c (the window) first, then the rest by name.
    expect(out.versions.map((r) => r.version)).toEqual(["c-approved", "a-new", "b-waiting", "d-running", "listed-marked"]);

    // c: grace, notice and approval are done; only the allow window keeps it, until it next opens.
    const opens = new Date(nextNewYear(Date.parse(out.generatedAt))).toISOString();
    expect(by["c-approved"]).toMatchObject({ state: "waiting", markedAt: markedC, deletableAt: opens, approval: { state: "approved" }, notice: { state: "delivered" } });
    expect(by["c-approved"]!.waits).toEqual([{ kind: "window", rule: "window", until: opens, message: expect.stringContaining("new-year cleanup") }]);
    expect(by["c-approved"]!.approveCommand).toBeUndefined();

    // b: marked a day ago, its notice a minute later: grace ends 48 h after the mark, the notice's wait 48 h
    // after its delivery; the approval has no time, so when it goes is unknown; the command approves it.
    const b = by["b-waiting"]!;
    expect(b).toMatchObject({ state: "waiting", markedAt: markedB, notice: { state: "delivered", deliveredAt: iso(noticedB) }, approval: { state: "missing" } });
    expect(b.deletableAt).toBeUndefined();
    const waitsB = Object.fromEntries(b.waits.map((w: any) => [w.kind, w.until ?? null]));
    expect(waitsB).toEqual({
      gracePeriod: new Date(Date.parse(markedB) + 2 * D).toISOString(),
      notice: new Date(Date.parse(noticedB) + 2 * D).toISOString(),
      approval: null,
      window: opens,
    });
    expect(b.approveCommand).toBe(`rekon approve fraud-detector/b-waiting --manifests ${tree.path("m")} --policy ${tree.path("policy.yaml")}`);

    // a: not marked yet: apply marks it now; under requireNotice its grace counts from the notice (unknown yet).
    const a = by["a-new"]!;
    expect(a).toMatchObject({ state: "waiting", markAdded: true, notice: { state: "pending" }, approval: { state: "missing" } });
    expect(a.markedAt).toBeUndefined();
    expect(a.waits.map((w: any) => [w.kind, w.until ?? null])).toEqual([
      ["gracePeriod", null],
      ["notice", null],
      ["approval", null],
      ["window", opens],
    ]);
    expect(a.approveCommand).toBeUndefined(); // an approval must come after a mark it does not have yet

    // Marked, but kept: a running version (a guard) and a listed one lose their mark; neither is deleted.
    expect(by["d-running"]).toMatchObject({ state: "unmarking", waits: [{ kind: "kept", rule: "inUse" }] });
    expect(by["listed-marked"]).toMatchObject({ state: "unmarking", waits: [{ kind: "kept", rule: "listed" }] });
    expect(by["keep"]).toBeUndefined();

    const t = await runCli(args, { env });
    expect(t.code).toBe(0);
    expect(t.stdout).toContain("5 version(s) marked or about to be marked");
    expect(t.stdout).toContain(`fraud-detector/c-approved  deletable at ${opens} (in `);
    expect(t.stdout).toContain(`waits for grace period until ${new Date(Date.parse(markedB) + 2 * D).toISOString()} (in `);
    expect(t.stdout).toContain(`approve with: rekon approve fraud-detector/b-waiting --manifests ${tree.path("m")}`);
    expect(t.stdout).toContain("fraud-detector/a-new  deletable at: unknown");

    // Read-only: reads and nothing else, in both runs.
    const ops = new Set(emu.calls().map((c) => c.operation));
    expect(ops.has("ListTagsForResource")).toBe(true);
    for (const w of ["TagResource", "UntagResource", "DeleteProjectVersion", "StopProjectVersion", "StartProjectVersion"]) expect(ops.has(w)).toBe(false);
  });

  it("a failed read exits 1 with a clear message (the list could miss marked versions)", async () => {
    const state: EmulatorStateFile = {
      account: ACCOUNT,
      projects: [{ name: "fraud-detector", versions: [{ name: "keep", status: "STOPPED", age: "1d" }, { name: "old", status: "STOPPED", age: "9d" }] }],
    };
    emu = await startEmulator({ state, faults: { rules: [{ operation: "ListTagsForResource", code: "AccessDeniedException" }] } });
    tree = tmpTree({ "m/set.yaml": SET.replace("    - name: listed-marked\n", ""), "policy.yaml": POLICY });
    const r = await runCli(["pending", "--manifests", tree.path("m"), "--policy", tree.path("policy.yaml")], { env: emulatorEnv(emu.url) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/rekon: error: \d+ read\(s\) failed, so this list may miss marked versions/);
    expect(r.stderr).toContain("tags of arn:aws:rekognition:us-east-1:123456789012:project/fraud-detector/version/old/");
  });
});
