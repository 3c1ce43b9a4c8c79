//! `vmafx-trainer`: collects training triples from clip pairs and fits, checks and publishes
//! quality models to a model registry (docs/models.md).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use vmafx_media::downscale::Shrink;
use vmafx_trainer::collect::{collect, CollectRequest};
use vmafx_trainer::train::FitOptions;
use vmafx_trainer::{fit_and_publish, FitRequest};

/// Trains vmafx's quality models. A version is published only when it beats the registry's
/// current one (and a constant guess) on a holdout of whole clips, and only after its ONNX
/// export, run by ONNX Runtime, gives the trainer's own estimates.
#[derive(Parser)]
#[command(name = "vmafx-trainer", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Score a clip pair at full size (the truth: VMAF per frame) and, from the same decoded
    /// frames, its centre crop and/or downscale (the features), and append one triple per frame to a file (JSON lines); with --nr-out,
    /// also the distorted's no-reference measures against the same truth (an nr model's).
    Collect {
        /// Reference video.
        #[arg(long, value_name = "FILE")]
        reference: PathBuf,
        /// Distorted video.
        #[arg(long, value_name = "FILE")]
        distorted: PathBuf,
        /// The clip's name in the triples (frames of one clip stay on one side of the holdout).
        #[arg(long)]
        clip: String,
        /// The features' frames: the centre 1/CROP of each dimension (1: whole frames).
        #[arg(long, default_value_t = 2)]
        crop: u32,
        /// The features' frames, then made this many times smaller each way (box filter).
        #[arg(long, default_value_t = 1)]
        downscale: u32,
        /// libvmaf threads.
        #[arg(long, default_value_t = 2)]
        threads: u32,
        /// Triples file to append to.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Also append no-reference triples (the distorted's measures, at its own size) here.
        #[arg(long, value_name = "FILE")]
        nr_out: Option<PathBuf>,
    },
    /// Fit a model from triples and publish it as the next version of ID when it is better.
    /// Exit status 0: published; 3: trained but not published (the report says why).
    Fit {
        /// Triples files (JSON lines), repeatable.
        #[arg(long = "triples", value_name = "FILE", required = true)]
        triples: Vec<PathBuf>,
        /// The model registry directory (made if missing).
        #[arg(long, value_name = "DIR")]
        registry: PathBuf,
        /// fr: from features of the centre --crop of the reference and the distorted (made
        /// --downscale smaller);
        /// nr: from the distorted's no-reference measures alone (triples from --nr-out).
        #[arg(long, default_value = "fr", value_parser = parse_kind)]
        kind: vmafx_ai::Kind,
        #[command(flatten)]
        model: ModelFlags,
        /// Training epochs (full-batch Adam).
        #[arg(long, default_value_t = 2000)]
        epochs: usize,
        /// Seed of the initial weights.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Decay of a moving average of the weights to export instead of the last step's
        /// (0: the last step's; `serve` averages by default).
        #[arg(long, default_value_t = 0.0)]
        ema_decay: f32,
    },
    /// Train online beside a node: take triples on a Unix socket (the node's `--trainer`),
    /// keep a replay buffer, and at each checkpoint (--min-interval since the last AND
    /// --min-new triples since) fit a model and publish it as the next version of ID when it
    /// beats the current one on a holdout of whole jobs. Runs until stopped.
    Serve {
        /// The model registry directory the node reads (made if missing).
        #[arg(long, env = "VMAFX_MODEL_REGISTRY", value_name = "DIR")]
        registry: PathBuf,
        /// The Unix socket to take triples on.
        #[arg(long, env = "VMAFX_TRAINER_SOCKET", value_name = "PATH")]
        socket: PathBuf,
        #[command(flatten)]
        model: ModelFlags,
        /// Least time between checkpoints (30s, 10m).
        #[arg(long, value_name = "DURATION", value_parser = vmafx_core::parse_duration, default_value = "5m")]
        min_interval: std::time::Duration,
        /// Least triples received since the last checkpoint.
        #[arg(long, value_name = "N", default_value_t = 5000)]
        min_new: u64,
        /// Triples kept in the replay buffer (a uniform sample of all received beyond it;
        /// about 600 bytes each).
        #[arg(long, value_name = "N", default_value_t = 50_000)]
        replay: usize,
        /// Adam steps (full batch) at the first checkpoint; later ones continue the same
        /// weights for --warm-epochs more.
        #[arg(long, default_value_t = 2000)]
        epochs: usize,
        /// Adam steps of each later checkpoint, from where the last one stopped.
        #[arg(long, default_value_t = 500)]
        warm_epochs: usize,
        /// Decay of the moving average of the weights that is exported, carried across
        /// checkpoints (0: the last step's weights).
        #[arg(long, default_value_t = 0.99)]
        ema_decay: f32,
        /// Serve /healthz, /status (JSON) and Prometheus /metrics over plain HTTP here
        /// (port 0: any free port; the address is printed) [default: not served].
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
        /// Log lines on stderr: text, or json (one object per line).
        #[arg(long, env = "VMAFX_LOG_FORMAT", default_value = "text")]
        log_format: vmafx_logging::LogFormat,
    },
}

