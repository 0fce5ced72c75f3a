// remindBefore: once per mark, when the version is that close to becoming deletable (with requireNotice,
// counted from the notice: no reminder of a deletion whose notice has not gone out). Never keeps a version.
import { REMINDER_TAG, needsMark, noticeTime } from "../../policy/guards.js";
import type { Hold } from "../facts.js";
import { stateTag } from "./tags.js";

export const reminder: Hold = {
  rule: "gracePeriod",
  run(f, st) {
    const { policy, now } = f;
    const since = st.since;
    if (!needsMark(policy) || policy.remindBeforeMs <= 0 || since === undefined || !policy.notifications.some((c) => c.events.includes("reminder")))
      return { reasons: [], pass: "", silent: true };
    const from = policy.requireNotice ? st.noticed : since;
    if (noticeTime(stateTag(f, REMINDER_TAG).time, since, now) !== undefined) st.reminder = "sent";
    else if (from !== undefined && now >= from + policy.gracePeriodMs - policy.remindBeforeMs && now < from + policy.gracePeriodMs) st.reminder = "due";
    return { reasons: [], pass: "", silent: true };
  },
};
