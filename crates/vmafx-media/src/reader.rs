//! The frame-reader interface and the choice between the native Y4M path and ffmpeg.

use std::io::{self, Read};

use crate::decode::{DecodeOptions, FfmpegReader};
use crate::error::MediaError;
use crate::format::VideoFormat;
use crate::probe::{Container, Probe};
use crate::y4m::Y4mReader;

/// One destination plane: `data` holds `rows` rows of `stride` bytes each.
pub struct PlaneMut<'a> {
    pub data: &'a mut [u8],
    pub stride: usize,
}

/// A source of decoded frames in one fixed [`VideoFormat`].
pub trait FrameReader: Send {
    /// Format of every frame this reader yields.
    fn format(&self) -> VideoFormat;

    /// Reads the next frame into `planes`. `Ok(false)` at the clean end of the stream.
    fn read_frame(&mut self, planes: &mut [PlaneMut<'_>; 3]) -> Result<bool, MediaError>;

    /// Frames read (or skipped) so far.
    fn frames_read(&self) -> u64;

    /// Discards up to `n` frames; returns how many were skipped before the stream ended.
    fn skip_frames(&mut self, n: u64) -> Result<u64, MediaError> {
        let fmt = self.format();
        let dims = fmt.pix_fmt.plane_dims(fmt.width, fmt.height);
        let bps = fmt.pix_fmt.bytes_per_sample();
        let mut bufs: Vec<Vec<u8>> = dims.iter().map(|(w, h)| vec![0; w * h * bps]).collect();
        for i in 0..n {
            let [a, b, c] = &mut bufs[..] else { unreachable!() };
            let mut planes = [
                PlaneMut { data: a, stride: dims[0].0 * bps },
                PlaneMut { data: b, stride: dims[1].0 * bps },
                PlaneMut { data: c, stride: dims[2].0 * bps },
            ];
            if !self.read_frame(&mut planes)? {
                return Ok(i);
            }
        }
        Ok(n)
    }
}

/// Opens `probe`'s input for reading frames in format `out`.
///
/// A Y4M file already in `out` is read natively; anything else goes through ffmpeg, which
/// converts the pixel format and scales to `out`'s size with `opts.scale_filter`.
pub fn open_reader(
    probe: &Probe,
    out: VideoFormat,
    opts: &DecodeOptions,
) -> Result<Box<dyn FrameReader>, MediaError> {
    if probe.container == Container::Y4m && probe.format().ok() == Some(out) {
        return Ok(Box::new(Y4mReader::open(&probe.path)?));
    }
    Ok(Box::new(FfmpegReader::spawn_with_source_size(
        &probe.path,
        out,
        opts,
        Some((probe.width, probe.height)),
    )?))
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

/// Reads one packed planar frame of `fmt` from `r` into `planes`, row by row.
pub(crate) fn read_planes(
    r: &mut impl Read,
    fmt: VideoFormat,
    planes: &mut [PlaneMut<'_>; 3],
) -> io::Result<Filled> {
    let bps = fmt.pix_fmt.bytes_per_sample();
    let mut any = false;
    for (plane, (w, h)) in planes.iter_mut().zip(fmt.pix_fmt.plane_dims(fmt.width, fmt.height)) {
        let row = w * bps;
        // An unpadded plane is read in one call straight into place; a padded one row by row.
        let (chunk, count) = if plane.stride == row { (row * h, 1) } else { (row, h) };
        for i in 0..count {
            let start = i * plane.stride;
            let got = read_full(r, &mut plane.data[start..start + chunk])?;
            if got < chunk {
                return Ok(if any || got > 0 { Filled::Partial } else { Filled::End });
            }
            any = true;
        }
    }
    Ok(Filled::Frame)
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
        let mut planes = [
            PlaneMut { data: &mut y, stride: 2 },
            PlaneMut { data: &mut u, stride: 1 },
            PlaneMut { data: &mut v, stride: 1 },
        ];
        assert_eq!(read_planes(&mut &src[..], fmt, &mut planes).unwrap(), Filled::Frame);
        assert_eq!(read_planes(&mut &src[..5], fmt, &mut planes).unwrap(), Filled::Partial);
        assert_eq!((y, u[0], v[0]), (vec![1, 2, 3, 4], 5, 6));
    }

    #[test]
    fn reads_rows_into_strided_planes() {
        let fmt = VideoFormat { width: 2, height: 2, pix_fmt: PixelFormat::YUV420P };
        let src: Vec<u8> = (1..=6).collect();
        let (mut y, mut u, mut v) = (vec![0u8; 8], vec![0u8; 1], vec![0u8; 1]);
        let mut planes = [
            PlaneMut { data: &mut y, stride: 4 },
            PlaneMut { data: &mut u, stride: 1 },
            PlaneMut { data: &mut v, stride: 1 },
        ];
        assert_eq!(read_planes(&mut &src[..], fmt, &mut planes).unwrap(), Filled::Frame);
        assert_eq!(read_planes(&mut &src[..0], fmt, &mut planes).unwrap(), Filled::End);
        assert_eq!(read_planes(&mut &src[..3], fmt, &mut planes).unwrap(), Filled::Partial);
        assert_eq!(y, [1, 2, 0, 0, 3, 4, 0, 0]);
        assert_eq!((u[0], v[0]), (5, 6));
    }
}
