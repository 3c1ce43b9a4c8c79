// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
// vmafx-probe's kernel side: what one command and every process it starts do with the
// kernel while it scores — read/write syscalls per thread and file descriptor (count, bytes,
// time inside the call, size histogram), scheduler run-queue latency and on-CPU time per
// thread, pages added to the page cache (misses) by the thread that caused them, and FUSE
// read requests (rclone mounts) with their latency.
//
// Only tracepoints are used (kprobes do not exist on every kernel this runs on). The
// tracepoint records are declared here from the kernel's own format files; the loader
// (src/tracepoints.rs) checks those files against these offsets before attaching, so a
// kernel with another layout is refused with a reason instead of measured wrongly.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define HIST_BUCKETS 32
#define TASK_RUNNING 0
#define FUSE_READ 15

enum op { OP_READ = 0, OP_WRITE = 1 };

// Keys and values shared with user space (src/maps.rs mirrors them, #[repr(C)]).
struct io_key {
    __u32 tid;
    __u32 fd;
    __u32 op;
    __u32 pad;
};

struct io_stats {
    __u64 calls;
    __u64 bytes;
    __u64 ns;
    __u64 size_hist[HIST_BUCKETS]; // log2 of bytes returned
};

struct thread_stats {
    __u32 tgid;
    __u32 pad;
    char comm[16];
    __u64 oncpu_ns;
    __u64 runq_ns;
    __u64 runq_count;
    __u64 cache_pages;   // pages this thread added to the page cache (misses)
    __u64 fuse_reads;
    __u64 fuse_bytes;
    __u64 fuse_ns;
    __u64 runq_hist[HIST_BUCKETS]; // log2 of microseconds waited
    __u64 fuse_hist[HIST_BUCKETS]; // log2 of microseconds per FUSE read
};

struct pending_call {
    __u64 ts;
    __u32 fd;
    __u32 op;
};

struct pending_fuse {
    __u64 ts;
    __u32 tid;
    __u32 len;
};

// Processes (by tgid) and threads (by tid) being traced: user space puts the command's
// pid in both; every fork or clone of a traced process adds the child.
struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, __u32);
    __type(value, __u8);
} tracked_tgids SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, __u32);
    __type(value, __u8);
} tracked_tids SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, struct io_key);
    __type(value, struct io_stats);
} io SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, __u32);
    __type(value, struct thread_stats);
} threads SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, __u32);
    __type(value, struct pending_call);
} calls SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, __u32);
    __type(value, __u64);
} runnable_since SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, __u32);
    __type(value, __u64);
} oncpu_since SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16384);
    __type(key, __u64);
    __type(value, struct pending_fuse);
} fuse_pending SEC(".maps");

// One zeroed value, never written: the statistics are too large for the 512-byte BPF stack,
// so a new entry is copied from here.
struct zeroes {
    __u8 bytes[sizeof(struct thread_stats) > sizeof(struct io_stats) ? sizeof(struct thread_stats) : sizeof(struct io_stats)];
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct zeroes);
} zero SEC(".maps");

// Events the maps could not hold (a full map): reported, so a truncated trace says so.
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} lost SEC(".maps");

// Tracepoint records (offsets from /sys/kernel/tracing/events/*/*/format).
struct sys_enter_rw {
    __u64 common;
    __s32 nr;
    __u32 pad;
    __u64 fd;
    __u64 buf;
    __u64 count;
};

struct sys_exit_rw {
    __u64 common;
    __s32 nr;
    __u32 pad;
    __s64 ret;
};

struct sched_switch_args {
    __u64 common;
    char prev_comm[16];
    __s32 prev_pid;
    __s32 prev_prio;
    __s64 prev_state;
    char next_comm[16];
    __s32 next_pid;
    __s32 next_prio;
};

struct sched_wakeup_args {
    __u64 common;
    char comm[16];
    __s32 pid;
    __s32 prio;
    __s32 target_cpu;
};

struct sched_fork_args {
    __u64 common;
    __u32 parent_comm_loc;
    __s32 parent_pid;
    __u32 child_comm_loc;
    __s32 child_pid;
};

struct fuse_send_args {
    __u64 common;
    __u32 connection;
    __u32 pad;
    __u64 unique;
    __u32 opcode;
    __u32 len;
};

struct fuse_end_args {
    __u64 common;
    __u32 connection;
    __u32 pad;
    __u64 unique;
    __u32 len;
    __s32 error;
};

static __always_inline void count_lost(void)
{
    __u32 zero = 0;
    __u64 *n = bpf_map_lookup_elem(&lost, &zero);
    if (n)
        __sync_fetch_and_add(n, 1);
}

static __always_inline __u32 log2_bucket(__u64 v)
{
    __u32 b = 0;
#pragma unroll
    for (int i = 0; i < HIST_BUCKETS - 1; i++) {
        if (v > 1) {
            v >>= 1;
            b++;
        }
    }
    return b;
}

