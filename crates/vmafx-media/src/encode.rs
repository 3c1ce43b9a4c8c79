//! Encoding with ffmpeg: `ffmpeg -i SOURCE <args> OUT` with the arguments of a checked
//! encode spec (`vmafx_core::encode`), timed, written to a temporary name first so that an
//! interrupted encode never looks finished, and stoppable. And what this machine's ffmpeg
//! says of an encoder ([`describe_encoder`]), which encode specs are checked against.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use vmafx_core::encode::{CheckedEncode, EncoderDescription, EncoderOption};

use crate::error::MediaError;
use crate::probe::{tool_message, Tools};

/// A finished encode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Encoded {
    pub bytes: u64,
    /// Wall time of the ffmpeg run.
    pub seconds: f64,
}

/// Encodes `source` as `spec` says into `out` (its extension picks the
/// container). Muxing is bit-exact, so the same inputs give the same file. When `cancel` is
/// set the ffmpeg process is killed within 50 ms and [`MediaError::Cancelled`] returned. With
/// `stall_after`, an encode whose output has not grown for that long (a hung encoder, a dead
/// mount) is killed and [`MediaError::ToolTimeout`] returned: the machine's trouble.
pub fn encode(
    tools: &Tools,
    source: &Path,
    spec: &CheckedEncode,
    out: &Path,
    cancel: Option<&AtomicBool>,
    stall_after: Option<Duration>,
) -> Result<Encoded, MediaError> {
    encode_to(tools, source, spec, out, None, cancel, stall_after)
}

/// [`encode`], also writing the encode into `stream` (Matroska) as the encoder makes it, so
/// that it can be decoded and scored at the same time instead of after
/// ([`StreamedInput`](crate::StreamedInput)). `out` is then remuxed from the stream: the same
/// size as [`encode`] makes (a stream cannot go back to write the index). A reader that
/// stops early does not stop the encode.
pub fn encode_streaming(
    tools: &Tools,
    source: &Path,
    spec: &CheckedEncode,
    out: &Path,
    stream: std::io::PipeWriter,
    cancel: Option<&AtomicBool>,
    stall_after: Option<Duration>,
) -> Result<Encoded, MediaError> {
    encode_to(tools, source, spec, out, Some(stream), cancel, stall_after)
}

