// The command line. The only place that maps errors to exit codes and words, and that touches process
// signals. Modules that pull in the AWS SDK are imported lazily so `--help` and `validate` stay fast and
// offline (validate must never load the SDK).
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import { AwsCallError, ConfigError, formatIssue, RefusalError, UsageError, ValidationError } from "./errors.js";
import { parseDuration } from "./duration.js";
import { validateInputs } from "./inputs.js";
import { readFile, rename, writeFile } from "node:fs/promises";
import { checkSavedPlan, DEFAULT_MAX_PLAN_AGE, parseSavedPlan, savePlan } from "./savedplan.js";
import type { RunFlags } from "./controller/options.js";
import type { Plan, PlanAction, WriteResult } from "./types.js";

export const EXIT = { ok: 0, error: 1, changes: 2, interrupted: 130 } as const;

const HELP = `rekon — keep Amazon Rekognition project versions equal to what Git declares

Usage:
  rekon validate --manifests PATH [--policy FILE] [--output text|json]
  rekon plan     --manifests PATH [--policy FILE] [--output table|json|markdown] [--out plan.json]
  rekon apply    --manifests PATH [--policy FILE] [--auto-approve] [--wait] [--output table|json|markdown]
  rekon apply    plan.json --manifests PATH --policy FILE [--max-plan-age 24h] [--auto-approve] [--output ...]
  rekon diff     --base REF [--head REF] [--manifests PATH] [--policy FILE] [--output table|json|markdown]
  rekon run      --manifests PATH [--policy FILE] [--interval 5m] [--apply] [--listen :8080] [--audit-file FILE]
                 [--leader-elect [--lease-name N] [--lease-namespace NS]] [--cycle-timeout 10m]
                 [--sync-touch-file FILE [--max-sync-age 10m]]
  rekon emulator [--state FILE] [--port N] [--fault OP:CODE[@ARN]]... [--deny OP[@ARN]]...
                 [--token-ttl D] [--clock-skew D]
  rekon demo

Options:
  --manifests PATH   manifest file or folder (recursive *.yaml/*.yml); repeatable
  --policy FILE      the operator's DeletionPolicy (default: built-in defaults; apply then refuses)
  --output FORMAT    table (default), json (stdout is pure JSON) or markdown (for pull requests)
  --out FILE         plan: also save the plan, with digests of its inputs, for "rekon apply FILE"
  --max-plan-age D   apply FILE: refuse a saved plan older than this (default 24h)
  --base/--head REF  diff: Git revisions to compare (head default HEAD); offline, no AWS credentials
  --fail-on-loosen   diff: exit 1 when the change loosens a policy
  --auto-approve     apply without asking; required when stdin is not a terminal
  --wait             after apply, wait until AWS has finished deleting (polls every 5 s, up to 10 min)
  --retries N        retries per AWS call on throttling/5xx/network errors (default 8)
  --retry-max-time D bound on one AWS call with its retries, e.g. 60s or 5m (default 60s)
  --concurrency N    apply: deletions in flight per account and region (default 8); the
                     adaptive rate limiter (policy rateLimits) sets the pace
  --log-level LEVEL  fatal|error|warn|info|debug|trace|silent (default: info); logs go to stderr
  --interval D       run: time between cycles, ±10 % jitter (default 5m); manifest changes trigger a cycle sooner
  --apply            run: delete what each cycle plans (default: plan only)
  --listen ADDR      run: host:port for /healthz, /readyz, /metrics (default :8080: IPv6 and IPv4)
  --audit-file FILE  run: also append audit records (one per deletion) as JSON lines
  --cycle-timeout D  run: bound on one cycle (default 10m)
  --leader-elect     run: only the holder of a Kubernetes Lease applies (--lease-name rekon, --lease-namespace:
                     the pod's; --lease-duration 15s, --renew-deadline 10s, --retry-period 2s; --kubeconfig FILE)
  --sync-touch-file F run: a file touched on every sync of the manifests; when it is older than
                     --max-sync-age (default 10m) a cycle plans but deletes nothing (manifestsStale)
  --state FILE       emulator: JSON inventory to serve (default: the demo inventory)
  --port N           emulator: port on 127.0.0.1 (default 4566; 0 picks a free one)
  --fault OP:CODE[@ARN]  emulator: answer OP with error CODE (only for requests naming ARN, a
                     substring); repeatable. OP may be *. E.g. DeleteProjectVersion:ThrottlingException
  --deny OP[@ARN]    emulator: answer OP with AccessDeniedException, as IAM would; repeatable
  --token-ttl D      emulator: a NextToken older than D answers InvalidPaginationTokenException
  --clock-skew D     emulator: its clock runs D ahead (--clock-skew=-D: behind); requests signed over 5 min
                     off it are refused as AWS refuses them (InvalidSignatureException, Signature expired)
  -h, --help         show this help

Exit codes:
  validate: 0 valid, 1 invalid
  plan:     0 nothing to delete, 2 deletions pending, 1 error or refusal (nothing deleted)
  apply:    0 every planned write accepted by AWS (or nothing to do); 1 error, refusal, a failed read, or any
            write failed, skipped, changed at the last look, stale or unknown; 130 a second signal
  diff:     0 no change to desired versions or policy, 2 changes, 1 error (or a loosening with --fail-on-loosen)

AWS access uses the SDK's standard chain: AWS_REGION, AWS_PROFILE, credentials, and
AWS_ENDPOINT_URL_REKOGNITION (e.g. http://127.0.0.1:4566 for the emulator).
`;

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

