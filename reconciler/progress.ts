// Apply progress for people: a bar on a terminal (stderr, so stdout stays the plan and results), and a
// pino line every few seconds elsewhere (CI logs, containers), both with done/total, rate, ETA and the
// throttles AWS answered. Progress is advisory: nothing here can fail an apply.
import type { Logger } from "pino";
import type { WriteResult } from "./types.js";
import type { RateLimiters } from "./aws/limiter.js";

export interface ProgressOptions {
  total: number;
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  log: Logger;
  /** Count throttles from these limiters' request events. */
  limiters?: RateLimiters;
  /** Off a terminal: one log line this often. Default 5 s. */
  intervalMs?: number;
  /** Force bar (true) or log lines (false); default: bar when `stream` is a TTY. */
  tty?: boolean;
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
    return { done, total: opts.total, failed, throttles, elapsedMs: Math.round(elapsedMs), rate: round(rate), ...(rate > 0 ? { etaS: Math.round((opts.total - done) / rate) } : {}) };
  };

  const tty = opts.tty ?? opts.stream.isTTY === true;
  if (tty) {
    const { default: cliProgress } = await import("cli-progress");
    const bar = new cliProgress.SingleBar(
      {
        stream: opts.stream,
        format: "deleting [{bar}] {value}/{total} | {rate}/s | ETA {eta_formatted} | throttles {throttles} | failed {failed}",
        etaBuffer: 50,
        hideCursor: true,
        clearOnComplete: false,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(opts.total, 0, { rate: "0.0", throttles: 0, failed: 0 });
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

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
