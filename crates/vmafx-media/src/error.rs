//! Errors of video input. Every variant names the input it is about.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("`{}`: no such file", crate::location::shown(.input))]
    NotFound { input: PathBuf },
    #[error("`{}`: cannot read: {source}", crate::location::shown(.input))]
    Unreadable { input: PathBuf, source: std::io::Error },
    #[error("`{}`: the file is empty (0 bytes)", crate::location::shown(.input))]
    Empty { input: PathBuf },
    #[error("`{}`: not a video ffprobe can read ({reason})", crate::location::shown(.input))]
    NotAVideo { input: PathBuf, reason: String },
    #[error("`{}`: invalid Y4M: {reason}", crate::location::shown(.input))]
    BadY4m { input: PathBuf, reason: String },
    #[error("`{}`: invalid raw YUV: {reason}", crate::location::shown(.input))]
    BadRaw { input: PathBuf, reason: String },
    #[error("`{}`: {message}", crate::location::shown(.input))]
    Mismatch { input: PathBuf, message: String },
    #[error(
        "`{}`: unsupported pixel format `{pix_fmt}`; vmafx scores planar YUV 4:2:0, 4:2:2 or 4:4:4 \
         at 8 to 16 bits (convert it with e.g. `ffmpeg -i IN -pix_fmt yuv420p OUT.y4m`)",
        crate::location::shown(.input)
    )]
    UnsupportedPixelFormat { input: PathBuf, pix_fmt: String },
    #[error("`{}`: truncated stream: frame {frame} is incomplete (last good frame: {})", crate::location::shown(.input), last_good(*.frame))]
    Truncated { input: PathBuf, frame: u64 },
    #[error("`{}`: corrupt or truncated stream: decoding failed after {frame} frames (last good frame: {}): {message}", crate::location::shown(.input), last_good(*.frame))]
    Corrupt { input: PathBuf, frame: u64, message: String },
    #[error("cannot run `{program}` (is ffmpeg installed? set --ffmpeg / VMAFX_FFMPEG): {source}")]
    Tool { program: String, source: std::io::Error },
    #[error("`{program}` did not finish within {seconds} s and was stopped")]
    ToolTimeout { program: String, seconds: u64 },
    /// A tool died of a signal: the machine's trouble (out of memory, an operator), not the
    /// input's; another attempt, maybe elsewhere, may succeed.
    #[error("`{}`: ffmpeg was killed by {signal} after {frame} frames", crate::location::shown(.input))]
    ToolKilled { input: PathBuf, frame: u64, signal: String },
    #[error("`{}`: read error at frame {frame}: {source}", crate::location::shown(.input))]
    Io { input: PathBuf, frame: u64, source: std::io::Error },
    #[error("`{}`: encoding failed: {message}", crate::location::shown(.input))]
    EncodeFailed { input: PathBuf, message: String },
    #[error("stopped on request")]
    Cancelled,
}

/// ffmpeg messages that blame the machine rather than the input.
fn machine_trouble(message: &str) -> bool {
    ["No space left on device", "Cannot allocate memory", "Input/output error", "Disk quota exceeded"]
        .iter()
        .any(|m| message.contains(m))
}

fn last_good(frames_read: u64) -> String {
    match frames_read {
        0 => "none".to_string(),
        n => (n - 1).to_string(),
    }
}

impl MediaError {
    /// True when the input is at fault (exit code 2), false for failures of the machine or tools.
    pub fn is_bad_input(&self) -> bool {
        match self {
            MediaError::Tool { .. }
            | MediaError::ToolTimeout { .. }
            | MediaError::ToolKilled { .. }
            | MediaError::Io { .. }
            | MediaError::Cancelled => false,
            // A full disk or a failing device is the machine's trouble.
            MediaError::EncodeFailed { message, .. } | MediaError::Corrupt { message, .. } => {
                !machine_trouble(message)
            }
            _ => true,
        }
    }
}
