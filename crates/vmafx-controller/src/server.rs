//! Running a controller: opens the store and the tokens in the data directory, binds the
//! gRPC and HTTP listeners, starts the lease sweeper, and stops it all on request. Shared by
//! the `vmafx-controller` binary and `vmafx up`, which embeds a controller beside a node.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tonic::service::interceptor::InterceptedService;
use vmafx_proto::v1::job_service_server::JobServiceServer;
use vmafx_proto::v1::node_service_server::NodeServiceServer;
use vmafx_proto::{MAX_JOB_BYTES, MAX_REPORT_BYTES};
use vmafx_store::{AnyStore, Store, StoreLocation};

use crate::auth::Auth;
use crate::grpc_adapter::{JobApi, NodeApi};
use crate::tls::{ServerTls, TlsArgs};
use crate::{Controller, ControllerConfig};

/// How long a stop waits for calls in flight.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// Where a controller keeps its state and listens.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// State (`state.db`, unless `store` says otherwise) and tokens (`admin.token`,
    /// `node.token`).
    pub data_dir: PathBuf,
    /// Where the queue lives; `None`: `state.db` (SQLite) in the data directory. Controllers
    /// given the same PostgreSQL database share one queue.
    pub store: Option<StoreLocation>,
    /// gRPC address; port 0 picks a free one.
    pub listen: SocketAddr,
    /// HTTP address (JSON API, health checks, metrics); port 0 picks a free one.
    pub http_listen: SocketAddr,
    /// TLS: generated in the data directory unless files are given, or off.
    pub tls: TlsArgs,
    /// `/metrics` needs a read token.
    pub metrics_need_token: bool,
    /// Tokens given in files (`--token-file`), recorded in the store at start.
    pub token_files: Vec<crate::auth::TokenFile>,
    pub config: ControllerConfig,
}

/// Another controller already runs on this data directory: two writers on one SQLite file
/// and one token set would corrupt each other's view of the queue.
#[derive(Debug, thiserror::Error)]
#[error(
    "data directory `{}` is in use by another controller ({holder}); stop that one, or give this one its own --data-dir",
    .dir.display()
)]
pub struct DataDirInUse {
    pub dir: PathBuf,
    /// What the holder wrote into the lock file (its pid and start time).
    pub holder: String,
}

/// Takes the data directory's lock (`controller.lock`, an advisory file lock the kernel drops
/// when the process dies, so a killed controller never leaves it stale) and writes who holds it.
pub fn lock_data_dir(dir: &Path) -> anyhow::Result<File> {
    let path = dir.join("controller.lock");
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("cannot open the lock file `{}`", path.display()))?;
    match file.try_lock() {
        Ok(()) => {
            let since =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
            file.set_len(0)?;
            write!(file, "pid {} since unix time {since}", std::process::id())?;
            Ok(file)
        }
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder =
                if holder.trim().is_empty() { "holder unknown".into() } else { holder.trim().into() };
            Err(DataDirInUse { dir: dir.into(), holder }.into())
        }
        Err(TryLockError::Error(e)) => {
            Err(anyhow::Error::new(e).context(format!("cannot lock `{}`", path.display())))
        }
    }
}

/// A started controller. Dropping it does not stop it: call [`Running::stop`].
pub struct Running {
    /// Held for the controller's life: one controller per data directory.
    _lock: File,
    pub grpc_addr: SocketAddr,
    pub http_addr: SocketAddr,
    /// `https` or `http` (`--insecure-plaintext`).
    pub scheme: &'static str,
    /// The private CA clients should trust, when the controller made it (no --tls-cert).
    pub generated_ca: Option<PathBuf>,
    pub tokens: Auth,
    /// The tokens were written by this start (first start on this data directory).
    pub tokens_created: bool,
    stop: watch::Sender<bool>,
    grpc: JoinHandle<Result<(), tonic::transport::Error>>,
    http: JoinHandle<std::io::Result<()>>,
    sweeper: JoinHandle<()>,
    relay: Option<JoinHandle<()>>,
}

