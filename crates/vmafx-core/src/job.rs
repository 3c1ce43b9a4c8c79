//! Jobs and work items of the cluster: what a client submits, how a scoring job splits into
//! frame segments, and the states both go through.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::encode::EncodeSpec;
use crate::sched::Requirements;

/// A scoring job as submitted: the same knobs as `vmafx score`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreJobSpec {
    pub reference: String,
    pub distorted: String,
    /// Built-in model version; ignored when `model_path` is set.
    pub model: String,
    pub model_path: Option<String>,
    #[serde(default)]
    pub features: Vec<String>,
    #[serde(default = "one")]
    pub subsample: u32,
    /// Frames per segment; `None` scores the whole video as one work item.
    pub segment_frames: Option<u64>,
    /// Encode the reference on the node first, and score that encode (the distorted is
    /// then unused). Such a job is one work item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encode: Option<EncodeSpec>,
    /// Pictures of these frames instead of scores (the dashboard's worst frames). Such a job
    /// is one work item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pictures: Option<PictureSpec>,
    /// What a node needs to run it (GPU vendor, encoder, labels); empty: any node.
    #[serde(default, skip_serializing_if = "Requirements::is_empty")]
    pub requirements: Requirements,
    /// How the inputs are read and matched (raw YUV formats, scaler, frame-rate matching).
    #[serde(default, skip_serializing_if = "InputOptions::is_default")]
    pub inputs: InputOptions,
    /// The version (ETag) each object-store input had when the job was accepted, by URI: set by
    /// the controller, which fails the job when an object changes under it.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub versions: std::collections::BTreeMap<String, String>,
    /// An estimate by a registry model beside VMAF, made by the node (docs/models.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate: Option<EstimateSpec>,
}

impl ScoreJobSpec {
    /// A no-reference job: no reference, and an estimate by a no-reference (`nr`) model of the
    /// distorted alone — the model's estimate is its only result (no VMAF, no training triples).
    pub fn is_no_reference(&self) -> bool {
        self.reference.trim().is_empty() && self.estimate.is_some() && self.encode.is_none()
    }
}

/// A quality model of the node's model registry run beside VMAF: the node scores each frame
/// pair in full (VMAF, the job's truth) and, from the same decoded frames made smaller as the
/// model asks, its inputs; the model's per-frame output is added to the result under the
/// model's `ID@VERSION`. The frames' (inputs, VMAF) pairs go to the node's trainer as training
/// triples unless `no_capture` says not to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EstimateSpec {
    /// `ID` (the version the node serves: its newest, or the one pinned) or `ID@VERSION`.
    pub model: String,
    /// Keep this job's frames out of training.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_capture: bool,
}

impl EstimateSpec {
    /// The model's id and version, if one is named.
    pub fn parse(&self) -> Result<(&str, Option<u32>), String> {
        let (id, version) = match self.model.split_once('@') {
            Some((id, v)) => (
                id,
                Some(v.parse::<u32>().ok().filter(|&v| v > 0).ok_or_else(|| {
                    format!("`{}`: `{v}` is not a version number (ID@VERSION, e.g. {id}@2)", self.model)
                })?),
            ),
            None => (self.model.as_str(), None),
        };
        check_model_id(id)?;
        Ok((id, version))
    }
}

/// A registry model id: lower-case letters, digits, `.`, `_`, `-`, starting with a letter or
/// digit, at most 64 characters (it becomes part of file names and URLs).
pub fn check_model_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!("model id `{id}`: use 1-64 of a-z, 0-9, `.`, `_`, `-`, starting with a letter or digit"))
    }
}

/// How a job's inputs are read and brought together: the knobs of `vmafx score` that change
/// pixels (docs/scoring.md, "How inputs are matched").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputOptions {
    /// swscale algorithm for a size change; empty: bicubic.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scale_filter: String,
    /// Bring a distorted at another frame rate to the reference's (ffmpeg's `fps` filter).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub fps_match: bool,
    /// What a raw YUV reference holds (it has no header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_raw: Option<RawVideo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distorted_raw: Option<RawVideo>,
    /// Frames of the reference to skip before the first scored pair (to align clips that
    /// start differently).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skip_reference: u64,
    /// Frames of the distorted to skip before the first scored pair.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skip_distorted: u64,
    /// Score at most this many pairs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_frames: Option<u64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl InputOptions {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// A raw YUV file's layout, as a user states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawVideo {
    pub width: u32,
    pub height: u32,
    /// ffmpeg's name of a planar YUV format (`yuv420p`, `yuv422p10le`).
    pub pix_fmt: String,
    /// Frame rate (`25`, `24000/1001`); empty when unknown.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fps: String,
}

/// A job that makes pictures rather than scores: the reference and the distorted of each
/// frame as libvmaf sees them (after docs/scoring.md's input-matching rules), as PNG. The
/// dashboard asks for one such job per scored job to show its worst frames: the controller
/// never reads inputs, so a node makes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PictureSpec {
    /// Frame numbers of the scored sequence, as a report numbers them.
    pub frames: Vec<u64>,
    /// Wider pictures are scaled down to this width, keeping their aspect ratio; 0: as is.
    pub max_width: u32,
}

