//! How well estimates follow the truth: Pearson's and Spearman's correlations and the root
//! mean square error, as the quality-metric literature reports them (PLCC, SROCC, RMSE).

use vmafx_ai::registry::Metrics;

/// PLCC, SROCC and RMSE of `estimates` against `truth` (same length, at least 2).
pub fn metrics(estimates: &[f64], truth: &[f64]) -> Metrics {
    assert_eq!(estimates.len(), truth.len());
    Metrics {
        plcc: pearson(estimates, truth),
        srocc: pearson(&ranks(estimates), &ranks(truth)),
        rmse: rmse(estimates, truth),
    }
}

pub fn rmse(a: &[f64], b: &[f64]) -> f64 {
    if a.is_empty() {
        return f64::NAN;
    }
    (a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / a.len() as f64).sqrt()
}

/// Pearson's correlation; 0 where either side is constant (it says nothing).
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    if a.len() < 2 {
        return 0.0;
    }
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    if va == 0.0 || vb == 0.0 {
        0.0
    } else {
        cov / (va * vb).sqrt()
    }
}

/// Ranks from 1, ties sharing their mean rank.
pub fn ranks(v: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
    let mut out = vec![0.0; v.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            out[k] = rank;
        }
        i = j + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        let truth = [1.0, 2.0, 3.0, 4.0];
        let m = metrics(&[2.0, 4.0, 6.0, 8.0], &truth);
        assert!((m.plcc - 1.0).abs() < 1e-12 && (m.srocc - 1.0).abs() < 1e-12);
        assert!((m.rmse - (7.5f64).sqrt()).abs() < 1e-12);
        // Monotone but not linear: SROCC 1, PLCC below.
        let m = metrics(&[1.0, 8.0, 27.0, 64.0], &truth);
        assert!((m.srocc - 1.0).abs() < 1e-12 && m.plcc < 0.99);
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
        assert_eq!(pearson(&[1.0, 1.0], &[1.0, 2.0]), 0.0);
        let m = metrics(&[4.0, 3.0, 2.0, 1.0], &truth);
        assert!((m.plcc + 1.0).abs() < 1e-12 && (m.srocc + 1.0).abs() < 1e-12);
    }
}
