//! The controller binary on a loopback port: tokens, authentication, field-named validation
//! errors, idempotent submission, and the job lifecycle through the real gRPC API.

mod common;

use std::path::Path;

use tonic::{Code, Request};
use vmafx_proto::v1::job_service_client::JobServiceClient;
use vmafx_proto::v1::node_service_client::NodeServiceClient;
use vmafx_proto::v1::{self, JobState};

use common::cluster::{authed, connect, http_get, parse_prometheus, start_controller, token};

fn spec(reference: &Path, distorted: &Path) -> v1::ScoreSpec {
    v1::ScoreSpec {
        reference: reference.display().to_string(),
        distorted: distorted.display().to_string(),
        segment_frames: 6,
        ..Default::default()
    }
}

#[tokio::test]
async fn api_authenticates_validates_and_keeps_jobs_across_restarts() {
    let data = tempfile::tempdir().unwrap();
    let clips = tempfile::tempdir().unwrap();
    let r = common::lavfi(clips.path(), "ref.y4m", "testsrc2=size=160x90:rate=24", 24, "yuv420p");
    let d = common::encode(&r, clips.path(), "dist.mp4", &["-c:v", "libx264", "-crf", "35"]);

    let ctl = start_controller(data.path(), &[]);
    let (admin, node) = (token(data.path(), "admin.token"), token(data.path(), "node.token"));
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.path().join("admin.token")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "tokens are private");
    }
    let mut jobs = JobServiceClient::new(connect(&ctl.addr).await);

    // Health checks need no token.
    assert_eq!(http_get(&ctl.http, "/healthz"), (200, "ok\n".to_string()));
    assert_eq!(http_get(&ctl.http, "/readyz").0, 200);

    // Missing, wrong and node tokens are refused on the job API.
    let list = v1::ListJobsRequest::default();
    assert_eq!(jobs.list_jobs(Request::new(list.clone())).await.unwrap_err().code(), Code::Unauthenticated);
    assert_eq!(jobs.list_jobs(authed(list.clone(), "nope")).await.unwrap_err().code(), Code::Unauthenticated);
    assert_eq!(jobs.list_jobs(authed(list.clone(), &node)).await.unwrap_err().code(), Code::PermissionDenied);

    // Bad requests name the field.
    let mut bad = spec(&r, &d);
    bad.distorted.clear();
    let err = jobs
        .submit_job(authed(v1::SubmitJobRequest { score: Some(bad), ..Default::default() }, &admin))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("score.distorted"), "{}", err.message());
    let mut bad = spec(&r, &d);
    bad.model = "vmaf_v9".into();
    let err = jobs
        .submit_job(authed(v1::SubmitJobRequest { score: Some(bad), ..Default::default() }, &admin))
        .await
        .unwrap_err();
    assert!(
        err.message().contains("score.model") && err.message().contains("vmaf_v0.6.1"),
        "{}",
        err.message()
    );
    let bad = spec(&r, &clips.path().join("missing.mp4"));
    let err = jobs
        .submit_job(authed(v1::SubmitJobRequest { score: Some(bad), ..Default::default() }, &admin))
        .await
        .unwrap_err();
    assert!(
        err.message().contains("score.distorted") && err.message().contains("missing.mp4"),
        "{}",
        err.message()
    );

    // The same idempotency key gives one job.
    let submit =
        v1::SubmitJobRequest { score: Some(spec(&r, &d)), priority: 1, idempotency_key: "abc".into() };
    let first = jobs.submit_job(authed(submit.clone(), &admin)).await.unwrap().into_inner();
    let second = jobs.submit_job(authed(submit.clone(), &admin)).await.unwrap().into_inner();
    let job = first.job.unwrap();
    assert!(first.created && !second.created);
    assert_eq!(second.job.unwrap().id, job.id);
    // The same key with another priority is another job: refused, naming the key.
    let err =
        jobs.submit_job(authed(v1::SubmitJobRequest { priority: 5, ..submit }, &admin)).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::AlreadyExists, "{err:?}");
    assert!(err.message().contains("idempotency key `abc`"), "{}", err.message());
    assert_eq!((job.total_frames, job.segments_total, job.state()), (24, 4, JobState::Queued));
    let listed = jobs.list_jobs(authed(list.clone(), &admin)).await.unwrap().into_inner();
    assert_eq!(listed.jobs.len(), 1);

    // /metrics parses as Prometheus text and counts the queue.
    let (status, text) = http_get(&ctl.http, "/metrics");
    assert_eq!(status, 200);
    let samples = parse_prometheus(&text);
    for expected in
        ["vmafx_jobs[('state', 'queued')] 1", "vmafx_queue_depth[] 4", "vmafx_nodes[('state', 'live')] 0"]
    {
        assert!(samples.iter().any(|s| s == expected), "{expected} not in {samples:?}");
    }
    assert!(samples.iter().any(|s| s.starts_with("vmafx_oldest_pending_age_seconds[] ")), "{samples:?}");

    // A node registers and takes the first segment under a lease.
    let mut nodes = NodeServiceClient::new(connect(&ctl.addr).await);
    let reg = v1::RegisterNodeRequest { name: "n1".into(), ..Default::default() };
    let registered = nodes.register_node(authed(reg, &node)).await.unwrap().into_inner();
    let (node_id, cred) = (registered.node_id, registered.credential);
    assert!(!cred.is_empty() && cred != node, "a credential of its own");
    // The join token only registers.
    let pull = v1::PullWorkRequest { node_id: node_id.clone(), wait_ms: 1000 };
    assert_eq!(
        nodes.pull_work(authed(pull.clone(), &node)).await.unwrap_err().code(),
        Code::PermissionDenied
    );
    let item = nodes.pull_work(authed(pull, &cred)).await.unwrap().into_inner().item.expect("work");
    // Another node cannot act as this one: not with its own credential, and not by
    // registering under this one's id with the join token.
    let reg2 = v1::RegisterNodeRequest { name: "n2".into(), ..Default::default() };
    let other = nodes.register_node(authed(reg2, &node)).await.unwrap().into_inner();
    let as_n1 = v1::HeartbeatRequest { node_id: node_id.clone(), leases: vec![], leaving: false };
    let err = nodes.heartbeat(authed(as_n1, &other.credential)).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{}", err.message());
    assert!(err.message().contains(&format!("not `{node_id}`")), "{}", err.message());
    let steal = v1::RegisterNodeRequest { name: "n1".into(), node_id: node_id.clone(), ..Default::default() };
    assert_eq!(nodes.register_node(authed(steal, &node)).await.unwrap_err().code(), Code::PermissionDenied);
    // Nor report on its item, even with the right fence.
    let forged = v1::ReportResultRequest {
        node_id: other.node_id.clone(),
        item_id: item.item_id,
        fence: item.fence,
        outcome: Some(v1::report_result_request::Outcome::Failure(v1::Failure {
            message: "forged".into(),
            permanent: true,
        })),
    };
    let err = nodes.report_result(authed(forged, &other.credential)).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{}", err.message());
    // It rejoins under its id with its own credential.
    let rejoin =
        v1::RegisterNodeRequest { name: "n1".into(), node_id: node_id.clone(), ..Default::default() };
    let again = nodes.register_node(authed(rejoin, &cred)).await.unwrap().into_inner();
    assert_eq!((again.node_id.as_str(), again.credential.as_str()), (node_id.as_str(), ""));
    // A node credential is no job API token.
    assert_eq!(jobs.list_jobs(authed(list.clone(), &cred)).await.unwrap_err().code(), Code::PermissionDenied);
    assert_eq!((item.job_id.as_str(), item.start, item.frames), (job.id.as_str(), 0, 6));

    // Restart the controller on the same data directory: nothing is lost.
    drop(ctl);
    let ctl = start_controller(data.path(), &[]);
    assert_eq!(token(data.path(), "admin.token"), admin, "tokens survive restarts");
    let mut jobs = JobServiceClient::new(connect(&ctl.addr).await);
    let get = v1::GetJobRequest { id: job.id.clone(), include_scores: false };
    let after = jobs.get_job(authed(get.clone(), &admin)).await.unwrap().into_inner();
    assert_eq!(after.state(), JobState::Running);
    let mut nodes = NodeServiceClient::new(connect(&ctl.addr).await);
    let stale = v1::ReportResultRequest {
        node_id: node_id.clone(),
        item_id: item.item_id,
        fence: item.fence + 1,
        outcome: Some(v1::report_result_request::Outcome::Scores(v1::Scores::default())),
    };
    assert!(
        !nodes.report_result(authed(stale, &cred)).await.unwrap().into_inner().accepted,
        "wrong fence refused"
    );

    // Cancelling ends the job; the node is told to stop its item.
    let cancelled =
        jobs.cancel_job(authed(v1::CancelJobRequest { id: job.id.clone() }, &admin)).await.unwrap();
    assert_eq!(cancelled.into_inner().state(), JobState::Cancelled);
    let hb = v1::HeartbeatRequest {
        node_id: node_id.clone(),
        leases: vec![v1::HeldLease { item_id: item.item_id, fence: item.fence }],
        leaving: false,
    };
    assert_eq!(
        nodes.heartbeat(authed(hb.clone(), &cred)).await.unwrap().into_inner().stop_items,
        vec![item.item_id]
    );
    // Removed: its credential is refused at once.
    jobs.remove_node(authed(v1::RemoveNodeRequest { id: node_id.clone() }, &admin)).await.unwrap();
    let err = nodes.heartbeat(authed(hb, &cred)).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated, "{}", err.message());
    assert!(err.message().contains("revoked"), "{}", err.message());
    let missing =
        jobs.get_job(authed(v1::GetJobRequest { id: "nope".into(), include_scores: false }, &admin)).await;
    assert_eq!(missing.unwrap_err().code(), Code::NotFound);
}

