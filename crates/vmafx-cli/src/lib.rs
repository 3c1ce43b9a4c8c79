//! The `vmafx` command line.
//!
//! Exit codes: 0 success, 2 bad input or usage (the message names the input and the problem),
//! 1 internal failure or a followed job that failed, 3 a followed job that was cancelled, 130
//! when Ctrl-C stopped following a job.

mod args;
mod models;
mod plot;
mod progress;
mod remote;
mod up;

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser;
use vmafx_core::{NoteLevel, ReportFormat};
use vmafx_engine::{catalog, score_files, EngineError, ModelChoice, Progress, ScoreRequest};
use vmafx_media::{DecodeOptions, Shrink, Tools};

pub use args::{Cli, ClusterArgs, Command, JobsCommand, NodesCommand, ScoreArgs, SubmitArgs, UpArgs};

/// Exit code for bad input or usage.
pub const EXIT_BAD_INPUT: i32 = 2;
/// Exit code for internal failures.
pub const EXIT_INTERNAL: i32 = 1;

/// Runs the CLI on `args` and returns the process exit code.
pub fn main_with_args(args: impl IntoIterator<Item = OsString>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_BAD_INPUT } else { 0 };
        }
    };
    match run(cli) {
        Ok(()) => 0,
        Err(e) => {
            if let Some(ended) = e.downcast_ref::<remote::JobEnded>() {
                eprintln!("{}{ended}", if ended.code == remote::EXIT_INTERRUPTED { "" } else { "error: " });
                return ended.code;
            }
            let bad_input = e.downcast_ref::<EngineError>().is_some_and(EngineError::is_bad_input)
                || e.downcast_ref::<UsageError>().is_some()
                || e.downcast_ref::<vmafx_client::ClientError>().is_some_and(|c| c.is_caller_mistake())
                || e.downcast_ref::<vmafx_controller::server::DataDirInUse>().is_some();
            eprintln!("error: {}", vmafx_core::one_statement(e.as_ref()));
            if bad_input {
                EXIT_BAD_INPUT
            } else {
                EXIT_INTERNAL
            }
        }
    }
}

/// A mistake in how the command was called, found after argument parsing.
#[derive(Debug)]
pub(crate) struct UsageError(pub(crate) String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Score(args) => score(*args),
        Command::Submit(args) => remote::submit(*args),
        Command::Jobs { cluster, command } => remote::jobs(cluster, command),
        Command::Nodes { cluster, json, command } => remote::nodes(cluster, json, command),
        Command::Up(args) => up::up(*args),
        Command::Tokens { cluster, command } => remote::tokens(cluster, command),
        Command::Models { registry: Some(dir), action: Some(action), .. } => models::change(&dir, action),
        Command::Models { registry: None, action: Some(_), .. } => Err(UsageError(
            "pinning changes a model registry: give --registry DIR (or VMAFX_MODEL_REGISTRY)".into(),
        )
        .into()),
        Command::Models { json, registry, action: None } => {
            let registry = match registry {
                Some(dir) => Some(vmafx_ai::Registry::open(&dir).map_err(|e| UsageError(e.to_string()))?),
                None => None,
            };
            let checked = registry.as_ref().map(models::check_all).unwrap_or_default();
            if json {
                let mut list: Vec<_> = catalog::BUILTIN_MODELS
                    .iter()
                    .map(|m| serde_json::json!({"name": m.name, "source": "builtin", "description": m.description, "default": m.name == catalog::DEFAULT_MODEL}))
                    .collect();
                list.extend(checked.iter().map(models::Checked::to_json));
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                println!("Built-in VMAF models (use with --model NAME; custom JSON models with --model-path FILE):");
                for m in catalog::BUILTIN_MODELS {
                    println!("  {:<24} {}", m.name, m.description);
                }
                if let Some(r) = &registry {
                    models::print(r, &checked);
                }
            }
            Ok(())
        }
        Command::Features { json } => {
            if json {
                let list: Vec<_> = catalog::FEATURES
                    .iter()
                    .map(|f| serde_json::json!({"name": f.name, "description": f.description, "outputs": f.outputs}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&list)?);
            } else {
                println!("Extra features (use with --feature NAME, repeatable):");
                for f in catalog::FEATURES {
                    println!("  {:<14} {} [{}]", f.name, f.description, f.outputs.join(", "));
                }
            }
            Ok(())
        }
    }
}

