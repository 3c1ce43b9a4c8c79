//! Command-line arguments. Every flag can also be set through a `VMAFX_*` environment variable.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use vmafx_core::{InputOptions, RawVideo, ReportFormat};
use vmafx_engine::catalog::DEFAULT_MODEL;
use vmafx_engine::Segment;
use vmafx_media::sync::SyncMode;

use crate::plot::PlotFile;

fn parse_segment(s: &str) -> Result<Segment, String> {
    let (start, frames) = s.split_once(':').ok_or("expected START:COUNT, e.g. 240:120")?;
    let num = |v: &str| v.trim().parse::<u64>().map_err(|_| format!("`{v}` is not a frame count"));
    Ok(Segment { start: num(start)?, frames: num(frames)? })
}

#[derive(Debug, Parser)]
#[command(
    name = "vmafx",
    version,
    about = "Video quality scores with libvmaf's exact numbers: VMAF, PSNR, SSIM, MS-SSIM, CAMBI, CIEDE...",
    long_about = "Video quality scores with libvmaf's exact numbers.\n\n\
        vmafx scores a distorted video against its reference with libvmaf linked in-process. \
        Y4M is read directly; anything ffmpeg can decode is streamed through a pipe, with no \
        temporary files.",
    after_help = "Examples:\n  \
        vmafx score ref.y4m dist.mp4\n  \
        vmafx score -r ref.y4m -d dist.mp4 --feature psnr --feature float_ssim --format json -o scores.json\n  \
        vmafx models"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Score a distorted video against its reference.
    Score(Box<ScoreArgs>),
    /// List the VMAF models built into libvmaf, and a model registry's ONNX models.
    Models {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// A model registry directory (`registry.json` + `.onnx` files): list its models too,
        /// each checked as a node would load it (sha256, then its graph against its declared
        /// features, in ONNX Runtime).
        #[arg(long, env = "VMAFX_MODEL_REGISTRY", value_name = "DIR", global = true)]
        registry: Option<std::path::PathBuf>,
        #[command(subcommand)]
        action: Option<ModelsAction>,
    },
    /// List the extra features `--feature` accepts.
    Features {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Submit a scoring job to a controller (see docs/cluster.md).
    Submit(Box<SubmitArgs>),
    /// List the nodes registered with a controller, drain or remove one.
    Nodes {
        #[command(flatten)]
        cluster: ClusterArgs,
        /// Print JSON (the HTTP API's `/v1/nodes` entries) instead of a table.
        #[arg(long)]
        json: bool,
        #[command(subcommand)]
        command: Option<NodesCommand>,
    },
    /// Run a controller and a local node in one process: the single-machine service.
    Up(Box<UpArgs>),
    /// Make, list and revoke API tokens with roles (admin token).
    Tokens {
        #[command(flatten)]
        cluster: ClusterArgs,
        #[command(subcommand)]
        command: TokensCommand,
    },
    /// List, show, cancel or follow jobs on a controller.
    Jobs {
        #[command(flatten)]
        cluster: ClusterArgs,
        #[command(subcommand)]
        command: JobsCommand,
    },
}

