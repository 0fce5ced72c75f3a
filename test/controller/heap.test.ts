// `rekon run` sets V8's heap growing factor when the user gave no heap flag, and leaves V8 alone when they
// did (controller/heap.ts). The decision is tested as a function; the built binary is run both ways.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { heapFlags, HEAP_GROWING_PERCENT, sizeHeap } from "../../reconciler/controller/heap.js";
import { type Emulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { controllerFixture, controllerTeardown, startRun, type RunProcess } from "./helpers.js";

describe("sizeHeap", () => {
  const spy = () => {
    const calls: string[] = [];
    return { calls, set: (f: string) => void calls.push(f) };
  };

  it("no heap flag anywhere: sets --heap-growing-percent, whatever other flags there are", () => {
    const s = spy();
    expect(sizeHeap(["--enable-source-maps", "--trace-gc"], "--no-warnings", s.set)).toEqual({ growingPercent: HEAP_GROWING_PERCENT });
    expect(s.calls).toEqual([`--heap-growing-percent=${HEAP_GROWING_PERCENT}`]);
  });

  it("a heap flag in NODE_OPTIONS or on node's command line, in any spelling V8 accepts, is left as given", () => {
    for (const [argv, opts] of [
      [[], "--max-old-space-size=160 --max-semi-space-size=4"],
      [["--max_old_space_size=300"], undefined],
      [[], "  --heap-growing-percent=20  "],
      [["--max-semi-space-size", "8"], ""],
    ] as const) {
      const s = spy();
      const r = sizeHeap(argv, opts, s.set);
      expect(s.calls).toEqual([]);
      expect("userFlags" in r && r.userFlags.length).toBeGreaterThan(0);
    }
  });

  it("names are matched whole: a flag that only begins like one is not a heap flag", () => {
    expect(heapFlags(["--max-old-space-size-ish=1", "max-old-space-size=1", "--max-old-space-size=2"])).toEqual(["--max-old-space-size=2"]);
  });
});

describe("rekon run says what it did about the heap", () => {
  let emu: Emulator | undefined;
  let dir: string | undefined;
  let run: RunProcess | undefined;
  afterEach(async () => {
    await controllerTeardown(run, emu, dir);
    run = undefined;
  });

  const listening = async (nodeOptions?: string) => {
    ({ emu, dir } = await controllerFixture("heap"));
    const env = { ...emulatorEnv(emu.url), ...(nodeOptions !== undefined ? { NODE_OPTIONS: nodeOptions } : {}) };
    run = startRun(["--manifests", join(dir, "manifests"), "--policy", join(dir, "policy.yaml"), "--interval", "1h", "--listen", "127.0.0.1:0"], env);
    return run.waitFor((l) => l.msg.startsWith("rekon run: listening"), 30_000, "the listening line");
  };

  it("default flags: the growing factor is set", async () => {
    expect((await listening()).heap).toEqual({ growingPercent: HEAP_GROWING_PERCENT });
  });

  it("the Deployment's NODE_OPTIONS: left to them", async () => {
    expect((await listening("--max-old-space-size=160 --max-semi-space-size=4")).heap).toEqual({
      userFlags: ["--max-old-space-size=160", "--max-semi-space-size=4"],
    });
  });
});
