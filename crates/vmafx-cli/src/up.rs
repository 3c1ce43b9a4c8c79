//! `vmafx up`: a controller and a local node in one process, the single-machine service.
//! The same controller and node code as the separate binaries, over real gRPC on loopback, so
//! that what works here works on a cluster.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::Context as _;
use vmafx_controller::server::{self, ServeOptions};
use vmafx_controller::ControllerConfig;
use vmafx_controller::RetryPolicy;
use vmafx_media::{DecodeOptions, Tools};
use vmafx_node::NodeConfig;

use crate::args::UpArgs;

pub fn up(args: UpArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(serve(args))
}

async fn serve(a: UpArgs) -> anyhow::Result<()> {
    vmafx_logging::init(a.log_format);
    // The service probes and decodes with the programs, as a controller and a node do: a
    // subprocess can be killed (time limits, the stall watchdog, cancellation), and a file a
    // client names cannot crash the service.
    let tools = Tools::new(a.ffmpeg.clone(), a.ffprobe.clone())
        .decoding_with(vmafx_media::Decoder::Ffmpeg)
        .remembering_probes();
    let dirs = if a.allow_roots.is_empty() { vec![std::env::current_dir()?] } else { a.allow_roots.clone() };
    let roots = vmafx_media::AllowedRoots::new(&dirs).map_err(anyhow::Error::msg)?;
    let running = server::start(ServeOptions {
        data_dir: a.data_dir.clone(),
        store: a.store.clone(),
        listen: a.listen,
        http_listen: a.http_listen,
        tls: a.tls.clone(),
        token_files: vec![],
        metrics_need_token: false,
        config: ControllerConfig {
            retry: RetryPolicy { max_attempts: a.max_attempts.max(1), ..RetryPolicy::default() },
            tools: tools.clone(),
            retain: a.retain,
            input_roots: roots.clone(),
            remote_inputs: Arc::new(a.remote_inputs.resolver().map_err(anyhow::Error::msg)?),
            url_ttl: a.remote_inputs.url_ttl,
            model_registry: a.registry.clone(),
            ..ControllerConfig::default()
        },
    })
    .await?;
    let grpc = format!("{}://{}", running.scheme, running.grpc_addr);
    println!("vmafx up: controller on {grpc} (gRPC) and {}://{} (HTTP)", running.scheme, running.http_addr);
    match &running.generated_ca {
        Some(ca) => println!("vmafx up: tokens in {}; TLS CA in {}", a.data_dir.display(), ca.display()),
        None => println!("vmafx up: tokens in {}", a.data_dir.display()),
    }
    println!("vmafx up: submit with `vmafx submit --controller {grpc} --wait REF DIST`");
    println!(
        "vmafx up: dashboard at {}://{}/ui/ (log in with the admin token)",
        running.scheme, running.http_addr
    );

    let drain = Arc::new(AtomicBool::new(false));
    let node = if a.slots > 0 {
        let token = std::fs::read_to_string(&running.tokens.node_path).with_context(|| {
            format!("cannot read the node token `{}`", running.tokens.node_path.display())
        })?;
        let cores = std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1);
        let mut capabilities = vmafx_node::detect_capabilities(&tools, a.slots, None, Default::default());
        let learning = match a.registry.clone() {
            Some(dir) => {
                let eps = vmafx_ai::EpChoice {
                    gpu_vendor: Some(capabilities.gpu_vendor.clone()).filter(|v| !v.is_empty()),
                    strict: false,
                };
                let shown = dir.display().to_string();
                let (learning, providers) = vmafx_node::learning::Learning::start(
                    dir,
                    eps,
                    a.trainer.clone(),
                    vmafx_ai::capture::DEFAULT_CAPACITY,
                )
                .map_err(|e| anyhow::anyhow!("--registry {shown}: {e}"))?;
                capabilities.onnx_providers = providers;
                Some(learning)
            }
            None => None,
        };
        let cfg = NodeConfig {
            controller: grpc.clone(),
            tls: vmafx_client::Tls {
                ca: running.generated_ca.clone().or_else(|| a.tls.tls_cert.clone()),
                identity: None,
            },
            token: token.trim().to_string(),
            name: "local".into(),
            slots: a.slots,
            threads: a.threads.unwrap_or((cores / a.slots).max(1)),
            capabilities,
            // A subprocess, as on any node: the stall watchdog and cancellation kill it.
            decode: DecodeOptions { tools, threads: 1 },
            // In-process: the controller is never away.
            give_up_after: None,
            stall_timeout: vmafx_node::DEFAULT_STALL_TIMEOUT,
            input_roots: roots,
            metrics: Default::default(),
            rclone: Arc::new(a.remote_inputs.rclone()),
            learning,
        };
        Some(tokio::spawn(vmafx_node::run(cfg, drain.clone())))
    } else {
        None
    };

    server::shutdown_signal().await;
    if let Some(node) = node {
        tracing::info!("stopping: the local node finishes its running items first (again to quit now)");
        drain.store(true, Ordering::Relaxed);
        tokio::select! {
            finished = node => finished.context("the local node panicked")??,
            _ = server::shutdown_signal() => tracing::warn!("quitting; unfinished items go back to the queue"),
        }
    }
    running.stop().await
}