/// Where the controller is and how to authenticate.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Controller gRPC address (several, comma separated, for controllers sharing one queue);
    /// http:// only for a controller started with --insecure-plaintext.
    #[arg(long, env = "VMAFX_CONTROLLER", default_value = "https://127.0.0.1:50051", global = true)]
    pub controller: String,
    /// The CA certificate (PEM) that signed the controller's [default: $VMAFX_DATA_DIR/tls/ca.pem
    /// or ./vmafx-data/tls/ca.pem, where the controller makes one].
    #[arg(long, env = "VMAFX_CA", value_name = "FILE", global = true)]
    pub ca: Option<PathBuf>,
    /// Admin token [default: read from $VMAFX_DATA_DIR/admin.token or ./vmafx-data/admin.token,
    /// where `vmafx up` and `vmafx-controller` write it].
    #[arg(long, env = "VMAFX_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum NodesCommand {
    /// Ask a node to drain: it takes no new work, finishes its running items, then exits.
    Drain {
        /// Node name or id, as `vmafx nodes` lists them.
        node: String,
    },
    /// Remove a node: its credential is revoked at once (its calls are refused) and it is
    /// forgotten; its leased items go back to the queue when their leases expire. It may join
    /// again only with the join token, as a new node.
    Remove {
        /// Node name or id, as `vmafx nodes` lists them.
        node: String,
    },
    /// Replace the join token (node.token) that registers nodes: the old one stops working on
    /// every controller of the queue within seconds; registered nodes keep their own
    /// credentials. Prints the new token (the controller also writes it to its node.token).
    RotateJoinToken,
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Make a token; its secret is printed once (only its SHA-256 is kept).
    #[command(
        after_help = "Roles:\n  read    list and get jobs, watch them, list nodes and models (dashboards, Grafana)\n  \
        submit  also submit jobs (CI, vmafx-tune)\n  admin   everything: cancel, drain, remove nodes, tokens\n\n\
        Example:\n  vmafx tokens create --role read --name grafana"
    )]
    Create {
        /// read, submit or admin.
        #[arg(long)]
        role: String,
        /// Who holds it (letters, digits, -, _ and .): shown in listings and in the
        /// controller's log when it is refused.
        #[arg(long)]
        name: String,
    },
    /// List the tokens: name, role, when made, when revoked (never their secrets).
    List {
        /// Also every node's credential.
        #[arg(long)]
        nodes: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke the tokens called NAME: refused on every controller of the queue within seconds.
    Revoke {
        /// The token's name.
        name: String,
    },
}

/// `vmafx up`: the embedded service.
#[derive(Debug, Args)]
#[command(after_help = "Then, from another shell on this machine:\n  \
    vmafx submit --wait ref.y4m dist.mp4      # the token is read from --data-dir\n  \
    vmafx jobs list\n\n\
    Other machines can join with `vmafx-node --controller https://THIS-HOST:50051 --token $(cat vmafx-data/node.token) --ca ca.pem`\n\
    (ca.pem: a copy of vmafx-data/tls/ca.pem) once --listen is on a reachable address and --tls-name names THIS-HOST.")]
pub struct UpArgs {
    /// Where the job queue (SQLite) and the API tokens live; kept across restarts.
    #[arg(long, env = "VMAFX_DATA_DIR", default_value = "vmafx-data")]
    pub data_dir: PathBuf,
    /// The queue somewhere else: postgres://USER@HOST:PORT/DB (shared with other
    /// controllers) or sqlite:PATH [default: sqlite:DATA_DIR/state.db].
    #[arg(long, env = "VMAFX_STORE", value_name = "URL")]
    pub store: Option<vmafx_store::StoreLocation>,
    /// gRPC address (port 0 picks a free port; the chosen address is printed).
    #[arg(long, env = "VMAFX_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: std::net::SocketAddr,
    /// HTTP address: JSON API under /v1, /healthz, /readyz, /metrics.
    #[arg(long, env = "VMAFX_HTTP_LISTEN", default_value = "127.0.0.1:8080")]
    pub http_listen: std::net::SocketAddr,
    /// Work items the local node runs at once (0: controller only, nodes join from elsewhere).
    #[arg(long, env = "VMAFX_SLOTS", default_value_t = 1)]
    pub slots: u32,
    /// libvmaf threads per slot [default: all cores / slots].
    #[arg(long, env = "VMAFX_THREADS")]
    pub threads: Option<u32>,
    /// Attempts per work item before its job fails.
    #[arg(long, env = "VMAFX_MAX_ATTEMPTS", default_value_t = 3)]
    pub max_attempts: u32,
    /// Log lines on stderr: text, or json (with job_id, item_id and node_id fields).
    #[arg(long, env = "VMAFX_LOG_FORMAT", default_value = "text")]
    pub log_format: vmafx_logging::LogFormat,
    #[command(flatten)]
    pub tls: vmafx_controller::tls::TlsArgs,
    #[command(flatten)]
    pub remote_inputs: vmafx_storage::RemoteInputArgs,
    /// A directory jobs may read local files from (inputs, model files), repeatable; paths
    /// are resolved (symlinks, `..`) before the check, and only regular files pass [default: the working directory].
    #[arg(long = "allow-root", env = "VMAFX_ALLOW_ROOTS", value_name = "DIR", value_delimiter = ',')]
    pub allow_roots: Vec<PathBuf>,
    /// Delete jobs this long after they end (30d, 12h, 90m) [default: keep everything].
    #[arg(long, env = "VMAFX_RETAIN", value_name = "DURATION", value_parser = vmafx_core::parse_duration)]
    pub retain: Option<std::time::Duration>,
    /// A model registry directory: the local node runs its models for jobs that ask for an
    /// estimate (picking up new versions and pins without a restart), and `/v1/models` lists
    /// it (docs/models.md).
    #[arg(long, env = "VMAFX_MODEL_REGISTRY", value_name = "DIR")]
    pub registry: Option<PathBuf>,
    /// The trainer's Unix socket (`vmafx-trainer serve --socket`) the local node sends
    /// training triples to.
    #[arg(long, env = "VMAFX_TRAINER_SOCKET", value_name = "PATH", requires = "registry")]
    pub trainer: Option<PathBuf>,
    /// ffmpeg binary the local node decodes and encodes with.
    #[arg(long, env = "VMAFX_FFMPEG", default_value = "ffmpeg")]
    pub ffmpeg: PathBuf,
    /// ffprobe binary the controller probes inputs with at submission.
    #[arg(long, env = "VMAFX_FFPROBE", default_value = "ffprobe")]
    pub ffprobe: PathBuf,
}

