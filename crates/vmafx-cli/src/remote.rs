//! The cluster commands: `submit`, `jobs` and `nodes`, through vmafx-client.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use vmafx_client::{JobClient, TokenKind};
use vmafx_core::{
    catalog, job_json, node_json, FramesShown, JobState, JobView, NodeInfo, NodeState, Report, ReportInfo,
    Requirements, ScoreJobSpec,
};

use crate::args::{ClusterArgs, JobsCommand, NodesCommand, SubmitArgs, TokensCommand, ViewFormat};
use crate::{progress, write_report, UsageError};

/// Exit code of `jobs watch` and `submit --wait` for a job that failed.
pub const EXIT_JOB_FAILED: i32 = 1;
/// Exit code of `jobs watch` and `submit --wait` for a job that was cancelled.
pub const EXIT_JOB_CANCELLED: i32 = 3;
/// Exit code when Ctrl-C stops following a job (it keeps running on the controller).
pub const EXIT_INTERRUPTED: i32 = 130;

/// A followed job that did not succeed, or a follow that was interrupted: the message is
/// printed and the process exits with `code`.
#[derive(Debug)]
pub struct JobEnded {
    pub code: i32,
    pub message: String,
}

impl std::fmt::Display for JobEnded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for JobEnded {}

/// How long a command waits for a controller that is still starting (`vmafx up &` then
/// `vmafx submit` at once): its token file not written yet, its port not open yet.
const STARTING_PATIENCE: Duration = Duration::from_secs(5);

