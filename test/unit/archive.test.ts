// Archive before delete, the pure parts (gate/archive.ts, gate/copy.ts, the layers, the plan): the derived
// names, which deletion gets an archive step, the notArchivable guard, what a last look must see of the copy
// before the source may go, and the approvals of the copy itself and of a restore. Exact values, both sides of
// every condition: these files are under mutation testing.
import { describe, expect, it } from "vitest";
import {
  ARCHIVED_AT_TAG,
  ARCHIVED_FROM_TAG,
  Gate,
  GateError,
  RESTORED_FROM_TAG,
  approveRestore,
  archiveNames,
  isCopyOf,
  projectArnParts,
  type Approved,
  type CopyWrite,
  type Denial,
  type RestoreFacts,
} from "../../reconciler/gate/index.js";
import { archivedFromValue, archiveReasons, archiveStep, copyable, notArchivable, shortHash } from "../../reconciler/gate/archive.js";
import { sendCopy } from "../../reconciler/aws/writes.js";
import { checkLayers, effectivePolicy, sameDestination } from "../../reconciler/policy/layers.js";
import { planWith } from "../../reconciler/plan.js";
import { formatMark } from "../../reconciler/policy/guards.js";
import type { ArchivePolicy, LiveVersion, PlanAction, Policy, ScopedPolicy } from "../../reconciler/types.js";
import { ACCOUNT, desired, liveProject, liveState, NOW, policy, set, version } from "../helpers/builders.js";

const now = NOW.getTime();
const ARCHIVE: ArchivePolicy = { project: "vault", outputConfig: { s3Bucket: "bkt", s3KeyPrefix: "rekon/" }, required: true, origin: "operator policy p.yaml" };
const VAULT_ARN = `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/vault/1700000000001`;
const withArchive = (o: Partial<ArchivePolicy> = {}, p: Partial<Policy> = {}) =>
  policy({ archive: { ...ARCHIVE, ...o }, origin: { archive: ARCHIVE.origin }, ...p });

describe("archiveNames: derived from the source alone", () => {
  it("PROJECT--VERSION, and the alternate with the source ARN's hash", () => {
    const n = archiveNames("p1", "v3", "arn:x");
    expect(n.primary).toBe("p1--v3");
    expect(n.alternate).toBe(`p1--v3-${shortHash("arn:x")}`);
    expect(shortHash("arn:x")).toMatch(/^[0-9a-f]{8}$/);
  });
  it("shortHash is FNV-1a 32 (known vectors) and differs between ARNs", () => {
    expect(shortHash("")).toBe("811c9dc5");
    expect(shortHash("a")).toBe("e40c292c");
    expect(shortHash("foobar")).toBe("bf9cf968");
    expect(shortHash("arn:1")).not.toBe(shortHash("arn:2"));
  });
  it("exactly 255 characters: the readable name; 256: the hashed one, cut to 255", () => {
    const v253 = "v".repeat(255 - "p--".length);
    expect(archiveNames("p", v253, "a").primary).toBe(`p--${v253}`);
    expect(archiveNames("p", v253, "a").primary).toHaveLength(255);
    const long = archiveNames("p", v253 + "w", "a");
    expect(long.primary).toBe(long.alternate);
    expect(long.primary).toHaveLength(255);
    expect(long.primary.endsWith(`-${shortHash("a")}`)).toBe(true);
    expect(long.primary.startsWith("p--vvv")).toBe(true);
    expect(long.primary).toMatch(/^[a-zA-Z0-9_.-]{1,255}$/);
  });
});

