// The grace period: a deletable version is first marked (rekon.dev/pending-delete-since), and deleted only
// once the mark is gracePeriod old. A mark that is not a strict RFC 3339 UTC time rekon could have written —
// or, under tag signing, that does not verify — counts as none: apply marks it again and the period starts
// now. The hold also marks versions for approval and notice (needsMark), whose waits count from the mark.
import { formatDuration } from "../../duration.js";
import { MARK_TAG, needsMark, parseMark } from "../../policy/guards.js";
import type { Reason } from "../../types.js";
import { layerOf, type Hold } from "../facts.js";
import { stateTag, troubleReason } from "./tags.js";

export const grace: Hold = {
  rule: "gracePeriod",
  field: "gracePeriod",
  enabled: (policy) => policy.gracePeriodMs > 0,
  run(f, st) {
    const { policy, v, now } = f;
    const pass = (since?: number) =>
      policy.gracePeriodMs > 0 ? `marked ${since !== undefined ? new Date(since).toISOString() : "?"}, ${policy.gracePeriod} ago or more` : "no grace period";
    if (!needsMark(policy)) return { reasons: [], pass: pass() };
    const reasons: Reason[] = [];
    const mark = stateTag(f, MARK_TAG);
    const since = parseMark(mark.time, now);
    if (since !== undefined) st.since = since;
    if (mark.trouble) reasons.push(troubleReason(f, mark.trouble, "mark", MARK_TAG, "apply writes a signed mark and the grace period starts again"));
    if (since === undefined) {
      st.mark = "add";
      const hasMark = v.tags !== undefined && Object.hasOwn(v.tags, MARK_TAG);
      const bad =
        hasMark && !mark.trouble ? `its mark ${JSON.stringify(v.tags![MARK_TAG])} is not an RFC 3339 UTC time rekon wrote, so it counts as none; ` : "";
      if (policy.gracePeriodMs > 0) {
        const after = policy.requireNotice
          ? `deletable ${policy.gracePeriod} after its notice reaches a channel (requireNotice)`
          : `deletable after ${(st.deletableAt = new Date(now + policy.gracePeriodMs).toISOString())}`;
        reasons.push({
          rule: "gracePeriod",
          message: `${bad}apply marks it pending deletion (${MARK_TAG}); ${after} (gracePeriod ${policy.gracePeriod})`,
          ...layerOf(policy, "gracePeriod"),
        });
      } else if (bad && policy.requireApproval)
        reasons.push({ rule: "approvalRequired", message: `${bad}apply marks it again`, ...layerOf(policy, "requireApproval") });
    } else if (now - since < policy.gracePeriodMs) {
      st.deletableAt = new Date(since + policy.gracePeriodMs).toISOString();
      const left = formatDuration(since + policy.gracePeriodMs - now);
      reasons.push({
        rule: "gracePeriod",
        message:
          `marked pending deletion at ${new Date(since).toISOString()}; deletable after ${st.deletableAt} (gracePeriod ${policy.gracePeriod}, ${left} ` +
          `to go)`,
        ...layerOf(policy, "gracePeriod"),
      });
    }
    return { reasons, pass: pass(since) };
  },
};
