//! The progress bar appears on a terminal (frames, speed, ETA) and stays out of pipes.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

#[test]
fn progress_bar_on_a_terminal_only() {
    let dir = corpus();
    let r = dir.join("mandel_720.y4m");
    let d = dir.join("mandel_720_x264_crf35.mp4");
    // `script` gives the command a pseudo-terminal and records what it draws.
    let tmp = tempfile::tempdir().unwrap();
    let typescript = tmp.path().join("typescript");
    let cmd = format!("{} score --threads 1 {} {}", bin("vmafx").display(), r.display(), d.display());
    let out = run_with_timeout(
        Command::new("script").args(["-q", "-e", "-c", &cmd]).arg(&typescript),
        Duration::from_secs(300),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let screen = String::from_utf8_lossy(&std::fs::read(&typescript).unwrap()).into_owned();
    assert!(screen.contains("scoring ["), "no progress bar drawn: {screen:?}");
    assert!(screen.contains("/48 frames") && screen.contains("ETA"), "{screen:?}");
    assert!(screen.contains("VMAF "), "report missing: {screen:?}");

    // Through a pipe: the report on stdout, nothing on stderr.
    let out = vmafx(&["score", r.to_str().unwrap(), d.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "stderr should be silent off a terminal: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn scaling_note_is_in_the_report_and_on_stderr_beside_machine_output() {
    let dir = tempfile::tempdir().unwrap();
    let r = lavfi(dir.path(), "ref.y4m", "testsrc2=size=320x240:rate=24", 12, "yuv420p");
    let d = encode(&r, dir.path(), "small.mp4", &["-vf", "scale=160:120", "-c:v", "libx264"]);
    let note = "note: distorted 160x120 is scaled to the reference's 320x240 (bicubic)";
    // The text report lists its notes; they are not repeated on stderr.
    let out = vmafx(&["score", r.to_str().unwrap(), d.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(note), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    // Beside JSON on stdout, notes go to stderr (and into vmafx.notes), unless -q.
    let out = vmafx(&["score", "-F", "json", r.to_str().unwrap(), d.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains(note), "{}", String::from_utf8_lossy(&out.stderr));
    let out = vmafx(&["score", "-q", "-F", "json", r.to_str().unwrap(), d.to_str().unwrap()]);
    assert!(out.stderr.is_empty());
}
