// What the browser end-to-end scripts share: step logging, checks, launching Debian's
// Chromium, and running `main` under an overall time bound that always closes the browser.
// A script exits 0 on success; on failure it prints the failed step and exits 1.
import { chromium } from "playwright-core";

const started = Date.now();
let step = "start";
let browser = null;
/** Uncaught errors of the pages under test; a script's pages push theirs here. */
export const pageErrors = [];

export const tid = (id) => `[data-testid="${id}"]`;

export function log(msg) {
  console.log(`[e2e ${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);
}

/** Names the step now running, for the failure message. */
export function at(name) {
  step = name;
  log(name);
}

export function check(cond, msg) {
  if (!cond) throw new Error(msg);
}

/** Debian's Chromium, headless, with nothing fetched from the network. */
export async function launch(exe) {
  at(`launching ${exe}`);
  browser = await chromium.launch({
    executablePath: exe,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-quic",
    ],
  });
  return browser;
}

async function closeBrowser() {
  const b = browser;
  browser = null;
  if (!b) return;
  // Closing must not hang the test either.
  await Promise.race([b.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
}

/** Runs `main` within `overallMs`, closes the browser, and exits with the outcome. */
export async function run(main, overallMs) {
  let timer = null;
  const overall = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`overall timeout of ${overallMs} ms`)), overallMs);
  });
  let code = 0;
  try {
    await Promise.race([main(), overall]);
  } catch (e) {
    code = 1;
    console.error(`E2E FAILED at step "${step}": ${e && e.stack ? e.stack : e}`);
    if (pageErrors.length) console.error(`uncaught page errors: ${pageErrors.join(" | ")}`);
  } finally {
    clearTimeout(timer);
    await closeBrowser();
  }
  process.exit(code);
}
