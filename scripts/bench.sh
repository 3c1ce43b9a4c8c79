#!/usr/bin/env bash
# `make bench`: speed and memory of `vmafx score`, side by side with what a user would run
# instead, in the same run, reported as ratios. Writes target/bench/results.md (pasted into
# docs/benchmarks.md) and the raw hyperfine JSON next to it.
#
#   RUNS=20 scripts/bench.sh     # runs per command (default 10); ratios use medians
#   ONLY=tune scripts/bench.sh    # only vmafx-tune against ab-av1 (scripts/tune_bench.py)
#   ONLY=operator scripts/bench.sh  # only the operator under 1,000 VmafxJobs (scripts/operator_bench.py)
#   ONLY=sync scripts/bench.sh    # only what --sync check/auto cost (scripts/sync_bench.py)
#   ONLY=dispatch scripts/bench.sh  # only the controller's dispatch, SQLite and PostgreSQL (dispatch_bench)
#   ONLY=dashboard scripts/bench.sh  # only the dashboard's page for a 100,000-frame job (scripts/dashboard_bench.mjs)
#   ONLY=speed scripts/bench.sh   # only vmafx vs ffmpeg libvmaf, interleaved, with vmafx-probe (scripts/speed_bench.py)
#   ONLY=models scripts/bench.sh  # only the shipped fr model against full VMAF: accuracy and speed (scripts/models.py)
#   ONLY=loop scripts/bench.sh    # only what estimates and triple capture cost a node (scripts/loop_bench.py)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
corpus=${VMAFX_CORPUS:-$root/target/corpus}
out=$root/target/bench
mkdir -p "$out"
vmafx=$root/target/release/vmafx
ff9=$(python3 -c "import imageio_ffmpeg as m; print(m.get_ffmpeg_exe())")
runs=${RUNS:-10}

# vmafx-tune against ab-av1 (installed with cargo into target/tools, same ffmpeg 9 for both):
# target/bench/tune.md.
tune_bench() {
  [[ -x $root/target/tools/bin/ab-av1 ]] ||
    cargo install --locked --quiet --root "$root/target/tools" ab-av1 --version 0.11.7
  echo "== vmafx-tune against ab-av1: CRF search, x264/x265/SVT-AV1, two targets, three clips" >&2
  python3 "$root/scripts/tune_bench.py" "$out" "$corpus" "$root/target/release/vmafx-tune" "$vmafx" \
    "$root/target/tools/bin/ab-av1" "$ff9" >&2
}
if [[ ${ONLY:-} == tune ]]; then
  tune_bench
  cat "$out/tune.md"
  exit 0
fi

# Remote inputs: the 1080p corpus pair from local files, over HTTP from range-capable servers
# (nginx, as an origin or CDN serves files; rclone serve http) and from S3 (moto), all on
# loopback, same run: target/bench/remote.md.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
remote_bench() {
  local ref=$corpus/mandel_1080.y4m dist=$corpus/mandel_1080_x264_crf35.mp4
  local ngx ngx_port rclone_port s3_port
  ngx=$(mktemp -d)
  ngx_port=$(free_port); rclone_port=$(free_port); s3_port=$(free_port)
  cat >"$ngx/nginx.conf" <<NGINX
daemon off;
worker_processes 1;
pid $ngx/nginx.pid;
error_log $ngx/error.log;
events { worker_connections 64; }
http {
  access_log off;
  sendfile on;
  client_body_temp_path $ngx; proxy_temp_path $ngx; fastcgi_temp_path $ngx; uwsgi_temp_path $ngx; scgi_temp_path $ngx;
  server { listen 127.0.0.1:$ngx_port; root $corpus; }
}
NGINX
  nginx -c "$ngx/nginx.conf" &
  local nginx_pid=$!
  rclone serve http --config /dev/null --addr "127.0.0.1:$rclone_port" "$corpus" >/dev/null 2>&1 &
  local web=$!
  python3 -m moto.server -H 127.0.0.1 -p "$s3_port" >/dev/null 2>&1 &
  local moto=$!
  for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$ngx_port/" && curl -s -o /dev/null "http://127.0.0.1:$rclone_port/" &&
      curl -s -o /dev/null "http://127.0.0.1:$s3_port/" && break
    sleep 0.1
  done
  export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_DEFAULT_REGION=us-east-1 \
    AWS_ENDPOINT_URL=http://127.0.0.1:$s3_port AWS_ALLOW_HTTP=true
  env -u AWS_CA_BUNDLE python3 -c '
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1])
s3.create_bucket(Bucket="corpus")
for f in sys.argv[2:]:
    s3.upload_file(f, "corpus", f.rsplit("/", 1)[-1])' "$AWS_ENDPOINT_URL" "$ref" "$dist"
  url_pair() { printf '%s/mandel_1080.y4m %s/mandel_1080_x264_crf35.mp4' "$1" "$1"; }
  echo "== remote inputs: 1080p pair from local files, over HTTP (nginx, rclone serve http), from S3 (moto)" >&2
  hyperfine --warmup 1 --runs "$runs" --export-json "$out/remote.json" \
    -n "local files" "$vmafx score -q --threads 2 $ref $dist" \
    -n "http:// (nginx)" "$vmafx score -q --threads 2 $(url_pair "http://127.0.0.1:$ngx_port")" \
    -n "http:// (rclone serve http)" "$vmafx score -q --threads 2 $(url_pair "http://127.0.0.1:$rclone_port")" \
    -n "s3:// (moto)" "$vmafx score -q --threads 2 $(url_pair s3://corpus)" >&2
  kill "$nginx_pid" "$web" "$moto"
  wait "$nginx_pid" "$web" "$moto" 2>/dev/null || true
  rm -rf "$ngx"
  python3 - "$out/remote.json" >"$out/remote.md" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
