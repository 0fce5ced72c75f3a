// Tamper-evident state in tags. rekon keeps its grace-period state in tags on each version (the mark, the
// notice, the reminder), because tags survive restarts and show in the console. But anyone who may call
// rekognition:TagResource on a version can write them: a principal with TagResource and no
// DeleteProjectVersion could backdate a mark and a notice and have rekon delete at once, no receiver ever
// told. With `spec.tagSigning` in the operator's policy, every such tag rekon writes carries an HMAC-SHA256
// over (version ARN, tag key, time); a value whose signature does not verify counts as no tag, so the
// grace period (and the notice) starts again from a mark rekon writes itself.
//
// Pure: the key is resolved at the edge (reconcile.ts) and handed in; nothing here reads env or files.
import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * A signed value: the RFC 3339 time, a space, `hmac1:`, and 43 base64url characters (256 bits). 70
 * characters whatever the names are — the ARN is signed, not stored, so the value fits AWS's 256-character
 * limit for any project and version name — and only characters a Rekognition tag value allows.
 */
const SIGNED = /^(\S+) hmac1:([A-Za-z0-9_-]{43})$/;

/** Why a state tag does not count under tag signing. */
export type TagTrouble = "unsigned" | "forged";

/** What a state tag says, read with or without a signer. */
export type TagReading = { time: string } | { trouble: TagTrouble; time?: string };

/** Signs and verifies rekon's state tags with the operator's key. */
export interface TagSigner {
  sign(versionArn: string, tagKey: string, time: string): string;
  read(versionArn: string, tagKey: string, value: string): TagReading;
}

/** The shortest key accepted: a guessable key signs nothing. */
export const MIN_KEY_BYTES = 32;

export function tagSigner(key: Uint8Array): TagSigner {
  if (key.length < MIN_KEY_BYTES) throw new Error(`the tag-signing key has ${key.length} bytes; at least ${MIN_KEY_BYTES} are needed`);
  const mac = (arn: string, tagKey: string, time: string) => createHmac("sha256", key).update(`rekon-tag-v1\n${arn}\n${tagKey}\n${time}`).digest();
  return {
    sign: (arn, tagKey, time) => `${time} hmac1:${mac(arn, tagKey, time).toString("base64url")}`,
    read(arn, tagKey, value) {
      const m = SIGNED.exec(value);
      if (!m) return { trouble: "unsigned" };
      const given = Buffer.from(m[2]!, "base64url");
      const want = mac(arn, tagKey, m[1]!);
      // A signature made with another key (a rotated one) or for another version, key or time: forged.
      if (given.length !== want.length || !timingSafeEqual(given, want)) return { trouble: "forged", time: m[1]! };
      return { time: m[1]! };
    },
  };
}

/** Without a signer, a tag's value is its time, as rekon wrote it before signing existed. */
export function readStateTag(signer: TagSigner | undefined, versionArn: string, tagKey: string, value: string | undefined): TagReading | undefined {
  if (value === undefined) return undefined;
  return signer ? signer.read(versionArn, tagKey, value) : { time: value };
}

/** The time part of a state tag's value, signed or not (for messages and notifications, never for decisions). */
export function stateTagTime(value: string): string {
  return SIGNED.exec(value)?.[1] ?? value;
}
