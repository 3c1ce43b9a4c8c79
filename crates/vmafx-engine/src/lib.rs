//! The scoring engine: libvmaf linked in-process behind a safe, streaming API.
//!
//! [`Scorer`] takes frame pairs one at a time and returns per-frame features and model scores
//! in libvmaf's exact numbers; [`score_files`] wires two decoders (Y4M or ffmpeg) to a scorer
//! on their own threads so that decoding overlaps scoring. [`catalog`] names the built-in
//! models and the extra features users can ask for.

pub mod beside;
pub mod error;
pub mod libvmaf;
pub mod nr;
pub mod pipeline;
pub mod scorer;

pub use error::{EngineError, Role};
pub use vmafx_core::catalog::{self, ModelChoice, BUILTIN_MODELS, FEATURES};

pub use pipeline::{pictures, score_files, Progress, ScoreOutcome, ScoreRequest, Segment};
pub use scorer::{Scorer, ScorerConfig};
