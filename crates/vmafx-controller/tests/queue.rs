//! The controller's logic over a real (in-memory SQLite) store and real inputs: validation,
//! planning, leases, fencing, expiry, and split scoring that assembles into the whole run.

use std::path::Path;
use std::time::Duration;

use vmafx_controller::RetryPolicy;
use vmafx_controller::{Controller, ControllerConfig, ControllerError, JobRequest, NodeRegistration};
use vmafx_core::{Capabilities, EncodeSpec, JobState, Requirements, ScoreJobSpec, SegmentResult};
use vmafx_engine::{score_files, ScoreRequest};
use vmafx_media::DecodeOptions;
use vmafx_store::{SqliteStore, Store};

fn write_y4m(path: &Path, frames: usize, noise: u32) {
    vmafx_media::y4m::write_pattern(path, 64, 48, frames, noise).unwrap();
}

struct Fixture {
    _dir: tempfile::TempDir,
    spec: ScoreJobSpec,
}

fn fixture(frames: usize, segment_frames: Option<u64>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (r, d) = (dir.path().join("ref.y4m"), dir.path().join("dist.y4m"));
    write_y4m(&r, frames, 0);
    write_y4m(&d, frames, 30);
    let spec = ScoreJobSpec {
        reference: r.display().to_string(),
        distorted: d.display().to_string(),
        model: String::new(),
        model_path: None,
        features: vec!["psnr".into()],
        subsample: 1,
        segment_frames,
        encode: None,
        pictures: None,
        requirements: Default::default(),
        inputs: Default::default(),
        versions: Default::default(),
        estimate: None,
    };
    Fixture { _dir: dir, spec }
}

async fn controller(mut config: ControllerConfig) -> Controller<SqliteStore> {
    // The fixtures' files are in the temporary directory.
    config.input_roots = vmafx_media::AllowedRoots::new(&[std::env::temp_dir()]).unwrap();
    Controller::new(SqliteStore::in_memory().await.unwrap(), config)
}

fn request(spec: &ScoreJobSpec) -> JobRequest {
    JobRequest { spec: spec.clone(), priority: 0, idempotency_key: None, owner: "tester".into() }
}

async fn node(c: &Controller<SqliteStore>, name: &str) -> String {
    node_with(c, name, Capabilities { slots: 1, encoders: vec!["libx264".into()], ..Default::default() })
        .await
}

async fn node_with(c: &Controller<SqliteStore>, name: &str, capabilities: Capabilities) -> String {
    let reg = NodeRegistration { id: None, name: name.into(), capabilities };
    c.register(reg).await.unwrap().id
}

fn field_of(err: ControllerError) -> (String, String) {
    match err {
        ControllerError::InvalidArgument { field, message } => (field, message),
        other => panic!("expected InvalidArgument, got {other}"),
    }
}

#[tokio::test]
async fn bad_requests_name_the_field() {
    let f = fixture(4, None);
    let c = controller(ControllerConfig::default()).await;
    let mut spec = f.spec.clone();
    spec.reference.clear();
    assert_eq!(field_of(c.submit(request(&spec)).await.unwrap_err()).0, "score.reference");
    let mut spec = f.spec.clone();
    spec.distorted = "/nope/dist.mp4".into();
    let (field, msg) = field_of(c.submit(request(&spec)).await.unwrap_err());
    assert_eq!(field, "score.distorted");
    assert!(msg.contains("/nope/dist.mp4") && msg.contains("no such file"), "{msg}");
    let mut spec = f.spec.clone();
    spec.model = "vmaf_v9".into();
    let (field, msg) = field_of(c.submit(request(&spec)).await.unwrap_err());
    assert!(field == "score.model" && msg.contains("vmaf_v0.6.1"), "{msg}");
    let mut spec = f.spec.clone();
    spec.features = vec!["sharpness".into()];
    assert_eq!(field_of(c.submit(request(&spec)).await.unwrap_err()).0, "score.features");
    assert!(
        c.store().list_jobs(vmafx_store::JobQuery::oldest(10)).await.unwrap().is_empty(),
        "nothing recorded"
    );
}

