//! The node's half of the learning loop: a registry model's estimate beside VMAF (a job's
//! `estimate`), and the frames' (model inputs, VMAF) pairs offered to the co-located trainer
//! as training triples (docs/models.md).

use std::sync::Arc;

use vmafx_ai::capture::Capture;
use vmafx_ai::serve::Served;
use vmafx_ai::triple::{Meta, Triple};
use vmafx_ai::{ModelEntry, ModelServer};
use vmafx_core::{catalog, EstimateSpec, Note, Report, ScoreJobSpec, Scores};
use vmafx_engine::EngineError;
use vmafx_media::downscale::Shrink;

/// What the node runs models from, and where its triples go.
#[derive(Debug, Clone)]
pub struct Learning {
    pub models: Arc<ModelServer>,
    /// The trainer's socket (`--trainer`); `None`: nothing is captured.
    pub capture: Option<Capture>,
}

impl Learning {
    /// Serves the registry in `dir` (read and checked now), models on the providers `eps`
    /// gives, sending triples to `trainer` through a queue of `capacity`; also returns the
    /// execution providers, for the node's capabilities. ONNX Runtime must start here, not at
    /// the first job.
    pub fn start(
        dir: std::path::PathBuf,
        eps: vmafx_ai::EpChoice,
        trainer: Option<std::path::PathBuf>,
        capacity: usize,
    ) -> Result<(Self, Vec<String>), vmafx_ai::AiError> {
        let providers = vmafx_ai::model::providers(&eps)?;
        vmafx_ai::Registry::open(&dir)?;
        let learning = Learning {
            models: Arc::new(ModelServer::new(dir, eps)),
            capture: trainer.map(|socket| Capture::start(socket, capacity)),
        };
        Ok((learning, providers))
    }
}

/// The model `spec` names, as this node serves it now (its newest or pinned version), loaded
/// and sha256-checked. A node without a registry, or a model it cannot load, fails the item
/// with the reason.
pub fn model_for(
    learning: Option<&Learning>,
    spec: &EstimateSpec,
    no_reference: bool,
) -> Result<(ModelEntry, Served), EngineError> {
    let learning = learning.ok_or_else(|| {
        EngineError::InvalidOption(format!(
            "estimate `{}`: this node has no model registry (start it with --registry DIR)",
            spec.model
        ))
    })?;
    let (entry, served) =
        learning.models.get(&spec.model).map_err(|e| EngineError::InvalidOption(format!("estimate: {e}")))?;
    match (entry.kind, no_reference) {
        (vmafx_ai::Kind::Fr, false) | (vmafx_ai::Kind::Nr, true) => Ok((entry, served)),
        (vmafx_ai::Kind::Nr, false) => Err(EngineError::InvalidOption(format!(
            "estimate {}: a no-reference (nr) model; a job with a reference runs full-reference (fr) models \
             (leave out the reference for a no-reference job)",
            entry.label()
        ))),
        (vmafx_ai::Kind::Fr, true) => Err(EngineError::InvalidOption(format!(
            "estimate {}: a full-reference (fr) model needs the reference; a job without one runs no-reference \
             (nr) models",
            entry.label()
        ))),
    }
}

/// The smaller frames' run the model's inputs come from (its crop and downscale), or none
/// when the model reads the full-size run's own features.
pub fn beside_shrink(entry: &ModelEntry) -> Option<Shrink> {
    let shrink = Shrink { crop: entry.crop.max(1), factor: entry.downscale.max(1) };
    (!shrink.is_none()).then_some(shrink)
}

/// What [`add_estimate`] gives back.
pub struct Estimated {
    /// The frames' triples (when capturing and the job's truth is the default VMAF model's,
    /// which is what the models learn; else none).
    pub triples: Vec<Triple>,
    /// Time spent in ONNX Runtime.
    pub inference: std::time::Duration,
}

/// Adds the model's per-frame estimate to `report` under the model's `ID@VERSION`, with a note
/// saying what it is; the frames' triples too when `capturing`.
pub fn add_estimate(
    report: &mut Report,
    features: Option<&Scores>,
    (entry, served): &(ModelEntry, Served),
    spec: &ScoreJobSpec,
    job_id: &str,
    capturing: bool,
) -> Result<Estimated, EngineError> {
    let label = entry.label();
    let features = features.unwrap_or(&report.scores);
    let started = std::time::Instant::now();
    let (estimate, provider) = run_model(served, features)?;
    let inference = started.elapsed();
    let truth_is_default =
        spec.model_path.is_none() && (spec.model.is_empty() || spec.model == catalog::DEFAULT_MODEL);
    let triples = match (capturing, truth_is_default) {
        (true, true) => {
            let shape = beside_shrink(entry).unwrap_or_default();
            triples(&report.scores, features, shape, job_id, report.info.width, report.info.height)
        }
        _ => Vec::new(),
    };
    let s = &mut report.scores;
    if estimate.frames.len() != s.frames.len() {
        return Err(EngineError::Internal(format!(
            "{label}: {} estimates for {} frames",
            estimate.frames.len(),
            s.frames.len()
        )));
    }
    s.metrics.push(label.clone());
    for (f, e) in s.frames.iter_mut().zip(&estimate.frames) {
        f.values.push(e.values[0]);
    }
    report.info.notes.push(Note::info(format!(
        "{label} is an estimate of VMAF by that ONNX model (ONNX Runtime on {provider}), from libvmaf features of \
         {}; not VMAF",
        entry.frames_described()
    )));
    Ok(Estimated { triples, inference })
}

