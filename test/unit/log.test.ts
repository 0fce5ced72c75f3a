// Logs for people and for machines: one readable line per entry on a terminal, JSON elsewhere; and on a
// terminal with apply's progress bar, every log line above the bar, never inside it.
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../reconciler/log.js";
import { startProgress } from "../../reconciler/progress.js";
import { CLEAR_LINE, Screen } from "../../reconciler/render/screen.js";
import { COLOR } from "../../reconciler/render/style.js";
import type { WriteResult } from "../../reconciler/types.js";

function sink(opts: { isTTY?: boolean; columns?: number } = {}): Writable & { text: string; isTTY?: boolean; columns?: number } {
  const w = new Writable({
    write(chunk, _enc, cb) {
      w.text += String(chunk);
      cb();
    },
  }) as Writable & { text: string; isTTY?: boolean; columns?: number };
  w.text = "";
  Object.assign(w, opts);
  return w;
}

const ARN = "arn:aws:rekognition:us-east-1:123456789012:project/shelf-scanner/version/v5/1785609574006";

describe("pretty logs", () => {
  it("one line per entry: time, level, message, the fields that matter; no JSON", () => {
    const out = sink();
    const log = createLogger("debug", out, { format: "pretty" });
    log.info({ project: "shelf-scanner", region: "us-east-1", versionArn: ARN, status: "DELETING", requestId: "r-1" }, "deletion accepted");
    log.warn({ versionArn: ARN, reasons: [{ rule: "inUse", message: "status RUNNING" }, { rule: "minAge", message: "age 2h" }] }, "deletion not sent: changed at the last look");
    log.error({ region: "us-east-1", projects: ["a", "b"], err: "AccessDeniedException: line one\nline two \x1b[31mred" }, "DescribeProjects failed");
    log.debug({ figures: { done: 1 } }, "nested");
    const lines = out.text.split("\n");
    expect(lines.pop()).toBe("");
    expect(lines).toEqual([
      expect.stringMatching(/^\d\d:\d\d:\d\d INFO: deletion accepted region=us-east-1 version=shelf-scanner\/v5 status=DELETING$/),
      expect.stringMatching(/^\d\d:\d\d:\d\d WARN: deletion not sent: changed at the last look version=shelf-scanner\/v5 reasons="inUse: status RUNNING; minAge: age 2h"$/),
      // a remote message's newlines and escape codes never reach the terminal
      expect.stringMatching(/^\d\d:\d\d:\d\d ERROR: DescribeProjects failed region=us-east-1 projects=a,b err="AccessDeniedException: line one line two \[31mred"$/),
      expect.stringMatching(/^\d\d:\d\d:\d\d DEBUG: nested figures="\{\\"done\\":1\}"$/),
    ]);
    expect(out.text).not.toMatch(/\x1b|"level"|"msg"/);
  });

  it("secrets are redacted as in JSON", () => {
    const out = sink();
    createLogger("info", out, { format: "pretty" }).info({ credentials: { secretAccessKey: "SECRET" }, secretAccessKey: "SECRET" }, "config");
    expect(out.text).not.toContain("SECRET");
    expect(out.text).toContain("credentials=[redacted]");
  });

  it("with colour: the level coloured, the fields dim", () => {
    const out = sink();
    createLogger("info", out, { format: "pretty", style: COLOR }).error({ project: "p" }, "boom");
    expect(out.text).toContain("\x1b[31mERROR\x1b[39m: boom \x1b[2mproject=p\x1b[22m");
  });

  it("JSON unless asked: one pino object per line", () => {
    const out = sink({ isTTY: true });
    createLogger("info", out).info({ project: "p" }, "hello");
    expect(JSON.parse(out.text)).toMatchObject({ level: 30, name: "rekon", project: "p", msg: "hello" });
  });
});

/**
 * Enough of a terminal to see where text ends up: printable characters overwrite at the cursor; CR, LF
 * (as CR LF, as a tty's output processing does), CSI nG, CSI K / 0K / 2K, ESC 7 / ESC 8; other escape
 * codes (colour, cursor visibility) take no room.
 */
function render(bytes: string): string[] {
  const rows: string[][] = [[]];
  let r = 0;
  let c = 0;
  let saved = { r: 0, c: 0 };
  const row = () => (rows[r] ??= []);
  for (let i = 0; i < bytes.length; i++) {
    const ch = bytes[i]!;
    if (ch === "\x1b") {
      const rest = bytes.slice(i + 1);
      if (rest[0] === "7") saved = { r, c };
      else if (rest[0] === "8") ({ r, c } = saved);
      const csi = /^\[([?\d;]*)([A-Za-z])/.exec(rest);
      if (csi) {
        const n = Number(csi[1] || 0);
        if (csi[2] === "G") c = Math.max(0, n - 1);
        if (csi[2] === "K" && n === 2) rows[r] = [];
        if (csi[2] === "K" && n === 0) row().length = Math.min(row().length, c);
        i += csi[0].length;
      } else i += 1;
      continue;
    }
    if (ch === "\r") c = 0;
    else if (ch === "\n") {
      r++;
      c = 0;
      row();
    } else {
      const line = row();
      while (line.length < c) line.push(" ");
      line[c++] = ch;
    }
  }
  return rows.map((x) => x.join("").trimEnd());
}

describe("log lines and the progress bar share stderr", () => {
  it("Screen: with a status line held, a line clears it, is written, and the status line is drawn again", () => {
    const out = sink({ isTTY: true });
    const screen = new Screen(out);
    screen.write("before\n");
    let redraws = 0;
    const release = screen.hold({ redraw: () => void (redraws++, out.write("[bar]")) });
    screen.write("during\n");
    release();
    screen.write("after\n");
    expect(out.text).toBe(`before\n${CLEAR_LINE}during\n[bar]after\n`);
    expect(redraws).toBe(1);
  });

  it("apply's bar: log lines land above it, the bar stays whole at the bottom, and what follows starts below it", async () => {
    const out = sink({ isTTY: true, columns: 100 });
    const screen = new Screen(out);
    const log = createLogger("info", screen, { format: "pretty" });
    const progress = await startProgress({ total: 3, stream: out, screen, log, tty: true });
    const result = (v: string): WriteResult => ({ project: "p", region: "us-east-1", versionName: v, versionArn: ARN.replace("v5", v), operation: "delete", result: "accepted", status: "DELETING" });
    for (const v of ["v1", "v2", "v3"]) {
      log.info({ versionArn: ARN.replace("v5", v), status: "DELETING" }, "deletion accepted");
      progress.result(result(v));
    }
    progress.stop();
    out.write("\nRESULT table\n");
    const screenRows = render(out.text).filter((l) => l !== "");
    expect(screenRows).toEqual([
      expect.stringMatching(/^\d\d:\d\d:\d\d INFO: deletion accepted version=shelf-scanner\/v1 status=DELETING$/),
      expect.stringMatching(/^\d\d:\d\d:\d\d INFO: deletion accepted version=shelf-scanner\/v2 status=DELETING$/),
      expect.stringMatching(/^\d\d:\d\d:\d\d INFO: deletion accepted version=shelf-scanner\/v3 status=DELETING$/),
      expect.stringMatching(/^deleting \[█{40}\] 3\/3 \| [\d.]+\/s \| ETA \S+ \| throttles 0 \| failed 0$/),
      "RESULT table",
    ]);
  });
});
