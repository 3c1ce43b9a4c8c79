//! The gRPC API of vmafx (`proto/vmafx/v1`): the only wire contract between processes.
//!
//! `v1` holds the generated messages, clients (`job_service_client`, `node_service_client`)
//! and servers; this module adds conversions between the wire scores and [`vmafx_core::Scores`].

/// Generated code; lints that judge hand-written code do not apply to it.
#[allow(clippy::large_enum_variant, clippy::doc_lazy_continuation)]
pub mod v1 {
    tonic::include_proto!("vmafx.v1");
}

/// Largest message a node may send: one work item's result (at most
/// [`vmafx_core::MAX_SEGMENT_FRAMES`] frames for a split job; a whole encode or a stream of
/// unknown length otherwise). gRPC's default of 4 MiB would refuse a long one.
pub const MAX_REPORT_BYTES: usize = 256 << 20;

/// Largest message a client may receive: a job with every frame's scores (`GetJob` with
/// scores, `WatchJob`'s last event). About 100 bytes a frame with the default model: room for
/// ten million frames, over four days of video at 24 fps.
pub const MAX_JOB_BYTES: usize = 1 << 30;

/// Metadata key of a `RESOURCE_EXHAUSTED` answer: milliseconds to wait before trying again.
pub const RETRY_AFTER_MS: &str = "retry-after-ms";

use vmafx_core::{
    Capabilities, EncodeOutcome, EncodeSpec, EncoderDescription, EstimateSpec, FramePicture, FrameScore,
    InputOptions, JobState as CoreJobState, JobView, NodeInfo, NodeState, Note, NoteLevel, PictureSpec,
    PoolQueue, RawVideo, Requirements, ScoreJobSpec, Scores, SegmentResult,
};

impl From<v1::ScoreSpec> for ScoreJobSpec {
    fn from(s: v1::ScoreSpec) -> Self {
        ScoreJobSpec {
            reference: s.reference,
            distorted: s.distorted,
            model: s.model,
            model_path: Some(s.model_path).filter(|p| !p.is_empty()),
            features: s.features,
            subsample: s.subsample,
            segment_frames: Some(s.segment_frames).filter(|&n| n > 0),
            encode: s.encode.map(EncodeSpec::from),
            pictures: s.pictures.map(|p| PictureSpec { frames: p.frames, max_width: p.max_width }),
            requirements: s.requirements.map(Requirements::from).unwrap_or_default(),
            inputs: InputOptions {
                scale_filter: s.scale_filter,
                fps_match: s.fps_match,
                reference_raw: s.reference_raw.map(RawVideo::from),
                distorted_raw: s.distorted_raw.map(RawVideo::from),
                skip_reference: s.skip_reference,
                skip_distorted: s.skip_distorted,
                max_frames: Some(s.max_frames).filter(|&n| n > 0),
            },
            versions: Default::default(),
            estimate: s.estimate.map(|e| EstimateSpec { model: e.model, no_capture: e.no_capture }),
        }
    }
}

impl From<v1::RawVideo> for RawVideo {
    fn from(r: v1::RawVideo) -> Self {
        RawVideo { width: r.width, height: r.height, pix_fmt: r.pix_fmt, fps: r.fps }
    }
}

impl From<&RawVideo> for v1::RawVideo {
    fn from(r: &RawVideo) -> Self {
        v1::RawVideo { width: r.width, height: r.height, pix_fmt: r.pix_fmt.clone(), fps: r.fps.clone() }
    }
}

impl From<&Note> for v1::Note {
    fn from(n: &Note) -> Self {
        let level = match n.level {
            NoteLevel::Note => "note",
            NoteLevel::Warning => "warning",
        };
        v1::Note { level: level.into(), message: n.message.clone() }
    }
}

impl From<v1::Note> for Note {
    fn from(n: v1::Note) -> Self {
        let level = if n.level == "warning" { NoteLevel::Warning } else { NoteLevel::Note };
        Note { level, message: n.message }
    }
}

