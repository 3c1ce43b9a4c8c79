"""What the learning loop costs a node (issue 15, docs/models.md): one controller, a trainer and
two nodes on this machine, the 1080p corpus pair scored as cluster jobs, interleaved rounds of

  base        a plain job (full VMAF)
  estimate    the same job with an estimate by the shipped fr model, capture off (no_capture)
  present     with capture on, the trainer listening
  absent      with capture on, no trainer at the node's socket (the queue drops the oldest)

Times are the node's own (its "item scored" log event: the item from lease to result) and the
ONNX Runtime time of each estimate (its "estimated" event). Writes target/bench/loop.md.

    python3 scripts/loop_bench.py ROOT
"""

import http.client
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time

root = sys.argv[1]
rel = os.path.join(root, "target/release")
corpus = os.path.realpath(os.path.join(root, "target/corpus"))
ref = os.path.join(corpus, "mandel_1080.y4m")
dist = os.path.join(corpus, "mandel_1080_x264_crf35.mp4")
rounds = int(os.environ.get("LOOP_ROUNDS", "10"))
tmp = tempfile.mkdtemp(prefix="vmafx-loop-bench-")
procs = []


def start(args, **kw):
    p = subprocess.Popen(args, **kw)
    procs.append(p)
    return p


def line_after(stream, prefix):
    for line in stream:
        line = line.decode() if isinstance(line, bytes) else line
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    raise SystemExit(f"no line starting {prefix!r}")


try:
    registry = os.path.join(tmp, "registry")
    shutil.copytree(os.path.join(root, "models"), registry)
    data = os.path.join(tmp, "data")
    ctl = start([f"{rel}/vmafx-controller", "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0",
                 "--data-dir", data, "--allow-root", corpus], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    http_addr = line_after(ctl.stdout, "vmafx-controller: HTTP listening on ")
    grpc = line_after(ctl.stdout, "vmafx-controller: gRPC listening on ")
    ca = os.path.join(data, "tls/ca.pem")
    admin = open(os.path.join(data, "admin.token")).read().strip()
    node_token = open(os.path.join(data, "node.token")).read().strip()
    socket = os.path.join(tmp, "trainer.sock")
    # No checkpoint during the bench: a fit would take the cores the node is timed on.
    start([f"{rel}/vmafx-trainer", "serve", "--registry", registry, "--socket", socket, "--id", "fr-fast",
           "--min-new", "1000000000"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    logs = {}
    for name, sock in [("present", socket), ("absent", os.path.join(tmp, "nobody.sock"))]:
        logs[name] = os.path.join(tmp, f"node-{name}.log")
        start([f"{rel}/vmafx-node", "--controller", f"https://{grpc}", "--ca", ca, "--name", name,
               "--label", f"trainer={name}", "--threads", "2", "--allow-root", corpus, "--registry", registry,
               "--trainer", sock, "--log-format", "json"],
              env={**os.environ, "VMAFX_TOKEN": node_token}, stdout=subprocess.DEVNULL,
              stderr=open(logs[name], "w"))
    host, port = http_addr.rsplit(":", 1)
    tls = ssl.create_default_context(cafile=ca)

    def call(method, path, body=None):
        conn = http.client.HTTPSConnection(host, int(port), timeout=120, context=tls)
        conn.request(method, path, json.dumps(body) if body else None,
                     {"Authorization": f"Bearer {admin}", "Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"{}")

    def job(mode):
        score = {"reference": ref, "distorted": dist,
                 "requirements": {"labels": {"trainer": "absent" if mode == "absent" else "present"}}}
        if mode != "base":
            score["estimate"] = {"model": "fr-fast", "no_capture": mode == "estimate"}
        status, j = call("POST", "/v1/jobs", {"score": score})
        assert status == 201, j
        while True:
            _, j = call("GET", f"/v1/jobs/{j['id']}")
            if j["state"] == "succeeded":
                return j["id"]
            assert j["state"] in ("queued", "running"), j
            time.sleep(0.02)

    modes = ["base", "estimate", "present", "absent"]
    ids = {m: [] for m in modes}
    time.sleep(1)  # both nodes registered
    for r in range(rounds + 1):
        order = modes[r % 4:] + modes[:r % 4]
        for m in order:
            i = job(m)
            if r > 0:  # the first round warms caches and loads the model
                ids[m].append(i)
    time.sleep(1)

    def events():
        for path in logs.values():
            for line in open(path):
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                flat = {}
                def walk(v):
                    if isinstance(v, dict):
                        for k, x in v.items():
                            if isinstance(x, (dict, list)):
                                walk(x)
                            else:
                                flat.setdefault(k, x)
                    elif isinstance(v, list):
                        for x in v:
                            walk(x)
                walk(e)
                yield flat
    seconds, inference = {}, {}
    for e in events():
        msg = e.get("message", "")
        if msg == "item scored":
            seconds[e["job_id"]] = float(e["seconds"])
        elif msg == "estimated":
            inference[e["job_id"]] = float(e["inference_seconds"])
    t = {m: [seconds[i] for i in ids[m]] for m in modes}
    med = lambda v: sorted(v)[len(v) // 2]
    def ratio(a, b):
        rs = sorted(x / y for x, y in zip(t[a], t[b]))
        return f"**{med(rs):.3f}x** ({rs[0]:.3f}–{rs[-1]:.3f})"
    shares = sorted(inference[i] / seconds[i] for m in ("estimate", "present", "absent") for i in ids[m])
    lines = [
        f"The 1080p corpus pair (mandelbrot, 60 frames, x264 CRF 35) as cluster jobs on one node with 2 libvmaf "
        f"threads, the shipped `fr-fast` model; {rounds} interleaved rounds; the node's own item times:",
        "",
        "| job | median item time (s) |",
        "|---|---:|",
        f"| plain (full VMAF) | {med(t['base']):.3f} |",
        f"| with an estimate, capture off | {med(t['estimate']):.3f} |",
        f"| with an estimate, capture on, trainer present | {med(t['present']):.3f} |",
        f"| with an estimate, capture on, no trainer | {med(t['absent']):.3f} |",
        "",
        "| ratio (median of per-round ratios, range) | value | target |",
        "|---|---|---|",
        f"| capture on, trainer present / capture off | {ratio('present', 'estimate')} | <= 1.02 |",
        f"| capture on, no trainer / capture off | {ratio('absent', 'estimate')} | <= 1.02 |",
        f"| the model's inputs and inference (estimate, capture off) / plain | {ratio('estimate', 'base')} | reported |",
        f"| ONNX Runtime inference / item time (median, range over {len(shares)} jobs) | "
        f"**{100 * med(shares):.3f} %** ({100 * shares[0]:.3f}–{100 * shares[-1]:.3f} %) | <= 2 % |",
    ]
    out = os.path.join(root, "target/bench/loop.md")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    open(out, "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))
finally:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
    shutil.rmtree(tmp, ignore_errors=True)
