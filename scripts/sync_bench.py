#!/usr/bin/env python3
"""What frame alignment costs: `vmafx score --sync off` against `--sync check` (the default)
and `--sync auto`, on the same pair, timed as interleaved A/B pairs (the order alternating
each round), reported as the median of the per-round ratios with their spread.

    sync_bench.py OUT_DIR VMAFX REF DIST [ROUNDS]

Writes OUT_DIR/sync.md and OUT_DIR/sync.json.
"""

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path


def timed(cmd):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    out, vmafx, ref, dist = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 10
    base = [vmafx, "score", "-q", "--threads", "2", ref, dist]
    modes = ["off", "check", "auto"]
    times = {m: [] for m in modes}
    ratios = {m: [] for m in modes if m != "off"}
    timed(base + ["--sync", "off"])  # warm-up: page cache
    for r in range(rounds):
        order = modes if r % 2 == 0 else list(reversed(modes))
        got = {m: timed(base + ["--sync", m]) for m in order}
        for m in modes:
            times[m].append(got[m])
        for m in ratios:
            ratios[m].append(got[m] / got["off"])
        print(f"   round {r + 1}: " + ", ".join(f"{m} {got[m]:.3f} s" for m in modes), file=sys.stderr)

    lines = [
        f"| `vmafx score --sync MODE`, {Path(ref).name} vs {Path(dist).name}, 2 threads | median wall | ratio to `off` (median of {rounds} interleaved rounds) | ratio spread (min–max) |",
        "|---|---|---|---|",
    ]
    for m in modes:
        med = statistics.median(times[m])
        if m == "off":
            lines.append(f"| `off` | {med:.3f} s | 1 | — |")
        else:
            rs = ratios[m]
            lines.append(f"| `{m}` | {med:.3f} s | {statistics.median(rs):.3f} | {min(rs):.3f}–{max(rs):.3f} |")
    (out / "sync.md").write_text("\n".join(lines) + "\n")
    (out / "sync.json").write_text(json.dumps({"times": times, "ratios": ratios}, indent=1))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
