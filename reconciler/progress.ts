// Apply progress for people: a bar on a terminal (stderr, so stdout stays the plan and results), and a
// pino line every few seconds elsewhere (CI logs, containers), both with done/total, rate, ETA and the
// throttles AWS answered. Progress is advisory: nothing here can fail an apply. While the bar is drawn,
// log lines written through the same Screen appear above it and the bar is drawn again under them.
import type { Options, Params } from "cli-progress";
import type { Logger } from "pino";
import { formatDuration } from "./duration.js";
import type { Screen } from "./render/screen.js";
import type { WriteResult } from "./types.js";
import type { RateLimiters } from "./aws/limiter.js";

export interface ProgressOptions {
  total: number;
  /** The bar's first word: "deleting" (default), or "writing" when the run also starts or stops models. */
  label?: string;
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  log: Logger;
  /** Count throttles from these limiters' request events. */
  limiters?: RateLimiters;
  /** Off a terminal: one log line this often. Default 5 s. */
  intervalMs?: number;
  /** Force bar (true) or log lines (false); default: bar when `stream` is a TTY. */
  tty?: boolean;
  /** The Screen that log lines reach `stream` through: the bar is held at the bottom of it. */
  screen?: Screen;
}

export interface Progress {
  result(r: WriteResult): void;
  stop(): void;
  /** Figures so far, for the final summary. */
  snapshot(): ProgressFigures;
}

export interface ProgressFigures {
  done: number;
  total: number;
  failed: number;
  throttles: number;
  elapsedMs: number;
  /** Results per second since start. */
  rate: number;
  /** Seconds left at the current rate; undefined before the first result. */
  etaS?: number;
}

export async function startProgress(opts: ProgressOptions): Promise<Progress> {
  const started = performance.now();
  let done = 0;
  let failed = 0;
  let throttles = 0;
  const unobserve = opts.limiters?.observe((e) => {
    if (e.throttled) throttles++;
  });
  const figures = (): ProgressFigures => {
    const elapsedMs = performance.now() - started;
    const rate = elapsedMs > 0 ? done / (elapsedMs / 1000) : 0;
    return {
      done,
      total: opts.total,
      failed,
      throttles,
      elapsedMs: Math.round(elapsedMs),
      rate: round(rate),
      ...(rate > 0 ? { etaS: Math.round((opts.total - done) / rate) } : {}),
    };
  };

  const tty = opts.tty ?? opts.stream.isTTY === true;
  if (tty) {
    const { default: cliProgress } = await import("cli-progress");
    const bar = new cliProgress.SingleBar({
      stream: opts.stream,
      format: (o: Options, p: Params, payload: BarPayload) => barLine(o, p, payload, opts.label ?? "deleting"),
      etaBuffer: 50,
      hideCursor: true,
      clearOnComplete: false,
      fps: 5,
      // Redrawn after every log line written above it, even when its figures did not change.
      forceRedraw: true,
      // Keep the terminal's line wrapping on (cli-progress would turn it off while the bar is shown, and
      // a log line longer than the screen would be cut); the bar itself is cut to the width instead.
      linewrap: true,
    });
    bar.start(opts.total, 0, { rate: "0.0", throttles: 0, failed: 0 });
    // cli-progress saves the cursor where the bar starts and restores it when it stops; a log line above
    // the bar moves the bar down a line, so the position is saved again (ESC 7) each time it is redrawn.
    const release = opts.screen?.hold({
      redraw() {
        opts.stream.write("\x1b7");
        bar.render();
      },
    });
    const refresh = setInterval(() => bar.update(done, { rate: figures().rate.toFixed(1), throttles, failed }), 500);
    return {
      result(r) {
        done++;
        if (r.result === "failed") failed++;
        bar.update(done, { rate: figures().rate.toFixed(1), throttles, failed });
      },
      stop() {
        clearInterval(refresh);
        unobserve?.();
        bar.update(done, { rate: figures().rate.toFixed(1), throttles, failed });
        bar.stop();
        release?.();
      },
      snapshot: figures,
    };
  }

  const timer = setInterval(() => opts.log.info(figures(), "apply progress"), opts.intervalMs ?? 5_000);
  timer.unref();
  return {
    result(r) {
      done++;
      if (r.result === "failed") failed++;
    },
    stop() {
      clearInterval(timer);
      unobserve?.();
      opts.log.info(figures(), "apply finished");
    },
    snapshot: figures,
  };
}

/**
 * `deleting [████░░░░] 3/7 | 1.2/s | ETA 4s | throttles 0 | failed 0`, the bar as wide as the terminal leaves
 * room for (at most 40): a line the terminal would cut would lose the failure count at its end.
 */
type BarPayload = { rate?: string; throttles?: number; failed?: number };
function barLine(_options: Options, params: Params, payload: BarPayload, label: string): string {
  const eta = typeof params.eta === "number" && Number.isFinite(params.eta) ? formatDuration(params.eta * 1000) : "?";
  const figures =
    `${params.value}/${params.total} | ${payload.rate ?? "0.0"}/s | ETA ${eta} | throttles ${payload.throttles ?? 0} | failed ` + `${payload.failed ?? 0}`;
  const room = (params.maxWidth || 80) - `${label} [] `.length - figures.length - 1;
  const size = Math.max(5, Math.min(40, room));
  const full = Math.round(Math.max(0, Math.min(1, params.progress)) * size);
  return `${label} [${"█".repeat(full)}${"░".repeat(size - full)}] ${figures}`;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
