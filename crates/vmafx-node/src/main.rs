//! `vmafx-node`: parses its settings and runs the worker until SIGTERM drains it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use vmafx_core::parse_duration;
use vmafx_media::{DecodeOptions, Tools};
use vmafx_node::{run, NodeConfig};

/// A vmafx worker: pulls scoring work from a controller and scores it with libvmaf.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Controller address, e.g. https://127.0.0.1:50051; several controllers sharing one
    /// PostgreSQL queue: all their addresses, comma separated (it fails over between them).
    #[arg(long, env = "VMAFX_CONTROLLER")]
    controller: String,
    /// The CA certificate (PEM) that signed the controller's [default: $VMAFX_DATA_DIR/tls/ca.pem
    /// or ./vmafx-data/tls/ca.pem, where the controller makes one].
    #[arg(long, env = "VMAFX_CA", value_name = "FILE")]
    ca: Option<PathBuf>,
    /// This node's certificate (PEM), for a controller that requires one (--client-ca).
    #[arg(long, env = "VMAFX_TLS_CERT", value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, env = "VMAFX_TLS_KEY", value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Node join token [default: read from $VMAFX_DATA_DIR/node.token or
    /// ./vmafx-data/node.token, where the controller writes it].
    #[arg(long, env = "VMAFX_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// Work items run at once.
    #[arg(long, env = "VMAFX_SLOTS", default_value_t = 1)]
    slots: u32,
    /// Name shown in `vmafx nodes` [default: the host name].
    #[arg(long, env = "VMAFX_NODE_NAME")]
    name: Option<String>,
    /// libvmaf threads per slot [default: cores / slots].
    #[arg(long, env = "VMAFX_THREADS")]
    threads: Option<u32>,
    /// ffmpeg binary to decode inputs and run encode jobs with.
    #[arg(long, env = "VMAFX_FFMPEG", default_value = "ffmpeg")]
    ffmpeg: PathBuf,
    /// ffprobe binary to inspect non-Y4M inputs with.
    #[arg(long, env = "VMAFX_FFPROBE", default_value = "ffprobe")]
    ffprobe: PathBuf,
    /// Where inputs are probed and segments decoded: `ffmpeg` (ffprobe, and an ffmpeg
    /// subprocess per input, which the stall watchdog and cancellation can kill) or `auto`
    /// (in-process libav where it gives the programs' answers: local files, a decode from the
    /// first frame; a decode stuck inside libav then cannot be stopped short of the node).
    #[arg(long, env = "VMAFX_DECODER", default_value = "ffmpeg", value_name = "ffmpeg|auto")]
    decoder: vmafx_media::Decoder,
    /// GPU vendor to advertise (nvidia, amd, intel) [default: detected].
    #[arg(long, env = "VMAFX_GPU_VENDOR")]
    gpu_vendor: Option<String>,
    /// GPU model to advertise, with --gpu-vendor.
    #[arg(long, env = "VMAFX_GPU_MODEL", default_value = "")]
    gpu_model: String,
    /// A label jobs can require, KEY=VALUE (repeatable), e.g. --label zone=eu.
    #[arg(long = "label", value_name = "KEY=VALUE")]
    labels: Vec<String>,
    /// Exit when the controller has been unreachable this long (30s, 10m, 2h) [default: keep
    /// retrying, with backoff up to 10 s between attempts].
    #[arg(long, env = "VMAFX_GIVE_UP_AFTER", value_name = "DURATION", value_parser = parse_duration)]
    give_up_after: Option<Duration>,
    /// Fail an item's attempt (it is retried, maybe elsewhere) when no frame has been scored
    /// for this long: a decode stuck on a dead mount or a wedged decoder.
    #[arg(long, env = "VMAFX_STALL_TIMEOUT", value_name = "DURATION", value_parser = parse_duration, default_value = "120s")]
    stall_timeout: Duration,
    /// A directory jobs may read local files from (inputs, model files), repeatable; paths
    /// are resolved (symlinks, `..`) before the check, and only regular files pass [default: none: jobs naming local files fail, saying so].
    #[arg(long = "allow-root", env = "VMAFX_ALLOW_ROOTS", value_name = "DIR", value_delimiter = ',')]
    allow_roots: Vec<PathBuf>,
    /// The rclone configuration whose remotes jobs may name as `rclone:REMOTE:PATH` (read
    /// through `rclone serve http` on loopback, started on first use, or mounted with
    /// --rclone-mount) [default: rclone's own, $RCLONE_CONFIG or ~/.config/rclone/rclone.conf].
    #[arg(long, env = "VMAFX_RCLONE_CONFIG", value_name = "FILE")]
    rclone_config: Option<PathBuf>,
    /// The rclone program.
    #[arg(long, env = "VMAFX_RCLONE", value_name = "PATH", default_value = "rclone")]
    rclone: PathBuf,
    /// Read rclone remotes through `rclone mount` (FUSE, read-only, no cache on disk) under
    /// this directory, one mount per remote (DIR/REMOTE), instead of `rclone serve http`.
    /// Mounts are checked before each use and mounted again after a failure; one left by a
    /// killed node is unmounted when the node starts; all are unmounted on drain. Needs
    /// /dev/fuse (and fusermount3 unless root) [default: /mnt/source when given no DIR].
    #[arg(long, env = "VMAFX_RCLONE_MOUNT", value_name = "DIR", num_args = 0..=1, default_missing_value = "/mnt/source")]
    rclone_mount: Option<PathBuf>,
    /// Serve /healthz, /readyz (registered and not draining) and Prometheus /metrics over
    /// plain HTTP on this address, e.g. 0.0.0.0:9464 in a pod (port 0: any free port; the
    /// address is printed). They need no token and carry no secrets [default: not served].
    #[arg(long, env = "VMAFX_HTTP_LISTEN", value_name = "ADDR")]
    http_listen: Option<std::net::SocketAddr>,
    /// A model registry directory (`registry.json` + `.onnx` files): jobs with an estimate
    /// run its models beside VMAF, each item on the version served when it starts (the newest,
    /// or the one `vmafx models pin` chose); a new version is picked up without a restart.
    #[arg(long, env = "VMAFX_MODEL_REGISTRY", value_name = "DIR")]
    registry: Option<PathBuf>,
    /// The co-located trainer's Unix socket (`vmafx-trainer serve --socket`): the frames of
    /// jobs with an estimate go there as training triples, unless the job opts out. Never
    /// waits for it: a bounded queue drops the oldest when the trainer is slow or absent.
    #[arg(long, env = "VMAFX_TRAINER_SOCKET", value_name = "PATH", requires = "registry")]
    trainer: Option<PathBuf>,
    /// Refuse to run models on the CPU when the GPU's ONNX Runtime execution provider (CUDA,
    /// ROCm or OpenVINO, by --gpu-vendor or the detected GPU) cannot be used: the node does
    /// not start, instead of falling back.
    #[arg(long, env = "VMAFX_EP_STRICT", requires = "registry")]
    ep_strict: bool,
    /// Triples queued for the trainer at most.
    #[arg(long, env = "VMAFX_CAPTURE_QUEUE", value_name = "N", default_value_t = vmafx_ai::capture::DEFAULT_CAPACITY)]
    capture_queue: usize,
    /// Log lines on stderr: text, or json (one object per line, with job_id, item_id and
    /// node_id fields on every event of an item's life).
    #[arg(long, env = "VMAFX_LOG_FORMAT", default_value = "text")]
    log_format: vmafx_logging::LogFormat,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match node(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vmafx-node: error: {}", vmafx_core::one_statement(e.as_ref()));
            std::process::ExitCode::FAILURE
        }
    }
}

