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

/** Default bound of one step's wait. */
export const STEP_MS = 15000;
export const PASSWORD = "demo1234";

/** A page that logs failed requests and collects its uncaught errors under `who`. */
export async function newPage(ctx, who) {
  const page = await ctx.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on("pageerror", (e) => pageErrors.push(`${who}: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") log(`${who} console error: ${m.text()}`);
  });
  // Name the URL behind "Failed to load resource" errors (a 401 from /auth/me before signing
  // in is expected).
  page.on("response", (r) => {
    if (r.status() >= 400) log(`${who} HTTP ${r.status()} ${r.request().method()} ${r.url()}`);
  });
  page.on("requestfailed", (r) =>
    log(`${who} request failed: ${r.url()} ${r.failure()?.errorText}`),
  );
  return page;
}

/** Signs in on the console's login form and waits for `route` to show. */
export async function signIn(page, base, login, route) {
  await page.goto(`${base}/#${route}`);
  await page.locator(tid("login-name")).fill(login);
  await page.locator(tid("login-password")).fill(PASSWORD);
  await page.locator(tid("login-submit")).click();
  await page.locator(tid("user-name")).waitFor();
  await page.waitForFunction((r) => location.hash === "#" + r, route);
}

export async function text(page, testid) {
  return ((await page.locator(tid(testid)).first().textContent()) || "").trim();
}

/** Waits until the element's attribute has the value; says what it was on timeout. */
export async function waitAttr(page, testid, attr, value, timeout = STEP_MS) {
  const loc = page.locator(tid(testid)).first();
  try {
    await page.waitForSelector(`${tid(testid)}[${attr}="${value}"]`, { timeout });
  } catch (e) {
    const now = await loc.getAttribute(attr, { timeout: 500 }).catch(() => "(absent)");
    throw new Error(`${testid} never had ${attr}="${value}" (last: ${now}): ${e.message}`);
  }
}

/** Waits until the element's text contains `want`; says what it was on timeout. */
export async function waitText(page, testid, want, timeout = STEP_MS) {
  try {
    await page.waitForFunction(
      ([sel, w]) => (document.querySelector(sel)?.textContent || "").includes(w),
      [tid(testid), want],
      { timeout },
    );
  } catch (e) {
    const now = await text(page, testid).catch(() => "(absent)");
    throw new Error(`${testid} never said "${want}" (last: "${now}"): ${e.message}`);
  }
}