// `rekon run`'s flags are declared with their meanings and defaults in controller/options.ts.
interface Flags extends RunFlags {
  manifests?: string[];
  policy?: string;
  output?: string;
  "auto-approve"?: boolean;
  wait?: boolean;
  "log-level"?: string;
  state?: string;
  port?: string;
  fault?: string[];
  deny?: string[];
  "token-ttl"?: string;
  "clock-skew"?: string;
  retries?: string;
  "retry-max-time"?: string;
  concurrency?: string;
  out?: string;
  "max-plan-age"?: string;
  base?: string;
  head?: string;
  "fail-on-loosen"?: boolean;
  help?: boolean;
}

function parse(argv: string[]): { command: string | undefined; flags: Flags; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        manifests: { type: "string", multiple: true },
        policy: { type: "string" },
        output: { type: "string" },
        "auto-approve": { type: "boolean" },
        wait: { type: "boolean" },
        "log-level": { type: "string" },
        state: { type: "string" },
        port: { type: "string" },
        fault: { type: "string", multiple: true },
        deny: { type: "string", multiple: true },
        "token-ttl": { type: "string" },
        "clock-skew": { type: "string" },
        retries: { type: "string" },
        "retry-max-time": { type: "string" },
        concurrency: { type: "string" },
        out: { type: "string" },
        "max-plan-age": { type: "string" },
        base: { type: "string" },
        head: { type: "string" },
        "fail-on-loosen": { type: "boolean" },
        help: { type: "boolean", short: "h" },
        interval: { type: "string" },
        apply: { type: "boolean" },
        listen: { type: "string" },
        "audit-file": { type: "string" },
        "cycle-timeout": { type: "string" },
        "watch-debounce": { type: "string" },
        "shutdown-grace": { type: "string" },
        "leader-elect": { type: "boolean" },
        "lease-name": { type: "string" },
        "lease-namespace": { type: "string" },
        "lease-duration": { type: "string" },
        "renew-deadline": { type: "string" },
        "retry-period": { type: "string" },
        kubeconfig: { type: "string" },
        "sync-touch-file": { type: "string" },
        "max-sync-age": { type: "string" },
      },
    });
    return { command: positionals[0], flags: values as Flags, positionals: positionals.slice(1) };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export async function main(argv: string[], io: Io): Promise<number> {
  tolerateClosedPipes(io);
  let output = "table";
  try {
    const { command, flags, positionals } = parse(argv);
    output = flags.output ?? (command === "validate" ? "text" : "table");
    if (flags.help || command === undefined || command === "help") {
      io.stdout.write(HELP);
      return command === undefined && !flags.help ? EXIT.error : EXIT.ok;
    }
    // A flag that another command owns is an error, never silently ignored: `rekon plan --apply` must
    // not look as if it did something.
    const allowed = COMMAND_FLAGS[command];
    if (allowed) {
      const stray = Object.keys(flags).filter((f) => !allowed.includes(f) && !COMMON_FLAGS.includes(f));
      if (stray.length) throw new UsageError(`--${stray[0]} does not apply to "${command}"`);
    }
    // Only `apply` takes an argument: a saved plan file.
    if (positionals.length > (command === "apply" ? 1 : 0)) throw new UsageError(`unexpected argument "${positionals[command === "apply" ? 1 : 0]}"`);
    const level = flags["log-level"] ?? "info";
    if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(level)) throw new UsageError(`--log-level must be one of fatal, error, warn, info, debug, trace, silent`);

    switch (command) {
      case "validate":
        return validateCommand(flags, io, output);
      case "plan":
      case "apply":
        return await planOrApply(command, flags, io, output, level, positionals[0]);
      case "diff": {
        const { diffCommand } = await import("./diff.js");
        return await diffCommand(flags, io, output);
      }
      case "run": {
        // The controller: loads the SDK (and, with --leader-elect, the Kubernetes client) only when run.
        const [{ resolveRunOptions }, { runController }] = await Promise.all([import("./controller/options.js"), import("./controller/run.js")]);
        return await runController(resolveRunOptions(flags), io, { level, retry: retryFlags(flags) });
      }
      case "emulator":
        return await emulatorCommand(flags, io);
      case "demo": {
        // The demo talks only to the embedded emulator; the SDK's notice about future Node versions
        // concerns real deployments and would only clutter the walkthrough.
        io.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
        const { runDemo } = await import("./demo.js");
        return await runDemo(io);
      }
      default:
        throw new UsageError(`unknown command "${command}"; commands: validate, plan, apply, run, emulator, demo`);
    }
  } catch (err) {
    return reportError(err, io, output);
  }
}

