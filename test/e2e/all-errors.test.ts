// Every input error in one run: a schema error in one manifest must not hide that another manifest names
// the same project (or the same set name), and a missing --policy file's hint names --policy. Through the
// built binary (validate, and plan with the emulator's call log empty), and the reader itself.
import { afterEach, describe, expect, it } from "vitest";
import { loadManifests } from "../../reconciler/inputs/manifests.js";
import { startEmulator, type Emulator } from "../../reconciler/emulator/server.js";
import { emulatorEnv } from "../helpers/emulator-env.js";
import { runCli } from "../helpers/run-cli.js";
import { tmpTree } from "../helpers/tmp.js";

const set = (name: string, project: string, versions: string) =>
  `apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata: {name: ${name}}\nspec:\n  project: ${project}\n  region: us-east-1\n  versions: ${versions}\n`;

let cleanup: (() => void) | undefined;
let emu: Emulator | undefined;
afterEach(async () => {
  cleanup?.();
  cleanup = undefined;
  await emu?.close();
  emu = undefined;
});

describe("a schema error in one file and an ownership error across files, in one run", () => {
  const files = {
    // a.yaml: valid but for a mistyped key in a version entry (schema error)...
    "m/a.yaml": set("shelf", "shelf-scanner", "[{nam: v1}]"),
    // ...and b.yaml names the same project in the same region: the ownership error a.yaml's must not hide.
    "m/b.yaml": set("shelf-too", "shelf-scanner", "[{name: v2}]"),
    // c.yaml reuses a's set name and has an unreadable project: the duplicate name still counts.
    "m/c.yaml": set("shelf", "[not-a-name]", "[{name: v3}]"),
  };

  it("the reader lists all of them", () => {
    const t = tmpTree(files);
    cleanup = t.cleanup;
    const { issues, desired } = loadManifests([t.path("m")], {});
    expect(desired).toBeUndefined();
    const lines = issues.map((i) => `${i.file.slice(t.dir.length + 1)} ${i.path}: ${i.message}`);
    expect(lines).toContainEqual(expect.stringMatching(/^m\/a\.yaml spec\.versions\[0\]\.nam: unknown field "nam"/));
    expect(lines).toContainEqual(expect.stringMatching(/^m\/b\.yaml spec\.project: project "shelf-scanner" in us-east-1 is already owned by ProjectVersionSet "shelf" at .*m\/a\.yaml:3:/));
    expect(lines).toContainEqual(expect.stringMatching(/^m\/c\.yaml metadata\.name: duplicate name "shelf", already used at .*m\/a\.yaml:3:/));
    expect(lines).toContainEqual(expect.stringMatching(/^m\/c\.yaml spec\.project: must be a string/));
  });

  it("rekon validate and rekon plan report every one at once, and plan calls nothing", async () => {
    const t = tmpTree(files);
    cleanup = t.cleanup;
    emu = await startEmulator();
    for (const cmd of ["validate", "plan"]) {
      const r = await runCli([cmd, "--manifests", t.path("m")], { env: emulatorEnv(emu.url) });
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/^rekon: 5 validation error\(s\)/);
      for (const part of ['unknown field "nam"', 'is already owned by ProjectVersionSet "shelf"', 'duplicate name "shelf"', "spec.project: must be a string"]) expect(r.stderr, `${cmd}: ${part}`).toContain(part);
    }
    expect(emu.calls()).toEqual([]);
  });
});

describe("the hint for a --policy file that cannot be read names --policy", () => {
  it("validate, plan and explain", async () => {
    const t = tmpTree({ "m/a.yaml": set("shelf", "shelf-scanner", "[{name: v1}]") });
    cleanup = t.cleanup;
    for (const args of [["validate"], ["plan"], ["explain", "shelf-scanner/v1"]]) {
      const r = await runCli([...args, "--manifests", t.path("m"), "--policy", t.path("policy.yaml")], { env: { AWS_REGION: "us-east-1", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", AWS_EC2_METADATA_DISABLED: "true" } });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${t.path("policy.yaml")}:1:1: cannot read: ENOENT (fix: check the --policy path)`);
      expect(r.stderr).not.toContain("--manifests path");
    }
  });
});
