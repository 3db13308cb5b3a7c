// Browser end-to-end test of the website callback, in headless Chromium (Debian's, not a
// downloaded one). Driven by crates/switchboard/tests/browser.rs, which starts the demo server.
//
//   SB_BASE_URL=http://127.0.0.1:8080 SB_SHOP_URL=http://127.0.0.1:8081/ \
//     node web/e2e/callback.e2e.mjs
//
// 1. An agent (alice) signs in to the console and goes available.
// 2. A visitor opens the shop page (another origin) and submits the widget's form.
// 3. The agent gets the screen pop, the call connects, the agent runs the script, hangs up and
//    saves a disposition.
// 4. A supervisor (sam) sees the call in the statistics.
//
// Exits 0 on success; on failure prints the failed step and exits 1. The last line of stdout
// on success is `E2E_RESULT {json}` with what was submitted, for the server-side checks.
// Optional env: SB_CHROMIUM (browser binary, default /usr/bin/chromium), SB_SCREENSHOT_DIR
// (default /tmp), SB_E2E_TIMEOUT_MS (overall bound, default 60000).
import {
  at,
  check,
  launch,
  log,
  newPage,
  pageErrors,
  run,
  signIn as signInAt,
  text,
  tid,
  waitAttr,
} from "./harness.mjs";

const BASE = (process.env.SB_BASE_URL || "").replace(/\/+$/, "");
const SHOP = process.env.SB_SHOP_URL || "";
const EXE = process.env.SB_CHROMIUM || "/usr/bin/chromium";
const SHOTS = (process.env.SB_SCREENSHOT_DIR || "/tmp").replace(/\/+$/, "");
const OVERALL_MS = Number(process.env.SB_E2E_TIMEOUT_MS || 60000);

const VISITOR = {
  name: "Maria Garcia",
  phoneTyped: "(202) 555-0147",
  phoneE164: "+12025550147",
  topic: "Where is my parcel?",
};
// The demo script: reason (choice) -> order (text) -> solved (number) -> end.
const ANSWERS = { reason: "Order status", order: "A-42 shipped today", solved: "5" };
const DISPOSITION = "resolved";
const NOTES = "Parcel located, customer happy.";
const signIn = (page, login, route) => signInAt(page, BASE, login, route);

