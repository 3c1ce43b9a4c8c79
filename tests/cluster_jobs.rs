//! Scoring jobs through the real controller and node binaries on loopback: split work is
//! bit-identical to `vmafx score`, and a node killed mid-segment does not lose the job.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use tonic::transport::Channel;
use tonic::Request;
use vmafx_proto::v1::job_service_client::JobServiceClient;
use vmafx_proto::v1::{self, JobState};

use common::cluster::{self, ca_env, connect, start_controller, start_node, token, url, Proc};

fn controller(data: &Path, extra: &[&str]) -> (Proc, String) {
    let c = start_controller(data, extra);
    (c.proc, c.addr)
}

fn node(addr: &str, data: &Path, name: &str) -> Proc {
    start_node(addr, data, name)
}

fn authed<T>(msg: T, data: &Path) -> Request<T> {
    cluster::authed(msg, &token(data, "admin.token"))
}

async fn client(addr: &str) -> JobServiceClient<Channel> {
    JobServiceClient::new(connect(addr).await)
}

/// Submits a whole-video job and waits until a node has taken it.
async fn submit_running(jobs: &mut JobServiceClient<Channel>, data: &Path, r: &Path, d: &Path) -> v1::Job {
    let spec = v1::ScoreSpec {
        reference: r.display().to_string(),
        distorted: d.display().to_string(),
        ..Default::default()
    };
    let submit = v1::SubmitJobRequest { score: Some(spec), ..Default::default() };
    let job = jobs.submit_job(authed(submit, data)).await.unwrap().into_inner().job.unwrap();
    wait_for(jobs, data, &job.id, JobState::Running).await;
    job
}

/// Submits a job split into segments of `segment_frames` (0: one segment).
async fn submit_segmented(
    jobs: &mut JobServiceClient<Channel>,
    data: &Path,
    (r, d): (&Path, &Path),
    segment_frames: u64,
) -> v1::Job {
    let spec = v1::ScoreSpec {
        reference: r.display().to_string(),
        distorted: d.display().to_string(),
        segment_frames,
        ..Default::default()
    };
    let submit = v1::SubmitJobRequest { score: Some(spec), ..Default::default() };
    jobs.submit_job(authed(submit, data)).await.unwrap().into_inner().job.unwrap()
}

