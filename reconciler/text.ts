// Small text helpers shared by messages: one copy each, so every message is shaped the same way.

/** The first line of an error message, trimmed: SDK and CEL errors carry stacks and hints below it. */
export function firstLine(s: string): string {
  return s.split("\n")[0]!.trim();
}
