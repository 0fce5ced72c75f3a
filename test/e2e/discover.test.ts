// rekon discover through the binary against the emulator: a read-only inventory across regions and an
// assumed role, and starter manifests that make plan (under any policy) propose no write at all.
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator, type EmulatorStateFile } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { runCli } from "../helpers/run-cli.js";
import { tmpTree } from "../helpers/tmp.js";

const ACCOUNT = "123456789012";
const OTHER = "210987654321";
const ROLE = `arn:aws:iam::${OTHER}:role/rekon-read`;

let emu: Emulator | undefined;
let tree: ReturnType<typeof tmpTree> | undefined;
afterEach(async () => {
  await emu?.close();
  tree?.cleanup();
  emu = undefined;
  tree = undefined;
});

// Adapters (with a DEPRECATED version), a RUNNING model at 2 IU, a DELETING version, a project in a second
// region, one in another account reached through a role, a project name that is not a valid metadata.name,
// and the same project name in two regions.
const STATE: EmulatorStateFile = {
  account: ACCOUNT,
  projects: [
    {
      name: "shelf-scanner",
      versions: [
        { name: "v1", status: "STOPPED", age: "90d" },
        { name: "v2", status: "RUNNING", age: "30d", minInferenceUnits: 2 },
        { name: "v3", status: "DELETING", age: "20d" },
        { name: "1.0", status: "TRAINING_FAILED", age: "10d" },
      ],
    },
    {
      name: "Moderation_Adapter",
      feature: "CONTENT_MODERATION",
      versions: [
        { name: "a1", status: "DEPRECATED", age: "100d" },
        { name: "a2", status: "TRAINING_COMPLETED", age: "5d" },
      ],
    },
    { name: "shelf-scanner", region: "eu-west-1", versions: [{ name: "eu1", status: "STOPPED", age: "50d" }] },
    {
      name: "fraud",
      account: OTHER,
      versions: [
        { name: "f1", status: "STOPPED", age: "60d" },
        { name: "f2", status: "STOPPED", age: "40d" },
      ],
    },
  ],
};

const READ_ONLY = new Set(["GetCallerIdentity", "AssumeRole", "DescribeProjects", "DescribeProjectVersions", "ListTagsForResource"]);
const ARGS = ["--region", "us-east-1", "--region", "eu-west-1", "--role-arn", ROLE];

async function world(files: Record<string, string> = {}) {
  emu = await startEmulator({ state: STATE });
  tree = tmpTree({ "keep.txt": "", ...files });
  return { env: emulatorEnv(emu.url), dir: tree.path("m") };
}

