//! Frame alignment: does distorted frame `i` show reference frame `i`, or is one of the two
//! ahead (frames dropped or added at the start, a different start time)? The most common
//! reason a VMAF score is wrong.
//!
//! Each frame is reduced to a [`Signature`]: the mean luma of a 16×16 grid of blocks, in
//! 8-bit units, from the frames as libvmaf gets them (after any scaling or conversion, so the
//! two inputs are comparable). [`find_offset`] then compares the two sequences at every
//! offset in range and accepts the best one only when it is clearly the best and the frames
//! really match there; otherwise it says it found nothing rather than guessing.

/// What to do about alignment (`--sync`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SyncMode {
    /// Look at the first frames as they are scored and warn, suggesting the offset, when the
    /// pair looks misaligned (nearly free: no extra decoding).
    #[default]
    Check,
    /// Find the offset before scoring (reading the first frames of both once more) and score
    /// aligned.
    Auto,
    /// Do not look.
    Off,
}

impl std::str::FromStr for SyncMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "check" => Ok(Self::Check),
            "auto" => Ok(Self::Auto),
            "off" => Ok(Self::Off),
            _ => Err(format!("`{s}`: expected check, auto or off")),
        }
    }
}

impl std::fmt::Display for SyncMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Check => "check",
            Self::Auto => "auto",
            Self::Off => "off",
        })
    }
}

/// How far either way `--sync` looks by default, in seconds.
pub const DEFAULT_SECONDS: f64 = 2.0;

/// Blocks per side of a [`Signature`].
pub const GRID: usize = 16;
/// Sample points per block side at most: a frame costs at most `(GRID * 16)^2` reads.
const SAMPLES_PER_BLOCK: usize = 16;

/// A frame's luma reduced to `GRID × GRID` block means, in 8-bit units.
#[derive(Debug, Clone, PartialEq)]
pub struct Signature(pub [f32; GRID * GRID]);

impl Signature {
    /// The signature of a luma plane: `width × height` samples of `bytes` bytes (1, or 2
    /// little-endian for more than 8 bits) at `bit_depth` bits, rows `stride` bytes apart.
    /// At most 16×16 evenly spaced samples per block are read.
    pub fn of_luma(
        data: &[u8],
        stride: usize,
        width: usize,
        height: usize,
        bytes: usize,
        bit_depth: u8,
    ) -> Self {
        let mut out = [0f32; GRID * GRID];
        let scale = 255.0 / ((1u32 << bit_depth) - 1) as f32;
        for by in 0..GRID {
            let (y0, y1) = (by * height / GRID, ((by + 1) * height / GRID).max(by * height / GRID + 1));
            for bx in 0..GRID {
                let (x0, x1) = (bx * width / GRID, ((bx + 1) * width / GRID).max(bx * width / GRID + 1));
                let step_y = ((y1 - y0) / SAMPLES_PER_BLOCK).max(1);
                let step_x = ((x1 - x0) / SAMPLES_PER_BLOCK).max(1);
                let (mut sum, mut n) = (0u64, 0u64);
                for y in (y0..y1.min(height)).step_by(step_y) {
                    let row = &data[y * stride..];
                    for x in (x0..x1.min(width)).step_by(step_x) {
                        sum += match bytes {
                            1 => row[x] as u64,
                            _ => u16::from_le_bytes([row[2 * x], row[2 * x + 1]]) as u64,
                        };
                        n += 1;
                    }
                }
                out[by * GRID + bx] = if n == 0 { 0.0 } else { sum as f32 / n as f32 * scale };
            }
        }
        Self(out)
    }

    /// The signature of a frame read into memory.
    pub fn of_frame(frame: &crate::FrameBuffer) -> Self {
        let f = frame.format();
        let bytes = f.pix_fmt.bytes_per_sample();
        let (w, h) = (f.width as usize, f.height as usize);
        Self::of_luma(frame.luma(), w * bytes, w, h, bytes, f.pix_fmt.bit_depth)
    }

    /// Mean absolute difference from `other`, in 8-bit units.
    pub fn distance(&self, other: &Signature) -> f64 {
        self.0.iter().zip(&other.0).map(|(a, b)| (a - b).abs() as f64).sum::<f64>() / (GRID * GRID) as f64
    }
}

/// How far apart two sequences may be and how much of them must overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncRange {
    /// Largest offset looked for, in frames, either way.
    pub max_offset: usize,
    /// Frame pairs compared at each offset (the same number at every offset).
    pub window: usize,
}

