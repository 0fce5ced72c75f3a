// NextToken for the Describe* listings.
//
// Tokens are opaque to clients but carry the position (last key served) and a fingerprint of the query,
// so a token replayed against a different query is refused like AWS does, and a deletion between pages
// cannot shift later items out of view (a cursor, not an offset). They also carry when they were issued, so
// an emulator started with a token lifetime can refuse old ones as expired: AWS says a pagination token
// "might have expired" without saying when, and a client must survive that mid-listing.

import { createHash } from "node:crypto";
import { ApiError } from "./errors.js";

/** The sort key of a listed item: a time, then a name to make the order total. */
export type SortKey = [number, string];

interface PageToken {
  after: SortKey;
  fp: string;
  /** Issued at, emulator clock (epoch ms). */
  at: number;
}

/** A short digest of what identifies a query (operation, region, filters), stored in its tokens. */
export function fingerprint(parts: unknown): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("base64url").slice(0, 16);
}

function encodeToken(t: PageToken): string {
  return Buffer.from(JSON.stringify(t)).toString("base64url");
}

/**
 * The position a NextToken stands for; InvalidPaginationTokenException for garbage, another query's token, or
 * (with `ttlMs`) a token older than that.
 */
export function decodeToken(raw: unknown, fp: string, now: number, ttlMs?: number): PageToken | undefined {
  if (raw === undefined || raw === null) return undefined;
  // The developer guide's two messages for this code.
  const bad = new ApiError("InvalidPaginationTokenException", "Invalid Pagination Token");
  if (typeof raw !== "string" || raw.length === 0) throw bad;
  let t: unknown;
  try {
    t = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
  } catch {
    throw bad;
  }
  const tok = t as Partial<PageToken> | null;
  if (
    !tok ||
    tok.fp !== fp ||
    typeof tok.at !== "number" ||
    !Array.isArray(tok.after) ||
    typeof tok.after[0] !== "number" ||
    typeof tok.after[1] !== "string"
  ) {
    throw bad;
  }
  if (ttlMs !== undefined && now - tok.at > ttlMs) throw new ApiError("InvalidPaginationTokenException", "Invalid Token");
  return tok as PageToken;
}

/** One page of `items` (already sorted by `cmp`) after the token's position, and the token for the next. */
export function paginate<T>(
  items: T[],
  key: (item: T) => SortKey,
  cmp: (a: SortKey, b: SortKey) => number,
  max: number,
  token: PageToken | undefined,
  fp: string,
  now: number,
): { page: T[]; next?: string } {
  const rest = token ? items.filter((i) => cmp(key(i), token.after) > 0) : items;
  const page = rest.slice(0, max);
  const last = page[page.length - 1];
  if (rest.length > max && last !== undefined) return { page, next: encodeToken({ after: key(last), fp, at: now }) };
  return { page };
}
