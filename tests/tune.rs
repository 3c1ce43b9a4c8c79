//! `vmafx-tune` end to end on synthetic clips with libx264: the CRF search against an
//! exhaustive sweep made here with ffmpeg and `vmafx score`, ladders with their hull, rungs
//! and outputs, `--auto` against a dense grid, the encode cache, and bad input.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

use common::cluster::{ca_env, start_up, token};

fn tune(args: &[&str], cache: &Path) -> Output {
    let out = common::run_with_timeout(
        Command::new(common::bin("vmafx-tune")).args(args).arg("--cache-dir").arg(cache),
        Duration::from_secs(900),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "vmafx-tune panicked: {stderr}");
    out
}

fn json_of(out: &Output) -> Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// Mean VMAF of the source encoded with libx264 at `crf`, measured without vmafx-tune.
fn sweep_point(source: &Path, dir: &Path, crf: f64) -> f64 {
    let enc = common::encode(
        source,
        dir,
        &format!("sweep_{crf}.mkv"),
        &["-an", "-c:v", "libx264", "-crf", &crf.to_string()],
    );
    let report = common::vmafx_json(source, &enc, &[]);
    report["pooled_metrics"]["vmaf"]["mean"].as_f64().unwrap()
}

#[test]
fn crf_search_lands_on_the_sweeps_answer_with_a_third_of_the_encodes() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let source = common::lavfi(dir.path(), "src.y4m", "testsrc2=size=256x144:rate=24", 24, "yuv420p");
    let target = 92.0;

    // The exhaustive sweep over libx264's whole range.
    let sweep: Vec<(u32, f64)> =
        (0..=51).map(|crf| (crf, sweep_point(&source, dir.path(), crf as f64))).collect();
    let best =
        sweep.iter().filter(|(_, s)| *s >= target).map(|(c, _)| *c).max().expect("the target is reachable");

    let s = source.to_str().unwrap();
    let out = tune(
        &[
            "crf-search",
            "-q",
            "--source",
            s,
            "--encoder",
            "libx264",
            "--target-vmaf",
            "92",
            "--crf-step",
            "1",
            "--format",
            "json",
        ],
        &cache,
    );
    let answer = json_of(&out);
    let crf = answer["crf"].as_f64().unwrap() as u32;
    let probes = answer["probes"].as_array().unwrap().len();
    assert!(crf.abs_diff(best) <= 1, "search says CRF {crf}, the sweep {best}: {answer}");
    assert!(probes * 3 <= sweep.len(), "{probes} probes against a sweep of {}", sweep.len());
    assert!(answer["score"].as_f64().unwrap() >= target);
    assert!(
        answer["bitrate_kbps"].as_f64().unwrap() > 0.0 && answer["predicted_bytes"].as_u64().unwrap() > 0
    );
    // Its score at the answer is the sweep's (the same encode, scored the same way).
    let swept = sweep[crf as usize].1;
    assert!((answer["score"].as_f64().unwrap() - swept).abs() < 1e-9, "{} vs {swept}", answer["score"]);

    // A repeated run re-encodes nothing: the cache is left as it was.
    let listing = |p: &Path| {
        let mut v: Vec<_> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap())
            .filter(|e| e.path().extension().is_some_and(|x| x == "mkv"))
            .map(|e| (e.file_name(), e.metadata().unwrap().modified().unwrap()))
            .collect();
        v.sort();
        v
    };
    let before = listing(&cache);
    assert_eq!(before.len(), probes);
    let again = json_of(&tune(
        &["crf-search", "-q", "--source", s, "--target-vmaf", "92", "--crf-step", "1", "--format", "json"],
        &cache,
    ));
    assert_eq!(again["crf"], answer["crf"]);
    let cached: Vec<&Value> = again["probes"].as_array().unwrap().iter().map(|p| &p["cached"]).collect();
    assert!(cached.iter().all(|c| **c == true), "a rerun's probes say they are cached: {cached:?}");
    assert!(answer["probes"].as_array().unwrap().iter().all(|p| p["cached"] == false));
    assert_eq!(listing(&cache), before, "nothing re-encoded");

    // Text output names the CRF; samples work on a clip long enough to sample.
    let text = tune(&["crf-search", "-q", "--source", s, "--target-vmaf", "92", "--crf-step", "1"], &cache);
    assert!(String::from_utf8_lossy(&text.stdout).starts_with(&format!("CRF {crf} (libx264)")));
    let sampled = json_of(&tune(
        &[
            "crf-search",
            "-q",
            "--source",
            s,
            "--target-vmaf",
            "92",
            "--samples",
            "2",
            "--sample-seconds",
            "0.25",
            "--format",
            "json",
        ],
        &cache,
    ));
    assert_eq!(sampled["sampled"], true);
    assert!(sampled["score"].as_f64().unwrap() >= target);

    // An unreachable target explains itself and exits 2.
    let out = tune(&["crf-search", "-q", "--source", s, "--target-vmaf", "99.5", "--min-crf", "30"], &cache);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unreachable") && err.contains("best achievable") && err.contains("CRF 30"),
        "{err}"
    );
}

