// What a command talks to: its output streams, its input and its environment. The CLI passes the process's;
// tests pass their own. A type only, so every layer may use it without depending on the CLI.
export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}
