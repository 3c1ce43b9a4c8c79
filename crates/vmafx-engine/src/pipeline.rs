//! Scoring a pair of video files: probe both, decode each on its own thread straight into
//! libvmaf pictures, feed the pairs to a [`Scorer`], and build the report.
//!
//! Decoding runs concurrently with scoring through bounded channels (a few frames deep), so
//! memory stays flat whatever the clip length and the decoders hide behind libvmaf.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use std::time::Instant;

use vmafx_core::{InputOptions, Note, Report, ReportInfo, ScoreJobSpec, SegmentSpec};
use vmafx_media::sync::{self, Finding, Signature, SyncMode, SyncRange};
use vmafx_media::{
    open_reader, plan, probe, Conversion, DecodeOptions, FrameBuffer, FrameReader, InputSettings,
    MatchOptions, MediaError, Probe, RawFormat, StreamedInput,
};

use crate::beside::Beside;
use crate::error::{EngineError, Role};
use crate::libvmaf::{self, Picture, PicturePool};
use crate::scorer::{resolve_features, Scorer, ScorerConfig};
use vmafx_core::catalog::{self, ModelChoice};
use vmafx_media::downscale::Shrink;

/// How often a waiting scorer looks at its cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// Frames each decoder may run ahead of the scorer.
const DECODE_AHEAD: usize = 3;

/// A scoring job over two files.
#[derive(Debug, Clone)]
pub struct ScoreRequest {
    pub reference: PathBuf,
    pub distorted: PathBuf,
    pub model: ModelChoice,
    pub features: Vec<String>,
    /// libvmaf worker threads.
    pub threads: u32,
    pub subsample: u32,
    /// Score at most this many frame pairs.
    pub max_frames: Option<u64>,
    pub skip_reference: u64,
    pub skip_distorted: u64,
    /// Score the common prefix when the frame counts differ, instead of failing.
    pub allow_length_mismatch: bool,
    /// Score only this part of the (skipped) sequence, with the numbers a whole run gives.
    pub segment: Option<Segment>,
    /// How the distorted is brought to the reference (scaler, frame-rate matching).
    pub matching: MatchOptions,
    /// What a raw YUV reference or distorted holds (they have no header).
    pub reference_raw: Option<RawFormat>,
    pub distorted_raw: Option<RawFormat>,
    /// The distorted arrives on a pipe as it is encoded (`distorted` then only names it):
    /// described in advance instead of probed.
    pub distorted_stream: Option<StreamedInput>,
    pub decode: DecodeOptions,
    /// Frame alignment: warn when the pair looks misaligned (check), find the offset and
    /// score aligned (auto), or neither.
    pub sync: SyncMode,
    /// How far either way alignment is looked for, in seconds.
    pub sync_seconds: f64,
    /// Set to stop scoring: decoders (and their ffmpeg) stop within a frame or two and the
    /// call returns [`EngineError::Cancelled`].
    pub cancel: Option<Arc<AtomicBool>>,
    /// Score a centre crop of the frames and/or frames made smaller (box filter,
    /// [`vmafx_media::downscale::Shrink`]): the cheap inputs of an `fr` quality model, never
    /// VMAF. [`Shrink::NONE`]: as they are.
    pub shrink: Shrink,
    /// Also score each pair shrunk so ([`crate::beside`]): a quality model's inputs beside the
    /// full run ([`ScoreOutcome::beside`]).
    pub beside: Option<Shrink>,
}

/// Frames `start..start + frames` of a sequence, scored so that every per-frame value equals
/// the whole-sequence run's: one context frame on each side (where the sequence has one)
/// feeds the temporal features, and is not reported. Work split into segments on many
/// machines reassembles into exactly the scores of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub start: u64,
    pub frames: u64,
}

impl Segment {
    /// Context frames decoded before `start`.
    fn before(&self) -> u64 {
        self.start.min(1)
    }

    pub fn end(&self) -> u64 {
        self.start + self.frames
    }
}

