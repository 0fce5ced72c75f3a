// The exact command that approves one marked version's deletion (`rekon approve`), printed by `rekon pending`
// where a person's approval is what a version waits for. Every word is shell-quoted: names and paths are
// pasted into a shell, and a path with a space or a quote must not become two words or a command.

/** One word for a POSIX shell: bare when it holds only characters no shell treats specially, else single-quoted. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** `rekon approve PROJECT/VERSION --manifests PATH... [--policy FILE]`, quoted for a shell. */
export function approveCommand(target: { project: string; version: string }, inputs: { manifests: readonly string[]; policy?: string }): string {
  const words = ["rekon", "approve", shellQuote(`${target.project}/${target.version}`)];
  for (const m of inputs.manifests) words.push("--manifests", shellQuote(m));
  if (inputs.policy !== undefined) words.push("--policy", shellQuote(inputs.policy));
  return words.join(" ");
}