#[test]
fn a_fractional_answer_on_x264_lands_within_0_3_of_a_tenth_step_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::lavfi(dir.path(), "src.y4m", "testsrc2=size=320x180:rate=24", 24, "yuv420p");
    let s = source.to_str().unwrap();
    let target = 90.0;
    let answer = json_of(&tune(
        &["crf-search", "-q", "--source", s, "--target-vmaf", "90", "--format", "json"],
        &dir.path().join("cache"),
    ));
    let crf = answer["crf"].as_f64().unwrap();
    assert_eq!(answer["crf_step"], 0.1, "libx264 takes fractional CRFs: {answer}");
    assert!(answer["score"].as_f64().unwrap() >= target);
    // The step above misses the target: measured, or predicted from the probes either side
    // (and then not encoded).
    let next = &answer["next"];
    assert!((next["crf"].as_f64().unwrap() - crf - 0.1).abs() < 1e-9, "{answer}");
    assert!(next["score"].as_f64().unwrap() < target, "{answer}");
    let probed = |c: f64| {
        answer["probes"].as_array().unwrap().iter().any(|p| (p["crf"].as_f64().unwrap() - c).abs() < 1e-9)
    };
    assert_eq!(probed(crf + 0.1), next["predicted"] == false, "{answer}");
    // The 0.1-step sweep, made here with ffmpeg and `vmafx score`, 1.5 CRF either side.
    let tenths = (crf * 10.0).round() as i64;
    let sweep: Vec<(f64, f64)> = (tenths - 15..=tenths + 15)
        .map(|t| t as f64 / 10.0)
        .map(|c| (c, sweep_point(&source, dir.path(), c)))
        .collect();
    let best = sweep.iter().filter(|(_, v)| *v >= target).map(|(c, _)| *c).fold(f64::MIN, f64::max);
    assert!(best > f64::MIN, "the sweep reaches the target: {sweep:?}");
    assert!((crf - best).abs() <= 0.3 + 1e-9, "search says CRF {crf}, the sweep {best}: {sweep:?}");
    // The same encode, scored the same way.
    let at = sweep.iter().find(|(c, _)| (c - crf).abs() < 1e-9).unwrap().1;
    assert!((answer["score"].as_f64().unwrap() - at).abs() < 1e-9, "{} vs {at}", answer["score"]);
}

