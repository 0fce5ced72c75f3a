// The controller links its process-long signals (shutdown, the lease's term) to each cycle through
// follow(): every AWS call combines its signal with the cycle's (AbortSignal.any), and Node 20 keeps each
// combination referenced from its sources while they live, so a direct link grows them by one entry per
// call for the life of the process. follow() must pass the abort on, and leave nothing behind on dispose.
import { getEventListeners, setMaxListeners } from "node:events";
import { describe, expect, it } from "vitest";
import { follow } from "../../reconciler/controller/run.js";

describe("follow", () => {
  it("aborts with the source's reason while linked", () => {
    const source = new AbortController();
    const f = follow(source.signal);
    expect(f.signal.aborted).toBe(false);
    source.abort(new Error("shutdown"));
    expect(f.signal.aborted).toBe(true);
    expect((f.signal.reason as Error).message).toBe("shutdown");
  });

  it("an already aborted source gives an aborted signal", () => {
    const source = new AbortController();
    source.abort(new Error("gone"));
    expect(follow(source.signal).signal.aborted).toBe(true);
  });

  it("after dispose, the source holds no listener and its abort no longer reaches the copy", () => {
    const source = new AbortController();
    setMaxListeners(200, source.signal); // 100 live copies on purpose: not a leak warning
    const copies = Array.from({ length: 100 }, () => follow(source.signal));
    expect(getEventListeners(source.signal, "abort")).toHaveLength(100);
    for (const c of copies) c.dispose();
    expect(getEventListeners(source.signal, "abort")).toHaveLength(0);
    source.abort(new Error("late"));
    expect(copies.every((c) => !c.signal.aborted)).toBe(true);
  });
});
