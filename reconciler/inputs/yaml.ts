// YAML parsing that keeps positions, so every error can say file:line:col.
import { isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, type Document, type Node } from "yaml";
import type { ValidationIssue } from "../errors.js";
import { firstLine } from "../text.js";

/** Aliases expand on conversion; a small cap stops "billion laughs" documents from eating memory. */
const MAX_ALIAS_COUNT = 100;

export interface ParsedDoc {
  file: string;
  /** 0-based index of the document within its file. */
  index: number;
  value: unknown;
  /** Position of the value (or, with `key`, of the key) at a path inside this document. */
  locate(path: (string | number)[], key?: boolean): { line: number; col: number };
}

export interface ParseResult {
  docs: ParsedDoc[];
  issues: ValidationIssue[];
}

/** Parse every document of one YAML file. Syntax errors become issues; a file with errors yields no documents. */
export function parseYamlFile(file: string, text: string): ParseResult {
  const lc = new LineCounter();
  const pos = (offset: number) => {
    const p = lc.linePos(offset);
    return { line: p.line, col: p.col };
  };
  const issues: ValidationIssue[] = [];
  const parsed = parseAllDocuments(text, {
    lineCounter: lc,
    // YAML 1.2 core schema: `no`/`on` stay strings and there are no `<<` merge keys, so what a reviewer
    // reads is what rekon gets.
    version: "1.2",
    schema: "core",
    uniqueKeys: true,
    strict: true,
    prettyErrors: false,
  });
  const documents: Document.Parsed[] = Array.isArray(parsed) ? parsed : [];
  for (const doc of documents) {
    // Only the first syntax error of a document: the parser's later ones are mostly echoes of it
    // (one tab yields four errors), and a wrong lead costs the reader more than a second run.
    for (const err of doc.errors.slice(0, 1)) {
      issues.push({
        file,
        ...pos(err.pos[0]),
        path: "",
        message: `YAML syntax error: ${firstLine(err.message)}`,
        fix: hintFor(err.code),
      });
    }
  }
  if (issues.length > 0) return { docs: [], issues };

  const docs: ParsedDoc[] = [];
  documents.forEach((doc, index) => {
    if (doc.contents === null) return; // an empty document between `---` separators
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      issues.push({
        file,
        ...pos(doc.contents.range[0]),
        path: "",
        message: `YAML could not be expanded: ${firstLine((e as Error).message)}`,
        fix: `use at most ${MAX_ALIAS_COUNT} alias expansions; write the values out instead`,
      });
      return;
    }
    docs.push({
      file,
      index,
      value,
      locate(path, key = false) {
        const found = nodeAt(doc.contents, path);
        const node = key && found.key ? found.key : found.node;
        const offset = node?.range?.[0] ?? doc.contents?.range[0] ?? 0;
        return pos(offset);
      },
    });
  });
  return { docs, issues };
}

/**
 * Walk as far down `path` as the document goes. Returns the deepest node reached, so a missing field
 * points at its parent mapping, which is where the user has to add it.
 */
function nodeAt(root: Node | null, path: (string | number)[]): { node: Node | null; key?: Node } {
  let node: Node | null = root;
  let key: Node | undefined;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return { node };
      key = pair.key as Node;
      node = (pair.value as Node | null) ?? key;
    } else if (isSeq(node) && typeof seg === "number") {
      const item = node.items[seg] as Node | undefined;
      if (!item) return { node };
      key = undefined;
      node = item;
    } else {
      return { node };
    }
  }
  return { node, key };
}

function hintFor(code: string): string | undefined {
  switch (code) {
    case "TAB_AS_INDENT":
      return "indent with spaces, not tabs";
    case "DUPLICATE_KEY":
      return "remove or rename the repeated key";
    case "BAD_INDENT":
    case "MISSING_CHAR":
    case "UNEXPECTED_TOKEN":
      return "check the indentation and punctuation on this line";
    default:
      return undefined;
  }
}
