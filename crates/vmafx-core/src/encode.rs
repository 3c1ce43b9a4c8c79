//! Encodes described by typed fields, never by ffmpeg arguments: which encoder, its quality
//! (CRF or bitrate), preset, output size, pixel format, frame range and encoder options. A
//! client cannot express an input, an output, a filter, a format or a protocol: the one
//! argument builder here ([`CheckedEncode::ffmpeg_args`]) writes those itself, and options
//! are checked against the encoder's own option list as a node's ffmpeg reports it
//! (`ffmpeg -h encoder=NAME`, [`EncoderDescription`]). Values that name files are refused,
//! inside `x264-params`-style strings too.
//!
//! Every path that encodes goes through [`check`]: the controller at submission, the node
//! before it runs ffmpeg (its own ffmpeg's options), and vmafx-tune on this machine.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// An encode a node makes before scoring: the reference encoded as these fields say, scored
/// against frames `start .. start + frames` of the reference (`frames` 0: to the end).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncodeSpec {
    /// ffmpeg's encoder name, one of [`ENCODERS`] (`libx264`, `libsvtav1`, `h264_nvenc`).
    #[serde(default)]
    pub encoder: String,
    /// Constant quality on the encoder's scale (`-crf`, or `-cq` for NVENC); fractional where
    /// the encoder takes it. Exactly one of `crf` and `bitrate_kbps`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crf: Option<f64>,
    /// Average bitrate in kbit/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitrate_kbps: Option<u32>,
    /// The encoder's speed preset (`-preset`, or `-cpu-used` for libaom and libvpx).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// Encode at this size (bicubic); both or neither. Scored at the reference's size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Output pixel format (`yuv420p10le`), one the encoder supports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pix_fmt: Option<String>,
    /// First frame of the reference to encode.
    #[serde(default)]
    pub start: u64,
    /// Frames to encode; 0: to the end.
    #[serde(default)]
    pub frames: u64,
    /// The encoder's own options by name without the dash (`tune: film`, `aq-mode: 2`,
    /// `x265-params: aq-mode=3`), and a few generic ones ([`GENERIC_OPTIONS`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// `libx264 crf 23.5 preset slow 1280x720 yuv420p10le frames 100+48 tune=film`: what a
/// person reads in a job listing.
impl fmt::Display for EncodeSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encoder)?;
        match (self.crf, self.bitrate_kbps) {
            (Some(crf), _) => write!(f, " crf {crf}")?,
            (None, Some(kbps)) => write!(f, " {kbps} kbit/s")?,
            (None, None) => {}
        }
        if let Some(p) = &self.preset {
            write!(f, " preset {p}")?;
        }
        if let (Some(w), Some(h)) = (self.width, self.height) {
            write!(f, " {w}x{h}")?;
        }
        if let Some(p) = &self.pix_fmt {
            write!(f, " {p}")?;
        }
        if self.start > 0 || self.frames > 0 {
            write!(f, " frames {}+{}", self.start, self.frames)?;
        }
        for (k, v) in &self.options {
            write!(f, " {k}={v}")?;
        }
        Ok(())
    }
}

/// An ffmpeg video encoder vmafx drives, with its quality scale.
#[derive(Debug, PartialEq, Eq)]
pub struct Encoder {
    /// ffmpeg's name (`-c:v`).
    pub name: &'static str,
    /// The option that takes the constant-quality value.
    pub quality_option: &'static str,
    pub crf_min: u32,
    pub crf_max: u32,
    /// A CRF near the middle of the useful range, where a search starts.
    pub start_crf: u32,
    /// Takes a fractional CRF (x264, x265 and NVENC do; libvpx, libaom and SVT-AV1 take
    /// whole numbers through ffmpeg's option).
    pub fractional: bool,
    /// Takes quarter CRFs (24.25) through this `*-params` option instead: SVT-AV1 4.0 and
    /// later. An older library reads a fraction there as its default CRF, so the encode
    /// itself checks the library first (`vmafx_media::encode`).
    pub quarter_steps_in: Option<&'static str>,
    /// Set with a constant-quality value: what makes it constant quality for this encoder.
    pub quality_fixed: &'static [(&'static str, &'static str)],
    /// Always set unless the spec's options set them (a `*-params` default is merged in).
    pub defaults: &'static [(&'static str, &'static str)],
    /// The option that takes `preset`.
    pub preset_option: &'static str,
    /// Preset used when none is given (`None`: the encoder's own default).
    pub default_preset: Option<&'static str>,
    /// A ladder's default quality points.
    pub ladder_crfs: &'static [u32],
}

