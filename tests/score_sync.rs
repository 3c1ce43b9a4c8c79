//! `vmafx score --sync` (frame alignment) and `--plot` (the per-frame plot as SVG and PNG),
//! on clips made here: a moving test pattern, the same clip missing its first 7 frames, one
//! with 5 extra frames before it, and an unrelated video.

mod common;

use std::path::Path;
use std::process::Command;

use common::{filtered, notes};
use serde_json::Value;

fn frames(report: &Value) -> &Vec<Value> {
    report["frames"].as_array().unwrap()
}

#[test]
fn sync_finds_missing_and_extra_leading_frames_and_scores_as_the_skip_flags_do() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let reference = common::lavfi(d, "ref.y4m", "testsrc2=size=320x240:rate=24", 60, "yuv420p");
    // The distorted lacks the reference's first 7 frames.
    let late = filtered(d, &reference, "late.mp4", &[], "[0:v]trim=start_frame=7,setpts=PTS-STARTPTS");
    // 5 frames of something else, then the reference.
    let early = filtered(
        d,
        &reference,
        "early.mp4",
        &["mandelbrot=size=320x240:rate=24"],
        "[0:v]trim=end_frame=5,format=yuv420p,setpts=PTS-STARTPTS[a];[1:v]setpts=PTS-STARTPTS[b];[a][b]concat=n=2:v=1",
    );

    // By default (`check`), the frame-count error says what the first frames show.
    let out = common::vmafx(&["score", "-q", reference.to_str().unwrap(), late.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("frame counts differ: reference has 60 frames, distorted has 53")
            && err.contains("the distorted starts 7 frames into the reference")
            && err.contains("--sync auto scores it aligned (as --skip-reference 7 does)"),
        "{err}"
    );

    for (dist, skip, said) in [
        (&late, ["--skip-reference", "7"], "the distorted starts 7 frames into the reference"),
        (&early, ["--skip-distorted", "5"], "the distorted has 5 extra frames before the reference's first"),
    ] {
        let auto = common::vmafx_json(&reference, dist, &["--sync", "auto"]);
        let manual = common::vmafx_json(&reference, dist, &skip);
        assert_eq!(frames(&auto).len(), frames(&manual).len());
        assert_eq!(auto["frames"], manual["frames"], "{}: --sync auto vs {skip:?}", dist.display());
        assert_eq!(auto["pooled_metrics"], manual["pooled_metrics"]);
        assert_eq!(auto["vmafx"]["skip_reference"], manual["vmafx"]["skip_reference"]);
        assert_eq!(auto["vmafx"]["skip_distorted"], manual["vmafx"]["skip_distorted"]);
        let n = notes(&auto);
        assert!(
            n.iter().any(|m| m.starts_with("note: --sync auto: ")
                && m.contains(said)
                && m.contains(&format!("as with {} {}", skip[0], skip[1]))),
            "{n:?}"
        );
        assert!(frames(&auto).len() >= 53 && auto["pooled_metrics"]["vmaf"]["min"].as_f64().unwrap() > 60.0);
    }

    // An aligned pair: no warning by default; `auto` says it is aligned and changes nothing.
    let aligned = filtered(d, &reference, "aligned.mp4", &[], "[0:v]null");
    let checked = common::vmafx_json(&reference, &aligned, &[]);
    assert!(notes(&checked).is_empty(), "{:?}", notes(&checked));
    let auto = common::vmafx_json(&reference, &aligned, &["--sync", "auto"]);
    assert_eq!(notes(&auto), ["note: --sync auto: the pair is aligned"]);
    assert_eq!(auto["frames"], checked["frames"]);

    // The same length but shifted by 3 frames (3 unrelated frames at the end): `check` warns
    // and names the fix; `off` does not look.
    let shifted = filtered(
        d,
        &reference,
        "shifted.mp4",
        &["mandelbrot=size=320x240:rate=24"],
        "[1:v]trim=start_frame=3,setpts=PTS-STARTPTS[b];[0:v]trim=end_frame=3,format=yuv420p,setpts=PTS-STARTPTS[a];[b][a]concat=n=2:v=1",
    );
    let checked = common::vmafx_json(&reference, &shifted, &[]);
    let n = notes(&checked);
    assert!(
        n.iter().any(|m| m.starts_with(
            "warning: the pair looks misaligned: the distorted starts 3 frames into the reference"
        ) && m.contains("--sync auto (or --skip-reference 3)")),
        "{n:?}"
    );
    assert!(notes(&common::vmafx_json(&reference, &shifted, &["--sync", "off"])).is_empty());

    // Unrelated videos: no alignment found, and the pair is scored as given.
    let other = filtered(
        d,
        &reference,
        "other.mp4",
        &["mandelbrot=size=320x240:rate=24"],
        "[0:v]trim=end_frame=60,format=yuv420p",
    );
    let auto = common::vmafx_json(&reference, &other, &["--sync", "auto"]);
    let n = notes(&auto);
    assert!(
        n.iter()
            .any(|m| m.starts_with("warning: --sync auto: no alignment found")
                && m.contains("scored as given")),
        "{n:?}"
    );
    assert_eq!(auto["vmafx"]["skip_reference"], 0);
    assert_eq!(auto["vmafx"]["skip_distorted"], 0);

    let out =
        common::vmafx(&["score", "--sync", "sideways", reference.to_str().unwrap(), late.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected check, auto or off"));
}

/// The plot's SVG parsed by Python's XML parser: (points on each series path, frames marked
/// as worst).
fn parse_svg(path: &Path) -> (Vec<(String, usize)>, Vec<u64>) {
    let script = r#"
import sys, xml.etree.ElementTree as ET
ns = {"s": "http://www.w3.org/2000/svg"}
root = ET.parse(sys.argv[1]).getroot()
for g in root.iter("{http://www.w3.org/2000/svg}g"):
    if g.get("class") == "panel":
        path = g.find("s:path", ns)
        print("series", g.get("data-metric"), path.get("d").count("L") + 1)
    if g.get("class") == "worst":
        print("worst", g.get("data-frame"))
"#;
    let out = Command::new("python3").args(["-c", script]).arg(path).output().expect("python3");
    assert!(out.status.success(), "the SVG does not parse: {}", String::from_utf8_lossy(&out.stderr));
    let (mut series, mut worst) = (vec![], vec![]);
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let parts: Vec<&str> = line.split(' ').collect();
        match parts[0] {
            "series" => series.push((parts[1].to_string(), parts[2].parse().unwrap())),
            _ => worst.push(parts[1].parse().unwrap()),
        }
    }
    (series, worst)
}

#[test]
fn plot_writes_an_svg_and_a_png_with_every_frame_and_the_worst_marked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let reference = common::lavfi(d, "ref.y4m", "testsrc2=size=320x240:rate=24", 48, "yuv420p");
    // Frames 20..24 much worse than the rest.
    let dist = filtered(d, &reference, "dip.mp4", &[], "[0:v]gblur=sigma=6:enable='between(n,20,23)'");
    let svg = d.join("plot.svg");
    let png = d.join("plot.PNG");
    let (r, ds) = (reference.to_str().unwrap(), dist.to_str().unwrap());
    let report = common::vmafx_json(&reference, &dist, &["-f", "psnr", "--plot", svg.to_str().unwrap()]);
    let (series, worst) = parse_svg(&svg);
    let metrics: Vec<&str> = series.iter().map(|(m, _)| m.as_str()).collect();
    assert_eq!(metrics, ["vmaf", "psnr_y", "psnr_cb", "psnr_cr"], "a panel per headline metric");
    assert!(series.iter().all(|(_, n)| *n == 48), "one point per frame: {series:?}");
    // The marked frames are the report's three lowest VMAF frames, in the blurred run.
    let mut by_score: Vec<(f64, u64)> = frames(&report)
        .iter()
        .map(|f| (f["metrics"]["vmaf"].as_f64().unwrap(), f["frameNum"].as_u64().unwrap()))
        .collect();
    by_score.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    assert_eq!(worst, by_score[..3].iter().map(|p| p.1).collect::<Vec<_>>());
    assert!(worst.iter().all(|f| (20..24).contains(f)), "{worst:?}");
    let text = std::fs::read_to_string(&svg).unwrap();
    let mean = report["pooled_metrics"]["vmaf"]["mean"].as_f64().unwrap();
    assert!(text.contains(&format!("mean {mean:.2}")), "the pooled mean is on the plot");

    let out = common::vmafx(&["score", "--plot", png.to_str().unwrap(), r, ds]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains(&format!("wrote the per-frame plot to {}", png.display())));
    let image = resvg::tiny_skia::Pixmap::load_png(&png).expect("a PNG that decodes");
    assert_eq!(image.width(), 2000, "drawn at twice the SVG's 1000 units");
    let red = image.pixels().iter().filter(|p| p.red() > 180 && p.green() < 60 && p.blue() < 60).count();
    let blue = image.pixels().iter().filter(|p| p.blue() > 150 && p.red() < 80).count();
    assert!(red > 50 && blue > 500, "worst-frame markers ({red} px) and the VMAF line ({blue} px) are drawn");

    let out = common::vmafx(&["score", "--plot", d.join("plot.jpg").to_str().unwrap(), r, ds]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("must end in .svg or .png"));
}
