//! Decoding in-process with libavformat/libavcodec (Debian's `libav*`, through `ffmpeg-next`):
//! frames go from the decoder straight into the scorer's pictures, with no ffmpeg process,
//! no pipe and no copy through the kernel.
//!
//! Used only where the ffmpeg subprocess would hand frames on unchanged — a local file
//! decoded from its first frame whose pixels need no conversion ([`crate::open_reader`]) —
//! so the two give the same bytes (tests compare them frame by frame). Everything else (a
//! size, range, rotation or rate change, a seek, a remote or piped input) goes through
//! ffmpeg as before, and so does every input under `--decoder ffmpeg` (a codec only the
//! user's `--ffmpeg` build has; nodes, whose watchdog kills stuck decoders). The subprocess's rules are kept: every
//! decoded frame is handed on (`-fps_mode passthrough`), and a read or decode error, a
//! packet or frame marked corrupt, stops the reader with the input's name and last good
//! frame (`-xerror`), never a concealed picture.

use std::path::{Path, PathBuf};
use std::sync::Once;

use ffmpeg_next as av;

use crate::error::MediaError;
use crate::format::{PixelFormat, VideoFormat};
use crate::probe::{FfprobeFormat, FfprobeOut, FfprobeSideData, FfprobeStream};
use crate::reader::{FrameReader, PlaneMut};

/// Decoded frames from libavcodec, in this process.
pub struct LibavReader {
    path: PathBuf,
    format: VideoFormat,
    input: av::format::context::Input,
    stream: usize,
    decoder: av::decoder::Video,
    frame: av::frame::Video,
    frames: u64,
    state: State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Packets are still being read.
    Reading,
    /// The input ended; the decoder gives back the frames it holds.
    Draining,
    Done,
}

fn init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // libav's errors are collected (never printed): a demuxer that meets a truncated
        // file logs "Read error" and still reports a clean end, which ffmpeg -xerror with
        // -loglevel error surfaces as a message, and so must we.
        av::util::log::set_level(av::util::log::Level::Error);
        // SAFETY: `on_log` matches the callback type and only formats into a local buffer.
        unsafe { av::ffi::av_log_set_callback(Some(on_log)) };
    });
}

thread_local! {
    /// Error messages libav logged on this thread while [`logged`] was watching it.
    static LOGGED: std::cell::RefCell<Option<Vec<String>>> = const { std::cell::RefCell::new(None) };
}

unsafe extern "C" fn on_log(
    avcl: *mut std::ffi::c_void,
    level: std::ffi::c_int,
    fmt: *const std::ffi::c_char,
    args: *mut av::ffi::__va_list_tag,
) {
    if level > av::ffi::AV_LOG_ERROR {
        return;
    }
    LOGGED.with(|logged| {
        let Ok(mut logged) = logged.try_borrow_mut() else { return };
        let Some(lines) = logged.as_mut() else { return };
        let mut line = [0 as std::ffi::c_char; 1024];
        let mut prefix: std::ffi::c_int = 1;
        // SAFETY: libav's own formatter, with the arguments it handed us and a buffer of the
        // size given; it always NUL-terminates.
        let text = unsafe {
            av::ffi::av_log_format_line2(
                avcl,
                level,
                fmt,
                args,
                line.as_mut_ptr(),
                line.len() as i32,
                &mut prefix,
            );
            std::ffi::CStr::from_ptr(line.as_ptr()).to_string_lossy().trim().to_string()
        };
        if !text.is_empty() && lines.len() < 8 {
            lines.push(text);
        }
    });
}

/// Runs `f` (a libav call made on this thread) and returns what it logged as errors too.
fn logged<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    LOGGED.with(|l| *l.borrow_mut() = Some(Vec::new()));
    let out = f();
    let lines = LOGGED.with(|l| l.borrow_mut().take()).unwrap_or_default();
    (out, lines)
}

/// Opens a local file as ffmpeg and ffprobe do (`avformat_open_input`, then
/// `avformat_find_stream_info`), within the subprocess's limits
/// ([`crate::location::input_args`]): the `file` protocol only, and only demuxers that never
/// open other files or URLs named inside the input. `None` when libav fails or complains:
/// the programs then run, and their message is the one a user sees.
fn open_input(path: &Path) -> Option<av::format::context::Input> {
    init();
    let mut options = av::Dictionary::new();
    options.set("protocol_whitelist", "file");
    options.set("format_whitelist", crate::location::DEMUXERS);
    // As both programs set it: every program of an MPEG-TS, not only those seen first.
    options.set("scan_all_pmts", "1");
    let (input, errors) = logged(|| av::format::input_with_dictionary(path, options));
    input.ok().filter(|_| errors.is_empty())
}