print(f"| 1080p pair, 60 frames ({len(r[0]['times'])} runs) | median wall (s) | mean ± stddev (s) | / local |")
print("|---|---:|---:|---:|")
for x in r:
    print(f"| {x['command']} | {x['median']:.3f} | {x['mean']:.3f} ± {x['stddev']:.3f} | {x['median'] / r[0]['median']:.2f}x |")
print()
print(f"- over HTTP from nginx / local files: **{r[1]['median'] / r[0]['median']:.2f}x** (target <= 1.10); "
      f"from rclone serve http: {r[2]['median'] / r[0]['median']:.2f}x; from S3 on moto: {r[3]['median'] / r[0]['median']:.2f}x "
      f"(reported only: moto reads whole objects for ranged GETs). The servers share the 2 cores with the scoring.")
PY
}
if [[ ${ONLY:-} == remote ]]; then
  remote_bench
  cat "$out/remote.md"
  exit 0
fi

# The operator under load: 1,000 VmafxJobs created at once on the fake API server, timed
# until all are Submitted: target/bench/operator.md.
operator_bench() {
  echo "== vmafx-operator: 1,000 VmafxJobs to Submitted" >&2
  python3 "$root/scripts/operator_bench.py" "$out" "$root/target/release" \
    "$corpus/testsrc_324.y4m" "$corpus/testsrc_324_x264_crf35.mp4" 1000 >&2
}
if [[ ${ONLY:-} == operator ]]; then
  operator_bench
  cat "$out/operator.md"
  exit 0
fi

# The dashboard: a 100,000-frame job's page in headless Chromium, time to first byte and to
# a drawn plot: target/bench/dashboard.md.
dashboard_bench() {
  echo "== dashboard: the job page of a 100,000-frame job, $runs fresh loads" >&2
  local chromium=/usr/lib/chromium/chromium
  [[ -x $chromium ]] || chromium=$(command -v chromium)
  node "$root/scripts/dashboard_bench.mjs" "$out" "$vmafx" "$root/target/ui-test/node_modules" "$chromium" 100000 "$runs" >&2
}
if [[ ${ONLY:-} == dashboard ]]; then
  dashboard_bench
  cat "$out/dashboard.md"
  exit 0
fi

# The shipped fr model (models/, `make models`) on the corpus, content it was not trained on:
# target/bench/models.md.
models_bench() {
  echo "== models: fr-fast against full VMAF on held-out clips, and its speed on 1080p" >&2
  python3 "$root/scripts/models.py" bench "$root"
}
if [[ ${ONLY:-} == models ]]; then
  models_bench
  exit 0
fi

# What the learning loop costs a node: estimates beside VMAF, capture with and without a
# trainer (scripts/loop_bench.py): target/bench/loop.md.
loop_bench() {
  echo "== loop: a node's item time with an estimate, with capture on (trainer present or not) and off" >&2
  python3 "$root/scripts/loop_bench.py" "$root"
}
if [[ ${ONLY:-} == loop ]]; then
  loop_bench
  exit 0
