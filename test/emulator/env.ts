// Environment for talking to the emulator with real AWS clients, without ever touching a real account:
// fake keys, no shared config or credential files, no instance-metadata lookups.
// (Kept here rather than in test/helpers/ so the emulator's tests depend on nothing else in rekon.)
import { execFileSync } from "node:child_process";

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

/** One installed AWS CLI and what it can do, found by findAwsClis(). */
export interface AwsCli {
  path: string;
  /** e.g. "2.9.19" */
  version: string;
  major: number;
  /** Label for test names: "aws-cli/2.9.19 (/usr/bin/aws)". */
  label: string;
  /** Whether its Rekognition model has DescribeProjects' Features (added late 2023; Debian's 2.9.19 predates it). */
  describeProjectsTakesFeatures: boolean;
}

// Where CLIs live besides PATH: Debian's awscli package, AWS's v2 installer, pip --user.
const WELL_KNOWN = ["/usr/bin/aws", "/usr/local/bin/aws", "/usr/local/aws-cli/v2/current/bin/aws"];

/**
 * Every distinct AWS CLI installed (v1 from pip, v2 from Debian or AWS's installer), each probed once for its
 * version and for what its bundled model supports, so tests run against each and adapt to what it can send.
 * Empty when none is installed; tests then skip, saying why.
 */
export function findAwsClis(): AwsCli[] {
  const candidates = new Set<string>(WELL_KNOWN);
  try {
    for (const p of execFileSync("which", ["-a", "aws"], { encoding: "utf8", timeout: 5_000 }).split("\n")) if (p.trim()) candidates.add(p.trim());
  } catch {
    // `which -a` exits 1 when nothing is on PATH; the well-known places are still tried.
  }
  const found = new Map<string, AwsCli>();
  for (const path of candidates) {
    let version: string;
    try {
      // `aws --version` prints "aws-cli/2.9.19 Python/3.11.2 ..." (v1 prints it on stderr, v2 on stdout).
      const out = execFileSync(path, ["--version"], { encoding: "utf8", timeout: 20_000, env: fakeAwsProcessEnv(), stdio: ["ignore", "pipe", "pipe"] });
      version = /aws-cli\/(\d+\.\d+\.\d+)/.exec(out)?.[1] ?? "";
    } catch (err) {
      version = /aws-cli\/(\d+\.\d+\.\d+)/.exec(String((err as { stderr?: string }).stderr ?? ""))?.[1] ?? "";
    }
    if (!version || found.has(version)) continue;
    let skeleton = "";
    try {
      skeleton = execFileSync(path, ["rekognition", "describe-projects", "--generate-cli-skeleton", "input"], { encoding: "utf8", timeout: 20_000, env: fakeAwsProcessEnv() });
    } catch {
      // A CLI whose model lacks the operation entirely still counts as found; its tests will say so.
    }
    found.set(version, {
      path,
      version,
      major: Number(version.split(".")[0]),
      label: `aws-cli/${version} (${path})`,
      describeProjectsTakesFeatures: skeleton.includes('"Features"'),
    });
  }
  return [...found.values()].sort((a, b) => a.major - b.major);
}
