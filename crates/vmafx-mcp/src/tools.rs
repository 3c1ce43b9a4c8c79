//! The tools. Each takes a JSON object described by its schema and answers with structured
//! JSON, or with a tool error whose text says what is wrong.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation, ProgressNotificationParam, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{tool, tool_handler, tool_router, ErrorData as McpError, RoleServer, ServerHandler};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value};
use vmafx_client::JobEvent;
use vmafx_core::{
    catalog, job_json, node_json, FramesShown, InputOptions, JobState, RawVideo, Report, ReportInfo,
    ScoreJobSpec,
};
use vmafx_engine::{score_files, ModelChoice, Progress, ScoreRequest};
use vmafx_tune::hull::RungRules;
use vmafx_tune::Runner as _;

use crate::{Cluster, Settings, TuneSource};

/// The vmafx tool set.
#[derive(Clone)]
pub struct Vmafx {
    settings: Arc<Settings>,
    cluster: Option<Cluster>,
    tool_router: ToolRouter<Self>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ScoreArgs {
    /// Path of the reference (original) video.
    pub reference: String,
    /// Path of the distorted (encoded) video.
    pub distorted: String,
    /// VMAF model (see list_models); default vmaf_v0.6.1.
    pub model: Option<String>,
    /// Extra metrics: psnr, float_ssim, float_ms_ssim, cambi, ciede, psnr_hvs, ...
    #[serde(default)]
    pub features: Vec<String>,
    /// Score every n-th frame only.
    pub subsample: Option<u32>,
    /// Include every frame's scores (large); by default only pooled scores come back.
    #[serde(default)]
    pub per_frame: bool,
    /// When the frame rates differ (or one is variable), bring the distorted to the
    /// reference's rate with ffmpeg's fps filter instead of refusing the pair.
    #[serde(default)]
    pub fps_match: bool,
    /// Scaler for a size change (bicubic, bilinear, lanczos, spline...); default bicubic.
    pub scale_filter: Option<String>,
    /// Layout of a raw .yuv reference (it has no header).
    pub reference_raw: Option<RawArgs>,
    /// Layout of a raw .yuv distorted.
    pub distorted_raw: Option<RawArgs>,
}

/// A raw YUV file's layout.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct RawArgs {
    pub width: u32,
    pub height: u32,
    /// Planar YUV format: yuv420p, yuv422p, yuv444p, yuv420p10le...
    pub pix_fmt: String,
    /// Frame rate (25, 24000/1001), if known.
    pub fps: Option<String>,
}

