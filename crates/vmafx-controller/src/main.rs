//! `vmafx-controller`: parses the configuration and serves until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use vmafx_controller::server::{self, ServeOptions};
use vmafx_controller::ControllerConfig;
use vmafx_controller::RetryPolicy;

/// The vmafx controller: durable job queue, node registry and scheduler behind gRPC and HTTP APIs.
#[derive(Debug, Parser)]
#[command(
    version,
    after_help = "On first start it writes admin.token (clients), node.token (workers) and, unless --tls-cert is given,\n\
    a private CA (tls/ca.pem) and server certificate into --data-dir. Clients connect to https://HOST:PORT.",
    args_conflicts_with_subcommands = true
)]
struct Config {
    #[command(subcommand)]
    command: Option<Command>,
    /// Where the API tokens live, and the queue (state.db, SQLite) unless --store says otherwise.
    #[arg(long, env = "VMAFX_DATA_DIR", default_value = "vmafx-data")]
    data_dir: PathBuf,
    /// Where the queue lives: postgres://USER[:PASSWORD]@HOST:PORT/DB (several controllers may
    /// share one database; nodes and clients may then be given all their addresses, comma
    /// separated) or sqlite:PATH. Default: sqlite:DATA_DIR/state.db.
    #[arg(long, env = "VMAFX_STORE", value_name = "URL")]
    store: Option<vmafx_store::StoreLocation>,
    /// gRPC address (port 0 picks a free port; the chosen address is printed).
    #[arg(long, env = "VMAFX_LISTEN", default_value = "127.0.0.1:50051")]
    listen: SocketAddr,
    /// HTTP address: the JSON API under /v1, /healthz, /readyz and /metrics (port 0 picks a free port).
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
    /// Delete jobs this long after they end, and nodes this long after they were last seen
    /// (30d, 12h, 90m) [default: keep everything].
    #[arg(long, env = "VMAFX_RETAIN", value_name = "DURATION", value_parser = vmafx_core::parse_duration)]
    retain: Option<std::time::Duration>,
    /// Refuse submissions (HTTP 429, gRPC RESOURCE_EXHAUSTED, with a retry hint) while this
    /// many work items wait for a node [default: no limit].
    #[arg(long, env = "VMAFX_MAX_PENDING_ITEMS", value_name = "N")]
    max_pending_items: Option<u64>,
    /// Refuse submissions beyond this many per second, likewise [default: no limit].
    #[arg(long, env = "VMAFX_MAX_SUBMIT_RATE", value_name = "PER_SECOND")]
    max_submit_rate: Option<f64>,
    /// Log lines on stderr: text, or json (one object per line, with job_id, item_id and
    /// node_id fields on every event of a job's life).
    #[arg(long, env = "VMAFX_LOG_FORMAT", default_value = "text")]
    log_format: vmafx_logging::LogFormat,
    /// `/metrics` needs a read token (`vmafx tokens create --role read --name prometheus`)
    /// [default: open, like /healthz and /readyz].
    #[arg(long, env = "VMAFX_METRICS_NEED_TOKEN")]
    metrics_need_token: bool,
    /// A token given rather than made, ROLE:NAME:FILE (repeatable): the secret in FILE (at
    /// least 32 characters, e.g. a mounted Kubernetes Secret) is accepted with ROLE (read,
    /// submit, admin or join) under NAME, as if `vmafx tokens create` had made it; revoke it by
    /// name as any other.
    #[arg(
        long = "token-file",
        env = "VMAFX_TOKEN_FILES",
        value_name = "ROLE:NAME:FILE",
        value_delimiter = ','
    )]
    token_files: Vec<vmafx_controller::auth::TokenFile>,
    /// A directory jobs may read local files from (inputs, model files), repeatable; paths
    /// are resolved (symlinks, `..`) before the check, and only regular files pass [default: none: no local path is accepted].
    #[arg(long = "allow-root", env = "VMAFX_ALLOW_ROOTS", value_name = "DIR", value_delimiter = ',')]
    allow_roots: Vec<PathBuf>,
    /// The model registry (`registry.json` + `.onnx` files) the nodes serve, listed by
    /// `/v1/models`, `ListModels` and the dashboard beside the built-in models; read on each
    /// request, so a new version or pin shows at once [default: none listed].
    #[arg(long, env = "VMAFX_MODEL_REGISTRY", value_name = "DIR")]
    model_registry: Option<PathBuf>,
    #[command(flatten)]
    remote_inputs: vmafx_storage::RemoteInputArgs,
    #[command(flatten)]
    tls: vmafx_controller::tls::TlsArgs,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Moves a queue to another store: every job with its work items as they are (states,
    /// results, leases and their fencing tokens), the nodes and the tokens. Stop the
    /// controller first; running it again after an interruption moves only what is missing.
    #[command(
        after_help = "Example:\n  vmafx-controller migrate --from sqlite:vmafx-data/state.db --to postgres://vmafx@db:5432/vmafx\n\nThen start each controller with --store postgres://… (and its own --data-dir for its tokens)."
    )]
    Migrate {
        /// The store to read: sqlite:PATH or postgres://…
        #[arg(long, value_name = "URL")]
        from: vmafx_store::StoreLocation,
        /// The store to write (created and migrated to the current schema if needed).
        #[arg(long, value_name = "URL")]
        to: vmafx_store::StoreLocation,
    },
    /// Makes a private CA and a server certificate it signs, for controllers that share a
    /// PostgreSQL queue (they must serve certificates one CA signed, from files). Kept when
    /// run again, unless a name is new or the certificate expires within 30 days.
    #[command(
        name = "tls-init",
        after_help = "Example:\n  vmafx-controller tls-init --dir /etc/vmafx/tls --name ctl-a.example.com --name ctl-b.example.com\n\n\
        Then start each controller with --tls-cert /etc/vmafx/tls/server.pem --tls-key /etc/vmafx/tls/server.key,\n\
        and give clients /etc/vmafx/tls/ca.pem (--ca). Keep ca.key offline once certificates are made."
    )]
    TlsInit {
        /// Where to write ca.pem, ca.key, server.pem and server.key.
        #[arg(long, value_name = "DIR")]
        dir: PathBuf,
        /// A host name or address clients use to reach a controller (repeatable; localhost
        /// and the loopback addresses are always in it).
        #[arg(long = "name", value_name = "NAME", value_delimiter = ',')]
        names: Vec<String>,
    },
}