/// How `jobs` and `nodes` print: a table for people, or the HTTP API's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ViewFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Jobs, newest first: state, frames done, pooled VMAF, age, what each scores.
    List {
        /// Only jobs in this state: queued, running, succeeded, failed, cancelled.
        #[arg(long)]
        state: Option<vmafx_core::JobState>,
        /// Show at most N jobs.
        #[arg(long, value_name = "N", default_value_t = 20, conflicts_with = "all")]
        limit: usize,
        /// Show every job (all pages).
        #[arg(long)]
        all: bool,
        /// Oldest first.
        #[arg(long)]
        oldest_first: bool,
        /// Output: text (a table) or json (as the HTTP API's GET /v1/jobs).
        #[arg(short = 'F', long, default_value = "text")]
        format: ViewFormat,
        /// Same as --format json.
        #[arg(long)]
        json: bool,
    },
    /// One job: its state and, once it succeeded, its pooled scores.
    #[command(after_help = "Examples:\n  \
        vmafx jobs get job-0190c7d2...               # state, progress, pooled scores\n  \
        vmafx jobs get job-0190c7d2... --frames      # and every frame's scores\n  \
        vmafx jobs get job-0190c7d2... --format json # as GET /v1/jobs/ID?scores=true&frames=false\n  \
        vmafx jobs get job-0190c7d2... --plot job.svg # the per-frame plot (.svg or .png)")]
    Get {
        /// Job id (from `vmafx submit` or `vmafx jobs list`).
        id: String,
        /// Also draw the per-frame plot of a succeeded job into FILE (.svg or .png).
        #[arg(long, value_name = "FILE", value_parser = PlotFile::parse)]
        plot: Option<PlotFile>,
        /// Also every frame's scores.
        #[arg(long)]
        frames: bool,
        /// Output: text, or json (as the HTTP API's GET /v1/jobs/ID?scores=true).
        #[arg(short = 'F', long, default_value = "text")]
        format: ViewFormat,
        /// Same as --format json.
        #[arg(long)]
        json: bool,
    },
    /// Cancel a job that has not finished.
    Cancel {
        /// Job id.
        id: String,
    },
    /// Follow a job's progress until it ends.
    #[command(after_help = "Exit codes: 0 succeeded, 1 failed, 3 cancelled, 2 no such job or bad usage.")]
    Watch {
        /// Job id.
        id: String,
    },
}

