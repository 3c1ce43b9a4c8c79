//! `vmafx-operator`: prints the CRDs, or runs the reconcilers against a cluster.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use vmafx_client::{JobClient, Tls};
use vmafx_operator::pool::PodSettings;
use vmafx_operator::run::Settings;

/// The vmafx Kubernetes operator: VmafxJob, VmafxNode and VmafxModelTraining (vmafx.io/v1alpha1).
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Prints the CustomResourceDefinitions as YAML (`vmafx-operator crds | kubectl apply -f -`).
    Crds,
    /// Reconciles VmafxNode pools into Deployments and VmafxJobs into controller jobs, on the
    /// cluster of the in-cluster service account or of $KUBECONFIG. Of several replicas, the
    /// one holding the leader Lease works; the others wait to take over.
    Run(Box<RunArgs>),
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// The controller's gRPC address as the operator reaches it (https://vmafx-controller:50051).
    #[arg(long, env = "VMAFX_CONTROLLER")]
    controller: String,
    /// A token of role `submit` (submits and cancels the VmafxJobs' jobs, reads the queue).
    #[arg(long, env = "VMAFX_TOKEN", hide_env_values = true)]
    token: String,
    /// The CA certificate (PEM) that signed the controller's.
    #[arg(long, env = "VMAFX_CA", value_name = "FILE")]
    ca: Option<PathBuf>,
    /// The controller's address as node pods reach it [default: --controller].
    #[arg(long, env = "VMAFX_NODE_CONTROLLER")]
    node_controller: Option<String>,
    /// The Secret (in each pool's namespace) holding the node join token under `token`.
    #[arg(long, env = "VMAFX_JOIN_TOKEN_SECRET", default_value = "vmafx-join-token")]
    join_token_secret: String,
    /// The Secret holding the controller's CA under `ca.crt`; node pods mount that key alone.
    #[arg(long, env = "VMAFX_CA_SECRET")]
    ca_secret: Option<String>,
    /// The operator's namespace: its leader Lease, and the pools that name none.
    #[arg(long, env = "POD_NAMESPACE", default_value = "vmafx")]
    namespace: String,
    /// This replica's name in the leader Lease [default: $POD_NAME, else host name and pid].
    #[arg(long, env = "POD_NAME")]
    identity: Option<String>,
    /// The leader Lease's name.
    #[arg(long, default_value = "vmafx-operator")]
    lease_name: String,
    /// Seconds the leader's Lease lasts unrenewed (a follower takes over after that).
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(i32).range(3..=600))]
    lease_seconds: i32,
    /// Seconds between two sizing decisions of a pool from the controller's queue.
    #[arg(long, default_value_t = 15.0)]
    resync_seconds: f64,
    /// Seconds between two looks at an unfinished VmafxJob's controller job.
    #[arg(long, default_value_t = 5.0)]
    job_poll_seconds: f64,
    /// Log lines on stderr: text, or json (one object per line).
    #[arg(long, env = "VMAFX_LOG_FORMAT", default_value = "text")]
    log_format: vmafx_logging::LogFormat,
}

fn seconds(s: f64, what: &str) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(s)
        .ok()
        .filter(|d| *d >= Duration::from_millis(100))
        .ok_or_else(|| anyhow::anyhow!("{what} must be at least 0.1 (seconds), not {s}"))
}

async fn run(a: RunArgs) -> anyhow::Result<()> {
    vmafx_logging::init(a.log_format);
    let identity = a.identity.filter(|i| !i.is_empty()).unwrap_or_else(|| {
        let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_default();
        format!("{host}-{}", std::process::id())
    });
    let settings = Settings {
        pods: PodSettings {
            controller: a.node_controller.unwrap_or_else(|| a.controller.clone()),
            join_token_secret: a.join_token_secret,
            ca_secret: a.ca_secret,
            namespace: a.namespace,
        },
        resync: seconds(a.resync_seconds, "--resync-seconds")?,
        job_poll: seconds(a.job_poll_seconds, "--job-poll-seconds")?,
        lease_name: a.lease_name,
        identity,
        lease_seconds: a.lease_seconds,
    };
    let jobs = JobClient::connect_lazy(&a.controller, &a.token, &Tls::with_ca(a.ca))?;
    let kube = kube::Client::try_default().await.map_err(|e| {
        anyhow::anyhow!(
            "no Kubernetes API to talk to ({e}): run in a pod with a service account, or set KUBECONFIG"
        )
    })?;
    vmafx_operator::run::run(kube, jobs, settings).await
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let result = match Cli::parse().command {
        Command::Crds => vmafx_operator::crd::crds_yaml().map(|y| print!("{y}")).map_err(anyhow::Error::from),
        Command::Run(a) => run(*a).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vmafx-operator: error: {}", vmafx_core::one_statement(e.as_ref()));
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
vmafx_logging::every_flag_has_help_text!(Cli);