describe("rekon discover", () => {
  it("lists every version in two regions and an assumed role's account, with units and cost; only reads are called", { timeout: 60_000 }, async () => {
    const w = await world({
      "policy.yaml":
        "apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata:\n  name: p\nspec:\n  inference:\n    unitPricePerHour: 4.5\n    currency: EUR\n",
    });
    const r = await runCli(["discover", ...ARGS, "--policy", tree!.path("policy.yaml"), "--output", "json"], { env: w.env });
    expect(r.stderr).not.toContain("error");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    const seen = out.versions.map((v: { account: string; region: string; project: string; version: string; status: string; feature: string }) =>
      [v.account, v.region, v.project, v.version, v.status, v.feature].join(" "),
    );
    expect(seen).toEqual([
      `${ACCOUNT} eu-west-1 shelf-scanner eu1 STOPPED CUSTOM_LABELS`,
      `${ACCOUNT} us-east-1 Moderation_Adapter a2 TRAINING_COMPLETED CONTENT_MODERATION`,
      `${ACCOUNT} us-east-1 Moderation_Adapter a1 DEPRECATED CONTENT_MODERATION`,
      `${ACCOUNT} us-east-1 shelf-scanner 1.0 TRAINING_FAILED CUSTOM_LABELS`,
      `${ACCOUNT} us-east-1 shelf-scanner v3 DELETING CUSTOM_LABELS`,
      `${ACCOUNT} us-east-1 shelf-scanner v2 RUNNING CUSTOM_LABELS`,
      `${ACCOUNT} us-east-1 shelf-scanner v1 STOPPED CUSTOM_LABELS`,
      `${OTHER} us-east-1 fraud f2 STOPPED CUSTOM_LABELS`,
      `${OTHER} us-east-1 fraud f1 STOPPED CUSTOM_LABELS`,
    ]);
    const v2 = out.versions.find((v: { version: string }) => v.version === "v2");
    expect(v2).toMatchObject({ inferenceUnits: { min: 2 }, costPerHour: 9, currency: "EUR", source: "ambient" });
    expect(out.versions.find((v: { version: string }) => v.version === "f1")).toMatchObject({ source: ROLE });
    expect(out.versions.filter((v: { costPerHour?: number }) => v.costPerHour !== undefined)).toHaveLength(1);
    const ops = new Set(emu!.calls().map((c) => c.operation));
    expect([...ops].filter((o) => !READ_ONLY.has(o))).toEqual([]);
    expect(ops).toContain("AssumeRole");
    expect(emu!.calls().some((c) => c.operation === "DescribeProjects" && c.region === "eu-west-1")).toBe(true);

    const t = await runCli(["discover", ...ARGS], { env: w.env });
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/shelf-scanner\s+custom-labels\s+v2\s+RUNNING\s+30d\s+2 IU/);
    expect(t.stdout).toContain("9 version(s) in 4 project(s); 2 IU running");
  });

  it("with --manifests, says which set owns each version, and 'unmanaged' for the rest", async () => {
    const set = `apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata:\n  name: fraud-set\nspec:\n  project: fraud\n  region: us-east-1\n  roleArn: ${ROLE}\n  versions:\n    - name: f2\n`;
    const w = await world({ "existing/fraud.yaml": set });
    const r = await runCli(["discover", ...ARGS, "--manifests", tree!.path("existing"), "--output", "json"], { env: w.env });
    expect(r.code).toBe(0);
    const owners = Object.fromEntries(
      JSON.parse(r.stdout).versions.map((v: { project: string; region: string; version: string; owner: string }) => [
        `${v.region}/${v.project}/${v.version}`,
        v.owner,
      ]),
    );
    expect(owners["us-east-1/fraud/f1"]).toBe("fraud-set");
    expect(owners["us-east-1/fraud/f2"]).toBe("fraud-set");
    expect(owners["us-east-1/shelf-scanner/v1"]).toBe("unmanaged");
    expect(owners["eu-west-1/shelf-scanner/eu1"]).toBe("unmanaged");
  });

  it("--write-manifests: valid manifests, and plan with them under a lax and a strict policy proposes no write at all", { timeout: 120_000 }, async () => {
    const lax =
      `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata:\n  name: lax\nspec:\n  allowedAccounts: ["${ACCOUNT}", "${OTHER}"]\n  minAge: 1s\n  keepLatest: 0\n` +
      `  maxDeletesPerRun: 100\n  allowEmpty: true\n  stopRunning: true\n`;
    const strict = `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata:\n  name: strict\nspec:\n  allowedAccounts: ["${ACCOUNT}", "${OTHER}"]\n  gracePeriod: 72h\n  requireApproval: true\n`;
    const w = await world({ "lax.yaml": lax, "strict.yaml": strict });
    const r = await runCli(["discover", ...ARGS, "--write-manifests", w.dir], { env: w.env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(readdirSync(w.dir).sort()).toEqual(["fraud.yaml", "moderation-adapter.yaml", "shelf-scanner-eu-west-1.yaml", "shelf-scanner-us-east-1.yaml"]);
    expect(readFileSync(`${w.dir}/shelf-scanner-us-east-1.yaml`, "utf8")).toMatch(
      /metadata:\n {2}name: "shelf-scanner-us-east-1"\nspec:\n {2}project: "shelf-scanner"\n {2}versions:\n {4}- name: "1.0" # TRAINING_FAILED, created \S+\n {4}- name: "v2" # RUNNING, 2 IU, created \S+\n {4}- name: "v1" # STOPPED, created \S+\n$/,
    );
    expect(readFileSync(`${w.dir}/shelf-scanner-eu-west-1.yaml`, "utf8")).toContain(`  region: "eu-west-1"\n`);
    expect(readFileSync(`${w.dir}/fraud.yaml`, "utf8")).toContain(`  roleArn: "${ROLE}"\n  versions:\n    - name: "f2"`);
    expect(readFileSync(`${w.dir}/moderation-adapter.yaml`, "utf8")).toContain(`  name: "moderation-adapter"\nspec:\n  project: "Moderation_Adapter"\n`);
    expect(existsSync(`${w.dir}/shelf-scanner-us-east-1.yaml`) && !readFileSync(`${w.dir}/shelf-scanner-us-east-1.yaml`, "utf8").includes('"v3"')).toBe(true);
    const writesSoFar = emu!.calls().filter((c) => !READ_ONLY.has(c.operation));
    expect(writesSoFar).toEqual([]);

    const v = await runCli(["validate", "--manifests", w.dir], { env: { AWS_REGION: "us-east-1" } });
    expect(v.stderr).toBe("");
    expect(v.code).toBe(0);
    for (const p of [undefined, "lax.yaml", "strict.yaml"]) {
      const plan = await runCli(["plan", "--manifests", w.dir, ...(p ? ["--policy", tree!.path(p)] : []), "--output", "json"], { env: w.env });
      expect(plan.code, `${p}: ${plan.stderr}`).toBe(0);
      const out = JSON.parse(plan.stdout);
      expect(out.summary, p).toMatchObject({ delete: 0, start: 0, stop: 0, missing: 0 });
      expect(
        out.actions.filter((a: { mark?: string }) => a.mark),
        p,
      ).toEqual([]);
      expect(out.projects.map((x: { status: string }) => x.status)).toEqual(["ok", "ok", "ok", "ok"]);
    }
    // And apply with the laxest policy writes nothing either.
    const a = await runCli(["apply", "--manifests", w.dir, "--policy", tree!.path("lax.yaml"), "--auto-approve"], { env: w.env });
    expect(a.code).toBe(0);
    expect(emu!.calls().filter((c) => !READ_ONLY.has(c.operation))).toEqual([]);
  });

  it("a failed read: exit 1, the failure said, and no manifest written", async () => {
    const w = await world();
    emu!.setFaults({ rules: [{ operation: "DescribeProjectVersions", code: "AccessDeniedException", arn: "project/fraud/" }] });
    const r = await runCli(["discover", ...ARGS, "--write-manifests", w.dir], { env: w.env });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAILED READ 210987654321 us-east-1 fraud: DescribeProjectVersions failed: .*AccessDenied|not authorized/);
    expect(r.stderr).toContain("1 read(s) failed; the inventory above is incomplete, so no manifest was written");
    expect(existsSync(w.dir)).toBe(false);
  });

  it("a malformed answer (DescribeProjects without its list) is a failed read too", async () => {
    const w = await world();
    emu!.setFaults({
      only: { regions: ["eu-west-1"], accounts: [ACCOUNT] },
      rules: [{ operation: "DescribeProjects", answer: { omit: ["ProjectDescriptions"] } }],
    });
    const r = await runCli(["discover", ...ARGS, "--write-manifests", w.dir, "--output", "json"], { env: w.env });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.failures).toEqual([
      expect.objectContaining({ account: ACCOUNT, region: "eu-west-1", error: expect.stringContaining("DescribeProjects failed") }),
    ]);
    expect(out.written).toEqual([]);
    expect(existsSync(w.dir)).toBe(false);
  });

  it("refuses to overwrite an existing file: exit 1, nothing written, the file unchanged", async () => {
    const w = await world();
    mkdirSync(w.dir);
    writeFileSync(`${w.dir}/fraud.yaml`, "# mine\n");
    const r = await runCli(["discover", ...ARGS, "--write-manifests", w.dir], { env: w.env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`1 file(s) already exist and are never overwritten: ${w.dir}/fraud.yaml; nothing was written`);
    expect(readdirSync(w.dir)).toEqual(["fraud.yaml"]);
    expect(readFileSync(`${w.dir}/fraud.yaml`, "utf8")).toBe("# mine\n");
  });
});
