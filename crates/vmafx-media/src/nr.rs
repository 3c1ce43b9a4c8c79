//! No-reference measures of a frame: statistics of the distorted's luma alone, the inputs of
//! an `nr` quality model (docs/models.md), which estimates VMAF with no reference at hand.
//!
//! Each measure is a plain sum over rows of the full-size luma — no resampling, so blocking
//! and lost detail are seen where the encoder left them — taken on every eighth row pair,
//! alternately on an 8×8 block boundary (rows 16k+7 / 16k+8) and inside a block (rows
//! 16k+11 / 16k+12). Values are in 8-bit units whatever the bit depth, so a model trained on
//! 8-bit video reads 10-bit video the same way. The arithmetic is integer until the final
//! division: the same frame gives the same measures on every machine.

use crate::format::VideoFormat;

/// The measures' names, in the order [`NrMeter::measure`] returns them: what an `nr`
/// model's `features` list names.
pub const FEATURES: [&str; 11] = [
    "nr_mean",
    "nr_std",
    "nr_grad_h",
    "nr_grad_v",
    "nr_lap",
    "nr_grad_coarse",
    "nr_block_h",
    "nr_block_v",
    "nr_flat",
    "nr_temporal",
    "nr_pixels_log2",
];

/// One line of each measure, for `--help` and the docs.
pub const DESCRIPTIONS: [&str; 11] = [
    "mean luma, 0 to 1",
    "log2(1 + standard deviation of luma)",
    "log2(1 + mean absolute difference of horizontally adjacent samples): fine detail",
    "log2(1 + mean absolute difference of vertically adjacent samples)",
    "log2(1 + mean absolute second difference along a row): the finest detail, which blur removes",
    "log2(1 + mean absolute difference of adjacent 4-sample means): coarse detail",
    "(E - I) / (E + I + 1), E and I the mean horizontal differences across 8-sample block edges and inside blocks: blocking, -1 to 1",
    "the same across 8-row block edges",
    "share of 8-sample runs whose range is at most 2 (flat, smeared areas), 0 to 1",
    "log2(1 + mean absolute difference from the previous frame's luma), 0 on the first frame",
    "log2 of the frame's pixel count",
];

/// The measure of a whole video, the same on each of its frames: how many bits the encoder
/// spent, which with the frame measures' detail says how hard it squeezed.
pub const CLIP_FEATURE: &str = "nr_bits_per_pixel";
pub const CLIP_DESCRIPTION: &str =
    "log2(bits per pixel + 1/1024): the compressed stream's size over its frames' pixels (uncompressed input: the \
     sample size itself)";

/// [`CLIP_FEATURE`]'s value: `bytes` of video over `frames` frames of `width × height`.
pub fn bits_per_pixel(bytes: u64, frames: u64, width: u32, height: u32) -> f64 {
    let pixels = frames as f64 * f64::from(width) * f64::from(height);
    let bpp = if pixels > 0.0 { bytes as f64 * 8.0 / pixels } else { 0.0 };
    (bpp + 1.0 / 1024.0).log2()
}

/// Rows measured out of every 16: one pair across a block edge, one inside a block.
const EDGE_ROW: usize = 7;
/// The horizontal block edge in every 8 samples: between x = 8k+7 and 8k+8.
const EDGE_COLUMN: usize = 7;
const INNER_ROW: usize = 11;

/// Measures frames of one format in turn (the temporal measure needs the frame before).
pub struct NrMeter {
    width: usize,
    /// Rows measured, each with the row below it.
    rows: Vec<usize>,
    wide: bool,
    /// 2^(bit depth - 8): what divides a sum to give 8-bit units.
    scale: f64,
    /// The measured rows of the last frame, as samples.
    prev: Vec<u16>,
    cur: Vec<u16>,
    below: Vec<u16>,
    have_prev: bool,
    pixels_log2: f64,
}

#[derive(Default)]
struct Sums {
    n: u64,
    sum: u64,
    sq: u64,
    h_edge: (u64, u64),
    h_inner: (u64, u64),
    v_edge: (u64, u64),
    v_inner: (u64, u64),
    lap: (u64, u64),
    coarse: (u64, u64),
    flat: (u64, u64),
    temporal: (u64, u64),
}

impl NrMeter {
    pub fn new(format: VideoFormat) -> Self {
        let (w, h) = (format.width as usize, format.height as usize);
        let mut rows: Vec<usize> =
            (0..h.saturating_sub(1)).filter(|y| matches!(y % 16, EDGE_ROW | INNER_ROW)).collect();
        if rows.is_empty() {
            // A frame under 9 rows: every row pair there is.
            rows = (0..h.saturating_sub(1)).collect();
        }
        let bits = format.pix_fmt.bit_depth;
        Self {
            width: w,
            prev: vec![0; rows.len() * w],
            cur: vec![0; rows.len() * w],
            below: vec![0; w],
            rows,
            wide: format.pix_fmt.bytes_per_sample() == 2,
            scale: f64::from(1u32 << (bits.max(8) - 8)),
            have_prev: false,
            pixels_log2: ((w * h).max(1) as f64).log2(),
        }
    }