#[test]
fn svt_av1_4_searches_quarter_crfs_and_an_older_one_says_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::lavfi(dir.path(), "src.y4m", "testsrc2=size=320x180:rate=24", 24, "yuv420p");
    let s = source.to_str().unwrap();
    let ff9 = common::reference_ffmpeg();
    let cache = dir.path().join("cache");
    let search = |extra: &[&str]| {
        let mut args =
            vec!["crf-search", "-q", "--source", s, "--encoder", "libsvtav1", "--target-vmaf", "90"];
        args.extend_from_slice(extra);
        tune(&args, &cache)
    };
    // ffmpeg 9 (SVT-AV1 4.x): quarter steps by default, passed in -svtav1-params.
    let answer = json_of(&search(&["--ffmpeg", ff9.to_str().unwrap(), "--format", "json"]));
    assert_eq!(answer["crf_step"], 0.25, "{answer}");
    let crf = answer["crf"].as_f64().unwrap();
    assert_eq!((crf * 4.0).fract(), 0.0, "{answer}");
    assert!(answer["score"].as_f64().unwrap() >= 90.0);
    assert!((answer["next"]["crf"].as_f64().unwrap() - crf - 0.25).abs() < 1e-9, "{answer}");
    assert!(answer["next"]["score"].as_f64().unwrap() < 90.0, "{answer}");
    // Debian's ffmpeg (SVT-AV1 1.4): whole CRFs, and a quarter step is refused saying why.
    let whole = json_of(&search(&["--format", "json"]));
    assert_eq!(whole["crf_step"], 1.0, "{whole}");
    let out = search(&["--crf-step", "0.25"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--crf-step 0.25") && err.contains("SVT-AV1 4.0"), "{err}");
}

/// The hull's score at `rate`, linear between its points.
fn hull_at(hull: &[(f64, f64)], rate: f64) -> Option<f64> {
    hull.windows(2)
        .find(|w| rate >= w[0].0 && rate <= w[1].0)
        .map(|w| w[0].1 + (rate - w[0].0) / (w[1].0 - w[0].0) * (w[1].1 - w[0].1))
}

fn pairs(v: &Value) -> Vec<(f64, f64)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|p| (p["bitrate_kbps"].as_f64().unwrap(), p["score"].as_f64().unwrap()))
        .collect()
}