fi

ref=$corpus/mandel_1080.y4m
dist=$corpus/mandel_1080_x264_crf35.mp4

# Frame alignment: --sync check (the default) and auto against off, interleaved A/B rounds
# on the 1080p pair: target/bench/sync.md.
sync_bench() {
  echo "== frame alignment: vmafx score --sync off / check / auto, 1080p pair, $runs interleaved rounds" >&2
  python3 "$root/scripts/sync_bench.py" "$out" "$vmafx" "$ref" "$dist" "$runs" >/dev/null
}
# The controller alone: one controller, 200 simulated nodes over gRPC; SQLite, then
# PostgreSQL (fsync on). Each line of target/bench/dispatch.jsonl is one dispatch_bench run
# (see its header for what it does); target/bench/dispatch.md is the table.
dispatch_bench() {
  # Built by `make bench` (the Makefile builds the example for every part that needs it).
  local bench=$root/target/release/examples/dispatch_bench
  echo "== dispatch: one controller, 200 simulated nodes over gRPC; SQLite, then PostgreSQL (fsync on)" >&2
  # The queue-length comparison is three interleaved pairs: a p99 of a few thousand calls on
  # a shared 2-core machine moves from run to run, so the report takes the median ratio.
  local runs=(
    "--nodes 200 --jobs 100 --segments 100"
    "--nodes 200 --jobs 50 --segments 100 --work-ms 200 --jitter-ms 50"
    "--nodes 200 --jobs 50 --segments 100 --work-ms 200"
  )
  for _ in 1 2 3; do
    runs+=("--nodes 200 --jobs 2000 --segments 5 --backlog 1000" "--nodes 200 --jobs 2000 --segments 5 --backlog 100000")
  done
  : >"$out/dispatch.jsonl"
  local args
  for args in "${runs[@]}"; do
    echo "   sqlite: $args" >&2
    # shellcheck disable=SC2086
    "$bench" $args --json >>"$out/dispatch.jsonl"
  done
  # The same closed loop without TLS: what TLS and per-node credentials cost, in the same run.
  echo "   sqlite: ${runs[0]} --plaintext" >&2
  # shellcheck disable=SC2086
  "$bench" ${runs[0]} --plaintext --json >>"$out/dispatch.jsonl"
  DISPATCH_RUNS="${runs[*]/%/;}" PG_FSYNC=on "$root/scripts/with-postgres.sh" bash -c '
    IFS=";" read -ra runs <<<"$DISPATCH_RUNS"
    n=0
    for args in "${runs[@]}"; do
      args=$(echo $args); [[ -z $args ]] && continue
      n=$((n + 1)); db="bench_$n"
      psql "$VMAFX_TEST_POSTGRES" -qc "CREATE DATABASE $db"
      echo "   postgres: $args" >&2
      "$0" $args --store "${VMAFX_TEST_POSTGRES%/*}/$db" --json
    done' "$bench" >>"$out/dispatch.jsonl"
  python3 "$root/scripts/dispatch_report.py" "$out/dispatch.jsonl" >"$out/dispatch.md"
}
if [[ ${ONLY:-} == dispatch ]]; then
  dispatch_bench
  cat "$out/dispatch.md"
  exit 0
fi

if [[ ${ONLY:-} == sync ]]; then
  sync_bench
  cat "$out/sync.md"
  exit 0
fi
predecoded=$out/mandel_1080_x264_crf35.y4m
[[ -s $predecoded ]] || ffmpeg -nostdin -hide_banner -loglevel error -i "$dist" -pix_fmt yuv420p -y "$predecoded"

# vmafx score against ffmpeg's libvmaf as interleaved rounds (median of per-round ratios),
# in-process decoding against the ffmpeg subprocess, and vmafx-probe's view of each:
# target/bench/speed.md.
speed_bench() {
  echo "== speed: interleaved rounds, vmafx (in-process / ffmpeg decoding) vs ffmpeg libvmaf" >&2
  python3 "$root/scripts/speed_bench.py" "$out" "${SPEED_ROUNDS:-12}" "$vmafx" "$root/target/release/vmafx-probe" \
    "$ff9" "$ref" "$dist" "$predecoded"
}
if [[ ${ONLY:-} == speed ]]; then
  speed_bench
  cat "$out/speed.md"
  exit 0
