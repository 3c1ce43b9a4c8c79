//! `vmafx-controller`: wires the configuration, the store, the tokens and the gRPC server.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use vmafx_controller::auth::{Role, Tokens};
use vmafx_controller::grpc_adapter::{JobApi, NodeApi};
use vmafx_controller::{Controller, ControllerConfig};
use vmafx_proto::v1::job_service_server::JobServiceServer;
use vmafx_proto::v1::node_service_server::NodeServiceServer;
use vmafx_store::{RetryPolicy, SqliteStore};

/// The vmafx controller: durable job queue, node registry and scheduler behind a gRPC API.
#[derive(Debug, Parser)]
#[command(
    version,
    after_help = "On first start it writes admin.token (clients) and node.token (workers) into --data-dir."
)]
struct Config {
    /// Where the state (SQLite) and the API tokens live.
    #[arg(long, env = "VMAFX_DATA_DIR", default_value = "vmafx-data")]
    data_dir: PathBuf,
    /// gRPC address (port 0 picks a free port; the chosen address is printed).
    #[arg(long, env = "VMAFX_LISTEN", default_value = "127.0.0.1:50051")]
    listen: SocketAddr,
    /// HTTP address for /healthz, /readyz and /metrics (port 0 picks a free port).
    #[arg(long, env = "VMAFX_HTTP_LISTEN", default_value = "127.0.0.1:8080")]
    http_listen: SocketAddr,
    /// How long a work item's lease lives without a heartbeat, in milliseconds.
    #[arg(long, env = "VMAFX_LEASE_TTL_MS", default_value_t = 15_000)]
    lease_ttl_ms: i64,
    /// Attempts per work item before its job fails.
    #[arg(long, env = "VMAFX_MAX_ATTEMPTS", default_value_t = 3)]
    max_attempts: u32,
    /// Do not probe inputs at submission (when the controller cannot see the nodes' files).
    #[arg(long, env = "VMAFX_NO_PROBE_INPUTS")]
    no_probe_inputs: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cfg = Config::parse();
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("cannot create --data-dir `{}`", cfg.data_dir.display()))?;
    let db = cfg.data_dir.join("state.db");
    let store =
        SqliteStore::open(&db).await.with_context(|| format!("cannot open the store `{}`", db.display()))?;
    let (tokens, created) = Tokens::load_or_create(&cfg.data_dir)
        .with_context(|| format!("cannot read or write tokens in `{}`", cfg.data_dir.display()))?;
    if created {
        println!(
            "vmafx-controller: wrote the admin token to {} and the node join token to {}",
            tokens.admin_path.display(),
            tokens.node_path.display()
        );
    }
    let controller = Controller::new(
        store,
        ControllerConfig {
            lease_ttl_ms: cfg.lease_ttl_ms,
            heartbeat_interval_ms: (cfg.lease_ttl_ms / 3).max(100),
            retry: RetryPolicy { max_attempts: cfg.max_attempts.max(1), ..RetryPolicy::default() },
            probe_inputs: !cfg.no_probe_inputs,
            ..ControllerConfig::default()
        },
    );

    // Expired leases go back in the queue within a second.
    let sweeper = controller.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if let Err(e) = sweeper.sweep().await {
                eprintln!("vmafx-controller: lease sweep failed: {e}");
            }
        }
    });

    let http = tokio::net::TcpListener::bind(cfg.http_listen)
        .await
        .with_context(|| format!("cannot listen on {} (--http-listen)", cfg.http_listen))?;
    println!("vmafx-controller: HTTP listening on {}", http.local_addr()?);
    let router = vmafx_controller::http_adapter::router(controller.clone());
    tokio::spawn(async move {
        if let Err(e) = axum::serve(http, router).with_graceful_shutdown(shutdown()).await {
            eprintln!("vmafx-controller: HTTP server failed: {e}");
        }
    });

    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.listen))?;
    println!("vmafx-controller: gRPC listening on {}", listener.local_addr()?);
    tonic::transport::Server::builder()
        .add_service(JobServiceServer::with_interceptor(
            JobApi(controller.clone()),
            tokens.interceptor(&[Role::Admin]),
        ))
        .add_service(NodeServiceServer::with_interceptor(
            NodeApi(controller),
            tokens.interceptor(&[Role::Node, Role::Admin]),
        ))
        .serve_with_incoming_shutdown(tokio_stream::wrappers::TcpListenerStream::new(listener), shutdown())
        .await
        .context("gRPC server failed")?;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}
