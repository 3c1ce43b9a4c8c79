//! Accepting a job: validate every field with a message that names it, find out how many
//! frames the inputs have, plan the segments, and record it durably.

use std::path::Path;

use vmafx_core::{
    catalog, plan_segments, EncodeOutcome, EncoderDescription, JobState, ScoreJobSpec, Scores, SegmentSpec,
};
use vmafx_media::{plan, AllowedRoots, InputSettings, RawFormat, Tools};
use vmafx_store::{JobRecord, NewJob, Store};

use crate::{fresh_id, now_ms, Controller, ControllerError};

/// A client's request for a scoring job.
#[derive(Debug, Clone)]
pub struct JobRequest {
    pub spec: ScoreJobSpec,
    pub priority: i32,
    pub idempotency_key: Option<String>,
    /// The name of the token that submits it.
    pub owner: String,
}

impl<S: Store> Controller<S> {
    /// Validates and records a job; returns it and whether it was created (`false`: the
    /// idempotency key was used before and the first job is returned).
    pub async fn submit(&self, mut req: JobRequest) -> Result<(JobRecord, bool), ControllerError> {
        self.admit().await?;
        let spec = &mut req.spec;
        validate(spec, &self.config.input_roots, self.config.probe_inputs)?;
        spec.versions =
            crate::inputs::check(&self.config.remote_inputs, spec, self.config.probe_inputs).await?;
        if let Some(e) = &spec.encode {
            let described = self.encoder_described(&e.encoder).await?;
            vmafx_core::encode::check(e, described.as_ref()).map_err(spec_error)?;
        }
        let inputs = &self.config.remote_inputs;
        let total_frames = if spec.pictures.is_none()
            && self.config.probe_inputs
            && (inputs.reads_rclone() || !crate::inputs::names_rclone(spec))
        {
            // ffprobe is a blocking subprocess: keep it off the async workers.
            let spec = crate::inputs::for_probe(&self.config.remote_inputs, spec).await?;
            let tools = self.config.tools.clone();
            tokio::task::spawn_blocking(move || frame_count(&spec, &tools))
                .await
                .map_err(|e| ControllerError::Internal(format!("probing the inputs failed: {e}")))??
        } else {
            0
        };
        // Unknown length (a stream without a frame count, inputs not probed): one work item of
        // the whole video (0 frames: to the end). An encode: one work item.
        let segments = if spec.encode.is_some() {
            vec![SegmentSpec { start: 0, frames: total_frames.max(1) }]
        } else if total_frames == 0 {
            vec![SegmentSpec { start: 0, frames: 0 }]
        } else {
            plan_segments(total_frames, spec.segment_frames)
        };
        let requirement = spec.requirements.key();
        let job = NewJob {
            id: fresh_id("job"),
            idempotency_key: req.idempotency_key.filter(|k| !k.is_empty()),
            spec: spec.clone(),
            priority: req.priority,
            total_frames,
            segments,
            requirement,
            owner: req.owner.clone(),
        };
        let (record, created) = self.submissions.call(job).await?;
        if created {
            tracing::info!(job_id = %record.id, frames = total_frames, items = record.items_total, priority = record.priority, "job submitted");
        }
        if !created && (record.spec != *spec || record.priority != req.priority) {
            return Err(ControllerError::IdempotencyConflict {
                key: record.idempotency_key.clone().unwrap_or_default(),
                job: record.id,
            });
        }
        if created {
            // Known to pulls before they are woken for it.
            self.requirement_keys
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .keys
                .insert(record.spec.requirements.key());
            self.work.notify_waiters();
        }
        Ok((record, created))
    }

    /// What the registered nodes (live or not yet forgotten) report of `encoder`, merged;
    /// `None` when none has it yet: its options are then checked by the node that runs it.
    async fn encoder_described(&self, encoder: &str) -> Result<Option<EncoderDescription>, ControllerError> {
        let nodes = self.store.nodes().await?;
        let described: Vec<EncoderDescription> = nodes
            .into_iter()
            .filter_map(|n| serde_json::from_value::<vmafx_core::Capabilities>(n.capabilities).ok())
            .flat_map(|c| c.encoder_options)
            .filter(|d| d.encoder == encoder)
            .collect();
        Ok(EncoderDescription::merge(&described))
    }