/// Connects to the controller the flags name, with the admin token (flag, else the data
/// directory's `admin.token`).
async fn connect(c: &ClusterArgs) -> anyhow::Result<JobClient> {
    let started = std::time::Instant::now();
    loop {
        let starting = started.elapsed() < STARTING_PATIENCE;
        let token = match vmafx_client::find_token(TokenKind::Admin, c.token.as_deref()) {
            Ok(t) => t,
            Err(_) if starting => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            Err(e) => return Err(UsageError(e.to_string()).into()),
        };
        match JobClient::connect(&c.controller, &token, &vmafx_client::Tls::with_ca(c.ca.clone())).await {
            Err(vmafx_client::ClientError::Unreachable { .. }) if starting => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            // A controller starting on this data directory for the first time since TLS: its
            // CA is written just before it listens.
            Err(vmafx_client::ClientError::Tls(_))
                if starting && c.ca.is_none() && !vmafx_client::local_ca_path().exists() =>
            {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            other => return Ok(other?),
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

pub fn submit(args: SubmitArgs) -> anyhow::Result<()> {
    let (reference, distorted) = args.inputs().map_err(|m| UsageError(m.into()))?;
    let spec = ScoreJobSpec {
        reference: if args.nr { String::new() } else { absolute(&reference) },
        distorted: absolute(&distorted),
        model: args.model.clone(),
        model_path: args.model_path.as_deref().map(absolute),
        features: args.feature.clone(),
        subsample: args.subsample,
        segment_frames: args.segment_frames,
        encode: None,
        pictures: None,
        requirements: Requirements {
            gpu_vendor: args.gpu_vendor.clone(),
            encoder: None,
            labels: args
                .labels
                .iter()
                .map(|l| {
                    l.split_once('=')
                        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                        .ok_or_else(|| UsageError(format!("--label `{l}`: expected KEY=VALUE")))
                })
                .collect::<Result<_, _>>()?,
            models: false,
        },
        inputs: args.inputs.options(&reference, &distorted).map_err(UsageError)?,
        versions: Default::default(),
        estimate: args
            .estimate
            .clone()
            .map(|model| vmafx_core::EstimateSpec { model, no_capture: args.no_capture }),
    };
    runtime()?.block_on(async {
        let client = connect(&args.cluster).await?;
        let submitted = client.submit(&spec, args.priority, args.idempotency_key.as_deref()).await?;
        let job = submitted.job;
        let seen = if submitted.created { "" } else { " (already submitted with this idempotency key)" };
        if !args.wait {
            println!("{}{seen}", job.id);
            return Ok(());
        }
        if !args.quiet {
            eprintln!(
                "job {}{seen} on {}; following it (Ctrl-C stops following, not the job)",
                job.id,
                client.address()
            );
        }
        let finished = follow(&client, &job.id, args.quiet).await?;
        ended_well(&finished)?;
        let report = report(&finished)?;
        write_report(&report, args.format, args.output.as_deref(), args.quiet)?;
        args.plot.as_ref().map_or(Ok(()), |p| p.write(&report, args.quiet))
    })
}

/// Follows a job, drawing progress, until it ends; returns the finished job (with its scores
/// when it succeeded). While nothing has been scored, says why when it can: no live node, or
/// none that meets the job's requirements. Ctrl-C stops following and says how to go on.
async fn follow(client: &JobClient, id: &str, quiet: bool) -> anyhow::Result<JobView> {
    let mut bar = progress::Bar::new(quiet);
    let mut started = false;
    let finished = {
        let wait = client.wait(id, |done, total| {
            if !started {
                bar.start(Some(total).filter(|&n| n > 0));
                started = true;
            }
            bar.set(done);
        });
        tokio::pin!(wait);
        let interrupted = tokio::signal::ctrl_c();
        tokio::pin!(interrupted);
        let mut check = tokio::time::interval(Duration::from_secs(3));
        check.tick().await;
        let mut hinted = String::new();
        // Hints are for a person watching, and only until the job starts: then no more calls.
        let mut hinting = !quiet;
        loop {
            tokio::select! {
                ended = &mut wait => break ended,
                _ = &mut interrupted => {
                    return Err(JobEnded {
                        code: EXIT_INTERRUPTED,
                        message: format!(
                            "stopped following job {id}; it stays on the controller: `vmafx jobs watch {id}` \
                             follows it again, `vmafx jobs cancel {id}` cancels it"
                        ),
                    }
                    .into());
                }
                _ = check.tick(), if hinting => match waiting_hint(client, id).await {
                    Waiting::Started => hinting = false,
                    Waiting::Hint(hint) if hint != hinted => {
                        eprintln!("{hint}");
                        hinted = hint;
                    }
                    Waiting::Hint(_) | Waiting::Unknown => {}
                },
            }
        }
    };
    bar.finish();
    Ok(finished?)
}

/// What a look at a followed job tells.
enum Waiting {
    /// It runs (or ended): nothing more to say.
    Started,
    /// Queued, and no live node can run it: why.
    Hint(String),
    /// Queued, and a live node could take it (or the controller did not answer).
    Unknown,
}

/// Why a queued job has not started, when the node list tells.
async fn waiting_hint(client: &JobClient, id: &str) -> Waiting {
    let Ok(job) = client.get(id, false).await else { return Waiting::Unknown };
    if job.state != JobState::Queued || job.frames_done > 0 {
        return Waiting::Started;
    }
    let Ok(nodes) = client.nodes().await else { return Waiting::Unknown };
    let live: Vec<&NodeInfo> = nodes.iter().filter(|n| n.state == NodeState::Live).collect();
    let needs = &job.spec.requirements;
    if live.iter().any(|n| needs.satisfied_by(&n.capabilities)) {
        return Waiting::Unknown;
    }
    let wanted = if needs.is_empty() { String::new() } else { format!(" with {}", describe(needs)) };
    Waiting::Hint(match live.len() {
        0 => format!("waiting for a node{wanted}: no node is live (start one with `vmafx-node`, or `vmafx up`)"),
        n => format!(
            "waiting for a node{wanted}: none of the {n} live node{} has it (`vmafx nodes` lists what each has)",
            if n == 1 { "" } else { "s" }
        ),
    })
}

/// `gpu nvidia, encoder libx264, label zone=eu`.
fn describe(r: &Requirements) -> String {
    let mut parts = Vec::new();
    if let Some(v) = &r.gpu_vendor {
        parts.push(format!("gpu {v}"));
    }
    if let Some(e) = &r.encoder {
        parts.push(format!("encoder {e}"));
    }
    parts.extend(r.labels.iter().map(|(k, v)| format!("label {k}={v}")));
    if r.models {
        parts.push("a model registry (vmafx-node --registry)".into());
    }
    parts.join(", ")
}

/// `Ok` for a job that succeeded; otherwise the error that makes the command exit 1
/// (failed) or 3 (cancelled), with the job's reason.
fn ended_well(job: &JobView) -> anyhow::Result<()> {
    let code = match job.state {
        JobState::Succeeded => return Ok(()),
        JobState::Cancelled => EXIT_JOB_CANCELLED,
        _ => EXIT_JOB_FAILED,
    };
    let why = job.error.as_deref().map(|e| format!(": {e}")).unwrap_or_default();
    Err(JobEnded { code, message: format!("job {} {}{why}", job.id, job.state) }.into())
}

/// The same report `vmafx score` prints, from a finished job.
fn report(job: &JobView) -> anyhow::Result<Report> {
    let spec = &job.spec;
    let scores = job.scores.clone().context("the controller sent no scores")?;
    let no_reference = spec.is_no_reference();
    let (sized, raw) = match no_reference {
        true => (&spec.distorted, spec.inputs.distorted_raw.as_ref()),
        false => (&spec.reference, spec.inputs.reference_raw.as_ref()),
    };
    let raw = raw.and_then(|r| vmafx_media::RawFormat::from_spec(r).ok());
    // The frame size, from the reference (the distorted of a no-reference job) where this
    // machine can read it as it is.
    let readable = matches!(
        vmafx_core::InputUri::parse(sized),
        Ok(vmafx_core::InputUri::Local(_) | vmafx_core::InputUri::Http(_))
    );
    let format = readable
        .then(|| vmafx_media::probe(Path::new(sized), raw.as_ref(), &Default::default()).ok())
        .flatten()
        .and_then(|p| p.format().ok());
    let headline = catalog::headline_metrics(&spec.features, &scores.metrics);
    // A no-reference job's only metric is its model's estimate.
    let estimate = scores.metrics.first().filter(|_| no_reference).cloned();
    let info = ReportInfo {
        reference: spec.reference.clone(),
        distorted: if spec.encode.is_some() { job.subject() } else { spec.distorted.clone() },
        model: estimate.clone().or_else(|| spec.model_path.clone()).unwrap_or_else(|| spec.model.clone()),
        score_metric: estimate.unwrap_or_else(|| "vmaf".into()),
        headline,
        width: format.map_or(0, |f| f.width),
        height: format.map_or(0, |f| f.height),
        pix_fmt: format.map(|f| f.pix_fmt.ffmpeg_name()).unwrap_or_default(),
        subsample: spec.subsample.max(1),
        libvmaf_version: vmafx_engine::libvmaf::version(),
        elapsed_s: job.finished_ms.zip(job.started_ms).map_or(0.0, |(f, s)| (f - s).max(0) as f64 / 1000.0),
        notes: scores.notes.clone(),
        ..Default::default()
    };
    Ok(Report { info, scores })
}

pub fn jobs(cluster: ClusterArgs, command: JobsCommand) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let client = connect(&cluster).await?;
        match command {
            JobsCommand::List { state, limit, all, oldest_first, format, json } => {
                let jobs = client.list(state, (!all).then_some(limit), oldest_first).await?;
                if json || format == ViewFormat::Json {
                    let list: Vec<_> = jobs.iter().map(|j| job_json(j, FramesShown::None)).collect();
                    println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "jobs": list }))?);
                } else {
                    print!("{}", job_table(&jobs, now_ms()));
                }
            }
            JobsCommand::Get { id, frames, format, json, plot } => {
                let job = client.get(&id, true).await?;
                if let Some(plot) = &plot {
                    if job.scores.is_none() {
                        return Err(UsageError(format!(
                            "--plot: job {id} has no scores to plot: it is {} (plots are drawn once a job succeeded)",
                            job.state
                        ))
                        .into());
                    }
                    plot.write(&report(&job)?, false)?;
                }
                if json || format == ViewFormat::Json {
                    let shown = if frames { FramesShown::All } else { FramesShown::None };
                    println!("{}", serde_json::to_string_pretty(&job_json(&job, shown))?);
                } else {
                    print!("{}", job_text(&job, now_ms()));
                    if job.scores.is_some() {
                        let report = report(&job)?;
                        print!("{}", report.render(vmafx_core::ReportFormat::Text));
                        if frames {
                            print!("{}", frame_table(&report));
                        }
                    }
                }
            }
            JobsCommand::Cancel { id } => {
                let job = client.cancel(&id).await?;
                println!("{}: {}", job.id, job.state);
            }
            JobsCommand::Watch { id } => {
                let job = follow(&client, &id, false).await?;
                let vmaf = job.vmaf.map(|v| format!(", VMAF {v:.3}")).unwrap_or_default();
                println!("{}: {}{vmaf}", job.id, job.state);
                ended_well(&job)?;
            }
        }
        Ok(())
    })
}

