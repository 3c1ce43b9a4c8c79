//! CRF search: the highest CRF (smallest file) whose score still reaches the target, found
//! by interpolating on the measured score–CRF curve rather than bisecting.
//!
//! Scores fall as CRF rises. The search keeps every probe; once two probes bracket the target
//! it probes where the straight line between them crosses the target (rounded towards the
//! side that meets it), and it stops when the bracket is one step wide. Before a bracket
//! exists it steps from the start with the slope measured so far.
//!
//! The search runs on positions of a lattice (whole CRFs, or tenths of a CRF for encoders
//! that take fractional ones): `per_crf` positions make one CRF. Each probe is an encode
//! and a scoring run, so the probe count is what the search minimises.

/// A measured CRF.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probe {
    pub crf: u32,
    pub score: f64,
}

/// Where the search ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `crf` reaches the target and `crf + 1` does not (or `crf` is the top of the range).
    Found { crf: u32 },
    /// Even the lowest CRF in the range misses the target.
    Unreachable { best: Probe },
    /// `--max-probes` ran out: `crf` reaches the target, but a higher one might too.
    Stopped { crf: u32 },
    /// Out of probes before any probe reached the target.
    StoppedBelow { best: Probe },
}

/// The CRF range and where to start, in lattice positions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    pub min: u32,
    pub max: u32,
    pub start: u32,
    /// Positions per CRF (1 for whole CRFs, 10 for steps of 0.1).
    pub per_crf: f64,
}

/// Runs the search; `probe` measures a CRF (an encode and a score). Probes are never
/// repeated. Returns the outcome and every probe in the order made.
pub fn search<E>(
    range: Range,
    target: f64,
    max_probes: usize,
    mut probe: impl FnMut(u32) -> Result<f64, E>,
) -> Result<(Outcome, Vec<Probe>), E> {
    let mut probes: Vec<Probe> = Vec::new();
    let mut next = range.start.clamp(range.min, range.max);
    loop {
        let score = probe(next)?;
        probes.push(Probe { crf: next, score });
        // The highest CRF meeting the target, and the lowest one above it missing it.
        let pass = probes.iter().filter(|p| p.score >= target).max_by_key(|p| p.crf).copied();
        let fail = probes
            .iter()
            .filter(|p| p.score < target && pass.is_none_or(|q| p.crf > q.crf))
            .min_by_key(|p| p.crf)
            .copied();
        let outcome = match (pass, fail) {
            (Some(a), Some(b)) if b.crf == a.crf + 1 => Some(Outcome::Found { crf: a.crf }),
            (Some(a), None) if a.crf == range.max => Some(Outcome::Found { crf: a.crf }),
            (None, Some(b)) if b.crf == range.min => Some(Outcome::Unreachable { best: b }),
            _ => None,
        };
        if let Some(o) = outcome {
            return Ok((o, probes));
        }
        if probes.len() >= max_probes {
            let o = match pass {
                Some(a) => Outcome::Stopped { crf: a.crf },
                None => Outcome::StoppedBelow {
                    best: *probes.iter().max_by(|a, b| a.score.total_cmp(&b.score)).expect("probed"),
                },
            };
            return Ok((o, probes));
        }
        next = match (pass, fail) {
            (Some(a), Some(b)) => {
                // Where the curve crosses the target, strictly inside the bracket; rounded
                // down so that the probe likely passes and the next one closes the bracket.
                // The line through the two probes scoring nearest the target follows the
                // curve's local slope (a secant), where the chord from a far probe would not.
                let x = crossing(&probes, target).unwrap_or_else(|| {
                    a.crf as f64 + (a.score - target) / (a.score - b.score) * (b.crf - a.crf) as f64
                });
                (x.floor().max(0.0) as u32).clamp(a.crf + 1, b.crf - 1)
            }
            (Some(a), None) => step(&probes, a, target, range.max, 1, range.per_crf),
            (None, Some(b)) => step(&probes, b, target, range.min, -1, range.per_crf),
            (None, None) => unreachable!("a probe was just made"),
        };
    }
}

