//! What an input is before it is decoded: Y4M header or ffprobe's view of the first video
//! stream, and the checks that turn a wrong path into a clear error.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::error::MediaError;
use crate::format::{Chroma, PixelFormat, VideoFormat};
use crate::y4m::{self, Y4mReader};

/// The external programs vmafx runs.
#[derive(Debug, Clone)]
pub struct Tools {
    pub ffmpeg: PathBuf,
    pub ffprobe: PathBuf,
}

impl Default for Tools {
    fn default() -> Self {
        Self { ffmpeg: "ffmpeg".into(), ffprobe: "ffprobe".into() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Container {
    /// YUV4MPEG2, read natively.
    Y4m,
    /// Anything ffmpeg reads: container format name and video codec.
    Other { format: String, codec: String },
}

/// An input's first video stream, as far as can be told without decoding it.
#[derive(Debug, Clone)]
pub struct Probe {
    pub path: PathBuf,
    pub container: Container,
    pub width: u32,
    pub height: u32,
    /// ffmpeg's name of the stream's pixel format.
    pub pix_fmt: String,
    /// Number of frames when the container states it (Y4M: from the file size).
    pub frame_count: Option<u64>,
    /// Frames per second when the stream states it.
    pub fps: Option<f64>,
}

impl Probe {
    /// The planar format frames are decoded to: the stream's own when libvmaf takes it, the
    /// planar equivalent of a semi-planar one (`nv12` → `yuv420p`), else an error.
    pub fn format(&self) -> Result<VideoFormat, MediaError> {
        let pix_fmt = PixelFormat::from_ffmpeg(&self.pix_fmt)
            .or_else(|| planar_equivalent(&self.pix_fmt))
            .ok_or_else(|| MediaError::UnsupportedPixelFormat {
                input: self.path.clone(),
                pix_fmt: self.pix_fmt.clone(),
            })?;
        Ok(VideoFormat { width: self.width, height: self.height, pix_fmt })
    }
}

fn planar_equivalent(name: &str) -> Option<PixelFormat> {
    Some(match name {
        "nv12" | "nv21" => PixelFormat::new(Chroma::C420, 8),
        "nv16" => PixelFormat::new(Chroma::C422, 8),
        "nv24" | "nv42" => PixelFormat::new(Chroma::C444, 8),
        "p010le" => PixelFormat::new(Chroma::C420, 10),
        "p012le" => PixelFormat::new(Chroma::C420, 12),
        "p016le" => PixelFormat::new(Chroma::C420, 16),
        "p210le" => PixelFormat::new(Chroma::C422, 10),
        "p410le" => PixelFormat::new(Chroma::C444, 10),
        _ => return None,
    })
}

pub(crate) fn open_error(path: &Path, e: std::io::Error) -> MediaError {
    match e.kind() {
        std::io::ErrorKind::NotFound => MediaError::NotFound { input: path.into() },
        _ => MediaError::Unreadable { input: path.into(), source: e },
    }
}

/// Looks at `path`: checks it is a readable, non-empty file, then reads its Y4M header or asks
/// ffprobe about its first video stream.
pub fn probe(path: &Path, tools: &Tools) -> Result<Probe, MediaError> {
    match probe_native(path)? {
        Some(p) => Ok(p),
        None => ffprobe(path, tools),
    }
}

/// Checks that `path` is a readable, non-empty file and describes it if it is Y4M; `None`
/// means it needs ffprobe.
pub fn probe_native(path: &Path) -> Result<Option<Probe>, MediaError> {
    let meta = std::fs::metadata(path).map_err(|e| open_error(path, e))?;
    if meta.is_dir() {
        return Err(MediaError::Unreadable {
            input: path.into(),
            source: std::io::Error::other("is a directory"),
        });
    }
    let mut magic = [0u8; 10];
    let n =
        std::fs::File::open(path).and_then(|mut f| f.read(&mut magic)).map_err(|e| open_error(path, e))?;
    if n == 0 {
        return Err(MediaError::Empty { input: path.into() });
    }
    if magic[..n] == y4m::MAGIC[..n.min(y4m::MAGIC.len())] && n == y4m::MAGIC.len() {
        let header = y4m::read_header(path)?;
        return Ok(Some(Probe {
            path: path.into(),
            container: Container::Y4m,
            width: header.format.width,
            height: header.format.height,
            pix_fmt: header.format.pix_fmt.ffmpeg_name(),
            frame_count: Y4mReader::frame_count(path, &header),
            fps: header.rate.filter(|&(_, d)| d > 0).map(|(n, d)| n as f64 / d as f64),
        }));
    }
    Ok(None)
}

#[derive(Deserialize)]
struct FfprobeOut {
    #[serde(default)]
    streams: Vec<FfprobeStream>,
    format: Option<FfprobeFormat>,
}

#[derive(Deserialize)]
struct FfprobeStream {
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    pix_fmt: Option<String>,
    nb_frames: Option<String>,
    avg_frame_rate: Option<String>,
    r_frame_rate: Option<String>,
}

/// `24000/1001` → 23.976...; `None` for `0/0` and the like.
fn parse_rate(r: &str) -> Option<f64> {
    let (n, d) = r.split_once('/')?;
    let (n, d): (f64, f64) = (n.parse().ok()?, d.parse().ok()?);
    Some(n / d).filter(|f| f.is_finite() && *f > 0.0)
}

#[derive(Deserialize)]
struct FfprobeFormat {
    format_name: Option<String>,
}

pub(crate) fn ffprobe(path: &Path, tools: &Tools) -> Result<Probe, MediaError> {
    let out = Command::new(&tools.ffprobe)
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .arg(
            "stream=codec_name,width,height,pix_fmt,nb_frames,avg_frame_rate,r_frame_rate:format=format_name",
        )
        .args(["-of", "json"])
        .arg(path)
        .output()
        .map_err(|source| MediaError::Tool { program: tools.ffprobe.display().to_string(), source })?;
    let not_video = |reason: String| MediaError::NotAVideo { input: path.into(), reason };
    if !out.status.success() {
        return Err(not_video(tool_message(&out.stderr, path)));
    }
    let parsed: FfprobeOut = serde_json::from_slice(&out.stdout)
        .map_err(|e| not_video(format!("unexpected ffprobe output: {e}")))?;
    let stream =
        parsed.streams.into_iter().next().ok_or_else(|| not_video("it has no video stream".into()))?;
    let (Some(width), Some(height)) = (stream.width, stream.height) else {
        return Err(not_video("the video stream has no frame size".into()));
    };
    Ok(Probe {
        path: path.into(),
        container: Container::Other {
            format: parsed.format.and_then(|f| f.format_name).unwrap_or_default(),
            codec: stream.codec_name.unwrap_or_default(),
        },
        width,
        height,
        pix_fmt: stream.pix_fmt.unwrap_or_else(|| "unknown".into()),
        frame_count: stream.nb_frames.and_then(|n| n.parse().ok()).filter(|n| *n > 0),
        fps: stream
            .avg_frame_rate
            .as_deref()
            .and_then(parse_rate)
            .or(stream.r_frame_rate.as_deref().and_then(parse_rate)),
    })
}

/// The last meaningful line an ffmpeg tool printed, without the input path it starts with.
pub(crate) fn tool_message(stderr: &[u8], path: &Path) -> String {
    let text = String::from_utf8_lossy(stderr);
    let line = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no details").trim();
    let prefix = format!("{}: ", path.display());
    line.strip_prefix(&prefix).unwrap_or(line).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semi_planar_formats_map_to_planar() {
        let p = Probe {
            path: "x".into(),
            container: Container::Other { format: "mp4".into(), codec: "h264".into() },
            width: 4,
            height: 2,
            pix_fmt: "p010le".into(),
            frame_count: None,
            fps: None,
        };
        assert_eq!(p.format().unwrap().pix_fmt, PixelFormat::new(Chroma::C420, 10));
        let rgb = Probe { pix_fmt: "rgb24".into(), ..p };
        let err = rgb.format().unwrap_err().to_string();
        assert!(err.contains("unsupported pixel format `rgb24`"), "{err}");
    }

    #[test]
    fn missing_and_empty_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.mp4");
        let err = probe(&missing, &Tools::default()).unwrap_err();
        assert!(matches!(err, MediaError::NotFound { .. }));
        assert!(err.to_string().contains("nope.mp4"));
        let empty = dir.path().join("empty.y4m");
        std::fs::write(&empty, b"").unwrap();
        assert!(matches!(probe(&empty, &Tools::default()), Err(MediaError::Empty { .. })));
    }

    #[test]
    fn tool_message_strips_the_path() {
        let m =
            tool_message(b"x\n/a/b.mp4: Invalid data found when processing input\n\n", Path::new("/a/b.mp4"));
        assert_eq!(m, "Invalid data found when processing input");
    }
}
