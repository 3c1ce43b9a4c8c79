//! How a reference and a distorted video are brought together before libvmaf sees them: one
//! rule, used by every path (local, cluster segments, MCP, tune), so that the same pair always
//! gives the same pixels.
//!
//! libvmaf compares two pictures of one size, pixel format and meaning. The reference is the
//! yardstick and is never changed: it is read as coded, in its own format and range. The
//! distorted is brought to it, and only as far as needed:
//!
//! 1. **Orientation.** Display rotation and flips are read on both inputs and never applied
//!    by ffmpeg (`-noautorotate`). Equal coded sizes: the coded pixels are scored as they are
//!    (a note says the metadata was left alone). Coded sizes that differ but match once the
//!    distorted is turned from its orientation into the reference's: it is turned
//!    (`transpose`/`hflip`/`vflip`).
//! 2. **Frame rate.** Different rates (or a variable-rate input) are refused unless
//!    `--fps-match`, which runs ffmpeg's `fps` filter at the reference's rate: frames are
//!    repeated or dropped by presentation time.
//! 3. **Size, pixel format, range** in one swscale pass:
//!    `scale=W:H:flags=bicubic:in_range=R:out_range=R'` then the reference's pixel format.
//!    With nothing to change the pass copies the pixels unchanged (checked bit for bit).
//!    Bit depth up is a left shift (8 → 10 bits: v·4); down uses swscale's default
//!    ordered dither; chroma is resampled with the same scaler.
//!
//! Each step taken adds a [`Note`]; metadata that VMAF models were not trained for adds a
//! warning.

use vmafx_core::Note;

use crate::error::MediaError;
use crate::format::{Range, Rate, VideoFormat};
use crate::orientation::Orientation;
use crate::probe::Probe;

/// The user's choices that the rules depend on.
#[derive(Debug, Clone)]
pub struct MatchOptions {
    /// swscale algorithm for size changes (`bicubic`, `lanczos`...).
    pub scale_filter: String,
    /// Bring a distorted at another frame rate to the reference's with ffmpeg's `fps` filter.
    pub fps_match: bool,
}

impl Default for MatchOptions {
    fn default() -> Self {
        Self { scale_filter: "bicubic".into(), fps_match: false }
    }
}

/// swscale's scaling algorithms: the only values `scale_filter` may take (it becomes part of
/// an ffmpeg argument).
pub const SCALE_FILTERS: &[&str] = &[
    "fast_bilinear",
    "bilinear",
    "bicubic",
    "experimental",
    "neighbor",
    "area",
    "bicublin",
    "gauss",
    "sinc",
    "lanczos",
    "spline",
];

/// A job's input options, checked: how to match, and what raw files hold.
#[derive(Debug, Clone)]
pub struct InputSettings {
    pub matching: MatchOptions,
    pub reference_raw: Option<crate::RawFormat>,
    pub distorted_raw: Option<crate::RawFormat>,
}

impl InputSettings {
    /// Checks a job's input options (an empty scaler is bicubic); the error names the option
    /// at fault (`scale_filter`, `reference_raw`, `distorted_raw`) and what is wrong with it.
    pub fn from_spec(spec: &vmafx_core::InputOptions) -> Result<Self, (&'static str, String)> {
        let scale_filter =
            if spec.scale_filter.is_empty() { "bicubic".into() } else { spec.scale_filter.clone() };
        let matching = MatchOptions { scale_filter, fps_match: spec.fps_match };
        matching.validate().map_err(|e| ("scale_filter", e))?;
        let raw = |field: &'static str, r: &Option<vmafx_core::RawVideo>| {
            r.as_ref().map(crate::RawFormat::from_spec).transpose().map_err(|e| (field, e))
        };
        Ok(Self {
            matching,
            reference_raw: raw("reference_raw", &spec.reference_raw)?,
            distorted_raw: raw("distorted_raw", &spec.distorted_raw)?,
        })
    }
}

impl MatchOptions {
    /// Checks `scale_filter` against [`SCALE_FILTERS`]; the error lists the valid ones.
    pub fn validate(&self) -> Result<(), String> {
        if SCALE_FILTERS.contains(&self.scale_filter.as_str()) {
            Ok(())
        } else {
            Err(format!("unknown scale filter `{}`; valid: {}", self.scale_filter, SCALE_FILTERS.join(", ")))
        }
    }
}