/// The table `jobs list` prints.
fn job_table(jobs: &[JobView], now: i64) -> String {
    let mut out = format!(
        "{:<30} {:<10} {:>17} {:>8} {:>6} {:>4}  {}\n",
        "job", "state", "frames", "vmaf", "age", "prio", "scores"
    );
    for j in jobs {
        out += &format!(
            "{:<30} {:<10} {:>17} {:>8} {:>6} {:>4}  {}\n",
            j.id,
            j.state.as_str(),
            frames_text(j),
            j.vmaf.map(|v| format!("{v:.3}")).unwrap_or_else(|| "-".into()),
            age(now - j.submitted_ms),
            j.priority,
            j.subject()
        );
    }
    out
}

/// `1200/4800` frames, or `1200` when the length is unknown.
fn frames_text(j: &JobView) -> String {
    if j.total_frames > 0 {
        format!("{}/{}", j.frames_done, j.total_frames)
    } else {
        j.frames_done.to_string()
    }
}

/// The summary `jobs get` prints above the scores.
fn job_text(j: &JobView, now: i64) -> String {
    let mut out = format!(
        "{}: {} ({} frames, {}/{} segments), submitted {} ago\n",
        j.id,
        j.state,
        frames_text(j),
        j.segments_done,
        j.segments_total,
        age(now - j.submitted_ms)
    );
    if let Some(e) = &j.error {
        out += &format!("  error: {e}\n");
    }
    if let Some(e) = &j.encode {
        out += &format!("  encode: {} bytes in {:.2} s\n", e.bytes, e.encode_seconds);
    }
    if j.scores.is_none() {
        let reference =
            if j.spec.is_no_reference() { "none (a no-reference estimate)" } else { &j.spec.reference };
        out += &format!("  reference  {reference}\n  {}  {}\n", j.kind(), j.subject());
    }
    out
}

