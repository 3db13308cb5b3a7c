//! Requirement signatures: the sorted list of (skill, minimum level) a waiting task needs,
//! its queue's merged with its own. Interned to a small id so that each queue partitions its
//! waiting tasks by signature and a freed agent checks one head per signature.

use domain::{SkillId, SkillLevel};

use crate::id_hash::IdMap;

/// One requirement or one held skill.
pub(crate) type Req = (SkillId, SkillLevel);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct SigId(u32);

impl SigId {
    /// No requirement at all (relaxed tasks, queues without skills). Never freed.
    pub(crate) const NONE: SigId = SigId(0);

    fn index(self) -> usize {
        self.0 as usize
    }
}

struct Entry {
    reqs: Box<[Req]>,
    bits: SkillBits,
    /// Tasks holding this signature (plus one for [`SigId::NONE`], which stays forever).
    refs: u64,
}

/// Reference-counted interner: a signature lives while a task holds it, so the table is bounded
/// by the number of tasks and ids are recycled.
pub(crate) struct Signatures {
    ids: IdMap<Box<[Req]>, SigId>,
    entries: Vec<Entry>,
    free: Vec<SigId>,
}

impl Signatures {
    pub(crate) fn new() -> Signatures {
        let mut ids = IdMap::default();
        ids.insert(Box::default(), SigId::NONE);
        let none = Entry { reqs: Box::default(), bits: SkillBits::default(), refs: 1 };
        Signatures { ids, entries: vec![none], free: Vec::new() }
    }

    #[cfg(test)]
    fn find(&self, reqs: &[Req]) -> Option<SigId> {
        self.ids.get(reqs).copied()
    }

    pub(crate) fn acquire(&mut self, reqs: &[Req]) -> SigId {
        if reqs.is_empty() {
            // A relaxed task: no need to hash the empty list to find it.
            self.entries[SigId::NONE.index()].refs += 1;
            return SigId::NONE;
        }
        if let Some(&id) = self.ids.get(reqs) {
            self.entries[id.index()].refs += 1;
            return id;
        }
        let boxed: Box<[Req]> = reqs.into();
        let entry = Entry { reqs: boxed.clone(), bits: SkillBits::of_requirements(reqs), refs: 1 };
        let id = match self.free.pop() {
            Some(id) => {
                self.entries[id.index()] = entry;
                id
            }
            None => {
                // Live signatures are bounded by live tasks (TASKS_MAX), far below u32::MAX.
                let id = SigId(u32::try_from(self.entries.len()).expect("signatures fit u32"));
                self.entries.push(entry);
                id
            }
        };
        self.ids.insert(boxed, id);
        id
    }

    /// Acquires `id` again if it is live and stands for `reqs`; the same as `acquire(reqs)`.
    pub(crate) fn reacquire(&mut self, id: SigId, reqs: &[Req]) -> bool {
        let entry = &mut self.entries[id.index()];
        let same = entry.refs > 0 && *entry.reqs == *reqs;
        if same {
            entry.refs += 1;
        }
        same
    }

    /// Inlined: every task leaving the router releases one or two, and most stay referenced.
    #[inline]
    pub(crate) fn release(&mut self, id: SigId) {
        let entry = &mut self.entries[id.index()];
        assert!(entry.refs > 0, "signature {id:?} released more often than acquired");
        entry.refs -= 1;
        if entry.refs == 0 {
            self.drop_entry(id);
        }
    }

    #[inline(never)]
    fn drop_entry(&mut self, id: SigId) {
        let reqs = std::mem::take(&mut self.entries[id.index()].reqs);
        self.ids.remove(&reqs);
        self.free.push(id);
    }

    pub(crate) fn reqs(&self, id: SigId) -> &[Req] {
        &self.entries[id.index()].reqs
    }

    pub(crate) fn bits(&self, id: SigId) -> SkillBits {
        self.entries[id.index()].bits
    }

    /// (id, references) of every live signature, for the invariant recount.
    pub(crate) fn live(&self) -> impl Iterator<Item = (SigId, u64)> + '_ {
        self.ids.values().map(|&id| (id, self.entries[id.index()].refs))
    }
}

/// `out` = the union of two sorted requirement lists, each skill at the higher level.
pub(crate) fn merge_requirements(out: &mut Vec<Req>, a: &[Req], b: &[Req]) {
    out.clear();
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push((a[i].0, a[i].1.max(b[j].1)));
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
}

/// Skill ids told apart by [`SkillBits`]; larger ids share their bits with smaller ones.
const BIT_SKILLS: u32 = 12;
/// Levels per skill in [`SkillBits`]: 1 to 10.
const BIT_LEVELS: u32 = SkillLevel::MAX.get() as u32;
/// Set in a [`SkillBits`] whose list holds a skill id of [`BIT_SKILLS`] or more.
const SHARED_BIT: u64 = 1 << 63;
const _: () = assert!(BIT_SKILLS * BIT_LEVELS < 127 && SkillLevel::MIN.get() == 1);

/// A skill list folded into 128 bits, one per (skill id modulo [`BIT_SKILLS`], level): a
/// requirement sets the bit of its level, a held skill the bits of every level up to its own.
/// A freed agent scans the partitions of its queues and the free agents of a queue are
/// scanned for a task: comparing bits answers without walking either list, which would read
/// the signature's requirements in another cache line. Only when some id is shared by
/// several skills do the bits merely filter (a missing bit still means unmet).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SkillBits([u64; 2]);