/// `migrate`: refuses a SQLite source a controller still runs on.
async fn migrate(from: &vmafx_store::StoreLocation, to: &vmafx_store::StoreLocation) -> anyhow::Result<()> {
    use anyhow::Context as _;
    if from == to {
        anyhow::bail!("--from and --to are the same store ({from})");
    }
    let _lock = match from {
        vmafx_store::StoreLocation::Sqlite(path) => {
            if !path.is_file() {
                anyhow::bail!("--from {from}: no such file");
            }
            let dir =
                path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
            Some(server::lock_data_dir(dir)?)
        }
        vmafx_store::StoreLocation::Postgres(_) => None,
    };
    let source =
        vmafx_store::AnyStore::open(from).await.with_context(|| format!("cannot open --from {from}"))?;
    let target = vmafx_store::AnyStore::open(to).await.with_context(|| format!("cannot open --to {to}"))?;
    let moved = vmafx_store::migrate(&source, &target, |m| {
        eprintln!("vmafx-controller: migrate: {} job(s), {} work item(s) moved", m.jobs, m.items)
    })
    .await
    .context("migration failed; run it again to move what is missing")?;
    println!(
        "vmafx-controller: moved {} job(s) ({} work item(s)), {} node(s) and {} token(s) from {from} to {to}{}",
        moved.jobs,
        moved.items,
        moved.nodes,
        moved.tokens,
        if moved.jobs_present > 0 { format!("; {} job(s) were there already", moved.jobs_present) } else { String::new() }
    );
    Ok(())
}

