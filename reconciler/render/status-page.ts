// The controller's status page (GET /): one server-rendered HTML document, no CDN, no build step, readable
// with JavaScript off. It refreshes itself every 30 s (<meta http-equiv="refresh">); a small script served
// from the same origin (GET /status.js) only ticks the countdowns between refreshes.
//
// Every value that came from outside — names, tag values in reasons, suspension reasons, AWS's error
// messages — goes through esc(): a hostile name is shown, never run. The Content-Security-Policy allows no
// inline script and only this page's own style block (by hash), so even a slip in escaping runs nothing.
import { createHash } from "node:crypto";
import type { PendingRow, StatusSnapshot } from "../types/status.js";

/** Seconds between refreshes of the page. */
export const REFRESH_SECONDS = 30;

const ESC: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text or attribute value, escaped for HTML. */
export function esc(s: string | number): string {
  return String(s).replace(/[&<>"']/g, (c) => ESC[c]!);
}

/** "in 1d 2h 3m 4s", "now" once passed: the server's words, and the script's (STATUS_SCRIPT) every second after. */
export function countdown(ms: number): string {
  if (ms <= 0) return "now";
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return "in " + (d ? `${d}d ` : "") + (d || h ? `${h}h ` : "") + (d || h || m ? `${m}m ` : "") + `${s % 60}s`;
}

/** GET /status.js: ticks every countdown (the same words as countdown()); the page works without it. */
export const STATUS_SCRIPT = `"use strict";
(function () {
  function countdown(ms) {
    if (ms <= 0) return "now";
    var s = Math.floor(ms / 1000), d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    return "in " + (d ? d + "d " : "") + (d || h ? h + "h " : "") + (d || h || m ? m + "m " : "") + (s % 60) + "s";
  }
  function tick() {
    var els = document.querySelectorAll("time.countdown");
    for (var i = 0; i < els.length; i++) {
      var t = Date.parse(els[i].getAttribute("datetime") || "");
      if (!isNaN(t)) els[i].textContent = countdown(t - Date.now());
    }
  }
  tick();
  setInterval(tick, 1000);
})();
`;

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}
header{background:#1b1f24;color:#fff;padding:12px 24px}header h1{display:inline;font-size:20px;margin-right:16px}
main{padding:8px 24px 24px}section{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:16px 0;padding:12px 16px}
h2{font-size:16px;margin:0 0 8px}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{font-weight:600;color:#57606a}code{font:12px ui-monospace,monospace}.muted{color:#57606a}.num{text-align:right}
.ok{color:#1a7f37}.bad{color:#cf222e}.warn{color:#9a6700}.countdown{font-weight:600}ul{margin:4px 0;padding-left:20px}
`;

/** The page's Content-Security-Policy: its own script file, its own style block (by hash), nothing else. */
export const STATUS_CSP =
  `default-src 'none'; script-src 'self'; style-src 'sha256-${createHash("sha256").update(STYLE).digest("base64")}'; img-src data:; ` +
  `base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

/** A countdown to `iso`, in words as of `now`; /status.js ticks it. */
const counter = (iso: string, now: number) => `<time class="countdown" datetime="${esc(iso)}">${esc(countdown(Date.parse(iso) - now))}</time>`;
const time = (iso: string) => `<time datetime="${esc(iso)}">${esc(iso)}</time>`;
const cls = (result: string) => (result === "ok" ? "ok" : result === "refused" || result === "aborted" ? "warn" : "bad");

const WAIT_WORDS: Record<string, string> = {
  gracePeriod: "grace period",
  notice: "notice",
  approval: "a person's approval",
  window: "deletion window",
  suspended: "suspension",
  signature: "signature",
  refused: "refused run",
  kept: "kept",
};

function cycleSection(s: StatusSnapshot): string {
  const c = s.lastCycle;
  if (!c)
    return (
      `<section id="cycle"><h2>Last cycle</h2><p class="muted">${s.controller.running ? "The first cycle is running." : "No cycle has finished yet."}</p>` +
      `</section>`
    );
  const refusals = c.refusals.length
    ? `<p>Refused: nothing was deleted.</p><ul>${c.refusals.map((r) => `<li><code>${esc(r.rule)}</code> ${esc(r.message)}</li>`).join("")}</ul>`
    : "";
  return (
    `<section id="cycle"><h2>Last cycle</h2><p>Result <strong class="${cls(c.result)}">${esc(c.result)}</strong>, started ${time(c.startedAt)}, ` +
    `took ${esc((c.durationMs / 1000).toFixed(1))} s${s.controller.running ? "; a cycle is running now" : ""}. ` +
    `<span class="muted">cycle ${esc(c.id)}</span></p>${refusals}` +
    (s.plan ? "" : `<p class="bad">No plan from the last cycle (see the log): the numbers below are withdrawn, and nothing is deleted.</p>`) +
    `</section>`
  );
}

function projectsSection(s: StatusSnapshot): string {
  const p = s.plan;
  if (!p) return "";
  const cur = p.cost?.currency ?? "";
  const rows = p.projects
    .map(
      (x) =>
        `<tr><td>${esc(x.project)}</td><td>${esc(x.account ?? "?")}</td><td>${esc(x.region)}</td>` +
        `<td class="${x.read === "ok" ? "ok" : x.read === "notManaged" ? "muted" : "bad"}">${esc(x.read)}${x.error ? `: ${esc(x.error)}` : ""}</td>` +
        `<td class="num">${x.kept}</td><td class="num">${x.blocked}</td><td class="num">${x.marked}</td><td class="num">${x.deletable}</td>` +
        `<td class="num">${x.inferenceUnits ? esc(x.inferenceUnits.now) : "–"}</td>` +
        `<td class="num">${x.costPerHour !== undefined ? `${esc(x.costPerHour.toFixed(2))} ${esc(cur)}` : "–"}</td></tr>`,
    )
    .join("");
  const total = p.cost ? `; ${esc(p.cost.perHourNow.toFixed(2))} ${esc(cur)}/h` : "";
  return (
    `<section id="projects"><h2>Projects</h2><p class="muted">Plan of ${time(p.planAt)} under policy ${esc(p.policy.name)} (${esc(p.policy.source)}); ` +
    `running inference units: ${esc(p.inferenceUnits.now)}${total}.</p>` +
    `<table><thead><tr><th>Project</th><th>Account</th><th>Region</th><th>Read</th><th class="num">Kept</th><th class="num">Blocked</th>` +
    `<th class="num">Marked</th><th class="num">Deletable now</th><th class="num">Running IU</th><th class="num">Cost/h</th></tr></thead>` +
    `<tbody>${rows}</tbody></table></section>`
  );
}

function pendingCell(r: PendingRow, now: number): string {
  if (r.state === "deletable") return `<strong class="bad">deletable now</strong>`;
  if (r.state === "unmarking") return `<span class="muted">kept: its mark is removed</span>`;
  if (!r.deletableAt) return `<span class="warn">unknown</span>`;
  return `${counter(r.deletableAt, now)}<br><span class="muted">${esc(r.deletableAt)}</span>`;
}

function pendingSection(s: StatusSnapshot): string {
  const p = s.plan;
  if (!p) return "";
  const now = Date.parse(s.now);
  const rows = p.pending
    .map((r) => {
      const wait = (w: PendingRow["waits"][number]) =>
        `<li><strong>${esc(WAIT_WORDS[w.kind] ?? w.kind)}</strong>${w.until ? ` until ${time(w.until)}` : ""}: ${esc(w.message)}</li>`;
      const waits = r.waits.length ? `<ul>${r.waits.map(wait).join("")}</ul>` : "nothing";
      const mark =
        r.markedAt !== undefined
          ? `${time(r.markedAt)}${r.markAdded ? " (does not count: apply marks it again)" : ""}`
          : "no mark when planned: apply marks it";
      const extra = [
        r.notice ? `notice ${esc(r.notice.state)}${r.notice.deliveredAt ? ` ${time(r.notice.deliveredAt)}` : ""}` : "",
        r.approval ? `approval ${esc(r.approval.state)}${r.approval.approvedAt ? ` ${time(r.approval.approvedAt)}` : ""}` : "",
        r.signature ? `signature <span class="${r.signature === "verified" ? "ok" : "bad"}">${esc(r.signature)}</span>` : "",
      ].filter(Boolean);
      return (
        `<tr><td>${esc(r.project)}/<strong>${esc(r.version)}</strong><br><code class="muted">${esc(r.versionArn)}</code></td>` +
        `<td>${pendingCell(r, now)}</td><td>${waits}</td><td>${mark}${extra.length ? `<br>${extra.join("<br>")}` : ""}</td></tr>`
      );
    })
    .join("");
  const more = p.pendingTotal > p.pending.length ? `<p class="muted">and ${p.pendingTotal - p.pending.length} more (rekon pending lists them all).</p>` : "";
  const body = p.pending.length
    ? `<table><thead><tr><th>Version</th><th>Deletable</th><th>Waits for</th><th>Mark, notice, approval</th></tr></thead><tbody>${rows}</tbody></table>${more}`
    : `<p class="muted">Nothing is marked or about to be marked.</p>`;
  return `<section id="pending"><h2>Marked for deletion (${p.pendingTotal})</h2>${body}</section>`;
}

function holdsSection(s: StatusSnapshot): string {
  const p = s.plan;
  if (!p) return "";
  const sus = p.suspensions.length
    ? `<ul>${p.suspensions
        .map(
          (x) =>
            `<li>${esc(x.scope)}: ${esc(x.reason)} (${x.until ? `until ${time(x.until)}` : "until the manifest or policy changes"}; ${esc(x.origin)})</li>`,
        )
        .join("")}</ul>`
    : `<p class="muted">No suspension in force.</p>`;
  const win = p.nextDeletionAllowedAt
    ? `<p>A deletion window keeps versions now; deletion is next allowed ${counter(p.nextDeletionAllowedAt, Date.parse(s.now))} ` +
      `(${esc(p.nextDeletionAllowedAt)}).</p>`
    : `<p class="muted">No deletion window keeps a version now.</p>`;
  return `<section id="holds"><h2>Suspensions and windows</h2>${sus}${win}</section>`;
}

function writesSection(s: StatusSnapshot): string {
  const rows = s.writes
    .map(
      (w) =>
        `<tr><td>${time(w.time)}</td><td>${esc(w.operation)}</td><td>${esc(w.project)}/${esc(w.version)}</td>` +
        `<td class="${w.result === "accepted" || w.result === "alreadyDeleted" ? "ok" : "bad"}">${esc(w.result)}` +
        `${w.code ? ` (${esc(w.code)})` : ""}${w.error ? `: ${esc(w.error)}` : ""}</td>` +
        `<td><code>${esc(w.requestId ?? "–")}</code></td></tr>`,
    )
    .join("");
  return (
    `<section id="writes"><h2>Recent writes</h2>` +
    (s.writes.length
      ? `<table><thead><tr><th>Time</th><th>Write</th><th>Version</th><th>AWS's answer</th><th>Request id</th></tr></thead><tbody>${rows}</tbody></table>`
      : `<p class="muted">No write since this controller started.</p>`) +
    `</section>`
  );
}

export function renderStatusPage(s: StatusSnapshot): string {
  const mode = s.controller.apply ? "applies" : "plans only (no --apply)";
  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<meta http-equiv="refresh" content="${REFRESH_SECONDS}"><title>rekon status</title><link rel="icon" href="data:,">` +
    `<style>${STYLE}</style><script src="/status.js" defer></script></head><body>` +
    `<header><h1>rekon</h1><span>controller ${mode}, every ${esc(Math.round(s.controller.intervalMs / 1000))} s; ` +
    `${esc(s.controller.cycles)} cycle(s) since ${time(s.controller.startedAt)}</span></header>` +
    `<main>${cycleSection(s)}${projectsSection(s)}${pendingSection(s)}${holdsSection(s)}${writesSection(s)}` +
    `<p class="muted">Read-only. As of ${time(s.now)}; refreshes every ${REFRESH_SECONDS} s. JSON: <a href="/api/status">/api/status</a>.</p>` +
    `</main></body></html>\n`
  );
}
