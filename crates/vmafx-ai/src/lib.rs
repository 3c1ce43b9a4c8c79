//! Quality models beside libvmaf: the model registry ([`registry`]: `registry.json` and
//! sha256-checked `.onnx` files, published atomically) and ONNX Runtime sessions that run a
//! registry's models ([`model`]).
//!
//! A model's output is an estimate by that model, named by its id and version
//! ([`registry::ModelEntry::label`]), never VMAF.

use std::path::PathBuf;

pub mod capture;
pub mod estimate;
pub mod model;
pub mod registry;
pub mod serve;
pub mod triple;

pub use estimate::estimate;
pub use model::{runtime_library, EpChoice, LoadedModel};
pub use registry::{Kind, ModelEntry, Registry};
pub use serve::ModelServer;
pub use triple::Triple;

#[derive(Debug, thiserror::Error)]
pub enum AiError {
    /// `registry.json` cannot be read or says something wrong.
    #[error("model registry {path}: {reason}")]
    Registry { path: PathBuf, reason: String },
    /// A model spec names nothing in the registry.
    #[error("model `{spec}`: {reason}")]
    UnknownModel { spec: String, reason: String },
    /// A model file cannot be loaded: its hash, its size, or its graph against what the
    /// registry declares.
    #[error("model {model} ({path}): {reason}")]
    Load { model: String, path: PathBuf, reason: String },
    /// A new version cannot be published.
    #[error("cannot publish {model}: {reason}")]
    Publish { model: String, reason: String },
    /// ONNX Runtime is not installed or fails to start.
    #[error("ONNX Runtime: {0}")]
    Runtime(String),
    /// Running a loaded model failed.
    #[error("model {model}: {reason}")]
    Inference { model: String, reason: String },
}
