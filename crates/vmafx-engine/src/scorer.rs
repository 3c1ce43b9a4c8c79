//! Streaming scorer: frame pairs in, per-frame features and model scores out.

use std::ffi::CString;
use std::ops::Range;

use vmafx_core::{FrameScore, Scores};
use vmafx_media::VideoFormat;

use crate::error::EngineError;
use crate::libvmaf::{Context, Model, Picture, PicturePool};
use vmafx_core::catalog::{self, ModelChoice};

/// What to compute.
#[derive(Debug, Clone)]
pub struct ScorerConfig {
    pub model: ModelChoice,
    /// Extra feature extractors (`psnr`, `float_ssim`, ...), by name or alias.
    pub features: Vec<String>,
    /// libvmaf worker threads.
    pub threads: u32,
    /// Score every n-th frame (1 = all).
    pub subsample: u32,
    /// Format of both inputs' frames.
    pub format: VideoFormat,
    /// Number, in the whole sequence, of the first frame pair pushed (0 unless a segment of a
    /// longer video is scored). Reported frame numbers and `subsample` follow it.
    pub first_frame: u64,
    /// Frames to report, by number; `None` reports every pushed frame. Frames pushed outside
    /// it are context: they feed temporal features (motion) of their neighbours.
    pub report: Option<Range<u64>>,
}

/// Scores a sequence of frame pairs with one model and any extra features.
///
/// ```no_run
/// # fn frames() -> Vec<(vmafx_engine::libvmaf::Picture, vmafx_engine::libvmaf::Picture)> { vec![] }
/// # let format = vmafx_media::VideoFormat { width: 64, height: 64, pix_fmt: vmafx_media::PixelFormat::YUV420P };
/// use vmafx_engine::{Scorer, ScorerConfig, ModelChoice};
/// let mut scorer = Scorer::new(&ScorerConfig {
///     model: ModelChoice::default(), features: vec!["psnr".into()], threads: 2, subsample: 1, format,
///     first_frame: 0, report: None,
/// })?;
/// for (reference, distorted) in frames() {   // pictures from scorer.picture(), filled by a decoder
///     scorer.push(reference, distorted)?;
/// }
/// let scores = scorer.finish()?;            // per-frame `vmaf`, `psnr_y`, ...
/// # Ok::<(), vmafx_engine::EngineError>(())
/// ```
pub struct Scorer {
    ctx: Context,
    model: Model,
    format: VideoFormat,
    subsample: u32,
    threads: u32,
    first_frame: u64,
    report: Option<Range<u64>>,
    frames: u32,
}

impl Scorer {
    pub fn new(cfg: &ScorerConfig) -> Result<Self, EngineError> {
        if cfg.subsample == 0 {
            return Err(EngineError::InvalidOption("--subsample must be at least 1".into()));
        }
        let features = resolve_features(&cfg.features)?;
        let model = match &cfg.model {
            ModelChoice::Builtin(name) => Model::builtin(name)?,
            ModelChoice::Path(path) => Model::from_path(path)?,
        };
        // libvmaf subsamples by its own frame index, which starts at 0 for every context; a run
        // that starts mid-sequence computes every frame and keeps the right ones itself.
        let libvmaf_subsample = if cfg.first_frame == 0 { cfg.subsample } else { 1 };
        let mut ctx = Context::new(cfg.threads, libvmaf_subsample)?;
        ctx.use_model_features(&model)?;
        for f in features {
            ctx.use_feature(f)?;
        }
        Ok(Self {
            ctx,
            model,
            format: cfg.format,
            subsample: cfg.subsample,
            threads: cfg.threads,
            first_frame: cfg.first_frame,
            report: cfg.report.clone(),
            frames: 0,
        })
    }

    pub fn format(&self) -> VideoFormat {
        self.format
    }

    /// A freshly allocated picture in the scorer's format, to be filled by a decoder.
    pub fn picture(&self) -> Result<Picture, EngineError> {
        Picture::alloc(self.format)
    }