    /// The measures of the next frame, from its luma plane: `height` rows of `width`
    /// samples, tightly packed (little-endian 16-bit samples above 8 bits).
    pub fn measure(&mut self, luma: &[u8]) -> [f64; FEATURES.len()] {
        let w = self.width;
        let mut s = Sums::default();
        let flat_range = (2.0 * self.scale) as u32;
        for (i, &y) in self.rows.iter().enumerate() {
            let (cur, prev) = (&mut self.cur[i * w..(i + 1) * w], &self.prev[i * w..(i + 1) * w]);
            load_row(luma, self.wide, w, y, cur);
            load_row(luma, self.wide, w, y + 1, &mut self.below);
            let row: &[u16] = cur;
            let (next, after) = (row.get(1..).unwrap_or(&[]), row.get(2..).unwrap_or(&[]));
            // Plain sums over slices, which the compiler vectorises: integer arithmetic, so
            // the order of the additions does not change a value.
            s.sum += row.iter().map(|&v| u64::from(v)).sum::<u64>();
            s.sq += row.iter().map(|&v| u64::from(u32::from(v) * u32::from(v))).sum::<u64>();
            s.n += w as u64;
            // Horizontal differences, split at 8-sample block edges (between x = 8k+7 and 8k+8).
            let pairs = w.saturating_sub(1);
            let h: u64 = row.iter().zip(next).map(|(a, b)| u64::from(a.abs_diff(*b))).sum();
            let edges = (EDGE_COLUMN..pairs).step_by(8);
            let (h_edge, n_edge) =
                (edges.clone().map(|x| u64::from(row[x].abs_diff(row[x + 1]))).sum::<u64>(), edges.len());
            s.h_edge.0 += h_edge;
            s.h_edge.1 += n_edge as u64;
            s.h_inner.0 += h - h_edge;
            s.h_inner.1 += (pairs - n_edge) as u64;
            let v: u64 = row.iter().zip(&self.below).map(|(a, b)| u64::from(a.abs_diff(*b))).sum();
            let slot = if y % 8 == 7 { &mut s.v_edge } else { &mut s.v_inner };
            slot.0 += v;
            slot.1 += w as u64;
            s.lap.0 += row
                .iter()
                .zip(next)
                .zip(after)
                .map(|((&a, &b), &c)| {
                    u64::from((2 * i32::from(b) - i32::from(a) - i32::from(c)).unsigned_abs())
                })
                .sum::<u64>();
            s.lap.1 += w.saturating_sub(2) as u64;
            let mut quads = row.chunks_exact(4).map(|q| q.iter().map(|&v| u32::from(v)).sum::<u32>());
            if let Some(mut last) = quads.next() {
                for q in quads {
                    s.coarse.0 += u64::from(q.abs_diff(last));
                    s.coarse.1 += 4;
                    last = q;
                }
            }
            for run in row.chunks_exact(8) {
                let (lo, hi) = run.iter().fold((u16::MAX, 0), |(lo, hi), &v| (lo.min(v), hi.max(v)));
                s.flat.0 += u64::from(u32::from(hi - lo) <= flat_range);
                s.flat.1 += 1;
            }
            if self.have_prev {
                s.temporal.0 += row.iter().zip(prev).map(|(a, b)| u64::from(a.abs_diff(*b))).sum::<u64>();
            }
            s.temporal.1 += w as u64;
        }
        std::mem::swap(&mut self.prev, &mut self.cur);
        let first = !self.have_prev;
        self.have_prev = true;
        let k = self.scale;
        let mean = |(sum, n): (u64, u64)| if n == 0 { 0.0 } else { sum as f64 / n as f64 / k };
        let n = s.n.max(1) as f64;
        let avg = s.sum as f64 / n;
        let var = (s.sq as f64 / n - avg * avg).max(0.0);
        // Every measure bounded or logarithmic: content unlike the training clips moves a
        // model's inputs a little, not by orders of magnitude.
        let log = |v: f64| (1.0 + v).log2();
        // Edges against insides: 0 where nothing differs, towards 1 where only edges do.
        let contrast = |edge, inner| {
            let (e, i) = (mean(edge), mean(inner));
            (e - i) / (e + i + 1.0)
        };
        let h_all = (s.h_edge.0 + s.h_inner.0, s.h_edge.1 + s.h_inner.1);
        let v_all = (s.v_edge.0 + s.v_inner.0, s.v_edge.1 + s.v_inner.1);
        [
            avg / k / 255.0,
            log(var.sqrt() / k),
            log(mean(h_all)),
            log(mean(v_all)),
            log(mean(s.lap)),
            log(mean(s.coarse)),
            contrast(s.h_edge, s.h_inner),
            if s.v_edge.1 == 0 || s.v_inner.1 == 0 { 0.0 } else { contrast(s.v_edge, s.v_inner) },
            if s.flat.1 == 0 { 0.0 } else { s.flat.0 as f64 / s.flat.1 as f64 },
            if first { 0.0 } else { log(mean(s.temporal)) },
            self.pixels_log2,
        ]
    }
}