fn score(args: ScoreArgs) -> anyhow::Result<()> {
    if args.nr {
        return score_nr(args);
    }
    let (reference, distorted) = args.inputs().map_err(|m| UsageError(m.into()))?;
    let (ref_at, dist_at, _rclone) = readable_inputs(&reference, &distorted)?;
    // A registry model is checked before anything is decoded, and loads beside the decode.
    let estimator = match args.model.strip_prefix("registry:") {
        Some(spec) => Some(models::for_score(&args, spec, vmafx_ai::Kind::Fr)?),
        None => None,
    };
    let cancel = Arc::new(AtomicBool::new(false));
    let model = match (&args.model_path, &args.model) {
        (Some(path), _) => ModelChoice::Path(path.clone()),
        (None, _) if estimator.is_some() => ModelChoice::Builtin(catalog::DEFAULT_MODEL.into()),
        (None, name) => ModelChoice::Builtin(name.clone()),
    };
    let cores = std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1);
    let threads = args.threads.unwrap_or(cores);
    let req = ScoreRequest {
        model,
        features: args.feature.clone(),
        threads,
        subsample: args.subsample,
        allow_length_mismatch: args.allow_length_mismatch,
        segment: args.segment,
        sync: args.sync,
        sync_seconds: args.sync_seconds,
        decode: DecodeOptions {
            tools: Tools::new(args.ffmpeg.clone(), args.ffprobe.clone()).decoding_with(args.decoder),
            threads: args.decode_threads.unwrap_or_else(|| default_decode_threads(cores, threads)),
        },
        shrink: estimator
            .as_ref()
            .map_or(Shrink::NONE, |m| Shrink { crop: m.entry.crop, factor: m.entry.downscale }),
        cancel: Some(cancel.clone()),
        ..ScoreRequest::new(&ref_at, &dist_at)
    }
    .with_inputs(&args.inputs.options(&reference, &distorted).map_err(UsageError)?)?;
    let mut bar = progress::Bar::new(args.quiet);
    // A text report on stdout lists the notes itself; elsewhere they go to stderr as they come.
    let report_has_notes = args.format == ReportFormat::Text && args.output.is_none();
    let mut run = || {
        let outcome = score_files(&req, &mut |event| match event {
            Progress::Note(n) => {
                let quiet = report_has_notes || (args.quiet && n.level == NoteLevel::Note);
                bar.println(&n.to_string(), quiet)
            }
            Progress::Start { total } => bar.start(total),
            Progress::Frames { done } => bar.set(done),
        });
        bar.finish();
        anyhow::Ok(outcome?.report)
    };
    let mut report = match estimator {
        Some(pending) => {
            let (mut model, report) = pending.load_beside(&cancel, run)?;
            models::estimated(report, &mut model)?
        }
        None => run()?,
    };
    // Named as the user gave them, never by a signed URL.
    report.info.reference = reference.display().to_string();
    report.info.distorted = distorted.display().to_string();
    write_report(&report, args.format, args.output.as_deref(), args.quiet)?;
    args.plot.map_or(Ok(()), |p| p.write(&report, args.quiet))
}

