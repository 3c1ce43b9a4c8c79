//! vmafx-probe, the eBPF probe (crates/vmafx-probe), on real scoring runs: what it counts must
//! be what the run did — every byte of every frame through ffmpeg's pipe when ffmpeg decodes,
//! no pipe at all when the distorted is decoded in-process, the reference's pages read from
//! disk after they were dropped from the page cache — and the command's exit status passes
//! through. It needs root and a kernel with BPF and tracepoints: without them it fails, unless
//! VMAFX_ALLOW_SKIP names the test.

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use common::*;

const W: u64 = 320;
const H: u64 = 240;
const FRAMES: u64 = 48;
const FRAME_BYTES: u64 = W * H * 3 / 2;

/// Runs `vmafx-probe --json FILE -- args…`; `None` when this machine cannot trace and the
/// test may skip.
fn probe(test: &str, args: &[&str]) -> Option<Value> {
    let json = tempfile::NamedTempFile::new().unwrap();
    let out = Command::new(bin("vmafx-probe"))
        .args(["--frames", &FRAMES.to_string(), "--json", json.path().to_str().unwrap(), "--"])
        .args(args)
        .output()
        .expect("run vmafx-probe");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if cannot_trace(test, &out) {
        return None;
    }
    assert!(out.status.success(), "vmafx-probe {args:?}: {stderr}");
    // The person's report is on stderr; the command's own output is left alone.
    assert!(stderr.contains("thread") && stderr.contains("cpu ms"), "{stderr}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("VMAF"), "the command's report");
    Some(serde_json::from_slice(&std::fs::read(json.path()).unwrap()).expect("probe JSON"))
}

/// Whether the probe itself could not run here (exit 2 with its own message): allowed only
/// when VMAFX_ALLOW_SKIP names `test`, and then said on stderr.
fn cannot_trace(test: &str, out: &std::process::Output) -> bool {
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() != Some(2) || !stderr.contains("vmafx-probe:") {
        return false;
    }
    assert!(skip_allowed(test), "vmafx-probe cannot trace here (or VMAFX_ALLOW_SKIP={test}): {stderr}");
    eprintln!("skipped: {stderr}");
    true
}

fn threads<'a>(report: &'a Value, name: &str) -> Vec<&'a Value> {
    report["threads"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["name"].as_str().unwrap().starts_with(name))
        .collect()
}

fn io(thread: &Value, op: &str) -> Vec<(u64, u64, u64)> {
    thread["io"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["op"] == op)
        .map(|i| (i["fd"].as_u64().unwrap(), i["calls"].as_u64().unwrap(), i["bytes"].as_u64().unwrap()))
        .collect()
}

fn pair(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let r = lavfi(dir, "ref.y4m", &format!("testsrc2=size={W}x{H}:rate=24"), FRAMES as u32, "yuv420p");
    let d = encode(&r, dir, "dist.mp4", &["-c:v", "libx264", "-crf", "30", "-pix_fmt", "yuv420p"]);
    (r, d)
}

/// Drops `path`'s pages from the page cache (written back first), so the next read misses.
fn evict(path: &Path) {
    let ok = Command::new("python3")
        .args([
            "-c",
            "import os,sys; fd=os.open(sys.argv[1], os.O_RDONLY); os.fsync(fd); os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)",
        ])
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "evicting {}", path.display());
}

#[test]
fn the_probe_sees_every_frame_cross_ffmpegs_pipe_and_none_when_decoding_in_process() {
    let test = "the_probe_sees_every_frame_cross_ffmpegs_pipe_and_none_when_decoding_in_process";
    let dir = tempfile::tempdir().unwrap();
    let (r, d) = pair(dir.path());
    let vmafx = bin("vmafx");
    let (vmafx, r, d) = (vmafx.to_str().unwrap(), r.to_str().unwrap(), d.to_str().unwrap());

    // ffmpeg decodes the distorted into a pipe.
    evict(Path::new(r));
    let Some(sub) = probe(test, &[vmafx, "score", "-q", "--threads", "2", "--decoder", "ffmpeg", r, d])
    else {
        return;
    };
    assert_eq!(sub["exit_code"], 0);
    assert_eq!(sub["lost_events"], 0, "{sub}");
    let ffmpeg = threads(&sub, "ffmpeg");
    assert!(!ffmpeg.is_empty(), "no ffmpeg process traced: {sub}");
    // Its stdout (fd 1) carried exactly the frames, in many writes per frame.
    let out: Vec<_> = ffmpeg.iter().flat_map(|t| io(t, "write")).filter(|(fd, _, _)| *fd == 1).collect();
    let (writes, bytes) = out.iter().fold((0, 0), |(c, b), (_, calls, bytes)| (c + calls, b + bytes));
    assert_eq!(bytes, FRAMES * FRAME_BYTES, "{out:?}");
    assert!(writes >= FRAMES * 3, "{writes} writes for {FRAMES} frames of {FRAME_BYTES} bytes");
    // vmafx's distorted decoder thread read them all from one descriptor.
    let reader = threads(&sub, "decode-distorte");
    assert_eq!(reader.len(), 1, "{sub}");
    assert!(io(reader[0], "read").iter().any(|&(_, _, b)| b == FRAMES * FRAME_BYTES), "{:?}", reader[0]);
    // The reference, dropped from the page cache, was read from disk again.
    let ref_size = std::fs::metadata(r).unwrap().len();
    let vmafx_process = sub["processes"].as_array().unwrap().iter().find(|p| p["name"] == "vmafx").unwrap();
    let misses = vmafx_process["cache_miss_pages"].as_u64().unwrap();
    assert!(misses * 4096 >= ref_size * 9 / 10, "{misses} pages missed for a {ref_size}-byte file");
    // libvmaf's worker threads ran and waited for CPUs, and the time is accounted.
    let cpu: f64 = sub["processes"].as_array().unwrap().iter().map(|p| p["cpu_ms"].as_f64().unwrap()).sum();
    assert!(cpu > 0.0 && sub["wall_seconds"].as_f64().unwrap() > 0.0);
    assert!(threads(&sub, "vmafx").iter().any(|t| t["runq"]["waits"].as_u64().unwrap() > 0), "{sub}");

    // In-process: no ffmpeg decoder and no pipe: vmafx reads the reference and the compressed
    // file (opened on the main thread, decoded on the distorted's), not 5.5 MB of frames.
    let inproc = probe(test, &[vmafx, "score", "-q", "--threads", "2", r, d]).expect("traced once already");
    assert!(threads(&inproc, "ffmpeg").is_empty(), "{inproc}");
    let vmafx_process =
        inproc["processes"].as_array().unwrap().iter().find(|p| p["name"] == "vmafx").unwrap();
    let read = vmafx_process["reads"]["bytes"].as_u64().unwrap();
    let file = std::fs::metadata(d).unwrap().len();
    assert!(read >= ref_size + file && read < ref_size + 2 * file + (1 << 20), "read {read} bytes: {inproc}");
}

#[test]
fn the_probe_passes_the_commands_exit_status_through() {
    let test = "the_probe_passes_the_commands_exit_status_through";
    let out = Command::new(bin("vmafx-probe")).args(["--", "sh", "-c", "exit 3"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if cannot_trace(test, &out) {
        return;
    }
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("exited 3"), "{stderr}");
    let missing = Command::new(bin("vmafx-probe")).args(["--", "/nonexistent/tool"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot start /nonexistent/tool"));
}
