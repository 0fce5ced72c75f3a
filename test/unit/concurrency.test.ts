// The bound on reads in flight (aws/concurrency.ts): never more than its size running, the slot handed
// straight to the next task, lower priority numbers first, and a failed task frees its slot.
import { describe, expect, it } from "vitest";
import { Bound, boundPerKey } from "../../reconciler/aws/concurrency.js";

/** A task the test finishes by hand, recording when it started. */
function gate(log: string[], name: string) {
  let finish!: (ok: boolean) => void;
  const done = new Promise<void>((resolve, reject) => (finish = (ok) => (ok ? resolve() : reject(new Error(`${name} failed`)))));
  return { task: () => (log.push(name), done), finish };
}
const settle = () => new Promise<void>((r) => setImmediate(r));

describe("Bound", () => {
  it("runs at most `size` tasks; a waiting task starts when one finishes, first by priority, then in order", async () => {
    const b = new Bound(2);
    const started: string[] = [];
    const t = Object.fromEntries(["a", "b", "late1", "late2", "early"].map((n) => [n, gate(started, n)]));
    const runs = [b.run(t.a!.task), b.run(t.b!.task), b.run(t.late1!.task, 1), b.run(t.late2!.task, 1), b.run(t.early!.task, 0)];
    const outcomes = Promise.allSettled(runs);
    await settle();
    expect(started).toEqual(["a", "b"]);
    expect(b.inFlight).toBe(2);
    t.a!.finish(true);
    await settle();
    expect(started).toEqual(["a", "b", "early"]);
    // A failed task frees its slot like any other.
    t.b!.finish(false);
    await settle();
    expect(started).toEqual(["a", "b", "early", "late1"]);
    expect(b.inFlight).toBe(2);
    t.early!.finish(true);
    t.late1!.finish(true);
    await settle();
    expect(started).toEqual(["a", "b", "early", "late1", "late2"]);
    t.late2!.finish(true);
    expect((await outcomes).map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled", "fulfilled"]);
    expect(b.inFlight).toBe(0);
  });

  it("refuses a size that is not a whole number >= 1", () => {
    for (const size of [0, -1, 1.5, Number.NaN]) expect(() => new Bound(size)).toThrow(RangeError);
  });

  it("boundPerKey: one bound per key, the same one each time", () => {
    const per = boundPerKey(3);
    expect(per("a|us-east-1")).toBe(per("a|us-east-1"));
    expect(per("a|us-east-1")).not.toBe(per("b|us-east-1"));
    expect(per("a|us-east-1").size).toBe(3);
  });
});