/// A job aimed at a node pool (`vmafx.io/pool`) goes only to that pool's nodes, and the
/// controller reports each pool's queue (GetQueue, `/v1/queue`, `/metrics`): what the
/// Kubernetes operator scales pools on.
#[tokio::test]
async fn pools_get_only_their_jobs_and_the_queue_is_reported_per_pool() {
    let data = tempfile::tempdir().unwrap();
    let clips = tempfile::tempdir().unwrap();
    let r = common::lavfi(clips.path(), "ref.y4m", "testsrc2=size=160x90:rate=24", 24, "yuv420p");
    let d = common::encode(&r, clips.path(), "dist.mp4", &["-c:v", "libx264", "-crf", "35"]);
    let ctl = start_controller(data.path(), &[]);
    let (admin, join) = (token(data.path(), "admin.token"), token(data.path(), "node.token"));
    let mut jobs = JobServiceClient::new(connect(&ctl.addr).await);
    let pool = |name: &str| v1::Requirements {
        labels: [("vmafx.io/pool".to_string(), name.to_string())].into(),
        ..Default::default()
    };
    // 4 items for pool a, 4 for pool b, 4 for no pool; a's job first, then b's.
    let mut ids = std::collections::BTreeMap::new();
    for (name, requirements) in [("a", Some(pool("a"))), ("b", Some(pool("b"))), ("", None)] {
        let score = v1::ScoreSpec { requirements, ..spec(&r, &d) };
        let submit = v1::SubmitJobRequest { score: Some(score), ..Default::default() };
        let job = jobs.submit_job(authed(submit, &admin)).await.unwrap().into_inner().job.unwrap();
        ids.insert(job.id, name);
    }
    let queue = |jobs: &mut JobServiceClient<_>| {
        let mut jobs = jobs.clone();
        let admin = admin.clone();
        async move {
            let q = jobs.get_queue(authed(v1::GetQueueRequest {}, &admin)).await.unwrap().into_inner();
            q.pools.iter().map(|p| (p.pool.clone(), p.pending, p.running)).collect::<Vec<_>>()
        }
    };
    let all_pending = vec![("".to_string(), 4, 0), ("a".to_string(), 4, 0), ("b".to_string(), 4, 0)];
    assert_eq!(queue(&mut jobs).await, all_pending);

    // A node of pool a takes a's items, then the unpooled ones, and never b's.
    let mut nodes = NodeServiceClient::new(connect(&ctl.addr).await);
    let caps = v1::Capabilities {
        labels: [("vmafx.io/pool".to_string(), "a".to_string())].into(),
        ..Default::default()
    };
    let reg =
        v1::RegisterNodeRequest { name: "pool-a-0".into(), capabilities: Some(caps), ..Default::default() };
    let reg = nodes.register_node(authed(reg, &join)).await.unwrap().into_inner();
    let mut took = vec![];
    loop {
        let pull = v1::PullWorkRequest { node_id: reg.node_id.clone(), wait_ms: 200 };
        let Some(item) = nodes.pull_work(authed(pull, &reg.credential)).await.unwrap().into_inner().item
        else {
            break;
        };
        took.push(ids[&item.job_id]);
    }
    assert_eq!(took, ["a", "a", "a", "a", "", "", "", ""], "pool a's node ran only a's and unpooled items");
    assert_eq!(
        queue(&mut jobs).await,
        vec![("".to_string(), 0, 4), ("a".to_string(), 0, 4), ("b".to_string(), 4, 0)]
    );

    // The same figures over HTTP and in /metrics (queued + running per pool).
    let (status, body) = common::cluster::http(&ctl.http, "GET", "/v1/queue", Some(&admin), None);
    assert_eq!(status, 200, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["pools"][2], serde_json::json!({"pool": "b", "pending": 4, "running": 0}), "{body}");
    assert_eq!(body["pending_items"], 4, "{body}");
    let samples = parse_prometheus(&http_get(&ctl.http, "/metrics").1);
    for expected in [
        "vmafx_pool_queue_depth[('pool', '')] 4",
        "vmafx_pool_queue_depth[('pool', 'a')] 4",
        "vmafx_pool_queue_depth[('pool', 'b')] 4",
        "vmafx_queue_depth[] 4",
    ] {
        assert!(samples.iter().any(|s| s == expected), "{expected} not in {samples:?}");
    }
}

