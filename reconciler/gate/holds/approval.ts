// requireApproval: a person's approval (rekon.dev/deletion-approved, an RFC 3339 UTC time later than the
// mark) before a marked version goes. Written by a person, not by rekon: not signed (AWS's CloudTrail names
// who tagged).
import { APPROVAL_TAG, parseMark } from "../../policy/guards.js";
import type { Reason } from "../../types.js";
import { layerOf, type Hold } from "../facts.js";

export const approval: Hold = {
  rule: "approvalRequired",
  field: "requireApproval",
  enabled: (policy) => policy.requireApproval,
  run(f, st) {
    const { policy, v, now } = f;
    const pass = policy.requireApproval ? `approved after its mark (${APPROVAL_TAG})` : "requireApproval off";
    if (!policy.requireApproval) return { reasons: [], pass };
    const reasons: Reason[] = [];
    const since = st.since;
    const approved = parseMark(v.tags?.[APPROVAL_TAG], now);
    if (since === undefined)
      reasons.push({
        rule: "approvalRequired",
        message: `needs a person's approval: once apply has marked it, tag it ${APPROVAL_TAG}=<RFC 3339 UTC time after the mark>`,
        ...layerOf(policy, "requireApproval"),
      });
    else if (approved === undefined || approved <= since) {
      const seen =
        v.tags?.[APPROVAL_TAG] !== undefined
          ? ` (${APPROVAL_TAG}=${JSON.stringify(v.tags[APPROVAL_TAG])} is ${approved === undefined ? "not an RFC 3339 UTC time" : "not later than the mark"})`
          : "";
      reasons.push({
        rule: "approvalRequired",
        message: `needs a person's approval: tag ${APPROVAL_TAG}=<RFC 3339 UTC time after ${new Date(since).toISOString()}>${seen}`,
        ...layerOf(policy, "requireApproval"),
      });
    }
    return { reasons, pass };
  },
};