fi
speed_bench
models_bench >&2
loop_bench >&2

echo "== speed: 1080p mandelbrot, 60 frames, 2 libvmaf threads each" >&2
hyperfine --warmup 1 --runs "$runs" --export-json "$out/speed.json" \
  -n "vmafx score (y4m ref, x264 mp4 dist)" "$vmafx score -q --threads 2 $ref $dist" \
  -n "ffmpeg -lavfi libvmaf=n_threads=2" "$ff9 -nostdin -hide_banner -loglevel error -i $dist -i $ref -lavfi libvmaf=n_threads=2 -f null -" \
  -n "vmafx score (dist pre-decoded to y4m)" "$vmafx score -q --threads 2 $ref $predecoded" >&2

echo "== memory: 1080p, 60 vs 600 frames" >&2
long_ref=$out/testsrc_1080_600.y4m
long_dist=$out/testsrc_1080_600_x264_crf35.mp4
if [[ ! -s $long_dist ]]; then
  ffmpeg -nostdin -hide_banner -loglevel error -f lavfi -i testsrc2=size=1920x1080:rate=24 -frames:v 600 -pix_fmt yuv420p -y "$long_ref"
  ffmpeg -nostdin -hide_banner -loglevel error -i "$long_ref" -c:v libx264 -preset veryfast -crf 35 -y "$long_dist"
fi
rss() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
short_ref=$corpus/testsrc_1080.y4m
short_dist=$corpus/testsrc_1080_x264_crf35.mp4
m_v60=$(rss "$vmafx" score -q --threads 2 "$short_ref" "$short_dist")
m_v600=$(rss "$vmafx" score -q --threads 2 "$long_ref" "$long_dist")
m_f60=$(rss "$ff9" -nostdin -hide_banner -loglevel error -i "$short_dist" -i "$short_ref" -lavfi libvmaf=n_threads=2 -f null -)
m_f600=$(rss "$ff9" -nostdin -hide_banner -loglevel error -i "$long_dist" -i "$long_ref" -lavfi libvmaf=n_threads=2 -f null -)

echo "== platform path: vmafx up + vmafx submit --wait vs vmafx score, same pair, 2 threads" >&2
updata=$out/up-data
rm -rf "$updata"
"$vmafx" up --data-dir "$updata" --listen 127.0.0.1:0 --http-listen 127.0.0.1:0 --threads 2 >"$out/up.log" 2>&1 &
up_pid=$!
trap 'kill $up_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q "controller on" "$out/up.log" && break; sleep 0.1; done
grpc=$(grep -o 'controller on https://[0-9.:]*' "$out/up.log" | cut -d' ' -f3)
hyperfine --warmup 1 --runs "$runs" --export-json "$out/platform.json" \
  -n "vmafx score" "$vmafx score -q --threads 2 $ref $dist" \
  -n "vmafx submit --wait (to vmafx up)" "VMAFX_DATA_DIR=$updata $vmafx submit -q --wait --controller $grpc $ref $dist" >&2
kill "$up_pid"; wait "$up_pid" 2>/dev/null || true

dispatch_bench

small_ref=$corpus/testsrc_324.y4m
echo "== submissions: 10,000 over HTTP from 50 concurrent clients (Y4M pair), 1,000 with an MP4 distorted" >&2
submit_load() { # inputs... -> JSON
  local data; data=$(mktemp -d)
  "$root/target/release/vmafx-controller" --data-dir "$data" --listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
    --allow-root "$corpus" >"$data/log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do grep -q "HTTP listening" "$data/log" && break; sleep 0.1; done
  local http; http=$(grep -o 'HTTP listening on [0-9.:]*' "$data/log" | awk '{print $4}')
  VMAFX_CA="$data/tls/ca.pem" python3 "$root/scripts/submit_bench.py" "$http" "$(cat "$data/admin.token")" "$@"
  kill "$pid"; wait "$pid" 2>/dev/null || true; rm -rf "$data"
}
submit_load "$small_ref" "$small_ref" 10000 50 >"$out/submit.json"
submit_load "$small_ref" "$corpus/testsrc_324_x264_crf35.mp4" 1000 50 >"$out/submit_mp4.json"

