// `npm start`: the whole product on the embedded emulator. Plan, apply, wait, plan again — through the
// same planPass/applyAuthorized the CLI uses, against the real SDK over real HTTP.
import { join, relative } from "node:path";
import { waitForDeletions } from "./aws/wait.js";
import type { Io } from "./io.js";
import type { Plan } from "./types.js";
import { startEmulator } from "./emulator/server.js";
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

    const ok =
      !outcome.refused &&
      second.plan.summary.delete + second.plan.summary.start + second.plan.summary.stop === 0 &&
      second.plan.projects.every((p) => p.status === "ok") &&
      results.every((r) => r.result === "accepted");
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
