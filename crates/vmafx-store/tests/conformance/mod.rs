//! The store conformance suite: what every [`Store`] backend must do, run against each of them
//! (`tests/sqlite.rs`, `tests/postgres.rs`) through [`conformance_suite!`].
//!
//! Each case gets a fresh, empty store. Times are small integers: the store never reads a
//! clock, so the cases are exact.

#![allow(dead_code)]

use vmafx_core::{plan_segments, FrameScore, ItemState, JobState, ScoreJobSpec, Scores, SegmentResult};
use vmafx_store::*;

/// Generates one `#[tokio::test]` per conformance case, each on the store `$make` (an async
/// expression giving `Option<store>`; `None` when the backend is absent and its skip allowed).
#[macro_export]
macro_rules! conformance_suite {
    ($make:expr) => {
        $crate::conformance_suite!(@cases $make;
            idempotency_key_gives_one_job,
            candidates_are_priority_then_fifo,
            lease_next_takes_only_items_the_node_can_run,
            results_apply_once_and_finish_the_job,
            results_read_back_bit_for_bit,
            expired_lease_requeues_with_backoff_and_fences_the_late_result,
            attempts_run_out_and_the_job_fails_with_the_reason,
            reported_failures_retry_or_fail_the_job,
            settling_is_fenced_and_happens_once,
            cancel_stops_leases_and_refuses_results,
            jobs_list_by_state_in_pages,
            nodes_and_tokens,
            prune_deletes_what_ended_long_ago,
            concurrent_pulls_never_share_an_item,
            a_queue_moves_here_whole,
            batches_answer_each_request_in_order,
        );
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(store) = $make.await else { return };
                conformance::$case(store).await;
            }
        )*
    };
}

pub fn spec() -> ScoreJobSpec {
    ScoreJobSpec {
        reference: "/r.y4m".into(),
        distorted: "/d.mp4".into(),
        model: "vmaf_v0.6.1".into(),
        model_path: None,
        features: vec![],
        subsample: 1,
        segment_frames: Some(12),
        encode: None,
        pictures: None,
        requirements: Default::default(),
        inputs: Default::default(),
        versions: Default::default(),
        estimate: None,
    }
}

pub fn job(id: &str, key: Option<&str>, priority: i32, frames: u64) -> NewJob {
    NewJob {
        id: id.into(),
        idempotency_key: key.map(String::from),
        spec: spec(),
        priority,
        total_frames: frames,
        segments: plan_segments(frames, Some(12)),
        requirement: String::new(),
        owner: format!("owner-of-{id}"),
    }
}

fn result(frame: u64, vmaf: f64) -> SegmentResult {
    SegmentResult {
        scores: Scores {
            metrics: vec!["vmaf".into()],
            frames: vec![FrameScore { frame_num: frame, values: vec![vmaf] }],
            notes: vec![],
        },
        encode: None,
        pictures: vec![],
    }
}

fn retry(at: i64) -> Transition {
    Transition::Retry { not_before_ms: at, error: "lease expired".into() }
}

fn fail(why: &str) -> Transition {
    Transition::Fail { error: why.into(), job_error: format!("segment 0 failed: {why}") }
}

const ANY: &[String] = &[String::new()];

pub async fn idempotency_key_gives_one_job(s: impl Store) {
    let (a, created) = s.submit(job("a", Some("k1"), 0, 48), 1).await.unwrap();
    assert!(created);
    assert_eq!((a.items_total, a.state, a.submitted_ms), (4, JobState::Queued, 1));
    let (b, created) = s.submit(job("b", Some("k1"), 0, 48), 2).await.unwrap();
    assert!(!created);
    assert_eq!(b.id, "a");
    assert_eq!(b.spec, spec());
    assert_eq!(s.list_jobs(JobQuery::oldest(10)).await.unwrap().len(), 1);
    assert!(s.job("b").await.unwrap().is_none());
}