#[test]
fn ladders_follow_the_hull_and_auto_needs_half_the_encodes() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let source = common::lavfi(dir.path(), "src.y4m", "testsrc2=size=512x288:rate=24", 24, "yuv420p");
    let s = source.to_str().unwrap();
    let res = "512x288,384x216,256x144";
    let out_dir = dir.path().join("dense");
    let dense = json_of(&tune(
        &[
            "ladder",
            "-q",
            "--source",
            s,
            "--resolutions",
            res,
            "--crfs",
            "16:46:2",
            "--rungs",
            "4",
            "--min-gap-ratio",
            "1.6",
            "--max-vmaf",
            "97",
            "--format",
            "json",
            "-o",
            out_dir.to_str().unwrap(),
        ],
        &cache,
    ));
    let points = pairs(&dense["points"]);
    let hull = pairs(&dense["hull"]);
    let rungs = pairs(&dense["rungs"]);
    assert_eq!(points.len(), 48);
    // The hull: rising in both bitrate and score, concave, with no point above it.
    assert!(hull.windows(2).all(|w| w[1].0 > w[0].0 && w[1].1 > w[0].1), "{hull:?}");
    let slopes: Vec<f64> = hull.windows(2).map(|w| (w[1].1 - w[0].1) / (w[1].0 - w[0].0)).collect();
    assert!(slopes.windows(2).all(|s| s[1] < s[0]), "not concave: {slopes:?}");
    for &(r, sc) in &points {
        if let Some(h) = hull_at(&hull, r) {
            assert!(sc <= h + 1e-9, "point ({r}, {sc}) above the hull");
        }
    }
    // Rungs: on the hull, monotone, at least 1.6x apart, none above 97, at most 4.
    assert!(!rungs.is_empty() && rungs.len() <= 4, "{rungs:?}");
    assert!(rungs.iter().all(|r| hull.contains(r)), "rungs off the hull");
    assert!(rungs.windows(2).all(|w| w[1].0 >= 1.6 * w[0].0 && w[1].1 > w[0].1), "{rungs:?}");
    assert!(rungs.iter().all(|r| r.1 <= 97.0));
    let resolutions: Vec<u64> =
        dense["hull"].as_array().unwrap().iter().map(|p| p["width"].as_u64().unwrap()).collect();
    assert!(
        resolutions.contains(&256) && resolutions.contains(&512),
        "the hull mixes resolutions: {resolutions:?}"
    );
    // The files beside it.
    let playlist = std::fs::read_to_string(out_dir.join("master.m3u8")).unwrap();
    assert_eq!(playlist.matches("#EXT-X-STREAM-INF").count(), rungs.len());
    let svg = std::fs::read_to_string(out_dir.join("ladder.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.matches("<title>").count() == 48);
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("ladder.json")).unwrap()).unwrap();
    assert_eq!(file, dense);
    // Each rung says how to make it again: ffmpeg's arguments after `-i SOURCE`.
    for rung in dense["rungs"].as_array().unwrap() {
        let args: Vec<&str> = rung["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
        let crf = rung["crf"].as_u64().unwrap().to_string();
        assert!(args.windows(2).any(|w| w == ["-crf", crf.as_str()]), "{args:?}");
        assert!(args.windows(2).any(|w| w == ["-c:v", "libx264"]), "{args:?}");
        if rung["width"] != 512 {
            assert!(args.iter().any(|a| a.starts_with("scale=")), "a smaller rung is scaled: {args:?}");
        }
    }

    // --auto on the same lattice: at most half the encodes, a hull within 0.5 VMAF.
    let auto = json_of(&tune(
        &[
            "ladder",
            "-q",
            "--source",
            s,
            "--resolutions",
            res,
            "--crfs",
            "16:46:2",
            "--auto",
            "--format",
            "json",
        ],
        &dir.path().join("auto-cache"),
    ));
    let auto_points = auto["encodes"].as_u64().unwrap();
    assert!(auto_points * 2 <= 48, "--auto made {auto_points} encodes");
    let auto_hull = pairs(&auto["hull"]);
    for &(r, sc) in &hull {
        let got = hull_at(&auto_hull, r)
            .unwrap_or_else(|| panic!("bitrate {r} outside the auto hull {auto_hull:?}"));
        assert!(got >= sc - 0.5, "at {r} kbit/s the auto hull is {got}, the dense one {sc}");
    }

    // --auto under the same cap finds a top rung within 0.5 of the grid's: it probes the
    // region just under the cap, not only where the uncapped hull bends.
    let capped = json_of(&tune(
        &[
            "ladder",
            "-q",
            "--source",
            s,
            "--resolutions",
            res,
            "--crfs",
            "16:46:2",
            "--auto",
            "--rungs",
            "4",
            "--min-gap-ratio",
            "1.6",
            "--max-vmaf",
            "97",
            "--format",
            "json",
        ],
        &cache,
    ));
    let (top, auto_top) = (rungs.last().unwrap().1, pairs(&capped["rungs"]).last().unwrap().1);
    assert!(auto_top <= 97.0 && auto_top >= top - 0.5, "auto's top rung {auto_top}, the grid's {top}");
}

#[test]
fn bad_input_is_refused_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let source = common::lavfi(dir.path(), "src.y4m", "testsrc2=size=320x180:rate=24", 6, "yuv420p");
    let s = source.to_str().unwrap();
    let not_video = dir.path().join("notes.mp4");
    std::fs::write(&not_video, "not a video").unwrap();
    let cases: [(&[&str], &str); 10] = [
        (
            &["crf-search", "--source", s, "--encoder", "h264_qsv", "--target-vmaf", "90"],
            "unknown encoder `h264_qsv`",
        ),
        (
            &["ladder", "--source", s, "--resolutions", "640x360,320x180"],
            "640x360 is larger than the source (320x180)",
        ),
        (&["crf-search", "--source", not_video.to_str().unwrap(), "--target-vmaf", "90"], "notes.mp4"),
        (&["crf-search", "--source", "/nonexistent/src.y4m", "--target-vmaf", "90"], "no such file"),
        (
            &["ladder", "--source", s, "--resolutions", "320x180", "--crfs", "10,99"],
            "CRF 99 is outside libx264's range",
        ),
        (
            &["crf-search", "--source", s, "--target-vmaf", "90", "--enc", "foo=bar"],
            "--enc foo: libx264 has no option `-foo`",
        ),
        (
            &["crf-search", "--source", s, "--target-vmaf", "90", "--enc", "x264-params=stats=/tmp/leak"],
            "--enc x264-params: `stats` names a file",
        ),
        (
            &["crf-search", "--source", s, "--target-vmaf", "90", "--enc", "vf=hflip"],
            "--enc vf: `-vf` is a filter",
        ),
        (
            // A value only the encoder judges: one frame is encoded with it first.
            &["crf-search", "--source", s, "--target-vmaf", "90", "--enc", "tune=nonsense"],
            "--enc tune=nonsense: libx264 refuses it",
        ),
        (
            &["ladder", "--source", s, "--resolutions", "320x180", "--crfs", "45,51", "--max-vmaf", "5"],
            "no encode scores at or below the cap of 5",
        ),
    ];
    // No --resolutions: the usual ones that fit the source (here none: its own size).
    let ladder =
        json_of(&tune(&["ladder", "-q", "--source", s, "--crfs", "30,40", "--format", "json"], &cache));
    let sizes: Vec<(u64, u64)> = ladder["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["width"].as_u64().unwrap(), p["height"].as_u64().unwrap()))
        .collect();
    assert_eq!(sizes, [(320, 180), (320, 180)]);
    for (args, says) in cases {
        let out = tune(args, &cache);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: `{says}` not in {err}");
    }
}