impl ScoreRequest {
    pub fn new(reference: impl Into<PathBuf>, distorted: impl Into<PathBuf>) -> Self {
        Self {
            reference: reference.into(),
            distorted: distorted.into(),
            model: ModelChoice::default(),
            features: Vec::new(),
            threads: std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1),
            subsample: 1,
            max_frames: None,
            skip_reference: 0,
            skip_distorted: 0,
            allow_length_mismatch: false,
            segment: None,
            matching: MatchOptions::default(),
            reference_raw: None,
            distorted_raw: None,
            distorted_stream: None,
            decode: DecodeOptions::default(),
            sync: SyncMode::default(),
            sync_seconds: sync::DEFAULT_SECONDS,
            cancel: None,
            shrink: Shrink::NONE,
            beside: None,
        }
    }
}

impl ScoreRequest {
    /// Takes a job's input options (raw layouts, scaler, frame-rate matching), checked.
    pub fn with_inputs(mut self, inputs: &InputOptions) -> Result<Self, EngineError> {
        let settings = InputSettings::from_spec(inputs)
            .map_err(|(field, e)| EngineError::InvalidOption(format!("{field}: {e}")))?;
        self.matching = settings.matching;
        self.reference_raw = settings.reference_raw;
        self.distorted_raw = settings.distorted_raw;
        self.skip_reference = inputs.skip_reference;
        self.skip_distorted = inputs.skip_distorted;
        self.max_frames = inputs.max_frames;
        Ok(self)
    }

    /// The request a node runs for one segment of a cluster job.
    pub fn for_job(
        spec: &ScoreJobSpec,
        segment: SegmentSpec,
        threads: u32,
        decode: DecodeOptions,
    ) -> Result<Self, EngineError> {
        Self {
            model: match &spec.model_path {
                Some(p) => ModelChoice::Path(p.into()),
                None if spec.model.is_empty() => ModelChoice::default(),
                None => ModelChoice::Builtin(spec.model.clone()),
            },
            features: spec.features.clone(),
            threads,
            subsample: spec.subsample.max(1),
            // 0 frames: the whole video, whose length the controller did not know.
            segment: (segment.frames > 0).then_some(Segment { start: segment.start, frames: segment.frames }),
            decode,
            ..Self::new(&spec.reference, &spec.distorted)
        }
        .with_inputs(&spec.inputs)
        // The controller planned the segments within the job's `max_frames`; a whole video
        // keeps it.
        .map(|req| Self { max_frames: if req.segment.is_some() { None } else { req.max_frames }, ..req })
    }
}

/// Events a caller can show while a pair is scored.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// What was done to the inputs (a conversion), or a warning; also in the report.
    Note(Note),
    /// Scoring starts; `total` frames if known.
    Start { total: Option<u64> },
    /// `done` frame pairs have been handed to libvmaf.
    Frames { done: u64 },
}

/// A finished scoring run.
#[derive(Debug, Clone)]
pub struct ScoreOutcome {
    pub report: Report,
    /// The run on smaller frames that [`ScoreRequest::beside`] asked for.
    pub beside: Option<vmafx_core::Scores>,
    pub timing: Timing,
}

/// Where a run's time went, as seen from the thread that feeds libvmaf.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timing {
    /// Waiting for decoded frames (the decoders were behind).
    pub decode_wait: Duration,
    /// Handing frames to libvmaf and collecting its scores (feature extraction).
    pub libvmaf: Duration,
}

enum Msg {
    Frame(Picture),
    End,
    Error(EngineError),
}

struct Decoder {
    rx: Receiver<Msg>,
    handle: JoinHandle<()>,
    stopper: Option<vmafx_media::Stopper>,
}

impl Decoder {
    /// Reads `reader`, which starts at frame `reader.1`, from frame `first` on: at most
    /// `limit` frames.
    fn start(
        role: Role,
        reader: (Box<dyn FrameReader>, u64),
        pool: PicturePool,
        first: u64,
        limit: Option<u64>,
    ) -> Result<Self, EngineError> {
        let (mut reader, at) = reader;
        let (tx, rx) = sync_channel(DECODE_AHEAD);
        let stopper = reader.stopper();
        let handle = std::thread::Builder::new()
            .name(format!("decode-{role}"))
            .spawn(move || decode_loop(role, reader.as_mut(), &pool, (at, first), limit, &tx))
            .map_err(|e| EngineError::Internal(format!("cannot start decoder thread: {e}")))?;
        Ok(Self { rx, handle, stopper })
    }

