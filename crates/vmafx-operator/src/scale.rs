//! The operator's own autoscaler for a pool in `operator` mode: the pool's demand (work
//! items queued or running for it) and what it remembers in status in, the replica count out.
//!
//! Rules, in order:
//! - out of `[minReplicas, maxReplicas]` (the spec changed): back into range at once;
//! - more wanted than running: grow at once (a queue never waits on a cooldown);
//! - fewer wanted while work remains: shrink only once `cooldownSeconds` have passed since
//!   the last change and since the queue last asked for as many as there are (a
//!   stabilization window), so a queue that drains and refills does not make pods come and go;
//! - nothing queued or running: shrink to `minReplicas` (zero when allowed) only after
//!   `idleSeconds` of idleness.
//!
//! Times are Unix seconds, so a test drives the clock.

use vmafx_core::PoolQueue;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use crate::crd::{Autoscaling, ScalingMode, VmafxNodeSpec, VmafxNodeStatus};
use crate::job::{condition, set_condition};

/// A pool's demand from the controller's queue: its own items queued or running, and with
/// `acceptsUnpooled` those of jobs that name no pool.
pub fn demand(pool: &str, spec: &VmafxNodeSpec, queues: &[PoolQueue]) -> u64 {
    queues
        .iter()
        .filter(|q| q.pool == pool || (spec.accepts_unpooled && q.pool.is_empty()))
        .map(PoolQueue::depth)
        .sum()
}

/// What the autoscaler remembers between reconciles (kept in the pool's status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Memory {
    /// When the replica count last changed.
    pub last_scale: Option<i64>,
    /// Since when the pool has had nothing queued or running.
    pub idle_since: Option<i64>,
    /// When the demand last asked for at least the replicas the pool had.
    pub last_busy: Option<i64>,
}

/// The decision for one reconcile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The replicas the Deployment should have; `None` leaves them to a HorizontalPodAutoscaler.
    pub replicas: Option<u32>,
    pub memory: Memory,
    /// Why, in words (logged and written to the pool's `Scaling` condition).
    pub reason: String,
}

/// The replicas `demand` work items ask for: `ceil(demand / itemsPerReplica)` within
/// `[min, max]`, and at least one while there is any demand.
pub fn wanted(spec: &VmafxNodeSpec, demand: u64) -> u32 {
    let per = u64::from(spec.autoscaling.items_per_replica.max(1));
    let max = spec.max_replicas.max(spec.min_replicas);
    let floor = if demand > 0 { spec.min_replicas.max(1) } else { spec.min_replicas }.min(max);
    let need = demand.div_ceil(per).min(u64::from(u32::MAX)) as u32;
    need.clamp(floor, max)
}

/// The decision for a pool with `current` replicas and `demand` work items, at `now`.
pub fn decide(spec: &VmafxNodeSpec, current: u32, demand: u64, memory: Memory, now: i64) -> Decision {
    let Autoscaling { mode, idle_seconds, cooldown_seconds, .. } = spec.autoscaling;
    let (min, max) = (spec.min_replicas, spec.max_replicas.max(spec.min_replicas));
    let idle_since = if demand == 0 { Some(memory.idle_since.unwrap_or(now)) } else { None };
    let want = wanted(spec, demand);
    let last_busy = if want >= current && demand > 0 { Some(now) } else { memory.last_busy };
    let keep = |reason: String| Decision {
        replicas: Some(current),
        memory: Memory { idle_since, last_busy, ..memory },
        reason,
    };
    let set = |replicas: u32, reason: String| Decision {
        replicas: Some(replicas),
        memory: Memory {
            last_scale: if replicas == current { memory.last_scale } else { Some(now) },
            idle_since,
            last_busy,
        },
        reason,
    };
    match mode {
        ScalingMode::Hpa => {
            return Decision {
                replicas: None,
                memory: Memory { idle_since, last_busy, ..memory },
                reason: "a HorizontalPodAutoscaler sizes this pool".into(),
            }
        }
        ScalingMode::Fixed => return set(min, format!("fixed size: {min} replicas")),
        ScalingMode::Operator => {}
    }
    if current < min {
        return set(min, format!("below minReplicas: {current} -> {min}"));
    }
    if current > max {
        return set(max, format!("above maxReplicas: {current} -> {max}"));
    }
    if want > current {
        return set(want, format!("{demand} work items queued or running: {current} -> {want} replicas"));
    }
    if want == current {
        return keep(format!("{demand} work items queued or running: {current} replicas fit"));
    }
    let last_event = memory.last_scale.max(memory.last_busy);
    let since_change = last_event.map_or(i64::MAX, |t| now.saturating_sub(t));
    if demand == 0 {
        let idle_for = now.saturating_sub(idle_since.unwrap_or(now));
        if idle_for < i64::from(idle_seconds) {
            return keep(format!("idle for {idle_for}s of {idle_seconds}s before shrinking to {min}"));
        }
        return set(min, format!("idle for {idle_for}s: {current} -> {min} replicas"));
    }
    if since_change < i64::from(cooldown_seconds) {
        return keep(format!(
            "{demand} work items want {want} replicas; holding {current} for the cooldown ({since_change}s of {cooldown_seconds}s)"
        ));
    }
    set(want, format!("{demand} work items queued or running: {current} -> {want} replicas"))
}