const guarded = new WeakSet<object>();
/**
 * A reader that went away (`rekon plan | head`, a log shipper restarting) makes writes fail with EPIPE. That
 * must not kill rekon halfway through an apply or a controller cycle: what is written to a closed pipe is
 * dropped, the work goes on, and the exit code still says how it ended. Other stream errors stay fatal.
 */
function tolerateClosedPipes(io: Io): void {
  for (const s of [io.stdout, io.stderr]) {
    if (guarded.has(s)) continue;
    guarded.add(s);
    s.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE" && err.code !== "ERR_STREAM_DESTROYED") throw err;
    });
  }
}

const COMMON_FLAGS = ["help", "log-level"];
const AWS_FLAGS = ["retries", "retry-max-time"];
/** The flags each command takes (besides --help and --log-level). */
const COMMAND_FLAGS: Record<string, string[]> = {
  validate: ["manifests", "policy", "output"],
  plan: ["manifests", "policy", "output", "out", ...AWS_FLAGS],
  apply: ["manifests", "policy", "output", "auto-approve", "wait", "concurrency", "max-plan-age", ...AWS_FLAGS],
  diff: ["manifests", "policy", "output", "base", "head", "fail-on-loosen"],
  run: ["manifests", "policy", "interval", "apply", "listen", "audit-file", "cycle-timeout", "watch-debounce", "shutdown-grace", "leader-elect", "lease-name", "lease-namespace", "lease-duration", "renew-deadline", "retry-period", "kubeconfig", "sync-touch-file", "max-sync-age", ...AWS_FLAGS],
  emulator: ["state", "port", "fault", "deny", "token-ttl", "clock-skew"],
  demo: [],
};

function requireManifests(flags: Flags): string[] {
  if (!flags.manifests?.length) throw new UsageError("--manifests PATH is required (a manifest file or folder; repeatable)");
  return flags.manifests;
}

function checkOutput(output: string, allowed: string[]): void {
  if (!allowed.includes(output)) throw new UsageError(`--output must be one of: ${allowed.join(", ")}`);
}

