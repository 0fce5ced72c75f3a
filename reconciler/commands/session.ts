// What plan and apply share: the logger, and the process signals. Signals tell the truth. The first
// SIGINT/SIGTERM: no new AWS call, no new write; writes already sent are awaited (never aborted: that would
// not stop AWS, only hide its answer). The second: stop waiting, report every unanswered write as
// `unknown`, and exit at once (130).
import type { Logger } from "pino";
import type { Io } from "../io.js";
import type { LogFormat } from "../log.js";
import type { Screen } from "../render/screen.js";
import { EXIT } from "./spec.js";

export interface Session {
  log: Logger;
  /** stderr, shared by the log lines and apply's progress bar. */
  screen: Screen;
  /** Aborted by the first signal: no new call, no new write. */
  stop: AbortSignal;
  /** Aborted by the second signal while writes are in flight: stop waiting for them. */
  abandon: AbortSignal;
  /** Say whether writes may be in flight (a second signal then abandons them instead of exiting). */
  applying(on: boolean): void;
  close(): void;
}

export async function openSession(level: string, format: LogFormat, io: Io): Promise<Session> {
  const [{ createLogger }, { Screen }, { colorEnabled, style }] = await Promise.all([
    import("../log.js"),
    import("../render/screen.js"),
    import("../render/style.js"),
  ]);
  const screen = new Screen(io.stderr);
  const log = createLogger(level, screen, { format, style: style(colorEnabled(io.stderr, io.env)) });
  const stop = new AbortController();
  const abandon = new AbortController();
  let applying = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      if (!applying) process.exit(EXIT.interrupted);
      log.warn({ signal: sig }, "second signal: no longer waiting for writes in flight; they are reported unknown");
      abandon.abort(new Error(`second ${sig}`));
      return;
    }
    log.warn({ signal: sig }, "interrupted: no new write will be sent; writes already sent are awaited (a second signal stops waiting)");
    stop.abort(new Error(`interrupted by ${sig}`));
  };
  process.on("SIGINT", onSignal).on("SIGTERM", onSignal);
  return {
    log,
    screen,
    stop: stop.signal,
    abandon: abandon.signal,
    applying: (on) => void (applying = on),
    close: () => void process.off("SIGINT", onSignal).off("SIGTERM", onSignal),
  };
}
