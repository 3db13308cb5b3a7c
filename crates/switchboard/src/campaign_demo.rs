//! The demo's outbound campaign: "Parcel waiting" for a few contacts, paused, so a user can
//! press start in the console and watch it dial over the simulated network.

use api::{AppState, CampaignSettings};
use serde_json::json;

/// UK mobile numbers. The simulated network's rules (last digit
/// 0 busy, 8 fails, 9 never answers) give a mix of outcomes.
const CONTACTS_CSV: &str = "phone,name,parcel,office,days,return_date,time_zone\n\
+447911123101,Olivia Brown,RB123456789GB,Camden High Street,5,12 December,Europe/London\n\
+447911123102,Jack Wilson,RB223456789GB,Islington Upper Street,3,14 December,Europe/London\n\
+447911123103,Amelia Taylor,RB323456789GB,Camden High Street,7,10 December,Europe/London\n\
+447911123110,Harry Davies,RB423456789GB,Hackney Mare Street,4,13 December,Europe/London\n\
+447911123104,Isla Evans,RB523456789GB,Islington Upper Street,6,11 December,Europe/London\n\
+447911123119,George Thomas,RB623456789GB,Camden High Street,2,15 December,Europe/London\n\
+447911123105,Ava Roberts,RB723456789GB,Hackney Mare Street,5,12 December,Europe/London\n\
+447911123118,Noah Walker,RB823456789GB,Camden High Street,8,9 December,Europe/London\n";

/// Creates the campaign on `queue`. Returns its id and the contacts imported.
pub async fn seed_campaign(state: &AppState, queue: i64) -> anyhow::Result<(i64, u64)> {
    let settings: CampaignSettings = serde_json::from_value(json!({
        "mode": "progressive",
        "queue_id": queue,
        "lines_max": 3,
        "no_answer_timeout_s": 20,
        "attempts_max": 3,
        "retry_delays": { "no_answer_s": 120, "busy_s": 60, "machine_s": 120,
                          "failed_s": 120, "abandoned_s": 300 },
        // Open around the clock so the demo dials whenever it is tried; real campaigns keep
        // the legal default of 09:00-21:00 in each contact's zone.
        "window": { "from": "00:00", "to": "23:59",
                    "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] },
        "abandon_rule": "uk",
        "abandon_cap": 0.03,
        "template": "parcel_waiting",
        "script": "Hello {name}, this is Acme Parcels. Your parcel {parcel} has been waiting at \
                   {office} for {days} days. It goes back to the sender after {return_date}. \
                   Would you like to pick it up or have it delivered again?",
        "default_region": "GB"
    }))?;
    api::seed_campaign(state, "Parcel waiting", settings, CONTACTS_CSV)
        .await
        .map_err(|e| anyhow::anyhow!("demo campaign: {e}"))
}
