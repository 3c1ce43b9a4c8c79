//! The rate–quality convex hull and the choice of ladder rungs along it.
//!
//! Points are (bitrate, score) pairs from encodes at several resolutions and quality settings.
//! The upper convex hull from the cheapest point up to the best-scoring one holds the points
//! worth streaming: any point below it is beaten by a mix of its neighbours on the hull.

use serde::{Deserialize, Serialize};

/// One encode, measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    pub width: u32,
    pub height: u32,
    /// The encoder's quality setting (CRF or equivalent).
    pub crf: u32,
    pub bitrate_kbps: f64,
    pub score: f64,
    /// ffmpeg's arguments after `-i SOURCE` that make this encode: a rung reproduced as
    /// `ffmpeg -i SOURCE ARGS OUT`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
}

/// Indices of the points on the upper convex hull of (bitrate, score), by rising bitrate:
/// from the lowest-bitrate point to the highest-scoring one, each segment steeper than the
/// next. Points that tie on bitrate keep the better score; collinear points are not hull
/// vertices.
pub fn upper_hull(points: &[Point]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..points.len())
        .filter(|&i| points[i].bitrate_kbps.is_finite() && points[i].score.is_finite())
        .collect();
    // By bitrate, and at equal bitrate the best score first so that it wins the tie.
    order.sort_by(|&a, &b| {
        points[a]
            .bitrate_kbps
            .total_cmp(&points[b].bitrate_kbps)
            .then(points[b].score.total_cmp(&points[a].score))
    });
    order.dedup_by(|b, a| points[*a].bitrate_kbps == points[*b].bitrate_kbps);
    let mut hull: Vec<usize> = Vec::new();
    for i in order {
        // A point that does not beat the best score so far is dominated.
        if let Some(&last) = hull.last() {
            if points[i].score <= points[last].score {
                continue;
            }
        }
        while hull.len() >= 2 {
            let (a, b) = (&points[hull[hull.len() - 2]], &points[hull[hull.len() - 1]]);
            // Drop b when it lies on or below the chord a → i (cross product >= 0).
            let cross = (b.bitrate_kbps - a.bitrate_kbps) * (points[i].score - a.score)
                - (b.score - a.score) * (points[i].bitrate_kbps - a.bitrate_kbps);
            if cross >= 0.0 {
                hull.pop();
            } else {
                break;
            }
        }
        hull.push(i);
    }
    hull
}

/// The upper hull of the points that score at most `cap` (all of them without a cap), as
/// indices into `points`: what a ladder under a quality cap chooses its rungs from. A point
/// above the cap is no rung, even when it is the cheapest.
pub fn capped_hull(points: &[Point], cap: Option<f64>) -> Vec<usize> {
    let within: Vec<usize> =
        (0..points.len()).filter(|&i| cap.is_none_or(|c| points[i].score <= c)).collect();
    let subset: Vec<Point> = within.iter().map(|&i| points[i].clone()).collect();
    upper_hull(&subset).into_iter().map(|k| within[k]).collect()
}

/// The hull's score at `bitrate`, linear between its vertices; `None` outside its range.
pub fn hull_score_at(points: &[Point], hull: &[usize], bitrate: f64) -> Option<f64> {
    let first = &points[*hull.first()?];
    if bitrate < first.bitrate_kbps {
        return None;
    }
    for pair in hull.windows(2) {
        let (a, b) = (&points[pair[0]], &points[pair[1]]);
        if bitrate <= b.bitrate_kbps {
            let t = (bitrate - a.bitrate_kbps) / (b.bitrate_kbps - a.bitrate_kbps);
            return Some(a.score + t * (b.score - a.score));
        }
    }
    let last = &points[*hull.last()?];
    (bitrate == last.bitrate_kbps).then_some(last.score)
}

/// How rungs are chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RungRules {
    /// Rungs wanted.
    pub rungs: usize,
    /// Each rung's bitrate at least this many times the one below (e.g. 1.5).
    pub min_gap_ratio: f64,
    /// No rung above this score: beyond it bits buy nothing a viewer sees.
    pub max_score: Option<f64>,
}