impl SkillBits {
    fn add(&mut self, skill: SkillId, levels: std::ops::RangeInclusive<u8>) {
        if skill.0 >= BIT_SKILLS {
            self.0[1] |= SHARED_BIT;
        }
        for level in levels {
            let bit = (skill.0 % BIT_SKILLS) * BIT_LEVELS + u32::from(level) - 1;
            self.0[(bit / 64) as usize] |= 1 << (bit % 64);
        }
    }

    /// The bits of sorted requirements.
    pub(crate) fn of_requirements(list: &[Req]) -> SkillBits {
        let mut bits = SkillBits::default();
        for &(skill, level) in list {
            bits.add(skill, level.get()..=level.get());
        }
        bits
    }

    /// The bits of sorted held skills.
    pub(crate) fn of_held(list: &[Req]) -> SkillBits {
        let mut bits = SkillBits::default();
        for &(skill, level) in list {
            bits.add(skill, 1..=level.get());
        }
        bits
    }

    /// Whether `held` skills meet these requirements, when the bits tell; `None` when the
    /// lists must be compared.
    pub(crate) fn met_by(self, held: SkillBits) -> Option<bool> {
        let missing = (self.0[0] & !held.0[0]) | (self.0[1] & !held.0[1] & !SHARED_BIT);
        if missing != 0 {
            return Some(false);
        }
        ((self.0[1] | held.0[1]) & SHARED_BIT == 0).then_some(true)
    }
}

/// Whether sorted `held` skills meet every sorted requirement in `needed`.
pub(crate) fn satisfies(held: &[Req], needed: &[Req]) -> bool {
    let mut held = held.iter();
    'next: for &(skill, level) in needed {
        for &(have, have_level) in held.by_ref() {
            if have == skill {
                if have_level >= level {
                    continue 'next;
                }
                return false;
            }
            if have > skill {
                return false;
            }
        }
        return false;
    }
    true
}

/// Sum of the held levels of the given skills (a missing skill counts zero).
pub(crate) fn level_sum(held: &[Req], of: &[Req]) -> u32 {
    of.iter()
        .map(|&(skill, _)| match held.binary_search_by_key(&skill, |r| r.0) {
            Ok(i) => u32::from(held[i].1.get()),
            Err(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(skill: u32, level: i64) -> Req {
        // Test levels are literals inside 1..=10.
        (SkillId(skill), SkillLevel::new(level).expect("valid level"))
    }

    #[test]
    fn merge_takes_the_higher_level() {
        let mut out = Vec::new();
        merge_requirements(&mut out, &[r(1, 3), r(4, 2)], &[r(1, 5), r(2, 1), r(9, 9)]);
        assert_eq!(out, vec![r(1, 5), r(2, 1), r(4, 2), r(9, 9)]);
    }

    #[test]
    fn satisfies_needs_every_skill_at_level() {
        let held = [r(1, 5), r(3, 2), r(7, 10)];
        assert!(satisfies(&held, &[]));
        assert!(satisfies(&held, &[r(1, 5), r(7, 3)]));
        assert!(!satisfies(&held, &[r(1, 6)]));
        assert!(!satisfies(&held, &[r(2, 1)]));
        assert!(!satisfies(&held, &[r(8, 1)]));
        assert!(!satisfies(&[], &[r(1, 1)]));
        assert_eq!(level_sum(&held, &[r(1, 1), r(2, 1), r(7, 1)]), 15);
    }

    /// A sorted skill list of up to `len` distinct ids below `ids`, from `next(n)` in `0..n`.
    fn random_list(next: &mut impl FnMut(u64) -> u64, ids: u64, len: u64) -> Vec<Req> {
        let mut list: Vec<Req> = Vec::new();
        for _ in 0..len {
            let (skill, level) = (next(ids) as u32, next(10) as i64 + 1);
            list.push(r(skill, level));
        }
        list.sort_by_key(|x| x.0);
        list.dedup_by_key(|x| x.0);
        list
    }

    /// The bits never contradict the lists, and decide whenever no id is shared.
    #[test]
    fn skill_bits_agree_with_the_lists() {
        let mut state: u64 = 17;
        let mut next = move |n: u64| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (state >> 33) % n
        };
        for _ in 0..20_000 {
            let ids = if next(4) == 0 { 30 } else { u64::from(BIT_SKILLS) };
            let (held_len, needed_len) = (next(6), next(4));
            let held = random_list(&mut next, ids, held_len);
            let needed = random_list(&mut next, ids, needed_len);
            let truth = satisfies(&held, &needed);
            let told = SkillBits::of_requirements(&needed).met_by(SkillBits::of_held(&held));
            assert!(told.is_none_or(|t| t == truth), "{held:?} {needed:?}");
            let shared = held.iter().chain(&needed).any(|x| x.0 .0 >= BIT_SKILLS);
            assert!(shared || told.is_some(), "undecided without a shared id");
        }
    }

    #[test]
    fn interner_recycles_ids() {
        let mut sigs = Signatures::new();
        assert_eq!(sigs.acquire(&[]), SigId::NONE);
        let a = sigs.acquire(&[r(1, 2)]);
        assert_eq!(sigs.acquire(&[r(1, 2)]), a);
        sigs.release(a);
        sigs.release(a);
        assert_eq!(sigs.find(&[r(1, 2)]), None);
        let b = sigs.acquire(&[r(2, 2)]);
        assert_eq!(b, a, "freed id is reused");
        assert_eq!(sigs.reqs(b), &[r(2, 2)]);
    }
}
