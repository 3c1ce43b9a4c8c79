#!/usr/bin/env bash
# Makes the sample pair (2 s of 720p testsrc2, and its x264 CRF 32 encode) in target/sample,
# unless it is there: what `make run` scores by default and what the README's tour uses.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sample=$root/target/sample
ref=$sample/reference.y4m
dist=$sample/distorted_x264_crf32.mp4
if [[ ! -s $ref || ! -s $dist ]]; then
  mkdir -p "$sample"
  echo "making a sample pair in $sample (2 s of 720p testsrc2, x264 CRF 32)" >&2
  ffmpeg -nostdin -hide_banner -loglevel error -f lavfi -i testsrc2=size=1280x720:rate=24 \
    -frames:v 48 -pix_fmt yuv420p -y "$ref"
  ffmpeg -nostdin -hide_banner -loglevel error -i "$ref" -c:v libx264 -preset veryfast \
    -crf 32 -pix_fmt yuv420p -y "$dist"
fi
