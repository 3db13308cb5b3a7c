//! Routing benchmark: how many decisions (offers) per second the router makes with a large
//! backlog, and how long an enqueue takes to become an offer when agents are free.
//!
//! Phase 1 (saturated): `agents` agents with mixed skills serve `queues` queues (voice and
//! chat, LongestIdle and BestSkill, some with aging and overflow). The backlog is filled to
//! `tasks` waiting tasks, then each step releases the longest-held task (its agent takes the
//! next one), accepts every offer at once and enqueues new tasks to keep the backlog full.
//! Simulated time advances 1 ms per step; due timers (overflow) are fired as they come.
//! Elapsed time covers the router calls and the driver's light bookkeeping; task specs are
//! drawn ahead in batches whose drawing time is left out (random numbers are not routing).
//!
//! Phase 2 (spare agents): a fresh router with the same population and no backlog, kept at
//! about half of its agents busy. Each enqueue is timed until its offer is drained; tasks
//! that found no free eligible agent are counted but not timed.
//!
//! Measured with the `bench-release` profile (release with fat LTO, one codegen unit):
//! `cargo build --profile bench-release -p sim --example routing_bench`, then
//! `target/bench-release/examples/routing_bench`. A plain `--release` build works too and
//! runs about 4% more instructions per decision.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use domain::{AgentId, Channel, OfferId, QueueId, SkillId, SkillLevel, TaskId, Timestamp};
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use routing::{
    AgentProfile, AgentStatus, OverflowAction, OverflowRule, QueueConfig, Router, RouterConfig,
    RoutingEvent, Strategy, TaskSpec,
};

#[derive(Clone, Debug)]
pub struct RoutingBenchConfig {
    pub agents: usize,
    pub queues: usize,
    /// Waiting tasks kept in the backlog during phase 1.
    pub tasks: usize,
    /// Decisions to make in phase 1 after the fill.
    pub decisions: u64,
    /// Enqueues timed in phase 2.
    pub latency_samples: usize,
    /// Distinct skills in the population.
    pub skills: u32,
    /// Give every queue a RelaxSkills rule after 120 s and a third of them a MoveTo after 60 s.
    /// Waits in phase 1 are about 100 s, so most tasks take an overflow step.
    pub overflow_rules: bool,
    pub seed: u64,
}