/// The first video stream (`-select_streams v:0`, `-map 0:v:0`).
fn first_video(input: &av::format::context::Input) -> Option<av::format::stream::Stream<'_>> {
    input.streams().find(|s| s.parameters().medium() == av::media::Type::Video)
}

/// ffprobe's answer about `path`'s first video stream (the entries
/// [`crate::probe`] asks it for), made in-process from the same libavformat calls and
/// written as ffprobe writes each value, so that one reading serves both. `None` where
/// libav cannot open the file cleanly or cannot tell the stream's size or pixel format
/// (a codec this libav lacks): ffprobe then answers.
pub(crate) fn view(path: &Path) -> Option<FfprobeOut> {
    let input = open_input(path)?;
    let stream = first_video(&input)?;
    // SAFETY: plain fields of structures libav filled and owns for as long as `input` lives;
    // the name functions return static strings or NULL.
    let (par, st, ctx) = unsafe { (&*stream.parameters().as_ptr(), stream.as_ptr(), input.as_ptr()) };
    if par.width <= 0 || par.height <= 0 || par.format < 0 {
        return None;
    }
    let name = |p: *const std::ffi::c_char| -> Option<String> {
        // SAFETY: NULL or a NUL-terminated static string from libav.
        (!p.is_null()).then(|| unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned())
    };
    // ffprobe's print_color_*: the name, or "unknown" for unspecified.
    let color = |p: *const std::ffi::c_char, unspecified: bool| {
        Some(if unspecified { None } else { name(p) }.unwrap_or_else(|| "unknown".into()))
    };
    // SAFETY (each call below): libav's own lookups, given values it wrote.
    let (codec, pix_fmt, range, space, transfer, primaries) = unsafe {
        let descriptor = av::ffi::avcodec_descriptor_get(par.codec_id);
        (
            if descriptor.is_null() { None } else { name((*descriptor).name) },
            name(av::ffi::av_get_pix_fmt_name(std::mem::transmute::<i32, av::ffi::AVPixelFormat>(
                par.format,
            ))),
            color(
                av::ffi::av_color_range_name(par.color_range),
                par.color_range == av::ffi::AVColorRange::AVCOL_RANGE_UNSPECIFIED,
            ),
            color(
                av::ffi::av_color_space_name(par.color_space),
                par.color_space == av::ffi::AVColorSpace::AVCOL_SPC_UNSPECIFIED,
            ),
            color(
                av::ffi::av_color_transfer_name(par.color_trc),
                par.color_trc == av::ffi::AVColorTransferCharacteristic::AVCOL_TRC_UNSPECIFIED,
            ),
            color(
                av::ffi::av_color_primaries_name(par.color_primaries),
                par.color_primaries == av::ffi::AVColorPrimaries::AVCOL_PRI_UNSPECIFIED,
            ),
        )
    };
    let field_order = match par.field_order {
        av::ffi::AVFieldOrder::AV_FIELD_PROGRESSIVE => "progressive",
        av::ffi::AVFieldOrder::AV_FIELD_TT => "tt",
        av::ffi::AVFieldOrder::AV_FIELD_BB => "bb",
        av::ffi::AVFieldOrder::AV_FIELD_TB => "tb",
        av::ffi::AVFieldOrder::AV_FIELD_BT => "bt",
        _ => "unknown",
    };
    // SAFETY: the format and stream pointers come from the open input.
    let sar =
        unsafe { av::ffi::av_guess_sample_aspect_ratio(ctx as *mut _, st as *mut _, std::ptr::null_mut()) };
    let q = |r: av::Rational| format!("{}/{}", r.numerator(), r.denominator());
    // ffprobe's print_time: "%f" of the timestamp in seconds; N/A (absent) when unset.
    let time = |ts: i64, base: av::Rational| {
        (ts != av::ffi::AV_NOPTS_VALUE).then(|| format!("{:.6}", ts as f64 * f64::from(base)))
    };
    let side_data_list = stream
        .side_data()
        .filter(|sd| sd.kind() == av::codec::packet::side_data::Type::DisplayMatrix && sd.data().len() >= 36)
        .map(|sd| {
            let m: Vec<i32> = sd
                .data()
                .chunks_exact(4)
                .take(9)
                .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            // SAFETY: nine int32 values, as av_display_rotation_get reads.
            let rotation = unsafe { av::ffi::av_display_rotation_get(m.as_ptr()) };
            FfprobeSideData {
                side_data_type: Some("Display Matrix".into()),
                // ffprobe's writer_print_integers(…, 9, " %11d", 3 columns, 4 bytes, offset + 1).
                displaymatrix: Some(m.chunks(3).enumerate().fold("\n".to_string(), |text, (row, v)| {
                    format!("{text}{row:08x}:  {:11} {:11} {:11}\n", v[0], v[1], v[2])
                })),
                // ffprobe prints it with print_int: truncated to an integer.
                rotation: Some(rotation.trunc()),
            }
        })
        .collect();
    let stream_view = FfprobeStream {
        codec_name: codec,
        width: Some(par.width as u32),
        height: Some(par.height as u32),
        pix_fmt,
        nb_frames: (stream.frames() != 0).then(|| stream.frames().to_string()),
        avg_frame_rate: Some(q(stream.avg_frame_rate())),
        r_frame_rate: Some(q(stream.rate())),
        duration: time(stream.duration(), stream.time_base()),
        color_range: range,
        color_space: space,
        color_transfer: transfer,
        color_primaries: primaries,
        field_order: Some(field_order.into()),
        sample_aspect_ratio: (sar.num != 0).then(|| format!("{}:{}", sar.num, sar.den)),
        start_time: time(stream.start_time(), stream.time_base()),
        side_data_list,
    };
    // SAFETY: a plain field of the open input.
    let format_start = unsafe { (*ctx).start_time };
    Some(FfprobeOut {
        streams: vec![stream_view],
        format: Some(FfprobeFormat {
            format_name: Some(input.format().name().to_string()),
            start_time: time(format_start, av::Rational::new(1, av::ffi::AV_TIME_BASE)),
        }),
    })
}

