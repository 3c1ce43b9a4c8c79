//! Pictures of frames (the dashboard's worst frames) are the frames scoring reads: frame N of
//! the reference and of the distorted, reached by seeking in an MP4 with keyframes far apart,
//! pixel for pixel what ffmpeg itself makes of frame N of each file.

use std::path::Path;
use std::process::Command;

use vmafx_core::PictureSpec;
use vmafx_engine::{pictures, ScoreRequest};

fn ffmpeg(args: &[&str]) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// Frame `n` of `input` as ffmpeg decodes and writes it as PNG.
fn frame_png(input: &Path, n: u64, width: Option<u32>) -> Vec<u8> {
    let mut filter = format!("select=eq(n\\,{n})");
    if let Some(w) = width {
        filter += &format!(",scale={w}:-2:flags=bicubic");
    }
    ffmpeg(&[
        "-i",
        input.to_str().unwrap(),
        "-vf",
        &filter,
        "-frames:v",
        "1",
        "-f",
        "image2pipe",
        "-c:v",
        "png",
        "-",
    ])
}

/// A PNG's pixels, as RGB (PNG files of the same pixels may differ in their metadata chunks).
fn pixels(png: &[u8], dir: &Path) -> Vec<u8> {
    let file = dir.join("picture.png");
    std::fs::write(&file, png).unwrap();
    let rgb = ffmpeg(&["-i", file.to_str().unwrap(), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]);
    assert!(!rgb.is_empty());
    rgb
}

#[test]
fn pictures_are_the_frames_scoring_reads() {
    let dir = tempfile::tempdir().unwrap();
    let same = |a: &[u8], b: &[u8]| pixels(a, dir.path()) == pixels(b, dir.path());
    let r = dir.path().join("r.y4m");
    let d = dir.path().join("d.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=24",
        "-frames:v",
        "48",
        "-pix_fmt",
        "yuv420p",
        r.to_str().unwrap(),
    ]);
    // Keyframes 20 frames apart: frame 34 is reached by a seek and 14 decoded frames.
    ffmpeg(&[
        "-i",
        r.to_str().unwrap(),
        "-c:v",
        "libx264",
        "-crf",
        "36",
        "-g",
        "20",
        "-pix_fmt",
        "yuv420p",
        d.to_str().unwrap(),
    ]);
    let req = ScoreRequest::new(&r, &d);
    let asked = PictureSpec { frames: vec![34, 0, 47, 13], max_width: 0 };
    let made = pictures(&req, &asked).unwrap();
    assert_eq!(made.iter().map(|p| p.frame_num).collect::<Vec<_>>(), asked.frames);
    for p in &made {
        assert!(same(&p.reference_png, &frame_png(&r, p.frame_num, None)), "reference frame {}", p.frame_num);
        assert!(same(&p.distorted_png, &frame_png(&d, p.frame_num, None)), "distorted frame {}", p.frame_num);
    }
    // Scaled down for the page, as ffmpeg's bicubic scaler makes it.
    let small = pictures(&req, &PictureSpec { frames: vec![34], max_width: 160 }).unwrap();
    assert!(same(&small[0].distorted_png, &frame_png(&d, 34, Some(160))));

    // Skips shift the numbering as they shift scoring's: frame 0 is the distorted's frame 5.
    let mut skipped = ScoreRequest::new(&r, &d);
    skipped.skip_reference = 5;
    skipped.skip_distorted = 5;
    let shifted = pictures(&skipped, &PictureSpec { frames: vec![0], max_width: 0 }).unwrap();
    assert!(same(&shifted[0].distorted_png, &frame_png(&d, 5, None)));
    assert!(!same(&shifted[0].distorted_png, &frame_png(&d, 0, None)));

    // Past the end: an error naming the input, not a picture of something else.
    let err = pictures(&req, &PictureSpec { frames: vec![48], max_width: 0 }).unwrap_err();
    assert!(err.to_string().contains("no frame 48"), "{err}");
}