/// The decision when the controller's queue cannot be read: nothing is known about demand,
/// so an operator-mode pool keeps its size (within its bounds), an HPA still owns its count,
/// and a fixed pool stays at its minimum.
pub fn without_queue(spec: &VmafxNodeSpec, current: u32, memory: Memory, why: &str) -> Decision {
    let (min, max) = (spec.min_replicas, spec.max_replicas.max(spec.min_replicas));
    let (replicas, reason) = match spec.autoscaling.mode {
        ScalingMode::Hpa => (None, "a HorizontalPodAutoscaler sizes this pool".to_string()),
        ScalingMode::Fixed => (Some(min), format!("fixed size: {min} replicas")),
        ScalingMode::Operator => {
            let keep = current.clamp(min, max);
            (Some(keep), format!("keeping {keep} replicas while the queue is unknown: {why}"))
        }
    };
    Decision { replicas, memory, reason }
}

/// What the autoscaler remembered, as the pool's status last said (RFC 3339 times; an
/// unreadable one counts as absent).
pub fn memory_of(status: &VmafxNodeStatus) -> Memory {
    let at =
        |t: &Option<String>| t.as_deref().and_then(|t| t.parse::<Timestamp>().ok()).map(|t| t.as_second());
    Memory {
        last_scale: at(&status.last_scale_time),
        idle_since: at(&status.idle_since),
        last_busy: at(&status.last_busy_time),
    }
}

/// What a reconcile saw: the Deployment's replicas, the pool's demand, and why the
/// controller's queue could not be read, if it could not.
pub struct Observed<'a> {
    pub replicas: u32,
    pub ready_replicas: u32,
    pub demand: u64,
    pub queue_error: Option<&'a str>,
}

