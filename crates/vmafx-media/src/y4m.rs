//! Native YUV4MPEG2 (Y4M) reader: no ffmpeg needed for the format most references come in.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::error::MediaError;
use crate::format::{Chroma, PixelFormat, Range, VideoFormat};
use crate::location::ReadSeek;
use crate::reader::{read_counted, Filled, FrameReader, PlaneMut};

/// Magic bytes at the start of every Y4M stream.
pub const MAGIC: &[u8] = b"YUV4MPEG2 ";

/// Parsed Y4M stream header.
#[derive(Debug, Clone, PartialEq)]
pub struct Y4mHeader {
    pub format: VideoFormat,
    /// Frame rate as a fraction, if the header has one.
    pub rate: Option<(u32, u32)>,
    /// `XCOLORRANGE=FULL|LIMITED`, as ffmpeg writes it.
    pub range: Option<Range>,
    /// Interlacing (`I` tag): `p` progressive, `t`/`b` top/bottom field first, `m` mixed.
    pub interlace: Option<char>,
    /// Sample aspect ratio (`A` tag), when stated and not `0:0`.
    pub sar: Option<(u32, u32)>,
    /// Bytes of the header line, newline included.
    pub len: usize,
}

impl Y4mHeader {
    /// Parses the header line (without or with its trailing newline). Any bytes give an
    /// answer, never a panic: a header that is not ASCII, lacks a size, or states one
    /// [`VideoFormat::check_size`] refuses is refused with the reason.
    pub fn parse(line: &[u8]) -> Result<Self, String> {
        if !line.is_ascii() {
            return Err("header is not ASCII".into());
        }
        let text = std::str::from_utf8(line).map_err(|_| "header is not ASCII".to_string())?;
        let body =
            text.trim_end_matches('\n').strip_prefix("YUV4MPEG2").ok_or("missing YUV4MPEG2 signature")?;
        let (mut width, mut height, mut rate, mut colorspace) = (None, None, None, "420jpeg");
        let (mut range, mut interlace, mut sar) = (None, None, None);
        let fraction = |val: &str| -> Option<(u32, u32)> {
            val.split_once(':').and_then(|(n, d)| Some((n.parse().ok()?, d.parse().ok()?)))
        };
        for tok in body.split_ascii_whitespace() {
            let (tag, val) = tok.split_at(1);
            match tag {
                "W" => width = val.parse::<u32>().ok(),
                "H" => height = val.parse::<u32>().ok(),
                "F" => rate = fraction(val),
                "C" => colorspace = val,
                "I" => interlace = val.chars().next(),
                "A" => sar = fraction(val).filter(|&(n, d)| n > 0 && d > 0),
                "X" => match val {
                    "COLORRANGE=FULL" => range = Some(Range::Full),
                    "COLORRANGE=LIMITED" => range = Some(Range::Limited),
                    _ => {}
                },
                _ => {}
            }
        }
        let width = width.filter(|w| *w > 0).ok_or("missing or invalid width (W)")?;
        let height = height.filter(|h| *h > 0).ok_or("missing or invalid height (H)")?;
        let pix_fmt =
            parse_colorspace(colorspace).ok_or_else(|| format!("unsupported colorspace `C{colorspace}`"))?;
        let format = VideoFormat { width, height, pix_fmt };
        format.check_size()?;
        Ok(Self { format, rate, range, interlace, sar, len: line.len() })
    }
}

fn parse_colorspace(c: &str) -> Option<PixelFormat> {
    let chroma = match c.get(..3)? {
        "420" => Chroma::C420,
        "422" => Chroma::C422,
        "444" => Chroma::C444,
        _ => return None,
    };
    let rest = &c[3..];
    let bit_depth = match rest {
        "" | "jpeg" | "paldv" | "mpeg2" => 8,
        _ => rest.strip_prefix('p')?.parse().ok()?,
    };
    (8..=16).contains(&bit_depth).then_some(PixelFormat::new(chroma, bit_depth))
}

/// Reads the header of the Y4M file (or URL) at `path`.
pub fn read_header(path: &Path) -> Result<Y4mHeader, MediaError> {
    let (file, _) = crate::location::open(path).map_err(|e| crate::probe::open_error(path, e))?;
    header_from(path, &mut BufReader::new(file))
}

/// Reads a header line from the start of `input`, leaving it at the first frame.
pub(crate) fn header_from(path: &Path, input: &mut impl BufRead) -> Result<Y4mHeader, MediaError> {
    let mut line = Vec::new();
    input
        .take(4096)
        .read_until(b'\n', &mut line)
        .map_err(|source| MediaError::Unreadable { input: path.into(), source })?;
    if !line.ends_with(b"\n") {
        return Err(MediaError::BadY4m {
            input: path.into(),
            reason: "header line is not terminated".into(),
        });
    }
    Y4mHeader::parse(&line).map_err(|reason| MediaError::BadY4m { input: path.into(), reason })
}

