//! Pooling of per-frame values into one number per metric.
//!
//! `min`, `max`, `mean` and `harmonic_mean` follow libvmaf's `vmaf_feature_score_pooled`
//! exactly (same accumulation order, and the harmonic mean of `x + 1` minus one, so that a
//! zero score does not divide by zero). Percentiles interpolate linearly between closest
//! ranks, as numpy's default does.

use serde::{Deserialize, Serialize};

/// Pooled statistics of one metric over the scored frames.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pooled {
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    pub harmonic_mean: f64,
    /// 1st percentile: the score of the worst 1 % of frames.
    pub p1: f64,
    /// 5th percentile.
    pub p5: f64,
    /// Median.
    pub p50: f64,
}

/// Pools `values` the way libvmaf does. Returns `None` for an empty slice.
pub fn pool(values: &[f64]) -> Option<Pooled> {
    let first = *values.first()?;
    let (mut min, mut max, mut sum, mut i_sum) = (first, first, 0.0, 0.0);
    for &s in values {
        sum += s;
        i_sum += 1.0 / (s + 1.0);
        if s < min {
            min = s;
        }
        if s > max {
            max = s;
        }
    }
    let n = values.len() as f64;
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    Some(Pooled {
        min,
        max,
        mean: sum / n,
        harmonic_mean: n / i_sum - 1.0,
        p1: percentile_sorted(&sorted, 1.0),
        p5: percentile_sorted(&sorted, 5.0),
        p50: percentile_sorted(&sorted, 50.0),
    })
}

/// Percentile `p` (0–100) of ascending `sorted`, linear between closest ranks.
pub fn percentile_sorted(sorted: &[f64], p: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let rank = (p / 100.0).clamp(0.0, 1.0) * (n - 1) as f64;
            let lo = rank.floor() as usize;
            let hi = rank.ceil() as usize;
            sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_like_libvmaf() {
        let p = pool(&[90.0, 80.0, 100.0, 70.0]).unwrap();
        assert_eq!(p.min, 70.0);
        assert_eq!(p.max, 100.0);
        assert_eq!(p.mean, 85.0);
        let hm = 4.0 / (1.0 / 91.0 + 1.0 / 81.0 + 1.0 / 101.0 + 1.0 / 71.0) - 1.0;
        assert!((p.harmonic_mean - hm).abs() < 1e-12);
        assert!(p.harmonic_mean < p.mean);
    }

    #[test]
    fn harmonic_mean_survives_zero_scores() {
        let p = pool(&[0.0, 0.0]).unwrap();
        assert_eq!(p.harmonic_mean, 0.0);
    }

    #[test]
    fn percentiles_interpolate_like_numpy() {
        // numpy.percentile([1,2,3,4,5], [1,5,50]) == [1.04, 1.2, 3.0]
        let p = pool(&[5.0, 1.0, 4.0, 2.0, 3.0]).unwrap();
        assert!((p.p1 - 1.04).abs() < 1e-12);
        assert!((p.p5 - 1.2).abs() < 1e-12);
        assert_eq!(p.p50, 3.0);
        assert_eq!(percentile_sorted(&[7.0], 5.0), 7.0);
    }

    #[test]
    fn empty_has_no_pool() {
        assert!(pool(&[]).is_none());
    }
}