/// What the pool's status says after a reconcile: the Deployment's replicas, the demand, the
/// decision's memory and its reason as the `Scaling` condition, and `QueueKnown` (false while
/// the queue cannot be read: the size was kept and the last depth stays).
pub fn pool_status(
    previous: &VmafxNodeStatus,
    decision: &Decision,
    seen: &Observed,
    generation: Option<i64>,
    now: Timestamp,
) -> VmafxNodeStatus {
    let rfc3339 = |t: Option<i64>| t.and_then(|s| Timestamp::from_second(s).ok()).map(|t| t.to_string());
    let mut status = VmafxNodeStatus {
        replicas: seen.replicas,
        ready_replicas: seen.ready_replicas,
        queue_depth: if seen.queue_error.is_some() { previous.queue_depth } else { seen.demand },
        last_scale_time: rfc3339(decision.memory.last_scale),
        idle_since: rfc3339(decision.memory.idle_since),
        last_busy_time: rfc3339(decision.memory.last_busy),
        observed_generation: generation,
        conditions: previous.conditions.clone(),
    };
    let time = Time(now);
    let (known, reason, message) = match seen.queue_error {
        None => ("True", "QueueRead", "the controller's queue was read".to_string()),
        Some(e) => ("False", "ControllerUnreachable", format!("cannot read the controller's queue: {e}")),
    };
    set_condition(
        &mut status.conditions,
        condition("QueueKnown", known, reason, &message, generation, time.clone()),
    );
    let scaled = decision.replicas.is_some_and(|r| r != seen.replicas);
    let reason = if scaled { "Scaling" } else { "Steady" };
    set_condition(
        &mut status.conditions,
        condition(
            "Scaling",
            if scaled { "True" } else { "False" },
            reason,
            &decision.reason,
            generation,
            time.clone(),
        ),
    );
    let want = decision.replicas.unwrap_or(seen.replicas);
    let ready = seen.ready_replicas >= want;
    let message = format!("{} of {want} replicas ready", seen.ready_replicas);
    set_condition(
        &mut status.conditions,
        condition(
            "Ready",
            if ready { "True" } else { "False" },
            if ready { "ReplicasReady" } else { "ReplicasNotReady" },
            &message,
            generation,
            time,
        ),
    );
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pool in operator mode with the default autoscaling: 4 items per replica, 300 s idle
    /// period, 120 s cooldown.
    fn pool(min: u32, max: u32) -> VmafxNodeSpec {
        let spec: VmafxNodeSpec = serde_json::from_value(serde_json::json!({
            "minReplicas": min, "maxReplicas": max, "image": "vmafx-node"
        }))
        .unwrap();
        assert_eq!(
            spec.autoscaling,
            Autoscaling {
                mode: ScalingMode::Operator,
                items_per_replica: 4,
                idle_seconds: 300,
                cooldown_seconds: 120
            }
        );
        spec
    }

    /// Runs the autoscaler over (time, demand) steps, as reconciles would, from `start` replicas.
    fn run(spec: &VmafxNodeSpec, start: u32, steps: &[(i64, u64)]) -> Vec<u32> {
        let (mut current, mut memory) = (start, Memory::default());
        steps
            .iter()
            .map(|&(now, demand)| {
                let d = decide(spec, current, demand, memory, now);
                current = d.replicas.unwrap();
                memory = d.memory;
                current
            })
            .collect()
    }

    #[test]
    fn memory_round_trips_through_the_status_and_conditions_say_why() {
        let spec = pool(0, 4);
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let d = decide(&spec, 0, 9, Memory::default(), now.as_second());
        assert_eq!(d.replicas, Some(3));
        let seen = Observed { replicas: 0, ready_replicas: 0, demand: 9, queue_error: None };
        let status = pool_status(&VmafxNodeStatus::default(), &d, &seen, Some(2), now);
        assert_eq!(memory_of(&status), d.memory);
        assert_eq!(status.queue_depth, 9);
        let cond = |s: &VmafxNodeStatus, t: &str| s.conditions.iter().find(|c| c.type_ == t).unwrap().clone();
        assert_eq!(cond(&status, "Scaling").status, "True");
        assert!(cond(&status, "Scaling").message.contains("0 -> 3"), "{:?}", cond(&status, "Scaling"));
        assert_eq!(cond(&status, "Ready").message, "0 of 3 replicas ready");

        // The queue unreadable: the last depth is kept and the condition says why.
        let later = Timestamp::from_second(1_800_000_030).unwrap();
        let keep = Decision { replicas: Some(3), memory: d.memory, reason: "kept".into() };
        let seen =
            Observed { replicas: 3, ready_replicas: 3, demand: 0, queue_error: Some("connection refused") };
        let next = pool_status(&status, &keep, &seen, Some(2), later);
        assert_eq!(next.queue_depth, 9);
        assert_eq!(cond(&next, "QueueKnown").status, "False");
        assert!(cond(&next, "QueueKnown").message.contains("connection refused"));
        assert_eq!(cond(&next, "Ready").status, "True");
        assert_eq!(cond(&next, "Scaling").status, "False");
        assert_eq!(
            memory_of(&VmafxNodeStatus { idle_since: Some("yesterday".into()), ..Default::default() }),
            Memory::default()
        );
    }

    #[test]
    fn without_the_queue_a_pool_keeps_its_size_and_an_hpa_its_say() {
        let spec = pool(1, 4);
        let d = without_queue(&spec, 3, Memory::default(), "connection refused");
        assert_eq!(d.replicas, Some(3));
        assert!(d.reason.contains("connection refused"), "{}", d.reason);
        assert_eq!(without_queue(&spec, 0, Memory::default(), "x").replicas, Some(1), "back into range");
        let mut hpa = spec.clone();
        hpa.autoscaling.mode = ScalingMode::Hpa;
        assert_eq!(without_queue(&hpa, 3, Memory::default(), "x").replicas, None);
        let mut fixed = spec;
        fixed.autoscaling.mode = ScalingMode::Fixed;
        assert_eq!(without_queue(&fixed, 3, Memory::default(), "x").replicas, Some(1));
    }

    #[test]
    fn demand_counts_the_pool_and_unpooled_work_only_when_accepted() {
        let q = |pool: &str, pending, running| PoolQueue { pool: pool.into(), pending, running };
        let queues = [q("", 5, 1), q("gpu-a", 2, 3), q("gpu-b", 7, 0)];
        let mut spec = pool(0, 4);
        assert_eq!(demand("gpu-a", &spec, &queues), 5);
        spec.accepts_unpooled = true;
        assert_eq!(demand("gpu-a", &spec, &queues), 11);
        assert_eq!(demand("gpu-c", &spec, &queues), 6);
    }

    #[test]
    fn wanted_is_the_ceiling_within_bounds_and_one_for_any_demand() {
        let p = pool(0, 10);
        assert_eq!([0, 1, 4, 5, 8, 9, 400].map(|d| wanted(&p, d)), [0, 1, 1, 2, 2, 3, 10]);
        assert_eq!(wanted(&pool(2, 10), 0), 2);
        assert_eq!(wanted(&pool(2, 10), 1), 2);
    }

    #[test]
    fn scales_up_at_once_then_to_zero_after_the_idle_period_and_back() {
        let p = pool(0, 5);
        let steps = [
            (0, 0),   // idle, at zero
            (10, 9),  // a job arrives: 3 replicas at once
            (20, 30), // more: capped at max
            (30, 0),  // done: idle from now
            (200, 0), // idle 170s < 300s: hold
            (330, 0), // idle 300s: to zero
            (340, 1), // a new job: back to one
        ];
        assert_eq!(run(&p, 0, &steps), vec![0, 3, 5, 5, 5, 0, 1]);
    }

    #[test]
    fn idleness_resets_when_work_returns() {
        let p = pool(1, 4);
        let steps = [(0, 16), (10, 0), (250, 16), (260, 0), (500, 0), (560, 0)];
        // idle from 10, interrupted at 250; idle again from 260: shrinks at 560, not at 310.
        assert_eq!(run(&p, 1, &steps), vec![4, 4, 4, 4, 4, 1]);
    }

    #[test]
    fn a_queue_that_drains_and_refills_does_not_flap() {
        let p = pool(1, 8);
        // Demand swings between 32 and 4 every 30 s: up to 8 at once, never down within the cooldown.
        let steps: Vec<(i64, u64)> = (0..8).map(|i| (i * 30, if i % 2 == 0 { 32 } else { 4 })).collect();
        let replicas = run(&p, 1, &steps);
        assert_eq!(replicas[0], 8);
        assert!(replicas.iter().all(|&r| r == 8), "replicas flapped: {replicas:?}");
        // Sustained low demand shrinks once a cooldown has passed since the queue was last full.
        assert_eq!(run(&p, 1, &[(0, 32), (60, 32), (130, 4), (190, 4)]), vec![8, 8, 8, 1]);
    }

    #[test]
    fn a_changed_spec_is_honoured_at_once_and_other_modes_decide_nothing_or_the_minimum() {
        assert_eq!(run(&pool(2, 4), 0, &[(0, 0)]), vec![2]);
        assert_eq!(run(&pool(0, 4), 9, &[(0, 100)]), vec![4]);
        let mut hpa = pool(0, 4);
        hpa.autoscaling.mode = ScalingMode::Hpa;
        assert_eq!(decide(&hpa, 3, 100, Memory::default(), 0).replicas, None);
        let mut fixed = pool(3, 4);
        fixed.autoscaling.mode = ScalingMode::Fixed;
        assert_eq!(decide(&fixed, 1, 100, Memory::default(), 0).replicas, Some(3));
    }
}
