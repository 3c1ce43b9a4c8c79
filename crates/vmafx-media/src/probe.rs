//! What an input is before it is decoded: Y4M header or ffprobe's view of the first video
//! stream, and the checks that turn a wrong path into a clear error.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::Deserialize;

use crate::decode::Decoder;
use crate::error::MediaError;
use crate::format::{Chroma, PixelFormat, Range, Rate, VideoFormat};
use crate::orientation::Orientation;
use crate::raw::RawFormat;
use crate::tool::{output_within, PROBE_TIMEOUT};
use crate::y4m::{self, Y4mReader};

/// The external programs vmafx runs, whether it may look at and decode inputs in-process
/// instead, and what it learnt of files when a process asks about the same files again and
/// again.
#[derive(Debug, Clone)]
pub struct Tools {
    pub ffmpeg: PathBuf,
    pub ffprobe: PathBuf,
    /// [`Decoder::Auto`]: a local file is probed and (where its pixels pass unchanged)
    /// decoded with libav in this process, giving what ffprobe and ffmpeg would;
    /// [`Decoder::Ffmpeg`]: always the programs.
    pub decoder: Decoder,
    /// Probes remembered by path, size and modification time ([`Tools::remembering_probes`]);
    /// `None`: every [`probe`] asks ffprobe.
    pub probes: Option<std::sync::Arc<crate::ProbeCache>>,
}

impl Default for Tools {
    fn default() -> Self {
        Self::new("ffmpeg".into(), "ffprobe".into())
    }
}

impl Tools {
    pub fn new(ffmpeg: PathBuf, ffprobe: PathBuf) -> Self {
        Self { ffmpeg, ffprobe, decoder: Decoder::Auto, probes: None }
    }

    /// These tools, probing and decoding as `decoder` says.
    pub fn decoding_with(self, decoder: Decoder) -> Self {
        Self { decoder, ..self }
    }

    /// Whether `path` is looked at in-process rather than by ffprobe/ffmpeg.
    pub(crate) fn in_process(&self, path: &Path) -> bool {
        self.decoder == Decoder::Auto && !crate::location::is_url(path)
    }

    /// These tools, remembering what each file probed as (for a service, a node or a search
    /// that is handed the same inputs many times; a one-off score has no use for it).
    pub fn remembering_probes(self) -> Self {
        Self { probes: Some(Default::default()), ..self }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Container {
    /// YUV4MPEG2, read natively.
    Y4m,
    /// Raw planar YUV in the stated format, read natively.
    Raw(RawFormat),
    /// Anything ffmpeg reads: container format name and video codec.
    Other { format: String, codec: String },
}

/// Colour description tags (ffprobe's names: `bt709`, `smpte2084`, `bt2020`...); `None`
/// when the input does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColorTags {
    pub matrix: Option<String>,
    pub transfer: Option<String>,
    pub primaries: Option<String>,
}

/// An input's first video stream, as far as can be told without decoding it.
#[derive(Debug, Clone)]
pub struct Probe {
    pub path: PathBuf,
    pub container: Container,
    /// Coded size (before any display rotation).
    pub width: u32,
    pub height: u32,
    /// ffmpeg's name of the stream's pixel format.
    pub pix_fmt: String,
    /// Frames as shown (edit lists applied), when known without decoding: Y4M and raw from
    /// the file size, other containers from their index.
    pub frame_count: Option<u64>,
    /// Frame rate when the stream states one.
    pub rate: Option<Rate>,
    /// The container's timestamps are not evenly spaced (average rate differs from the base).
    pub variable_rate: bool,
    /// Colour range when the input states it (tag, `yuvj*` format, Y4M `XCOLORRANGE`).
    pub range: Option<Range>,
    /// Display orientation from the stream's display matrix (identity when none).
    pub orientation: Orientation,
    /// A display rotation that is not a multiple of 90°, in degrees (never applied).
    pub free_rotation: Option<f64>,
    pub color: ColorTags,
    /// `progressive`, `tt`, `bb`, `tb`, `bt` (ffprobe's names), when stated.
    pub field_order: Option<String>,
    /// Sample aspect ratio, when stated.
    pub sar: Option<(u32, u32)>,
    /// Seconds from the container's start to the stream's first frame, where the container's
    /// index lets ffmpeg start decoding at a frame exactly ([`crate::seek`]); `None`: frames
    /// are reached by decoding from the start.
    pub seek_offset: Option<f64>,
}

impl Probe {
    /// A probe with only the basics known; the rest is filled by the caller.
    fn new(path: &Path, container: Container, width: u32, height: u32, pix_fmt: String) -> Self {
        Self {
            path: path.into(),
            container,
            width,
            height,
            pix_fmt,
            frame_count: None,
            rate: None,
            variable_rate: false,
            range: None,
            orientation: Orientation::IDENTITY,
            free_rotation: None,
            color: ColorTags::default(),
            field_order: None,
            sar: None,
            seek_offset: None,
        }
    }

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