describe("archivedFromValue: the source ARN, cut to fit a tag value (256)", () => {
  it("an ARN of 256 is the value; one of 257 is cut to 256 with # and its hash", () => {
    const a256 = "a".repeat(256);
    expect(archivedFromValue(a256)).toBe(a256);
    const a257 = "a".repeat(257);
    expect(archivedFromValue(a257)).toBe(`${"a".repeat(247)}#${shortHash(a257)}`);
    expect(archivedFromValue(a257)).toHaveLength(256);
    expect(archivedFromValue(a257 + "b")).not.toBe(archivedFromValue(a257 + "c"));
  });
  it("a long source is recognised by its cut tag, not by the raw ARN", () => {
    const long = `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/${"p".repeat(200)}/version/${"v".repeat(200)}/1`;
    expect(isCopyOf({ tags: { [ARCHIVED_FROM_TAG]: archivedFromValue(long) } }, long)).toBe(true);
    expect(isCopyOf({ tags: { [ARCHIVED_FROM_TAG]: long } }, long)).toBe(false);
  });
});

describe("archiveStep and notArchivable", () => {
  const model = version("v1");
  const adapter = version("a1", { feature: "CONTENT_MODERATION" });
  it.each([
    { name: "no archive policy: nothing", pol: policy(), project: "p1", v: model, step: {}, blocked: false },
    {
      name: "a model: copied first, under the derived name",
      pol: withArchive(),
      project: "p1",
      v: model,
      step: { archive: { project: "vault", versionName: "p1--v1" } },
      blocked: false,
    },
    { name: "an adapter, required: blocked, no step", pol: withArchive(), project: "p1", v: adapter, step: {}, blocked: true },
    { name: "an adapter, not required: no undo", pol: withArchive({ required: false }), project: "p1", v: adapter, step: { noUndo: true }, blocked: false },
    { name: "the archive project's own model: an ordinary version", pol: withArchive(), project: "vault", v: model, step: {}, blocked: false },
    { name: "the archive project's own adapter: not blocked", pol: withArchive(), project: "vault", v: adapter, step: {}, blocked: false },
  ])("$name", ({ pol, project, v, step, blocked }) => {
    expect(archiveStep(pol, project, v)).toEqual(step);
    const r = notArchivable(pol, project, v);
    if (!blocked) expect(r).toBeUndefined();
    else
      expect(r).toEqual({
        rule: "notArchivable",
        message:
          "a CONTENT_MODERATION version (an adapter) cannot be copied (CopyProjectVersion copies Custom Labels models only), and spec.archive.required is " +
          "true; set required: false to delete it without a copy (no undo)",
        layer: ARCHIVE.origin,
      });
  });
  it("copyable: CUSTOM_LABELS only", () => {
    expect(copyable({ feature: "CUSTOM_LABELS" })).toBe(true);
    expect(copyable({ feature: "CONTENT_MODERATION" })).toBe(false);
    expect(copyable({ feature: "" })).toBe(false);
  });
});

