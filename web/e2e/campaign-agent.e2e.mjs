// Browser end-to-end test of a campaign call from the agent's side, in headless Chromium
// (Debian's). Driven by crates/switchboard/tests/browser.rs, which starts the demo (its paused
// progressive campaign "Parcel waiting", on the simulated network) with a minute of after-call
// work.
//
//   SB_BASE_URL=http://127.0.0.1:8080 node web/e2e/campaign-agent.e2e.mjs
//
// 1. An agent (alice) signs in and goes available.
// 2. A supervisor (sam) starts the campaign from the campaigns page.
// 3. The first contact answers: alice's console pops the campaign card with the contact's CSV
//    row and the campaign's script filled in, and shows her on a call.
// 4. Alice hangs up; sam pauses the campaign. Alice picks the outcome and notes in the wrap-up
//    form and saves; she is back to available at once rather than after the minute of
//    after-call work, and the call is listed in her recent contacts.
//
// Exits 0 on success; on failure prints the failed step and exits 1. The last line of stdout
// on success is `E2E_RESULT {json}`, for the server-side checks.
// Optional env: SB_CHROMIUM (default /usr/bin/chromium), SB_SCREENSHOT_DIR (default /tmp),
// SB_E2E_TIMEOUT_MS (overall bound, default 60000).
import {
  at,
  check,
  launch,
  log,
  newPage,
  pageErrors,
  run,
  signIn,
  text,
  tid,
  waitAttr,
  waitText,
} from "./harness.mjs";

const BASE = (process.env.SB_BASE_URL || "").replace(/\/+$/, "");
const EXE = process.env.SB_CHROMIUM || "/usr/bin/chromium";
const SHOTS = (process.env.SB_SCREENSHOT_DIR || "/tmp").replace(/\/+$/, "");
const OVERALL_MS = Number(process.env.SB_E2E_TIMEOUT_MS || 60000);
const CAMPAIGN = "Parcel waiting";
// The demo campaign's first row: the simulated network answers it.
const CONTACT = { name: "Olivia Brown", phone: "+447911123101", parcel: "RB123456789GB" };
const NOTES = "Wants redelivery on Friday.";

async function main() {
  check(BASE, "set SB_BASE_URL (console)");
  const browser = await launch(EXE);
  const viewport = { width: 1366, height: 900 };
  const agent = await newPage(await browser.newContext({ viewport }), "agent");
  const sup = await newPage(await browser.newContext({ viewport }), "supervisor");

  at("agent alice signs in and goes available");
  await signIn(agent, BASE, "alice", "/agent");
  await waitAttr(agent, "connection", "data-state", "open");
  await agent.locator(tid("status-available")).click();
  await waitAttr(agent, "agent-status", "data-status", "available");
  check(
    (await agent.locator(tid("campaign-card")).count()) === 0,
    "a campaign card is shown before the campaign runs",
  );

  at("supervisor sam starts the campaign");
  await signIn(sup, BASE, "sam", "/campaigns");
  await sup.locator(`${tid("campaigns-table")} tr`, { hasText: CAMPAIGN }).click();
  await waitText(sup, "campaign-status", "Paused");
  await sup.locator(tid("campaign-start")).click();
  await waitText(sup, "campaign-status", "Running");

  at("the answered contact pops on alice's console");
  const card = agent.locator(tid("campaign-card"));
  await card.waitFor();
  // Bridged: the card says so, Hang up is offered and the status pill says on a call.
  await waitAttr(agent, "campaign-card", "data-phase", "bridged");
  await agent.locator(tid("campaign-hangup")).waitFor();
  await waitAttr(agent, "agent-status", "data-status", "on_call");
  const shown = ((await card.textContent()) || "").replace(/\s+/g, " ");
  for (const want of [CAMPAIGN, CONTACT.name, CONTACT.phone, CONTACT.parcel]) {
    check(shown.includes(want), `the card lacks "${want}": ${shown}`);
  }
  const script = await text(agent, "campaign-script");
  check(
    script.includes(`Hello ${CONTACT.name}`) && script.includes("Camden High Street"),
    `the script is not filled in with the contact's fields: ${script}`,
  );
  check(!script.includes("{"), `a placeholder is left in the script: ${script}`);
  await agent.screenshot({ path: `${SHOTS}/e2e-campaign-card.png`, fullPage: true });

  at("alice hangs up and gets the wrap-up form");
  await agent.locator(tid("campaign-hangup")).click();
  const form = agent.locator(tid("campaign-disposition-form"));
  await form.waitFor();
  await waitAttr(agent, "agent-status", "data-status", "wrap_up");
  await agent.locator(tid("campaign-hangup")).waitFor({ state: "detached" });

  at("sam pauses the campaign, so that no next contact is dialed for alice");
  await sup.locator(tid("campaign-pause")).click();
  await waitText(sup, "campaign-status", "Paused");

  at("saving without an outcome is refused in the form");
  await agent.locator(tid("campaign-disposition-save")).click();
  await form.locator(".field-error").waitFor();
  await waitAttr(agent, "campaign-card", "data-phase", "wrap_up");

  at("alice saves the outcome and notes");
  const select = agent.locator(tid("campaign-disposition-select"));
  const options = await select
    .locator("option")
    .evaluateAll((os) => os.map((o) => o.value).filter((v) => v));
  check(options.length > 0, "the queue's outcomes are offered as a list");
  const disposition = options[0];
  await select.selectOption(disposition);
  await form.locator(".field-error").waitFor({ state: "detached" });
  await agent.locator(tid("campaign-disposition-notes")).fill(NOTES);
  await agent.screenshot({ path: `${SHOTS}/e2e-campaign-wrapup.png`, fullPage: true });
  await agent.locator(tid("campaign-disposition-save")).click();

  at("the card closes and alice is available again");
  await form.waitFor({ state: "detached" });
  await waitAttr(agent, "agent-status", "data-status", "available");
  log(`saved ${disposition}`);

  at("the call is in alice's recent contacts with its outcome");
  const row = agent.locator(tid("history-row"), { hasText: CAMPAIGN });
  await row.waitFor();
  const rowText = ((await row.first().textContent()) || "").replace(/\s+/g, " ");
  check(
    rowText.includes("Campaign call") && rowText.includes(CONTACT.name) && rowText.includes(disposition),
    `the history row lacks the kind, the contact or the outcome: ${rowText}`,
  );

  check(pageErrors.length === 0, `uncaught page errors: ${pageErrors.join(" | ")}`);
  log("passed");
  console.log(`E2E_RESULT ${JSON.stringify({ phone: CONTACT.phone, disposition, notes: NOTES })}`);
}

await run(main, OVERALL_MS);