const X264_LIKE: Encoder = Encoder {
    name: "libx264",
    quality_option: "crf",
    crf_min: 0,
    crf_max: 51,
    start_crf: 23,
    fractional: true,
    quarter_steps_in: None,
    quality_fixed: &[],
    defaults: &[],
    preset_option: "preset",
    default_preset: None,
    ladder_crfs: &[18, 22, 26, 30, 34, 38],
};

const NVENC: Encoder = Encoder {
    name: "h264_nvenc",
    quality_option: "cq",
    crf_min: 1,
    crf_max: 51,
    start_crf: 28,
    fractional: true,
    quarter_steps_in: None,
    quality_fixed: &[("rc", "vbr"), ("b:v", "0")],
    defaults: &[],
    preset_option: "preset",
    default_preset: Some("p5"),
    ladder_crfs: &[20, 24, 28, 32, 36, 40],
};

/// The encoders an encode job or vmafx-tune can use. Adding one is a row here.
pub const ENCODERS: &[Encoder] = &[
    X264_LIKE,
    Encoder {
        name: "libx265",
        start_crf: 28,
        defaults: &[("x265-params", "log-level=error")],
        ladder_crfs: &[20, 24, 28, 32, 36, 40],
        ..X264_LIKE
    },
    Encoder {
        name: "libsvtav1",
        crf_min: 1,
        crf_max: 63,
        start_crf: 35,
        fractional: false,
        quarter_steps_in: Some("svtav1-params"),
        default_preset: Some("8"),
        ladder_crfs: &[24, 30, 36, 42, 48, 54],
        ..X264_LIKE
    },
    Encoder {
        name: "libaom-av1",
        crf_max: 63,
        start_crf: 32,
        fractional: false,
        quality_fixed: &[("b:v", "0")],
        defaults: &[("row-mt", "1")],
        preset_option: "cpu-used",
        default_preset: Some("6"),
        ladder_crfs: &[20, 27, 34, 41, 48, 55],
        ..X264_LIKE
    },
    Encoder {
        name: "libvpx-vp9",
        crf_max: 63,
        start_crf: 32,
        fractional: false,
        quality_fixed: &[("b:v", "0")],
        defaults: &[("row-mt", "1"), ("deadline", "good")],
        preset_option: "cpu-used",
        default_preset: Some("4"),
        ladder_crfs: &[20, 27, 34, 41, 48, 55],
        ..X264_LIKE
    },
    NVENC,
    Encoder { name: "hevc_nvenc", ..NVENC },
    Encoder {
        name: "av1_nvenc",
        crf_max: 63,
        start_crf: 35,
        ladder_crfs: &[24, 30, 36, 42, 48, 54],
        ..NVENC
    },
];

/// The encoder called `name`, or a message listing the known ones.
pub fn encoder(name: &str) -> Result<&'static Encoder, String> {
    ENCODERS.iter().find(|e| e.name == name).ok_or_else(|| {
        let names: Vec<&str> = ENCODERS.iter().map(|e| e.name).collect();
        format!("unknown encoder `{name}`; supported: {}", names.join(", "))
    })
}

/// What a node's ffmpeg says of one encoder (`ffmpeg -h encoder=NAME`): the pixel formats
/// it takes and its private options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EncoderDescription {
    pub encoder: String,
    pub pix_fmts: Vec<String>,
    pub options: Vec<EncoderOption>,
}

/// One private option of an encoder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EncoderOption {
    pub name: String,
    /// ffmpeg's type word: `int`, `float`, `string`, `boolean`, `flags`, `dictionary`, ...
    pub kind: String,
    /// Named values it also takes (`aq-mode`: `variance`, `autovariance`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub constants: Vec<String>,
}

impl EncoderDescription {
    fn option(&self, name: &str) -> Option<&EncoderOption> {
        self.options.iter().find(|o| o.name == name)
    }

    /// Several nodes' descriptions of one encoder as one: every option and pixel format any
    /// of them has (each node checks again against its own before it encodes).
    pub fn merge<'a>(described: impl IntoIterator<Item = &'a EncoderDescription>) -> Option<Self> {
        let mut all = described.into_iter();
        let mut merged = all.next()?.clone();
        for d in all {
            for f in &d.pix_fmts {
                if !merged.pix_fmts.contains(f) {
                    merged.pix_fmts.push(f.clone());
                }
            }
            for o in &d.options {
                if merged.option(&o.name).is_none() {
                    merged.options.push(o.clone());
                }
            }
        }
        Some(merged)
    }
}

