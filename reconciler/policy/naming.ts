// How policy layers are named in reasons and messages. Pure strings, kept apart from policy/load.ts (which
// reads files) so the planner and the gate can name layers without importing file or YAML code.
import type { SourcePos } from "../errors.js";

export const operatorLayer = (source: string) => (source === "defaults" ? "built-in defaults" : `operator policy ${source}`);
export const manifestLayer = (pos: SourcePos, name: string) => `manifest policy "${name}" (${pos.file})`;
