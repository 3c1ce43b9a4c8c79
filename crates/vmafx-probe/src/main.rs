//! `vmafx-probe`: runs a command under the eBPF probe and reports what it did with the kernel.

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Instant;

use clap::Parser;
use vmafx_probe::report::{Report, RunFacts};
use vmafx_probe::tracer::Tracer;
use vmafx_probe::ProbeError;

#[derive(Debug, Parser)]
#[command(
    name = "vmafx-probe",
    version,
    about = "Run a command under an eBPF probe: read/write syscalls per thread and descriptor, run-queue latency, page-cache misses and FUSE reads of it and every process it starts",
    after_help = "Examples:\n  \
        vmafx-probe --frames 60 -- vmafx score ref.y4m dist.mp4\n  \
        vmafx-probe --json probe.json -- vmafx score s3://bucket/ref.mkv /mnt/rclone/dist.mp4\n\n\
        Needs root (or CAP_BPF and CAP_PERFMON) and a kernel with tracepoints and BTF. The \
        report goes to stderr; the command's own output is left as it is. Exit status: the \
        command's, or 2 when the probe itself cannot run."
)]
struct Cli {
    /// Frames the command scores: adds per-frame figures (calls and bytes per frame).
    #[arg(long, env = "VMAFX_PROBE_FRAMES")]
    frames: Option<u64>,
    /// Also write the report as JSON to this file (`-` for stdout).
    #[arg(long, env = "VMAFX_PROBE_JSON")]
    json: Option<PathBuf>,
    /// The command to trace, after `--`.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("vmafx-probe: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<ExitCode> {
    let mut tracer = Tracer::start()?;
    // The probe traces itself only for the fork that starts the command: the child is
    // then traced from its first instruction, with no window where it runs untraced.
    let own_pid = std::process::id();
    tracer.track(own_pid)?;
    let started = Instant::now();
    let spawned = Command::new(&cli.command[0]).args(&cli.command[1..]).spawn();
    tracer.untrack(own_pid)?;
    let mut child =
        spawned.map_err(|source| ProbeError::Spawn { command: cli.command[0].clone(), source })?;
    // Ctrl-C reaches the command (same process group); the probe stays to report. Set only
    // now: an ignored signal would be inherited by the command.
    // SAFETY: installs the SIG_IGN disposition, no handler code runs.
    unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) };
    let status = child.wait()?;
    let wall_seconds = started.elapsed().as_secs_f64();
    let collected = tracer.collect()?;
    let report = Report::build(
        RunFacts {
            command: cli.command.clone(),
            exit_code: status.code(),
            wall_seconds,
            frames: cli.frames,
            lost_events: collected.lost_events,
            own_pid,
        },
        collected.io,
        collected.threads,
    );
    eprint!("{}", report.render());
    if let Some(path) = &cli.json {
        let json = serde_json::to_string_pretty(&report)? + "\n";
        if path.as_os_str() == "-" {
            print!("{json}");
        } else {
            std::fs::write(path, json)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        }
    }
    Ok(match status.code() {
        Some(c) => ExitCode::from(c.clamp(0, 255) as u8),
        None => ExitCode::from(128 + 9),
    })
}

#[cfg(test)]
vmafx_logging::every_flag_has_help_text!(Cli);
