#!/usr/bin/env node
// The `rekon` executable: hand the process to the CLI and set the exit code it decides.
import { main } from "./cli.js";

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
