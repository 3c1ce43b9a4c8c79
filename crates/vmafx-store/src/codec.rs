//! How the store writes a segment's result: an encoding the store owns and versions, so that
//! a change to the gRPC messages is never a data migration.
//!
//! Version 1 is a protobuf layout frozen here (field numbers equal to `vmafx.v1.Scores` as it
//! was when results were first stored, so the rows written before the store had its own
//! encoding read back unchanged). Doubles are kept bit for bit, so assembled scores equal a
//! local run's exactly. A new layout gets a new version number; rows say which they use.

use prost::Message;
use vmafx_core::{EncodeOutcome, FramePicture, FrameScore, Note, NoteLevel, Scores, SegmentResult};

use crate::StoreError;

/// The version [`encode`] writes.
pub const RESULT_VERSION: i64 = 1;

#[derive(Clone, PartialEq, Message)]
struct ResultV1 {
    #[prost(string, repeated, tag = "1")]
    metrics: Vec<String>,
    #[prost(message, repeated, tag = "2")]
    frames: Vec<FrameV1>,
    #[prost(message, optional, tag = "3")]
    encode: Option<EncodeV1>,
    #[prost(message, repeated, tag = "4")]
    notes: Vec<NoteV1>,
    /// Added within version 1: rows written before have none, which is what they meant.
    #[prost(message, repeated, tag = "5")]
    pictures: Vec<PictureV1>,
}

#[derive(Clone, PartialEq, Message)]
struct PictureV1 {
    #[prost(uint64, tag = "1")]
    frame_num: u64,
    #[prost(bytes = "vec", tag = "2")]
    reference_png: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    distorted_png: Vec<u8>,
}

#[derive(Clone, PartialEq, Message)]
struct FrameV1 {
    #[prost(uint64, tag = "1")]
    frame_num: u64,
    #[prost(double, repeated, tag = "2")]
    values: Vec<f64>,
}

#[derive(Clone, PartialEq, Message)]
struct EncodeV1 {
    #[prost(uint64, tag = "1")]
    bytes: u64,
    #[prost(double, tag = "2")]
    encode_seconds: f64,
}

#[derive(Clone, PartialEq, Message)]
struct NoteV1 {
    #[prost(string, tag = "1")]
    level: String,
    #[prost(string, tag = "2")]
    message: String,
}

/// `result` in the current version ([`RESULT_VERSION`]).
pub fn encode(result: &SegmentResult) -> Vec<u8> {
    let s = &result.scores;
    ResultV1 {
        metrics: s.metrics.clone(),
        frames: s
            .frames
            .iter()
            .map(|f| FrameV1 { frame_num: f.frame_num, values: f.values.clone() })
            .collect(),
        encode: result.encode.map(|e| EncodeV1 { bytes: e.bytes, encode_seconds: e.encode_seconds }),
        notes: s
            .notes
            .iter()
            .map(|n| NoteV1 {
                level: match n.level {
                    NoteLevel::Note => "note".into(),
                    NoteLevel::Warning => "warning".into(),
                },
                message: n.message.clone(),
            })
            .collect(),
        pictures: result
            .pictures
            .iter()
            .map(|p| PictureV1 {
                frame_num: p.frame_num,
                reference_png: p.reference_png.clone(),
                distorted_png: p.distorted_png.clone(),
            })
            .collect(),
    }
    .encode_to_vec()
}

/// Reads a result stored in `version`.
pub fn decode(version: i64, bytes: &[u8]) -> Result<SegmentResult, StoreError> {
    if version != 1 {
        return Err(StoreError::Corrupt(format!(
            "a result is stored in encoding version {version}, newer than this build reads ({RESULT_VERSION}): \
             run the newer vmafx-controller"
        )));
    }
    let r = ResultV1::decode(bytes).map_err(|e| StoreError::Corrupt(format!("stored result: {e}")))?;
    Ok(SegmentResult {
        scores: Scores {
            metrics: r.metrics,
            frames: r
                .frames
                .into_iter()
                .map(|f| FrameScore { frame_num: f.frame_num, values: f.values })
                .collect(),
            notes: r
                .notes
                .into_iter()
                .map(|n| Note {
                    level: if n.level == "warning" { NoteLevel::Warning } else { NoteLevel::Note },
                    message: n.message,
                })
                .collect(),
        },
        encode: r.encode.map(|e| EncodeOutcome { bytes: e.bytes, encode_seconds: e.encode_seconds }),
        pictures: r
            .pictures
            .into_iter()
            .map(|p| FramePicture {
                frame_num: p.frame_num,
                reference_png: p.reference_png,
                distorted_png: p.distorted_png,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_bit_for_bit() {
        let result = SegmentResult {
            scores: Scores {
                metrics: vec!["vmaf".into(), "psnr_y".into()],
                frames: vec![
                    FrameScore { frame_num: 7, values: vec![93.123_456_789_012_34, f64::NAN] },
                    FrameScore { frame_num: 8, values: vec![-0.0, f64::MAX] },
                ],
                notes: vec![Note::warning("HDR"), Note::info("scaled")],
            },
            encode: Some(EncodeOutcome { bytes: 12345, encode_seconds: 1.5 }),
            pictures: vec![FramePicture { frame_num: 8, reference_png: vec![1, 2], distorted_png: vec![3] }],
        };
        let back = decode(RESULT_VERSION, &encode(&result)).unwrap();
        let bits = |r: &SegmentResult| -> Vec<u64> {
            r.scores.frames.iter().flat_map(|f| f.values.iter().map(|v| v.to_bits())).collect()
        };
        assert_eq!(bits(&back), bits(&result));
        assert_eq!((back.scores.metrics, back.scores.notes), (result.scores.metrics, result.scores.notes));
        assert_eq!(back.encode, result.encode);
    }

    #[test]
    fn refuses_an_unknown_version_saying_what_to_do() {
        let e = decode(2, &[]).unwrap_err().to_string();
        assert!(e.contains("version 2") && e.contains("newer vmafx-controller"), "{e}");
        assert!(decode(1, &[0xff, 0xff]).is_err());
    }
}
