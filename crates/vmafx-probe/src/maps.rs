//! The BPF maps' keys and values as the kernel side (bpf/probe.bpf.c) lays them out.

/// Buckets of the log2 histograms (bucket `b` holds values in `[2^b, 2^(b+1))`, bucket 0 also 0).
pub const HIST_BUCKETS: usize = 32;

/// What a read/write statistic counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Read,
    Write,
}

/// One thread's calls on one file descriptor, one direction.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct IoKey {
    pub tid: u32,
    pub fd: u32,
    pub op: u32,
    pub pad: u32,
}

impl IoKey {
    pub fn op(&self) -> Op {
        if self.op == 0 {
            Op::Read
        } else {
            Op::Write
        }
    }
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct IoStats {
    pub calls: u64,
    pub bytes: u64,
    pub ns: u64,
    /// log2 of the bytes each call returned.
    pub size_hist: [u64; HIST_BUCKETS],
}

impl Default for IoStats {
    fn default() -> Self {
        IoStats { calls: 0, bytes: 0, ns: 0, size_hist: [0; HIST_BUCKETS] }
    }
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ThreadStats {
    pub tgid: u32,
    pub pad: u32,
    pub comm: [u8; 16],
    pub oncpu_ns: u64,
    pub runq_ns: u64,
    pub runq_count: u64,
    pub cache_pages: u64,
    pub fuse_reads: u64,
    pub fuse_bytes: u64,
    pub fuse_ns: u64,
    /// log2 of the microseconds each wait in the run queue took.
    pub runq_hist: [u64; HIST_BUCKETS],
    /// log2 of the microseconds each FUSE read took.
    pub fuse_hist: [u64; HIST_BUCKETS],
}

impl Default for ThreadStats {
    fn default() -> Self {
        ThreadStats {
            tgid: 0,
            pad: 0,
            comm: [0; 16],
            oncpu_ns: 0,
            runq_ns: 0,
            runq_count: 0,
            cache_pages: 0,
            fuse_reads: 0,
            fuse_bytes: 0,
            fuse_ns: 0,
            runq_hist: [0; HIST_BUCKETS],
            fuse_hist: [0; HIST_BUCKETS],
        }
    }
}

impl ThreadStats {
    /// The thread's name as the kernel had it last (at most 15 bytes).
    pub fn comm(&self) -> String {
        let end = self.comm.iter().position(|&b| b == 0).unwrap_or(self.comm.len());
        String::from_utf8_lossy(&self.comm[..end]).into_owned()
    }
}

// SAFETY: plain #[repr(C)] integers and arrays with no padding the kernel could leave
// uninitialised (explicit `pad` fields), valid for every bit pattern.
unsafe impl aya::Pod for IoKey {}
unsafe impl aya::Pod for IoStats {}
unsafe impl aya::Pod for ThreadStats {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_match_the_kernel_side() {
        // bpf/probe.bpf.c: io_key 16 bytes, io_stats 3×8 + 32×8, thread_stats 8+16+7×8+2×32×8.
        assert_eq!(std::mem::size_of::<IoKey>(), 16);
        assert_eq!(std::mem::size_of::<IoStats>(), 24 + 256);
        assert_eq!(std::mem::size_of::<ThreadStats>(), 24 + 56 + 512);
    }

    #[test]
    fn comm_stops_at_the_first_nul() {
        let mut t = ThreadStats::default();
        t.comm[..6].copy_from_slice(b"ffmpeg");
        assert_eq!(t.comm(), "ffmpeg");
        t.comm = *b"decode-referenc\0";
        assert_eq!(t.comm(), "decode-referenc");
    }
}
