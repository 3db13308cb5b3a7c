//! Checks of caller-supplied configuration against the limits, producing normalized copies.

use domain::limits::{
    CAPACITY_PER_CHANNEL_MAX, OFFER_MS_MAX, QUEUE_DEPTH_MAX, SKILLS_PER_ENTITY_MAX,
};
use domain::{Channel, QueueId};

use crate::id_hash::IdSet;
use crate::limits::{
    AGING_MS_PER_LEVEL_MAX, DEPARTMENTS_PER_AGENT_MAX, OVERFLOW_RULES_PER_QUEUE_MAX,
    QUEUES_PER_AGENT_MAX, WRAP_UP_MS_MAX,
};
use crate::queue_table::QueueTable;
use crate::signature::Req;
use crate::{AgentProfile, OverflowAction, QueueConfig, RoutingError};

fn invalid(message: String) -> RoutingError {
    RoutingError::InvalidConfig(message)
}

/// A skill list, sorted by skill, each skill at most once. Sorts the caller's list in place:
/// enqueue allocates nothing for it.
/// Inlined for lists of one skill at most (most tasks list none), which are valid as they are.
#[inline]
pub(crate) fn requirements(list: Vec<Req>, owner: &str) -> Result<Vec<Req>, RoutingError> {
    const _: () = assert!(SKILLS_PER_ENTITY_MAX >= 1);
    if list.len() <= 1 {
        return Ok(list);
    }
    requirements_checked(list, owner)
}

fn requirements_checked(mut list: Vec<Req>, owner: &str) -> Result<Vec<Req>, RoutingError> {
    if list.len() > SKILLS_PER_ENTITY_MAX {
        return Err(invalid(format!(
            "{owner} lists {} skills, at most {SKILLS_PER_ENTITY_MAX}",
            list.len()
        )));
    }
    list.sort_unstable_by_key(|r| r.0);
    if let Some(w) = list.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(invalid(format!("{owner} lists skill {} twice", w[0].0 .0)));
    }
    Ok(list)
}

pub(crate) fn queue_config(
    mut queue: QueueConfig,
    queues: &QueueTable,
) -> Result<QueueConfig, RoutingError> {
    let id = queue.id;
    queue.skills = requirements(std::mem::take(&mut queue.skills), "queue")?;
    if queue.offer_ms == 0 || queue.offer_ms > OFFER_MS_MAX {
        return Err(invalid(format!("offer_ms must be within 1..={OFFER_MS_MAX}")));
    }
    if queue.aging_ms_per_level > AGING_MS_PER_LEVEL_MAX {
        return Err(invalid(format!("aging_ms_per_level above {AGING_MS_PER_LEVEL_MAX}")));
    }
    if queue.wrap_up_ms > WRAP_UP_MS_MAX {
        return Err(invalid(format!("wrap_up_ms above {WRAP_UP_MS_MAX}")));
    }
    if queue.depth_max > QUEUE_DEPTH_MAX {
        return Err(invalid(format!("depth_max above {QUEUE_DEPTH_MAX}")));
    }
    if queue.overflow.len() > OVERFLOW_RULES_PER_QUEUE_MAX {
        return Err(invalid(format!("more than {OVERFLOW_RULES_PER_QUEUE_MAX} overflow rules")));
    }
    for rule in &queue.overflow {
        if let OverflowAction::MoveTo(to) = rule.action {
            if to != id && !queues.contains_key(&to) {
                return Err(invalid(format!("overflow to unknown queue {to:?}")));
            }
        }
    }
    if moves_back(id, &queue, queues) {
        return Err(invalid(format!("overflow rules of {id:?} form a cycle")));
    }
    // Stable: rules with the same delay keep their configured order.
    queue.overflow.sort_by_key(|r| r.after_ms);
    Ok(queue)
}

/// Whether following MoveTo rules from `queue` (with its new rules) leads back to it. A cycle
/// would move a task forever once all delays have passed.
fn moves_back(id: QueueId, queue: &QueueConfig, queues: &QueueTable) -> bool {
    let targets = |rules: &[crate::OverflowRule]| -> Vec<QueueId> {
        rules
            .iter()
            .filter_map(|r| match r.action {
                OverflowAction::MoveTo(to) => Some(to),
                OverflowAction::RelaxSkills => None,
            })
            .collect()
    };
    let mut stack = targets(&queue.overflow);
    let mut seen = IdSet::default();
    while let Some(next) = stack.pop() {
        if next == id {
            return true;
        }
        if seen.insert(next) {
            if let Some(state) = queues.get(&next) {
                stack.extend(targets(&state.config.overflow));
            }
        }
    }
    false
}

pub(crate) fn agent_profile(
    mut agent: AgentProfile,
    queue_exists: impl Fn(QueueId) -> bool,
) -> Result<AgentProfile, RoutingError> {
    agent.skills = requirements(std::mem::take(&mut agent.skills), "agent")?;
    for ch in Channel::ALL {
        let cap = agent.capacity[ch.index()];
        if cap > CAPACITY_PER_CHANNEL_MAX {
            return Err(invalid(format!(
                "capacity {cap} on {} above {CAPACITY_PER_CHANNEL_MAX}",
                ch.as_str()
            )));
        }
    }
    if agent.departments.len() > DEPARTMENTS_PER_AGENT_MAX {
        return Err(invalid(format!("more than {DEPARTMENTS_PER_AGENT_MAX} departments")));
    }
    agent.departments.sort_unstable();
    agent.departments.dedup();
    if agent.queues.len() > QUEUES_PER_AGENT_MAX {
        return Err(invalid(format!("more than {QUEUES_PER_AGENT_MAX} queues")));
    }
    agent.queues.sort_unstable();
    agent.queues.dedup();
    if let Some(&unknown) = agent.queues.iter().find(|&&q| !queue_exists(q)) {
        return Err(RoutingError::UnknownQueue(unknown));
    }
    Ok(agent)
}
