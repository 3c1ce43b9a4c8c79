//! `vmafx-mcp`: serves the vmafx tools over MCP, on stdio (default) or streamable HTTP.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use clap::Parser;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::ServiceExt;
use vmafx_mcp::{Cluster, Settings, Vmafx};

/// vmafx's scoring, cluster jobs and encoder tuning as MCP tools for AI agents.
#[derive(Debug, Parser)]
#[command(
    version,
    after_help = "Tools: vmaf_score, worst_frames, submit_job, get_job, list_jobs, cancel_job, list_nodes,\n\
                  list_models, describe_model, crf_search, ladder. See docs/mcp.md for a client configuration."
)]
struct Args {
    /// Serve streamable HTTP on this address (e.g. 127.0.0.1:8765, path /mcp) instead of stdio.
    #[arg(long, value_name = "ADDR")]
    http: Option<SocketAddr>,
    /// Bearer token HTTP clients must send (required with --http).
    #[arg(long, env = "VMAFX_MCP_TOKEN", hide_env_values = true)]
    http_token: Option<String>,
    /// Certificate chain (PEM) --http serves with [default: DATA_DIR/mcp/tls/server.pem, made
    /// on first start and signed by a private CA in DATA_DIR/mcp/tls/ca.pem, which clients
    /// then trust]. Reloaded when the file changes.
    #[arg(long, env = "VMAFX_MCP_TLS_CERT", value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, env = "VMAFX_MCP_TLS_KEY", value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Another host name or address clients reach --http by, added to the generated
    /// certificate (repeatable).
    #[arg(long = "tls-name", value_name = "NAME", value_delimiter = ',')]
    tls_names: Vec<String>,
    /// Serve --http without TLS: the bearer token crosses the network in the clear. Only
    /// behind a TLS-terminating proxy or on a trusted network.
    #[arg(long, conflicts_with = "tls_cert")]
    insecure_plaintext: bool,
    /// Where the generated certificate is kept (in `mcp/tls/`) [default: $VMAFX_DATA_DIR or
    /// ./vmafx-data].
    #[arg(long, env = "VMAFX_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// A directory whose files the tools may read (repeatable) [default: the working directory].
    #[arg(long = "allow-root", value_name = "DIR")]
    allow_roots: Vec<PathBuf>,
    #[command(flatten)]
    remote_inputs: vmafx_storage::RemoteInputArgs,
    /// Where the `ladder` tool may write its files (its `output`), repeatable: an absolute
    /// directory or an object-store prefix (s3://media/ladders), written with this server's
    /// credentials [default: nowhere].
    #[arg(
        long = "allow-output",
        env = "VMAFX_ALLOW_OUTPUTS",
        value_name = "DIR|PREFIX",
        value_delimiter = ','
    )]
    allow_outputs: Vec<String>,
    /// Run scoring as jobs on this vmafx controller (gRPC URL) and enable the job tools.
    #[arg(long, env = "VMAFX_CONTROLLER")]
    controller: Option<String>,
    /// The controller's admin token [default: $VMAFX_DATA_DIR/admin.token or ./vmafx-data/admin.token].
    #[arg(long, env = "VMAFX_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// The CA certificate (PEM) that signed the controller's [default: $VMAFX_DATA_DIR/tls/ca.pem
    /// or ./vmafx-data/tls/ca.pem, where the controller makes one].
    #[arg(long, env = "VMAFX_CA", value_name = "FILE")]
    ca: Option<PathBuf>,
    /// Where crf_search and ladder cache encodes [default: $XDG_CACHE_HOME/vmafx-tune].
    #[arg(long, env = "VMAFX_TUNE_CACHE")]
    cache_dir: Option<PathBuf>,
    /// libvmaf threads for local scoring [default: all cores].
    #[arg(long, env = "VMAFX_THREADS")]
    threads: Option<u32>,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", vmafx_core::one_statement(e.as_ref()));
            ExitCode::from(2)
        }
    }
}