impl From<&ScoreJobSpec> for v1::ScoreSpec {
    fn from(s: &ScoreJobSpec) -> Self {
        v1::ScoreSpec {
            reference: s.reference.clone(),
            distorted: s.distorted.clone(),
            model: s.model.clone(),
            model_path: s.model_path.clone().unwrap_or_default(),
            features: s.features.clone(),
            subsample: s.subsample,
            segment_frames: s.segment_frames.unwrap_or(0),
            requirements: Some((&s.requirements).into())
                .filter(|r: &v1::Requirements| *r != v1::Requirements::default()),
            encode: s.encode.as_ref().map(Into::into),
            pictures: s
                .pictures
                .as_ref()
                .map(|p| v1::Pictures { frames: p.frames.clone(), max_width: p.max_width }),
            scale_filter: s.inputs.scale_filter.clone(),
            fps_match: s.inputs.fps_match,
            reference_raw: s.inputs.reference_raw.as_ref().map(Into::into),
            distorted_raw: s.inputs.distorted_raw.as_ref().map(Into::into),
            skip_reference: s.inputs.skip_reference,
            skip_distorted: s.inputs.skip_distorted,
            max_frames: s.inputs.max_frames.unwrap_or(0),
            estimate: s
                .estimate
                .as_ref()
                .map(|e| v1::Estimate { model: e.model.clone(), no_capture: e.no_capture }),
        }
    }
}

impl From<v1::Requirements> for Requirements {
    fn from(r: v1::Requirements) -> Self {
        Requirements {
            gpu_vendor: Some(r.gpu_vendor).filter(|v| !v.is_empty()),
            encoder: Some(r.encoder).filter(|e| !e.is_empty()),
            labels: r.labels.into_iter().collect(),
            models: r.models,
        }
    }
}

impl From<&Requirements> for v1::Requirements {
    fn from(r: &Requirements) -> Self {
        v1::Requirements {
            gpu_vendor: r.gpu_vendor.clone().unwrap_or_default(),
            encoder: r.encoder.clone().unwrap_or_default(),
            labels: r.labels.clone().into_iter().collect(),
            models: r.models,
        }
    }
}

impl From<v1::Capabilities> for Capabilities {
    fn from(c: v1::Capabilities) -> Self {
        Capabilities {
            cores: c.cores,
            slots: c.slots,
            gpu_vendor: c.gpu_vendor.to_ascii_lowercase(),
            gpu_model: c.gpu_model,
            onnx_providers: c.onnx_providers,
            encoders: c.encoders,
            labels: c.labels.into_iter().collect(),
            encoder_options: c
                .encoder_options
                .into_iter()
                .filter(|d| vmafx_core::encode::encoder(&d.encoder).is_ok())
                .take(vmafx_core::encode::ENCODERS.len())
                .map(EncoderDescription::from)
                .collect(),
            // A node says it; bounded like every other size a client controls.
            ffmpeg_version: c.ffmpeg_version.chars().take(64).collect(),
        }
    }
}

/// The most options and pixel formats kept of one encoder's description, and the most named
/// values of one option: a node's report is bounded like anything else a caller sends.
const MAX_DESCRIBED: usize = 1000;
const MAX_CONSTANTS: usize = 200;

impl From<v1::EncoderDescription> for EncoderDescription {
    fn from(d: v1::EncoderDescription) -> Self {
        let short = |s: &String| s.len() <= 64;
        EncoderDescription {
            encoder: d.encoder,
            pix_fmts: d.pix_fmts.into_iter().filter(short).take(MAX_DESCRIBED).collect(),
            options: d
                .options
                .into_iter()
                .filter(|o| short(&o.name) && short(&o.kind))
                .take(MAX_DESCRIBED)
                .map(|o| vmafx_core::encode::EncoderOption {
                    name: o.name,
                    kind: o.kind,
                    constants: o.constants.into_iter().filter(short).take(MAX_CONSTANTS).collect(),
                })
                .collect(),
        }
    }
}