fn encode_to(
    tools: &Tools,
    source: &Path,
    spec: &CheckedEncode,
    out: &Path,
    stream: Option<std::io::PipeWriter>,
    cancel: Option<&AtomicBool>,
    stall_after: Option<Duration>,
) -> Result<Encoded, MediaError> {
    if let Some((_, crf)) = spec.quarter_crf() {
        let version = svtav1_version(tools);
        if version.is_none_or(|v| v.0 < 4) {
            let lib = version
                .map_or("an SVT-AV1 of unknown version".into(), |v| format!("SVT-AV1 {}.{}", v.0, v.1));
            return Err(MediaError::EncodeFailed {
                input: source.into(),
                message: format!(
                    "CRF {crf}: {} has {lib}, which takes whole CRFs (quarter steps need SVT-AV1 4.0 or later; \
                     an older one would encode at its default CRF)",
                    tools.ffmpeg.display()
                ),
            });
        }
    }
    let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("mkv");
    let partial = out.with_extension(format!("partial.{ext}"));
    // What the encoder writes: the file, or (streaming) Matroska on stdout that a thread
    // copies into this file and the stream.
    let written = if stream.is_some() { out.with_extension("stream.mkv") } else { partial.clone() };
    let tool_err = |e| MediaError::Tool { program: tools.ffmpeg.display().to_string(), source: e };
    let remove = || {
        let _ = std::fs::remove_file(&partial);
        let _ = std::fs::remove_file(&written);
    };
    let started = Instant::now();
    // A range that starts late starts the decode there where seeking is exact.
    let (seek, at) = match spec.spec().start {
        0 => (Vec::new(), 0),
        start => crate::probe::probe(source, None, tools)
            .map(|p| crate::seek::seek_args(&p, start))
            .unwrap_or_default(),
    };
    let mut cmd = Command::new(&tools.ffmpeg);
    cmd.args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
        .args(seek)
        .args(crate::location::input_args(source))
        .arg("-i")
        .arg(source)
        .args(spec.ffmpeg_args_from(at))
        .args(["-fflags", "+bitexact"]);
    match &stream {
        None => cmd.arg(&partial).stdout(Stdio::null()),
        Some(_) => cmd.args(["-f", "matroska", "pipe:1"]).stdout(Stdio::piped()),
    };
    let mut child = cmd.stdin(Stdio::null()).stderr(Stdio::piped()).spawn().map_err(tool_err)?;
    // Read stderr on a thread so that a chatty encoder never blocks on a full pipe.
    let stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        if let Some(mut s) = stderr {
            let _ = std::io::Read::read_to_end(&mut s, &mut text);
        }
        text
    });
    let copier = match (stream, child.stdout.take()) {
        (Some(stream), Some(stdout)) => {
            let file = std::fs::File::create(&written)
                .map_err(|e| MediaError::Unreadable { input: written.clone(), source: e })?;
            Some(std::thread::spawn(move || tee(stdout, file, stream)))
        }
        _ => None,
    };
    // Output size and when it last changed, for `stall_after`.
    let mut grown = (0u64, Instant::now());
    let status = loop {
        if let Some(status) = child.try_wait().map_err(tool_err)? {
            break status;
        }
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            let _ = child.kill();
            let _ = child.wait();
            remove();
            return Err(MediaError::Cancelled);
        }
        if let Some(limit) = stall_after {
            let size = std::fs::metadata(&written).map_or(0, |m| m.len());
            if size != grown.0 {
                grown = (size, Instant::now());
            } else if grown.1.elapsed() >= limit {
                let _ = child.kill();
                let _ = child.wait();
                remove();
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
        std::thread::sleep(Duration::from_millis(if copier.is_some() { 10 } else { 50 }));
    };
    let seconds = started.elapsed().as_secs_f64();
    let stderr = reader.join().unwrap_or_default();
    let copied = copier
        .map(|c| c.join().unwrap_or_else(|_| Err(std::io::Error::other("the copying thread panicked"))));
    if let Some(signal) = crate::tool::killed_by(&status) {
        remove();
        return Err(MediaError::ToolKilled {
            input: source.into(),
            frame: 0,
            signal: crate::tool::signal_name(signal),
        });
    }
    if !status.success() {
        remove();
        return Err(MediaError::EncodeFailed {
            input: source.into(),
            message: tool_message(&stderr, source),
        });
    }
    if let Some(copied) = copied {
        if let Err(e) = copied {
            remove();
            return Err(MediaError::Unreadable { input: written, source: e });
        }
        // The stream has no index (cues) or duration: remux it as a file, which is what
        // `encode` would have written.
        let mut remux = Command::new(&tools.ffmpeg);
        remux
            .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i"])
            .arg(&written)
            .args(["-map", "0", "-c", "copy", "-fflags", "+bitexact"])
            .arg(&partial);
        let done = crate::tool::output_within(&mut remux, Duration::from_secs(600));
        let _ = std::fs::remove_file(&written);
        match done {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                remove();
                return Err(MediaError::EncodeFailed {
                    input: source.into(),
                    message: tool_message(&o.stderr, source),
                });
            }
            Err(e) => {
                remove();
                return Err(e);
            }
        }
    }
    std::fs::rename(&partial, out).map_err(|e| MediaError::Unreadable { input: out.into(), source: e })?;
    let bytes =
        std::fs::metadata(out).map_err(|e| MediaError::Unreadable { input: out.into(), source: e })?.len();
    Ok(Encoded { bytes, seconds })
}

/// Copies the encoder's output into `file` and `stream`; a stream whose reader went away is
/// dropped (the file is what the encode is kept as).
fn tee(
    mut from: impl std::io::Read,
    file: std::fs::File,
    stream: std::io::PipeWriter,
) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut stream = Some(stream);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        file.write_all(&buf[..n])?;
        if stream.as_mut().is_some_and(|s| s.write_all(&buf[..n]).is_err()) {
            stream = None;
        }
    }
    // Dropping the stream here ends it: the reader sees the end as the encoder finishes.
    drop(stream);
    file.flush()
}

/// The SVT-AV1 library version (major, minor) in `tools.ffmpeg`, from the banner it prints
/// when it encodes one small frame; `None` when this ffmpeg has no libsvtav1 or says no
/// version. Asked once per ffmpeg path.
pub fn svtav1_version(tools: &Tools) -> Option<(u32, u32)> {
    /// (major, minor) by ffmpeg path.
    type Known = Vec<(std::path::PathBuf, Option<(u32, u32)>)>;
    static KNOWN: std::sync::Mutex<Known> = std::sync::Mutex::new(Vec::new());
    let mut known = KNOWN.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, v)) = known.iter().find(|(p, _)| *p == tools.ffmpeg) {
        return *v;
    }
    let mut cmd = Command::new(&tools.ffmpeg);
    cmd.args(["-hide_banner", "-nostdin", "-f", "lavfi", "-i", "color=size=64x64", "-frames:v", "1"]).args([
        "-c:v",
        "libsvtav1",
        "-f",
        "null",
        "-",
    ]);
    let version = crate::tool::output_within(&mut cmd, Duration::from_secs(30))
        .ok()
        .and_then(|o| parse_svtav1_version(&String::from_utf8_lossy(&o.stderr)));
    known.push((tools.ffmpeg.clone(), version));
    version
}

