//! What the maps say, made readable: per process and per thread CPU time, run-queue waits,
//! read/write calls per file descriptor (and per frame when the frame count is known),
//! page-cache misses and FUSE reads. Pure: built from the maps' contents, so tests drive
//! it without a kernel.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::maps::{IoKey, IoStats, Op, ThreadStats, HIST_BUCKETS};

/// Everything one traced run measured.
#[derive(Debug, Serialize)]
pub struct Report {
    pub command: Vec<String>,
    /// The command's exit status (absent when a signal ended it).
    pub exit_code: Option<i32>,
    pub wall_seconds: f64,
    /// Frames the run scored, when given (`--frames`): turns counts into per-frame figures.
    pub frames: Option<u64>,
    /// Events the kernel side could not record (a full map): the figures undercount if > 0.
    pub lost_events: u64,
    pub processes: Vec<ProcessReport>,
    pub threads: Vec<ThreadReport>,
}

#[derive(Debug, Serialize)]
pub struct ProcessReport {
    pub pid: u32,
    pub name: String,
    pub threads: usize,
    pub cpu_ms: f64,
    pub runq_wait_ms: f64,
    pub reads: IoTotals,
    pub writes: IoTotals,
    pub cache_miss_pages: u64,
    pub fuse_reads: u64,
}

#[derive(Debug, Default, Serialize)]
pub struct IoTotals {
    pub calls: u64,
    pub bytes: u64,
    pub ms_in_calls: f64,
}

#[derive(Debug, Serialize)]
pub struct ThreadReport {
    pub tid: u32,
    pub pid: u32,
    pub name: String,
    pub cpu_ms: f64,
    pub runq: Latency,
    pub cache_miss_pages: u64,
    pub fuse: Option<FuseReads>,
    pub io: Vec<FdIo>,
}

/// Waits in the run queue: from being woken (or preempted) to running again.
#[derive(Debug, Serialize)]
pub struct Latency {
    pub waits: u64,
    pub total_ms: f64,
    /// Upper bounds of the log2 buckets holding the median and the 99th percentile.
    pub p50_us_at_most: u64,
    pub p99_us_at_most: u64,
}

#[derive(Debug, Serialize)]
pub struct FuseReads {
    pub reads: u64,
    pub bytes: u64,
    pub total_ms: f64,
    pub p50_us_at_most: u64,
    pub p99_us_at_most: u64,
}

/// One thread's calls on one descriptor in one direction.
#[derive(Debug, Serialize)]
pub struct FdIo {
    pub fd: u32,
    pub op: Op,
    pub calls: u64,
    pub bytes: u64,
    pub mean_bytes: u64,
    pub ms_in_calls: f64,
    pub calls_per_frame: Option<f64>,
    pub bytes_per_frame: Option<f64>,
}

/// The inputs [`Report::build`] needs besides the maps.
pub struct RunFacts {
    pub command: Vec<String>,
    pub exit_code: Option<i32>,
    pub wall_seconds: f64,
    pub frames: Option<u64>,
    pub lost_events: u64,
    /// The probe's own process: traced only while it starts the command, then left out.
    pub own_pid: u32,
}

