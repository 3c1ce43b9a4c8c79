//! A trial: encode (part of) the source with one encoder setting, measure the size and the
//! encode time, and score the encode against the source at the source's resolution. Encodes
//! and their scores are cached by (source digest, encoder arguments), so a repeated run
//! re-encodes nothing.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use vmafx_core::pooling::{percentile_sorted, pool};
use vmafx_engine::{score_files, ModelChoice, ScoreRequest};
use vmafx_media::{DecodeOptions, Tools};

use crate::TuneError;
use vmafx_core::encode::{CheckedEncode, EncodeSpec, Encoder};

/// Frames `start..start + frames` of the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sample {
    pub start: u64,
    pub frames: u64,
}

/// How a score is made from an encode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scoring {
    /// Built-in model name.
    pub model: String,
    /// The metric searched on: `vmaf`, or a feature output such as `psnr_y` or `float_ssim`.
    pub metric: String,
    pub pool: Pool,
}

/// How per-frame values become one number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Pool {
    Mean,
    #[value(name = "harmonic_mean", alias = "harmonic-mean")]
    HarmonicMean,
    /// 5th percentile: the quality of the worst moments.
    P5,
    Min,
}

impl Pool {
    /// The name `--pool` takes.
    pub fn name(self) -> &'static str {
        match self {
            Pool::Mean => "mean",
            Pool::HarmonicMean => "harmonic_mean",
            Pool::P5 => "p5",
            Pool::Min => "min",
        }
    }

    pub fn apply(self, values: &[f64]) -> Option<f64> {
        let p = pool(values)?;
        Some(match self {
            Pool::Mean => p.mean,
            Pool::HarmonicMean => p.harmonic_mean,
            Pool::P5 => {
                let mut sorted = values.to_vec();
                sorted.sort_by(f64::total_cmp);
                percentile_sorted(&sorted, 5.0)
            }
            Pool::Min => p.min,
        })
    }
}

/// One encode to make and score.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    pub source: PathBuf,
    pub encoder: &'static Encoder,
    /// Whole, or fractional for an encoder that takes it (`24.4`).
    pub crf: f64,
    pub preset: Option<String>,
    /// `--enc key=value` pairs: the encoder's options (`EncodeSpec::options`).
    pub extra: Vec<(String, String)>,
    /// Encode at this size (scaled with bicubic); `None`: the source's size.
    pub size: Option<(u32, u32)>,
    /// Encode only these frames; `None`: the whole source.
    pub sample: Option<Sample>,
}

impl Trial {
    /// The trial as an encode spec: what a cluster node is sent, and what arguments are
    /// built from here.
    pub fn spec(&self) -> EncodeSpec {
        EncodeSpec {
            encoder: self.encoder.name.into(),
            crf: Some(self.crf),
            preset: self.preset.clone(),
            width: self.size.map(|s| s.0),
            height: self.size.map(|s| s.1),
            start: self.sample.map_or(0, |s| s.start),
            frames: self.sample.map_or(0, |s| s.frames),
            options: self
                .extra
                .iter()
                .map(|(k, v)| (k.trim_start_matches('-').to_string(), v.clone()))
                .collect(),
            ..Default::default()
        }
    }

    /// The spec, checked (its options were checked against this machine's encoder first,
    /// [`crate::EncodeSettings::check_options`]).
    pub fn checked(&self) -> Result<CheckedEncode, TuneError> {
        vmafx_core::encode::check(&self.spec(), None).map_err(|e| TuneError::Usage(e.to_string()))
    }

    /// ffmpeg's arguments after the input: filters, encoder and its settings (none for a
    /// trial whose spec does not check; running it fails saying why).
    pub fn encode_args(&self) -> Vec<String> {
        self.checked().map(|c| c.ffmpeg_args()).unwrap_or_default()
    }
}

/// What a trial measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    pub bytes: u64,
    pub frames: u64,
    /// Bits per second of video, from the bytes and the frames' duration at the source rate.
    pub bitrate_kbps: f64,
    pub encode_seconds: f64,
    /// The pooled score.
    pub score: f64,
    /// The searched metric per frame.
    pub per_frame: Vec<f64>,
    /// Where the encode is (in the cache); `None` when a cluster node made it.
    pub path: Option<PathBuf>,
    /// Read from the cache: nothing was encoded or scored for it now (`encode_seconds` is
    /// the time of the original encode).
    #[serde(default)]
    pub cached: bool,
}

