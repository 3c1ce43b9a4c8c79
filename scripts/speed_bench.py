#!/usr/bin/env python3
"""`ONLY=speed make bench`: vmafx score against ffmpeg's own libvmaf on the 1080p corpus pair,
as interleaved A/B rounds (each round runs every command once, in a rotated order, so a
noisy neighbour on this shared VM hits all of them alike), reported as the median of the
per-round ratios with their spread. Then vmafx-probe (eBPF) runs each vmafx mode once and
says where the kernel-side work went.

usage: speed_bench.py OUT_DIR ROUNDS VMAFX VMAFX_PROBE FFMPEG9 REF DIST PREDECODED
Writes OUT_DIR/speed.md and OUT_DIR/speed.json.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def run(cmd):
    """Wall seconds and CPU seconds (user + system of the command and its children)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd)} failed: {err}")
    return wall, usage.ru_utime + usage.ru_stime


def main():
    out, rounds, vmafx, probe, ff9, ref, dist, predecoded = sys.argv[1:9]
    rounds = int(rounds)
    commands = {
        "vmafx score (in-process decoding)": [vmafx, "score", "-q", "--threads", "2", ref, dist],
        "vmafx score --decoder ffmpeg (ffmpeg subprocess + pipe)": [
            vmafx, "score", "-q", "--threads", "2", "--decoder", "ffmpeg", ref, dist],
        "ffmpeg -lavfi libvmaf=n_threads=2": [
            ff9, "-nostdin", "-hide_banner", "-loglevel", "error", "-i", dist, "-i", ref,
            "-lavfi", "libvmaf=n_threads=2", "-f", "null", "-"],
        "vmafx score, distorted pre-decoded to Y4M": [vmafx, "score", "-q", "--threads", "2", ref, predecoded],
    }
    names = list(commands)
    for name in names:  # warm-up: page cache, dynamic linking
        run(commands[name])
    times = {n: [] for n in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            times[name].append(run(commands[name]))
        print(f"   round {r + 1}/{rounds}", file=sys.stderr)

    auto, sub, ff, y4m = names
    pairs = [
        (auto, ff, "<= 0.90"),
        (auto, y4m, "<= 1.05"),
        (sub, ff, "before: the subprocess"),
        (auto, sub, "in-process / subprocess"),
    ]
    lines = [
        f"1080p mandelbrot pair (60 frames, x264 CRF 35 distorted), 2 libvmaf threads each, "
        f"{rounds} interleaved rounds after one warm-up.\n",
        "| command | median wall (s) | median CPU (s) |",
        "|---|---:|---:|",
    ]
    for n in names:
        lines.append(f"| {n} | {statistics.median(w for w, _ in times[n]):.3f} | "
                     f"{statistics.median(c for _, c in times[n]):.3f} |")
    lines += ["", "| ratio (per round, wall) | median | spread | target |", "|---|---:|---:|---|"]
    ratios = {}
    for a, b, target in pairs:
        rs = [wa / wb for (wa, _), (wb, _) in zip(times[a], times[b])]
        ratios[f"{a} / {b}"] = rs
        lines.append(f"| {a} / {b} | **{statistics.median(rs):.3f}** | {min(rs):.3f}–{max(rs):.3f} | {target} |")

    # One traced run of each vmafx mode: what crosses the kernel per frame.
    lines += ["", "vmafx-probe, one run each (per frame = over the 60 frames):", "",
              "| mode | ffmpeg writes/frame | vmafx reads/frame | decoder-thread wake-ups | vmafx + ffmpeg CPU (ms) | ffprobe CPU (ms) |",
              "|---|---:|---:|---:|---:|---:|"]
    probes = {}
    for name in (auto, sub):
        with tempfile.NamedTemporaryFile(suffix=".json") as f:
            cmd = [probe, "--frames", "60", "--json", f.name, "--"] + commands[name]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            report = json.load(open(f.name))
        probes[name] = report
        procs = {p["name"]: p for p in report["processes"]}
        ff_writes = procs.get("ffmpeg", {}).get("writes", {}).get("calls", 0) / 60
        reads = procs["vmafx"]["reads"]["calls"] / 60
        wakes = sum(t["runq"]["waits"] for t in report["threads"] if t["name"].startswith("decode-distorte"))
        cpu = procs["vmafx"]["cpu_ms"] + procs.get("ffmpeg", {}).get("cpu_ms", 0)
        lines.append(f"| {name} | {ff_writes:.1f} | {reads:.1f} | {wakes} | {cpu:.0f} | "
                     f"{procs.get('ffprobe', {}).get('cpu_ms', 0):.0f} |")
    open(os.path.join(out, "speed.md"), "w").write("\n".join(lines) + "\n")
    json.dump({"times": times, "ratios": ratios, "probes": probes}, open(os.path.join(out, "speed.json"), "w"))


if __name__ == "__main__":
    main()
