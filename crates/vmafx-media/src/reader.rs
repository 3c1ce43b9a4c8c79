//! The frame-reader interface and the choice between the native Y4M/raw paths and ffmpeg.

use std::io::{self, Read};

use crate::decode::{DecodeOptions, FfmpegReader};
use crate::error::MediaError;
use crate::format::VideoFormat;
use crate::matching::Conversion;
use crate::probe::{Container, Probe};
use crate::raw::RawReader;
use crate::y4m::Y4mReader;

/// One destination plane: `rows` rows of `row_bytes` useful bytes, `stride` bytes apart.
///
/// A destination may be smaller than the stream's plane: libvmaf rounds odd chroma sizes
/// down where ffmpeg and Y4M round them up, and the extra column or row is dropped, as the
/// ffmpeg `libvmaf` filter does.
pub struct PlaneMut<'a> {
    pub data: &'a mut [u8],
    pub stride: usize,
    pub row_bytes: usize,
    pub rows: usize,
}

impl<'a> PlaneMut<'a> {
    /// A tightly packed plane of `rows` rows of `row_bytes` bytes.
    pub fn packed(data: &'a mut [u8], row_bytes: usize, rows: usize) -> Self {
        Self { data, stride: row_bytes, row_bytes, rows }
    }
}

/// Stops a reader from another thread (kills its decoder process), so that a thread blocked
/// in [`FrameReader::read_frame`] on a decoder that never writes returns.
pub type Stopper = Box<dyn Fn() + Send + Sync>;

/// A source of decoded frames in one fixed [`VideoFormat`].
pub trait FrameReader: Send {
    /// Format of every frame this reader yields.
    fn format(&self) -> VideoFormat;

    /// Reads the next frame into `planes`. `Ok(false)` at the clean end of the stream.
    fn read_frame(&mut self, planes: &mut [PlaneMut<'_>; 3]) -> Result<bool, MediaError>;

    /// Frames read (or skipped) so far.
    fn frames_read(&self) -> u64;

    /// What decodes the frames, for the report (`native Y4M reader`, `libavcodec 59.37.100
    /// in-process`, `ffmpeg subprocess (ffmpeg)`).
    fn decoder(&self) -> String;

    /// A way to stop this reader from another thread, when reading can block indefinitely
    /// (a decoder process); `None` for files read directly.
    fn stopper(&self) -> Option<Stopper> {
        None
    }

    /// Discards up to `n` frames; returns how many were skipped before the stream ended.
    fn skip_frames(&mut self, n: u64) -> Result<u64, MediaError> {
        let mut frame = FrameBuffer::new(self.format());
        for i in 0..n {
            if !frame.read(self)? {
                return Ok(i);
            }
        }
        Ok(n)
    }
}

/// One frame of a format in memory, three tightly packed planes, for reading frames that
/// go nowhere else (skipped, or looked at).
pub struct FrameBuffer {
    format: VideoFormat,
    planes: [Vec<u8>; 3],
}

impl FrameBuffer {
    pub fn new(format: VideoFormat) -> Self {
        let bytes = format.pix_fmt.bytes_per_sample();
        let dims = format.pix_fmt.plane_dims(format.width, format.height);
        Self { format, planes: dims.map(|(w, h)| vec![0; w * h * bytes]) }
    }

    /// Reads `reader`'s next frame into this buffer; `false` at the end of the stream.
    pub fn read(&mut self, reader: &mut (impl FrameReader + ?Sized)) -> Result<bool, MediaError> {
        let bytes = self.format.pix_fmt.bytes_per_sample();
        let dims = self.format.pix_fmt.plane_dims(self.format.width, self.format.height);
        let [a, b, c] = &mut self.planes;
        let mut planes = [
            PlaneMut::packed(a, dims[0].0 * bytes, dims[0].1),
            PlaneMut::packed(b, dims[1].0 * bytes, dims[1].1),
            PlaneMut::packed(c, dims[2].0 * bytes, dims[2].1),
        ];
        reader.read_frame(&mut planes)
    }

    /// The luma plane: its bytes, rows `width × bytes per sample` apart.
    pub fn luma(&self) -> &[u8] {
        &self.planes[0]
    }

    pub fn format(&self) -> VideoFormat {
        self.format
    }

    /// The three planes, each tightly packed.
    pub fn planes(&self) -> &[Vec<u8>; 3] {
        &self.planes
    }
}

/// A video arriving on a pipe as it is made (an encoder's output, see
/// [`encode_streaming`](crate::encode::encode_streaming)), described in advance: a pipe
/// cannot be probed ahead of reading it. The decoder takes the pipe once.
#[derive(Clone)]
pub struct StreamedInput {
    /// What the stream will be; the caller checks it against the finished file's probe.
    pub probe: Probe,
    pipe: std::sync::Arc<std::sync::Mutex<Option<std::io::PipeReader>>>,
}

impl StreamedInput {
    pub fn new(probe: Probe, pipe: std::io::PipeReader) -> Self {
        Self { probe, pipe: std::sync::Arc::new(std::sync::Mutex::new(Some(pipe))) }
    }

    /// Opens the stream for frames converted by `conv` (once): decoded in-process where its
    /// frames pass unchanged (as [`open_reader`] decodes a file), else by ffmpeg.
    pub fn open(&self, conv: &Conversion, opts: &DecodeOptions) -> Result<Box<dyn FrameReader>, MediaError> {
        let pipe = self.pipe.lock().unwrap_or_else(|p| p.into_inner()).take().ok_or_else(|| {
            MediaError::Unreadable {
                input: self.probe.path.clone(),
                source: io::Error::other("the stream was already read"),
            }
        })?;
        if conv.is_passthrough(&self.probe) && opts.tools.in_process(&self.probe.path) {
            let r = crate::libav::LibavReader::open_pipe(&self.probe.path, pipe, conv.out, opts.threads)?;
            return Ok(Box::new(r));
        }
        Ok(Box::new(FfmpegReader::spawn_pipe(&self.probe.path, pipe, conv, opts)?))
    }
}

impl std::fmt::Debug for StreamedInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StreamedInput({})", self.probe.path.display())
    }
}