describe("archiveReasons: what the last look must see of the copy", () => {
  const src = version("v1");
  const step = { project: "vault", versionName: "p1--v1" };
  const action = (a?: PlanAction["archive"]) => ({ versionArn: src.arn, ...(a ? { archive: a } : {}) }) as PlanAction;
  const copy = (o: Partial<LiveVersion> = {}) => version("p1--v1", { project: "vault", status: "COPYING_COMPLETED", sourceVersionArn: src.arn, ...o });
  const rules = (r: ReturnType<typeof archiveReasons>) => r.map((x) => x.message);
  it("complete copy of this version in the archive project: nothing keeps it", () => {
    expect(archiveReasons(withArchive(), "p1", action(step), src, new Map([[src.arn, copy()]]))).toEqual([]);
  });
  it("recognised by the archived-from tag when AWS names no source", () => {
    const c = copy({ sourceVersionArn: undefined, tags: { [ARCHIVED_FROM_TAG]: src.arn } });
    delete c.sourceVersionArn;
    expect(archiveReasons(withArchive(), "p1", action(step), src, new Map([[src.arn, c]]))).toEqual([]);
  });
  it("no archive policy and no step: nothing", () => {
    expect(archiveReasons(policy(), "p1", action(), src, undefined)).toEqual([]);
  });
  it.each([
    {
      name: "policy archives, the plan has no step",
      pol: withArchive(),
      a: action(),
      copies: new Map([[src.arn, copy()]]),
      msg: "the plan's archive step (none) is not the policy's (vault/p1--v1)",
    },
    {
      name: "the plan has a step, the policy none",
      pol: policy(),
      a: action(step),
      copies: new Map([[src.arn, copy()]]),
      msg: "the plan's archive step (vault/p1--v1) is not the policy's (none)",
    },
    {
      name: "another project in the step",
      pol: withArchive(),
      a: action({ ...step, project: "x" }),
      copies: new Map([[src.arn, copy()]]),
      msg: "the plan's archive step (x/p1--v1) is not the policy's (vault/p1--v1)",
    },
    {
      name: "another name in the step",
      pol: withArchive(),
      a: action({ ...step, versionName: "n" }),
      copies: new Map([[src.arn, copy()]]),
      msg: "the plan's archive step (vault/n) is not the policy's (vault/p1--v1)",
    },
    {
      name: "no copies read",
      pol: withArchive(),
      a: action(step),
      copies: undefined,
      msg: "no archived copy of it was read in project vault at the last look",
    },
    {
      name: "this version's copy not read",
      pol: withArchive(),
      a: action(step),
      copies: new Map([["other", copy()]]),
      msg: "no archived copy of it was read in project vault at the last look",
    },
    {
      name: "the copy is elsewhere",
      pol: withArchive(),
      a: action(step),
      copies: new Map([[src.arn, copy({ project: "p2" })]]),
      msg: `its copy ${copy({ project: "p2" }).arn} is not in the archive project vault`,
    },
    {
      name: "a copy of another version",
      pol: withArchive(),
      a: action(step),
      copies: new Map([[src.arn, copy({ sourceVersionArn: "arn:other" })]]),
      msg: `${copy().arn} is not a copy of it (its source is arn:other)`,
    },
    {
      name: "still copying",
      pol: withArchive(),
      a: action(step),
      copies: new Map([[src.arn, copy({ status: "COPYING_IN_PROGRESS" })]]),
      msg: "its archived copy p1--v1 is COPYING_IN_PROGRESS, not COPYING_COMPLETED",
    },
    {
      name: "copy failed",
      pol: withArchive(),
      a: action(step),
      copies: new Map([[src.arn, copy({ status: "COPYING_FAILED" })]]),
      msg: "its archived copy p1--v1 is COPYING_FAILED, not COPYING_COMPLETED",
    },
  ])("$name: notArchived", ({ pol, a, copies, msg }) => {
    const r = archiveReasons(pol, "p1", a, src, copies);
    expect(rules(r)).toEqual([msg]);
    expect(r[0]!.rule).toBe("notArchived");
    expect(r[0]!.layer).toBe(pol.archive ? ARCHIVE.origin : undefined);
  });
  it("a source not named and no tag: not its copy", () => {
    const c = copy();
    delete c.sourceVersionArn;
    expect(isCopyOf(c, src.arn)).toBe(false);
    expect(rules(archiveReasons(withArchive(), "p1", action(step), src, new Map([[src.arn, c]])))).toEqual([
      `${c.arn} is not a copy of it (its source is not named)`,
    ]);
    expect(isCopyOf({ tags: { [ARCHIVED_FROM_TAG]: "x" } }, "y")).toBe(false);
    expect(isCopyOf({ tags: { [ARCHIVED_FROM_TAG]: "y" } }, "y")).toBe(true);
    // AWS's source wins over a tag anyone could write.
    expect(isCopyOf({ sourceVersionArn: "x", tags: { [ARCHIVED_FROM_TAG]: "y" } }, "y")).toBe(false);
    expect(isCopyOf({ sourceVersionArn: "y", tags: { [ARCHIVED_FROM_TAG]: "x" } }, "y")).toBe(true);
  });
});