/// How one input's decoded frames are turned into what libvmaf gets.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversion {
    /// Turned first (identity: not turned).
    pub orientation: Orientation,
    /// Resampled in time to this rate (ffmpeg's `fps` filter).
    pub fps: Option<Rate>,
    pub in_range: Range,
    pub out_range: Range,
    /// Size and pixel format of the frames handed on.
    pub out: VideoFormat,
    pub scale_filter: String,
}

impl Conversion {
    /// The ffmpeg filter graph (`-vf`) that performs it; its last step is always the scale
    /// filter with explicit ranges, which copies pixels unchanged when nothing differs.
    pub fn filter_graph(&self) -> String {
        let mut steps: Vec<String> =
            self.orientation.ffmpeg_filters().iter().map(|f| f.to_string()).collect();
        if let Some(rate) = self.fps {
            steps.push(format!("fps=fps={rate}"));
        }
        steps.push(format!(
            "scale={}:{}:flags={}:in_range={}:out_range={}",
            self.out.width,
            self.out.height,
            self.scale_filter,
            self.in_range.ffmpeg_name(),
            self.out_range.ffmpeg_name()
        ));
        steps.join(",")
    }

    /// Whether `probe`'s frames pass unchanged (so a Y4M or raw file can be read natively).
    pub fn is_passthrough(&self, probe: &Probe) -> bool {
        self.orientation.is_identity()
            && self.fps.is_none()
            && self.in_range == self.out_range
            && probe.format().ok() == Some(self.out)
    }
}

/// The outcome of the rules for one pair.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchPlan {
    /// What libvmaf is given: the reference's coded size and pixel format.
    pub format: VideoFormat,
    pub range: Range,
    pub reference: Conversion,
    pub distorted: Conversion,
    /// The distorted's coded size when it is scaled.
    pub distorted_scaled_from: Option<(u32, u32)>,
    /// Frames the distorted yields after matching, when known before decoding (not after a
    /// frame-rate change).
    pub distorted_frames: Option<u64>,
    pub notes: Vec<Note>,
}

/// Applies the rules to a probed pair.
pub fn plan(reference: &Probe, distorted: &Probe, opts: &MatchOptions) -> Result<MatchPlan, MediaError> {
    let format = reference.format()?;
    let dist_format = distorted.format()?;
    let mut notes = Vec::new();

    // Range: raw files have no tag and take the other input's; untagged video is limited.
    let range = reference.range.or(raw_untagged(reference, distorted)).unwrap_or_default();
    let dist_range = distorted.range.or(raw_untagged(distorted, reference)).unwrap_or_default();

    let turn = orientation(reference, distorted, &mut notes);
    let (tw, th) = turn.apply_size(distorted.width, distorted.height);
    let scaled = (tw, th) != (format.width, format.height);
    if scaled {
        notes.push(Note::info(format!(
            "distorted {}x{} is scaled to the reference's {}x{} ({})",
            tw, th, format.width, format.height, opts.scale_filter
        )));
    }
    if dist_format.pix_fmt != format.pix_fmt {
        notes.push(Note::info(pixel_format_note(
            &distorted.pix_fmt,
            dist_format,
            format,
            &opts.scale_filter,
        )));
    }
    if dist_range != range {
        notes.push(Note::info(format!(
            "distorted {dist_range} is converted to the reference's {range} (scale in_range={} out_range={})",
            dist_range.ffmpeg_name(),
            range.ffmpeg_name()
        )));
    }
    let (ref_fps, dist_fps) = frame_rates(reference, distorted, opts, &mut notes)?;
    warnings(reference, distorted, &mut notes);

    let conversion = |orientation, fps, in_range| Conversion {
        orientation,
        fps,
        in_range,
        out_range: range,
        out: format,
        scale_filter: opts.scale_filter.clone(),
    };
    Ok(MatchPlan {
        format,
        range,
        reference: conversion(Orientation::IDENTITY, ref_fps, range),
        distorted: conversion(turn, dist_fps, dist_range),
        distorted_scaled_from: scaled.then_some((distorted.width, distorted.height)),
        distorted_frames: if dist_fps.is_some() { None } else { distorted.frame_count },
        notes,
    })
}

/// A raw input's range is the other input's (raw pixels are compared as they are).
fn raw_untagged(this: &Probe, other: &Probe) -> Option<Range> {
    matches!(this.container, crate::Container::Raw(_)).then_some(other.range).flatten()
}

