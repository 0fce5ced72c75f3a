// A `rekon run --apply` controller against the emulator for the status-page suites (HTTP and the browser):
// one project with a version marked a day ago, one apply marks now, one kept (by its `owner` tag) by a custom
// rule whose message is hostile markup, and a second project suspended with a hostile reason (AWS tag values
// cannot hold `<` or quotes — the emulator refuses them as AWS does — so the markup comes from manifests); tag signing and a webhook channel whose URL carries a
// token are on, so the tests can check that none of those secrets reaches the page.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { startReceiver, type Receiver } from "../helpers/receiver.js";
import { cycleFinished, startRun, type RunProcess } from "./helpers.js";

export const ACCOUNT = "123456789012";
export const HOSTILE_OWNER = `<script>alert("owner")</script>'"`;
export const HOSTILE_REASON = `<img src=x onerror="alert('reason')"> freeze`;
export const TAG_KEY = "tag-signing-key-0123456789abcdefghijklmnopqrstuvwxyz";
export const WEBHOOK_SECRET = "webhook-hmac-secret-do-not-show";
export const HOOK_TOKEN = "T0KEN-in-the-webhook-url-do-not-show";

export interface StatusWorld {
  emu: Emulator;
  receiver: Receiver;
  run: RunProcess;
  dir: string;
  /** The webhook URL as configured (with its token). */
  hookUrl: string;
  /** The controller's base URL. */
  url: string;
  close(): Promise<void>;
}

const tagTime = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

/** `plain`: ordinary words instead of the hostile ones (the README's screenshot). */
export async function startStatusWorld(o: { plain?: boolean } = {}): Promise<StatusWorld> {
  const ownerMessage = o.plain ? "owned by a team: they retire it" : HOSTILE_OWNER;
  const reason = o.plain ? "quarter-end freeze" : HOSTILE_REASON;
  const receiver = await startReceiver();
  const hookUrl = `${receiver.url}/hook/${HOOK_TOKEN}`;
  const emu = await startEmulator({
    state: {
      account: ACCOUNT,
      projects: [
        {
          name: "fraud-detector",
          versions: [
            { name: "v3", status: "STOPPED", age: "1d" },
            { name: "v2", status: "STOPPED", age: "10d", tags: { "rekon.dev/pending-delete-since": tagTime(Date.now() - 86_400_000) } },
            { name: "v1", status: "STOPPED", age: "20d" },
            { name: "v0", status: "STOPPED", age: "30d", tags: { owner: "team-a @risk", "rekon.dev/pending-delete-since": tagTime(Date.now() - 3_600_000) } },
          ],
        },
        { name: "churn", versions: [{ name: "c1", status: "STOPPED", age: "5d" }] },
      ],
    },
  });
  const dir = mkdtempSync(join(tmpdir(), "rekon-status-"));
  writeFileSync(
    join(dir, "policy.yaml"),
    `apiVersion: rekon.dev/v1alpha1
kind: DeletionPolicy
metadata:
  name: ops
spec:
  allowedAccounts: ["${ACCOUNT}"]
  minAge: 1h
  keepLatest: 0
  gracePeriod: 48h
  rules:
    - name: owner-kept
      deny: '"owner" in version.tags'
      message: ${JSON.stringify(ownerMessage)}
  tagSigning:
    secret: {fromEnv: REKON_TAG_KEY}
  notifications:
    - name: platform
      url: {fromEnv: REKON_WEBHOOK_URL}
      secret: {fromEnv: REKON_WEBHOOK_SECRET}
      events: [marked, deleted, failed]
`,
  );
  writeFileSync(
    join(dir, "fraud.yaml"),
    `apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata:\n  name: fraud\nspec:\n  project: fraud-detector\n  region: us-east-1\n  versions:\n    - name: v3\n`,
  );
  writeFileSync(
    join(dir, "churn.yaml"),
    `apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata:\n  name: churn\nspec:\n  project: churn\n  region: us-east-1\n` +
      `  suspend:\n    reason: ${JSON.stringify(reason)}\n  versions:\n    - name: c1\n`,
  );
  const manifests = join(dir, "m");
  const { mkdirSync, renameSync } = await import("node:fs");
  mkdirSync(manifests);
  renameSync(join(dir, "fraud.yaml"), join(manifests, "fraud.yaml"));
  renameSync(join(dir, "churn.yaml"), join(manifests, "churn.yaml"));
  const run = startRun(
    ["--manifests", manifests, "--policy", join(dir, "policy.yaml"), "--interval", "1h", "--listen", "127.0.0.1:0", "--apply"],
    { ...emulatorEnv(emu.url), REKON_TAG_KEY: TAG_KEY, REKON_WEBHOOK_URL: hookUrl, REKON_WEBHOOK_SECRET: WEBHOOK_SECRET },
  );
  const url = await run.url();
  await run.waitFor(cycleFinished, 30_000, "the first cycle");
  return {
    emu,
    receiver,
    run,
    dir,
    hookUrl,
    url,
    close: async () => {
      run.kill("SIGKILL");
      await run.exited;
      await emu.close();
      await receiver.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
