// `npm start`: the whole product on the embedded emulator. Plan, apply, wait, plan again — through the
// same planPass/applyAuthorized the CLI uses, against the real SDK over real HTTP.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import type { Logger } from "pino";
import { restore } from "./apply/restore.js";
import { DEFAULT_RETRY } from "./aws/retry.js";
import { loadPolicy } from "./inputs/policy.js";
import { waitForDeletions } from "./aws/wait.js";
import type { Io } from "./io.js";
import type { Plan } from "./types.js";
import { startEmulator, type Emulator } from "./emulator/server.js";
import { createLogger } from "./log.js";
import { packageRoot } from "./paths.js";
import { applyAuthorized, planPass, type ReconcileOptions } from "./reconcile.js";
import { formatMoney, HOURS_PER_30_DAYS } from "./render/inference.js";
import { outputWidth } from "./render/layout.js";
import { colorEnabled, style } from "./render/style.js";
import { renderPlanTable, renderResultsTable } from "./render/table.js";

export async function runDemo(io: Io): Promise<number> {
  const root = packageRoot();
  const emu = await startEmulator({ port: 0, deleteDelayMs: 1500 });
  const log = createLogger(io.env.REKON_LOG_LEVEL ?? "warn");
  // The same colours and width as `rekon plan` on this terminal (none when piped or with NO_COLOR).
  const table = { style: style(colorEnabled(io.stdout, io.env)), width: outputWidth(io.stdout, io.env) };
  const opts: ReconcileOptions = {
    // Relative paths, so messages read as they would for a user who typed them.
    manifests: [relative(process.cwd(), join(root, "manifests")) || "."],
    policy: relative(process.cwd(), join(root, "deploy", "policy.yaml")),
    log,
    // Explicit endpoint and dummy credentials: the demo must never reach a real account, whatever the
    // user's environment says.
    client: { endpoint: emu.url, stsEndpoint: emu.url, credentials: { accessKeyId: "AKIDREKONDEMO", secretAccessKey: "demo" } },
  };
  const say = (s: string) => io.stdout.write(s);
  try {
    say(`rekon demo — embedded Rekognition emulator at ${emu.url} (demo account 123456789012, us-east-1)\n`);
    say(`manifests: manifests/   policy: deploy/policy.yaml\n\n== 1. rekon plan ==\n`);
    const first = await planPass(opts);
    say(renderPlanTable(first.plan, table));

    say(`\n== 2. rekon apply --auto-approve ==\n`);
    const outcome = await applyAuthorized(first, log);
    const results = outcome.results;
    if (outcome.refused) say(`Refused (${outcome.refused.rule}): ${outcome.refused.message}\n`);
    say(renderResultsTable(results, table));
    const left = await waitForDeletions(results, { clientFor: first.clientFor, log, projects: first.plan.projects, intervalMs: 500, timeoutMs: 20_000 });
    first.close();
    say(left.length ? `still deleting: ${left.join(", ")}\n` : `AWS finished deleting ${results.filter((r) => r.result === "accepted").length} version(s).\n`);

    say(`\n== 3. rekon plan (again) ==\n`);
    const second = await planPass(opts);
    second.close();
    say(renderPlanTable(second.plan, table));

    say(savings(first.plan, second.plan, emu.meter()));

    say(`\n== 4. archive before delete, and restore (docs/archive.md) ==\n`);
    const archived = await archiveDemo(emu, opts, log, say, table);

    const ok =
      !outcome.refused &&
      second.plan.summary.delete + second.plan.summary.start + second.plan.summary.stop === 0 &&
      second.plan.projects.every((p) => p.status === "ok") &&
      results.every((r) => r.result === "accepted") &&
      archived;
    say(
      ok
        ? `\nConverged: nothing left to delete. Blocked versions stay until a person changes the manifests or the policy.\n` +
            `Rehearse by hand:  npx rekon emulator --port 4566  then, in another shell,\n` +
            `  AWS_ENDPOINT_URL_REKOGNITION=http://127.0.0.1:4566 AWS_ENDPOINT_URL_STS=http://127.0.0.1:4566 AWS_REGION=us-east-1 \\\n  AWS_ACCESS_KEY_ID=x ` +
            `AWS_SECRET_ACCESS_KEY=x \\\n` +
            `  npx rekon plan --manifests manifests/ --policy deploy/policy.yaml\n`
        : `\nDemo did not converge: see above.\n`,
    );
    return ok ? 0 : 1;
  } finally {
    await emu.close();
  }
}