/// Rule 1: how the distorted is turned (identity: not at all), with its notes.
fn orientation(reference: &Probe, distorted: &Probe, notes: &mut Vec<Note>) -> Orientation {
    for p in [reference, distorted] {
        if let Some(deg) = p.free_rotation {
            notes.push(Note::warning(format!(
                "`{}` asks to be shown rotated by {deg}°, which is not a multiple of 90°: its coded pixels are scored",
                p.path.display()
            )));
        }
    }
    let (r, d) = (reference.orientation, distorted.orientation);
    if r.is_identity() && d.is_identity() {
        return Orientation::IDENTITY;
    }
    // From the distorted's coded pixels to the reference's: to the screen, then back.
    let turn = r.inverse().after(&d);
    let same_size = (distorted.width, distorted.height) == (reference.width, reference.height);
    let describe = |o: Orientation| if o.is_identity() { "none".to_string() } else { o.to_string() };
    if !same_size
        && turn.swaps_axes()
        && turn.apply_size(distorted.width, distorted.height) == (reference.width, reference.height)
    {
        notes.push(Note::info(format!(
            "distorted is turned into the reference's orientation ({}; display metadata: reference {}, distorted {})",
            turn.ffmpeg_filters().join(","),
            describe(r),
            describe(d)
        )));
        return turn;
    }
    let what = if r == d {
        format!("both inputs ask to be shown with {}", describe(r))
    } else {
        format!("display metadata differs (reference: {}, distorted: {})", describe(r), describe(d))
    };
    notes.push(Note::info(format!("{what}; the coded pixels are scored as they are, not turned")));
    Orientation::IDENTITY
}

/// Rule 2: the `fps` filter for each input, or an error when the rates differ without
/// `--fps-match`.
fn frame_rates(
    reference: &Probe,
    distorted: &Probe,
    opts: &MatchOptions,
    notes: &mut Vec<Note>,
) -> Result<(Option<Rate>, Option<Rate>), MediaError> {
    let (Some(rr), Some(dr)) = (reference.rate, distorted.rate) else { return Ok((None, None)) };
    let differ = rr != dr;
    if !differ && !reference.variable_rate && !distorted.variable_rate {
        return Ok((None, None));
    }
    let vfr = |p: &Probe| if p.variable_rate { " (variable)" } else { "" };
    if !opts.fps_match {
        let message = if differ {
            format!(
                "frame rates differ: reference {rr} fps{}, distorted {dr} fps{}; pass --fps-match to \
                 bring the distorted to {rr} fps (frames repeated or dropped by presentation time)",
                vfr(reference),
                vfr(distorted)
            )
        } else {
            format!(
                "variable frame rate (reference {rr} fps{}, distorted {dr} fps{}): frames cannot be paired \
                 by number; pass --fps-match to pair them by presentation time at {rr} fps",
                vfr(reference),
                vfr(distorted)
            )
        };
        return Err(MediaError::Mismatch { input: distorted.path.clone(), message });
    }
    notes.push(Note::info(format!(
        "distorted at {dr} fps{} is brought to the reference's {rr} fps (ffmpeg fps filter: frames repeated or dropped by presentation time)",
        vfr(distorted)
    )));
    let ref_fps = reference.variable_rate.then(|| {
        notes.push(Note::info(format!(
            "reference has a variable frame rate: it is resampled to {rr} fps as well (ffmpeg fps filter)"
        )));
        rr
    });
    Ok((ref_fps, Some(rr)))
}

fn pixel_format_note(name: &str, from: VideoFormat, to: VideoFormat, filter: &str) -> String {
    let (a, b) = (from.pix_fmt, to.pix_fmt);
    let mut how = Vec::new();
    if a.bit_depth < b.bit_depth {
        how.push(format!(
            "{} → {} bits by a left shift (v·{})",
            a.bit_depth,
            b.bit_depth,
            1u32 << (b.bit_depth - a.bit_depth)
        ));
    } else if a.bit_depth > b.bit_depth {
        how.push(format!("{} → {} bits with swscale's ordered dither", a.bit_depth, b.bit_depth));
    }
    if a.chroma != b.chroma {
        how.push(format!("chroma resampled with {filter}"));
    }
    format!("distorted pixel format {name} is converted to the reference's {b} ({})", how.join("; "))
}

