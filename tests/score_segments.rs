//! Segments scored separately (`--segment START:COUNT`, in separate processes) reassemble
//! into exactly the whole run's per-frame values: the property that lets a cluster split a
//! long video across nodes.

mod common;

use common::*;
use serde_json::Value;

fn frames(v: &Value) -> &Vec<Value> {
    v["frames"].as_array().unwrap()
}

fn assert_bit_identical(segments: &[(u64, u64)], extra: &[&str]) {
    let dir = corpus();
    let r = dir.join("testsrc_324.y4m");
    let d = dir.join("testsrc_324_x264_crf35.mp4");
    let whole = vmafx_json(&r, &d, extra);
    let mut joined = Vec::new();
    for (start, count) in segments {
        let seg = format!("{start}:{count}");
        let mut args = extra.to_vec();
        args.extend(["--segment", &seg]);
        let part = vmafx_json(&r, &d, &args);
        joined.extend(frames(&part).iter().cloned());
    }
    // JSON numbers round-trip f64 exactly, so equality here is bit-identity.
    assert_eq!(joined.len(), frames(&whole).len(), "{segments:?}");
    for (a, b) in joined.iter().zip(frames(&whole)) {
        assert_eq!(a, b, "{segments:?} {extra:?}: frame {} differs", b["frameNum"]);
    }
}

#[test]
fn four_equal_segments_match_the_whole_run_with_every_feature() {
    let mut extra = Vec::new();
    for f in ALL_FEATURES {
        extra.extend(["--feature", f]);
    }
    assert_bit_identical(&[(0, 12), (12, 12), (24, 12), (36, 12)], &extra);
}

#[test]
fn uneven_segments_and_other_models_match() {
    assert_bit_identical(&[(0, 1), (1, 30), (31, 16), (47, 1)], &["--model", "vmaf_v1.0.16_3d0h"]);
    assert_bit_identical(&[(0, 20), (20, 28)], &["--model", "vmaf_v0.6.1neg"]);
}

#[test]
fn subsampled_segments_keep_the_whole_runs_frame_numbers() {
    let dir = corpus();
    let r = dir.join("testsrc_324.y4m");
    let d = dir.join("testsrc_324_x264_crf35.mp4");
    let whole = vmafx_json(&r, &d, &["--subsample", "4"]);
    let part = vmafx_json(&r, &d, &["--subsample", "4", "--segment", "10:20"]);
    let nums: Vec<u64> = frames(&part).iter().map(|f| f["frameNum"].as_u64().unwrap()).collect();
    assert_eq!(nums, vec![12, 16, 20, 24, 28]);
    for f in frames(&part) {
        let n = f["frameNum"].as_u64().unwrap() as usize / 4;
        assert_eq!(f, &frames(&whole)[n]);
    }
}

#[test]
fn segment_past_the_end_is_bad_input() {
    let dir = corpus();
    let r = dir.join("testsrc_324.y4m");
    let d = dir.join("testsrc_324_x264_crf35.mp4");
    let out = vmafx(&["score", "-q", "--segment", "40:20", r.to_str().unwrap(), d.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("segment 40..60 extends past the end") && err.contains("48 frames"), "{err}");
}

#[test]
fn thread_count_does_not_change_scores() {
    let dir = corpus();
    let r = dir.join("mandel_720.y4m");
    let d = dir.join("mandel_720_x264_crf45.mp4");
    let one = vmafx_json(&r, &d, &["--threads", "1", "--feature", "psnr"]);
    for threads in ["0", "3"] {
        let other = vmafx_json(&r, &d, &["--threads", threads, "--feature", "psnr"]);
        assert_eq!(frames(&one), frames(&other), "--threads {threads}");
    }
}

/// Segments and skips of inputs in an indexed container start by seeking to their first
/// frame instead of decoding every frame before it (crates/vmafx-media/src/seek.rs): the
/// scores are still those of decoding from the start, and a skip past the end still says so.
#[test]
fn indexed_inputs_seek_to_segments_and_skips_with_the_same_scores() {
    let dir = corpus();
    let (y4m, d) = (dir.join("testsrc_324.y4m"), dir.join("testsrc_324_x264_crf35.mp4"));
    let tmp = tempfile::tempdir().unwrap();
    // The reference, losslessly in Matroska with a key frame every 10 frames.
    let mkv = tmp.path().join("ref.mkv");
    ffmpeg(&["-i", y4m.to_str().unwrap(), "-c:v", "ffv1", "-g", "10", mkv.to_str().unwrap()]);
    let whole = vmafx_json(&y4m, &d, &[]);
    let mut joined = Vec::new();
    for seg in ["0:13", "13:9", "22:26"] {
        joined.extend(frames(&vmafx_json(&mkv, &d, &["--segment", seg])).iter().cloned());
    }
    assert_eq!(&joined, frames(&whole));
    let skip = ["--skip-reference", "21", "--skip-distorted", "21"];
    assert_eq!(frames(&vmafx_json(&mkv, &d, &skip)), frames(&vmafx_json(&y4m, &d, &skip)));
    let out = vmafx(&[
        "score",
        "-q",
        "--skip-reference",
        "60",
        "--allow-length-mismatch",
        mkv.to_str().unwrap(),
        d.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--skip-reference 60 skips past the end of the reference"), "{err}");
}
