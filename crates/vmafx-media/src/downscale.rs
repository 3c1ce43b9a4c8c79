//! Frames made smaller by a whole factor, each output sample the rounded mean of the
//! `factor × factor` block of input samples it covers (a box filter; blocks at a right or
//! bottom edge that the size does not fill average what they have).
//!
//! This is how an `fr` quality model's inputs are made (docs/models.md): libvmaf features on
//! frames a quarter or a sixteenth the size, far cheaper than full VMAF. The arithmetic is
//! plain integer code, so the same frames give the same small frames on every machine.

use crate::error::MediaError;
use crate::format::VideoFormat;
use crate::reader::{FrameBuffer, FrameReader, PlaneMut};

/// The largest factor taken (a 16K frame becomes 1K).
pub const MAX_FACTOR: u32 = 16;

/// The size of `format` made smaller by `factor` (rounded up, so no edge sample is lost).
pub fn downscaled(format: VideoFormat, factor: u32) -> VideoFormat {
    VideoFormat { width: format.width.div_ceil(factor), height: format.height.div_ceil(factor), ..format }
}

/// A reader whose frames are another reader's made `factor` times smaller each way.
pub struct Downscaled {
    inner: Box<dyn FrameReader>,
    factor: usize,
    full: FrameBuffer,
    format: VideoFormat,
}

impl Downscaled {
    pub fn new(inner: Box<dyn FrameReader>, factor: u32) -> Self {
        assert!((1..=MAX_FACTOR).contains(&factor), "downscale factor {factor}");
        let full = FrameBuffer::new(inner.format());
        let format = downscaled(inner.format(), factor);
        Self { inner, factor: factor as usize, full, format }
    }
}

impl FrameReader for Downscaled {
    fn format(&self) -> VideoFormat {
        self.format
    }

    fn read_frame(&mut self, planes: &mut [PlaneMut<'_>; 3]) -> Result<bool, MediaError> {
        if !self.full.read(self.inner.as_mut())? {
            return Ok(false);
        }
        let fmt = self.full.format();
        let wide = fmt.pix_fmt.bytes_per_sample() == 2;
        let from = fmt.pix_fmt.plane_dims(fmt.width, fmt.height);
        for ((src, (w, h)), dst) in self.full.planes().iter().zip(from).zip(planes.iter_mut()) {
            let bps = if wide { 2 } else { 1 };
            box_mean(Plane { data: src, stride: w * bps, width: w, height: h }, wide, self.factor, dst);
        }
        Ok(true)
    }

    fn frames_read(&self) -> u64 {
        self.inner.frames_read()
    }

    fn decoder(&self) -> String {
        format!("{}, downscaled 1/{} (box filter)", self.inner.decoder(), self.factor)
    }

    fn stopper(&self) -> Option<crate::reader::Stopper> {
        self.inner.stopper()
    }

    fn skip_frames(&mut self, n: u64) -> Result<u64, MediaError> {
        self.inner.skip_frames(n)
    }
}

/// A plane to read: `height` rows of `width` samples, `stride` bytes apart.
#[derive(Debug, Clone, Copy)]
pub struct Plane<'a> {
    pub data: &'a [u8],
    pub stride: usize,
    pub width: usize,
    pub height: usize,
}