/// Picks rungs among the hull vertices: the top one is the best-scoring vertex within the
/// cap, then each next one down is the highest vertex at least `min_gap_ratio` times cheaper,
/// and when that gives more than `rungs`, an evenly spread subset in log-bitrate keeps the
/// top and the bottom. Returns indices into `points`, by rising bitrate.
pub fn choose_rungs(points: &[Point], hull: &[usize], rules: RungRules) -> Vec<usize> {
    if hull.is_empty() || rules.rungs == 0 {
        return Vec::new();
    }
    let capped: Vec<usize> =
        hull.iter().copied().filter(|&i| rules.max_score.is_none_or(|cap| points[i].score <= cap)).collect();
    if capped.is_empty() {
        return Vec::new();
    }
    let ratio = rules.min_gap_ratio.max(1.0);
    let mut picked = vec![*capped.last().expect("not empty")];
    for &i in capped.iter().rev().skip(1) {
        let above = points[*picked.last().expect("not empty")].bitrate_kbps;
        if points[i].bitrate_kbps * ratio <= above {
            picked.push(i);
        }
    }
    picked.reverse();
    if picked.len() <= rules.rungs {
        return picked;
    }
    if rules.rungs == 1 {
        return vec![*picked.last().expect("not empty")];
    }
    // Spread: for each of `rungs` targets evenly spaced in log-bitrate between the bottom and
    // the top, take the nearest unused candidate.
    let log = |i: usize| points[i].bitrate_kbps.ln();
    let (lo, hi) = (log(picked[0]), log(*picked.last().expect("not empty")));
    let mut chosen: Vec<usize> = Vec::with_capacity(rules.rungs);
    let mut next = 0;
    for k in 0..rules.rungs {
        let target = lo + (hi - lo) * k as f64 / (rules.rungs - 1) as f64;
        // Leave enough candidates for the targets still to come.
        let last_allowed = picked.len() - (rules.rungs - k);
        let best = (next..=last_allowed)
            .min_by(|&a, &b| (log(picked[a]) - target).abs().total_cmp(&(log(picked[b]) - target).abs()))
            .expect("candidates remain");
        chosen.push(picked[best]);
        next = best + 1;
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(bitrate: f64, score: f64) -> Point {
        Point { width: 1920, height: 1080, crf: 0, bitrate_kbps: bitrate, score, args: vec![] }
    }

    fn at(points: &[Point], idx: &[usize]) -> Vec<(f64, f64)> {
        idx.iter().map(|&i| (points[i].bitrate_kbps, points[i].score)).collect()
    }

    #[test]
    fn hull_skips_dominated_and_below_chord_points() {
        let pts = vec![
            p(100.0, 50.0),
            p(200.0, 70.0),
            p(300.0, 72.0),
            p(400.0, 85.0),
            p(500.0, 84.0),
            p(800.0, 90.0),
        ];
        // (300, 72) is under the chord (200,70)-(400,85); (500, 84) is dominated by (400, 85).
        assert_eq!(at(&pts, &upper_hull(&pts)), [(100.0, 50.0), (200.0, 70.0), (400.0, 85.0), (800.0, 90.0)]);
    }

    #[test]
    fn collinear_points_are_not_vertices() {
        let pts = vec![p(100.0, 10.0), p(200.0, 20.0), p(300.0, 30.0), p(400.0, 35.0)];
        assert_eq!(at(&pts, &upper_hull(&pts)), [(100.0, 10.0), (300.0, 30.0), (400.0, 35.0)]);
    }

    #[test]
    fn ties_on_bitrate_keep_the_better_score_and_single_points_work() {
        let pts = vec![p(100.0, 40.0), p(100.0, 45.0), p(300.0, 60.0)];
        assert_eq!(at(&pts, &upper_hull(&pts)), [(100.0, 45.0), (300.0, 60.0)]);
        let one = vec![p(100.0, 40.0)];
        assert_eq!(upper_hull(&one), [0]);
        assert_eq!(hull_score_at(&one, &[0], 100.0), Some(40.0));
        assert_eq!(hull_score_at(&one, &[0], 101.0), None);
        assert!(upper_hull(&[]).is_empty());
    }

    #[test]
    fn hull_mixes_resolutions_and_interpolates() {
        // A small resolution wins at low rates, a big one at high rates.
        let mut pts = vec![p(100.0, 40.0), p(300.0, 60.0), p(900.0, 70.0)];
        for (b, s) in [(300.0, 50.0), (900.0, 80.0), (2700.0, 92.0)] {
            pts.push(Point { width: 3840, height: 2160, ..p(b, s) });
        }
        let hull = upper_hull(&pts);
        assert_eq!(at(&pts, &hull), [(100.0, 40.0), (300.0, 60.0), (900.0, 80.0), (2700.0, 92.0)]);
        assert_eq!(hull_score_at(&pts, &hull, 600.0), Some(70.0));
        assert_eq!(hull_score_at(&pts, &hull, 50.0), None);
    }

    #[test]
    fn rungs_respect_gap_cap_and_count() {
        let pts: Vec<Point> = [
            (100.0, 30.0),
            (140.0, 40.0),
            (200.0, 50.0),
            (400.0, 65.0),
            (800.0, 80.0),
            (1600.0, 90.0),
            (3200.0, 96.0),
        ]
        .map(|(b, s)| p(b, s))
        .to_vec();
        let hull = upper_hull(&pts);
        assert_eq!(hull.len(), 7);
        // Cap 95 drops the 96 point; gap 1.5 drops 140 (200/140 < 1.5).
        let rules = RungRules { rungs: 10, min_gap_ratio: 1.5, max_score: Some(95.0) };
        let r = choose_rungs(&pts, &hull, rules);
        assert_eq!(
            at(&pts, &r),
            [(100.0, 30.0), (200.0, 50.0), (400.0, 65.0), (800.0, 80.0), (1600.0, 90.0)]
        );
        // Three rungs: top, bottom and the one nearest the log-middle (400).
        let r3 = choose_rungs(&pts, &hull, RungRules { rungs: 3, ..rules });
        assert_eq!(at(&pts, &r3), [(100.0, 30.0), (400.0, 65.0), (1600.0, 90.0)]);
        let r1 = choose_rungs(&pts, &hull, RungRules { rungs: 1, ..rules });
        assert_eq!(at(&pts, &r1), [(1600.0, 90.0)]);
        // Every point above the cap: no rung (the caller says so).
        assert!(choose_rungs(&pts, &hull, RungRules { max_score: Some(10.0), ..rules }).is_empty());
        // Under a cap, a point off the full hull can be the top rung.
        let mut with_low = pts.clone();
        with_low.push(p(2000.0, 91.0));
        let full = upper_hull(&with_low);
        assert!(!full.contains(&7), "91 at 2000 is under the chord 1600 → 3200");
        let capped = capped_hull(&with_low, Some(95.0));
        assert_eq!(
            at(&with_low, &choose_rungs(&with_low, &capped, RungRules { rungs: 1, ..rules })),
            [(2000.0, 91.0)]
        );
        for w in choose_rungs(&pts, &hull, RungRules { rungs: 4, ..rules }).windows(2) {
            assert!(pts[w[1]].bitrate_kbps >= 1.5 * pts[w[0]].bitrate_kbps);
            assert!(pts[w[1]].score > pts[w[0]].score);
        }
    }
}