impl From<&EncoderDescription> for v1::EncoderDescription {
    fn from(d: &EncoderDescription) -> Self {
        v1::EncoderDescription {
            encoder: d.encoder.clone(),
            pix_fmts: d.pix_fmts.clone(),
            options: d
                .options
                .iter()
                .map(|o| v1::EncoderOption {
                    name: o.name.clone(),
                    kind: o.kind.clone(),
                    constants: o.constants.clone(),
                })
                .collect(),
        }
    }
}

impl From<v1::EncodeSpec> for EncodeSpec {
    fn from(e: v1::EncodeSpec) -> Self {
        let some = |s: String| Some(s).filter(|s| !s.is_empty());
        EncodeSpec {
            encoder: e.encoder,
            crf: e.crf,
            bitrate_kbps: Some(e.bitrate_kbps).filter(|&b| b > 0),
            preset: some(e.preset),
            width: Some(e.width).filter(|&w| w > 0),
            height: Some(e.height).filter(|&h| h > 0),
            pix_fmt: some(e.pix_fmt),
            start: e.start,
            frames: e.frames,
            options: e.options.into_iter().collect(),
        }
    }
}

impl From<&EncodeSpec> for v1::EncodeSpec {
    fn from(e: &EncodeSpec) -> Self {
        v1::EncodeSpec {
            encoder: e.encoder.clone(),
            crf: e.crf,
            bitrate_kbps: e.bitrate_kbps.unwrap_or(0),
            preset: e.preset.clone().unwrap_or_default(),
            width: e.width.unwrap_or(0),
            height: e.height.unwrap_or(0),
            pix_fmt: e.pix_fmt.clone().unwrap_or_default(),
            start: e.start,
            frames: e.frames,
            options: e.options.clone().into_iter().collect(),
        }
    }
}

impl From<&Scores> for v1::Scores {
    fn from(s: &Scores) -> Self {
        v1::Scores {
            metrics: s.metrics.clone(),
            frames: s
                .frames
                .iter()
                .map(|f| v1::FrameScores { frame_num: f.frame_num, values: f.values.clone() })
                .collect(),
            encode: None,
            notes: s.notes.iter().map(Into::into).collect(),
            pictures: vec![],
        }
    }
}

impl From<v1::Scores> for Scores {
    fn from(s: v1::Scores) -> Self {
        Scores {
            metrics: s.metrics,
            frames: s
                .frames
                .into_iter()
                .map(|f| FrameScore { frame_num: f.frame_num, values: f.values })
                .collect(),
            notes: s.notes.into_iter().map(Note::from).collect(),
        }
    }
}

impl From<&SegmentResult> for v1::Scores {
    fn from(r: &SegmentResult) -> Self {
        v1::Scores {
            encode: r.encode.map(Into::into),
            pictures: r
                .pictures
                .iter()
                .map(|p| v1::FramePicture {
                    frame_num: p.frame_num,
                    reference_png: p.reference_png.clone(),
                    distorted_png: p.distorted_png.clone(),
                })
                .collect(),
            ..v1::Scores::from(&r.scores)
        }
    }
}

impl From<v1::Scores> for SegmentResult {
    fn from(mut s: v1::Scores) -> Self {
        let encode = s.encode.take().map(Into::into);
        let pictures = std::mem::take(&mut s.pictures)
            .into_iter()
            .map(|p| FramePicture {
                frame_num: p.frame_num,
                reference_png: p.reference_png,
                distorted_png: p.distorted_png,
            })
            .collect();
        SegmentResult { scores: Scores::from(s), encode, pictures }
    }
}

impl From<EncodeOutcome> for v1::EncodeResult {
    fn from(e: EncodeOutcome) -> Self {
        v1::EncodeResult { bytes: e.bytes, encode_seconds: e.encode_seconds }
    }
}

impl From<v1::EncodeResult> for EncodeOutcome {
    fn from(e: v1::EncodeResult) -> Self {
        EncodeOutcome { bytes: e.bytes, encode_seconds: e.encode_seconds }
    }
}