/// `vmafx score --nr DIST --model registry:ID`: the distorted alone, measured and estimated
/// by a no-reference model.
fn score_nr(args: ScoreArgs) -> anyhow::Result<()> {
    let distorted = args.nr_input().map_err(|m| UsageError(m.into()))?;
    let Some(spec) = args.model.strip_prefix("registry:") else {
        return Err(UsageError(format!(
            "--nr estimates with a no-reference model of a registry: give --model registry:ID (not `{}`) and \
             --registry DIR",
            args.model
        ))
        .into());
    };
    let pending = models::for_score(&args, spec, vmafx_ai::Kind::Nr)?;
    for (given, flag) in [
        (args.segment.is_some(), "--segment"),
        (args.subsample != 1, "--subsample"),
        (args.sync == vmafx_media::sync::SyncMode::Auto, "--sync auto"),
    ] {
        if given {
            return Err(
                UsageError(format!("{flag} needs a reference; --nr scores the distorted alone")).into()
            );
        }
    }
    let parse = vmafx_core::InputUri::parse(&distorted.to_string_lossy())
        .map_err(|e| UsageError(format!("distorted {e}")))?;
    let (located, _rclone) =
        vmafx_storage::locate_for_user(&[parse]).map_err(|(_, e)| match e.is_bad_input() {
            true => anyhow::Error::from(UsageError(format!("distorted {e}"))),
            false => anyhow::anyhow!("distorted {e}"),
        })?;
    let dist_at = PathBuf::from(&located[0].at);
    let cores = std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1);
    let cancel = Arc::new(AtomicBool::new(false));
    let req = ScoreRequest {
        decode: DecodeOptions {
            tools: Tools::new(args.ffmpeg.clone(), args.ffprobe.clone()).decoding_with(args.decoder),
            // Nothing else runs: the decoder may have every core.
            threads: args.decode_threads.unwrap_or(cores),
        },
        cancel: Some(cancel.clone()),
        ..ScoreRequest::new(&dist_at, &dist_at)
    }
    .with_inputs(&args.inputs.options(&distorted, &distorted).map_err(UsageError)?)?;
    let mut bar = progress::Bar::new(args.quiet);
    let (mut model, measured) = pending.load_beside(&cancel, || {
        let measured = vmafx_engine::nr::measure_file(&req, &mut |event| match event {
            Progress::Note(n) => {
                let in_report = args.format == ReportFormat::Text && args.output.is_none();
                bar.println(&n.to_string(), in_report || (args.quiet && n.level == NoteLevel::Note))
            }
            Progress::Start { total } => bar.start(total),
            Progress::Frames { done } => bar.set(done),
        });
        bar.finish();
        Ok(measured?)
    })?;
    let mut report = models::estimated(measured, &mut model)?;
    report.info.distorted = distorted.display().to_string();
    write_report(&report, args.format, args.output.as_deref(), args.quiet)?;
    args.plot.map_or(Ok(()), |p| p.write(&report, args.quiet))
}

/// Where the reference and distorted are read from: a local path or URL as given, an object
/// in S3/GCS/Azure as a GET URL signed with this user's credentials (`AWS_*`, `GOOGLE_*`,
/// `AZURE_*`), so ffmpeg and the Y4M reader stream it with no copy on disk.
/// rclone remotes (`rclone:REMOTE:PATH`, from rclone's own configuration) are served over
/// loopback by `rclone serve http` while the run lasts: the returned servers stop when dropped.
fn readable_inputs(
    reference: &Path,
    distorted: &Path,
) -> anyhow::Result<(PathBuf, PathBuf, Option<Arc<vmafx_storage::Rclone>>)> {
    let parse = |role: &str, p: &Path| {
        vmafx_core::InputUri::parse(&p.to_string_lossy()).map_err(|e| UsageError(format!("{role} {e}")))
    };
    let inputs = [parse("reference", reference)?, parse("distorted", distorted)?];
    let (located, rclone) = vmafx_storage::locate_for_user(&inputs).map_err(|(n, e)| {
        let role = ["reference", "distorted"][n];
        match e.is_bad_input() {
            true => anyhow::Error::from(UsageError(format!("{role} {e}"))),
            false => anyhow::anyhow!("{role} {e}"),
        }
    })?;
    let [r, d] = [&located[0], &located[1]].map(|l| PathBuf::from(&l.at));
    Ok((r, d, rclone))
}

/// Prints `report` in `format` to stdout, or writes it to `output`.
fn write_report(
    report: &vmafx_core::Report,
    format: ReportFormat,
    output: Option<&std::path::Path>,
    quiet: bool,
) -> anyhow::Result<()> {
    let text = report.render(format);
    match output {
        Some(path) => {
            std::fs::write(path, &text)
                .with_context(|| format!("cannot write report to `{}`", path.display()))?;
            if !quiet {
                eprintln!("wrote {} report to {}", format_name(format), path.display());
            }
        }
        None => {
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error worth reporting.
            let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
        }
    }
    Ok(())
}

/// Decoder threads per ffmpeg: the cores libvmaf leaves free, and one thread when it leaves
/// none (ffmpeg's default of a thread per core then only fights libvmaf for the same cores).
fn default_decode_threads(cores: u32, vmaf_threads: u32) -> u32 {
    cores.saturating_sub(vmaf_threads).max(1)
}

fn format_name(f: ReportFormat) -> &'static str {
    match f {
        ReportFormat::Text => "text",
        ReportFormat::Json => "JSON",
        ReportFormat::Csv => "CSV",
        ReportFormat::Xml => "XML",
    }
}
