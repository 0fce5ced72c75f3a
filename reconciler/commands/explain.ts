// rekon explain: every check the gate makes for one version, with what it compared and the policy layer
// that set it: "why is v3 kept?" answered without reading the code. It reads exactly what plan reads and
// asks the same gate (Gate.explain builds its decision from Gate.verdict), so it cannot disagree with plan.
// It never writes.
import { UsageError } from "../errors.js";
import type { Explanation, SetView } from "../gate/index.js";
import { formatUnits } from "../render/inference.js";
import type { Style } from "../render/style.js";
import type { LiveVersion } from "../types.js";
import { AWS_FLAGS, INPUT_FLAGS, LOG_FORMAT_FLAG, logFormat, OUTPUT_FLAG, requireManifests, retryFlags, type Command } from "./spec.js";
import { openSession } from "./session.js";

/** What one set says about the version asked for. */
export interface ExplainEntry {
  set: string;
  /** file:line:col of the set. */
  at: string;
  project: string;
  region: string;
  account?: string;
  /** The project's read status; "ok" when the version's facts are complete. */
  read: string;
  error?: string;
  version?: { name: string; arn: string; status: string; createdAt: string; feature: string };
  /** Listed by this set but not live. */
  missing?: boolean;
  explanation?: Explanation;
}

interface Wanted {
  arn?: string;
  project?: string;
  version?: string;
}

// A version ARN: arn:aws:rekognition:REGION:ACCOUNT:project/PROJECT/version/VERSION/CREATED.
const VERSION_ARN = /^arn:aws[a-z-]*:rekognition:[^:]+:\d{12}:project\/([^/]+)\/version\/([^/]+)\/\d+$/;

export function parseTarget(arg: string): Wanted {
  const m = VERSION_ARN.exec(arg);
  if (m) return { arn: arg, project: m[1]!, version: m[2]! };
  const slash = arg.indexOf("/");
  if (arg.startsWith("arn:") || slash <= 0 || slash === arg.length - 1 || arg.indexOf("/", slash + 1) !== -1) {
    throw new UsageError(
      `which version? Give PROJECT/VERSION (e.g. demo-project/v3) or a version ARN ` +
        `(arn:aws:rekognition:REGION:ACCOUNT:project/PROJECT/version/VERSION/TIMESTAMP); got "${arg}"`,
    );
  }
  return { project: arg.slice(0, slash), version: arg.slice(slash + 1) };
}

function matches(w: Wanted, v: LiveVersion): boolean {
  return w.arn !== undefined ? v.arn === w.arn : v.project === w.project && v.name === w.version;
}

/** One entry per set that reaches the project asked for (usually one). */
export async function explainFrom(
  views: readonly SetView[],
  w: Wanted,
  explain: (view: SetView, v: LiveVersion) => Promise<Explanation>,
): Promise<ExplainEntry[]> {
  const out: ExplainEntry[] = [];
  for (const view of views) {
    const { set } = view;
    if (set.project !== w.project) continue;
    const base: ExplainEntry = {
      set: set.name,
      at: `${set.pos.file}:${set.pos.line}:${set.pos.col}`,
      project: set.project,
      region: set.region,
      ...(view.account ? { account: view.account } : {}),
      read: view.status,
      ...(view.error ? { error: view.error } : {}),
    };
    if (view.status !== "ok" || !view.project) {
      out.push(base);
      continue;
    }
    const v = view.project.versions.find((x) => matches(w, x));
    if (!v) {
      if (w.arn === undefined && set.versions.some((d) => d.name === w.version)) out.push({ ...base, missing: true });
      else out.push(base);
      continue;
    }
    out.push({
      ...base,
      version: { name: v.name, arn: v.arn, status: v.status, createdAt: new Date(v.createdAt).toISOString(), feature: v.feature },
      explanation: await explain(view, v),
    });
  }
  return out;
}

const MARKS: Record<string, string> = { pass: "pass ", block: "BLOCK", hold: "hold ", skip: "skip ", keep: "keep " };

function mark(s: Style, verdict: string): string {
  const m = MARKS[verdict] ?? verdict;
  return verdict === "block" ? s.yellow(m) : verdict === "hold" ? s.cyan(m) : verdict === "pass" ? s.green(m) : s.dim(m);
}