/**
 * What the run changed in running models: the units before and after, what that saves per 30 days, and what
 * the emulator's meter billed while the demo ran (seconds of it: the saving is in the hours to come).
 */
function savings(before: Plan, after: Plan, meter: Record<string, number>): string {
  const was = before.inferenceUnits?.now ?? 0;
  const now = after.inferenceUnits?.now ?? 0;
  const saved = (was - now) * HOURS_PER_30_DAYS;
  const price = before.cost ? before.cost.perHourNow / Math.max(was, 1) : undefined;
  const money = price !== undefined && before.cost ? ` (${formatMoney(saved * price)} ${before.cost.currency})` : "";
  const metered = Object.values(meter).reduce((a, b) => a + b, 0);
  return (
    `\nRunning models: ${was} IU before the demo, ${now} IU now. The demo saved ${saved} IU-hours${money} per 30 days ` +
    `(the emulator metered ${metered.toFixed(4)} IU-hours while it ran).\n`
  );
}

/**
 * Step 4: the shelf team moves from v6 to v7 (v6 leaves its manifest) with archiving turned on for its project
 * by a manifest layer. The first apply copies v6 into model-archive and holds it while the copy runs
 * (`archiving`); the next deletes it once the copy is complete; `rekon restore` copies it back under a new
 * name (and a new ARN). Manifests in a temporary folder: the repository's own stay as they are.
 */
async function archiveDemo(
  emu: Emulator,
  base: ReconcileOptions,
  log: Logger,
  say: (s: string) => void,
  table: Parameters<typeof renderPlanTable>[1],
): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), "rekon-demo-"));
  try {
    mkdirSync(join(dir, "manifests"));
    const set =
      "apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata:\n  name: shelf-models\nspec:\n  project: shelf-scanner\n  region: us-east-1\n";
    writeFileSync(join(dir, "manifests", "shelf-scanner.yaml"), `${set}  versions:\n    - name: v7\n    - name: v10\n`);
    writeFileSync(
      join(dir, "manifests", "archive.yaml"),
      "apiVersion: rekon.dev/v1alpha1\nkind: DeletionPolicy\nmetadata:\n  name: shelf-archive\nspec:\n  selector: {projects: [shelf-scanner]}\n" +
        "  archive:\n    project: model-archive\n    outputConfig: {s3Bucket: demo-model-archive, s3KeyPrefix: rekon/}\n",
    );
    const opts = { ...base, manifests: [join(dir, "manifests")] };
    say(`The shelf team lists v7 instead of v6, and a manifest policy turns archiving on for shelf-scanner:\n`);
    const results = [];
    for (let run = 1; run <= 2; run++) {
      const pass = await planPass(opts);
      if (run === 1) say(renderPlanTable(pass.plan, table));
      const out = await applyAuthorized(pass, log);
      pass.close();
      say(`\napply #${run}:\n${renderResultsTable(out.results, table)}`);
      results.push(...out.results);
      if (run === 1) await waitForCopy(emu, "shelf-scanner--v6");
    }
    const deleted = results.find((r) => r.versionName === "v6" && r.result === "accepted");
    const operator = loadPolicy(base.policy).policy;
    if (!deleted?.archivedAs || !operator) return false;
    say(`\nrekon restore model-archive/shelf-scanner--v6 --to shelf-scanner --name v6-restored\n`);
    const r = await restore({
      from: { project: "model-archive", version: "shelf-scanner--v6" },
      to: "shelf-scanner",
      name: "v6-restored",
      region: "us-east-1",
      policy: {
        ...operator,
        // The layer's archive settings: restore takes the copy's output bucket from spec.archive.
        archive: { project: "model-archive", outputConfig: { s3Bucket: "demo-model-archive", s3KeyPrefix: "rekon/" }, required: true, origin: "demo" },
      },
      log,
      retry: DEFAULT_RETRY,
      client: base.client!,
      pollMs: 250,
      progress: (status, ms) => say(`  restore: ${status} (${(ms / 1000).toFixed(1)}s)\n`),
    });
    say(`Restored as ${r.arn}\n  a new version with a new ARN: list v6-restored in the manifests to keep it.\n`);
    return r.status === "COPYING_COMPLETED";
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Until the emulator's copy is complete (it takes a second): the demo's stand-in for the controller's next cycle. */
async function waitForCopy(emu: Emulator, name: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const v = emu
      .snapshot()
      .projects.find((p) => p.name === "model-archive")
      ?.versions?.find((x) => x.name === name);
    if (!v || v.status !== "COPYING_IN_PROGRESS") return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
