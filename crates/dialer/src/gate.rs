//! The last check before a campaign dials a number: every legal rule, at `now`.
//!
//! A contact passed these checks when it was imported and scheduled, but lists and clocks move:
//! the number may have opted out since, another campaign may have abandoned a call to it (UK
//! 72 h rule), and a retry scheduled for the window's opening may be picked up late. The engine
//! calls [`check_dial`] right before it places the call and, when blocked, reschedules or ends
//! the contact as the block says.

use chrono_tz::Tz;
use domain::{PhoneNumber, Timestamp};

use crate::dnc::{CampaignId, DncHit, DncRegistry};
use crate::retry::AbandonedNumbers;
use crate::window::CallingWindow;

/// Why a number may not be dialed now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialBlock {
    /// On a do-not-call list: never dial (end the contact).
    Dnc(DncHit),
    /// A call to it was abandoned recently (UK): not before `until`.
    RecentlyAbandoned { until: Timestamp },
    /// Outside the calling window: next open at `next_open` (`None`: not within the horizon).
    OutsideWindow { next_open: Option<Timestamp> },
}

/// What a dial is checked against.
#[derive(Clone, Copy, Debug)]
pub struct DialRules<'a> {
    pub campaign: CampaignId,
    pub window: &'a CallingWindow,
    pub dnc: &'a DncRegistry,
    /// The held abandoned numbers, where the UK rule applies.
    pub abandoned: Option<&'a AbandonedNumbers>,
}

/// `Ok(())` when `number` (in zone `tz`) may be dialed at `now`; otherwise the first rule that
/// blocks it, the permanent one (DNC) first.
pub fn check_dial(
    rules: &DialRules<'_>,
    number: &PhoneNumber,
    tz: Tz,
    now: Timestamp,
) -> Result<(), DialBlock> {
    if let Some(hit) = rules.dnc.check(rules.campaign, number) {
        return Err(DialBlock::Dnc(hit));
    }
    if let Some(until) = rules.abandoned.and_then(|a| a.blocked_until(number, now)) {
        return Err(DialBlock::RecentlyAbandoned { until });
    }
    if !rules.window.is_open(now, tz) {
        return Err(DialBlock::OutsideWindow { next_open: rules.window.next_open(now, tz) });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dnc::DncList;
    use chrono::TimeZone;
    use chrono_tz::Europe::London;

    fn london(d: u32, h: u32) -> Timestamp {
        let t = London.with_ymd_and_hms(2026, 1, d, h, 0, 0).single().expect("valid");
        Timestamp::from_millis(t.timestamp_millis())
    }

    #[test]
    fn each_rule_blocks_in_turn() {
        let window = CallingWindow::legal_default();
        let mut dnc = DncRegistry::new();
        let mut abandoned = AbandonedNumbers::uk();
        let n = PhoneNumber::parse("+44 20 7946 0958", "GB").expect("valid");
        let campaign = CampaignId(1);
        let check = |dnc: &DncRegistry, abandoned: &AbandonedNumbers, now| {
            let rules = DialRules { campaign, window: &window, dnc, abandoned: Some(abandoned) };
            check_dial(&rules, &n, London, now)
        };
        assert_eq!(check(&dnc, &abandoned, london(6, 10)), Ok(()));
        assert_eq!(
            check(&dnc, &abandoned, london(6, 22)),
            Err(DialBlock::OutsideWindow { next_open: Some(london(7, 9)) })
        );
        abandoned.record(&n, london(6, 10)).expect("room");
        assert_eq!(
            check(&dnc, &abandoned, london(7, 10)),
            Err(DialBlock::RecentlyAbandoned { until: london(9, 10) })
        );
        dnc.add(DncList::Global, &n).expect("room");
        assert_eq!(check(&dnc, &abandoned, london(7, 10)), Err(DialBlock::Dnc(DncHit::Global)));
    }
}