/// Codec options every encoder takes (ffmpeg's generic ones) that an encode spec may set,
/// with their type.
pub const GENERIC_OPTIONS: &[(&str, &str)] = &[
    ("g", "int"),
    ("bf", "int"),
    ("refs", "int"),
    ("keyint_min", "int"),
    ("maxrate", "bitrate"),
    ("minrate", "bitrate"),
    ("bufsize", "bitrate"),
    ("qmin", "int"),
    ("qmax", "int"),
    ("qcomp", "float"),
    ("sc_threshold", "int"),
    ("global_quality", "int"),
    ("threads", "int"),
    ("slices", "int"),
];

/// ffmpeg options that add inputs, outputs, filters, formats or protocols, or change which
/// frames are encoded: never an encoder option, refused by name with what they are.
const FORBIDDEN: &[(&str, &str)] = &[
    ("i", "an input"),
    ("stream_loop", "an input option"),
    ("itsoffset", "an input option"),
    ("ss", "an input option (use `start`)"),
    ("sseof", "an input option"),
    ("y", "an output option"),
    ("n", "an output option"),
    ("map", "an output option"),
    ("fs", "an output option"),
    ("t", "an output option (use `frames`)"),
    ("to", "an output option (use `frames`)"),
    ("frames", "an output option (use `frames`)"),
    ("vframes", "an output option (use `frames`)"),
    ("attach", "an output option"),
    ("dump_attachment", "an output option"),
    ("metadata", "an output option"),
    ("progress", "an output option"),
    ("report", "an output option"),
    ("pass", "multi-pass encoding, which writes a stats file"),
    ("passlogfile", "names a file"),
    ("vf", "a filter"),
    ("af", "a filter"),
    ("filter", "a filter"),
    ("filter_complex", "a filter"),
    ("filter_script", "a filter"),
    ("lavfi", "a filter"),
    ("bsf", "a filter"),
    ("f", "a format"),
    ("r", "a format option (the frame rate stays the reference's)"),
    ("s", "a format option (use `width` and `height`)"),
    ("aspect", "a format option"),
    ("pix_fmt", "a format option (use `pix_fmt`)"),
    ("protocol_whitelist", "a protocol option"),
    ("protocol_blacklist", "a protocol option"),
    ("c", "the codec (use `encoder`)"),
    ("codec", "the codec (use `encoder`)"),
    ("vcodec", "the codec (use `encoder`)"),
    ("b", "the bitrate (use `bitrate_kbps`)"),
];

/// Keys of `*-params` strings (x264, x265, SVT-AV1, libaom) that read or write files.
const FILE_KEYS: &[&str] = &[
    "stats",
    "pass",
    "qpfile",
    "cqmfile",
    "tcfile-in",
    "tcfile-out",
    "dump-yuv",
    "opencl-clbin",
    "csv",
    "analysis-save",
    "analysis-load",
    "analysis-reuse-file",
    "zonefile",
    "recon",
    "lambda-file",
    "scaling-list",
    "dolby-vision-rpu",
    "dhdr10-info",
    "multi-pass-opt-analysis",
    "multi-pass-opt-distortion",
    "fgs-table",
    "film-grain-table",
    "input",
    "output",
    "vmaf-model-path",
    "partition-info-path",
    "second-pass-log",
    "fpf",
    "two-pass-output",
    "subgop-config-path",
    "rate-distribution-info",
    "stat-file",
    "roi-map-file",
];

/// Words of a name (split at `-` and `_`) that say it reads or writes a file, so that keys
/// of later encoder versions are caught too; `log-level` and friends are levels.
const FILE_WORDS: &[&str] = &[
    "file", "path", "log", "stats", "stat", "csv", "dump", "save", "load", "dir", "table", "recon", "input",
    "output",
];
const NOT_FILES: &[&str] = &["log-level", "log", "csv-log-level", "log_level"];

/// Whether an option or parameter called `name` names a file.
fn names_a_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let word_says = |w: &str| FILE_WORDS.contains(&w) || w.ends_with("file") || w.ends_with("path");
    !NOT_FILES.contains(&lower.as_str())
        && (FILE_KEYS.contains(&lower.as_str()) || lower.split(['-', '_']).any(word_says))
}

/// The most options one spec carries, and the longest value.
pub const MAX_OPTIONS: usize = 64;
pub const MAX_OPTION_VALUE: usize = 1024;

/// Why an encode spec is refused: the field (`encode.options.stats`) and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    pub field: String,
    pub problem: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

impl std::error::Error for SpecError {}

