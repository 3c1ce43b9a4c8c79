//! The part of each frame an `fr` quality model's inputs are measured on ([`Shrink`]): the
//! centre `1/crop` of each dimension, then made smaller by a whole factor, each output sample
//! the rounded mean of the `factor × factor` block of input samples it covers (a box filter;
//! blocks at a right or bottom edge that the size does not fill average what they have).
//!
//! This is how an `fr` quality model's inputs are made (docs/models.md): libvmaf features on
//! a quarter of each frame, far cheaper than full VMAF. A centre crop keeps what VMAF sees
//! (full-size detail, the same filters at the same scale); a downscale averages artefacts
//! away. The arithmetic is plain integer code, so the same frames give the same small frames
//! on every machine.

use crate::error::MediaError;
use crate::format::VideoFormat;
use crate::reader::{FrameBuffer, FrameReader, PlaneMut};

/// The largest factor taken each way, by the crop and by the box filter (a 16K frame becomes 1K).
pub const MAX_FACTOR: u32 = 16;

/// What a model's inputs are measured on: the centre `1/crop` of a frame's width and height,
/// box-averaged `factor` times smaller. `Shrink::NONE` is the frame as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shrink {
    pub crop: u32,
    pub factor: u32,
}

impl Default for Shrink {
    fn default() -> Self {
        Self::NONE
    }
}

impl Shrink {
    pub const NONE: Shrink = Shrink { crop: 1, factor: 1 };

    /// A shrink with both values checked (1 to [`MAX_FACTOR`]).
    pub fn new(crop: u32, factor: u32) -> Result<Self, String> {
        for (name, v) in [("crop", crop), ("downscale", factor)] {
            if !(1..=MAX_FACTOR).contains(&v) {
                return Err(format!("{name} {v}: give 1 to {MAX_FACTOR}"));
            }
        }
        Ok(Self { crop, factor })
    }

    pub fn is_none(&self) -> bool {
        *self == Self::NONE
    }

    /// The luma window kept by the crop: `(x, y, width, height)`, even-aligned so that every
    /// chroma layout crops at whole samples (the whole frame when `crop` is 1).
    pub fn window(&self, width: u32, height: u32) -> (u32, u32, u32, u32) {
        let side = |full: u32| -> (u32, u32) {
            if self.crop <= 1 {
                return (0, full);
            }
            let kept = ((full / self.crop) & !1).max(2).min(full);
            (((full - kept) / 2) & !1, kept)
        };
        let ((x, w), (y, h)) = (side(width), side(height));
        (x, y, w, h)
    }

    /// The size of `format`'s frames after this shrink (the box filter rounds up, so no edge
    /// sample is lost).
    pub fn format(&self, format: VideoFormat) -> VideoFormat {
        let (_, _, w, h) = self.window(format.width, format.height);
        VideoFormat { width: w.div_ceil(self.factor), height: h.div_ceil(self.factor), ..format }
    }

    /// Shrinks one decoded frame of `format` (planes packed, `wide`: 16-bit little-endian
    /// samples) into `dst`, which has [`Shrink::format`]'s size.
    pub fn apply(&self, format: VideoFormat, src: [Plane<'_>; 3], dst: &mut [PlaneMut<'_>; 3]) {
        let wide = format.pix_fmt.bytes_per_sample() == 2;
        let bps = if wide { 2 } else { 1 };
        let (x, y, w, h) = self.window(format.width, format.height);
        let offsets = format.pix_fmt.plane_dims(x, y);
        let sizes = format.pix_fmt.plane_dims(w, h);
        for (((p, (ox, oy)), (pw, ph)), out) in src.into_iter().zip(offsets).zip(sizes).zip(dst.iter_mut()) {
            // A plane may hold fewer samples than the format's (libvmaf rounds odd chroma
            // sizes down): the window stops at its edge.
            let (pw, ph) = (pw.min(p.width.saturating_sub(ox)), ph.min(p.height.saturating_sub(oy)));
            let start = oy * p.stride + ox * bps;
            let view = Plane { data: &p.data[start..], stride: p.stride, width: pw, height: ph };
            box_mean(view, wide, self.factor as usize, out);
        }
    }

    /// How a decoder's name reads after this shrink.
    pub fn describe(&self) -> String {
        match (self.crop, self.factor) {
            (1, 1) => String::new(),
            (1, f) => format!("downscaled 1/{f} (box filter)"),
            (c, 1) => format!("centre 1/{c} crop"),
            (c, f) => format!("centre 1/{c} crop, downscaled 1/{f} (box filter)"),
        }
    }
}

/// A reader whose frames are another reader's shrunk ([`Shrink`]).
pub struct Downscaled {
    inner: Box<dyn FrameReader>,
    shrink: Shrink,
    full: FrameBuffer,
    format: VideoFormat,
}