#[test]
fn a_ladder_over_vmafx_up_equals_the_local_one() {
    let dir = tempfile::tempdir().unwrap();
    let source = common::lavfi(dir.path(), "src.y4m", "testsrc2=size=384x216:rate=24", 12, "yuv420p");
    let s = source.to_str().unwrap();
    let args = [
        "ladder",
        "-q",
        "--source",
        s,
        "--resolutions",
        "384x216,256x144",
        "--crfs",
        "20,28,36",
        "--format",
        "json",
    ];
    let local = json_of(&tune(&args, &dir.path().join("local-cache")));

    let data = dir.path().join("up");
    let (_up, grpc) = start_up(&data);
    // vmafx-tune against the cluster, finding the admin token in the data directory.
    let remote = |args: &[&str]| {
        common::run_with_timeout(
            Command::new(common::bin("vmafx-tune"))
                .args(args)
                .args(["--controller", &grpc, "--cache-dir"])
                .arg(dir.path().join("remote-cache"))
                .env("VMAFX_DATA_DIR", &data)
                .env_remove("VMAFX_TOKEN"),
            Duration::from_secs(600),
        )
    };
    let mut remote_args = args.to_vec();
    remote_args.extend(["--jobs", "3"]);
    let remote_ladder = json_of(&remote(&remote_args));
    for field in ["points", "hull", "rungs", "encodes"] {
        assert_eq!(remote_ladder[field], local[field], "{field}");
    }
    // Every encode ran on the cluster, as one job each.
    let jobs = common::run_with_timeout(
        Command::new(common::bin("vmafx"))
            .args(["jobs", "list", "--json", "--controller", &grpc])
            .env("VMAFX_CA", ca_env(&grpc))
            .env("VMAFX_TOKEN", token(&data, "admin.token")),
        Duration::from_secs(60),
    );
    let jobs: Value = serde_json::from_slice(&jobs.stdout).unwrap();
    let jobs = jobs["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 6);
    assert!(jobs.iter().all(|j| j["state"] == "succeeded"), "{jobs:?}");
    // Encode jobs say so, with the encode's size and time, in the one job view.
    assert!(
        jobs.iter().all(|j| j["kind"] == "encode" && j["encode"]["bytes"].as_u64().unwrap() > 0),
        "{jobs:?}"
    );
    // A bad encoder argument is refused before anything is submitted, naming it; and the
    // run says where its work would go (VMAFX_CONTROLLER may be exported for other tools).
    let out = remote(&["crf-search", "--source", s, "--target-vmaf", "90", "--enc", "no-such-option=1"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("encoding and scoring as jobs on the cluster at {grpc}")), "{err}");
    assert!(err.contains("--enc no-such-option: libx264 has no option `-no-such-option`"), "{err}");
}