    /// The next message, checking `cancel` while waiting for it.
    fn recv(&self, cancel: &AtomicBool) -> Result<Msg, EngineError> {
        loop {
            if cancel.load(Ordering::Relaxed) {
                return Err(EngineError::Cancelled);
            }
            match self.rx.recv_timeout(CANCEL_POLL) {
                Ok(msg) => return Ok(msg),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return Ok(Msg::End),
            }
        }
    }

    /// Stops the decoder: dropping the channel ends its loop at its next frame, and killing
    /// its ffmpeg ends a read that would otherwise wait for a frame that never comes.
    fn stop(self) {
        drop(self.rx);
        if !self.handle.is_finished() {
            if let Some(stop) = &self.stopper {
                stop();
            }
        }
        let _ = self.handle.join();
    }
}

/// Reads frames from `reader` into the channel: from frame `first`, the reader being at
/// frame `at` (where it seeked to, or 0).
fn decode_loop(
    role: Role,
    reader: &mut dyn FrameReader,
    pool: &PicturePool,
    (at, first): (u64, u64),
    limit: Option<u64>,
    tx: &SyncSender<Msg>,
) {
    let err = |e| Msg::Error(EngineError::Input { role, source: e });
    let past_end = |has: String| {
        Msg::Error(EngineError::NoFrames(format!(
            "--skip-{role} {first} skips past the end of the {role}, which has {has} frames"
        )))
    };
    let skip = first.saturating_sub(at);
    if skip > 0 {
        match reader.skip_frames(skip) {
            Ok(n) if n < skip => {
                let _ = tx.send(past_end((at + n).to_string()));
                return;
            }
            Ok(_) => {}
            Err(e) => {
                let _ = tx.send(err(e));
                return;
            }
        }
    }
    // A seek past the end yields nothing: say so as skipping there would have.
    let mut seeked_into_nothing = at > 0;
    let mut sent = 0u64;
    while limit.is_none_or(|l| sent < l) {
        let mut pic = match pool.fetch() {
            Ok(p) => p,
            Err(e) => {
                let _ = tx.send(Msg::Error(e));
                return;
            }
        };
        let msg = match reader.read_frame(&mut pic.planes_mut()) {
            Ok(true) => Msg::Frame(pic),
            Ok(false) if seeked_into_nothing => past_end(format!("fewer than {at}")),
            Ok(false) => break,
            Err(e) => err(e),
        };
        seeked_into_nothing = false;
        let last = matches!(msg, Msg::Error(_));
        if tx.send(msg).is_err() || last {
            return;
        }
        sent += 1;
    }
    let _ = tx.send(Msg::End);
}

