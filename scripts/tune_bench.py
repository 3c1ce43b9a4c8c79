#!/usr/bin/env python3
"""vmafx-tune against ab-av1, side by side (`ONLY=tune make bench`, or part of `make bench`).

For every clip, encoder and target both tools search for the CRF that reaches the target
VMAF, with the same ffmpeg (PyPI imageio-ffmpeg's ffmpeg 9: libvmaf and all three encoders),
the same preset, pixel format and keyframe interval, VMAF at the source's own size. Each
answer is then encoded in full with one command (the same for both tools) and scored by one
scorer (`vmafx score` on the whole encode), so sizes are compared at measured quality.

  scripts/tune_bench.py OUT_DIR CORPUS_DIR VMAFX_TUNE VMAFX AB_AV1 FFMPEG9

Env: TUNE_RUNS (default 3) runs of each search; wall times are medians. TUNE_ONLY=clip,enc
limits the grid (e.g. TUNE_ONLY=mandel_720,libx264) while working on one case.
Writes OUT_DIR/tune.json (every run) and OUT_DIR/tune.md (the table for docs/benchmarks.md).
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

out, corpus, tune, vmafx, abav1, ff9 = sys.argv[1:7]
runs = int(os.environ.get("TUNE_RUNS", "3"))
only = [s for s in os.environ.get("TUNE_ONLY", "").split(",") if s]
KEYINT = 240  # 10 s at 24 fps, ab-av1's default interval, set explicitly for both

# (encoder, preset): the preset is the same for both tools; fast enough for a 2-core bench.
ENCODERS = [("libx264", "medium"), ("libx265", "fast"), ("libsvtav1", "8")]
TARGETS = [90.0, 95.0]

# A PATH on which `ffmpeg` is ffmpeg 9 for ab-av1 (imageio-ffmpeg ships no ffprobe: ab-av1
# probes with Debian's, which only reads the container).
shim = os.path.join(out, "ffmpeg9-path")
os.makedirs(shim, exist_ok=True)
for name, target in (("ffmpeg", ff9), ("ffprobe", shutil.which("ffprobe"))):
    link = os.path.join(shim, name)
    if os.path.islink(link):
        os.unlink(link)
    os.symlink(target, link)
env = dict(os.environ, PATH=shim + os.pathsep + os.environ["PATH"])


def long_source():
    """Two minutes at 640x360, four 30 s scenes of different difficulty, lossless (FFV1).
    life and cellauto take a fixed seed (by default they start from a random grid), so every
    machine makes the same source; as in scripts/corpus.sh, it is made again when its recipe
    (long_360.recipe) changes."""
    path = os.path.join(out, "long_360.mkv")
    scenes = [
        "mandelbrot=size=640x360:rate=24",
        "life=size=640x360:rate=24:mold=10:ratio=0.5:death_color=#204060:life_color=#e0c080:seed=1",
        "testsrc2=size=640x360:rate=24",
        "cellauto=size=640x360:rate=24:rule=110:seed=1",
    ]
    recipe_path, recipe = os.path.join(out, "long_360.recipe"), " ".join(scenes) + " 30 s each\n"
    if os.path.exists(path) and os.path.exists(recipe_path) and open(recipe_path).read() == recipe:
        return path
    args = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error"]
    for s in scenes:
        args += ["-f", "lavfi", "-t", "30", "-i", s]
    graph = "".join(f"[{i}:v]format=yuv420p[v{i}];" for i in range(len(scenes)))
    graph += "".join(f"[v{i}]" for i in range(len(scenes))) + f"concat=n={len(scenes)}:v=1:a=0[out]"
    args += ["-filter_complex", graph, "-map", "[out]", "-c:v", "ffv1", "-y", path + ".part.mkv"]
    subprocess.run(args, check=True)
    os.rename(path + ".part.mkv", path)
    open(recipe_path, "w").write(recipe)
    return path


CLIPS = [
    # name, path, vmafx-tune sampling, ab-av1 sampling (its default for a short clip: whole)
    ("mandel_720 (48 frames)", os.path.join(corpus, "mandel_720.y4m"), [], []),
    ("life_720 (48 frames)", os.path.join(corpus, "life_720.y4m"), [], []),
    # ab-av1's default for two minutes: one 20 s sample. vmafx-tune: eight 2.5 s samples, the
    # same 480 frames per probe, spread over the source (four 5 s samples, one per scene,
    # put the full encode's VMAF 0.4 lower than the samples' at x265 CRF 28, and its bitrate
    # 19 % under; eight: 0.1 and 0 %).
    ("long_360 (2 min)", None, ["--samples", "8", "--sample-seconds", "2.5"], []),
    # The same source with ab-av1 given vmafx-tune's sampling (eight 2.5 s samples, spread
    # by its own rule): ab-av1's default sample is easier than the whole source, so its
    # answers miss the target on the full encode; with the same sampling both tools measure
    # the same amount of the source and their answers compare at equal information.
    ("long_360 (2 min, both 8 × 2.5 s samples)", None, ["--samples", "8", "--sample-seconds", "2.5"],
     ["--samples", "8", "--sample-duration", "2.5s"]),
]


def timed(args, **kw):
    t = time.monotonic()
    p = subprocess.run(args, capture_output=True, text=True, **kw)
    wall = time.monotonic() - t
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(args)}\n{p.stderr[-3000:]}")
    return p.stdout, wall


def run_abav1(src, enc, preset, target, extra):
    tmp = tempfile.mkdtemp(dir=out)
    args = [abav1, "crf-search", "-i", src, "--encoder", enc, "--preset", preset,
            "--min-vmaf", str(target), "--vmaf-scale", "none", "--pix-format", "yuv420p",
            "--keyint", str(KEYINT), "--cache", "false", "--temp-dir", tmp,
            "--stdout-format", "json", *extra]
    stdout, wall = timed(args, env=env)
    shutil.rmtree(tmp, ignore_errors=True)
    msgs = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    done = next(m for m in msgs if m["type"] == "crf-search-done")
    probes = [m for m in msgs if m["type"] == "sample-encode-done"]
    return {"crf": done["crf"], "score": done["vmaf"], "encodes": len(probes), "wall": wall,
            "probes": [(m["crf"], round(m["vmaf"], 2)) for m in probes]}


def run_tune(src, enc, preset, target, extra):
    cache = tempfile.mkdtemp(dir=out)
    args = [tune, "crf-search", "--source", src, "--encoder", enc, "--preset", preset,
            "--target-vmaf", str(target), "--enc", f"g={KEYINT}", "--ffmpeg", ff9,
            "--cache-dir", cache, "--format", "json", "-q", *extra]
    stdout, wall = timed(args)
    shutil.rmtree(cache, ignore_errors=True)
    a = json.loads(stdout)
    return {"crf": a["crf"], "score": a["score"], "encodes": len(a["probes"]), "wall": wall,
            "probes": [(p["crf"], round(p["score"], 2)) for p in a["probes"]]}


full_cache = {}


def full_encode(src, enc, preset, crf):
    """The whole source at `crf`, one command for both tools' answers; its size and VMAF."""
    key = (src, enc, crf)
    if key in full_cache:
        return full_cache[key]
    path = os.path.join(out, "tune-full.mkv")
    # SVT-AV1 takes quarter CRFs through its own parameters (as ab-av1 passes them);
    # ffmpeg's -crf for it is whole.
    quality = (["-crf", str(int(crf)), "-svtav1-params", f"crf={crf:g}"] if enc == "libsvtav1"
               else ["-crf", f"{crf:g}"])
    subprocess.run([ff9, "-nostdin", "-hide_banner", "-loglevel", "error", "-i", src,
                    "-c:v", enc, "-preset", preset, *quality, "-pix_fmt", "yuv420p",
                    "-g", str(KEYINT), "-an", "-y", path], check=True)
    size = os.path.getsize(path)
    report, _ = timed([vmafx, "score", "-q", "-F", "json", "--threads", str(os.cpu_count()), src, path])
    vmaf = json.loads(report)["pooled_metrics"]["vmaf"]["mean"]
    full_cache[key] = (size, vmaf)
    return size, vmaf


