//! `vmafx score` gives libvmaf's numbers: per-frame VMAF and every extra feature, and the
//! pooled statistics, equal the independent libvmaf (ffmpeg 9's `libvmaf` filter) within
//! 1e-4 on the shared corpus and on 10-bit, 12-bit 4:2:2, 4:4:4, VP9 and scaled inputs.

mod common;

use common::*;

fn corpus_source(name: &str) {
    let dir = corpus();
    let reference = dir.join(format!("{name}.y4m"));
    for crf in [23, 35, 45] {
        let distorted = dir.join(format!("{name}_x264_crf{crf}.mp4"));
        check_pair(&reference, &distorted, ALL_FEATURES);
    }
}

#[test]
fn corpus_testsrc_324() {
    corpus_source("testsrc_324");
}

#[test]
fn corpus_mandel_720() {
    corpus_source("mandel_720");
}

#[test]
fn corpus_life_720() {
    corpus_source("life_720");
}

#[test]
fn ten_bit_420() {
    let dir = tempfile::tempdir().unwrap();
    let r = lavfi(dir.path(), "ref10.y4m", "testsrc2=size=640x360:rate=24", 24, "yuv420p10le");
    let d =
        encode(&r, dir.path(), "dist10.mp4", &["-c:v", "libx264", "-crf", "30", "-pix_fmt", "yuv420p10le"]);
    let ours = check_pair(&r, &d, ALL_FEATURES);
    assert_eq!(ours["vmafx"]["pix_fmt"], "yuv420p10le");
}

#[test]
fn twelve_bit_422() {
    let dir = tempfile::tempdir().unwrap();
    let r = lavfi(dir.path(), "ref12.y4m", "testsrc2=size=480x270:rate=24", 16, "yuv422p12le");
    let d = encode(
        &r,
        dir.path(),
        "dist12.mkv",
        &["-c:v", "libx265", "-crf", "30", "-pix_fmt", "yuv422p12le", "-x265-params", "log-level=error"],
    );
    let ours = check_pair(&r, &d, &["psnr", "float_ssim"]);
    assert_eq!(ours["vmafx"]["pix_fmt"], "yuv422p12le");
}

#[test]
fn four_four_four() {
    let dir = tempfile::tempdir().unwrap();
    let r = lavfi(dir.path(), "ref444.y4m", "testsrc2=size=640x360:rate=24", 24, "yuv444p");
    let d = encode(&r, dir.path(), "dist444.mp4", &["-c:v", "libx264", "-crf", "32", "-pix_fmt", "yuv444p"]);
    let ours = check_pair(&r, &d, ALL_FEATURES);
    assert_eq!(ours["vmafx"]["pix_fmt"], "yuv444p");
}

#[test]
fn vp9_webm_distorted() {
    let dir = tempfile::tempdir().unwrap();
    let r = lavfi(dir.path(), "ref.y4m", "mandelbrot=size=640x360:rate=24", 24, "yuv420p");
    let d = encode(
        &r,
        dir.path(),
        "dist.webm",
        &["-c:v", "libvpx-vp9", "-crf", "40", "-b:v", "0", "-deadline", "realtime", "-cpu-used", "8"],
    );
    check_pair(&r, &d, ALL_FEATURES);
}

#[test]
fn half_size_distorted_is_scaled_bicubic() {
    let dir = tempfile::tempdir().unwrap();
    let r = corpus().join("testsrc_324.y4m");
    let d = encode(&r, dir.path(), "half.mp4", &["-vf", "scale=288:162", "-c:v", "libx264", "-crf", "28"]);
    // The reference run scores the same scaled frames: bicubic upscale of the distorted.
    let scaled =
        encode(&d, dir.path(), "scaled.y4m", &["-vf", "scale=576:324:flags=bicubic", "-pix_fmt", "yuv420p"]);
    let ours = vmafx_json(&r, &d, &["--feature", "psnr"]);
    let theirs = independent_json(&r, &scaled, &["psnr"], None);
    assert_same_scores(&ours, &theirs, "half-size distorted");
    assert_eq!(ours["vmafx"]["distorted_scaled_from"], serde_json::json!([288, 162]));
    // And a different filter changes the result: the option is honoured.
    let lanczos = vmafx_json(&r, &d, &["--scale-filter", "lanczos"]);
    assert_ne!(lanczos["pooled_metrics"]["vmaf"]["mean"], ours["pooled_metrics"]["vmaf"]["mean"]);
}

#[test]
fn skip_and_frames_align_clips() {
    let dir = corpus();
    let r = dir.join("testsrc_324.y4m");
    let d = dir.join("testsrc_324_x264_crf35.mp4");
    // Distorted starts 3 frames later than the reference: skip 3 reference frames.
    let ours = vmafx_json(
        &r,
        &d,
        &["--skip-reference", "3", "--skip-distorted", "0", "--frames", "20", "--allow-length-mismatch"],
    );
    let trimmed = independent_json(
        &r,
        &d,
        &[],
        Some((
            "trim=end_frame=20,setpts=PTS-STARTPTS",
            "trim=start_frame=3:end_frame=23,setpts=PTS-STARTPTS",
        )),
    );
    assert_same_scores(&ours, &trimmed, "skip/frames");
    assert_eq!(ours["frames"].as_array().unwrap().len(), 20);
}

