// Colour for people, and only for people: on a terminal, unless NO_COLOR says otherwise; never in JSON or
// markdown (their renderers never call these). Few colours, each with one meaning, so colour is a hint
// the words already carry: delete red, blocked yellow, missing cyan, keep dim, the summary bold.
//
// picocolors rather than node:util styleText: Node 20's styleText decides on its own whether to colour
// (and does so differently for a single format and a list of them), so the choice would not be ours.
import pc from "picocolors";
import type { ActionKind, WriteOutcome } from "../types.js";

export interface Style {
  /** Whether escape codes are written at all. */
  readonly color: boolean;
  red(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  green(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

const colored = pc.createColors(true);

export const COLOR: Style = {
  color: true,
  red: colored.red,
  yellow: colored.yellow,
  cyan: colored.cyan,
  green: colored.green,
  dim: colored.dim,
  bold: colored.bold,
};

const same = (s: string) => s;
export const PLAIN: Style = { color: false, red: same, yellow: same, cyan: same, green: same, dim: same, bold: same };

export function style(color: boolean): Style {
  return color ? COLOR : PLAIN;
}

/**
 * Colour on this stream? FORCE_COLOR decides when set ("0" or "false" = no; any other value = yes, as
 * Node and most tools read it), then a non-empty NO_COLOR (no-color.org) turns colour off, then
 * TERM=dumb; otherwise colour exactly when the stream is a terminal (never into a pipe or a file).
 */
export function colorEnabled(stream: object, env: NodeJS.ProcessEnv): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== "0" && force.toLowerCase() !== "false";
  if (env.NO_COLOR) return false;
  if (env.TERM === "dumb") return false;
  return (stream as { isTTY?: boolean }).isTTY === true;
}

/** A plan action word in its colour. */
export function actionColor(s: Style, kind: ActionKind): (text: string) => string {
  return kind === "delete" || kind === "stop" ? s.red : kind === "blocked" ? s.yellow : kind === "missing" || kind === "start" ? s.cyan : s.dim;
}

/** A write result in its colour: what did not happen (or may have) loud, what is fine quiet. */
export function resultColor(s: Style, outcome: WriteOutcome): (text: string) => string {
  switch (outcome) {
    case "accepted":
      return s.green;
    case "alreadyDeleted":
      return s.dim;
    case "failed":
    case "unknown":
      return s.red;
    case "changed":
    case "skipped":
    case "archiving":
      return s.yellow;
  }
}