/// What is known of the source.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceInfo {
    pub width: u32,
    pub height: u32,
    pub frames: u64,
    pub fps: f64,
    pub digest: String,
}

/// The cached record of one encode.
#[derive(Debug, Default, Serialize, Deserialize)]
struct CacheEntry {
    bytes: u64,
    frames: u64,
    encode_seconds: f64,
    /// Per-frame values by scoring key (model and metric).
    scores: BTreeMap<String, Vec<f64>>,
}

/// Runs trials on this machine or on a cluster, caching results (and local encodes) in
/// `cache_dir`.
pub struct LocalRunner {
    pub cache_dir: PathBuf,
    pub tools: Tools,
    /// libvmaf threads per scoring run.
    pub threads: u32,
    digests: Mutex<HashMap<PathBuf, String>>,
    /// `ffmpeg -version`'s first line, once asked: part of every cache key, since another
    /// ffmpeg build (another x264) makes other encodes from the same arguments.
    ffmpeg_build: std::sync::OnceLock<String>,
    /// Run encodes and scores as jobs on this cluster instead.
    remote: Option<crate::remote::Remote>,
}

impl LocalRunner {
    pub fn new(cache_dir: PathBuf, tools: Tools, threads: u32) -> Self {
        Self {
            cache_dir,
            tools,
            threads,
            digests: Mutex::default(),
            ffmpeg_build: std::sync::OnceLock::new(),
            remote: None,
        }
    }

    /// Which ffmpeg encodes: its version line, or its path when it does not run (the encode
    /// then fails and says why).
    fn ffmpeg_build(&self) -> &str {
        self.ffmpeg_build.get_or_init(|| {
            std::process::Command::new(&self.tools.ffmpeg)
                .args(["-hide_banner", "-version"])
                .output()
                .ok()
                .and_then(|o| String::from_utf8_lossy(&o.stdout).lines().next().map(str::to_string))
                .unwrap_or_else(|| self.tools.ffmpeg.display().to_string())
        })
    }

    /// Whether trials can encode `e` at quarter CRFs: SVT-AV1 4.0 or later in this
    /// machine's ffmpeg. Not on a cluster: nodes do not report their SVT-AV1's version.
    pub fn quarter_crf(&self, e: &Encoder) -> bool {
        self.remote.is_none()
            && e.quarter_steps_in.is_some()
            && vmafx_media::svtav1_version(&self.tools).is_some_and(|v| v.0 >= 4)
    }

    /// The same runner, sending every encode-and-score to the cluster as a job.
    pub fn with_remote(mut self, remote: crate::remote::Remote) -> Self {
        self.remote = Some(remote);
        self
    }

    /// Probes the source and hashes its content (once per run).
    pub fn source(&self, path: &Path) -> Result<SourceInfo, TuneError> {
        let bad = |problem: String| TuneError::Source { path: path.to_path_buf(), problem };
        let probed = vmafx_media::probe(path, None, &self.tools).map_err(|e| bad(e.to_string()))?;
        let format = probed.format().map_err(|e| bad(e.to_string()))?;
        let frames = probed.frame_count.ok_or_else(|| bad("its frame count is unknown".into()))?;
        let fps = probed.fps().ok_or_else(|| bad("its frame rate is unknown".into()))?;
        Ok(SourceInfo { width: format.width, height: format.height, frames, fps, digest: self.digest(path)? })
    }

