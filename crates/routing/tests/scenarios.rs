//! Scenario tests: time advanced by hand, decisions snapshotted.

mod support;

use domain::{AgentId, Channel, DepartmentId, OfferId, QueueId, SkillId, TaskId};
use expect_test::expect;
use routing::{
    AgentStatus, OverflowAction, OverflowRule, QueueSnapshot, RoutingError, Strategy, TaskState,
    MISSED_OFFERS_REASON,
};
use support::*;

/// Serves one task after another with one agent and returns the order of the tasks.
fn serve_all(r: &mut routing::Router, mut now: i64, agent: u64) -> Vec<u64> {
    let mut order = Vec::new();
    available(r, t(now), agent);
    loop {
        let events = drain(r);
        r.check_invariants();
        let Some(&(task, _)) = offered(&events).first() else {
            break;
        };
        order.push(task);
        now += 1;
        r.handle_accept(t(now), offer_of(r, task)).unwrap();
        r.handle_release(t(now), TaskId(task)).unwrap();
    }
    order
}

#[test]
fn higher_priority_first() {
    let mut r = router(0);
    r.upsert_queue(queue(1)).unwrap();
    r.upsert_agent(t(0), agent(1, &[1])).unwrap();
    for (id, priority) in [(1, 0), (2, 5), (3, 1), (4, 5)] {
        r.handle_enqueue(t(id as i64), task(id, 1, priority)).unwrap();
    }
    assert_eq!(serve_all(&mut r, 10, 1), vec![2, 4, 3, 1]);
}

#[test]
fn fifo_within_a_priority() {
    let mut r = router(0);
    r.upsert_queue(queue(1)).unwrap();
    r.upsert_agent(t(0), agent(1, &[1])).unwrap();
    // Same millisecond too: the enqueue order decides.
    for (id, at) in [(5, 0), (3, 0), (9, 7), (1, 8)] {
        r.handle_enqueue(t(at), task(id, 1, 2)).unwrap();
    }
    assert_eq!(serve_all(&mut r, 10, 1), vec![5, 3, 9, 1]);
}

#[test]
fn aging_lets_an_old_low_priority_task_beat_a_new_high_priority_one() {
    let mut aged = queue(1);
    aged.aging_ms_per_level = 1_000;
    for (config, expected) in [(aged, vec![1, 2]), (queue(1), vec![2, 1])] {
        let mut r = router(0);
        r.upsert_queue(config).unwrap();
        r.upsert_agent(t(0), agent(1, &[1])).unwrap();
        r.handle_enqueue(t(0), task(1, 1, 0)).unwrap();
        // At t=5000 task 1 counts 0 + 5 levels, task 2 only 3.
        r.handle_enqueue(t(5_000), task(2, 1, 3)).unwrap();
        assert_eq!(serve_all(&mut r, 5_000, 1), expected);
    }
}

#[test]
fn an_agent_serving_two_queues_takes_the_best_effective_priority() {
    let mut r = router(0);
    let mut aged = queue(1);
    aged.aging_ms_per_level = 10_000;
    r.upsert_queue(aged).unwrap();
    r.upsert_queue(queue(2)).unwrap();
    r.upsert_agent(t(0), agent(1, &[1, 2])).unwrap();
    r.handle_enqueue(t(0), task(1, 1, 1)).unwrap();
    r.handle_enqueue(t(0), task(2, 2, 3)).unwrap();
    r.handle_enqueue(t(1), task(3, 2, 2)).unwrap();
    // At t=20_000: task 1 is worth 1 + 2 = 3, equal to task 2 but older by seq; task 3 is 2.
    assert_eq!(serve_all(&mut r, 20_000, 1), vec![1, 2, 3]);
}