/// Streams frames out of a Y4M file.
pub struct Y4mReader {
    path: PathBuf,
    inner: BufReader<Box<dyn ReadSeek>>,
    header: Y4mHeader,
    frames: u64,
    line: Vec<u8>,
}

impl Y4mReader {
    pub fn open(path: &Path) -> Result<Self, MediaError> {
        let (file, _) = crate::location::open(path).map_err(|e| crate::probe::open_error(path, e))?;
        // Large enough to hold several rows of 4K 16-bit video, small enough not to matter.
        let mut inner = BufReader::with_capacity(1 << 20, file);
        let header = header_from(path, &mut inner)?;
        Ok(Self { path: path.into(), inner, header, frames: 0, line: Vec::new() })
    }

    pub fn header(&self) -> &Y4mHeader {
        &self.header
    }

    fn io_err(&self, source: std::io::Error) -> MediaError {
        MediaError::Io { input: self.path.clone(), frame: self.frames, source }
    }

    /// Reads a `FRAME` line; `Ok(false)` at a clean end of file.
    fn frame_marker(&mut self) -> Result<bool, MediaError> {
        self.line.clear();
        let n = (&mut self.inner).take(1024).read_until(b'\n', &mut self.line).map_err(|e| self.io_err(e))?;
        if n == 0 {
            return Ok(false);
        }
        if !self.line.starts_with(b"FRAME") {
            return Err(MediaError::BadY4m {
                input: self.path.clone(),
                reason: format!("expected FRAME marker before frame {}", self.frames),
            });
        }
        if !self.line.ends_with(b"\n") {
            return Err(MediaError::Truncated { input: self.path.clone(), frame: self.frames });
        }
        Ok(true)
    }

    /// Frame count from the file's size in bytes, when every frame has a bare `FRAME` marker.
    pub fn frame_count(size: u64, header: &Y4mHeader) -> Option<u64> {
        let per_frame = (header.format.frame_bytes() + b"FRAME\n".len()) as u64;
        let payload = size.checked_sub(header.len as u64)?;
        (payload % per_frame == 0).then_some(payload / per_frame)
    }
}

impl FrameReader for Y4mReader {
    fn decoder(&self) -> String {
        "native Y4M reader".into()
    }

    fn format(&self) -> VideoFormat {
        self.header.format
    }

