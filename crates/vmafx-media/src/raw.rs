//! Raw planar YUV files (`.yuv`), the `vmaf` tool's own input: no header, so the caller says
//! the size, pixel format and (optionally) frame rate. Read natively like Y4M, one frame at a
//! time, with flat memory.

use std::io::BufReader;
use std::path::{Path, PathBuf};

use crate::error::MediaError;
use crate::format::{PixelFormat, Rate, VideoFormat};
use crate::reader::{read_counted, Filled, FrameReader, PlaneMut};

/// What a raw file holds, since it cannot say so itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawFormat {
    pub width: u32,
    pub height: u32,
    pub pix_fmt: PixelFormat,
    pub rate: Option<Rate>,
}

impl RawFormat {
    /// Checks a user's statement of a raw layout.
    pub fn from_spec(spec: &vmafx_core::RawVideo) -> Result<RawFormat, String> {
        let pix_fmt = PixelFormat::from_ffmpeg(&spec.pix_fmt).filter(|_| !spec.pix_fmt.starts_with("yuvj")).ok_or_else(|| {
            format!(
                "unsupported raw pixel format `{}`; planar YUV such as yuv420p, yuv422p, yuv444p, yuv420p10le",
                spec.pix_fmt
            )
        })?;
        // Bounded so that a frame buffer stays allocatable.
        VideoFormat { width: spec.width, height: spec.height, pix_fmt }
            .check_size()
            .map_err(|e| format!("raw {e}"))?;
        let rate = match spec.fps.as_str() {
            "" => None,
            text => Some(
                Rate::parse(text).ok_or_else(|| format!("`{text}` is not a frame rate (25, 24000/1001)"))?,
            ),
        };
        Ok(RawFormat { width: spec.width, height: spec.height, pix_fmt, rate })
    }

    pub fn video_format(&self) -> VideoFormat {
        VideoFormat { width: self.width, height: self.height, pix_fmt: self.pix_fmt }
    }

    /// The ffmpeg input options that read such a file (before its `-i`).
    pub fn ffmpeg_input_args(&self) -> Vec<String> {
        let mut args = vec![
            "-f".into(),
            "rawvideo".into(),
            "-pix_fmt".into(),
            self.pix_fmt.ffmpeg_name(),
            "-video_size".into(),
            format!("{}x{}", self.width, self.height),
        ];
        if let Some(rate) = self.rate {
            args.extend(["-framerate".into(), rate.to_string()]);
        }
        args
    }

    /// Frames in a file of `bytes` bytes; an error when it does not hold whole frames.
    pub fn frame_count(&self, path: &Path, bytes: u64) -> Result<u64, MediaError> {
        let frame = self.video_format().frame_bytes() as u64;
        if !bytes.is_multiple_of(frame) {
            return Err(MediaError::BadRaw {
                input: path.into(),
                reason: format!(
                    "{bytes} bytes is not a whole number of {} frames ({frame} bytes each): \
                     check --width, --height and --pix-fmt",
                    self.video_format()
                ),
            });
        }
        Ok(bytes / frame)
    }
}

/// Streams frames out of a raw YUV file.
pub struct RawReader {
    path: PathBuf,
    inner: BufReader<Box<dyn crate::location::ReadSeek>>,
    len: u64,
    format: VideoFormat,
    frames: u64,
}

impl RawReader {
    pub fn open(path: &Path, raw: &RawFormat) -> Result<Self, MediaError> {
        let (file, len) = crate::location::open(path).map_err(|e| crate::probe::open_error(path, e))?;
        Ok(Self {
            path: path.into(),
            inner: BufReader::with_capacity(1 << 20, file),
            len,
            format: raw.video_format(),
            frames: 0,
        })
    }
}

impl FrameReader for RawReader {
    fn decoder(&self) -> String {
        "native raw YUV reader".into()
    }

    fn format(&self) -> VideoFormat {
        self.format
    }

    fn read_frame(&mut self, planes: &mut [PlaneMut<'_>; 3]) -> Result<bool, MediaError> {
        match read_counted(&mut self.inner, self.format, planes, &self.path, &mut self.frames)? {
            Filled::Frame => Ok(true),
            Filled::End => Ok(false),
            Filled::Partial => Err(MediaError::Truncated { input: self.path.clone(), frame: self.frames }),
        }
    }

    fn frames_read(&self) -> u64 {
        self.frames
    }

    fn skip_frames(&mut self, n: u64) -> Result<u64, MediaError> {
        let size = self.len;
        let frame = self.format.frame_bytes() as u64;
        let left = size.saturating_sub(self.frames * frame) / frame;
        let skip = n.min(left);
        self.inner.seek_relative((skip * frame) as i64).map_err(|source| MediaError::Io {
            input: self.path.clone(),
            frame: self.frames,
            source,
        })?;
        self.frames += skip;
        Ok(skip)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::Chroma;

    #[test]
    fn reads_counts_and_skips_raw_frames() {
        let raw = RawFormat { width: 4, height: 2, pix_fmt: PixelFormat::YUV420P, rate: None };
        let mut f = tempfile::NamedTempFile::new().unwrap();
        let data: Vec<u8> = (0..3u8).flat_map(|i| std::iter::repeat_n(i, 12)).collect();
        std::io::Write::write_all(&mut f, &data).unwrap();
        assert_eq!(raw.frame_count(f.path(), 36).unwrap(), 3);
        let err = raw.frame_count(f.path(), 35).unwrap_err().to_string();
        assert!(err.contains("not a whole number of 4x2 yuv420p frames"), "{err}");
        let mut r = RawReader::open(f.path(), &raw).unwrap();
        assert_eq!(r.skip_frames(1).unwrap(), 1);
        let (mut y, mut u, mut v) = (vec![0; 8], vec![0; 2], vec![0; 2]);
        let mut read = |r: &mut RawReader| {
            let mut planes = [
                PlaneMut::packed(&mut y, 4, 2),
                PlaneMut::packed(&mut u, 2, 1),
                PlaneMut::packed(&mut v, 2, 1),
            ];
            r.read_frame(&mut planes).unwrap().then_some(planes[0].data[0])
        };
        assert_eq!(read(&mut r), Some(1));
        assert_eq!(r.skip_frames(5).unwrap(), 1);
        assert_eq!(read(&mut r), None);
        let ten = RawFormat { pix_fmt: PixelFormat::new(Chroma::C422, 10), rate: Rate::new(50, 1), ..raw };
        assert_eq!(
            ten.ffmpeg_input_args().join(" "),
            "-f rawvideo -pix_fmt yuv422p10le -video_size 4x2 -framerate 50"
        );
    }
}