static __always_inline int current_is_tracked(void)
{
    __u32 tgid = bpf_get_current_pid_tgid() >> 32;
    return bpf_map_lookup_elem(&tracked_tgids, &tgid) != 0;
}

static __always_inline struct thread_stats *thread(__u32 tid, __u32 tgid)
{
    struct thread_stats *t = bpf_map_lookup_elem(&threads, &tid);
    if (t)
        return t;
    __u32 zero_key = 0;
    void *fresh = bpf_map_lookup_elem(&zero, &zero_key);
    if (!fresh)
        return 0;
    bpf_map_update_elem(&threads, &tid, fresh, BPF_NOEXIST);
    t = bpf_map_lookup_elem(&threads, &tid);
    if (!t) {
        count_lost();
        return 0;
    }
    if (tgid)
        t->tgid = tgid;
    return t;
}

// ---- processes and threads ------------------------------------------------------------

SEC("tracepoint/sched/sched_process_fork")
int on_fork(struct sched_fork_args *ctx)
{
    if (!current_is_tracked())
        return 0;
    __u32 child = ctx->child_pid;
    __u8 one = 1;
    // A new process's pid is its tgid; a new thread's tid only ever matches tracked_tids.
    if (bpf_map_update_elem(&tracked_tgids, &child, &one, BPF_ANY))
        count_lost();
    if (bpf_map_update_elem(&tracked_tids, &child, &one, BPF_ANY))
        count_lost();
    return 0;
}

// ---- read / write ---------------------------------------------------------------------

static __always_inline int enter_rw(struct sys_enter_rw *ctx, __u32 op)
{
    if (!current_is_tracked())
        return 0;
    __u32 tid = (__u32)bpf_get_current_pid_tgid();
    struct pending_call c = { .ts = bpf_ktime_get_ns(), .fd = (__u32)ctx->fd, .op = op };
    if (bpf_map_update_elem(&calls, &tid, &c, BPF_ANY))
        count_lost();
    return 0;
}

static __always_inline int exit_rw(struct sys_exit_rw *ctx)
{
    __u64 id = bpf_get_current_pid_tgid();
    __u32 tid = (__u32)id;
    struct pending_call *c = bpf_map_lookup_elem(&calls, &tid);
    if (!c)
        return 0;
    struct io_key key = { .tid = tid, .fd = c->fd, .op = c->op };
    __u64 ns = bpf_ktime_get_ns() - c->ts;
    bpf_map_delete_elem(&calls, &tid);
    struct io_stats *s = bpf_map_lookup_elem(&io, &key);
    if (!s) {
        __u32 zero_key = 0;
        void *fresh = bpf_map_lookup_elem(&zero, &zero_key);
        if (!fresh)
            return 0;
        bpf_map_update_elem(&io, &key, fresh, BPF_NOEXIST);
        s = bpf_map_lookup_elem(&io, &key);
        if (!s) {
            count_lost();
            return 0;
        }
        struct thread_stats *t = thread(tid, id >> 32);
        if (t)
            bpf_get_current_comm(t->comm, sizeof(t->comm));
    }
    __sync_fetch_and_add(&s->calls, 1);
    __sync_fetch_and_add(&s->ns, ns);
    if (ctx->ret > 0) {
        __sync_fetch_and_add(&s->bytes, (__u64)ctx->ret);
        __u32 b = log2_bucket((__u64)ctx->ret);
        if (b < HIST_BUCKETS)
            __sync_fetch_and_add(&s->size_hist[b], 1);
    }
    return 0;
}

SEC("tracepoint/syscalls/sys_enter_read")
int on_read_enter(struct sys_enter_rw *ctx) { return enter_rw(ctx, OP_READ); }
SEC("tracepoint/syscalls/sys_exit_read")
int on_read_exit(struct sys_exit_rw *ctx) { return exit_rw(ctx); }
SEC("tracepoint/syscalls/sys_enter_pread64")
int on_pread_enter(struct sys_enter_rw *ctx) { return enter_rw(ctx, OP_READ); }
SEC("tracepoint/syscalls/sys_exit_pread64")
int on_pread_exit(struct sys_exit_rw *ctx) { return exit_rw(ctx); }
SEC("tracepoint/syscalls/sys_enter_write")
int on_write_enter(struct sys_enter_rw *ctx) { return enter_rw(ctx, OP_WRITE); }
SEC("tracepoint/syscalls/sys_exit_write")
int on_write_exit(struct sys_exit_rw *ctx) { return exit_rw(ctx); }
SEC("tracepoint/syscalls/sys_enter_pwrite64")
int on_pwrite_enter(struct sys_enter_rw *ctx) { return enter_rw(ctx, OP_WRITE); }
SEC("tracepoint/syscalls/sys_exit_pwrite64")
int on_pwrite_exit(struct sys_exit_rw *ctx) { return exit_rw(ctx); }

// ---- scheduler ------------------------------------------------------------------------

