//! vmafx-trainer: fits a quality model from training triples, exports it to ONNX, checks
//! the export in ONNX Runtime against its own outputs, and publishes it to a model registry
//! only when it beats the version there (and a constant guess) on a holdout of whole clips.

pub mod collect;
pub mod serve;
pub mod stats;
pub mod train;
/// Training triples (one JSON object per frame), as nodes send them.
pub use vmafx_ai::triple as triples;

use std::path::PathBuf;

use serde::Serialize;
use vmafx_ai::registry::{Metrics, ModelEntry, Normalisation, TensorSpec};
use vmafx_ai::{Kind, LoadedModel, Registry};
use vmafx_media::downscale::Shrink;

use crate::train::FitOptions;
use crate::triples::Triple;

/// An fr model's inputs unless told otherwise: libvmaf's VIF at four scales, ADM, motion and
/// VMAF itself, all measured on the downscaled frames.
pub const DEFAULT_FEATURES: &str =
    "integer_vif_scale0,integer_vif_scale1,integer_vif_scale2,integer_vif_scale3,integer_adm2,integer_motion2,vmaf";

/// The features a model of `kind` is fitted on unless told otherwise: [`DEFAULT_FEATURES`]
/// for fr, every no-reference measure ([`vmafx_engine::nr::measures`]) for nr.
pub fn default_features(kind: Kind) -> Vec<String> {
    match kind {
        Kind::Fr => DEFAULT_FEATURES.split(',').map(String::from).collect(),
        Kind::Nr => vmafx_engine::nr::measures().into_iter().map(|(f, _)| f.to_string()).collect(),
    }
}

/// The largest difference allowed between the trainer's estimates and ONNX Runtime's on the
/// exported model, in VMAF points (float32 arithmetic in another order).
pub const EXPORT_TOLERANCE: f32 = 1e-3;
/// A new version must have an RMSE below this share of a constant guess's (the training
/// mean) on the holdout: a model trained on noise does not.
pub const BASELINE_SHARE: f64 = 0.9;
/// How much lower (VMAF points) a new version's holdout RMSE must be than the current
/// version's: a refit of the same data is not an improvement.
pub const MIN_IMPROVEMENT: f64 = 1e-3;

/// The frames a model's features come from, as the registry entry says.
pub fn entry_shrink(e: &ModelEntry) -> Shrink {
    Shrink { crop: e.crop.max(1), factor: e.downscale.max(1) }
}

/// The frames a triple's features came from (triples from before crops were recorded: the
/// whole frame; a missing downscale stays 0 and matches nothing).
pub fn shrink_of(meta: &vmafx_ai::triple::Meta) -> Shrink {
    Shrink { crop: meta.crop.max(1), factor: meta.downscale }
}

/// `--crop C --downscale D`, as messages name a shrink.
pub fn flags(s: Shrink) -> String {
    format!("--crop {} --downscale {}", s.crop, s.factor)
}

/// What to fit and where to publish it.
#[derive(Debug, Clone)]
pub struct FitRequest {
    pub registry: PathBuf,
    pub id: String,
    pub kind: Kind,
    pub features: Vec<String>,
    /// What the features are measured on (recorded in the entry).
    pub shrink: Shrink,
    /// Share of clips kept aside for the holdout, in percent.
    pub holdout_percent: u32,
    pub fit: FitOptions,
    /// Current time, RFC 3339 (the entry's `created_at`).
    pub now: String,
}

/// What a fit came to.
#[derive(Debug, Clone, Serialize)]
pub struct FitReport {
    pub published: Option<String>,
    /// Why not, when not.
    pub refused: Option<String>,
    pub train_frames: usize,
    pub holdout_frames: usize,
    pub holdout: Metrics,
    /// The version it was measured against, and how that did on the same holdout.
    pub current: Option<(String, Metrics)>,
    /// RMSE of always guessing the training mean.
    pub baseline_rmse: f64,
    /// Largest |trainer − ONNX Runtime| over the holdout.
    pub export_max_difference: f32,
}

