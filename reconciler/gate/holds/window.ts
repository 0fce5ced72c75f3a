// Deletion windows: outside an allow window, or inside a deny window, a deletable version waits (marks may
// still be written). The verdict says when deletion is next allowed, so the controller can start a cycle then.
import { windowMessage, windowVerdict } from "../../policy/windows.js";
import type { Hold } from "../facts.js";

export const window: Hold = {
  rule: "window",
  field: "windows",
  enabled: (policy) => policy.windows.length > 0,
  run(f, st) {
    const { policy, now } = f;
    const pass = policy.windows.length ? "every deletion window allows deletion now" : "no deletion windows";
    if (policy.windows.length === 0) return { reasons: [], pass };
    const w = windowVerdict(policy.windows, now);
    if (w.allowed) return { reasons: [], pass };
    if (w.nextAllowed !== undefined) st.windowOpensAt = w.nextAllowed;
    return { reasons: [{ rule: "window", message: windowMessage(w, now), layer: w.blockedBy!.origin }], pass };
  },
};
