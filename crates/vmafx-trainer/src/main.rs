//! `vmafx-trainer`: collects training triples from clip pairs and fits, checks and publishes
//! quality models to a model registry (docs/models.md).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
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
    /// Score a clip pair at full size (the truth: VMAF per frame) and downscaled (the
    /// features), and append one triple per frame to a file (JSON lines).
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
        /// How many times smaller each way the features' frames are.
        #[arg(long, default_value_t = 4)]
        downscale: u32,
        /// libvmaf threads.
        #[arg(long, default_value_t = 2)]
        threads: u32,
        /// Triples file to append to.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
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
        /// Model id, e.g. fr-fast.
        #[arg(long)]
        id: String,
        /// Features, in input order (names of the triples' features).
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "integer_vif_scale0,integer_vif_scale1,integer_vif_scale2,integer_vif_scale3,integer_adm2,integer_motion2,vmaf"
        )]
        features: Vec<String>,
        /// The downscale the triples' features were collected at (recorded in the entry).
        #[arg(long, default_value_t = 4)]
        downscale: u32,
        /// Share of clips kept aside as the holdout, percent.
        #[arg(long, default_value_t = 25)]
        holdout_percent: u32,
        /// Training epochs (full-batch Adam).
        #[arg(long, default_value_t = 2000)]
        epochs: usize,
        /// Seed of the initial weights.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
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
        Command::Collect { reference, distorted, clip, downscale, threads, out } => {
            let triples = collect(&CollectRequest { reference, distorted, clip, downscale, threads })?;
            let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&out)?;
            for t in &triples {
                writeln!(file, "{}", serde_json::to_string(t)?)?;
            }
            file.sync_all()?;
            eprintln!("vmafx-trainer: {} triples appended to {}", triples.len(), out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Fit { triples, registry, id, features, downscale, holdout_percent, epochs, seed } => {
            let mut all = Vec::new();
            for path in &triples {
                all.extend(vmafx_trainer::triples::read(path).map_err(anyhow::Error::msg)?);
            }
            let req = FitRequest {
                registry,
                id,
                kind: vmafx_ai::Kind::Fr,
                features,
                downscale,
                holdout_percent,
                fit: FitOptions { epochs, seed, ..FitOptions::default() },
                now: now_rfc3339(),
            };
            let report = fit_and_publish(&all, &req)?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(if report.published.is_some() { ExitCode::SUCCESS } else { ExitCode::from(3) })
        }
    }
}

/// Now, UTC, RFC 3339 (whole seconds), from the system clock.
fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}