impl RoutingBenchConfig {
    /// The target scale: 10k agents, 100k queued tasks over 20 queues.
    pub fn standard(seed: u64) -> RoutingBenchConfig {
        RoutingBenchConfig {
            agents: 10_000,
            queues: 20,
            tasks: 100_000,
            decisions: 2_000_000,
            latency_samples: 200_000,
            skills: 8,
            overflow_rules: true,
            seed,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RoutingBenchReport {
    pub seed: u64,
    pub agents: usize,
    pub queues: usize,
    pub overflow_rules: bool,
    /// Backlog kept during phase 1.
    pub tasks: usize,
    /// Offers made in phase 1 after the fill.
    pub decisions: u64,
    pub elapsed_s: f64,
    pub decisions_per_s: f64,
    /// Filling the backlog: enqueues and the offers they caused.
    pub fill_elapsed_s: f64,
    /// Tasks that overflowed or were relaxed during phase 1.
    pub overflows: u64,
    /// Phase 1 cost per call, from every 32nd step: a release (with the offer it causes),
    /// an accept, an enqueue, a timeout call (overflow steps).
    pub release_us: f64,
    pub accept_us: f64,
    pub enqueue_us: f64,
    pub timeout_us: f64,
    /// Free (queue, agent) pairs at the end of phase 1: agents with spare capacity that no
    /// waiting task fits.
    pub agents_free_end: usize,
    /// Phase 2: enqueues timed (offered within the enqueue call).
    pub latency_samples: usize,
    /// Phase 2: enqueues that found no free eligible agent.
    pub latency_queued: usize,
    pub enqueue_to_offer_p50_us: f64,
    pub enqueue_to_offer_p99_us: f64,
    pub enqueue_to_offer_max_us: f64,
    /// Phase 2 offers per second of router time.
    pub spare_decisions_per_s: f64,
}

impl RoutingBenchReport {
    pub fn to_json(&self) -> String {
        let value = serde_json::json!({
            "bench": "routing",
            "seed": self.seed,
            "agents": self.agents,
            "queues": self.queues,
            "overflow_rules": self.overflow_rules,
            "tasks": self.tasks,
            "decisions": self.decisions,
            "elapsed_s": self.elapsed_s,
            "decisions_per_s": self.decisions_per_s,
            "fill_elapsed_s": self.fill_elapsed_s,
            "overflows": self.overflows,
            "release_us": self.release_us,
            "accept_us": self.accept_us,
            "enqueue_us": self.enqueue_us,
            "timeout_us": self.timeout_us,
            "agents_free_end": self.agents_free_end,
            "latency_samples": self.latency_samples,
            "latency_queued": self.latency_queued,
            "enqueue_to_offer_p50_us": self.enqueue_to_offer_p50_us,
            "enqueue_to_offer_p99_us": self.enqueue_to_offer_p99_us,
            "enqueue_to_offer_max_us": self.enqueue_to_offer_max_us,
            "spare_decisions_per_s": self.spare_decisions_per_s,
        });
        value.to_string()
    }
}

fn level(rng: &mut ChaCha8Rng, low: i64, high: i64) -> SkillLevel {
    // Ranges below stay inside 1..=10.
    SkillLevel::new(rng.gen_range(low..=high)).expect("level in 1..=10")
}

/// The population: queue configs and agent profiles, from the seed.
struct Population {
    queues: Vec<QueueConfig>,
    agents: Vec<AgentProfile>,
    skills: u32,
}

impl Population {
    fn new(cfg: &RoutingBenchConfig, rng: &mut ChaCha8Rng) -> Population {
        let skills = cfg.skills.max(1);
        let queues = (0..cfg.queues)
            .map(|q| {
                let id = QueueId(q as u64);
                let mut overflow =
                    vec![OverflowRule { after_ms: 120_000, action: OverflowAction::RelaxSkills }];
                if !cfg.overflow_rules {
                    overflow.clear();
                }
                // Moves go to a higher id only, so they never form a cycle.
                if cfg.overflow_rules && q % 3 == 0 && q + 1 < cfg.queues {
                    let to = QueueId(q as u64 + 1);
                    overflow.push(OverflowRule {
                        after_ms: 60_000,
                        action: OverflowAction::MoveTo(to),
                    });
                }
                QueueConfig {
                    id,
                    channel: if q % 5 == 4 { Channel::Chat } else { Channel::Voice },
                    strategy: if q % 4 == 3 { Strategy::BestSkill } else { Strategy::LongestIdle },
                    skills: vec![(SkillId(q as u32 % skills), level(rng, 1, 3))],
                    department: None,
                    offer_ms: 20_000,
                    aging_ms_per_level: if q % 2 == 0 { 30_000 } else { 0 },
                    overflow,
                    wrap_up_ms: 0,
                    depth_max: domain::limits::QUEUE_DEPTH_MAX,
                }
            })
            .collect::<Vec<_>>();
        let agents = (0..cfg.agents)
            .map(|a| {
                let served = rng.gen_range(2..=4).min(cfg.queues);
                let mut list: Vec<QueueId> = Vec::with_capacity(served);
                while list.len() < served {
                    let q = QueueId(rng.gen_range(0..cfg.queues) as u64);
                    if !list.contains(&q) {
                        list.push(q);
                    }
                }
                let mut held: Vec<(SkillId, SkillLevel)> = Vec::new();
                for q in &list {
                    let skill = queues[q.0 as usize].skills[0].0;
                    if !held.iter().any(|h| h.0 == skill) {
                        held.push((skill, level(rng, 1, 10)));
                    }
                }
                for _ in 0..rng.gen_range(1..=3) {
                    let skill = SkillId(rng.gen_range(0..skills));
                    if !held.iter().any(|h| h.0 == skill) {
                        held.push((skill, level(rng, 1, 10)));
                    }
                }
                AgentProfile {
                    id: AgentId(a as u64),
                    skills: held,
                    departments: Vec::new(),
                    queues: list,
                    capacity: [1, 3],
                }
            })
            .collect();
        Population { queues, agents, skills }
    }

    /// A router with every queue and agent, all agents available at `now`.
    fn router(&self, now: Timestamp) -> Router {
        let mut router = Router::new(RouterConfig { missed_offers_max: 3 });
        // Highest id first: overflow targets exist before the queues that name them.
        for queue in self.queues.iter().rev() {
            router.upsert_queue(queue.clone()).expect("bench queues are valid");
        }
        for agent in &self.agents {
            router.upsert_agent(now, agent.clone()).expect("bench agents are valid");
            router.handle_agent_status(now, agent.id, AgentStatus::Available).expect("known");
        }
        router
    }

    fn task(&self, id: u64, rng: &mut ChaCha8Rng) -> TaskSpec {
        let queue = QueueId(rng.gen_range(0..self.queues.len()) as u64);
        let priority = match rng.gen_range(0..10) {
            0 => 3,
            1..=2 => 2,
            3..=5 => 1,
            _ => 0,
        };
        let skills = if rng.gen_range(0..4) == 0 {
            vec![(SkillId(rng.gen_range(0..self.skills)), level(rng, 1, 5))]
        } else {
            Vec::new()
        };
        // The extra skill may be the queue's own: merged at the higher level by the router.
        let queue_skill = self.queues[queue.0 as usize].skills[0].0;
        let skills = skills.into_iter().filter(|s| s.0 != queue_skill).collect();
        TaskSpec { id: TaskId(id), queue, priority, skills }
    }
}

/// Specs drawn per batch.
const SPEC_BATCH: usize = 4_096;

/// Task specs drawn ahead in batches, in the order they are used, so the sequence is the one
/// drawn one spec at a time; the time spent drawing is kept apart, for the clocks to leave out.
struct Specs<'a> {
    population: &'a Population,
    rng: ChaCha8Rng,
    /// Drawn but not used yet; ids are given when used.
    ahead: VecDeque<TaskSpec>,
    drawing: Duration,
}

impl<'a> Specs<'a> {
    fn new(population: &'a Population, rng: ChaCha8Rng) -> Specs<'a> {
        let ahead = VecDeque::with_capacity(SPEC_BATCH);
        Specs { population, rng, ahead, drawing: Duration::ZERO }
    }

    fn next(&mut self, id: u64) -> TaskSpec {
        if self.ahead.is_empty() {
            let clock = Instant::now();
            for _ in 0..SPEC_BATCH {
                // The id draws no random number: it is set below.
                let spec = self.population.task(0, &mut self.rng);
                self.ahead.push_back(spec);
            }
            self.drawing += clock.elapsed();
        }
        let mut spec = self.ahead.pop_front().expect("drawn above");
        spec.id = TaskId(id);
        spec
    }
}

/// Drains the router: accepts every offer, counts decisions, keeps the assigned FIFO.
struct Driver {
    router: Router,
    assigned: VecDeque<TaskId>,
    /// Offers polled but not accepted yet.
    offered: Vec<(OfferId, TaskId)>,
    next_task: u64,
    decisions: u64,
    overflows: u64,
}

impl Driver {
    fn new(router: Router) -> Driver {
        Driver {
            router,
            assigned: VecDeque::new(),
            offered: Vec::new(),
            next_task: 0,
            decisions: 0,
            overflows: 0,
        }
    }

    /// Polls every event; offers are kept for [`Driver::accept_all`].
    fn poll(&mut self) {
        while let Some(event) = self.router.poll_event() {
            match event {
                RoutingEvent::Offered { offer, task, .. } => {
                    self.decisions += 1;
                    self.offered.push((offer, task));
                }
                RoutingEvent::Overflowed { .. } | RoutingEvent::SkillsRelaxed { .. } => {
                    self.overflows += 1;
                }
                RoutingEvent::OfferEnded { .. } | RoutingEvent::AgentStatusChanged { .. } => {}
            }
        }
    }

    fn accept_all(&mut self, now: Timestamp) {
        // Accepting makes no new offer, so one pass empties the list. The list is reused: an
        // allocation per step is driver cost, not router cost.
        let mut offered = std::mem::take(&mut self.offered);
        for &(offer, task) in &offered {
            self.router.handle_accept(now, offer).expect("offer is open");
            self.assigned.push_back(task);
        }
        offered.clear();
        self.offered = offered;
        self.poll();
        debug_assert!(self.offered.is_empty());
    }

    fn drain(&mut self, now: Timestamp) {
        self.poll();
        self.accept_all(now);
    }

    fn enqueue(&mut self, now: Timestamp, specs: &mut Specs) {
        let spec = specs.next(self.next_task);
        self.next_task += 1;
        // The bench keeps every queue far below its depth limit.
        self.router.handle_enqueue(now, spec).expect("room in the queue");
    }

    fn release_oldest(&mut self, now: Timestamp) {
        if let Some(task) = self.assigned.pop_front() {
            self.router.handle_release(now, task).expect("task is assigned");
        }
    }

    /// Returns whether the router had something due.
    fn fire_timers(&mut self, now: Timestamp) -> bool {
        let due = self.router.poll_timeout().is_some_and(|due| due <= now);
        if due {
            self.router.handle_timeout(now);
        }
        due
    }

    /// Tasks waiting: every task is offered once at most (offers are accepted at once).
    fn waiting(&self) -> u64 {
        self.next_task - self.decisions
    }
}

/// Per-call timings of phase 1, taken on a sample of steps.
#[derive(Default)]
struct Sampled {
    /// (calls, nanoseconds) for release, accept, enqueue, timeout.
    calls: [(u64, u64); 4],
}

impl Sampled {
    /// One phase 1 step with every router call timed.
    fn step(&mut self, driver: &mut Driver, now: Timestamp, backlog: u64, specs: &mut Specs) {
        let clock = Instant::now();
        if driver.fire_timers(now) {
            self.add(3, clock);
        }
        driver.poll();
        self.accept(driver, now);
        let clock = Instant::now();
        driver.release_oldest(now);
        self.add(0, clock);
        driver.poll();
        self.accept(driver, now);
        while driver.waiting() < backlog {
            let spec = specs.next(driver.next_task);
            driver.next_task += 1;
            let clock = Instant::now();
            driver.router.handle_enqueue(now, spec).expect("room in the queue");
            self.add(2, clock);
            driver.poll();
            self.accept(driver, now);
        }
    }

    fn accept(&mut self, driver: &mut Driver, now: Timestamp) {
        let mut offered = std::mem::take(&mut driver.offered);
        for &(offer, task) in &offered {
            let clock = Instant::now();
            driver.router.handle_accept(now, offer).expect("offer is open");
            self.add(1, clock);
            driver.assigned.push_back(task);
        }
        offered.clear();
        driver.offered = offered;
        driver.poll();
    }

    fn add(&mut self, kind: usize, since: Instant) {
        self.calls[kind].0 += 1;
        self.calls[kind].1 += since.elapsed().as_nanos() as u64;
    }

    fn mean_us(&self, kind: usize) -> f64 {
        let (calls, ns) = self.calls[kind];
        if calls == 0 {
            0.0
        } else {
            ns as f64 / calls as f64 / 1_000.0
        }
    }
}

fn percentile_us(sorted_ns: &[u64], p: f64) -> f64 {
    if sorted_ns.is_empty() {
        return 0.0;
    }
    let rank = ((sorted_ns.len() as f64 - 1.0) * p).round() as usize;
    sorted_ns[rank.min(sorted_ns.len() - 1)] as f64 / 1_000.0
}

pub fn run_routing_bench(cfg: &RoutingBenchConfig) -> RoutingBenchReport {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let population = Population::new(cfg, &mut rng);
    let mut now = Timestamp::ZERO;

    // Phase 1: saturated.
    let mut driver = Driver::new(population.router(now));
    let mut specs = Specs::new(&population, rng);
    let started = Instant::now();
    while driver.waiting() < cfg.tasks as u64 {
        driver.enqueue(now, &mut specs);
        driver.drain(now);
    }
    let fill_elapsed_s = (started.elapsed() - specs.drawing).as_secs_f64();
    let decisions_before = driver.decisions;
    driver.overflows = 0;
    let drawn_before = specs.drawing;
    let started = Instant::now();
    let mut sampled = Sampled::default();
    let mut step: u64 = 0;
    while driver.decisions - decisions_before < cfg.decisions {
        now = now.plus_ms(1);
        step += 1;
        if step & 31 == 0 {
            sampled.step(&mut driver, now, cfg.tasks as u64, &mut specs);
        } else {
            driver.fire_timers(now);
            driver.release_oldest(now);
            driver.drain(now);
            while driver.waiting() < cfg.tasks as u64 {
                driver.enqueue(now, &mut specs);
                driver.drain(now);
            }
        }
        if driver.assigned.is_empty() && driver.decisions - decisions_before < cfg.decisions {
            // Nothing left to release and nobody eligible: the population cannot go on.
            break;
        }
    }
    let elapsed_s = (started.elapsed() - (specs.drawing - drawn_before)).as_secs_f64();
    let decisions = driver.decisions - decisions_before;
    let agents_free_end: usize = (0..cfg.queues)
        .filter_map(|q| driver.router.queue_snapshot(QueueId(q as u64)))
        .map(|s| s.agents_free)
        .sum();
    let overflows = driver.overflows;

    // Phase 2: spare agents, timed enqueues.
    let mut now = Timestamp::ZERO;
    let mut driver = Driver::new(population.router(now));
    let busy_max = cfg.agents / 2;
    let mut samples_ns: Vec<u64> = Vec::with_capacity(cfg.latency_samples);
    let mut queued = 0;
    let mut router_ns: u64 = 0;
    let spare_decisions_before = driver.decisions;
    while samples_ns.len() < cfg.latency_samples {
        now = now.plus_ms(1);
        let spec = specs.next(driver.next_task);
        driver.next_task += 1;
        let task = spec.id;
        let clock = Instant::now();
        driver.router.handle_enqueue(now, spec).expect("room in the queue");
        driver.poll();
        // The offer is in hand: stop the clock before accepting it.
        let ns = clock.elapsed().as_nanos() as u64;
        let offered_at_once = driver.offered.iter().any(|&(_, t)| t == task);
        let clock = Instant::now();
        driver.accept_all(now);
        router_ns += ns + clock.elapsed().as_nanos() as u64;
        if offered_at_once {
            samples_ns.push(ns);
        } else {
            queued += 1;
            if queued > cfg.latency_samples.max(1_000) {
                break;
            }
        }
        while driver.assigned.len() > busy_max {
            let clock = Instant::now();
            driver.fire_timers(now);
            driver.release_oldest(now);
            driver.drain(now);
            router_ns += clock.elapsed().as_nanos() as u64;
        }
    }
    let spare_decisions = driver.decisions - spare_decisions_before;
    let sample_count = samples_ns.len();
    samples_ns.sort_unstable();

    RoutingBenchReport {
        seed: cfg.seed,
        agents: cfg.agents,
        queues: cfg.queues,
        overflow_rules: cfg.overflow_rules,
        tasks: cfg.tasks,
        decisions,
        elapsed_s,
        decisions_per_s: decisions as f64 / elapsed_s.max(f64::MIN_POSITIVE),
        fill_elapsed_s,
        overflows,
        release_us: sampled.mean_us(0),
        accept_us: sampled.mean_us(1),
        enqueue_us: sampled.mean_us(2),
        timeout_us: sampled.mean_us(3),
        agents_free_end,
        latency_samples: sample_count,
        latency_queued: queued,
        enqueue_to_offer_p50_us: percentile_us(&samples_ns, 0.50),
        enqueue_to_offer_p99_us: percentile_us(&samples_ns, 0.99),
        enqueue_to_offer_max_us: samples_ns.last().map_or(0.0, |&ns| ns as f64 / 1_000.0),
        spare_decisions_per_s: spare_decisions as f64 / (router_ns as f64 / 1e9).max(1e-9),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_run_makes_decisions_and_reports_json() {
        let cfg = RoutingBenchConfig {
            agents: 100,
            queues: 6,
            tasks: 1_000,
            decisions: 5_000,
            latency_samples: 500,
            skills: 4,
            overflow_rules: true,
            seed: 7,
        };
        let report = run_routing_bench(&cfg);
        assert!(report.decisions > 0, "{report:?}");
        assert!(report.latency_samples > 0, "{report:?}");
        let json: serde_json::Value = serde_json::from_str(&report.to_json()).expect("valid JSON");
        assert_eq!(json["decisions"].as_u64(), Some(report.decisions));
        assert_eq!(json["bench"], "routing");
        assert!(json["enqueue_to_offer_p99_us"].as_f64().is_some());
    }

    #[test]
    fn the_seed_reproduces_the_population() {
        let cfg = RoutingBenchConfig { agents: 50, ..RoutingBenchConfig::standard(3) };
        let a = Population::new(&cfg, &mut ChaCha8Rng::seed_from_u64(3));
        let b = Population::new(&cfg, &mut ChaCha8Rng::seed_from_u64(3));
        let profiles =
            |p: &Population| -> Vec<String> { p.agents.iter().map(|a| format!("{a:?}")).collect() };
        assert_eq!(profiles(&a), profiles(&b));
    }
}
