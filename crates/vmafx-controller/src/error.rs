//! Errors of the controller, shaped for API status codes.

use vmafx_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    /// The request is wrong; `field` names the part at fault (`score.distorted`).
    #[error("{field}: {message}")]
    InvalidArgument { field: String, message: String },
    #[error("no job `{0}`")]
    JobNotFound(String),
    #[error("no node `{0}`")]
    NodeNotFound(String),
    #[error("node `{0}` is not registered (removed with `vmafx nodes remove`, or forgotten after --retain): register first")]
    UnknownNode(String),
    /// A submit token cancelling a job another token submitted.
    #[error("job `{job}` was not submitted by token `{owner}`: only its submitter or an admin token may cancel it")]
    NotYourJob { job: String, owner: String },
    /// A node reported on an item another node holds.
    #[error("item {item} is not leased to node `{node}`")]
    NotYourItem { item: i64, node: String },
    /// An idempotency key reused for a different job: the first job stands.
    #[error(
        "idempotency key `{key}` was already used for job `{job}` with a different spec or priority; \
         use a new key for a new job"
    )]
    IdempotencyConflict { key: String, job: String },
    /// Past the configured queue size or submission rate: try again after `retry_after_ms`.
    #[error("{message}; retry in {} s", .retry_after_ms.div_ceil(1000))]
    Overloaded { message: String, retry_after_ms: u64 },
    #[error("job `{job}` has no complete result: {reason}")]
    NoResult { job: String, reason: String },
    /// A remote input's store could not be reached (or is misconfigured on the controller):
    /// nothing was recorded; the same request may succeed later.
    #[error("{field}: {message}")]
    InputUnavailable { field: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ControllerError {
    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Self {
        ControllerError::InvalidArgument { field: field.into(), message: message.into() }
    }
}
