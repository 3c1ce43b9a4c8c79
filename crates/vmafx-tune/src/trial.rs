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

use crate::{Runner, TuneError};
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
    /// Scored from the encoder's output as it was made, beside the encoder.
    #[serde(default)]
    pub scored_while_encoding: bool,
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
    /// libvmaf threads, shared by the runs that go at once: a run alone (a probe of the whole
    /// source) scores with all of them, also after its encoder has finished.
    pub threads: u32,
    digests: Mutex<HashMap<PathBuf, String>>,
    probes: Mutex<HashMap<PathBuf, vmafx_media::Probe>>,
    /// Held while an excerpt is written.
    excerpts: Mutex<()>,
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
            // Every probe encodes and scores against the same source: probe it once.
            tools: if tools.probes.is_some() { tools } else { tools.remembering_probes() },
            threads,
            digests: Mutex::default(),
            probes: Mutex::default(),
            excerpts: Mutex::default(),
            ffmpeg_build: std::sync::OnceLock::new(),
            remote: None,
        }
    }

    /// Which ffmpeg encodes: its version line, or its path when it does not run (the encode
    /// then fails and says why).
    fn ffmpeg_build(&self) -> &str {
        self.ffmpeg_build.get_or_init(|| {
            vmafx_media::tool::ffmpeg_version_line(&self.tools.ffmpeg)
                .unwrap_or_else(|| self.tools.ffmpeg.display().to_string())
        })
    }

    /// Asks at once what the first encode of `source` with `e` waits on: the source's probe
    /// and digest, ffmpeg's build and whether `e` takes quarter CRFs (each kept for the run).
    /// What fails is left for the call that needs it to report.
    pub fn prepare(&self, source: &Path, e: &Encoder) {
        std::thread::scope(|s| {
            s.spawn(|| self.quarter_crf(e));
            s.spawn(|| self.ffmpeg_build());
            let _ = self.source(source);
        });
    }

    /// Whether trials run as jobs on a cluster (whose nodes keep no encodes).
    pub fn on_cluster(&self) -> bool {
        self.remote.is_some()
    }

    /// The same runner, sending every encode-and-score to the cluster as a job.
    pub fn with_remote(mut self, remote: crate::remote::Remote) -> Self {
        self.remote = Some(remote);
        self
    }

    /// The source at `at` is the object `uri` at `version` (its ETag): its digest is that
    /// name's, not its content's, which would mean reading it all.
    pub fn with_source_version(self, at: &Path, uri: &str, version: &str) -> Self {
        let named = Sha256::digest(format!("{uri}\0{version}").as_bytes());
        let digest: String = named.iter().map(|b| format!("{b:02x}")).collect();
        self.digests.lock().unwrap_or_else(|p| p.into_inner()).insert(at.to_path_buf(), digest);
        self
    }

    fn digest(&self, path: &Path) -> Result<String, TuneError> {
        if let Some(d) = self.digests.lock().unwrap_or_else(|p| p.into_inner()).get(path) {
            return Ok(d.clone());
        }
        let io = |e: std::io::Error| TuneError::Source { path: path.to_path_buf(), problem: e.to_string() };
        // A URL (a web server's file) is read through, not copied.
        let (mut file, _) = vmafx_media::location::open(path).map_err(io)?;
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

    /// Where the excerpt of `source` that a sample is encoded and scored from is kept (made
    /// by [`Self::make_excerpt`] when needed): its frames decoded once into a Y4M file in the
    /// cache (`excerpts/`), so that each probe of a search reads them instead of decoding the
    /// source twice (for the encoder and as the reference) up to the sample or from a seek. The frames are the source's, unchanged (range tag kept); the
    /// encode differs from cutting the source while encoding only in its timestamps (exact
    /// multiples of the frame duration) and in colour tags a Y4M file does not carry (which
    /// scoring does not read). `None` (seek into the source instead) for a source whose
    /// pixels a Y4M file would not carry as they are ([`plain_source`]), or an excerpt over
    /// [`EXCERPT_MAX_BYTES`].
    fn excerpt(&self, source: &Path, digest: &str, sample: Sample) -> Result<Option<PathBuf>, TuneError> {
        let probe = self.source_probe(source)?;
        let Ok(format) = probe.format() else { return Ok(None) };
        if !plain_source(&probe) || format.frame_bytes() as u64 * sample.frames > EXCERPT_MAX_BYTES {
            return Ok(None);
        }
        let name = format!("{}-{}-{}.y4m", &digest[..32.min(digest.len())], sample.start, sample.frames);
        Ok(Some(self.cache_dir.join("excerpts").join(name)))
    }

    /// Writes the excerpt `path` of `trial`'s sample ([`Self::excerpt`]) unless it is there.
    fn make_excerpt(&self, trial: &Trial, path: &Path) -> Result<(), TuneError> {
        let Some(sample) = trial.sample else { return Ok(()) };
        // One maker at a time: two jobs of one probe never write the same file.
        let _making = self.excerpts.lock().unwrap_or_else(|p| p.into_inner());
        let whole = |p: &Path| {
            vmafx_media::probe(p, None, &self.tools).is_ok_and(|e| e.frame_count == Some(sample.frames))
        };
        if whole(path) {
            return Ok(());
        }
        let bad = |problem: String| TuneError::Source { path: trial.source.clone(), problem };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| TuneError::Cache(dir.to_path_buf(), e.to_string()))?;
        }
        let probe = self.source_probe(&trial.source)?;
        vmafx_media::cut_y4m(&self.tools, &probe, sample.start, sample.frames, path)
            .map_err(|e| bad(e.to_string()))?;
        if !whole(path) {
            return Err(bad(format!(
                "its excerpt of frames {}..{} came out short: the source ends early",
                sample.start,
                sample.start + sample.frames
            )));
        }
        Ok(())
    }

    /// Encodes `trial` into `video`, scoring it as it is made where the encode's stream is
    /// known before it exists ([`predict_encode`]): decoding and scoring then run beside the
    /// encoder instead of after it. The scores are kept only when the finished file probes
    /// to the same scoring plan as predicted (the same frames reach libvmaf, so the same
    /// numbers as scoring the file); otherwise `None`, and the file is scored.
    fn encode_and_score(
        &self,
        trial: &Trial,
        checked: &CheckedEncode,
        video: &Path,
        scoring: &Scoring,
        threads: u32,
    ) -> Result<(vmafx_media::Encoded, Option<Vec<f64>>), TuneError> {
        let failed = |e: vmafx_media::MediaError| TuneError::Encode {
            encoder: trial.encoder.name.into(),
            crf: trial.crf,
            problem: e.to_string(),
        };
        let source = self.source_probe(&trial.source)?;
        let predicted = predict_encode(&source, trial, video);
        let pipe = predicted.as_ref().and_then(|_| std::io::pipe().ok());
        let (Some(predicted), Some((rx, tx))) = (predicted, pipe) else {
            let encoded = vmafx_media::encode(&self.tools, &trial.source, checked, video, None, None);
            return Ok((encoded.map_err(failed)?, None));
        };
        let stream = vmafx_media::StreamedInput::new(predicted.clone(), rx);
        let (encoded, scored) = std::thread::scope(|s| {
            let encoder = s.spawn(|| {
                vmafx_media::encode_streaming(&self.tools, &trial.source, checked, video, tx, None, None)
            });
            let scored = self.score(trial, video, scoring, threads, Some(stream));
            (encoder.join().unwrap_or(Err(vmafx_media::MediaError::Cancelled)), scored)
        });
        let encoded = encoded.map_err(failed)?;
        // The same plan (a Matroska file states no frame count; the frames scored are
        // counted instead).
        let o = vmafx_media::MatchOptions::default();
        let planned = |p: &vmafx_media::Probe| {
            vmafx_media::plan(&source, p, &o)
                .ok()
                .map(|plan| vmafx_media::MatchPlan { distorted_frames: None, ..plan })
        };
        let as_predicted = vmafx_media::probe(video, None, &self.tools)
            .ok()
            .is_some_and(|actual| planned(&actual) == planned(&predicted));
        match scored {
            Ok(v) if as_predicted && Some(v.len() as u64) == predicted.frame_count => Ok((encoded, Some(v))),
            other => {
                tracing::debug!(
                    encode = %video.display(),
                    scored = other.is_ok(),
                    "the encode is not what was predicted, or scoring its stream failed: scoring the file"
                );
                Ok((encoded, None))
            }
        }
    }

    /// The source's probe (with its frames counted where the container does not say), once
    /// per run.
    fn source_probe(&self, path: &Path) -> Result<vmafx_media::Probe, TuneError> {
        let mut known = self.probes.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = known.get(path) {
            return Ok(p.clone());
        }
        let bad = |e: vmafx_media::MediaError| TuneError::Source {
            path: path.to_path_buf(),
            problem: e.to_string(),
        };
        let mut probed = vmafx_media::probe(path, None, &self.tools).map_err(bad)?;
        // A Matroska source states no frame count: count its packets.
        if probed.frame_count.is_none() {
            probed.frame_count = Some(vmafx_media::count_frames(path, &self.tools).map_err(bad)?);
        }
        known.insert(path.to_path_buf(), probed.clone());
        Ok(probed)
    }

    fn score(
        &self,
        trial: &Trial,
        encoded: &Path,
        scoring: &Scoring,
        threads: u32,
        stream: Option<vmafx_media::StreamedInput>,
    ) -> Result<Vec<f64>, TuneError> {
        let features = features_for(&scoring.metric);
        let req = ScoreRequest {
            model: ModelChoice::Builtin(scoring.model.clone()),
            features,
            threads,
            skip_reference: trial.sample.map_or(0, |s| s.start),
            max_frames: trial.sample.map(|s| s.frames),
            decode: DecodeOptions { tools: self.tools.clone(), threads: 1 },
            distorted_stream: stream,
            // An encode of the source is aligned by construction.
            sync: vmafx_media::sync::SyncMode::Off,
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

impl Runner for LocalRunner {
    /// Probes the source and hashes its content (once per run).
    fn source(&self, path: &Path) -> Result<SourceInfo, TuneError> {
        let bad = |problem: String| TuneError::Source { path: path.to_path_buf(), problem };
        let probed = self.source_probe(path)?;
        let format = probed.format().map_err(|e| bad(e.to_string()))?;
        let frames = probed.frame_count.ok_or_else(|| bad("its frame count is unknown".into()))?;
        let fps = probed.fps().ok_or_else(|| bad("its frame rate is unknown".into()))?;
        Ok(SourceInfo { width: format.width, height: format.height, frames, fps, digest: self.digest(path)? })
    }

    /// Encodes and scores one trial, unless the cache has it. Locally the encode is kept in
    /// the cache (for the user, and for scoring with other metrics later); on a cluster the
    /// node encodes, scores and reports, and only the numbers are cached.
    fn run(
        &self,
        trial: &Trial,
        source: &SourceInfo,
        scoring: &Scoring,
        at_once: u32,
    ) -> Result<Measured, TuneError> {
        let threads = (self.threads / at_once.max(1)).max(1);
        let checked = trial.checked()?;
        let args = checked.ffmpeg_args();
        // A sample run here is encoded and scored from its excerpt where it has one (made
        // only when something is encoded or scored, below).
        let excerpt = match (&self.remote, trial.sample) {
            (None, Some(sample)) => self.excerpt(&trial.source, &source.digest, sample)?,
            _ => None,
        };
        let key = {
            let mut h = Sha256::new();
            h.update(source.digest.as_bytes());
            if excerpt.is_some() {
                h.update(b"\0excerpt");
            }
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
        let mut scored_while_encoding = false;
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
                let (trial, checked) = match &excerpt {
                    Some(path) => {
                        self.make_excerpt(trial, path)?;
                        let t = Trial { source: path.clone(), sample: None, ..trial.clone() };
                        let c = t.checked()?;
                        (t, c)
                    }
                    None => (trial.clone(), checked),
                };
                let trial = &trial;
                let mut streamed = None;
                if entry.bytes == 0 || !video.is_file() {
                    let (encoded, scores) =
                        self.encode_and_score(trial, &checked, &video, scoring, threads)?;
                    entry = CacheEntry {
                        bytes: encoded.bytes,
                        frames,
                        encode_seconds: encoded.seconds,
                        scores: BTreeMap::new(),
                    };
                    streamed = scores;
                }
                scored_while_encoding = streamed.is_some();
                let v = match streamed {
                    Some(v) => v,
                    None => self.score(trial, &video, scoring, threads, None)?,
                };
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
            scored_while_encoding,
        })
    }

    /// Whether trials can encode `e` at quarter CRFs: SVT-AV1 4.0 or later in this
    /// machine's ffmpeg. Not on a cluster: nodes do not report their SVT-AV1's version.
    fn quarter_crf(&self, e: &Encoder) -> bool {
        self.remote.is_none()
            && e.quarter_steps_in.is_some()
            && vmafx_media::svtav1_version(&self.tools).is_some_and(|v| v.0 >= 4)
    }
}

/// What an encode of `trial` will probe as, where that is known before it exists: a
/// progressive, unrotated, constant-rate 8-bit 4:2:0 source with square pixels, encoded in
/// its own pixel format (at the trial's size, if any); `None` for anything else, whose encode
/// is scored after it is written.
fn predict_encode(source: &vmafx_media::Probe, trial: &Trial, out: &Path) -> Option<vmafx_media::Probe> {
    if !plain_source(source) || trial.spec().pix_fmt.is_some() {
        return None;
    }
    let mut p = source.clone();
    p.path = out.to_path_buf();
    p.container =
        vmafx_media::Container::Other { format: "matroska,webm".into(), codec: trial.encoder.name.into() };
    if let Some((w, h)) = trial.size {
        // ffmpeg's scaler keeps the display aspect: pixels stretch where the shape changes.
        let (n, d) = (u64::from(source.width) * u64::from(h), u64::from(source.height) * u64::from(w));
        let g = gcd(n, d);
        if n != d {
            p.sar = Some(((n / g) as u32, (d / g) as u32));
        }
        (p.width, p.height) = (w, h);
    }
    p.frame_count = Some(trial.sample.map_or(source.frame_count?, |s| s.frames));
    Some(p)
}

/// A progressive, unrotated, constant-rate 8-bit 4:2:0 source with square pixels, in a
/// container (not raw YUV): what an encode's stream can be predicted for, and what a Y4M
/// excerpt carries unchanged (colour tags aside, which scoring does not read).
fn plain_source(source: &vmafx_media::Probe) -> bool {
    source.pix_fmt == "yuv420p"
        && !matches!(source.container, vmafx_media::Container::Raw(_))
        && source.orientation == vmafx_media::Orientation::IDENTITY
        && source.free_rotation.is_none()
        && source.field_order.as_deref().is_none_or(|f| f == "progressive")
        && source.sar.is_none_or(|(n, d)| n == d)
        && !source.variable_rate
}

/// The largest excerpt written for a sample (about 10 s of 1080p 4:2:0); a longer sample is
/// cut from the source by seeking, each probe.
const EXCERPT_MAX_BYTES: u64 = 1 << 30;

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn lavfi(dir: &Path, name: &str, pix_fmt: &str) -> PathBuf {
        let path = dir.join(name);
        let ok = std::process::Command::new("ffmpeg")
            .args(["-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=160x96:rate=24"])
            .args(["-frames:v", "30", "-pix_fmt", pix_fmt])
            .args(if name.ends_with(".mkv") { &["-c:v", "ffv1"][..] } else { &[] })
            .arg("-y")
            .arg(&path)
            .status()
            .unwrap()
            .success();
        assert!(ok, "ffmpeg made {name}");
        path
    }

    #[test]
    fn scoring_while_encoding_gives_the_numbers_of_scoring_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let runner = LocalRunner::new(dir.path().join("cache"), Tools::default(), 2);
        let scoring = Scoring { model: "vmaf_v0.6.1".into(), metric: "vmaf".into(), pool: Pool::Mean };
        let src = lavfi(dir.path(), "src.y4m", "yuv420p");
        let info = runner.source(&src).unwrap();
        let trial = |sample, size| Trial {
            source: src.clone(),
            encoder: vmafx_core::encode::encoder("libx264").unwrap(),
            crf: 32.5,
            preset: Some("veryfast".into()),
            extra: vec![],
            size,
            sample,
        };
        for t in [
            trial(None, None),
            trial(Some(Sample { start: 11, frames: 9 }), None),
            trial(None, Some((80, 48))),
            trial(None, Some((128, 72))),
        ] {
            let m = runner.run(&t, &info, &scoring, 1).unwrap();
            assert!(m.scored_while_encoding, "{t:?}");
            let file = m.path.clone().unwrap();
            assert_eq!(m.per_frame, runner.score(&t, &file, &scoring, 2, None).unwrap(), "{t:?}");
            // The kept encode is the size a plain encode to a file has.
            let plain = dir.path().join("plain.mkv");
            let encoded =
                vmafx_media::encode(&runner.tools, &src, &t.checked().unwrap(), &plain, None, None).unwrap();
            assert_eq!(m.bytes, encoded.bytes, "{t:?}");
        }
        // A Matroska source states no frame count: its packets are counted.
        let mkv = lavfi(dir.path(), "src.mkv", "yuv420p");
        let mkv_info = runner.source(&mkv).unwrap();
        assert_eq!(mkv_info.frames, 30);
        let m =
            runner.run(&Trial { source: mkv.clone(), ..trial(None, None) }, &mkv_info, &scoring, 1).unwrap();
        assert!(m.scored_while_encoding && m.per_frame.len() == 30);
        // A sample is encoded and scored from its excerpt (the frames decoded once into Y4M):
        // its scores are those of its encode against the source's own frames.
        let t = Trial { source: mkv.clone(), ..trial(Some(Sample { start: 17, frames: 8 }), None) };
        let m = runner.run(&t, &mkv_info, &scoring, 1).unwrap();
        let excerpts: Vec<_> = std::fs::read_dir(dir.path().join("cache/excerpts")).unwrap().collect();
        assert_eq!(excerpts.len(), 2, "the y4m's sample and this one: {excerpts:?}");
        assert!(m.scored_while_encoding && m.per_frame.len() == 8);
        assert_eq!(m.per_frame, runner.score(&t, m.path.as_ref().unwrap(), &scoring, 2, None).unwrap());
        // A trial answered from the cache needs no excerpt: one deleted is not cut again.
        std::fs::remove_dir_all(dir.path().join("cache/excerpts")).unwrap();
        let again = runner.run(&t, &mkv_info, &scoring, 1).unwrap();
        assert!(again.cached && again.per_frame == m.per_frame);
        assert!(!dir.path().join("cache/excerpts").exists());
        // A 4:2:2 source's encode is not predicted: its file is scored, with the same result.
        let src422 = lavfi(dir.path(), "src422.y4m", "yuv422p");
        let t = Trial { source: src422.clone(), ..trial(None, None) };
        let m = runner.run(&t, &runner.source(&src422).unwrap(), &scoring, 1).unwrap();
        assert!(!m.scored_while_encoding && m.per_frame.len() == 30);
    }
}
