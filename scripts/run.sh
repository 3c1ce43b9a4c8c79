#!/usr/bin/env bash
# `make run`: scores REF against DIST, or a sample pair made on the fly when none is given.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
ref=${1:-}; dist=${2:-}; shift 2 || true
vmafx=$root/target/release/vmafx
if [[ -z $ref || -z $dist ]]; then
  sample=$root/target/sample
  mkdir -p "$sample"
  ref=$sample/reference.y4m
  dist=$sample/distorted_x264_crf32.mp4
  if [[ ! -s $ref || ! -s $dist ]]; then
    echo "make run: making a sample pair in $sample (2 s of 720p testsrc2, x264 CRF 32)" >&2
    ffmpeg -nostdin -hide_banner -loglevel error -f lavfi -i testsrc2=size=1280x720:rate=24 \
      -frames:v 48 -pix_fmt yuv420p -y "$ref"
    ffmpeg -nostdin -hide_banner -loglevel error -i "$ref" -c:v libx264 -preset veryfast \
      -crf 32 -pix_fmt yuv420p -y "$dist"
  fi
fi
echo "+ vmafx score --reference $ref --distorted $dist --feature psnr --feature float_ssim $*" >&2
exec "$vmafx" score --reference "$ref" --distorted "$dist" --feature psnr --feature float_ssim "$@"