/// Opens `probe`'s input for frames converted by `conv`, to be read from frame `first`:
/// returns the reader and the frame it starts at, `first` where it could start there
/// (seeking, [`crate::seek`]) and 0 otherwise; the caller skips the frames in between.
///
/// A Y4M or raw file whose frames pass unchanged is read natively, a local compressed file
/// read from its start whose frames pass unchanged is decoded in-process
/// ([`crate::libav`], unless [`Decoder::Ffmpeg`](crate::Decoder)); anything else goes
/// through ffmpeg.
pub fn open_reader(
    probe: &Probe,
    conv: &Conversion,
    opts: &DecodeOptions,
    first: u64,
) -> Result<(Box<dyn FrameReader>, u64), MediaError> {
    let raw = match &probe.container {
        Container::Raw(raw) => Some(raw),
        _ => None,
    };
    if conv.is_passthrough(probe) {
        match raw {
            Some(raw) => return Ok((Box::new(RawReader::open(&probe.path, raw)?), 0)),
            None if probe.container == Container::Y4m => {
                return Ok((Box::new(Y4mReader::open(&probe.path)?), 0))
            }
            None if first == 0 && opts.tools.in_process(&probe.path) => {
                if let Some(r) = crate::libav::LibavReader::open(&probe.path, conv.out, opts.threads)? {
                    return Ok((Box::new(r), 0));
                }
            }
            None => {}
        }
    }
    // A frame-rate change makes frame numbers the resampled stream's, not the file's.
    let (seek, from) =
        if conv.fps.is_none() { crate::seek::seek_args(probe, first) } else { (Vec::new(), 0) };
    Ok((Box::new(FfmpegReader::spawn(&probe.path, raw, &seek, conv, opts)?), from))
}

/// What [`read_planes`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Filled {
    /// The whole frame was read.
    Frame,
    /// The stream ended before the first byte of the frame.
    End,
    /// The stream ended inside the frame.
    Partial,
}

