//! The tracepoints the probe attaches to, and a check that this kernel lays their records
//! out as bpf/probe.bpf.c reads them. Tracepoint formats are not a stable ABI: a kernel
//! that moved a field is refused with the field named, never measured wrongly.

/// A tracepoint, the program attached to it, and the fields (name, offset, size) the
/// program reads.
pub struct Tracepoint {
    pub category: &'static str,
    pub name: &'static str,
    pub program: &'static str,
    pub fields: &'static [(&'static str, usize, usize)],
}

const RW_ENTER: &[(&str, usize, usize)] = &[("fd", 16, 8), ("count", 32, 8)];
const RW_EXIT: &[(&str, usize, usize)] = &[("ret", 16, 8)];

pub const TRACEPOINTS: &[Tracepoint] = &[
    Tracepoint {
        category: "sched",
        name: "sched_process_fork",
        program: "on_fork",
        fields: &[("child_pid", 20, 4)],
    },
    Tracepoint { category: "syscalls", name: "sys_enter_read", program: "on_read_enter", fields: RW_ENTER },
    Tracepoint { category: "syscalls", name: "sys_exit_read", program: "on_read_exit", fields: RW_EXIT },
    Tracepoint {
        category: "syscalls",
        name: "sys_enter_pread64",
        program: "on_pread_enter",
        fields: RW_ENTER,
    },
    Tracepoint { category: "syscalls", name: "sys_exit_pread64", program: "on_pread_exit", fields: RW_EXIT },
    Tracepoint { category: "syscalls", name: "sys_enter_write", program: "on_write_enter", fields: RW_ENTER },
    Tracepoint { category: "syscalls", name: "sys_exit_write", program: "on_write_exit", fields: RW_EXIT },
    Tracepoint {
        category: "syscalls",
        name: "sys_enter_pwrite64",
        program: "on_pwrite_enter",
        fields: RW_ENTER,
    },
    Tracepoint {
        category: "syscalls",
        name: "sys_exit_pwrite64",
        program: "on_pwrite_exit",
        fields: RW_EXIT,
    },
    Tracepoint { category: "sched", name: "sched_wakeup", program: "on_wakeup", fields: &[("pid", 24, 4)] },
    Tracepoint {
        category: "sched",
        name: "sched_wakeup_new",
        program: "on_wakeup_new",
        fields: &[("pid", 24, 4)],
    },
    Tracepoint {
        category: "sched",
        name: "sched_switch",
        program: "on_switch",
        fields: &[("prev_pid", 24, 4), ("prev_state", 32, 8), ("next_pid", 56, 4)],
    },
    Tracepoint {
        category: "filemap",
        name: "mm_filemap_add_to_page_cache",
        program: "on_page_cache_add",
        fields: &[("order", 36, 1)],
    },
    Tracepoint {
        category: "fuse",
        name: "fuse_request_send",
        program: "on_fuse_send",
        fields: &[("unique", 16, 8), ("opcode", 24, 4), ("len", 28, 4)],
    },
    Tracepoint {
        category: "fuse",
        name: "fuse_request_end",
        program: "on_fuse_end",
        fields: &[("unique", 16, 8), ("len", 24, 4), ("error", 28, 4)],
    },
];

/// Checks a tracepoint's `format` file (as in /sys/kernel/tracing/events/CAT/NAME/format)
/// against the offsets and sizes the program reads.
pub fn check_format(tp: &Tracepoint, format: &str) -> Result<(), String> {
    for &(field, offset, size) in tp.fields {
        let line = format
            .lines()
            .find(|l| field_name(l) == Some(field))
            .ok_or_else(|| format!("{}/{}: this kernel has no field {field}", tp.category, tp.name))?;
        let got_offset = number_after(line, "offset:");
        let got_size = number_after(line, "size:");
        if got_offset != Some(offset) || got_size != Some(size) {
            return Err(format!(
                "{}/{}: field {field} is at offset {} size {} on this kernel; vmafx-probe reads offset {offset} size {size}",
                tp.category,
                tp.name,
                got_offset.map_or("?".into(), |v| v.to_string()),
                got_size.map_or("?".into(), |v| v.to_string()),
            ));
        }
    }
    Ok(())
}

/// `field:unsigned int fd;` → `fd`; `field:char prev_comm[16];` → `prev_comm`.
fn field_name(line: &str) -> Option<&str> {
    let decl = line.trim().strip_prefix("field:")?.split(';').next()?;
    let last = decl.split_whitespace().last()?;
    Some(last.split('[').next().unwrap_or(last).trim_start_matches('*'))
}

fn number_after(line: &str, key: &str) -> Option<usize> {
    let rest = &line[line.find(key)? + key.len()..];
    rest.split(';').next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SWITCH: &str = "name: sched_switch
ID: 322
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;
\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;
\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;
\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;
\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;
\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;
";

    fn switch() -> &'static Tracepoint {
        TRACEPOINTS.iter().find(|t| t.name == "sched_switch").unwrap()
    }

    #[test]
    fn a_matching_layout_passes() {
        check_format(switch(), SWITCH).unwrap();
    }

    #[test]
    fn a_moved_field_is_named() {
        let moved = SWITCH.replace("prev_state;\toffset:32", "prev_state;\toffset:36");
        let err = check_format(switch(), &moved).unwrap_err();
        assert!(err.contains("sched/sched_switch: field prev_state is at offset 36 size 8"), "{err}");
        let gone = SWITCH.replace("next_pid", "next_tid");
        assert!(check_format(switch(), &gone).unwrap_err().contains("no field next_pid"));
    }

    #[test]
    fn field_names_drop_types_arrays_and_pointers() {
        assert_eq!(field_name("\tfield:char * buf;\toffset:24;"), Some("buf"));
        assert_eq!(field_name("\tfield:char prev_comm[16];\toffset:8;"), Some("prev_comm"));
        assert_eq!(field_name("\tfield:__data_loc char[] parent_comm;\toffset:8;"), Some("parent_comm"));
        assert_eq!(field_name("print fmt: \"x\""), None);
    }

    #[test]
    fn every_program_is_attached_once() {
        let mut names: Vec<_> = TRACEPOINTS.iter().map(|t| t.program).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TRACEPOINTS.len());
    }
}
