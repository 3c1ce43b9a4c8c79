//! A [`VmafxJob`] in, what to ask the controller and what to write back out. Pure functions:
//! the submission (with the resource's uid as idempotency key), and the status a controller
//! job's view or event gives.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use sha2::{Digest, Sha256};
use vmafx_core::{EncodeSpec, JobState, JobView, Requirements, ScoreJobSpec};

use crate::crd::{JobPhase, VmafxJob, VmafxJobSpec, VmafxJobStatus, POOL_LABEL};

/// The finalizer that cancels the controller job when a VmafxJob is deleted.
pub const FINALIZER: &str = "vmafx.io/cancel-job";

/// Why a VmafxJob cannot be submitted as it is.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// The controller job a VmafxJob asks for.
pub fn job_spec(spec: &VmafxJobSpec) -> Result<ScoreJobSpec, Invalid> {
    if spec.reference.trim().is_empty() {
        return Err(Invalid("spec.reference is empty".into()));
    }
    let encode = spec.encode.as_ref().map(|e| EncodeSpec {
        encoder: e.encoder.clone(),
        crf: e.crf,
        bitrate_kbps: e.bitrate_kbps,
        preset: e.preset.clone(),
        width: e.width,
        height: e.height,
        pix_fmt: e.pix_fmt.clone(),
        start: 0,
        frames: 0,
        options: e.options.clone(),
    });
    let distorted = match (&spec.distorted, &encode) {
        (Some(d), None) if !d.trim().is_empty() => d.clone(),
        (None, Some(_)) => String::new(),
        (Some(_), Some(_)) => {
            return Err(Invalid("give exactly one of spec.distorted and spec.encode".into()))
        }
        _ => {
            return Err(Invalid(
                "spec.distorted is missing (or give spec.encode to encode the reference)".into(),
            ))
        }
    };
    let mut labels = BTreeMap::new();
    if let Some(pool) = &spec.pool {
        labels.insert(POOL_LABEL.to_string(), pool.clone());
    }
    Ok(ScoreJobSpec {
        reference: spec.reference.clone(),
        distorted,
        model: spec.model.clone().unwrap_or_default(),
        model_path: None,
        features: spec.features.clone(),
        subsample: spec.subsample.unwrap_or(1).max(1),
        segment_frames: spec.segment_frames.filter(|&n| n > 0),
        encode,
        pictures: None,
        requirements: Requirements { labels, ..Default::default() },
        inputs: Default::default(),
        versions: Default::default(),
        estimate: None,
    })
}