rows = []
for name, path, tune_extra, ab_extra in CLIPS:
    path = path or long_source()
    clip = name.split()[0]
    for enc, preset in ENCODERS:
        # TUNE_ONLY names clips, encoders or both: a case runs when its clip and its encoder
        # are each named or their kind is not named at all.
        named_clips = [c.split()[0] for c, *_ in CLIPS if c.split()[0] in only]
        named_encs = [e for e, _ in ENCODERS if e in only]
        if (named_clips and clip not in named_clips) or (named_encs and enc not in named_encs):
            continue
        for target in TARGETS:
            case = {"clip": name, "encoder": enc, "preset": preset, "target": target, "ab-av1": [], "vmafx-tune": []}
            for r in range(runs):
                # Alternate which tool goes first, so neither always runs on a warm cache.
                order = [("ab-av1", run_abav1, ab_extra), ("vmafx-tune", run_tune, tune_extra)]
                for tool, fn, extra in order if r % 2 == 0 else order[::-1]:
                    res = fn(path, enc, preset, target, extra)
                    res["full_bytes"], res["full_vmaf"] = full_encode(path, enc, preset, res["crf"])
                    case[tool].append(res)
                    print(f"{clip} {enc} {target} {tool} run {r + 1}: crf {res['crf']} "
                          f"probes {res['probes']} wall {res['wall']:.1f} s; full encode "
                          f"{res['full_bytes']} B at {res['full_vmaf']:.2f}", file=sys.stderr)
            rows.append(case)
            # Every finished case is kept, should a later one fail.
            json.dump(rows, open(os.path.join(out, "tune.json"), "w"), indent=1)