/// What `vmafx models` can change in a registry (the node reading it follows at its next item).
#[derive(Debug, Subcommand)]
pub enum ModelsAction {
    /// Serve ID@VERSION for ID from now on, newer versions notwithstanding: keeps a node on a
    /// version, or rolls it back to an older one (`pins.json` beside `registry.json`).
    Pin {
        /// ID@VERSION, a version the registry holds.
        #[arg(value_name = "ID@VERSION")]
        model: String,
    },
    /// Serve ID's newest version again.
    Unpin {
        /// The model id to serve the newest version of.
        #[arg(value_name = "ID")]
        id: String,
    },
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    vmafx submit -r /data/ref.y4m -d /data/enc.mp4 --segment-frames 240 --wait\n  \
    VMAFX_TOKEN=$(cat data/admin.token) vmafx submit ref.y4m enc.mp4 --wait --format json")]
pub struct SubmitArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Reference video, as the nodes see it.
    #[arg(short = 'r', long, value_name = "FILE")]
    pub reference: Option<PathBuf>,
    /// Distorted video, as the nodes see it.
    #[arg(short = 'd', long, value_name = "FILE")]
    pub distorted: Option<PathBuf>,
    /// REFERENCE DISTORTED, as an alternative to -r/-d.
    #[arg(value_name = "REF DIST", num_args = 0..=2)]
    pub positional: Vec<PathBuf>,
    /// Built-in VMAF model (see `vmafx models`).
    #[arg(short = 'm', long, default_value = DEFAULT_MODEL)]
    pub model: String,
    /// A custom VMAF model JSON file, as the nodes see it (overrides --model).
    #[arg(long, value_name = "FILE")]
    pub model_path: Option<PathBuf>,
    /// Extra metric to compute, repeatable: psnr, float_ssim, float_ms_ssim, cambi, ciede,
    /// psnr_hvs... (see `vmafx features`).
    #[arg(short = 'f', long, value_delimiter = ',', value_name = "NAME")]
    pub feature: Vec<String>,
    /// Score every N-th frame only (faster, less precise).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub subsample: u32,
    /// Split into segments of N frames, scored in parallel by different nodes.
    #[arg(long, value_name = "N")]
    pub segment_frames: Option<u64>,
    /// Also an estimate by a model of the node's registry, ID or ID@VERSION, beside VMAF
    /// (named ID@VERSION in the result; the job is then one work item). The frames' measures
    /// become training triples for the node's trainer unless --no-capture (docs/models.md).
    #[arg(long, value_name = "ID[@VERSION]")]
    pub estimate: Option<String>,
    /// With --estimate: keep this job's frames out of training.
    #[arg(long, requires = "estimate")]
    pub no_capture: bool,
    /// No reference: give the distorted alone; the job's result is --estimate's no-reference
    /// (nr) model's estimate of VMAF from it (no VMAF, no training triples).
    #[arg(long, requires = "estimate")]
    pub nr: bool,
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Higher runs first.
    #[arg(long, default_value_t = 0)]
    pub priority: i32,
    /// Submitting twice with the same key gives one job.
    #[arg(long)]
    pub idempotency_key: Option<String>,
    /// Run only on nodes with a GPU of this vendor (nvidia, amd, intel).
    #[arg(long)]
    pub gpu_vendor: Option<String>,
    /// Run only on nodes with this label, KEY=VALUE (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Wait for the job and print the same report as `vmafx score`.
    #[arg(long)]
    pub wait: bool,
    /// Report format with --wait: text, json, csv, xml.
    #[arg(short = 'F', long, default_value = "text")]
    pub format: ReportFormat,
    /// With --wait: write the report to FILE instead of stdout.
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// With --wait: also draw the per-frame plot into FILE (.svg or .png).
    #[arg(long, value_name = "FILE", requires = "wait", value_parser = PlotFile::parse)]
    pub plot: Option<PlotFile>,
    /// No progress bar, job id or hints on stderr (errors still print).
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

impl SubmitArgs {
    /// The reference and distorted paths; with --nr, an empty reference and the one video.
    pub fn inputs(&self) -> Result<(PathBuf, PathBuf), &'static str> {
        match self.nr {
            true => Ok((PathBuf::new(), nr_input(&self.reference, &self.distorted, &self.positional)?)),
            false => pick_inputs(&self.reference, &self.distorted, &self.positional),
        }
    }
}