/// `SVT-AV1 Encoder Lib v4.2.0-151-g5ed9ffbcb` → (4, 2).
fn parse_svtav1_version(banner: &str) -> Option<(u32, u32)> {
    let rest = &banner[banner.find("SVT-AV1 Encoder Lib v")? + "SVT-AV1 Encoder Lib v".len()..];
    let mut parts = rest.split(|c: char| !c.is_ascii_digit());
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// What `ffmpeg -h encoder=NAME` says of an encoder: its pixel formats and private options
/// (`None` when this ffmpeg has no such encoder, or does not answer within `limit`).
pub fn describe_encoder(tools: &Tools, name: &str, limit: Duration) -> Option<EncoderDescription> {
    let mut cmd = Command::new(&tools.ffmpeg);
    cmd.args(["-hide_banner", "-h"]).arg(format!("encoder={name}"));
    let out = crate::tool::output_within(&mut cmd, limit).ok().filter(|o| o.status.success())?;
    parse_encoder_help(name, &String::from_utf8_lossy(&out.stdout))
}

/// Parses `ffmpeg -h encoder=NAME`: the `Supported pixel formats:` line, and under
/// `... AVOptions:` each `  -name <type> flags help` line with the `     constant value ...`
/// lines below it.
pub fn parse_encoder_help(name: &str, text: &str) -> Option<EncoderDescription> {
    if !text.lines().next().is_some_and(|l| l.starts_with(&format!("Encoder {name} "))) {
        return None;
    }
    let mut d = EncoderDescription { encoder: name.into(), ..Default::default() };
    let mut in_options = false;
    for line in text.lines() {
        if let Some(formats) = line.trim().strip_prefix("Supported pixel formats:") {
            d.pix_fmts = formats.split_whitespace().map(String::from).collect();
        } else if line.ends_with("AVOptions:") {
            in_options = true;
        } else if !in_options {
            continue;
        } else if let Some(rest) = line.strip_prefix("  -") {
            let mut words = rest.split_whitespace();
            let (Some(option), Some(kind)) = (words.next(), words.next()) else { continue };
            let kind = kind.trim_start_matches('<').trim_end_matches('>');
            d.options.push(EncoderOption { name: option.into(), kind: kind.into(), constants: vec![] });
        } else if line.starts_with("     ") {
            if let (Some(constant), Some(last)) = (line.split_whitespace().next(), d.options.last_mut()) {
                last.constants.push(constant.into());
            }
        }
    }
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_are_reproducible_and_failures_name_the_input() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src.y4m");
        crate::y4m::write_pattern(&src, 64, 48, 6, 8).unwrap();
        let x264 = |tune: &str| {
            let spec = vmafx_core::EncodeSpec {
                encoder: "libx264".into(),
                crf: Some(30.0),
                options: [("tune".to_string(), tune.to_string())].into(),
                ..Default::default()
            };
            vmafx_core::encode::check(&spec, None).unwrap()
        };
        let args = x264("film");
        let (a, b) = (dir.path().join("a.mkv"), dir.path().join("b.mkv"));
        let ea = encode(&Tools::default(), &src, &args, &a, None, None).unwrap();
        encode(&Tools::default(), &src, &args, &b, None, None).unwrap();
        assert!(ea.bytes > 0);
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap(), "bit-exact");
        // A value only the encoder can judge: refused when it runs.
        let bad = x264("no_such_tune");
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
    fn a_range_from_the_middle_seeks_there_and_encodes_the_same_bytes_as_decoding_from_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let y4m = dir.path().join("src.y4m");
        crate::y4m::write_pattern(&y4m, 96, 64, 160, 8).unwrap();
        // An indexed source (seeks), key frames every 25.
        let src = dir.path().join("src.mkv");
        let made = Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-i"])
            .arg(&y4m)
            .args(["-c:v", "ffv1", "-g", "25"])
            .arg(&src)
            .status()
            .unwrap();
        assert!(made.success());
        let probe = crate::probe::probe(&src, None, &Tools::default()).unwrap();
        let spec = vmafx_core::EncodeSpec {
            encoder: "libx264".into(),
            crf: Some(30.0),
            start: 112,
            frames: 24,
            ..Default::default()
        };
        assert!(crate::seek::seek_seconds(&probe, spec.start).is_some(), "{probe:?}");
        let checked = vmafx_core::encode::check(&spec, None).unwrap();
        let seeked = dir.path().join("seeked.mkv");
        encode(&Tools::default(), &src, &checked, &seeked, None, None).unwrap();
        // The same range cut by decoding every frame before it.
        let whole = dir.path().join("whole.mkv");
        let cut = Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-y", "-i"])
            .arg(&src)
            .args(checked.ffmpeg_args())
            .args(["-fflags", "+bitexact"])
            .arg(&whole)
            .status()
            .unwrap();
        assert!(cut.success());
        assert_eq!(std::fs::read(&seeked).unwrap(), std::fs::read(&whole).unwrap());
    }

    #[test]
    fn a_streamed_encode_keeps_the_file_a_plain_one_writes_even_when_its_reader_stops() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src.y4m");
        crate::y4m::write_pattern(&src, 96, 64, 12, 8).unwrap();
        let spec =
            vmafx_core::EncodeSpec { encoder: "libx264".into(), crf: Some(28.0), ..Default::default() };
        let checked = vmafx_core::encode::check(&spec, None).unwrap();
        let tools = Tools::default();
        let plain = encode(&tools, &src, &checked, &dir.path().join("plain.mkv"), None, None).unwrap();
        // Read the whole stream.
        let (mut rx, tx) = std::io::pipe().unwrap();
        let reader = std::thread::spawn(move || {
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut rx, &mut v).map(|_| v.len())
        });
        let a = encode_streaming(&tools, &src, &checked, &dir.path().join("a.mkv"), tx, None, None).unwrap();
        assert!(reader.join().unwrap().unwrap() > 0);
        // A reader gone before the first byte.
        let (rx, tx) = std::io::pipe().unwrap();
        drop(rx);
        let b = encode_streaming(&tools, &src, &checked, &dir.path().join("b.mkv"), tx, None, None).unwrap();
        assert_eq!((a.bytes, b.bytes), (plain.bytes, plain.bytes));
        assert!(!dir.path().join("a.stream.mkv").exists() && !dir.path().join("b.partial.mkv").exists());
    }

    #[test]
    fn a_quarter_crf_needs_svt_av1_4() {
        assert_eq!(
            parse_svtav1_version("Svt[info]: SVT [version]:\tSVT-AV1 Encoder Lib v4.2.0-151-g5"),
            Some((4, 2))
        );
        assert_eq!(
            parse_svtav1_version("Svt[info]: SVT [version]:\tSVT-AV1 Encoder Lib v1.4.1"),
            Some((1, 4))
        );
        assert_eq!(parse_svtav1_version("Unknown encoder 'libsvtav1'"), None);
        // Debian 12's ffmpeg has SVT-AV1 1.4, which would read crf=30.25 as its default CRF:
        // the encode is refused, naming the library and what to do.
        let tools = Tools::default();
        assert_eq!(svtav1_version(&tools), Some((1, 4)), "Debian 12's libsvtav1");
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src.y4m");
        crate::y4m::write_pattern(&src, 64, 48, 2, 8).unwrap();
        let spec =
            vmafx_core::EncodeSpec { encoder: "libsvtav1".into(), crf: Some(30.25), ..Default::default() };
        let checked = vmafx_core::encode::check(&spec, None).unwrap();
        let err =
            encode(&tools, &src, &checked, &dir.path().join("q.mkv"), None, None).unwrap_err().to_string();
        assert!(err.contains("SVT-AV1 1.4") && err.contains("quarter steps need SVT-AV1 4.0"), "{err}");
    }

    #[test]
    fn this_ffmpeg_describes_its_encoders() {
        let limit = Duration::from_secs(30);
        let x264 =
            describe_encoder(&Tools::default(), "libx264", limit).expect("Debian's ffmpeg has libx264");
        assert!(x264.pix_fmts.iter().any(|f| f == "yuv420p10le"), "{x264:?}");
        let aq = x264.options.iter().find(|o| o.name == "aq-mode").unwrap();
        assert_eq!(aq.kind, "int");
        assert!(aq.constants.iter().any(|c| c == "variance"), "{aq:?}");
        assert!(x264.options.iter().any(|o| o.name == "x264-params" && o.kind == "dictionary"));
        let svt = describe_encoder(&Tools::default(), "libsvtav1", limit).unwrap();
        assert!(svt.options.iter().any(|o| o.name == "crf" && o.kind == "int"), "{svt:?}");
        assert_eq!(describe_encoder(&Tools::default(), "no_such_encoder", limit), None);
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
        let spec =
            vmafx_core::EncodeSpec { encoder: "libx264".into(), crf: Some(30.0), ..Default::default() };
        let spec = vmafx_core::encode::check(&spec, None).unwrap();
        let err = encode(&tools, &src, &spec, &dir.path().join("e.mkv"), None, limit).unwrap_err();
        assert!(at.elapsed() < Duration::from_secs(5), "{:?}", at.elapsed());
        assert!(matches!(err, MediaError::ToolTimeout { .. }) && !err.is_bad_input(), "{err}");
        assert!(err.to_string().contains("no output for 0 s"), "{err}");
    }
}