#[test]
fn a_second_controller_on_the_same_data_directory_exits_2_naming_the_holder() {
    let data = tempfile::tempdir().unwrap();
    let first = start_controller(data.path(), &[]);
    for (bin, args) in [
        ("vmafx-controller", vec!["--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--data-dir"]),
        ("vmafx", vec!["up", "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--data-dir"]),
    ] {
        let out = common::run_with_timeout(
            std::process::Command::new(common::bin(bin)).args(&args).arg(data.path()),
            std::time::Duration::from_secs(30),
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bin}: {err}");
        let holder = format!("in use by another controller (pid {}", first.proc.0.id());
        assert!(err.contains(&holder), "{bin}: `{holder}` not in {err}");
    }
    // The first one is still serving.
    assert_eq!(http_get(&first.http, "/healthz").0, 200);
}

#[tokio::test]
async fn past_the_queue_size_or_rate_submissions_are_refused_with_a_hint_and_clients_back_off() {
    let data = tempfile::tempdir().unwrap();
    let corpus = common::corpus();
    let (r, d) = (corpus.join("testsrc_324.y4m"), corpus.join("testsrc_324_x264_crf35.mp4"));
    let ctl = start_controller(data.path(), &["--max-pending-items", "2"]);
    let admin = token(data.path(), "admin.token");
    let mut jobs = JobServiceClient::new(connect(&ctl.addr).await);
    let whole = v1::ScoreSpec { segment_frames: 0, ..spec(&r, &d) };
    let submit = v1::SubmitJobRequest { score: Some(whole), ..Default::default() };
    let first = jobs.submit_job(authed(submit.clone(), &admin)).await.unwrap().into_inner().job.unwrap();
    jobs.submit_job(authed(submit.clone(), &admin)).await.unwrap();
    // Two items wait and no node runs them: the third is refused, with when to try again.
    let err = jobs.submit_job(authed(submit.clone(), &admin)).await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted, "{err:?}");
    assert!(err.message().contains("the queue is full: 2 work items wait"), "{}", err.message());
    assert_eq!(err.metadata().get("retry-after-ms").unwrap(), "2000");
    let body = serde_json::json!({"score": {"reference": r, "distorted": d}}).to_string();
    let raw = raw_http(&ctl.http, &format!(
        "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    assert!(raw.starts_with("HTTP/1.1 429"), "{raw}");
    assert!(raw.to_ascii_lowercase().contains("retry-after: 2\r\n"), "{raw}");
    assert!(raw.contains("\"code\":\"resource_exhausted\""), "{raw}");

    // The CLI backs off and gets in once there is room.
    let mut cli = std::process::Command::new(common::bin("vmafx"))
        .args(["submit", "--controller", &ctl.url(), "--token", &admin])
        .env("VMAFX_CA", ctl.ca())
        .args([&r, &d])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(cli.try_wait().unwrap().is_none(), "the CLI gave up instead of backing off");
    jobs.cancel_job(authed(v1::CancelJobRequest { id: first.id }, &admin)).await.unwrap();
    let out = cli.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("job-"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // A submission rate: a burst past one second's worth waits for a token.
    let data = tempfile::tempdir().unwrap();
    let ctl = start_controller(data.path(), &["--max-submit-rate", "2"]);
    let admin = token(data.path(), "admin.token");
    let mut jobs = JobServiceClient::new(connect(&ctl.addr).await);
    jobs.submit_job(authed(submit.clone(), &admin)).await.unwrap();
    jobs.submit_job(authed(submit.clone(), &admin)).await.unwrap();
    let err = jobs.submit_job(authed(submit, &admin)).await.unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted);
    assert!(err.message().contains("over the submission rate of 2/s"), "{}", err.message());
    let wait: u64 = err.metadata().get("retry-after-ms").unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=500).contains(&wait), "{wait}");
}

