//! The container images: `scripts/images.sh` (what `make images` runs) builds the controller's
//! and the node's from the binaries this test run built, and runs each: `--version`, a
//! non-root user, and in the node's the ffmpeg 9 it decodes with, ffprobe, rclone and FUSE's
//! fusermount3. Then the two images run as a cluster (buildah run: the host's network, the
//! test's files mounted) and score a job exactly as `vmafx score` does on the host with
//! Debian's ffmpeg. Needs root (buildah) and buildah and debootstrap, which `make test`'s
//! setup installs; without root it fails unless VMAFX_ALLOW_SKIP names it.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::cluster::{ca_env, token, trust, url};
use serde_json::Value;

fn buildah() -> Command {
    let mut c = Command::new("buildah");
    c.args(["--storage-driver", "vfs"]);
    c
}

/// A working container of `image`, removed when dropped.
struct Container(String);

impl Container {
    fn of(image: &str) -> Self {
        let out = buildah().args(["from", "--quiet", image]).output().expect("run buildah");
        assert!(out.status.success(), "buildah from {image}: {}", String::from_utf8_lossy(&out.stderr));
        Self(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// `buildah run` of `args` in this container with the host's network and these mounts
    /// (`host:container[:ro]`) and environment; killing the returned command ends what it ran.
    fn run(&self, mounts: &[String], env: &[String], args: &[&str]) -> Command {
        let mut c = buildah();
        c.args(["run", "--isolation", "chroot"]);
        for m in mounts {
            c.args(["-v", m]);
        }
        for e in env {
            c.args(["--env", e]);
        }
        c.arg(&self.0).arg("--").args(args);
        c
    }
}

/// A `buildah run` started in its own process group, killed with the group when dropped
/// (buildah's chroot helper outlives buildah killed alone).
struct Running(std::process::Child);

impl Running {
    fn start(command: &mut Command) -> Self {
        Self(command.process_group(0).spawn().expect("buildah run"))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", self.0.id())]).status();
        let _ = self.0.wait();
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = buildah().args(["rm", &self.0]).output();
    }
}

#[test]
fn the_controller_and_node_images_build_and_run() {
    let root = Command::new("id").arg("-u").output().unwrap();
    if String::from_utf8_lossy(&root.stdout).trim() != "0" {
        assert!(
            common::skip_allowed("the_controller_and_node_images_build_and_run"),
            "building images with buildah needs root (or VMAFX_ALLOW_SKIP=the_controller_and_node_images_build_and_run)"
        );
        eprintln!("skipped: not root, and VMAFX_ALLOW_SKIP names this test");
        return;
    }
    let out = Command::new("bash")
        .arg(common::root().join("scripts/images.sh"))
        .args(["--smoke", "vmafx-controller", "vmafx-node"])
        .env("PROFILE", "debug")
        .output()
        .expect("run scripts/images.sh");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "scripts/images.sh failed:\n{log}");
    let v = env!("CARGO_PKG_VERSION");
    for line in [
        format!("localhost/vmafx-controller:{v}: vmafx-controller {v}, user 10001:10001"),
        format!("localhost/vmafx-node:{v}: vmafx-node {v}, user 10001:10001"),
        format!("localhost/vmafx-node:{v}: ffmpeg version n9."),
        format!("localhost/vmafx-node:{v}: vmafx-trainer {v}, ONNX Runtime library in place"),
    ] {
        assert!(log.contains(&line), "`{line}` not in:\n{log}");
    }
    assert!(log.contains("rclone v"), "{log}");

    a_cluster_of_the_two_images_scores_as_the_host_does(v);
}

/// The controller's image and the node's, run as containers, score a job; the node decodes
/// with its ffmpeg 9 (and probes with the image's ffprobe), the host's `vmafx score` with
/// Debian's ffmpeg: every frame's scores are equal.
fn a_cluster_of_the_two_images_scores_as_the_host_does(version: &str) {
    let dir = tempfile::tempdir().unwrap();
    // The containers run as uid 10001: it reads the clips and owns the controller's data.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let source = common::lavfi(dir.path(), "src.y4m", "testsrc2=size=320x240:rate=24", 30, "yuv420p");
    let reference = common::encode(&source, dir.path(), "ref.mp4", &["-c:v", "libx264", "-crf", "12"]);
    let distorted = common::encode(&source, dir.path(), "dist.mkv", &["-c:v", "libx264", "-crf", "36"]);
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::os::unix::fs::chown(&data, Some(10001), Some(10001)).unwrap();
    let clips = format!("{0}:{0}:ro", dir.path().display());

    let controller = Container::of(&format!("localhost/vmafx-controller:{version}"));
    let mut controller_proc = Running::start(
        controller
            .run(
                &[clips.clone(), format!("{}:/data", data.display())],
                &[],
                &[
                    "vmafx-controller",
                    "--listen",
                    "127.0.0.1:0",
                    "--http-listen",
                    "127.0.0.1:0",
                    "--data-dir",
                    "/data",
                ],
            )
            .arg("--allow-root")
            .arg(dir.path())
            .stdout(Stdio::piped()),
    );
    let addr = common::line_after(
        controller_proc.0.stdout.take().unwrap(),
        "vmafx-controller: gRPC listening on ",
        "the controller's container",
    );
    let ca = data.join("tls/ca.pem");
    trust(&addr, Some(ca.clone()));

    let node = Container::of(&format!("localhost/vmafx-node:{version}"));
    let node_proc = Running::start(
        node.run(
            &[
                clips,
                format!("{}:/etc/vmafx/ca.pem:ro", ca.display()),
                format!("{}:/var/lib/vmafx/models:ro", common::root().join("models").display()),
            ],
            &[format!("VMAFX_TOKEN={}", token(&data, "node.token"))],
            &[
                "vmafx-node",
                "--controller",
                &url(&addr),
                "--ca",
                "/etc/vmafx/ca.pem",
                "--name",
                "in-image",
                "--registry",
                "/var/lib/vmafx/models",
            ],
        )
        .arg("--allow-root")
        .arg(dir.path())
        .stdout(Stdio::null()),
    );
    let cli = |args: &[&str]| {
        common::run_with_timeout(
            Command::new(common::bin("vmafx"))
                .args(args)
                .env("VMAFX_CONTROLLER", url(&addr))
                .env("VMAFX_CA", ca_env(&addr))
                .env("VMAFX_TOKEN", token(&data, "admin.token")),
            Duration::from_secs(180),
        )
    };
    let (rs, ds) = (reference.to_str().unwrap(), distorted.to_str().unwrap());
    let out = cli(&["submit", "-q", "--wait", "--format", "json", "--segment-frames", "12", rs, ds]);
    assert!(out.status.success(), "a job on the images' cluster: {}", String::from_utf8_lossy(&out.stderr));
    let remote: Value = serde_json::from_slice(&out.stdout).unwrap();
    let local = common::vmafx_json(&reference, &distorted, &[]);
    assert_eq!(remote["frames"].as_array().map(Vec::len), Some(30));
    assert_eq!(
        remote["frames"], local["frames"],
        "per-frame scores: node image (ffmpeg 9) vs host (Debian's)"
    );
    assert_eq!(remote["pooled_metrics"], local["pooled_metrics"]);

    let out = cli(&["nodes", "--json"]);
    let nodes: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ffmpeg = &nodes["nodes"][0]["capabilities"]["ffmpeg_version"];
    assert!(ffmpeg.as_str().is_some_and(|v| v.starts_with("n9.")), "the node reports its ffmpeg 9: {nodes}");
    // The image's ONNX Runtime runs the shipped no-reference model as the host's does.
    assert_eq!(nodes["nodes"][0]["capabilities"]["onnx_providers"], serde_json::json!(["CPU"]), "{nodes}");
    let out = cli(&["submit", "-q", "--wait", "--format", "json", "--nr", ds, "--estimate", "nr-luma"]);
    assert!(
        out.status.success(),
        "a no-reference job in the image: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let remote: Value = serde_json::from_slice(&out.stdout).unwrap();
    let local = common::vmafx_nr_json(Path::new(ds), &common::root().join("models"), "nr-luma");
    assert_eq!(remote["frames"], local["frames"], "the nr estimate: node image vs host");
    drop(node_proc);
    drop(controller_proc);
}
