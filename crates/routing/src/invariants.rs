//! Full recount of the router's state against its incremental counters and indexes. O(n) in
//! tasks, agents and queue memberships (plus free agents times signatures for the matching
//! invariant); meant for tests and the simulator, never for the hot path. Cheap checks stay
//! inline where the state changes.

use domain::{AgentId, Channel, QueueId};

use crate::id_hash::IdMap;
use crate::signature::{SigId, SkillBits};
use crate::timers::Timer;
use crate::{AgentStatus, Router, TaskState};

#[derive(Default)]
struct QueueCount {
    waiting: usize,
    offered: usize,
    assigned: usize,
}

impl Router {
    /// Asserts every invariant of the router by recounting from scratch. Panics on a bug.
    pub fn check_invariants(&self) {
        let mut load: IdMap<AgentId, [u32; Channel::COUNT]> = IdMap::default();
        let mut offers_of: IdMap<AgentId, usize> = IdMap::default();
        let mut counts: IdMap<QueueId, QueueCount> = IdMap::default();
        let mut sig_refs: IdMap<SigId, u64> = IdMap::default();
        for (id, task) in self.tasks.iter() {
            assert_eq!(task.id, id);
            assert_eq!(self.tasks.at(task.slot).id, id, "slot of {id:?}");
            assert!(!task.pending, "{id:?} left pending");
            *sig_refs.entry(task.sig).or_default() += 1;
            if task.own != SigId::NONE {
                *sig_refs.entry(task.own).or_default() += 1;
            }
            let queue = self.queues.at(task.queue_slot);
            let qid = queue.config.id;
            assert_eq!(self.queues.slot_of(&qid), Some(task.queue_slot), "slot of {id:?}");
            let count = counts.entry(qid).or_default();
            match self.task_state(task.slot) {
                TaskState::Waiting => {
                    count.waiting += 1;
                    let partition = queue.partition(task.sig).expect("waiting task's partition");
                    let entry = task.entry(queue.config.aging_ms_per_level);
                    assert!(partition.contains(&entry), "{id:?} not in its queue");
                    let stage = queue.stages.get(usize::from(task.stage)).expect("stage exists");
                    let staged = (task.entered_at, task.seq, task.slot);
                    assert!(stage.contains(&staged), "{id:?} not staged");
                }
                TaskState::Offered { agent, offer } => {
                    count.offered += 1;
                    assert_eq!(self.agents.at(task.agent_slot).id, agent, "agent slot of {id:?}");
                    let record = self.offers.get(&offer).expect("offered task's offer exists");
                    assert_eq!((record.task, record.agent), (id, agent), "offer disagrees");
                    load.entry(agent).or_default()[task.channel.index()] += 1;
                    *offers_of.entry(agent).or_default() += 1;
                }
                TaskState::Assigned { agent } => {
                    count.assigned += 1;
                    assert_eq!(self.agents.at(task.agent_slot).id, agent, "agent slot of {id:?}");
                    load.entry(agent).or_default()[task.channel.index()] += 1;
                }
            }
        }
        let flagged = self.tasks.iter().filter(|(_, t)| t.extra).count();
        assert_eq!(flagged, self.tasks.extras_len(), "task extras match their flags");
        // Each offer belongs to exactly one task in state Offered with this very offer, so no
        // task is offered twice and no offer outlives its task.
        for (offer, record) in self.offers.iter() {
            let task = self.tasks.get(&record.task).expect("offer's task exists");
            assert_eq!(
                self.task_state(task.slot),
                TaskState::Offered { agent: record.agent, offer }
            );
            assert_eq!(self.tasks.at(record.task_slot).id, record.task, "task slot of {offer:?}");
            assert_eq!(self.agents.at(record.agent_slot).id, record.agent, "agent slot");
            assert!(self.timers.contains(record.expires_at, Timer::Offer(offer)));
        }
        let mut acw_timers = 0;
        let mut memberships = 0;
        for (id, agent) in self.agents.iter() {
            assert_eq!(agent.id, id);
            assert_eq!(self.agents.get(&id).map(|a| a.slot), Some(agent.slot), "slot of {id:?}");
            let bits = SkillBits::of_held(&agent.skills[..]);
            assert_eq!(agent.skill_bits, bits, "skill bits of {id:?}");
            let channels = crate::agent::served_channels(&agent.served, &self.queues);
            assert_eq!(agent.channels, channels, "served channels of {id:?}");
            assert!(!agent.pending || self.has_pending_work(), "{id:?} left pending");
            assert!(!agent.touched || self.has_pending_work(), "{id:?} left touched");
            let recount = load.get(&id).copied().unwrap_or_default();
            assert_eq!(agent.load, recount, "load of {id:?} differs from a recount");
            for ch in Channel::ALL {
                let i = ch.index();
                assert!(agent.load[i] <= agent.capacity[i], "{id:?} over capacity on {ch:?}");
            }
            let open = offers_of.get(&id).copied().unwrap_or_default();
            assert_eq!(agent.offers.len(), open, "open offers of {id:?}");
            for offer in agent.offers.iter() {
                assert_eq!(self.offers.get(offer).map(|o| o.agent), Some(id));
            }
            match (&agent.status, agent.acw_due) {
                (AgentStatus::AfterCallWork { until }, Some(due)) => {
                    assert_eq!(*until, due);
                    assert!(self.timers.contains(due, Timer::AfterCallWork(id)));
                    acw_timers += 1;
                }
                (_, None) => {}
                (status, Some(_)) => panic!("{id:?} has a wrap-up timer while {status:?}"),
            }
            let id_of = |s: &crate::agent::Served| self.queues.at(s.slot).config.id;
            let sorted = agent.served.windows(2).all(|w| id_of(&w[0]) < id_of(&w[1]));
            assert!(sorted, "served queues of {id:?} sorted");
            assert_eq!(agent.free_keys.len(), agent.served.len(), "free keys of {id:?}");
            for (served, (key, _)) in agent.served.iter().zip(agent.free_keys.iter()) {
                let qid = &id_of(served);
                let queue = self.queues.get(qid).expect("agent's queue exists");
                assert_eq!(self.queues.slot_of(qid), Some(served.slot), "slot of {qid:?}");
                memberships += 1;
                assert!(queue.members.contains(&id), "{id:?} missing from members of {qid:?}");
                let qualified = agent.satisfies(&queue.config.skills);
                assert_eq!(served.qualified, qualified, "qualification of {id:?} for {qid:?}");
                let free = agent.free_for(&queue.config);
                let wanted = free.then(|| agent.free_key(&queue.config, qualified));
                if !agent.touched {
                    assert_eq!(*key, wanted, "free index entry of {id:?} in {qid:?} is stale");
                }
                if let Some(key) = key {
                    assert!(queue.free.contains(key), "{id:?} missing from free of {qid:?}");
                }
            }
        }
        let mut free_entries = 0;
        let mut member_total = 0;
        for (&qid, queue) in self.queues.iter() {
            assert_eq!(queue.config.id, qid);
            assert_eq!(self.queues.slot_of(&qid), Some(queue.slot), "slot of {qid:?}");
            let count = counts.remove(&qid).unwrap_or_default();
            assert_eq!(queue.waiting(), count.waiting, "waiting count of {qid:?}");
            assert_eq!(queue.offered, count.offered, "offered count of {qid:?}");
            assert_eq!(queue.assigned, count.assigned, "assigned count of {qid:?}");
            assert_eq!(queue.partition_sigs.len(), queue.partitions.len(), "partition list");
            assert_eq!(queue.heads.len(), queue.partitions.len(), "partition heads");
            let in_partitions: usize = queue.partitions.iter().map(|p| p.len()).sum();
            assert_eq!(in_partitions, count.waiting, "partitions of {qid:?}");
            queue.stages.iter().for_each(|s| s.check());
            let staged: usize = queue.stages.iter().map(|s| s.len()).sum();
            assert_eq!(staged, count.waiting, "stages of {qid:?}");
            let rules = &queue.config.overflow;
            assert_eq!((queue.stages.len(), queue.stage_due.len()), (rules.len() + 1, rules.len()));
            for (i, rule) in rules.iter().enumerate() {
                let first = queue.stages[i].first().map(|&(at, ..)| at.plus_ms(rule.after_ms));
                assert_eq!(queue.stage_due[i], first, "stage {i} timer of {qid:?}");
            }
            let earliest = queue.stage_due.iter().flatten().min().copied();
            assert_eq!(self.timers.queue_due(queue.slot), earliest, "stage timers of {qid:?}");
            for (i, partition) in queue.partitions.iter().enumerate() {
                partition.check();
                let bits = SkillBits::of_requirements(self.sigs.reqs(partition.sig));
                assert_eq!(queue.partition_sigs[i], (partition.sig, bits), "partition list");
                assert!(partition.len() > 0, "empty partition kept in {qid:?}");
                let first = partition.first(queue.config.aging_ms_per_level);
                assert_eq!(first, Some(partition.head), "stale head");
                assert_eq!(queue.heads[i], partition.head, "stale copy of a head");
                if i > 0 {
                    assert!(queue.partitions[i - 1].head < partition.head, "partitions unsorted");
                }
                let duplicate = queue.partitions[..i].iter().any(|p| p.sig == partition.sig);
                assert!(!duplicate, "two partitions for one signature in {qid:?}");
            }
            queue.free.check();
            free_entries += queue.free.len();
            for key in queue.free.iter() {
                let agent = self.agents.get(&key.agent).expect("indexed agent exists");
                assert!(queue.members.contains(&key.agent));
                assert!(agent.serves(queue.slot).is_some(), "indexed agent serves the queue");
                assert_eq!(
                    agent.free_key_in(queue.slot),
                    Some(*key),
                    "free index and agent disagree"
                );
                if self.has_pending_work() {
                    continue;
                }
                // The matching invariant: nothing waits that a free agent could take.
                for partition in &queue.partitions {
                    assert!(
                        !agent.satisfies(self.sigs.reqs(partition.sig)),
                        "{:?} is free and eligible for waiting tasks of {qid:?}",
                        key.agent
                    );
                }
            }
            for member in &queue.members {
                let agent = self.agents.get(member).expect("member exists");
                assert!(agent.serves(queue.slot).is_some(), "{member:?} left {qid:?}");
            }
            member_total += queue.members.len();
        }
        assert_eq!(memberships, member_total, "member sets match the agents' queue lists");
        let keys =
            self.agents.values().flat_map(|a| a.free_keys.iter()).filter_map(|k| k.0).count();
        assert_eq!(free_entries, keys, "free indexes hold exactly the agents' entries");
        assert!(counts.is_empty(), "tasks in unknown queues");
        self.timers.check();
        assert_eq!(self.timers.len(), self.offers.len() + acw_timers);
        // Signatures live exactly as long as tasks hold them.
        *sig_refs.entry(SigId::NONE).or_default() += 1;
        for (sig, refs) in self.sigs.live() {
            assert_eq!(sig_refs.remove(&sig), Some(refs), "references of {sig:?}");
        }
        assert!(sig_refs.is_empty(), "tasks hold unknown signatures");
    }
}