/// Scores `req.distorted` against `req.reference`, reporting progress through `on`.
pub fn score_files(req: &ScoreRequest, on: &mut dyn FnMut(Progress)) -> Result<ScoreOutcome, EngineError> {
    let started = Instant::now();
    // Names first: a typo should not wait for ffprobe.
    resolve_features(&req.features)?;
    if let ModelChoice::Builtin(name) = &req.model {
        if !catalog::model_names().contains(name) {
            return Err(EngineError::UnknownModel { name: name.clone(), valid: catalog::model_names() });
        }
    }
    if req.subsample == 0 {
        return Err(EngineError::InvalidOption("--subsample must be at least 1".into()));
    }
    if req.max_frames == Some(0) {
        return Err(EngineError::InvalidOption("--frames must be at least 1".into()));
    }
    Shrink::new(req.shrink.crop, req.shrink.factor).map_err(EngineError::InvalidOption)?;
    // What to decode: `lead` frames after the user's skips, then at most `window` pairs.
    let (lead, window) = match req.segment {
        None => (0, req.max_frames),
        Some(_) if req.max_frames.is_some() => {
            return Err(EngineError::InvalidOption("--frames and --segment exclude each other".into()))
        }
        Some(s) if s.frames == 0 => {
            return Err(EngineError::InvalidOption("a segment needs at least 1 frame".into()))
        }
        Some(s) => (s.start - s.before(), Some(s.before() + s.frames + 1)),
    };

    if req.sync == SyncMode::Auto && req.segment.is_some() {
        return Err(EngineError::InvalidOption(
            "--sync auto and --segment exclude each other: find the offset on the whole pair once, then give \
             segments the --skip-* flags it names"
                .into(),
        ));
    }
    if !req.sync_seconds.is_finite() || !(0.0..=60.0).contains(&req.sync_seconds) {
        return Err(EngineError::InvalidOption(format!(
            "--sync-seconds {}: give 0 to 60 seconds",
            req.sync_seconds
        )));
    }
    req.matching.validate().map_err(EngineError::InvalidOption)?;
    let (ref_probe, dist_probe, plan) = probe_and_plan(req)?;
    let format = req.shrink.format(plan.format);
    let mut notes = plan.notes.clone();
    for note in &notes {
        on(Progress::Note(note.clone()));
    }

    let range = SyncRange::for_rate(ref_probe.fps(), req.sync_seconds);
    // `--sync auto`: the offset is found on the first frames, read once more, and added to
    // the user's skips: the run is then exactly the one those skips give.
    let aligned;
    let req = if req.sync == SyncMode::Auto && req.distorted_stream.is_none() {
        let found = first_signatures(req, &ref_probe, &dist_probe, &plan.reference, &plan.distorted, range)
            .map(|(r, d)| sync::find_offset(&r, &d, range))?;
        let (note, (skip_reference, skip_distorted)) = match (&found, found.flags()) {
            (&Finding::Offset { skip_reference, skip_distorted }, Some(flags)) => (
                Note::info(format!(
                    "--sync auto: {}; scored aligned, as with {flags}",
                    found.describe().unwrap_or_default()
                )),
                (skip_reference, skip_distorted),
            ),
            (Finding::Aligned, _) => (Note::info("--sync auto: the pair is aligned"), (0, 0)),
            _ => (
                Note::warning(format!(
                    "--sync auto: {} (within {} frames either way); scored as given",
                    found.describe().unwrap_or_default(),
                    range.max_offset
                )),
                (0, 0),
            ),
        };
        on(Progress::Note(note.clone()));
        notes.push(note);
        aligned = ScoreRequest {
            skip_reference: req.skip_reference + skip_reference,
            skip_distorted: req.skip_distorted + skip_distorted,
            ..req.clone()
        };
        &aligned
    } else {
        req
    };

    let ref_count = ref_probe.frame_count.map(|n| n.saturating_sub(req.skip_reference));
    let dist_count = plan.distorted_frames.map(|n| n.saturating_sub(req.skip_distorted));
    match req.segment {
        Some(seg) => {
            for (role, count) in [(Role::Reference, ref_count), (Role::Distorted, dist_count)] {
                if let Some(n) = count.filter(|&n| n < seg.end()) {
                    return Err(segment_past_end(seg, role, n));
                }
            }
        }
        None => {
            if let (Some(r), Some(d)) = (ref_count, dist_count) {
                let covered = req.max_frames.is_some_and(|m| r >= m && d >= m);
                if r != d && !covered && !req.allow_length_mismatch {
                    // A few leading frames dropped or added are the usual cause: look.
                    let hint = match req.sync {
                        SyncMode::Check if req.distorted_stream.is_none() => first_signatures(
                            req,
                            &ref_probe,
                            &dist_probe,
                            &plan.reference,
                            &plan.distorted,
                            range,
                        )
                        .ok()
                        .and_then(|(r, d)| sync::find_offset(&r, &d, range).length_hint())
                        .unwrap_or_default(),
                        _ => String::new(),
                    };
                    return Err(EngineError::LengthMismatch { reference: r, distorted: d, hint });
                }
            }
        }
    }

    let config = ScorerConfig {
        model: req.model.clone(),
        features: req.features.clone(),
        threads: req.threads,
        subsample: req.subsample,
        format,
        first_frame: lead,
        report: req.segment.map(|s| s.start..s.end()),
    };
    let mut scorer = Scorer::new(&config)?;
    let mut beside = match req.beside {
        None => None,
        Some(_) if !req.shrink.is_none() => {
            return Err(EngineError::InvalidOption(
                "a run beside one on smaller frames: give one of the two".into(),
            ))
        }
        Some(shrink) => Some(Beside::new(&config, shrink)?),
    };
    // Each input is read from its first frame to score: seeking there where that is exact,
    // else decoding from the start and dropping what comes before.
    let ref_first = req.skip_reference + lead;
    let dist_first = req.skip_distorted + lead;
    let ref_reader = open_reader(&ref_probe, &plan.reference, &req.decode, ref_first)
        .map_err(EngineError::input(Role::Reference))?;
    let dist_reader = match &req.distorted_stream {
        Some(stream) => stream.open(&plan.distorted, &req.decode).map(|r| (r, 0)),
        None => open_reader(&dist_probe, &plan.distorted, &req.decode, dist_first),
    }
    .map_err(EngineError::input(Role::Distorted))?;
    let shrink = |(reader, at): (Box<dyn FrameReader>, u64)| match req.shrink.is_none() {
        true => (reader, at),
        false => (Box::new(vmafx_media::Downscaled::new(reader, req.shrink)) as Box<dyn FrameReader>, at),
    };
    let (ref_reader, dist_reader) = (shrink(ref_reader), shrink(dist_reader));
    let decoders = vec![ref_reader.0.decoder(), dist_reader.0.decoder()];
    // Each decoder holds what it has queued plus the frame it is filling; the pump holds a pair.
    let pool = scorer.picture_pool(2 * (DECODE_AHEAD as u32 + 1) + 2)?;
    let reference = Decoder::start(Role::Reference, ref_reader, pool.clone(), ref_first, window)?;
    let distorted = Decoder::start(Role::Distorted, dist_reader, pool, dist_first, window)?;

    let total = match (ref_count, dist_count) {
        (Some(r), Some(d)) => Some(r.min(d).saturating_sub(lead)),
        (r, d) => r.or(d).map(|n| n.saturating_sub(lead)),
    }
    .map(|n| window.map_or(n, |m| n.min(m)));
    on(Progress::Start { total });

    let never = AtomicBool::new(false);
    let cancel = req.cancel.as_deref().unwrap_or(&never);
    // `--sync check`: the first frames' signatures, taken as they pass (a run from the
    // first frame after the skips only).
    let mut check = (req.sync == SyncMode::Check && lead == 0).then(|| SyncCheck::new(range));
    let mut timing = Timing::default();
    let result = pump(
        &mut scorer,
        beside.as_mut(),
        &reference,
        &distorted,
        cancel,
        check.as_mut(),
        &mut timing,
        &mut |event| {
            if let Progress::Note(n) = &event {
                notes.push(n.clone());
            }
            on(event)
        },
    );
    reference.stop();
    distorted.stop();
    let (ref_frames, dist_frames) = result?;
    if let Some(seg) = req.segment {
        // Only the context frame after the segment may be missing, from either input.
        for (role, n) in [(Role::Reference, ref_frames), (Role::Distorted, dist_frames)] {
            if n < seg.before() + seg.frames {
                return Err(segment_past_end(seg, role, lead + n));
            }
        }
    } else if ref_frames != dist_frames {
        if !req.allow_length_mismatch {
            return Err(EngineError::LengthMismatch {
                reference: ref_frames,
                distorted: dist_frames,
                hint: check.as_ref().and_then(|c| c.finding.as_ref()?.length_hint()).unwrap_or_default(),
            });
        }
        let w = Note::warning(format!(
            "frame counts differ: reference has {ref_frames} frames, distorted has {dist_frames}; scored the first {}",
            ref_frames.min(dist_frames)
        ));
        on(Progress::Note(w.clone()));
        notes.push(w);
    }

    let finishing = Instant::now();
    let scores = scorer.finish()?;
    let beside = beside.map(Beside::finish).transpose()?;
    timing.libvmaf += finishing.elapsed();
    let headline = catalog::headline_metrics(&req.features, &scores.metrics);
    let info = ReportInfo {
        reference: req.reference.display().to_string(),
        distorted: req.distorted.display().to_string(),
        model: req.model.label(),
        score_metric: "vmaf".into(),
        headline,
        width: format.width,
        height: format.height,
        pix_fmt: format.pix_fmt.ffmpeg_name(),
        distorted_scaled_from: plan.distorted_scaled_from,
        notes,
        subsample: req.subsample,
        skip_reference: req.skip_reference,
        skip_distorted: req.skip_distorted,
        libvmaf_version: libvmaf::version(),
        decoders,
        elapsed_s: started.elapsed().as_secs_f64(),
    };
    Ok(ScoreOutcome { report: Report { info, scores }, beside, timing })
}