/// The packets of `path`'s first video stream, read without decoding — all of them
/// (ffprobe's `-count_packets`), or with `shown_only` those not flagged for discard (an MP4
/// edit list's hidden frames, ffprobe's flag `D`). `None` where libav fails to read it:
/// ffprobe then counts, and says what is wrong.
pub(crate) fn count_packets(path: &Path, shown_only: bool) -> Option<u64> {
    video_packets(path).map(|p| if shown_only { p.shown } else { p.count })
}

/// What the packets of a video stream add up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoPackets {
    pub count: u64,
    /// Those not flagged for discard.
    pub shown: u64,
    /// Their bytes: the compressed video alone, without the container or other streams.
    pub bytes: u64,
}

/// The packets of `path`'s first video stream, read without decoding; `None` where libav
/// cannot read it.
pub fn video_packets(path: &Path) -> Option<VideoPackets> {
    let mut input = open_input(path)?;
    let index = first_video(&input)?.index();
    let mut packet = av::Packet::empty();
    let mut sum = VideoPackets { count: 0, shown: 0, bytes: 0 };
    loop {
        match packet.read(&mut input) {
            Ok(()) if packet.stream() == index => {
                // SAFETY: a plain field of the packet just read.
                let discard =
                    unsafe { (*av::packet::Ref::as_ptr(&packet)).flags } & av::ffi::AV_PKT_FLAG_DISCARD != 0;
                sum.count += 1;
                sum.shown += u64::from(!discard);
                sum.bytes += packet.size() as u64;
            }
            Ok(()) => {}
            Err(av::Error::Eof) => return Some(sum),
            Err(_) => return None,
        }
    }
}

impl LibavReader {
    /// Opens `path`'s first video stream (as `-map 0:v:0` does) for frames of `format`.
    /// `Ok(None)` when libav cannot open or decode it here (its codec is missing, say): the
    /// caller then runs ffmpeg, whose message is the one a user should see.
    pub fn open(path: &Path, format: VideoFormat, threads: u32) -> Result<Option<Self>, MediaError> {
        let Some(input) = open_input(path) else { return Ok(None) };
        let Some(stream) = first_video(&input) else { return Ok(None) };
        let index = stream.index();
        let Ok(mut context) = av::codec::context::Context::from_parameters(stream.parameters()) else {
            return Ok(None);
        };
        // Frame threads, as ffmpeg's `-threads N` sets them (0: libavcodec's choice).
        context.set_threading(av::codec::threading::Config {
            kind: av::codec::threading::Type::Frame,
            count: threads as usize,
            ..Default::default()
        });
        let Ok(decoder) = context.decoder().video() else { return Ok(None) };
        Ok(Some(Self {
            path: path.into(),
            format,
            input,
            stream: index,
            decoder,
            frame: av::frame::Video::empty(),
            frames: 0,
            state: State::Reading,
        }))
    }

