//! The container images: `scripts/images.sh` (what `make images` runs) builds the controller's
//! and the node's from the binaries this test run built, and runs each: `--version`, a
//! non-root user, and in the node's the ffmpeg 9 it decodes with, ffprobe, rclone and FUSE's
//! fusermount3. Needs root (buildah) and buildah and debootstrap, which `make test`'s setup
//! installs; without root it fails unless VMAFX_ALLOW_SKIP names it.

mod common;

use std::process::Command;

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
    ] {
        assert!(log.contains(&line), "`{line}` not in:\n{log}");
    }
    assert!(log.contains("rclone v"), "{log}");
}
