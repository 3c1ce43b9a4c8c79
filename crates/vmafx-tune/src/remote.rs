//! Trials as jobs on a vmafx cluster: each encode-and-score is one job whose node encodes the
//! source as the trial's typed encode spec says, scores the encode against the source, and
//! reports the scores with the encode's size and time. The numbers equal a local run's: the
//! same spec makes the same ffmpeg arguments, bit-exact muxing, the same engine. Each trial follows its job's
//! watch (no polling).

use vmafx_client::{ClientError, JobClient};
use vmafx_core::{JobState, ScoreJobSpec};
use vmafx_media::Encoded;

use crate::trial::{Scoring, Trial};
use crate::TuneError;

/// A controller to run trials on.
pub struct Remote {
    runtime: tokio::runtime::Runtime,
    client: JobClient,
    /// The source's URI, when it is not a local path: jobs name it, and the controller reads
    /// it for its nodes.
    source: Option<String>,
}

impl From<ClientError> for TuneError {
    fn from(e: ClientError) -> Self {
        if e.is_caller_mistake() {
            TuneError::Usage(format!("controller: {e}"))
        } else {
            TuneError::Remote(e.to_string())
        }
    }
}

impl Remote {
    /// Connects to the controller at `address` (`https://host:50051`) with a submit token (or an admin one).
    pub fn connect(address: &str, token: &str, tls: &vmafx_client::Tls) -> Result<Self, TuneError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| TuneError::Remote(e.to_string()))?;
        let client = runtime.block_on(JobClient::connect(address, token, tls))?;
        Ok(Self { runtime, client, source: None })
    }

    /// Jobs name the source by `uri` (not where this machine reads it: a signed URL).
    pub fn with_source(self, uri: String) -> Self {
        Self { source: Some(uri), ..self }
    }

    /// Submits the trial as a job and waits for it; returns the encode's size and time and
    /// the searched metric per frame.
    pub fn run(&self, trial: &Trial, scoring: &Scoring) -> Result<(Encoded, Vec<f64>), TuneError> {
        let source = match &self.source {
            Some(uri) => uri.clone(),
            None => std::path::absolute(&trial.source)
                .unwrap_or_else(|_| trial.source.clone())
                .display()
                .to_string(),
        };
        let spec = ScoreJobSpec {
            reference: source,
            distorted: String::new(),
            model: scoring.model.clone(),
            model_path: None,
            features: crate::trial::features_for(&scoring.metric),
            subsample: 1,
            segment_frames: None,
            encode: Some(trial.spec()),
            pictures: None,
            requirements: Default::default(),
            inputs: Default::default(),
            versions: Default::default(),
            estimate: None,
        };
        self.runtime.block_on(async {
            let id = self.client.submit(&spec, 0, None).await?.job.id;
            let job = self.client.wait(&id, |_, _| {}).await?;
            match job.state {
                JobState::Succeeded => {
                    let scores =
                        job.scores.ok_or_else(|| TuneError::Remote(format!("job {id} has no scores")))?;
                    let per_frame = scores.column(&scoring.metric).ok_or_else(|| {
                        TuneError::Scoring(format!("job {id} has no `{}` values", scoring.metric))
                    })?;
                    let e = job
                        .encode
                        .ok_or_else(|| TuneError::Remote(format!("job {id} reported no encode")))?;
                    Ok((Encoded { bytes: e.bytes, seconds: e.encode_seconds }, per_frame))
                }
                state => Err(TuneError::Encode {
                    encoder: trial.encoder.name.into(),
                    crf: trial.crf,
                    problem: format!(
                        "job {id} on the cluster {}: {}",
                        if state == JobState::Failed { "failed" } else { "was cancelled" },
                        job.error.unwrap_or_default()
                    ),
                }),
            }
        })
    }
}
