// The command table is the one declaration of every command's flags: the parser, the help, the
// "belongs to another command" errors and docs/cli.md's tables must all agree with it.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { allFlags, commandHelp, helpText, main } from "../../reconciler/cli.js";
import { COMMANDS } from "../../reconciler/commands/index.js";
import { COMMON_FLAGS } from "../../reconciler/commands/spec.js";
import { ROOT } from "../helpers/run-cli.js";

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const sink = (add: (s: string) => void) => new Writable({ write: (c, _e, cb) => (add(String(c)), cb()) });
  const stdin = Object.assign(new (await import("node:stream")).Readable({ read() {} }), { isTTY: false });
  const code = await main(args, { stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)), stdin, env: {} });
  return { code, stdout, stderr };
}

const README = readFileSync(join(ROOT, "docs/cli.md"), "utf8");

describe("the command table", () => {
  it("one flag name means one thing across commands", () => {
    expect(() => allFlags()).not.toThrow();
  });

  it("rekon --help shows every command, every flag and every exit-code line", () => {
    const help = helpText();
    for (const c of COMMANDS) {
      expect(help).toContain(`rekon ${c.usage[0]}`);
      for (const e of c.exits) expect(help).toContain(e);
      for (const f of Object.keys(c.flags)) expect(help).toContain(`--${f}`);
    }
  });

  it("each command's --help shows exactly its own flags and the common ones", async () => {
    for (const c of COMMANDS) {
      const r = await run([c.name, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(commandHelp(c));
      const shown = new Set([...r.stdout.matchAll(/^ {2}(?:-\w, )?--([a-z-]+)/gm)].map((m) => m[1]));
      expect([...shown].sort()).toEqual([...Object.keys(c.flags), ...Object.keys(COMMON_FLAGS)].sort());
    }
  });

  it("a flag of another command is refused, naming the flag and the command", async () => {
    for (const c of COMMANDS) {
      const foreign = [...allFlags()].find(([f, s]) => !Object.hasOwn(c.flags, f) && !Object.hasOwn(COMMON_FLAGS, f) && s.type === "boolean");
      if (!foreign) continue;
      const r = await run([c.name, `--${foreign[0]}`]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`--${foreign[0]} does not apply to "${c.name}"`);
    }
  });

  it("an unknown command lists every command", async () => {
    const r = await run(["frobnicate"]);
    expect(r.stderr).toContain(`commands: ${COMMANDS.map((c) => c.name).join(", ")}`);
  });

  it("docs/cli.md documents every flag, and its CLI tables name no flag the table lacks", () => {
    for (const f of allFlags().keys()) expect(README, `--${f} in README`).toContain(`--${f}`);
    // Rows of the README's option tables: | `--flag ...` | ... |
    const rows = [...README.matchAll(/^\| `(--[a-z-]+)[^`]*`/gm)].map((m) => m[1]!.slice(2));
    expect(rows.length).toBeGreaterThan(10);
    const known = new Set(allFlags().keys());
    expect(rows.filter((f) => !known.has(f))).toEqual([]);
  });

  it("docs/cli.md's synopsis is the table's, line for line", () => {
    const usage = helpText().split("Usage:\n")[1]!.split("\n\n")[0]!.split("\n").map((l) => l.slice(2)).join("\n");
    expect(README).toContain("## Synopsis\n\n```\n" + usage + "\n```");
  });
});