async function main() {
  check(BASE && SHOP, "set SB_BASE_URL (console) and SB_SHOP_URL (demo shop page)");
  check(new URL(BASE).origin !== new URL(SHOP).origin, "the shop must be on another origin");

  const browser = await launch(EXE);
  const viewport = { width: 1366, height: 900 };
  const agentCtx = await browser.newContext({ viewport });
  const visitorCtx = await browser.newContext({ viewport });
  const supervisorCtx = await browser.newContext({ viewport });

  // --- Agent signs in and goes available -----------------------------------------------
  at("agent alice signs in");
  const agent = await newPage(agentCtx, "agent");
  await signIn(agent, "alice", "/agent");
  await agent.locator(tid("agent-view")).waitFor();
  await waitAttr(agent, "connection", "data-state", "open");

  at("agent goes available");
  await agent.locator(tid("status-available")).click();
  await waitAttr(agent, "agent-status", "data-status", "available");
  await agent.locator(tid("agent-idle")).waitFor();

  // --- Visitor submits the widget on the shop page -------------------------------------
  at("visitor opens the shop page");
  const shop = await newPage(visitorCtx, "shop");
  await shop.goto(SHOP);
  // Playwright's CSS selectors pierce the widget's open shadow root.
  await shop.locator("div[data-switchboard-widget]").waitFor({ state: "attached" });
  await shop.locator(tid("sb-open")).click();
  await shop.locator(tid("sb-name")).waitFor();

  at("visitor fills in the callback form");
  await shop.locator(tid("sb-name")).fill(VISITOR.name);
  await shop.locator(tid("sb-phone")).fill(VISITOR.phoneTyped);
  await shop.locator(tid("sb-topic")).fill(VISITOR.topic);
  await shop.locator(tid("sb-consent")).check();
  await shop.screenshot({ path: `${SHOTS}/e2e-shop.png` });

  at("visitor submits");
  await shop.locator(tid("sb-submit")).click();
  const status = shop.locator(tid("sb-status"));
  try {
    await status.waitFor();
  } catch (e) {
    const err = await shop
      .locator(tid("sb-error"))
      .textContent({ timeout: 500 })
      .catch(() => null);
    throw new Error(`no sb-status after submit (sb-error: ${err ?? "none"}): ${e.message}`);
  }
  const accepted = await status.getAttribute("data-status");
  check(
    ["waiting", "calling"].includes(accepted),
    `widget status after submit is ${accepted}, expected waiting or calling`,
  );
  await shop.screenshot({ path: `${SHOTS}/e2e-shop-submitted.png` });

  // --- Screen pop ------------------------------------------------------------------------
  at("agent gets the screen pop");
  await agent.locator(tid("card")).waitFor();
  const interactionId = Number(
    await agent.locator(tid("interaction")).getAttribute("data-interaction-id"),
  );
  check(interactionId > 0, `bad data-interaction-id ${interactionId}`);
  const card = {
    name: await text(agent, "card-name"),
    phone: await text(agent, "card-phone"),
    topic: await text(agent, "card-topic"),
    page: await text(agent, "card-page"),
  };
  log(`card: ${JSON.stringify(card)}`);
  check(card.name === VISITOR.name, `card-name is "${card.name}", expected "${VISITOR.name}"`);
  check(card.phone === VISITOR.phoneE164, `card-phone is "${card.phone}", not E.164`);
  check(card.topic === VISITOR.topic, `card-topic is "${card.topic}", expected "${VISITOR.topic}"`);
  check(card.page === SHOP, `card-page is "${card.page}", expected the shop URL ${SHOP}`);
  const tel = await agent.locator(tid("card-phone")).getAttribute("href");
  check(tel === "tel:" + VISITOR.phoneE164, `card-phone links to ${tel}`);

  at("call connects");
  await waitAttr(agent, "call-state", "data-state", "connected");
  await waitAttr(agent, "agent-status", "data-status", "on_call");
  await waitAttr(shop, "sb-status", "data-status", "calling", 10000);

  // --- Script ------------------------------------------------------------------------------
  at("agent answers the script");
  await waitAttr(agent, "script-runner", "data-step-id", "reason");
  const option = agent.locator(`${tid("script-runner")} [data-value="${ANSWERS.reason}"]`);
  await option.click();
  await waitAttr(agent, "script-runner", "data-step-id", "order");
  await agent.locator(tid("script-input")).fill(ANSWERS.order);
  await agent.locator(tid("script-next")).click();
  await waitAttr(agent, "script-runner", "data-step-id", "solved");
  await agent.locator(tid("script-input")).fill(ANSWERS.solved);
  await agent.locator(tid("script-input")).press("Enter");
  await waitAttr(agent, "script-runner", "data-finished", "true");
  await agent.locator(tid("script-done")).waitFor();
  const shown = await text(agent, "script-answer-order");
  check(shown === ANSWERS.order, `script-answer-order shows "${shown}"`);
  check(
    await agent.locator(tid("disposition-submit")).isDisabled(),
    "disposition-submit is enabled while the call is live",
  );
  await agent.screenshot({ path: `${SHOTS}/e2e-agent.png`, fullPage: true });

  // --- Hang up and wrap up -----------------------------------------------------------------
  at("agent hangs up");
  await agent.locator(tid("hangup")).click();
  await waitAttr(agent, "call-state", "data-state", "ended");
  await agent.locator(tid("hangup")).waitFor({ state: "detached" });

  at("agent saves the disposition");
  const select = agent.locator(tid("disposition-select"));
  const options = await select.locator("option").evaluateAll((os) => os.map((o) => o.value));
  check(options.includes(DISPOSITION), `no ${DISPOSITION} in ${JSON.stringify(options)}`);
  await select.selectOption(DISPOSITION);
  await agent.locator(tid("disposition-notes")).fill(NOTES);
  await agent.locator(tid("disposition-submit")).click();
  try {
    await agent.locator(tid("disposition-saved")).waitFor();
  } catch (e) {
    const toast = await agent
      .locator(tid("toast"))
      .allTextContents()
      .catch(() => []);
    throw new Error(`no disposition-saved (toasts: ${JSON.stringify(toast)}): ${e.message}`);
  }
  const saved = await text(agent, "disposition-saved");
  check(saved.includes(DISPOSITION), `disposition-saved says "${saved}"`);
  await agent.screenshot({ path: `${SHOTS}/e2e-agent-saved.png`, fullPage: true });

  at("visitor sees the callback done");
  await waitAttr(shop, "sb-status", "data-status", "done", 10000);

  // --- Supervisor statistics ---------------------------------------------------------------
  at("supervisor sam opens the statistics");
  const sup = await newPage(supervisorCtx, "supervisor");
  await signIn(sup, "sam", "/stats");
  await sup.locator(tid("stats-view")).waitFor();
  const rows = sup.locator(tid("stats-row"));
  await rows.first().waitFor();
  const count = await rows.count();
  check(count === 1, `stats table has ${count} rows, expected 1 (the demo queue)`);
  const cell = async (col) =>
    ((await rows.first().locator(`[data-col="${col}"]`).textContent()) || "").trim();
  const requests = await cell("requests");
  const connected = await cell("connected");
  log(`stats row: requests=${requests} connected=${connected}`);
  check(requests === "1", `stats requests is ${requests}, expected 1`);
  check(connected === "1", `stats connected is ${connected}, expected 1`);
  await sup.locator(tid("chart-requests")).waitFor();
  await sup.screenshot({ path: `${SHOTS}/e2e-stats.png`, fullPage: true });

  check(pageErrors.length === 0, `uncaught page errors: ${pageErrors.join(" | ")}`);
  log("passed");
  const result = {
    interaction_id: interactionId,
    name: VISITOR.name,
    phone: VISITOR.phoneE164,
    topic: VISITOR.topic,
    page_url: SHOP,
    disposition: DISPOSITION,
    notes: NOTES,
    answers: ANSWERS,
  };
  console.log("E2E_RESULT " + JSON.stringify(result));
}

await run(main, OVERALL_MS);
