//! Do-not-call lists: a global list and one per campaign, keyed by E.164 number.
//!
//! Checked at import (a contact on a list is reported, not imported) and again at dial time
//! (a number may be added while the campaign runs). An opt-out key press adds the number to the
//! campaign's list or the global one; the caller decides which. The registry holds at most
//! [`DNC_ENTRIES_MAX`] numbers over all lists and [`DNC_CAMPAIGNS_MAX`] campaign lists; adding
//! beyond that is refused, never silently dropped.

use std::collections::{HashMap, HashSet};

use domain::PhoneNumber;

/// Numbers held over all lists (global and every campaign's).
pub const DNC_ENTRIES_MAX: usize = 2_000_000;
/// Campaigns with a list of their own.
pub const DNC_CAMPAIGNS_MAX: usize = 10_000;

/// A campaign's identity, as the dialer rules know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CampaignId(pub u64);

/// Which list holds a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DncHit {
    Global,
    Campaign(CampaignId),
}

/// Which list to change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DncList {
    Global,
    Campaign(CampaignId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DncError {
    #[error("do-not-call lists are full ({DNC_ENTRIES_MAX} numbers)")]
    Full,
    #[error("too many campaign do-not-call lists ({DNC_CAMPAIGNS_MAX})")]
    TooManyCampaigns,
}

/// The global list and the per-campaign lists.
#[derive(Clone, Debug, Default)]
pub struct DncRegistry {
    global: HashSet<String>,
    campaigns: HashMap<CampaignId, HashSet<String>>,
    entries: usize,
}

impl DncRegistry {
    pub fn new() -> DncRegistry {
        DncRegistry::default()
    }

    /// Numbers held over all lists.
    pub fn len(&self) -> usize {
        self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Whether `campaign` may not call `number`, and which list says so (global first).
    pub fn check(&self, campaign: CampaignId, number: &PhoneNumber) -> Option<DncHit> {
        let key = number.as_str();
        if self.global.contains(key) {
            return Some(DncHit::Global);
        }
        self.campaigns
            .get(&campaign)
            .filter(|list| list.contains(key))
            .map(|_| DncHit::Campaign(campaign))
    }

    /// Adds `number` to `list`; `Ok(false)` if it was there already.
    pub fn add(&mut self, list: DncList, number: &PhoneNumber) -> Result<bool, DncError> {
        let key = number.as_str();
        let set = match list {
            DncList::Global => &mut self.global,
            DncList::Campaign(id) => {
                if !self.campaigns.contains_key(&id) && self.campaigns.len() >= DNC_CAMPAIGNS_MAX {
                    return Err(DncError::TooManyCampaigns);
                }
                self.campaigns.entry(id).or_default()
            }
        };
        if set.contains(key) {
            return Ok(false);
        }
        if self.entries >= DNC_ENTRIES_MAX {
            return Err(DncError::Full);
        }
        set.insert(key.to_string());
        self.entries += 1;
        Ok(true)
    }

    /// Removes `number` from `list`; `false` if it was not there.
    pub fn remove(&mut self, list: DncList, number: &PhoneNumber) -> bool {
        let removed = match list {
            DncList::Global => self.global.remove(number.as_str()),
            DncList::Campaign(id) => {
                let Some(set) = self.campaigns.get_mut(&id) else { return false };
                let removed = set.remove(number.as_str());
                if set.is_empty() {
                    self.campaigns.remove(&id);
                }
                removed
            }
        };
        if removed {
            self.entries -= 1;
        }
        removed
    }

    /// Drops a campaign's whole list (the campaign was deleted); returns the numbers dropped.
    pub fn drop_campaign(&mut self, campaign: CampaignId) -> usize {
        let n = self.campaigns.remove(&campaign).map_or(0, |s| s.len());
        self.entries -= n;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn num(s: &str) -> PhoneNumber {
        PhoneNumber::parse(s, "US").expect("valid number")
    }

    #[test]
    fn global_and_campaign_lists() {
        let mut dnc = DncRegistry::new();
        let (a, b) = (CampaignId(1), CampaignId(2));
        let n = num("+1 202 555 0147");
        assert_eq!(dnc.check(a, &n), None);
        assert_eq!(dnc.add(DncList::Campaign(a), &n), Ok(true));
        assert_eq!(dnc.add(DncList::Campaign(a), &n), Ok(false));
        assert_eq!(dnc.check(a, &n), Some(DncHit::Campaign(a)));
        assert_eq!(dnc.check(b, &n), None);
        assert_eq!(dnc.add(DncList::Global, &n), Ok(true));
        assert_eq!(dnc.check(b, &n), Some(DncHit::Global));
        assert_eq!(dnc.check(a, &n), Some(DncHit::Global), "global is reported first");
        assert_eq!(dnc.len(), 2);
        assert!(dnc.remove(DncList::Global, &n));
        assert!(!dnc.remove(DncList::Global, &n));
        assert_eq!(dnc.check(b, &n), None);
        assert_eq!(dnc.drop_campaign(a), 1);
        assert!(dnc.is_empty());
    }

    #[test]
    fn the_same_number_in_two_forms_is_one_entry() {
        let mut dnc = DncRegistry::new();
        dnc.add(DncList::Global, &num("(202) 555-0147")).expect("room");
        assert_eq!(dnc.check(CampaignId(9), &num("+12025550147")), Some(DncHit::Global));
    }

    proptest! {
        /// The entry count always equals the sum of the lists.
        #[test]
        fn count_matches_the_lists(
            ops in prop::collection::vec((0u8..3, 0u64..3, 0u32..20), 0..200),
        ) {
            let mut dnc = DncRegistry::new();
            for (op, campaign, n) in ops {
                let number = num(&format!("+1202555{:04}", 100 + n));
                let list = match campaign {
                    0 => DncList::Global,
                    c => DncList::Campaign(CampaignId(c)),
                };
                if op < 2 {
                    dnc.add(list, &number).expect("room");
                } else {
                    dnc.remove(list, &number);
                }
                let campaigns: usize = dnc.campaigns.values().map(HashSet::len).sum();
                let sum = dnc.global.len() + campaigns;
                prop_assert_eq!(dnc.len(), sum);
            }
        }
    }
}