pub async fn candidates_are_priority_then_fifo(s: impl Store) {
    s.submit(job("low", None, 0, 12), 1).await.unwrap();
    s.submit(job("high", None, 5, 24), 2).await.unwrap();
    s.submit(job("low2", None, 0, 12), 3).await.unwrap();
    let order: Vec<(String, u32)> =
        s.candidates(10, 10).await.unwrap().into_iter().map(|c| (c.job_id, c.index)).collect();
    let expect = [("high", 0), ("high", 1), ("low", 0), ("low2", 0)];
    assert_eq!(order, expect.map(|(j, i)| (j.to_string(), i)));
    assert_eq!(s.pending_items().await.unwrap(), 4);
    // lease_next hands them out in that order, each once, with increasing fences.
    let mut fences = Vec::new();
    for (j, i) in expect {
        let l = s.lease_next("n", 10, 1000, ANY).await.unwrap().unwrap();
        assert_eq!((l.job.id.as_str(), l.item.index), (j, i));
        assert_eq!((l.item.fence, l.item.state, l.expires_ms), (l.fence, ItemState::Leased, 1010));
        assert_eq!(l.job.state, JobState::Running);
        fences.push(l.fence);
    }
    assert!(fences.windows(2).all(|w| w[0] < w[1]), "{fences:?}");
    assert!(s.lease_next("n", 10, 1000, ANY).await.unwrap().is_none(), "nothing left");
    assert_eq!(s.pending_items().await.unwrap(), 0);
}

pub async fn lease_next_takes_only_items_the_node_can_run(s: impl Store) {
    let gpu = r#"{"gpu_vendor":"nvidia"}"#.to_string();
    s.submit(NewJob { requirement: gpu.clone(), ..job("gpu", None, 0, 24) }, 1).await.unwrap();
    s.submit(job("any", None, 0, 12), 2).await.unwrap();
    assert_eq!(s.requirement_keys().await.unwrap(), [String::new(), gpu.clone()]);
    // A CPU node skips the older GPU job; a GPU node takes it first (FIFO).
    let cpu = s.lease_next("cpu", 10, 1000, ANY).await.unwrap().unwrap();
    assert_eq!(cpu.job.id, "any");
    let g = s.lease_next("g", 10, 1000, &[String::new(), gpu.clone()]).await.unwrap().unwrap();
    assert_eq!(g.job.id, "gpu");
    assert!(s.lease_next("none", 10, 1000, &[]).await.unwrap().is_none());
    assert!(s.lease_next("cpu", 10, 1000, ANY).await.unwrap().is_none(), "only GPU work left");
    assert_eq!(s.requirement_keys().await.unwrap(), [String::new(), gpu.clone()], "keys stay once submitted");
    let work = |key: &str| RequirementWork { requirement: key.into(), ..Default::default() };
    assert_eq!(
        s.stats().await.unwrap().work_by_requirement,
        vec![
            RequirementWork { leased: 1, ..work("") },
            RequirementWork { pending: 1, leased: 1, ..work(&gpu) }
        ],
        "queue depth per requirement: pending and leased"
    );
}

pub async fn results_apply_once_and_finish_the_job(s: impl Store) {
    s.submit(job("j", None, 0, 24), 0).await.unwrap();
    let c = s.candidates(0, 10).await.unwrap();
    let l0 = s.lease(c[0].item, "n1", 10, 1000).await.unwrap().unwrap();
    assert!(s.lease(c[0].item, "n2", 10, 1000).await.unwrap().is_none(), "one lease per item");
    let l1 = s.lease(c[1].item, "n2", 10, 1000).await.unwrap().unwrap();
    assert!(l1.fence > l0.fence);
    assert_eq!((l0.job.state, l0.job.started_ms), (JobState::Running, Some(10)));
    assert_eq!(s.complete(l0.item.id, l0.fence + 99, &result(0, 1.0), 20).await.unwrap(), Completion::Stale);
    assert_eq!(
        s.complete(l0.item.id, l0.fence, &result(0, 90.5), 20).await.unwrap(),
        Completion::Applied { job_id: "j".into(), job: JobState::Running }
    );
    assert_eq!(
        s.complete(l0.item.id, l0.fence, &result(0, 1.0), 21).await.unwrap(),
        Completion::Stale,
        "at most once"
    );
    assert_eq!(
        s.complete(l1.item.id, l1.fence, &result(12, 80.0), 30).await.unwrap(),
        Completion::Applied { job_id: "j".into(), job: JobState::Succeeded }
    );
    let done = s.job("j").await.unwrap().unwrap();
    assert_eq!((done.state, done.items_done, done.finished_ms), (JobState::Succeeded, 2, Some(30)));
    let items = s.items("j").await.unwrap();
    assert_eq!(items[0].result, Some(result(0, 90.5)));
    assert_eq!(items[1].state, ItemState::Done);
    let light = s.items_without_results("j").await.unwrap();
    assert!(light.iter().all(|i| i.result.is_none() && i.state == ItemState::Done));
    let ctx = s.report_context(items[1].id).await.unwrap().unwrap();
    assert_eq!((ctx.total_frames, ctx.spec, ctx.item.index, ctx.item.result), (24, spec(), 1, None));
    assert!(s.report_context(items[1].id + 1000).await.unwrap().is_none());
}

