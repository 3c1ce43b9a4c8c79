//! Training triples from a clip pair on this machine: the truth from full VMAF, the
//! features from the same pair shrunk — a centre crop and/or a downscale (what an `fr` model
//! sees), scored beside the full run from the same decoded frames — frame by frame — and, when asked, the distorted's no-reference measures (what an `nr`
//! model sees) against the same truth.

use std::path::PathBuf;

use vmafx_core::scores::Scores;
use vmafx_engine::{score_files, ScoreRequest};
use vmafx_media::downscale::Shrink;

use crate::triples::{Meta, Triple};

#[derive(Debug, Clone)]
pub struct CollectRequest {
    pub reference: PathBuf,
    pub distorted: PathBuf,
    /// The clip's name in the triples (the holdout keeps whole clips apart).
    pub clip: String,
    /// What the `fr` features are measured on.
    pub shrink: Shrink,
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

/// One triple per frame: every metric of the shrunk run as a feature, full VMAF as truth;
/// with `nr`, a second per frame with the distorted's no-reference measures as features.
pub fn collect(req: &CollectRequest) -> anyhow::Result<Collected> {
    anyhow::ensure!(!req.shrink.is_none(), "an fr model's inputs: give a crop or a downscale above 1");
    let request = ScoreRequest { threads: req.threads, ..ScoreRequest::new(&req.reference, &req.distorted) };
    let outcome = score_files(&ScoreRequest { beside: Some(req.shrink), ..request.clone() }, &mut |_| {})?;
    let full = outcome.report;
    let small = outcome.beside.ok_or_else(|| anyhow::anyhow!("the run beside gave no scores"))?;
    let size = (full.info.width, full.info.height);
    let fr = triples(&full.scores, &small, &req.clip, req.shrink, size)?;
    let nr = match req.nr {
        false => Vec::new(),
        true => {
            let measured = vmafx_engine::nr::measure_file(&request, &mut |_| {})?;
            triples(&full.scores, &measured.scores, &req.clip, Shrink::NONE, size)?
        }
    };
    Ok(Collected { fr, nr })
}

/// Frame by frame: `features`' metrics as the features, `truth`'s VMAF as the target.
fn triples(
    truth: &Scores,
    features: &Scores,
    clip: &str,
    shrink: Shrink,
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
                downscale: shrink.factor,
                crop: shrink.crop,
                width,
                height,
                ..Meta::default()
            },
        });
    }
    Ok(out)
}