fn segment_past_end(seg: Segment, role: Role, frames: u64) -> EngineError {
    EngineError::NoFrames(format!(
        "segment {}..{} extends past the end of the {role}, which has {frames} frames",
        seg.start,
        seg.end()
    ))
}

/// Feeds frame pairs to the scorer until both inputs end; returns each input's frame count.
#[allow(clippy::too_many_arguments)]
fn pump(
    scorer: &mut Scorer,
    mut beside: Option<&mut Beside>,
    reference: &Decoder,
    distorted: &Decoder,
    cancel: &AtomicBool,
    mut check: Option<&mut SyncCheck>,
    timing: &mut Timing,
    on: &mut dyn FnMut(Progress),
) -> Result<(u64, u64), EngineError> {
    let mut pairs = 0u64;
    let counts = loop {
        let waiting = Instant::now();
        let next = (reference.recv(cancel)?, distorted.recv(cancel)?);
        timing.decode_wait += waiting.elapsed();
        match next {
            (Msg::Error(e), _) | (_, Msg::Error(e)) => return Err(e),
            (Msg::Frame(r), Msg::Frame(d)) => {
                if let Some(note) = check.as_deref_mut().and_then(|c| c.push(&r, &d)) {
                    on(Progress::Note(note));
                }
                let pushing = Instant::now();
                if let Some(b) = beside.as_deref_mut() {
                    b.push(&r, &d)?;
                }
                scorer.push(r, d)?;
                timing.libvmaf += pushing.elapsed();
                pairs += 1;
                on(Progress::Frames { done: pairs });
            }
            // One input may end first: count what is left of the other for the message.
            (Msg::End, Msg::End) => break (pairs, pairs),
            (Msg::End, Msg::Frame(_)) => break (pairs, pairs + 1 + drain(distorted, cancel)?),
            (Msg::Frame(_), Msg::End) => break (pairs + 1 + drain(reference, cancel)?, pairs),
        }
    };
    // A run shorter than the check's frames is judged on what there is (it may explain why
    // the lengths differ).
    if let Some(note) = check.and_then(SyncCheck::finish) {
        on(Progress::Note(note));
    }
    Ok(counts)
}