describe("projectArnParts", () => {
  it("parses a project ARN; refuses a version ARN or junk", () => {
    expect(projectArnParts(VAULT_ARN)).toEqual({ region: "us-east-1", account: ACCOUNT, project: "vault" });
    expect(projectArnParts("arn:aws-cn:rekognition:cn-north-1:111111111111:project/a.b_c-d/5")).toEqual({
      region: "cn-north-1",
      account: "111111111111",
      project: "a.b_c-d",
    });
    expect(projectArnParts(`${VAULT_ARN}/version/v/1`)).toBeUndefined();
    expect(projectArnParts(`x${VAULT_ARN}`)).toBeUndefined();
    expect(projectArnParts(`arn:aws:rekognition:us-east-1:12345:project/vault/1`)).toBeUndefined();
    expect(projectArnParts(`arn:aws:rekognition:us-east-1:${ACCOUNT}:project/vault/x`)).toBeUndefined();
  });
});

/** A world of one project p1: "keep" listed, "old" deletable (and "ad" an adapter project when asked). */
function world(pol: Policy, o: { feature?: string; oldStatus?: string } = {}) {
  const versions = [version("keep", { ageHours: 1 }), version("old", { status: o.oldStatus ?? "STOPPED", ...(o.feature ? { feature: o.feature } : {}) })];
  const gate = Gate.assess({ desired: desired(set("p1", ["keep"])), live: liveState([liveProject(versions)]), policies: pol, now: NOW });
  const plan = planWith(gate, NOW);
  const auth = gate.authorize(plan);
  const old = plan.actions.find((a) => a.versionName === "old")!;
  const look = (archives?: Map<string, LiveVersion>) => ({
    at: now,
    byName: new Map(versions.map((v) => [v.name, v])),
    newest: versions,
    ...(archives ? { archives } : {}),
  });
  const src = versions[1]!;
  return { gate, plan, auth, old, look, src };
}

describe("the plan: an archive step on each deletion, nowhere else", () => {
  it("delete carries archive; keep does not; a refused run drops it", () => {
    const w = world(withArchive());
    expect(w.old).toMatchObject({ action: "delete", archive: { project: "vault", versionName: "p1--old" } });
    expect(w.old.noUndo).toBeUndefined();
    expect(w.plan.actions.find((a) => a.versionName === "keep")!.archive).toBeUndefined();
    const refused = planWith(
      Gate.assess({
        desired: desired(set("p1", ["keep"])),
        live: liveState([liveProject([version("keep", { ageHours: 1 }), version("old")])]),
        policies: withArchive(),
        now: NOW,
        refusals: [{ rule: "manifestsStale", message: "m" }],
      }),
      NOW,
    );
    const r = refused.actions.find((a) => a.versionName === "old")!;
    expect(r.action).toBe("blocked");
    expect(r.archive).toBeUndefined();
  });
  it("a held version (grace period) gets no step yet", () => {
    const w = world(withArchive({}, { gracePeriodMs: 3_600_000, gracePeriod: "1h" }));
    expect(w.old.action).toBe("blocked");
    expect(w.old.archive).toBeUndefined();
  });
  it("an adapter under required: false is a deletion with noUndo", () => {
    const w = world(withArchive({ required: false }), { feature: "CONTENT_MODERATION" });
    expect(w.old).toMatchObject({ action: "delete", noUndo: true });
    expect(w.old.archive).toBeUndefined();
  });
});

describe("approve (delete, stop) under spec.archive", () => {
  it("denied notArchived without a complete copy; approved with one", () => {
    const w = world(withArchive());
    const d = w.gate.approve("delete", w.auth, w.old, w.look(), now) as Denial;
    expect(d.denied).toBe(true);
    expect(d.reasons.map((r) => r.rule)).toEqual(["notArchived"]);
    const copy = version("p1--old", { project: "vault", status: "COPYING_COMPLETED", sourceVersionArn: w.src.arn });
    const ok = w.gate.approve("delete", w.auth, w.old, w.look(new Map([[w.src.arn, copy]])), now);
    expect("denied" in ok).toBe(false);
    expect((ok as Approved<{ kind: string; versionArn: string }>).versionArn).toBe(w.src.arn);
  });
  it("the stop before a deletion waits for the copy too", () => {
    const w = world(withArchive({}, { stopRunning: true }), { oldStatus: "RUNNING" });
    expect(w.old.stopFirst).toBe(true);
    const d = w.gate.approve("stop", w.auth, w.old, w.look(), now) as Denial;
    expect(d.reasons.map((r) => r.rule)).toEqual(["notArchived"]);
  });
});