/// Opens the state and starts serving.
pub async fn start(opts: ServeOptions) -> anyhow::Result<Running> {
    std::fs::create_dir_all(&opts.data_dir)
        .with_context(|| format!("cannot create the data directory `{}`", opts.data_dir.display()))?;
    let lock = lock_data_dir(&opts.data_dir)?;
    let tls = ServerTls::prepare(&opts.data_dir, &opts.tls, &[opts.listen, opts.http_listen])
        .context("cannot set up TLS")?;
    if tls.as_ref().is_some_and(|t| t.generated_ca.is_some())
        && matches!(opts.store, Some(StoreLocation::Postgres(_)))
    {
        tracing::warn!(
            "this controller made its own CA, but shares a PostgreSQL queue: clients of several \
             controllers trust one CA, so give each controller --tls-cert/--tls-key signed by it"
        );
    }
    let location =
        opts.store.clone().unwrap_or_else(|| StoreLocation::Sqlite(opts.data_dir.join("state.db")));
    let store =
        AnyStore::open(&location).await.with_context(|| format!("cannot open the store `{location}`"))?;
    let (tokens, mut records, tokens_created) = Auth::load_or_create(&opts.data_dir, crate::now_ms())
        .with_context(|| format!("cannot read or write tokens in `{}`", opts.data_dir.display()))?;
    for file in &opts.token_files {
        records.push(file.record(crate::now_ms()).map_err(anyhow::Error::msg)?);
    }
    // Controllers sharing the store accept each other's tokens (and refuse revoked ones, even
    // when a data directory still holds them).
    for record in &records {
        store.put_token(record).await.context("cannot record the tokens in the store")?;
    }
    tokens.refresh(&store).await.context("cannot read the tokens in the store")?;
    let events = store.subscribe();
    let controller = Controller::new(store, opts.config);
    let (stop, stopped) = watch::channel(false);
    let until_stopped = move || {
        let mut rx = stopped.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };

    // Other controllers' changes wake this one's pulls and watches.
    let relay = events.map(|mut events| {
        let c = controller.clone();
        tokio::spawn(async move {
            loop {
                match events.recv().await {
                    Ok(event) => c.heard(&event),
                    // Fell behind: wake everything once.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => c.missed_changes(),
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        })
    });

    // Expired leases go back in the queue within a second.
    let sweeper = {
        let (c, stopped, tokens) = (controller.clone(), until_stopped(), tokens.clone());
        tokio::spawn(async move {
            tokio::pin!(stopped);
            let mut last_prune = std::time::Instant::now();
            let mut ticks: u64 = 0;
            loop {
                tokio::select! {
                    _ = &mut stopped => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                ticks += 1;
                // Tokens another controller recorded are accepted within a few seconds.
                if ticks.is_multiple_of(crate::auth::REFRESH_EVERY.as_secs()) {
                    if let Err(e) = tokens.refresh(c.store()).await {
                        tracing::error!(error = %e, "reading the tokens failed");
                    }
                }
                if let Err(e) = c.sweep().await {
                    tracing::error!(error = %e, "lease sweep failed");
                }
                // Retention runs a few times per retention period, at most once a minute.
                if let Some(retain) = c.config().retain {
                    let every = (retain / 4).clamp(Duration::from_secs(1), Duration::from_secs(60));
                    if last_prune.elapsed() >= every {
                        last_prune = std::time::Instant::now();
                        match c.prune().await {
                            Ok(p) if p.jobs + p.nodes > 0 => {
                                eprintln!(
                                    "vmafx-controller: retention removed {} job(s) and {} node(s)",
                                    p.jobs, p.nodes
                                )
                            }
                            Ok(_) => {}
                            Err(e) => tracing::error!(error = %e, "retention failed"),
                        }
                    }
                }
            }
        })
    };

    let http_listener =
        listen(opts.http_listen).with_context(|| format!("cannot listen on {} (HTTP)", opts.http_listen))?;
    let http_addr = http_listener.local_addr()?;
    let router = crate::http_adapter::router(controller.clone(), tokens.clone(), opts.metrics_need_token)
        .into_make_service_with_connect_info::<crate::http_adapter::Peer>();
    let http_stopped = until_stopped();
    let http = match &tls {
        Some(tls) => {
            let incoming = tls.incoming(http_listener, &[b"http/1.1"])?;
            tokio::spawn(
                async move { axum::serve(incoming, router).with_graceful_shutdown(http_stopped).await },
            )
        }
        None => tokio::spawn(async move {
            axum::serve(http_listener, router).with_graceful_shutdown(http_stopped).await
        }),
    };

    let grpc_listener =
        listen(opts.listen).with_context(|| format!("cannot listen on {} (gRPC)", opts.listen))?;
    let grpc_addr = grpc_listener.local_addr()?;
    let needs_cert = tls.as_ref().is_some_and(|t| t.nodes_need_certificates);
    let routes = tonic::transport::Server::builder()
        .add_service(
            JobServiceServer::new(JobApi { c: controller.clone(), auth: tokens.clone() })
                .max_encoding_message_size(MAX_JOB_BYTES),
        )
        .add_service(InterceptedService::new(
            NodeServiceServer::new(NodeApi { c: controller, auth: tokens.clone() })
                .max_decoding_message_size(MAX_REPORT_BYTES),
            move |req: tonic::Request<()>| {
                if needs_cert && req.peer_certs().is_none_or(|c| c.is_empty()) {
                    return Err(tonic::Status::unauthenticated(
                        "this controller requires a client certificate on node calls (--client-ca): \
                         start the node with --tls-cert and --tls-key",
                    ));
                }
                Ok(req)
            },
        ));
    let grpc = match &tls {
        Some(tls) => {
            let incoming = tls.incoming(grpc_listener, &[b"h2"])?.into_stream();
            tokio::spawn(routes.serve_with_incoming_shutdown(incoming, until_stopped()))
        }
        None => tokio::spawn(routes.serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(grpc_listener),
            until_stopped(),
        )),
    };
    Ok(Running {
        _lock: lock,
        grpc_addr,
        http_addr,
        scheme: if tls.is_some() { "https" } else { "http" },
        generated_ca: tls.and_then(|t| t.generated_ca),
        tokens,
        tokens_created,
        stop,
        grpc,
        http,
        sweeper,
        relay,
    })
}

impl Running {
    /// Stops accepting calls, gives the ones in flight [`STOP_GRACE`] to finish (a client
    /// watching a long job would otherwise hold the stop), and returns when both servers are
    /// down.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        self.sweeper.abort();
        if let Some(relay) = &self.relay {
            relay.abort();
        }
        let servers = async {
            (&mut self.grpc).await.context("the gRPC server panicked")?.context("gRPC server failed")?;
            (&mut self.http).await.context("the HTTP server panicked")?.context("HTTP server failed")?;
            anyhow::Ok(())
        };
        match tokio::time::timeout(STOP_GRACE, servers).await {
            Ok(done) => done,
            Err(_) => {
                self.grpc.abort();
                self.http.abort();
                Ok(())
            }
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}

/// Connections the kernel holds for the controller to accept (capped by
/// `net.core.somaxconn`). The default of 128 overflows when a fleet reconnects at once (a
/// controller restarted, or failed over to): measured with 200 nodes, 71 of them had their
/// SYN dropped and waited a second to resend it.
const ACCEPT_BACKLOG: u32 = 4096;

/// Binds `addr` with a deep accept queue, reusing the address as `TcpListener::bind` does.
fn listen(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket =
        if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(ACCEPT_BACKLOG)
}

#[cfg(test)]
mod listen_tests {
    use super::*;

    /// 300 nodes connecting at once, none accepted yet: every handshake completes at once
    /// (with the default backlog of 128, the rest would wait a second for a SYN resend).
    #[tokio::test]
    async fn a_fleet_connecting_at_once_is_not_dropped() {
        let listener = listen("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let connected = tokio::task::spawn_blocking(move || {
            (0..300)
                .map(|_| std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)))
                .collect::<Vec<_>>()
        })
        .await
        .unwrap();
        let failed = connected.iter().filter(|c| c.is_err()).count();
        assert_eq!(
            failed, 0,
            "{failed} of 300 connections not taken into the accept queue (net.core.somaxconn?)"
        );
        drop(listener);
    }
}
