// rekon run --apply under spec.archive: the controller completes an archived deletion over two cycles. The
// first copies the version into the archive project and holds the source (archiving, a cycle that is ok);
// a later cycle, once the copy is COPYING_COMPLETED, deletes it. The audit records and metrics say so.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type Emulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { controllerFixture, controllerTeardown, cycleFinished, get, metric, startRun, type RunProcess } from "./helpers.js";

const ACCOUNT = "123456789012";
let emu: Emulator | undefined;
let dir: string | undefined;
let run: RunProcess | undefined;
afterEach(async () => {
  await controllerTeardown(run, emu, dir);
  run = emu = dir = undefined;
});

describe("rekon run --apply with spec.archive", () => {
  it("cycle 1 copies and holds the source (archiving); a later cycle deletes it once the copy is complete", async () => {
    ({ emu, dir } = await controllerFixture("archive", {
      manifests: false,
      policy: false,
      emulator: {
        state: {
          account: ACCOUNT,
          projects: [
            { name: "p", versions: [{ name: "keep", status: "STOPPED", age: "1d" }, { name: "old", status: "STOPPED", age: "30d" }] },
            { name: "model-archive", versions: [] },
          ],
        },
        copyDelayMs: 1500,
        deleteDelayMs: 50,
      },
    }));
    mkdirSync(join(dir, "manifests"));
    writeFileSync(
      join(dir, "manifests/p.yaml"),
      "apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata:\n  name: p\nspec:\n  project: p\n  region: us-east-1\n  versions:\n    - name: keep\n",
    );
    writeFileSync(
      join(dir, "policy.yaml"),
      `apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata:\n  name: ops\nspec:\n  allowedAccounts: ["${ACCOUNT}"]\n  minAge: 1h\n  keepLatest: 0\n` +
        "  archive:\n    project: model-archive\n    outputConfig: {s3Bucket: my-model-archive}\n",
    );
    run = startRun(
      ["--manifests", join(dir, "manifests"), "--policy", join(dir, "policy.yaml"), "--apply", "--interval", "1s", "--listen", "127.0.0.1:0"],
      emulatorEnv(emu.url),
    );
    const url = await run.url();
    const first = await run.waitFor(cycleFinished, 30_000, "the first cycle");
    expect(first).toMatchObject({ result: "ok" });
    expect(emu.calls().filter((c) => c.operation === "CopyProjectVersion" && c.outcome === "ok")).toHaveLength(1);
    expect(emu.calls().filter((c) => c.operation === "DeleteProjectVersion")).toEqual([]);
    const audit1 = run.lines.filter((l) => l.msg === "audit").map((l) => l.audit as Record<string, unknown>);
    expect(audit1).toEqual([expect.objectContaining({ operation: "delete", result: "archiving", versionName: "old" })]);

    // The cycle that sees the copy complete deletes the source, reusing the copy (never a second one).
    const deleted = await run.waitFor(
      (l) => l.msg === "audit" && (l.audit as { result?: string }).result === "accepted",
      30_000,
      "the deletion's audit record",
    );
    expect(deleted.audit).toMatchObject({ operation: "delete", versionName: "old", archivedAs: expect.stringContaining("project/model-archive/version/p--old/") });
    expect(emu.calls().filter((c) => c.operation === "CopyProjectVersion")).toHaveLength(1);
    expect(emu.calls().filter((c) => c.operation === "DeleteProjectVersion" && c.outcome === "ok")).toHaveLength(1);
    await run.waitFor((l) => cycleFinished(l) && l.time >= deleted.time, 30_000, "the cycle that deleted");
    const m = (await get(`${url}/metrics`)).body;
    const series = (result: string) => metric(m, `rekon_archive_copies_total{project="p",account="${ACCOUNT}",region="us-east-1",result="${result}"}`);
    expect(series("completed")).toBe(1);
    expect(series("inProgress")).toBeGreaterThanOrEqual(1);
    expect(series("failed")).toBe(0);
  });
});