/// Polls a job until it is in `state`; fails the test if it ends in another.
async fn wait_for(jobs: &mut JobServiceClient<Channel>, data: &Path, id: &str, state: JobState) -> v1::Job {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let get = v1::GetJobRequest { id: id.into(), include_scores: true };
        let job = jobs.get_job(authed(get, data)).await.unwrap().into_inner();
        if job.state() == state {
            return job;
        }
        assert!(
            !matches!(job.state(), JobState::Failed | JobState::Cancelled),
            "job ended {:?}: {}",
            job.state(),
            job.error
        );
        assert!(Instant::now() < deadline, "job still {:?}", job.state());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Asserts the cluster's per-frame scores equal `vmafx score`'s bit for bit.
fn assert_same_as_local(scores: &v1::Scores, local: &Value) {
    let frames = local["frames"].as_array().unwrap();
    assert_eq!(scores.frames.len(), frames.len());
    for (f, l) in scores.frames.iter().zip(frames) {
        assert_eq!(f.frame_num, l["frameNum"].as_u64().unwrap());
        for (name, value) in scores.metrics.iter().zip(&f.values) {
            if value.is_nan() {
                assert!(l["metrics"].get(name).is_none());
            } else {
                assert_eq!(
                    l["metrics"][name].as_f64().unwrap().to_bits(),
                    value.to_bits(),
                    "frame {} {name}",
                    f.frame_num
                );
            }
        }
    }
}

#[tokio::test]
async fn four_segments_over_two_nodes_equal_local_scoring() {
    let data = tempfile::tempdir().unwrap();
    let corpus = common::corpus();
    let (r, d) = (corpus.join("testsrc_324.y4m"), corpus.join("testsrc_324_x264_crf35.mp4"));
    let (_ctl, addr) = controller(data.path(), &[]);
    let _a = node(&addr, data.path(), "a");
    let _b = node(&addr, data.path(), "b");
    let mut jobs = client(&addr).await;
    let spec = v1::ScoreSpec {
        reference: r.display().to_string(),
        distorted: d.display().to_string(),
        features: vec!["psnr".into(), "float_ssim".into()],
        segment_frames: 12,
        ..Default::default()
    };
    let submit = v1::SubmitJobRequest { score: Some(spec), ..Default::default() };
    let job = jobs.submit_job(authed(submit, data.path())).await.unwrap().into_inner().job.unwrap();
    assert_eq!(job.segments_total, 4);
    let done = wait_for(&mut jobs, data.path(), &job.id, JobState::Succeeded).await;
    let local = common::vmafx_json(&r, &d, &["--feature", "psnr", "--feature", "float_ssim"]);
    assert_same_as_local(done.scores.as_ref().unwrap(), &local);
}

#[tokio::test]
async fn inputs_the_controller_did_not_probe_are_scored_whole() {
    // Without a probe the controller knows no length: the one work item is the whole video
    // (it once was its first frame, reported as a success).
    let data = tempfile::tempdir().unwrap();
    let corpus = common::corpus();
    let (r, d) = (corpus.join("testsrc_324.y4m"), corpus.join("testsrc_324_x264_crf35.mp4"));
    let (_ctl, addr) = controller(data.path(), &["--no-probe-inputs"]);
    let _n = node(&addr, data.path(), "n");
    let mut jobs = client(&addr).await;
    let job = submit_segmented(&mut jobs, data.path(), (&r, &d), 12).await;
    assert_eq!(job.segments_total, 1);
    let done = wait_for(&mut jobs, data.path(), &job.id, JobState::Succeeded).await;
    let local = common::vmafx_json(&r, &d, &[]);
    assert_same_as_local(done.scores.as_ref().unwrap(), &local);
    // A frame limit still holds for the whole video.
    let spec = v1::ScoreSpec {
        reference: r.display().to_string(),
        distorted: d.display().to_string(),
        max_frames: 10,
        ..Default::default()
    };
    let submit = v1::SubmitJobRequest { score: Some(spec), ..Default::default() };
    let job = jobs.submit_job(authed(submit, data.path())).await.unwrap().into_inner().job.unwrap();
    let done = wait_for(&mut jobs, data.path(), &job.id, JobState::Succeeded).await;
    assert_eq!(done.scores.unwrap().frames.len(), 10);
}

#[tokio::test]
async fn a_node_paused_past_its_lease_is_overtaken_and_its_late_result_refused() {
    let data = tempfile::tempdir().unwrap();
    let corpus = common::corpus();
    let (r, d) = (corpus.join("mandel_1080.y4m"), corpus.join("mandel_1080_x264_crf45.mp4"));
    let (_ctl, addr) = controller(data.path(), &["--lease-ttl-ms", "1500"]);
    let log = data.path().join("paused.log");
    let paused =
        cluster::spawn_node(&addr, data.path(), "paused", &[], std::fs::File::create(&log).unwrap().into());
    let mut jobs = client(&addr).await;
    let job = submit_running(&mut jobs, data.path(), &r, &d).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while common::children(paused.0.id(), "ffmpeg").is_empty() {
        assert!(Instant::now() < deadline, "the node never started ffmpeg");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A stop-the-world pause (GC, VM migration, SIGSTOP) mid-segment, past its lease.
    let signal = |sig: &str| Command::new("kill").args([sig, &paused.0.id().to_string()]).status().unwrap();
    signal("-STOP");
    let _healthy = node(&addr, data.path(), "healthy");
    let done = wait_for(&mut jobs, data.path(), &job.id, JobState::Succeeded).await;
    let local = common::vmafx_json(&r, &d, &[]);
    assert_same_as_local(done.scores.as_ref().unwrap(), &local);
    // Resumed, the paused node learns its lease went elsewhere: its work is stopped or its
    // report refused, and the job's scores do not change.
    signal("-CONT");
    let deadline = Instant::now() + Duration::from_secs(30);
    let said = loop {
        let text = std::fs::read_to_string(&log).unwrap();
        if text.contains("refused the result of item")
            || text.contains("cancelled or reassigned; stopping it")
        {
            break text;
        }
        assert!(Instant::now() < deadline, "the resumed node said nothing of its lost lease:\n{text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let get = v1::GetJobRequest { id: job.id.clone(), include_scores: true };
    let after = jobs.get_job(authed(get, data.path())).await.unwrap().into_inner();
    assert_eq!(after.state(), JobState::Succeeded, "{said}");
    assert_same_as_local(after.scores.as_ref().unwrap(), &local);
}

#[tokio::test]
async fn every_log_line_of_a_job_s_life_carries_its_ids_in_json() {
    let data = tempfile::tempdir().unwrap();
    let corpus = common::corpus();
    let (r, d) = (corpus.join("testsrc_324.y4m"), corpus.join("testsrc_324_x264_crf35.mp4"));
    let (ctl_log, node_log) = (data.path().join("controller.log"), data.path().join("node.log"));
    let ctl_stderr = std::fs::File::create(&ctl_log).unwrap().into();
    let ctl = cluster::spawn_controller(data.path(), &["--log-format", "json"], ctl_stderr);
    let addr = ctl.addr.clone();
    let log_file = std::fs::File::create(&node_log).unwrap().into();
    let _node = cluster::spawn_node(&addr, data.path(), "logged", &["--log-format", "json"], log_file);
    let mut jobs = client(&addr).await;
    let job = submit_segmented(&mut jobs, data.path(), (&r, &d), 12).await;
    wait_for(&mut jobs, data.path(), &job.id, JobState::Succeeded).await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // A field of an event, or of the span it happened in.
    fn field<'a>(line: &'a Value, name: &str) -> Option<&'a Value> {
        line["fields"].get(name).or_else(|| line["span"].get(name))
    }
    let read = |path: &Path| -> Vec<Value> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}")))
            .collect()
    };
    for (who, lines) in [("controller", read(&ctl_log)), ("node", read(&node_log))] {
        let about_items: Vec<&Value> = lines.iter().filter(|l| field(l, "item_id").is_some()).collect();
        for l in &about_items {
            for id in ["job_id", "node_id"] {
                assert!(field(l, id).is_some(), "{who}: a line about an item without {id}: {l}");
            }
        }
        let of_job = |message: &str| {
            about_items
                .iter()
                .filter(|l| {
                    l["fields"]["message"] == message && field(l, "job_id").unwrap() == job.id.as_str()
                })
                .count()
        };
        match who {
            "controller" => {
                assert_eq!(of_job("item leased"), 4, "{lines:#?}");
                assert_eq!(of_job("segment result recorded"), 4);
                for m in ["job submitted", "job ended"] {
                    assert!(
                        lines
                            .iter()
                            .any(|l| l["fields"]["message"] == m && l["fields"]["job_id"] == job.id.as_str()),
                        "no `{m}` line for the job"
                    );
                }
            }
            _ => {
                assert_eq!(of_job("item started"), 4, "{lines:#?}");
                assert_eq!(of_job("item scored"), 4);
            }
        }
    }
}

