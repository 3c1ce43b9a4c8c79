//! ffmpeg as a decoder: one subprocess per input writing raw planar frames into a pipe.
//!
//! ffmpeg runs with `-xerror` and `-loglevel error`, so a corrupt or truncated stream stops
//! it or leaves a message; either way the reader reports the input as corrupt with the last
//! frame it got, instead of handing concealed frames to the scorer. The child is killed when
//! the reader is dropped, so an early stop never leaves ffmpeg behind.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::error::MediaError;
use crate::format::VideoFormat;
use crate::matching::Conversion;
use crate::probe::{tool_message, Tools};
use crate::raw::RawFormat;
use crate::reader::{read_counted, Filled, FrameReader, PlaneMut, Stopper};

/// How inputs are decoded (what they are converted to is a [`Conversion`]).
#[derive(Debug, Clone, Default)]
pub struct DecodeOptions {
    pub tools: Tools,
    /// Decoder threads per input (0 = the decoder's choice). On a machine whose cores are
    /// busy scoring, one decoder thread each costs less than ffmpeg's many.
    pub threads: u32,
}

/// Where compressed inputs are probed and decoded ([`Tools::decoder`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Decoder {
    /// In this process with libavformat/libavcodec ([`crate::libav`]) wherever that gives
    /// exactly what the programs would: a local file is probed in-process, and decoded
    /// in-process from its first frame when its pixels pass unchanged; ffprobe and ffmpeg
    /// otherwise, and for every error message.
    #[default]
    Auto,
    /// Always the programs (`--ffprobe`, `--ffmpeg`): for a build of ffmpeg the system's
    /// libav lacks, a decode that a watchdog must be able to kill, or to compare.
    Ffmpeg,
}

impl std::str::FromStr for Decoder {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Decoder::Auto),
            "ffmpeg" => Ok(Decoder::Ffmpeg),
            other => Err(format!("unknown decoder `{other}` (auto or ffmpeg)")),
        }
    }
}

/// Decoded frames from an ffmpeg subprocess.
pub struct FfmpegReader {
    path: PathBuf,
    format: VideoFormat,
    /// Shared with [`FrameReader::stopper`], which may kill it from another thread while this
    /// reader is blocked reading a pipe that ffmpeg never writes to.
    child: Arc<Mutex<Child>>,
    stdout: BufReader<ChildStdout>,
    stderr: Option<JoinHandle<()>>,
    messages: Arc<Mutex<VecDeque<String>>>,
    frames: u64,
    done: bool,
    program: String,
}

/// The ffmpeg arguments that decode `input` into raw frames on stdout, converted by `conv`.
///
/// Display rotation is never applied by ffmpeg (`-noautorotate`): [`Conversion`] says when
/// to turn. A raw input is described by `raw` before its `-i`, and `seek` (input options,
/// [`crate::seek::seek_args`]) comes just before it.
pub fn decode_args(
    input: &Path,
    raw: Option<&RawFormat>,
    seek: &[String],
    conv: &Conversion,
    opts: &DecodeOptions,
) -> Vec<String> {
    let mut args: Vec<String> = ["-hide_banner", "-loglevel", "error", "-xerror"].map(String::from).into();
    // A stream on stdin is the input; otherwise ffmpeg must not read stdin.
    if input != Path::new("pipe:0") {
        args.insert(0, "-nostdin".into());
    }
    if opts.threads > 0 {
        args.extend(["-threads".into(), opts.threads.to_string()]);
    }
    args.push("-noautorotate".into());
    if let Some(raw) = raw {
        args.extend(raw.ffmpeg_input_args());
    }
    args.extend(seek.iter().cloned());
    args.extend(crate::location::input_args(input));
    args.push("-i".into());
    args.push(input.display().to_string());
    args.extend(["-map", "0:v:0", "-an", "-sn", "-dn", "-fps_mode", "passthrough"].map(String::from));
    args.push("-vf".into());
    // After a seek the frames' times start half a frame in: counted again from the first
    // frame, they stay whole ticks of the output's time base (two frames could otherwise
    // round to one time, which the raw muxer refuses).
    args.push(if seek.is_empty() {
        conv.filter_graph()
    } else {
        format!("setpts=PTS-STARTPTS,{}", conv.filter_graph())
    });
    args.extend([
        "-pix_fmt".into(),
        conv.out.pix_fmt.ffmpeg_name(),
        "-f".into(),
        "rawvideo".into(),
        "pipe:1".into(),
    ]);
    args
}