impl PictureSpec {
    /// Frames one job may ask pictures of.
    pub const MAX_FRAMES: usize = 8;
    /// Bytes one PNG may have.
    pub const MAX_PNG_BYTES: usize = 16 << 20;

    /// `Err` naming what is wrong with the request.
    pub fn check(&self) -> Result<(), String> {
        if self.frames.is_empty() || self.frames.len() > Self::MAX_FRAMES {
            return Err(format!("ask for 1 to {} frames, not {}", Self::MAX_FRAMES, self.frames.len()));
        }
        if self.max_width != 0 && !(16..=7680).contains(&self.max_width) {
            return Err(format!("max_width {}: give 16 to 7680, or 0 for full size", self.max_width));
        }
        Ok(())
    }
}

fn one() -> u32 {
    1
}

/// One unit of work: a segment of a job's frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentSpec {
    pub start: u64,
    pub frames: u64,
}

/// The most frames one work item scores: a result of this many frames with every extra
/// feature stays near 15 MiB on the wire, and a long film is spread over the cluster even
/// when the client asked for no split. Not smaller: a segment that starts late in a
/// compressed input decodes its way there, so many short segments cost more than they save.
pub const MAX_SEGMENT_FRAMES: u64 = 50_000;

/// The most work items one job is split into: `segment_frames: 1` on a film would otherwise
/// plan hundreds of thousands of items (rows, leases, results), so segments grow instead.
pub const MAX_ITEMS_PER_JOB: u64 = 10_000;

/// The most frames a job may have: [`MAX_ITEMS_PER_JOB`] segments of [`MAX_SEGMENT_FRAMES`]
/// (over eight months of video at 24 fps). A container claiming more is refused.
pub const MAX_JOB_FRAMES: u64 = MAX_ITEMS_PER_JOB * MAX_SEGMENT_FRAMES;

/// Splits `total` frames into segments of `segment_frames` (the last one shorter), never more
/// than [`MAX_SEGMENT_FRAMES`]; `None` or zero asks for no split below that. Segments grow
/// past the size asked for when it would make more than [`MAX_ITEMS_PER_JOB`] of them.
pub fn plan_segments(total: u64, segment_frames: Option<u64>) -> Vec<SegmentSpec> {
    let size = segment_frames
        .filter(|&n| n > 0)
        .unwrap_or(total)
        .clamp(1, MAX_SEGMENT_FRAMES)
        .max(total.div_ceil(MAX_ITEMS_PER_JOB));
    if total <= size {
        return vec![SegmentSpec { start: 0, frames: total }];
    }
    (0..total)
        .step_by(size as usize)
        .map(|start| SegmentSpec { start, frames: size.min(total - start) })
        .collect()
}

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(&self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "unknown {} `{other}`; valid: {}",
                        stringify!($name),
                        [$($text),+].join(", ")
                    )),
                }
            }
        }
    };
}

string_enum!(
    /// Where a job is in its life.
    JobState {
        Queued => "queued",
        Running => "running",
        Succeeded => "succeeded",
        Failed => "failed",
        Cancelled => "cancelled",
    }
);

impl JobState {
    /// No further change can happen.
    pub fn is_terminal(&self) -> bool {
        matches!(self, JobState::Succeeded | JobState::Failed | JobState::Cancelled)
    }
}

string_enum!(
    /// Where a work item is in its life.
    ItemState {
        Pending => "pending",
        Leased => "leased",
        Done => "done",
        Failed => "failed",
        Cancelled => "cancelled",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_cover_every_frame_once() {
        assert_eq!(plan_segments(48, None), vec![SegmentSpec { start: 0, frames: 48 }]);
        assert_eq!(plan_segments(48, Some(0)), vec![SegmentSpec { start: 0, frames: 48 }]);
        assert_eq!(plan_segments(48, Some(100)), vec![SegmentSpec { start: 0, frames: 48 }]);
        let s = plan_segments(50, Some(12));
        assert_eq!(s.len(), 5);
        assert_eq!(s[4], SegmentSpec { start: 48, frames: 2 });
        assert_eq!(s.iter().map(|s| s.frames).sum::<u64>(), 50);
        assert!(s.windows(2).all(|w| w[0].start + w[0].frames == w[1].start));
        // A three-hour film asked to be one item still becomes items of at most 50,000 frames.
        let fine = plan_segments(250_000, Some(1));
        assert_eq!(fine.len() as u64, MAX_ITEMS_PER_JOB, "segments of 1 frame grow to 25");
        assert!(fine.iter().all(|s| s.frames == 25));
        let film = plan_segments(250_000, None);
        assert_eq!(film.len(), 5);
        assert!(film.iter().all(|s| s.frames == MAX_SEGMENT_FRAMES));
        assert_eq!(plan_segments(250_001, Some(100_000)).len(), 6);
    }

    #[test]
    fn states_round_trip_through_text() {
        for s in JobState::ALL {
            assert_eq!(s.as_str().parse::<JobState>().unwrap(), *s);
        }
        assert!("done".parse::<JobState>().unwrap_err().contains("valid: queued"));
        assert!(JobState::Cancelled.is_terminal() && !JobState::Running.is_terminal());
        assert_eq!("leased".parse::<ItemState>().unwrap(), ItemState::Leased);
    }
}