async fn node(a: Args) -> anyhow::Result<()> {
    vmafx_logging::init(a.log_format);
    let cores = std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1);
    let slots = a.slots.max(1);
    let name = a.name.unwrap_or_else(|| {
        std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_else(|_| "node".into())
    });
    let mut labels = std::collections::BTreeMap::new();
    for l in &a.labels {
        let (k, v) = l.split_once('=').ok_or_else(|| anyhow::anyhow!("--label `{l}`: expected KEY=VALUE"))?;
        labels.insert(k.trim().to_string(), v.trim().to_string());
    }
    let tools = Tools::new(a.ffmpeg, a.ffprobe).remembering_probes();
    let gpu = a.gpu_vendor.map(|v| (v.to_ascii_lowercase(), a.gpu_model.clone()));
    let mut capabilities = vmafx_node::detect_capabilities(&tools, slots, gpu, labels);
    let learning = match a.registry {
        Some(dir) => {
            // ONNX Runtime must start here, not at the first job.
            let eps = vmafx_ai::EpChoice {
                gpu_vendor: Some(capabilities.gpu_vendor.clone()).filter(|v| !v.is_empty()),
                strict: a.ep_strict,
            };
            let shown = dir.display().to_string();
            let (learning, providers) =
                vmafx_node::learning::Learning::start(dir, eps, a.trainer, a.capture_queue)
                    .map_err(|e| anyhow::anyhow!("--registry {shown}: {e}"))?;
            capabilities.onnx_providers = providers;
            Some(learning)
        }
        None => None,
    };
    let cfg = NodeConfig {
        controller: a.controller,
        tls: vmafx_client::Tls { ca: a.ca, identity: a.tls_cert.zip(a.tls_key) },
        token: vmafx_client::find_token(vmafx_client::TokenKind::Node, a.token.as_deref())?,
        name,
        slots,
        threads: a.threads.unwrap_or((cores / slots).max(1)),
        decode: DecodeOptions { tools: tools.decoding_with(a.decoder), threads: 1 },
        capabilities,
        give_up_after: a.give_up_after,
        stall_timeout: a.stall_timeout,
        input_roots: vmafx_media::AllowedRoots::new(&a.allow_roots).map_err(anyhow::Error::msg)?,
        metrics: Default::default(),
        rclone: Arc::new(match a.rclone_mount {
            Some(root) => {
                let rclone = vmafx_storage::Rclone::mounting(a.rclone, a.rclone_config, root);
                rclone.clean_stale_mounts();
                rclone
            }
            None => vmafx_storage::Rclone::serving(a.rclone, a.rclone_config),
        }),
        learning,
    };
    if let Some(c) = cfg.learning.as_ref().and_then(|l| l.capture.clone()) {
        let _ = cfg.metrics.capture.set(c);
    }
    let drain = Arc::new(AtomicBool::new(false));
    if let Some(addr) = a.http_listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("--http-listen {addr}: cannot listen there: {e}"))?;
        println!("vmafx-node: HTTP listening on {}", listener.local_addr()?);
        let info = (cfg.name.clone(), cfg.capabilities.ffmpeg_version.clone(), cfg.slots);
        let served = vmafx_node::metrics::serve_http(listener, cfg.metrics.clone(), drain.clone(), info);
        tokio::spawn(async move {
            if let Err(e) = served.await {
                tracing::error!(error = %e, "the HTTP server stopped");
            }
        });
    }
    let flag = drain.clone();
    tokio::spawn(async move {
        if let Ok(mut term) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            term.recv().await;
            tracing::info!("SIGTERM: finishing running items, pulling no more");
            flag.store(true, Ordering::Relaxed);
        }
    });
    run(cfg, drain).await
}

#[cfg(test)]
vmafx_logging::every_flag_has_help_text!(Args);
