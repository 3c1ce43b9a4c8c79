//! Starting a decode at a frame instead of decoding and dropping every frame before it.
//!
//! A sample in the middle of a film (vmafx-tune) or a segment of a long job (a cluster node)
//! otherwise decodes everything before it, once per sample or segment. ffmpeg's input seek
//! (`-ss` before `-i`) jumps to the key frame before a time through the container's index and
//! drops the frames decoded before that time, so the first frame out is the first one at or
//! after it. That gives frame `n` exactly when frame `n`'s time is known without decoding
//! and the index never lands past the time asked for:
//!
//! - the stream has a constant rate: frame `n` is `n / rate` after the first;
//! - the container is Matroska/WebM or an unfragmented MP4/MOV. MPEG-TS seeks by byte
//!   position (it lands on frames that cannot be decoded) and a fragmented MP4 without a
//!   fragment index lands on the next fragment: both are decoded from the start.
//!
//! The time asked for is half a frame before frame `n`, so rounding in the container's time
//! base (a millisecond in Matroska) never moves it across a frame. Tests compare each
//! container's seek with decoding from the start, frame by frame.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::probe::{Container, Probe};

/// The `-ss` time (seconds, ffmpeg's input option) at which decoding `probe`'s input starts
/// at frame `frame` exactly, or `None` where that is not known to be exact (then frames are
/// decoded from the start and dropped) or not worth it (frame 0).
pub fn seek_seconds(probe: &Probe, frame: u64) -> Option<f64> {
    let offset = probe.seek_offset?;
    let rate = probe.rate.filter(|_| !probe.variable_rate)?;
    if frame == 0 || !matches!(probe.container, Container::Other { .. }) {
        return None;
    }
    Some(offset + (frame as f64 - 0.5) * f64::from(rate.den) / f64::from(rate.num))
}

/// ffmpeg's input arguments that start decoding at `frame` (`-ss T`, before `-i`), and the
/// frame decoding then starts at: `frame`, or 0 where seeking is not exact ([`seek_seconds`]).
pub fn seek_args(probe: &Probe, frame: u64) -> (Vec<String>, u64) {
    match seek_seconds(probe, frame) {
        Some(t) => (vec!["-ss".into(), format!("{t:.6}")], frame),
        None => (Vec::new(), 0),
    }
}

/// Whether a container (ffprobe's format name) reaches a time through an index that never
/// lands past it: Matroska/WebM, and MP4/MOV unless `path` is fragmented.
pub(crate) fn seeks_exactly(format: &str, path: &Path) -> bool {
    if format.contains("matroska") {
        return true;
    }
    format.contains("mp4") && !is_fragmented_mp4(path).unwrap_or(true)
}

