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
/// set the ffmpeg process is killed within 50 ms and [`MediaError::Cancelled`] returned. With
/// `stall_after`, an encode whose output has not grown for that long (a hung encoder, a dead
/// mount) is killed and [`MediaError::ToolTimeout`] returned: the machine's trouble.
pub fn encode(
    tools: &Tools,
    source: &Path,
    args: &[String],
    out: &Path,
    cancel: Option<&AtomicBool>,
    stall_after: Option<Duration>,
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
    // Output size and when it last changed, for `stall_after`.
    let mut grown = (0u64, Instant::now());
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
        if let Some(limit) = stall_after {
            let size = std::fs::metadata(&partial).map_or(0, |m| m.len());
            if size != grown.0 {
                grown = (size, Instant::now());
            } else if grown.1.elapsed() >= limit {
                let _ = child.kill();
                let _ = child.wait();
                let _ = std::fs::remove_file(&partial);
                return Err(MediaError::ToolTimeout {
                    program: format!(
                        "{} (encoding; no output for {} s)",
                        tools.ffmpeg.display(),
                        limit.as_secs()
                    ),
                    seconds: limit.as_secs(),
                });
            }
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
        let ea = encode(&Tools::default(), &src, &args, &a, None, None).unwrap();
        encode(&Tools::default(), &src, &args, &b, None, None).unwrap();
        assert!(ea.bytes > 0);
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap(), "bit-exact");
        let bad: Vec<String> = ["-c:v", "no_such_encoder"].map(String::from).to_vec();
        let err = encode(&Tools::default(), &src, &bad, &dir.path().join("c.mkv"), None, None).unwrap_err();
        assert!(err.to_string().contains("src.y4m"), "{err}");
        assert!(!dir.path().join("c.partial.mkv").exists());
        let stop = AtomicBool::new(true);
        assert!(matches!(
            encode(&Tools::default(), &src, &args, &dir.path().join("d.mkv"), Some(&stop), None),
            Err(MediaError::Cancelled)
        ));
    }

    #[test]
    fn an_encoder_that_writes_nothing_is_stopped_as_the_machine_s_trouble() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src.y4m");
        crate::y4m::write_pattern(&src, 64, 48, 2, 0).unwrap();
        let hung = dir.path().join("hung-ffmpeg");
        std::fs::write(&hung, "#!/bin/sh\nexec sleep 600\n").unwrap();
        std::process::Command::new("chmod").args(["755", hung.to_str().unwrap()]).status().unwrap();
        let tools = Tools { ffmpeg: hung, ..Tools::default() };
        let at = Instant::now();
        let limit = Some(Duration::from_millis(300));
        let err = encode(&tools, &src, &[], &dir.path().join("e.mkv"), None, limit).unwrap_err();
        assert!(at.elapsed() < Duration::from_secs(5), "{:?}", at.elapsed());
        assert!(matches!(err, MediaError::ToolTimeout { .. }) && !err.is_bad_input(), "{err}");
        assert!(err.to_string().contains("no output for 0 s"), "{err}");
    }
}
