// The write builders (writes.ts) on a recording client: each approved write becomes exactly one AWS request
// of the right kind, for the right resource, with the credentials whose account the gate checked; an
// approval is spent on use, and a fresh approval handed in before a retry must be for the very same version.
import { describe, expect, it } from "vitest";
import type { WriteHooks } from "../../reconciler/aws/client.js";
import {
  Gate,
  GateError,
  redeem,
  type Approved,
  type DeleteWrite,
  type MarkWrite,
  type NoticeWrite,
  type StopWrite,
  type UnmarkWrite,
  type Write,
} from "../../reconciler/gate/index.js";
import { planWith } from "../../reconciler/plan.js";
import { formatMark, MARK_TAG, NOTICE_TAG, REMINDER_TAG } from "../../reconciler/policy/guards.js";
import { targetOf, type DesiredSet, type LiveVersion, type NotificationChannel, type Policy } from "../../reconciler/types.js";
import { sendDelete, sendMark, sendNotice, sendStop, sendUnmark, type WriteDeps } from "../../reconciler/aws/writes.js";
import { ACCOUNT, AMBIENT_IDENTITY, desired, liveProject, liveState, NOW, policy, set, version } from "../helpers/builders.js";

const now = NOW.getTime();
const H = 3_600_000;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/rekon`;

interface Sent {
  command: string;
  input: Record<string, unknown>;
  hooks: WriteHooks;
}

/** A client for one (account, region) that records what it is asked to send and runs the beforeSend hook once. */
function recorder(account: string | null = ACCOUNT, regionName = "us-east-1") {
  const sent: Sent[] = [];
  const targets: unknown[] = [];
  const client = {
    account: account ?? undefined,
    regionName,
    sendWrite: async (command: { constructor: { name: string }; input: Record<string, unknown> }, hooks: WriteHooks = {}) => {
      sent.push({ command: command.constructor.name, input: command.input, hooks });
      await hooks.beforeSend?.(1);
      return { output: {}, attempts: 1 };
    },
  };
  const deps: WriteDeps = { clientFor: (t) => (targets.push(t), client as never) };
  return { sent, targets, deps };
}

const channel: NotificationChannel = {
  name: "platform",
  url: { fromEnv: "REKON_WEBHOOK_URL" },
  format: "json",
  events: ["marked", "reminder"],
  origin: "test",
};

/** A world with one deletable version ("old"), one to stop first ("run"), one to mark ("new") and one to unmark ("back"). */
function world(o: { roleArn?: string; pol?: Partial<Policy> } = {}) {
  const s: DesiredSet = { ...set("p1", ["keep", "back"]), ...(o.roleArn ? { roleArn: o.roleArn } : {}) };
  const versions: LiveVersion[] = [
    version("keep", { ageHours: 1, tags: {} }),
    version("back", { tags: { [MARK_TAG]: formatMark(now - 10 * H) } }),
    version("old", { tags: { [MARK_TAG]: formatMark(now - 100 * H), [NOTICE_TAG]: formatMark(now - 90 * H) } }),
    version("run", { status: "RUNNING", tags: { [MARK_TAG]: formatMark(now - 100 * H), [NOTICE_TAG]: formatMark(now - 90 * H) } }),
    version("new", { tags: {} }),
  ];
  const identities = o.roleArn ? [{ source: o.roleArn, account: ACCOUNT }] : [AMBIENT_IDENTITY];
  const pol = policy({ stopRunning: true, gracePeriodMs: 72 * H, gracePeriod: "72h", requireNotice: true, notifications: [channel], ...o.pol });
  const gate = Gate.assess({ desired: desired(s), live: liveState([liveProject(versions)], identities), policies: pol, now: NOW });
  const plan = planWith(gate, NOW);
  const auth = gate.authorize(plan);
  const action = (name: string) => plan.actions.find((a) => a.versionName === name)!;
  const look = { at: now, byName: new Map(versions.map((v) => [v.name, v])), newest: versions };
  const arn = (name: string) => versions.find((v) => v.name === name)!.arn;
  return {
    arn,
    del: () => gate.approve("delete", auth, action("old"), look, now) as Approved<DeleteWrite>,
    stop: () => gate.approve("stop", auth, action("run"), look, now) as Approved<StopWrite>,
    mark: () => gate.approveMark(auth, action("new"), now) as Approved<MarkWrite>,
    unmark: () => gate.approveMark(auth, action("back"), now) as Approved<UnmarkWrite>,
    notice: () => gate.approveNotice(auth, action("new"), "notice", now, now) as Approved<NoticeWrite>,
  };
}

// Worlds are made inside each test, never while the tests are collected: code run at collection time counts
// as "static" for mutation testing, and a static mutant is run against every test there is.
type World = ReturnType<typeof world>;

describe("each approved write is one request of its kind, for its version", () => {
  it.each([
    {
      kind: "delete",
      send: (w: World, d: WriteDeps) => sendDelete(w.del(), d),
      command: "DeleteProjectVersionCommand",
      input: (w: World) => ({ ProjectVersionArn: w.arn("old") }),
    },
    {
      kind: "stop",
      send: (w: World, d: WriteDeps) => sendStop(w.stop(), d),
      command: "StopProjectVersionCommand",
      input: (w: World) => ({ ProjectVersionArn: w.arn("run") }),
    },
    {
      kind: "mark",
      send: (w: World, d: WriteDeps) => sendMark(w.mark(), d),
      command: "TagResourceCommand",
      input: (w: World) => ({ ResourceArn: w.arn("new"), Tags: { [MARK_TAG]: formatMark(now) } }),
    },
    // A removed mark takes its notice and reminder with it: a new mark needs a new notice.
    {
      kind: "unmark",
      send: (w: World, d: WriteDeps) => sendUnmark(w.unmark(), d),
      command: "UntagResourceCommand",
      input: (w: World) => ({ ResourceArn: w.arn("back"), TagKeys: [MARK_TAG, NOTICE_TAG, REMINDER_TAG] }),
    },
    {
      kind: "notice",
      send: (w: World, d: WriteDeps) => sendNotice(w.notice(), d),
      command: "TagResourceCommand",
      input: (w: World) => ({ ResourceArn: w.arn("new"), Tags: { [NOTICE_TAG]: formatMark(now) } }),
    },
  ])("$kind → $command", async ({ send, command, input }) => {
    const w = world();
    const r = recorder();
    await send(w, r.deps);
    expect(r.sent.map((s) => ({ command: s.command, input: s.input }))).toEqual([{ command, input: input(w) }]);
    expect(r.targets).toEqual([{ region: "us-east-1" }]);
  });

  it.each([
    { kind: "delete", approval: (w: World) => w.del(), send: sendDelete },
    { kind: "stop", approval: (w: World) => w.stop(), send: sendStop },
    { kind: "mark", approval: (w: World) => w.mark(), send: sendMark },
    { kind: "unmark", approval: (w: World) => w.unmark(), send: sendUnmark },
    { kind: "notice", approval: (w: World) => w.notice(), send: sendNotice },
  ] as { kind: Write["kind"]; approval: (w: World) => Approved<Write>; send: (a: never, d: WriteDeps) => Promise<unknown> }[])(
    "a $kind approval is spent: the second send is refused before any request",
    async ({ approval, send }) => {
      const r = recorder();
      const a = approval(world());
      await send(a as never, r.deps);
      await expect(async () => send(a as never, r.deps)).rejects.toThrow(/the approval was already used/);
      expect(r.sent).toHaveLength(1);
    },
  );
});

describe("the credentials the write goes out with", () => {
  it("no approval at all is refused as a gate error, not a crash", () => {
    expect(() => redeem(null as never, "delete")).toThrow(new GateError("refusing a delete of undefined: the approval was not made by the gate"));
  });

  it("a set reached through a role writes through a client for that role; ambient ones through the default chain", async () => {
    const viaRole = recorder();
    await sendDelete(world({ roleArn: ROLE }).del(), viaRole.deps);
    expect(viaRole.targets).toEqual([{ region: "us-east-1", roleArn: ROLE }]);
    expect(targetOf({ region: "eu-west-1", source: "ambient" })).toEqual({ region: "eu-west-1" });
    expect(targetOf({ region: "eu-west-1", source: ROLE })).toEqual({ region: "eu-west-1", roleArn: ROLE });
  });

  it.each([
    {
      name: "another account",
      account: "999999999999",
      region: "us-east-1",
      want: /client is for account 999999999999 in us-east-1, the approval for 123456789012 in us-east-1/,
    },
    { name: "an unknown account", account: null, region: "us-east-1", want: /client is for account unknown in us-east-1/ },
    {
      name: "another region",
      account: ACCOUNT,
      region: "eu-west-1",
      want: /client is for account 123456789012 in eu-west-1, the approval for 123456789012 in us-east-1/,
    },
  ])("a client for $name is refused, and nothing is sent", async ({ account, region, want }) => {
    const w = world();
    for (const [send, approval] of [
      [sendDelete, w.del],
      [sendStop, w.stop],
      [sendMark, w.mark],
      [sendUnmark, w.unmark],
      [sendNotice, w.notice],
    ] as const) {
      const r = recorder(account, region);
      const a = (approval as () => Approved<Write>)();
      await expect(async () => (send as (a: never, d: WriteDeps) => Promise<unknown>)(a as never, r.deps)).rejects.toThrow(GateError);
      await expect(async () => (send as (a: never, d: WriteDeps) => Promise<unknown>)((approval as () => Approved<Write>)() as never, r.deps)).rejects.toThrow(
        want,
      );
      expect(r.sent).toEqual([]);
    }
  });
});

describe("a fresh approval before an attempt (the last look repeated when the facts got old)", () => {
  it.each([
    { kind: "delete", first: (w: World) => w.del(), again: (w: World) => w.del(), send: sendDelete },
    { kind: "stop", first: (w: World) => w.stop(), again: (w: World) => w.stop(), send: sendStop },
  ] as const)("$kind: a fresh approval for the same version is spent, and the request goes out", async ({ first, again, send }) => {
    const w = world();
    const r = recorder();
    const fresh = again(w);
    await (send as (a: never, d: WriteDeps, h: unknown) => Promise<unknown>)(first(w) as never, r.deps, { beforeSend: async () => fresh });
    expect(r.sent).toHaveLength(1);
    // Spent by the send: it cannot be used for another one.
    await expect(async () => (send as (a: never, d: WriteDeps) => Promise<unknown>)(fresh as never, r.deps)).rejects.toThrow(/already used/);
  });

  it.each([
    { name: "one the gate did not make", fresh: (w: ReturnType<typeof twoDeletions>) => ({ ...w.second() }), want: /not made by the gate/ },
    { name: "one for another kind of write", fresh: (w: ReturnType<typeof twoDeletions>) => w.stopB(), want: /the approval is for a stop/ },
    {
      name: "one for another version",
      fresh: (w: ReturnType<typeof twoDeletions>) => w.second(),
      want: (w: ReturnType<typeof twoDeletions>) => `refusing a delete of ${w.arnA}: the fresh approval is for ${w.arnB}`,
    },
  ])("a fresh approval that is $name cancels the write", async ({ fresh, want }) => {
    const w = twoDeletions();
    const r = recorder();
    const err = await sendDelete(w.first(), r.deps, { beforeSend: async () => fresh(w) as never }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GateError);
    expect((err as Error).name).toBe("GateError");
    expect((err as Error).message).toMatch(typeof want === "function" ? want(w) : want);
  });

  it("a beforeSend that hands back no approval lets the request go out as approved", async () => {
    const r = recorder();
    let called = 0;
    await sendDelete(world().del(), r.deps, { beforeSend: async () => void called++ });
    expect({ called, sent: r.sent.length }).toEqual({ called: 1, sent: 1 });
  });

  it("without a beforeSend hook nothing is added; a stop signal reaches the client as given", async () => {
    const w = world();
    const r = recorder();
    const stop = new AbortController().signal;
    await sendDelete(w.del(), r.deps, { stop });
    expect(r.sent[0]!.hooks).toEqual({ stop });
    await sendMark(w.mark(), r.deps, { stop });
    expect(r.sent[1]!.hooks).toEqual({ stop });
    await sendDelete(w.del(), r.deps);
    expect(r.sent[2]!.hooks).toEqual({});
  });
});

/** Two deletable versions ("a", "b") and a RUNNING one to stop first ("c"), in one authorized plan. */
function twoDeletions() {
  const versions = [
    version("keep", { ageHours: 1 }),
    version("a", { ageHours: 300 }),
    version("b", { ageHours: 200 }),
    version("c", { ageHours: 250, status: "RUNNING" }),
  ];
  const gate = Gate.assess({
    desired: desired(set("p1", ["keep"])),
    live: liveState([liveProject(versions)]),
    policies: policy({ stopRunning: true }),
    now: NOW,
  });
  const plan = planWith(gate, NOW);
  const auth = gate.authorize(plan);
  const look = { at: now, byName: new Map(versions.map((v) => [v.name, v])), newest: versions };
  const action = (name: string) => plan.actions.find((x) => x.versionName === name)!;
  return {
    first: () => gate.approve("delete", auth, action("a"), look, now) as Approved<DeleteWrite>,
    second: () => gate.approve("delete", auth, action("b"), look, now) as Approved<DeleteWrite>,
    stopB: () => gate.approve("stop", auth, action("c"), look, now) as Approved<StopWrite>,
    arnA: versions[1]!.arn,
    arnB: versions[2]!.arn,
  };
}
