// The controller's input cache: the last validated inputs are reused only while every file hashes the
// same; an edit, an added file or a file that no longer validates is read and validated again in full.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ValidationError } from "../../reconciler/errors.js";
import { InputsCache } from "../../reconciler/reconcile.js";
import { ROOT } from "../helpers/run-cli.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "rekon-inputs-cache-"));
  mkdirSync(join(dir, "m"));
  writeFileSync(join(dir, "m", "a.yaml"), readFileSync(join(ROOT, "manifests/fraud-detector.yaml")));
  writeFileSync(join(dir, "policy.yaml"), readFileSync(join(ROOT, "deploy/policy.yaml")));
  process.env.AWS_REGION ??= "us-east-1";
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("InputsCache", () => {
  it("reuses the parse while the files are the same, and reads again on any change", async () => {
    const cache = new InputsCache();
    const opts = { manifests: [join(dir, "m")], policy: join(dir, "policy.yaml") };
    const first = await cache.load(opts);
    expect(await cache.load(opts)).toBe(first);
    expect(Object.isFrozen(first.desired.sets[0]!.versions)).toBe(true);

    // An added file.
    writeFileSync(join(dir, "m", "b.yaml"), readFileSync(join(ROOT, "manifests/shelf-scanner.yaml")));
    const second = await cache.load(opts);
    expect(second).not.toBe(first);
    expect(second.desired.sets.map((s) => s.project).sort()).toEqual(["fraud-detector", "shelf-scanner"]);

    // An edit to the policy.
    writeFileSync(join(dir, "policy.yaml"), readFileSync(join(ROOT, "deploy/policy.yaml"), "utf8").replace("minAge: 24h", "minAge: 48h"));
    const third = await cache.load(opts);
    expect(third).not.toBe(second);
    expect(third.policies.operator.minAge).toBe("48h");

    // A file that no longer validates: an error every time, never the last good inputs.
    writeFileSync(join(dir, "m", "b.yaml"), "apiVersion: rekon.dev/v1alpha1\nkind: ProjectVersionSet\nmetadata: {name: x}\nspec: {}\n");
    await expect(cache.load(opts)).rejects.toThrow(ValidationError);
    await expect(cache.load(opts)).rejects.toThrow(ValidationError);

    // Other paths are other inputs.
    expect(await cache.load({ manifests: [join(dir, "m", "a.yaml")], policy: join(dir, "policy.yaml") })).not.toBe(third);
  });
});
