//! Inputs as people have them: full range, rotation metadata, edit lists, other bit depths and
//! chroma, raw YUV, other and variable frame rates. vmafx must give the independent libvmaf's
//! numbers on the pixels its documented matching rule produces (docs/scoring.md, "How inputs
//! are matched"), say what it converted in text and JSON, and give the same frames through a
//! two-node cluster job and MCP.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};

use common::cluster::{http, start_controller, start_node, token};
use common::inputs::{cases, independent, Case};
use common::*;

fn feature_flags() -> Vec<String> {
    ALL_FEATURES.iter().flat_map(|f| ["--feature".to_string(), f.to_string()]).collect()
}

fn local(case: &Case) -> Value {
    let mut extra = case.flags();
    extra.extend(feature_flags());
    vmafx_json(&case.reference, &case.distorted, &extra.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn each_kind_of_input_scores_like_libvmaf_on_the_documented_pixels() {
    let dir = tempfile::tempdir().unwrap();
    for case in cases(dir.path()) {
        let ours = local(&case);
        let work = tempfile::tempdir().unwrap();
        let theirs = independent(&case, work.path());
        let worst = assert_same_scores(&ours, &theirs, case.name);
        let mean = ours["pooled_metrics"]["vmaf"]["mean"].as_f64().unwrap();
        eprintln!(
            "{}: {} frames, VMAF {mean:.2}, max |diff| {worst:.2e}",
            case.name,
            ours["frames"].as_array().unwrap().len()
        );
        // Aligned, upright, same-range pairs of a CRF 30 encode: a wrong conversion or a
        // sideways frame would score far lower.
        assert!(mean > 80.0, "{}: VMAF {mean}", case.name);

        let said = notes(&ours);
        match case.note {
            None => assert!(said.is_empty(), "{}: unexpected notes {said:?}", case.name),
            Some(n) => {
                assert!(said.iter().any(|s| s.contains(n)), "{}: `{n}` not in {said:?}", case.name);
                // The text report carries the same note.
                let mut args = vec!["score".to_string(), "--threads".into(), "2".into()];
                args.extend(case.flags());
                args.extend([case.reference.display().to_string(), case.distorted.display().to_string()]);
                let out = vmafx(&args.iter().map(String::as_str).collect::<Vec<_>>());
                let text = String::from_utf8_lossy(&out.stdout);
                assert!(
                    out.status.success() && text.contains(n),
                    "{}: `{n}` not in text report:\n{text}",
                    case.name
                );
            }
        }
        if case.name.contains("edit list") {
            // 48 coded frames, 38 shown: the length check used what is shown.
            assert_eq!(ours["frames"].as_array().unwrap().len(), 38);
        }
    }
}

#[test]
fn frame_rates_that_differ_are_refused_naming_both_and_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let r = lavfi(dir.path(), "ref.y4m", "testsrc2=size=160x120:rate=25", 25, "yuv420p");
    let d = encode(&r, dir.path(), "fifty.mp4", &["-vf", "fps=50", "-c:v", "libx264"]);
    let out = vmafx(&["score", r.to_str().unwrap(), d.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("frame rates differ: reference 25 fps, distorted 50 fps; pass --fps-match"),
        "{err}"
    );
    assert!(err.contains("fifty.mp4"), "the message names the input: {err}");
    // A raw file without its layout is refused with what to give.
    let raw = dir.path().join("clip.yuv");
    std::fs::write(&raw, vec![0u8; 160 * 120 * 3 / 2]).unwrap();
    let out = vmafx(&["score", r.to_str().unwrap(), raw.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("give --width, --height and --pix-fmt"));
    let out = vmafx(&[
        "score",
        r.to_str().unwrap(),
        raw.to_str().unwrap(),
        "--width",
        "100",
        "--height",
        "100",
        "--pix-fmt",
        "yuv420p",
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a whole number of 100x100 yuv420p frames"));
}

#[test]
fn metadata_worth_a_warning_is_in_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let r = lavfi(dir.path(), "ref.y4m", "testsrc2=size=160x120:rate=24", 12, "yuv420p");
    let tagged = encode(
        &r,
        dir.path(),
        "ref709.mp4",
        &[
            "-c:v",
            "libx264",
            "-qp",
            "0",
            "-color_primaries",
            "bt709",
            "-color_trc",
            "bt709",
            "-colorspace",
            "bt709",
        ],
    );
    let hdr = encode(
        &r,
        dir.path(),
        "hdr.mp4",
        &[
            "-c:v",
            "libx264",
            "-color_primaries",
            "bt2020",
            "-color_trc",
            "smpte2084",
            "-colorspace",
            "bt2020nc",
            "-flags",
            "+ildct+ilme",
            "-top",
            "1",
            "-vf",
            "setsar=4/3",
        ],
    );
    let want = [
        "warning: distorted is HDR (PQ transfer)",
        "warning: distorted has BT.2020 primaries",
        "warning: distorted is interlaced (field order tt)",
        "warning: distorted has non-square pixels (sample aspect ratio 4:3)",
        "warning: transfer differs: reference bt709, distorted smpte2084",
    ];
    let json = vmafx_json(&tagged, &hdr, &[]);
    let said = notes(&json);
    let out = vmafx(&["score", tagged.to_str().unwrap(), hdr.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    for w in want {
        assert!(said.iter().any(|s| s.contains(w)), "`{w}` not in JSON notes {said:?}");
        assert!(text.contains(w), "`{w}` not in the text report:\n{text}");
    }
}

#[test]
fn the_same_cases_give_the_same_frames_through_a_cluster_and_mcp() {
    let dir = tempfile::tempdir().unwrap();
    let cases = cases(dir.path());
    let data = dir.path().join("controller");
    let controller = start_controller(&data, &[]);
    let _nodes = [start_node(&controller.addr, &data, "n1"), start_node(&controller.addr, &data, "n2")];
    let admin = token(&data, "admin.token");
    let mut calls = Vec::new();
    let mut wants = Vec::new();
    for case in &cases {
        let want = local(case);
        // A two-node job in segments of 16 frames, by `vmafx submit --wait`.
        let mut args: Vec<String> =
            ["submit", "-q", "--wait", "--format", "json", "--segment-frames", "16"].map(String::from).into();
        args.extend([
            "--controller".into(),
            controller.url(),
            "--ca".into(),
            controller.ca().display().to_string(),
            "--token".into(),
            admin.clone(),
        ]);
        args.extend(case.flags());
        args.extend(feature_flags());
        args.extend([case.reference.display().to_string(), case.distorted.display().to_string()]);
        let out = run_with_timeout(Command::new(bin("vmafx")).args(&args), Duration::from_secs(300));
        assert!(out.status.success(), "{}: {}", case.name, String::from_utf8_lossy(&out.stderr));
        let remote: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(remote["frames"], want["frames"], "{}: cluster frames", case.name);
        assert_eq!(remote["vmafx"]["notes"], want["vmafx"]["notes"], "{}: cluster notes", case.name);
        calls.push(json!({"tool": "vmaf_score", "arguments": {
            "reference": case.reference,
            "distorted": case.distorted,
            "features": ALL_FEATURES,
            "per_frame": true,
            "fps_match": case.fps_match,
            "reference_raw": Case::raw_json(&case.reference_raw),
            "distorted_raw": Case::raw_json(&case.distorted_raw),
        }}));
        wants.push(want);
    }
    // The HTTP API gives the same frames and notes (jobs list oldest first: in case order).
    let (status, body) =
        http(&controller.http, "GET", "/v1/jobs?page_size=100&order=oldest", Some(&admin), None);
    assert_eq!(status, 200, "{body}");
    let listed: Value = serde_json::from_str(&body).unwrap();
    let listed = listed["jobs"].as_array().unwrap();
    assert_eq!(listed.len(), cases.len());
    for ((job, want), case) in listed.iter().zip(&wants).zip(&cases) {
        let path = format!("/v1/jobs/{}?scores=true", job["id"].as_str().unwrap());
        let (status, body) = http(&controller.http, "GET", &path, Some(&admin), None);
        assert_eq!(status, 200, "{body}");
        let got: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(got["frames"], want["frames"], "{}: HTTP frames", case.name);
        assert_eq!(got["notes"], want["vmafx"]["notes"], "{}: HTTP notes", case.name);
    }
    let out = mcp_stdio(dir.path(), &Value::Array(calls));
    for ((i, case), want) in cases.iter().enumerate().zip(&wants) {
        let call = &out["calls"][i];
        assert_eq!(call["is_error"], false, "{}: {call}", case.name);
        assert_eq!(call["result"]["per_frame"], want["frames"], "{}: MCP frames", case.name);
        assert_eq!(call["result"]["notes"], want["vmafx"]["notes"], "{}: MCP notes", case.name);
    }
}

/// Runs the official MCP Python SDK against `vmafx-mcp` over stdio with `calls`.
fn mcp_stdio(dir: &Path, calls: &Value) -> Value {
    let file = dir.join("scenario.json");
    std::fs::write(&file, calls.to_string()).unwrap();
    let server = bin("vmafx-mcp");
    let out = run_with_timeout(
        Command::new("python3").arg(root().join("tests/mcp_client.py")).arg("stdio").arg(&file).args([
            "--",
            server.to_str().unwrap(),
            "--allow-root",
            dir.to_str().unwrap(),
            "--threads",
            "2",
        ]),
        Duration::from_secs(300),
    );
    assert!(out.status.success(), "MCP client failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Frames decoded in-process (libavcodec, `--decoder auto`) must be the ffmpeg subprocess's
/// bytes: every per-frame score of every metric equal, not merely close, on each kind of
/// input above and on the codecs, depths, chroma layouts and odd sizes people encode with.
#[test]
fn in_process_decoding_gives_the_subprocess_frames_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let mut pairs: Vec<(String, std::path::PathBuf, std::path::PathBuf, Vec<String>)> = cases(dir.path())
        .into_iter()
        .map(|c| (c.name.to_string(), c.reference.clone(), c.distorted.clone(), c.flags()))
        .collect();
    // Odd sizes (odd chroma dimensions), 10-bit, 4:4:4, B-frames, and the other decoders.
    let odd = lavfi(dir.path(), "odd.y4m", "testsrc2=size=161x97:rate=24", 24, "yuv420p");
    let odd10 = lavfi(dir.path(), "odd10.y4m", "testsrc2=size=161x97:rate=24", 24, "yuv420p10le");
    let odd444 = lavfi(dir.path(), "odd444.y4m", "testsrc2=size=161x97:rate=24", 24, "yuv444p");
    for (name, source, file, args) in [
        ("x264 with B-frames, odd size", &odd, "b.mp4", vec!["-c:v", "libx264", "-crf", "28", "-bf", "3"]),
        (
            "x265 10-bit in Matroska",
            &odd10,
            "x265.mkv",
            vec!["-c:v", "libx265", "-crf", "28", "-x265-params", "log-level=error"],
        ),
        ("x264 4:4:4", &odd444, "444.mp4", vec!["-c:v", "libx264", "-crf", "28"]),
        (
            "VP9 in WebM",
            &odd,
            "vp9.webm",
            vec!["-c:v", "libvpx-vp9", "-crf", "40", "-b:v", "0", "-deadline", "realtime"],
        ),
        (
            "AV1 (SVT-AV1) in Matroska",
            &odd,
            "av1.mkv",
            vec!["-c:v", "libsvtav1", "-crf", "40", "-preset", "12"],
        ),
    ] {
        let distorted = encode(source, dir.path(), file, &args);
        pairs.push((name.to_string(), source.clone(), distorted, Vec::new()));
    }
    let extra_codecs = pairs.len() - 5;
    let mut in_process = 0;
    for (i, (name, reference, distorted, flags)) in pairs.iter().enumerate() {
        let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
        args.extend(["--feature", "psnr", "--feature", "float_ssim"]);
        let auto = vmafx_json(reference, distorted, &args);
        args.extend(["--decoder", "ffmpeg"]);
        let subprocess = vmafx_json(reference, distorted, &args);
        assert_eq!(auto["frames"], subprocess["frames"], "{name}: in-process frames differ from ffmpeg's");
        assert_eq!(auto["pooled_metrics"], subprocess["pooled_metrics"], "{name}");
        // The reports say which decoder ran: the comparison is between two different paths.
        let decoder =
            |report: &Value| report["vmafx"]["decoders"][1].as_str().unwrap_or_default().to_string();
        assert!(!decoder(&subprocess).contains("in-process"), "{name}: {}", decoder(&subprocess));
        if i >= extra_codecs {
            assert!(decoder(&auto).contains("in-process"), "{name}: {}", decoder(&auto));
        }
        in_process += usize::from(decoder(&auto).contains("in-process"));
        eprintln!(
            "{name}: {} frames identical ({})",
            auto["frames"].as_array().unwrap().len(),
            decoder(&auto)
        );
    }
    // Every input handed on unchanged (not raw, no conversion) went in-process: 4 of the
    // documented cases and the 5 codecs.
    assert!(in_process >= 9, "only {in_process} inputs were decoded in-process");
}