describe("approveArchive: the copy itself", () => {
  const approve = (w: ReturnType<typeof world>, dest = VAULT_ARN, name = "p1--old") => w.gate.approveArchive(w.auth, w.old, w.look(), dest, name, now);
  it("approved: exactly the write the policy describes, tagged with the source and the time", () => {
    const w = world(withArchive({ kmsKeyId: "alias/k" }));
    const a = approve(w) as Approved<CopyWrite>;
    expect({ ...a }).toEqual({
      kind: "copy",
      versionArn: w.src.arn,
      versionName: "old",
      project: "p1",
      region: "us-east-1",
      account: ACCOUNT,
      source: "ambient",
      sourceProjectArn: `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/p1/1700000000000`,
      destinationProjectArn: VAULT_ARN,
      copyName: "p1--old",
      outputConfig: { s3Bucket: "bkt", s3KeyPrefix: "rekon/" },
      kmsKeyId: "alias/k",
      tags: { [ARCHIVED_FROM_TAG]: w.src.arn, [ARCHIVED_AT_TAG]: formatMark(now) },
    });
  });
  it("the alternate name is allowed; without a KMS key none is sent", () => {
    const w = world(withArchive());
    const a = approve(w, VAULT_ARN, archiveNames("p1", "old", w.src.arn).alternate) as Approved<CopyWrite>;
    expect(a.copyName).toBe(archiveNames("p1", "old", w.src.arn).alternate);
    expect("kmsKeyId" in a).toBe(false);
  });
  it.each([
    {
      name: "another account",
      dest: `arn:aws:rekognition:us-east-1:999999999999:project/vault/1`,
      copyName: "p1--old",
      msg: "is not project vault in us-east-1 of account",
    },
    { name: "another region", dest: `arn:aws:rekognition:eu-west-1:${ACCOUNT}:project/vault/1`, copyName: "p1--old", msg: "is not project vault in us-east-1" },
    { name: "another project", dest: `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/other/1`, copyName: "p1--old", msg: "is not project vault" },
    { name: "not an ARN", dest: "vault", copyName: "p1--old", msg: "the destination vault is not project vault" },
    { name: "a name not derived from the source", dest: VAULT_ARN, copyName: "mine", msg: "mine is not a name derived from the source" },
  ])("denied: $name", ({ dest, copyName, msg }) => {
    const w = world(withArchive());
    const d = approve(w, dest, copyName) as Denial;
    expect(d.denied).toBe(true);
    expect(d.reasons.map((r) => r.rule)).toEqual(["notArchived"]);
    expect(d.reasons[0]!.message).toContain(msg);
    expect(d.reasons[0]!.layer).toBe(ARCHIVE.origin);
  });
  it("denied when the plan's step was tampered with, or the version is kept on the fresh look", () => {
    const w = world(withArchive());
    const tampered = { ...w.old, archive: { project: "vault", versionName: "x" } };
    const d = w.gate.approveArchive(w.auth, tampered, w.look(), VAULT_ARN, "p1--old", now) as Denial;
    expect(d.reasons.map((r) => r.message)).toEqual(["the plan's archive name x is not the one derived from the source (p1--old)"]);
    const noStep = { ...w.old };
    delete noStep.archive;
    expect((w.gate.approveArchive(w.auth, noStep, w.look(), VAULT_ARN, "p1--old", now) as Denial).reasons[0]!.message).toBe(
      "the plan's archive step (none) is not the policy's (vault)",
    );
    const listedNow = { at: now, byName: new Map<string, LiveVersion>(), newest: [] };
    expect((w.gate.approveArchive(w.auth, w.old, listedNow, VAULT_ARN, "p1--old", now) as Denial).gone).toBe(true);
  });
  it("a step the policy never asked for (no archive in the policy) is refused, naming both", () => {
    const w = world(policy());
    expect(w.old.archive).toBeUndefined();
    const forged = { ...w.old, archive: { project: "vault", versionName: "p1--old" } };
    const d = w.gate.approveArchive(w.auth, forged, w.look(), VAULT_ARN, "p1--old", now) as Denial;
    expect(d.denied).toBe(true);
    expect(d.reasons.map((r) => r.message)).toContain("the plan's archive step (vault) is not the policy's (none)");
  });
  it("an adapter is never copied, even with a step forged onto its deletion", () => {
    const w = world(withArchive({ required: false }), { feature: "CUSTOM_ADAPTER" });
    expect(w.old.archive).toBeUndefined();
    const forged = { ...w.old, archive: { project: "vault", versionName: "p1--old" } };
    const d = w.gate.approveArchive(w.auth, forged, w.look(), VAULT_ARN, "p1--old", now) as Denial;
    expect(d.reasons.map((r) => r.message)).toEqual(["a CUSTOM_ADAPTER version cannot be copied"]);
  });
  it("the archive project as the source's own project is refused", () => {
    const w = world(withArchive({ project: "p1" }));
    // The archive project's own versions get no step at all: nothing to approve.
    expect(w.old.archive).toBeUndefined();
    const forced = { ...w.old, archive: { project: "p1", versionName: "p1--old" } };
    const d = w.gate.approveArchive(w.auth, forced, w.look(), `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/p1/1`, "p1--old", now) as Denial;
    expect(d.reasons.map((r) => r.message)).toContain("the archive project is the version's own project");
  });
});

