//! Generates the gRPC code from `proto/vmafx/v1/*.proto` with protox (pure Rust, no protoc).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = ["vmafx/v1/common.proto", "vmafx/v1/jobs.proto", "vmafx/v1/nodes.proto"];
    for f in files {
        println!("cargo:rerun-if-changed={}", root.join(f).display());
    }
    let fds = protox::compile(files, [&root])?;
    tonic_prost_build::configure().compile_fds(fds)?;
    Ok(())
}