/// A short digest of a spec, kept in the status at submission: a spec that differs later was
/// changed after it was submitted.
pub fn spec_digest(spec: &VmafxJobSpec) -> String {
    let json = serde_json::to_vec(spec).unwrap_or_default();
    let digest = Sha256::digest(&json);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The idempotency key of a VmafxJob's submission: its uid, so a resubmission after an
/// operator restart finds the same job, and a new resource of the same name makes a new one.
pub fn idempotency_key(job: &VmafxJob) -> Option<String> {
    job.metadata.uid.as_ref().map(|uid| format!("k8s:{uid}"))
}

fn phase_of(state: JobState) -> JobPhase {
    match state {
        JobState::Queued => JobPhase::Submitted,
        JobState::Running => JobPhase::Running,
        JobState::Succeeded => JobPhase::Succeeded,
        JobState::Failed => JobPhase::Failed,
        JobState::Cancelled => JobPhase::Cancelled,
    }
}

fn rfc3339(ms: i64) -> Option<String> {
    k8s_openapi::jiff::Timestamp::from_millisecond(ms).ok().map(|t| t.to_string())
}

/// `42/96 frames (43%)`; the frame count alone while the length is unknown.
pub fn progress_text(done: u64, total: u64) -> String {
    match (done.min(total) * 100).checked_div(total) {
        None => format!("{done} frames"),
        Some(percent) => format!("{done}/{total} frames ({percent}%)"),
    }
}

/// The status a controller job's view gives, keeping what only the operator knows (the
/// submitted spec's digest, conditions of other types) from `previous`.
pub fn status_from_view(
    view: &JobView,
    previous: &VmafxJobStatus,
    generation: Option<i64>,
    now: Time,
) -> VmafxJobStatus {
    let phase = phase_of(view.state);
    let frames_done =
        if phase == JobPhase::Succeeded { view.total_frames.max(view.frames_done) } else { view.frames_done };
    let mut status = VmafxJobStatus {
        phase,
        progress: Some(progress_text(frames_done, view.total_frames)),
        frames_done,
        total_frames: view.total_frames,
        score: view.vmaf.filter(|_| phase == JobPhase::Succeeded),
        controller_job_id: Some(view.id.clone()),
        start_time: view.started_ms.and_then(rfc3339),
        completion_time: view.finished_ms.and_then(rfc3339),
        message: view.error.clone(),
        submitted_spec: previous.submitted_spec.clone(),
        observed_generation: generation.or(previous.observed_generation),
        conditions: previous.conditions.clone(),
    };
    let (ready, reason, message) = match phase {
        JobPhase::Succeeded => {
            ("True", "Succeeded", format!("pooled VMAF {:.6}", view.vmaf.unwrap_or_default()))
        }
        JobPhase::Failed => {
            ("False", "Failed", view.error.clone().unwrap_or_else(|| "the job failed".into()))
        }
        JobPhase::Cancelled => {
            ("False", "Cancelled", view.error.clone().unwrap_or_else(|| "cancelled".into()))
        }
        JobPhase::Running => ("False", "Running", format!("job {} is running", view.id)),
        JobPhase::Submitted | JobPhase::Pending => {
            ("False", "Queued", format!("job {} waits for a node", view.id))
        }
    };
    set_condition(&mut status.conditions, condition("Complete", ready, reason, &message, generation, now));
    status
}

/// The status of a job that cannot be submitted (bad spec, or a spec changed after
/// submission): `Failed` with the reason, and nothing sent to the controller.
pub fn refused(previous: &VmafxJobStatus, why: &str, generation: Option<i64>, now: Time) -> VmafxJobStatus {
    let mut status = previous.clone();
    if status.controller_job_id.is_none() {
        status.phase = JobPhase::Failed;
    }
    status.message = Some(why.to_string());
    status.observed_generation = generation;
    set_condition(
        &mut status.conditions,
        condition("SpecValid", "False", "InvalidSpec", why, generation, now),
    );
    status
}

pub fn condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    generation: Option<i64>,
    now: Time,
) -> Condition {
    Condition {
        type_: type_.into(),
        status: status.into(),
        reason: reason.into(),
        message: message.into(),
        observed_generation: generation,
        last_transition_time: now,
    }
}

