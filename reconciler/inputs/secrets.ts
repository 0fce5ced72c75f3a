// Secrets a policy names — an environment variable or a file — read at run time, at the edge only (the
// policy, the planner and the gate never see a value). Every message names the variable or the file, never
// the value: a webhook URL or a signing key is a credential.
import { readFileSync } from "node:fs";
import type { SecretRef } from "../types.js";

/** How a message names where a secret comes from. */
export function secretSource(ref: SecretRef): string {
  return "fromEnv" in ref ? `environment variable ${ref.fromEnv}` : `file ${ref.fromFile}`;
}

/** The secret's value (trimmed), or why it cannot be used: unset, empty, unreadable. */
export function readSecret(
  ref: SecretRef,
  env: NodeJS.ProcessEnv,
  readFile: (p: string) => string = (p) => readFileSync(p, "utf8"),
): { value?: string; problem?: string } {
  if ("fromEnv" in ref) {
    const v = env[ref.fromEnv]?.trim();
    return v ? { value: v } : { problem: `${secretSource(ref)} is ${env[ref.fromEnv] === undefined ? "not set" : "empty"}` };
  }
  try {
    const v = readFile(ref.fromFile).trim();
    return v ? { value: v } : { problem: `${secretSource(ref)} is empty` };
  } catch (err) {
    return { problem: `${secretSource(ref)} cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})` };
  }
}
