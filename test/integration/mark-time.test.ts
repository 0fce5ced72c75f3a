// A grace-period mark records when it was written, not when the plan was made: an apply that sat at its
// prompt for two days (or a saved plan applied later) must not start the grace period two days early.
import { afterEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import { applyPass } from "../../reconciler/reconcile.js";
import { MARK_TAG } from "../../reconciler/policy/guards.js";
import { desired, policy, set } from "../helpers/builders.js";
import { emuPass, silent } from "../helpers/pass.js";

let emu: Emulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

describe("grace-period marks are dated when written", () => {
  it("planned at T, written at T + 2 days: the mark says T + 2 days, and so does the result", async () => {
    emu = await startEmulator({ state: { projects: [{ name: "p", versions: [{ name: "keep", status: "STOPPED", age: "1d" }, { name: "old", status: "STOPPED", age: "90d" }] }] } });
    const planned = new Date();
    const pass = await emuPass(emu, desired(set("p", ["keep"])), policy({ gracePeriod: "72h", gracePeriodMs: 72 * 3_600_000, keepLatest: 0 }), { now: () => planned });
    try {
      const mark = pass.plan.actions.find((a) => a.versionName === "old")!;
      expect(mark).toMatchObject({ action: "blocked", mark: "add" });
      const written = planned.getTime() + 2 * 24 * 3_600_000;
      const results = await applyPass(pass, silent, { now: () => written });
      const r = results.find((x) => x.versionName === "old")!;
      expect(r).toMatchObject({ operation: "mark", result: "accepted", markedAt: new Date(Math.floor(written / 1000) * 1000).toISOString().replace(".000Z", "Z") });
      const tags = emu.snapshot().projects[0]!.versions!.find((v) => v.name === "old")!.tags!;
      expect(tags[MARK_TAG]).toBe(r.markedAt);
    } finally {
      pass.close();
    }
  });
});
