//! `vmafx-operator`: prints the CRDs, or (later) runs the reconcilers against a cluster.

use clap::Parser;

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
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Crds => print!("{}", vmafx_operator::crd::crds_yaml()?),
    }
    Ok(())
}

#[cfg(test)]
vmafx_logging::every_flag_has_help_text!(Cli);
