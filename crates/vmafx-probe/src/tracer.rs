//! The kernel side loaded and attached (aya): a thin adapter between the BPF object built
//! from bpf/probe.bpf.c and the pure report.

use std::path::Path;

use aya::maps::{Array, HashMap, MapData};
use aya::programs::TracePoint;
use aya::Ebpf;

use crate::maps::{IoKey, IoStats, ThreadStats};
use crate::tracepoints::{check_format, TRACEPOINTS};
use crate::ProbeError;

static OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/probe.bpf.o"));

/// Attached programs; dropping it detaches them.
pub struct Tracer {
    bpf: Ebpf,
}

/// What the maps held when the run ended.
pub struct Collected {
    pub io: Vec<(IoKey, IoStats)>,
    pub threads: Vec<(u32, ThreadStats)>,
    pub lost_events: u64,
}

impl Tracer {
    /// Mounts tracefs if needed, checks this kernel's tracepoint layouts, loads the
    /// programs and attaches every one. Needs root (or CAP_BPF + CAP_PERFMON).
    pub fn start() -> Result<Tracer, ProbeError> {
        let events = tracefs_events()?;
        for tp in TRACEPOINTS {
            let path = events.join(tp.category).join(tp.name).join("format");
            let format = std::fs::read_to_string(&path).map_err(|e| {
                ProbeError::Kernel(format!(
                    "cannot read {}: {e} (this kernel lacks the tracepoint)",
                    path.display()
                ))
            })?;
            check_format(tp, &format).map_err(ProbeError::Kernel)?;
        }
        let mut bpf = Ebpf::load(OBJECT).map_err(|e| ProbeError::Load(e.to_string()))?;
        for tp in TRACEPOINTS {
            let program: &mut TracePoint = bpf
                .program_mut(tp.program)
                .ok_or_else(|| ProbeError::Load(format!("the BPF object has no program {}", tp.program)))?
                .try_into()
                .map_err(|e: aya::programs::ProgramError| ProbeError::Load(e.to_string()))?;
            program
                .load()
                .map_err(|e| ProbeError::Load(format!("{}: {}", tp.program, verifier_reason(&e))))?;
            program
                .attach(tp.category, tp.name)
                .map_err(|e| ProbeError::Load(format!("attaching to {}/{}: {e}", tp.category, tp.name)))?;
        }
        Ok(Tracer { bpf })
    }

    /// Traces `pid` (a process and its main thread) and, from now on, every process and
    /// thread it starts.
    pub fn track(&mut self, pid: u32) -> Result<(), ProbeError> {
        for map in ["tracked_tgids", "tracked_tids"] {
            self.set(map)?.insert(pid, 1u8, 0).map_err(|e| ProbeError::Load(format!("{map}: {e}")))?;
        }
        Ok(())
    }

    /// Stops tracing `pid` itself (what it already started stays traced).
    pub fn untrack(&mut self, pid: u32) -> Result<(), ProbeError> {
        for map in ["tracked_tgids", "tracked_tids"] {
            match self.set(map)?.remove(&pid) {
                Ok(()) | Err(aya::maps::MapError::KeyNotFound) => {}
                Err(e) => return Err(ProbeError::Load(format!("{map}: {e}"))),
            }
        }
        Ok(())
    }

    fn set(&mut self, name: &str) -> Result<HashMap<&mut MapData, u32, u8>, ProbeError> {
        let map = self.bpf.map_mut(name).ok_or_else(|| ProbeError::Load(format!("no map {name}")))?;
        HashMap::try_from(map).map_err(|e| ProbeError::Load(format!("{name}: {e}")))
    }

    pub fn collect(&self) -> Result<Collected, ProbeError> {
        let load = |e: aya::maps::MapError| ProbeError::Load(e.to_string());
        let io: HashMap<_, IoKey, IoStats> =
            HashMap::try_from(self.bpf.map("io").ok_or_else(|| ProbeError::Load("no map io".into()))?)
                .map_err(load)?;
        let threads: HashMap<_, u32, ThreadStats> = HashMap::try_from(
            self.bpf.map("threads").ok_or_else(|| ProbeError::Load("no map threads".into()))?,
        )
        .map_err(load)?;
        let lost: Array<_, u64> =
            Array::try_from(self.bpf.map("lost").ok_or_else(|| ProbeError::Load("no map lost".into()))?)
                .map_err(load)?;
        Ok(Collected {
            io: io.iter().collect::<Result<_, _>>().map_err(load)?,
            threads: threads.iter().collect::<Result<_, _>>().map_err(load)?,
            lost_events: lost.get(&0, 0).map_err(load)?,
        })
    }
}

/// The verifier's log is long; its last lines say why a program was refused.
fn verifier_reason(e: &aya::programs::ProgramError) -> String {
    let text = format!("{e:#}");
    if let aya::programs::ProgramError::LoadError { verifier_log, .. } = e {
        let log = verifier_log.to_string();
        let tail: Vec<&str> = log.lines().rev().take(4).collect();
        return format!("{text}: {}", tail.into_iter().rev().collect::<Vec<_>>().join(" | "));
    }
    text
}

/// The events directory of tracefs, mounting tracefs at /sys/kernel/tracing when no one has.
fn tracefs_events() -> Result<&'static Path, ProbeError> {
    for dir in ["/sys/kernel/tracing/events", "/sys/kernel/debug/tracing/events"] {
        if Path::new(dir).join("sched").is_dir() {
            return Ok(Path::new(dir));
        }
    }
    let target = c"/sys/kernel/tracing";
    // SAFETY: NUL-terminated constant strings; mount(2) reads them and keeps no pointer.
    let rc = unsafe {
        libc::mount(c"tracefs".as_ptr(), target.as_ptr(), c"tracefs".as_ptr(), 0, std::ptr::null())
    };
    if rc != 0 {
        let e = std::io::Error::last_os_error();
        return Err(ProbeError::Kernel(format!(
            "tracefs is not mounted and mounting it at /sys/kernel/tracing failed: {e} (run as root, or `mount -t tracefs tracefs /sys/kernel/tracing`)"
        )));
    }
    Ok(Path::new("/sys/kernel/tracing/events"))
}
