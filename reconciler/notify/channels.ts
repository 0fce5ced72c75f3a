// A channel's URL and signing secret, read where the policy says — an environment variable or a file — at
// run time, in this I/O layer only (the policy, the planner and the gate never see a value). Read afresh
// each run, so a rotated secret file is picked up. Every message names the channel and the variable or
// file, never the value: a webhook URL is a credential (Slack's carries its token in the path).
import { readFileSync } from "node:fs";
import { readSecret as read, secretSource as where } from "../inputs/secrets.js";
import type { NotificationChannel } from "../types.js";

export interface ResolvedChannel {
  name: string;
  url: string;
  secret?: string;
  format: NotificationChannel["format"];
  events: NotificationChannel["events"];
  /** Declared by the operator's policy; false: added by a manifest layer (an extra recipient, see events.ts operatorNotices). */
  operator: boolean;
  /** Every secret value as read (and as normalised), for redaction. */
  secrets: string[];
}

export interface ChannelProblem {
  channel: string;
  message: string;
}

/** Resolve each channel; a channel that cannot be used is a problem naming it, and is left out. */
export function resolveChannels(
  channels: readonly (NotificationChannel & { operator?: boolean })[],
  env: NodeJS.ProcessEnv,
  readFile: (p: string) => string = (p) => readFileSync(p, "utf8"),
): { resolved: ResolvedChannel[]; problems: ChannelProblem[] } {
  const resolved: ResolvedChannel[] = [];
  const problems: ChannelProblem[] = [];
  for (const c of channels) {
    const url = read(c.url, env, readFile);
    if (url.problem) {
      problems.push({ channel: c.name, message: `notification channel "${c.name}": url: ${url.problem}` });
      continue;
    }
    let parsed: URL | undefined;
    try {
      parsed = new URL(url.value!);
    } catch {
      parsed = undefined; // the error would quote the value
    }
    if (!parsed || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) {
      problems.push({ channel: c.name, message: `notification channel "${c.name}": url: the value of ${where(c.url)} is not an http(s) URL` });
      continue;
    }
    let secret: string | undefined;
    if (c.secret) {
      const s = read(c.secret, env, readFile);
      if (s.problem) {
        problems.push({ channel: c.name, message: `notification channel "${c.name}": secret: ${s.problem}` });
        continue;
      }
      secret = s.value;
    }
    resolved.push({
      name: c.name,
      url: parsed.toString(),
      ...(secret ? { secret } : {}),
      format: c.format,
      events: c.events,
      operator: c.operator === true,
      secrets: [...new Set([url.value!, parsed.toString(), ...(secret ? [secret] : [])])],
    });
  }
  return { resolved, problems };
}
