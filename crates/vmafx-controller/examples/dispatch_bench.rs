//! Controller-only dispatch benchmark: how fast one controller takes submissions and hands
//! out work items to many nodes, over real gRPC on loopback, with the real store (SQLite on
//! disk, or PostgreSQL with `--store postgres://…`).
//!
//! 1. `--backlog B` one-segment jobs are queued first at a lower priority (they stay queued:
//!    the measured work goes before them), from `--submitters` concurrent clients.
//! 2. `--jobs` jobs of `--segments` one-frame segments each are submitted the same way (the
//!    inputs are Y4M, which the controller probes by reading the header); submission
//!    latency and rate are measured.
//! 3. `--nodes` simulated nodes each open their own connection (a TLS handshake) and register;
//!    the join is timed on its own, so that 200 handshakes on the same cores as the
//!    controller are not counted as pull latency.
//! 4. The nodes pull and report until every measured item is done, spending `--work-ms` on
//!    each item (0: answer at once; with `--jitter-ms J`, a time drawn evenly from work ± J,
//!    and the nodes start over the first work period, as real nodes whose segments take
//!    different times do). A
//!    simulated node does not score: it answers with a made-up score for its frames, so what
//!    is measured is the controller (auth, long-poll pull, lease with fencing token, fenced
//!    result, assembly).
//!
//! TLS is on, as by default (the controller's generated CA), and each node calls with its own
//! credential; `--plaintext` measures without TLS.
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
    work_ms: u64,
    jitter_ms: u64,
    backlog: usize,
    submitters: usize,
    store: Option<String>,
    plaintext: bool,
    json: bool,
}

fn options() -> Options {
    let mut o = Options {
        nodes: 200,
        jobs: 100,
        segments: 100,
        work_ms: 0,
        jitter_ms: 0,
        backlog: 0,
        submitters: 20,
        store: None,
        plaintext: false,
        json: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> usize {
            args.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{name} needs a number"))
        };
        match a.as_str() {
            "--nodes" => o.nodes = num("--nodes"),
            "--jobs" => o.jobs = num("--jobs"),
            "--segments" => o.segments = num("--segments"),
            "--work-ms" => o.work_ms = num("--work-ms") as u64,
            "--jitter-ms" => o.jitter_ms = num("--jitter-ms") as u64,
            "--backlog" => o.backlog = num("--backlog"),
            "--submitters" => o.submitters = num("--submitters").max(1),
            "--store" => o.store = Some(args.next().expect("--store needs a URL")),
            "--json" => o.json = true,
            "--plaintext" => o.plaintext = true,
            other => panic!(
                "unknown argument `{other}` (--nodes N --jobs N --segments N --work-ms MS --backlog N \
                 --submitters N --store URL --plaintext --json)"
            ),
        }
    }
    o
}

fn authed<T>(msg: T, token: &str) -> Request<T> {
    let mut r = Request::new(msg);
    r.metadata_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}

/// The controller's URL and, over TLS, the CA (PEM) its certificate is checked against.
#[derive(Clone)]
struct Target {
    url: String,
    ca: Option<Vec<u8>>,
}

