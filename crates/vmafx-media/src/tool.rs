//! Running a helper program (ffprobe, `ffmpeg -encoders`, `nvidia-smi`) with a deadline: a
//! tool that hangs on a stalled network mount or a wedged driver must cost a bounded wait and
//! a clear error, not a worker stuck for ever.

use std::io::Read;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use crate::error::MediaError;

/// How long ffprobe may take on one input (it reads headers, or packets of an edit-listed
/// MP4, never decodes).
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `cmd` to completion, capturing its output; kills it and fails with
/// [`MediaError::ToolTimeout`] past `limit`.
pub fn output_within(cmd: &mut Command, limit: Duration) -> Result<Output, MediaError> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let tool_err = |source| MediaError::Tool { program: program.clone(), source };
    let mut child =
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(tool_err)?;
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("piped")));
    let err = drain(Box::new(child.stderr.take().expect("piped")));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(tool_err)? {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(MediaError::ToolTimeout { program, seconds: limit.as_secs() });
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Ok(Output { status, stdout: out.join().unwrap_or_default(), stderr: err.join().unwrap_or_default() })
}

/// The signal that killed a process, if one did (SIGKILL from the OOM killer or an operator).
pub fn killed_by(status: &ExitStatus) -> Option<i32> {
    std::os::unix::process::ExitStatusExt::signal(status)
}

/// A short name for common signals, for messages.
pub fn signal_name(signal: i32) -> String {
    match signal {
        9 => "SIGKILL (the out-of-memory killer or an operator)".into(),
        15 => "SIGTERM".into(),
        6 => "SIGABRT".into(),
        11 => "SIGSEGV".into(),
        n => format!("signal {n}"),
    }
}

/// The first line of `ffmpeg -version` (`ffmpeg version 9.0.2-static https://… Copyright …`),
/// or `None` when it does not run within 30 s.
pub fn ffmpeg_version_line(ffmpeg: &std::path::Path) -> Option<String> {
    let out = output_within(Command::new(ffmpeg).args(["-hide_banner", "-version"]), Duration::from_secs(30))
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .next()
        .filter(|l| out.status.success() && l.starts_with("ffmpeg version "))
        .map(str::to_string)
}

/// The version in that line: `9.0.2-static`, `5.1.8-0+deb12u1`, `N-118352-g…` (at most 64
/// characters).
pub fn version_of_line(line: &str) -> Option<String> {
    let v = line.strip_prefix("ffmpeg version ")?.split_whitespace().next()?;
    Some(v.chars().take(64).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hung_tool_is_killed_at_its_deadline() {
        let at = Instant::now();
        let err = output_within(Command::new("sleep").arg("30"), Duration::from_millis(200)).unwrap_err();
        assert!(at.elapsed() < Duration::from_secs(5));
        assert!(matches!(err, MediaError::ToolTimeout { .. }), "{err}");
        assert!(!err.is_bad_input(), "a hung tool is the machine's trouble, not the input's");
        assert!(err.to_string().contains("`sleep` did not finish within 0 s"), "{err}");
        let ok = output_within(Command::new("echo").arg("hi"), Duration::from_secs(5)).unwrap();
        assert_eq!(ok.stdout, b"hi\n");
    }

    #[test]
    fn a_killed_process_is_recognised() {
        let status = Command::new("sh").args(["-c", "kill -9 $$"]).status().unwrap();
        assert_eq!(killed_by(&status), Some(9));
        assert!(signal_name(9).contains("out-of-memory"));
    }

    #[test]
    fn ffmpegs_version_is_its_first_lines_second_word() {
        assert_eq!(
            version_of_line("ffmpeg version 5.1.8-0+deb12u1 Copyright (c) 2000-2025 the FFmpeg developers")
                .as_deref(),
            Some("5.1.8-0+deb12u1")
        );
        assert_eq!(
            version_of_line("ffmpeg version 9.0.2-static https://johnvansickle.com").as_deref(),
            Some("9.0.2-static")
        );
        assert_eq!(version_of_line("ffprobe version 5.1"), None);
        assert_eq!(
            version_of_line(&format!("ffmpeg version {}", "x".repeat(500))).map(|v| v.len()),
            Some(64)
        );
        let line = ffmpeg_version_line(std::path::Path::new("ffmpeg")).expect("Debian's ffmpeg runs");
        assert!(version_of_line(&line).is_some(), "{line}");
        assert_eq!(ffmpeg_version_line(std::path::Path::new("/nonexistent/ffmpeg")), None);
    }
}
