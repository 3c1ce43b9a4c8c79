#!/usr/bin/env python3
"""The shipped quality models, made and measured from video this script makes itself.

    scripts/models.py train ROOT   # `make models`: models/registry.json + models/*.onnx
    scripts/models.py bench ROOT   # `ONLY=models make bench`: target/bench/models.md

train: training clips from lavfi sources unlike the corpus's content (cellular automata,
gradients, Sierpinski carpets, colour spectra, scrolling noise blobs and tiles; never mandelbrot, life
or testsrc, which the benchmark holds out), at 640x360, 1280x720 and 1920x1080, each encoded with x264
at six CRFs; one `vmafx-trainer collect` per pair (fr features of the centre quarter of each
frame, half its width and height, at full size; and the distorted's no-reference measures),
then `vmafx-trainer fit` into a fresh registry, published as fr-fast@1 and nr-luma@1.

bench: on two held-out sets — the corpus pairs (mandelbrot, life, testsrc at 324p to 1080p,
x264 at CRF 23, 35, 45) and a fresh set made here that no model or design choice has seen
(moving rings from a geq expression, scrolling SMPTE bars with grain; x264 and x265) —
per-frame PLCC, SROCC and RMSE of each model against full VMAF, and the wall time of `vmafx score --model registry:fr-fast` and of `vmafx score --nr`
against full VMAF on the 1080p pair, interleaved rounds.
"""

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

# Sources with random state take a fixed seed (gradients: fixed colours too; its "random"
# colours ignore the seed), so that `make models` makes the same training clips everywhere.
SOURCES = [
    ("cellauto30", "cellauto=rule=30:s={size}:r=24:seed=1"),
    ("cellauto110", "cellauto=rule=110:s={size}:r=24:seed=1"),
    ("gradients", "gradients=s={size}:r=24:speed=0.02:c0=0x2a4d8f:c1=0xe8b46a:seed=1"),
    ("sierpinski", "sierpinski=s={size}:r=24:seed=1"),
    ("spectrum", "colorspectrum=s={size}:r=24,hue=H=t"),
    # Smooth blobs (uniform noise at 1/16 size, scaled up) with a little grain, scrolling.
    ("blobs", "color=c=gray:s={small16}:r=24,noise=alls=100:allf=u,scale={size}:flags=bicubic,"
              "noise=alls=14:allf=u,scroll=h=0.003:v=0.002,format=yuv420p"),
    ("pebbles", "color=c=gray:s={small4}:r=24,noise=alls=90:allf=u,scale={size}:flags=bicubic,"
                "scroll=h=-0.004:v=0.001,format=yuv420p"),
    # Flat tiles with sharp edges (the same noise scaled up without interpolation), scrolling.
    ("mosaic", "color=c=gray:s={small16}:r=24,noise=alls=100:allf=u,scale={size}:flags=neighbor,"
               "scroll=h=0.003:v=-0.002,format=yuv420p"),
]
SIZES = ["640x360", "1280x720", "1920x1080"]
CRFS = ["18", "24", "30", "36", "42", "48"]
FRAMES = "48"
FEATURES = "integer_vif_scale0,integer_vif_scale1,integer_vif_scale2,integer_vif_scale3,integer_adm2,integer_motion2,vmaf"


def run(cmd, **kw):
    subprocess.run(cmd, check=True, **kw)


def ffmpeg(*args):
    run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args])


def lavfi(source, size):
    w, h = (int(v) for v in size.split("x"))
    return source.format(size=size, small16=f"{w // 16}x{h // 16}", small4=f"{w // 4}x{h // 4}")


def fit(trainer, registry, *args):
    out = subprocess.run([trainer, "fit", "--registry", registry, "--epochs", "3000", *args],
                         capture_output=True, text=True)
    print(out.stdout)
    if out.returncode != 0:
        sys.exit(f"fit: exit {out.returncode}: {out.stderr}")