describe("approveRestore", () => {
  const archived = version("p1--v1", { project: "vault", status: "COPYING_COMPLETED" });
  const facts = (o: Partial<RestoreFacts> = {}): RestoreFacts => ({
    version: archived,
    sourceProjectArn: VAULT_ARN,
    destinationProjectArn: `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/p1/2`,
    name: "v1-back",
    nameTaken: false,
    account: ACCOUNT,
    region: "us-east-1",
    source: "ambient",
    outputConfig: { s3Bucket: "bkt" },
    accountAllowed: true,
    ...o,
  });
  it("approved: a copy back, tagged with where it came from", () => {
    expect({ ...(approveRestore(facts()) as Approved<CopyWrite>) }).toEqual({
      kind: "copy",
      versionArn: archived.arn,
      versionName: "p1--v1",
      project: "vault",
      region: "us-east-1",
      account: ACCOUNT,
      source: "ambient",
      sourceProjectArn: VAULT_ARN,
      destinationProjectArn: `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/p1/2`,
      copyName: "v1-back",
      outputConfig: { s3Bucket: "bkt" },
      tags: { [RESTORED_FROM_TAG]: archived.arn },
    });
    expect((approveRestore(facts({ kmsKeyId: "k" })) as CopyWrite).kmsKeyId).toBe("k");
  });
  it.each([
    { name: "the name exists", o: { nameTaken: true }, msg: "project p1 already has a version named v1-back; choose another with --name" },
    { name: "an invalid name", o: { name: "a b" }, msg: '"a b" is not a valid version name' },
    { name: "a name over 255", o: { name: "x".repeat(256) }, msg: "is not a valid version name" },
    { name: "an account the policy does not allow", o: { accountAllowed: false }, msg: `account ${ACCOUNT} is not in the operator policy's allowedAccounts` },
    { name: "an adapter", o: { version: { ...archived, feature: "CONTENT_MODERATION" } }, msg: "a CONTENT_MODERATION version cannot be copied" },
    { name: "a failed copy", o: { version: { ...archived, status: "COPYING_FAILED" } }, msg: "p1--v1 is COPYING_FAILED; only a trained" },
    { name: "still copying", o: { version: { ...archived, status: "COPYING_IN_PROGRESS" } }, msg: "is COPYING_IN_PROGRESS" },
    {
      name: "destination in another account",
      o: { destinationProjectArn: "arn:aws:rekognition:us-east-1:999999999999:project/p1/2" },
      msg: "the destination project is in account 999999999999",
    },
    {
      name: "destination in another region",
      o: { destinationProjectArn: `arn:aws:rekognition:eu-west-1:${ACCOUNT}:project/p1/2` },
      msg: "the destination project is in account 123456789012, eu-west-1",
    },
    { name: "source not a project ARN", o: { sourceProjectArn: "nope" }, msg: "the archived version's project ARN is not a Rekognition project ARN" },
    { name: "the version in another account", o: { version: { ...archived, account: "999999999999" } }, msg: `${archived.arn} is not in account ${ACCOUNT}` },
    { name: "the version in another region", o: { version: { ...archived, region: "eu-west-1" } }, msg: `is not in account ${ACCOUNT}, us-east-1` },
  ])("refused: $name", ({ o, msg }) => {
    const d = approveRestore(facts(o as Partial<RestoreFacts>)) as Denial;
    expect(d.denied).toBe(true);
    expect(d.reasons.map((r) => r.message).join("\n")).toContain(msg);
    expect(d.reasons.every((r) => r.rule === "notPlanned")).toBe(true);
  });
  it.each(["COPYING_COMPLETED", "TRAINING_COMPLETED", "STOPPED", "RUNNING", "STARTING", "STOPPING", "FAILED"])("restorable status %s", (status) => {
    expect("denied" in approveRestore(facts({ version: { ...archived, status } }))).toBe(false);
  });
});

