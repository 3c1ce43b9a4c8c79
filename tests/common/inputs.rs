//! Pairs of the kinds people actually have (full range, rotation metadata, edit lists, other
//! bit depths and chroma, raw YUV, other frame rates), each with the conversion chain that
//! docs/scoring.md ("How inputs are matched") documents for it, written out here by hand so
//! that the independent libvmaf can be fed the same pixels without asking vmafx.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use super::{encode, ffmpeg, lavfi, reference_ffmpeg, run_with_timeout, ALL_FEATURES};

pub const W: u32 = 320;
pub const H: u32 = 240;
const SRC: &str = "testsrc2=size=320x240:rate=24";

/// How one input is decoded into the pixels libvmaf compares: extra ffmpeg input options (a
/// raw file's layout) and the filter graph (ending in the scale filter with explicit ranges).
#[derive(Debug, Clone)]
pub struct Chain {
    pub input: Vec<String>,
    pub vf: String,
}

impl Chain {
    fn plain(range: &str) -> Self {
        Chain::filters("", range, range)
    }

    fn filters(before: &str, in_range: &str, out_range: &str) -> Self {
        Chain {
            input: vec![],
            vf: format!("{before}scale={W}:{H}:flags=bicubic:in_range={in_range}:out_range={out_range}"),
        }
    }

    fn raw(mut self, pix_fmt: &str) -> Self {
        self.input = ["-f", "rawvideo", "-pix_fmt", pix_fmt, "-video_size", "320x240", "-framerate", "24"]
            .map(String::from)
            .into();
        self
    }
}

/// A raw input's layout as the CLI, the job API and MCP take it.
#[derive(Debug, Clone)]
pub struct Raw {
    pub pix_fmt: &'static str,
}

#[derive(Debug, Clone)]
pub struct Case {
    pub name: &'static str,
    pub reference: PathBuf,
    pub distorted: PathBuf,
    pub fps_match: bool,
    pub reference_raw: Option<Raw>,
    pub distorted_raw: Option<Raw>,
    pub reference_chain: Chain,
    pub distorted_chain: Chain,
    /// Pixel format libvmaf gets (the reference's).
    pub pix_fmt: &'static str,
    /// A note this case must bring, if any (`None`: no note at all).
    pub note: Option<&'static str>,
}

impl Case {
    /// The `vmafx score` / `vmafx submit` flags for this case's inputs.
    pub fn flags(&self) -> Vec<String> {
        let mut f = Vec::new();
        if self.fps_match {
            f.push("--fps-match".to_string());
        }
        for (flag, raw) in
            [("--reference-raw", &self.reference_raw), ("--distorted-raw", &self.distorted_raw)]
        {
            if let Some(r) = raw {
                f.extend([flag.to_string(), format!("{W}x{H}:{}:24", r.pix_fmt)]);
            }
        }
        f
    }

    /// The same options as the job API's `inputs` (JSON) / MCP arguments take them.
    pub fn raw_json(raw: &Option<Raw>) -> Value {
        match raw {
            Some(r) => json!({"width": W, "height": H, "pix_fmt": r.pix_fmt, "fps": "24"}),
            None => Value::Null,
        }
    }
}

