//! Bad input gets a clear error naming the input and the problem, exit code 2, and never a
//! panic or a hang (every run has a deadline in `common::vmafx`).

mod common;

use std::path::Path;

use common::*;

/// Runs `vmafx score ARGS` expecting exit code 2; returns stderr.
fn bad(args: &[&str]) -> String {
    let mut all = vec!["score", "-q"];
    all.extend_from_slice(args);
    let out = vmafx(&all);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "expected exit 2 for {args:?}, stderr: {stderr}");
    assert!(out.stdout.is_empty(), "no report on failure");
    // One statement: the problem is said once, not again by each layer it passed through.
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line: {stderr}"));
    let parts: Vec<&str> = error.trim_start_matches("error: ").split(": ").collect();
    for (i, p) in parts.iter().enumerate() {
        assert!(!parts[i + 1..].contains(p), "`{p}` said twice: {error}");
    }
    stderr
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn pair(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let r = lavfi(dir, "ref.y4m", "testsrc2=size=320x240:rate=24", 24, "yuv420p");
    let d = encode(&r, dir, "dist.mp4", &["-c:v", "libx264", "-crf", "30"]);
    (r, d)
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let (r, _) = pair(dir.path());
    let missing = dir.path().join("nope.mp4");
    let err = bad(&[s(&r), s(&missing)]);
    assert!(err.contains("distorted") && err.contains("nope.mp4") && err.contains("no such file"), "{err}");
    let err = bad(&[s(&missing), s(&r)]);
    assert!(err.contains("reference") && err.contains("nope.mp4"), "{err}");
}

#[test]
fn empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let (r, _) = pair(dir.path());
    let empty = dir.path().join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    let err = bad(&[s(&r), s(&empty)]);
    assert!(err.contains("empty.mp4") && err.contains("empty (0 bytes)"), "{err}");
}

#[test]
fn text_file_named_mp4() {
    let dir = tempfile::tempdir().unwrap();
    let (r, _) = pair(dir.path());
    let text = dir.path().join("notes.mp4");
    std::fs::write(&text, "this is not a video\n").unwrap();
    let err = bad(&[s(&r), s(&text)]);
    assert!(err.contains("notes.mp4") && err.contains("not a video"), "{err}");
}

#[test]
fn truncated_y4m_names_last_good_frame() {
    let dir = tempfile::tempdir().unwrap();
    let (r, d) = pair(dir.path());
    let bytes = std::fs::read(&r).unwrap();
    let cut = dir.path().join("cut.y4m");
    // Keep the header and 10.5 frames of 320x240 4:2:0.
    let header = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    let frame = 6 + 320 * 240 * 3 / 2;
    std::fs::write(&cut, &bytes[..header + frame * 10 + frame / 2]).unwrap();
    let err = bad(&["--allow-length-mismatch", s(&cut), s(&d)]);
    assert!(err.contains("reference") && err.contains("cut.y4m") && err.contains("truncated"), "{err}");
    assert!(err.contains("last good frame: 9"), "{err}");
}

#[test]
fn truncated_streams_name_last_good_frame() {
    let dir = tempfile::tempdir().unwrap();
    let r = lavfi(dir.path(), "ref.y4m", "testsrc2=size=320x240:rate=24", 48, "yuv420p");
    for (name, args) in [
        ("dist.mkv", vec!["-c:v", "libx264", "-crf", "30"]),
        ("dist.mp4", vec!["-c:v", "libx264", "-crf", "30", "-movflags", "+faststart"]),
    ] {
        let d = encode(&r, dir.path(), name, &args);
        let bytes = std::fs::read(&d).unwrap();
        let cut = dir.path().join(format!("cut_{name}"));
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let err = bad(&[s(&r), s(&cut)]);
        assert!(err.contains("distorted") && err.contains(&format!("cut_{name}")), "{err}");
        assert!(err.contains("truncated") || err.contains("corrupt"), "{err}");
        assert!(err.contains("last good frame"), "{err}");
    }
}

