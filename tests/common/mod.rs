//! Helpers for end-to-end tests: locate the built binaries, make test clips with ffmpeg, run
//! the independent libvmaf (ffmpeg 9's `libvmaf` filter from PyPI's imageio-ffmpeg), and
//! compare reports.
#![allow(dead_code)]

pub mod cluster;
pub mod inputs;
pub mod servers;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

pub const ALL_FEATURES: &[&str] = &["psnr", "float_ssim", "float_ms_ssim", "cambi", "ciede", "psnr_hvs"];

/// Per-frame and pooled values must agree this closely (the bar).
pub const TOLERANCE: f64 = 1e-4;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A binary of this workspace, built next to the test executable (`make test` builds them).
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --workspace --bins` first (make test does)",
        path.display()
    );
    path
}

/// Whether `VMAFX_ALLOW_SKIP` (comma-separated test names) lets `test` skip when this machine
/// lacks what it needs (root, a kernel feature). Without it such a test fails, so that CI
/// never passes by quietly testing nothing.
pub fn skip_allowed(test: &str) -> bool {
    std::env::var("VMAFX_ALLOW_SKIP").is_ok_and(|v| v.split(',').any(|t| t.trim() == test))
}

/// The independent ffmpeg with the libvmaf filter.
pub fn reference_ffmpeg() -> PathBuf {
    static FF: OnceLock<PathBuf> = OnceLock::new();
    FF.get_or_init(|| {
        if let Ok(p) = std::env::var("VMAFX_REFERENCE_FFMPEG") {
            return p.into();
        }
        let out = Command::new("python3")
            .args(["-c", "import imageio_ffmpeg as m; print(m.get_ffmpeg_exe())"])
            .output()
            .expect("python3");
        assert!(out.status.success(), "imageio-ffmpeg==0.8.1 is not installed (make setup-test installs it)");
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    })
    .clone()
}

/// The test corpus (`scripts/corpus.sh`), built once into target/corpus.
pub fn corpus() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = root().join("target/corpus");
        let status = Command::new("bash")
            .arg(root().join("scripts/corpus.sh"))
            .env("VMAFX_CORPUS", &dir)
            .status()
            .expect("scripts/corpus.sh");
        assert!(status.success(), "building the corpus failed");
        dir
    })
    .clone()
}

/// Runs Debian's ffmpeg with `args`, panicking with its stderr on failure.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg");
    assert!(out.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Makes a lavfi test clip: `source` like `testsrc2=size=320x240:rate=24`.
pub fn lavfi(dir: &Path, name: &str, source: &str, frames: u32, pix_fmt: &str) -> PathBuf {
    let path = dir.join(name);
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        source,
        "-frames:v",
        &frames.to_string(),
        "-pix_fmt",
        pix_fmt,
        // ffmpeg 5.1 writes high-bit-depth Y4M only when asked to.
        "-strict",
        "-1",
        path.to_str().unwrap(),
    ]);
    path
}

/// Encodes `input` with extra ffmpeg output args into `dir/name`.
pub fn encode(input: &Path, dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let mut all = vec!["-i", input.to_str().unwrap()];
    all.extend_from_slice(args);
    all.push(path.to_str().unwrap());
    ffmpeg(&all);
    path
}

/// An ffmpeg `filter_complex` graph over `reference`, encoded with x264 (CRF 26, 4:2:0)
/// into `dir/name`: the lavfi `extra` sources are its first inputs, the reference its last.
pub fn filtered(dir: &Path, reference: &Path, name: &str, extra: &[&str], filter: &str) -> PathBuf {
    let out = dir.join(name);
    let mut args: Vec<&str> = Vec::new();
    for source in extra {
        args.extend(["-f", "lavfi", "-i", source]);
    }
    args.extend(["-i", reference.to_str().unwrap(), "-filter_complex", filter]);
    args.extend(["-c:v", "libx264", "-crf", "26", "-pix_fmt", "yuv420p", out.to_str().unwrap()]);
    ffmpeg(&args);
    out
}

/// Reads `stream` (a child's stdout or stderr) up to the first line starting with `prefix`
/// and returns the rest of that line; from then on a thread drains the stream, so that the
/// child never blocks writing to it. `who` names the child when it ends first.
pub fn line_after(stream: impl std::io::Read + Send + 'static, prefix: &str, who: &str) -> String {
    use std::io::BufRead as _;
    let mut lines = std::io::BufReader::new(stream).lines();
    let rest = loop {
        let line = lines.next().unwrap_or_else(|| panic!("{who} ended before printing `{prefix}`")).unwrap();
        if let Some(rest) = line.trim().strip_prefix(prefix) {
            break rest.to_string();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    rest
}

/// Runs a command with a deadline; a hang fails the test instead of blocking CI.
pub fn run_with_timeout(cmd: &mut Command, limit: Duration) -> Output {
    let mut child =
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    let start = Instant::now();
    // Drain pipes on threads so a chatty child cannot block on a full pipe.
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut so, &mut v).ok();
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut se, &mut v).ok();
        v
    });
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > limit {
            child.kill().ok();
            panic!("{cmd:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output { status, stdout: t_out.join().unwrap(), stderr: t_err.join().unwrap() }
}

/// Runs `vmafx ARGS`.
pub fn vmafx(args: &[&str]) -> Output {
    let out = run_with_timeout(Command::new(bin("vmafx")).args(args), Duration::from_secs(600));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "vmafx panicked: {stderr}");
    out
}

/// Runs `vmafx score REF DIST --format json` plus `extra`; panics unless it succeeds.
pub fn vmafx_json(reference: &Path, distorted: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["score", "-q", "--format", "json"];
    if !extra.contains(&"--threads") {
        args.extend(["--threads", "2"]);
    }
    args.extend_from_slice(extra);
    args.push(reference.to_str().unwrap());
    args.push(distorted.to_str().unwrap());
    let out = vmafx(&args);
    assert!(out.status.success(), "vmafx {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("vmafx JSON")
}

/// Runs `vmafx score --nr DIST --model registry:MODEL --registry REGISTRY --format json`;
/// panics unless it succeeds.
pub fn vmafx_nr_json(distorted: &Path, registry: &Path, model: &str) -> Value {
    let model = format!("registry:{model}");
    let args = ["score", "-q", "--format", "json", "--nr", "--model", &model, "--registry"];
    let mut args = args.to_vec();
    args.extend([registry.to_str().unwrap(), distorted.to_str().unwrap()]);
    let out = vmafx(&args);
    assert!(out.status.success(), "vmafx {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("vmafx JSON")
}

/// A JSON report's `vmafx.notes` as `level: message` lines.
pub fn notes(report: &Value) -> Vec<String> {
    report["vmafx"]["notes"]
        .as_array()
        .unwrap_or_else(|| panic!("no vmafx.notes in {}", report["vmafx"]))
        .iter()
        .map(|n| format!("{}: {}", n["level"].as_str().unwrap(), n["message"].as_str().unwrap()))
        .collect()
}

/// Scores with the independent libvmaf; `pre` is a filter chain applied to the distorted
/// (input 0) and reference (input 1) before libvmaf, e.g. trimming.
pub fn independent_json(
    reference: &Path,
    distorted: &Path,
    features: &[&str],
    pre: Option<(&str, &str)>,
) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log.json");
    let mut opts = format!("log_fmt=json:log_path={}:n_threads=2", log.display());
    if !features.is_empty() {
        let f: Vec<String> = features.iter().map(|f| format!("name={f}")).collect();
        opts.push_str(&format!(":feature={}", f.join("\\|")));
    }
    // vmafx pairs frames by index; ffmpeg's framesync pairs them by timestamp, which can
    // duplicate a frame when containers round timestamps differently (WebM's milliseconds).
    // Renumbering both streams makes ffmpeg pair by index too.
    let renumber = "setpts=N/(25*TB)";
    let (d, r) = pre.unwrap_or(("null", "null"));
    let graph = format!("[0:v]{d},{renumber}[d];[1:v]{r},{renumber}[r];[d][r]libvmaf={opts}");
    let out = run_with_timeout(
        Command::new(reference_ffmpeg())
            .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-i"])
            .arg(distorted)
            .arg("-i")
            .arg(reference)
            .args(["-lavfi", &graph, "-f", "null", "-"]),
        Duration::from_secs(600),
    );
    assert!(out.status.success(), "independent libvmaf failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(&std::fs::read_to_string(&log).unwrap()).unwrap()
}

/// Asserts that every per-frame metric and every pooled statistic the independent libvmaf
/// reports is in `ours` and within [`TOLERANCE`]. Returns the largest difference seen.
pub fn assert_same_scores(ours: &Value, theirs: &Value, what: &str) -> f64 {
    let of = ours["frames"].as_array().expect("our frames");
    let tf = theirs["frames"].as_array().expect("their frames");
    assert_eq!(of.len(), tf.len(), "{what}: frame counts differ");
    assert!(!tf.is_empty(), "{what}: no frames");
    let mut worst = 0.0f64;
    for (o, t) in of.iter().zip(tf) {
        assert_eq!(o["frameNum"], t["frameNum"], "{what}");
        let tm = t["metrics"].as_object().unwrap();
        for (name, tv) in tm {
            let ov = o["metrics"][name]
                .as_f64()
                .unwrap_or_else(|| panic!("{what}: frame {} lacks {name}", o["frameNum"]));
            let d = (ov - tv.as_f64().unwrap()).abs();
            worst = worst.max(d);
            assert!(d <= TOLERANCE, "{what}: frame {} {name}: ours {ov}, libvmaf {tv}", o["frameNum"]);
        }
    }
    let tp = theirs["pooled_metrics"].as_object().unwrap();
    assert!(tp.contains_key("vmaf"), "{what}: no pooled vmaf");
    for (name, stats) in tp {
        for stat in ["min", "max", "mean", "harmonic_mean"] {
            let tv = stats[stat].as_f64().unwrap();
            let ov = ours["pooled_metrics"][name][stat]
                .as_f64()
                .unwrap_or_else(|| panic!("{what}: pooled {name}.{stat} missing"));
            let d = (ov - tv).abs();
            worst = worst.max(d);
            assert!(d <= TOLERANCE, "{what}: pooled {name}.{stat}: ours {ov}, libvmaf {tv}");
        }
    }
    worst
}

/// Scores `distorted` against `reference` with both vmafx and the independent libvmaf, every
/// extra feature on, and asserts they agree.
pub fn check_pair(reference: &Path, distorted: &Path, features: &[&str]) -> Value {
    let mut extra = Vec::new();
    for f in features {
        extra.extend(["--feature", f]);
    }
    let ours = vmafx_json(reference, distorted, &extra);
    let theirs = independent_json(reference, distorted, features, None);
    let what = format!("{} vs {}", distorted.display(), reference.display());
    let worst = assert_same_scores(&ours, &theirs, &what);
    eprintln!("{what}: {} frames, max |diff| {worst:.2e}", ours["frames"].as_array().unwrap().len());
    ours
}

/// Every process: pid, name (`comm`) and parent pid.
fn processes() -> Vec<(u32, String, u32)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        // pid (comm) state ppid ...
        let Some(close) = stat.rfind(')') else { continue };
        let name = &stat[stat.find('(').unwrap_or(0) + 1..close];
        let Some(ppid) = stat[close + 2..].split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        out.push((pid, name.to_string(), ppid));
    }
    out
}

/// The processes named `comm` whose parent is `parent`.
pub fn children(parent: u32, comm: &str) -> Vec<u32> {
    processes()
        .into_iter()
        .filter(|(_, name, ppid)| name == comm && *ppid == parent)
        .map(|(pid, ..)| pid)
        .collect()
}

/// Every live descendant of `pid`.
pub fn descendants(pid: u32) -> Vec<u32> {
    let all = processes();
    let mut found = vec![pid];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(all.iter().filter(|(_, _, ppid)| *ppid == parent).map(|(p, ..)| *p));
        i += 1;
    }
    found.split_off(1)
}