/// Sends a raw HTTP/1.1 request and returns the whole answer, head included.
fn raw_http(addr: &str, request: &str) -> String {
    use std::io::{Read, Write};
    let mut s = common::cluster::http_stream(addr);
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    match s.read_to_end(&mut out) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {}
        Err(e) => panic!("{e}"),
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn a_controller_killed_during_a_burst_of_submissions_keeps_every_acknowledged_job_once() {
    let data = tempfile::tempdir().unwrap();
    let corpus = common::corpus();
    // Y4M on both sides: submissions are probed natively, so the burst is fast.
    let r = corpus.join("testsrc_324.y4m");
    let ctl = start_controller(data.path(), &[]);
    let addr = ctl.addr.clone();
    let admin = token(data.path(), "admin.token");
    const CLIENTS: i32 = 20;
    const EACH: i32 = 50;
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<i32>::new()));
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (addr, admin, r, acked) = (addr.clone(), admin.clone(), r.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            let mut jobs = JobServiceClient::new(connect(&addr).await);
            let mut unacked = Vec::new();
            for i in 0..EACH {
                // The priority tags each submission: job n has priority n.
                let n = c * EACH + i;
                let submit = v1::SubmitJobRequest {
                    score: Some(spec(&r, &r)),
                    priority: n,
                    idempotency_key: format!("burst-{n}"),
                };
                match jobs.submit_job(authed(submit, &admin)).await {
                    Ok(_) => acked.lock().unwrap().push(n),
                    Err(_) => unacked.push(n),
                }
            }
            unacked
        }));
    }
    // Kill -9 mid-burst.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while acked.lock().unwrap().len() < 200 {
        assert!(std::time::Instant::now() < deadline, "the burst never got going");
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    drop(ctl);
    let mut unacked = Vec::new();
    for t in tasks {
        unacked.extend(t.await.unwrap());
    }
    let acked = acked.lock().unwrap().clone();
    assert!(!unacked.is_empty(), "the kill came after the burst: nothing was tested");
    let ctl = start_controller(data.path(), &["--listen", &addr]);
    let mut jobs = JobServiceClient::new(connect(&ctl.addr).await);
    let count = |list: &[v1::Job]| {
        let mut by_tag = std::collections::BTreeMap::<i32, usize>::new();
        for j in list {
            *by_tag.entry(j.priority).or_default() += 1;
        }
        by_tag
    };
    let all = |jobs: &mut JobServiceClient<tonic::transport::Channel>| {
        let mut jobs = jobs.clone();
        let admin = admin.clone();
        async move {
            let req = v1::ListJobsRequest { page_size: 1000, ..Default::default() };
            jobs.list_jobs(authed(req, &admin)).await.unwrap().into_inner().jobs
        }
    };
    let after = count(&all(&mut jobs).await);
    for n in &acked {
        assert_eq!(after.get(n), Some(&1), "acknowledged job {n} is not there exactly once");
    }
    assert!(after.values().all(|&k| k == 1), "a submission was recorded twice");
    // The clients try their unacknowledged submissions again with the same keys: the burst
    // ends with every job exactly once, even those recorded but not acknowledged before the kill.
    for n in unacked {
        let submit = v1::SubmitJobRequest {
            score: Some(spec(&r, &r)),
            priority: n,
            idempotency_key: format!("burst-{n}"),
        };
        jobs.submit_job(authed(submit, &admin)).await.unwrap();
    }
    let end = count(&all(&mut jobs).await);
    assert_eq!(end.len(), (CLIENTS * EACH) as usize);
    assert!(end.values().all(|&k| k == 1));
}