function validateCommand(flags: Flags, io: Io, output: string): number {
  checkOutput(output, ["text", "table", "json"]);
  const manifests = requireManifests(flags);
  // Offline: the default region comes from the environment only; no SDK, no profile files.
  const r = validateInputs({ manifests, policy: flags.policy }, { defaultRegion: io.env.AWS_REGION || undefined, requireRegion: false });
  if (!r.desired || !r.policies) throw new ValidationError(r.issues);
  const sets = r.desired.sets.length;
  const files = r.desired.files.length;
  const layers = r.policies.scoped.length;
  const source = r.policies.operator.source;
  for (const n of r.notes) io.stderr.write(`rekon: note: ${n}\n`);
  if (output === "json") io.stdout.write(JSON.stringify({ valid: true, files, sets, policies: layers, policy: source, notes: r.notes }) + "\n");
  else io.stdout.write(`valid: ${files} file(s), ${sets} ProjectVersionSet(s), ${layers} manifest DeletionPolicy(s), policy: ${source}\n`);
  return EXIT.ok;
}

async function planOrApply(command: "plan" | "apply", flags: Flags, io: Io, output: string, level: string, savedFile?: string): Promise<number> {
  checkOutput(output, ["table", "json", "markdown"]);
  if (flags.out !== undefined && command !== "plan") throw new UsageError("--out belongs to plan");
  if (flags["max-plan-age"] !== undefined && !savedFile) throw new UsageError("--max-plan-age goes with apply PLAN_FILE");
  const maxPlanAgeMs = parseDuration(flags["max-plan-age"] ?? DEFAULT_MAX_PLAN_AGE);
  if (maxPlanAgeMs === undefined) throw new UsageError("--max-plan-age must be a duration such as 30m, 24h or 2d");
  // A saved plan is an approval of specific writes, never a source of paths: an edited artifact could
  // name a looser policy (with its digest). Its inputs are given again and must hash to what it recorded.
  const saved = savedFile ? parseSavedPlan(savedFile, await readFile(savedFile, "utf8").catch((e: NodeJS.ErrnoException) => { throw new UsageError(`cannot read saved plan ${savedFile}: ${e.code ?? e.message}`); })) : undefined;
  if (saved && (!flags.manifests?.length || flags.policy === undefined)) {
    throw new UsageError(`apply ${savedFile} needs --manifests and --policy: the same paths the plan was made from (a saved plan never supplies its own; their digests must match it)`);
  }
  const manifests = requireManifests(flags);
  const policyFile = flags.policy;
  if (command === "plan" && (flags["auto-approve"] || flags.wait || flags.concurrency !== undefined)) throw new UsageError("--auto-approve, --wait and --concurrency belong to apply");
  const concurrency = flags.concurrency === undefined ? undefined : Number(flags.concurrency);
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)) throw new UsageError("--concurrency must be a whole number from 1 to 64");

  const [{ planPass, applyPass, checkApplicable }, { createLogger }, { planExitCode }, { renderPlanTable, renderResultsTable }, { DEFAULT_RETRY }, { allAccepted, waitForDeletionsReport }, { startProgress }, { renderPlanMarkdown, renderResultsMarkdown }] = await Promise.all([
    import("./reconcile.js"),
    import("./log.js"),
    import("./plan.js"),
    import("./render/table.js"),
    import("./aws/retry.js"),
    import("./apply.js"),
    import("./progress.js"),
    import("./render/markdown.js"),
  ]);
  const log = createLogger(level);

  // Signals tell the truth. The first SIGINT/SIGTERM: no new AWS call, no new write; writes already sent
  // are awaited (never aborted: that would not stop AWS, only hide its answer). The second: stop waiting,
  // report every unanswered write as `unknown`, and exit at once.
  const stop = new AbortController();
  const abandon = new AbortController();
  let applying = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      if (!applying) process.exit(130);
      log.warn({ signal: sig }, "second signal: no longer waiting for writes in flight; they are reported unknown");
      abandon.abort(new Error(`second ${sig}`));
      return;
    }
    log.warn({ signal: sig }, "interrupted: no new write will be sent; writes already sent are awaited (a second signal stops waiting)");
    stop.abort(new Error(`interrupted by ${sig}`));
  };
  process.on("SIGINT", onSignal).on("SIGTERM", onSignal);

  const retry = { ...DEFAULT_RETRY, ...retryFlags(flags), signal: stop.signal };
  let pass;
  try {
    pass = await planPass({ manifests, policy: policyFile, log, retry });
  } catch (err) {
    process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
    throw err;
  }
  const renderPlan = (p: Plan) => (output === "markdown" ? renderPlanMarkdown(p, { title: command === "apply" ? "rekon apply: plan" : "rekon plan" }) : renderPlanTable(p));
  try {
    if (command === "plan") {
      if (flags.out) {
        const file = savePlan(pass.plan, pass.live, { manifests, policy: flags.policy ?? null }, { manifests: pass.desired.digest, policy: pass.policy.digest });
        // Write then rename, so a reader (or an upload step) never sees half a plan.
        await writeFile(flags.out + ".tmp", JSON.stringify(file, null, 2) + "\n");
        await rename(flags.out + ".tmp", flags.out);
      }
      io.stdout.write(output === "json" ? JSON.stringify(pass.plan, null, 2) + "\n" : renderPlan(pass.plan));
      return planExitCode(pass.plan);
    }

    let stale: { action: PlanAction; why: string }[] = [];
    if (saved) {
      const check = checkSavedPlan(saved, pass.plan, pass.live, { manifests: pass.desired.digest, policy: pass.policy.digest }, new Date(), maxPlanAgeMs);
      pass.plan = check.plan;
      stale = check.stale;
      if (check.refusal) {
        if (output === "json") io.stdout.write(JSON.stringify({ ...pass.plan, results: [], error: { kind: "RefusalError", rule: check.refusal.rule, message: check.refusal.message } }, null, 2) + "\n");
        else io.stdout.write(renderPlan(pass.plan));
        throw new RefusalError(check.refusal.message, check.refusal.rule);
      }
    }

    if (output !== "json") io.stdout.write(renderPlan(pass.plan));
    // A failed read (a project, or any version's tags) makes the run a failure even if it only blocked.
    // notManaged is the operator's deliberate choice, not a failure.
    const readFailed = planExitCode(pass.plan) === 1;
    try {
      checkApplicable(pass);
      if (pass.plan.summary.delete > 0 && !flags["auto-approve"]) await confirm(pass.plan, io);
    } catch (e) {
      // JSON readers still get the plan they were refused on.
      if (output === "json") io.stdout.write(JSON.stringify({ ...pass.plan, results: [], error: errorJson(e) }, null, 2) + "\n");
      throw e;
    }

    // Progress on stderr: a bar on a terminal, a log line every few seconds elsewhere.
    const progress = pass.plan.summary.delete > 0 ? await startProgress({ total: pass.plan.summary.delete, stream: io.stderr, log, limiters: pass.limiters }) : undefined;
    let results: WriteResult[];
    applying = true;
    try {
      results = await applyPass(pass, log, { stop: stop.signal, abandon: abandon.signal, ...(concurrency ? { concurrency } : {}), ...(progress ? { onResult: (r: WriteResult) => progress.result(r) } : {}) });
    } finally {
      applying = false;
      progress?.stop();
    }
    let stillPresent: string[] = [];
    let waitedMs: number | undefined;
    if (flags.wait && !stop.signal.aborted && results.some((r) => r.result === "accepted")) {
      const report = await waitForDeletionsReport(results, { clientFor: pass.clientFor, log, signal: stop.signal, projects: pass.plan.projects });
      stillPresent = report.stillPresent;
      waitedMs = report.tookMs;
    }
    // Planned writes the saved plan approved but that changed since: reported, never carried out.
    for (const s of stale) {
      const a = s.action;
      results.push({ project: a.project, region: a.region, ...(a.account ? { account: a.account } : {}), ...(a.roleArn ? { roleArn: a.roleArn } : {}), versionName: a.versionName, versionArn: a.versionArn!, operation: a.action === "delete" ? "delete" : a.mark === "add" ? "mark" : "unmark", result: "skipped", code: "stale", error: `stale: ${s.why}` });
    }
    if (output === "json") io.stdout.write(JSON.stringify({ ...pass.plan, results, ...(flags.wait ? { stillPresent, ...(waitedMs !== undefined ? { waitedMs } : {}) } : {}) }, null, 2) + "\n");
    else if (output === "markdown") io.stdout.write("\n" + renderResultsMarkdown(results));
    else {
      io.stdout.write("\n" + renderResultsTable(results));
      const took = waitedMs !== undefined ? ` (waited ${(waitedMs / 1000).toFixed(1)}s)` : "";
      if (flags.wait && !stop.signal.aborted) io.stdout.write(stillPresent.length ? `Still present after waiting${took}: ${stillPresent.join(", ")}\n` : `All accepted deletions have completed${took}.\n`);
    }
    if (readFailed) io.stderr.write("rekon: some reads failed (a project, or a version's tags); nothing they concern was deleted (see ERROR lines and tagsUnreadable reasons)\n");
    if (stale.length) io.stderr.write(`rekon: ${stale.length} planned write(s) skipped as stale (the world changed since the plan was saved); re-run rekon plan\n`);
    const unknown = results.filter((r) => r.result === "unknown").length;
    if (unknown) io.stderr.write(`rekon: ${unknown} write(s) were sent but not answered: they may have happened; the next plan shows what did\n`);
    if (abandon.signal.aborted) return EXIT.interrupted;
    return allAccepted(results) && stale.length === 0 && !readFailed && stillPresent.length === 0 && !stop.signal.aborted ? EXIT.ok : EXIT.error;
  } finally {
    pass.close();
    process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
  }
}

