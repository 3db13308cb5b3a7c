//! Offers: reserving one unit of an agent's capacity for a task until accept, reject,
//! timeout or revocation.

use domain::{AgentId, OfferId, TaskId, Timestamp};

use crate::router::{list_pending, list_touched};
use crate::task::Phase;
use crate::timers::Timer;
use crate::{OfferEnd, Router, RoutingError, RoutingEvent};

#[derive(Clone, Copy, Debug)]
pub(crate) struct Offer {
    pub(crate) task: TaskId,
    pub(crate) agent: AgentId,
    pub(crate) expires_at: Timestamp,
    /// Slots of the task and the agent in their tables: closing reaches them without the ids'
    /// indexes. Both live at least as long as the offer.
    pub(crate) task_slot: u32,
    pub(crate) agent_slot: u32,
}

impl Router {
    pub fn handle_accept(&mut self, now: Timestamp, offer: OfferId) -> Result<(), RoutingError> {
        self.observe(now);
        self.close_offer(offer, OfferEnd::Accepted)?;
        self.run_matching(now);
        Ok(())
    }

    /// The agent declined; the task waits again in its place and goes to another agent first.
    pub fn handle_reject(&mut self, now: Timestamp, offer: OfferId) -> Result<(), RoutingError> {
        self.observe(now);
        let closed = self.close_offer(offer, OfferEnd::Rejected)?;
        self.count_miss(closed.agent);
        self.run_matching(now);
        Ok(())
    }

    /// The offer timer fired.
    pub(crate) fn offer_timed_out(&mut self, offer: OfferId) {
        let closed = self.close_offer(offer, OfferEnd::TimedOut);
        // The timer is disarmed whenever the offer closes, so a firing timer has its offer.
        let closed = closed.unwrap_or_else(|_| panic!("timer of closed offer {offer:?} fired"));
        self.count_miss(closed.agent);
    }

    /// Offers a waiting task to an agent free for its queue (checked here), both by slot.
    pub(crate) fn make_offer_at(&mut self, now: Timestamp, task_slot: u32, agent_slot: u32) {
        let offer = OfferId(self.next_offer);
        self.next_offer += 1;
        let task = self.tasks.at_mut(task_slot);
        let task_id = task.id;
        let queue = self.queues.at_mut(task.queue_slot);
        // `Router::leave_waiting_at`, with the task and queue in hand.
        assert_eq!(task.phase, Phase::Waiting, "only waiting tasks are offered");
        let entry = task.entry(queue.config.aging_ms_per_level);
        let stage = (usize::from(task.stage), task.lane_hint, task.stage_hint);
        queue.remove_waiting(task.sig, &entry, stage, &mut self.timers);
        let agent = self.agents.at_mut(agent_slot);
        let agent_id = agent.id;
        assert!(agent.free_for(&queue.config), "{agent_id:?} is offered a task it cannot take");
        assert!(
            agent.satisfies_bits(self.sigs.bits(task.sig), || self.sigs.reqs(task.sig)),
            "{agent_id:?} lacks the skills of {task_id:?}"
        );
        let channel = queue.config.channel;
        agent.load[channel.index()] += 1;
        agent.offers.push(offer);
        queue.offered += 1;
        task.phase = Phase::Offered;
        task.channel = channel;
        task.agent_slot = agent_slot;
        let expires_at = now.plus_ms(queue.config.offer_ms);
        let record = Offer { task: task_id, agent: agent_id, expires_at, task_slot, agent_slot };
        assert!(self.offers.insert(offer, record).is_none(), "offer id {offer:?} reused");
        self.timers.arm_offer(expires_at, offer, queue.config.offer_ms);
        list_touched(agent, &mut self.touched);
        self.push_event(RoutingEvent::Offered {
            offer,
            task: task_id,
            agent: agent_id,
            expires_at,
        });
    }

    /// Ends an open offer. Unless accepted, the agent's capacity comes back and the task waits
    /// again at its original place (remembering the agent if it missed the offer).
    pub(crate) fn close_offer(
        &mut self,
        offer: OfferId,
        end: OfferEnd,
    ) -> Result<Offer, RoutingError> {
        let record = self.offers.remove(&offer).ok_or(RoutingError::UnknownOffer(offer))?;
        let Offer { task: task_id, agent: agent_id, expires_at, task_slot, agent_slot } = record;
        // Already gone when the timer itself fired.
        self.timers.disarm(expires_at, Timer::Offer(offer));
        let task = self.tasks.at_mut(task_slot);
        assert_eq!(task.id, task_id, "an open offer's task exists");
        // The record names the task; the task names the record's agent.
        let agreed = task.phase == Phase::Offered && task.agent_slot == agent_slot;
        assert!(agreed, "offer {offer:?} and task {task_id:?} disagree");
        let queue = self.queues.at_mut(task.queue_slot);
        let agent = self.agents.at_mut(agent_slot);
        let at = agent.offers.iter().position(|&o| o == offer);
        let at = at.unwrap_or_else(|| panic!("{agent_id:?} does not list {offer:?}"));
        agent.offers.remove(at);
        assert!(queue.offered > 0, "offered counter underflows");
        queue.offered -= 1;
        self.events.push_back(RoutingEvent::OfferEnded {
            offer,
            task: task_id,
            agent: agent_id,
            end,
        });
        if end == OfferEnd::Accepted {
            task.phase = Phase::Assigned;
            queue.assigned += 1;
            agent.missed_in_row = 0;
            return Ok(record);
        }
        let ch = task.channel.index();
        assert!(agent.load[ch] > 0, "load of {agent_id:?} underflows");
        agent.load[ch] -= 1;
        task.phase = Phase::Waiting;
        if end != OfferEnd::Revoked {
            self.tasks.extra_mut(task_slot).remember_miss(agent_id);
        }
        self.enter_waiting_at(task_slot);
        self.mark_pending_task(task_slot);
        let agent = self.agents.at_mut(agent_slot);
        list_pending(agent, &mut self.pending_agents, &mut self.touched);
        Ok(record)
    }
}
