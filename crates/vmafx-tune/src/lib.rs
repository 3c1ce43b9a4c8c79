//! vmafx-tune: encoder tuning from measured quality.
//!
//! - [`crf_search`]: the highest CRF whose score reaches a target, in few encodes, by
//!   interpolating on the measured score–CRF curve ([`search`]), optionally on a few short
//!   samples of the source instead of all of it.
//! - [`ladder`]: a per-title bitrate ladder: encodes at several resolutions and quality
//!   points, scored against the source at its own resolution, the upper convex hull of
//!   (bitrate, score), and rungs chosen along it ([`hull`]); `--auto` spends encodes only
//!   where the hull changes.
//! - [`bdrate`]: Bjøntegaard deltas between two curves.
//!
//! Every encode-and-score goes through a [`Runner`]: the local one encodes with ffmpeg and
//! scores with the in-process engine, caching both.

pub mod bdrate;
pub mod hull;
pub mod output;
pub mod remote;
pub mod search;
pub mod trial;

use std::path::PathBuf;

use serde::Serialize;

pub use trial::{LocalRunner, Measured, Pool, Sample, Scoring, SourceInfo, Trial};
pub use vmafx_core::encode::{encoder, Encoder, ENCODERS};

#[derive(Debug, thiserror::Error)]
pub enum TuneError {
    /// The caller's mistake (bad argument).
    #[error("{0}")]
    Usage(String),
    #[error("source `{}`: {problem}", vmafx_media::location::shown(path))]
    Source { path: PathBuf, problem: String },
    #[error("encoding with {encoder} at CRF {crf} failed: {problem}")]
    Encode { encoder: String, crf: f64, problem: String },
    #[error("scoring failed: {0}")]
    Scoring(String),
    #[error("cache `{0}`: {1}")]
    Cache(PathBuf, String),
    /// The target cannot be met; the message says what can.
    #[error("{0}")]
    Unreachable(String),
    #[error("controller: {0}")]
    Remote(String),
}

impl TuneError {
    /// Errors the caller can fix (exit code 2).
    pub fn is_bad_input(&self) -> bool {
        matches!(self, TuneError::Usage(_) | TuneError::Source { .. } | TuneError::Unreachable(_))
    }
}

/// Runs trials: locally, or as jobs on a cluster.
pub trait Runner: Sync {
    fn source(&self, path: &std::path::Path) -> Result<SourceInfo, TuneError>;
    /// Encodes and scores `trial`, one of `at_once` runs going at the same time (which share
    /// this machine's cores).
    fn run(
        &self,
        trial: &Trial,
        source: &SourceInfo,
        scoring: &Scoring,
        at_once: u32,
    ) -> Result<Measured, TuneError>;
    /// Whether the encoder where trials run takes quarter CRFs (SVT-AV1 4.0 and later).
    fn quarter_crf(&self, e: &Encoder) -> bool;
}

/// Runs `trials` on `runner`, up to `jobs` at once; results in the same order.
pub fn run_all(
    runner: &dyn Runner,
    trials: &[Trial],
    source: &SourceInfo,
    scoring: &Scoring,
    jobs: usize,
    on_done: &(dyn Fn(&Trial, &Measured) + Sync),
) -> Result<Vec<Measured>, TuneError> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<Result<Measured, TuneError>>>> =
        trials.iter().map(|_| std::sync::Mutex::new(None)).collect();
    let at_once = jobs.clamp(1, trials.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..at_once {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(trial) = trials.get(i) else { return };
                let r = runner.run(trial, source, scoring, at_once as u32);
                if let Ok(m) = &r {
                    on_done(trial, m);
                }
                *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
            });
        }
    });
    results
        .into_iter()
        .map(|r| r.into_inner().unwrap_or_else(|p| p.into_inner()).expect("every trial ran"))
        .collect()
}

/// What to encode with.
#[derive(Debug, Clone)]
pub struct EncodeSettings {
    pub encoder: &'static Encoder,
    pub preset: Option<String>,
    pub extra: Vec<(String, String)>,
}

impl EncodeSettings {
    /// The trial that encodes `source` (or its `sample`) at `crf`, scaled to `size`.
    pub fn trial(
        &self,
        source: &std::path::Path,
        crf: f64,
        size: Option<(u32, u32)>,
        sample: Option<Sample>,
    ) -> Trial {
        Trial {
            source: source.to_path_buf(),
            encoder: self.encoder,
            crf,
            preset: self.preset.clone(),
            extra: self.extra.clone(),
            size,
            sample,
        }
    }
}

