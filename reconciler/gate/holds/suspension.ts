// suspend: while in force (the operator's, a manifest layer's for the project, or the set's own), nothing is
// deleted or marked. It holds every version, deletable or not; it never removes a mark a guard removes (a
// removal can only delay a deletion), and a version it holds gets no new mark, notice or reminder.
import type { Reason, Suspension } from "../../types.js";
import type { Hold, VersionFacts } from "../facts.js";

/** The suspension in force for the version's project at `now`, as a reason; undefined when none is. */
export function suspensionReason(f: Pick<VersionFacts, "index" | "view" | "now">): Reason | undefined {
  const { index, view, now } = f;
  const all = [
    index.policies.operator.suspend,
    ...index.policies.scoped.filter((p) => p.projects.includes(view.set.project)).map((p) => p.spec.suspend),
    view.set.suspend,
  ];
  // `!(now >= until)`, not `now < until`: a time that failed to parse (NaN) keeps the suspension in force.
  const s = all.find((x): x is Suspension => x !== undefined && (x.until === undefined || !(now >= x.until)));
  if (!s) return undefined;
  const until =
    s.until !== undefined ? ` (until ${Number.isFinite(s.until) ? new Date(s.until).toISOString() : "a time that does not parse: until further notice"})` : "";
  return { rule: "suspended", message: `suspended: ${s.reason}${until}; nothing is deleted or marked`, layer: s.origin };
}

export const suspension: Hold = {
  rule: "suspended",
  run(f, st) {
    const r = suspensionReason(f);
    if (!r) return { reasons: [], pass: "not suspended" };
    delete st.mark;
    delete st.notice;
    delete st.reminder;
    return { reasons: [r], pass: "not suspended" };
  },
};