/// What is fitted and how it is judged, for `fit` and `serve` alike.
#[derive(clap::Args)]
struct ModelFlags {
    /// Model id, e.g. fr-fast. `serve`: its current version fixes the features, the crop and
    /// the downscale; --features, --crop and --downscale are a first version's.
    #[arg(long)]
    id: String,
    /// Features, in input order (names of the triples' features) [default: for fr
    /// integer_vif_scale0-3, integer_adm2, integer_motion2 and vmaf; for nr every nr_*
    /// measure].
    #[arg(long, value_delimiter = ',')]
    features: Option<Vec<String>>,
    /// The crop the triples' features were collected at (recorded in the entry)
    /// [default: 2 for fr, 1 for nr].
    #[arg(long)]
    crop: Option<u32>,
    /// The downscale the triples' features were collected at (recorded in the entry)
    /// [default: 1].
    #[arg(long)]
    downscale: Option<u32>,
    /// Share of clips (for `serve`, jobs) kept aside as the holdout, percent.
    #[arg(long, default_value_t = 25)]
    holdout_percent: u32,
}

impl ModelFlags {
    /// The features, and the frames they are measured on, of a model of `kind`.
    fn resolve(&self, kind: vmafx_ai::Kind) -> anyhow::Result<(Vec<String>, Shrink)> {
        let features = self.features.clone().unwrap_or_else(|| vmafx_trainer::default_features(kind));
        let crop = self.crop.unwrap_or(if kind == vmafx_ai::Kind::Nr { 1 } else { 2 });
        let shrink = Shrink::new(crop, self.downscale.unwrap_or(1)).map_err(anyhow::Error::msg)?;
        Ok((features, shrink))
    }
}

fn parse_kind(s: &str) -> Result<vmafx_ai::Kind, String> {
    match s {
        "fr" => Ok(vmafx_ai::Kind::Fr),
        "nr" => Ok(vmafx_ai::Kind::Nr),
        _ => Err(format!("`{s}`: fr or nr")),
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("vmafx-trainer: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Collect { reference, distorted, clip, crop, downscale, threads, out, nr_out } => {
            let nr = nr_out.is_some();
            let shrink = Shrink::new(crop, downscale).map_err(anyhow::Error::msg)?;
            let got = collect(&CollectRequest { reference, distorted, clip, shrink, threads, nr })?;
            for (triples, out) in [(&got.fr, Some(&out)), (&got.nr, nr_out.as_ref())] {
                let Some(out) = out else { continue };
                let mut file = std::fs::OpenOptions::new().create(true).append(true).open(out)?;
                for t in triples {
                    writeln!(file, "{}", serde_json::to_string(t)?)?;
                }
                file.sync_all()?;
                eprintln!("vmafx-trainer: {} triples appended to {}", triples.len(), out.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Fit { triples, registry, kind, model, epochs, seed, ema_decay } => {
            let (features, shrink) = model.resolve(kind)?;
            let ModelFlags { id, holdout_percent, .. } = model;
            let mut all = Vec::new();
            for path in &triples {
                all.extend(vmafx_trainer::triples::read(path).map_err(anyhow::Error::msg)?);
            }
            let req = FitRequest {
                registry,
                id,
                kind,
                features,
                shrink,
                holdout_percent,
                fit: FitOptions { epochs, seed, ema_decay, ..FitOptions::default() },
                now: vmafx_trainer::now_rfc3339(),
            };
            let (report, _) = fit_and_publish(&all, &req, None)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(if report.published.is_some() { ExitCode::SUCCESS } else { ExitCode::from(3) })
        }
        Command::Serve {
            registry,
            socket,
            model,
            min_interval,
            min_new,
            replay,
            epochs,
            warm_epochs,
            ema_decay,
            listen,
            log_format,
        } => {
            vmafx_logging::init(log_format);
            let (features, shrink) = model.resolve(vmafx_ai::Kind::Fr)?;
            let ModelFlags { id, holdout_percent, .. } = model;
            let trainer = vmafx_trainer::serve::start(vmafx_trainer::serve::ServeOptions {
                registry,
                socket: socket.clone(),
                id,
                features,
                shrink,
                holdout_percent,
                min_interval,
                min_new,
                replay,
                fit: FitOptions { epochs, ema_decay, ..FitOptions::default() },
                warm_epochs,
            })?;
            println!("vmafx-trainer: taking triples on {}", socket.display());
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async move {
                if let Some(addr) = listen {
                    let listener = tokio::net::TcpListener::bind(addr)
                        .await
                        .map_err(|e| anyhow::anyhow!("--listen {addr}: cannot listen there: {e}"))?;
                    println!("vmafx-trainer: HTTP listening on {}", listener.local_addr()?);
                    tokio::spawn(async move {
                        if let Err(e) = vmafx_trainer::serve::serve_http(listener, trainer).await {
                            tracing::error!(error = %e, "the HTTP server stopped");
                        }
                    });
                }
                let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
                // The socket file goes with the process; a publish is atomic whenever it stops.
                let _ = std::fs::remove_file(&socket);
                anyhow::Ok(ExitCode::SUCCESS)
            })
        }
    }
}

#[cfg(test)]
vmafx_logging::every_flag_has_help_text!(Cli);