impl EncodeSettings {
    /// Checks the `--enc` options before any search, so that an option this machine's
    /// encoder lacks, or one an encode may not set (files, inputs, filters), is a caller's
    /// mistake naming the option, not a failed encode halfway through: first against what
    /// `ffmpeg -h encoder=NAME` lists (the checks a controller makes of an encode job), then
    /// by encoding one small frame with them (values only the encoder judges). Without a
    /// local ffmpeg only the first, by name, is made (a cluster's nodes check the rest).
    pub fn check_options(&self, tools: &vmafx_media::Tools) -> Result<(), TuneError> {
        let described =
            vmafx_media::describe_encoder(tools, self.encoder.name, std::time::Duration::from_secs(30));
        let crf = ((self.encoder.crf_min + self.encoder.crf_max) / 2) as f64;
        let probe = self.trial(std::path::Path::new(""), crf, None, None);
        vmafx_core::encode::check(&probe.spec(), described.as_ref()).map_err(|e| {
            let flag = match e.field.strip_prefix("encode.options.") {
                Some(key) => format!("--enc {key}"),
                None => format!("--{}", e.field.trim_start_matches("encode.").replace('_', "-")),
            };
            TuneError::Usage(format!("{flag}: {}", e.problem))
        })?;
        if self.extra.is_empty() {
            return Ok(());
        }
        let ffmpeg = &tools.ffmpeg;
        let attempt = |extra: &[(String, String)]| -> Option<Result<(), String>> {
            let trial =
                Trial { extra: extra.to_vec(), ..self.trial(std::path::Path::new(""), crf, None, None) };
            let out = std::process::Command::new(ffmpeg)
                .args([
                    "-hide_banner",
                    "-nostdin",
                    "-v",
                    "error",
                    "-f",
                    "lavfi",
                    "-i",
                    "testsrc2=size=64x64:rate=24",
                ])
                .args(["-frames:v", "1"])
                .args(trial.encode_args())
                .args(["-f", "null", "-"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .output()
                .ok()?;
            Some(if out.status.success() {
                Ok(())
            } else {
                Err(String::from_utf8_lossy(&out.stderr).into_owned())
            })
        };
        match attempt(&self.extra) {
            None | Some(Ok(())) => return Ok(()),
            Some(Err(_)) => {}
        }
        let mut refused = Vec::new();
        for (k, v) in &self.extra {
            if let Some(Err(stderr)) = attempt(&[(k.clone(), v.clone())]) {
                let flag = k.trim_start_matches('-');
                let why = if stderr.contains(&format!("Unrecognized option '{flag}'")) {
                    format!("ffmpeg has no option `-{flag}`")
                } else {
                    let lines: Vec<&str> = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
                    format!(
                        "{} refuses it: {}",
                        self.encoder.name,
                        lines[lines.len().saturating_sub(3)..].join("; ")
                    )
                };
                refused.push(format!("--enc {k}={v}: {why}"));
            }
        }
        if refused.is_empty() {
            refused.push(format!("{} refuses these --enc options together", self.encoder.name));
        }
        Err(TuneError::Usage(refused.join("\n")))
    }
}

/// The CRF precision to search to: `asked`, or 0.1 for an encoder that takes fractional
/// CRFs, 0.25 for one that takes quarter steps (`quarter`: SVT-AV1 4.0 and later) and 1 for
/// the others. A step finer than 0.01, or one the encoder cannot take, is refused.
fn crf_step(e: &Encoder, asked: Option<f64>, quarter: bool) -> Result<f64, TuneError> {
    let step = asked.unwrap_or(if e.fractional {
        0.1
    } else if quarter {
        0.25
    } else {
        1.0
    });
    let hundredths = step * 100.0;
    if !((0.01..=10.0).contains(&step) && (hundredths - hundredths.round()).abs() < 1e-6) {
        return Err(TuneError::Usage(format!(
            "--crf-step {step}: give a step from 0.01 to 10, in hundredths"
        )));
    }
    if !e.fractional && quarter && (step * 4.0).fract() != 0.0 {
        return Err(TuneError::Usage(format!(
            "--crf-step {step}: {} takes quarter CRFs at the finest (0.25, 0.5, 1, ...)",
            e.name
        )));
    }
    if !e.fractional && !quarter && step.fract() != 0.0 {
        let why = if e.quarter_steps_in.is_some() {
            "quarter steps need SVT-AV1 4.0 or later, and this one is older or on a cluster whose nodes do not say"
        } else {
            "a fraction would encode as the whole number"
        };
        return Err(TuneError::Usage(format!("--crf-step {step}: {} takes whole CRFs only ({why})", e.name)));
    }
    Ok(step)
}

/// The CRFs a search may probe: multiples of `step`, numbered by position.
#[derive(Debug, Clone, Copy)]
struct CrfLattice {
    step: f64,
}

impl CrfLattice {
    /// The CRF at `position`, rounded to hundredths (24.4, not 24.400000000000002).
    fn crf(&self, position: u32) -> f64 {
        (position as f64 * self.step * 100.0).round() / 100.0
    }

    fn nearest(&self, crf: f64) -> u32 {
        (crf / self.step).round().max(0.0) as u32
    }

    fn at_or_above(&self, crf: f64) -> u32 {
        (crf / self.step - 1e-9).ceil().max(0.0) as u32
    }

    fn at_or_below(&self, crf: f64) -> u32 {
        (crf / self.step + 1e-9).floor().max(0.0) as u32
    }
}

/// `n` samples of `frames` frames each, evenly spread over `total` frames; `None` when they
/// would cover the whole source anyway.
pub fn plan_samples(total: u64, n: u64, frames: u64) -> Option<Vec<Sample>> {
    if n == 0 || frames == 0 || n.saturating_mul(frames) >= total {
        return None;
    }
    // Centres at (k + 0.5) / n of the way through.
    Some(
        (0..n)
            .map(|k| {
                let centre = (2 * k + 1) * total / (2 * n);
                Sample { start: centre.saturating_sub(frames / 2).min(total - frames), frames }
            })
            .collect(),
    )
}

/// A CRF search's request.
#[derive(Debug, Clone)]
pub struct CrfSearch {
    pub source: PathBuf,
    pub settings: EncodeSettings,
    pub target: f64,
    pub scoring: Scoring,
    /// Evenly spread samples (count, frames each); `None`: the whole source.
    pub samples: Option<(u64, u64)>,
    pub max_probes: usize,
    pub min_crf: Option<f64>,
    pub max_crf: Option<f64>,
    /// The answer's precision: 0.1 by default for an encoder that takes fractional CRFs,
    /// else 1.
    pub crf_step: Option<f64>,
    pub jobs: usize,
}

/// One probe as reported.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeReport {
    pub crf: f64,
    pub score: f64,
    pub bitrate_kbps: f64,
    pub encode_seconds: f64,
    /// Every encode of the probe came from the cache (`encode_seconds` is then the time it
    /// took when it was made).
    pub cached: bool,
}

/// A CRF search's answer.
#[derive(Debug, Clone, Serialize)]
pub struct CrfAnswer {
    pub encoder: String,
    pub crf: f64,
    /// The precision searched to: the next CRF up by this misses the target.
    pub crf_step: f64,
    /// The score measured at `crf` (on the samples when sampling).
    pub score: f64,
    pub target: f64,
    pub metric: String,
    pub pool: Pool,
    pub bitrate_kbps: f64,
    /// Predicted size of the whole source at `crf`.
    pub predicted_bytes: u64,
    /// Encode time of what was encoded at `crf` (the samples when sampling).
    pub encode_seconds: f64,
    pub sampled: bool,
    /// `false` when `--max-probes` stopped the search before it was sure.
    pub exact: bool,
    /// The step above the answer, which misses the target; `None` at the top of the range
    /// or when `--max-probes` stopped the search.
    pub next: Option<NextStep>,
    pub probes: Vec<ProbeReport>,
}

/// The CRF one step above a search's answer.
#[derive(Debug, Clone, Serialize)]
pub struct NextStep {
    pub crf: f64,
    /// Its score: measured, or, when `predicted`, read off the line between the probes on
    /// either side (it was not encoded).
    pub score: f64,
    pub predicted: bool,
}

/// How fast VMAF falls per CRF in the scale the search works in (`-ln(105 - vmaf)`, where
/// it falls close to linearly), for the search's first step: about 0.09 on the 0–51 scales
/// of x264, x265 and NVENC and 0.05 on the 0–63 scales of SVT-AV1, libaom and libvpx
/// (measured on the corpus clips: x264 0.07–0.19, x265 0.07, SVT-AV1 0.035–0.10). The
/// search measures the real slope from the second probe on.
pub(crate) fn typical_vmaf_slope(e: &Encoder) -> f64 {
    if e.crf_max > 51 {
        -0.05
    } else {
        -0.09
    }
}

/// Finds the highest CRF meeting the target.
pub fn crf_search(
    runner: &dyn Runner,
    req: &CrfSearch,
    on_probe: &(dyn Fn(&ProbeReport) + Sync),
) -> Result<CrfAnswer, TuneError> {
    let e = req.settings.encoder;
    let source = runner.source(&req.source)?;
    let (min, max) = (req.min_crf.unwrap_or(e.crf_min as f64), req.max_crf.unwrap_or(e.crf_max as f64));
    if !(min <= max && min >= e.crf_min as f64 && max <= e.crf_max as f64) {
        return Err(TuneError::Usage(format!(
            "--min-crf/--max-crf {min}..{max} is outside {}'s range {}..{}",
            e.name, e.crf_min, e.crf_max
        )));
    }
    let step = crf_step(e, req.crf_step, runner.quarter_crf(e))?;
    let vmaf = req.scoring.metric == "vmaf";
    let lattice = CrfLattice { step };
    let range = search::Range {
        min: lattice.at_or_above(min),
        max: lattice.at_or_below(max),
        start: lattice.nearest(e.start_crf as f64).clamp(lattice.at_or_above(min), lattice.at_or_below(max)),
        per_crf: 1.0 / step,
        prior_slope: vmaf.then(|| typical_vmaf_slope(e)),
        headroom: vmaf.then_some(search::VMAF_HEADROOM),
    };
    let samples = req.samples.and_then(|(n, frames)| plan_samples(source.frames, n, frames));
    let mut measured: Vec<(u32, ProbeReport)> = Vec::new();
    let (outcome, _) = search::search(range, req.target, req.max_probes.max(1), |position| {
        let crf = lattice.crf(position);
        let trials: Vec<Trial> = match &samples {
            Some(s) => s.iter().map(|&s| req.settings.trial(&req.source, crf, None, Some(s))).collect(),
            None => vec![req.settings.trial(&req.source, crf, None, None)],
        };
        let results = run_all(runner, &trials, &source, &req.scoring, req.jobs, &|_, _| {})?;
        let values: Vec<f64> = results.iter().flat_map(|m| m.per_frame.iter().copied()).collect();
        let score =
            req.scoring.pool.apply(&values).ok_or_else(|| TuneError::Scoring("no frames scored".into()))?;
        let (bytes, frames): (u64, u64) =
            results.iter().fold((0, 0), |(b, f), m| (b + m.bytes, f + m.frames));
        let report = ProbeReport {
            crf,
            score,
            bitrate_kbps: bytes as f64 * 8.0 / (frames as f64 / source.fps) / 1000.0,
            encode_seconds: results.iter().map(|m| m.encode_seconds).sum(),
            cached: results.iter().all(|m| m.cached),
        };
        on_probe(&report);
        measured.push((position, report));
        Ok::<_, TuneError>(score)
    })?;
    let probes: Vec<ProbeReport> = measured.iter().map(|(_, p)| p.clone()).collect();
    let at = |crf: u32| measured.iter().find(|(c, _)| *c == crf).map(|(_, p)| p.clone()).expect("probed");
    let metric = format!("{} {}", req.scoring.pool.name(), req.scoring.metric);
    let (crf, exact, predicted_next) = match outcome {
        search::Outcome::Found { crf, predicted_next } => (crf, true, predicted_next),
        search::Outcome::Stopped { crf } => (crf, false, None),
        search::Outcome::Unreachable { best } => {
            return Err(TuneError::Unreachable(format!(
                "target {metric} {} is unreachable with {}: best achievable {:.2} at CRF {} (the lowest allowed); \
                 lower --target-vmaf, or allow a lower --min-crf",
                req.target,
                e.name,
                best.score,
                lattice.crf(best.crf)
            )))
        }
        search::Outcome::StoppedBelow { best } => {
            return Err(TuneError::Unreachable(format!(
                "target {metric} {} not reached in {} probes: best {:.2} at CRF {}; raise --max-probes",
                req.target,
                probes.len(),
                best.score,
                lattice.crf(best.crf)
            )))
        }
    };
    let p = at(crf);
    let duration = source.frames as f64 / source.fps;
    Ok(CrfAnswer {
        encoder: e.name.into(),
        crf: lattice.crf(crf),
        crf_step: step,
        score: p.score,
        target: req.target,
        metric: req.scoring.metric.clone(),
        pool: req.scoring.pool,
        bitrate_kbps: p.bitrate_kbps,
        predicted_bytes: (p.bitrate_kbps * 1000.0 / 8.0 * duration).round() as u64,
        encode_seconds: p.encode_seconds,
        sampled: samples.is_some(),
        exact,
        next: match predicted_next {
            Some(score) => Some(NextStep { crf: lattice.crf(crf + 1), score, predicted: true }),
            None => measured.iter().find(|(c, _)| *c == crf + 1).map(|(_, p)| NextStep {
                crf: p.crf,
                score: p.score,
                predicted: false,
            }),
        },
        probes,
    })
}

/// A ladder's request.
#[derive(Debug, Clone)]
pub struct LadderRequest {
    pub source: PathBuf,
    pub settings: EncodeSettings,
    pub resolutions: Vec<(u32, u32)>,
    /// The quality points: every one (`auto` false), or the lattice `auto` chooses from.
    pub crfs: Vec<u32>,
    pub auto: bool,
    pub rules: hull::RungRules,
    pub scoring: Scoring,
    pub jobs: usize,
}

/// A ladder: every measured point, the hull, and the chosen rungs.
#[derive(Debug, Clone, Serialize)]
pub struct Ladder {
    pub source: String,
    pub encoder: String,
    pub metric: String,
    pub pool: Pool,
    pub source_width: u32,
    pub source_height: u32,
    pub points: Vec<hull::Point>,
    pub hull: Vec<hull::Point>,
    pub rungs: Vec<hull::Point>,
    pub encodes: usize,
}

/// Builds a ladder.
pub fn ladder(
    runner: &dyn Runner,
    req: &LadderRequest,
    on_point: &(dyn Fn(&hull::Point) + Sync),
) -> Result<Ladder, TuneError> {
    let source = runner.source(&req.source)?;
    let resolutions = if req.resolutions.is_empty() {
        default_resolutions(source.width, source.height)
    } else {
        req.resolutions.clone()
    };
    // A ladder has a handful of resolutions; a long list is a mistake (or a client's attempt
    // to queue thousands of encodes).
    const MAX_RESOLUTIONS: usize = 16;
    if resolutions.len() > MAX_RESOLUTIONS {
        return Err(TuneError::Usage(format!(
            "{} resolutions: a ladder takes at most {MAX_RESOLUTIONS}",
            resolutions.len()
        )));
    }
    for &(w, h) in &resolutions {
        if w > source.width || h > source.height {
            return Err(TuneError::Usage(format!(
                "resolution {w}x{h} is larger than the source ({}x{}): a ladder only scales down",
                source.width, source.height
            )));
        }
        if w % 2 != 0 || h % 2 != 0 || w == 0 || h == 0 {
            return Err(TuneError::Usage(format!(
                "resolution {w}x{h}: width and height must be even and non-zero"
            )));
        }
    }
    let e = req.settings.encoder;
    if let Some(c) = req.crfs.iter().find(|c| !(e.crf_min..=e.crf_max).contains(*c)) {
        return Err(TuneError::Usage(format!(
            "CRF {c} is outside {}'s range {}..{}",
            e.name, e.crf_min, e.crf_max
        )));
    }
    let mut crfs = req.crfs.clone();
    crfs.sort_unstable();
    crfs.dedup();
    let mut points: Vec<hull::Point> = Vec::new();
    let measure = |wanted: &[(u32, u32, u32)], points: &mut Vec<hull::Point>| -> Result<(), TuneError> {
        let trials: Vec<Trial> = wanted
            .iter()
            .map(|&(w, h, crf)| {
                let size = ((w, h) != (source.width, source.height)).then_some((w, h));
                req.settings.trial(&req.source, crf as f64, size, None)
            })
            .collect();
        let results = run_all(runner, &trials, &source, &req.scoring, req.jobs, &|t, m| {
            let (w, h) = t.size.unwrap_or((source.width, source.height));
            on_point(&hull::Point {
                width: w,
                height: h,
                // A ladder's grid is whole CRFs.
                crf: t.crf as u32,
                bitrate_kbps: m.bitrate_kbps,
                score: m.score,
                args: t.encode_args(),
            });
        })?;
        for ((&(width, height, crf), m), t) in wanted.iter().zip(results).zip(&trials) {
            let (bitrate_kbps, score, args) = (m.bitrate_kbps, m.score, t.encode_args());
            points.push(hull::Point { width, height, crf, bitrate_kbps, score, args });
        }
        Ok(())
    };
    let cap = req.rules.max_score;
    if req.auto {
        auto_points(&resolutions, &crfs, cap, &mut points, measure)?;
    } else {
        let all: Vec<(u32, u32, u32)> =
            resolutions.iter().flat_map(|&(w, h)| crfs.iter().map(move |&c| (w, h, c))).collect();
        measure(&all, &mut points)?;
    }
    // A stable order for output: by resolution (largest first), then CRF.
    points.sort_by(|a, b| (b.width * b.height).cmp(&(a.width * a.height)).then(a.crf.cmp(&b.crf)));
    let hull_idx = hull::upper_hull(&points);
    let under_cap = hull::capped_hull(&points, cap);
    if let (Some(cap), true) = (cap, under_cap.is_empty()) {
        let lowest = points.iter().min_by(|a, b| a.score.total_cmp(&b.score));
        return Err(TuneError::Unreachable(format!(
            "no encode scores at or below the cap of {cap}{}: add lower resolutions or higher CRFs, or raise the cap",
            lowest
                .map(|p| format!(" (the lowest is {:.2}, {}x{} at CRF {})", p.score, p.width, p.height, p.crf))
                .unwrap_or_default()
        )));
    }
    let rungs_idx = hull::choose_rungs(&points, &under_cap, req.rules);
    Ok(Ladder {
        source: req.source.display().to_string(),
        encoder: e.name.into(),
        metric: req.scoring.metric.clone(),
        pool: req.scoring.pool,
        source_width: source.width,
        source_height: source.height,
        encodes: points.len(),
        hull: hull_idx.iter().map(|&i| points[i].clone()).collect(),
        rungs: rungs_idx.iter().map(|&i| points[i].clone()).collect(),
        points,
    })
}

/// The gain over the current hull that an unmeasured interval must promise to be measured.
pub const AUTO_TOLERANCE: f64 = 0.5;

/// Adaptive quality points: every resolution at the two ends and the middle of the CRF
/// lattice, then rounds of refinement. Between two neighbouring measured points of one
/// resolution, the curve is predicted from the parabolas through them and their neighbours
/// on either side (averaged, and kept between the two scores); an interval is split at its
/// middle lattice CRF when the prediction rises more than [`AUTO_TOLERANCE`] above the
/// current hull, i.e. when an encode there is expected to move the hull. Intervals far
/// below the hull, or already one lattice step wide, are left alone. Stops when no interval
/// qualifies.
fn auto_points(
    resolutions: &[(u32, u32)],
    lattice: &[u32],
    cap: Option<f64>,
    points: &mut Vec<hull::Point>,
    measure: impl Fn(&[(u32, u32, u32)], &mut Vec<hull::Point>) -> Result<(), TuneError>,
) -> Result<(), TuneError> {
    let n = lattice.len();
    let mut first: Vec<usize> = vec![0, n / 2, n.saturating_sub(1)];
    first.dedup();
    let initial: Vec<(u32, u32, u32)> =
        resolutions.iter().flat_map(|&(w, h)| first.iter().map(move |&i| (w, h, lattice[i]))).collect();
    measure(&initial, points)?;
    loop {
        // Under a cap, what matters is the hull of the points under it.
        let hull_idx = hull::capped_hull(points, cap);
        // The hull's level at a bitrate: nothing below its cheapest point, its top score past
        // its dearest (more bits for less is no gain).
        let level = |x: f64| match hull::hull_score_at(points, &hull_idx, x) {
            Some(v) => v,
            None if hull_idx.first().is_some_and(|&i| x > points[i].bitrate_kbps) => {
                hull_idx.last().map_or(f64::NEG_INFINITY, |&i| points[i].score)
            }
            None => f64::NEG_INFINITY,
        };
        let mut wanted: Vec<(u32, u32, u32)> = Vec::new();
        for &(w, h) in resolutions {
            let mut mine: Vec<&hull::Point> =
                points.iter().filter(|p| (p.width, p.height) == (w, h)).collect();
            mine.sort_by(|a, b| a.bitrate_kbps.total_cmp(&b.bitrate_kbps));
            for k in 0..mine.len().saturating_sub(1) {
                let (a, b) = (mine[k], mine[k + 1]);
                let (Some(ia), Some(ib)) =
                    (lattice.iter().position(|&c| c == a.crf), lattice.iter().position(|&c| c == b.crf))
                else {
                    continue;
                };
                let (lo, hi) = (ia.min(ib), ia.max(ib));
                if hi <= lo + 1 {
                    continue; // nothing left to measure between them
                }
                let predict = |x: f64| {
                    predict_between(k.checked_sub(1).map(|i| mine[i]), a, b, mine.get(k + 2).copied(), x)
                };
                // Only predictions under the cap count: rungs cannot go above it.
                let gain = (1..32)
                    .map(|j| a.bitrate_kbps + (b.bitrate_kbps - a.bitrate_kbps) * j as f64 / 32.0)
                    .map(|x| (x, predict(x)))
                    .filter(|&(_, y)| cap.is_none_or(|c| y <= c))
                    .map(|(x, y)| y - level(x))
                    .fold(f64::NEG_INFINITY, f64::max);
                if gain > AUTO_TOLERANCE {
                    wanted.push((w, h, lattice[(lo + hi) / 2]));
                }
            }
        }
        if wanted.is_empty() {
            return Ok(());
        }
        measure(&wanted, points)?;
    }
}

/// A resolution's predicted score at bitrate `x` between its measured points `a` and `b`:
/// the mean of the parabolas through (`before`, a, b) and (a, b, `after`), clamped to the
/// two scores; the higher score when neither neighbour exists (nothing is known yet).
fn predict_between(
    before: Option<&hull::Point>,
    a: &hull::Point,
    b: &hull::Point,
    after: Option<&hull::Point>,
    x: f64,
) -> f64 {
    let parabola = |p: [&hull::Point; 3]| {
        (0..3)
            .map(|i| {
                let basis: f64 = (0..3)
                    .filter(|&j| j != i)
                    .map(|j| (x - p[j].bitrate_kbps) / (p[i].bitrate_kbps - p[j].bitrate_kbps))
                    .product();
                p[i].score * basis
            })
            .sum::<f64>()
    };
    let fits: Vec<f64> =
        [before.map(|p| [p, a, b]), after.map(|q| [a, b, q])].into_iter().flatten().map(parabola).collect();
    let (lo, hi) = (a.score.min(b.score), a.score.max(b.score));
    if fits.is_empty() {
        return hi;
    }
    (fits.iter().sum::<f64>() / fits.len() as f64).clamp(lo, hi)
}

/// A ladder's usual resolutions, those that fit a `width`×`height` source; the source's own
/// size (made even) when none does.
pub fn default_resolutions(width: u32, height: u32) -> Vec<(u32, u32)> {
    const LADDER: [(u32, u32); 4] = [(1920, 1080), (1280, 720), (960, 540), (640, 360)];
    let fit: Vec<(u32, u32)> = LADDER.into_iter().filter(|&(w, h)| w <= width && h <= height).collect();
    if fit.is_empty() {
        vec![(width & !1, height & !1)]
    } else {
        fit
    }
}

/// Parses `WxH`.
pub fn parse_resolution(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s.trim().split_once(['x', 'X']).ok_or_else(|| format!("`{s}` is not WIDTHxHEIGHT"))?;
    let num = |v: &str| v.parse::<u32>().map_err(|_| format!("`{s}` is not WIDTHxHEIGHT"));
    Ok((num(w)?, num(h)?))
}

/// Parses a CRF list `18,23,28` or a lattice `START:END:STEP`.
pub fn parse_crfs(s: &str) -> Result<Vec<u32>, String> {
    // No encoder's scale goes past 63: a larger number is a mistake, refused before a lattice
    // of it is built.
    const MAX_CRF: u32 = 255;
    let num = |v: &str| {
        v.trim()
            .parse::<u32>()
            .ok()
            .filter(|&c| c <= MAX_CRF)
            .ok_or_else(|| format!("`{v}` in `{s}` is not a CRF (0 to {MAX_CRF})"))
    };
    if let Some((start, rest)) = s.split_once(':') {
        let (end, step) = rest.split_once(':').unwrap_or((rest, "1"));
        let (start, end, step) = (num(start)?, num(end)?, num(step)?);
        if step == 0 || start > end {
            return Err(format!("`{s}`: expected START:END:STEP with START <= END and STEP > 0"));
        }
        return Ok((start..=end).step_by(step as usize).collect());
    }
    if s.split(',').count() > MAX_CRF as usize + 1 {
        return Err(format!("`{s}`: more quality points than CRFs"));
    }
    s.split(',').map(num).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crf_lists_are_bounded_before_they_are_built() {
        assert_eq!(parse_crfs("16:24:4").unwrap(), [16, 20, 24]);
        assert!(parse_crfs("0:4000000000:1").unwrap_err().contains("not a CRF (0 to 255)"));
        assert!(parse_crfs(&vec!["20"; 300].join(",")).unwrap_err().contains("more quality points"));
    }

    #[test]
    fn the_crf_step_suits_the_encoder() {
        let x264 = encoder("libx264").unwrap();
        let svt = encoder("libsvtav1").unwrap();
        assert_eq!(crf_step(x264, None, false).unwrap(), 0.1);
        assert_eq!(crf_step(svt, None, false).unwrap(), 1.0);
        assert_eq!(crf_step(svt, None, true).unwrap(), 0.25, "SVT-AV1 4.0 takes quarter steps");
        assert_eq!(crf_step(svt, Some(0.5), true).unwrap(), 0.5);
        assert!(crf_step(svt, Some(0.1), true).unwrap_err().to_string().contains("quarter CRFs"));
        assert_eq!(crf_step(x264, Some(0.25), false).unwrap(), 0.25);
        assert!(crf_step(svt, Some(0.5), false).unwrap_err().to_string().contains("whole CRFs"));
        assert!(crf_step(x264, Some(0.001), false).is_err() && crf_step(x264, Some(0.0), false).is_err());
        let tenths = CrfLattice { step: 0.1 };
        assert_eq!(tenths.crf(244), 24.4, "no 24.400000000000002");
        assert_eq!((tenths.at_or_above(23.95), tenths.at_or_below(23.95)), (240, 239));
        assert_eq!(tenths.nearest(23.0), 230);
    }

    #[test]
    fn a_tenth_step_search_finds_the_boundary_in_a_few_more_probes() {
        let curve = |position: u32| 100.0 - 0.04 * (position as f64 / 10.0).powf(1.6);
        let range =
            search::Range { min: 0, max: 510, start: 230, per_crf: 10.0, prior_slope: None, headroom: None };
        let (outcome, probes) = search::search(range, 90.0, 20, |p| Ok::<_, ()>(curve(p))).unwrap();
        let best = (0..=510).filter(|&p| curve(p) >= 90.0).max().unwrap();
        assert!(
            matches!(outcome, search::Outcome::Found { crf, .. } if crf == best),
            "{outcome:?} {probes:?}"
        );
        assert!(probes.len() <= 7, "{} probes: {probes:?}", probes.len());
    }

    #[test]
    fn samples_spread_evenly_and_stay_inside() {
        let s = plan_samples(1000, 4, 50).unwrap();
        assert_eq!(s.iter().map(|s| s.start).collect::<Vec<_>>(), [100, 350, 600, 850]);
        assert!(s.iter().all(|s| s.start + s.frames <= 1000));
        assert_eq!(plan_samples(100, 4, 25), None, "covering everything: score it all");
        let edge = plan_samples(10, 3, 3).unwrap();
        assert!(edge.iter().all(|s| s.start + s.frames <= 10), "{edge:?}");
    }

    #[test]
    fn parses_resolutions_and_crf_lists() {
        assert_eq!(parse_resolution("1920x1080"), Ok((1920, 1080)));
        assert!(parse_resolution("1920").is_err());
        assert_eq!(parse_crfs("18,23,28"), Ok(vec![18, 23, 28]));
        assert_eq!(parse_crfs("16:24:4"), Ok(vec![16, 20, 24]));
        assert!(parse_crfs("30:20:2").is_err());
        assert!(parse_crfs("a,b").is_err());
    }
}