/// Upper bound of the log2 bucket that holds quantile `q` (0..=1); 0 for an empty histogram.
pub fn quantile_upper_bound(hist: &[u64; HIST_BUCKETS], q: f64) -> u64 {
    let total: u64 = hist.iter().sum();
    if total == 0 {
        return 0;
    }
    let rank = ((q * total as f64).ceil() as u64).max(1);
    let mut seen = 0;
    for (b, &n) in hist.iter().enumerate() {
        seen += n;
        if seen >= rank {
            return 1u64 << (b + 1);
        }
    }
    1u64 << HIST_BUCKETS
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

impl Report {
    pub fn build(facts: RunFacts, io: Vec<(IoKey, IoStats)>, threads: Vec<(u32, ThreadStats)>) -> Report {
        let per_frame = |v: u64| facts.frames.filter(|&f| f > 0).map(|f| v as f64 / f as f64);
        let mut by_tid: BTreeMap<u32, Vec<FdIo>> = BTreeMap::new();
        for (key, s) in io {
            by_tid.entry(key.tid).or_default().push(FdIo {
                fd: key.fd,
                op: key.op(),
                calls: s.calls,
                bytes: s.bytes,
                mean_bytes: s.bytes.checked_div(s.calls).unwrap_or(0),
                ms_in_calls: ms(s.ns),
                calls_per_frame: per_frame(s.calls),
                bytes_per_frame: per_frame(s.bytes),
            });
        }
        let mut reports: Vec<ThreadReport> = threads
            .into_iter()
            .filter(|(_, t)| t.tgid != facts.own_pid && t.tgid != 0)
            .map(|(tid, t)| {
                let mut io = by_tid.remove(&tid).unwrap_or_default();
                io.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.fd.cmp(&b.fd)));
                ThreadReport {
                    tid,
                    pid: t.tgid,
                    name: t.comm(),
                    cpu_ms: ms(t.oncpu_ns),
                    runq: Latency {
                        waits: t.runq_count,
                        total_ms: ms(t.runq_ns),
                        p50_us_at_most: quantile_upper_bound(&t.runq_hist, 0.5),
                        p99_us_at_most: quantile_upper_bound(&t.runq_hist, 0.99),
                    },
                    cache_miss_pages: t.cache_pages,
                    fuse: (t.fuse_reads > 0).then(|| FuseReads {
                        reads: t.fuse_reads,
                        bytes: t.fuse_bytes,
                        total_ms: ms(t.fuse_ns),
                        p50_us_at_most: quantile_upper_bound(&t.fuse_hist, 0.5),
                        p99_us_at_most: quantile_upper_bound(&t.fuse_hist, 0.99),
                    }),
                    io,
                }
            })
            .collect();
        reports.sort_by(|a, b| a.pid.cmp(&b.pid).then(b.cpu_ms.total_cmp(&a.cpu_ms)).then(a.tid.cmp(&b.tid)));

        let mut processes: BTreeMap<u32, ProcessReport> = BTreeMap::new();
        for t in &reports {
            let p = processes.entry(t.pid).or_insert_with(|| ProcessReport {
                pid: t.pid,
                name: String::new(),
                threads: 0,
                cpu_ms: 0.0,
                runq_wait_ms: 0.0,
                reads: IoTotals::default(),
                writes: IoTotals::default(),
                cache_miss_pages: 0,
                fuse_reads: 0,
            });
            if t.tid == t.pid || p.name.is_empty() {
                p.name = t.name.clone();
            }
            p.threads += 1;
            p.cpu_ms += t.cpu_ms;
            p.runq_wait_ms += t.runq.total_ms;
            p.cache_miss_pages += t.cache_miss_pages;
            p.fuse_reads += t.fuse.as_ref().map_or(0, |f| f.reads);
            for io in &t.io {
                let totals = match io.op {
                    Op::Read => &mut p.reads,
                    Op::Write => &mut p.writes,
                };
                totals.calls += io.calls;
                totals.bytes += io.bytes;
                totals.ms_in_calls += io.ms_in_calls;
            }
        }
        Report {
            command: facts.command,
            exit_code: facts.exit_code,
            wall_seconds: facts.wall_seconds,
            frames: facts.frames,
            lost_events: facts.lost_events,
            processes: processes.into_values().collect(),
            threads: reports,
        }
    }

    /// The report for a person: processes, then each thread with its descriptors.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let status = self.exit_code.map_or("was killed by a signal".to_string(), |c| format!("exited {c}"));
        let _ =
            writeln!(s, "vmafx-probe: {} {status} after {:.2} s", self.command.join(" "), self.wall_seconds);
        if let Some(f) = self.frames {
            let _ = writeln!(s, "per-frame figures are over {f} frames");
        }
        if self.lost_events > 0 {
            let _ = writeln!(
                s,
                "warning: {} events were not recorded (a BPF map was full): figures undercount",
                self.lost_events
            );
        }
        let _ = writeln!(
            s,
            "\n{:<16} {:>7} {:>4} {:>9} {:>9} {:>9} {:>11} {:>9} {:>11} {:>9}",
            "process",
            "pid",
            "thr",
            "cpu ms",
            "runq ms",
            "reads",
            "read MiB",
            "writes",
            "write MiB",
            "pc miss"
        );
        for p in &self.processes {
            let _ = writeln!(
                s,
                "{:<16} {:>7} {:>4} {:>9.1} {:>9.1} {:>9} {:>11.1} {:>9} {:>11.1} {:>9}",
                p.name,
                p.pid,
                p.threads,
                p.cpu_ms,
                p.runq_wait_ms,
                p.reads.calls,
                p.reads.bytes as f64 / 1048576.0,
                p.writes.calls,
                p.writes.bytes as f64 / 1048576.0,
                p.cache_miss_pages
            );
        }
        let _ = writeln!(
            s,
            "\n{:<16} {:>7} {:>7} {:>9} {:>7} {:>9} {:>8} {:>8} {:>9}",
            "thread", "pid", "tid", "cpu ms", "waits", "runq ms", "p50 µs≤", "p99 µs≤", "pc miss"
        );
        for t in &self.threads {
            let _ = writeln!(
                s,
                "{:<16} {:>7} {:>7} {:>9.1} {:>7} {:>9.1} {:>8} {:>8} {:>9}",
                t.name,
                t.pid,
                t.tid,
                t.cpu_ms,
                t.runq.waits,
                t.runq.total_ms,
                t.runq.p50_us_at_most,
                t.runq.p99_us_at_most,
                t.cache_miss_pages
            );
            for io in t.io.iter().filter(|io| io.bytes > 0 || io.calls > 1) {
                let frame = match (io.calls_per_frame, io.bytes_per_frame) {
                    (Some(c), Some(b)) => format!("; per frame {c:.1} calls, {:.0} KiB", b / 1024.0),
                    _ => String::new(),
                };
                let op = match io.op {
                    Op::Read => "read",
                    Op::Write => "write",
                };
                let _ = writeln!(
                    s,
                    "    fd {:<3} {op:<5} {} calls, {:.1} MiB (mean {} B), {:.1} ms in calls{frame}",
                    io.fd,
                    io.calls,
                    io.bytes as f64 / 1048576.0,
                    io.mean_bytes,
                    io.ms_in_calls
                );
            }
            if let Some(f) = &t.fuse {
                let _ = writeln!(
                    s,
                    "    FUSE reads {} ({:.1} MiB), {:.1} ms waiting, p50 ≤ {} µs, p99 ≤ {} µs",
                    f.reads,
                    f.bytes as f64 / 1048576.0,
                    f.total_ms,
                    f.p50_us_at_most,
                    f.p99_us_at_most
                );
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread(tgid: u32, name: &str, oncpu_ms: u64) -> ThreadStats {
        let mut t = ThreadStats { tgid, oncpu_ns: oncpu_ms * 1_000_000, ..Default::default() };
        t.comm[..name.len()].copy_from_slice(name.as_bytes());
        t
    }

    fn facts(frames: Option<u64>) -> RunFacts {
        RunFacts {
            command: vec!["vmafx".into(), "score".into()],
            exit_code: Some(0),
            wall_seconds: 1.5,
            frames,
            lost_events: 0,
            own_pid: 1,
        }
    }

    #[test]
    fn quantiles_are_bucket_upper_bounds() {
        let mut h = [0u64; HIST_BUCKETS];
        assert_eq!(quantile_upper_bound(&h, 0.5), 0);
        h[0] = 50; // < 2 µs
        h[3] = 49; // 8..16 µs
        h[10] = 1; // 1024..2048 µs
        assert_eq!(quantile_upper_bound(&h, 0.5), 2);
        assert_eq!(quantile_upper_bound(&h, 0.51), 16);
        assert_eq!(quantile_upper_bound(&h, 0.99), 16);
        assert_eq!(quantile_upper_bound(&h, 1.0), 2048);
    }

    #[test]
    fn threads_group_into_processes_and_the_probe_is_left_out() {
        let io = vec![
            (
                IoKey { tid: 20, fd: 1, op: 1, pad: 0 },
                IoStats { calls: 100, bytes: 3_110_400 * 10, ns: 5_000_000, ..Default::default() },
            ),
            (
                IoKey { tid: 11, fd: 5, op: 0, pad: 0 },
                IoStats { calls: 40, bytes: 3_110_400 * 10, ns: 2_000_000, ..Default::default() },
            ),
        ];
        let threads = vec![
            (1, thread(1, "vmafx-probe", 3)),
            (10, thread(10, "vmafx", 900)),
            (11, thread(10, "decode-distorte", 40)),
            (20, thread(20, "ffmpeg", 300)),
        ];
        let r = Report::build(facts(Some(10)), io, threads);
        assert_eq!(
            r.processes.iter().map(|p| (p.pid, p.name.as_str(), p.threads)).collect::<Vec<_>>(),
            [(10, "vmafx", 2), (20, "ffmpeg", 1)]
        );
        assert_eq!(r.processes[0].reads.calls, 40);
        assert_eq!(r.processes[1].writes.bytes, 31_104_000);
        let ff = r.threads.iter().find(|t| t.tid == 20).unwrap();
        assert_eq!(ff.io[0].calls_per_frame, Some(10.0));
        assert_eq!(ff.io[0].mean_bytes, 311_040);
        // Threads of a process, busiest first.
        assert_eq!(r.threads.iter().map(|t| t.tid).collect::<Vec<_>>(), [10, 11, 20]);
        let text = r.render();
        assert!(text.contains("fd 1   write 100 calls, 29.7 MiB"), "{text}");
        assert!(text.contains("per frame 10.0 calls, 3038 KiB"), "{text}");
        assert!(!text.contains("vmafx-probe "), "{text}");
    }

    #[test]
    fn without_frames_there_are_no_per_frame_figures() {
        let io = vec![(
            IoKey { tid: 20, fd: 1, op: 1, pad: 0 },
            IoStats { calls: 1, bytes: 10, ..Default::default() },
        )];
        let r = Report::build(facts(None), io, vec![(20, thread(20, "ffmpeg", 1))]);
        assert_eq!(r.threads[0].io[0].calls_per_frame, None);
        assert!(!r.render().contains("per frame"));
    }
}