#[tokio::test]
async fn a_node_killed_mid_segment_does_not_lose_the_job() {
    let data = tempfile::tempdir().unwrap();
    let corpus = common::corpus();
    let (r, d) = (corpus.join("mandel_1080.y4m"), corpus.join("mandel_1080_x264_crf45.mp4"));
    let (_ctl, addr) = controller(data.path(), &["--lease-ttl-ms", "1500"]);
    let mut doomed = node(&addr, data.path(), "doomed");
    let mut jobs = client(&addr).await;
    let job = submit_running(&mut jobs, data.path(), &r, &d).await;
    tokio::time::sleep(Duration::from_millis(500)).await; // well inside the segment
    doomed.0.kill().unwrap(); // SIGKILL: no goodbye, the lease just stops being renewed
    doomed.0.wait().unwrap();
    let _survivor = node(&addr, data.path(), "survivor");
    let done = wait_for(&mut jobs, data.path(), &job.id, JobState::Succeeded).await;
    let local = common::vmafx_json(&r, &d, &[]);
    assert_same_as_local(done.scores.as_ref().unwrap(), &local);
}

#[tokio::test]
async fn ffmpeg_killed_on_a_node_mid_segment_is_retried_and_the_job_succeeds() {
    let data = tempfile::tempdir().unwrap();
    let corpus = common::corpus();
    let (r, d) = (corpus.join("mandel_1080.y4m"), corpus.join("mandel_1080_x264_crf23.mp4"));
    let (_ctl, addr) = controller(data.path(), &[]);
    let n = node(&addr, data.path(), "n");
    let mut jobs = client(&addr).await;
    let job = submit_running(&mut jobs, data.path(), &r, &d).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let victims = loop {
        let found = common::children(n.0.id(), "ffmpeg");
        if !found.is_empty() {
            break found;
        }
        assert!(Instant::now() < deadline, "the node never started ffmpeg");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // As the out-of-memory killer would: the node's trouble, not the input's.
    for pid in victims {
        Command::new("kill").args(["-9", &pid.to_string()]).status().unwrap();
    }
    let done = wait_for(&mut jobs, data.path(), &job.id, JobState::Succeeded).await;
    assert_same_as_local(done.scores.as_ref().unwrap(), &common::vmafx_json(&r, &d, &[]));
}

#[tokio::test]
async fn a_decode_that_makes_no_progress_fails_its_attempts_with_the_reason() {
    let data = tempfile::tempdir().unwrap();
    let corpus = common::corpus();
    let (r, d) = (corpus.join("testsrc_324.y4m"), corpus.join("testsrc_324_x264_crf35.mp4"));
    // An ffmpeg that lists its encoders but never produces a frame (a decode hung on a dead
    // mount looks like this to the node).
    let stuck = data.path().join("stuck-ffmpeg");
    std::fs::write(
        &stuck,
        "#!/bin/sh\ncase \"$*\" in *-encoders*) exec ffmpeg \"$@\";; esac\nexec sleep 600\n",
    )
    .unwrap();
    Command::new("chmod").args(["755", stuck.to_str().unwrap()]).status().unwrap();
    let (_ctl, addr) = controller(data.path(), &["--max-attempts", "2"]);
    let stuck_args = ["--ffmpeg", stuck.to_str().unwrap(), "--stall-timeout", "2s"];
    let n = cluster::spawn_node(&addr, data.path(), "stuck", &stuck_args, std::process::Stdio::null());
    let mut jobs = client(&addr).await;
    let job = submit_segmented(&mut jobs, data.path(), (&r, &d), 0).await;
    let failed = wait_for(&mut jobs, data.path(), &job.id, JobState::Failed).await;
    // Retried once (node trouble is not bad input), then failed with the reason.
    assert!(failed.error.contains("after 2 attempt(s)"), "{}", failed.error);
    assert!(failed.error.contains("no progress for 2 s (--stall-timeout)"), "{}", failed.error);
    // The stuck decoder was stopped, not left behind.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let leftovers: Vec<u32> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|s| s.split_whitespace().nth(3) == Some(&n.0.id().to_string()))
        })
        .collect();
    assert!(leftovers.is_empty(), "children of the node still running: {leftovers:?}");
}

