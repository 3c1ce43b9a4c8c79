//! No-reference measures of a video ([`vmafx_media::nr`]): the distorted alone decoded and
//! measured frame by frame — the inputs of an `nr` quality model. No libvmaf run and no
//! reference: this is what an `nr` estimate costs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use vmafx_core::scores::{FrameScore, Scores};
use vmafx_core::{Note, NoteLevel, Report, ReportInfo};
use vmafx_media::nr::{NrMeter, CLIP_DESCRIPTION, CLIP_FEATURE, DESCRIPTIONS, FEATURES};
use vmafx_media::{open_reader, plan, probe, Container, FrameBuffer, Probe, VideoFormat};

use crate::error::{EngineError, Role};
use crate::pipeline::{Progress, ScoreRequest};

/// Every no-reference measure a run gives, with a line on each: the frame measures
/// ([`vmafx_media::nr::FEATURES`]), then the clip's bits per pixel.
pub fn measures() -> Vec<(&'static str, &'static str)> {
    FEATURES.into_iter().zip(DESCRIPTIONS).chain([(CLIP_FEATURE, CLIP_DESCRIPTION)]).collect()
}

/// The clip's bits per pixel, the same whichever decoder reads it: the video stream's packet
/// bytes over its packets' pixels (read again without decoding); for Y4M and raw input the
/// sample size. `None` where the stream's packets cannot be read (the model then gives no
/// estimate).
fn clip_bits_per_pixel(probe: &Probe, format: VideoFormat) -> Option<f64> {
    let (bytes, frames) = match probe.container {
        Container::Y4m | Container::Raw(_) => (format.frame_bytes() as u64, 1),
        _ => {
            let p = vmafx_media::libav::video_packets(&probe.path).filter(|p| p.count > 0)?;
            (p.bytes, p.count)
        }
    };
    Some(vmafx_media::nr::bits_per_pixel(bytes, frames, probe.width, probe.height))
}

/// The no-reference measures of `req.distorted` (its skips, `--frames`, raw layout, decoder
/// and cancel flag apply; the reference and every libvmaf setting are ignored): one metric per
/// measure ([`measures`]) per frame, in a report whose reference is empty and whose model
/// names the measures.
pub fn measure_file(req: &ScoreRequest, on: &mut dyn FnMut(Progress)) -> Result<Report, EngineError> {
    let started = Instant::now();
    if req.max_frames == Some(0) {
        return Err(EngineError::InvalidOption("--frames must be at least 1".into()));
    }
    req.matching.validate().map_err(EngineError::InvalidOption)?;
    let input = EngineError::input(Role::Distorted);
    let probed = probe(&req.distorted, req.distorted_raw.as_ref(), &req.decode.tools).map_err(input)?;
    probed.format().map_err(EngineError::input(Role::Distorted))?;
    // The distorted brought to what libvmaf would take as a reference: upright, in a
    // format it reads, with nothing scaled.
    let plan = plan(&probed, &probed, &req.matching).map_err(EngineError::input(Role::Distorted))?;
    let (mut reader, at) = open_reader(&probed, &plan.reference, &req.decode, req.skip_distorted)
        .map_err(EngineError::input(Role::Distorted))?;
    let first = req.skip_distorted;
    if first > at && reader.skip_frames(first - at).map_err(EngineError::input(Role::Distorted))? < first - at
    {
        return Err(EngineError::NoFrames(format!("the distorted has no frame after the {first} skipped")));
    }
    let format = reader.format();
    // Only warnings (HDR transfer, odd tags): the plan's other notes describe a pair.
    let notes: Vec<Note> = plan.notes.into_iter().filter(|n| n.level == NoteLevel::Warning).collect();
    for n in &notes {
        on(Progress::Note(n.clone()));
    }
    let total =
        probed.frame_count.map(|n| n.saturating_sub(first)).map(|n| req.max_frames.map_or(n, |m| n.min(m)));
    on(Progress::Start { total });
    let never = AtomicBool::new(false);
    let cancel = req.cancel.as_deref().unwrap_or(&never);
    let mut meter = NrMeter::new(format);
    let mut frame = FrameBuffer::new(format);
    let mut frames = Vec::new();
    while req.max_frames.is_none_or(|m| (frames.len() as u64) < m) {
        if cancel.load(Ordering::Relaxed) {
            return Err(EngineError::Cancelled);
        }
        if !frame.read(reader.as_mut()).map_err(EngineError::input(Role::Distorted))? {
            break;
        }
        let values = meter.measure(frame.luma()).to_vec();
        frames.push(FrameScore { frame_num: frames.len() as u64, values });
        if frames.len() % 8 == 0 {
            on(Progress::Frames { done: frames.len() as u64 });
        }
    }
    if frames.is_empty() {
        return Err(EngineError::NoFrames(format!("`{}` has no frames", req.distorted.display())));
    }
    // The clip's bits per pixel, on every frame (unknown: no value, and a model that needs it
    // gives no estimate).
    let bpp = clip_bits_per_pixel(&probed, format).unwrap_or(f64::NAN);
    for f in &mut frames {
        f.values.push(bpp);
    }
    on(Progress::Frames { done: frames.len() as u64 });
    let info = ReportInfo {
        reference: String::new(),
        distorted: req.distorted.display().to_string(),
        model: "no-reference measures".into(),
        score_metric: FEATURES[0].into(),
        headline: Vec::new(),
        width: format.width,
        height: format.height,
        pix_fmt: format.pix_fmt.ffmpeg_name(),
        distorted_scaled_from: None,
        subsample: 1,
        skip_reference: 0,
        skip_distorted: req.skip_distorted,
        libvmaf_version: String::new(),
        decoders: vec![String::new(), reader.decoder()],
        elapsed_s: started.elapsed().as_secs_f64(),
        notes,
    };
    let metrics = measures().into_iter().map(|(name, _)| name.to_string()).collect();
    let scores = Scores { metrics, frames, notes: Vec::new() };
    Ok(Report { info, scores })
}