#[test]
fn subsample_scores_every_nth_frame() {
    let dir = corpus();
    let r = dir.join("testsrc_324.y4m");
    let d = dir.join("testsrc_324_x264_crf45.mp4");
    let full = vmafx_json(&r, &d, &[]);
    let sub = vmafx_json(&r, &d, &["--subsample", "4"]);
    let frames = sub["frames"].as_array().unwrap();
    assert_eq!(frames.len(), 12);
    for f in frames {
        let n = f["frameNum"].as_u64().unwrap();
        assert_eq!(n % 4, 0);
        assert_eq!(f["metrics"]["vmaf"], full["frames"][n as usize]["metrics"]["vmaf"]);
    }
}

#[test]
fn other_models_match_independent_libvmaf() {
    let dir = corpus();
    let r = dir.join("testsrc_324.y4m");
    let d = dir.join("testsrc_324_x264_crf35.mp4");
    for model in ["vmaf_v0.6.1neg", "vmaf_4k_v0.6.1"] {
        let ours = vmafx_json(&r, &d, &["--model", model]);
        let theirs = independent_json(&r, &d, &[], None);
        // Different models give different numbers: make sure the flag is honoured...
        assert_ne!(
            ours["pooled_metrics"]["vmaf"]["mean"], theirs["pooled_metrics"]["vmaf"]["mean"],
            "{model}"
        );
        let dt = tempfile::tempdir().unwrap();
        let log = dt.path().join("m.json");
        let out = run_with_timeout(
            std::process::Command::new(reference_ffmpeg())
                .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-i"])
                .arg(&d)
                .arg("-i")
                .arg(&r)
                .args([
                    "-lavfi",
                    &format!(
                        "libvmaf=model=version={model}:log_fmt=json:log_path={}:n_threads=2",
                        log.display()
                    ),
                    "-f",
                    "null",
                    "-",
                ]),
            std::time::Duration::from_secs(300),
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        // ...and that it matches libvmaf's numbers for that model.
        let theirs: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&log).unwrap()).unwrap();
        assert_same_scores(&ours, &theirs, model);
    }
}

#[test]
fn report_formats_carry_the_same_scores() {
    let dir = corpus();
    let r = dir.join("testsrc_324.y4m");
    let d = dir.join("testsrc_324_x264_crf35.mp4");
    let json = vmafx_json(&r, &d, &[]);
    let vmaf: Vec<f64> =
        json["frames"].as_array().unwrap().iter().map(|f| f["metrics"]["vmaf"].as_f64().unwrap()).collect();

    let out = vmafx(&["score", "-q", "--format", "csv", r.to_str().unwrap(), d.to_str().unwrap()]);
    assert!(out.status.success());
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[0], "Frame");
    let col = header.iter().position(|h| *h == "vmaf").unwrap();
    let csv_vmaf: Vec<f64> = lines.map(|l| l.split(',').nth(col).unwrap().parse().unwrap()).collect();
    assert_eq!(csv_vmaf, vmaf);

    let tmp = tempfile::tempdir().unwrap();
    let xml_path = tmp.path().join("out.xml");
    let out = vmafx(&[
        "score",
        "-q",
        "--format",
        "xml",
        "-o",
        xml_path.to_str().unwrap(),
        r.to_str().unwrap(),
        d.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty(), "report goes to the file, not stdout");
    let xml = std::fs::read_to_string(&xml_path).unwrap();
    assert_eq!(xml.matches("<frame ").count(), vmaf.len());
    assert!(xml.contains(&format!("vmaf=\"{}\"", vmaf[0])));

    let out = vmafx(&["score", r.to_str().unwrap(), d.to_str().unwrap()]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("VMAF "), "{text}");
    let mean = json["pooled_metrics"]["vmaf"]["mean"].as_f64().unwrap();
    assert!(text.contains(&format!("{mean:.3}")), "{text}");
}

#[test]
fn odd_dimensions() {
    // 4:2:0 at 321x241: libvmaf's chroma planes are 160x120 where the stream's are 161x121.
    let dir = tempfile::tempdir().unwrap();
    let r = lavfi(dir.path(), "odd.y4m", "testsrc2=size=321x241:rate=24", 12, "yuv420p");
    let d = encode(&r, dir.path(), "odd.mkv", &["-vf", "noise=alls=25:allf=t", "-c:v", "ffv1"]);
    check_pair(&r, &d, &["psnr", "float_ssim"]);
}

#[test]
fn bootstrapped_model_reports_its_confidence_interval() {
    // ffmpeg's libvmaf filter cannot load model collections, so this checks consistency only.
    let dir = corpus();
    let r = dir.join("testsrc_324.y4m");
    let d = dir.join("testsrc_324_x264_crf35.mp4");
    let ours = vmafx_json(&r, &d, &["--model", "vmaf_b_v0.6.3"]);
    for f in ours["frames"].as_array().unwrap() {
        let m = &f["metrics"];
        let get = |k: &str| m[k].as_f64().unwrap_or_else(|| panic!("frame {} lacks {k}", f["frameNum"]));
        let (lo, bag, hi) = (get("vmaf_ci_p95_lo"), get("vmaf_bagging"), get("vmaf_ci_p95_hi"));
        assert!(lo <= bag && bag <= hi, "frame {}: {lo} <= {bag} <= {hi}", f["frameNum"]);
        assert!(get("vmaf_stddev") > 0.0);
        assert!((0.0..=100.0).contains(&get("vmaf")));
    }
    assert!(ours["pooled_metrics"]["vmaf_bagging"]["mean"].is_f64());
}