/// [`read_planes`] for a reader of `input`: counts a whole frame in `frames`, and names the
/// input and the frame in a read error.
pub(crate) fn read_counted(
    r: &mut impl Read,
    fmt: VideoFormat,
    planes: &mut [PlaneMut<'_>; 3],
    input: &std::path::Path,
    frames: &mut u64,
) -> Result<Filled, MediaError> {
    let filled = read_planes(r, fmt, planes).map_err(|source| MediaError::Io {
        input: input.into(),
        frame: *frames,
        source,
    })?;
    if filled == Filled::Frame {
        *frames += 1;
    }
    Ok(filled)
}

/// Reads one packed planar frame of `fmt` from `r` into `planes`, row by row.
pub(crate) fn read_planes(
    r: &mut impl Read,
    fmt: VideoFormat,
    planes: &mut [PlaneMut<'_>; 3],
) -> io::Result<Filled> {
    let bps = fmt.pix_fmt.bytes_per_sample();
    let mut any = false;
    let short = |got: usize, want: usize, any: bool| {
        (got < want).then_some(if any || got > 0 { Filled::Partial } else { Filled::End })
    };
    for (plane, (w, h)) in planes.iter_mut().zip(fmt.pix_fmt.plane_dims(fmt.width, fmt.height)) {
        let row = w * bps;
        if plane.stride == row && plane.row_bytes == row && plane.rows == h {
            // Same layout on both sides: one read straight into place.
            let got = read_full(r, &mut plane.data[..row * h])?;
            if let Some(f) = short(got, row * h, any) {
                return Ok(f);
            }
            any = true;
            continue;
        }
        let keep = row.min(plane.row_bytes);
        for y in 0..h {
            let got = if y < plane.rows {
                let start = y * plane.stride;
                let got = read_full(r, &mut plane.data[start..start + keep])?;
                if got == keep {
                    got + skip(r, row - keep)?
                } else {
                    got
                }
            } else {
                skip(r, row)?
            };
            if let Some(f) = short(got, row, any) {
                return Ok(f);
            }
            any = true;
        }
    }
    Ok(Filled::Frame)
}

/// Reads and discards `n` bytes; returns how many there were.
fn skip(r: &mut impl Read, n: usize) -> io::Result<usize> {
    if n == 0 {
        return Ok(0);
    }
    Ok(io::copy(&mut r.by_ref().take(n as u64), &mut io::sink())? as usize)
}

/// Like `read_exact`, but returns how many bytes were read when the stream ends early.
fn read_full(r: &mut impl Read, mut buf: &mut [u8]) -> io::Result<usize> {
    let want = buf.len();
    while !buf.is_empty() {
        match r.read(buf) {
            Ok(0) => break,
            Ok(n) => buf = &mut buf[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(want - buf.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::PixelFormat;

    #[test]
    fn reads_unpadded_planes_whole() {
        let fmt = VideoFormat { width: 2, height: 2, pix_fmt: PixelFormat::YUV420P };
        let src: Vec<u8> = (1..=6).collect();
        let (mut y, mut u, mut v) = (vec![0u8; 4], vec![0u8; 1], vec![0u8; 1]);
        let mut planes =
            [PlaneMut::packed(&mut y, 2, 2), PlaneMut::packed(&mut u, 1, 1), PlaneMut::packed(&mut v, 1, 1)];
        assert_eq!(read_planes(&mut &src[..], fmt, &mut planes).unwrap(), Filled::Frame);
        assert_eq!(read_planes(&mut &src[..5], fmt, &mut planes).unwrap(), Filled::Partial);
        assert_eq!((y, u[0], v[0]), (vec![1, 2, 3, 4], 5, 6));
    }

    #[test]
    fn drops_the_odd_chroma_column_and_row_libvmaf_has_no_room_for() {
        // 3x3 4:2:0: the stream's chroma planes are 2x2, libvmaf's are 1x1.
        let fmt = VideoFormat { width: 3, height: 3, pix_fmt: PixelFormat::YUV420P };
        let src: Vec<u8> = (1..=17).collect();
        let (mut y, mut u, mut v) = (vec![0u8; 12], vec![0u8; 1], vec![0u8; 1]);
        let mut planes = [
            PlaneMut { data: &mut y, stride: 4, row_bytes: 3, rows: 3 },
            PlaneMut::packed(&mut u, 1, 1),
            PlaneMut::packed(&mut v, 1, 1),
        ];
        assert_eq!(read_planes(&mut &src[..], fmt, &mut planes).unwrap(), Filled::Frame);
        assert_eq!(y, [1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0]);
        assert_eq!((u[0], v[0]), (10, 14));
    }

    #[test]
    fn reads_rows_into_strided_planes() {
        let fmt = VideoFormat { width: 2, height: 2, pix_fmt: PixelFormat::YUV420P };
        let src: Vec<u8> = (1..=6).collect();
        let (mut y, mut u, mut v) = (vec![0u8; 8], vec![0u8; 1], vec![0u8; 1]);
        let mut planes = [
            PlaneMut { data: &mut y, stride: 4, row_bytes: 2, rows: 2 },
            PlaneMut::packed(&mut u, 1, 1),
            PlaneMut::packed(&mut v, 1, 1),
        ];
        assert_eq!(read_planes(&mut &src[..], fmt, &mut planes).unwrap(), Filled::Frame);
        assert_eq!(read_planes(&mut &src[..0], fmt, &mut planes).unwrap(), Filled::End);
        assert_eq!(read_planes(&mut &src[..3], fmt, &mut planes).unwrap(), Filled::Partial);
        assert_eq!(y, [1, 2, 0, 0, 3, 4, 0, 0]);
        assert_eq!((u[0], v[0]), (5, 6));
    }
}