    fn read_frame(&mut self, planes: &mut [PlaneMut<'_>; 3]) -> Result<bool, MediaError> {
        if !self.frame_marker()? {
            return Ok(false);
        }
        match read_counted(&mut self.inner, self.header.format, planes, &self.path, &mut self.frames)? {
            Filled::Frame => Ok(true),
            Filled::End | Filled::Partial => {
                Err(MediaError::Truncated { input: self.path.clone(), frame: self.frames })
            }
        }
    }

    fn frames_read(&self) -> u64 {
        self.frames
    }

    fn skip_frames(&mut self, n: u64) -> Result<u64, MediaError> {
        let bytes = self.header.format.frame_bytes() as i64;
        for i in 0..n {
            if !self.frame_marker()? {
                return Ok(i);
            }
            // Seeking past the payload is exact for regular files; a short file is caught by
            // the next marker read.
            self.inner.seek_relative(bytes).map_err(|e| self.io_err(e))?;
            self.frames += 1;
        }
        Ok(n)
    }
}

/// Writes an 8-bit 4:2:0 Y4M of `frames` frames of a moving luma gradient, for tests and
/// benchmarks that need a clip without ffmpeg. `noise` > 0 adds deterministic jitter of up to
/// that many levels (a distorted version of the same clip); chroma is flat grey.
pub fn write_pattern(
    path: &Path,
    width: usize,
    height: usize,
    frames: usize,
    noise: u32,
) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(File::create(path)?);
    writeln!(f, "YUV4MPEG2 W{width} H{height} F24:1 Ip A1:1 C420jpeg")?;
    let mut state = 12345u32;
    let mut luma = vec![0u8; width * height];
    let chroma = vec![128u8; 2 * width.div_ceil(2) * height.div_ceil(2)];
    for t in 0..frames {
        for (i, px) in luma.iter_mut().enumerate() {
            let (x, y) = (i % width, i / width);
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let jitter = if noise > 0 { (state >> 16) % noise } else { 0 };
            *px = (((x * 2 + y + t * 3) % 200) as u32 + 20 + jitter).min(255) as u8;
        }
        f.write_all(b"FRAME\n")?;
        f.write_all(&luma)?;
        f.write_all(&chroma)?;
    }
    f.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_header_bytes_panic_and_sizes_are_bounded() {
        // A small xorshift: the same bytes every run.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let pieces: [&[u8]; 12] = [
            b"YUV4MPEG2",
            b" W",
            b" H",
            b" C",
            b"420p10",
            b"444p16",
            b" F",
            b":",
            b"0",
            b"99999999999",
            b"\xc3\xa9",
            b"\n",
        ];
        for _ in 0..200_000 {
            let mut line = Vec::new();
            for _ in 0..(next() % 12) {
                if next() % 4 == 0 {
                    line.push((next() % 256) as u8);
                } else {
                    line.extend_from_slice(pieces[(next() % pieces.len() as u64) as usize]);
                }
            }
            if let Ok(h) = Y4mHeader::parse(&line) {
                assert!(h.format.check_size().is_ok(), "{:?}", String::from_utf8_lossy(&line));
            }
        }
        let huge = Y4mHeader::parse(b"YUV4MPEG2 W16384 H16384 C444p16\n").unwrap_err();
        assert!(huge.contains("more than"), "{huge}");
        assert!(Y4mHeader::parse(b"YUV4MPEG2 W20000 H2 C420jpeg\n").unwrap_err().contains("out of range"));
        assert!(Y4mHeader::parse("YUV4MPEG2 W2 H2 \u{e9}x\n".as_bytes()).unwrap_err().contains("ASCII"));
        assert!(Y4mHeader::parse(b"YUV4MPEG2 W16384 H16384 C420jpeg\n").is_ok(), "16K 4:2:0 fits");
    }
    use std::io::Write;

    #[test]
    fn parses_headers() {
        let h = Y4mHeader::parse(b"YUV4MPEG2 W576 H324 F24:1 Ip A1:1 C420jpeg XYSCSS=420JPEG\n").unwrap();
        assert_eq!(h.format.width, 576);
        assert_eq!(h.format.pix_fmt, PixelFormat::YUV420P);
        assert_eq!(h.rate, Some((24, 1)));
        assert_eq!((h.range, h.interlace, h.sar), (None, Some('p'), Some((1, 1))));
        let h = Y4mHeader::parse(b"YUV4MPEG2 W8 H2 F25:1 It A0:0 C420jpeg XCOLORRANGE=FULL\n").unwrap();
        assert_eq!((h.range, h.interlace, h.sar), (Some(Range::Full), Some('t'), None));
        let h = Y4mHeader::parse(b"YUV4MPEG2 W8 H2 C444p10\n").unwrap();
        assert_eq!(h.format.pix_fmt, PixelFormat::new(Chroma::C444, 10));
        let h = Y4mHeader::parse(b"YUV4MPEG2 W8 H2\n").unwrap();
        assert_eq!(h.format.pix_fmt, PixelFormat::YUV420P);
        assert!(Y4mHeader::parse(b"YUV4MPEG2 W8 H2 Cmono\n").unwrap_err().contains("Cmono"));
        assert!(Y4mHeader::parse(b"YUV4MPEG2 H2\n").unwrap_err().contains("width"));
    }

    fn write_y4m(frames: usize, cut: usize) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        let mut data = b"YUV4MPEG2 W4 H2 F25:1 C420jpeg\n".to_vec();
        for i in 0..frames {
            data.extend_from_slice(b"FRAME\n");
            data.extend(std::iter::repeat_n(i as u8, 8 + 2 + 2));
        }
        data.truncate(data.len() - cut);
        f.write_all(&data).unwrap();
        f
    }

    fn read_all(path: &Path) -> Result<Vec<u8>, MediaError> {
        let mut r = Y4mReader::open(path)?;
        let (mut y, mut u, mut v) = (vec![0; 8], vec![0; 2], vec![0; 2]);
        let mut firsts = Vec::new();
        loop {
            let mut planes = [
                PlaneMut::packed(&mut y, 4, 2),
                PlaneMut::packed(&mut u, 2, 1),
                PlaneMut::packed(&mut v, 2, 1),
            ];
            if !r.read_frame(&mut planes)? {
                return Ok(firsts);
            }
            firsts.push(y[0]);
        }
    }

    #[test]
    fn reads_frames_and_counts_them() {
        let f = write_y4m(3, 0);
        assert_eq!(read_all(f.path()).unwrap(), vec![0, 1, 2]);
        let h = read_header(f.path()).unwrap();
        assert_eq!(Y4mReader::frame_count(f.path().metadata().unwrap().len(), &h), Some(3));
    }

    #[test]
    fn truncated_frame_names_last_good_frame() {
        let f = write_y4m(3, 5);
        let err = read_all(f.path()).unwrap_err();
        assert!(matches!(err, MediaError::Truncated { frame: 2, .. }), "{err}");
        assert!(err.to_string().contains("last good frame: 1"), "{err}");
    }

    #[test]
    fn skips_frames() {
        let f = write_y4m(4, 0);
        let mut r = Y4mReader::open(f.path()).unwrap();
        assert_eq!(r.skip_frames(2).unwrap(), 2);
        assert_eq!(r.frames_read(), 2);
        assert_eq!(r.skip_frames(5).unwrap(), 2);
    }
}
