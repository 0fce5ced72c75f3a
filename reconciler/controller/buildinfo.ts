// What build is running, for rekon_build_info: the version from package.json, the Git revision from the
// file `npm run build` writes (dist/build-info.json, from REKON_REVISION or `git rev-parse HEAD`; the
// Dockerfile passes its REVISION build argument), or REKON_REVISION at run time. "unknown" when none says.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../paths.js";

export interface BuildInfo {
  version: string;
  revision: string;
}

export const BUILD_INFO_FILE = "dist/build-info.json";

export function buildInfo(env: NodeJS.ProcessEnv = process.env): BuildInfo {
  let root: string | undefined;
  try {
    root = packageRoot();
  } catch {
    return { version: "unknown", revision: env.REKON_REVISION || "unknown" };
  }
  const json = (file: string): Record<string, unknown> => {
    try {
      return JSON.parse(readFileSync(join(root!, file), "utf8")) as Record<string, unknown>;
    } catch {
      return {};
    }
  };
  const version = json("package.json").version;
  const revision = env.REKON_REVISION || json(BUILD_INFO_FILE).revision;
  return {
    version: typeof version === "string" && version ? version : "unknown",
    revision: typeof revision === "string" && revision ? revision : "unknown",
  };
}
