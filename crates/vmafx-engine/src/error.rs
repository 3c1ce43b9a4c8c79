//! Errors of the engine. Input problems name the input and its role.

use std::fmt;
use std::path::PathBuf;

use vmafx_media::MediaError;

/// Which side of the comparison an input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Reference,
    Distorted,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Reference => "reference",
            Role::Distorted => "distorted",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{role} {source}")]
    Input { role: Role, source: MediaError },
    /// Making the distorted from the reference (an encode job) failed.
    #[error("encode: {0}")]
    Encode(MediaError),
    #[error("unknown model `{name}`; built-in models: {}", .valid.join(", "))]
    UnknownModel { name: String, valid: Vec<String> },
    #[error("cannot load model file `{}`: {reason}", .path.display())]
    ModelFile { path: PathBuf, reason: String },
    #[error("unknown feature `{name}`; valid features: {}", .valid.join(", "))]
    UnknownFeature { name: String, valid: Vec<String> },
    #[error(
        "frame counts differ: reference has {reference} frames, distorted has {distorted} \
         (after skipped frames); pass --allow-length-mismatch to score the first {} frames, \
         or align the clips with --skip-reference / --skip-distorted{hint}",
        .reference.min(.distorted)
    )]
    LengthMismatch {
        reference: u64,
        distorted: u64,
        /// What a look at the first frames found, when it explains the difference.
        hint: String,
    },
    #[error("no frames to score: {0}")]
    NoFrames(String),
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// A path outside what this machine allows jobs to read.
    #[error("{0}")]
    NotAllowed(String),
    #[error("cancelled")]
    Cancelled,
    #[error("libvmaf failed in {op} (error {code})")]
    Libvmaf { op: &'static str, code: i32 },
    #[error("internal error: {0}")]
    Internal(String),
}

impl EngineError {
    /// True when the user's input or options are at fault (exit code 2).
    pub fn is_bad_input(&self) -> bool {
        match self {
            EngineError::Input { source, .. } | EngineError::Encode(source) => source.is_bad_input(),
            EngineError::Libvmaf { .. } | EngineError::Internal(_) | EngineError::Cancelled => false,
            _ => true,
        }
    }

    pub(crate) fn input(role: Role) -> impl FnOnce(MediaError) -> EngineError {
        move |source| EngineError::Input { role, source }
    }
}
