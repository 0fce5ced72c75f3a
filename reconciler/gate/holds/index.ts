// The holds, in the order they decide: each a small named function in its own file (see ../facts.ts Hold).
// A new hold is one file here, one entry below, and one table of tests.
import type { Hold } from "../facts.js";
import { approval } from "./approval.js";
import { grace } from "./grace.js";
import { notice } from "./notice.js";
import { reminder } from "./reminder.js";
import { suspension } from "./suspension.js";
import { window } from "./window.js";

/** Grace first (it reads the mark the others count from), suspension last (it withdraws what the others would write). */
export const HOLDS: readonly Hold[] = [grace, notice, reminder, approval, window, suspension];

export { suspension, suspensionReason } from "./suspension.js";