#[test]
fn offer_timeout_goes_to_the_next_agent() {
    let mut r = router(0);
    r.upsert_queue(queue(1)).unwrap();
    r.upsert_agent(t(0), agent(1, &[1])).unwrap();
    r.upsert_agent(t(0), agent(2, &[1])).unwrap();
    available(&mut r, t(0), 1);
    available(&mut r, t(100), 2);
    r.handle_enqueue(t(1_000), task(7, 1, 0)).unwrap();
    expect![[r#"
        Offered { offer: offer1, task: task7, agent: agent1, expires_at: t11000 }
    "#]]
    .assert_eq(&drain_show(&mut r));
    assert_eq!(r.poll_timeout(), Some(t(11_000)));
    r.handle_timeout(t(10_999));
    assert!(drain(&mut r).is_empty());
    r.handle_timeout(t(11_000));
    expect![[r#"
        OfferEnded { offer: offer1, task: task7, agent: agent1, end: TimedOut }
        Offered { offer: offer2, task: task7, agent: agent2, expires_at: t21000 }
    "#]]
    .assert_eq(&drain_show(&mut r));
    let view = r.task(TaskId(7)).unwrap();
    assert_eq!(view.entered_at, t(1_000), "the task keeps its place and age");
}

#[test]
fn reject_goes_to_the_next_agent_then_back_when_alone() {
    let mut r = router(0);
    r.upsert_queue(queue(1)).unwrap();
    r.upsert_agent(t(0), agent(1, &[1])).unwrap();
    r.upsert_agent(t(0), agent(2, &[1])).unwrap();
    available(&mut r, t(0), 1);
    available(&mut r, t(0), 2);
    r.handle_enqueue(t(10), task(1, 1, 0)).unwrap();
    r.handle_reject(t(20), offer_of(&r, 1)).unwrap();
    r.handle_reject(t(30), offer_of(&r, 1)).unwrap();
    // Both missed it; agent 1 rejected first, but any free agent beats leaving it waiting.
    expect![[r#"
        Offered { offer: offer1, task: task1, agent: agent1, expires_at: t10010 }
        OfferEnded { offer: offer1, task: task1, agent: agent1, end: Rejected }
        Offered { offer: offer2, task: task1, agent: agent2, expires_at: t10020 }
        OfferEnded { offer: offer2, task: task1, agent: agent2, end: Rejected }
        Offered { offer: offer3, task: task1, agent: agent1, expires_at: t10030 }
    "#]]
    .assert_eq(&drain_show(&mut r));
}

#[test]
fn a_rejected_task_does_not_displace_a_better_one() {
    let mut r = router(0);
    r.upsert_queue(queue(1)).unwrap();
    r.upsert_agent(t(0), agent(1, &[1])).unwrap();
    available(&mut r, t(0), 1);
    r.handle_enqueue(t(1), task(1, 1, 0)).unwrap();
    r.handle_enqueue(t(2), task(2, 1, 9)).unwrap();
    r.handle_reject(t(3), offer_of(&r, 1)).unwrap();
    expect![[r#"
        Offered { offer: offer1, task: task1, agent: agent1, expires_at: t10001 }
        OfferEnded { offer: offer1, task: task1, agent: agent1, end: Rejected }
        Offered { offer: offer2, task: task2, agent: agent1, expires_at: t10003 }
    "#]]
    .assert_eq(&drain_show(&mut r));
}

#[test]
fn consecutive_misses_put_the_agent_on_break() {
    let mut r = router(2);
    r.upsert_queue(queue(1)).unwrap();
    r.upsert_agent(t(0), agent(1, &[1])).unwrap();
    available(&mut r, t(0), 1);
    r.handle_enqueue(t(0), task(1, 1, 0)).unwrap();
    r.handle_reject(t(5), offer_of(&r, 1)).unwrap();
    r.handle_timeout(t(10_005));
    expect![[r#"
        Offered { offer: offer1, task: task1, agent: agent1, expires_at: t10000 }
        OfferEnded { offer: offer1, task: task1, agent: agent1, end: Rejected }
        Offered { offer: offer2, task: task1, agent: agent1, expires_at: t10005 }
        OfferEnded { offer: offer2, task: task1, agent: agent1, end: TimedOut }
        AgentStatusChanged { agent: agent1, status: Break { reason: "missed offers" } }
    "#]]
    .assert_eq(&drain_show(&mut r));
    assert_eq!(r.task(TaskId(1)).unwrap().state, TaskState::Waiting);
    let status = r.agent(AgentId(1)).unwrap().status;
    assert_eq!(status, AgentStatus::Break { reason: MISSED_OFFERS_REASON.into() });
    assert_eq!(r.poll_timeout(), None);
    // Back from break, the count starts again.
    available(&mut r, t(20_000), 1);
    r.handle_reject(t(20_001), offer_of(&r, 1)).unwrap();
    assert!(matches!(r.task(TaskId(1)).unwrap().state, TaskState::Offered { .. }));
}

#[test]
fn an_accept_resets_the_miss_count() {
    let mut r = router(2);
    r.upsert_queue(queue(1)).unwrap();
    r.upsert_agent(t(0), agent(1, &[1])).unwrap();
    available(&mut r, t(0), 1);
    for id in 1..=3 {
        r.handle_enqueue(t(0), task(id, 1, 0)).unwrap();
    }
    r.handle_reject(t(1), offer_of(&r, 1)).unwrap();
    r.handle_accept(t(2), offer_of(&r, 1)).unwrap();
    r.handle_release(t(3), TaskId(1)).unwrap();
    r.handle_reject(t(4), offer_of(&r, 2)).unwrap();
    assert_eq!(r.agent(AgentId(1)).unwrap().status, AgentStatus::Available);
    r.check_invariants();
}

#[test]
fn wrap_up_after_voice_then_available_again() {
    let mut r = router(0);
    let mut q = queue(1);
    q.wrap_up_ms = 30_000;
    r.upsert_queue(q).unwrap();
    r.upsert_agent(t(0), agent(1, &[1])).unwrap();
    available(&mut r, t(0), 1);
    r.handle_enqueue(t(0), task(1, 1, 0)).unwrap();
    r.handle_enqueue(t(0), task(2, 1, 0)).unwrap();
    r.handle_accept(t(1_000), offer_of(&r, 1)).unwrap();
    r.handle_release(t(60_000), TaskId(1)).unwrap();
    assert_eq!(r.poll_timeout(), Some(t(90_000)));
    r.handle_timeout(t(89_999));
    r.handle_timeout(t(90_000));
    expect![[r#"
        Offered { offer: offer1, task: task1, agent: agent1, expires_at: t10000 }
        OfferEnded { offer: offer1, task: task1, agent: agent1, end: Accepted }
        AgentStatusChanged { agent: agent1, status: AfterCallWork { until: t90000 } }
        AgentStatusChanged { agent: agent1, status: Available }
        Offered { offer: offer2, task: task2, agent: agent1, expires_at: t100000 }
    "#]]
    .assert_eq(&drain_show(&mut r));
    assert_eq!(r.agent(AgentId(1)).unwrap().idle_since[0], t(60_000));
}

#[test]
fn longest_idle_agent_gets_the_task() {
    let mut r = router(0);
    r.upsert_queue(queue(1)).unwrap();
    for id in 1..=3 {
        r.upsert_agent(t(0), agent(id, &[1])).unwrap();
    }
    available(&mut r, t(300), 1);
    available(&mut r, t(100), 2);
    available(&mut r, t(200), 3);
    r.handle_enqueue(t(400), task(1, 1, 0)).unwrap();
    r.handle_enqueue(t(400), task(2, 1, 0)).unwrap();
    assert_eq!(offered(&drain(&mut r)), vec![(1, 2), (2, 3)]);
    r.check_invariants();
}

#[test]
fn best_skill_picks_the_higher_level() {
    let mut r = router(0);
    let mut q = queue(1);
    q.strategy = Strategy::BestSkill;
    q.skills = vec![skill(1, 2), skill(2, 1)];
    r.upsert_queue(q).unwrap();
    let levels = [(1, 3, 3), (2, 9, 1), (3, 5, 5), (4, 1, 10)];
    for (id, a, b) in levels {
        let mut profile = agent(id, &[1]);
        profile.skills = vec![skill(1, a), skill(2, b)];
        r.upsert_agent(t(0), profile).unwrap();
        // The best agent has been idle the shortest.
        available(&mut r, t(100 - id as i64), id);
    }
    for id in 1..=4 {
        r.handle_enqueue(t(200), task(id, 1, 0)).unwrap();
    }
    // Sums 6, 10, 10, then 6; agent 4 lacks level 2 in skill 1 and never qualifies.
    assert_eq!(offered(&drain(&mut r)), vec![(1, 3), (2, 2), (3, 1)]);
    r.check_invariants();
}

#[test]
fn task_skills_add_to_the_queue_skills() {
    let mut r = router(0);
    let mut q = queue(1);
    q.skills = vec![skill(1, 3)];
    r.upsert_queue(q).unwrap();
    let mut novice = agent(1, &[1]);
    novice.skills = vec![skill(1, 3)];
    let mut expert = agent(2, &[1]);
    expert.skills = vec![skill(1, 8), skill(7, 4)];
    r.upsert_agent(t(0), novice).unwrap();
    r.upsert_agent(t(0), expert).unwrap();
    available(&mut r, t(0), 1);
    available(&mut r, t(10), 2);
    let mut special = task(1, 1, 0);
    special.skills = vec![skill(7, 2)];
    r.handle_enqueue(t(20), special).unwrap();
    r.handle_enqueue(t(20), task(2, 1, 0)).unwrap();
    assert_eq!(offered(&drain(&mut r)), vec![(1, 2), (2, 1)]);
    r.check_invariants();
}

#[test]
fn department_limits_who_serves_a_queue() {
    let mut r = router(0);
    let mut q = queue(1);
    q.department = Some(DepartmentId(5));
    r.upsert_queue(q).unwrap();
    r.upsert_agent(t(0), agent(1, &[1])).unwrap();
    let mut insider = agent(2, &[1]);
    insider.departments = vec![DepartmentId(5)];
    r.upsert_agent(t(0), insider).unwrap();
    available(&mut r, t(0), 1);
    available(&mut r, t(5), 2);
    assert_eq!(r.queue_snapshot(QueueId(1)).unwrap().agents_free, 1);
    r.handle_enqueue(t(10), task(1, 1, 0)).unwrap();
    assert_eq!(offered(&drain(&mut r)), vec![(1, 2)]);
}

#[test]
fn overflow_moves_to_another_queue() {
    let mut r = router(0);
    r.upsert_queue(queue(2)).unwrap();
    let mut first = queue(1);
    first.overflow =
        vec![OverflowRule { after_ms: 30_000, action: OverflowAction::MoveTo(QueueId(2)) }];
    r.upsert_queue(first).unwrap();
    r.upsert_agent(t(0), agent(1, &[2])).unwrap();
    available(&mut r, t(0), 1);
    r.handle_enqueue(t(1_000), task(1, 1, 4)).unwrap();
    assert_eq!(r.poll_timeout(), Some(t(31_000)));
    r.handle_timeout(t(31_000));
    expect![[r#"
        Overflowed { task: task1, from: queue1, to: queue2 }
        Offered { offer: offer1, task: task1, agent: agent1, expires_at: t41000 }
    "#]]
    .assert_eq(&drain_show(&mut r));
    let view = r.task(TaskId(1)).unwrap();
    assert_eq!((view.queue, view.priority, view.entered_at), (QueueId(2), 4, t(1_000)));
}

#[test]
fn overflow_relaxes_skills() {
    let mut r = router(0);
    let mut q = queue(1);
    q.skills = vec![skill(1, 5)];
    q.overflow = vec![OverflowRule { after_ms: 20_000, action: OverflowAction::RelaxSkills }];
    r.upsert_queue(q).unwrap();
    let mut novice = agent(1, &[1]);
    novice.skills = vec![skill(1, 2)];
    r.upsert_agent(t(0), novice).unwrap();
    available(&mut r, t(0), 1);
    let mut special = task(1, 1, 0);
    special.skills = vec![skill(3, 3)];
    r.handle_enqueue(t(0), special).unwrap();
    r.handle_timeout(t(19_999));
    assert!(drain(&mut r).is_empty());
    r.handle_timeout(t(20_000));
    expect![[r#"
        SkillsRelaxed { task: task1 }
        Offered { offer: offer1, task: task1, agent: agent1, expires_at: t30000 }
    "#]]
    .assert_eq(&drain_show(&mut r));
}

#[test]
fn overflow_due_while_offered_applies_after_the_task_returns() {
    let mut r = router(0);
    r.upsert_queue(queue(2)).unwrap();
    let mut first = queue(1);
    let to_second = OverflowAction::MoveTo(QueueId(2));
    first.overflow = vec![OverflowRule { after_ms: 5_000, action: to_second }];
    r.upsert_queue(first).unwrap();
    r.upsert_agent(t(0), agent(1, &[1])).unwrap();
    r.upsert_agent(t(0), agent(2, &[2])).unwrap();
    available(&mut r, t(0), 1);
    available(&mut r, t(0), 2);
    r.handle_enqueue(t(0), task(1, 1, 0)).unwrap();
    // Offered from 0 to 8 s; the move due at 5 s waits until the task waits again.
    assert_eq!(r.poll_timeout(), Some(t(10_000)), "no overflow timer while offered");
    r.handle_agent_status(t(8_000), AgentId(1), AgentStatus::Offline).unwrap();
    assert_eq!(r.poll_timeout(), Some(t(5_000)), "the missed step is due at once");
    r.handle_timeout(t(8_001));
    expect![[r#"
        Offered { offer: offer1, task: task1, agent: agent1, expires_at: t10000 }
        OfferEnded { offer: offer1, task: task1, agent: agent1, end: Revoked }
        Overflowed { task: task1, from: queue1, to: queue2 }
        Offered { offer: offer2, task: task1, agent: agent2, expires_at: t18001 }
    "#]]
    .assert_eq(&drain_show(&mut r));
}

#[test]
fn overflow_config_errors() {
    let mut r = router(0);
    let mut q = queue(1);
    q.overflow = vec![OverflowRule { after_ms: 1, action: OverflowAction::MoveTo(QueueId(9)) }];
    assert!(matches!(r.upsert_queue(q.clone()), Err(RoutingError::InvalidConfig(_))));
    q.overflow[0].action = OverflowAction::MoveTo(QueueId(1));
    assert!(matches!(r.upsert_queue(q), Err(RoutingError::InvalidConfig(_))));
    r.upsert_queue(queue(1)).unwrap();
    let mut second = queue(2);
    second.overflow =
        vec![OverflowRule { after_ms: 1, action: OverflowAction::MoveTo(QueueId(1)) }];
    r.upsert_queue(second).unwrap();
    let mut back = queue(1);
    back.overflow = vec![OverflowRule { after_ms: 1, action: OverflowAction::MoveTo(QueueId(2)) }];
    let err = r.upsert_queue(back).unwrap_err();
    expect!["invalid configuration: overflow rules of queue1 form a cycle"]
        .assert_eq(&err.to_string());
}

#[test]
fn chat_capacity_allows_parallel_tasks() {
    let mut r = router(0);
    let mut q = queue(1);
    q.channel = Channel::Chat;
    q.wrap_up_ms = 10_000;
    r.upsert_queue(q).unwrap();
    let mut chatter = agent(1, &[1]);
    chatter.capacity = [0, 3];
    r.upsert_agent(t(0), chatter).unwrap();
    available(&mut r, t(0), 1);
    for id in 1..=4 {
        r.handle_enqueue(t(id as i64), task(id, 1, 0)).unwrap();
    }
    assert_eq!(offered(&drain(&mut r)), vec![(1, 1), (2, 1), (3, 1)]);
    assert_eq!(r.agent(AgentId(1)).unwrap().load, [0, 3]);
    r.handle_accept(t(10), offer_of(&r, 2)).unwrap();
    r.handle_release(t(20), TaskId(2)).unwrap();
    // Chat has no wrap-up: the freed slot takes task 4 at once.
    expect![[r#"
        OfferEnded { offer: offer2, task: task2, agent: agent1, end: Accepted }
        Offered { offer: offer4, task: task4, agent: agent1, expires_at: t10020 }
    "#]]
    .assert_eq(&drain_show(&mut r));
    assert_eq!(r.agent(AgentId(1)).unwrap().idle_since[1], t(20));
}

#[test]
fn cancel_in_each_state() {
    let mut r = router(0);
    let mut q = queue(1);
    q.wrap_up_ms = 5_000;
    r.upsert_queue(q).unwrap();
    r.upsert_agent(t(0), agent(1, &[1])).unwrap();
    for id in 1..=4 {
        r.handle_enqueue(t(id as i64), task(id, 1, 0)).unwrap();
    }
    // Waiting.
    r.handle_cancel(t(5), TaskId(4)).unwrap();
    assert_eq!(r.task(TaskId(4)), None);
    available(&mut r, t(6), 1);
    // Offered: revoked, the agent gets the next task.
    r.handle_cancel(t(7), TaskId(1)).unwrap();
    // Assigned: capacity comes back without wrap-up even on voice.
    r.handle_accept(t(8), offer_of(&r, 2)).unwrap();
    r.handle_cancel(t(9), TaskId(2)).unwrap();
    expect![[r#"
        Offered { offer: offer1, task: task1, agent: agent1, expires_at: t10006 }
        OfferEnded { offer: offer1, task: task1, agent: agent1, end: Revoked }
        Offered { offer: offer2, task: task2, agent: agent1, expires_at: t10007 }
        OfferEnded { offer: offer2, task: task2, agent: agent1, end: Accepted }
        Offered { offer: offer3, task: task3, agent: agent1, expires_at: t10009 }
    "#]]
    .assert_eq(&drain_show(&mut r));
    assert_eq!(r.agent(AgentId(1)).unwrap().status, AgentStatus::Available);
    for id in 1..=2 {
        assert_eq!(r.handle_cancel(t(10), TaskId(id)), Err(RoutingError::UnknownTask(TaskId(id))));
    }
}

#[test]
fn break_revokes_offers_but_keeps_assigned_tasks() {
    let mut r = router(0);
    let mut q = queue(1);
    q.channel = Channel::Chat;
    r.upsert_queue(q).unwrap();
    let mut chatter = agent(1, &[1]);
    chatter.capacity = [0, 2];
    r.upsert_agent(t(0), chatter).unwrap();
    available(&mut r, t(0), 1);
    r.handle_enqueue(t(1), task(1, 1, 0)).unwrap();
    r.handle_enqueue(t(2), task(2, 1, 0)).unwrap();
    r.handle_accept(t(3), offer_of(&r, 1)).unwrap();
    let lunch = AgentStatus::Break { reason: "lunch".into() };
    r.handle_agent_status(t(4), AgentId(1), lunch).unwrap();
    expect![[r#"
        Offered { offer: offer1, task: task1, agent: agent1, expires_at: t10001 }
        Offered { offer: offer2, task: task2, agent: agent1, expires_at: t10002 }
        OfferEnded { offer: offer1, task: task1, agent: agent1, end: Accepted }
        OfferEnded { offer: offer2, task: task2, agent: agent1, end: Revoked }
    "#]]
    .assert_eq(&drain_show(&mut r));
    assert_eq!(r.task(TaskId(1)).unwrap().state, TaskState::Assigned { agent: AgentId(1) });
    assert_eq!(r.task(TaskId(2)).unwrap().state, TaskState::Waiting);
    r.handle_release(t(5), TaskId(1)).unwrap();
    assert!(drain(&mut r).is_empty(), "on break: no new offer");
    available(&mut r, t(6), 1);
    assert_eq!(offered(&drain(&mut r)), vec![(2, 1)]);
}

#[test]
fn explicit_after_call_work_ends_by_timer() {
    let mut r = router(0);
    r.upsert_queue(queue(1)).unwrap();
    r.upsert_agent(t(0), agent(1, &[1])).unwrap();
    let until = t(500);
    r.handle_agent_status(t(0), AgentId(1), AgentStatus::AfterCallWork { until }).unwrap();
    r.handle_enqueue(t(1), task(1, 1, 0)).unwrap();
    assert_eq!(r.poll_timeout(), Some(until));
    r.handle_timeout(until);
    expect![[r#"
        AgentStatusChanged { agent: agent1, status: Available }
        Offered { offer: offer1, task: task1, agent: agent1, expires_at: t10500 }
    "#]]
    .assert_eq(&drain_show(&mut r));
}

#[test]
fn queue_full_is_refused() {
    let mut r = router(0);
    let mut q = queue(1);
    q.depth_max = 2;
    r.upsert_queue(q).unwrap();
    r.handle_enqueue(t(0), task(1, 1, 0)).unwrap();
    r.handle_enqueue(t(0), task(2, 1, 0)).unwrap();
    assert_eq!(r.handle_enqueue(t(0), task(3, 1, 0)), Err(RoutingError::QueueFull(QueueId(1))));
    r.handle_cancel(t(1), TaskId(1)).unwrap();
    r.handle_enqueue(t(2), task(3, 1, 0)).unwrap();
    let snapshot = r.queue_snapshot(QueueId(1)).unwrap();
    let expected = QueueSnapshot {
        waiting: 2,
        offered: 0,
        assigned: 0,
        oldest_waiting_since: Some(t(0)),
        agents_free: 0,
    };
    assert_eq!(snapshot, expected);
}

#[test]
fn unknown_ids_and_wrong_states_are_errors() {
    let mut r = router(0);
    r.upsert_queue(queue(1)).unwrap();
    r.upsert_agent(t(0), agent(1, &[1])).unwrap();
    let errors = [
        r.handle_enqueue(t(0), task(1, 9, 0)),
        r.handle_agent_status(t(0), AgentId(9), AgentStatus::Available),
        r.handle_accept(t(0), OfferId(9)),
        r.handle_reject(t(0), OfferId(9)),
        r.handle_release(t(0), TaskId(9)),
        r.handle_cancel(t(0), TaskId(9)),
        r.upsert_agent(t(0), agent(2, &[1, 9])),
    ];
    expect![[r#"
        [
            Err(
                UnknownQueue(
                    queue9,
                ),
            ),
            Err(
                UnknownAgent(
                    agent9,
                ),
            ),
            Err(
                UnknownOffer(
                    offer9,
                ),
            ),
            Err(
                UnknownOffer(
                    offer9,
                ),
            ),
            Err(
                UnknownTask(
                    task9,
                ),
            ),
            Err(
                UnknownTask(
                    task9,
                ),
            ),
            Err(
                UnknownQueue(
                    queue9,
                ),
            ),
        ]
    "#]]
    .assert_debug_eq(&errors);
    r.handle_enqueue(t(0), task(1, 1, 0)).unwrap();
    assert_eq!(r.handle_enqueue(t(0), task(1, 1, 0)), Err(RoutingError::DuplicateTask(TaskId(1))));
    assert_eq!(r.handle_release(t(0), TaskId(1)), Err(RoutingError::WrongTaskState(TaskId(1))));
    available(&mut r, t(1), 1);
    let offer = offer_of(&r, 1);
    assert_eq!(r.handle_release(t(2), TaskId(1)), Err(RoutingError::WrongTaskState(TaskId(1))));
    r.handle_accept(t(3), offer).unwrap();
    assert_eq!(r.handle_accept(t(4), offer), Err(RoutingError::UnknownOffer(offer)));
    assert_eq!(r.handle_reject(t(4), offer), Err(RoutingError::UnknownOffer(offer)));
    r.check_invariants();
}

#[test]
fn limits_reject_bad_configuration() {
    let mut r = router(0);
    let invalid = |e: Result<(), RoutingError>| matches!(e, Err(RoutingError::InvalidConfig(_)));
    let mut q = queue(1);
    q.offer_ms = 0;
    assert!(invalid(r.upsert_queue(q.clone())));
    q.offer_ms = domain::limits::OFFER_MS_MAX + 1;
    assert!(invalid(r.upsert_queue(q)));
    let mut q = queue(1);
    q.skills = vec![skill(1, 1), skill(1, 2)];
    assert!(invalid(r.upsert_queue(q)));
    let mut q = queue(1);
    q.skills = (0..=domain::limits::SKILLS_PER_ENTITY_MAX as u32).map(|s| skill(s, 1)).collect();
    assert!(invalid(r.upsert_queue(q)));
    let mut q = queue(1);
    q.depth_max = domain::limits::QUEUE_DEPTH_MAX + 1;
    assert!(invalid(r.upsert_queue(q)));
    r.upsert_queue(queue(1)).unwrap();
    let mut greedy = agent(1, &[1]);
    greedy.capacity = [1, domain::limits::CAPACITY_PER_CHANNEL_MAX + 1];
    assert!(invalid(r.upsert_agent(t(0), greedy)));
    let long = AgentStatus::Break { reason: "x".repeat(1_000) };
    r.upsert_agent(t(0), agent(1, &[1])).unwrap();
    assert!(invalid(r.handle_agent_status(t(0), AgentId(1), long)));
    let mut picky = task(1, 1, 0);
    picky.skills = vec![skill(4, 1), skill(4, 1)];
    assert!(invalid(r.handle_enqueue(t(0), picky)));
    assert_eq!(r.task_count(), 0, "a refused input changes nothing");
    r.check_invariants();
}

#[test]
fn capacity_cannot_drop_below_the_current_load() {
    let mut r = router(0);
    let mut q = queue(1);
    q.channel = Channel::Chat;
    r.upsert_queue(q).unwrap();
    let mut chatter = agent(1, &[1]);
    chatter.capacity = [0, 2];
    r.upsert_agent(t(0), chatter.clone()).unwrap();
    available(&mut r, t(0), 1);
    r.handle_enqueue(t(0), task(1, 1, 0)).unwrap();
    r.handle_enqueue(t(0), task(2, 1, 0)).unwrap();
    chatter.capacity = [0, 1];
    assert!(matches!(r.upsert_agent(t(1), chatter.clone()), Err(RoutingError::InvalidConfig(_))));
    r.handle_cancel(t(2), TaskId(2)).unwrap();
    r.upsert_agent(t(3), chatter).unwrap();
    r.check_invariants();
}

#[test]
fn queue_change_matches_at_the_next_input() {
    let mut r = router(0);
    let mut q = queue(1);
    q.skills = vec![skill(1, 5)];
    r.upsert_queue(q.clone()).unwrap();
    r.upsert_agent(t(0), agent(1, &[1])).unwrap();
    available(&mut r, t(0), 1);
    r.handle_enqueue(t(100), task(1, 1, 0)).unwrap();
    assert_eq!(r.poll_timeout(), None);
    q.skills.clear();
    r.upsert_queue(q).unwrap();
    assert_eq!(r.poll_timeout(), Some(t(100)), "due at once");
    r.handle_timeout(t(200));
    assert_eq!(offered(&drain(&mut r)), vec![(1, 1)]);
    assert_eq!(r.poll_timeout(), Some(t(10_200)));
    r.check_invariants();
}

#[test]
fn profile_change_makes_an_agent_eligible() {
    let mut r = router(0);
    let mut q = queue(1);
    q.skills = vec![skill(1, 5)];
    r.upsert_queue(q).unwrap();
    r.upsert_agent(t(0), agent(1, &[1])).unwrap();
    available(&mut r, t(0), 1);
    r.handle_enqueue(t(1), task(1, 1, 0)).unwrap();
    assert!(drain(&mut r).is_empty());
    let mut trained = agent(1, &[1]);
    trained.skills = vec![skill(1, 6)];
    r.upsert_agent(t(2), trained).unwrap();
    assert_eq!(offered(&drain(&mut r)), vec![(1, 1)]);
    r.check_invariants();
}

#[test]
fn snapshot_counts_each_state() {
    let mut r = router(0);
    r.upsert_queue(queue(1)).unwrap();
    for id in 1..=3 {
        r.upsert_agent(t(0), agent(id, &[1])).unwrap();
    }
    available(&mut r, t(0), 1);
    available(&mut r, t(0), 2);
    for id in 1..=4 {
        r.handle_enqueue(t(10 * id as i64), task(id, 1, 0)).unwrap();
    }
    r.handle_accept(t(50), offer_of(&r, 1)).unwrap();
    let snapshot = r.queue_snapshot(QueueId(1)).unwrap();
    let expected = QueueSnapshot {
        waiting: 2,
        offered: 1,
        assigned: 1,
        oldest_waiting_since: Some(t(30)),
        agents_free: 0,
    };
    assert_eq!(snapshot, expected);
    assert_eq!(r.queue_snapshot(QueueId(2)), None);
    assert_eq!(r.agent(AgentId(3)).unwrap().status, AgentStatus::Offline);
    let _ = SkillId(0);
}

#[test]
fn one_overflow_step_per_timeout_call() {
    let mut r = router(0);
    r.upsert_queue(queue(2)).unwrap();
    let mut first = queue(1);
    first.skills = vec![skill(1, 9)];
    first.overflow = vec![
        OverflowRule { after_ms: 20_000, action: OverflowAction::MoveTo(QueueId(2)) },
        OverflowRule { after_ms: 10_000, action: OverflowAction::RelaxSkills },
    ];
    r.upsert_queue(first).unwrap();
    r.handle_enqueue(t(0), task(1, 1, 0)).unwrap();
    assert_eq!(r.poll_timeout(), Some(t(10_000)), "rules apply in order of after_ms");
    // Called late: both steps are due, one happens per call.
    r.handle_timeout(t(30_000));
    assert_eq!(r.poll_timeout(), Some(t(20_000)));
    r.handle_timeout(t(30_000));
    assert_eq!(r.poll_timeout(), None);
    expect![[r#"
        SkillsRelaxed { task: task1 }
        Overflowed { task: task1, from: queue1, to: queue2 }
    "#]]
    .assert_eq(&drain_show(&mut r));
    assert_eq!(r.queue_snapshot(QueueId(2)).unwrap().oldest_waiting_since, Some(t(0)));
}

#[test]
fn the_new_queue_rules_already_due_apply_at_the_next_call() {
    let mut r = router(0);
    let mut last = queue(3);
    last.overflow = vec![OverflowRule { after_ms: 1_000, action: OverflowAction::RelaxSkills }];
    r.upsert_queue(last).unwrap();
    let mut first = queue(1);
    first.overflow =
        vec![OverflowRule { after_ms: 5_000, action: OverflowAction::MoveTo(QueueId(3)) }];
    r.upsert_queue(first).unwrap();
    r.handle_enqueue(t(0), task(1, 1, 0)).unwrap();
    r.handle_timeout(t(5_000));
    assert_eq!(r.poll_timeout(), Some(t(1_000)), "queue 3's rule is already due");
    r.handle_timeout(t(5_000));
    expect![[r#"
        Overflowed { task: task1, from: queue1, to: queue3 }
        SkillsRelaxed { task: task1 }
    "#]]
    .assert_eq(&drain_show(&mut r));
}

#[test]
fn overflow_into_a_full_queue_is_skipped() {
    let mut r = router(0);
    let mut small = queue(2);
    small.depth_max = 1;
    r.upsert_queue(small).unwrap();
    let mut first = queue(1);
    first.overflow = vec![
        OverflowRule { after_ms: 1_000, action: OverflowAction::MoveTo(QueueId(2)) },
        OverflowRule { after_ms: 2_000, action: OverflowAction::RelaxSkills },
    ];
    r.upsert_queue(first).unwrap();
    r.handle_enqueue(t(0), task(1, 2, 0)).unwrap();
    r.handle_enqueue(t(0), task(2, 1, 0)).unwrap();
    r.handle_timeout(t(1_000));
    r.handle_timeout(t(2_000));
    // The move was skipped (queue 2 is full), the next rule still applies.
    expect![[r#"
        SkillsRelaxed { task: task2 }
    "#]]
    .assert_eq(&drain_show(&mut r));
    assert_eq!(r.task(TaskId(2)).unwrap().queue, QueueId(1));
}

#[test]
fn no_wrap_up_for_an_agent_already_on_break() {
    let mut r = router(0);
    let mut q = queue(1);
    q.wrap_up_ms = 10_000;
    r.upsert_queue(q).unwrap();
    r.upsert_agent(t(0), agent(1, &[1])).unwrap();
    available(&mut r, t(0), 1);
    r.handle_enqueue(t(0), task(1, 1, 0)).unwrap();
    r.handle_accept(t(1), offer_of(&r, 1)).unwrap();
    let lunch = AgentStatus::Break { reason: "lunch".into() };
    r.handle_agent_status(t(2), AgentId(1), lunch.clone()).unwrap();
    r.handle_release(t(3), TaskId(1)).unwrap();
    assert_eq!(r.agent(AgentId(1)).unwrap().status, lunch);
    assert_eq!(r.agent(AgentId(1)).unwrap().load, [0, 0]);
    assert_eq!(r.poll_timeout(), None);
    r.check_invariants();
}

#[test]
fn queue_change_reorders_waiting_tasks() {
    let mut r = router(0);
    r.upsert_queue(queue(1)).unwrap();
    r.upsert_agent(t(0), agent(1, &[1])).unwrap();
    r.handle_enqueue(t(0), task(1, 1, 0)).unwrap();
    r.handle_enqueue(t(5_000), task(2, 1, 1)).unwrap();
    // With aging one level per second, task 1 (0 + 5) now beats task 2 (1 + 0).
    let mut aged = queue(1);
    aged.aging_ms_per_level = 1_000;
    r.upsert_queue(aged).unwrap();
    r.check_invariants();
    assert_eq!(serve_all(&mut r, 5_000, 1), vec![1, 2]);
}

#[test]
fn a_relaxed_task_may_go_to_an_agent_without_the_queue_skills() {
    let mut r = router(0);
    let mut q = queue(1);
    q.skills = vec![skill(1, 5)];
    q.overflow = vec![OverflowRule { after_ms: 1_000, action: OverflowAction::RelaxSkills }];
    r.upsert_queue(q).unwrap();
    let mut novice = agent(1, &[1]);
    novice.skills = vec![skill(1, 1)];
    let mut expert = agent(2, &[1]);
    expert.skills = vec![skill(1, 9)];
    r.upsert_agent(t(0), novice).unwrap();
    r.upsert_agent(t(0), expert).unwrap();
    available(&mut r, t(0), 1);
    r.handle_enqueue(t(0), task(1, 1, 0)).unwrap();
    assert_eq!(offered(&drain(&mut r)), vec![], "only agent 1 is free and it is unqualified");
    r.handle_timeout(t(1_000));
    assert_eq!(offered(&drain(&mut r)), vec![(1, 1)]);
    assert_eq!(
        r.handle_release(t(2_000), TaskId(1)),
        Err(RoutingError::WrongTaskState(TaskId(1))),
        "offered, not yet assigned"
    );
    r.handle_accept(t(2_000), offer_of(&r, 1)).unwrap();
    r.handle_release(t(2_000), TaskId(1)).unwrap();
    available(&mut r, t(2_500), 2);
    // Nobody has skill 7; once relaxed, the longest idle of both agents gets it, qualified or
    // not for the queue's own skills.
    let mut special = task(2, 1, 0);
    special.skills = vec![skill(7, 1)];
    r.handle_enqueue(t(3_000), special).unwrap();
    r.handle_timeout(t(4_000));
    expect![[r#"
        OfferEnded { offer: offer1, task: task1, agent: agent1, end: Accepted }
        SkillsRelaxed { task: task2 }
        Offered { offer: offer2, task: task2, agent: agent1, expires_at: t14000 }
    "#]]
    .assert_eq(&drain_show(&mut r));
}

#[test]
fn new_queue_skills_apply_to_a_task_offered_meanwhile_once_it_waits_again() {
    let mut r = router(0);
    r.upsert_queue(queue(1)).unwrap();
    r.upsert_agent(t(0), agent(1, &[1])).unwrap();
    available(&mut r, t(0), 1);
    r.handle_enqueue(t(1), task(1, 1, 0)).unwrap();
    let offer = offer_of(&r, 1);
    let mut skilled = queue(1);
    skilled.skills = vec![skill(1, 3)];
    r.upsert_queue(skilled).unwrap();
    r.check_invariants();
    // Under the old requirements the only free agent would get it back.
    r.handle_reject(t(2), offer).unwrap();
    r.check_invariants();
    expect![[r#"
        Offered { offer: offer1, task: task1, agent: agent1, expires_at: t10001 }
        OfferEnded { offer: offer1, task: task1, agent: agent1, end: Rejected }
    "#]]
    .assert_eq(&drain_show(&mut r));
    assert_eq!(r.task(TaskId(1)).unwrap().state, TaskState::Waiting);
}
