//! The open offers: records in a dense slab, found by id through a [`SlotIndex`].
//!
//! Offer ids are handed out in sequence, and an offer is made and closed within moments. A
//! hash map spreads consecutive ids over its table, which keeps the size of the largest burst
//! of open offers: each offer then writes and reads a cold bucket. The index gives consecutive
//! ids neighbouring buckets, and freed slots are reused last-in first-out, so the next offer
//! lands where the last one was.

use domain::OfferId;

use crate::id_hash::SlotIndex;
use crate::offer::Offer;

#[derive(Default)]
pub(crate) struct OfferTable {
    index: SlotIndex<OfferId>,
    slots: Vec<Option<(OfferId, Offer)>>,
    free: Vec<u32>,
}

impl OfferTable {
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    pub(crate) fn get(&self, id: &OfferId) -> Option<&Offer> {
        let slot = self.index.get(id)?;
        self.slots[slot as usize].as_ref().map(|(_, offer)| offer)
    }

    /// Returns the record the id had (none for a new id).
    pub(crate) fn insert(&mut self, id: OfferId, offer: Offer) -> Option<Offer> {
        if let Some(slot) = self.index.get(&id) {
            let held = self.slots[slot as usize].replace((id, offer));
            return held.map(|(_, offer)| offer);
        }
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                // Open offers are bounded by agents times capacity, far below u32::MAX.
                let slot = u32::try_from(self.slots.len()).expect("offer slots fit u32");
                self.slots.push(None);
                slot
            }
        };
        self.slots[slot as usize] = Some((id, offer));
        self.index.insert(id, slot);
        None
    }

    pub(crate) fn remove(&mut self, id: &OfferId) -> Option<Offer> {
        let slot = self.index.remove(id)?;
        self.free.push(slot);
        self.slots[slot as usize].take().map(|(_, offer)| offer)
    }

    /// Every open offer with its id, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (OfferId, &Offer)> {
        self.slots.iter().flatten().map(|(id, offer)| (*id, offer))
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &Offer> {
        self.iter().map(|(_, offer)| offer)
    }
}