/// Metadata worth a warning: VMAF's models are trained on progressive SDR BT.709 video with
/// square pixels, and two inputs that describe their colours differently were probably not
/// made from the same master the same way.
fn warnings(reference: &Probe, distorted: &Probe, notes: &mut Vec<Note>) {
    for (role, p) in [("reference", reference), ("distorted", distorted)] {
        match p.color.transfer.as_deref() {
            Some("smpte2084") => notes.push(Note::warning(format!(
                "{role} is HDR (PQ transfer): VMAF models are trained on SDR video, so its scores are not calibrated for it"
            ))),
            Some("arib-std-b67") => notes.push(Note::warning(format!(
                "{role} is HDR (HLG transfer): VMAF models are trained on SDR video, so its scores are not calibrated for it"
            ))),
            _ => {}
        }
        if p.color.primaries.as_deref().is_some_and(|c| c.starts_with("bt2020")) {
            notes.push(Note::warning(format!(
                "{role} has BT.2020 primaries (wide colour gamut): VMAF models are trained on BT.709 SDR video"
            )));
        }
        if let Some(order) = p.field_order.as_deref().filter(|o| *o != "progressive") {
            notes.push(Note::warning(format!(
                "{role} is interlaced (field order {order}): frames are scored as progressive pictures, fields woven"
            )));
        }
        if let Some((n, d)) = p.sar.filter(|(n, d)| n != d) {
            notes.push(Note::warning(format!(
                "{role} has non-square pixels (sample aspect ratio {n}:{d}): scored as stored, not resized to its display aspect"
            )));
        }
    }
    let (r, d) = (&reference.color, &distorted.color);
    for (what, a, b) in [
        ("colour matrix", &r.matrix, &d.matrix),
        ("transfer", &r.transfer, &d.transfer),
        ("primaries", &r.primaries, &d.primaries),
    ] {
        if let (Some(a), Some(b)) = (a, b) {
            if a != b {
                notes.push(Note::warning(format!(
                    "{what} differs: reference {a}, distorted {b}; pixels are compared as coded, without a colour conversion"
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{Chroma, PixelFormat};
    use crate::probe::Container;
    use crate::raw::RawFormat;

    fn video(w: u32, h: u32, pix_fmt: &str) -> Probe {
        let mut p = crate::probe::tests::blank("v.mp4", w, h, pix_fmt);
        p.rate = Rate::new(24, 1);
        p
    }

    fn messages(plan: &MatchPlan) -> String {
        plan.notes.iter().map(|n| n.to_string()).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn same_everything_passes_pixels_unchanged() {
        let (r, d) = (video(640, 360, "yuv420p"), video(640, 360, "yuv420p"));
        let p = plan(&r, &d, &MatchOptions::default()).unwrap();
        assert!(p.notes.is_empty(), "{}", messages(&p));
        assert!(p.distorted.is_passthrough(&d));
        assert_eq!(
            p.distorted.filter_graph(),
            "scale=640:360:flags=bicubic:in_range=limited:out_range=limited"
        );
    }

    #[test]
    fn full_range_on_both_sides_stays_full() {
        let mut r = video(640, 360, "yuv420p");
        r.range = Some(Range::Full);
        let d = video(640, 360, "yuvj420p");
        let mut dist = d.clone();
        dist.range = Range::from_tags(None, "yuvj420p");
        let p = plan(&r, &dist, &MatchOptions::default()).unwrap();
        assert_eq!(p.range, Range::Full);
        assert!(p.notes.is_empty(), "{}", messages(&p));
        assert!(p.distorted.filter_graph().ends_with("in_range=full:out_range=full"));
        // A limited-range distorted of a full-range reference is expanded, with a note.
        let p = plan(&r, &d, &MatchOptions::default()).unwrap();
        assert!(p.distorted.filter_graph().ends_with("in_range=limited:out_range=full"));
        assert!(messages(&p).contains("distorted limited range is converted to the reference's full range"));
    }

    #[test]
    fn raw_inputs_take_the_other_side_s_range() {
        let mut r = video(64, 32, "yuv420p");
        r.range = Some(Range::Full);
        let raw = RawFormat { width: 64, height: 32, pix_fmt: PixelFormat::YUV420P, rate: Rate::new(24, 1) };
        let mut d = video(64, 32, "yuv420p");
        d.container = Container::Raw(raw);
        let p = plan(&r, &d, &MatchOptions::default()).unwrap();
        assert!(p.distorted.is_passthrough(&d), "{:?}", p.distorted);
    }

    #[test]
    fn rotation_metadata_alone_is_left_alone() {
        let r = video(640, 360, "yuv420p");
        let mut d = video(640, 360, "yuv420p");
        d.orientation =
            Orientation::from_display_matrix("0: 0 -65536 0\n1: 65536 0 0\n2: 0 0 1073741824").unwrap();
        let p = plan(&r, &d, &MatchOptions::default()).unwrap();
        assert!(p.distorted.orientation.is_identity());
        assert!(messages(&p)
            .contains("display metadata differs (reference: none, distorted: a 90° counter-clockwise turn)"));
        let mut both = r.clone();
        both.orientation = d.orientation;
        let p = plan(&both, &d, &MatchOptions::default()).unwrap();
        assert!(messages(&p).contains("both inputs ask to be shown with a 90° counter-clockwise turn"));
    }

    #[test]
    fn a_rotated_encode_of_a_landscape_master_is_turned_back() {
        // A phone stores 360x640 coded pixels and asks to be shown turned a quarter; the
        // master is the 640x360 picture as shown.
        let r = video(640, 360, "yuv420p");
        let mut d = video(360, 640, "yuv420p");
        d.orientation =
            Orientation::from_display_matrix("0: 0 65536 0\n1: -65536 0 0\n2: 0 0 1073741824").unwrap();
        let p = plan(&r, &d, &MatchOptions::default()).unwrap();
        assert_eq!(p.distorted.orientation.ffmpeg_filters(), ["transpose=clock"]);
        assert_eq!(p.distorted_scaled_from, None);
        assert!(p.distorted.filter_graph().starts_with("transpose=clock,scale=640:360"));
        assert!(messages(&p).contains("distorted is turned into the reference's orientation"));
    }

    #[test]
    fn other_sizes_are_scaled_and_formats_converted() {
        let r = video(640, 360, "yuv420p10le");
        let d = video(320, 180, "yuv420p");
        let p = plan(&r, &d, &MatchOptions::default()).unwrap();
        assert_eq!(p.distorted_scaled_from, Some((320, 180)));
        assert_eq!(p.distorted.out.pix_fmt, PixelFormat::new(Chroma::C420, 10));
        let m = messages(&p);
        assert!(m.contains("distorted 320x180 is scaled to the reference's 640x360 (bicubic)"), "{m}");
        assert!(m.contains("8 → 10 bits by a left shift (v·4)"), "{m}");
        let r = video(640, 360, "yuv420p");
        let d = video(640, 360, "yuv422p10le");
        let m = messages(&plan(&r, &d, &MatchOptions::default()).unwrap());
        assert!(
            m.contains("10 → 8 bits with swscale's ordered dither; chroma resampled with bicubic"),
            "{m}"
        );
    }

    #[test]
    fn frame_rates_must_match_or_be_matched() {
        let r = video(640, 360, "yuv420p");
        let mut d = video(640, 360, "yuv420p");
        d.rate = Rate::new(50, 1);
        d.frame_count = Some(100);
        let err = plan(&r, &d, &MatchOptions::default()).unwrap_err().to_string();
        assert!(
            err.contains("frame rates differ: reference 24 fps, distorted 50 fps; pass --fps-match"),
            "{err}"
        );
        let p = plan(&r, &d, &MatchOptions { fps_match: true, ..Default::default() }).unwrap();
        assert_eq!(p.distorted.fps, Rate::new(24, 1));
        assert_eq!(p.distorted_frames, None, "counted while decoding");
        assert!(p.distorted.filter_graph().starts_with("fps=fps=24,scale="));
        let mut vfr = video(640, 360, "yuv420p");
        vfr.variable_rate = true;
        let err = plan(&r, &vfr, &MatchOptions::default()).unwrap_err().to_string();
        assert!(err.contains("variable frame rate"), "{err}");
    }

    #[test]
    fn metadata_worth_a_warning() {
        let mut r = video(640, 360, "yuv420p10le");
        r.color.transfer = Some("smpte2084".into());
        r.color.primaries = Some("bt2020".into());
        let mut d = r.clone();
        d.color.transfer = Some("arib-std-b67".into());
        d.field_order = Some("tt".into());
        d.sar = Some((4, 3));
        let m = messages(&plan(&r, &d, &MatchOptions::default()).unwrap());
        for want in [
            "warning: reference is HDR (PQ transfer)",
            "warning: distorted is HDR (HLG transfer)",
            "warning: reference has BT.2020 primaries",
            "warning: distorted is interlaced (field order tt)",
            "warning: distorted has non-square pixels (sample aspect ratio 4:3)",
            "warning: transfer differs: reference smpte2084, distorted arib-std-b67",
        ] {
            assert!(m.contains(want), "{want} in\n{m}");
        }
    }
}
