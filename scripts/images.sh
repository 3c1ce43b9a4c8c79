#!/usr/bin/env bash
# `make images`: the container images, one per binary (deploy/images/NAME/Dockerfile), built
# with buildah (vfs storage, chroot isolation: no daemon, works as root in a container) from
# binaries built on the host, and tagged localhost/NAME:VERSION.
#
#   scripts/images.sh                      # every image, from target/release
#   scripts/images.sh --smoke NAME...      # these images, then run each: --version, its
#                                          # user, and the node's ffmpeg and rclone
#   PROFILE=debug scripts/images.sh ...    # from target/debug (what `make test` builds)
#   BASE=debian:bookworm-slim scripts/images.sh   # another base image
#
# No public registry is reachable here, so the default base is a Debian bookworm minbase made
# on this machine with debootstrap from Debian's own mirror (localhost/debian-base:bookworm,
# made once). Elsewhere, BASE=debian:bookworm-slim builds the same images.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
profile=${PROFILE:-release}
smoke=0
names=()
for arg in "$@"; do
  case $arg in
    --smoke) smoke=1 ;;
    -*) echo "images.sh: unknown option $arg" >&2; exit 2 ;;
    *) names+=("$arg") ;;
  esac
done
[[ ${#names[@]} -gt 0 ]] || names=(vmafx vmafx-controller vmafx-node vmafx-operator vmafx-tune vmafx-mcp)
b() { buildah --storage-driver vfs "$@"; }
version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' "$root/Cargo.toml")

base=${BASE:-localhost/debian-base:bookworm}
if [[ -z ${BASE:-} ]] && ! b inspect --type image "$base" >/dev/null 2>&1; then
  mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  echo "images: making $base with debootstrap from $mirror" >&2
  rootfs=$(mktemp -d)
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >/dev/null
  c=$(b from scratch)
  b copy "$c" "$rootfs" / >/dev/null
  b commit -q "$c" "$base" >/dev/null
  b rm "$c" >/dev/null
  rm -rf "$rootfs"
fi

ffmpeg9=$(python3 -c 'import imageio_ffmpeg as m; print(m.get_ffmpeg_exe())')
for name in "${names[@]}"; do
  dockerfile=$root/deploy/images/$name/Dockerfile
  binary=$root/target/$profile/$name
  [[ -f $dockerfile ]] || { echo "images: no $dockerfile" >&2; exit 2; }
  [[ -x $binary ]] || { echo "images: $binary is missing: build it first (cargo build --profile $profile --bin $name)" >&2; exit 2; }
  tag=localhost/$name:$version
  echo "images: building $tag" >&2
  context=$(mktemp -d)
  cp "$binary" "$context/$name"
  grep -q '/out/ffmpeg' "$dockerfile" && cp "$ffmpeg9" "$context/ffmpeg"
  if grep -q 'vmafx-trainer' "$dockerfile"; then
    trainer=$root/target/$profile/vmafx-trainer
    [[ -x $trainer ]] || { echo "images: $trainer is missing: build it first (cargo build --profile $profile --bin vmafx-trainer)" >&2; exit 2; }
    cp "$trainer" "$context/vmafx-trainer"
  fi
  if grep -q 'libonnxruntime.so' "$dockerfile"; then
    ort=$(python3 -c 'import glob, os, onnxruntime as m; print(sorted(glob.glob(os.path.join(os.path.dirname(m.__file__), "capi", "libonnxruntime.so.*")))[-1])')
    cp "$ort" "$context/libonnxruntime.so"
  fi
  b bud --quiet --isolation chroot --layers=false --build-arg BASE="$base" -f "$dockerfile" -t "$tag" "$context" >/dev/null
  rm -rf "$context"

  if [[ $smoke == 1 ]]; then
    c=$(b from "$tag")
    trap 'b rm "$c" >/dev/null 2>&1 || true' EXIT
    run() { b run --isolation chroot "$c" -- "$@"; }
    user=$(b inspect --type image --format '{{.OCIv1.Config.User}}' "$tag")
    [[ $user == 10001:10001 ]] || { echo "images: $tag runs as '$user', not the non-root 10001" >&2; exit 1; }
    got=$(run "$name" --version)
    [[ $got == "$name $version" ]] || { echo "images: $tag: '$name --version' says '$got'" >&2; exit 1; }
    echo "images: $tag: $got, user $user" >&2
    if [[ $name == vmafx-node ]]; then
      ff=$(run sh -c 'command -v ffmpeg && ffmpeg -hide_banner -version | head -1')
      [[ $ff =~ /usr/local/bin/ffmpeg.*ffmpeg\ version\ n?9\. ]] || { echo "images: $tag: ffmpeg is not 9: $ff" >&2; exit 1; }
      run ffprobe -hide_banner -version | head -1 >&2
      rc=$(run rclone version | head -1)
      [[ $rc == rclone* ]] || { echo "images: $tag: no rclone: $rc" >&2; exit 1; }
      run sh -c 'command -v fusermount3' >/dev/null || { echo "images: $tag: no fusermount3" >&2; exit 1; }
      tr=$(run vmafx-trainer --version)
      [[ $tr == "vmafx-trainer $version" ]] || { echo "images: $tag: 'vmafx-trainer --version' says '$tr'" >&2; exit 1; }
      run sh -c 'test -s "$VMAFX_ORT_LIB"' || { echo "images: $tag: no ONNX Runtime library" >&2; exit 1; }
      echo "images: $tag: $tr, ONNX Runtime library in place" >&2
      echo "images: $tag: $(echo "$ff" | tail -1 | cut -c1-40), $rc" >&2
    fi
    b rm "$c" >/dev/null
  fi
done
# The images these tags replaced (vfs keeps every layer whole: gigabytes per run otherwise).
b rmi --prune >/dev/null 2>&1 || true
b images --format '{{.Name}}:{{.Tag}} {{.Size}}' | grep -E "localhost/vmafx" >&2 || true