pub async fn results_read_back_bit_for_bit(s: impl Store) {
    s.submit(job("j", None, 0, 12), 0).await.unwrap();
    let l = s.lease_next("n", 1, 1000, ANY).await.unwrap().unwrap();
    let mut r = result(0, 93.123_456_789_012_34);
    r.scores.frames[0].values.extend([f64::NAN, -0.0, f64::MIN_POSITIVE]);
    r.scores.metrics.extend(["a".into(), "b".into(), "c".into()]);
    r.encode = Some(vmafx_core::EncodeOutcome { bytes: 1 << 40, encode_seconds: 0.1 });
    s.complete(l.item.id, l.fence, &r, 2).await.unwrap();
    let back = s.items("j").await.unwrap().remove(0).result.unwrap();
    let bits = |r: &SegmentResult| r.scores.frames[0].values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&back), bits(&r));
    assert_eq!((back.encode, back.scores.metrics), (r.encode, r.scores.metrics));
}

pub async fn expired_lease_requeues_with_backoff_and_fences_the_late_result(s: impl Store) {
    s.submit(job("j", None, 0, 12), 0).await.unwrap();
    let item = s.candidates(0, 1).await.unwrap()[0].item;
    let dead = s.lease(item, "dead", 0, 100).await.unwrap().unwrap();
    assert_eq!(s.extend("dead", &[(item, dead.fence)], 50, 100).await.unwrap(), Vec::<i64>::new());
    assert!(s.expired_leases(120, 10).await.unwrap().is_empty(), "heartbeat extended the lease to 150");
    let expired = s.expired_leases(151, 10).await.unwrap();
    assert_eq!(expired.len(), 1);
    let e = &expired[0];
    assert_eq!((e.id, e.fence, e.lease_node.as_deref(), e.attempts), (item, dead.fence, Some("dead"), 1));
    assert_eq!(
        s.settle_expired(item, dead.fence, &retry(251), 151).await.unwrap(),
        Completion::Applied { job_id: "j".into(), job: JobState::Running }
    );
    assert!(s.candidates(200, 1).await.unwrap().is_empty(), "backing off until 251");
    assert!(s.lease(item, "alive", 200, 100).await.unwrap().is_none());
    let alive = s.lease(item, "alive", 251, 100).await.unwrap().unwrap();
    assert_eq!(alive.item.attempts, 2);
    assert_eq!(s.items("j").await.unwrap()[0].last_error.as_deref(), Some("lease expired"));
    assert_eq!(
        s.complete(item, dead.fence, &result(0, 1.0), 260).await.unwrap(),
        Completion::Stale,
        "stale fence"
    );
    assert_eq!(s.extend("dead", &[(item, dead.fence)], 260, 100).await.unwrap(), vec![item]);
    assert_eq!(
        s.complete(item, alive.fence, &result(0, 1.0), 270).await.unwrap(),
        Completion::Applied { job_id: "j".into(), job: JobState::Succeeded }
    );
}

pub async fn attempts_run_out_and_the_job_fails_with_the_reason(s: impl Store) {
    s.submit(job("j", None, 0, 24), 0).await.unwrap();
    let item = s.candidates(0, 1).await.unwrap()[0].item;
    let l = s.lease(item, "n", 0, 10).await.unwrap().unwrap();
    let t = Transition::Fail {
        error: "lease expired".into(),
        job_error: "gave up after --max-attempts 1".into(),
    };
    assert_eq!(
        s.settle_expired(item, l.fence, &t, 11).await.unwrap(),
        Completion::Applied { job_id: "j".into(), job: JobState::Failed }
    );
    let j = s.job("j").await.unwrap().unwrap();
    assert_eq!((j.state, j.finished_ms), (JobState::Failed, Some(11)));
    assert_eq!(j.error.as_deref(), Some("gave up after --max-attempts 1"));
    assert!(s.candidates(5000, 10).await.unwrap().is_empty(), "the other segment is cancelled");
    let states: Vec<ItemState> = s.items("j").await.unwrap().iter().map(|i| i.state).collect();
    assert_eq!(states, [ItemState::Failed, ItemState::Cancelled]);
}

