#!/usr/bin/env python3
"""The shipped quality models, made and measured from video this script makes itself.

    scripts/models.py train ROOT   # `make models`: models/registry.json + models/*.onnx
    scripts/models.py bench ROOT   # `ONLY=models make bench`: target/bench/models.md

train: training clips from lavfi sources unlike the corpus's content (cellular automata,
gradients, Sierpinski carpets, colour spectra; never mandelbrot, life or testsrc, which the
benchmark holds out), at 640x360 and 1280x720, each encoded with x264 at six CRFs; one
`vmafx-trainer collect` per pair (features at 1/4 size each way), then `vmafx-trainer fit`
into a fresh registry, published as fr-fast@1.

bench: on the corpus pairs (mandelbrot, life, testsrc at 324p to 1080p, x264 at CRF 23, 35,
45: content the model never saw) per-frame PLCC, SROCC and RMSE of fr-fast against full
VMAF, and the wall time of `vmafx score --model registry:fr-fast` against full VMAF on the
1080p pair, interleaved rounds.
"""

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

SOURCES = [
    ("cellauto30", "cellauto=rule=30:s={size}:r=24"),
    ("cellauto110", "cellauto=rule=110:s={size}:r=24"),
    ("gradients", "gradients=s={size}:r=24:speed=0.02"),
    ("sierpinski", "sierpinski=s={size}:r=24"),
    ("spectrum", "colorspectrum=s={size}:r=24,hue=H=t"),
]
SIZES = ["640x360", "1280x720"]
CRFS = ["18", "24", "30", "36", "42", "48"]
FRAMES = "48"
FEATURES = "integer_vif_scale0,integer_vif_scale1,integer_vif_scale2,integer_vif_scale3,integer_adm2,integer_motion2,vmaf"


def run(cmd, **kw):
    subprocess.run(cmd, check=True, **kw)


def ffmpeg(*args):
    run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args])


def train(root):
    trainer = os.path.join(root, "target/release/vmafx-trainer")
    work = tempfile.mkdtemp(prefix="vmafx-models-")
    triples = os.path.join(work, "triples.ndjson")
    try:
        for name, source in SOURCES:
            for size in SIZES:
                ref = os.path.join(work, f"{name}_{size}.y4m")
                ffmpeg("-f", "lavfi", "-i", source.format(size=size), "-frames:v", FRAMES,
                       "-pix_fmt", "yuv420p", "-strict", "-1", ref)
                for crf in CRFS:
                    dist = os.path.join(work, f"{name}_{size}_{crf}.mp4")
                    ffmpeg("-i", ref, "-c:v", "libx264", "-preset", "medium", "-crf", crf, "-pix_fmt", "yuv420p", dist)
                    clip = f"{name}-{size}-{crf}"
                    run([trainer, "collect", "--reference", ref, "--distorted", dist, "--clip", clip,
                         "--downscale", "4", "--out", triples])
                    os.remove(dist)
                os.remove(ref)
        registry = os.path.join(root, "models")
        shutil.rmtree(registry, ignore_errors=True)
        out = subprocess.run([trainer, "fit", "--triples", triples, "--registry", registry, "--id", "fr-fast",
                              "--features", FEATURES, "--downscale", "4", "--epochs", "3000"],
                             capture_output=True, text=True)
        print(out.stdout)
        if out.returncode != 0:
            sys.exit(f"fit: exit {out.returncode}: {out.stderr}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def pearson(a, b):
    n = len(a)
    ma, mb = sum(a) / n, sum(b) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    va = sum((x - ma) ** 2 for x in a)
    vb = sum((y - mb) ** 2 for y in b)
    return cov / math.sqrt(va * vb)


def ranks(v):
    order = sorted(range(len(v)), key=lambda i: v[i])
    r = [0.0] * len(v)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and v[order[j + 1]] == v[order[i]]:
            j += 1
        for k in order[i:j + 1]:
            r[k] = (i + j) / 2 + 1
        i = j + 1
    return r


def score(vmafx, ref, dist, extra):
    out = subprocess.run([vmafx, "score", "-q", "--threads", "2", "--format", "json", *extra, ref, dist],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def bench(root):
    vmafx = os.path.join(root, "target/release/vmafx")
    corpus = os.path.join(root, "target/corpus")
    registry = os.path.join(root, "models")
    fr = ["--model", "registry:fr-fast", "--registry", registry]
    label = json.load(open(os.path.join(registry, "registry.json")))["models"][-1]
    label = f"{label['id']}@{label['version']}"
    est, truth, rows = [], [], []
    for clip in ["testsrc_324", "mandel_720", "life_720", "mandel_1080", "testsrc_1080"]:
        for crf in ["23", "35", "45"]:
            ref = os.path.join(corpus, f"{clip}.y4m")
            dist = os.path.join(corpus, f"{clip}_x264_crf{crf}.mp4")
            full = score(vmafx, ref, dist, [])
            small = score(vmafx, ref, dist, fr)
            v = [f["metrics"]["vmaf"] for f in full["frames"]]
            e = [f["metrics"][label] for f in small["frames"]]
            truth += v
            est += e
            rows.append((f"{clip} CRF {crf}", sum(v) / len(v), sum(e) / len(e)))
    rmse = math.sqrt(sum((a - b) ** 2 for a, b in zip(est, truth)) / len(est))
    plcc, srocc = pearson(est, truth), pearson(ranks(est), ranks(truth))
    # Speed: the 1080p pair, full VMAF and the estimate, interleaved.
    ref = os.path.join(corpus, "mandel_1080.y4m")
    dist = os.path.join(corpus, "mandel_1080_x264_crf35.mp4")
    rounds = int(os.environ.get("MODEL_ROUNDS", "10"))
    walls = {"full": [], "fr": []}
    for i in range(rounds + 1):
        for mode in (["full", "fr"] if i % 2 == 0 else ["fr", "full"]):
            t = time.monotonic()
            score(vmafx, ref, dist, fr if mode == "fr" else [])
            if i > 0:
                walls[mode].append(time.monotonic() - t)
    ratios = sorted(f / s for f, s in zip(walls["full"], walls["fr"]))
    med = lambda v: sorted(v)[len(v) // 2]
    lines = [
        f"`{label}` against full VMAF (vmaf_v0.6.1) on the corpus pairs, content it was not trained on "
        f"({len(truth)} frames, 15 pairs):",
        "",
        "| per frame | value | target |",
        "|---|---:|---|",
        f"| PLCC | {plcc:.4f} | >= 0.99 |",
        f"| SROCC | {srocc:.4f} | |",
        f"| RMSE (VMAF points) | {rmse:.2f} | <= 2 |",
        "",
        "| pair | VMAF mean | estimate mean |",
        "|---|---:|---:|",
        *[f"| {n} | {v:.2f} | {e:.2f} |" for n, v, e in rows],
        "",
        f"Wall time on the 1080p pair (mandelbrot, 60 frames, x264 CRF 35, 2 libvmaf threads), {rounds} interleaved rounds:",
        "",
        "| command | median wall (s) |",
        "|---|---:|",
        f"| vmafx score (full VMAF) | {med(walls['full']):.3f} |",
        f"| vmafx score --model registry:fr-fast | {med(walls['fr']):.3f} |",
        f"| speed-up (median of per-round ratios, range) | **{med(ratios):.2f}x** ({ratios[0]:.2f}–{ratios[-1]:.2f}); target >= 5 |",
    ]
    out = os.path.join(root, "target/bench/models.md")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    open(out, "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    {"train": train, "bench": bench}[sys.argv[1]](sys.argv[2])