fn refuse(field: impl Into<String>, problem: impl Into<String>) -> SpecError {
    SpecError { field: field.into(), problem: problem.into() }
}

/// A spec that passed [`check`]: the only thing arguments are built from.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedEncode {
    spec: EncodeSpec,
    encoder: &'static Encoder,
}

/// Checks `spec` against the encoder table and, when known, the encoder's options as a
/// node's ffmpeg reports them (`described`; `None`: names are checked later, by the node
/// that runs it). Fields are named `encode.…` in the errors.
pub fn check(spec: &EncodeSpec, described: Option<&EncoderDescription>) -> Result<CheckedEncode, SpecError> {
    if spec.encoder.trim().is_empty() {
        return Err(refuse("encode.encoder", format!("is required (one of {})", names())));
    }
    let enc = encoder(&spec.encoder).map_err(|e| refuse("encode.encoder", e))?;
    match (spec.crf, spec.bitrate_kbps) {
        (Some(_), Some(_)) => return Err(refuse("encode.crf", "give crf or bitrate_kbps, not both")),
        (None, None) => {
            return Err(refuse("encode.crf", "is required (constant quality), or give bitrate_kbps instead"))
        }
        (Some(crf), None) => {
            let (lo, hi) = (enc.crf_min as f64, enc.crf_max as f64);
            if !crf.is_finite() || crf < lo || crf > hi {
                return Err(refuse(
                    "encode.crf",
                    format!("{crf} is outside {}'s range {lo}..{hi}", enc.name),
                ));
            }
            let quarter = enc.quarter_steps_in.is_some() && (crf * 4.0).fract() == 0.0;
            if !enc.fractional && crf.fract() != 0.0 && !quarter {
                let steps = if enc.quarter_steps_in.is_some() { "whole or quarter" } else { "whole" };
                return Err(refuse(
                    "encode.crf",
                    format!("{} takes {steps} CRF values, not {crf}", enc.name),
                ));
            }
        }
        (None, Some(kbps)) => {
            if !(1..=2_000_000).contains(&kbps) {
                return Err(refuse("encode.bitrate_kbps", format!("{kbps} is outside 1..2000000")));
            }
        }
    }
    if let Some(p) = &spec.preset {
        plain_word("encode.preset", p)?;
        if let Some(o) = described.and_then(|d| d.option(enc.preset_option)) {
            check_value("encode.preset", o, p)?;
        }
    }
    match (spec.width, spec.height) {
        (None, None) => {}
        (Some(w), Some(h)) => {
            for (field, v) in [("encode.width", w), ("encode.height", h)] {
                if !(16..=16_384).contains(&v) {
                    return Err(refuse(field, format!("{v} is outside 16..16384")));
                }
            }
        }
        _ => return Err(refuse("encode.width", "give width and height together")),
    }
    if let Some(f) = &spec.pix_fmt {
        plain_word("encode.pix_fmt", f)?;
        if let Some(d) = described.filter(|d| !d.pix_fmts.is_empty()) {
            if !d.pix_fmts.contains(f) {
                return Err(refuse(
                    "encode.pix_fmt",
                    format!("{} does not take {f}; it takes {}", enc.name, d.pix_fmts.join(" ")),
                ));
            }
        }
    }
    if spec.options.len() > MAX_OPTIONS {
        return Err(refuse(
            "encode.options",
            format!("{} options; at most {MAX_OPTIONS}", spec.options.len()),
        ));
    }
    for (name, value) in &spec.options {
        check_option(enc, described, name, value)?;
    }
    Ok(CheckedEncode { spec: spec.clone(), encoder: enc })
}

fn names() -> String {
    ENCODERS.iter().map(|e| e.name).collect::<Vec<_>>().join(", ")
}

/// A preset or a pixel format: letters, digits, `_`, `.`, `-`; at most 32.
fn plain_word(field: &str, v: &str) -> Result<(), SpecError> {
    let ok = !v.is_empty()
        && v.len() <= 32
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(refuse(field, format!("`{}` is not a plain name (letters, digits, _ . -)", v.escape_debug())))
    }
}