pub async fn reported_failures_retry_or_fail_the_job(s: impl Store) {
    s.submit(job("j", None, 0, 12), 0).await.unwrap();
    let item = s.candidates(0, 1).await.unwrap()[0].item;
    let l = s.lease(item, "n", 0, 1000).await.unwrap().unwrap();
    let t = Transition::Retry { not_before_ms: 105, error: "ffmpeg crashed".into() };
    let r = s.settle_failed(item, l.fence, &t, 5).await.unwrap();
    assert_eq!(r, Completion::Applied { job_id: "j".into(), job: JobState::Running });
    let i = s.items("j").await.unwrap().remove(0);
    assert_eq!((i.state, i.not_before_ms, i.lease_node), (ItemState::Pending, 105, None));
    assert_eq!(i.last_error.as_deref(), Some("ffmpeg crashed"));
    let l = s.lease(item, "n", 200, 1000).await.unwrap().unwrap();
    let r = s.settle_failed(item, l.fence, &fail("no such file"), 210).await.unwrap();
    assert_eq!(r, Completion::Applied { job_id: "j".into(), job: JobState::Failed });
    let err = s.job("j").await.unwrap().unwrap().error.unwrap();
    assert_eq!(err, "segment 0 failed: no such file");
}

pub async fn settling_is_fenced_and_happens_once(s: impl Store) {
    s.submit(job("j", None, 0, 12), 0).await.unwrap();
    let l = s.lease_next("n", 0, 100, ANY).await.unwrap().unwrap();
    let item = l.item.id;
    // Not expired yet: a sweep that read it earlier must not requeue it.
    assert_eq!(s.settle_expired(item, l.fence, &retry(500), 50).await.unwrap(), Completion::Stale);
    assert_eq!(s.settle_failed(item, l.fence + 1, &retry(500), 50).await.unwrap(), Completion::Stale);
    // Two sweeps (two controllers) settle one expiry once.
    assert!(matches!(
        s.settle_expired(item, l.fence, &retry(500), 150).await.unwrap(),
        Completion::Applied { .. }
    ));
    assert_eq!(s.settle_expired(item, l.fence, &retry(500), 150).await.unwrap(), Completion::Stale);
    assert_eq!(s.settle_failed(item, l.fence, &fail("late"), 160).await.unwrap(), Completion::Stale);
    assert_eq!(s.job("j").await.unwrap().unwrap().state, JobState::Running);
}

pub async fn cancel_stops_leases_and_refuses_results(s: impl Store) {
    s.submit(job("j", None, 0, 24), 0).await.unwrap();
    let item = s.candidates(0, 1).await.unwrap()[0].item;
    let l = s.lease(item, "n", 0, 1000).await.unwrap().unwrap();
    assert_eq!(s.cancel("j", 5).await.unwrap().unwrap().state, JobState::Cancelled);
    assert_eq!(s.extend("n", &[(item, l.fence)], 6, 1000).await.unwrap(), vec![item]);
    assert_eq!(s.complete(item, l.fence, &result(0, 1.0), 7).await.unwrap(), Completion::Stale);
    assert!(s.candidates(8, 10).await.unwrap().is_empty());
    assert!(s.lease_next("n", 8, 1000, ANY).await.unwrap().is_none());
    assert_eq!(s.cancel("j", 9).await.unwrap().unwrap().finished_ms, Some(5), "cancel is idempotent");
    assert!(s.cancel("nope", 9).await.unwrap().is_none());
}

