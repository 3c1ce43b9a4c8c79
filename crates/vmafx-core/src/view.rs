//! Jobs and nodes as every client shows them. The gRPC API carries these fields, vmafx-client
//! returns these types, and the HTTP API, `vmafx jobs … --format json` and the MCP tools all
//! write them with [`job_json`] and [`node_json`]: one view, with the same field names and the
//! same `null`s everywhere.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::{pool, Capabilities, EncodeOutcome, JobState, Report, ReportInfo, ScoreJobSpec, Scores};

/// A job: what was asked, where it stands, and (once it succeeded) what it measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobView {
    pub id: String,
    pub state: JobState,
    pub priority: i32,
    /// What was submitted.
    pub spec: ScoreJobSpec,
    pub total_frames: u64,
    /// Frames scored so far, counting those of segments still running.
    pub frames_done: u64,
    pub segments_total: u32,
    pub segments_done: u32,
    /// Why it failed or was cancelled.
    pub error: Option<String>,
    /// Unix milliseconds.
    pub submitted_ms: i64,
    pub started_ms: Option<i64>,
    pub finished_ms: Option<i64>,
    /// The pooled (mean) VMAF of a succeeded job.
    pub vmaf: Option<f64>,
    /// Size and time of an encode job's encode, once it succeeded.
    pub encode: Option<EncodeOutcome>,
    /// Per-frame scores, when they were asked for and the job succeeded.
    #[serde(skip)]
    pub scores: Option<Scores>,
}

impl JobView {
    /// `score` for a job that scores a given distorted, `encode` for one that encodes first.
    pub fn kind(&self) -> &'static str {
        if self.spec.encode.is_some() {
            "encode"
        } else if self.spec.pictures.is_some() {
            "pictures"
        } else if self.spec.is_no_reference() {
            "no-reference"
        } else {
            "score"
        }
    }

    /// What the job scores, in a few words: the distorted, or the encode's arguments.
    pub fn subject(&self) -> String {
        match &self.spec.encode {
            Some(e) => format!("encode {}: {}", self.spec.reference, e),
            None => self.spec.distorted.clone(),
        }
    }
}

/// The pooled mean of `scores`' VMAF column: the number `vmafx score` reports as the score.
pub fn pooled_vmaf(scores: &Scores) -> Option<f64> {
    pool(&scores.column("vmaf")?).map(|p| p.mean).filter(|m| m.is_finite())
}

/// Which per-frame scores a job's JSON carries, when it has scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FramesShown {
    /// Pooled scores only.
    None,
    All,
    /// `limit` frames from the `offset`-th.
    Page {
        offset: usize,
        limit: usize,
    },
}

/// A job as JSON: its fields, then, when it carries scores, `pooled_metrics` (libvmaf's
/// pooled report), `notes` (what was done to the inputs), `frames_total`, and the `frames`
/// that `frames` asks for, each as libvmaf's JSON report writes a frame.
pub fn job_json(job: &JobView, frames: FramesShown) -> Value {
    let mut out = serde_json::to_value(job).unwrap_or(Value::Null);
    out["kind"] = json!(job.kind());
    if let Some(scores) = &job.scores {
        let report = Report { info: ReportInfo::default(), scores: scores.clone() };
        out["pooled_metrics"] = report.pooled_json();
        out["notes"] = json!(scores.notes);
        out["frames_total"] = json!(scores.frames.len());
        let page: Option<Box<dyn Iterator<Item = _>>> = match frames {
            FramesShown::None => None,
            FramesShown::All => Some(Box::new(scores.frames.iter())),
            FramesShown::Page { offset, limit } => {
                Some(Box::new(scores.frames.iter().skip(offset).take(limit)))
            }
        };
        if let Some(page) = page {
            out["frames"] = page.map(|f| report.frame_json(f)).collect();
        }
    }
    out
}

/// Where a node stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeState {
    /// Heard from lately, taking work.
    Live,
    /// Heard from lately, finishing its running items and taking no more.
    Draining,
    /// Not heard from within three heartbeat intervals (exited, drained, or unreachable).
    Gone,
}

impl NodeState {
    pub fn as_str(&self) -> &'static str {
        match self {
            NodeState::Live => "live",
            NodeState::Draining => "draining",
            NodeState::Gone => "gone",
        }
    }
}

/// A registered node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    pub id: String,
    pub name: String,
    pub state: NodeState,
    pub capabilities: Capabilities,
    /// Unix milliseconds.
    pub registered_ms: i64,
    pub last_seen_ms: i64,
}

impl NodeInfo {
    /// The state of a node heard from lately (`live`) or not, with its drain flag.
    pub fn state_of(live: bool, draining: bool) -> NodeState {
        match (live, draining) {
            (false, _) => NodeState::Gone,
            (true, true) => NodeState::Draining,
            (true, false) => NodeState::Live,
        }
    }
}

pub fn node_json(node: &NodeInfo) -> Value {
    serde_json::to_value(node).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FrameScore;

    fn view() -> JobView {
        JobView {
            id: "job-1".into(),
            state: JobState::Succeeded,
            priority: 0,
            spec: serde_json::from_value(json!({
                "reference": "/r.y4m", "distorted": "/d.mp4", "model": "", "model_path": null,
                "segment_frames": null
            }))
            .unwrap(),
            total_frames: 3,
            frames_done: 3,
            segments_total: 1,
            segments_done: 1,
            error: None,
            submitted_ms: 1,
            started_ms: None,
            finished_ms: Some(9),
            vmaf: Some(90.0),
            encode: None,
            scores: Some(Scores {
                metrics: vec!["vmaf".into()],
                frames: (0..3).map(|i| FrameScore { frame_num: i, values: vec![89.0 + i as f64] }).collect(),
                notes: vec![],
            }),
        }
    }

    #[test]
    fn job_json_has_nulls_not_zeros_and_pages_frames() {
        let v = view();
        let pooled = job_json(&v, FramesShown::None);
        assert_eq!(pooled["started_ms"], Value::Null);
        assert_eq!(pooled["error"], Value::Null);
        assert_eq!(pooled["kind"], "score");
        assert_eq!(pooled["spec"]["distorted"], "/d.mp4");
        assert_eq!(pooled["pooled_metrics"]["vmaf"]["mean"], 90.0);
        assert_eq!(pooled["frames_total"], 3);
        assert!(pooled.get("frames").is_none());
        let page = job_json(&v, FramesShown::Page { offset: 1, limit: 5 });
        assert_eq!(page["frames"].as_array().unwrap().len(), 2);
        assert_eq!(page["frames"][0]["frameNum"], 1);
        assert_eq!(job_json(&v, FramesShown::All)["frames"].as_array().unwrap().len(), 3);
        let back: JobView = serde_json::from_value(page).unwrap();
        assert_eq!(back, JobView { scores: None, ..v });
    }

    #[test]
    fn pooled_vmaf_is_the_mean_and_none_without_vmaf() {
        let v = view();
        assert_eq!(pooled_vmaf(v.scores.as_ref().unwrap()), Some(90.0));
        assert_eq!(pooled_vmaf(&Scores::default()), None);
    }

    #[test]
    fn a_node_not_heard_from_is_gone_whatever_its_drain_flag() {
        assert_eq!(NodeInfo::state_of(false, true), NodeState::Gone);
        assert_eq!(NodeInfo::state_of(true, true), NodeState::Draining);
        assert_eq!(NodeInfo::state_of(true, false), NodeState::Live);
    }
}