fn pick_inputs(
    reference: &Option<PathBuf>,
    distorted: &Option<PathBuf>,
    positional: &[PathBuf],
) -> Result<(PathBuf, PathBuf), &'static str> {
    let mut pos = positional.iter().cloned();
    let reference = reference.clone().or_else(|| pos.next());
    let distorted = distorted.clone().or_else(|| pos.next());
    if pos.next().is_some() {
        return Err("too many inputs: give REF DIST, or --reference and --distorted");
    }
    match (reference, distorted) {
        (Some(r), Some(d)) => Ok((r, d)),
        (None, _) => Err("missing the reference video: give REF DIST or --reference REF --distorted DIST"),
        (_, None) => Err("missing the distorted video: give REF DIST or --reference REF --distorted DIST"),
    }
}

/// How inputs are read and matched: the same flags for `score` and `submit`.
#[derive(Debug, Clone, Args)]
pub struct InputArgs {
    /// Score at most N frame pairs.
    #[arg(long, env = "VMAFX_FRAMES", value_name = "N")]
    pub frames: Option<u64>,
    /// Skip the first N frames of the reference (to align clips that start differently).
    #[arg(long, env = "VMAFX_SKIP_REFERENCE", default_value_t = 0, value_name = "N")]
    pub skip_reference: u64,
    /// Skip the first N frames of the distorted video.
    #[arg(long, env = "VMAFX_SKIP_DISTORTED", default_value_t = 0, value_name = "N")]
    pub skip_distorted: u64,
    /// swscale filter used to scale the distorted video (bicubic, bilinear, lanczos, spline...).
    #[arg(long, env = "VMAFX_SCALE_FILTER", default_value = "bicubic")]
    pub scale_filter: String,
    /// When the frame rates differ (or one is variable), bring the distorted to the
    /// reference's rate with ffmpeg's fps filter (frames repeated or dropped by time).
    #[arg(long, env = "VMAFX_FPS_MATCH")]
    pub fps_match: bool,
    /// Width of raw .yuv inputs (they have no header).
    #[arg(long, env = "VMAFX_WIDTH", value_name = "PIXELS", help_heading = "Raw YUV inputs (.yuv)")]
    pub width: Option<u32>,
    /// Height of raw .yuv inputs.
    #[arg(long, env = "VMAFX_HEIGHT", value_name = "PIXELS", help_heading = "Raw YUV inputs (.yuv)")]
    pub height: Option<u32>,
    /// Pixel format of raw .yuv inputs: yuv420p, yuv422p, yuv444p, yuv420p10le...
    #[arg(long, env = "VMAFX_PIX_FMT", value_name = "NAME", help_heading = "Raw YUV inputs (.yuv)")]
    pub pix_fmt: Option<String>,
    /// Frame rate of raw .yuv inputs (25, 24000/1001); compared with the other input's.
    #[arg(long, env = "VMAFX_FPS", value_name = "RATE", help_heading = "Raw YUV inputs (.yuv)")]
    pub fps: Option<String>,
    /// The reference is raw YUV of this layout (when the two raw inputs differ).
    #[arg(long, env = "VMAFX_REFERENCE_RAW", value_name = "WxH:PIX_FMT[:FPS]", value_parser = parse_raw, help_heading = "Raw YUV inputs (.yuv)")]
    pub reference_raw: Option<RawVideo>,
    /// The distorted is raw YUV of this layout.
    #[arg(long, env = "VMAFX_DISTORTED_RAW", value_name = "WxH:PIX_FMT[:FPS]", value_parser = parse_raw, help_heading = "Raw YUV inputs (.yuv)")]
    pub distorted_raw: Option<RawVideo>,
}

impl InputArgs {
    /// The job's input options: a `.yuv` input takes --width/--height/--pix-fmt/--fps unless
    /// its own --reference-raw/--distorted-raw says otherwise.
    pub fn options(&self, reference: &Path, distorted: &Path) -> Result<InputOptions, String> {
        let common = match (self.width, self.height, &self.pix_fmt) {
            (Some(width), Some(height), Some(pix_fmt)) => Some(RawVideo {
                width,
                height,
                pix_fmt: pix_fmt.clone(),
                fps: self.fps.clone().unwrap_or_default(),
            }),
            (None, None, None) => None,
            _ => return Err("raw YUV needs all of --width, --height and --pix-fmt".into()),
        };
        let is_raw = |p: &Path| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("yuv"));
        let side =
            |own: &Option<RawVideo>, path: &Path| own.clone().or(common.clone().filter(|_| is_raw(path)));
        Ok(InputOptions {
            scale_filter: self.scale_filter.clone(),
            fps_match: self.fps_match,
            reference_raw: side(&self.reference_raw, reference),
            distorted_raw: side(&self.distorted_raw, distorted),
            skip_reference: self.skip_reference,
            skip_distorted: self.skip_distorted,
            max_frames: self.frames,
        })
    }
}