    /// A pool of reusable pictures in the scorer's format, for decoders that fill frames on
    /// other threads. `in_flight` is how many pictures the caller may hold at once outside
    /// libvmaf (frames decoded ahead plus the pair being pushed); the pool adds what libvmaf
    /// itself can hold (a queued and a running pair per worker, two previous references), so
    /// fetching never waits on a picture that only the waiting thread could release.
    pub fn picture_pool(&mut self, in_flight: u32) -> Result<PicturePool, EngineError> {
        let count = in_flight + 4 * self.threads + 4;
        self.ctx.picture_pool(self.format, count)
    }

    /// Queues the next frame pair. Extraction runs on libvmaf's worker threads.
    pub fn push(&mut self, reference: Picture, distorted: Picture) -> Result<(), EngineError> {
        self.ctx.read_pictures(reference, distorted, self.frames)?;
        self.frames += 1;
        Ok(())
    }

    /// Frame pairs pushed so far.
    pub fn frames(&self) -> u32 {
        self.frames
    }

    /// Waits for the last frames and returns every scored frame's values.
    pub fn finish(mut self) -> Result<Scores, EngineError> {
        if self.frames == 0 {
            return Err(EngineError::NoFrames("no frame pairs were read".into()));
        }
        self.ctx.flush()?;
        let number = |i: u32| self.first_frame + i as u64;
        let indices: Vec<u32> = (0..self.frames)
            .filter(|&i| number(i) % self.subsample as u64 == 0)
            .filter(|&i| self.report.as_ref().is_none_or(|r| r.contains(&number(i))))
            .collect();
        if indices.is_empty() {
            return Err(EngineError::NoFrames("no pushed frame falls in the frames to report".into()));
        }
        for &i in &indices {
            self.ctx.model_score(&self.model, i)?;
        }
        let metrics = self.ctx.collected_names()?;
        let keys: Vec<CString> = metrics
            .iter()
            .map(|m| {
                CString::new(catalog::collector_key(m))
                    .map_err(|_| EngineError::Internal(format!("bad name {m:?}")))
            })
            .collect::<Result<_, _>>()?;
        let frames = indices
            .iter()
            .map(|&i| FrameScore {
                frame_num: number(i),
                values: keys.iter().map(|k| self.ctx.feature_score(k, i).unwrap_or(f64::NAN)).collect(),
            })
            .collect();
        Ok(Scores { metrics, frames, notes: Vec::new() })
    }

    /// Access to the libvmaf context (for comparisons against libvmaf's own pooling).
    pub fn context(&mut self) -> &mut Context {
        &mut self.ctx
    }
}

