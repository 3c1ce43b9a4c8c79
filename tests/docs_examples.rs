//! The examples of README.md and docs/*.md, run as a newcomer would type them, so that they
//! cannot drift from what the binaries do.
//!
//! Checked: fenced blocks marked `sh` (every line) and `console` (the `$ ` lines, with their
//! `\` continuations). Other blocks (`json`, plain) show output and are not run. A block that
//! cannot run here starts with a visible `# not run: REASON` line; an unmarked block that
//! fails fails this test. Blocks run with `bash -euo pipefail` in one scratch directory that
//! holds the files the docs name (`reference.y4m`, `encoded.mp4`, raw `.yuv` files, and
//! `target/` pointing at this checkout's, for the corpus), with the built binaries first on
//! `PATH` and no `VMAFX_*` variables set; what a block starts in the background (`vmafx up &`)
//! is stopped when it ends.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one block may run.
const BLOCK_LIMIT: Duration = Duration::from_secs(300);

/// A fenced block of a Markdown file.
#[derive(Debug)]
struct Block {
    place: String,
    lang: String,
    lines: Vec<String>,
}

/// What to do with a block.
#[derive(Debug, PartialEq)]
enum Plan {
    /// Output or configuration, not commands.
    Skip,
    /// Marked `# not run: REASON`.
    NotRun(String),
    Run(String),
}

fn blocks(name: &str, text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    for (i, line) in text.lines().enumerate() {
        match (&mut open, line.trim_start().strip_prefix("```")) {
            (None, Some(lang)) => {
                open = Some(Block {
                    place: format!("{name}:{}", i + 1),
                    lang: lang.trim().into(),
                    lines: vec![],
                })
            }
            (Some(_), Some(_)) => out.push(open.take().unwrap()),
            (Some(b), None) => b.lines.push(line.to_string()),
            (None, None) => {}
        }
    }
    out
}

fn plan(b: &Block) -> Plan {
    if !matches!(b.lang.as_str(), "sh" | "bash" | "console") {
        return Plan::Skip;
    }
    if let Some(reason) = b.lines.first().and_then(|l| l.trim().strip_prefix("# not run:")) {
        assert!(!reason.trim().is_empty(), "{}: `# not run:` needs a reason", b.place);
        return Plan::NotRun(reason.trim().into());
    }
    if b.lang != "console" {
        return Plan::Run(b.lines.join("\n"));
    }
    // A transcript: the commands are the `$ ` lines and their continuations.
    let mut script = Vec::new();
    let mut continued = false;
    for line in &b.lines {
        if let Some(cmd) = line.strip_prefix("$ ") {
            script.push(cmd.to_string());
        } else if continued {
            script.push(line.clone());
        } else {
            continue;
        }
        continued = line.trim_end().ends_with('\\');
    }
    Plan::Run(script.join("\n"))
}

