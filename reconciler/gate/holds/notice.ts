// requireNotice: no notice, no deletion. A hold like the grace period (it never removes the mark), counted
// from when a channel accepted the `marked` notice of this very mark (rekon.dev/notice-delivered-at, at or
// after the mark; under tag signing, only a value that verifies).
import { formatDuration } from "../../duration.js";
import { NOTICE_TAG, needsMark, noticeTime } from "../../policy/guards.js";
import type { Reason } from "../../types.js";
import { layerOf, type Hold } from "../facts.js";
import { stateTag, troubleReason } from "./tags.js";

export const notice: Hold = {
  rule: "noticeNotDelivered",
  field: "requireNotice",
  enabled: (policy) => policy.requireNotice,
  run(f, st) {
    const { policy, v, now } = f;
    const pass = policy.requireNotice ? `its \`marked\` notice reached a channel ${policy.gracePeriod} ago or more (${NOTICE_TAG})` : "requireNotice off";
    if (!needsMark(policy)) return { reasons: [], pass };
    if (!policy.requireNotice) {
      if (policy.notifications.length > 0) st.notice = "notRequired";
      return { reasons: [], pass };
    }
    const reasons: Reason[] = [];
    const tag = stateTag(f, NOTICE_TAG);
    const since = st.since;
    const noticed = noticeTime(tag.time, since, now);
    if (tag.trouble && since !== undefined)
      reasons.push(troubleReason(f, tag.trouble, "notice tag", NOTICE_TAG, "apply sends the notice again and the grace period counts from its delivery"));
    if (noticed === undefined) {
      st.notice = "pending";
      delete st.deletableAt; // unknown until a channel accepts the notice
      const seen =
        since !== undefined && v.tags?.[NOTICE_TAG] !== undefined && !tag.trouble
          ? ` (${NOTICE_TAG}=${JSON.stringify(v.tags[NOTICE_TAG])} is not an RFC 3339 UTC time at or after the mark)`
          : "";
      const then = `apply sends it, records ${NOTICE_TAG} when a channel accepts it, and it is deletable ${policy.gracePeriod} after that`;
      reasons.push({
        rule: "noticeNotDelivered",
        message: `${since === undefined ? "once marked, its" : "its"} \`marked\` notice has not reached a channel yet${seen}; ${then}`,
        ...layerOf(policy, "requireNotice"),
      });
      return { reasons, pass };
    }
    st.noticed = noticed;
    st.notice = "delivered";
    if (now - noticed < policy.gracePeriodMs) {
      const at = noticed + policy.gracePeriodMs;
      if (st.deletableAt === undefined || Date.parse(st.deletableAt) < at) st.deletableAt = new Date(at).toISOString();
      const when = `deletable after ${new Date(at).toISOString()} (${formatDuration(at - now)} to go)`;
      reasons.push({
        rule: "noticeNotDelivered",
        message: `its \`marked\` notice reached a channel at ${new Date(noticed).toISOString()}, less than gracePeriod ${policy.gracePeriod} ago; ${when}`,
        ...layerOf(policy, "requireNotice"),
      });
    }
    return { reasons, pass };
  },
};
