//! vmafx-probe: an eBPF look at what a scoring run does with the kernel.
//!
//! `vmafx-probe -- vmafx score REF DIST` runs the command and traces it and every process
//! it starts (ffmpeg decoders, ffprobe, rclone's clients): read/write syscalls per thread and
//! file descriptor, run-queue latency and CPU time per thread, page-cache misses, FUSE read
//! latency. The kernel side is bpf/probe.bpf.c (tracepoints only); [`tracer`] loads it,
//! [`report`] turns the maps into figures. docs/research/ebpf.md is what it found.

pub mod maps;
pub mod report;
pub mod tracepoints;
pub mod tracer;

/// Why the probe could not trace (not the traced command's failure).
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The kernel lacks something the probe needs (tracefs, a tracepoint, its layout).
    #[error("{0}")]
    Kernel(String),
    /// Loading or attaching the BPF programs failed (permissions, verifier).
    #[error("loading the BPF programs: {0} (vmafx-probe needs root, or CAP_BPF and CAP_PERFMON)")]
    Load(String),
    #[error("cannot start {command}: {source}")]
    Spawn {
        command: String,
        #[source]
        source: std::io::Error,
    },
}
