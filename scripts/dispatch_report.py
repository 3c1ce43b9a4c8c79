#!/usr/bin/env python3
"""The dispatch table of docs/benchmarks.md from dispatch_bench's JSON lines.

    scripts/dispatch_report.py target/bench/dispatch.jsonl > target/bench/dispatch.md

One row per run, then what the issue's targets compare: TLS against plaintext, and 100,000
jobs queued against 1,000 as the median of interleaved pairs (with their range).
"""
import json
import statistics
import sys


def work(d):
    if d["jitter_ms"]:
        return f"{d['work_ms']}±{d['jitter_ms']} ms"
    return f"{d['work_ms']} ms (lockstep)" if d["work_ms"] else "none"


def ratio_line(pairs, key):
    ratios = sorted(key(big) / key(small) for small, big in pairs)
    spread = f" (range {ratios[0]:.2f}–{ratios[-1]:.2f})" if len(ratios) > 1 else ""
    return f"**{statistics.median(ratios):.2f}x**{spread}"


def main(path):
    runs = [json.loads(line) for line in open(path) if line.strip()]
    print("| store | transport | work items (jobs × segments) | work per item | queued behind | items/s "
          "| PullWork p50 | p99 | submits/s (20 clients) | submit p99 | nodes joined in |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for d in runs:
        p, s = d["pull_ms"], d["submit"]
        transport = "TLS" if d.get("tls", True) else "plaintext"
        joined = f"{d['join']['s']:.2f} s" if "join" in d else "–"
        print(f"| {d['store']} | {transport} | {d['items']} ({d['jobs']} × {d['items'] // d['jobs']}) | {work(d)} "
              f"| {d['backlog']} | {d['items_per_s']:.0f} | {p['p50']:.1f} ms | **{p['p99']:.1f} ms** "
              f"| {s['per_s']:.0f} | {s['ms']['p99']:.1f} ms | {joined} |")
    print()
    plain = [d for d in runs if not d.get("tls", True)]
    tls = [d for d in runs if d.get("tls", True) and d["store"] == "sqlite" and not d["work_ms"] and not d["backlog"]]
    if plain and tls:
        print(f"- TLS with per-node credentials / plaintext, closed loop on SQLite: items/s "
              f"**{tls[0]['items_per_s'] / plain[0]['items_per_s']:.2f}x**, PullWork p99 "
              f"**{tls[0]['pull_ms']['p99'] / plain[0]['pull_ms']['p99']:.2f}x**, submits/s "
              f"**{tls[0]['submit']['per_s'] / plain[0]['submit']['per_s']:.2f}x**")
    for store in ("sqlite", "postgres"):
        mine = [d for d in runs if d["store"] == store and d["backlog"] and d.get("tls", True)]
        small = [d for d in mine if d["backlog"] == 1000]
        big = [d for d in mine if d["backlog"] == 100000]
        pairs = list(zip(small, big))
        if pairs:
            print(f"- {store}, 100,000 vs 1,000 jobs queued, median of {len(pairs)} interleaved pairs: submit p99 "
                  f"{ratio_line(pairs, lambda d: d['submit']['ms']['p99'])}, pull p99 "
                  f"{ratio_line(pairs, lambda d: d['pull_ms']['p99'])} (target <= 1.5x)")
        if big:
            rates = sorted(d["submit"]["backlog_per_s"] for d in big)
            p99s = sorted(d["submit"]["backlog_ms"]["p99"] for d in big)
            print(f"- {store}: the 100,000 queued jobs were submitted at **{statistics.median(rates):.0f}/s** "
                  f"(median of {len(big)}) from 20 gRPC clients (p99 {statistics.median(p99s):.1f} ms), "
                  f"each acknowledged after a durable commit")


if __name__ == "__main__":
    main(sys.argv[1])