function retryFlags(flags: Flags): { retries?: number; maxTotalMs?: number } {
  const out: { retries?: number; maxTotalMs?: number } = {};
  if (flags.retries !== undefined) {
    const n = Number(flags.retries);
    if (!Number.isInteger(n) || n < 0 || n > 100) throw new UsageError("--retries must be a whole number from 0 to 100");
    out.retries = n;
  }
  if (flags["retry-max-time"] !== undefined) {
    const ms = parseDuration(flags["retry-max-time"]);
    if (ms === undefined || ms <= 0) throw new UsageError("--retry-max-time must be a duration such as 30s, 5m or 1h");
    out.maxTotalMs = ms;
  }
  return out;
}

async function confirm(plan: Plan, io: Io): Promise<void> {
  if (!io.stdin.isTTY) {
    throw new RefusalError("apply would delete versions but stdin is not a terminal to confirm on; review the plan and pass --auto-approve", "confirmation");
  }
  const rl = createInterface({ input: io.stdin, output: io.stderr });
  try {
    const answer = await rl.question(`\nrekon will permanently delete ${plan.summary.delete} version(s) listed above. A deleted model can't be undeleted.\nType "yes" to delete: `);
    if (answer.trim() !== "yes") throw new RefusalError("not confirmed; nothing was deleted", "confirmation");
  } finally {
    rl.close();
  }
}

