// Loaded with `node --import`: records every module the process resolves into $REKON_IMPORT_TRACE, so a
// test can prove a command never loaded a package (validate must not load the AWS SDK).
import { register } from "node:module";

register(new URL("./import-trace-hooks.mjs", import.meta.url), { data: { file: process.env.REKON_IMPORT_TRACE } });