fn check_option(
    enc: &Encoder,
    described: Option<&EncoderDescription>,
    name: &str,
    value: &str,
) -> Result<(), SpecError> {
    let field = format!("encode.options.{}", name.escape_debug());
    let well_formed = !name.is_empty()
        && name.len() <= 64
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-'));
    if !well_formed {
        return Err(refuse(
            field,
            "an option name is lowercase letters, digits, `_` and `-`, without the dash",
        ));
    }
    if let Some((_, what)) = FORBIDDEN.iter().find(|(n, _)| *n == name) {
        return Err(refuse(field, format!("`-{name}` is {what}: an encode spec cannot set it")));
    }
    if name == enc.quality_option {
        return Err(refuse(field, "set by the `crf` field"));
    }
    if name == enc.preset_option {
        return Err(refuse(field, "set by the `preset` field"));
    }
    if names_a_file(name) {
        return Err(refuse(
            field,
            format!("`-{name}` names a file: an encode spec cannot read or write files"),
        ));
    }
    if value.len() > MAX_OPTION_VALUE {
        return Err(refuse(field, format!("{} bytes; at most {MAX_OPTION_VALUE}", value.len())));
    }
    if value.chars().any(char::is_control) {
        return Err(refuse(field, "the value has control characters"));
    }
    let generic = GENERIC_OPTIONS.iter().find(|(n, _)| *n == name);
    let private = described.and_then(|d| d.option(name));
    let kind = match (private, generic) {
        (Some(o), _) => {
            check_value(&field, o, value)?;
            o.kind.as_str()
        }
        (None, Some((_, kind))) => {
            check_value(
                &field,
                &EncoderOption { name: name.into(), kind: kind.to_string(), constants: vec![] },
                value,
            )?;
            kind
        }
        (None, None) if described.is_some() => {
            return Err(refuse(
                field,
                format!("{} has no option `-{name}` (`ffmpeg -h encoder={}` lists them)", enc.name, enc.name),
            ))
        }
        // Not described here: the kind is unknown; a params-like name is parsed anyway.
        (None, None) => "",
    };
    if kind == "dictionary" || name.ends_with("-params") || name.ends_with("opts") {
        check_params(&field, value)?;
    }
    Ok(())
}

/// `key=value:key=value` (x264-params, x265-params, svtav1-params, aom-params): every key
/// well formed and none that names a file.
fn check_params(field: &str, value: &str) -> Result<(), SpecError> {
    for pair in value.split(':').filter(|p| !p.is_empty()) {
        let key = pair.split('=').next().unwrap_or_default();
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-')) {
            return Err(refuse(field, format!("`{}` is not a key=value pair", pair.escape_debug())));
        }
        if names_a_file(key) {
            return Err(refuse(
                field,
                format!("`{key}` names a file: an encode spec cannot read or write files"),
            ));
        }
    }
    Ok(())
}

/// A value of the option's type, or one of its named constants.
fn check_value(field: &str, o: &EncoderOption, value: &str) -> Result<(), SpecError> {
    let v = value.trim();
    if o.constants.iter().any(|c| c == v) {
        return Ok(());
    }
    let number = |v: &str| v.parse::<f64>().is_ok_and(f64::is_finite);
    let ok = match o.kind.as_str() {
        "int" | "int64" | "uint64" | "uint" => v.parse::<i64>().is_ok(),
        "float" | "double" => number(v),
        "boolean" => matches!(v, "true" | "false" | "1" | "0" | "auto" | "yes" | "no" | "on" | "off"),
        "bitrate" => {
            let digits = v.trim_end_matches(['k', 'K', 'M', 'G']);
            v.len() - digits.len() <= 1 && number(digits)
        }
        "rational" => v.split_once(['/', ':']).map_or(number(v), |(a, b)| number(a) && number(b)),
        "image_size" => {
            v.split_once('x').is_some_and(|(a, b)| a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok())
        }
        "flags" => v
            .split(['+', '-'])
            .filter(|f| !f.is_empty())
            .all(|f| o.constants.iter().any(|c| c == f) || f.parse::<i64>().is_ok()),
        "binary" => false,
        _ => true,
    };
    if ok {
        return Ok(());
    }
    let named =
        if o.constants.is_empty() { String::new() } else { format!(" or one of {}", o.constants.join(", ")) };
    Err(refuse(field, format!("`{}` is not a valid {}{named}", value.escape_debug(), o.kind)))
}

impl CheckedEncode {
    pub fn spec(&self) -> &EncodeSpec {
        &self.spec
    }