export function renderExplain(arg: string, entries: readonly ExplainEntry[], s: Style): string {
  const lines: string[] = [];
  for (const e of entries) {
    lines.push(
      s.bold(`${e.project}/${e.version?.name ?? arg.split("/").pop()}`) + `  set "${e.set}" (${e.at}), ${e.region}${e.account ? `, account ${e.account}` : ""}`,
    );
    if (e.read !== "ok") {
      lines.push(`  project ${e.read}${e.error ? `: ${e.error}` : ""}; nothing is said about its versions, and nothing in it is deleted`);
    } else if (e.missing) {
      lines.push("  missing: the set lists it, and the project has no such version (rekon never creates versions)");
    } else if (!e.version || !e.explanation) {
      lines.push("  not in this project, and not listed by this set");
    } else {
      const x = e.explanation;
      lines.push(`  ${e.version.arn}`);
      lines.push(`  status ${e.version.status}, created ${e.version.createdAt}, ${e.version.feature}`);
      const word =
        x.decision === "delete" || x.decision === "stop then delete" ? s.red(x.decision) : x.decision === "keep" ? s.dim(x.decision) : s.yellow(x.decision);
      const from = x.deletableAt ? ` (deletable from ${x.deletableAt})` : "";
      const marks = x.mark ? `; plan ${x.mark === "add" ? "adds" : "removes"} its pending-delete mark` : "";
      lines.push(`  decision: ${word}${from}${marks}`);
      if (x.running) {
        const u = x.running.units ? ` at ${formatUnits(x.running.units)}` : "";
        const what =
          x.running.action === "start"
            ? `start${u}${x.running.restartFirst ? ", after a stop (a restart)" : ""}`
            : x.running.action === "stop"
              ? `stop${u}`
              : "no change";
        lines.push(`  running: ${x.running.action ? s.yellow(what) : what}${x.running.reasons.map((r) => `; ${r.rule}: ${r.message}`).join("")}`);
      }
      const w = Math.max(...x.checks.map((c) => c.rule.length));
      for (const c of x.checks) lines.push(`    ${mark(s, c.verdict)}  ${c.rule.padEnd(w)}  ${c.detail}${c.layer ? s.dim(`  [${c.layer}]`) : ""}`);
    }
    lines.push("");
  }
  return lines.join("\n");
}

export const explain: Command = {
  name: "explain",
  summary: "say why one version is kept or deleted: every check, its values, the layer that set it (never writes)",
  usage: ["explain  PROJECT/VERSION|VERSION-ARN --manifests PATH [--policy FILE] [--output table|json]"],
  flags: { ...INPUT_FLAGS, ...OUTPUT_FLAG, ...AWS_FLAGS, ...LOG_FORMAT_FLAG },
  outputs: ["table", "json"],
  maxArgs: 1,
  exits: ["0 rekon keeps it now (listed, blocked or held)", "2 apply would delete it now", "1 error, a failed read, or no such version in any set's project"],
  async run({ flags, args, io, level, output }) {
    const manifests = requireManifests(flags);
    if (args.length !== 1) throw new UsageError("explain takes one version: PROJECT/VERSION or a version ARN");
    const arg = args[0]!;
    const wanted = parseTarget(arg);
    const format = logFormat(flags, io);
    const [{ planPass }, { DEFAULT_RETRY }, { style, colorEnabled }, { readVersionTags }, { needsTags }] = await Promise.all([
      import("../reconcile.js"),
      import("../aws/retry.js"),
      import("../render/style.js"),
      import("../aws/tags.js"),
      import("../policy/guards.js"),
    ]);
    const session = await openSession(level, format, io);
    try {
      const pass = await planPass({
        manifests,
        policy: flags.policy as string | undefined,
        log: session.log,
        retry: { ...DEFAULT_RETRY, ...retryFlags(flags), signal: session.stop },
      });
      try {
        const now = Date.parse(pass.plan.generatedAt);
        // Its tags, when the policy reads tags and the plan did not need them (another check keeps it):
        // shown as what the tag checks would say, never used for the decision.
        const entries = await explainFrom(pass.gate.views, wanted, async (view, v) => {
          const seen =
            needsTags(view.policy) && v.tags === undefined && v.tagsError === undefined
              ? await readVersionTags(
                  v,
                  { region: view.set.region, ...(view.set.roleArn ? { roleArn: view.set.roleArn } : {}) },
                  { clientFor: pass.clientFor, log: session.log },
                )
              : undefined;
          return pass.gate.explain(view, v, now, pass.plan.refusals, seen);
        });
        if (entries.length === 0) {
          io.stderr.write(
            `rekon: error: no ProjectVersionSet in ${manifests.join(", ")} names project "${wanted.project}"; rekon explains only versions of projects it ` +
              `manages\n`,
          );
          return 1;
        }
        io.stdout.write(
          output === "json"
            ? JSON.stringify({ version: arg, sets: entries }, null, 2) + "\n"
            : renderExplain(arg, entries, style(colorEnabled(io.stdout, io.env))),
        );
        // A failed read — the project's, or this version's tags — is a failure here as in plan: "kept" on a
        // read that failed is not an answer.
        if (entries.some((e) => e.read !== "ok" || e.explanation?.checks.some((c) => c.rule === "tagsUnreadable" && c.verdict === "block"))) return 1;
        if (!entries.some((e) => e.explanation || e.missing)) {
          io.stderr.write(`rekon: error: project "${wanted.project}" has no version ${wanted.arn ?? `"${wanted.version}"`}\n`);
          return 1;
        }
        return entries.some((e) => e.explanation && (e.explanation.decision === "delete" || e.explanation.decision === "stop then delete")) ? 2 : 0;
      } finally {
        pass.close();
      }
    } finally {
      session.close();
    }
  },
};