    fn digest(&self, path: &Path) -> Result<String, TuneError> {
        if let Some(d) = self.digests.lock().unwrap_or_else(|p| p.into_inner()).get(path) {
            return Ok(d.clone());
        }
        let io = |e: std::io::Error| TuneError::Source { path: path.to_path_buf(), problem: e.to_string() };
        let mut file = std::fs::File::open(path).map_err(io)?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf).map_err(io)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        let digest: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        self.digests.lock().unwrap_or_else(|p| p.into_inner()).insert(path.to_path_buf(), digest.clone());
        Ok(digest)
    }

    /// Encodes and scores one trial, unless the cache has it. Locally the encode is kept in
    /// the cache (for the user, and for scoring with other metrics later); on a cluster the
    /// node encodes, scores and reports, and only the numbers are cached.
    pub fn run(&self, trial: &Trial, source: &SourceInfo, scoring: &Scoring) -> Result<Measured, TuneError> {
        let checked = trial.checked()?;
        let args = checked.ffmpeg_args();
        let key = {
            let mut h = Sha256::new();
            h.update(source.digest.as_bytes());
            h.update([0]);
            h.update(self.ffmpeg_build().as_bytes());
            for a in &args {
                h.update([0]);
                h.update(a.as_bytes());
            }
            h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect::<String>()
        };
        std::fs::create_dir_all(&self.cache_dir)
            .map_err(|e| TuneError::Cache(self.cache_dir.clone(), e.to_string()))?;
        let video = self.cache_dir.join(format!("{key}.mkv"));
        let meta = self.cache_dir.join(format!("{key}.json"));
        let mut entry: CacheEntry = match std::fs::read(&meta) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
            Err(_) => CacheEntry::default(),
        };
        let scoring_key = format!("{}/{}", scoring.model, scoring.metric);
        let frames = trial.sample.map_or(source.frames, |s| s.frames);
        let cached = entry.bytes > 0 && entry.scores.contains_key(&scoring_key);
        let per_frame = match (entry.scores.get(&scoring_key), &self.remote) {
            (Some(v), _) if entry.bytes > 0 => v.clone(),
            (_, Some(remote)) => {
                let (encoded, per_frame) = remote.run(trial, scoring)?;
                entry.bytes = encoded.bytes;
                entry.encode_seconds = encoded.seconds;
                entry.frames = frames;
                entry.scores.insert(scoring_key, per_frame.clone());
                per_frame
            }
            (_, None) => {
                if entry.bytes == 0 || !video.is_file() {
                    let encoded =
                        vmafx_media::encode(&self.tools, &trial.source, &checked, &video, None, None)
                            .map_err(|e| TuneError::Encode {
                                encoder: trial.encoder.name.into(),
                                crf: trial.crf,
                                problem: e.to_string(),
                            })?;
                    entry = CacheEntry {
                        bytes: encoded.bytes,
                        frames,
                        encode_seconds: encoded.seconds,
                        scores: BTreeMap::new(),
                    };
                }
                let v = self.score(trial, &video, scoring)?;
                entry.scores.insert(scoring_key, v.clone());
                v
            }
        };
        let tmp = meta.with_extension("json.tmp");
        let written = serde_json::to_vec_pretty(&entry).map_err(|e| e.to_string()).and_then(|b| {
            std::fs::write(&tmp, b).and_then(|_| std::fs::rename(&tmp, &meta)).map_err(|e| e.to_string())
        });
        written.map_err(|e| TuneError::Cache(meta.clone(), e))?;
        let score = scoring
            .pool
            .apply(&per_frame)
            .ok_or_else(|| TuneError::Scoring(format!("{}: no frames scored", video.display())))?;
        Ok(Measured {
            bytes: entry.bytes,
            frames: entry.frames,
            bitrate_kbps: entry.bytes as f64 * 8.0 / (entry.frames as f64 / source.fps) / 1000.0,
            encode_seconds: entry.encode_seconds,
            score,
            per_frame,
            path: video.is_file().then_some(video),
            cached,
        })
    }

    fn score(&self, trial: &Trial, encoded: &Path, scoring: &Scoring) -> Result<Vec<f64>, TuneError> {
        let features = features_for(&scoring.metric);
        let req = ScoreRequest {
            model: ModelChoice::Builtin(scoring.model.clone()),
            features,
            threads: self.threads,
            skip_reference: trial.sample.map_or(0, |s| s.start),
            max_frames: trial.sample.map(|s| s.frames),
            decode: DecodeOptions { tools: self.tools.clone(), threads: 1 },
            ..ScoreRequest::new(&trial.source, encoded)
        };
        let outcome = score_files(&req, &mut |_| {}).map_err(|e| TuneError::Scoring(e.to_string()))?;
        outcome
            .report
            .scores
            .column(&scoring.metric)
            .ok_or_else(|| TuneError::Scoring(format!("libvmaf gave no `{}` values", scoring.metric)))
    }
}

/// The extra feature that computes `metric` (none for `vmaf`, which the model gives).
pub fn features_for(metric: &str) -> Vec<String> {
    vmafx_core::catalog::FEATURES
        .iter()
        .filter(|f| f.outputs.contains(&metric))
        .map(|f| f.name.to_string())
        .take(1)
        .collect()
}