describe("layers: a manifest layer may turn archiving on, never off", () => {
  const pos = { file: "m/layer.yaml", line: 3, col: 3 };
  const scoped = (archive: ArchivePolicy): ScopedPolicy => ({
    name: "team",
    pos,
    projects: ["p1"],
    projectPos: [pos],
    spec: { archive },
    fieldPos: { archive: { ...pos, line: 8 } },
  });
  const layerArchive = { ...ARCHIVE, origin: "layer" };
  it("on where the operator has none", () => {
    const eff = effectivePolicy({ operator: policy(), scoped: [scoped(layerArchive)] }, "p1");
    expect(eff.archive).toEqual(layerArchive);
    expect(eff.origin.archive).toBe('manifest policy "team" (m/layer.yaml)');
    expect(checkLayers({ operator: policy(), scoped: [scoped(layerArchive)] }, new Set(["p1"]))).toEqual([]);
    expect(effectivePolicy({ operator: policy(), scoped: [scoped(layerArchive)] }, "p2").archive).toBeUndefined();
  });
  it("required made true on the operator's optional archiving (same destination)", () => {
    const op = withArchive({ required: false });
    const eff = effectivePolicy({ operator: op, scoped: [scoped(layerArchive)] }, "p1");
    expect(eff.archive).toEqual({ ...ARCHIVE, required: true });
    expect(checkLayers({ operator: op, scoped: [scoped(layerArchive)] }, new Set(["p1"]))).toEqual([]);
  });
  it("required: false under the operator's required: a loosening at the field", () => {
    const op = withArchive();
    const s = scoped({ ...layerArchive, required: false });
    expect(effectivePolicy({ operator: op, scoped: [s] }, "p1").archive).toEqual(op.archive);
    const issues = checkLayers({ operator: op, scoped: [s] }, new Set(["p1"]));
    expect(issues.map((i) => [i.line, i.path])).toEqual([[8, "spec.archive"]]);
    expect(issues[0]!.message).toContain("archive.required: false where the operator has true");
  });
  it("another destination under the operator's: refused, and the operator's stays in force", () => {
    const op = withArchive();
    const s = scoped({ ...layerArchive, outputConfig: { s3Bucket: "other" } });
    expect(effectivePolicy({ operator: op, scoped: [s] }, "p1").archive).toEqual(op.archive);
    const issues = checkLayers({ operator: op, scoped: [s] }, new Set(["p1"]));
    expect(issues.map((i) => i.path)).toEqual(["spec.archive"]);
    expect(issues[0]!.message).toContain('where the operator archives to "vault" (bucket bkt)');
  });
  it("two layers archiving one project elsewhere: an error at the second", () => {
    const a = scoped(layerArchive);
    const b = { ...scoped({ ...layerArchive, project: "vault2" }), name: "other", fieldPos: { archive: { ...pos, file: "m/b.yaml", line: 9 } } };
    const issues = checkLayers({ operator: policy(), scoped: [a, b] }, new Set(["p1"]));
    expect(issues.map((i) => [i.file, i.line, i.path])).toEqual([["m/b.yaml", 9, "spec.archive"]]);
    expect(checkLayers({ operator: policy(), scoped: [a, { ...a, name: "same" }] }, new Set(["p1"]))).toEqual([]);
  });
  it("sameDestination compares project, bucket, prefix and key", () => {
    expect(sameDestination(ARCHIVE, { ...ARCHIVE, required: false, origin: "x" })).toBe(true);
    expect(sameDestination(ARCHIVE, { ...ARCHIVE, project: "v2" })).toBe(false);
    expect(sameDestination(ARCHIVE, { ...ARCHIVE, outputConfig: { s3Bucket: "b2", s3KeyPrefix: "rekon/" } })).toBe(false);
    expect(sameDestination(ARCHIVE, { ...ARCHIVE, outputConfig: { s3Bucket: "bkt" } })).toBe(false);
    expect(sameDestination({ ...ARCHIVE, outputConfig: { s3Bucket: "bkt", s3KeyPrefix: "" } }, { ...ARCHIVE, outputConfig: { s3Bucket: "bkt" } })).toBe(true);
    expect(sameDestination(ARCHIVE, { ...ARCHIVE, kmsKeyId: "k" })).toBe(false);
  });
});

