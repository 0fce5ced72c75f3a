#!/usr/bin/env node
// The `rekon` executable: hand the process to the CLI and set the exit code it decides.
import { main } from "./cli.js";

/** The AWS SDK's releases after the first week of January 2027 need this Node major or later. */
const SDK_NODE_MAJOR = 22;

routeNodeVersionWarning();

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }).then(
  (code) => {
    process.exitCode = code;
    // 130: a second signal. Writes still in flight were reported unknown; do not wait for their sockets.
    if (code === 130) process.exit(130);
  },
  (err: unknown) => {
    process.stderr.write(`rekon: fatal: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);

/**
 * The AWS SDK prints a nine-line paragraph (a process warning) the first time it makes a client on a Node
 * older than the one its future releases need. That is rekon's business to say, not the SDK's, and in one
 * line: on Node 20 (supported, tested) rekon says once what to do; on a supported Node the SDK considers
 * old (22 or 24, should a later SDK raise its floor) nothing reaches the terminal, since rekon's own
 * releases move with the SDK. `rekon run` logs JSON on stderr: one plain line there is read like any other.
 * Every other warning still reaches Node's own printer, unchanged. AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
 * stops the SDK from warning at all, so rekon says nothing then either.
 */
function routeNodeVersionWarning(): void {
  const printers = process.listeners("warning");
  process.removeAllListeners("warning");
  let said = false;
  process.on("warning", (warning) => {
    if (!/NodeVersionSupportWarning/.test(`${warning.name}: ${warning.message}`)) {
      for (const print of printers) print.call(process, warning);
      return;
    }
    if (said || Number(process.versions.node.split(".")[0]) >= SDK_NODE_MAJOR) return;
    said = true;
    process.stderr.write(
      `rekon: Node.js ${process.version} still works, but AWS SDK releases after the first week of January 2027 need Node.js ${SDK_NODE_MAJOR} or later, and ` +
        `so will rekon's: upgrade to Node.js 22 or 24\n`,
    );
  });
}