/// Puts `new` in place of the condition of its type, keeping the old transition time when
/// its status did not change.
pub fn set_condition(conditions: &mut Vec<Condition>, mut new: Condition) {
    match conditions.iter_mut().find(|c| c.type_ == new.type_) {
        Some(old) => {
            if old.status == new.status {
                new.last_transition_time = old.last_transition_time.clone();
            }
            *old = new;
        }
        None => conditions.push(new),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crd::JobEncode;

    fn spec() -> VmafxJobSpec {
        VmafxJobSpec {
            reference: "s3://corpus/ref.y4m".into(),
            distorted: Some("s3://corpus/dist.mp4".into()),
            pool: Some("gpu-a".into()),
            segment_frames: Some(48),
            priority: 5,
            ..Default::default()
        }
    }

    fn now() -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(1_800_000_000).unwrap())
    }

    fn view(state: JobState) -> JobView {
        JobView {
            id: "j-1".into(),
            state,
            priority: 5,
            spec: job_spec(&spec()).unwrap(),
            total_frames: 96,
            frames_done: 48,
            segments_total: 2,
            segments_done: 1,
            error: None,
            submitted_ms: 1_800_000_000_000,
            started_ms: Some(1_800_000_001_000),
            finished_ms: None,
            vmaf: None,
            encode: None,
            scores: None,
        }
    }

    #[test]
    fn a_pool_becomes_a_label_requirement() {
        let s = job_spec(&spec()).unwrap();
        assert_eq!(s.requirements.labels.get(POOL_LABEL).map(String::as_str), Some("gpu-a"));
        assert_eq!(s.segment_frames, Some(48));
        assert_eq!(s.model, "", "the controller's default model");
        let any = job_spec(&VmafxJobSpec { pool: None, ..spec() }).unwrap();
        assert!(any.requirements.is_empty());
    }

    #[test]
    fn exactly_one_of_distorted_and_encode() {
        let encode = JobEncode { encoder: "libx264".into(), crf: Some(23.5), ..Default::default() };
        let both = VmafxJobSpec { encode: Some(encode.clone()), ..spec() };
        assert!(job_spec(&both).unwrap_err().0.contains("exactly one"));
        let neither = VmafxJobSpec { distorted: None, ..spec() };
        assert!(job_spec(&neither).unwrap_err().0.contains("spec.distorted is missing"));
        let enc = job_spec(&VmafxJobSpec { distorted: None, encode: Some(encode), ..spec() }).unwrap();
        assert_eq!(enc.distorted, "");
        assert_eq!(enc.encode.unwrap().crf, Some(23.5));
        assert!(job_spec(&VmafxJobSpec { reference: " ".into(), ..spec() }).is_err());
    }

    #[test]
    fn the_digest_follows_the_spec() {
        assert_eq!(spec_digest(&spec()), spec_digest(&spec()));
        assert_ne!(spec_digest(&spec()), spec_digest(&VmafxJobSpec { priority: 6, ..spec() }));
    }

    #[test]
    fn status_follows_the_controller_job() {
        let previous = VmafxJobStatus { submitted_spec: Some("abc".into()), ..Default::default() };
        let running = status_from_view(&view(JobState::Running), &previous, Some(1), now());
        assert_eq!(running.phase, JobPhase::Running);
        assert_eq!(running.progress.as_deref(), Some("48/96 frames (50%)"));
        assert_eq!(running.controller_job_id.as_deref(), Some("j-1"));
        assert_eq!(running.submitted_spec.as_deref(), Some("abc"));
        assert_eq!(running.start_time.as_deref(), Some("2027-01-15T08:00:01Z"));
        assert_eq!(running.score, None);
        let queued = status_from_view(&view(JobState::Queued), &previous, Some(1), now());
        assert_eq!(queued.phase, JobPhase::Submitted);

        let mut done = view(JobState::Succeeded);
        done.vmaf = Some(91.234567);
        done.finished_ms = Some(1_800_000_005_000);
        let later = Time(k8s_openapi::jiff::Timestamp::from_second(1_800_000_010).unwrap());
        let ok = status_from_view(&done, &running, Some(1), later.clone());
        assert_eq!(ok.phase, JobPhase::Succeeded);
        assert_eq!(ok.score, Some(91.234567));
        assert_eq!(ok.frames_done, 96);
        assert!(ok.completion_time.is_some());
        let c = ok.conditions.iter().find(|c| c.type_ == "Complete").unwrap();
        assert_eq!((c.status.as_str(), c.reason.as_str()), ("True", "Succeeded"));
        assert_eq!(c.last_transition_time, later, "the condition changed status");

        let mut failed = view(JobState::Failed);
        failed.error = Some("reference: no such file".into());
        let f = status_from_view(&failed, &running, Some(1), later);
        assert_eq!(f.phase, JobPhase::Failed);
        assert_eq!(f.message.as_deref(), Some("reference: no such file"));
        let c = f.conditions.iter().find(|c| c.type_ == "Complete").unwrap();
        assert_eq!(c.last_transition_time, now(), "still False: the first transition time stays");
    }

    #[test]
    fn a_refused_spec_fails_only_an_unsubmitted_job() {
        let r = refused(&VmafxJobStatus::default(), "spec.distorted is missing", Some(1), now());
        assert_eq!(r.phase, JobPhase::Failed);
        let submitted = VmafxJobStatus {
            phase: JobPhase::Running,
            controller_job_id: Some("j-1".into()),
            ..Default::default()
        };
        let r = refused(&submitted, "the spec changed after submission", Some(2), now());
        assert_eq!(r.phase, JobPhase::Running, "the submitted job goes on");
        assert!(r.conditions.iter().any(|c| c.type_ == "SpecValid" && c.status == "False"));
    }
}