/// Row `y` of a packed luma plane `w` samples wide, as samples.
fn load_row(luma: &[u8], wide: bool, w: usize, y: usize, out: &mut [u16]) {
    if wide {
        let bytes = &luma[y * w * 2..(y + 1) * w * 2];
        for (o, b) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            *o = u16::from_le_bytes([b[0], b[1]]);
        }
    } else {
        for (o, &b) in out.iter_mut().zip(&luma[y * w..(y + 1) * w]) {
            *o = u16::from(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{Chroma, PixelFormat};

    fn format(w: u32, h: u32, bits: u8) -> VideoFormat {
        VideoFormat { width: w, height: h, pix_fmt: PixelFormat { chroma: Chroma::C420, bit_depth: bits } }
    }

    fn get(m: &[f64; 11], name: &str) -> f64 {
        m[FEATURES.iter().position(|f| *f == name).unwrap()]
    }

    fn frame(w: usize, h: usize, f: impl Fn(usize, usize) -> u8) -> Vec<u8> {
        (0..h).flat_map(|y| (0..w).map(move |x| (y, x))).map(|(y, x)| f(y, x)).collect()
    }

    #[test]
    fn a_flat_frame_has_no_detail_and_no_blocking() {
        let mut m = NrMeter::new(format(64, 48, 8));
        let v = m.measure(&frame(64, 48, |_, _| 100));
        assert_eq!(get(&v, "nr_mean"), 100.0 / 255.0);
        for name in ["nr_std", "nr_grad_h", "nr_grad_v", "nr_lap", "nr_grad_coarse", "nr_temporal"] {
            assert_eq!(get(&v, name), 0.0, "{name}");
        }
        assert_eq!(get(&v, "nr_block_h"), 0.0);
        assert_eq!(get(&v, "nr_block_v"), 0.0);
        assert_eq!(get(&v, "nr_flat"), 1.0);
        assert_eq!(get(&v, "nr_pixels_log2"), (64.0f64 * 48.0).log2());
    }

    #[test]
    fn blocks_raise_the_blocking_measures_and_motion_the_temporal_one() {
        let mut m = NrMeter::new(format(64, 48, 8));
        // 8x8 blocks of different levels: differences only across block edges.
        let blocky = frame(64, 48, |y, x| ((x / 8 * 37 + y / 8 * 53) % 200) as u8);
        let v = m.measure(&blocky);
        assert!(get(&v, "nr_block_h") > 0.9, "{v:?}");
        assert!(get(&v, "nr_block_v") > 0.9, "{v:?}");
        // A smooth ramp: differences everywhere, nothing special at the edges.
        let mut m = NrMeter::new(format(64, 48, 8));
        let ramp = frame(64, 48, |y, x| (x * 3 + y) as u8);
        let v = m.measure(&ramp);
        assert!(get(&v, "nr_block_h").abs() < 1e-9, "{v:?}");
        assert_eq!(get(&v, "nr_grad_h"), 2.0);
        assert_eq!(get(&v, "nr_lap"), 0.0);
        assert_eq!(get(&v, "nr_temporal"), 0.0);
        let shifted = frame(64, 48, |y, x| (x * 3 + y + 5) as u8);
        assert_eq!(get(&m.measure(&shifted), "nr_temporal"), 6f64.log2());
    }

    #[test]
    fn ten_bit_frames_read_in_eight_bit_units() {
        let eight = frame(40, 20, |y, x| ((x * 7 + y * 3) % 250) as u8);
        let ten: Vec<u8> = eight.iter().flat_map(|&v| (u16::from(v) * 4).to_le_bytes()).collect();
        let a = NrMeter::new(format(40, 20, 8)).measure(&eight);
        let b = NrMeter::new(format(40, 20, 10)).measure(&ten);
        for (i, name) in FEATURES.iter().enumerate() {
            assert!((a[i] - b[i]).abs() < 1e-9, "{name}: {} vs {}", a[i], b[i]);
        }
    }

    #[test]
    fn bits_per_pixel_is_logarithmic_and_defined_for_nothing() {
        assert!(
            (bits_per_pixel(64 * 48 * 12 / 8, 1, 64, 48) - (12.0f64 + 1.0 / 1024.0).log2()).abs() < 1e-12
        );
        assert_eq!(bits_per_pixel(0, 0, 64, 48), -10.0);
    }

    #[test]
    fn tiny_frames_are_measured_without_panicking() {
        for (w, h) in [(1, 1), (2, 2), (7, 5), (9, 9), (3, 17)] {
            let mut m = NrMeter::new(format(w, h, 8));
            let f = frame(w as usize, h as usize, |y, x| (x + y) as u8);
            let v = m.measure(&f);
            let v2 = m.measure(&f);
            assert!(v.iter().chain(&v2).all(|x| x.is_finite()), "{w}x{h}: {v:?}");
        }
    }
}
