//! One logging setup for the services (`vmafx-controller`, `vmafx-node`, `vmafx up`): `tracing`
//! events on stderr, as text for a person at a terminal or as JSON lines for a log collector
//! (`--log-format json`). Events about a job carry `job_id`, and about a work item also
//! `item_id` and `node_id`, as fields, so that a job's whole life can be filtered out of the
//! logs of every process it touched. `VMAFX_LOG` filters like `RUST_LOG` (default `info`).

use std::fmt;
use std::str::FromStr;

use tracing_subscriber::EnvFilter;

/// How log lines look.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// `2026-11-30T09:00:00Z  INFO item leased job_id=… item_id=7 node_id=…`
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `fields` (`message`, ids…), `target`.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("unknown log format `{other}`; valid: text, json")),
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        })
    }
}

/// Installs the process's logger; later calls do nothing (tests start several services).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env("VMAFX_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(false).try_init(),
        LogFormat::Json => builder.json().flatten_event(false).try_init(),
    };
}

/// A test, in a binary's crate, that every flag of its clap type `$cli` has help text:
/// `#[cfg(test)] vmafx_logging::every_flag_has_help_text!(Args);` at the end of its `main.rs`.
#[macro_export]
macro_rules! every_flag_has_help_text {
    ($cli:ty) => {
        #[test]
        fn every_flag_has_help_text() {
            let missing = $crate::undocumented_flags(&<$cli as clap::CommandFactory>::command());
            assert!(missing.is_empty(), "no help text: {missing:#?}");
        }
    };
}

/// Every argument of `cmd` and its subcommands, at any depth, that has no help text, as
/// `vmafx jobs list --state`. Each binary's tests assert this is empty: `--help` teaches
/// every flag.
pub fn undocumented_flags(cmd: &clap::Command) -> Vec<String> {
    let mut missing = Vec::new();
    walk(cmd, cmd.get_name(), &mut missing);
    missing
}

fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
    for arg in cmd.get_arguments() {
        let builtin = matches!(arg.get_id().as_str(), "help" | "version");
        if !builtin && arg.get_help().is_none() && arg.get_long_help().is_none() {
            let name = match (arg.get_long(), arg.get_short()) {
                (Some(l), _) => format!("--{l}"),
                (None, Some(s)) => format!("-{s}"),
                (None, None) => arg.get_id().to_string().to_uppercase(),
            };
            missing.push(format!("{path} {name}"));
        }
    }
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        if sub.get_about().is_none() && sub.get_long_about().is_none() {
            missing.push(format!("{path} {} (the command itself)", sub.get_name()));
        }
        walk(sub, &format!("{path} {}", sub.get_name()), missing);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_name_the_valid_ones() {
        assert_eq!("json".parse::<LogFormat>().unwrap(), LogFormat::Json);
        assert!("xml".parse::<LogFormat>().unwrap_err().contains("valid: text, json"));
    }
}