impl From<CoreJobState> for v1::JobState {
    fn from(s: CoreJobState) -> Self {
        match s {
            CoreJobState::Queued => v1::JobState::Queued,
            CoreJobState::Running => v1::JobState::Running,
            CoreJobState::Succeeded => v1::JobState::Succeeded,
            CoreJobState::Failed => v1::JobState::Failed,
            CoreJobState::Cancelled => v1::JobState::Cancelled,
        }
    }
}

/// The core state of a wire state; `None` for `UNSPECIFIED` (meaning "any" in filters).
impl From<&JobView> for v1::Job {
    fn from(j: &JobView) -> Self {
        v1::Job {
            id: j.id.clone(),
            state: v1::JobState::from(j.state) as i32,
            score: Some((&j.spec).into()),
            priority: j.priority,
            total_frames: j.total_frames,
            segments_total: j.segments_total,
            segments_done: j.segments_done,
            error: j.error.clone().unwrap_or_default(),
            submitted_ms: j.submitted_ms,
            started_ms: j.started_ms.unwrap_or(0),
            finished_ms: j.finished_ms.unwrap_or(0),
            scores: j.scores.as_ref().map(v1::Scores::from),
            encode: j.encode.map(v1::EncodeResult::from),
            frames_done: j.frames_done,
            vmaf: j.vmaf,
        }
    }
}

impl TryFrom<v1::Job> for JobView {
    type Error = String;

    /// A job as the controller sent it; an error names what is missing.
    fn try_from(j: v1::Job) -> Result<Self, String> {
        let state = job_state(j.state()).ok_or_else(|| format!("job {}: no state", j.id))?;
        let spec = j.score.ok_or_else(|| format!("job {}: no spec", j.id))?;
        let present = |ms: i64| Some(ms).filter(|&t| t > 0);
        Ok(JobView {
            state,
            spec: spec.into(),
            priority: j.priority,
            total_frames: j.total_frames,
            frames_done: j.frames_done,
            segments_total: j.segments_total,
            segments_done: j.segments_done,
            error: Some(j.error).filter(|e| !e.is_empty()),
            submitted_ms: j.submitted_ms,
            started_ms: present(j.started_ms),
            finished_ms: present(j.finished_ms),
            vmaf: j.vmaf,
            encode: j.encode.map(EncodeOutcome::from),
            scores: j.scores.map(Scores::from),
            id: j.id,
        })
    }
}

impl From<&Capabilities> for v1::Capabilities {
    fn from(c: &Capabilities) -> Self {
        v1::Capabilities {
            cores: c.cores,
            slots: c.slots,
            gpu_vendor: c.gpu_vendor.clone(),
            gpu_model: c.gpu_model.clone(),
            onnx_providers: c.onnx_providers.clone(),
            encoders: c.encoders.clone(),
            labels: c.labels.clone().into_iter().collect(),
            encoder_options: c.encoder_options.iter().map(Into::into).collect(),
            ffmpeg_version: c.ffmpeg_version.clone(),
        }
    }
}

impl From<&PoolQueue> for v1::PoolQueue {
    fn from(q: &PoolQueue) -> Self {
        v1::PoolQueue { pool: q.pool.clone(), pending: q.pending, running: q.running }
    }
}

impl From<v1::PoolQueue> for PoolQueue {
    fn from(q: v1::PoolQueue) -> Self {
        PoolQueue { pool: q.pool, pending: q.pending, running: q.running }
    }
}

impl From<&NodeInfo> for v1::NodeInfo {
    fn from(n: &NodeInfo) -> Self {
        let c = &n.capabilities;
        v1::NodeInfo {
            id: n.id.clone(),
            name: n.name.clone(),
            cores: c.cores,
            slots: c.slots,
            gpu_vendor: c.gpu_vendor.clone(),
            gpu_model: c.gpu_model.clone(),
            registered_ms: n.registered_ms,
            last_seen_ms: n.last_seen_ms,
            live: n.state != NodeState::Gone,
            draining: n.state == NodeState::Draining,
            capabilities: Some(c.into()),
        }
    }
}