    /// Frames per second, when known.
    pub fn fps(&self) -> Option<f64> {
        self.rate.map(|r| r.as_f64())
    }

    /// Read without ffmpeg (Y4M, raw).
    pub fn is_native(&self) -> bool {
        matches!(self.container, Container::Y4m | Container::Raw(_))
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
    let url = crate::location::is_url(path);
    match e.kind() {
        // The server's answer says more than "no such file".
        std::io::ErrorKind::NotFound if !url => MediaError::NotFound { input: path.into() },
        std::io::ErrorKind::UnexpectedEof if url => MediaError::Empty { input: path.into() },
        _ => MediaError::Unreadable { input: path.into(), source: e },
    }
}

/// Looks at `path`: checks it is a readable, non-empty file, then reads its Y4M header or asks
/// ffprobe about its first video stream. `raw` says what a raw YUV file holds. With
/// [`Tools::probes`], a file probed before (same path, size and modification time) is
/// answered from memory.
pub fn probe(path: &Path, raw: Option<&RawFormat>, tools: &Tools) -> Result<Probe, MediaError> {
    match &tools.probes {
        Some(cache) => cache.probe(path, raw, tools),
        None => probe_uncached(path, raw, tools),
    }
}

pub(crate) fn probe_uncached(
    path: &Path,
    raw: Option<&RawFormat>,
    tools: &Tools,
) -> Result<Probe, MediaError> {
    match probe_native(path, raw)? {
        Some(p) => Ok(p),
        None => ffprobe(path, tools),
    }
}

/// Checks that `path` is a readable, non-empty file and describes it if it is Y4M or raw;
/// `None` means it needs ffprobe.
pub fn probe_native(path: &Path, raw: Option<&RawFormat>) -> Result<Option<Probe>, MediaError> {
    // A URL that answers a ranged read is a file; its length comes with the answer. A local
    // path is checked before it is opened (opening a FIFO would block).
    if !crate::location::is_url(path) {
        let meta = std::fs::metadata(path).map_err(|e| open_error(path, e))?;
        if meta.is_dir() {
            return Err(MediaError::Unreadable {
                input: path.into(),
                source: std::io::Error::other("is a directory"),
            });
        }
        if !meta.is_file() {
            return Err(MediaError::Unreadable {
                input: path.into(),
                source: std::io::Error::other("not a regular file (a FIFO, socket or device)"),
            });
        }
    }
    // Opened once: the magic and the header are read from the same stream.
    let (file, len) = crate::location::open(path).map_err(|e| open_error(path, e))?;
    if len == 0 {
        return Err(MediaError::Empty { input: path.into() });
    }
    if let Some(raw) = raw {
        let mut p = Probe::new(path, Container::Raw(*raw), raw.width, raw.height, raw.pix_fmt.ffmpeg_name());
        p.frame_count = Some(raw.frame_count(path, len)?);
        p.rate = raw.rate;
        return Ok(Some(p));
    }
    let mut input = std::io::BufReader::new(file);
    let start = input.fill_buf().map_err(|e| open_error(path, e))?;
    if start.starts_with(y4m::MAGIC) {
        let h = y4m::header_from(path, &mut input)?;
        let f = h.format;
        let mut p = Probe::new(path, Container::Y4m, f.width, f.height, f.pix_fmt.ffmpeg_name());
        p.frame_count = Y4mReader::frame_count(len, &h);
        p.rate = h.rate.and_then(|(n, d)| Rate::new(n.into(), d.into()));
        p.range = h.range;
        p.field_order = h.interlace.map(|i| {
            match i {
                'p' => "progressive",
                't' => "tt",
                'b' => "bb",
                _ => "mixed",
            }
            .to_string()
        });
        p.sar = h.sar;
        return Ok(Some(p));
    }
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("yuv")) {
        return Err(MediaError::BadRaw {
            input: path.into(),
            reason: "a raw .yuv file has no header: give --width, --height and --pix-fmt \
                     (and --fps), per input with --reference-… / --distorted-… when they differ"
                .into(),
        });
    }
    Ok(None)
}

/// ffprobe's JSON answer about the first video stream (the entries [`ffprobe`] asks for), or
/// the same answer made in-process from the same libavformat calls ([`crate::libav::view`]):
/// one reading of it, [`from_view`], serves both.
#[derive(Debug, Default, PartialEq, Deserialize)]
pub(crate) struct FfprobeOut {
    #[serde(default)]
    pub streams: Vec<FfprobeStream>,
    pub format: Option<FfprobeFormat>,
}

#[derive(Debug, Default, PartialEq, Deserialize)]
pub(crate) struct FfprobeStream {
    pub codec_name: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub pix_fmt: Option<String>,
    pub nb_frames: Option<String>,
    pub avg_frame_rate: Option<String>,
    pub r_frame_rate: Option<String>,
    pub duration: Option<String>,
    pub color_range: Option<String>,
    pub color_space: Option<String>,
    pub color_transfer: Option<String>,
    pub color_primaries: Option<String>,
    pub field_order: Option<String>,
    pub sample_aspect_ratio: Option<String>,
    pub start_time: Option<String>,
    #[serde(default)]
    pub side_data_list: Vec<FfprobeSideData>,
}

#[derive(Debug, Default, PartialEq, Deserialize)]
pub(crate) struct FfprobeSideData {
    pub side_data_type: Option<String>,
    pub displaymatrix: Option<String>,
    pub rotation: Option<f64>,
}

#[derive(Debug, Default, PartialEq, Deserialize)]
pub(crate) struct FfprobeFormat {
    pub format_name: Option<String>,
    pub start_time: Option<String>,
}

/// A tag's value, or `None` for ffprobe's `unknown` / `unspecified`.
fn tag(v: Option<String>) -> Option<String> {
    v.filter(|t| !matches!(t.as_str(), "" | "unknown" | "unspecified" | "reserved"))
}

/// The video frames of `path`, counted by reading its packets (no decoding): for a container
/// whose index states no count (Matroska, most often). A packet is a frame for the video
/// codecs vmafx reads; an MP4 edit list is not applied (MP4 states its count anyway).
pub fn count_frames(path: &Path, tools: &Tools) -> Result<u64, MediaError> {
    if tools.in_process(path) {
        if let Some(n) = crate::libav::count_packets(path, false).filter(|n| *n > 0) {
            return Ok(n);
        }
    }
    let out = output_within(
        Command::new(&tools.ffprobe)
            .args(["-v", "error", "-select_streams", "v:0", "-count_packets"])
            .args(["-show_entries", "stream=nb_read_packets", "-of", "csv=p=0"])
            .args(crate::location::input_args(path))
            .arg(path),
        Duration::from_secs(300),
    )?;
    let text = String::from_utf8_lossy(&out.stdout);
    // An MPEG-TS lists its streams twice (under its program, then alone): the last line.
    let count = text.lines().map(|l| l.trim().trim_end_matches(',')).rfind(|l| !l.is_empty());
    match count.unwrap_or_default().parse::<u64>() {
        Ok(n) if out.status.success() && n > 0 => Ok(n),
        _ => Err(MediaError::Corrupt {
            input: path.into(),
            frame: 0,
            message: format!("ffprobe could not count its frames: {}", tool_message(&out.stderr, path)),
        }),
    }
}

/// The first video stream of a file ffmpeg reads: in-process where [`Tools::in_process`]
/// allows and libav opens it cleanly, else (and for every error message) from ffprobe.
pub(crate) fn ffprobe(path: &Path, tools: &Tools) -> Result<Probe, MediaError> {
    let view = match tools.in_process(path).then(|| crate::libav::view(path)).flatten() {
        Some(view) => view,
        None => run_ffprobe(path, tools)?,
    };
    from_view(path, view, tools)
}

fn run_ffprobe(path: &Path, tools: &Tools) -> Result<FfprobeOut, MediaError> {
    let out = output_within(
        Command::new(&tools.ffprobe)
            .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
            .arg(
                "stream=codec_name,width,height,pix_fmt,nb_frames,avg_frame_rate,r_frame_rate,duration,\
                 color_range,color_space,color_transfer,color_primaries,field_order,sample_aspect_ratio,\
                 start_time:stream_side_data:format=format_name,start_time",
            )
            .args(["-of", "json"])
            .args(crate::location::input_args(path))
            .arg(path),
        PROBE_TIMEOUT,
    )?;
    let not_video = |reason: String| MediaError::NotAVideo { input: path.into(), reason };
    if !out.status.success() {
        return Err(not_video(tool_message(&out.stderr, path)));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| not_video(format!("unexpected ffprobe output: {e}")))
}

/// What ffprobe's answer says about `path`.
fn from_view(path: &Path, parsed: FfprobeOut, tools: &Tools) -> Result<Probe, MediaError> {
    let not_video = |reason: String| MediaError::NotAVideo { input: path.into(), reason };
    let stream =
        parsed.streams.into_iter().next().ok_or_else(|| not_video("it has no video stream".into()))?;
    let (Some(width), Some(height)) = (stream.width, stream.height) else {
        return Err(not_video("the video stream has no frame size".into()));
    };
    let format_start = parsed.format.as_ref().and_then(|f| f.start_time.as_deref()?.parse::<f64>().ok());
    let format = parsed.format.and_then(|f| f.format_name).unwrap_or_default();
    let stream_start = stream.start_time.as_deref().and_then(|t| t.parse::<f64>().ok());
    let pix_fmt = stream.pix_fmt.unwrap_or_else(|| "unknown".into());
    let mut p = Probe::new(
        path,
        Container::Other { format: format.clone(), codec: stream.codec_name.unwrap_or_default() },
        width,
        height,
        pix_fmt,
    );
    let avg = stream.avg_frame_rate.as_deref().and_then(Rate::parse);
    let base = stream.r_frame_rate.as_deref().and_then(Rate::parse);
    p.rate = avg.or(base);
    p.variable_rate = matches!((avg, base), (Some(a), Some(b)) if a != b);
    p.range = Range::from_tags(stream.color_range.as_deref(), &p.pix_fmt);
    p.color = ColorTags {
        matrix: tag(stream.color_space),
        transfer: tag(stream.color_transfer),
        primaries: tag(stream.color_primaries),
    };
    p.field_order = tag(stream.field_order);
    p.seek_offset = match (stream_start, format_start) {
        (Some(s), Some(f)) if crate::seek::seeks_exactly(&format, path) => Some(s - f),
        _ => None,
    };
    p.sar = stream
        .sample_aspect_ratio
        .as_deref()
        .and_then(|s| s.split_once(':'))
        .and_then(|(n, d)| Some((n.parse().ok()?, d.parse().ok()?)))
        .filter(|&(n, d): &(u32, u32)| n > 0 && d > 0);
    for side in &stream.side_data_list {
        if side.side_data_type.as_deref() != Some("Display Matrix") {
            continue;
        }
        match side.displaymatrix.as_deref().and_then(Orientation::from_display_matrix) {
            Some(o) => p.orientation = o,
            None => p.free_rotation = side.rotation.or(Some(f64::NAN)),
        }
    }
    let stated = stream.nb_frames.and_then(|n| n.parse::<u64>().ok()).filter(|n| *n > 0);
    let duration = stream.duration.and_then(|d| d.parse::<f64>().ok());
    p.frame_count = match (stated, duration, p.rate) {
        // An MP4/MOV edit list (a cut made with stream copy, say) hides frames the sample
        // table still lists: when the listed frames do not fill the shown duration, count
        // the packets the demuxer does not mark as discarded (no decoding).
        (Some(n), Some(d), Some(r)) if format.contains("mp4") && (n as f64 - d * r.as_f64()).abs() >= 1.0 => {
            Some(shown_packets(path, tools)?)
        }
        (n, ..) => n,
    };
    Ok(p)
}

/// Packets of the first video stream that a decoder shows (not flagged `D`, discard).
fn shown_packets(path: &Path, tools: &Tools) -> Result<u64, MediaError> {
    if tools.in_process(path) {
        if let Some(n) = crate::libav::count_packets(path, true) {
            return Ok(n);
        }
    }
    let out = output_within(
        Command::new(&tools.ffprobe)
            .args([
                "-v",
                "error",
                "-select_streams",
                "v:0",
                "-show_entries",
                "packet=flags",
                "-of",
                "csv=p=0",
            ])
            .arg(path),
        PROBE_TIMEOUT,
    )?;
    if !out.status.success() {
        return Err(MediaError::NotAVideo { input: path.into(), reason: tool_message(&out.stderr, path) });
    }
    Ok(String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.is_empty() && !l.contains('D')).count()
        as u64)
}