impl SyncRange {
    /// `seconds` either way at `fps` (25 when unknown), compared over one second of frames
    /// (at least 12, at most 60).
    pub fn for_rate(fps: Option<f64>, seconds: f64) -> Self {
        let fps = fps.filter(|f| f.is_finite() && *f > 0.0).unwrap_or(25.0);
        Self {
            max_offset: (seconds * fps).round().max(0.0) as usize,
            window: (fps.round() as usize).clamp(12, 60),
        }
    }

    /// Frames of each input this range needs.
    pub fn frames(&self) -> usize {
        self.max_offset + self.window
    }
}

/// Fewest pairs an offset is judged on.
pub const MIN_WINDOW: usize = 8;
/// A match: the frames differ by less than this, in 8-bit units of block means (a chosen
/// threshold: compression changes block means little, a shift of moving content or another
/// video changes them much more).
pub const MATCH_LIMIT: f64 = 2.0;
/// The best offset must be this many times better than any other.
pub const DISTINCT: f64 = 3.0;

/// What comparing the two sequences found.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// Frame `i` of each matches at offset 0.
    Aligned,
    /// The pair matches with one input ahead: skip `skip_reference` frames of the reference
    /// (the distorted lacks them) or `skip_distorted` of the distorted (it has them extra).
    Offset { skip_reference: u64, skip_distorted: u64 },
    /// No offset in range makes the frames match (different videos, or an offset beyond
    /// the range).
    NotFound,
    /// Several offsets match about equally (still or repeating content): nothing to tell.
    Ambiguous,
    /// Too few frames to compare.
    TooShort,
}

/// Mean distance of `window` pairs with the distorted `offset` frames ahead (negative: the
/// reference ahead).
fn cost(reference: &[Signature], distorted: &[Signature], offset: i64, window: usize) -> f64 {
    let (r0, d0) = if offset >= 0 { (0, offset as usize) } else { ((-offset) as usize, 0) };
    (0..window).map(|i| reference[r0 + i].distance(&distorted[d0 + i])).sum::<f64>() / window as f64
}

/// The offset between `reference` and `distorted` (signatures of their first frames) within
/// `range`, when one is clearly right.
pub fn find_offset(reference: &[Signature], distorted: &[Signature], range: SyncRange) -> Finding {
    let shortest = reference.len().min(distorted.len());
    if shortest < MIN_WINDOW + 1 {
        return Finding::TooShort;
    }
    // Shrink the range to what was read: the window first, down to its minimum, then the
    // offsets.
    let window = range.window.min(shortest.saturating_sub(range.max_offset)).max(MIN_WINDOW);
    let max_offset = range.max_offset.min(shortest - window);
    let costs: Vec<(i64, f64)> = (-(max_offset as i64)..=max_offset as i64)
        .map(|k| (k, cost(reference, distorted, k, window)))
        .collect();
    let &(offset, best) =
        costs.iter().min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.abs().cmp(&b.0.abs()))).unwrap();
    if best >= MATCH_LIMIT {
        return Finding::NotFound;
    }
    let runner_up = costs.iter().filter(|(k, _)| *k != offset).map(|c| c.1).fold(f64::INFINITY, f64::min);
    if runner_up < best * DISTINCT || runner_up < MATCH_LIMIT / 4.0 {
        return Finding::Ambiguous;
    }
    match offset {
        0 => Finding::Aligned,
        k if k > 0 => Finding::Offset { skip_reference: 0, skip_distorted: k as u64 },
        k => Finding::Offset { skip_reference: k.unsigned_abs(), skip_distorted: 0 },
    }
}

impl Finding {
    /// What was found, in words, for a note: `None` when the pair is aligned.
    pub fn describe(&self) -> Option<String> {
        match self {
            Finding::Offset { skip_reference, .. } if *skip_reference > 0 => Some(format!(
                "the distorted starts {skip_reference} frame{} into the reference (its first {skip_reference} frame{} are missing)",
                plural(*skip_reference),
                plural(*skip_reference),
            )),
            Finding::Offset { skip_distorted, .. } => Some(format!(
                "the distorted has {skip_distorted} extra frame{} before the reference's first",
                plural(*skip_distorted)
            )),
            Finding::NotFound => Some("no alignment found: the two videos do not match at any offset in range".into()),
            Finding::Ambiguous => Some("no alignment found: the content is too still or repetitive to tell".into()),
            Finding::TooShort => Some("no alignment found: too few frames to compare".into()),
            Finding::Aligned => None,
        }
    }

