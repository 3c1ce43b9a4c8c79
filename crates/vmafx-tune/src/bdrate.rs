//! Bjøntegaard deltas between two rate–quality curves: the average bitrate difference at
//! equal quality (BD-rate, in percent) and the average quality difference at equal bitrate
//! (BD-score), over the range both curves cover.
//!
//! As in the current common practice (JVET-K0491, and the reference `bjontegaard` Python
//! package), each curve is interpolated with a piecewise cubic Hermite interpolant that keeps
//! monotone data monotone (PCHIP, Fritsch–Carlson) on log10 of the bitrate, and the
//! interpolants are integrated exactly.

/// A rate–quality curve: (bitrate, score) points.
pub type Curve = [(f64, f64)];

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BdError {
    #[error("{0}: a curve needs at least 2 points with distinct scores and bitrates")]
    TooFewPoints(&'static str),
    #[error("{0}: bitrates must be positive and scores finite")]
    BadValue(&'static str),
    #[error("the curves do not overlap in {0}: their ranges are disjoint")]
    NoOverlap(&'static str),
}

/// BD-rate and BD-score of `test` against `anchor`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BdResult {
    /// Average bitrate change at equal quality, in percent (negative: `test` saves bits).
    pub rate_percent: f64,
    /// Average score change at equal bitrate (positive: `test` looks better).
    pub score_delta: f64,
    /// The scores both curves cover, over which BD-rate averages.
    pub score_overlap: (f64, f64),
    /// The bitrates both curves cover, over which BD-score averages.
    pub rate_overlap: (f64, f64),
}

pub fn bd(anchor: &Curve, test: &Curve) -> Result<BdResult, BdError> {
    let a = prepare(anchor, "the anchor")?;
    let t = prepare(test, "the test curve")?;
    // BD-rate: log-rate as a function of score, integrated over the common score range.
    let rate = {
        let (xa, ya) = by(&a, |p| (p.1, p.0), "the anchor")?;
        let (xt, yt) = by(&t, |p| (p.1, p.0), "the test curve")?;
        let (lo, hi) = (xa[0].max(xt[0]), xa[xa.len() - 1].min(xt[xt.len() - 1]));
        if hi <= lo {
            return Err(BdError::NoOverlap("score"));
        }
        let diff =
            (Pchip::new(&xt, &yt).integral(lo, hi) - Pchip::new(&xa, &ya).integral(lo, hi)) / (hi - lo);
        ((10f64.powf(diff) - 1.0) * 100.0, (lo, hi))
    };
    // BD-score: score as a function of log-rate, over the common rate range.
    let score = {
        let (xa, ya) = by(&a, |p| p, "the anchor")?;
        let (xt, yt) = by(&t, |p| p, "the test curve")?;
        let (lo, hi) = (xa[0].max(xt[0]), xa[xa.len() - 1].min(xt[xt.len() - 1]));
        if hi <= lo {
            return Err(BdError::NoOverlap("bitrate"));
        }
        let delta =
            (Pchip::new(&xt, &yt).integral(lo, hi) - Pchip::new(&xa, &ya).integral(lo, hi)) / (hi - lo);
        (delta, (10f64.powf(lo), 10f64.powf(hi)))
    };
    Ok(BdResult { rate_percent: rate.0, score_delta: score.0, score_overlap: rate.1, rate_overlap: score.1 })
}

/// (log10 rate, score) pairs, checked.
fn prepare(curve: &Curve, what: &'static str) -> Result<Vec<(f64, f64)>, BdError> {
    if curve.iter().any(|&(r, s)| !(r > 0.0 && r.is_finite() && s.is_finite())) {
        return Err(BdError::BadValue(what));
    }
    if curve.len() < 2 {
        return Err(BdError::TooFewPoints(what));
    }
    Ok(curve.iter().map(|&(r, s)| (r.log10(), s)).collect())
}

/// The points as (x, y) sorted by x, with repeated x dropped (first kept); at least two.
fn by(
    points: &[(f64, f64)],
    f: impl Fn((f64, f64)) -> (f64, f64),
    what: &'static str,
) -> Result<(Vec<f64>, Vec<f64>), BdError> {
    let mut xy: Vec<(f64, f64)> = points.iter().map(|&p| f(p)).collect();
    xy.sort_by(|a, b| a.0.total_cmp(&b.0));
    xy.dedup_by(|b, a| a.0 == b.0);
    if xy.len() < 2 {
        return Err(BdError::TooFewPoints(what));
    }
    Ok(xy.into_iter().unzip())
}

/// Piecewise cubic Hermite interpolant with Fritsch–Carlson slopes (as SciPy's
/// `PchipInterpolator`).
struct Pchip {
    x: Vec<f64>,
    y: Vec<f64>,
    d: Vec<f64>,
}

impl Pchip {
    fn new(x: &[f64], y: &[f64]) -> Self {
        let n = x.len();
        let h: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
        let delta: Vec<f64> = (0..n - 1).map(|k| (y[k + 1] - y[k]) / h[k]).collect();
        let mut d = vec![0.0; n];
        if n == 2 {
            d = vec![delta[0]; 2];
        } else {
            for k in 1..n - 1 {
                if delta[k - 1] * delta[k] > 0.0 {
                    // Weighted harmonic mean of the neighbouring secants.
                    let (w1, w2) = (2.0 * h[k] + h[k - 1], h[k] + 2.0 * h[k - 1]);
                    d[k] = (w1 + w2) / (w1 / delta[k - 1] + w2 / delta[k]);
                }
            }
            d[0] = end_slope(h[0], h[1], delta[0], delta[1]);
            d[n - 1] = end_slope(h[n - 2], h[n - 3], delta[n - 2], delta[n - 3]);
        }
        Self { x: x.to_vec(), y: y.to_vec(), d }
    }

    /// Exact integral over [lo, hi] (inside the data range).
    fn integral(&self, lo: f64, hi: f64) -> f64 {
        self.antiderivative(hi) - self.antiderivative(lo)
    }

    /// ∫ from x[0] to `t` of the interpolant.
    fn antiderivative(&self, t: f64) -> f64 {
        let mut total = 0.0;
        for k in 0..self.x.len() - 1 {
            let (x0, x1) = (self.x[k], self.x[k + 1]);
            if t <= x0 {
                break;
            }
            let h = x1 - x0;
            let s = ((t.min(x1)) - x0) / h;
            // Hermite basis integrated from 0 to s, times h.
            let (s2, s3, s4) = (s * s, s * s * s, s * s * s * s);
            let h00 = s - s3 + s4 / 2.0;
            let h10 = s2 / 2.0 - 2.0 * s3 / 3.0 + s4 / 4.0;
            let h01 = s3 - s4 / 2.0;
            let h11 = -s3 / 3.0 + s4 / 4.0;
            total +=
                h * (h00 * self.y[k] + h10 * h * self.d[k] + h01 * self.y[k + 1] + h11 * h * self.d[k + 1]);
        }
        total
    }
}

/// SciPy's three-point end slope, kept shape-preserving.
fn end_slope(h0: f64, h1: f64, m0: f64, m1: f64) -> f64 {
    let d = ((2.0 * h0 + h1) * m0 - h0 * m1) / (h0 + h1);
    if d.signum() != m0.signum() {
        0.0
    } else if m0.signum() != m1.signum() && d.abs() > 3.0 * m0.abs() {
        3.0 * m0
    } else {
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANCHOR: [(f64, f64); 4] = [(1000.0, 80.0), (2000.0, 88.0), (4000.0, 93.0), (8000.0, 96.0)];

    #[test]
    fn scaled_rates_give_that_rate_delta_and_shifted_scores_that_score_delta() {
        let cheaper: Vec<_> = ANCHOR.iter().map(|&(r, s)| (r * 0.9, s)).collect();
        let r = bd(&ANCHOR, &cheaper).unwrap();
        assert!((r.rate_percent - -10.0).abs() < 1e-9, "{r:?}");
        assert!(r.score_delta > 0.0);
        let better: Vec<_> = ANCHOR.iter().map(|&(r, s)| (r, s + 1.5)).collect();
        let r = bd(&ANCHOR, &better).unwrap();
        assert!((r.score_delta - 1.5).abs() < 1e-9, "{r:?}");
        assert!(r.rate_percent < 0.0);
        let same = bd(&ANCHOR, &ANCHOR).unwrap();
        assert!(same.rate_percent.abs() < 1e-12 && same.score_delta.abs() < 1e-12);
        // The ranges averaged over: both curves' common scores and bitrates.
        let (lo, hi) = ANCHOR.iter().fold((f64::MAX, f64::MIN), |(l, h), p| (l.min(p.0), h.max(p.0)));
        let shifted: Vec<_> = ANCHOR.iter().map(|&(r, s)| (r * 0.9, s)).collect();
        let r = bd(&ANCHOR, &shifted).unwrap();
        assert!((r.rate_overlap.0 - lo).abs() < 1e-9 && (r.rate_overlap.1 - hi * 0.9).abs() < 1e-9, "{r:?}");
        let scores: Vec<f64> = ANCHOR.iter().map(|p| p.1).collect();
        let (smin, smax) = scores.iter().fold((f64::MAX, f64::MIN), |(l, h), &s| (l.min(s), h.max(s)));
        assert_eq!(r.score_overlap, (smin, smax));
    }

    #[test]
    fn pchip_matches_a_hand_computation() {
        // Two points: the interpolant is the straight line, its integral the trapezoid.
        let p = Pchip::new(&[0.0, 2.0], &[1.0, 5.0]);
        assert!((p.integral(0.0, 2.0) - 6.0).abs() < 1e-12);
        // y = x^2 sampled at 0, 1, 2, 3, secants 1, 3, 5. By hand: interior slopes are the
        // harmonic means 2/(1/1 + 1/3) = 1.5 and 2/(1/3 + 1/5) = 3.75; end slopes
        // (3*1 - 3)/2 = 0 and (3*5 - 3)/2 = 6. Each piece integrates to
        // h(y0 + y1)/2 + h^2(d0 - d1)/12: 0.5 - 0.125 + 2.5 - 0.1875 + 6.5 - 0.1875 = 9.
        let p = Pchip::new(&[0.0, 1.0, 2.0, 3.0], &[0.0, 1.0, 4.0, 9.0]);
        assert_eq!(p.d, [0.0, 1.5, 3.75, 6.0]);
        assert!((p.integral(0.0, 3.0) - 9.0).abs() < 1e-12);
        assert!((p.integral(1.0, 2.0) - (2.5 - 0.1875)).abs() < 1e-12);
    }

    #[test]
    fn bad_curves_are_refused() {
        assert_eq!(bd(&ANCHOR[..1], &ANCHOR), Err(BdError::TooFewPoints("the anchor")));
        assert_eq!(bd(&ANCHOR, &[(0.0, 1.0), (1.0, 2.0)]), Err(BdError::BadValue("the test curve")));
        let far: Vec<_> = ANCHOR.iter().map(|&(r, s)| (r * 100.0, s + 50.0)).collect();
        assert!(matches!(bd(&ANCHOR, &far), Err(BdError::NoOverlap(_))));
    }
}