/// Every frame's scores, one row each.
fn frame_table(report: &Report) -> String {
    let metrics = &report.scores.metrics;
    let mut out = format!("\n{:>8}", "frame");
    for m in metrics {
        out += &format!(" {:>14}", m);
    }
    out.push('\n');
    for f in &report.scores.frames {
        out += &format!("{:>8}", f.frame_num);
        for v in &f.values {
            out += &format!(" {:>14.6}", v);
        }
        out.push('\n');
    }
    out
}

/// `42s`, `7m`, `3h`, `12d`.
fn age(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

pub fn nodes(cluster: ClusterArgs, json: bool, command: Option<NodesCommand>) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let client = connect(&cluster).await?;
        match command {
            Some(NodesCommand::Drain { node }) => {
                let n = client.drain(&node).await?;
                println!("{} ({}): draining; it finishes its running items, then exits", n.name, n.id);
                return Ok(());
            }
            Some(NodesCommand::Remove { node }) => {
                let id = client.remove_node(&node).await?;
                println!("{id}: removed; its credential is revoked");
                return Ok(());
            }
            Some(NodesCommand::RotateJoinToken) => {
                let token = client.rotate_join_token().await?;
                println!("{token}");
                eprintln!("vmafx: the join token was replaced; start new nodes with this one (--token or VMAFX_TOKEN)");
                return Ok(());
            }
            None => {}
        }
        let nodes = client.nodes().await?;
        if json {
            let list: Vec<_> = nodes.iter().map(node_json).collect();
            println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "nodes": list }))?);
        } else {
            print!("{}", node_table(&nodes, now_ms()));
        }
        Ok(())
    })
}