static __always_inline void mark_runnable(__u32 tid)
{
    if (!bpf_map_lookup_elem(&tracked_tids, &tid))
        return;
    __u64 now = bpf_ktime_get_ns();
    if (bpf_map_update_elem(&runnable_since, &tid, &now, BPF_ANY))
        count_lost();
}

SEC("tracepoint/sched/sched_wakeup")
int on_wakeup(struct sched_wakeup_args *ctx)
{
    mark_runnable(ctx->pid);
    return 0;
}

SEC("tracepoint/sched/sched_wakeup_new")
int on_wakeup_new(struct sched_wakeup_args *ctx)
{
    mark_runnable(ctx->pid);
    return 0;
}

SEC("tracepoint/sched/sched_switch")
int on_switch(struct sched_switch_args *ctx)
{
    __u64 now = bpf_ktime_get_ns();
    __u32 prev = ctx->prev_pid;
    __u32 next = ctx->next_pid;

    if (bpf_map_lookup_elem(&tracked_tids, &prev)) {
        __u64 *since = bpf_map_lookup_elem(&oncpu_since, &prev);
        struct thread_stats *t = thread(prev, bpf_get_current_pid_tgid() >> 32);
        if (t) {
            // The current task is prev: its comm is up to date (threads name themselves).
            bpf_get_current_comm(t->comm, sizeof(t->comm));
            t->tgid = bpf_get_current_pid_tgid() >> 32;
            if (since)
                __sync_fetch_and_add(&t->oncpu_ns, now - *since);
        }
        bpf_map_delete_elem(&oncpu_since, &prev);
        // Preempted while runnable: it waits in the run queue from now.
        if (ctx->prev_state == TASK_RUNNING)
            bpf_map_update_elem(&runnable_since, &prev, &now, BPF_ANY);
    }

    if (bpf_map_lookup_elem(&tracked_tids, &next)) {
        __u64 *since = bpf_map_lookup_elem(&runnable_since, &next);
        if (since) {
            __u64 waited = now - *since;
            bpf_map_delete_elem(&runnable_since, &next);
            struct thread_stats *t = thread(next, 0);
            if (t) {
                __sync_fetch_and_add(&t->runq_ns, waited);
                __sync_fetch_and_add(&t->runq_count, 1);
                __u32 b = log2_bucket(waited / 1000);
                if (b < HIST_BUCKETS)
                    __sync_fetch_and_add(&t->runq_hist[b], 1);
            }
        }
        if (bpf_map_update_elem(&oncpu_since, &next, &now, BPF_ANY))
            count_lost();
    }
    return 0;
}

// ---- page cache -----------------------------------------------------------------------

struct page_cache_add_args {
    __u64 common;
    __u64 pfn;
    __u64 i_ino;
    __u64 index;
    __u32 s_dev;
    __u8 order;
};

SEC("tracepoint/filemap/mm_filemap_add_to_page_cache")
int on_page_cache_add(struct page_cache_add_args *ctx)
{
    __u64 id = bpf_get_current_pid_tgid();
    __u32 tgid = id >> 32;
    if (!bpf_map_lookup_elem(&tracked_tgids, &tgid))
        return 0;
    struct thread_stats *t = thread((__u32)id, tgid);
    // One event per folio: large folios hold 2^order pages.
    __u8 order = ctx->order;
    if (t && order < 16)
        __sync_fetch_and_add(&t->cache_pages, 1ULL << order);
    return 0;
}

// ---- FUSE (rclone mounts) -------------------------------------------------------------

SEC("tracepoint/fuse/fuse_request_send")
int on_fuse_send(struct fuse_send_args *ctx)
{
    if (ctx->opcode != FUSE_READ || !current_is_tracked())
        return 0;
    __u64 unique = ctx->unique;
    struct pending_fuse p = {
        .ts = bpf_ktime_get_ns(),
        .tid = (__u32)bpf_get_current_pid_tgid(),
        .len = ctx->len,
    };
    if (bpf_map_update_elem(&fuse_pending, &unique, &p, BPF_ANY))
        count_lost();
    return 0;
}

SEC("tracepoint/fuse/fuse_request_end")
int on_fuse_end(struct fuse_end_args *ctx)
{
    __u64 unique = ctx->unique;
    struct pending_fuse *p = bpf_map_lookup_elem(&fuse_pending, &unique);
    if (!p)
        return 0;
    __u64 ns = bpf_ktime_get_ns() - p->ts;
    __u32 tid = p->tid;
    bpf_map_delete_elem(&fuse_pending, &unique);
    struct thread_stats *t = thread(tid, 0);
    if (!t)
        return 0;
    __sync_fetch_and_add(&t->fuse_reads, 1);
    __sync_fetch_and_add(&t->fuse_ns, ns);
    // The reply's length includes its 16-byte header.
    if (ctx->error == 0 && ctx->len > 16)
        __sync_fetch_and_add(&t->fuse_bytes, ctx->len - 16);
    __u32 b = log2_bucket(ns / 1000);
    if (b < HIST_BUCKETS)
        __sync_fetch_and_add(&t->fuse_hist[b], 1);
    return 0;
}
