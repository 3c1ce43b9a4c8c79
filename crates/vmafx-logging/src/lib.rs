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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_and_name_the_valid_ones() {
        assert_eq!("json".parse::<LogFormat>().unwrap(), LogFormat::Json);
        assert!("xml".parse::<LogFormat>().unwrap_err().contains("valid: text, json"));
    }
}