#[tokio::test]
async fn a_full_data_directory_answers_unavailable_and_recovers_when_space_returns() {
    const NAME: &str = "a_full_data_directory_answers_unavailable_and_recovers_when_space_returns";
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small");
    std::fs::create_dir(&small).unwrap();
    // A size-limited tmpfs as the data directory's file system (needs root).
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
        .arg(&small)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        assert!(
            common::skip_allowed(NAME),
            "cannot mount a tmpfs (needs root); VMAFX_ALLOW_SKIP={NAME} skips this"
        );
        eprintln!("skipped: cannot mount a tmpfs");
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(small.clone());
    let corpus = common::corpus();
    let r = corpus.join("testsrc_324.y4m");
    let data = small.join("data");
    // The queue in a SQLite file on the full file system (on PostgreSQL it is the database
    // server's disk, not the controller's).
    let state = format!("sqlite:{}", data.join("state.db").display());
    let ctl = start_controller(&data, &["--store", &state]);
    let admin = token(&data, "admin.token");
    let mut jobs = JobServiceClient::new(connect(&ctl.addr).await);
    let submit =
        |n: i32| v1::SubmitJobRequest { score: Some(spec(&r, &r)), priority: n, ..Default::default() };
    let mut acked = Vec::new();
    for n in 0..3 {
        acked.push(jobs.submit_job(authed(submit(n), &admin)).await.unwrap().into_inner().job.unwrap().id);
    }
    // Fill the file system.
    let filler = small.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 << 10];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
    }
    let err = jobs.submit_job(authed(submit(10), &admin)).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable, "{err:?}");
    assert!(err.message().contains("cannot write its state"), "{}", err.message());
    let (status, body) = common::cluster::http(
        &ctl.http,
        "POST",
        "/v1/jobs",
        Some(&admin),
        Some(&serde_json::json!({"score": {"reference": r, "distorted": r}}).to_string()),
    );
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("\"code\":\"unavailable\""), "{body}");
    // Space returns: so does the service, and nothing acknowledged was lost.
    std::fs::remove_file(&filler).unwrap();
    let again = jobs.submit_job(authed(submit(11), &admin)).await.unwrap().into_inner().job.unwrap();
    let list =
        jobs.list_jobs(authed(v1::ListJobsRequest::default(), &admin)).await.unwrap().into_inner().jobs;
    let ids: Vec<&str> = list.iter().map(|j| j.id.as_str()).collect();
    for id in acked.iter().chain([&again.id]) {
        assert!(ids.contains(&id.as_str()), "{id} lost: {ids:?}");
    }
    assert_eq!(list.len(), 4, "the refused submissions recorded nothing");
    drop(ctl);
}
