//! Domain types shared by every vmafx crate.
//!
//! Per-frame scores ([`Scores`]), the pooling math libvmaf uses ([`pooling`]), and the
//! report formats ([`report`]) that the CLI, the node and the MCP server all print, and the
//! cluster's jobs and work items ([`job`]). No I/O beyond writing into a `String`, no async.

pub mod catalog;
pub mod duration;
pub mod encode;
pub mod input;
pub mod job;
pub mod message;
pub mod metrics;
pub mod note;
pub mod plot;
pub mod pooling;
pub mod report;
pub mod sched;
pub mod scores;
pub mod secret;
pub mod view;

pub use duration::parse_duration;
pub use encode::{EncodeSpec, EncoderDescription};
pub use input::{InputUri, InputUriError};
pub use job::{
    plan_segments, EstimateSpec, InputOptions, ItemState, JobState, PictureSpec, RawVideo, ScoreJobSpec,
    SegmentSpec,
};
pub use message::one_statement;
pub use note::{Note, NoteLevel};
pub use pooling::{pool, Pooled};
pub use report::{Report, ReportFormat, ReportInfo};
pub use sched::{pool_queues, Capabilities, PoolQueue, Requirements, POOL_LABEL};
pub use scores::{AssembleError, EncodeOutcome, FramePicture, FrameScore, Scores, SegmentResult};
pub use secret::secrets_equal;
pub use view::{job_json, node_json, pooled_vmaf, FramesShown, JobView, NodeInfo, NodeState};