/// The table `nodes` prints.
fn node_table(nodes: &[NodeInfo], now: i64) -> String {
    let mut out = format!(
        "{:<16} {:<9} {:>5} {:>5} {:<14} {:>5}  {:<24} {}\n",
        "name", "state", "cores", "slots", "gpu", "seen", "labels", "id"
    );
    for n in nodes {
        let c = &n.capabilities;
        let gpu = if c.gpu_vendor.is_empty() {
            "-".to_string()
        } else {
            format!("{} {}", c.gpu_vendor, c.gpu_model)
        };
        let labels: Vec<String> = c.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let labels = if labels.is_empty() { "-".to_string() } else { labels.join(",") };
        out += &format!(
            "{:<16} {:<9} {:>5} {:>5} {:<14} {:>5}  {:<24} {}\n",
            n.name,
            n.state.as_str(),
            c.cores,
            c.slots,
            gpu.trim(),
            age(now - n.last_seen_ms),
            labels,
            n.id
        );
        if !c.ffmpeg_version.is_empty() {
            out += &format!("  ffmpeg {}\n", c.ffmpeg_version);
        }
        if !c.encoders.is_empty() {
            out += &format!("  encoders: {}\n", c.encoders.join(" "));
        }
        if !c.onnx_providers.is_empty() {
            out += &format!("  quality models on: {}\n", c.onnx_providers.join(", "));
        }
    }
    out
}

/// Nodes resolve paths on their own machine: send absolute ones.
/// A local path made absolute (nodes open it on their own machine); a URI as written.
fn absolute(p: &Path) -> String {
    let text = p.to_string_lossy();
    match vmafx_core::InputUri::parse(&text) {
        Ok(vmafx_core::InputUri::Local(_)) | Err(_) => {
            std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()).display().to_string()
        }
        Ok(_) => text.into_owned(),
    }
}

/// `vmafx tokens …`.
pub fn tokens(cluster: ClusterArgs, command: TokensCommand) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let client = connect(&cluster).await?;
        match command {
            TokensCommand::Create { role, name } => {
                let (secret, info) = client.create_token(&role, &name).await?;
                println!("{secret}");
                eprintln!(
                    "vmafx: made the {} token `{}`; this is the only time its secret is shown",
                    info.role, info.name
                );
            }
            TokensCommand::List { nodes, json } => {
                let tokens = client.tokens(nodes).await?;
                if json {
                    let list: Vec<_> = tokens
                        .iter()
                        .map(|t| {
                            serde_json::json!({
                                "name": t.name, "role": t.role,
                                "node_id": (!t.node_id.is_empty()).then_some(&t.node_id),
                                "created_ms": t.created_ms,
                                "revoked_ms": (t.revoked_ms > 0).then_some(t.revoked_ms),
                            })
                        })
                        .collect();
                    println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "tokens": list }))?);
                } else {
                    println!("{:<24} {:<7} {:<10} node", "name", "role", "state");
                    for t in &tokens {
                        let state = if t.revoked_ms > 0 { "revoked" } else { "active" };
                        println!("{:<24} {:<7} {:<10} {}", t.name, t.role, state, t.node_id);
                    }
                }
            }
            TokensCommand::Revoke { name } => {
                let n = client.revoke_token(&name).await?;
                println!("revoked {n} token(s) called `{name}`");
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_at_a_glance() {
        assert_eq!(age(42_000), "42s");
        assert_eq!(age(7 * 60_000 + 5), "7m");
        assert_eq!(age(3 * 3_600_000), "3h");
        assert_eq!(age(12 * 86_400_000), "12d");
        assert_eq!(age(-5), "0s", "a clock a little behind the controller's");
    }

    #[test]
    fn requirements_are_described_in_words() {
        let r = Requirements {
            gpu_vendor: Some("nvidia".into()),
            encoder: Some("libx264".into()),
            labels: [("zone".to_string(), "eu".to_string())].into(),
            models: false,
        };
        assert_eq!(describe(&r), "gpu nvidia, encoder libx264, label zone=eu");
    }
}
