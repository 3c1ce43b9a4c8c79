//! Decoding in-process with libavformat/libavcodec (Debian's `libav*`, through `ffmpeg-next`):
//! frames go from the decoder straight into the scorer's pictures, with no ffmpeg process,
//! no pipe and no copy through the kernel.
//!
//! Used only where the ffmpeg subprocess would hand frames on unchanged — a local file
//! decoded from its first frame whose pixels need no conversion ([`in_process`]) — so the
//! two give the same bytes (tests compare them frame by frame). Everything else (a size,
//! range, rotation or rate change, a seek, a remote or piped input, a user's own
//! `--ffmpeg`) goes through ffmpeg as before. The subprocess's rules are kept: every
//! decoded frame is handed on (`-fps_mode passthrough`), and a read or decode error, a
//! packet or frame marked corrupt, stops the reader with the input's name and last good
//! frame (`-xerror`), never a concealed picture.

use std::path::{Path, PathBuf};
use std::sync::Once;

use ffmpeg_next as av;

use crate::error::MediaError;
use crate::format::{PixelFormat, VideoFormat};
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
        // Errors reach the caller as values; libav's own log would only repeat them on stderr.
        av::util::log::set_level(av::util::log::Level::Quiet);
    });
}

impl LibavReader {
    /// Opens `path`'s first video stream (as `-map 0:v:0` does) for frames of `format`.
    /// `Ok(None)` when libav cannot open or decode it here (its codec is missing, say): the
    /// caller then runs ffmpeg, whose message is the one a user should see.
    pub fn open(path: &Path, format: VideoFormat, threads: u32) -> Result<Option<Self>, MediaError> {
        init();
        // The subprocess's limits (crate::location::input_args): local files only, and only
        // demuxers that never open other files or URLs named inside the input.
        let mut options = av::Dictionary::new();
        options.set("protocol_whitelist", "file");
        options.set("format_whitelist", crate::location::DEMUXERS);
        let Ok(input) = av::format::input_with_dictionary(path, options) else { return Ok(None) };
        let Some(stream) = input.streams().find(|s| s.parameters().medium() == av::media::Type::Video) else {
            return Ok(None);
        };
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

    fn corrupt(&mut self, message: String) -> MediaError {
        self.state = State::Done;
        MediaError::Corrupt { input: self.path.clone(), frame: self.frames, message }
    }

    /// Hands the decoder the stream's next packet, or the end of the stream.
    fn feed(&mut self) -> Result<(), MediaError> {
        let mut packet = av::Packet::empty();
        loop {
            match packet.read(&mut self.input) {
                Ok(()) if packet.stream() != self.stream => continue,
                Ok(()) if packet.is_corrupt() => {
                    return Err(self.corrupt("a packet of the video stream is incomplete or damaged".into()))
                }
                Ok(()) => {
                    return self.decoder.send_packet(&packet).map_err(|e| self.corrupt(format!("decoding: {e}")));
                }
                Err(av::Error::Eof) => {
                    self.state = State::Draining;
                    return self.decoder.send_eof().map_err(|e| self.corrupt(format!("decoding: {e}")));
                }
                Err(e) => return Err(self.corrupt(format!("reading: {e}"))),
            }
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
                None => return Err(self.corrupt(format!("a frame in {:?}, not planar YUV", self.frame.format()))),
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
            match self.decoder.receive_frame(&mut self.frame) {
                Ok(()) => {
                    self.hand_on(planes)?;
                    return Ok(true);
                }
                Err(av::Error::Other { errno: av::util::error::EAGAIN }) if self.state == State::Reading => self.feed()?,
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

    #[test]
    fn what_libav_cannot_open_is_left_to_ffmpeg() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("notes.mp4");
        std::fs::write(&text, "not a video\n").unwrap();
        let fmt = VideoFormat { width: 64, height: 64, pix_fmt: PixelFormat::YUV420P };
        assert!(LibavReader::open(&text, fmt, 1).unwrap().is_none());
    }
}
