// The state file is how every other test and the demo describe an account, so a fixture mistake must be
// caught loudly, naming the field, instead of quietly seeding the wrong world.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_VERSIONS, demoState } from "../../reconciler/emulator/demo.js";
import { runEmulatorCommand } from "../../reconciler/emulator/main.js";
import { startEmulator } from "../../reconciler/emulator/server.js";
import { EmulatorStateError, parseAge } from "../../reconciler/emulator/state.js";
import { loadStateFile, validateStateFile } from "../../reconciler/emulator/statecheck.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "rekon-emulator-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const errorsOf = (raw: unknown): string[] => {
  const r = validateStateFile(raw);
  return "errors" in r ? r.errors : [];
};

describe("validateStateFile", () => {
  const cases: { name: string; raw: unknown; expected: string }[] = [
    {
      name: "misspelt status, named by path",
      raw: { projects: [{ name: "a" }, { name: "b", versions: [{ name: "v1", status: "RUNNNING" }] }] },
      expected: 'projects[1].versions[0].status: unknown status "RUNNNING"',
    },
    { name: "invalid project name", raw: { projects: [{ name: "has space" }] }, expected: "projects[0].name:" },
    {
      name: "duplicate version in a project",
      raw: { projects: [{ name: "a", versions: [{ name: "v", status: "STOPPED" }, { name: "v", status: "FAILED" }] }] },
      expected: 'projects[0].versions[1].name: duplicate version "v"',
    },
    {
      name: "duplicate project in a region",
      raw: { projects: [{ name: "a" }, { name: "a", region: "us-east-1" }] },
      expected: 'projects[1].name: duplicate project "a" in us-east-1',
    },
    { name: "bad age", raw: { projects: [{ name: "a", age: "3 weeks" }] }, expected: "projects[0].age:" },
    { name: "zoneless createdAt", raw: { projects: [{ name: "a", createdAt: "2025-01-01T00:00:00" }] }, expected: "projects[0].createdAt:" },
    {
      name: "running adapter",
      raw: { projects: [{ name: "a", feature: "CONTENT_MODERATION", versions: [{ name: "v", status: "RUNNING" }] }] },
      expected: "projects[0].versions[0].status: adapters (CONTENT_MODERATION) are never RUNNING",
    },
    {
      name: "dangling sourceVersion",
      raw: { projects: [{ name: "a", versions: [{ name: "v", status: "COPYING_COMPLETED", sourceVersion: "nope" }] }] },
      expected: 'projects[0].versions[0].sourceVersion: no version "nope"',
    },
    { name: "reserved tag key", raw: { projects: [{ name: "a", tags: { "aws:x": "1" } }] }, expected: 'projects[0].tags: tag key "aws:x"' },
    { name: "unknown field", raw: { projects: [{ name: "a", colour: "red" }] }, expected: "projects[0].colour: unknown field" },
    { name: "no projects", raw: {}, expected: "projects: required array" },
  ];
  it.each(cases)("$name", ({ raw, expected }) => {
    expect(errorsOf(raw).join("\n")).toContain(expected);
  });

  it("reports every problem at once", () => {
    expect(errorsOf({ projects: [{ name: "a b", status: "GONE", versions: [{ name: "v" }] }] })).toHaveLength(3);
  });

  it("accepts the demo inventory", () => {
    expect(errorsOf(demoState())).toEqual([]);
  });

  it("parses ages", () => {
    expect(parseAge("1d12h")).toBe(36 * 3_600_000);
    expect(parseAge("90s")).toBe(90_000);
    expect(parseAge("d")).toBeUndefined();
  });
});

describe("loadStateFile", () => {
  it("loads a JSON file and rejects a malformed one with the path in the error", async () => {
    const good = join(dir, "good.json");
    await writeFile(good, JSON.stringify({ projects: [{ name: "p", versions: [{ name: "v1", status: "STOPPED", age: "2d" }] }] }));
    expect((await loadStateFile(good)).projects[0]?.name).toBe("p");

    const bad = join(dir, "bad.json");
    await writeFile(bad, "{ not json");
    const err = await loadStateFile(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmulatorStateError);
    expect((err as Error).message).toContain(bad);
  });
});

describe("snapshot and demo", () => {
  it("resolves ages against the clock and round-trips through a snapshot with the same ARNs", async () => {
    const now = Date.parse("2026-11-28T12:00:00Z");
    const first = await startEmulator({ now: () => now });
    try {
      const snap = first.snapshot();
      const running = snap.projects[0]?.versions?.find((v) => v.status === "RUNNING");
      expect(running?.createdAt).toBe(new Date(now - 58 * 86_400_000).toISOString());
      // Reload the snapshot a year later: absolute times mean nothing moves.
      const second = await startEmulator({ state: snap, now: () => now + 365 * 86_400_000 });
      try {
        expect(second.snapshot()).toEqual(snap);
      } finally {
        await second.close();
      }
    } finally {
      await first.close();
    }
  });

  it("demo covers the statuses the demo manifests rely on", () => {
    const statuses = new Set(DEMO_VERSIONS.map((v) => v.status));
    for (const s of ["RUNNING", "STOPPED", "TRAINING_COMPLETED", "TRAINING_FAILED", "TRAINING_IN_PROGRESS", "FAILED", "DEPRECATED", "EXPIRED"]) {
      expect(statuses).toContain(s);
    }
    const versions = demoState().projects.flatMap((p) => p.versions ?? []);
    expect(versions).toHaveLength(DEMO_VERSIONS.length);
    // A copied model (its source in another account), running at 2 IU undeclared: what runtime: managed stops.
    expect(versions.find((v) => v.name === "v6")).toMatchObject({ status: "RUNNING", minInferenceUnits: 2, sourceVersionArn: expect.stringContaining(":210987654321:") });
  });

  it("runEmulatorCommand announces the URL as its first line", async () => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (c: Buffer) => (text += c.toString()));
    const emu = await runEmulatorCommand({}, out);
    try {
      expect(text).toBe(`listening on http://127.0.0.1:${emu.port}\n`);
      expect(emu.url).toBe(`http://127.0.0.1:${emu.port}`);
    } finally {
      await emu.close();
    }
  });
});