impl From<v1::NodeInfo> for NodeInfo {
    fn from(n: v1::NodeInfo) -> Self {
        let capabilities = n.capabilities.map(Capabilities::from).unwrap_or_else(|| Capabilities {
            cores: n.cores,
            slots: n.slots,
            gpu_vendor: n.gpu_vendor.clone(),
            gpu_model: n.gpu_model.clone(),
            ..Capabilities::default()
        });
        NodeInfo {
            state: NodeInfo::state_of(n.live, n.draining),
            id: n.id,
            name: n.name,
            capabilities,
            registered_ms: n.registered_ms,
            last_seen_ms: n.last_seen_ms,
        }
    }
}

pub fn job_state(s: v1::JobState) -> Option<CoreJobState> {
    match s {
        v1::JobState::Unspecified => None,
        v1::JobState::Queued => Some(CoreJobState::Queued),
        v1::JobState::Running => Some(CoreJobState::Running),
        v1::JobState::Succeeded => Some(CoreJobState::Succeeded),
        v1::JobState::Failed => Some(CoreJobState::Failed),
        v1::JobState::Cancelled => Some(CoreJobState::Cancelled),
    }
}

impl From<&vmafx_core::catalog::ModelInfo> for v1::ModelInfo {
    fn from(m: &vmafx_core::catalog::ModelInfo) -> Self {
        v1::ModelInfo {
            name: m.name.clone(),
            source: m.source.clone(),
            description: m.description.clone(),
            default: m.default,
            kind: m.kind.clone(),
            features: m.features.clone(),
            downscale: m.downscale,
            crop: m.crop,
            served: m.served,
            holdout: m.holdout.map(Vec::from).unwrap_or_default(),
            parent: m.parent.clone(),
            created_at: m.created_at.clone(),
        }
    }
}

impl From<v1::ModelInfo> for vmafx_core::catalog::ModelInfo {
    fn from(m: v1::ModelInfo) -> Self {
        vmafx_core::catalog::ModelInfo {
            name: m.name,
            source: m.source,
            description: m.description,
            default: m.default,
            kind: m.kind,
            features: m.features,
            downscale: m.downscale,
            crop: m.crop,
            served: m.served,
            holdout: <[f64; 3]>::try_from(m.holdout).ok(),
            parent: m.parent,
            created_at: m.created_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn scores_cross_the_wire_bit_for_bit() {
        let scores = Scores {
            metrics: vec!["integer_adm2".into(), "vmaf".into()],
            frames: vec![
                FrameScore { frame_num: 7, values: vec![0.1 + 0.2, f64::NAN] },
                FrameScore { frame_num: 8, values: vec![1e-300, 97.123_456_789_012_34] },
            ],
            notes: vec![Note::info("distorted is scaled"), Note::warning("reference is HDR")],
        };
        let bytes = v1::Scores::from(&scores).encode_to_vec();
        let back: Scores = v1::Scores::decode(bytes.as_slice()).unwrap().into();
        assert_eq!(back.metrics, scores.metrics);
        assert_eq!(back.notes, scores.notes);
        for (a, b) in back.frames.iter().zip(&scores.frames) {
            assert_eq!(a.frame_num, b.frame_num);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&a.values), bits(&b.values));
        }
    }

    #[test]
    fn job_states_map_both_ways() {
        for s in CoreJobState::ALL {
            assert_eq!(job_state(v1::JobState::from(*s)), Some(*s));
        }
        assert_eq!(job_state(v1::JobState::Unspecified), None);
    }

    #[test]
    fn a_result_report_carries_either_scores_or_a_failure() {
        let req = v1::ReportResultRequest {
            node_id: "n".into(),
            item_id: 3,
            fence: 9,
            outcome: Some(v1::report_result_request::Outcome::Failure(v1::Failure {
                message: "distorted `x.mp4`: no such file".into(),
                permanent: true,
            })),
        };
        let back = v1::ReportResultRequest::decode(req.encode_to_vec().as_slice()).unwrap();
        assert_eq!(back, req);
    }
}