async fn run(a: Args) -> anyhow::Result<()> {
    let roots = if a.allow_roots.is_empty() { vec![std::env::current_dir()?] } else { a.allow_roots.clone() };
    let roots = vmafx_media::AllowedRoots::new(&roots).map_err(anyhow::Error::msg)?;
    let cache_dir = match a.cache_dir {
        Some(d) => d,
        None => std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .context("no cache directory: pass --cache-dir")?
            .join("vmafx-tune"),
    };
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1));
    let cluster = match &a.controller {
        Some(url) => {
            let token = vmafx_client::find_token(vmafx_client::TokenKind::Admin, a.token.as_deref())
                .with_context(|| format!("--controller {url}"))?;
            // stderr: stdout may carry the protocol. VMAFX_CONTROLLER may be exported for
            // other tools, so say where scoring goes; each result's `ran_on` says it too.
            eprintln!(
                "vmafx-mcp: scoring runs as jobs on the cluster at {url} (--controller or VMAFX_CONTROLLER)"
            );
            Some(Cluster::new(url, &token, &vmafx_client::Tls::with_ca(a.ca.clone()))?)
        }
        None => None,
    };
    let server = Vmafx::new(
        Settings {
            roots,
            cache_dir,
            threads,
            outputs: vmafx_storage::OutputPolicy::parse(&a.allow_outputs).map_err(anyhow::Error::msg)?,
            remote_inputs: std::sync::Arc::new(
                a.remote_inputs
                    .resolver()
                    .map_err(anyhow::Error::msg)?
                    .with_rclone(std::sync::Arc::new(a.remote_inputs.rclone())),
            ),
        },
        cluster,
    );

    let Some(addr) = a.http else {
        // stdio: stdout carries the protocol, so nothing else may be printed there.
        let service =
            server.serve(rmcp::transport::stdio()).await.context("MCP handshake on stdio failed")?;
        service.waiting().await?;
        return Ok(());
    };
    let token = a
        .http_token
        .filter(|t| !t.trim().is_empty())
        .context("--http needs a bearer token: pass --http-token or set VMAFX_MCP_TOKEN")?;
    let mut config = StreamableHttpServerConfig::default();
    config.allowed_hosts.push(addr.ip().to_string());
    config.allowed_hosts.push(addr.to_string());
    let service: StreamableHttpService<Vmafx, LocalSessionManager> =
        StreamableHttpService::new(move || Ok(server.clone()), Default::default(), config);
    let router = axum::Router::new().nest_service("/mcp", service).layer(middleware::from_fn(
        move |req: Request, next: Next| {
            let expected = format!("Bearer {}", token.trim());
            async move {
                let given = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
                if given.is_some_and(|g| vmafx_core::secrets_equal(g.as_bytes(), expected.as_bytes())) {
                    next.run(req).await
                } else {
                    unauthorized()
                }
            }
        },
    ));
    let listener =
        tokio::net::TcpListener::bind(addr).await.with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    let tls_args = vmafx_tls::TlsArgs {
        tls_cert: a.tls_cert,
        tls_key: a.tls_key,
        tls_names: a.tls_names,
        client_ca: None,
        insecure_plaintext: a.insecure_plaintext,
    };
    let data_dir = a.data_dir.unwrap_or_else(|| PathBuf::from("vmafx-data")).join("mcp");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match vmafx_tls::ServerTls::prepare(&data_dir, &tls_args, &[local])? {
        Some(tls) => {
            let trust = tls.generated_ca.as_ref().map(|ca| format!(" (clients trust {})", ca.display()));
            eprintln!("vmafx-mcp: streamable HTTP on https://{local}/mcp{}", trust.unwrap_or_default());
            let incoming = tls.incoming(listener, &[b"h2", b"http/1.1"])?;
            axum::serve(incoming, router).with_graceful_shutdown(shutdown).await?;
        }
        None => {
            eprintln!("vmafx-mcp: streamable HTTP on http://{local}/mcp (no TLS: --insecure-plaintext)");
            axum::serve(listener, router).with_graceful_shutdown(shutdown).await?;
        }
    }
    Ok(())
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        "missing or wrong token: send `Authorization: Bearer <token>` (vmafx-mcp --http-token / VMAFX_MCP_TOKEN)\n",
    )
        .into_response()
}

#[cfg(test)]
vmafx_logging::every_flag_has_help_text!(Args);