pub async fn jobs_list_by_state_in_pages(s: impl Store) {
    for i in 0..5 {
        s.submit(job(&format!("j{i}"), None, 0, 12), i).await.unwrap();
    }
    s.cancel("j1", 10).await.unwrap();
    let queued = JobQuery { state: Some(JobState::Queued), ..JobQuery::oldest(2) };
    let page1 = s.list_jobs(queued).await.unwrap();
    let page2 = s.list_jobs(JobQuery { cursor: Some(page1[1].seq), ..queued }).await.unwrap();
    let ids: Vec<&str> = page1.iter().chain(&page2).map(|j| j.id.as_str()).collect();
    assert_eq!(ids, ["j0", "j2", "j3", "j4"]);
    let newest = JobQuery { newest_first: true, ..queued };
    let page1 = s.list_jobs(newest).await.unwrap();
    let page2 = s.list_jobs(JobQuery { cursor: Some(page1[1].seq), ..newest }).await.unwrap();
    let ids: Vec<&str> = page1.iter().chain(&page2).map(|j| j.id.as_str()).collect();
    assert_eq!(ids, ["j4", "j3", "j2", "j0"]);
    let cancelled = JobQuery { state: Some(JobState::Cancelled), ..JobQuery::oldest(10) };
    assert_eq!(s.list_jobs(cancelled).await.unwrap()[0].id, "j1");
    assert_eq!(s.job("j2").await.unwrap().unwrap().vmaf, None, "no score until one is recorded");
    s.set_job_vmaf("j2", 93.0625).await.unwrap();
    assert_eq!(s.job("j2").await.unwrap().unwrap().vmaf, Some(93.0625));
    let listed = s.list_jobs(JobQuery::oldest(10)).await.unwrap();
    assert_eq!(listed.iter().find(|j| j.id == "j2").unwrap().vmaf, Some(93.0625), "listings carry it");
    assert_eq!(s.list_jobs(JobQuery::oldest(100)).await.unwrap().len(), 5);
}

pub async fn nodes_and_tokens(s: impl Store) {
    let mut n = NodeRecord {
        id: "n1".into(),
        name: "gpu-a".into(),
        capabilities: serde_json::json!({"cores": 16, "gpu": "nvidia"}),
        registered_ms: 1,
        last_seen_ms: 1,
        draining: false,
    };
    s.upsert_node(&n).await.unwrap();
    assert_eq!(s.touch_node("n1", 5).await.unwrap(), Some(false));
    assert_eq!(s.touch_node("n1", 3).await.unwrap(), Some(false));
    assert_eq!(s.nodes().await.unwrap()[0].last_seen_ms, 5, "a late touch does not move time back");
    assert_eq!(s.touch_node("n2", 5).await.unwrap(), None);
    n.last_seen_ms = 6;
    s.upsert_node(&n).await.unwrap();
    assert!(s.set_draining("n1", true).await.unwrap());
    assert!(!s.set_draining("n2", true).await.unwrap());
    assert_eq!(s.touch_node("n1", 6).await.unwrap(), Some(true));
    n.draining = true;
    assert_eq!(s.nodes().await.unwrap(), vec![n]);
    s.submit(job("j", None, 0, 24), 7).await.unwrap();
    let stats = s.stats().await.unwrap();
    assert_eq!(
        stats,
        QueueStats {
            jobs: vec![(JobState::Queued, 1)],
            pending_items: 2,
            oldest_pending_ms: Some(7),
            work_by_requirement: vec![RequirementWork { requirement: String::new(), pending: 2, leased: 0 }],
        }
    );
    s.put_token(&token("abc", "admin", "admin", None, 1)).await.unwrap();
    s.put_token(&token("abc", "read", "other", None, 2)).await.unwrap();
    s.put_token(&token("def", "node", "n1", Some("n1"), 3)).await.unwrap();
    s.put_token(&token("ghi", "read", "grafana", None, 4)).await.unwrap();
    let mut tokens = vec![
        token("abc", "admin", "admin", None, 1),
        token("def", "node", "n1", Some("n1"), 3),
        token("ghi", "read", "grafana", None, 4),
    ];
    assert_eq!(s.tokens().await.unwrap(), tokens, "once each, oldest first");
    // Revoking by name leaves node credentials alone unless asked for.
    assert_eq!(s.revoke_tokens("grafana", None, 9).await.unwrap(), 1);
    assert_eq!(s.revoke_tokens("grafana", None, 10).await.unwrap(), 0, "already revoked");
    assert_eq!(s.revoke_tokens("n1", None, 10).await.unwrap(), 0, "a node credential");
    tokens[2].revoked_ms = Some(9);
    assert_eq!(s.tokens().await.unwrap(), tokens);
    // Removing a node forgets it and revokes its credential.
    assert!(s.remove_node("n1", 11).await.unwrap());
    assert!(!s.remove_node("n1", 12).await.unwrap());
    assert!(s.nodes().await.unwrap().is_empty());
    tokens[1].revoked_ms = Some(11);
    assert_eq!(s.tokens().await.unwrap(), tokens);
}