versions = {
    "ab-av1": subprocess.run([abav1, "--version"], capture_output=True, text=True).stdout.strip(),
    "ffmpeg": subprocess.run([ff9, "-version"], capture_output=True, text=True).stdout.splitlines()[0],
    "vmafx-tune": subprocess.run([tune, "--version"], capture_output=True, text=True).stdout.strip(),
}
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
md = [f"Machine: {os.cpu_count()} cores, {cpu}. {versions['ab-av1']}, {versions['vmafx-tune']}, "
      f"{versions['ffmpeg']}. {runs} run(s) of each search, wall times are medians.\n",
      "| clip | encoder (preset) | target | tool | CRF | VMAF, full encode | size | encodes | wall (s) | size ratio | encodes | wall ratio | holds |",
      "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
held = 0
for c in rows:
    a, t = c["ab-av1"], c["vmafx-tune"]
    # Every run's answer; the table shows the first run's (answers repeat run to run) and
    # the median wall.
    aw, tw = statistics.median(r["wall"] for r in a), statistics.median(r["wall"] for r in t)
    a0, t0 = a[0], t[0]
    size_ratio = t0["full_bytes"] / a0["full_bytes"]
    ok = (all(r["full_vmaf"] >= c["target"] for r in t) and size_ratio <= 1.005
          and max(r["encodes"] for r in t) <= min(r["encodes"] for r in a) and tw <= 0.8 * aw)
    held += ok
    for tool, r0, wall in (("ab-av1", a0, aw), ("vmafx-tune", t0, tw)):
        ratios = (f"**{size_ratio:.3f}** | {t0['encodes']}/{a0['encodes']} | **{tw / aw:.2f}** | {'yes' if ok else '**no**'}"
                  if tool == "vmafx-tune" else " | | | ")
        md.append(f"| {c['clip']} | {c['encoder']} ({c['preset']}) | {c['target']:g} | {tool} | {r0['crf']:g} | "
                  f"{r0['full_vmaf']:.3f} | {r0['full_bytes'] / 1024:.0f} KiB | {r0['encodes']} | {wall:.1f} | {ratios} |")
md.append(f"\nAcceptance (target met on the full encode, size ≤ 1.005x, encodes ≤, wall ≤ 0.8x) holds in "
          f"**{held} of {len(rows)}** cases.")
open(os.path.join(out, "tune.md"), "w").write("\n".join(md) + "\n")
print("\n".join(md))