def train(root):
    trainer = os.path.join(root, "target/release/vmafx-trainer")
    work = tempfile.mkdtemp(prefix="vmafx-models-")
    triples = os.path.join(work, "triples.ndjson")
    nr_triples = os.path.join(work, "nr-triples.ndjson")
    try:
        for name, source in SOURCES:
            for size in SIZES:
                ref = os.path.join(work, f"{name}_{size}.y4m")
                ffmpeg("-f", "lavfi", "-i", lavfi(source, size), "-frames:v", FRAMES,
                       "-pix_fmt", "yuv420p", "-strict", "-1", ref)
                for crf in CRFS:
                    dist = os.path.join(work, f"{name}_{size}_{crf}.mp4")
                    ffmpeg("-i", ref, "-c:v", "libx264", "-preset", "medium", "-crf", crf, "-pix_fmt", "yuv420p", dist)
                    clip = f"{name}-{size}-{crf}"
                    run([trainer, "collect", "--reference", ref, "--distorted", dist, "--clip", clip,
                         "--crop", "2", "--downscale", "1", "--out", triples, "--nr-out", nr_triples])
                    os.remove(dist)
                os.remove(ref)
        registry = os.path.join(root, "models")
        shutil.rmtree(registry, ignore_errors=True)
        fit(trainer, registry, "--triples", triples, "--id", "fr-fast", "--features", FEATURES,
            "--crop", "2", "--downscale", "1")
        fit(trainer, registry, "--triples", nr_triples, "--id", "nr-luma", "--kind", "nr")
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
    inputs = [dist] if "--nr" in extra else [ref, dist]
    out = subprocess.run([vmafx, "score", "-q", "--threads", "2", "--format", "json", *extra, *inputs],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def accuracy(label, est, truth, rows, target, held_out):
    """A model's per-frame agreement with full VMAF on one held-out set, and the per-pair means."""
    rmse = math.sqrt(sum((a - b) ** 2 for a, b in zip(est, truth)) / len(est))
    plcc, srocc = pearson(est, truth), pearson(ranks(est), ranks(truth))
    means = [(v, e) for _, v, e in rows]
    clip_plcc = pearson([e for _, e in means], [v for v, _ in means])
    clip_srocc = pearson(ranks([e for _, e in means]), ranks([v for v, _ in means]))
    return [
        f"`{label}` against full VMAF (vmaf_v0.6.1) on {held_out} "
        f"({len(truth)} frames, {len(rows)} pairs):",
        "",
        "| | per frame | per pair (means) | target |",
        "|---|---:|---:|---|",
        f"| PLCC | {plcc:.4f} | {clip_plcc:.4f} | >= {target['plcc']} |",
        f"| SROCC | {srocc:.4f} | {clip_srocc:.4f} | {target.get('srocc', '')} |",
        f"| RMSE (VMAF points) | {rmse:.2f} | | {target.get('rmse', '')} |",
        "",
        "| pair | VMAF mean | estimate mean |",
        "|---|---:|---:|",
        *[f"| {n} | {v:.2f} | {e:.2f} |" for n, v, e in rows],
        "",
    ]


# The fresh held-out set: content unlike both the training clips and the corpus, made by the
# bench itself, never looked at while the models were designed or trained.
FRESH_SOURCES = [
    ("rings", "nullsrc=s=1280x720:r=24,geq=lum='128+96*sin(hypot(X-W/2,Y-H/2)/9-T*5)':cb=128:cr=128"),
    ("bars", "smptehdbars=s=1280x720:r=24,scroll=h=0.004,noise=alls=10:allf=t"),
]
FRESH_ENCODES = [("x264 CRF 26", ["-c:v", "libx264", "-preset", "fast", "-crf", "26"]),
                 ("x264 CRF 40", ["-c:v", "libx264", "-preset", "fast", "-crf", "40"]),
                 ("x265 CRF 30", ["-c:v", "libx265", "-preset", "fast", "-crf", "30", "-x265-params", "log-level=error"]),
                 ("x265 CRF 42", ["-c:v", "libx265", "-preset", "fast", "-crf", "42", "-x265-params", "log-level=error"])]


def fresh_pairs(root):
    """The fresh held-out pairs, made once into target/bench/models-fresh."""
    work = os.path.join(root, "target/bench/models-fresh")
    os.makedirs(work, exist_ok=True)
    pairs = []
    for name, source in FRESH_SOURCES:
        ref = os.path.join(work, f"{name}.y4m")
        if not os.path.exists(ref):
            ffmpeg("-f", "lavfi", "-i", source, "-frames:v", "48", "-pix_fmt", "yuv420p", ref)
        for i, (label, args) in enumerate(FRESH_ENCODES):
            dist = os.path.join(work, f"{name}_{i}.mp4")
            if not os.path.exists(dist):
                ffmpeg("-i", ref, *args, "-pix_fmt", "yuv420p", dist)
            pairs.append((f"{name} {label}", ref, dist))
    return pairs


def bench(root):
    vmafx = os.path.join(root, "target/release/vmafx")
    corpus = os.path.join(root, "target/corpus")
    registry = os.path.join(root, "models")
    entries = json.load(open(os.path.join(registry, "registry.json")))["models"]
    newest = lambda id: max((m for m in entries if m["id"] == id), key=lambda m: m["version"])
    labels = {k: f"{m['id']}@{m['version']}" for k, m in (("fr", newest("fr-fast")), ("nr", newest("nr-luma")))}
    runs = {
        "fr": ["--model", "registry:fr-fast", "--registry", registry],
        "nr": ["--nr", "--model", "registry:nr-luma", "--registry", registry],
    }
    sets = {
        "the corpus pairs, content neither model was trained on": [
            (f"{clip} CRF {crf}", os.path.join(corpus, f"{clip}.y4m"),
             os.path.join(corpus, f"{clip}_x264_crf{crf}.mp4"))
            for clip in ["testsrc_324", "mandel_720", "life_720", "mandel_1080", "testsrc_1080"]
            for crf in ["23", "35", "45"]],
        "the fresh held-out set (rings and bars, x264 and x265), unseen by training and design": fresh_pairs(root),
    }
    measured = {}
    for held_out, pairs in sets.items():
        est = {"fr": [], "nr": []}
        rows = {"fr": [], "nr": []}
        truth = []
        for name, ref, dist in pairs:
            full = score(vmafx, ref, dist, [])
            v = [f["metrics"]["vmaf"] for f in full["frames"]]
            truth += v
            for kind, extra in runs.items():
                e = [f["metrics"][labels[kind]] for f in score(vmafx, ref, dist, extra)["frames"]]
                assert len(e) == len(v), (name, kind, len(e), len(v))
                est[kind] += e
                rows[kind].append((name, sum(v) / len(v), sum(e) / len(e)))
        measured[held_out] = (est, rows, truth)
    # Speed: the 1080p pair, full VMAF and each estimate, in rotated order.
    ref = os.path.join(corpus, "mandel_1080.y4m")
    dist = os.path.join(corpus, "mandel_1080_x264_crf35.mp4")
    rounds = int(os.environ.get("MODEL_ROUNDS", "10"))
    # "decode": the distorted decoded and thrown away by ffmpeg on the same libavcodec,
    # two threads: what any model that looks at every frame's pixels costs at the least.
    # "fr3": the same fr estimate on every third frame (libvmaf's subsample: the sampled
    # frames' estimates are the same numbers as in "fr").
    runs["fr3"] = runs["fr"] + ["--subsample", "3"]
    every = {f["frameNum"]: f["metrics"][labels["fr"]] for f in score(vmafx, ref, dist, runs["fr"])["frames"]}
    sampled = {f["frameNum"]: f["metrics"][labels["fr"]] for f in score(vmafx, ref, dist, runs["fr3"])["frames"]}
    assert sampled and all(n % 3 == 0 and every[n] == v for n, v in sampled.items()), (every, sampled)
    modes = ["full", "fr", "fr3", "nr", "decode"]
    walls = {m: [] for m in modes}
    for i in range(rounds + 1):
        for mode in modes[i % len(modes):] + modes[:i % len(modes)]:
            t = time.monotonic()
            if mode == "decode":
                subprocess.run(["ffmpeg", "-v", "error", "-threads", "2", "-i", dist, "-f", "null", "-"], check=True)
            else:
                score(vmafx, ref, dist, runs.get(mode, []))
            if i > 0:
                walls[mode].append(time.monotonic() - t)
    med = lambda v: sorted(v)[len(v) // 2]
    speed = {k: sorted(f / s for f, s in zip(walls["full"], walls[k])) for k in ("fr", "fr3", "nr", "decode")}
    lines = []
    for held_out, (est, rows, truth) in measured.items():
        lines += accuracy(labels["fr"], est["fr"], truth, rows["fr"], {"plcc": 0.99, "rmse": "<= 2"}, held_out)
        lines += accuracy(labels["nr"], est["nr"], truth, rows["nr"], {"plcc": 0.8, "srocc": ">= 0.8"}, held_out)
    lines += [
        f"Wall time on the 1080p pair (mandelbrot, 60 frames, x264 CRF 35, 2 libvmaf threads), {rounds} rounds "
        "in rotated order:",
        "",
        "| command | median wall (s) | speed-up over full VMAF (median of per-round ratios, range) | target |",
        "|---|---:|---:|---|",
        f"| vmafx score (full VMAF) | {med(walls['full']):.3f} | | |",
        f"| vmafx score --model registry:fr-fast | {med(walls['fr']):.3f} | "
        f"**{med(speed['fr']):.2f}x** ({speed['fr'][0]:.2f}–{speed['fr'][-1]:.2f}) | >= 5 |",
        f"| vmafx score --model registry:fr-fast --subsample 3 (every third frame) | {med(walls['fr3']):.3f} | "
        f"**{med(speed['fr3']):.2f}x** ({speed['fr3'][0]:.2f}–{speed['fr3'][-1]:.2f}) | >= 5 |",
        f"| vmafx score --nr --model registry:nr-luma | {med(walls['nr']):.3f} | "
        f"**{med(speed['nr']):.2f}x** ({speed['nr'][0]:.2f}–{speed['nr'][-1]:.2f}) | >= 10 |",
        f"| ffmpeg -threads 2 -i DIST -f null - (decode alone, the same libavcodec) | {med(walls['decode']):.3f} | "
        f"{med(speed['decode']):.2f}x ({speed['decode'][0]:.2f}–{speed['decode'][-1]:.2f}) | the bound |",
    ]
    out = os.path.join(root, "target/bench/models.md")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    open(out, "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    {"train": train, "bench": bench}[sys.argv[1]](sys.argv[2])
