// Screenshots of the campaigns page and the agent's campaign card against a running demo
// (`switchboard demo`): a supervisor starts the seeded "Parcel waiting" campaign, an agent
// goes available and gets the first contact's card with the script.
//
//   SB_BASE_URL=http://127.0.0.1:8080 node web/e2e/campaign-shot.mjs
//
// Optional env: SB_CHROMIUM (default /usr/bin/chromium), SB_SCREENSHOT_DIR (default /tmp),
// SB_LANG (en or ru).
import { chromium } from "playwright-core";

const BASE = (process.env.SB_BASE_URL || "http://127.0.0.1:8080").replace(/\/+$/, "");
const EXE = process.env.SB_CHROMIUM || "/usr/bin/chromium";
const SHOTS = (process.env.SB_SCREENSHOT_DIR || "/tmp").replace(/\/+$/, "");
const LANG = process.env.SB_LANG === "ru" ? "ru" : "en";
const tid = (id) => `[data-testid="${id}"]`;

async function signIn(page, login, route) {
  await page.goto(`${BASE}/#${route}`);
  await page.locator(tid("login-name")).fill(login);
  await page.locator(tid("login-password")).fill("demo1234");
  await page.locator(tid("login-submit")).click();
}

const browser = await chromium.launch({
  executablePath: EXE,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
});
try {
  const viewport = { width: 1280, height: 900 };
  const context = async () => {
    const c = await browser.newContext({ viewport });
    await c.addInitScript((lang) => localStorage.setItem("sb-lang", lang), LANG);
    return c;
  };
  const sup = await (await context()).newPage();
  const agent = await (await context()).newPage();
  await signIn(agent, "alice", "/agent");
  await agent.locator(tid("agent-view")).waitFor({ timeout: 15000 });
  await signIn(sup, "sam", "/campaigns");
  await sup.locator(tid("campaign-live")).waitFor({ timeout: 15000 });
  await agent.keyboard.press("a");
  await sup.locator(tid("campaign-start")).click();
  await agent.locator(tid("campaign-card")).waitFor({ timeout: 15000 });
  await agent.waitForTimeout(1500);
  await agent.screenshot({ path: `${SHOTS}/campaign-agent.png` });
  await sup.waitForTimeout(4000);
  await sup.screenshot({ path: `${SHOTS}/campaigns.png`, fullPage: true });
  // A new campaign from a CSV: the mapping is guessed from the header, the report lists the
  // rows that were refused.
  const csv =
    "Telephone,name,parcel,office,days,return_date,tz\n" +
    "+447911123301,Ann,P1,Camden,3,Friday,Europe/London\n" +
    "12345,Bad Phone,P2,Camden,3,Friday,Europe/London\n" +
    "+447911123303,No Office,P3,,3,Friday,Europe/London\n";
  await sup.locator(tid("campaign-name")).fill("Parcels from CSV");
  await sup.locator(tid("campaign-csv")).setInputFiles({
    name: "contacts.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(csv),
  });
  await sup.locator(tid("campaign-mapping")).waitFor({ timeout: 5000 });
  await sup.locator(tid("map-time_zone")).selectOption("tz");
  await sup.locator(tid("campaign-create")).click();
  await sup.locator(tid("import-report")).waitFor({ timeout: 10000 });
  await sup.locator(tid("import-report")).scrollIntoViewIfNeeded();
  await sup.screenshot({ path: `${SHOTS}/campaign-import.png`, fullPage: true });
  console.log(await sup.locator(tid("import-report")).innerText());
  console.log("shots written");
} finally {
  await browser.close();
}
