//! Trials as jobs on a vmafx cluster: each encode-and-score is one job whose node encodes the
//! source with the trial's ffmpeg arguments, scores the encode against the source, and
//! reports the scores with the encode's size and time. The numbers equal a local run's: the
//! same ffmpeg arguments, bit-exact muxing, the same engine.

use std::time::Duration;

use tonic::transport::Channel;
use tonic::Request;
use vmafx_media::Encoded;
use vmafx_proto::v1::job_service_client::JobServiceClient;
use vmafx_proto::v1::{self, JobState};

use crate::trial::{Scoring, Trial};
use crate::TuneError;

/// How often a waiting trial looks at its job.
const POLL: Duration = Duration::from_millis(200);

/// A controller to run trials on.
pub struct Remote {
    runtime: tokio::runtime::Runtime,
    client: JobServiceClient<Channel>,
    token: String,
    address: String,
}

impl Remote {
    /// Connects to the controller at `address` (`http://host:50051`) with an admin token.
    pub fn connect(address: &str, token: &str) -> Result<Self, TuneError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| TuneError::Remote(e.to_string()))?;
        let channel = Channel::from_shared(address.to_string())
            .map_err(|_| {
                TuneError::Usage(format!("--controller `{address}` is not a URL like http://host:50051"))
            })?
            .connect_timeout(Duration::from_secs(5));
        let channel = runtime
            .block_on(channel.connect())
            .map_err(|e| TuneError::Remote(format!("cannot reach the controller at {address}: {e}")))?;
        Ok(Self {
            runtime,
            client: JobServiceClient::new(channel),
            token: token.trim().into(),
            address: address.into(),
        })
    }

    fn request<T>(&self, msg: T) -> Request<T> {
        let mut r = Request::new(msg);
        if let Ok(v) = format!("Bearer {}", self.token).parse() {
            r.metadata_mut().insert("authorization", v);
        }
        r
    }

    fn fail(&self, s: tonic::Status) -> TuneError {
        match s.code() {
            tonic::Code::InvalidArgument | tonic::Code::Unauthenticated | tonic::Code::PermissionDenied => {
                TuneError::Usage(format!("controller {}: {}", self.address, s.message()))
            }
            _ => TuneError::Remote(format!("{}: {}", self.address, s.message())),
        }
    }

    /// Submits the trial as a job and waits for it; returns the encode's size and time and
    /// the searched metric per frame.
    pub fn run(
        &self,
        trial: &Trial,
        args: &[String],
        scoring: &Scoring,
    ) -> Result<(Encoded, Vec<f64>), TuneError> {
        let source = std::path::absolute(&trial.source).unwrap_or_else(|_| trial.source.clone());
        let spec = v1::ScoreSpec {
            reference: source.display().to_string(),
            model: scoring.model.clone(),
            features: crate::trial::features_for(&scoring.metric),
            encode: Some(v1::EncodeSpec {
                args: args.to_vec(),
                start: trial.sample.map_or(0, |s| s.start),
                frames: trial.sample.map_or(0, |s| s.frames),
            }),
            ..Default::default()
        };
        let mut client = self.client.clone();
        self.runtime.block_on(async {
            let submit = v1::SubmitJobRequest { score: Some(spec), ..Default::default() };
            let job =
                client.submit_job(self.request(submit)).await.map_err(|s| self.fail(s))?.into_inner().job;
            let id =
                job.map(|j| j.id).ok_or_else(|| TuneError::Remote("the controller sent no job".into()))?;
            loop {
                let get = v1::GetJobRequest { id: id.clone(), include_scores: true };
                let job = client.get_job(self.request(get)).await.map_err(|s| self.fail(s))?.into_inner();
                match job.state() {
                    JobState::Succeeded => {
                        let scores: vmafx_core::Scores = job
                            .scores
                            .ok_or_else(|| TuneError::Remote(format!("job {id} has no scores")))?
                            .into();
                        let per_frame = scores.column(&scoring.metric).ok_or_else(|| {
                            TuneError::Scoring(format!("job {id} has no `{}` values", scoring.metric))
                        })?;
                        let e = job
                            .encode
                            .ok_or_else(|| TuneError::Remote(format!("job {id} reported no encode")))?;
                        return Ok((Encoded { bytes: e.bytes, seconds: e.encode_seconds }, per_frame));
                    }
                    JobState::Failed | JobState::Cancelled => {
                        return Err(TuneError::Encode {
                            encoder: trial.encoder.name.into(),
                            crf: trial.crf,
                            problem: format!(
                                "job {id} on the cluster {}: {}",
                                if job.state() == JobState::Failed { "failed" } else { "was cancelled" },
                                job.error
                            ),
                        })
                    }
                    _ => tokio::time::sleep(POLL).await,
                }
            }
        })
    }
}