#[tokio::test]
async fn jobs_are_planned_from_the_inputs_frame_counts_and_deduplicated() {
    let f = fixture(23, Some(5));
    let c = controller(ControllerConfig::default()).await;
    let req = JobRequest { idempotency_key: Some("k".into()), ..request(&f.spec) };
    let (job, created) = c.submit(req.clone()).await.unwrap();
    assert!(created);
    assert_eq!((job.total_frames, job.items_total, job.spec.model.as_str()), (23, 5, "vmaf_v0.6.1"));
    let (again, created) = c.submit(req.clone()).await.unwrap();
    assert!(!created);
    assert_eq!(again.id, job.id);
    // The same key for another spec is a conflict that names the key and the first job.
    let mut other = req;
    other.spec.subsample = 2;
    let err = c.submit(other).await.unwrap_err();
    assert!(
        matches!(&err, ControllerError::IdempotencyConflict { key, job: first } if key == "k" && *first == job.id),
        "{err}"
    );
    assert_eq!(
        c.store().list_jobs(vmafx_store::JobQuery::oldest(10)).await.unwrap().len(),
        1,
        "nothing new recorded"
    );
}

/// Runs every leased item the way a node does, spreading them over `nodes`.
async fn work_off(c: &Controller<SqliteStore>, nodes: &[String]) -> usize {
    let mut done = 0;
    for n in nodes.iter().cycle() {
        let Some(lease) = c.pull(n).await.unwrap() else { break };
        let req =
            ScoreRequest::for_job(&lease.job.spec, lease.item.segment, 1, DecodeOptions::default()).unwrap();
        let scores = score_files(&req, &mut |_| {}).unwrap().report.scores;
        assert!(c
            .report_result(
                lease.item.lease_node.as_deref().unwrap_or_default(),
                lease.item.id,
                lease.fence,
                SegmentResult { scores: scores.clone(), encode: None, pictures: vec![] }
            )
            .await
            .unwrap());
        done += 1;
    }
    done
}

#[tokio::test]
async fn split_work_over_two_nodes_assembles_into_the_whole_run() {
    let f = fixture(23, Some(6));
    let c = controller(ControllerConfig::default()).await;
    let (job, _) = c.submit(request(&f.spec)).await.unwrap();
    let nodes = [node(&c, "a").await, node(&c, "b").await];
    assert_eq!(work_off(&c, &nodes).await, 4);
    assert_eq!(c.job(&job.id).await.unwrap().state, JobState::Succeeded);
    let assembled = c.job_scores(&job.id).await.unwrap();
    let mut whole = ScoreRequest::new(&f.spec.reference, &f.spec.distorted);
    whole.features = f.spec.features.clone();
    let whole = score_files(&whole, &mut |_| {}).unwrap().report.scores;
    assert_eq!(assembled.metrics, whole.metrics);
    assert_eq!(assembled.frames.len(), 23);
    for (a, b) in assembled.frames.iter().zip(&whole.frames) {
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!((a.frame_num, bits(&a.values)), (b.frame_num, bits(&b.values)));
    }
}