/// Every case, made in `dir` (small clips: 320x240, 24 fps, 48 frames).
pub fn cases(dir: &Path) -> Vec<Case> {
    let ff9 = |args: &[&str]| {
        let out = run_with_timeout(
            Command::new(reference_ffmpeg())
                .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
                .args(args),
            std::time::Duration::from_secs(120),
        );
        assert!(out.status.success(), "ffmpeg 9 {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let p = |name: &str| dir.join(name);
    let s = |path: &Path| path.to_str().unwrap().to_string();

    let reference = lavfi(dir, "ref.y4m", SRC, 48, "yuv420p");
    let full = lavfi(dir, "ref_full.y4m", SRC, 48, "yuvj420p");
    let ref10 = lavfi(dir, "ref10.y4m", SRC, 48, "yuv420p10le");
    let x264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "30", "-g", "24"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> { x264.iter().chain(extra).copied().collect() };
    let dist = encode(&reference, dir, "dist.mp4", &with(&["-pix_fmt", "yuv420p"]));
    let full_dist = encode(&full, dir, "full_dist.mp4", &with(&["-pix_fmt", "yuvj420p"]));
    let full_to_limited = encode(
        &full,
        dir,
        "full_to_limited.mp4",
        &with(&["-vf", "scale=out_range=limited", "-color_range", "tv", "-pix_fmt", "yuv420p"]),
    );
    // Phone-style display rotation, added by stream copy (ffmpeg 9 has -display_rotation).
    ff9(&["-display_rotation", "90", "-i", &s(&dist), "-c", "copy", &s(&p("rot.mp4"))]);
    let lossless =
        encode(&reference, dir, "ref_lossless.mp4", &["-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv420p"]);
    ff9(&["-display_rotation", "90", "-i", &s(&lossless), "-c", "copy", &s(&p("ref_rot.mp4"))]);
    // Stored portrait (turned a quarter counter-clockwise), shown landscape.
    let portrait =
        encode(&reference, dir, "portrait.mp4", &with(&["-vf", "transpose=cclock", "-pix_fmt", "yuv420p"]));
    ff9(&["-display_rotation", "-90", "-i", &s(&portrait), "-c", "copy", &s(&p("portrait_rot.mp4"))]);
    // An MP4 cut with stream copy: its edit list hides the first 10 of 48 coded frames.
    ffmpeg(&["-ss", "0.4", "-i", &s(&dist), "-c", "copy", &s(&p("cut.mp4"))]);
    ffmpeg(&["-i", &s(&reference), "-vf", "trim=start_frame=10,setpts=PTS-STARTPTS", &s(&p("ref_cut.y4m"))]);
    let prores = encode(
        &dist,
        dir,
        "prores.mov",
        &["-c:v", "prores_ks", "-profile:v", "2", "-pix_fmt", "yuv422p10le"],
    );
    ffmpeg(&["-i", &s(&reference), "-f", "rawvideo", &s(&p("ref.yuv"))]);
    ffmpeg(&["-i", &s(&dist), "-f", "rawvideo", "-pix_fmt", "yuv420p", &s(&p("dist.yuv"))]);
    let double = encode(&reference, dir, "double_rate.mp4", &with(&["-vf", "fps=48", "-pix_fmt", "yuv420p"]));
    let vfr = encode(
        &reference,
        dir,
        "vfr.mp4",
        &with(&[
            "-vf",
            "select='not(eq(n\\,5)+eq(n\\,6)+eq(n\\,20))'",
            "-fps_mode",
            "vfr",
            "-pix_fmt",
            "yuv420p",
        ]),
    );

    let case = |name, reference: &Path, distorted: &Path, dist_chain, note| Case {
        name,
        reference: reference.into(),
        distorted: distorted.into(),
        fps_match: false,
        reference_raw: None,
        distorted_raw: None,
        reference_chain: Chain::plain("limited"),
        distorted_chain: dist_chain,
        pix_fmt: "yuv420p",
        note,
    };
    let raw = Some(Raw { pix_fmt: "yuv420p" });
    vec![
        Case {
            reference_chain: Chain::plain("full"),
            ..case("full range on both sides", &full, &full_dist, Chain::plain("full"), None)
        },
        Case {
            reference_chain: Chain::plain("full"),
            ..case(
                "full-range reference, limited-range distorted",
                &full,
                &full_to_limited,
                Chain::filters("", "limited", "full"),
                Some("distorted limited range is converted to the reference's full range"),
            )
        },
        case(
            "rotation metadata on the distorted",
            &reference,
            &p("rot.mp4"),
            Chain::plain("limited"),
            Some("display metadata differs (reference: none, distorted: a 90° counter-clockwise turn); the coded pixels are scored as they are"),
        ),
        case(
            "rotation metadata on both",
            &p("ref_rot.mp4"),
            &p("rot.mp4"),
            Chain::plain("limited"),
            Some("both inputs ask to be shown with a 90° counter-clockwise turn"),
        ),
        case(
            "portrait-coded distorted of a landscape reference",
            &reference,
            &p("portrait_rot.mp4"),
            Chain::filters("transpose=clock,", "limited", "limited"),
            Some("distorted is turned into the reference's orientation (transpose=clock"),
        ),
        case("MP4 edit list against the matching cut", &p("ref_cut.y4m"), &p("cut.mp4"), Chain::plain("limited"), None),
        Case {
            reference_chain: Chain::plain("limited"),
            pix_fmt: "yuv420p10le",
            ..case(
                "10-bit reference, 8-bit distorted",
                &ref10,
                &dist,
                Chain::plain("limited"),
                Some("distorted pixel format yuv420p is converted to the reference's yuv420p10le (8 → 10 bits by a left shift (v·4))"),
            )
        },
        case(
            "ProRes 4:2:2 10-bit distorted of an 8-bit 4:2:0 reference",
            &reference,
            &prores,
            Chain::plain("limited"),
            Some("10 → 8 bits with swscale's ordered dither; chroma resampled with bicubic"),
        ),
        Case {
            reference_raw: raw.clone(),
            distorted_raw: raw.clone(),
            reference_chain: Chain::plain("limited").raw("yuv420p"),
            ..case("raw YUV on both sides", &p("ref.yuv"), &p("dist.yuv"), Chain::plain("limited").raw("yuv420p"), None)
        },
        Case {
            distorted_raw: raw.clone(),
            ..case("raw YUV against Y4M", &reference, &p("dist.yuv"), Chain::plain("limited").raw("yuv420p"), None)
        },
        Case {
            fps_match: true,
            ..case(
                "2x frame rate distorted with --fps-match",
                &reference,
                &double,
                Chain::filters("fps=fps=24,", "limited", "limited"),
                Some("distorted at 48 fps is brought to the reference's 24 fps"),
            )
        },
        Case {
            fps_match: true,
            ..case(
                "variable-frame-rate distorted with --fps-match",
                &reference,
                &vfr,
                Chain::filters("fps=fps=24,", "limited", "limited"),
                Some("distorted at 45/2 fps (variable) is brought to the reference's 24 fps"),
            )
        },
    ]
}

/// Decodes `input` through `chain` with Debian's ffmpeg (the one vmafx runs) into raw frames.
fn pixels(input: &Path, chain: &Chain, pix_fmt: &str, out: &Path) {
    let mut args: Vec<String> = vec!["-noautorotate".into()];
    args.extend(chain.input.iter().cloned());
    args.extend(["-i".into(), input.display().to_string()]);
    args.extend(
        [
            "-map",
            "0:v:0",
            "-fps_mode",
            "passthrough",
            "-vf",
            &chain.vf,
            "-pix_fmt",
            pix_fmt,
            "-f",
            "rawvideo",
        ]
        .map(String::from),
    );
    args.push(out.display().to_string());
    ffmpeg(&args.iter().map(String::as_str).collect::<Vec<_>>());
}

/// The independent libvmaf (ffmpeg 9's filter) on the documented pixels of `case`, as raw
/// frames so that nothing in ffmpeg 9 can convert them again.
pub fn independent(case: &Case, dir: &Path) -> Value {
    let (r, d, log) = (dir.join("indep_ref.yuv"), dir.join("indep_dist.yuv"), dir.join("indep.json"));
    pixels(&case.reference, &case.reference_chain, case.pix_fmt, &r);
    pixels(&case.distorted, &case.distorted_chain, case.pix_fmt, &d);
    let features: Vec<String> = ALL_FEATURES.iter().map(|f| format!("name={f}")).collect();
    let opts =
        format!("log_fmt=json:log_path={}:n_threads=2:feature={}", log.display(), features.join("\\|"));
    let raw =
        ["-f", "rawvideo", "-pix_fmt", case.pix_fmt, "-video_size", "320x240", "-framerate", "24", "-i"];
    let out = run_with_timeout(
        Command::new(reference_ffmpeg())
            .args(["-nostdin", "-hide_banner", "-loglevel", "error"])
            .args(raw)
            .arg(&d)
            .args(raw)
            .arg(&r)
            .args(["-lavfi", &format!("[0:v][1:v]libvmaf={opts}"), "-f", "null", "-"]),
        std::time::Duration::from_secs(300),
    );
    assert!(out.status.success(), "independent libvmaf failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&std::fs::read_to_string(&log).unwrap()).unwrap()
}