/// `1920x1080:yuv420p[:25]`.
fn parse_raw(s: &str) -> Result<RawVideo, String> {
    let mut parts = s.splitn(3, ':');
    let size = parts.next().unwrap_or_default();
    let pix_fmt = parts.next().ok_or_else(|| format!("`{s}`: expected WxH:PIX_FMT[:FPS]"))?;
    let (w, h) = size.split_once('x').ok_or_else(|| format!("`{size}`: expected WIDTHxHEIGHT"))?;
    let num = |v: &str| v.parse::<u32>().map_err(|_| format!("`{v}` in `{s}` is not a number"));
    Ok(RawVideo {
        width: num(w)?,
        height: num(h)?,
        pix_fmt: pix_fmt.to_string(),
        fps: parts.next().unwrap_or_default().to_string(),
    })
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    vmafx score ref.y4m dist.mp4\n  \
    vmafx score -r ref.y4m -d dist_540p.mp4                # distorted scaled to the reference size (bicubic)\n  \
    vmafx score -r ref.y4m -d dist.mp4 --feature psnr --feature float_ssim --format json\n  \
    vmafx score -r ref.mkv -d dist.mkv --skip-distorted 2 --frames 240\n  \
    vmafx score ref.y4m dist.mp4 --plot vmaf.png           # and the per-frame plot (.svg or .png)\n  \
    vmafx score ref.mp4 capture.mp4 --sync auto            # find dropped/extra leading frames, score aligned\n  \
    vmafx score ref.y4m dist_50fps.mp4 --fps-match         # pair frames by time at the reference's rate\n  \
    vmafx score ref.yuv dist.yuv --width 1920 --height 1080 --pix-fmt yuv420p --fps 25\n  \
    vmafx score ref.y4m dist.mp4 --model registry:fr-fast --registry models   # a fast estimate of VMAF\n  \
    vmafx score --nr dist.mp4 --model registry:nr-luma --registry models      # no reference: an estimate\n\n\
    Inputs are matched by one rule (docs/scoring.md, \"How inputs are matched\"); every\n\
    conversion is named in a note.\n\n\
    Exit codes: 0 ok, 2 bad input or usage, 1 internal failure.")]
