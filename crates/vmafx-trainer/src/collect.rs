//! Training triples from a clip pair on this machine: the truth from full VMAF, the
//! features from the same pair made `downscale` times smaller (what an `fr` model sees),
//! frame by frame.

use std::path::PathBuf;

use vmafx_engine::{score_files, ScoreRequest};

use crate::triples::{Meta, Triple};

#[derive(Debug, Clone)]
pub struct CollectRequest {
    pub reference: PathBuf,
    pub distorted: PathBuf,
    /// The clip's name in the triples (the holdout keeps whole clips apart).
    pub clip: String,
    pub downscale: u32,
    pub threads: u32,
}

/// One triple per frame: every metric of the downscaled run as a feature, full VMAF as truth.
pub fn collect(req: &CollectRequest) -> anyhow::Result<Vec<Triple>> {
    let run = |downscale| {
        let r = ScoreRequest {
            threads: req.threads,
            downscale,
            ..ScoreRequest::new(&req.reference, &req.distorted)
        };
        score_files(&r, &mut |_| {}).map(|o| o.report)
    };
    let full = run(1)?;
    let small = run(req.downscale)?;
    anyhow::ensure!(
        full.scores.frames.len() == small.scores.frames.len(),
        "the full and downscaled runs scored {} and {} frames",
        full.scores.frames.len(),
        small.scores.frames.len()
    );
    let mut out = Vec::new();
    for (i, (f, s)) in full.scores.frames.iter().zip(&small.scores.frames).enumerate() {
        let Some(vmaf) = full.scores.value(i, "vmaf") else { continue };
        let features = small
            .scores
            .metrics
            .iter()
            .zip(&s.values)
            .filter(|(_, v)| v.is_finite())
            .map(|(m, v)| (m.clone(), *v))
            .collect();
        out.push(Triple {
            features,
            vmaf,
            meta: Meta {
                clip: req.clip.clone(),
                frame: f.frame_num,
                downscale: req.downscale,
                width: full.info.width,
                height: full.info.height,
                ..Meta::default()
            },
        });
    }
    Ok(out)
}
