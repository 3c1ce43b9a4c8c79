#!/usr/bin/env bash
# `make run`: scores REF against DIST, or a sample pair made on the fly when none is given.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ref=${1:-}; dist=${2:-}; shift 2 || true
vmafx=$root/target/release/vmafx
if [[ -z $ref || -z $dist ]]; then
  "$root/scripts/sample.sh"
  ref=$root/target/sample/reference.y4m
  dist=$root/target/sample/distorted_x264_crf32.mp4
fi
echo "+ vmafx score --reference $ref --distorted $dist --feature psnr --feature float_ssim $*" >&2
exec "$vmafx" score --reference "$ref" --distorted "$dist" --feature psnr --feature float_ssim "$@"