/// The last meaningful line an ffmpeg tool printed, without the input path it starts with.
pub(crate) fn tool_message(stderr: &[u8], path: &Path) -> String {
    let text = String::from_utf8_lossy(stderr);
    // `[hls @ 0x…] Format not on whitelist 'mov,…'`: a playlist or list that would open other
    // files ([`crate::location::DEMUXERS`]).
    if let Some(line) = text.lines().find(|l| l.contains("Format not on whitelist")) {
        let format = line.strip_prefix('[').and_then(|l| l.split(" @").next()).unwrap_or("its format");
        return format!(
            "`{format}` is a playlist or list format that opens other files or URLs, which vmafx does not \
             follow: give the video file itself"
        );
    }
    let line = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no details").trim();
    let prefix = format!("{}: ", path.display());
    let line = line.strip_prefix(&prefix).unwrap_or(line);
    // A URL in ffmpeg's words may carry a signature.
    line.split(' ').map(vmafx_core::input::shown).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A probe of an ordinary video with nothing stated beyond its size and format.
    pub(crate) fn blank(path: &str, width: u32, height: u32, pix_fmt: &str) -> Probe {
        let container = Container::Other { format: "mov,mp4,m4a,3gp,3g2,mj2".into(), codec: "h264".into() };
        Probe::new(Path::new(path), container, width, height, pix_fmt.into())
    }

    #[test]
    fn semi_planar_formats_map_to_planar() {
        let p = Probe::new(
            Path::new("x"),
            Container::Other { format: "mp4".into(), codec: "h264".into() },
            4,
            2,
            "p010le".into(),
        );
        assert_eq!(p.format().unwrap().pix_fmt, PixelFormat::new(Chroma::C420, 10));
        let rgb = Probe { pix_fmt: "rgb24".into(), ..p };
        let err = rgb.format().unwrap_err().to_string();
        assert!(err.contains("unsupported pixel format `rgb24`"), "{err}");
    }

    #[test]
    fn missing_and_empty_files_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.mp4");
        let err = probe(&missing, None, &Tools::default()).unwrap_err();
        assert!(matches!(err, MediaError::NotFound { .. }));
        assert!(err.to_string().contains("nope.mp4"));
        let empty = dir.path().join("empty.y4m");
        std::fs::write(&empty, b"").unwrap();
        assert!(matches!(probe(&empty, None, &Tools::default()), Err(MediaError::Empty { .. })));
    }

    /// Makes `name` in `dir` from a small test pattern with ffmpeg and `args`.
    fn clip(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
        let path = dir.join(name);
        let out = Command::new("ffmpeg")
            .args([
                "-nostdin",
                "-loglevel",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                "testsrc2=size=64x48:rate=24",
            ])
            .args(["-frames:v", "24"])
            .args(args)
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        path
    }

    /// In-process probing must read each file as ffprobe does: same stream, size, format,
    /// rates, range, colour tags, orientation, field order, aspect, start offset and frame
    /// count (edit lists applied), and the same error where a file is not a video.
    #[test]
    fn in_process_probes_answer_as_ffprobe_does() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let x264 = ["-c:v", "libx264", "-preset", "ultrafast", "-g", "12"];
        let with =
            |extra: &[&'static str]| -> Vec<&'static str> { x264.iter().chain(extra).copied().collect() };
        let plain = clip(d, "plain.mp4", &with(&["-pix_fmt", "yuv420p"]));
        // Stream copies of it: cut (an edit list hides the first frames), turned (a display matrix).
        let copy = |name: &str, before: &[&str], after: &[&str]| {
            let out = d.join(name);
            let made = Command::new("ffmpeg")
                .args(["-nostdin", "-loglevel", "error"])
                .args(before)
                .arg("-i")
                .arg(&plain)
                .args(["-c", "copy"])
                .args(after)
                .arg(&out)
                .status()
                .unwrap();
            assert!(made.success(), "{name}");
            out
        };
        let files = [
            copy("cut.mp4", &["-ss", "0.4"], &[]),
            copy("rot.mp4", &[], &["-metadata:s:v:0", "rotate=90"]),
            plain,
            clip(d, "full.mkv", &with(&["-pix_fmt", "yuvj420p", "-color_range", "pc"])),
            clip(
                d,
                "tags.mov",
                &with(&[
                    "-vf",
                    "setsar=4/3",
                    "-color_primaries",
                    "bt709",
                    "-color_trc",
                    "bt709",
                    "-colorspace",
                    "bt709",
                    "-flags",
                    "+ildct",
                    "-field_order",
                    "tt",
                ]),
            ),
            clip(d, "ten.mkv", &with(&["-pix_fmt", "yuv420p10le"])),
            clip(d, "clip.ts", &with(&["-pix_fmt", "yuv420p"])),
            clip(d, "vp9.webm", &["-c:v", "libvpx-vp9", "-deadline", "realtime", "-pix_fmt", "yuv444p"]),
        ];
        let in_process = Tools::default();
        let ffprobe = Tools::default().decoding_with(Decoder::Ffmpeg);
        for file in &files {
            let view = crate::libav::view(file);
            assert!(view.is_some(), "{}: libav did not open it", file.display());
            let a = probe(file, None, &in_process).unwrap();
            let b = probe(file, None, &ffprobe).unwrap();
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "{}", file.display());
            let counted = (count_frames(file, &in_process).unwrap(), count_frames(file, &ffprobe).unwrap());
            assert_eq!(counted.0, counted.1, "{}", file.display());
        }
        // What each file states reached the probe (the comparison is not between blanks).
        let probed = |name: &str| probe(&d.join(name), None, &in_process).unwrap();
        assert!(!probed("rot.mp4").orientation.is_identity());
        assert_eq!(probed("full.mkv").range, Some(Range::Full));
        assert_eq!(probed("tags.mov").sar, Some((4, 3)));
        assert_eq!(probed("tags.mov").field_order.as_deref(), Some("tt"));
        assert_eq!(probed("tags.mov").color.primaries.as_deref(), Some("bt709"));
        assert!(probed("full.mkv").seek_offset.is_some());
        assert!(probed("cut.mp4").frame_count < Some(24), "{:?}", probed("cut.mp4").frame_count);
        assert_eq!(probed("ten.mkv").pix_fmt, "yuv420p10le");
        // Not a video: libav declines, ffprobe says why, the same words either way.
        let text = d.join("notes.mp4");
        std::fs::write(&text, "not a video\n").unwrap();
        assert!(crate::libav::view(&text).is_none());
        let (a, b) =
            (probe(&text, None, &in_process).unwrap_err(), probe(&text, None, &ffprobe).unwrap_err());
        assert_eq!(a.to_string(), b.to_string());
    }

    #[test]
    fn tool_message_strips_the_path() {
        let m =
            tool_message(b"x\n/a/b.mp4: Invalid data found when processing input\n\n", Path::new("/a/b.mp4"));
        assert_eq!(m, "Invalid data found when processing input");
        let m = tool_message(
            b"[hls @ 0x5585] Format not on whitelist 'mov'\nl.m3u8: Invalid argument\n",
            Path::new("l.m3u8"),
        );
        assert!(m.starts_with("`hls` is a playlist or list format"), "{m}");
        let m = tool_message(b"Error opening https://h/k?X-Amz-Signature=s: 403\n", Path::new("x"));
        assert!(!m.contains("Signature"), "{m}");
    }
}