/// Maps user feature names to extractor names, rejecting unknown ones with the valid list.
pub fn resolve_features(names: &[String]) -> Result<Vec<&'static str>, EngineError> {
    let mut out: Vec<&'static str> = Vec::new();
    for n in names {
        let f = catalog::feature(n).ok_or_else(|| EngineError::UnknownFeature {
            name: n.clone(),
            valid: catalog::feature_names(),
        })?;
        if !out.contains(&f.name) {
            out.push(f.name);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vmafx_media::PixelFormat;

    fn format() -> VideoFormat {
        VideoFormat { width: 64, height: 48, pix_fmt: PixelFormat::YUV420P }
    }

    fn fill(p: &mut Picture, seed: u32) {
        for (i, plane) in p.planes_mut().iter_mut().enumerate() {
            for (j, b) in plane.data.iter_mut().enumerate() {
                *b = ((j as u32 * 7 + seed * 13 + i as u32 * 5) % 251) as u8;
            }
        }
    }

    fn config(features: &[&str]) -> ScorerConfig {
        ScorerConfig {
            model: ModelChoice::default(),
            features: features.iter().map(|s| s.to_string()).collect(),
            threads: 2,
            subsample: 1,
            format: format(),
            first_frame: 0,
            report: None,
        }
    }

    #[test]
    fn identical_frames_score_near_100_and_pool_like_libvmaf() {
        let mut s = Scorer::new(&config(&["psnr"])).unwrap();
        for i in 0..5 {
            let (mut r, mut d) = (s.picture().unwrap(), s.picture().unwrap());
            fill(&mut r, i);
            fill(&mut d, i);
            s.push(r, d).unwrap();
        }
        let scores = s.finish().unwrap();
        assert_eq!(scores.frames.len(), 5);
        assert!(scores.metrics.contains(&"vmaf".to_string()));
        assert!(scores.metrics.contains(&"integer_adm2".to_string()));
        assert!(scores.metrics.contains(&"psnr_y".to_string()), "{:?}", scores.metrics);
        for v in scores.column("vmaf").unwrap() {
            assert!(v > 95.0, "identical frames scored {v}");
        }
    }

    #[test]
    fn core_pooling_matches_libvmaf_pooling() {
        let mut s = Scorer::new(&config(&[])).unwrap();
        for i in 0..6 {
            let (mut r, mut d) = (s.picture().unwrap(), s.picture().unwrap());
            fill(&mut r, i);
            fill(&mut d, i * 3 + 1);
            s.push(r, d).unwrap();
        }
        // Pool through libvmaf first (finish consumes the scorer), on a second identical run.
        let mut t = Scorer::new(&config(&[])).unwrap();
        for i in 0..6 {
            let (mut r, mut d) = (t.picture().unwrap(), t.picture().unwrap());
            fill(&mut r, i);
            fill(&mut d, i * 3 + 1);
            t.push(r, d).unwrap();
        }
        let scores = s.finish().unwrap();
        t.context().flush().unwrap();
        let key = "VMAF_integer_feature_adm2_score";
        let ours = vmafx_core::pool(&scores.column("integer_adm2").unwrap()).unwrap();
        use crate::libvmaf::Pool;
        let c = t.context();
        assert_eq!(ours.mean, c.feature_pooled(key, Pool::Mean, 0, 5).unwrap());
        assert_eq!(ours.min, c.feature_pooled(key, Pool::Min, 0, 5).unwrap());
        assert_eq!(ours.max, c.feature_pooled(key, Pool::Max, 0, 5).unwrap());
        assert_eq!(ours.harmonic_mean, c.feature_pooled(key, Pool::HarmonicMean, 0, 5).unwrap());
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        let err = Scorer::new(&config(&["sharpness"])).err().unwrap().to_string();
        assert!(err.contains("unknown feature `sharpness`") && err.contains("float_ms_ssim"), "{err}");
        let mut cfg = config(&[]);
        cfg.model = ModelChoice::Builtin("vmaf_v9".into());
        let err = Scorer::new(&cfg).err().unwrap().to_string();
        assert!(err.contains("unknown model `vmaf_v9`") && err.contains("vmaf_v0.6.1neg"), "{err}");
    }

    #[test]
    fn every_listed_builtin_model_loads() {
        for m in catalog::BUILTIN_MODELS {
            let mut cfg = config(&[]);
            cfg.model = ModelChoice::Builtin(m.name.into());
            assert!(Scorer::new(&cfg).is_ok(), "{} does not load", m.name);
        }
    }

    #[test]
    fn subsample_scores_every_nth_frame() {
        let mut cfg = config(&[]);
        cfg.subsample = 2;
        let mut s = Scorer::new(&cfg).unwrap();
        for i in 0..5 {
            let (mut r, mut d) = (s.picture().unwrap(), s.picture().unwrap());
            fill(&mut r, i);
            fill(&mut d, i + 1);
            s.push(r, d).unwrap();
        }
        let nums: Vec<u64> = s.finish().unwrap().frames.iter().map(|f| f.frame_num).collect();
        assert_eq!(nums, vec![0, 2, 4]);
    }
}