impl Downscaled {
    pub fn new(inner: Box<dyn FrameReader>, shrink: Shrink) -> Self {
        let shrink = Shrink::new(shrink.crop, shrink.factor).expect("shrink within 1..=MAX_FACTOR");
        let full = FrameBuffer::new(inner.format());
        let format = shrink.format(inner.format());
        Self { inner, shrink, full, format }
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
        let bps = fmt.pix_fmt.bytes_per_sample();
        let dims = fmt.pix_fmt.plane_dims(fmt.width, fmt.height);
        let p = self.full.planes();
        let plane =
            |i: usize| Plane { data: &p[i], stride: dims[i].0 * bps, width: dims[i].0, height: dims[i].1 };
        self.shrink.apply(fmt, [plane(0), plane(1), plane(2)], planes);
        Ok(true)
    }

    fn frames_read(&self) -> u64 {
        self.inner.frames_read()
    }

    fn decoder(&self) -> String {
        format!("{}, {}", self.inner.decoder(), self.shrink.describe())
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
/// by column, then each run of `f` column sums. `f` = 1 copies.
pub fn box_mean(src: Plane<'_>, wide: bool, f: usize, dst: &mut PlaneMut<'_>) {
    let (w, h) = (src.width, src.height);
    let bps = if wide { 2 } else { 1 };
    let (ow, oh) = (w.div_ceil(f), h.div_ceil(f));
    if f == 1 {
        // A crop alone: rows copied as they are.
        let bytes = w.min(dst.row_bytes / bps) * bps;
        for y in 0..h.min(dst.rows) {
            dst.data[y * dst.stride..y * dst.stride + bytes]
                .copy_from_slice(&src.data[y * src.stride..y * src.stride + bytes]);
        }
        return;
    }
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
        let mut r =
            Downscaled::new(Box::new(Frames { format, frames, read: 0 }), Shrink { crop: 1, factor: 2 });
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
    fn a_centre_crop_keeps_the_middle_at_full_size_even_aligned() {
        assert_eq!(Shrink::NONE.window(101, 67), (0, 0, 101, 67));
        assert_eq!(Shrink { crop: 2, factor: 1 }.window(1920, 1080), (480, 270, 960, 540));
        assert_eq!(Shrink { crop: 2, factor: 1 }.window(101, 67), (24, 16, 50, 32));
        // Never below 2 samples, never beyond the frame.
        assert_eq!(Shrink { crop: 16, factor: 1 }.window(20, 3), (8, 0, 2, 2));
        assert!(Shrink::new(0, 1).unwrap_err().contains("crop 0"));
        assert!(Shrink::new(2, 17).unwrap_err().contains("downscale 17"));

        // 8x8 4:2:0, luma 0..64 row by row: the centre 4x4 at (2, 2), chroma 2x2 at (1, 1).
        let format = VideoFormat { width: 8, height: 8, pix_fmt: PixelFormat::YUV420P };
        let luma: Vec<u8> = (0..64).collect();
        let chroma: Vec<u8> = (100..116).collect();
        let frames = vec![[luma, chroma.clone(), chroma]];
        let mut r =
            Downscaled::new(Box::new(Frames { format, frames, read: 0 }), Shrink { crop: 2, factor: 1 });
        assert_eq!(r.format(), VideoFormat { width: 4, height: 4, pix_fmt: PixelFormat::YUV420P });
        let mut out = FrameBuffer::new(r.format());
        assert!(out.read(&mut r).unwrap());
        let want: Vec<u8> = (2..6).flat_map(|y| (2..6).map(move |x| y * 8 + x)).collect();
        assert_eq!(out.planes()[0], want);
        assert_eq!(out.planes()[1], vec![105, 106, 109, 110]);
        assert_eq!(r.decoder(), "memory, centre 1/2 crop");
    }

    #[test]
    fn ten_bit_samples_average_as_16_bit_values() {
        let format =
            VideoFormat { width: 2, height: 2, pix_fmt: PixelFormat::new(crate::format::Chroma::C444, 10) };
        let le = |v: &[u16]| v.iter().flat_map(|s| s.to_le_bytes()).collect::<Vec<u8>>();
        let frames = vec![[le(&[1023, 1022, 1, 0]), le(&[512; 4]), le(&[64, 64, 64, 65])]];
        let mut r =
            Downscaled::new(Box::new(Frames { format, frames, read: 0 }), Shrink { crop: 1, factor: 2 });
        let mut out = FrameBuffer::new(r.format());
        assert!(out.read(&mut r).unwrap());
        assert_eq!(out.planes()[0], le(&[512])); // 2046 / 4 = 511.5 → 512
        assert_eq!(out.planes()[1], le(&[512]));
        assert_eq!(out.planes()[2], le(&[64])); // 257 / 4 = 64.25 → 64
    }
}