/// Where the line through the two probes scoring nearest `target` crosses it; `None` when
/// they are too few or the line is flat or rising (noise at fine steps).
fn crossing(probes: &[Probe], target: f64) -> Option<f64> {
    let mut near: Vec<&Probe> = probes.iter().collect();
    near.sort_by(|p, q| (p.score - target).abs().total_cmp(&(q.score - target).abs()));
    let (p, q) = (near.first()?, near.get(1)?);
    let slope = (q.score - p.score) / (q.crf as f64 - p.crf as f64);
    (slope.is_finite() && slope < 0.0).then(|| p.crf as f64 + (target - p.score) / slope)
}

/// The next position outside the measured range, towards the target: along the slope of the
/// two nearest probes if there are two, else a fixed step of 6 CRFs; at least one position
/// and at most 12 CRFs away.
fn step(probes: &[Probe], from: Probe, target: f64, limit: u32, dir: i64, per_crf: f64) -> u32 {
    let default_step = 6.0 * per_crf;
    let mut sorted: Vec<&Probe> = probes.iter().collect();
    sorted.sort_by_key(|p| (p.crf as i64 - from.crf as i64).abs());
    let distance = match sorted.get(1) {
        Some(other) if other.crf != from.crf && other.score != from.score => {
            // Score change per CRF (negative), from the two nearest probes.
            let slope = (other.score - from.score) / (other.crf as f64 - from.crf as f64);
            ((target - from.score) / slope).abs().ceil()
        }
        _ => default_step,
    };
    let to = from.crf as i64 + dir * distance.clamp(1.0, (12.0 * per_crf).max(1.0)) as i64;
    if dir > 0 {
        to.min(limit as i64) as u32
    } else {
        to.max(limit as i64) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A smooth, falling score curve like x264's.
    fn curve(crf: u32) -> f64 {
        100.0 - 0.04 * (crf as f64).powf(1.6)
    }

    fn run(target: f64, range: Range, max: usize) -> (Outcome, Vec<Probe>) {
        search(range, target, max, |c| Ok::<_, ()>(curve(c))).unwrap()
    }

    const X264: Range = Range { min: 0, max: 51, start: 23, per_crf: 1.0 };

    #[test]
    fn finds_the_highest_crf_meeting_the_target_in_few_probes() {
        for target in [99.0, 95.0, 90.0, 80.0, 70.0] {
            let (outcome, probes) = run(target, X264, 20);
            let best = (0..=51).filter(|&c| curve(c) >= target).max().unwrap();
            assert_eq!(outcome, Outcome::Found { crf: best }, "target {target}: {probes:?}");
            assert!(probes.len() <= 6, "target {target}: {} probes {probes:?}", probes.len());
            let mut crfs: Vec<u32> = probes.iter().map(|p| p.crf).collect();
            crfs.sort();
            crfs.dedup();
            assert_eq!(crfs.len(), probes.len(), "no CRF probed twice");
        }
    }

    #[test]
    fn range_ends_and_unreachable_targets() {
        let (o, _) = run(40.0, X264, 20);
        assert_eq!(o, Outcome::Found { crf: 51 }, "even the top CRF meets it");
        let (o, probes) = run(100.5, X264, 20);
        assert_eq!(o, Outcome::Unreachable { best: Probe { crf: 0, score: 100.0 } }, "{probes:?}");
    }

    #[test]
    fn max_probes_stops_with_the_best_so_far() {
        let (o, probes) = run(90.0, X264, 2);
        assert_eq!(probes.len(), 2);
        match o {
            Outcome::Stopped { crf } => assert!(curve(crf) >= 90.0),
            Outcome::StoppedBelow { best } => assert!(best.score < 90.0),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn noisy_non_monotone_curves_still_end() {
        let bumpy = |c: u32| curve(c) + if c.is_multiple_of(3) { 0.8 } else { 0.0 };
        let (o, probes) = search(X264, 90.0, 40, |c| Ok::<_, ()>(bumpy(c))).unwrap();
        assert!(matches!(o, Outcome::Found { .. }), "{o:?} {probes:?}");
        assert!(probes.len() < 15);
    }
}