    /// Backpressure: refuses a submission past the submission rate or while the queue is full,
    /// saying when to try again. Nothing is recorded for a refused submission.
    async fn admit(&self) -> Result<(), ControllerError> {
        if let Some(rate) = &self.submit_rate {
            let taken = rate.lock().unwrap_or_else(|p| p.into_inner()).take(std::time::Instant::now());
            if let Err(wait) = taken {
                return Err(ControllerError::Overloaded {
                    message: format!(
                        "over the submission rate of {}/s (--max-submit-rate)",
                        self.config.max_submit_rate.unwrap_or_default()
                    ),
                    retry_after_ms: wait.as_millis().max(1) as u64,
                });
            }
        }
        if let Some(max) = self.config.max_pending_items {
            let pending = self.store.pending_items().await?;
            if pending >= max {
                return Err(ControllerError::Overloaded {
                    message: format!(
                        "the queue is full: {pending} work items wait for a node (--max-pending-items {max})"
                    ),
                    retry_after_ms: crate::admission::QUEUE_FULL_RETRY.as_millis() as u64,
                });
            }
        }
        Ok(())
    }

    pub async fn job(&self, id: &str) -> Result<JobRecord, ControllerError> {
        self.store.job(id).await?.ok_or_else(|| ControllerError::JobNotFound(id.into()))
    }

    /// Cancels a job that has not ended (an ended job is returned as it is).
    /// Cancels a job; with `only_owner`, only a job that owner submitted.
    pub async fn cancel(&self, id: &str, only_owner: Option<&str>) -> Result<JobRecord, ControllerError> {
        let before = self.job(id).await?;
        if let Some(owner) = only_owner.filter(|o| *o != before.owner) {
            return Err(ControllerError::NotYourJob { job: id.into(), owner: owner.into() });
        }
        let job =
            self.store.cancel(id, now_ms()).await?.ok_or_else(|| ControllerError::JobNotFound(id.into()))?;
        if !before.state.is_terminal() && job.state == JobState::Cancelled {
            self.granted.lock().unwrap_or_else(|p| p.into_inner()).retain(|_, c| c.item.job_id != id);
            self.job_ended(id).await;
            self.changes.notify_waiters();
        }
        Ok(job)
    }

    /// What an encode job's node reported of its encode (bytes, time); `None` for a scoring
    /// job or one not finished.
    pub async fn job_encode(&self, id: &str) -> Result<Option<EncodeOutcome>, ControllerError> {
        let items = self.store.items(id).await?;
        Ok(items.first().and_then(|i| i.result.as_ref()).and_then(|r| r.encode))
    }

    /// The job's per-frame scores, assembled from its segments in order.
    pub async fn job_scores(&self, id: &str) -> Result<Scores, ControllerError> {
        let items = self.store.items(id).await?;
        if items.is_empty() {
            return Err(ControllerError::JobNotFound(id.into()));
        }
        let no_result = |reason: String| ControllerError::NoResult { job: id.into(), reason };
        let mut parts = Vec::with_capacity(items.len());
        for item in items {
            let result =
                item.result.ok_or_else(|| no_result(format!("segment {} has not finished", item.index)))?;
            parts.push(result.scores);
        }
        Scores::assemble(parts).map_err(|e| no_result(e.to_string()))
    }
}

