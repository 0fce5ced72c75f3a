// How far V8 lets the controller's heap grow between full collections, when the user has not said.
//
// V8 sizes the heap by the machine, not by the process: after each full collection it lets the old
// generation grow to up to 4× what survived before it collects again (less only on a machine, or under a
// --max-old-space-size, of a few hundred MB). A controller cycle at 100,000 versions allocates about 1 GB,
// all of it garbage by the next cycle, and holds 70-100 MB while it plans; on a large machine V8 then
// let RSS reach 700 MB before collecting, and a container limit sized for the working set killed it.
//
// So `rekon run`, when no V8 heap flag was given (command line or NODE_OPTIONS), sets V8's growing factor
// to 1.5 (`--heap-growing-percent=50`): full collections come sooner, the heap stays near its working set,
// and there is no cap — a controller with more versions than expected still runs, at the cost of
// more frequent collections. This flag is read at every full collection, so setting it once the process
// has started takes effect from the next one (flags fixed when the heap is made, such as
// --max-old-space-size, cannot be changed this way). Any heap flag the user gives wins, untouched.
import { setFlagsFromString } from "node:v8";

/** Growing factor 1 + this / 100: what survived a full collection may grow by half before the next. */
export const HEAP_GROWING_PERCENT = 50;

/** V8 flags that size the heap or its growth: given any of them, rekon leaves V8 as told. */
const HEAP_FLAGS = ["max-old-space-size", "max-semi-space-size", "min-semi-space-size", "max-heap-size", "initial-heap-size", "heap-growing-percent"];

/** What the controller did about V8's heap sizing, for its start-up log line. */
export type HeapSizing = { growingPercent: number } | { userFlags: string[] };

/** The heap flags among these arguments (V8 accepts `_` for `-` in names, and `--no-…` forms). */
export function heapFlags(args: readonly string[]): string[] {
  return args.filter((a) => {
    const name = a
      .replace(/^--?(no-)?/, "")
      .split("=")[0]!
      .replace(/_/g, "-");
    return a.startsWith("-") && HEAP_FLAGS.includes(name);
  });
}

/**
 * Decide, and (unless the user gave a heap flag) set V8's growing factor. `execArgv` and `nodeOptions` are
 * the process's (node's own flags and NODE_OPTIONS); `set` is v8.setFlagsFromString (tests pass a spy).
 */
export function sizeHeap(execArgv: readonly string[], nodeOptions: string | undefined, set: (flags: string) => void = setFlagsFromString): HeapSizing {
  const given = heapFlags([...execArgv, ...(nodeOptions ?? "").split(/\s+/).filter((a) => a !== "")]);
  if (given.length > 0) return { userFlags: given };
  set(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return { growingPercent: HEAP_GROWING_PERCENT };
}
