//! Controller-only dispatch benchmark: how fast one controller hands out work items to many
//! nodes, over real gRPC on loopback, with the real SQLite store on disk.
//!
//! It queues `--jobs` jobs of `--segments` one-frame segments each (all queued before the
//! first pull, so the queue never runs dry), then `--nodes` simulated nodes, each on its own
//! connection, pull and report until every item is done. A simulated node does not score: it
//! answers each item at once with a made-up score for its frames, so what is measured is the
//! controller (auth, long-poll pull, lease with fencing token, fenced result, assembly).
//!
//!   cargo run --release -p vmafx-controller --example dispatch_bench -- --nodes 200 --jobs 100 --segments 100
//!
//! Prints a summary and, with `--json`, one JSON object.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tonic::transport::Channel;
use tonic::Request;
use vmafx_controller::server::{self, ServeOptions};
use vmafx_controller::ControllerConfig;
use vmafx_proto::v1::job_service_client::JobServiceClient;
use vmafx_proto::v1::node_service_client::NodeServiceClient;
use vmafx_proto::v1::{self, report_result_request::Outcome};

struct Options {
    nodes: usize,
    jobs: usize,
    segments: usize,
    json: bool,
}

fn options() -> Options {
    let mut o = Options { nodes: 200, jobs: 100, segments: 100, json: false };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> usize {
            args.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{name} needs a number"))
        };
        match a.as_str() {
            "--nodes" => o.nodes = num("--nodes"),
            "--jobs" => o.jobs = num("--jobs"),
            "--segments" => o.segments = num("--segments"),
            "--json" => o.json = true,
            other => panic!("unknown argument `{other}` (--nodes N --jobs N --segments N --json)"),
        }
    }
    o
}

fn authed<T>(msg: T, token: &str) -> Request<T> {
    let mut r = Request::new(msg);
    r.metadata_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let o = options();
    let dir = tempfile::tempdir()?;
    let clip = dir.path().join("clip.y4m");
    vmafx_media::y4m::write_pattern(&clip, 16, 16, o.segments, 0)?;
    let running = server::start(ServeOptions {
        data_dir: dir.path().join("data"),
        store: None,
        listen: "127.0.0.1:0".parse()?,
        http_listen: "127.0.0.1:0".parse()?,
        config: ControllerConfig { lease_ttl_ms: 120_000, ..ControllerConfig::default() },
    })
    .await?;
    let url = format!("http://{}", running.grpc_addr);
    let read = |name: &str| {
        std::fs::read_to_string(dir.path().join("data").join(name)).map(|t| t.trim().to_string())
    };
    let (admin, node_token) = (read("admin.token")?, read("node.token")?);

    // Queue everything first.
    let mut jobs = JobServiceClient::new(Channel::from_shared(url.clone())?.connect().await?);
    let queue_start = Instant::now();
    let mut ids = Vec::with_capacity(o.jobs);
    for _ in 0..o.jobs {
        let spec = v1::ScoreSpec {
            reference: clip.display().to_string(),
            distorted: clip.display().to_string(),
            segment_frames: 1,
            ..Default::default()
        };
        let req = v1::SubmitJobRequest { score: Some(spec), ..Default::default() };
        let job = jobs.submit_job(authed(req, &admin)).await?.into_inner().job.unwrap();
        assert_eq!(job.segments_total as usize, o.segments);
        ids.push(job.id);
    }
    let queue_s = queue_start.elapsed().as_secs_f64();
    let total = (o.jobs * o.segments) as u64;

    // The simulated nodes: register, then pull and report until all items are done.
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut handles = Vec::with_capacity(o.nodes);
    for n in 0..o.nodes {
        let (url, token, done) = (url.clone(), node_token.clone(), done.clone());
        handles.push(tokio::spawn(async move {
            let mut c = NodeServiceClient::new(Channel::from_shared(url)?.connect().await?);
            let reg = v1::RegisterNodeRequest { name: format!("sim-{n:03}"), ..Default::default() };
            let node_id = c.register_node(authed(reg, &token)).await?.into_inner().node_id;
            let mut latencies = Vec::new();
            while done.load(Ordering::Relaxed) < total {
                let t = Instant::now();
                let pull = v1::PullWorkRequest { node_id: node_id.clone(), wait_ms: 200 };
                let Some(item) = c.pull_work(authed(pull, &token)).await?.into_inner().item else { continue };
                latencies.push(t.elapsed().as_secs_f64());
                let frames = (item.start..item.start + item.frames)
                    .map(|f| v1::FrameScores { frame_num: f, values: vec![90.0] })
                    .collect();
                let scores = v1::Scores { metrics: vec!["vmaf".into()], frames, ..Default::default() };
                let report = v1::ReportResultRequest {
                    node_id: node_id.clone(),
                    item_id: item.item_id,
                    fence: item.fence,
                    outcome: Some(Outcome::Scores(scores)),
                };
                assert!(c.report_result(authed(report, &token)).await?.into_inner().accepted);
                done.fetch_add(1, Ordering::Relaxed);
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for h in handles {
        latencies.extend(h.await??);
    }
    let wall = start.elapsed().as_secs_f64();

    // Every job assembled, with all its frames.
    for id in &ids {
        let job =
            jobs.get_job(authed(v1::GetJobRequest { id: id.clone(), include_scores: true }, &admin)).await?;
        let job = job.into_inner();
        assert_eq!(job.state(), v1::JobState::Succeeded, "{id}");
        assert_eq!(job.scores.map(|s| s.frames.len()), Some(o.segments));
    }
    running.stop().await?;

    latencies.sort_by(f64::total_cmp);
    let ms = |p: f64| percentile(&latencies, p) * 1000.0;
    let per_s = total as f64 / wall;
    if o.json {
        println!(
            "{}",
            serde_json::json!({
                "nodes": o.nodes, "items": total, "jobs": o.jobs, "wall_s": wall, "items_per_s": per_s,
                "pull_ms": {"p50": ms(0.50), "p90": ms(0.90), "p99": ms(0.99), "max": ms(1.0)},
                "queue_s": queue_s,
            })
        );
    } else {
        println!(
            "{} items ({} jobs x {} segments) over {} simulated nodes",
            total, o.jobs, o.segments, o.nodes
        );
        println!("  queued in {queue_s:.2} s; dispatched and reported in {wall:.2} s: {per_s:.0} items/s");
        println!(
            "  PullWork latency (pulls that got an item): p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            ms(0.5),
            ms(0.9),
            ms(0.99),
            ms(1.0)
        );
    }
    Ok(())
}