/// What online training carries from one fit to the next: the feature normalisation (fixed at
/// the first fit, as the weights are learnt in its units) and the network's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Warm {
    pub norm: Normalisation,
    pub online: train::Online,
}

/// Splits, fits, checks and (when it is better) publishes; `warm` continues an earlier fit's
/// training (see [`Warm`]) instead of starting from seeded weights. Returns the report and
/// the state to continue from.
pub fn fit_and_publish(
    triples: &[Triple],
    req: &FitRequest,
    warm: Option<&Warm>,
) -> anyhow::Result<(FitReport, Warm)> {
    std::fs::create_dir_all(&req.registry)
        .map_err(|e| anyhow::anyhow!("model registry {}: {e}", req.registry.display()))?;
    let mut registry = Registry::open(&req.registry)?;
    vmafx_ai::registry::check_id(&req.id).map_err(anyhow::Error::msg)?;
    anyhow::ensure!(
        req.kind == Kind::Fr || req.shrink.is_none(),
        "an nr model measures the whole distorted at its own size: --crop 1 --downscale 1, not {}",
        flags(req.shrink)
    );
    // Features collected on other frames would be published under the wrong crop or downscale.
    let other = triples.iter().filter(|t| shrink_of(&t.meta) != req.shrink).count();
    anyhow::ensure!(
        other == 0,
        "{other} of {} triples were not collected at {} (their `meta.crop` / `meta.downscale` differ or are \
         missing): collect on the frames the model is fitted for",
        triples.len(),
        flags(req.shrink)
    );
    let (mut train, mut holdout) = (Vec::new(), Vec::new());
    for t in triples {
        if let Some(row) = t.row(&req.features) {
            let side = if t.in_holdout(req.holdout_percent) { &mut holdout } else { &mut train };
            side.push((row, t.vmaf as f32, t));
        }
    }
    if train.len() < 2 || holdout.len() < 2 {
        anyhow::bail!(
            "{} training and {} holdout frames have every feature ({}): need at least 2 of each (more clips)",
            train.len(),
            holdout.len(),
            req.features.join(", ")
        );
    }
    let n = req.features.len();
    let count = train.len() as f32;
    let norm = match warm.filter(|w| w.norm.mean.len() == n) {
        Some(w) => w.norm.clone(),
        None => {
            let mean: Vec<f32> =
                (0..n).map(|j| train.iter().map(|(r, ..)| r[j]).sum::<f32>() / count).collect();
            let std: Vec<f32> = (0..n)
                .map(|j| {
                    let var = train.iter().map(|(r, ..)| (r[j] - mean[j]).powi(2)).sum::<f32>() / count;
                    if var.sqrt() > 1e-6 {
                        var.sqrt()
                    } else {
                        1.0
                    }
                })
                .collect();
            // The range trained on: served inputs are held within it.
            let lower =
                (0..n).map(|j| train.iter().map(|(r, ..)| r[j]).fold(f32::INFINITY, f32::min)).collect();
            let upper =
                (0..n).map(|j| train.iter().map(|(r, ..)| r[j]).fold(f32::NEG_INFINITY, f32::max)).collect();
            Normalisation { mean, std, lower, upper }
        }
    };
    let normalise =
        |row: &[f32]| -> Vec<f32> { row.iter().enumerate().map(|(j, v)| norm.apply(j, *v)).collect() };
    let x: Vec<Vec<f32>> = train.iter().map(|(r, ..)| normalise(r)).collect();
    let y: Vec<f32> = train.iter().map(|(_, v, _)| *v).collect();
    let (fitted, online) = train::fit_from(&x, &y, warm.map(|w| &w.online), req.fit);
    let carried = Warm { norm: norm.clone(), online };

    let held_rows: Vec<Vec<f32>> = holdout.iter().map(|(r, ..)| r.clone()).collect();
    let truth: Vec<f64> = holdout.iter().map(|(_, v, _)| f64::from(*v)).collect();
    let ours = fitted.predict(&held_rows.iter().map(|r| normalise(r)).collect::<Vec<_>>());
    let train_mean = f64::from(y.iter().sum::<f32>() / count);
    let baseline_rmse = stats::rmse(&vec![train_mean; truth.len()], &truth);

    // The export, run by ONNX Runtime, must give the trainer's own numbers.
    let onnx = fitted.to_onnx()?;
    let (input, output) = vmafx_ai::model::graph_names(&onnx)?;
    let current = registry.latest(&req.id).cloned();
    let mut entry = ModelEntry {
        id: req.id.clone(),
        version: current.as_ref().map_or(1, |c| c.version + 1),
        kind: req.kind,
        onnx: String::new(),
        sha256: String::new(),
        inputs: vec![TensorSpec { name: input, shape: vec![-1, n as i64] }],
        outputs: vec![TensorSpec { name: output, shape: vec![-1, 1] }],
        features: req.features.clone(),
        crop: req.shrink.crop,
        downscale: req.shrink.factor,
        normalisation: norm.clone(),
        parent: current.as_ref().map(ModelEntry::label),
        created_at: req.now.clone(),
        metrics: None,
    };
    entry.onnx = format!("{}_v{:03}.onnx", entry.id, entry.version);
    entry.sha256 = vmafx_ai::registry::sha256_hex(&onnx);
    let mut exported = LoadedModel::from_bytes(entry.clone(), &onnx, &req.registry.join(&entry.onnx))?;
    let theirs = exported.estimate(&held_rows)?;
    let export_max_difference = ours.iter().zip(&theirs).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    // Measured as it will be served: the export, in ONNX Runtime (as the current version is).
    let metrics = stats::metrics(&theirs.iter().map(|v| f64::from(*v)).collect::<Vec<_>>(), &truth);
    entry.metrics = Some(metrics);

    // How the current version does on the same holdout.
    let current_metrics = match &current {
        Some(c) if entry_shrink(c) != req.shrink => anyhow::bail!(
            "{} takes features of {}, these triples are at {}: they cannot measure it; collect on its frames",
            c.label(),
            c.frames_described(),
            flags(req.shrink)
        ),
        Some(c) => {
            let rows: Option<Vec<Vec<f32>>> = holdout.iter().map(|(.., t)| t.row(&c.features)).collect();
            let rows = rows.ok_or_else(|| {
                anyhow::anyhow!(
                    "the holdout lacks features of {} ({}): cannot compare",
                    c.label(),
                    c.features.join(", ")
                )
            })?;
            let est = LoadedModel::open(&registry, &c.label())?.estimate(&rows)?;
            Some((c.label(), stats::metrics(&est.iter().map(|v| f64::from(*v)).collect::<Vec<_>>(), &truth)))
        }
        None => None,
    };
    let refused = if export_max_difference > EXPORT_TOLERANCE {
        Some(format!(
            "the exported ONNX differs from the trainer by up to {export_max_difference} on the holdout (allowed {EXPORT_TOLERANCE})"
        ))
    } else if metrics.rmse.is_nan() || metrics.rmse >= baseline_rmse * BASELINE_SHARE {
        Some(format!(
            "holdout RMSE {:.3} is not below {BASELINE_SHARE} x that of always guessing the training mean ({baseline_rmse:.3})",
            metrics.rmse
        ))
    } else if let Some((label, m)) =
        current_metrics.as_ref().filter(|(_, m)| metrics.rmse > m.rmse - MIN_IMPROVEMENT)
    {
        Some(format!(
            "holdout RMSE {:.3} is not better than {label}'s {:.3} (by at least {MIN_IMPROVEMENT})",
            metrics.rmse, m.rmse
        ))
    } else {
        None
    };
    let published = match refused {
        None => {
            registry.publish(entry.clone(), &onnx)?;
            Some(entry.label())
        }
        Some(_) => None,
    };
    let report = FitReport {
        published,
        refused,
        train_frames: train.len(),
        holdout_frames: holdout.len(),
        holdout: metrics,
        current: current_metrics,
        baseline_rmse,
        export_max_difference,
    };
    Ok((report, carried))
}

/// Now, UTC, RFC 3339 (whole seconds), from the system clock.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}
