// The command line: builds the command table (commands/), parses, dispatches, and is the only place that
// turns errors into words and exit codes. The parser, the help, and the "flag belongs to another command"
// errors all come from the commands' own declarations, so they cannot disagree. Command modules import
// what pulls in the AWS SDK lazily, so `--help` and `validate` stay fast and offline.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./errors.js";
import type { Io } from "./io.js";
import { COMMANDS } from "./commands/index.js";
import { reportError } from "./commands/errors.js";
import { COMMON_FLAGS, EXIT, TOP_FLAGS, type Command, type FlagSpec, type FlagValues } from "./commands/spec.js";

export { EXIT };
export type { Io };

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/** Every flag any command takes, once: one name means one thing (checked when the table is built). */
export function allFlags(commands: readonly Command[] = COMMANDS): Map<string, FlagSpec> {
  const out = new Map<string, FlagSpec>([...Object.entries(COMMON_FLAGS), ...Object.entries(TOP_FLAGS)]);
  for (const c of commands) {
    for (const [name, spec] of Object.entries(c.flags)) {
      const prior = out.get(name);
      if (prior && (prior.type !== spec.type || !!prior.multiple !== !!spec.multiple))
        throw new Error(`flag --${name} is declared differently by two commands (${c.name})`);
      if (!prior) out.set(name, spec);
    }
  }
  return out;
}

/** A synopsis line; one that starts with a space continues the line above it. */
function usageLine(u: string): string {
  return u.startsWith(" ") ? `        ${u}` : `  rekon ${u}`;
}

function flagLine(name: string, spec: FlagSpec): [string, string] {
  return [`${spec.short ? `-${spec.short}, ` : ""}--${name}${spec.value ? ` ${spec.value}` : ""}`, spec.help];
}

function columns(rows: [string, string][], indent = "  "): string {
  const w = Math.min(28, Math.max(...rows.map(([a]) => a.length)));
  return rows.map(([a, b]) => (a.length > w ? `${indent}${a}\n${indent}${" ".repeat(w)}  ${b}` : `${indent}${a.padEnd(w)}  ${b}`)).join("\n");
}

export function helpText(commands: readonly Command[] = COMMANDS): string {
  const flags = allFlags(commands);
  const users = (name: string) => commands.filter((c) => Object.hasOwn(c.flags, name)).map((c) => c.name);
  const opts: [string, string][] = [...flags].map(([name, spec]) => {
    const [left, help] = flagLine(name, spec);
    const who = Object.hasOwn(COMMON_FLAGS, name) ? [] : users(name);
    return [left, who.length && who.length < commands.length ? `${help} [${who.join(", ")}]` : help];
  });
  return (
    `rekon — keep Amazon Rekognition project versions equal to what Git declares\n\n` +
    `Usage:\n${commands.flatMap((c) => c.usage.map(usageLine)).join("\n")}\n\n` +
    `Commands:\n${columns(commands.map((c) => [c.name, c.summary]))}\n\n` +
    `Options:\n${columns(opts)}\n\n` +
    `Exit codes:\n${commands.map((c) => `  ${(c.name + ":").padEnd(10)}${c.exits.join("; ")}`).join("\n")}\n\n` +
    `"rekon COMMAND --help" shows one command. AWS access uses the SDK's standard chain: AWS_REGION,\n` +
    `AWS_PROFILE, credentials, and AWS_ENDPOINT_URL_REKOGNITION / AWS_ENDPOINT_URL_STS (e.g.\n` +
    `http://127.0.0.1:4566 for the emulator; rekon asks STS who it is before reading).\n`
  );
}

export function commandHelp(c: Command): string {
  const rows = [...Object.entries(c.flags), ...Object.entries(COMMON_FLAGS)].map(([n, s]) => flagLine(n, s));
  return (
    `rekon ${c.name} — ${c.summary}\n\nUsage:\n${c.usage.map(usageLine).join("\n")}\n\nOptions:\n${columns(rows)}\n\nExit ` +
    `codes:\n${c.exits.map((e) => `  ${e}`).join("\n")}\n`
  );
}

function parse(argv: string[]): { command: string | undefined; flags: FlagValues; positionals: string[] } {
  const options: ParseArgsConfig["options"] = Object.fromEntries(
    [...allFlags()].map(([name, s]) => [name, { type: s.type, ...(s.multiple ? { multiple: true } : {}), ...(s.short ? { short: s.short } : {}) }]),
  );
  try {
    const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, strict: true, options });
    return { command: positionals[0], flags: values as FlagValues, positionals: positionals.slice(1) };
  } catch (e) {
    throw new UsageError(parseErrorMessage(e as Error & { code?: string }));
  }
}

/**
 * node:util's parse errors in rekon's words, one line each: its text for an unknown flag goes on about
 * positional arguments after `--`, which rekon does not take, and leaves a quote open.
 */
function parseErrorMessage(e: Error & { code?: string }): string {
  const flag = /'(-{1,2}[^'\s]+)/.exec(e.message)?.[1];
  if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && flag) return `Unknown option '${flag}'`;
  if (e.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && flag)
    return `${flag} ${/does not take an argument/.test(e.message) ? "takes no value" : "needs a value"}`;
  return e.message.replace(/\. To specify a positional argument.*$/s, "");
}

export async function main(argv: string[], io: Io): Promise<number> {
  tolerateClosedPipes(io);
  let output = "table";
  try {
    const { command: parsed, flags, positionals } = parse(argv);
    // `rekon --version` is `rekon version`.
    const name = parsed === undefined && flags.version ? "version" : parsed;
    if (parsed === undefined) delete flags.version;
    if (name === undefined || name === "help") {
      io.stdout.write(helpText());
      return name === undefined && !flags.help ? EXIT.error : EXIT.ok;
    }
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) throw new UsageError(`unknown command "${name}"; commands: ${COMMANDS.map((c) => c.name).join(", ")}`);
    output = (flags.output as string | undefined) ?? command.outputs?.[0] ?? "table";
    if (flags.help) {
      io.stdout.write(commandHelp(command));
      return EXIT.ok;
    }
    // A flag that another command owns is an error, never silently ignored: `rekon plan --apply` must
    // not look as if it did something.
    const stray = Object.keys(flags).find((f) => !Object.hasOwn(command.flags, f) && !Object.hasOwn(COMMON_FLAGS, f));
    if (stray) throw new UsageError(`--${stray} does not apply to "${name}"`);
    const maxArgs = command.maxArgs ?? 0;
    if (positionals.length > maxArgs) throw new UsageError(`unexpected argument "${positionals[maxArgs]}"`);
    if (command.outputs && !command.outputs.includes(output)) throw new UsageError(`--output must be one of: ${command.outputs.join(", ")}`);
    const level = (flags["log-level"] as string | undefined) ?? "info";
    if (!LOG_LEVELS.includes(level)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(", ")}`);
    return await command.run({ flags, args: positionals, io, level, output });
  } catch (err) {
    return reportError(err, io, output);
  }
}

const guarded = new WeakSet<object>();
/**
 * A reader that went away (`rekon plan | head`, a log shipper restarting) makes writes fail with EPIPE. That
 * must not kill rekon halfway through an apply or a controller cycle: what is written to a closed pipe is
 * dropped, the work goes on, and the exit code still says how it ended. Other stream errors stay fatal.
 */
function tolerateClosedPipes(io: Io): void {
  for (const s of [io.stdout, io.stderr]) {
    if (guarded.has(s)) continue;
    guarded.add(s);
    s.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE" && err.code !== "ERR_STREAM_DESTROYED") throw err;
    });
  }
}