#[tokio::test]
async fn cancel_mid_segment_stops_the_nodes_ffmpeg_within_2_s() {
    let data = tempfile::tempdir().unwrap();
    let corpus = common::corpus();
    let (r, d) = (corpus.join("mandel_1080.y4m"), corpus.join("mandel_1080_x264_crf23.mp4"));
    let (_ctl, addr) = controller(data.path(), &["--lease-ttl-ms", "1500"]);
    let n = node(&addr, data.path(), "n");
    let mut jobs = client(&addr).await;
    let job = submit_running(&mut jobs, data.path(), &r, &d).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while common::children(n.0.id(), "ffmpeg").is_empty() {
        assert!(Instant::now() < deadline, "the node never started ffmpeg");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cancelled =
        jobs.cancel_job(authed(v1::CancelJobRequest { id: job.id.clone() }, data.path())).await.unwrap();
    let at = Instant::now();
    assert_eq!(cancelled.into_inner().state(), JobState::Cancelled);
    while !common::children(n.0.id(), "ffmpeg").is_empty() {
        assert!(
            at.elapsed() < Duration::from_secs(2),
            "ffmpeg still running {:?} after cancel",
            at.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let get = v1::GetJobRequest { id: job.id.clone(), include_scores: false };
    let after = jobs.get_job(authed(get, data.path())).await.unwrap().into_inner();
    assert_eq!(
        (after.state(), after.segments_done),
        (JobState::Cancelled, 0),
        "no result recorded after the cancel"
    );
}

/// Kills the controller mid-job, keeps it down for `down`, restarts it on the same data
/// directory and port, and checks that the job finishes with `vmafx score`'s frames and that
/// the node waited instead of giving up.
async fn controller_away_mid_job(down: Duration) {
    let data = tempfile::tempdir().unwrap();
    let corpus = common::corpus();
    let (r, d) = (corpus.join("mandel_720.y4m"), corpus.join("mandel_720_x264_crf35.mp4"));
    let (ctl, addr) = controller(data.path(), &["--lease-ttl-ms", "3000"]);
    let mut n = node(&addr, data.path(), "n");
    let mut jobs = client(&addr).await;
    let job = submit_segmented(&mut jobs, data.path(), (&r, &d), 8).await;
    wait_for(&mut jobs, data.path(), &job.id, JobState::Running).await;
    drop(ctl); // SIGKILL
    tokio::time::sleep(down).await;
    assert!(n.0.try_wait().unwrap().is_none(), "the node gave up on the controller");
    let (_ctl, addr2) = controller(data.path(), &["--lease-ttl-ms", "3000", "--listen", &addr]);
    assert_eq!(addr2, addr);
    let mut jobs = client(&addr).await;
    let done = wait_for(&mut jobs, data.path(), &job.id, JobState::Succeeded).await;
    assert_eq!(done.segments_done, 6);
    assert_same_as_local(done.scores.as_ref().unwrap(), &common::vmafx_json(&r, &d, &[]));
}

#[tokio::test]
async fn a_controller_restart_mid_job_loses_nothing() {
    controller_away_mid_job(Duration::from_millis(300)).await;
}

#[tokio::test]
async fn nodes_wait_out_a_controller_that_is_down_for_many_lease_periods() {
    // Over six lease periods, and past the 16 s after which nodes used to quit.
    controller_away_mid_job(Duration::from_secs(20)).await;
}

#[tokio::test]
async fn an_input_the_node_cannot_read_fails_the_job_with_the_reason() {
    let data = tempfile::tempdir().unwrap();
    let corpus = common::corpus();
    let (_ctl, addr) = controller(data.path(), &["--no-probe-inputs"]);
    let _n = node(&addr, data.path(), "n");
    let mut jobs = client(&addr).await;
    // Under the node's roots, but not there.
    let (r, d) = (corpus.join("testsrc_324.y4m"), data.path().join("nowhere/dist.mp4"));
    let job = submit_segmented(&mut jobs, data.path(), (&r, &d), 0).await;
    let failed = wait_for(&mut jobs, data.path(), &job.id, JobState::Failed).await;
    assert!(
        failed.error.contains("nowhere/dist.mp4") && failed.error.contains("no such file"),
        "{}",
        failed.error
    );
    // Following a failed job ends in exit code 1 with the reason.
    let watched = common::run_with_timeout(
        Command::new(common::bin("vmafx"))
            .args(["jobs", "watch", &job.id, "--controller", &url(&addr)])
            .env("VMAFX_CA", ca_env(&addr))
            .env("VMAFX_TOKEN", token(data.path(), "admin.token")),
        Duration::from_secs(60),
    );
    let stderr = String::from_utf8_lossy(&watched.stderr);
    assert_eq!(watched.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("job {} failed", job.id)) && stderr.contains("no such file"),
        "{stderr}"
    );
}

/// Lines a child writes on stderr, as they come.
fn stderr_lines(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

/// Waits for a line containing `text`; returns every line seen up to it.
fn wait_line(lines: &std::sync::mpsc::Receiver<String>, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                seen += &line;
                seen.push('\n');
                if line.contains(text) {
                    return seen;
                }
            }
            Err(_) => panic!("no line with `{text}` within a minute; saw:\n{seen}"),
        }
    }
}

