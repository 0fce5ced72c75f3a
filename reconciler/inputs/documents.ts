// Files → parsed YAML documents → schema-checked documents of a known kind. Shared by the manifests and
// the policy readers, which then make desired state and policies of them.
import type { ValidationIssue } from "../errors.js";
import { digestFiles, readManifestFiles } from "./files.js";
import { identify, validateAgainstSchema, type Kind } from "./schema.js";
import { parseYamlFile, type ParsedDoc } from "./yaml.js";

export interface TypedDoc {
  doc: ParsedDoc;
  kind: Kind;
}

/**
 * Parse and schema-check every document in the given files. With `onDoc`, each valid document is handed
 * over as soon as it is checked and not kept: the parsed YAML tree of a file (by far the largest thing
 * here) can then be freed before the next file is parsed, which bounds memory for thousands of files.
 * `onInvalid` gets each document of a known kind that failed its schema (its issues are already listed),
 * so that checks across documents (two sets owning one project) can still count it.
 */
export function loadDocuments(
  paths: string[],
  onDoc?: (d: TypedDoc) => void,
  onInvalid?: (d: TypedDoc) => void,
): { docs: TypedDoc[]; files: string[]; digest: string; issues: ValidationIssue[] } {
  const { files, issues } = readManifestFiles(paths);
  const docs: TypedDoc[] = [];
  for (const f of files) {
    const parsed = parseYamlFile(f.file, f.text);
    issues.push(...parsed.issues);
    if (parsed.issues.length === 0 && parsed.docs.length === 0) {
      issues.push({ file: f.file, line: 1, col: 1, path: "", message: "file has no YAML documents", fix: "add a manifest or delete the empty file" });
    }
    for (const doc of parsed.docs) {
      const id = identify(doc);
      issues.push(...id.issues);
      if (!id.kind) continue;
      const schemaIssues = validateAgainstSchema(doc, id.kind);
      issues.push(...schemaIssues);
      if (schemaIssues.length === 0) {
        if (onDoc) onDoc({ doc, kind: id.kind });
        else docs.push({ doc, kind: id.kind });
      } else onInvalid?.({ doc, kind: id.kind }); // what it still says, for checks across documents
    }
  }
  return { docs, files: files.map((f) => f.file), digest: digestFiles(files), issues };
}
