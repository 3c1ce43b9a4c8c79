//! Training triples from a clip pair on this machine: the truth from full VMAF, the
//! features from the same pair made `downscale` times smaller (what an `fr` model sees),
//! frame by frame — and, when asked, the distorted's no-reference measures (what an `nr`
//! model sees) against the same truth.

use std::path::PathBuf;

use vmafx_core::scores::Scores;
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
    /// Also the no-reference triples.
    pub nr: bool,
}

/// What a pair gives: its `fr` triples and (when asked) its `nr` triples, one per frame each.
#[derive(Debug, Clone, Default)]
pub struct Collected {
    pub fr: Vec<Triple>,
    pub nr: Vec<Triple>,
}

/// One triple per frame: every metric of the downscaled run as a feature, full VMAF as truth;
/// with `nr`, a second per frame with the distorted's no-reference measures as features.
pub fn collect(req: &CollectRequest) -> anyhow::Result<Collected> {
    let request = |downscale| ScoreRequest {
        threads: req.threads,
        downscale,
        ..ScoreRequest::new(&req.reference, &req.distorted)
    };
    let run = |downscale| score_files(&request(downscale), &mut |_| {}).map(|o| o.report);
    let full = run(1)?;
    let small = run(req.downscale)?;
    let size = (full.info.width, full.info.height);
    let fr = triples(&full.scores, &small.scores, &req.clip, req.downscale, size)?;
    let nr = match req.nr {
        false => Vec::new(),
        true => {
            let measured = vmafx_engine::nr::measure_file(&request(1), &mut |_| {})?;
            triples(&full.scores, &measured.scores, &req.clip, 1, size)?
        }
    };
    Ok(Collected { fr, nr })
}

/// Frame by frame: `features`' metrics as the features, `truth`'s VMAF as the target.
fn triples(
    truth: &Scores,
    features: &Scores,
    clip: &str,
    downscale: u32,
    (width, height): (u32, u32),
) -> anyhow::Result<Vec<Triple>> {
    anyhow::ensure!(
        truth.frames.len() == features.frames.len(),
        "the full run scored {} frames and the features' run {}",
        truth.frames.len(),
        features.frames.len()
    );
    let mut out = Vec::new();
    for (i, (f, s)) in truth.frames.iter().zip(&features.frames).enumerate() {
        let Some(vmaf) = truth.value(i, "vmaf") else { continue };
        let features = features
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
                clip: clip.to_string(),
                frame: f.frame_num,
                downscale,
                width,
                height,
                ..Meta::default()
            },
        });
    }
    Ok(out)
}
