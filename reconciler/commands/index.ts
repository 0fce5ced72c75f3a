// The command table. Adding a command is adding one module here.
import { apply } from "./apply.js";
import { approve } from "./approve.js";
import { demo } from "./demo.js";
import { diff } from "./diff.js";
import { discover } from "./discover.js";
import { emulator } from "./emulator.js";
import { explain } from "./explain.js";
import { pending } from "./pending.js";
import { plan } from "./plan.js";
import { restore } from "./restore.js";
import { run } from "./run.js";
import type { Command } from "./spec.js";
import { validate } from "./validate.js";
import { version } from "./version.js";

export const COMMANDS: readonly Command[] = [validate, plan, apply, explain, discover, pending, approve, restore, diff, run, emulator, demo, version];
