//! The cluster commands: `submit` and `jobs`, as a gRPC client of the controller.

use std::path::Path;

use anyhow::{bail, Context as _};
use vmafx_client::JobClient;
use vmafx_core::{catalog, JobState, Report, ReportInfo, ScoreJobSpec, Scores};
use vmafx_proto::job_json;
use vmafx_proto::v1;

use crate::args::{ClusterArgs, JobsCommand, NodesCommand, SubmitArgs};
use crate::{progress, write_report, UsageError};

/// Connects to the controller the flags name, with the admin token (flag, else the data
/// directory's `admin.token`).
async fn connect(c: &ClusterArgs) -> anyhow::Result<JobClient> {
    let token = vmafx_proto::admin_token(Some(&c.token)).ok_or_else(|| {
        UsageError(
            "no token: pass --token or set VMAFX_TOKEN (admin.token in the controller's --data-dir)".into(),
        )
    })?;
    Ok(JobClient::connect(&c.controller, &token).await?)
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

pub fn submit(args: SubmitArgs) -> anyhow::Result<()> {
    let (reference, distorted) = args.inputs().map_err(|m| UsageError(m.into()))?;
    let spec = ScoreJobSpec {
        reference: absolute(&reference),
        distorted: absolute(&distorted),
        model: args.model.clone(),
        model_path: args.model_path.as_deref().map(absolute),
        features: args.feature.clone(),
        subsample: args.subsample,
        segment_frames: args.segment_frames,
        encode: None,
        requirements: vmafx_core::Requirements {
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
        },
        inputs: args.inputs.options(&reference, &distorted).map_err(UsageError)?,
    };
    runtime()?.block_on(async {
        let client = connect(&args.cluster).await?;
        let submitted = client.submit(&spec, args.priority, args.idempotency_key.as_deref()).await?;
        let job = submitted.job;
        if !args.wait {
            let seen = if submitted.created { "" } else { " (already submitted with this idempotency key)" };
            println!("{}{seen}", job.id);
            return Ok(());
        }
        let finished = watch(&client, &job.id, args.quiet).await?;
        if finished.state() != v1::JobState::Succeeded {
            bail!("job {} ended {}: {}", finished.id, state_name(finished.state()), finished.error);
        }
        let report = report(&spec, &finished)?;
        write_report(&report, args.format, args.output.as_deref(), args.quiet)
    })
}

/// Follows a job, drawing progress, until it ends; returns the finished job.
async fn watch(client: &JobClient, id: &str, quiet: bool) -> anyhow::Result<v1::Job> {
    let mut bar = progress::Bar::new(quiet);
    let mut started = false;
    let finished = client
        .wait(id, |done, total| {
            if !started {
                bar.start(Some(total).filter(|&n| n > 0));
                started = true;
            }
            bar.set(done);
        })
        .await;
    bar.finish();
    Ok(finished?)
}

/// The same report `vmafx score` prints, from a finished job.
fn report(spec: &ScoreJobSpec, job: &v1::Job) -> anyhow::Result<Report> {
    let scores: Scores = job.scores.clone().context("the controller sent no scores")?.into();
    let raw = spec.inputs.reference_raw.as_ref().and_then(|r| vmafx_media::RawFormat::from_spec(r).ok());
    let format = vmafx_media::probe(Path::new(&spec.reference), raw.as_ref(), &Default::default())
        .ok()
        .and_then(|p| p.format().ok());
    let headline = catalog::headline_metrics(&spec.features, &scores.metrics);
    let info = ReportInfo {
        reference: spec.reference.clone(),
        distorted: spec.distorted.clone(),
        model: spec.model_path.clone().unwrap_or_else(|| spec.model.clone()),
        score_metric: "vmaf".into(),
        headline,
        width: format.map_or(0, |f| f.width),
        height: format.map_or(0, |f| f.height),
        pix_fmt: format.map(|f| f.pix_fmt.ffmpeg_name()).unwrap_or_default(),
        subsample: spec.subsample.max(1),
        libvmaf_version: vmafx_engine::libvmaf::version(),
        elapsed_s: (job.finished_ms - job.submitted_ms).max(0) as f64 / 1000.0,
        notes: scores.notes.clone(),
        ..Default::default()
    };
    Ok(Report { info, scores })
}

pub fn jobs(cluster: ClusterArgs, command: JobsCommand) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let client = connect(&cluster).await?;
        match command {
            JobsCommand::List { state, json } => {
                let all = client.list(state).await?;
                if json {
                    println!(
                        "{}",
                        serde_json::to_string_pretty(&all.iter().map(job_json).collect::<Vec<_>>())?
                    );
                } else {
                    println!("{:<32} {:<10} {:>9} {:>8}  distorted", "job", "state", "segments", "priority");
                    for j in &all {
                        let segments = format!("{}/{}", j.segments_done, j.segments_total);
                        let dist = j.score.as_ref().map(|s| s.distorted.as_str()).unwrap_or("");
                        println!(
                            "{:<32} {:<10} {:>9} {:>8}  {dist}",
                            j.id,
                            state_name(j.state()),
                            segments,
                            j.priority
                        );
                    }
                }
            }
            JobsCommand::Get { id, json } => {
                let job = client.get(&id, false).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&job_json(&job))?);
                } else {
                    println!(
                        "{}: {} ({}/{} segments, {} frames)",
                        job.id,
                        state_name(job.state()),
                        job.segments_done,
                        job.segments_total,
                        job.total_frames
                    );
                    if !job.error.is_empty() {
                        println!("  error: {}", job.error);
                    }
                }
            }
            JobsCommand::Cancel { id } => {
                let job = client.cancel(&id).await?;
                println!("{}: {}", job.id, state_name(job.state()));
            }
            JobsCommand::Watch { id } => {
                let job = watch(&client, &id, false).await?;
                println!(
                    "{}: {}{}",
                    job.id,
                    state_name(job.state()),
                    if job.error.is_empty() { String::new() } else { format!(": {}", job.error) }
                );
            }
        }
        Ok(())
    })
}