impl ScoreArgs {
    fn inputs(&self) -> InputOptions {
        let raw = |r: &Option<RawArgs>| {
            r.clone().map(|r| RawVideo {
                width: r.width,
                height: r.height,
                pix_fmt: r.pix_fmt,
                fps: r.fps.unwrap_or_default(),
            })
        };
        InputOptions {
            scale_filter: self.scale_filter.clone().unwrap_or_default(),
            fps_match: self.fps_match,
            reference_raw: raw(&self.reference_raw),
            distorted_raw: raw(&self.distorted_raw),
            ..InputOptions::default()
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct WorstFramesArgs {
    /// Path of the reference video.
    pub reference: String,
    /// Path of the distorted video.
    pub distorted: String,
    /// How many frames to return (default 5).
    pub n: Option<usize>,
    /// VMAF model; default vmaf_v0.6.1.
    pub model: Option<String>,
    /// Extra metrics to report for those frames (e.g. psnr, float_ssim).
    #[serde(default)]
    pub features: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct SubmitArgs {
    /// Reference video, as the cluster's nodes see it (absolute path).
    pub reference: String,
    /// Distorted video, as the nodes see it (absolute path).
    pub distorted: String,
    pub model: Option<String>,
    #[serde(default)]
    pub features: Vec<String>,
    /// Split into segments of this many frames scored in parallel on different nodes.
    pub segment_frames: Option<u64>,
    /// Higher runs first.
    pub priority: Option<i32>,
    /// Submitting twice with the same key gives one job.
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct JobArgs {
    /// Job id (from submit_job or list_jobs).
    pub id: String,
    /// With a succeeded job: also its pooled scores (get_job only).
    #[serde(default)]
    pub scores: bool,
    /// With scores: also per-frame scores, this many frames from `frames_offset` (a long
    /// film has hundreds of thousands: page through them). Default none.
    pub frames_limit: Option<usize>,
    /// First frame position of the page (default 0).
    pub frames_offset: Option<usize>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListJobsArgs {
    /// Only jobs in this state: queued, running, succeeded, failed, cancelled.
    pub state: Option<String>,
    /// At most this many, newest first (default 100).
    pub limit: Option<u32>,
    /// List oldest first instead.
    #[serde(default)]
    pub oldest_first: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct ModelArgs {
    /// Model name, e.g. vmaf_v0.6.1.
    pub name: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct CrfSearchArgs {
    /// Source video to encode: a path under the server's roots, or a URI its --allow-input
    /// rules allow (https://, s3://, gs://, az://, rclone:REMOTE:PATH).
    pub source: String,
    /// Score to reach (VMAF unless `metric` says otherwise), e.g. 95.
    pub target: f64,
    /// libx264 (default), libx265, libsvtav1, libaom-av1, libvpx-vp9.
    pub encoder: Option<String>,
    /// Encoder speed preset.
    pub preset: Option<String>,
    /// vmaf (default), psnr_y, float_ssim, ...
    pub metric: Option<String>,
    /// mean (default), harmonic_mean, p5 or min.
    pub pool: Option<String>,
    /// Search on this many evenly spread samples instead of the whole source.
    pub samples: Option<u64>,
    /// Seconds per sample (default 3).
    pub sample_seconds: Option<f64>,
    /// Most encodes to spend (default 12).
    pub max_probes: Option<usize>,
    /// Precision of the answer (default 0.1 for libx264/libx265, which take fractional CRFs;
    /// 0.25 for libsvtav1 with SVT-AV1 4.0 or later; 1 for the others).
    pub crf_step: Option<f64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct LadderArgs {
    /// Source video: a path under the server's roots, or a URI its --allow-input rules allow.
    pub source: String,
    /// libx264 (default), libx265, libsvtav1, libaom-av1, libvpx-vp9.
    pub encoder: Option<String>,
    /// Resolutions like ["1920x1080", "1280x720"]; none larger than the source. Default:
    /// those of 1080p, 720p, 540p and 360p that fit the source.
    #[serde(default)]
    pub resolutions: Vec<String>,
    /// Quality points: "18,23,28" or a lattice "16:46:2"; default the encoder's grid.
    pub crfs: Option<String>,
    /// Choose quality points adaptively where the hull changes (fewer encodes).
    #[serde(default)]
    pub auto: bool,
    /// Rungs wanted (default 6).
    pub rungs: Option<usize>,
    /// Each rung at least this many times the bitrate of the one below (default 1.5).
    pub min_gap_ratio: Option<f64>,
    /// No rung above this score.
    pub max_vmaf: Option<f64>,
    /// Write ladder.json, master.m3u8, ladder.svg and the rungs' encodes here: a directory or
    /// an object-store prefix (s3://BUCKET/PREFIX) under the server's --allow-output rules.
    pub output: Option<String>,
}

fn fail(message: impl Into<String>) -> Result<CallToolResult, McpError> {
    Ok(CallToolResult::error(vec![ContentBlock::text(message.into())]))
}

fn ok(value: Value) -> Result<CallToolResult, McpError> {
    Ok(CallToolResult::structured(value))
}

/// Turns `Result<Value, String>` into a tool answer.
fn answer(r: Result<Value, String>) -> Result<CallToolResult, McpError> {
    match r {
        Ok(v) => ok(v),
        Err(m) => fail(m),
    }
}

/// Sends progress notifications for one request, at most every 100 ms (and always the last).
/// Repeated values are not sent again.
struct Progressor {
    ctx: RequestContext<RoleServer>,
    last: Option<(Instant, f64)>,
}

impl Progressor {
    fn new(ctx: &RequestContext<RoleServer>) -> Self {
        Self { ctx: ctx.clone(), last: None }
    }

    async fn send(&mut self, done: f64, total: Option<f64>, message: &str, force: bool) {
        let Some(token) = self.ctx.meta.get_progress_token() else { return };
        if let Some((at, sent)) = self.last {
            if !force && (sent == done || at.elapsed() < Duration::from_millis(100)) {
                return;
            }
        }
        self.last = Some((Instant::now(), done));
        let mut p = ProgressNotificationParam::new(token, done).with_message(message);
        if let Some(t) = total {
            p = p.with_total(t);
        }
        let _ = self.ctx.peer.notify_progress(p).await;
    }
}

#[tool_router]
impl Vmafx {
    pub fn new(settings: Settings, cluster: Option<Cluster>) -> Self {
        Self { settings: Arc::new(settings), cluster, tool_router: Self::tool_router() }
    }

    #[tool(
        description = "Score a distorted video against its reference with VMAF (libvmaf's exact numbers) and optional extra metrics. Returns pooled scores (min, max, mean, harmonic_mean, p1, p5, p50 per metric); per-frame scores only when per_frame is true. Runs on the cluster when the server has a controller."
    )]
    async fn vmaf_score(
        &self,
        Parameters(a): Parameters<ScoreArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let report = match self
            .score(
                &a.reference,
                &a.distorted,
                a.model.as_deref(),
                &a.features,
                a.subsample,
                &a.inputs(),
                &ctx,
            )
            .await
        {
            Ok(r) => r,
            Err(m) => return fail(m),
        };
        let full = report.0.to_json();
        let mut out = json!({
            "reference": a.reference,
            "distorted": a.distorted,
            "model": report.0.info.model,
            "frames": report.0.scores.frames.len(),
            "vmaf": report.0.pooled_metric("vmaf").map(|p| p.mean),
            "pooled_metrics": full["pooled_metrics"],
            "notes": full["vmafx"]["notes"],
            "ran_on": report.1,
        });
        if a.per_frame {
            out["per_frame"] = full["frames"].clone();
        }
        ok(out)
    }

    #[tool(
        description = "The N lowest-VMAF frames of a distorted video against its reference, each with its time and all its metrics, to point a person at the worst moments."
    )]
    async fn worst_frames(
        &self,
        Parameters(a): Parameters<WorstFramesArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let (report, ran_on) = match self
            .score(
                &a.reference,
                &a.distorted,
                a.model.as_deref(),
                &a.features,
                None,
                &Default::default(),
                &ctx,
            )
            .await
        {
            Ok(r) => r,
            Err(m) => return fail(m),
        };
        let fps = match self.settings.readable("reference", &a.reference).await {
            Ok(at) => vmafx_media::probe(&at, None, &Default::default()).ok().and_then(|p| p.fps()),
            Err(_) => None,
        };
        let Some(vmaf) = report.scores.index_of("vmaf") else { return fail("no vmaf scores came back") };
        let mut frames: Vec<&vmafx_core::FrameScore> = report.scores.frames.iter().collect();
        frames.sort_by(|x, y| x.values[vmaf].total_cmp(&y.values[vmaf]));
        let worst: Vec<Value> = frames
            .iter()
            .take(a.n.unwrap_or(5).max(1))
            .map(|f| {
                let metrics = report.frame_metrics(f);
                json!({
                    "frame": f.frame_num,
                    "time_s": fps.map(|r| f.frame_num as f64 / r),
                    "vmaf": f.values[vmaf],
                    "metrics": metrics,
                })
            })
            .collect();
        ok(json!({ "frames_scored": report.scores.frames.len(), "worst": worst, "ran_on": ran_on }))
    }

    #[tool(
        description = "Submit a scoring job to the cluster's controller and return it at once (poll with get_job). Paths must be readable by the nodes."
    )]
    async fn submit_job(&self, Parameters(a): Parameters<SubmitArgs>) -> Result<CallToolResult, McpError> {
        let Some(c) = &self.cluster else { return fail(NO_CONTROLLER) };
        let (r, d) = match (
            self.settings.check_input("reference", &a.reference).await,
            self.settings.check_input("distorted", &a.distorted).await,
        ) {
            (Ok(r), Ok(d)) => (r, d),
            (Err(m), _) | (_, Err(m)) => return fail(m),
        };
        let spec = ScoreJobSpec {
            reference: r,
            distorted: d,
            model: a.model.unwrap_or_default(),
            model_path: None,
            features: a.features,
            subsample: 1,
            segment_frames: a.segment_frames.filter(|&n| n > 0),
            encode: None,
            pictures: None,
            requirements: Default::default(),
            inputs: Default::default(),
            versions: Default::default(),
            estimate: None,
        };
        let submitted = c.client.submit(&spec, a.priority.unwrap_or(0), a.idempotency_key.as_deref()).await;
        answer(match submitted {
            Ok(s) => {
                let mut job = job_json(&s.job, FramesShown::None);
                job["created"] = json!(s.created);
                Ok(job)
            }
            Err(e) => Err(c.explain(e)),
        })
    }

    #[tool(
        description = "A cluster job's state and progress; with scores=true and a succeeded job, its pooled scores too."
    )]
    async fn get_job(&self, Parameters(a): Parameters<JobArgs>) -> Result<CallToolResult, McpError> {
        let Some(c) = &self.cluster else { return fail(NO_CONTROLLER) };
        answer(match c.client.get(&a.id, a.scores).await {
            Ok(job) => {
                let frames = match a.frames_limit {
                    Some(limit) => FramesShown::Page { offset: a.frames_offset.unwrap_or(0), limit },
                    None => FramesShown::None,
                };
                Ok(job_json(&job, frames))
            }
            Err(e) => Err(c.explain(e)),
        })
    }

    #[tool(description = "Cluster jobs, newest first, optionally only those in one state.")]
    async fn list_jobs(&self, Parameters(a): Parameters<ListJobsArgs>) -> Result<CallToolResult, McpError> {
        let Some(c) = &self.cluster else { return fail(NO_CONTROLLER) };
        let state = match a.state.as_deref().map(str::parse::<JobState>) {
            None => None,
            Some(Ok(s)) => Some(s),
            Some(Err(e)) => return fail(format!("state: {e}")),
        };
        let limit = a.limit.unwrap_or(100).clamp(1, 1000);
        answer(match c.client.list_page(state, limit, "", a.oldest_first).await {
            Ok((jobs, _)) => {
                Ok(json!({ "jobs": jobs.iter().map(|j| job_json(j, FramesShown::None)).collect::<Vec<_>>() }))
            }
            Err(e) => Err(c.explain(e)),
        })
    }

    #[tool(description = "Cancel a cluster job: its nodes stop within seconds and nothing more is recorded.")]
    async fn cancel_job(&self, Parameters(a): Parameters<JobArgs>) -> Result<CallToolResult, McpError> {
        let Some(c) = &self.cluster else { return fail(NO_CONTROLLER) };
        answer(match c.client.cancel(&a.id).await {
            Ok(job) => Ok(job_json(&job, FramesShown::None)),
            Err(e) => Err(c.explain(e)),
        })
    }

    #[tool(description = "The cluster's nodes: name, live or gone, draining, cores, slots, GPU.")]
    async fn list_nodes(&self) -> Result<CallToolResult, McpError> {
        let Some(c) = &self.cluster else { return fail(NO_CONTROLLER) };
        answer(match c.client.nodes().await {
            Ok(nodes) => Ok(json!({ "nodes": nodes.iter().map(node_json).collect::<Vec<_>>() })),
            Err(e) => Err(c.explain(e)),
        })
    }

    #[tool(
        description = "The VMAF models built in, with what each is for; with a controller, also the versions in its model registry (ONNX models whose output is an estimate of VMAF named ID@VERSION, with their holdout PLCC, SROCC and RMSE)."
    )]
    async fn list_models(&self) -> Result<CallToolResult, McpError> {
        match self.models().await {
            Ok((models, problem)) => {
                let mut body = json!({ "models": models.iter().map(model_json).collect::<Vec<_>>() });
                if let Some(p) = problem {
                    body["registry_problem"] = json!(p);
                }
                ok(body)
            }
            Err(e) => fail(e),
        }
    }

    #[tool(
        description = "What one model is for and how to use it: a built-in VMAF model by name, or a registry model by ID (the version nodes serve) or ID@VERSION."
    )]
    async fn describe_model(&self, Parameters(a): Parameters<ModelArgs>) -> Result<CallToolResult, McpError> {
        let (models, _) = match self.models().await {
            Ok(m) => m,
            Err(e) => return fail(e),
        };
        let found = models.iter().find(|m| m.name == a.name).or_else(|| {
            models.iter().find(|m| m.served && m.name.split('@').next() == Some(a.name.as_str()))
        });
        match found {
            Some(m) => ok(model_json(m)),
            None => fail(format!(
                "unknown model `{}`; models: {}",
                a.name,
                models.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ")
            )),
        }
    }

    #[tool(
        description = "Find the highest CRF (smallest file) whose score reaches a target for a source and encoder, in few encodes. Returns the CRF, its score, bitrate, predicted size and every probe."
    )]
    async fn crf_search(
        &self,
        Parameters(a): Parameters<CrfSearchArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let source = a.source.clone();
        self.tune(&source, &ctx, move |runner, source, report| {
            let encoder = vmafx_tune::encoder(a.encoder.as_deref().unwrap_or("libx264"))?;
            let samples = match a.samples.filter(|&n| n > 0) {
                Some(n) => {
                    let fps = runner.source(&source.at).map_err(|e| e.to_string())?.fps;
                    Some((n, ((a.sample_seconds.unwrap_or(3.0) * fps).round() as u64).max(1)))
                }
                None => None,
            };
            let req = vmafx_tune::CrfSearch {
                source: source.at.clone(),
                settings: vmafx_tune::EncodeSettings { encoder, preset: a.preset, extra: vec![] },
                target: a.target,
                scoring: scoring(a.metric.as_deref(), a.pool.as_deref())?,
                samples,
                max_probes: a.max_probes.unwrap_or(12),
                min_crf: None,
                max_crf: None,
                crf_step: a.crf_step,
                jobs: 1,
            };
            let answer = vmafx_tune::crf_search(runner, &req, &|p| {
                report(format!("CRF {}: {:.2} at {:.0} kbit/s", p.crf, p.score, p.bitrate_kbps))
            })
            .map_err(|e| e.to_string())?;
            serde_json::to_value(answer).map_err(|e| e.to_string())
        })
        .await
    }

    #[tool(
        description = "Build a per-title bitrate ladder: encode at several resolutions and quality points, score against the source, take the rate-quality convex hull and pick rungs on it. Returns every point, the hull and the rungs."
    )]
    async fn ladder(
        &self,
        Parameters(a): Parameters<LadderArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, McpError> {
        let source = a.source.clone();
        // Where the ladder goes, checked before any work.
        let output = match a
            .output
            .as_deref()
            .map(|o| vmafx_storage::OutputDir::parse(o).and_then(|dir| self.settings.outputs.check(&dir)))
        {
            Some(Err(m)) => return fail(m),
            Some(Ok(dir)) => Some(dir),
            None => None,
        };
        self.tune(&source, &ctx, move |runner, source, report| {
            let encoder = vmafx_tune::encoder(a.encoder.as_deref().unwrap_or("libx264"))?;
            let resolutions = a
                .resolutions
                .iter()
                .map(|r| vmafx_tune::parse_resolution(r))
                .collect::<Result<Vec<_>, _>>()?;
            let crfs = match &a.crfs {
                Some(s) => vmafx_tune::parse_crfs(s)?,
                None if a.auto => {
                    let g = encoder.ladder_crfs;
                    (g[0]..=g[g.len() - 1]).step_by(2).collect()
                }
                None => encoder.ladder_crfs.to_vec(),
            };
            let req = vmafx_tune::LadderRequest {
                source: source.at.clone(),
                settings: vmafx_tune::EncodeSettings { encoder, preset: None, extra: vec![] },
                resolutions,
                crfs,
                auto: a.auto,
                rules: RungRules {
                    rungs: a.rungs.unwrap_or(6),
                    min_gap_ratio: a.min_gap_ratio.unwrap_or(1.5),
                    max_score: a.max_vmaf,
                },
                scoring: scoring(None, None)?,
                jobs: 1,
            };
            let mut ladder = vmafx_tune::ladder(runner, &req, &|p| {
                report(format!("{}x{} CRF {}: {:.2}", p.width, p.height, p.crf, p.score))
            })
            .map_err(|e| e.to_string())?;
            // Named as given: never by a signed URL.
            ladder.source = source.given.clone();
            let mut answer = serde_json::to_value(&ladder).map_err(|e| e.to_string())?;
            if let Some(dir) = output {
                let files =
                    vmafx_tune::output::ladder_files(runner, &req, &ladder).map_err(|e| e.to_string())?;
                dir.write(&files)?;
                answer["output"] = Value::from(dir.to_string());
                answer["written"] = files.iter().map(|(name, _)| Value::from(name.as_str())).collect();
            }
            Ok(answer)
        })
        .await
    }
}