fn token(hash: &str, kind: &str, name: &str, node: Option<&str>, created_ms: i64) -> TokenRecord {
    TokenRecord {
        hash: hash.into(),
        kind: kind.into(),
        name: name.into(),
        node_id: node.map(String::from),
        created_ms,
        revoked_ms: None,
    }
}

pub async fn prune_deletes_what_ended_long_ago(s: impl Store) {
    s.submit(job("old", None, 0, 12), 0).await.unwrap();
    s.submit(job("new", None, 0, 12), 0).await.unwrap();
    s.submit(job("live", None, 0, 12), 0).await.unwrap();
    s.cancel("old", 10).await.unwrap();
    s.cancel("new", 1000).await.unwrap();
    let node = |id: &str, seen| NodeRecord {
        id: id.into(),
        name: id.into(),
        capabilities: serde_json::json!({}),
        registered_ms: 0,
        last_seen_ms: seen,
        draining: false,
    };
    s.upsert_node(&node("gone", 5)).await.unwrap();
    s.upsert_node(&node("busy", 5)).await.unwrap();
    s.upsert_node(&node("here", 2000)).await.unwrap();
    s.lease_next("busy", 20, 10_000, ANY).await.unwrap().unwrap();
    for n in ["gone", "busy", "here"] {
        s.put_token(&token(&format!("h-{n}"), "node", n, Some(n), 1)).await.unwrap();
    }
    s.put_token(&token("h-reader", "read", "grafana", None, 1)).await.unwrap();
    assert_eq!(s.prune(500, 500).await.unwrap(), Pruned { jobs: 1, nodes: 1 });
    let tokens: Vec<String> = s.tokens().await.unwrap().into_iter().map(|t| t.name).collect();
    assert_eq!(tokens, ["busy", "here", "grafana"], "a forgotten node's credential goes with it");
    assert!(s.job("old").await.unwrap().is_none() && s.items("old").await.unwrap().is_empty());
    let left: Vec<String> = s.nodes().await.unwrap().into_iter().map(|n| n.id).collect();
    assert_eq!(left, ["busy", "here"], "a node holding a lease stays");
    assert_eq!(s.list_jobs(JobQuery::oldest(10)).await.unwrap().len(), 2);
}