    /// For a frame-count error: what was found and how to score aligned, when an offset
    /// was found (`None` otherwise).
    pub fn length_hint(&self) -> Option<String> {
        Some(format!("; {}: --sync auto scores it aligned (as {} does)", self.describe()?, self.flags()?))
    }

    /// The flags that score this pair aligned, e.g. `--skip-reference 7`.
    pub fn flags(&self) -> Option<String> {
        match self {
            Finding::Offset { skip_reference, .. } if *skip_reference > 0 => {
                Some(format!("--skip-reference {skip_reference}"))
            }
            Finding::Offset { skip_distorted, .. } => Some(format!("--skip-distorted {skip_distorted}")),
            _ => None,
        }
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A moving pattern: frame `t` of a scene numbered `scene`.
    fn frame(scene: u32, t: u32, noise: u32) -> Vec<u8> {
        let (w, h) = (64usize, 48usize);
        let mut px = vec![0u8; w * h];
        for y in 0..h {
            for x in 0..w {
                let v =
                    ((x as u32 * 7 + t * 5 + scene * 31) % 97 + (y as u32 * 3 + t * (scene + 2)) % 89) % 200;
                // A little "coding noise" that differs between the two inputs.
                px[y * w + x] = (v + 20 + ((x as u32 + y as u32 + noise) % 3)) as u8;
            }
        }
        px
    }

    fn sigs(scene: u32, frames: std::ops::Range<u32>, noise: u32) -> Vec<Signature> {
        frames.map(|t| Signature::of_luma(&frame(scene, t, noise), 64, 64, 48, 1, 8)).collect()
    }

    const RANGE: SyncRange = SyncRange { max_offset: 20, window: 12 };

    #[test]
    fn missing_and_extra_leading_frames_are_found_exactly() {
        let reference = sigs(1, 0..40, 0);
        // The distorted lacks the reference's first 7 frames.
        let late = sigs(1, 7..47, 1);
        let found = find_offset(&reference, &late, RANGE);
        assert!(found == Finding::Offset { skip_reference: 7, skip_distorted: 0 }, "{found:?}");
        assert_eq!(found.flags().unwrap(), "--skip-reference 7");
        // The distorted has 5 frames before the reference's first.
        let mut early = sigs(9, 0..5, 1);
        early.extend(sigs(1, 0..35, 1));
        let found = find_offset(&reference, &early, RANGE);
        assert!(found == Finding::Offset { skip_reference: 0, skip_distorted: 5 }, "{found:?}");
        assert!(found.describe().unwrap().contains("5 extra frames"));
        assert_eq!(find_offset(&reference, &sigs(1, 0..40, 2), RANGE), Finding::Aligned);
    }

    #[test]
    fn unrelated_still_or_short_inputs_give_no_alignment() {
        let found = find_offset(&sigs(1, 0..40, 0), &sigs(2, 0..40, 0), RANGE);
        assert_eq!(found, Finding::NotFound);
        assert!(found.flags().is_none());
        let still: Vec<Signature> =
            (0..40).map(|_| Signature::of_luma(&frame(1, 0, 0), 64, 64, 48, 1, 8)).collect();
        assert_eq!(find_offset(&still, &still, RANGE), Finding::Ambiguous);
        assert_eq!(find_offset(&sigs(1, 0..5, 0), &sigs(1, 0..5, 0), RANGE), Finding::TooShort);
    }

    #[test]
    fn high_bit_depth_is_in_eight_bit_units() {
        let eight = frame(3, 4, 0);
        let ten: Vec<u8> =
            eight.iter().flat_map(|&v| ((v as u32 * 1023 / 255) as u16).to_le_bytes()).collect();
        let a = Signature::of_luma(&eight, 64, 64, 48, 1, 8);
        let b = Signature::of_luma(&ten, 128, 64, 48, 2, 10);
        assert!(a.distance(&b) < 0.5, "{}", a.distance(&b));
    }

    #[test]
    fn a_range_follows_the_rate() {
        assert_eq!(SyncRange::for_rate(Some(24.0), 2.0), SyncRange { max_offset: 48, window: 24 });
        assert_eq!(SyncRange::for_rate(None, 2.0), SyncRange { max_offset: 50, window: 25 });
        assert_eq!(SyncRange::for_rate(Some(120.0), 1.0).window, 60);
    }
}