#[test]
fn jobs_from_the_cli_show_scores_hints_exit_codes_and_gone_nodes() {
    let data = tempfile::tempdir().unwrap();
    let corpus = common::corpus();
    let (r, d) = (corpus.join("testsrc_324.y4m"), corpus.join("testsrc_324_x264_crf45.mp4"));
    let (rs, ds) = (r.to_str().unwrap(), d.to_str().unwrap());
    let (_ctl, addr) = controller(data.path(), &[]);
    // The node finds its token in the controller's data directory, as the CLI does.
    let mut node_a = Proc(
        Command::new(common::bin("vmafx-node"))
            .args(["--controller", &url(&addr), "--name", "a", "--threads", "1"])
            .args(cluster::test_roots())
            .env_remove("VMAFX_TOKEN")
            .env("VMAFX_DATA_DIR", data.path())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let admin = token(data.path(), "admin.token");
    let vmafx = || {
        let mut c = Command::new(common::bin("vmafx"));
        c.env("VMAFX_CONTROLLER", url(&addr)).env("VMAFX_TOKEN", &admin).env("VMAFX_CA", ca_env(&addr));
        c
    };
    let cli = |args: &[&str]| common::run_with_timeout(vmafx().args(args), Duration::from_secs(120));

    // A job no node can run: `submit --wait` says its id and what it waits for; Ctrl-C stops
    // following (exit 130) and says the job stays, and how to cancel it.
    let mut waiting = vmafx()
        .args(["submit", "--wait", "--label", "pool=gpu", rs, ds])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines = stderr_lines(&mut waiting);
    let first = wait_line(&lines, "following it");
    let queued = first.split_whitespace().nth(1).unwrap().to_string();
    assert!(queued.starts_with("job-"), "{first}");
    wait_line(&lines, "waiting for a node with label pool=gpu: none of the 1 live node has it");
    assert!(Command::new("kill").args(["-INT", &waiting.id().to_string()]).status().unwrap().success());
    let said = wait_line(&lines, "stopped following");
    assert_eq!(waiting.wait().unwrap().code(), Some(130));
    assert!(said.contains(&format!("vmafx jobs cancel {queued}")), "{said}");
    let listed = String::from_utf8_lossy(&cli(&["jobs", "list"]).stdout).to_string();
    assert!(listed.lines().any(|l| l.contains(&queued) && l.contains("queued")), "{listed}");
    assert!(cli(&["jobs", "cancel", &queued]).status.success());
    let watched = cli(&["jobs", "watch", &queued]);
    assert_eq!(
        watched.status.code(),
        Some(3),
        "a cancelled job: {}",
        String::from_utf8_lossy(&watched.stderr)
    );

    // A job that succeeds: `jobs watch` exits 0; `jobs get` shows the pooled scores, and with
    // --frames every frame's.
    let out = cli(&["submit", "--segment-frames", "10", rs, ds]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let watched = cli(&["jobs", "watch", &id]);
    assert!(watched.status.success(), "{}", String::from_utf8_lossy(&watched.stderr));
    let local = common::vmafx_json(&r, &d, &[]);
    let mean = local["pooled_metrics"]["vmaf"]["mean"].as_f64().unwrap();
    let frames = local["frames"].as_array().unwrap().len();
    assert!(String::from_utf8_lossy(&watched.stdout).contains(&format!("succeeded, VMAF {mean:.3}")));
    let got = String::from_utf8_lossy(&cli(&["jobs", "get", &id]).stdout).to_string();
    assert!(got.contains(&format!("VMAF {mean:.3}")) && got.contains("succeeded"), "{got}");
    let with_frames = String::from_utf8_lossy(&cli(&["jobs", "get", &id, "--frames"]).stdout).to_string();
    let rows = with_frames.lines().skip_while(|l| !l.trim_start().starts_with("frame ")).skip(1).count();
    assert_eq!(rows, frames, "{with_frames}");

    // `jobs list`: newest first, --limit, with frames done and the pooled VMAF.
    let one = String::from_utf8_lossy(&cli(&["jobs", "list", "--limit", "1"]).stdout).to_string();
    assert_eq!(one.lines().count(), 2, "a header and one job: {one}");
    let row = one.lines().nth(1).unwrap();
    assert!(
        row.contains(&id)
            && row.contains(&format!("{frames}/{frames}"))
            && row.contains(&format!("{mean:.3}")),
        "{one}"
    );
    let all: Value = serde_json::from_slice(&cli(&["jobs", "list", "--format", "json"]).stdout).unwrap();
    let ids: Vec<&str> = all["jobs"].as_array().unwrap().iter().map(|j| j["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [id.as_str(), queued.as_str()]);

    // `nodes drain NAME`: the node finishes, says goodbye and is listed gone at once.
    let drained = cli(&["nodes", "drain", "a"]);
    assert!(drained.status.success(), "{}", String::from_utf8_lossy(&drained.stderr));
    let deadline = Instant::now() + Duration::from_secs(30);
    while node_a.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the drained node did not exit");
        std::thread::sleep(Duration::from_millis(100));
    }
    let nodes: Value = serde_json::from_slice(&cli(&["nodes", "--json"]).stdout).unwrap();
    assert_eq!(nodes["nodes"][0]["state"], "gone", "{nodes}");
    // Each node says which ffmpeg it runs (here Debian's, as `ffmpeg -version` says).
    let version = String::from_utf8(Command::new("ffmpeg").arg("-version").output().unwrap().stdout).unwrap();
    let version = version.split_whitespace().nth(2).unwrap().to_string();
    assert_eq!(nodes["nodes"][0]["capabilities"]["ffmpeg_version"], version.as_str(), "{nodes}");
    let table = String::from_utf8_lossy(&cli(&["nodes"]).stdout).to_string();
    assert!(table.lines().any(|l| l.starts_with("a ") && l.contains("gone")), "{table}");
    assert!(table.contains(&format!("  ffmpeg {version}")), "{table}");
}

#[test]
fn vmafx_submit_wait_prints_the_same_report_as_vmafx_score() {
    let data = tempfile::tempdir().unwrap();
    let corpus = common::corpus();
    let (r, d) = (corpus.join("testsrc_324.y4m"), corpus.join("testsrc_324_x264_crf45.mp4"));
    let (_ctl, addr) = controller(data.path(), &[]);
    let _a = node(&addr, data.path(), "a");
    let _b = node(&addr, data.path(), "b");
    let admin = token(data.path(), "admin.token");
    let cluster = |args: &[&str]| {
        common::run_with_timeout(
            Command::new(common::bin("vmafx"))
                .args(args)
                .env("VMAFX_CONTROLLER", url(&addr))
                .env("VMAFX_CA", ca_env(&addr))
                .env("VMAFX_TOKEN", &admin),
            Duration::from_secs(300),
        )
    };
    let (rs, ds) = (r.to_str().unwrap(), d.to_str().unwrap());
    // `submit -q --wait --format json ARGS`: the report.
    let waited = |args: &[&str]| -> Value {
        let out = cluster(&[&["submit", "-q", "--wait", "--format", "json"], args].concat());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let remote = waited(&["--segment-frames", "10", "-f", "psnr", rs, ds]);
    let local = common::vmafx_json(&r, &d, &["--feature", "psnr"]);
    assert_eq!(remote["frames"], local["frames"], "per-frame scores");
    assert_eq!(remote["pooled_metrics"], local["pooled_metrics"], "pooled scores");

    // The same knobs as `vmafx score`: skips and a frame limit, over segments.
    let knobs = ["--skip-distorted", "2", "--skip-reference", "1", "--frames", "20"];
    let remote = waited(&[&["--segment-frames", "7"], &knobs[..], &[rs, ds]].concat());
    let local = common::vmafx_json(&r, &d, &knobs);
    assert_eq!(remote["frames"].as_array().unwrap().len(), 20);
    assert_eq!(remote["frames"], local["frames"], "per-frame scores with skips and --frames");
    assert_eq!(remote["pooled_metrics"], local["pooled_metrics"]);
    let out = cluster(&["submit", "--skip-reference", "100000", rs, ds]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("score.inputs.skip_reference"));

    let out = cluster(&["jobs", "list", "--json"]);
    let listed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed["jobs"][1]["state"], "succeeded");
    assert_eq!(listed["jobs"][1]["segments_total"], 5, "the first job, listed second: newest first");
    assert_eq!(listed["jobs"][0]["segments_total"], 3, "20 frames in segments of 7");
    // The first job's per-frame plot, drawn from what the controller sent.
    let plot = data.path().join("job.svg");
    let out = cluster(&[
        "jobs",
        "get",
        listed["jobs"][1]["id"].as_str().unwrap(),
        "--plot",
        plot.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let svg = std::fs::read_to_string(&plot).unwrap();
    assert!(svg.contains(r#"data-metric="vmaf""#) && svg.contains(r#"data-points="48""#), "{svg}");
    // A pair shifted by 3 frames: the node that scores the first segment says so.
    let shifted = common::filtered(
        data.path(),
        &r,
        "shifted.mp4",
        &["mandelbrot=size=576x324:rate=24"],
        "[1:v]trim=start_frame=3,setpts=PTS-STARTPTS[b];[0:v]trim=end_frame=3,format=yuv420p,setpts=PTS-STARTPTS[a];[b][a]concat=n=2:v=1",
    );
    let remote = waited(&["--segment-frames", "40", rs, shifted.to_str().unwrap()]);
    let notes = remote["vmafx"]["notes"].to_string();
    assert!(
        notes.contains("the pair looks misaligned: the distorted starts 3 frames into the reference")
            && notes.contains("--skip-reference 3"),
        "{notes}"
    );

    let out = cluster(&["nodes", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let nodes: Value = serde_json::from_slice(&out.stdout).unwrap();
    let nodes = nodes["nodes"].as_array().unwrap();
    let names: Vec<&str> = nodes.iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["a", "b"]);
    assert!(nodes.iter().all(|n| n["state"] == "live" && n["capabilities"]["slots"] == 1), "{nodes:?}");
    let out = cluster(&["jobs", "cancel", "no-such-job"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no job `no-such-job`"));
    let out = common::run_with_timeout(
        Command::new(common::bin("vmafx"))
            .args(["jobs", "list"])
            .env("VMAFX_CONTROLLER", url(&addr))
            .env("VMAFX_CA", ca_env(&addr))
            .env("VMAFX_TOKEN", "wrong"),
        Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("token"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn sigterm_drains_a_node_it_finishes_its_item_then_exits() {
    let data = tempfile::tempdir().unwrap();
    let corpus = common::corpus();
    let (r, d) = (corpus.join("mandel_720.y4m"), corpus.join("mandel_720_x264_crf35.mp4"));
    let (_ctl, addr) = controller(data.path(), &[]);
    let mut n = node(&addr, data.path(), "n");
    let mut jobs = client(&addr).await;
    let job = submit_running(&mut jobs, data.path(), &r, &d).await;
    let term = Command::new("kill").args(["-TERM", &n.0.id().to_string()]).status().unwrap();
    assert!(term.success());
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = n.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the node did not exit after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "drained node exits cleanly: {status:?}");
    let get = v1::GetJobRequest { id: job.id.clone(), include_scores: false };
    let after = jobs.get_job(authed(get, data.path())).await.unwrap().into_inner();
    assert_eq!(after.state(), JobState::Succeeded, "the running item was finished and reported, not dropped");
}