pub struct ScoreArgs {
    /// Reference (original) video: Y4M, or anything ffmpeg decodes.
    #[arg(short = 'r', long, env = "VMAFX_REFERENCE", value_name = "FILE")]
    pub reference: Option<PathBuf>,
    /// Distorted (encoded) video; scaled to the reference's size when they differ.
    #[arg(short = 'd', long, env = "VMAFX_DISTORTED", value_name = "FILE")]
    pub distorted: Option<PathBuf>,
    /// REFERENCE DISTORTED, as an alternative to -r/-d (with --nr: DISTORTED alone).
    #[arg(value_name = "REF DIST", num_args = 0..=2)]
    pub positional: Vec<PathBuf>,
    /// No reference: estimate quality from the distorted alone with a no-reference (`nr`)
    /// model of --registry (`vmafx score --nr DIST --model registry:nr-luma --registry
    /// models`). Only the distorted is decoded; the result is that model's estimate of VMAF,
    /// named by its ID@VERSION, never VMAF.
    #[arg(long, env = "VMAFX_NR")]
    pub nr: bool,
    /// Built-in VMAF model (see `vmafx models`), or `registry:ID[@VERSION]`: an ONNX model
    /// of --registry whose estimate of VMAF replaces it (docs/models.md; reported under the
    /// model's ID@VERSION, never as VMAF).
    #[arg(short = 'm', long, env = "VMAFX_MODEL", default_value = DEFAULT_MODEL)]
    pub model: String,
    /// A custom VMAF model JSON file (overrides --model).
    #[arg(long, env = "VMAFX_MODEL_PATH", value_name = "FILE")]
    pub model_path: Option<PathBuf>,
    /// The model registry directory `--model registry:ID` loads from.
    #[arg(long, env = "VMAFX_MODEL_REGISTRY", value_name = "DIR")]
    pub registry: Option<PathBuf>,
    /// Extra metric to compute, repeatable: psnr, float_ssim, float_ms_ssim, cambi, ciede,
    /// psnr_hvs... (see `vmafx features`).
    #[arg(short = 'f', long, env = "VMAFX_FEATURES", value_delimiter = ',', value_name = "NAME")]
    pub feature: Vec<String>,
    /// libvmaf worker threads [default: all cores].
    #[arg(short = 't', long, env = "VMAFX_THREADS")]
    pub threads: Option<u32>,
    /// Decoder threads per non-Y4M input [default: the cores libvmaf leaves free, at least 1].
    #[arg(long, env = "VMAFX_DECODE_THREADS", value_name = "N")]
    pub decode_threads: Option<u32>,
    /// Where compressed inputs are probed and decoded: `auto` reads a local file's streams
    /// in this process (libavformat, no ffprobe process) and decodes it there too (libavcodec,
    /// no ffmpeg process or pipe) wherever that gives exactly ffmpeg's frames, and runs the
    /// programs otherwise; `ffmpeg` always runs the --ffprobe and --ffmpeg binaries.
    #[arg(long, env = "VMAFX_DECODER", default_value = "auto", value_name = "auto|ffmpeg")]
    pub decoder: vmafx_media::Decoder,
    /// Score every N-th frame only (faster, less precise).
    #[arg(long, env = "VMAFX_SUBSAMPLE", default_value_t = 1, value_name = "N")]
    pub subsample: u32,
    /// Score only frames START..START+COUNT, with exactly the per-frame scores a whole run
    /// gives (one context frame on each side feeds the motion feature). For splitting work.
    #[arg(long, env = "VMAFX_SEGMENT", value_name = "START:COUNT", value_parser = parse_segment)]
    pub segment: Option<Segment>,
    /// When the frame counts differ, score the common prefix and warn instead of failing.
    #[arg(long, env = "VMAFX_ALLOW_LENGTH_MISMATCH")]
    pub allow_length_mismatch: bool,
    /// Frame alignment: `check` warns when the first frames look shifted (frames dropped or
    /// added at the start of either input) and suggests the fix; `auto` finds the offset and
    /// scores aligned (as the --skip-* flags it names would); `off` does not look.
    #[arg(long, env = "VMAFX_SYNC", default_value = "check", value_name = "check|auto|off")]
    pub sync: SyncMode,
    /// How far either way --sync looks for the offset, in seconds.
    #[arg(long, env = "VMAFX_SYNC_SECONDS", default_value_t = vmafx_media::sync::DEFAULT_SECONDS, value_name = "SECONDS")]
    pub sync_seconds: f64,
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Report format: text (summary), json (libvmaf schema + percentiles), csv (per frame), xml.
    #[arg(short = 'F', long, env = "VMAFX_FORMAT", default_value = "text")]
    pub format: ReportFormat,
    /// Write the report to FILE instead of stdout.
    #[arg(short = 'o', long, env = "VMAFX_OUTPUT", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also draw the per-frame plot into FILE (.svg or .png): VMAF with its pooled values
    /// and worst frames marked, one panel per extra metric.
    #[arg(long, value_name = "FILE", value_parser = PlotFile::parse)]
    pub plot: Option<PlotFile>,
    /// No progress bar or notes on stderr (warnings and errors still print).
    #[arg(short = 'q', long, env = "VMAFX_QUIET")]
    pub quiet: bool,
    /// ffmpeg binary used to decode non-Y4M inputs.
    #[arg(long, env = "VMAFX_FFMPEG", default_value = "ffmpeg")]
    pub ffmpeg: PathBuf,
    /// ffprobe binary used to inspect non-Y4M inputs.
    #[arg(long, env = "VMAFX_FFPROBE", default_value = "ffprobe")]
    pub ffprobe: PathBuf,
}

impl ScoreArgs {
    /// The reference and distorted paths, from flags or positionals.
    pub fn inputs(&self) -> Result<(PathBuf, PathBuf), &'static str> {
        pick_inputs(&self.reference, &self.distorted, &self.positional)
    }

    /// The one input of `--nr`: the distorted, from -d or the one positional.
    pub fn nr_input(&self) -> Result<PathBuf, &'static str> {
        nr_input(&self.reference, &self.distorted, &self.positional)
    }
}