/// Decodes frames `start .. start + frames` of `source` into the Y4M file `out`, pixels
/// unchanged (its own pixel format, range tag kept), seeking to `start` where that is exact
/// ([`crate::seek`]): an excerpt that can be read again and again without decoding the source
/// (vmafx-tune's samples). Written under a temporary name first.
pub fn cut_y4m(
    tools: &Tools,
    source: &crate::Probe,
    start: u64,
    frames: u64,
    out: &Path,
) -> Result<(), MediaError> {
    let (seek, at) = crate::seek::seek_args(source, start);
    let partial = out.with_extension("partial.y4m");
    let mut cmd = Command::new(&tools.ffmpeg);
    cmd.args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-noautorotate"])
        .args(seek)
        .args(crate::location::input_args(&source.path))
        .arg("-i")
        .arg(&source.path)
        .args(["-map", "0:v:0", "-an", "-sn", "-dn", "-vf"])
        .arg(format!("trim=start_frame={}:end_frame={},setpts=PTS-STARTPTS", start - at, start - at + frames))
        .args(["-pix_fmt", &source.pix_fmt, "-strict", "-1", "-f", "yuv4mpegpipe"])
        .arg(&partial);
    let out_err = |e| MediaError::Unreadable { input: out.into(), source: e };
    let done = crate::tool::output_within(&mut cmd, std::time::Duration::from_secs(3600))?;
    if !done.status.success() {
        let _ = std::fs::remove_file(&partial);
        return Err(MediaError::Corrupt {
            input: source.path.clone(),
            frame: start,
            message: tool_message(&done.stderr, &source.path),
        });
    }
    std::fs::rename(&partial, out).map_err(out_err)
}

impl FfmpegReader {
    /// Starts ffmpeg on `input`, producing frames converted by `conv`, from where `seek`
    /// (input options) starts it.
    pub fn spawn(
        input: &Path,
        raw: Option<&RawFormat>,
        seek: &[String],
        conv: &Conversion,
        opts: &DecodeOptions,
    ) -> Result<Self, MediaError> {
        Self::start(input, decode_args(input, raw, seek, conv, opts), Stdio::null(), conv, opts)
    }

    /// Starts ffmpeg on a stream arriving on `pipe` (an encode as it is made, see
    /// [`StreamedInput`](crate::StreamedInput)); `label` names it in errors.
    pub fn spawn_pipe(
        label: &Path,
        pipe: std::io::PipeReader,
        conv: &Conversion,
        opts: &DecodeOptions,
    ) -> Result<Self, MediaError> {
        let args = decode_args(Path::new("pipe:0"), None, &[], conv, opts);
        Self::start(label, args, Stdio::from(pipe), conv, opts)
    }

    fn start(
        input: &Path,
        args: Vec<String>,
        stdin: Stdio,
        conv: &Conversion,
        opts: &DecodeOptions,
    ) -> Result<Self, MediaError> {
        let mut child = Command::new(&opts.tools.ffmpeg)
            .args(args)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| MediaError::Tool {
                program: opts.tools.ffmpeg.display().to_string(),
                source,
            })?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        let messages = Arc::new(Mutex::new(VecDeque::new()));
        let sink = Arc::clone(&messages);
        // Drain stderr so ffmpeg never blocks on it; keep only the last lines for the error.
        let stderr = std::thread::Builder::new()
            .name("ffmpeg-stderr".into())
            .spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    let mut q = sink.lock().unwrap_or_else(|p| p.into_inner());
                    if q.len() == 8 {
                        q.pop_front();
                    }
                    q.push_back(line);
                }
            })
            .ok();
        Ok(Self {
            path: input.into(),
            format: conv.out,
            child: Arc::new(Mutex::new(child)),
            stdout: BufReader::with_capacity(1 << 20, stdout),
            stderr,
            messages,
            frames: 0,
            done: false,
            program: opts.tools.ffmpeg.display().to_string(),
        })
    }

    /// Process id of the ffmpeg child (for tests and cancellation).
    pub fn pid(&self) -> u32 {
        self.child.lock().unwrap_or_else(|p| p.into_inner()).id()
    }

    /// Waits for ffmpeg after its output ended and turns any failure into an error.
    fn finish(&mut self, partial: bool) -> Result<bool, MediaError> {
        self.done = true;
        let status = self
            .child
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .wait()
            .map_err(|source| MediaError::Io { input: self.path.clone(), frame: self.frames, source })?;
        if let Some(h) = self.stderr.take() {
            let _ = h.join();
        }
        let messages: Vec<String> =
            self.messages.lock().unwrap_or_else(|p| p.into_inner()).drain(..).collect();
        if let Some(signal) = crate::tool::killed_by(&status) {
            return Err(MediaError::ToolKilled {
                input: self.path.clone(),
                frame: self.frames,
                signal: crate::tool::signal_name(signal),
            });
        }
        if !status.success() || !messages.is_empty() {
            let message = if messages.is_empty() {
                format!("ffmpeg exited with {status}")
            } else {
                tool_message(messages.join("\n").as_bytes(), &self.path)
            };
            return Err(MediaError::Corrupt { input: self.path.clone(), frame: self.frames, message });
        }
        if partial {
            return Err(MediaError::Truncated { input: self.path.clone(), frame: self.frames });
        }
        Ok(false)
    }
}

impl FrameReader for FfmpegReader {
    fn decoder(&self) -> String {
        format!("ffmpeg subprocess ({})", self.program)
    }