fn drain(decoder: &Decoder, cancel: &AtomicBool) -> Result<u64, EngineError> {
    let mut n = 0;
    loop {
        match decoder.recv(cancel)? {
            Msg::Frame(_) => n += 1,
            Msg::End => return Ok(n),
            Msg::Error(e) => return Err(e),
        }
    }
}

/// `--sync check` over a run: the first frames' signatures as they are scored, judged once
/// enough are in (or at the end of a shorter run).
struct SyncCheck {
    range: SyncRange,
    reference: Vec<Signature>,
    distorted: Vec<Signature>,
    finding: Option<Finding>,
}

impl SyncCheck {
    fn new(range: SyncRange) -> Self {
        Self { range, reference: Vec::new(), distorted: Vec::new(), finding: None }
    }

    /// Takes a pair; the warning, once, when the pair looks misaligned.
    fn push(&mut self, r: &Picture, d: &Picture) -> Option<Note> {
        if self.finding.is_some() {
            return None;
        }
        self.reference.push(r.signature());
        self.distorted.push(d.signature());
        if self.reference.len() < self.range.frames() {
            return None;
        }
        self.judge()
    }

    /// A run that ended before enough frames: judged on what there is.
    fn finish(&mut self) -> Option<Note> {
        match self.finding {
            Some(_) => None,
            None => self.judge(),
        }
    }

    fn judge(&mut self) -> Option<Note> {
        let found = sync::find_offset(&self.reference, &self.distorted, self.range);
        self.reference = Vec::new();
        self.distorted = Vec::new();
        let note = match (found.describe(), found.flags()) {
            (Some(what), Some(flags)) => Some(Note::warning(format!(
                "the pair looks misaligned: {what}. Score it aligned with --sync auto (or {flags})"
            ))),
            _ => None,
        };
        self.finding = Some(found);
        note
    }
}