/// Reports that arrive together are recorded in one store batch; the job still ends once:
/// its duration is observed once, whichever report of the batch finished it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_last_segments_finish_together_ends_once() {
    let f = fixture(24, Some(2));
    let c = controller(ControllerConfig::default()).await;
    let (job, _) = c.submit(request(&f.spec)).await.unwrap();
    let mut reports = Vec::new();
    for i in 0..job.items_total {
        let name = node(&c, &format!("n{i}")).await;
        let lease = c.pull(&name).await.unwrap().expect("one segment each");
        let req =
            ScoreRequest::for_job(&lease.job.spec, lease.item.segment, 1, DecodeOptions::default()).unwrap();
        let scores = score_files(&req, &mut |_| {}).unwrap().report.scores;
        reports.push((name, lease, SegmentResult { scores, encode: None, pictures: vec![] }));
    }
    let mut all = tokio::task::JoinSet::new();
    for (name, lease, result) in reports {
        let c = c.clone();
        all.spawn(async move { c.report_result(&name, lease.item.id, lease.fence, result).await.unwrap() });
    }
    while let Some(recorded) = all.join_next().await {
        assert!(recorded.unwrap());
    }
    assert_eq!(c.job(&job.id).await.unwrap().state, JobState::Succeeded);
    let mut out = String::new();
    c.metrics().write(&mut out);
    assert!(out.contains("vmafx_job_duration_seconds_count{state=\"succeeded\"} 1\n"), "{out}");
}

#[tokio::test]
async fn a_dead_nodes_lease_expires_and_its_late_result_is_refused() {
    let f = fixture(8, None);
    let config = ControllerConfig {
        lease_ttl_ms: 100,
        retry: RetryPolicy { max_attempts: 3, base_backoff_ms: 10, max_backoff_ms: 10 },
        ..Default::default()
    };
    let c = controller(config).await;
    let (job, _) = c.submit(request(&f.spec)).await.unwrap();
    let (dead, alive) = (node(&c, "dead").await, node(&c, "alive").await);
    let lost = c.pull(&dead).await.unwrap().unwrap();
    assert!(c.pull(&alive).await.unwrap().is_none(), "one lease per item");
    tokio::time::sleep(Duration::from_millis(150)).await;
    let expired = c.sweep().await.unwrap();
    assert_eq!(expired.len(), 1);
    let lease = c.pull_wait(&alive, Duration::from_secs(2)).await.unwrap().expect("requeued after backoff");
    assert_eq!(lease.item.id, lost.item.id);
    let req =
        ScoreRequest::for_job(&lease.job.spec, lease.item.segment, 1, DecodeOptions::default()).unwrap();
    let scores = score_files(&req, &mut |_| {}).unwrap().report.scores;
    assert!(
        !c.report_result(
            lost.item.lease_node.as_deref().unwrap_or_default(),
            lost.item.id,
            lost.fence,
            SegmentResult { scores: scores.clone(), encode: None, pictures: vec![] }
        )
        .await
        .unwrap(),
        "stale fence refused"
    );
    assert_eq!(c.heartbeat(&dead, &[(lost.item.id, lost.fence)]).await.unwrap(), vec![lost.item.id]);
    assert!(c
        .report_result(
            lease.item.lease_node.as_deref().unwrap_or_default(),
            lease.item.id,
            lease.fence,
            SegmentResult { scores: scores.clone(), encode: None, pictures: vec![] }
        )
        .await
        .unwrap());
    assert_eq!(c.job(&job.id).await.unwrap().state, JobState::Succeeded);
}

#[tokio::test]
async fn a_permanent_failure_fails_the_job_with_the_reason() {
    let f = fixture(4, None);
    let c = controller(ControllerConfig::default()).await;
    let (job, _) = c.submit(request(&f.spec)).await.unwrap();
    let n = node(&c, "n").await;
    let lease = c.pull(&n).await.unwrap().unwrap();
    assert!(c
        .report_failure(
            lease.item.lease_node.as_deref().unwrap_or_default(),
            lease.item.id,
            lease.fence,
            "distorted `x`: no such file",
            true
        )
        .await
        .unwrap());
    let failed = c.job(&job.id).await.unwrap();
    assert_eq!(failed.state, JobState::Failed);
    assert!(failed.error.unwrap().contains("no such file"));
    assert!(matches!(c.job_scores(&job.id).await, Err(ControllerError::NoResult { .. })));
}