    pub fn encoder(&self) -> &'static Encoder {
        self.encoder
    }

    /// ffmpeg's arguments after `-i SOURCE`: the first video stream only, the frame range
    /// and size as filters, the encoder and its settings. The one place encode arguments are
    /// made.
    pub fn ffmpeg_args(&self) -> Vec<String> {
        self.ffmpeg_args_from(0)
    }

    /// [`Self::ffmpeg_args`] for a source that an input seek starts at frame `at` (at most
    /// the spec's `start`): the frame range counts from there.
    pub fn ffmpeg_args_from(&self, at: u64) -> Vec<String> {
        let (s, e) = (&self.spec, self.encoder);
        let mut args: Vec<String> = ["-map", "0:v:0", "-an", "-sn", "-dn"].map(String::from).to_vec();
        let mut filters = Vec::new();
        if s.start > 0 || s.frames > 0 {
            let start = s.start - at.min(s.start);
            let end = if s.frames > 0 { format!(":end_frame={}", start + s.frames) } else { String::new() };
            filters.push(format!("trim=start_frame={start}{end},setpts=PTS-STARTPTS"));
        }
        if let (Some(w), Some(h)) = (s.width, s.height) {
            filters.push(format!("scale={w}:{h}:flags=bicubic"));
        }
        if !filters.is_empty() {
            args.extend(["-vf".into(), filters.join(",")]);
        }
        args.extend(["-c:v".into(), e.name.into()]);
        // A quarter CRF goes into the encoder's own parameters, after any others (the last
        // `crf=` wins); ffmpeg's option gets the whole part.
        let quarter = self.quarter_crf().map(|(params, crf)| (params, format!("crf={crf}")));
        let mut quarter_unset = quarter.clone();
        let mut with_quarter = |name: &str, value: String| match &quarter {
            Some((params, kv)) if *params == name => {
                quarter_unset = None;
                format!("{value}:{kv}")
            }
            _ => value,
        };
        let mut set = |name: &str, value: String| args.extend([format!("-{name}"), value]);
        match (s.crf, s.bitrate_kbps) {
            (Some(crf), _) if quarter.is_some() => set(e.quality_option, crf.trunc().to_string()),
            (Some(crf), _) => {
                set(e.quality_option, crf.to_string());
                for (k, v) in e.quality_fixed {
                    set(k, v.to_string());
                }
            }
            (None, Some(kbps)) => set("b:v", format!("{kbps}k")),
            (None, None) => {}
        }
        if let Some(p) = s.preset.as_deref().or(e.default_preset) {
            set(e.preset_option, p.to_string());
        }
        for (k, v) in e.defaults {
            match s.options.get(*k) {
                None => set(k, with_quarter(k, v.to_string())),
                // A default `*-params` goes first, so that the spec's own keys win.
                Some(mine) if k.ends_with("-params") => set(k, with_quarter(k, format!("{v}:{mine}"))),
                Some(_) => {}
            }
        }
        if let Some(f) = &s.pix_fmt {
            set("pix_fmt", f.clone());
        }
        for (k, v) in &s.options {
            if !e.defaults.iter().any(|(d, _)| d == k && d.ends_with("-params")) {
                set(k, with_quarter(k, v.clone()));
            }
        }
        if let Some((params, kv)) = quarter_unset {
            set(params, kv);
        }
        args
    }

    /// A CRF with a fraction for an encoder that takes quarter steps in its own parameters:
    /// that option's name and the CRF.
    pub fn quarter_crf(&self) -> Option<(&'static str, f64)> {
        let crf = self.spec.crf.filter(|c| c.fract() != 0.0 && !self.encoder.fractional)?;
        self.encoder.quarter_steps_in.map(|p| (p, crf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x264(options: &[(&str, &str)]) -> EncodeSpec {
        EncodeSpec {
            encoder: "libx264".into(),
            crf: Some(23.5),
            options: options.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            ..Default::default()
        }
    }

    fn described() -> EncoderDescription {
        let opt = |name: &str, kind: &str, constants: &[&str]| EncoderOption {
            name: name.into(),
            kind: kind.into(),
            constants: constants.iter().map(|c| c.to_string()).collect(),
        };
        EncoderDescription {
            encoder: "libx264".into(),
            pix_fmts: vec!["yuv420p".into(), "yuv420p10le".into()],
            options: vec![
                opt("preset", "string", &[]),
                opt("tune", "string", &[]),
                opt("aq-mode", "int", &["none", "variance"]),
                opt("x264-params", "dictionary", &[]),
                opt("x264opts", "string", &[]),
                opt("passlogfile", "string", &[]),
                opt("stats", "string", &[]),
                opt("psy", "boolean", &[]),
            ],
        }
    }

    #[test]
    fn table_is_consistent() {
        for e in ENCODERS {
            assert!(e.crf_min < e.start_crf && e.start_crf < e.crf_max, "{}", e.name);
            assert!(e.ladder_crfs.windows(2).all(|w| w[0] < w[1]), "{}", e.name);
            assert!(e.ladder_crfs.iter().all(|c| (e.crf_min..=e.crf_max).contains(c)), "{}", e.name);
        }
        assert_eq!(encoder("libx264").unwrap().crf_max, 51);
        assert!(encoder("ffv1").unwrap_err().contains("libsvtav1"));
    }

    #[test]
    fn arguments_come_from_the_fields_only() {
        let spec = EncodeSpec {
            width: Some(640),
            height: Some(360),
            pix_fmt: Some("yuv420p10le".into()),
            start: 10,
            frames: 24,
            preset: Some("fast".into()),
            ..x264(&[("tune", "film"), ("aq-mode", "variance")])
        };
        let args = check(&spec, Some(&described())).unwrap().ffmpeg_args();
        assert_eq!(
            args.join(" "),
            "-map 0:v:0 -an -sn -dn -vf trim=start_frame=10:end_frame=34,setpts=PTS-STARTPTS,\
             scale=640:360:flags=bicubic -c:v libx264 -crf 23.5 -preset fast -pix_fmt yuv420p10le \
             -aq-mode variance -tune film"
        );
        let vp9 = EncodeSpec { encoder: "libvpx-vp9".into(), crf: Some(32.0), ..Default::default() };
        assert_eq!(
            check(&vp9, None).unwrap().ffmpeg_args()[5..].join(" "),
            "-c:v libvpx-vp9 -crf 32 -b:v 0 -cpu-used 4 -row-mt 1 -deadline good"
        );
        let abr = EncodeSpec { encoder: "h264_nvenc".into(), bitrate_kbps: Some(3000), ..Default::default() };
        assert_eq!(
            check(&abr, None).unwrap().ffmpeg_args()[5..].join(" "),
            "-c:v h264_nvenc -b:v 3000k -preset p5"
        );
        // x265's quiet default merges with the spec's own params.
        let x265 = EncodeSpec {
            encoder: "libx265".into(),
            crf: Some(28.0),
            options: [("x265-params".to_string(), "aq-mode=3".to_string())].into(),
            ..Default::default()
        };
        let args = check(&x265, None).unwrap().ffmpeg_args();
        assert_eq!(args[args.len() - 2..], ["-x265-params", "log-level=error:aq-mode=3"]);
        assert_eq!(args.iter().filter(|a| *a == "-x265-params").count(), 1);
    }

    #[test]
    fn inputs_outputs_filters_formats_protocols_and_files_are_refused_by_name() {
        let d = described();
        let refused = |opts: &[(&str, &str)]| check(&x264(opts), Some(&d)).unwrap_err();
        for (name, value, says) in [
            ("i", "/etc/passwd", "an input"),
            ("f", "data", "a format"),
            ("vf", "movie=/etc/passwd", "a filter"),
            ("filter_complex", "[0]null", "a filter"),
            ("protocol_whitelist", "file,http", "a protocol option"),
            ("map", "1", "an output option"),
            ("passlogfile", "/tmp/x", "names a file"),
            ("stats", "/tmp/x", "names a file"),
            ("crf", "20", "`crf` field"),
            ("preset", "slow", "`preset` field"),
            ("x264-params", "stats=/tmp/leak", "`stats` names a file"),
            ("x264-params", "keyint=60:qpfile=/etc/passwd", "`qpfile` names a file"),
            ("x264opts", "dump-yuv=/tmp/y", "`dump-yuv` names a file"),
            ("nosuch", "1", "has no option `-nosuch`"),
            ("aq-mode", "lots", "not a valid int or one of none, variance"),
            ("psy", "maybe", "not a valid boolean"),
            ("-i", "x", "without the dash"),
            ("c:v", "ffv1", "without the dash"),
        ] {
            let e = refused(&[(name, value)]);
            assert!(e.field.ends_with(&format!("options.{name}")), "{name}: {e}");
            assert!(e.problem.contains(says), "{name}: {e}");
        }
        // x265 and libaom keys that write files, without a description to go by.
        for (enc, params) in
            [("libx265", "x265-params"), ("libaom-av1", "aom-params"), ("libsvtav1", "svtav1-params")]
        {
            for key in ["csv", "analysis-save", "film-grain-table", "fgs-table"] {
                let spec = EncodeSpec {
                    encoder: enc.into(),
                    crf: Some(30.0),
                    options: [(params.to_string(), format!("{key}=/tmp/out"))].into(),
                    ..Default::default()
                };
                assert!(check(&spec, None).unwrap_err().problem.contains("names a file"), "{enc} {key}");
            }
        }
        // Generic options are typed too; a level is not a file.
        assert!(check(&x264(&[("g", "48"), ("maxrate", "5M"), ("bufsize", "10M")]), Some(&d)).is_ok());
        assert!(check(&x264(&[("g", "often")]), Some(&d)).is_err());
        let quiet = x264(&[("x264-params", "log=-1:keyint=60:psy-rd=1.0,0.15:direct=auto")]);
        assert!(check(&quiet, Some(&d)).is_ok());
    }

    #[test]
    fn a_quarter_crf_goes_into_svt_av1_s_own_parameters() {
        let args = |crf: f64, options: &[(&str, &str)]| {
            let spec = EncodeSpec {
                encoder: "libsvtav1".into(),
                crf: Some(crf),
                options: options.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                ..Default::default()
            };
            check(&spec, None).unwrap().ffmpeg_args().join(" ")
        };
        assert!(
            args(34.25, &[]).contains("-crf 34 -preset 8 -svtav1-params crf=34.25"),
            "{}",
            args(34.25, &[])
        );
        // Merged after the caller's keys, once.
        let merged = args(34.5, &[("svtav1-params", "tune=0")]);
        assert!(merged.ends_with("-svtav1-params tune=0:crf=34.5"), "{merged}");
        assert_eq!(merged.matches("svtav1-params").count(), 1, "{merged}");
        // A whole CRF stays ffmpeg's option alone.
        assert!(!args(34.0, &[]).contains("svtav1-params"), "{}", args(34.0, &[]));
    }

    #[test]
    fn quality_size_and_format_are_bounded() {
        let d = described();
        let bad = |spec: EncodeSpec| check(&spec, Some(&d)).unwrap_err().to_string();
        assert!(bad(EncodeSpec { crf: Some(60.0), ..x264(&[]) }).contains("outside libx264's range 0..51"));
        assert!(bad(EncodeSpec { crf: Some(f64::NAN), ..x264(&[]) }).contains("outside"));
        assert!(bad(EncodeSpec { bitrate_kbps: Some(900), ..x264(&[]) }).contains("not both"));
        assert!(bad(EncodeSpec { crf: None, ..x264(&[]) }).contains("is required"));
        let svt = EncodeSpec { encoder: "libsvtav1".into(), crf: Some(30.3), ..Default::default() };
        assert!(check(&svt, None).unwrap_err().problem.contains("whole or quarter CRF values"));
        let vp9 = EncodeSpec { encoder: "libvpx-vp9".into(), crf: Some(30.5), ..Default::default() };
        assert!(check(&vp9, None).unwrap_err().problem.contains("takes whole CRF values"));
        assert!(bad(EncodeSpec { width: Some(640), ..x264(&[]) }).contains("together"));
        assert!(bad(EncodeSpec { width: Some(100_000), height: Some(10), ..x264(&[]) })
            .contains("outside 16..16384"));
        assert!(bad(EncodeSpec { pix_fmt: Some("gbrp".into()), ..x264(&[]) })
            .contains("takes yuv420p yuv420p10le"));
        assert!(bad(EncodeSpec { preset: Some("fast; rm".into()), ..x264(&[]) }).contains("not a plain name"));
        assert!(bad(EncodeSpec { encoder: "ffv1".into(), ..x264(&[]) }).contains("unknown encoder `ffv1`"));
        let many: Vec<(String, String)> = (0..100).map(|i| (format!("g{i}"), "1".into())).collect();
        let spec = EncodeSpec { options: many.into_iter().collect(), ..x264(&[]) };
        assert!(bad(spec).contains("at most 64"));
    }

    #[test]
    fn the_old_argument_list_is_refused_by_name() {
        let e = serde_json::from_str::<EncodeSpec>(r#"{"args": ["-i", "/etc/passwd"]}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `args`"), "{e}");
        let typed: EncodeSpec =
            serde_json::from_str(r#"{"encoder": "libx264", "crf": 23.5, "options": {"tune": "film"}}"#)
                .unwrap();
        assert_eq!(typed.crf, Some(23.5));
    }

    #[test]
    fn descriptions_merge_into_what_any_node_has() {
        let a = described();
        let mut b = EncoderDescription { encoder: "libx264".into(), ..Default::default() };
        b.options.push(EncoderOption { name: "newer".into(), kind: "int".into(), constants: vec![] });
        b.pix_fmts.push("gray".into());
        let m = EncoderDescription::merge([&a, &b]).unwrap();
        assert!(m.option("newer").is_some() && m.option("tune").is_some());
        assert!(m.pix_fmts.contains(&"gray".to_string()));
        assert!(EncoderDescription::merge([]).is_none());
    }
}