/// The distorted of a no-reference run, from -d or the one positional.
fn nr_input(
    reference: &Option<PathBuf>,
    distorted: &Option<PathBuf>,
    positional: &[PathBuf],
) -> Result<PathBuf, &'static str> {
    if reference.is_some() {
        return Err("--nr scores the distorted alone: drop --reference");
    }
    match (distorted, positional) {
        (Some(d), []) | (None, [d]) => Ok(d.clone()),
        (None, []) => Err("missing the distorted video: give --nr DIST"),
        _ => Err("--nr scores the distorted alone: give one video, --nr DIST"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> ScoreArgs {
        let cli = Cli::try_parse_from(["vmafx", "score"].iter().chain(args)).unwrap();
        match cli.command {
            Command::Score(a) => *a,
            _ => unreachable!(),
        }
    }

    #[test]
    fn inputs_from_flags_or_positionals() {
        assert_eq!(parse(&["a.y4m", "b.mp4"]).inputs().unwrap(), ("a.y4m".into(), "b.mp4".into()));
        assert_eq!(
            parse(&["-r", "a.y4m", "-d", "b.mp4"]).inputs().unwrap(),
            ("a.y4m".into(), "b.mp4".into())
        );
        assert!(parse(&["-r", "a.y4m"]).inputs().unwrap_err().contains("distorted"));
    }

    #[test]
    fn nr_takes_the_distorted_alone() {
        assert_eq!(parse(&["--nr", "b.mp4"]).nr_input().unwrap(), PathBuf::from("b.mp4"));
        assert_eq!(parse(&["--nr", "-d", "b.mp4"]).nr_input().unwrap(), PathBuf::from("b.mp4"));
        assert!(parse(&["--nr", "a.y4m", "b.mp4"]).nr_input().unwrap_err().contains("one video"));
        assert!(parse(&["--nr", "-r", "a.y4m", "b.mp4"]).nr_input().unwrap_err().contains("--reference"));
        assert!(parse(&["--nr"]).nr_input().unwrap_err().contains("missing"));
    }

    #[test]
    fn segments_parse() {
        assert_eq!(parse(&["a", "b", "--segment", "24:12"]).segment, Some(Segment { start: 24, frames: 12 }));
        assert!(parse_segment("24").is_err());
        assert!(parse_segment("x:1").unwrap_err().contains("`x`"));
    }

    #[test]
    fn raw_layouts_apply_to_yuv_inputs() {
        let a = parse(&["ref.y4m", "dist.yuv", "--width", "64", "--height", "32", "--pix-fmt", "yuv420p"]);
        let o = a.inputs.options(Path::new("ref.y4m"), Path::new("dist.yuv")).unwrap();
        assert_eq!(o.reference_raw, None);
        assert_eq!(o.distorted_raw.unwrap().width, 64);
        let a = parse(&[
            "r.yuv",
            "d.yuv",
            "--reference-raw",
            "64x32:yuv420p10le:25",
            "--distorted-raw",
            "32x16:yuv420p",
        ]);
        let o = a.inputs.options(Path::new("r.yuv"), Path::new("d.yuv")).unwrap();
        assert_eq!(o.reference_raw.unwrap().fps, "25");
        assert_eq!(o.distorted_raw.unwrap().height, 16);
        let a = parse(&["r.yuv", "d.yuv", "--width", "64"]);
        assert!(a.inputs.options(Path::new("r.yuv"), Path::new("d.yuv")).unwrap_err().contains("--height"));
        assert!(parse_raw("64:yuv420p").unwrap_err().contains("WIDTHxHEIGHT"));
    }

    vmafx_logging::every_flag_has_help_text!(Cli);

    #[test]
    fn features_repeat_or_comma_separate() {
        let a = parse(&["a", "b", "--feature", "psnr", "-f", "cambi,ciede", "--format", "json"]);
        assert_eq!(a.feature, ["psnr", "cambi", "ciede"]);
        assert_eq!(a.format, ReportFormat::Json);
    }
}