/// A mistake in how the controller was started (exit 2).
#[derive(Debug)]
struct Usage(String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Config::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vmafx-controller: error: {}", vmafx_core::one_statement(e.as_ref()));
            // A mistake in how it was started (a data directory another controller holds) is 2.
            let usage =
                e.downcast_ref::<server::DataDirInUse>().is_some() || e.downcast_ref::<Usage>().is_some();
            std::process::ExitCode::from(if usage { 2 } else { 1 })
        }
    }
}

async fn run(cfg: Config) -> anyhow::Result<()> {
    vmafx_logging::init(cfg.log_format);
    match &cfg.command {
        Some(Command::Migrate { from, to }) => return migrate(from, to).await,
        Some(Command::TlsInit { dir, names }) => {
            let files = vmafx_controller::tls::ensure_generated(
                dir,
                &vmafx_controller::tls::certificate_names(&[], names),
            )?;
            println!(
                "vmafx-controller: --tls-cert {} --tls-key {}; clients: --ca {}",
                files.cert.display(),
                files.key.display(),
                files.ca.display()
            );
            return Ok(());
        }
        None => {}
    }
    let shared_queue = matches!(cfg.store, Some(vmafx_store::StoreLocation::Postgres(_)));
    if shared_queue && cfg.tls.tls_cert.is_none() && !cfg.tls.insecure_plaintext {
        return Err(Usage(
            "a controller on PostgreSQL serves a certificate from files, so that every controller \
             of the queue is trusted through one CA: make them with `vmafx-controller tls-init --dir DIR \
             --name HOST...` and pass --tls-cert DIR/server.pem --tls-key DIR/server.key"
                .into(),
        )
        .into());
    }
    let running = server::start(ServeOptions {
        data_dir: cfg.data_dir.clone(),
        store: cfg.store.clone(),
        listen: cfg.listen,
        http_listen: cfg.http_listen,
        tls: cfg.tls.clone(),
        metrics_need_token: cfg.metrics_need_token,
        token_files: cfg.token_files.clone(),
        config: ControllerConfig {
            lease_ttl_ms: cfg.lease_ttl_ms,
            heartbeat_interval_ms: (cfg.lease_ttl_ms / 3).max(100),
            retry: RetryPolicy { max_attempts: cfg.max_attempts.max(1), ..RetryPolicy::default() },
            probe_inputs: !cfg.no_probe_inputs,
            retain: cfg.retain,
            max_pending_items: cfg.max_pending_items,
            max_submit_rate: cfg.max_submit_rate,
            input_roots: vmafx_media::AllowedRoots::new(&cfg.allow_roots).map_err(anyhow::Error::msg)?,
            remote_inputs: std::sync::Arc::new(cfg.remote_inputs.resolver().map_err(anyhow::Error::msg)?),
            url_ttl: cfg.remote_inputs.url_ttl,
            model_registry: cfg.model_registry.clone(),
            ..ControllerConfig::default()
        },
    })
    .await?;
    if running.tokens_created {
        println!(
            "vmafx-controller: wrote the admin token to {} and the node join token to {}",
            running.tokens.admin_path.display(),
            running.tokens.node_path.display()
        );
    }
    match &running.generated_ca {
        Some(ca) => println!(
            "vmafx-controller: TLS with a private CA: clients on this machine find {} like the tokens; give it to others with --ca",
            ca.display()
        ),
        None if running.scheme == "http" => {
            println!("vmafx-controller: no TLS (--insecure-plaintext): clients use http:// addresses")
        }
        None => {}
    }
    println!("vmafx-controller: HTTP listening on {}", running.http_addr);
    println!("vmafx-controller: dashboard at {}://{}/ui/", running.scheme, running.http_addr);
    println!("vmafx-controller: gRPC listening on {}", running.grpc_addr);
    server::shutdown_signal().await;
    println!("vmafx-controller: stopping (signal received); nodes keep their work and retry until a controller is back");
    running.stop().await?;
    println!("vmafx-controller: stopped");
    Ok(())
}

#[cfg(test)]
vmafx_logging::every_flag_has_help_text!(Config);
