//! Encoding with ffmpeg: `ffmpeg -i SOURCE <args> OUT`, timed, written to a temporary name
//! first so that an interrupted encode never looks finished, and stoppable.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::error::MediaError;
use crate::probe::{tool_message, Tools};

/// A finished encode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Encoded {
    pub bytes: u64,
    /// Wall time of the ffmpeg run.
    pub seconds: f64,
}

/// Encodes `source` with ffmpeg output options `args` into `out` (its extension picks the
/// container). Muxing is bit-exact, so the same inputs give the same file. When `cancel` is
/// set the ffmpeg process is killed within 50 ms and [`MediaError::Cancelled`] returned.
pub fn encode(
    tools: &Tools,
    source: &Path,
    args: &[String],
    out: &Path,
    cancel: Option<&AtomicBool>,
) -> Result<Encoded, MediaError> {
    let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("mkv");
    let partial = out.with_extension(format!("partial.{ext}"));
    let started = Instant::now();
    let mut child = Command::new(&tools.ffmpeg)
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i"])
        .arg(source)
        .args(args)
        .args(["-fflags", "+bitexact"])
        .arg(&partial)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| MediaError::Tool { program: tools.ffmpeg.display().to_string(), source: e })?;
    // Read stderr on a thread so that a chatty encoder never blocks on a full pipe.
    let stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        if let Some(mut s) = stderr {
            let _ = std::io::Read::read_to_end(&mut s, &mut text);
        }
        text
    });
    let status = loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| MediaError::Tool { program: tools.ffmpeg.display().to_string(), source: e })?
        {
            break status;
        }
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            let _ = child.kill();
            let _ = child.wait();
            let _ = std::fs::remove_file(&partial);
            return Err(MediaError::Cancelled);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let seconds = started.elapsed().as_secs_f64();
    let stderr = reader.join().unwrap_or_default();
    if let Some(signal) = crate::tool::killed_by(&status) {
        let _ = std::fs::remove_file(&partial);
        return Err(MediaError::ToolKilled {
            input: source.into(),
            frame: 0,
            signal: crate::tool::signal_name(signal),
        });
    }
    if !status.success() {
        let _ = std::fs::remove_file(&partial);
        return Err(MediaError::EncodeFailed {
            input: source.into(),
            message: tool_message(&stderr, source),
        });
    }
    std::fs::rename(&partial, out).map_err(|e| MediaError::Unreadable { input: out.into(), source: e })?;
    let bytes =
        std::fs::metadata(out).map_err(|e| MediaError::Unreadable { input: out.into(), source: e })?.len();
    Ok(Encoded { bytes, seconds })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_are_reproducible_and_failures_name_the_input() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src.y4m");
        crate::y4m::write_pattern(&src, 64, 48, 6, 8).unwrap();
        let args: Vec<String> = ["-c:v", "libx264", "-crf", "30"].map(String::from).to_vec();
        let (a, b) = (dir.path().join("a.mkv"), dir.path().join("b.mkv"));
        let ea = encode(&Tools::default(), &src, &args, &a, None).unwrap();
        encode(&Tools::default(), &src, &args, &b, None).unwrap();
        assert!(ea.bytes > 0);
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap(), "bit-exact");
        let bad: Vec<String> = ["-c:v", "no_such_encoder"].map(String::from).to_vec();
        let err = encode(&Tools::default(), &src, &bad, &dir.path().join("c.mkv"), None).unwrap_err();
        assert!(err.to_string().contains("src.y4m"), "{err}");
        assert!(!dir.path().join("c.partial.mkv").exists());
        let stop = AtomicBool::new(true);
        assert!(matches!(
            encode(&Tools::default(), &src, &args, &dir.path().join("d.mkv"), Some(&stop)),
            Err(MediaError::Cancelled)
        ));
    }
}
