// A planned pass against an emulator from inputs built in code: the same passFor/applyPass the CLI and the
// controller use (identity resolution over STS, reads, the gate), with the emulator's endpoint and keys.
import pino from "pino";
import type { Emulator } from "../../reconciler/emulator/server.js";
import type { RateLimiters } from "../../reconciler/aws/limiter.js";
import type { RetryOptions } from "../../reconciler/aws/retry.js";
import { passFor, type PlannedPass } from "../../reconciler/reconcile.js";
import type { DesiredState, Policy, PolicySet, Reason } from "../../reconciler/types.js";
import { TEST_CREDENTIALS } from "./emulator-env.js";

export const silent = pino({ level: "silent" });

export function emuPass(emu: Emulator, desired: DesiredState, policies: Policy | PolicySet, o: { retry?: RetryOptions; limiters?: RateLimiters; now?: () => Date; refusals?: Reason[] } = {}): Promise<PlannedPass> {
  return passFor(
    { desired, policies },
    {
      log: silent,
      ...(o.retry ? { retry: o.retry } : {}),
      ...(o.limiters ? { limitersFor: () => o.limiters! } : {}),
      ...(o.now ? { now: o.now } : {}),
      ...(o.refusals ? { refusals: o.refusals } : {}),
      client: { endpoint: emu.url, stsEndpoint: emu.url, credentials: TEST_CREDENTIALS },
    },
  );
}
