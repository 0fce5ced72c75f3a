// Text layout for terminal views: widths that ignore colour codes, padding, and wrapping to a width with
// a hanging indent. Nothing is ever cut: a name longer than its column wraps, it is never shortened,
// because the one thing a reader of a deletion plan must see whole is what will be deleted.
import { stripVTControlCharacters } from "node:util";

/** Width when the output is not a terminal and COLUMNS does not say: wide enough for CI logs, narrow enough to read. */
export const DEFAULT_WIDTH = 100;
/** Below this, layouts stop trying to fit and simply wrap. */
export const MIN_WIDTH = 40;

/** Columns on screen (escape codes take none). */
export function visibleLength(s: string): number {
  return stripVTControlCharacters(s).length;
}

export function padEnd(s: string, width: number): string {
  const n = visibleLength(s);
  return n >= width ? s : s + " ".repeat(width - n);
}

/**
 * The width to lay out for: the terminal's columns when `stream` is one, else COLUMNS when set (as a
 * user's `COLUMNS=120 rekon plan | less`), else DEFAULT_WIDTH.
 */
export function outputWidth(stream: object, env: NodeJS.ProcessEnv): number {
  const { isTTY, columns } = stream as { isTTY?: boolean; columns?: number };
  if (isTTY && columns && columns > 0) return Math.max(MIN_WIDTH, columns);
  const fromEnv = Number(env.COLUMNS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return Math.max(MIN_WIDTH, fromEnv);
  return DEFAULT_WIDTH;
}

/**
 * Break plain `text` into lines of at most `width` columns, at spaces where it can; a word longer than a
 * line is split after a `.`, `-`, `_`, `/` or `:` near the end when there is one, else at the width.
 */
export function wrap(text: string, width: number, restWidth: number = width): string[] {
  const out: string[] = [];
  let w = Math.max(1, width);
  let line = "";
  const push = (l: string) => {
    out.push(l);
    w = Math.max(1, restWidth);
  };
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!line) line = word;
    else if (line.length + 1 + word.length <= w) line += " " + word;
    else {
      push(line);
      line = word;
    }
    while (line.length > w) {
      const cut = breakAt(line, w);
      push(line.slice(0, cut));
      line = line.slice(cut);
    }
  }
  if (line || out.length === 0) out.push(line);
  return out;
}

function breakAt(word: string, w: number): number {
  for (let i = w; i > Math.floor(w / 2); i--) if (/[.\-_/:,]/.test(word[i - 1]!)) return i;
  return w;
}

/**
 * `first` then `text` wrapped so that every line fits `width`: the first line starts after `first`
 * (already `indent` wide or less), the next ones after `indent` spaces.
 */
export function hanging(first: string, text: string, indent: number, width: number, paint: (s: string) => string = (s) => s): string[] {
  const lines = wrap(text, Math.max(MIN_WIDTH / 2, width - indent));
  return lines.map((l, i) => (i === 0 ? padEnd(first, indent) : " ".repeat(indent)) + paint(l));
}