/// The served model's estimates of `features`' frames, and where it ran (the execution
/// provider, and why it fell back if it did).
fn run_model(served: &Served, features: &Scores) -> Result<(Scores, String), EngineError> {
    let mut model = served.lock().unwrap_or_else(|e| e.into_inner());
    let estimate =
        vmafx_ai::estimate(&mut model, features).map_err(|e| EngineError::Internal(e.to_string()))?;
    let provider = match model.fallback() {
        Some(why) => format!("{} ({why})", model.execution_provider()),
        None => model.execution_provider().to_string(),
    };
    Ok((estimate, provider))
}

/// A no-reference job's result: the distorted's measures (`measured`) through the model, the
/// estimate its only metric, with a note saying what it is. No triples: there is no truth.
pub fn nr_estimate(
    mut measured: Report,
    (entry, served): &(ModelEntry, Served),
) -> Result<Report, EngineError> {
    let label = entry.label();
    let (estimate, provider) = run_model(served, &measured.scores)?;
    measured.scores = estimate;
    measured.info.model = label.clone();
    measured.info.score_metric = label.clone();
    measured.info.notes.push(Note::info(format!(
        "{label} is an estimate of VMAF by that ONNX model (ONNX Runtime on {provider}), from no-reference measures \
         of the distorted alone; not VMAF"
    )));
    Ok(measured)
}

/// One triple per frame that has a VMAF: every metric of the `features` run, the truth from
/// `truth`. The job is the clip (the trainer's holdout keeps a job's frames together).
pub fn triples(
    truth: &Scores,
    features: &Scores,
    shrink: Shrink,
    job_id: &str,
    width: u32,
    height: u32,
) -> Vec<Triple> {
    let Some(vmaf) = truth.metrics.iter().position(|m| m == "vmaf") else { return Vec::new() };
    truth
        .frames
        .iter()
        .zip(&features.frames)
        .filter(|(t, f)| t.frame_num == f.frame_num && t.values[vmaf].is_finite())
        .map(|(t, f)| Triple {
            features: features
                .metrics
                .iter()
                .zip(&f.values)
                .filter(|(_, v)| v.is_finite())
                .map(|(m, v)| (m.clone(), *v))
                .collect(),
            vmaf: t.values[vmaf],
            meta: Meta {
                clip: job_id.to_string(),
                frame: t.frame_num,
                downscale: shrink.factor.max(1),
                crop: shrink.crop.max(1),
                job: Some(job_id.to_string()),
                width,
                height,
                codec: None,
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vmafx_core::FrameScore;

    #[test]
    fn a_triple_per_frame_with_a_vmaf_and_every_finite_feature() {
        let truth = Scores {
            metrics: vec!["psnr_y".into(), "vmaf".into()],
            frames: vec![
                FrameScore { frame_num: 4, values: vec![30.0, 80.0] },
                FrameScore { frame_num: 5, values: vec![31.0, f64::NAN] },
                FrameScore { frame_num: 6, values: vec![32.0, 82.0] },
            ],
            notes: vec![],
        };
        let small = Scores {
            metrics: vec!["integer_adm2".into(), "vmaf".into()],
            frames: vec![
                FrameScore { frame_num: 4, values: vec![0.9, 70.0] },
                FrameScore { frame_num: 5, values: vec![0.8, 71.0] },
                FrameScore { frame_num: 6, values: vec![f64::NAN, 72.0] },
            ],
            notes: vec![],
        };
        let t = triples(&truth, &small, Shrink { crop: 1, factor: 4 }, "job-1", 1920, 1080);
        assert_eq!(t.len(), 2);
        assert_eq!((t[0].meta.frame, t[0].vmaf, t[0].features.len()), (4, 80.0, 2));
        assert_eq!(t[0].features["vmaf"], 70.0, "the small run's vmaf is a feature, not the truth");
        assert_eq!((t[1].meta.frame, t[1].features.len()), (6, 1));
        assert_eq!(
            (t[1].meta.downscale, t[1].meta.job.as_deref(), t[1].meta.clip.as_str()),
            (4, Some("job-1"), "job-1")
        );
    }
}