    /// Opens the video arriving on `pipe` (an encoder's Matroska output as it is made,
    /// [`crate::StreamedInput`]) for frames of `format`, through the pipe's `/proc/self/fd`
    /// name: libav reads it as a file it cannot seek, as ffmpeg reads `pipe:0`. `label` names
    /// the stream in errors. An error where [`Self::open`] would answer `None`: libav may
    /// have read from the pipe by then, so ffmpeg cannot be handed it instead.
    pub fn open_pipe(
        label: &Path,
        pipe: std::io::PipeReader,
        format: VideoFormat,
        threads: u32,
    ) -> Result<Self, MediaError> {
        use std::os::fd::AsRawFd;
        let at = PathBuf::from(format!("/proc/self/fd/{}", pipe.as_raw_fd()));
        // libav opens its own descriptor of the pipe; `pipe` is closed when this returns.
        match Self::open(&at, format, threads)? {
            Some(reader) => Ok(Self { path: label.into(), ..reader }),
            None => Err(MediaError::Unreadable {
                input: label.into(),
                source: std::io::Error::other("libav here cannot open or decode the encoder's stream"),
            }),
        }
    }

    fn corrupt(&mut self, message: String) -> MediaError {
        self.state = State::Done;
        MediaError::Corrupt { input: self.path.clone(), frame: self.frames, message }
    }

    /// Hands the decoder the stream's next packet, or the end of the stream.
    fn feed(&mut self) -> Result<(), MediaError> {
        let mut packet = av::Packet::empty();
        loop {
            let (read, errors) = logged(|| packet.read(&mut self.input));
            if !errors.is_empty() {
                return Err(self.corrupt(errors.join("; ")));
            }
            match read {
                Ok(()) if packet.stream() != self.stream => continue,
                Ok(()) if packet.is_corrupt() => {
                    return Err(self.corrupt("a packet of the video stream is incomplete or damaged".into()))
                }
                Ok(()) => {
                    let (sent, errors) = logged(|| self.decoder.send_packet(&packet));
                    return self.check(sent, errors);
                }
                Err(av::Error::Eof) => {
                    self.state = State::Draining;
                    let (sent, errors) = logged(|| self.decoder.send_eof());
                    return self.check(sent, errors);
                }
                Err(e) => return Err(self.corrupt(format!("reading: {e}"))),
            }
        }
    }

    /// A decoder call's outcome: an error, or an error it only logged, stops the reader.
    fn check(&mut self, result: Result<(), av::Error>, errors: Vec<String>) -> Result<(), MediaError> {
        match result {
            Err(e) => Err(self.corrupt(format!("decoding: {e}"))),
            Ok(()) if !errors.is_empty() => Err(self.corrupt(errors.join("; "))),
            Ok(()) => Ok(()),
        }
    }

    /// Checks the decoded frame is what the stream was probed as, then copies its planes.
    fn hand_on(&mut self, planes: &mut [PlaneMut<'_>; 3]) -> Result<(), MediaError> {
        // SAFETY: the frame was just filled by the decoder; the field is a plain integer.
        let error_flags = unsafe { (*self.frame.as_ptr()).decode_error_flags };
        if self.frame.is_corrupt() || error_flags != 0 {
            return Err(self.corrupt("the decoder concealed errors in a frame".into()));
        }
        let got = VideoFormat {
            width: self.frame.width(),
            height: self.frame.height(),
            pix_fmt: match pixel_format(self.frame.format()) {
                Some(p) => p,
                None => {
                    return Err(self.corrupt(format!("a frame in {:?}, not planar YUV", self.frame.format())))
                }
            },
        };
        if got != self.format {
            return Err(self.corrupt(format!(
                "frame {} is {}x{} {} but the stream is {}x{} {}: decode it with ffmpeg (`--decoder ffmpeg`), which scales such frames",
                self.frames,
                got.width,
                got.height,
                got.pix_fmt.ffmpeg_name(),
                self.format.width,
                self.format.height,
                self.format.pix_fmt.ffmpeg_name()
            )));
        }
        let bps = self.format.pix_fmt.bytes_per_sample();
        let dims = self.format.pix_fmt.plane_dims(self.format.width, self.format.height);
        for (i, (plane, (w, h))) in planes.iter_mut().zip(dims).enumerate() {
            let src = self.frame.data(i);
            let src_stride = self.frame.stride(i);
            let keep = (w * bps).min(plane.row_bytes);
            for y in 0..h.min(plane.rows) {
                let to = y * plane.stride;
                plane.data[to..to + keep].copy_from_slice(&src[y * src_stride..y * src_stride + keep]);
            }
        }
        self.frames += 1;
        Ok(())
    }
}

/// The planar YUV layout of a libav pixel format (`yuvj*` is its `yuv*` layout in full range).
fn pixel_format(p: av::format::Pixel) -> Option<PixelFormat> {
    PixelFormat::from_ffmpeg(p.descriptor()?.name())
}

impl FrameReader for LibavReader {
    fn decoder(&self) -> String {
        let v = av::codec::version();
        format!("libavcodec {}.{}.{} in-process", v >> 16, (v >> 8) & 0xff, v & 0xff)
    }