/// Box-averages `src` (`wide`: 16-bit little-endian samples) into `dst`, which holds
/// `ceil(w / f) × ceil(h / f)` samples per its stride: each band of `f` rows is summed column
/// by column, then each run of `f` column sums. The same arithmetic as [`Downscaled`], for
/// frames already decoded (a model's inputs made beside a full-size run).
pub fn box_mean(src: Plane<'_>, wide: bool, f: usize, dst: &mut PlaneMut<'_>) {
    let (w, h) = (src.width, src.height);
    let bps = if wide { 2 } else { 1 };
    let (ow, oh) = (w.div_ceil(f), h.div_ceil(f));
    let mut columns = vec![0u32; w];
    for oy in 0..oh.min(dst.rows) {
        let rows = oy * f..((oy + 1) * f).min(h);
        let band = rows.len() as u32;
        columns.iter_mut().for_each(|c| *c = 0);
        for y in rows {
            let row = &src.data[y * src.stride..y * src.stride + w * bps];
            if wide {
                for (c, s) in columns.iter_mut().zip(row.chunks_exact(2)) {
                    *c += u32::from(u16::from_le_bytes([s[0], s[1]]));
                }
            } else {
                for (c, &s) in columns.iter_mut().zip(row) {
                    *c += u32::from(s);
                }
            }
        }
        let out = &mut dst.data[oy * dst.stride..];
        for (ox, block) in columns.chunks(f).enumerate().take(ow.min(dst.row_bytes / bps)) {
            let count = band * block.len() as u32;
            let mean = (block.iter().sum::<u32>() + count / 2) / count;
            if wide {
                out[ox * 2..ox * 2 + 2].copy_from_slice(&(mean as u16).to_le_bytes());
            } else {
                out[ox] = mean as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::PixelFormat;

    /// Frames from memory.
    struct Frames {
        format: VideoFormat,
        frames: Vec<[Vec<u8>; 3]>,
        read: u64,
    }

    impl FrameReader for Frames {
        fn format(&self) -> VideoFormat {
            self.format
        }
        fn read_frame(&mut self, planes: &mut [PlaneMut<'_>; 3]) -> Result<bool, MediaError> {
            let Some(frame) = self.frames.get(self.read as usize) else { return Ok(false) };
            for (p, src) in planes.iter_mut().zip(frame) {
                for y in 0..p.rows {
                    p.data[y * p.stride..y * p.stride + p.row_bytes]
                        .copy_from_slice(&src[y * p.row_bytes..(y + 1) * p.row_bytes]);
                }
            }
            self.read += 1;
            Ok(true)
        }
        fn frames_read(&self) -> u64 {
            self.read
        }
        fn decoder(&self) -> String {
            "memory".into()
        }
    }

    #[test]
    fn each_sample_is_the_rounded_mean_of_its_block_edges_included() {
        // 5x3 4:2:0: luma 5x3, chroma 3x2; factor 2 → 3x2 luma, 2x1 chroma.
        let format = VideoFormat { width: 5, height: 3, pix_fmt: PixelFormat::YUV420P };
        let luma: Vec<u8> = vec![0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 255];
        let frames = vec![[luma, vec![1, 2, 3, 4, 5, 6], vec![9; 6]]];
        let mut r = Downscaled::new(Box::new(Frames { format, frames, read: 0 }), 2);
        assert_eq!(r.format(), VideoFormat { width: 3, height: 2, pix_fmt: PixelFormat::YUV420P });
        let mut out = FrameBuffer::new(r.format());
        assert!(out.read(&mut r).unwrap());
        // Blocks: (0,2,10,12)→6, (4,6,14,16)→10, (8,18)→13; (20,22)→21, (24,26)→25, (255)→255.
        assert_eq!(out.planes()[0], vec![6, 10, 13, 21, 25, 255]);
        // Chroma 3x2 → 2x1: (1,2,4,5)→3, (3,6)→4.5 rounds up to 5.
        assert_eq!(out.planes()[1], vec![3, 5]);
        assert_eq!(out.planes()[2], vec![9, 9]);
        assert!(!out.read(&mut r).unwrap());
        assert_eq!(r.decoder(), "memory, downscaled 1/2 (box filter)");
    }

    #[test]
    fn ten_bit_samples_average_as_16_bit_values() {
        let format =
            VideoFormat { width: 2, height: 2, pix_fmt: PixelFormat::new(crate::format::Chroma::C444, 10) };
        let le = |v: &[u16]| v.iter().flat_map(|s| s.to_le_bytes()).collect::<Vec<u8>>();
        let frames = vec![[le(&[1023, 1022, 1, 0]), le(&[512; 4]), le(&[64, 64, 64, 65])]];
        let mut r = Downscaled::new(Box::new(Frames { format, frames, read: 0 }), 2);
        let mut out = FrameBuffer::new(r.format());
        assert!(out.read(&mut r).unwrap());
        assert_eq!(out.planes()[0], le(&[512])); // 2046 / 4 = 511.5 → 512
        assert_eq!(out.planes()[1], le(&[512]));
        assert_eq!(out.planes()[2], le(&[64])); // 257 / 4 = 64.25 → 64
    }
}