echo "== MCP: vmaf_score over stdio vs vmafx score, small pair (576x324, 48 frames)" >&2
small_dist=$corpus/testsrc_324_x264_crf35.mp4
hyperfine --warmup 1 --runs "$runs" --export-json "$out/mcp_cli.json" \
  -n "vmafx score" "$vmafx score -q --threads 2 $small_ref $small_dist" >&2
python3 "$root/scripts/mcp_bench.py" "$root/target/release/vmafx-mcp" "$small_ref" "$small_dist" "$runs" >"$out/mcp.json"

python3 - "$out/speed.json" "$m_v60" "$m_v600" "$m_f60" "$m_f600" "$out/platform.json" "$out/dispatch.md" "$out/mcp_cli.json" "$out/mcp.json" "$out/submit.json" "$out/submit_mp4.json" > "$out/results.md" <<'PY'
import json, sys, platform, subprocess, os
speed = json.load(open(sys.argv[1]))["results"]
v60, v600, f60, f600 = (int(x) / 1024 for x in sys.argv[2:6])
by = {r["command"]: r for r in speed}
names = [r["command"] for r in speed]
median = lambda n: by[n]["median"]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"Machine: {os.cpu_count()} cores, {cpu}; {platform.platform()}\n")
print(f"| command ({len(speed[0]['times'])} runs) | median wall (s) | mean ± stddev (s) | user (s) | sys (s) |")
print("|---|---:|---:|---:|---:|")
for r in speed:
    print(f"| {r['command']} | {r['median']:.3f} | {r['mean']:.3f} ± {r['stddev']:.3f} | {r['user']:.3f} | {r['system']:.3f} |")
print()
print(f"- vmafx / ffmpeg libvmaf: **{median(names[0]) / median(names[1]):.2f}x** median wall time (target <= 0.90)")
print(f"- vmafx on mp4 / vmafx on pre-decoded y4m: **{median(names[0]) / median(names[2]):.2f}x** (target <= 1.10)")
print()
print("| peak RSS (MiB) | 60 frames | 600 frames | 600/60 |")
print("|---|---:|---:|---:|")
print(f"| vmafx score | {v60:.0f} | {v600:.0f} | {v600 / v60:.2f} |")
print(f"| ffmpeg -lavfi libvmaf | {f60:.0f} | {f600:.0f} | {f600 / f60:.2f} |")
print()
platform_runs = json.load(open(sys.argv[6]))["results"]
print(f"| platform path ({len(platform_runs[0]['times'])} runs) | median wall (s) | mean ± stddev (s) |")
print("|---|---:|---:|")
for r in platform_runs:
    print(f"| {r['command']} | {r['median']:.3f} | {r['mean']:.3f} ± {r['stddev']:.3f} |")
print()
print(f"- vmafx up + submit --wait / vmafx score: **{platform_runs[1]['median'] / platform_runs[0]['median']:.2f}x** (target <= 1.10)")
print()
print(open(sys.argv[7]).read())
cli = json.load(open(sys.argv[8]))["results"][0]
m = json.load(open(sys.argv[9]))
print(f"| MCP, small pair ({len(m['times'])} runs) | median wall (s) |")
print("|---|---:|")
print(f"| vmafx score (process per run) | {cli['median']:.3f} |")
print(f"| vmaf_score call over stdio (server running) | {m['median_s']:.3f} |")
print(f"| vmafx-mcp start + initialize (once per session) | {m['session_start_s']:.3f} |")
print()
print(f"- vmaf_score round trip / vmafx score: **{m['median_s'] / cli['median']:.2f}x**")
print()
print("| HTTP submissions, 50 concurrent clients | submitted | on the controller | duplicates | per second | p50 (ms) | p99 (ms) | retries |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for label, path in (("Y4M pair (probed natively)", sys.argv[10]), ("MP4 distorted (probed once, then remembered)", sys.argv[11])):
    b = json.load(open(path))
    print(f"| {label} | {b['submissions']} | {b['jobs_on_controller']} | {b['duplicates']} | {b['per_s']:.0f} | {b['p50_ms']:.1f} | {b['p99_ms']:.1f} | {b['retries']} |")
PY
remote_bench
cat "$out/remote.md" >>"$out/results.md"
operator_bench
cat "$out/operator.md" >>"$out/results.md"
sync_bench
cat "$out/sync.md" >>"$out/results.md"
dashboard_bench
cat "$out/dashboard.md" >>"$out/results.md"
tune_bench
cat "$out/tune.md" >>"$out/results.md"
cat "$out/results.md"