async function emulatorCommand(flags: Flags, io: Io): Promise<number> {
  const port = flags.port === undefined ? 4566 : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError("--port must be a whole number from 0 to 65535");
  const { runEmulatorCommand } = await import("./emulator/main.js");
  const emu = await runEmulatorCommand(
    { state: flags.state, port, fault: flags.fault, deny: flags.deny, tokenTtl: flags["token-ttl"], clockSkew: flags["clock-skew"] },
    io.stdout,
    (m) => new UsageError(m),
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop).once("SIGTERM", stop);
  });
  await emu.close();
  return EXIT.ok;
}

function errorJson(err: unknown): object {
  const e = err as Error;
  return {
    kind: e.name,
    message: e.message,
    ...(err instanceof ValidationError ? { issues: err.issues } : {}),
    ...(err instanceof RefusalError ? { rule: err.rule } : {}),
    ...(err instanceof AwsCallError ? { operation: err.operation, resource: err.resource, code: err.code } : {}),
  };
}

function reportError(err: unknown, io: Io, output: string): number {
  if (err instanceof ValidationError) {
    io.stderr.write(`rekon: ${err.issues.length} validation error(s); nothing was read from or changed in AWS:\n`);
    for (const i of err.issues) io.stderr.write(`  ${formatIssue(i)}\n`);
  } else if (err instanceof UsageError) {
    io.stderr.write(`rekon: ${err.message}\nRun "rekon --help" for usage.\n`);
  } else if (err instanceof RefusalError) {
    io.stderr.write(`rekon: refused (${err.rule}): ${err.message}\n`);
    return EXIT.error; // the JSON, if any, was written next to the plan
  } else if (err instanceof ConfigError || err instanceof AwsCallError) {
    io.stderr.write(`rekon: ${err.message}\n`);
  } else {
    io.stderr.write(`rekon: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
  }
  if (output === "json") io.stdout.write(JSON.stringify({ error: errorJson(err) }) + "\n");
  return EXIT.error;
}