/// Frames both inputs have once matched (the smaller count), 0 when neither is known before
/// decoding. The input-matching rules run here too, so a pair a node would refuse (frame
/// rates that differ without `fps_match`) is refused at submission.
fn frame_count(spec: &ScoreJobSpec, tools: &Tools) -> Result<u64, ControllerError> {
    let InputSettings { matching, reference_raw: ref_raw, distorted_raw: dist_raw } =
        InputSettings::from_spec(&spec.inputs)
            .map_err(|(field, e)| ControllerError::invalid(&format!("score.inputs.{field}"), e))?;
    let probed = |field: &str, path: &str, raw: Option<&RawFormat>| {
        vmafx_media::probe(Path::new(path), raw, tools)
            .map_err(|e| ControllerError::invalid(field, e.to_string()))
    };
    let skips = (spec.inputs.skip_reference, spec.inputs.skip_distorted);
    let (reference, mut counts) = if spec.is_no_reference() {
        (None, Vec::new())
    } else {
        let reference = probed("score.reference", &spec.reference, ref_raw.as_ref())?;
        let counts = reference.frame_count.map(|n| n.saturating_sub(skips.0)).into_iter().collect();
        (Some(reference), counts)
    };
    // An encode job's distorted is made on the node: only the reference exists yet.
    if spec.encode.is_none() {
        let distorted = probed("score.distorted", &spec.distorted, dist_raw.as_ref())?;
        let frames = match &reference {
            Some(reference) => {
                reference.format().map_err(|e| ControllerError::invalid("score.reference", e.to_string()))?;
                plan(reference, &distorted, &matching)
                    .map_err(|e| ControllerError::invalid("score.distorted", e.to_string()))?
                    .distorted_frames
            }
            // No reference: the distorted alone, as the node reads it.
            None => {
                distorted.format().map_err(|e| ControllerError::invalid("score.distorted", e.to_string()))?;
                distorted.frame_count
            }
        };
        counts.extend(frames.map(|n| n.saturating_sub(skips.1)));
    }
    if (skips.0 > 0 || skips.1 > 0) && counts.contains(&0) {
        let (field, skip) = if reference.as_ref().and_then(|r| r.frame_count).is_some_and(|n| n <= skips.0) {
            ("score.inputs.skip_reference", skips.0)
        } else {
            ("score.inputs.skip_distorted", skips.1)
        };
        return Err(ControllerError::invalid(field, format!("skipping {skip} frames leaves none to score")));
    }
    // Unknown lengths (streams) with a limit: the limit is the length.
    let total = counts.into_iter().chain(spec.inputs.max_frames).min().unwrap_or(0);
    if total > vmafx_core::job::MAX_JOB_FRAMES {
        return Err(ControllerError::invalid(
            if reference.is_some() { "score.reference" } else { "score.distorted" },
            format!(
                "{total} frames is more than a job may score ({}); split the video, or set max_frames",
                vmafx_core::job::MAX_JOB_FRAMES
            ),
        ));
    }
    match &spec.encode {
        Some(e) if e.frames > 0 => {
            if total > 0 && e.start + e.frames > total {
                return Err(ControllerError::invalid(
                    "score.encode.frames",
                    format!(
                        "frames {}..{} run past the reference's {total} frames",
                        e.start,
                        e.start + e.frames
                    ),
                ));
            }
            Ok(e.frames)
        }
        _ => Ok(total),
    }
}

/// What a job without a reference may ask: only what applies to the distorted alone.
fn check_no_reference(spec: &mut ScoreJobSpec) -> Result<(), ControllerError> {
    let i = &spec.inputs;
    let refused = [
        ("score.features", !spec.features.is_empty()),
        ("score.model_path", spec.model_path.as_ref().is_some_and(|p| !p.is_empty())),
        ("score.pictures", spec.pictures.is_some()),
        ("score.subsample", spec.subsample > 1),
        ("score.inputs.skip_reference", i.skip_reference > 0),
        ("score.inputs.reference_raw", i.reference_raw.is_some()),
        ("score.inputs.fps_match", i.fps_match),
    ];
    if let Some((field, _)) = refused.iter().find(|(_, given)| *given) {
        return Err(ControllerError::invalid(
            field,
            "needs a reference; a job without one is an estimate by a no-reference model of the distorted alone",
        ));
    }
    spec.reference.clear();
    Ok(())
}

/// What [`Controller::submit`] checks of a request before probing anything: for the fuzz
/// targets, which feed it untrusted bytes.
pub fn check_request(spec: &mut ScoreJobSpec, roots: &AllowedRoots) -> Result<(), ControllerError> {
    validate(spec, roots, false)
}

