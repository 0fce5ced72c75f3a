// The status page in a real browser: Debian's Chromium driven by playwright-core, against a `rekon run
// --apply` controller on the emulator. The page loads without a console error (a CSP violation or a script
// error would be one), shows the countdown of a marked version and ticks it, reads the same with JavaScript
// off, and leaves a screenshot (reports/status-page.png, a CI artefact; REKON_UPDATE_SCREENSHOT=1 also
// writes docs/img/status-page.png, the README's). A slow suite: Chromium's start alone takes seconds.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers/run-cli.js";
import { startStatusWorld, type StatusWorld } from "./status-fixture.js";

/** Chromium as CI installs it (.ci/run: Debian's `chromium`), or CHROMIUM_PATH. */
function findChromium(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    try {
      const p = execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
      if (p && existsSync(p)) return p;
    } catch {
      // not on PATH
    }
  }
  return undefined;
}

const executablePath = findChromium();
if (!executablePath) console.warn("status page browser test skipped: no Chromium found (install Debian's `chromium`, or set CHROMIUM_PATH)");

describe.skipIf(!executablePath)("the status page in Chromium", () => {
  let w: StatusWorld;
  let browser: Browser;
  beforeAll(async () => {
    [w, browser] = await Promise.all([
      startStatusWorld({ plain: true }),
      // --no-sandbox: CI runs as root in a container, where Chromium's sandbox cannot start.
      chromium.launch({ executablePath: executablePath!, args: ["--no-sandbox", "--disable-gpu"] }),
    ]);
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await w?.close();
  });

  it("loads without console errors, shows and ticks the countdown of a marked version, and is saved as a screenshot", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("requestfailed", (r) => problems.push(`requestfailed: ${r.url()}`));
    const res = await page.goto(`${w.url}/`, { waitUntil: "load" });
    expect(res?.status()).toBe(200);
    const row = page.locator("#pending tr", { hasText: "v1" });
    const countdown = row.locator("time.countdown");
    const first = await countdown.textContent();
    expect(first).toMatch(/^in 1d 23h 59m \d+s$/);
    // The script ticks it: the words change within a few seconds.
    await expect.poll(async () => countdown.textContent(), { timeout: 5_000, interval: 200 }).not.toBe(first);
    expect(await page.locator("#cycle").textContent()).toContain("Result ok");
    expect(await page.locator("#holds").textContent()).toContain("quarter-end freeze");
    mkdirSync(join(ROOT, "reports"), { recursive: true });
    await page.screenshot({ path: join(ROOT, "reports/status-page.png"), fullPage: true });
    if (process.env.REKON_UPDATE_SCREENSHOT === "1") await page.screenshot({ path: join(ROOT, "docs/img/status-page.png"), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it("with JavaScript off, the page still shows the countdown (server-rendered)", async () => {
    const ctx = await browser.newContext({ javaScriptEnabled: false });
    const page = await ctx.newPage();
    await page.goto(`${w.url}/`);
    expect(await page.locator("#pending tr", { hasText: "v1" }).locator("time.countdown").textContent()).toMatch(/^in 1d 23h 59m \d+s$/);
    await ctx.close();
  });
});
