//! `vmafx up`, the embedded single-machine service: a controller and a local node in one
//! process. Jobs submitted to it give `vmafx score`'s numbers, progress streams while a segment
//! is scored, the CLI finds the token in the data directory, and SIGTERM stops it cleanly.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use vmafx_proto::v1::job_service_client::JobServiceClient;
use vmafx_proto::v1::{self, job_event};

use common::cluster::{authed, connect, start_up, token};

#[tokio::test]
async fn vmafx_up_scores_jobs_like_vmafx_score_with_live_progress() {
    let data = tempfile::tempdir().unwrap();
    let clips = tempfile::tempdir().unwrap();
    let r = common::lavfi(clips.path(), "ref.y4m", "testsrc2=size=1280x720:rate=24", 168, "yuv420p");
    let d = common::encode(&r, clips.path(), "dist.mp4", &["-c:v", "libx264", "-crf", "35"]);

    let (mut up, grpc) = start_up(data.path());
    let admin = token(data.path(), "admin.token");

    // Through the API: one segment over the whole clip (about 1.5 s of scoring, so that several of
    // the node's half-second progress reports fall inside it); progress arrives while it is scored.
    let mut jobs = JobServiceClient::new(connect(&grpc).await);
    let spec = v1::ScoreSpec {
        reference: r.display().to_string(),
        distorted: d.display().to_string(),
        ..Default::default()
    };
    let submit = v1::SubmitJobRequest { score: Some(spec), ..Default::default() };
    let job = jobs.submit_job(authed(submit, &admin)).await.unwrap().into_inner().job.unwrap();
    assert_eq!((job.total_frames, job.segments_total), (168, 1));
    let mut events = jobs
        .watch_job(authed(v1::WatchJobRequest { id: job.id.clone() }, &admin))
        .await
        .unwrap()
        .into_inner();
    let mut partial = Vec::new();
    let finished = loop {
        match events.message().await.unwrap().expect("the watch ended early").event {
            Some(job_event::Event::Progress(p)) if p.frames_done > 0 && p.frames_done < p.total_frames => {
                partial.push(p.frames_done)
            }
            Some(job_event::Event::Finished(j)) => break j,
            _ => {}
        }
    };
    assert_eq!(finished.state(), v1::JobState::Succeeded, "{}", finished.error);
    assert!(!partial.is_empty(), "no progress between 0 and 168 frames while scoring");
    assert!(partial.windows(2).all(|w| w[0] <= w[1]), "progress went backwards: {partial:?}");

    // Through the CLI, which reads the admin token from the data directory.
    let out = common::run_with_timeout(
        Command::new(common::bin("vmafx"))
            .args(["submit", "-q", "--wait", "--format", "json", "--controller", &grpc])
            .args([&r, &d])
            .env("VMAFX_DATA_DIR", data.path())
            .env_remove("VMAFX_TOKEN"),
        Duration::from_secs(300),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let remote: Value = serde_json::from_slice(&out.stdout).unwrap();
    let local = common::vmafx_json(&r, &d, &[]);
    assert_eq!(remote["frames"], local["frames"], "per-frame scores");
    assert_eq!(remote["pooled_metrics"], local["pooled_metrics"], "pooled scores");
    let first: Vec<f64> = finished.scores.unwrap().frames.iter().map(|f| f.values[0]).collect();
    assert_eq!(first.len(), 168);

    // SIGTERM: the node drains (nothing runs), the controller stops, exit 0.
    let pid = up.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = up.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "vmafx up did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}");
}