/// Checks every field a client sets; normalises defaults (model, subsample). Local paths
/// must name regular files under `roots` (resolved, when this machine sees the files:
/// `probe`), and are replaced by what they resolve to.
fn validate(spec: &mut ScoreJobSpec, roots: &AllowedRoots, probe: bool) -> Result<(), ControllerError> {
    let no_reference = spec.is_no_reference();
    for (field, value) in [("score.reference", &spec.reference), ("score.distorted", &spec.distorted)] {
        let optional = match field {
            "score.distorted" => spec.encode.is_some(),
            _ => no_reference,
        };
        if value.trim().is_empty() && !optional {
            let hint = match field {
                "score.reference" => {
                    " (a job without one estimates with a no-reference model: set score.estimate)"
                }
                _ => "",
            };
            return Err(ControllerError::invalid(field, format!("is required{hint}")));
        }
    }
    if no_reference {
        check_no_reference(spec)?;
    }
    let encode = spec.encode.is_some();
    let paths = [
        ("score.reference", Some(&mut spec.reference).filter(|_| !no_reference)),
        ("score.distorted", Some(&mut spec.distorted).filter(|_| !encode)),
        ("score.model_path", spec.model_path.as_mut()),
    ];
    for (field, path) in paths {
        let Some(p) = path.filter(|p| !p.is_empty()) else { continue };
        if crate::inputs::remote(field, p)?.is_some() {
            if field == "score.model_path" {
                return Err(ControllerError::invalid(
                    field,
                    "a model file is a local path under --allow-root",
                ));
            }
            continue;
        }
        if !Path::new(p.as_str()).is_absolute() {
            return Err(ControllerError::invalid(
                field,
                format!(
                    "`{p}` is a relative path; give an absolute one (nodes open it on their own machine, \
                     where a relative path would mean something else)"
                ),
            ));
        }
        if probe {
            let resolved =
                roots.check(field, p).map_err(|m| ControllerError::invalid(field, strip_field(field, &m)))?;
            *p = resolved.display().to_string();
        } else {
            roots
                .check_spelling(field, p)
                .map_err(|m| ControllerError::invalid(field, strip_field(field, &m)))?;
        }
    }
    if let Some(e) = &mut spec.encode {
        // What can be checked without the nodes' reports (names against them: `submit`).
        vmafx_core::encode::check(e, None).map_err(spec_error)?;
        let i = &spec.inputs;
        if i.skip_reference > 0 || i.skip_distorted > 0 || i.max_frames.is_some() {
            return Err(ControllerError::invalid(
                "score.inputs",
                "an encode job scores frames encode.start .. start + frames of its reference: \
                 give those instead of skips or max_frames",
            ));
        }
        // One encode is one work item.
        spec.segment_frames = None;
        spec.distorted.clear();
    }
    if let Some(p) = &spec.pictures {
        p.check().map_err(|m| ControllerError::invalid("score.pictures", m))?;
        if spec.encode.is_some() {
            return Err(ControllerError::invalid(
                "score.pictures",
                "pictures are made of a scored pair, not of an encode",
            ));
        }
        // Pictures of a few frames are one work item.
        spec.segment_frames = None;
    }
    if let Some(e) = &spec.estimate {
        e.parse().map_err(|m| ControllerError::invalid("score.estimate.model", m))?;
        if spec.encode.is_some() || spec.pictures.is_some() {
            return Err(ControllerError::invalid(
                "score.estimate",
                "an estimate is made beside the scoring of a given pair, not of an encode or pictures",
            ));
        }
        // One version of the model for the whole job: one work item, on a node that runs models.
        spec.segment_frames = None;
        spec.requirements.models = true;
    }
    if spec.inputs.max_frames == Some(0) {
        return Err(ControllerError::invalid("score.inputs.max_frames", "must be at least 1"));
    }
    if spec.model_path.as_ref().is_some_and(|p| p.is_empty()) {
        spec.model_path = None;
    }
    if spec.model.is_empty() {
        spec.model = catalog::DEFAULT_MODEL.into();
    }
    if spec.model_path.is_none() && !catalog::model_names().contains(&spec.model) {
        return Err(ControllerError::invalid(
            "score.model",
            format!("unknown model `{}`; built-in models: {}", spec.model, catalog::model_names().join(", ")),
        ));
    }
    for f in &spec.features {
        if catalog::feature(f).is_none() {
            return Err(ControllerError::invalid(
                "score.features",
                format!("unknown feature `{f}`; valid features: {}", catalog::feature_names().join(", ")),
            ));
        }
    }
    if let Some(e) = &spec.encode {
        // An encode runs only where the encoder is.
        match &spec.requirements.encoder {
            Some(asked) if *asked != e.encoder => {
                return Err(ControllerError::invalid(
                    "score.requirements.encoder",
                    format!("`{asked}` differs from the encode's encoder `{}`", e.encoder),
                ));
            }
            _ => spec.requirements.encoder = Some(e.encoder.clone()),
        }
    }
    spec.requirements
        .validate()
        .map_err(|(field, message)| ControllerError::invalid(&format!("score.{field}"), message))?;
    spec.subsample = spec.subsample.max(1);
    if spec.segment_frames == Some(0) {
        spec.segment_frames = None;
    }
    Ok(())
}

fn spec_error(e: vmafx_core::encode::SpecError) -> ControllerError {
    ControllerError::invalid(&format!("score.{}", e.field), e.problem)
}

/// A roots message without its leading field name (the error adds it back).
fn strip_field(field: &str, message: &str) -> String {
    message
        .strip_prefix(field)
        .map(|m| m.trim_start_matches([':', ' ']).to_string())
        .unwrap_or_else(|| message.into())
}
