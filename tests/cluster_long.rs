//! A three-hour film (250,000 frames at 24 fps; small frames, a compressed lossless reference)
//! through `vmafx up`: every client gets every frame, exactly `vmafx score`'s — `submit
//! --wait`, `GetJob` with scores, HTTP `?scores=true`, and MCP (pooled scores, frames paged).
//! Results used to travel as one gRPC message under tonic's 4 MiB default and never arrived.

mod common;

use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use vmafx_proto::v1::job_service_client::JobServiceClient;
use vmafx_proto::v1::{self, JobState};

use common::cluster::{authed, ca_env, connect, http, start_up_with_http, token};

const FRAMES: u32 = 250_000;

#[tokio::test]
async fn a_three_hour_film_reaches_every_client_frame_for_frame() {
    let t = std::time::Instant::now();
    let lap = |what: &str| eprintln!("{what}: {:.1} s", t.elapsed().as_secs_f64());
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("film.mp4");
    let d = dir.path().join("film_crf35.mp4");
    let (rs, ds) = (r.to_str().unwrap(), d.to_str().unwrap());
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=64x64:rate=24",
        "-frames:v",
        &FRAMES.to_string(),
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-qp",
        "0",
        "-pix_fmt",
        "yuv420p",
        rs,
    ]);
    common::ffmpeg(&["-i", rs, "-c:v", "libx264", "-preset", "ultrafast", "-crf", "35", ds]);
    lap("made the pair");
    let local = common::vmafx_json(&r, &d, &[]);
    lap("scored locally");
    let want = local["frames"].as_array().unwrap();
    assert_eq!(want.len(), FRAMES as usize);

    let data = dir.path().join("up");
    let (_up, grpc, http_addr) = start_up_with_http(&data);
    let admin = token(&data, "admin.token");

    // submit --wait: the same report.
    let out = common::run_with_timeout(
        Command::new(common::bin("vmafx"))
            .args([
                "submit",
                "-q",
                "--wait",
                "--format",
                "json",
                "--controller",
                &grpc,
                "--token",
                &admin,
                rs,
                ds,
            ])
            .env("VMAFX_CA", ca_env(&grpc)),
        Duration::from_secs(600),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let remote: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(remote["frames"].as_array().unwrap(), want, "submit --wait frames");
    assert_eq!(remote["pooled_metrics"], local["pooled_metrics"]);
    drop(remote);
    lap("submit --wait");

    // GetJob with scores, over gRPC, with a client that allows large messages (as
    // vmafx-client does).
    let mut jobs =
        JobServiceClient::new(connect(&grpc).await).max_decoding_message_size(vmafx_proto::MAX_JOB_BYTES);
    let list = jobs.list_jobs(authed(v1::ListJobsRequest::default(), &admin)).await.unwrap().into_inner();
    let id = list.jobs[0].id.clone();
    assert_eq!(list.jobs[0].segments_total, 5, "split at 50,000 frames though no split was asked");
    let job = jobs.get_job(authed(v1::GetJobRequest { id: id.clone(), include_scores: true }, &admin)).await;
    let job = job.unwrap().into_inner();
    assert_eq!(job.state(), JobState::Succeeded);
    let scores = job.scores.unwrap();
    assert_eq!(scores.frames.len(), FRAMES as usize);
    let vmaf = scores.metrics.iter().position(|m| m == "vmaf").unwrap();
    for (f, w) in scores.frames.iter().zip(want) {
        assert_eq!(json!(f.values[vmaf]), w["metrics"]["vmaf"], "GetJob frame {}", f.frame_num);
    }
    drop(scores);
    lap("GetJob");

    // HTTP ?scores=true.
    let (status, body) = http(&http_addr, "GET", &format!("/v1/jobs/{id}?scores=true"), Some(&admin), None);
    assert_eq!(status, 200);
    let over_http: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(over_http["frames"].as_array().unwrap(), want, "HTTP frames");
    drop((body, over_http));
    lap("HTTP");

    // MCP: pooled scores, and the frames a page at a time.
    let calls = json!([
        {"tool": "get_job", "arguments": {"id": id, "scores": true, "frames_offset": 0, "frames_limit": 5}},
        {"tool": "get_job", "arguments": {"id": id, "scores": true, "frames_offset": FRAMES - 5, "frames_limit": 5}},
    ]);
    let scenario = dir.path().join("scenario.json");
    std::fs::write(&scenario, calls.to_string()).unwrap();
    let server = common::bin("vmafx-mcp");
    let out = common::run_with_timeout(
        Command::new("python3")
            .arg(common::root().join("tests/mcp_client.py"))
            .arg("stdio")
            .arg(&scenario)
            .args(["--", server.to_str().unwrap(), "--allow-root", dir.path().to_str().unwrap()])
            // An MCP client starts its server with a minimal environment: arguments only.
            .args(["--controller", &grpc, "--token", &admin, "--ca"])
            .arg(ca_env(&grpc)),
        Duration::from_secs(300),
    );
    assert!(out.status.success(), "MCP client failed: {}", String::from_utf8_lossy(&out.stderr));
    let mcp: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (first, last) = (&mcp["calls"][0]["result"], &mcp["calls"][1]["result"]);
    assert_eq!(first["frames_total"], FRAMES);
    assert_eq!(first["pooled_metrics"], local["pooled_metrics"]);
    assert_eq!(first["frames"].as_array().unwrap()[..], want[..5]);
    assert_eq!(last["frames"].as_array().unwrap()[..], want[want.len() - 5..]);
    lap("MCP");
}