describe("sendCopy: one CopyProjectVersion per approval, with the approval's credentials", () => {
  function recorder(account = ACCOUNT) {
    const sent: { command: string; input: Record<string, unknown> }[] = [];
    const client = {
      account,
      regionName: "us-east-1",
      sendWrite: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
        sent.push({ command: command.constructor.name, input: command.input });
        return { kind: "ok", output: {}, attempts: 1 };
      },
    };
    return { sent, deps: { clientFor: () => client as never } };
  }
  it("sends exactly the approved copy, then refuses the spent approval", async () => {
    const w = world(withArchive({ kmsKeyId: "alias/k" }));
    const a = w.gate.approveArchive(w.auth, w.old, w.look(), VAULT_ARN, "p1--old", now) as Approved<CopyWrite>;
    const r = recorder();
    await sendCopy(a, r.deps);
    expect(r.sent).toEqual([
      {
        command: "CopyProjectVersionCommand",
        input: {
          SourceProjectArn: `arn:aws:rekognition:us-east-1:${ACCOUNT}:project/p1/1700000000000`,
          SourceProjectVersionArn: w.src.arn,
          DestinationProjectArn: VAULT_ARN,
          VersionName: "p1--old",
          OutputConfig: { S3Bucket: "bkt", S3KeyPrefix: "rekon/" },
          KmsKeyId: "alias/k",
          Tags: { [ARCHIVED_FROM_TAG]: w.src.arn, [ARCHIVED_AT_TAG]: formatMark(now) },
        },
      },
    ]);
    expect(() => sendCopy(a, r.deps)).toThrow(GateError);
    expect(r.sent).toHaveLength(1);
  });
  it("no prefix or key: none sent; a client for another account: refused before sending", async () => {
    const w = world(withArchive({ outputConfig: { s3Bucket: "bkt" } }));
    const a = w.gate.approveArchive(w.auth, w.old, w.look(), VAULT_ARN, "p1--old", now) as Approved<CopyWrite>;
    const other = recorder("999999999999");
    expect(() => sendCopy(a, other.deps)).toThrow(/client is for account 999999999999/);
    expect(other.sent).toEqual([]);
    const b = w.gate.approveArchive(w.auth, w.old, w.look(), VAULT_ARN, "p1--old", now) as Approved<CopyWrite>;
    const r = recorder();
    await sendCopy(b, r.deps);
    expect(r.sent[0]!.input.OutputConfig).toStrictEqual({ S3Bucket: "bkt" });
    expect("KmsKeyId" in r.sent[0]!.input).toBe(false);
  });
});