pub fn nodes(cluster: ClusterArgs, json: bool, command: Option<NodesCommand>) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let client = connect(&cluster).await?;
        if let Some(NodesCommand::Drain { id }) = command {
            let n = client.drain(&id).await?;
            println!("{} ({}): draining; it finishes its running items, then exits", n.id, n.name);
            return Ok(());
        }
        let nodes = client.nodes().await?;
        if json {
            let list: Vec<_> = nodes
                .iter()
                .map(|n| {
                    serde_json::json!({
                        "id": n.id, "name": n.name, "cores": n.cores, "slots": n.slots,
                        "gpu_vendor": n.gpu_vendor, "gpu_model": n.gpu_model, "live": n.live,
                        "draining": n.draining, "registered_ms": n.registered_ms, "last_seen_ms": n.last_seen_ms,
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&list)?);
        } else {
            println!("{:<16} {:<6} {:>5} {:>5}  {:<12} id", "name", "state", "cores", "slots", "gpu");
            for n in &nodes {
                let state = if n.draining { "drain" } else if n.live { "live" } else { "gone" };
                let gpu = if n.gpu_vendor.is_empty() { "-".to_string() } else { format!("{} {}", n.gpu_vendor, n.gpu_model) };
                println!("{:<16} {:<6} {:>5} {:>5}  {:<12} {}", n.name, state, n.cores, n.slots, gpu, n.id);
            }
        }
        Ok(())
    })
}

fn state_name(s: v1::JobState) -> &'static str {
    vmafx_proto::job_state(s).map_or("unknown", |s: JobState| s.as_str())
}

/// Nodes resolve paths on their own machine: send absolute ones.
fn absolute(p: &Path) -> String {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()).display().to_string()
}