/// Whether an MP4/MOV file holds movie fragments (a top-level `moof` box): its boxes are
/// walked by their sizes, reading only their headers.
fn is_fragmented_mp4(path: &Path) -> std::io::Result<bool> {
    let (mut f, len) = crate::location::open(path)?;
    let mut at = 0u64;
    // A file has a handful of top-level boxes; a fragmented one shows a `moof` early.
    for _ in 0..100_000 {
        if at + 8 > len {
            return Ok(false);
        }
        f.seek(SeekFrom::Start(at))?;
        let mut head = [0u8; 16];
        f.read_exact(&mut head[..8])?;
        let kind = &head[4..8];
        if kind == b"moof" || kind == b"mfra" {
            return Ok(true);
        }
        let size = match u32::from_be_bytes([head[0], head[1], head[2], head[3]]) {
            0 => return Ok(false), // to the end of the file
            1 => {
                f.read_exact(&mut head[8..16])?;
                u64::from_be_bytes(head[8..16].try_into().expect("8 bytes"))
            }
            n => u64::from(n),
        };
        if size < 8 {
            return Err(std::io::Error::other("a box smaller than its header"));
        }
        at += size;
    }
    Err(std::io::Error::other("too many boxes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{probe, Tools};
    use std::process::Command;

    fn ffmpeg(args: &str) {
        let ok = Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-y"])
            .args(args.split_whitespace())
            .status()
            .unwrap()
            .success();
        assert!(ok, "ffmpeg {args}");
    }

    /// MD5s of `count` frames from `frame` on: decoded from the start and dropped, or with
    /// the seek (when there is one).
    fn frames(path: &Path, frame: u64, count: u64, seek: bool) -> Vec<String> {
        let p = probe(path, None, &Tools::default()).unwrap();
        let (input, from) = if seek { seek_args(&p, frame) } else { (Vec::new(), 0) };
        let out = Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error"])
            .args(input)
            .arg("-i")
            .arg(path)
            .args(["-map", "0:v:0", "-vf"])
            .arg(format!(
                "trim=start_frame={}:end_frame={},setpts=PTS-STARTPTS",
                frame - from,
                frame - from + count
            ))
            .args(["-f", "framemd5", "-"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.rsplit(',').next().unwrap().trim().into())
            .collect()
    }

    #[test]
    fn a_seek_gives_the_frames_decoding_from_the_start_gives_or_is_not_made() {
        let dir = tempfile::tempdir().unwrap();
        let at = |name: &str| dir.path().join(name);
        let src = "-f lavfi -i testsrc2=s=160x120:r=30000/1001:d=12 -f lavfi -i sine=d=13";
        // (file, how it is made, whether it seeks)
        let cases = [
            ("ffv1.mkv", format!("{src} -map 0 -map 1 -c:v ffv1 -g 30 -c:a flac"), true),
            ("bframes.mp4", format!("{src} -map 0 -map 1 -c:v libx264 -bf 3 -g 60 -c:a aac"), true),
            ("piped.mkv", format!("{src} -map 0 -c:v libx264 -bf 2 -g 45 -f matroska pipe:1"), true),
            ("vp9.webm", format!("{src} -map 0 -c:v libvpx-vp9 -deadline realtime -g 50"), true),
            // Open GOPs: frames after a CRA that refer to the GOP before it.
            (
                "open_gop.mkv",
                format!("{src} -map 0 -c:v libx265 -x265-params log-level=0:keyint=45:open-gop=1:bframes=4"),
                true,
            ),
            (
                "fragmented.mp4",
                format!("{src} -map 0 -c:v libx264 -g 45 -movflags frag_keyframe+empty_moov"),
                false,
            ),
            ("stream.ts", format!("{src} -map 0 -map 1 -c:v libx264 -bf 3 -g 60 -c:a mp2"), false),
        ];
        for (name, how, _) in &cases {
            if name.starts_with("piped") {
                // Written to a pipe: no index (cues) at all.
                let out = Command::new("ffmpeg")
                    .args(["-nostdin", "-v", "error"])
                    .args(how.split_whitespace())
                    .output()
                    .unwrap();
                std::fs::write(at(name), out.stdout).unwrap();
            } else {
                ffmpeg(&format!("{how} {}", at(name).display()));
            }
        }
        // A cut made with stream copy: an MP4 edit list hides the frames before it.
        ffmpeg(&format!("-ss 3.3 -i {} -c copy {}", at("bframes.mp4").display(), at("cut.mov").display()));
        for (name, seeks) in cases.iter().map(|(n, _, s)| (*n, *s)).chain([("cut.mov", true)]) {
            let p = probe(&at(name), None, &Tools::default()).unwrap();
            assert_eq!(seek_seconds(&p, 10).is_some(), seeks, "{name}: {p:?}");
            if !seeks {
                continue;
            }
            // Around key frames (every 30, 45, 50, 60) and away from them.
            for frame in [1, 29, 44, 45, 60, 61, 250] {
                assert_eq!(
                    frames(&at(name), frame, 3, true),
                    frames(&at(name), frame, 3, false),
                    "{name} frame {frame}"
                );
            }
        }
    }

    #[test]
    fn the_time_is_half_a_frame_before_the_frame_after_the_streams_offset() {
        let mut p = crate::probe::tests::blank("x.mp4", 64, 64, "yuv420p");
        p.rate = crate::Rate::new(30, 1);
        assert_eq!(seek_seconds(&p, 31), None, "no offset: not known to seek exactly");
        p.seek_offset = Some(0.25);
        assert_eq!(seek_seconds(&p, 31), Some(0.25 + 30.5 / 30.0));
        assert_eq!(seek_seconds(&p, 0), None);
        assert_eq!(seek_args(&p, 31), (vec!["-ss".to_string(), "1.266667".to_string()], 31));
        p.variable_rate = true;
        assert_eq!(seek_args(&p, 31), (Vec::new(), 0));
    }
}