#[tokio::test]
async fn a_long_poll_wakes_on_submission() {
    let f = fixture(4, None);
    let c = controller(ControllerConfig::default()).await;
    let n = node(&c, "n").await;
    let waiter = {
        let c = c.clone();
        tokio::spawn(async move { c.pull_wait(&n, Duration::from_secs(10)).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = std::time::Instant::now();
    c.submit(request(&f.spec)).await.unwrap();
    let lease = waiter.await.unwrap().unwrap();
    assert!(lease.is_some());
    assert!(started.elapsed() < Duration::from_secs(5), "woke on the submission, not the deadline");
    assert!(matches!(c.pull("ghost").await, Err(ControllerError::UnknownNode(_))));
}

#[tokio::test]
async fn work_goes_only_to_nodes_that_meet_its_requirements() {
    let f = fixture(4, None);
    let c = controller(ControllerConfig::default()).await;
    let cpu = node(&c, "cpu").await;
    let gpu = node_with(
        &c,
        "gpu",
        Capabilities {
            gpu_vendor: "nvidia".into(),
            gpu_model: "H100".into(),
            encoders: vec!["libx264".into(), "libsvtav1".into()],
            labels: [("zone".to_string(), "eu".to_string())].into(),
            encoder_options: vec![vmafx_core::EncoderDescription {
                encoder: "libsvtav1".into(),
                pix_fmts: vec!["yuv420p".into(), "yuv420p10le".into()],
                options: vec![vmafx_core::encode::EncoderOption {
                    name: "tile_columns".into(),
                    kind: "int".into(),
                    constants: vec![],
                }],
            }],
            ..Default::default()
        },
    )
    .await;
    // A GPU job first, then an unconstrained one: the CPU node skips the first.
    let mut on_gpu = f.spec.clone();
    on_gpu.requirements = Requirements { gpu_vendor: Some("nvidia".into()), ..Default::default() };
    let (gpu_job, _) = c.submit(request(&on_gpu)).await.unwrap();
    let (any_job, _) = c.submit(request(&f.spec)).await.unwrap();
    assert_eq!(c.pull(&cpu).await.unwrap().unwrap().job.id, any_job.id);
    assert!(c.pull(&cpu).await.unwrap().is_none(), "only GPU work is left");
    assert_eq!(c.pull(&gpu).await.unwrap().unwrap().job.id, gpu_job.id);

    // An encode job needs its encoder; its options are checked against what the nodes that
    // have it reported.
    let mut encode = f.spec.clone();
    let svt = EncodeSpec {
        encoder: "libsvtav1".into(),
        crf: Some(40.0),
        options: [("tile_columns".to_string(), "2".to_string())].into(),
        ..Default::default()
    };
    for (option, value, problem) in [
        ("tile_rows", "2", "libsvtav1 has no option `-tile_rows`"),
        ("tile_columns", "two", "`two` is not a valid int"),
    ] {
        encode.encode =
            Some(EncodeSpec { options: [(option.to_string(), value.to_string())].into(), ..svt.clone() });
        let refused = field_of(c.submit(request(&encode)).await.unwrap_err());
        assert_eq!(refused.0, format!("score.encode.options.{option}"));
        assert!(refused.1.contains(problem), "{refused:?}");
    }
    encode.encode = Some(EncodeSpec { pix_fmt: Some("yuv444p".into()), ..svt.clone() });
    assert!(field_of(c.submit(request(&encode)).await.unwrap_err()).1.contains("takes yuv420p yuv420p10le"));
    encode.encode = Some(svt);
    let (job, _) = c.submit(request(&encode)).await.unwrap();
    assert_eq!(job.spec.requirements.encoder.as_deref(), Some("libsvtav1"));
    assert!(c.pull(&cpu).await.unwrap().is_none(), "no libsvtav1 on the CPU node");
    assert_eq!(c.pull(&gpu).await.unwrap().unwrap().job.id, job.id);

    // Labels must match; unknown vendors are refused with the field named.
    let mut in_us = f.spec.clone();
    in_us.requirements.labels = [("zone".to_string(), "us".to_string())].into();
    c.submit(request(&in_us)).await.unwrap();
    assert!(c.pull(&gpu).await.unwrap().is_none() && c.pull(&cpu).await.unwrap().is_none());
    let mut bad = f.spec.clone();
    bad.requirements.gpu_vendor = Some("3dfx".into());
    assert_eq!(field_of(c.submit(request(&bad)).await.unwrap_err()).0, "score.requirements.gpu_vendor");
}

#[tokio::test]
async fn a_result_that_does_not_cover_its_segment_fails_the_attempt_with_the_reason() {
    let f = fixture(4, None);
    let config = ControllerConfig {
        retry: RetryPolicy { max_attempts: 2, base_backoff_ms: 1, max_backoff_ms: 1 },
        ..Default::default()
    };
    let c = controller(config).await;
    let (job, _) = c.submit(request(&f.spec)).await.unwrap();
    let n = node(&c, "n").await;
    let lease = c.pull(&n).await.unwrap().unwrap();
    let req =
        ScoreRequest::for_job(&lease.job.spec, lease.item.segment, 1, DecodeOptions::default()).unwrap();
    let mut scores = score_files(&req, &mut |_| {}).unwrap().report.scores;
    let good = scores.clone();
    scores.frames.pop();
    let (field, message) = field_of(
        c.report_result(
            lease.item.lease_node.as_deref().unwrap_or_default(),
            lease.item.id,
            lease.fence,
            SegmentResult { scores: scores.clone(), encode: None, pictures: vec![] },
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((field.as_str(), message.as_str()), ("scores", "segment 0..4 result stops before frame 3"));
    // The attempt failed (not the job): the item is retried and a whole result is taken.
    let items = c.store().items(&job.id).await.unwrap();
    assert_eq!(items[0].attempts, 1);
    assert!(
        items[0].last_error.as_deref().unwrap().contains("refused result: segment 0..4"),
        "{:?}",
        items[0]
    );
    let again = c.pull_wait(&n, Duration::from_secs(2)).await.unwrap().expect("retried");
    assert_eq!(again.item.id, lease.item.id);
    assert!(c
        .report_result(
            again.item.lease_node.as_deref().unwrap_or_default(),
            again.item.id,
            again.fence,
            SegmentResult { scores: good.clone(), encode: None, pictures: vec![] }
        )
        .await
        .unwrap());
}

#[tokio::test]
async fn retention_prunes_ended_jobs_and_gone_nodes_and_keeps_live_work() {
    let f = fixture(4, None);
    let config = ControllerConfig { retain: Some(Duration::from_millis(50)), ..Default::default() };
    let c = controller(config).await;
    // Rounds of a steady load: each ends its jobs; after pruning, nothing is left over.
    for round in 0..3 {
        let mut ids = Vec::new();
        for _ in 0..20 {
            ids.push(c.submit(request(&f.spec)).await.unwrap().0.id);
        }
        for id in &ids {
            c.cancel(id, None).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(80)).await;
        let pruned = c.prune().await.unwrap();
        assert_eq!(pruned.jobs, 20, "round {round}");
        assert!(
            c.store().list_jobs(vmafx_store::JobQuery::oldest(100)).await.unwrap().is_empty(),
            "round {round}"
        );
        assert!(matches!(c.job(&ids[0]).await, Err(ControllerError::JobNotFound(_))));
    }
    // A running job and the node holding its lease stay, however old.
    let (running, _) = c.submit(request(&f.spec)).await.unwrap();
    let busy = node(&c, "busy").await;
    let gone = node(&c, "gone").await;
    assert!(c.pull(&busy).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(80)).await;
    let pruned = c.prune().await.unwrap();
    assert_eq!((pruned.jobs, pruned.nodes), (0, 1));
    let nodes: Vec<String> = c.store().nodes().await.unwrap().into_iter().map(|n| n.id).collect();
    assert_eq!(nodes, [busy], "the idle node {gone} went, the busy one stayed");
    assert_eq!(c.job(&running.id).await.unwrap().state, JobState::Running);
}
