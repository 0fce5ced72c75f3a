// Entry point behind `rekon emulator [--state FILE] [--port N]`. The CLI owns argument parsing, signals and
// exit codes; this only starts the server and announces where it listens.

import { demoState } from "./demo.js";
import { startEmulator, type Emulator } from "./server.js";
import { loadStateFile } from "./state.js";

/**
 * Starts the emulator (seeded from `args.state`, else the demo inventory) and writes exactly
 * `listening on http://127.0.0.1:PORT\n` to `out` as its first line: scripts and tests wait for that line
 * and read the port from it, so its wording is an interface.
 */
export async function runEmulatorCommand(
  args: { state?: string; port?: number },
  out: NodeJS.WritableStream,
): Promise<Emulator> {
  const state = args.state !== undefined ? await loadStateFile(args.state) : demoState();
  const emulator = await startEmulator({ state, port: args.port ?? 0 });
  out.write(`listening on ${emulator.url}\n`);
  return emulator;
}
