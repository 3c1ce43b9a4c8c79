//! A second, cheap libvmaf run beside a full-size one: each frame pair, as it goes to the
//! full-size scorer, is also made `factor` times smaller (the box filter of
//! [`vmafx_media::downscale`]) and scored by the default VMAF model. Its per-frame features
//! are an `fr` quality model's inputs, measured on the same frames as the full run's VMAF
//! (the truth the model learns from), with one decode for both.
//!
//! The small frames are exactly those a run with `downscale: factor` scores, so a model's
//! estimate from them equals `vmafx score --model registry:…` on the same pair.

use vmafx_core::catalog::ModelChoice;
use vmafx_core::Scores;

use crate::error::EngineError;
use crate::libvmaf::{Picture, PicturePool};
use crate::scorer::{Scorer, ScorerConfig};

pub struct Beside {
    scorer: Scorer,
    pool: PicturePool,
    factor: usize,
}

impl Beside {
    /// A run beside one configured as `full`, on frames `factor` times smaller.
    pub fn new(full: &ScorerConfig, factor: u32) -> Result<Self, EngineError> {
        if !(2..=vmafx_media::downscale::MAX_FACTOR).contains(&factor) {
            return Err(EngineError::InvalidOption(format!(
                "a model's inputs at 1/{factor} size: give 2 to {}",
                vmafx_media::downscale::MAX_FACTOR
            )));
        }
        let mut scorer = Scorer::new(&ScorerConfig {
            model: ModelChoice::default(),
            features: Vec::new(),
            // A sixteenth of the pixels (at 1/4): one worker keeps up with the full run.
            threads: 1,
            format: vmafx_media::downscale::downscaled(full.format, factor),
            ..full.clone()
        })?;
        let pool = scorer.picture_pool(2)?;
        Ok(Self { scorer, pool, factor: factor as usize })
    }

    /// Takes the pair the full-size scorer is about to take.
    pub fn push(&mut self, reference: &Picture, distorted: &Picture) -> Result<(), EngineError> {
        let small = |full: &Picture| -> Result<Picture, EngineError> {
            let mut pic = self.pool.fetch()?;
            let wide = full.wide();
            for (src, dst) in full.planes().into_iter().zip(pic.planes_mut().iter_mut()) {
                vmafx_media::downscale::box_mean(src, wide, self.factor, dst);
            }
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