/// The signatures of the first frames of both inputs (after the user's skips), as libvmaf
/// would get them: each read on its own thread, at most `range.frames()` frames.
fn first_signatures(
    req: &ScoreRequest,
    ref_probe: &Probe,
    dist_probe: &Probe,
    ref_conv: &Conversion,
    dist_conv: &Conversion,
    range: SyncRange,
) -> Result<(Vec<Signature>, Vec<Signature>), EngineError> {
    let read = |probe: &Probe, conv: &Conversion, first: u64| -> Result<Vec<Signature>, MediaError> {
        let (mut reader, at) = open_reader(probe, conv, &req.decode, first)?;
        if first > at {
            reader.skip_frames(first - at)?;
        }
        let mut frame = FrameBuffer::new(reader.format());
        let mut out = Vec::with_capacity(range.frames());
        while out.len() < range.frames() && frame.read(reader.as_mut())? {
            out.push(Signature::of_frame(&frame));
        }
        Ok(out)
    };
    std::thread::scope(|s| {
        let dist = s.spawn(|| read(dist_probe, dist_conv, req.skip_distorted));
        let reference =
            read(ref_probe, ref_conv, req.skip_reference).map_err(EngineError::input(Role::Reference));
        let distorted = dist
            .join()
            .map_err(|_| EngineError::Internal("the alignment reader panicked".into()))?
            .map_err(EngineError::input(Role::Distorted));
        Ok((reference?, distorted?))
    })
}

/// Pictures of frames `asked.frames` of the scored sequence (numbered as a report numbers
/// them): the reference and the distorted exactly as scoring would hand them to libvmaf — the
/// same probes, input-matching plan and skips — each as a PNG ([`vmafx_media::picture::png`]).
/// Each frame is reached by seeking where the input allows it, else by reading up to it.
pub fn pictures(
    req: &ScoreRequest,
    asked: &vmafx_core::PictureSpec,
) -> Result<Vec<vmafx_core::FramePicture>, EngineError> {
    asked.check().map_err(EngineError::InvalidOption)?;
    req.matching.validate().map_err(EngineError::InvalidOption)?;
    let tools = &req.decode.tools;
    let (ref_probe, dist_probe, plan) = probe_and_plan(req)?;
    let one = |role: Role, probe: &Probe, conv: &Conversion, input: &std::path::Path, first: u64| {
        let read = || -> Result<Option<Vec<u8>>, MediaError> {
            let (mut reader, at) = open_reader(probe, conv, &req.decode, first)?;
            if first > at && reader.skip_frames(first - at)? < first - at {
                return Ok(None);
            }
            let mut frame = FrameBuffer::new(reader.format());
            if !frame.read(reader.as_mut())? {
                return Ok(None);
            }
            vmafx_media::picture::png(&tools.ffmpeg, &frame, asked.max_width, input).map(Some)
        };
        read()
            .map_err(EngineError::input(role))?
            .ok_or_else(|| EngineError::NoFrames(format!("the {role} has no frame {first}")))
    };
    asked
        .frames
        .iter()
        .map(|&frame| {
            Ok(vmafx_core::FramePicture {
                frame_num: frame,
                reference_png: one(
                    Role::Reference,
                    &ref_probe,
                    &plan.reference,
                    &req.reference,
                    req.skip_reference + frame,
                )?,
                distorted_png: one(
                    Role::Distorted,
                    &dist_probe,
                    &plan.distorted,
                    &req.distorted,
                    req.skip_distorted + frame,
                )?,
            })
        })
        .collect()
}

/// Both inputs probed, and the input-matching rules applied to them: what libvmaf gets, and
/// how each input is brought to it. A reference libvmaf cannot take fails as the reference;
/// anything else about the pair is the distorted's to fix.
fn probe_and_plan(req: &ScoreRequest) -> Result<(Probe, Probe, vmafx_media::MatchPlan), EngineError> {
    let tools = &req.decode.tools;
    let ref_probe = probe(&req.reference, req.reference_raw.as_ref(), tools)
        .map_err(EngineError::input(Role::Reference))?;
    let dist_probe = match &req.distorted_stream {
        Some(stream) => stream.probe.clone(),
        None => probe(&req.distorted, req.distorted_raw.as_ref(), tools)
            .map_err(EngineError::input(Role::Distorted))?,
    };
    ref_probe.format().map_err(EngineError::input(Role::Reference))?;
    let plan = plan(&ref_probe, &dist_probe, &req.matching).map_err(EngineError::input(Role::Distorted))?;
    Ok((ref_probe, dist_probe, plan))
}