/// Runs `script` in `dir`; the error says how it failed.
fn run(script: &str, dir: &Path) -> Result<(), String> {
    let file = dir.join(".example.sh");
    std::fs::write(&file, format!("set -euo pipefail\n{script}\n")).unwrap();
    let bin_dir = common::bin("vmafx").parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let mut cmd = Command::new("setsid");
    cmd.arg("bash").arg(&file).current_dir(dir).env("PATH", path).env("HOME", dir);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("VMAFX_")) {
        cmd.env_remove(k);
    }
    // The scratch directory links `target` to the repository's; in a checkout it is inside the
    // working directory that `vmafx up` allows, here it is reached through that link, which
    // the input policy (rightly) does not follow out. Allow both, as a checkout would.
    let target = common::root().join("target").canonicalize().unwrap();
    cmd.env("VMAFX_ALLOW_ROOTS", format!("{},{}", dir.canonicalize().unwrap().display(), target.display()));
    let log = dir.join(".example.log");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::options().append(true).open(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + BLOCK_LIMIT;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    // Stop what the block left running (`vmafx up &`): politely, then not; and wait until
    // every process of the block is gone, so that the next block finds the ports and the
    // data directory's lock free.
    let group = format!("-{}", child.id());
    let signal = |sig: &str| {
        Command::new("kill")
            .args([sig, "--", &group])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let mut gone_within = |limit: Duration| {
        let deadline = Instant::now() + limit;
        loop {
            // Reap the block's shell once it exits: a zombie still counts as in the group.
            let _ = child.try_wait();
            if !signal("-0") {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    signal("-TERM");
    if !gone_within(Duration::from_secs(5)) {
        signal("-KILL");
        assert!(gone_within(Duration::from_secs(10)), "the processes of a block outlived SIGKILL");
    }
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    let tail: Vec<&str> = output.lines().rev().take(15).collect::<Vec<_>>().into_iter().rev().collect();
    match status {
        Some(s) if s.success() => Ok(()),
        Some(s) => Err(format!("exited {s}:\n{}", tail.join("\n"))),
        None => Err(format!("still running after {BLOCK_LIMIT:?}:\n{}", tail.join("\n"))),
    }
}

/// The files the examples name, made here.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let lavfi = |name: &str, size: &str, frames: u32, pix_fmt: &str| {
        common::lavfi(d, name, &format!("testsrc2=size={size}:rate=24"), frames, pix_fmt)
    };
    let reference = lavfi("reference.y4m", "1280x720", 48, "yuv420p");
    common::encode(&reference, d, "encoded.mp4", &["-c:v", "libx264", "-crf", "30"]);
    lavfi("ref.y4m", "1920x1080", 3, "yuv420p");
    for (name, size, pix_fmt) in [
        ("ref.yuv", "1920x1080", "yuv420p"),
        ("dist.yuv", "1920x1080", "yuv420p"),
        ("enc.yuv", "1920x1080", "yuv420p"),
        ("master.yuv", "3840x2160", "yuv420p10le"),
    ] {
        common::ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            &format!("testsrc2=size={size}:rate=25"),
            "-frames:v",
            "3",
            "-pix_fmt",
            pix_fmt,
            "-f",
            "rawvideo",
            "-y",
            d.join(name).to_str().unwrap(),
        ]);
    }
    std::os::unix::fs::symlink(common::root().join("target"), d.join("target")).unwrap();
    // The pair `make run` makes, which the README's tour scores.
    let made = Command::new("bash").arg(common::root().join("scripts/sample.sh")).status().unwrap();
    assert!(made.success(), "scripts/sample.sh");
    dir
}

fn documents() -> Vec<PathBuf> {
    let root = common::root();
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    docs.insert(0, root.join("README.md"));
    docs
}

#[test]
fn the_checker_runs_commands_honours_markers_and_catches_a_failing_example() {
    let text = "```sh\ntrue\n```\n```json\n{}\n```\n```sh\n# not run: needs a GPU\nnvidia-smi\n```\n\
                ```console\n$ echo one \\\n    two\none two\n$ false\n```\n";
    let found = blocks("x.md", text);
    let plans: Vec<Plan> = found.iter().map(plan).collect();
    assert_eq!(
        plans,
        [
            Plan::Run("true".into()),
            Plan::Skip,
            Plan::NotRun("needs a GPU".into()),
            Plan::Run("echo one \\\n    two\nfalse".into())
        ]
    );
    assert_eq!(found[3].place, "x.md:11");
    let dir = tempfile::tempdir().unwrap();
    assert!(run("true", dir.path()).is_ok());
    let err = run("echo said this; false", dir.path()).unwrap_err();
    assert!(err.contains("said this"), "{err}");
    // What a block leaves running in the background is gone when it returns.
    run("sleep 1000 & echo $! > left.pid", dir.path()).unwrap();
    let pid = std::fs::read_to_string(dir.path().join("left.pid")).unwrap();
    let alive = Command::new("kill").args(["-0", pid.trim()]).stderr(Stdio::null()).status().unwrap();
    assert!(!alive.success(), "the background process {} outlived its block", pid.trim());
}

#[test]
fn every_example_in_the_docs_runs_or_says_why_not() {
    common::corpus();
    let dir = scratch();
    let (mut ran, mut marked, mut failures) = (0, 0, Vec::new());
    for doc in documents() {
        let name = doc.strip_prefix(common::root()).unwrap().display().to_string();
        let text = std::fs::read_to_string(&doc).unwrap();
        for block in blocks(&name, &text) {
            match plan(&block) {
                Plan::Skip => {}
                Plan::NotRun(_) => marked += 1,
                Plan::Run(script) => {
                    ran += 1;
                    let started = Instant::now();
                    let result = run(&script, dir.path());
                    eprintln!(
                        "{}: {:?} in {:.1} s",
                        block.place,
                        result.is_ok(),
                        started.elapsed().as_secs_f64()
                    );
                    if let Err(e) = result {
                        failures.push(format!("{}:\n{script}\n--- {e}", block.place));
                    }
                }
            }
        }
    }
    eprintln!("{ran} examples run, {marked} marked not run");
    assert!(ran >= 8, "only {ran} examples ran: the checker is not finding them");
    assert!(failures.is_empty(), "examples that do not run as written:\n\n{}", failures.join("\n\n"));
}
