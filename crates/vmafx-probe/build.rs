//! Compiles the kernel side (bpf/probe.bpf.c) with clang for the BPF target; the loader
//! embeds the object. `make setup-test` installs clang and libbpf-dev (bpf_helpers.h).
use std::path::PathBuf;
use std::process::Command;

fn main() {
    let src = "bpf/probe.bpf.c";
    println!("cargo:rerun-if-changed={src}");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("probe.bpf.o");
    let clang = std::env::var("CLANG").unwrap_or_else(|_| "clang".into());
    println!("cargo:rerun-if-env-changed=CLANG");
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let multiarch = match arch.as_str() {
        "x86_64" => "x86_64-linux-gnu",
        "aarch64" => "aarch64-linux-gnu",
        other => other,
    };
    let status = Command::new(&clang)
        .args(["-O2", "-g", "-Wall", "-Werror", "-target", "bpf"])
        .arg(format!("-I/usr/include/{multiarch}"))
        .args(["-c", src, "-o"])
        .arg(&out)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => {
            panic!("{clang} could not compile {src} ({s}); install clang and libbpf-dev (make setup-test)")
        }
        Err(e) => {
            panic!("cannot run {clang} to compile {src}: {e}; install clang and libbpf-dev (make setup-test)")
        }
    }
}
