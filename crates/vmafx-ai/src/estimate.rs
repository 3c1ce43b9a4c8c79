//! A model's estimates for a scored run: each frame's features (the run's per-frame metrics
//! the model names) through the model, as one metric named by the model's `ID@VERSION`.

use vmafx_core::scores::{FrameScore, Scores};

use crate::model::LoadedModel;
use crate::AiError;

/// `scores` (a run made as the model's entry asks: its downscale, the default VMAF model)
/// turned into the model's estimates: one metric, named by the model's label, per frame.
/// A feature the run lacks is an error naming the metrics it has; a frame missing a value
/// of a feature (libvmaf had none) gets no estimate (`NaN`).
pub fn estimate(model: &mut LoadedModel, scores: &Scores) -> Result<Scores, AiError> {
    let label = model.entry.label();
    let columns: Vec<usize> = model
        .entry
        .features
        .iter()
        .map(|f| {
            scores.metrics.iter().position(|m| m == f).ok_or_else(|| AiError::Inference {
                model: label.clone(),
                reason: format!(
                    "its feature `{f}` is not among the run's metrics ({}): the model was made for other features",
                    scores.metrics.join(", ")
                ),
            })
        })
        .collect::<Result<_, _>>()?;
    let complete: Vec<&FrameScore> =
        scores.frames.iter().filter(|f| columns.iter().all(|&c| !f.values[c].is_nan())).collect();
    let rows: Vec<Vec<f32>> =
        complete.iter().map(|f| columns.iter().map(|&c| f.values[c] as f32).collect()).collect();
    let mut estimates = if rows.is_empty() { Vec::new() } else { model.estimate(&rows)? }.into_iter();
    let mut complete = complete.into_iter().map(|f| f.frame_num).peekable();
    let frames = scores
        .frames
        .iter()
        .map(|f| {
            let value = if complete.peek() == Some(&f.frame_num) {
                complete.next();
                estimates.next().map_or(f64::NAN, f64::from)
            } else {
                f64::NAN
            };
            FrameScore { frame_num: f.frame_num, values: vec![value] }
        })
        .collect();
    Ok(Scores { metrics: vec![label], frames, notes: scores.notes.clone() })
}
