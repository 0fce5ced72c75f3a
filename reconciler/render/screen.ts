// One writer for a terminal stream that a status line (apply's progress bar) and log lines share. While
// the bar is on screen, a log line must not land inside it: the bar's line is cleared, the log line
// written in its place (the terminal scrolls as usual), and the bar drawn again below it. Everything that
// writes lines to stderr during apply goes through here; off a terminal there is no bar and writes pass
// straight through.

export interface StatusLine {
  /** Draw the status line again on the current (empty) line, the cursor left at its end. */
  redraw(): void;
}

/** Erase the whole current line and return to its start (CR, then CSI 2 K). */
export const CLEAR_LINE = "\r\x1b[2K";

export class Screen {
  private status: StatusLine | undefined;

  constructor(readonly stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }) {}

  get isTTY(): boolean {
    return this.stream.isTTY === true;
  }

  /** Write whole lines (ending in "\n"); above the status line when one is on screen. */
  write(text: string): void {
    if (!this.status) {
      this.stream.write(text);
      return;
    }
    this.stream.write(CLEAR_LINE + text);
    this.status.redraw();
  }

  /** Keep `status` drawn at the bottom until the returned function is called. One at a time. */
  hold(status: StatusLine): () => void {
    if (this.status) throw new Error("a status line is already on screen");
    this.status = status;
    return () => {
      if (this.status === status) this.status = undefined;
    };
  }
}