    fn format(&self) -> VideoFormat {
        self.format
    }

    fn read_frame(&mut self, planes: &mut [PlaneMut<'_>; 3]) -> Result<bool, MediaError> {
        if self.done {
            return Ok(false);
        }
        match read_counted(&mut self.stdout, self.format, planes, &self.path, &mut self.frames)? {
            Filled::Frame => Ok(true),
            Filled::End => self.finish(false),
            Filled::Partial => self.finish(true),
        }
    }

    fn frames_read(&self) -> u64 {
        self.frames
    }

    fn stopper(&self) -> Option<Stopper> {
        let child = Arc::clone(&self.child);
        Some(Box::new(move || {
            let _ = child.lock().unwrap_or_else(|p| p.into_inner()).kill();
        }))
    }
}

impl Drop for FfmpegReader {
    fn drop(&mut self) {
        if !self.done {
            let mut child = self.child.lock().unwrap_or_else(|p| p.into_inner());
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{PixelFormat, Range};
    use crate::orientation::Orientation;

    #[test]
    fn decodes_through_the_conversion_without_autorotation() {
        let out = VideoFormat { width: 640, height: 360, pix_fmt: PixelFormat::YUV420P };
        let conv = Conversion {
            orientation: Orientation::IDENTITY,
            fps: None,
            in_range: Range::Full,
            out_range: Range::Full,
            out,
            scale_filter: "lanczos".into(),
        };
        let plain = decode_args(Path::new("a.mp4"), None, &[], &conv, &DecodeOptions::default());
        assert!(!plain.iter().any(|a| a == "-threads"));
        let at = |a: &str| plain.iter().position(|x| x == a).unwrap();
        assert!(at("-noautorotate") < at("-i"));
        assert!(
            at("-protocol_whitelist") < at("-i") && plain[at("-protocol_whitelist") + 1] == "file,pipe,fd"
        );
        assert!(at("-format_whitelist") < at("-i"));
        assert!(plain.iter().any(|a| a == "scale=640:360:flags=lanczos:in_range=full:out_range=full"));
        assert!(plain.ends_with(&[
            "-pix_fmt".into(),
            "yuv420p".into(),
            "-f".into(),
            "rawvideo".into(),
            "pipe:1".into()
        ]));
        let opts = DecodeOptions { threads: 1, ..Default::default() };
        let raw = RawFormat { width: 640, height: 360, pix_fmt: PixelFormat::YUV420P, rate: None };
        let args = decode_args(Path::new("a.yuv"), Some(&raw), &[], &conv, &opts).join(" ");
        assert!(
            args.contains(
                "-threads 1 -noautorotate -f rawvideo -pix_fmt yuv420p -video_size 640x360 -protocol_whitelist"
            ),
            "{args}"
        );
    }

    /// The documented claim that matching copies pixels unchanged when nothing differs, on
    /// the case that used to go wrong: full range (`yuvj420p`) on both sides.
    #[test]
    fn nothing_to_convert_means_the_decoder_s_own_pixels() {
        let dir = tempfile::tempdir().unwrap();
        let clip = dir.path().join("full.mp4");
        let ok = std::process::Command::new("ffmpeg")
            .args(["-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=96x64:rate=24"])
            .args(["-frames:v", "5", "-c:v", "libx264", "-pix_fmt", "yuvj420p"])
            .arg(&clip)
            .status()
            .unwrap();
        assert!(ok.success());
        let probe = crate::probe(&clip, None, &Tools::default()).unwrap();
        let plan = crate::plan(&probe, &probe, &Default::default()).unwrap();
        assert!(plan.notes.is_empty(), "{:?}", plan.notes);
        let mut reader =
            FfmpegReader::spawn(&clip, None, &[], &plan.distorted, &DecodeOptions::default()).unwrap();
        let fmt = reader.format();
        let mut ours = Vec::new();
        let mut frame = vec![0u8; fmt.frame_bytes()];
        loop {
            let dims = fmt.pix_fmt.plane_dims(fmt.width, fmt.height);
            let (y, rest) = frame.split_at_mut(dims[0].0 * dims[0].1);
            let (u, v) = rest.split_at_mut(dims[1].0 * dims[1].1);
            let mut planes = [
                PlaneMut::packed(y, dims[0].0, dims[0].1),
                PlaneMut::packed(u, dims[1].0, dims[1].1),
                PlaneMut::packed(v, dims[2].0, dims[2].1),
            ];
            if !reader.read_frame(&mut planes).unwrap() {
                break;
            }
            ours.extend_from_slice(&frame);
        }
        // ffmpeg's own decode, in the stream's own pixel format: no filter at all.
        let native = std::process::Command::new("ffmpeg")
            .args(["-nostdin", "-loglevel", "error", "-i"])
            .arg(&clip)
            .args(["-f", "rawvideo", "-"])
            .output()
            .unwrap();
        assert_eq!(ours.len(), 5 * fmt.frame_bytes());
        assert!(ours == native.stdout, "pixels changed on the way");
    }
}