/// A connection to the controller.
async fn channel(target: &Target) -> anyhow::Result<Channel> {
    let mut endpoint = Channel::from_shared(target.url.clone())?;
    if let Some(ca) = &target.ca {
        let tls = tonic::transport::ClientTlsConfig::new()
            .ca_certificate(tonic::transport::Certificate::from_pem(ca));
        endpoint = endpoint.tls_config(tls)?;
    }
    Ok(endpoint.connect().await?)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// Latency figures in milliseconds.
fn summary(mut seconds: Vec<f64>) -> serde_json::Value {
    seconds.sort_by(f64::total_cmp);
    let ms = |p: f64| percentile(&seconds, p) * 1000.0;
    serde_json::json!({"p50": ms(0.5), "p90": ms(0.9), "p99": ms(0.99), "max": ms(1.0)})
}

/// Submits `count` jobs of `clip` from `clients` concurrent connections; returns the job ids
/// and each submission's latency in seconds.
async fn submit_all(
    target: &Target,
    admin: &str,
    clip: &std::path::Path,
    count: usize,
    clients: usize,
    priority: i32,
    segment_frames: u64,
) -> anyhow::Result<(Vec<String>, Vec<f64>)> {
    let next = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for _ in 0..clients {
        let (target, admin, clip, next) =
            (target.clone(), admin.to_string(), clip.to_path_buf(), next.clone());
        handles.push(tokio::spawn(async move {
            let mut jobs = JobServiceClient::new(channel(&target).await?);
            let (mut ids, mut latencies) = (Vec::new(), Vec::new());
            while next.fetch_add(1, Ordering::Relaxed) < count as u64 {
                let spec = v1::ScoreSpec {
                    reference: clip.display().to_string(),
                    distorted: clip.display().to_string(),
                    segment_frames,
                    ..Default::default()
                };
                let req = v1::SubmitJobRequest { score: Some(spec), priority, ..Default::default() };
                let t = Instant::now();
                let job = jobs.submit_job(authed(req, &admin)).await?.into_inner().job.unwrap();
                latencies.push(t.elapsed().as_secs_f64());
                ids.push(job.id);
            }
            anyhow::Ok((ids, latencies))
        }));
    }
    let (mut ids, mut latencies) = (Vec::new(), Vec::new());
    for h in handles {
        let (i, l) = h.await??;
        ids.extend(i);
        latencies.extend(l);
    }
    Ok((ids, latencies))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let o = options();
    let dir = tempfile::tempdir()?;
    let clip = dir.path().join("clip.y4m");
    vmafx_media::y4m::write_pattern(&clip, 16, 16, o.segments, 0)?;
    let running = server::start(ServeOptions {
        data_dir: dir.path().join("data"),
        store: o.store.as_deref().map(str::parse).transpose().map_err(anyhow::Error::msg)?,
        listen: "127.0.0.1:0".parse()?,
        http_listen: "127.0.0.1:0".parse()?,
        tls: vmafx_controller::tls::TlsArgs { insecure_plaintext: o.plaintext, ..Default::default() },
        token_files: vec![],
        metrics_need_token: false,
        config: ControllerConfig {
            lease_ttl_ms: 120_000,
            input_roots: vmafx_media::AllowedRoots::new(&[dir.path().to_path_buf()])
                .map_err(anyhow::Error::msg)?,
            ..ControllerConfig::default()
        },
    })
    .await?;
    let target = Target {
        url: format!("{}://{}", running.scheme, running.grpc_addr),
        ca: running.generated_ca.as_ref().map(std::fs::read).transpose()?,
    };
    let read = |name: &str| {
        std::fs::read_to_string(dir.path().join("data").join(name)).map(|t| t.trim().to_string())
    };
    let (admin, node_token) = (read("admin.token")?, read("node.token")?);

    // The backlog: jobs that wait behind the measured ones.
    let backlog_start = Instant::now();
    let (_, backlog_latencies) = submit_all(&target, &admin, &clip, o.backlog, o.submitters, -1, 0).await?;
    let backlog_s = backlog_start.elapsed().as_secs_f64();

    // The measured jobs, all queued before the first pull (the queue never runs dry).
    let queue_start = Instant::now();
    let (ids, submit_latencies) = submit_all(&target, &admin, &clip, o.jobs, o.submitters, 0, 1).await?;
    let queue_s = queue_start.elapsed().as_secs_f64();
    let total = (o.jobs * o.segments) as u64;

    // The simulated nodes join first: each opens its own TLS connection and registers with
    // the join token. 200 handshakes on the same 2 cores as the controller would otherwise be
    // counted as the first pulls' latency; the join is timed on its own.
    let join_start = Instant::now();
    let mut joining = Vec::with_capacity(o.nodes);
    for n in 0..o.nodes {
        let (target, token) = (target.clone(), node_token.clone());
        joining.push(tokio::spawn(async move {
            let mut c = NodeServiceClient::new(channel(&target).await?);
            let reg = v1::RegisterNodeRequest { name: format!("sim-{n:03}"), ..Default::default() };
            let t = Instant::now();
            // The join token registers; the node's own credential carries every later call.
            let registered = c.register_node(authed(reg, &token)).await?.into_inner();
            anyhow::Ok((c, registered.node_id, registered.credential, t.elapsed().as_secs_f64()))
        }));
    }
    let mut joined = Vec::with_capacity(o.nodes);
    let mut register_latencies = Vec::with_capacity(o.nodes);
    for j in joining {
        let (c, node_id, credential, latency) = j.await??;
        joined.push((c, node_id, credential));
        register_latencies.push(latency);
    }
    let join_s = join_start.elapsed().as_secs_f64();

    // Then they pull and report until all items are done.
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut handles = Vec::with_capacity(o.nodes);
    for (n, (mut c, node_id, token)) in joined.into_iter().enumerate() {
        let (done, work, jitter) = (done.clone(), o.work_ms, o.jitter_ms);
        handles.push(tokio::spawn(async move {
            // A small xorshift per node: repeatable, and no dependency for it.
            let mut rng = 0x9e37_79b9_7f4a_7c15_u64 ^ (n as u64 + 1).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            let mut draw = move |below: u64| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng % below.max(1)
            };
            if jitter > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(draw(work))).await;
            }
            let mut latencies = Vec::new();
            while done.load(Ordering::Relaxed) < total {
                let t = Instant::now();
                let pull = v1::PullWorkRequest { node_id: node_id.clone(), wait_ms: 200 };
                let Some(item) = c.pull_work(authed(pull, &token)).await?.into_inner().item else { continue };
                latencies.push(t.elapsed().as_secs_f64());
                if work > 0 {
                    let spent =
                        if jitter > 0 { work - jitter.min(work) + draw(2 * jitter + 1) } else { work };
                    tokio::time::sleep(std::time::Duration::from_millis(spent)).await;
                }
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

    // Every measured job assembled, with all its frames.
    let mut jobs = JobServiceClient::new(channel(&target).await?);
    for id in &ids {
        let job =
            jobs.get_job(authed(v1::GetJobRequest { id: id.clone(), include_scores: true }, &admin)).await?;
        let job = job.into_inner();
        assert_eq!(job.state(), v1::JobState::Succeeded, "{id}");
        assert_eq!(job.scores.map(|s| s.frames.len()), Some(o.segments));
    }
    running.stop().await?;

    let per_s = total as f64 / wall;
    let report = serde_json::json!({
        "tls": !o.plaintext,
        "store": o.store.as_deref().map_or("sqlite", |s| if s.starts_with("postgres") { "postgres" } else { "sqlite" }),
        "nodes": o.nodes, "items": total, "jobs": o.jobs, "work_ms": o.work_ms, "jitter_ms": o.jitter_ms,
        "backlog": o.backlog,
        "submitters": o.submitters,
        "wall_s": wall, "items_per_s": per_s,
        "pull_ms": summary(latencies),
        "join": { "s": join_s, "register_ms": summary(register_latencies) },
        "submit": {
            "per_s": o.jobs as f64 / queue_s,
            "ms": summary(submit_latencies),
            "backlog_per_s": if o.backlog > 0 { o.backlog as f64 / backlog_s } else { 0.0 },
            "backlog_ms": summary(backlog_latencies),
        },
    });
    if o.json {
        println!("{report}");
    } else {
        println!(
            "{} items ({} jobs x {} segments) over {} simulated nodes spending {}±{} ms each, {} jobs queued behind, store {}, {}",
            total, o.jobs, o.segments, o.nodes, o.work_ms, o.jitter_ms, o.backlog, report["store"],
            if o.plaintext { "plaintext" } else { "TLS" }
        );
        let f = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
        let (p, s) = (&report["pull_ms"], &report["submit"]);
        println!(
            "  submitted {} jobs from {} clients at {:.0}/s (p50 {:.1} ms, p99 {:.1} ms); backlog at {:.0}/s (p99 {:.1} ms)",
            o.jobs,
            o.submitters,
            f(&s["per_s"]),
            f(&s["ms"]["p50"]),
            f(&s["ms"]["p99"]),
            f(&s["backlog_per_s"]),
            f(&s["backlog_ms"]["p99"])
        );
        println!(
            "  {} nodes connected (TLS handshake each) and registered in {join_s:.2} s (RegisterNode p99 {:.1} ms)",
            o.nodes,
            f(&report["join"]["register_ms"]["p99"])
        );
        println!("  dispatched and reported in {wall:.2} s: {per_s:.0} items/s");
        println!(
            "  PullWork latency (pulls that got an item): p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            f(&p["p50"]),
            f(&p["p90"]),
            f(&p["p99"]),
            f(&p["max"])
        );
    }
    Ok(())
}
