// Browser end-to-end test of the campaigns page, in headless Chromium (Debian's). Driven by
// crates/switchboard/tests/browser.rs, which starts a server with a prompts directory.
//
//   SB_BASE_URL=http://127.0.0.1:8080 node web/e2e/campaign.e2e.mjs
//
// 1. A supervisor (sam) creates a robocall campaign from a CSV; the import report lists the
//    rows refused and why.
// 2. The supervisor uploads a WAV as the campaign's recorded message, sees it stored, and sees
//    a file that is not a WAV refused with the server's reason.
// 3. The supervisor starts the campaign, then pauses it.
//
// Exits 0 on success; on failure prints the failed step and exits 1. The last line of stdout
// on success is `E2E_RESULT {json}`, for the server-side checks.
// Optional env: SB_CHROMIUM (default /usr/bin/chromium), SB_SCREENSHOT_DIR (default /tmp),
// SB_E2E_TIMEOUT_MS (overall bound, default 60000).
import { at, check, launch, newPage, pageErrors, run, text, tid, waitText } from "./harness.mjs";

const BASE = (process.env.SB_BASE_URL || "").replace(/\/+$/, "");
const EXE = process.env.SB_CHROMIUM || "/usr/bin/chromium";
const SHOTS = (process.env.SB_SCREENSHOT_DIR || "/tmp").replace(/\/+$/, "");
const OVERALL_MS = Number(process.env.SB_E2E_TIMEOUT_MS || 60000);
const NAME = "Parcels by robocall";
const CSV =
  "Telephone,name,parcel,office,days,return_date,tz\n" +
  "+447911123301,Ann,P1,Camden,3,Friday,Europe/London\n" +
  "12345,Bad Phone,P2,Camden,3,Friday,Europe/London\n" +
  "+447911123303,No Office,P3,,3,Friday,Europe/London\n";

// One second of a 440 Hz tone as a 16-bit mono PCM WAV at 8 kHz.
function toneWav() {
  const rate = 8000;
  const n = rate;
  const buf = Buffer.alloc(44 + n * 2);
  buf.write("RIFF", 0);
  buf.writeUInt32LE(36 + n * 2, 4);
  buf.write("WAVEfmt ", 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(rate, 24);
  buf.writeUInt32LE(rate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write("data", 36);
  buf.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) {
    buf.writeInt16LE(Math.round(6000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + i * 2);
  }
  return buf;
}

async function main() {
  check(BASE, "set SB_BASE_URL (console)");
  const browser = await launch(EXE);
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await newPage(ctx, "supervisor");

  at("supervisor sam signs in to the campaigns page");
  await page.goto(`${BASE}/#/campaigns`);
  await page.locator(tid("login-name")).fill("sam");
  await page.locator(tid("login-password")).fill("demo1234");
  await page.locator(tid("login-submit")).click();
  await page.locator(tid("campaign-new")).waitFor();

  at("creates a robocall campaign from a CSV");
  await page.locator(tid("campaign-name")).fill(NAME);
  await page.locator(tid("campaign-mode")).selectOption("robocall");
  await page.locator(tid("campaign-template")).selectOption("parcel_waiting");
  await page.locator(tid("campaign-on-machine")).selectOption("leave_message");
  await page.locator(tid("campaign-csv")).setInputFiles({
    name: "contacts.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(CSV),
  });
  await page.locator(tid("campaign-mapping")).waitFor();
  check(
    (await page.locator(tid("map-phone")).inputValue()) === "Telephone",
    "the phone column is guessed from the header",
  );
  await page.locator(tid("map-time_zone")).selectOption("tz");
  await page.locator(tid("campaign-create")).click();
  await waitText(page, "import-report", "1 of 3 rows imported, 2 rejected");
  const report = await text(page, "import-report");
  check(/Bad Phone|phone/i.test(report), `the report names the bad phone: ${report}`);

  at("the new campaign is selected, with no recording yet");
  await page.locator(tid("campaign-recording")).waitFor();
  await waitText(page, "recording-state", "No recording");
  const campaigns = await page.evaluate(async () => (await fetch("/api/v1/campaigns")).json());
  const campaign = campaigns.find((c) => c.name === "Parcels by robocall");
  check(campaign, `the campaign is listed: ${JSON.stringify(campaigns)}`);

  at("uploads a WAV as the recorded message");
  await page.locator(tid("recording-file")).setInputFiles({
    name: "message.wav",
    mimeType: "audio/wav",
    buffer: toneWav(),
  });
  await waitText(page, "recording-state", "Robocalls play this recording");
  await page.locator(tid("recording-player")).waitFor();

  at("a file that is not a WAV is refused with the reason");
  await page.locator(tid("recording-file")).setInputFiles({
    name: "notes.wav",
    mimeType: "audio/wav",
    buffer: Buffer.from("this is not audio"),
  });
  await waitText(page, "recording-error", "WAV");
  await waitText(page, "recording-state", "Robocalls play this recording");

  at("starts the campaign, then pauses it");
  await page.locator(tid("campaign-start")).click();
  await waitText(page, "campaign-status", "Running");
  await page.locator(tid("campaign-pause")).click();
  await waitText(page, "campaign-status", "Paused");
  await page.screenshot({ path: `${SHOTS}/e2e-campaign.png`, fullPage: true });

  check(pageErrors.length === 0, `uncaught page errors: ${pageErrors.join(" | ")}`);
  console.log(`E2E_RESULT ${JSON.stringify({ campaign_id: campaign.id, report })}`);
}

await run(main, OVERALL_MS);
