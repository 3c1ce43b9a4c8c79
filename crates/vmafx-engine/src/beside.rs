//! A second, cheap libvmaf run beside a full-size one: each frame pair, as it goes to the
//! full-size scorer, is also shrunk (a centre crop and/or the box filter of
//! [`vmafx_media::downscale::Shrink`]) and scored by the default VMAF model. Its per-frame features
//! are an `fr` quality model's inputs, measured on the same frames as the full run's VMAF
//! (the truth the model learns from), with one decode for both.
//!
//! The small frames are exactly those a run with the same `shrink` scores, so a model's
//! estimate from them equals `vmafx score --model registry:…` on the same pair.

use vmafx_core::catalog::ModelChoice;
use vmafx_core::Scores;
use vmafx_media::downscale::Shrink;

use crate::error::EngineError;
use crate::libvmaf::{Picture, PicturePool};
use crate::scorer::{Scorer, ScorerConfig};

pub struct Beside {
    scorer: Scorer,
    pool: PicturePool,
    shrink: Shrink,
    format: vmafx_media::VideoFormat,
}

impl Beside {
    /// A run beside one configured as `full`, on frames shrunk by `shrink`.
    pub fn new(full: &ScorerConfig, shrink: Shrink) -> Result<Self, EngineError> {
        let shrink = Shrink::new(shrink.crop, shrink.factor)
            .map_err(|e| EngineError::InvalidOption(format!("a model's inputs: {e}")))?;
        if shrink.is_none() {
            return Err(EngineError::InvalidOption(
                "a model's inputs beside a full run: give a crop or a downscale above 1".into(),
            ));
        }
        let mut scorer = Scorer::new(&ScorerConfig {
            model: ModelChoice::default(),
            features: Vec::new(),
            // A quarter of the pixels or fewer: one worker keeps up with the full run.
            threads: 1,
            format: shrink.format(full.format),
            ..full.clone()
        })?;
        let pool = scorer.picture_pool(2)?;
        Ok(Self { scorer, pool, shrink, format: full.format })
    }

    /// Takes the pair the full-size scorer is about to take.
    pub fn push(&mut self, reference: &Picture, distorted: &Picture) -> Result<(), EngineError> {
        let small = |full: &Picture| -> Result<Picture, EngineError> {
            let mut pic = self.pool.fetch()?;
            self.shrink.apply(self.format, full.planes(), &mut pic.planes_mut());
            Ok(pic)
        };
        let (r, d) = (small(reference)?, small(distorted)?);
        self.scorer.push(r, d)
    }

    /// Every scored frame's features and VMAF at the small size.
    pub fn finish(self) -> Result<Scores, EngineError> {
        self.scorer.finish()
    }
}
