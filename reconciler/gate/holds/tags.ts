// rekon's own state tags (the mark, its notice, its reminder) as far as they may be believed: under the
// operator's tag signing a value must verify (policy/marks.ts); without it a value is its time, as before.
import { operatorLayer } from "../../policy/naming.js";
import { readStateTag, type TagTrouble } from "../../policy/marks.js";
import type { Reason } from "../../types.js";
import type { VersionFacts } from "../facts.js";

export function stateTag(f: VersionFacts, tagKey: string): { time?: string; trouble?: TagTrouble } {
  const r = readStateTag(f.index.signer, f.v.arn, tagKey, f.v.tags?.[tagKey]);
  if (!r) return {};
  return "trouble" in r ? { trouble: r.trouble } : { time: r.time };
}

/** The plan says why a state tag was not believed: a hold, until the version carries a tag rekon wrote itself. */
export function troubleReason(f: VersionFacts, trouble: TagTrouble, what: string, tagKey: string, then: string): Reason {
  const why =
    trouble === "unsigned"
      ? "carries no signature"
      : "has a signature that does not verify (written by someone else, for another version, or with a rotated key)";
  return {
    rule: trouble === "unsigned" ? "markUnsigned" : "markForged",
    message: `its ${what} ${JSON.stringify(f.v.tags?.[tagKey])} ${why}, so under tagSigning it counts as none; ${then}`,
    layer: operatorLayer(f.index.policies.operator.source),
  };
}