#[test]
fn frame_count_mismatch_names_both_counts() {
    let dir = tempfile::tempdir().unwrap();
    let r = lavfi(dir.path(), "ref.y4m", "testsrc2=size=320x240:rate=24", 30, "yuv420p");
    // MP4 states its frame count (caught before decoding); Matroska does not (caught at the end).
    for name in ["short.mp4", "short.mkv"] {
        let d = encode(&r, dir.path(), name, &["-frames:v", "24", "-c:v", "libx264", "-crf", "30"]);
        let err = bad(&[s(&r), s(&d)]);
        assert!(err.contains("reference has 30 frames") && err.contains("distorted has 24"), "{name}: {err}");
        assert!(err.contains("--allow-length-mismatch"), "{err}");

        let out = vmafx(&["score", "-q", "--format", "json", "--allow-length-mismatch", s(&r), s(&d)]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let warn = String::from_utf8_lossy(&out.stderr);
        assert!(warn.contains("warning") && warn.contains("30") && warn.contains("24"), "{warn}");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["frames"].as_array().unwrap().len(), 24);
    }
}

#[test]
fn unknown_model_and_feature_list_valid_names() {
    let dir = tempfile::tempdir().unwrap();
    let (r, d) = pair(dir.path());
    let err = bad(&["--model", "vmaf_v9", s(&r), s(&d)]);
    assert!(
        err.contains("unknown model `vmaf_v9`")
            && err.contains("vmaf_v0.6.1")
            && err.contains("vmaf_4k_v0.6.1"),
        "{err}"
    );
    let err = bad(&["--feature", "sharpness", s(&r), s(&d)]);
    assert!(
        err.contains("unknown feature `sharpness`") && err.contains("float_ssim") && err.contains("cambi"),
        "{err}"
    );
    let junk = dir.path().join("model.json");
    std::fs::write(&junk, "{\"not\": \"a model\"}").unwrap();
    let err = bad(&["--model-path", s(&junk), s(&r), s(&d)]);
    assert!(err.contains("model.json"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let (r, d) = pair(dir.path());
    let err = bad(&[s(&r)]);
    assert!(err.contains("missing the distorted video"), "{err}");
    let err = bad(&["--format", "yaml", s(&r), s(&d)]);
    assert!(err.contains("yaml"), "{err}");
    let err = bad(&["--subsample", "0", s(&r), s(&d)]);
    assert!(err.contains("subsample"), "{err}");
    let err = bad(&["--skip-reference", "100", "--allow-length-mismatch", s(&r), s(&d)]);
    assert!(err.contains("skip"), "{err}");
}

#[test]
fn unsupported_pixel_format() {
    let dir = tempfile::tempdir().unwrap();
    let (r, _) = pair(dir.path());
    let rgb = encode(&r, dir.path(), "rgb.mkv", &["-c:v", "ffv1", "-pix_fmt", "gbrp"]);
    let err = bad(&[s(&rgb), s(&r)]);
    assert!(err.contains("rgb.mkv") && err.contains("unsupported pixel format"), "{err}");
}

#[test]
fn a_directory_is_not_a_video() {
    let dir = tempfile::tempdir().unwrap();
    let (r, _) = pair(dir.path());
    let err = bad(&[s(&r), s(dir.path())]);
    assert!(err.contains("distorted") && err.contains("is a directory"), "{err}");
}

#[test]
fn a_missing_ffmpeg_is_an_internal_failure_that_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let (r, d) = pair(dir.path());
    let out =
        vmafx(&["score", "-q", "--decoder", "ffmpeg", "--ffprobe", "/nonexistent/ffprobe", s(&r), s(&d)]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/ffprobe") && err.contains("is ffmpeg installed"), "{err}");
    let none = ["--ffmpeg", "/nonexistent/ffmpeg", "--ffprobe", "/nonexistent/ffprobe"];
    // Y4M pairs need neither tool, and a local MP4 whose pixels pass unchanged is probed and
    // decoded in-process (`--decoder auto`, the default).
    for (reference, distorted) in [(&r, &r), (&r, &d)] {
        let out = vmafx(&[&["score", "-q"][..], &none, &[s(reference), s(distorted)]].concat());
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}
