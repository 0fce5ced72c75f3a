import { execFileSync } from "node:child_process";
// Environment for talking to the emulator with real AWS clients, without ever touching a real account:
// fake keys, no shared config or credential files, no instance-metadata lookups.
// (Kept here rather than in test/helpers/ so the emulator's tests depend on nothing else in rekon.)

export const FAKE_CREDENTIALS = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "x" } as const;

/** Env for a child process such as the AWS CLI: the parent's env minus every AWS_* variable, plus fakes. */
export function fakeAwsProcessEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("AWS_")) env[k] = v;
  return {
    ...env,
    AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_PAGER: "",
    AWS_EC2_METADATA_DISABLED: "true",
    ...extra,
  };
}

/** Runs `fn` with `vars` set in process.env (undefined = unset), restoring the previous values after. */
export async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = new Map<string, string | undefined>();
  for (const [k, v] of Object.entries(vars)) {
    saved.set(k, process.env[k]);
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Path of the AWS CLI, or undefined when it is not installed (its tests are then skipped, saying so). */
export function findAws(): string | undefined {
  try {
    return execFileSync("which", ["aws"], { encoding: "utf8", timeout: 5_000 }).trim() || undefined;
  } catch {
    return undefined;
  }
}