const NO_CONTROLLER: &str =
    "no controller configured: start vmafx-mcp with --controller URL (and --token) to use cluster jobs";

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Vmafx {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("vmafx-mcp", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Video quality with libvmaf's exact numbers. vmaf_score and worst_frames score a distorted \
                 video against its reference; crf_search and ladder tune encoders; submit_job, get_job, \
                 list_jobs, cancel_job and list_nodes drive a vmafx cluster. Paths must lie under the \
                 server's allowed roots.",
            )
    }
}

impl Vmafx {
    /// The built-in models, and with a controller its registry's versions (and why its
    /// registry cannot be read, if so).
    async fn models(&self) -> Result<(Vec<catalog::ModelInfo>, Option<String>), String> {
        match &self.cluster {
            Some(c) => c.client.models().await.map_err(|e| c.explain(e)),
            None => Ok((catalog::builtin_infos(), None)),
        }
    }

    /// Scores locally (or on the cluster), with progress notifications; a cancelled request
    /// stops the scoring (or cancels the job). Returns the report and where it ran.
    #[allow(clippy::too_many_arguments)]
    async fn score(
        &self,
        reference: &str,
        distorted: &str,
        model: Option<&str>,
        features: &[String],
        subsample: Option<u32>,
        inputs: &InputOptions,
        ctx: &RequestContext<RoleServer>,
    ) -> Result<(Report, String), String> {
        let r = self.settings.check_input("reference", reference).await?;
        let d = self.settings.check_input("distorted", distorted).await?;
        let model = model.filter(|m| !m.is_empty()).unwrap_or(catalog::DEFAULT_MODEL).to_string();
        if !catalog::model_names().contains(&model) {
            return Err(format!(
                "unknown model `{model}`; built-in models: {}",
                catalog::model_names().join(", ")
            ));
        }
        if let Some(f) = features.iter().find(|f| catalog::feature(f).is_none()) {
            return Err(format!(
                "unknown feature `{f}`; valid features: {}",
                catalog::feature_names().join(", ")
            ));
        }
        match &self.cluster {
            Some(c) => self.score_on_cluster(c, r, d, model, features, subsample, inputs, ctx).await,
            None => self
                .score_here(r, d, model, features, subsample, inputs, ctx)
                .await
                .map(|rep| (rep, "local".into())),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn score_here(
        &self,
        r: String,
        d: String,
        model: String,
        features: &[String],
        subsample: Option<u32>,
        inputs: &InputOptions,
        ctx: &RequestContext<RoleServer>,
    ) -> Result<Report, String> {
        let cancel = Arc::new(AtomicBool::new(false));
        let req = ScoreRequest {
            model: ModelChoice::Builtin(model),
            features: features.to_vec(),
            threads: self.settings.threads,
            subsample: subsample.unwrap_or(1).max(1),
            cancel: Some(cancel.clone()),
            ..ScoreRequest::new(
                self.settings.readable("reference", &r).await?,
                self.settings.readable("distorted", &d).await?,
            )
        }
        .with_inputs(inputs)
        .map_err(|e| e.to_string())?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u64, Option<u64>)>();
        let work = tokio::task::spawn_blocking(move || {
            let mut total = None;
            score_files(&req, &mut |p| match p {
                Progress::Start { total: t } => total = t,
                Progress::Frames { done } => {
                    let _ = tx.send((done, total));
                }
                _ => {}
            })
        });
        let mut progress = Progressor::new(ctx);
        let stop = ctx.ct.clone();
        let watch_cancel = tokio::spawn(async move {
            stop.cancelled().await;
            cancel.store(true, Ordering::Relaxed);
        });
        let mut last = (0, None);
        while let Some((done, total)) = rx.recv().await {
            last = (done, total);
            progress.send(done as f64, total.map(|t| t as f64), "frames scored", false).await;
        }
        progress.send(last.0 as f64, last.1.map(|t| t as f64), "frames scored", true).await;
        watch_cancel.abort();
        let outcome = work.await.map_err(|e| format!("scoring failed: {e}"))?.map_err(|e| e.to_string())?;
        let mut report = outcome.report;
        // Named as the agent gave them, never by a signed URL.
        (report.info.reference, report.info.distorted) = (r, d);
        Ok(report)
    }

    #[allow(clippy::too_many_arguments)]
    async fn score_on_cluster(
        &self,
        c: &Cluster,
        r: String,
        d: String,
        model: String,
        features: &[String],
        subsample: Option<u32>,
        inputs: &InputOptions,
        ctx: &RequestContext<RoleServer>,
    ) -> Result<(Report, String), String> {
        let spec = ScoreJobSpec {
            reference: r,
            distorted: d,
            model,
            model_path: None,
            features: features.to_vec(),
            subsample: subsample.unwrap_or(1).max(1),
            segment_frames: None,
            encode: None,
            pictures: None,
            requirements: Default::default(),
            inputs: inputs.clone(),
            versions: Default::default(),
            estimate: None,
        };
        let id = c.client.submit(&spec, 0, None).await.map_err(|e| c.explain(e))?.job.id;
        let mut watch = c.client.watch(&id).await.map_err(|e| c.explain(e))?;
        let mut progress = Progressor::new(ctx);
        let finished = loop {
            let event = tokio::select! {
                _ = ctx.ct.cancelled() => {
                    // The agent gave up: so does the cluster.
                    let _ = c.client.cancel(&id).await;
                    return Err(format!("cancelled; job {id} was cancelled on the controller"));
                }
                e = watch.next() => e.map_err(|e| c.explain(e))?,
            };
            match event {
                Some(JobEvent::Progress { frames_done, total_frames }) => {
                    progress
                        .send(
                            frames_done as f64,
                            Some(total_frames as f64).filter(|&t| t > 0.0),
                            "frames scored",
                            false,
                        )
                        .await;
                }
                Some(JobEvent::Finished(j)) => break j,
                Some(JobEvent::Segment { .. }) => {}
                None => return Err(format!("the controller closed the watch of job {id}")),
            }
        };
        if finished.state != JobState::Succeeded {
            return Err(format!("job {id} {}: {}", finished.state, finished.error.unwrap_or_default()));
        }
        let scores = finished.scores.ok_or_else(|| format!("job {id} has no scores"))?;
        let info = ReportInfo {
            reference: spec.reference,
            distorted: spec.distorted,
            model: spec.model,
            score_metric: "vmaf".into(),
            subsample: spec.subsample,
            notes: scores.notes.clone(),
            ..ReportInfo::default()
        };
        Ok((Report { info, scores }, format!("cluster job {id}")))
    }

    /// Runs tuning `work` on the blocking pool for `source` (checked against the roots or the
    /// remote-input rules first),
    /// with a runner for this server (local, or on the cluster); each line it reports becomes
    /// a progress notification.
    async fn tune(
        &self,
        source: &str,
        ctx: &RequestContext<RoleServer>,
        work: impl FnOnce(&vmafx_tune::LocalRunner, &TuneSource, &(dyn Fn(String) + Sync)) -> Result<Value, String>
            + Send
            + 'static,
    ) -> Result<CallToolResult, McpError> {
        let source = match self.settings.tune_source("source", source).await {
            Ok(s) => s,
            Err(m) => return fail(m),
        };
        let (settings, cluster) = (self.settings.clone(), self.cluster.clone());
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let handle = tokio::task::spawn_blocking(move || {
            let runner = tune_runner(&settings, cluster.as_ref(), &source)?;
            work(&runner, &source, &|line| {
                let _ = tx.send(line);
            })
        });
        let mut progress = Progressor::new(ctx);
        let mut n = 0.0;
        while let Some(line) = rx.recv().await {
            n += 1.0;
            progress.send(n, None, &line, true).await;
        }
        answer(handle.await.map_err(|e| format!("tuning failed: {e}")).and_then(|r| r))
    }
}

fn tune_runner(
    settings: &Settings,
    cluster: Option<&Cluster>,
    source: &TuneSource,
) -> Result<vmafx_tune::LocalRunner, String> {
    let mut runner =
        vmafx_tune::LocalRunner::new(settings.cache_dir.clone(), Default::default(), settings.threads);
    if let Some(version) = &source.version {
        runner = runner.with_source_version(&source.at, &source.given, version);
    }
    let Some(c) = cluster else { return Ok(runner) };
    let mut remote =
        vmafx_tune::remote::Remote::connect(c.address(), c.token(), c.tls()).map_err(|e| e.to_string())?;
    if source.remote {
        remote = remote.with_source(source.given.clone());
    }
    Ok(runner.with_remote(remote))
}

fn scoring(metric: Option<&str>, pool: Option<&str>) -> Result<vmafx_tune::Scoring, String> {
    let metric = metric.unwrap_or("vmaf").to_string();
    let known = metric == "vmaf" || catalog::FEATURES.iter().any(|f| f.outputs.contains(&metric.as_str()));
    if !known {
        return Err(format!("unknown metric `{metric}`: use vmaf or a feature output such as psnr_y"));
    }
    let pool = match pool.unwrap_or("mean") {
        "mean" => vmafx_tune::Pool::Mean,
        "harmonic_mean" => vmafx_tune::Pool::HarmonicMean,
        "p5" => vmafx_tune::Pool::P5,
        "min" => vmafx_tune::Pool::Min,
        other => return Err(format!("unknown pool `{other}`: mean, harmonic_mean, p5 or min")),
    };
    Ok(vmafx_tune::Scoring { model: catalog::DEFAULT_MODEL.into(), metric, pool })
}

fn model_json(m: &catalog::ModelInfo) -> Value {
    let mut v = serde_json::to_value(m).unwrap_or_default();
    v["use"] = json!(match m.source.as_str() {
        "registry" => format!(
            "submit_job with estimate=\"{}\": an estimate by this model beside VMAF, made by the nodes \
             (CLI: vmafx submit --estimate {} ...)",
            m.name, m.name
        ),
        _ => format!("vmaf_score with model=\"{}\" (CLI: vmafx score --model {})", m.name, m.name),
    });
    v
}