    fn format(&self) -> VideoFormat {
        self.format
    }

    fn read_frame(&mut self, planes: &mut [PlaneMut<'_>; 3]) -> Result<bool, MediaError> {
        loop {
            if self.state == State::Done {
                return Ok(false);
            }
            let (received, errors) = logged(|| self.decoder.receive_frame(&mut self.frame));
            if !errors.is_empty() {
                return Err(self.corrupt(errors.join("; ")));
            }
            match received {
                Ok(()) => {
                    self.hand_on(planes)?;
                    return Ok(true);
                }
                Err(av::Error::Other { errno: av::util::error::EAGAIN }) if self.state == State::Reading => {
                    self.feed()?
                }
                Err(av::Error::Eof) => {
                    self.state = State::Done;
                    return Ok(false);
                }
                Err(e) => return Err(self.corrupt(format!("decoding: {e}"))),
            }
        }
    }

    fn frames_read(&self) -> u64 {
        self.frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_range_formats_keep_their_layout() {
        assert_eq!(pixel_format(av::format::Pixel::YUVJ420P), Some(PixelFormat::YUV420P));
        assert_eq!(
            pixel_format(av::format::Pixel::YUV422P10LE).map(|p| p.ffmpeg_name()),
            Some("yuv422p10le".to_string())
        );
        assert_eq!(pixel_format(av::format::Pixel::NV12), None);
    }

    /// Every frame of `r`, its planes tightly packed.
    fn frames_of(r: &mut LibavReader, fmt: VideoFormat) -> Vec<[Vec<u8>; 3]> {
        let mut frames = Vec::new();
        let mut buf = crate::FrameBuffer::new(fmt);
        while buf.read(r).unwrap() {
            frames.push(buf.planes().clone());
        }
        frames
    }

    #[test]
    fn a_stream_on_a_pipe_decodes_as_its_file_does() {
        let dir = tempfile::tempdir().unwrap();
        let mkv = dir.path().join("enc.mkv");
        let made = std::process::Command::new("ffmpeg")
            .args(["-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=96x64:rate=24"])
            .args(["-frames:v", "20", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-g", "8", "-y"])
            .arg(&mkv)
            .status()
            .unwrap();
        assert!(made.success());
        let fmt = VideoFormat { width: 96, height: 64, pix_fmt: PixelFormat::YUV420P };
        let from_file = frames_of(&mut LibavReader::open(&mkv, fmt, 1).unwrap().unwrap(), fmt);
        assert_eq!(from_file.len(), 20);
        // Written in small pieces, as an encoder's output arrives.
        let (rx, mut tx) = std::io::pipe().unwrap();
        let bytes = std::fs::read(&mkv).unwrap();
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            for piece in bytes.chunks(700) {
                tx.write_all(piece).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        });
        let label = dir.path().join("label.mkv");
        let mut piped = LibavReader::open_pipe(&label, rx, fmt, 1).unwrap();
        assert_eq!(frames_of(&mut piped, fmt), from_file);
        writer.join().unwrap();
        // What libav cannot read is an error naming the stream (the pipe is spent).
        let (rx, mut tx) = std::io::pipe().unwrap();
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = tx.write_all(b"not a video\n");
        });
        let err = LibavReader::open_pipe(&label, rx, fmt, 1).err().expect("refused");
        assert!(err.to_string().contains("label.mkv"), "{err}");
    }

    #[test]
    fn what_libav_cannot_open_is_left_to_ffmpeg() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.mp4");
        std::fs::write(&text, "not a video\n").unwrap();
        let fmt = VideoFormat { width: 64, height: 64, pix_fmt: PixelFormat::YUV420P };
        assert!(LibavReader::open(&text, fmt, 1).unwrap().is_none());
    }
}
