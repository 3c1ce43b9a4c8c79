//! Several controllers on one PostgreSQL queue (active-active): nodes and clients are given
//! every controller's address; when one controller is killed mid-job, the job finishes
//! through the other with no work item lost or applied twice, and with `vmafx score`'s frames.
//! Needs the test PostgreSQL server (`make test` starts one: scripts/with-postgres.sh).

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use vmafx_proto::v1::job_service_client::JobServiceClient;
use vmafx_proto::v1::{self, JobState};

use common::cluster::{authed, ca_env, connect, fresh_database, spawn_controller, spawn_node, token, url};

fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql").args([url, "-qAt", "-c", sql]).output().expect("run psql");
    assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_controllers_one_killed_mid_job_the_other_finishes_it() {
    let store = fresh_database();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let logs = tempfile::tempdir().unwrap();
    let log = |name: &str| Stdio::from(std::fs::File::create(logs.path().join(name)).unwrap());
    let args = ["--store", store.as_str(), "--lease-ttl-ms", "3000"];
    // A controller of a shared queue does not make its own CA: clients of several
    // controllers trust one, so the certificate comes from files (`tls-init`).
    let own_ca = common::run_with_timeout(
        Command::new(common::bin("vmafx-controller")).args(args).arg("--data-dir").arg(dir_b.path()),
        std::time::Duration::from_secs(60),
    );
    assert_eq!(own_ca.status.code(), Some(2));
    let said = String::from_utf8_lossy(&own_ca.stderr);
    assert!(said.contains("vmafx-controller tls-init --dir DIR"), "{said}");
    assert!(!dir_b.path().join("tls").exists(), "it made a CA anyway");
    // A's certificate is made by `tls-init` (the test helper runs it); B serves the same
    // files.
    let a = spawn_controller(dir_a.path(), &args, log("a.log"));
    let (cert, key) = (dir_a.path().join("tls/server.pem"), dir_a.path().join("tls/server.key"));
    let files = ["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()];
    let b = spawn_controller(dir_b.path(), &[&args[..], &files].concat(), log("b.log"));
    // Both controllers, first A: nodes and the client talk to A until it goes away.
    let both = format!("{},{}", a.addr, b.addr);
    let _n1 = spawn_node(&both, dir_a.path(), "n1", &[], log("n1.log"));
    let _n2 = spawn_node(&both, dir_a.path(), "n2", &[], log("n2.log"));

    let corpus = common::corpus();
    let (r, d) = (corpus.join("mandel_720.y4m"), corpus.join("mandel_720_x264_crf35.mp4"));
    // The client submits and waits through A; B accepts A's admin token (from the store).
    let admin = token(dir_a.path(), "admin.token");
    let mut cli = Command::new(common::bin("vmafx"))
        .args(["submit", "-q", "--wait", "--format", "json", "--segment-frames", "4"])
        .args([&r, &d])
        .env("VMAFX_CONTROLLER", url(&both))
        .env("VMAFX_CA", ca_env(&both))
        .env("VMAFX_TOKEN", &admin)
        .stdout(Stdio::piped())
        .stderr(log("cli.log"))
        .spawn()
        .unwrap();

    // Mid-job: some segments done, not all.
    let mut on_b = JobServiceClient::new(connect(&b.addr).await);
    let deadline = Instant::now() + Duration::from_secs(120);
    let job = loop {
        let list = v1::ListJobsRequest::default();
        let jobs = on_b.list_jobs(authed(list, &admin)).await.unwrap().into_inner().jobs;
        if let Some(j) = jobs.first().filter(|j| j.segments_done >= 1) {
            assert!(j.segments_done < j.segments_total, "the job ended before the kill: use a longer clip");
            break j.clone();
        }
        assert!(Instant::now() < deadline, "the job never started: {jobs:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    drop(a); // SIGKILL, mid-job

    let logs_dir = logs.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + Duration::from_secs(240);
        while cli.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = cli.kill();
                let read = |f: &str| std::fs::read_to_string(logs_dir.join(f)).unwrap_or_default();
                panic!(
                    "vmafx submit --wait did not finish through B\n--- cli\n{}\n--- n1\n{}\n--- n2\n{}\n--- b\n{}",
                    read("cli.log"),
                    read("n1.log"),
                    read("n2.log"),
                    read("b.log")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        cli.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let cli_log = std::fs::read_to_string(logs.path().join("cli.log")).unwrap();
    assert!(out.status.success(), "vmafx submit --wait failed: {cli_log}");
    let remote: Value = serde_json::from_slice(&out.stdout).unwrap();
    let local = common::vmafx_json(&r, &d, &[]);
    assert_eq!(remote["frames"], local["frames"], "per-frame scores through the surviving controller");
    assert_eq!(remote["pooled_metrics"], local["pooled_metrics"]);

    let get = v1::GetJobRequest { id: job.id.clone(), include_scores: false };
    let done = on_b.get_job(authed(get, &admin)).await.unwrap().into_inner();
    assert_eq!(done.state(), JobState::Succeeded);
    assert_eq!(done.segments_done, done.segments_total);
    // Every item done, and none applied twice. The store is the witness for "done once": each
    // applied completion takes one from the job's `items_left`, so a second application of
    // any item would have ended the job early or taken the count below zero.
    let items = psql(
        &store,
        &format!(
            "SELECT count(*), count(*) FILTER (WHERE state = 'done'), \
             (SELECT items_left FROM jobs WHERE id = '{0}') FROM work_items WHERE job_id = '{0}'",
            job.id
        ),
    );
    assert_eq!(items, format!("{0}|{0}|0", done.segments_total));
    // The logs say which controller applied what. A killed controller may die between
    // committing a result and logging it, so an item may be missing from A's log, but no item
    // may be logged as applied twice.
    let mut applied = std::collections::BTreeMap::<String, usize>::new();
    for f in ["a.log", "b.log"] {
        let text = std::fs::read_to_string(logs.path().join(f)).unwrap();
        for line in text.lines().filter(|l| l.contains("segment result recorded") && l.contains(&job.id)) {
            let item = line.split_whitespace().find(|w| w.starts_with("item_id=")).unwrap().to_string();
            *applied.entry(item).or_default() += 1;
        }
    }
    assert!(applied.values().all(|&n| n == 1), "a segment's result applied twice: {applied:?}");
    assert!(applied.len() <= done.segments_total as usize, "{applied:?}");
    let b_log = std::fs::read_to_string(logs.path().join("b.log")).unwrap();
    assert!(b_log.contains("segment result recorded"), "B applied results after A died:\n{b_log}");
}

/// `vmafx-controller migrate` moves a SQLite queue with a job waiting in it to PostgreSQL:
/// refused while a controller holds the file, then done; a controller on PostgreSQL with a
/// node finishes the moved job with `vmafx score`'s frames, and the old token still works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_queue_migrates_to_postgres_and_its_job_finishes_there() {
    let data = tempfile::tempdir().unwrap();
    let state = format!("sqlite:{}", data.path().join("state.db").display());
    let corpus = common::corpus();
    let (r, d) = (corpus.join("testsrc_324.y4m"), corpus.join("testsrc_324_x264_crf35.mp4"));
    let sqlite = spawn_controller(data.path(), &["--store", &state], Stdio::null());
    let admin = token(data.path(), "admin.token");
    let mut jobs = JobServiceClient::new(connect(&sqlite.addr).await);
    let spec = v1::ScoreSpec {
        reference: r.display().to_string(),
        distorted: d.display().to_string(),
        segment_frames: 12,
        ..Default::default()
    };
    let submit = v1::SubmitJobRequest { score: Some(spec), ..Default::default() };
    let job = jobs.submit_job(authed(submit, &admin)).await.unwrap().into_inner().job.unwrap();

    let store = fresh_database();
    let migrate = || {
        common::run_with_timeout(
            Command::new(common::bin("vmafx-controller")).args(["migrate", "--from", &state, "--to", &store]),
            Duration::from_secs(60),
        )
    };
    let refused = migrate();
    assert_eq!(refused.status.code(), Some(2), "{}", String::from_utf8_lossy(&refused.stderr));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("in use by another controller"));
    drop(sqlite);
    let moved = migrate();
    let said = String::from_utf8_lossy(&moved.stdout);
    assert!(moved.status.success(), "{}", String::from_utf8_lossy(&moved.stderr));
    assert!(said.contains("moved 1 job(s) (4 work item(s))") && said.contains("2 token(s)"), "{said}");

    let pg_dir = tempfile::tempdir().unwrap();
    let pg = spawn_controller(pg_dir.path(), &["--store", &store], Stdio::null());
    let _node = spawn_node(&pg.addr, data.path(), "n", &[], Stdio::null());
    let mut jobs = JobServiceClient::new(connect(&pg.addr).await);
    let deadline = Instant::now() + Duration::from_secs(120);
    let done = loop {
        // The first controller's admin token, accepted by the new one from the store.
        let get = v1::GetJobRequest { id: job.id.clone(), include_scores: true };
        let j = jobs.get_job(authed(get, &admin)).await.unwrap().into_inner();
        if j.state() == JobState::Succeeded {
            break j;
        }
        assert!(j.state() != JobState::Failed, "{}", j.error);
        assert!(Instant::now() < deadline, "the moved job never finished: {j:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let local = common::vmafx_json(&r, &d, &[]);
    let frames = local["frames"].as_array().unwrap();
    let scores = done.scores.unwrap();
    assert_eq!(scores.frames.len(), frames.len());
    let vmaf = scores.metrics.iter().position(|m| m == "vmaf").unwrap();
    for (f, l) in scores.frames.iter().zip(frames) {
        assert_eq!(f.values[vmaf].to_bits(), l["metrics"]["vmaf"].as_f64().unwrap().to_bits());
    }
}