pub async fn concurrent_pulls_never_share_an_item(s: impl Store + Clone) {
    for i in 0..10 {
        s.submit(job(&format!("j{i}"), None, i % 3, 48), i as i64).await.unwrap();
    }
    let mut tasks = Vec::new();
    for n in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(l) = s.lease_next(&format!("n{n}"), 100, 10_000, ANY).await.unwrap() {
                got.push((l.item.id, l.fence));
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let items: std::collections::BTreeSet<i64> = all.iter().map(|a| a.0).collect();
    let fences: std::collections::BTreeSet<i64> = all.iter().map(|a| a.1).collect();
    assert_eq!((all.len(), items.len(), fences.len()), (40, 40, 40));
}

/// `migrate` from a SQLite queue into this store: every job in every state with its items as
/// they were (results bit for bit), nodes and tokens; fences handed out afterwards are past
/// every moved one; a second run moves nothing twice.
pub async fn a_queue_moves_here_whole(target: impl Store) {
    let source = SqliteStore::in_memory().await.unwrap();
    for (i, id) in ["done", "leased", "queued", "cancelled"].iter().enumerate() {
        source.submit(job(id, Some(&format!("key-{id}")), i as i32, 24), i as i64).await.unwrap();
    }
    let one = &[String::new()][..];
    for _ in 0..2 {
        let l = source.lease_next("n", 10, 1000, one).await.unwrap().unwrap();
        assert_eq!(l.job.id, "cancelled", "highest priority first");
    }
    source.cancel("cancelled", 11).await.unwrap();
    let mut last_fence = 0;
    for _ in 0..3 {
        let l = source.lease_next("n", 12, 1000, one).await.unwrap().unwrap();
        last_fence = l.fence;
        if l.job.id == "done" {
            source.complete(l.item.id, l.fence, &result(l.item.segment.start, 91.25), 13).await.unwrap();
        }
    }
    source.put_token(&token("feed", "admin", "admin", None, 1)).await.unwrap();
    source.set_job_vmaf("done", 91.25).await.unwrap();
    source
        .upsert_node(&NodeRecord {
            id: "n".into(),
            name: "gpu-1".into(),
            capabilities: serde_json::json!({"gpu_vendor": "nvidia"}),
            registered_ms: 1,
            last_seen_ms: 2,
            draining: true,
        })
        .await
        .unwrap();

    let moved = migrate(&source, &target, |_| {}).await.unwrap();
    assert_eq!((moved.jobs, moved.items, moved.nodes, moved.tokens), (4, 8, 1, 1));
    let strip = |mut j: JobRecord| {
        j.seq = 0;
        j
    };
    let (a, b) = (
        source.list_jobs(JobQuery::oldest(10)).await.unwrap(),
        target.list_jobs(JobQuery::oldest(10)).await.unwrap(),
    );
    assert_eq!(a.into_iter().map(strip).collect::<Vec<_>>(), b.into_iter().map(strip).collect::<Vec<_>>());
    for id in ["done", "leased", "queued", "cancelled"] {
        let unid = |items: Vec<ItemRecord>| {
            items
                .into_iter()
                .map(|mut i| {
                    i.id = 0;
                    i
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(unid(source.items(id).await.unwrap()), unid(target.items(id).await.unwrap()), "{id}");
    }
    assert_eq!(target.nodes().await.unwrap(), source.nodes().await.unwrap());
    assert_eq!(target.tokens().await.unwrap(), [token("feed", "admin", "admin", None, 1)]);
    // The moved lease still takes its node's result; new leases get fresh, larger fences.
    let leased =
        target.items("leased").await.unwrap().into_iter().find(|i| i.state == ItemState::Leased).unwrap();
    assert!(matches!(
        target.complete(leased.id, leased.fence, &result(0, 1.0), 20).await.unwrap(),
        Completion::Applied { .. }
    ));
    let next = target.lease_next("m", 30, 1000, one).await.unwrap().unwrap();
    assert!(next.fence > last_fence, "{} after {last_fence}", next.fence);
    let again = migrate(&source, &target, |_| {}).await.unwrap();
    assert_eq!((again.jobs, again.jobs_present), (0, 4));
}

/// Group commit: a batch answers each of its requests as if they ran one after another.
pub async fn batches_answer_each_request_in_order(s: impl Store) {
    let jobs = vec![job("a", Some("k"), 0, 24), job("b", Some("k"), 0, 12), job("c", None, 1, 12)];
    let answers = s.submit_many(jobs, 5).await.unwrap();
    let got: Vec<(&str, bool)> = answers.iter().map(|(j, c)| (j.id.as_str(), *c)).collect();
    assert_eq!(got, [("a", true), ("a", false), ("c", true)], "the key's first job answers the second");
    let pull = |node: &str, eligible: &[String]| Pull { node: node.into(), eligible: eligible.to_vec() };
    let pulls = [pull("n1", ANY), pull("n2", &[]), pull("n3", ANY), pull("n4", ANY), pull("n5", ANY)];
    let leases = s.lease_many(&pulls, 10, 1000).await.unwrap();
    let got: Vec<Option<(&str, u32, &str)>> = leases
        .iter()
        .map(|l| l.as_ref().map(|l| (l.job.id.as_str(), l.item.index, l.item.lease_node.as_deref().unwrap())))
        .collect();
    assert_eq!(got, [Some(("c", 0, "n1")), None, Some(("a", 0, "n3")), Some(("a", 1, "n4")), None]);
    let leases: Vec<Lease> = leases.into_iter().flatten().collect();
    assert!(leases.windows(2).all(|w| w[0].fence < w[1].fence));
    assert!(leases.iter().all(|l| l.job.state == JobState::Running && l.expires_ms == 1010));
    let reports: Vec<ItemResult> = leases
        .iter()
        .map(|l| ItemResult { item: l.item.id, fence: l.fence, result: result(l.item.segment.start, 50.0) })
        .chain([ItemResult { item: leases[0].item.id, fence: leases[0].fence, result: result(0, 1.0) }])
        .collect();
    let done = s.complete_many(&reports, 20).await.unwrap();
    assert_eq!(
        done,
        [
            Completion::Applied { job_id: "c".into(), job: JobState::Succeeded },
            Completion::Applied { job_id: "a".into(), job: JobState::Running },
            Completion::Applied { job_id: "a".into(), job: JobState::Succeeded },
            Completion::Stale,
        ],
        "the duplicate in the same batch is stale; only the report that ends a job sees it end"
    );
    assert_eq!(s.items("c").await.unwrap()[0].result, Some(result(0, 50.0)));
    assert_eq!(s.job("a").await.unwrap().unwrap().items_done, 2);
}
