#!/usr/bin/env bash
# Builds the shared test/benchmark corpus once into target/corpus (idempotent, locked): small,
# deterministic reference/distorted pairs, NAME.y4m references from lavfi sources and
# NAME_x264_crfN.mp4 distortions at three quality levels.
#   scripts/corpus.sh             # into target/corpus
#   VMAFX_CORPUS=DIR scripts/corpus.sh
# Env: FFMPEG (default: ffmpeg) must have libx264.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${VMAFX_CORPUS:-$root/target/corpus}
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9
cd "$out"
FF=${FFMPEG:-ffmpeg}
# A clip is made again (with its distortions) when its recipe changes: NAME.recipe holds it.
# Sources with random state (life, cellauto, gradients, sierpinski) take a fixed seed, so
# every machine makes the same clips.
gen() { # name lavfi-source frames
  local name=$1 src=$2 n=$3
  local recipe="$src frames=$n"
  [[ -f $name.y4m && "$(cat "$name.recipe" 2>/dev/null)" == "$recipe" ]] && return
  rm -f "$name"_x264_crf*.mp4
  $FF -nostdin -hide_banner -loglevel error -f lavfi -i "$src" -frames:v "$n" -pix_fmt yuv420p -f yuv4mpegpipe -y "$name.y4m.part"
  mv "$name.y4m.part" "$name.y4m"
  echo "$recipe" > "$name.recipe"
}
gen testsrc_324  "testsrc2=size=576x324:rate=24" 48
gen mandel_720   "mandelbrot=size=1280x720:rate=24" 48
gen life_720     "life=size=1280x720:rate=24:mold=10:ratio=0.5:death_color=#204060:life_color=#e0c080:seed=1" 48
gen testsrc_1080 "testsrc2=size=1920x1080:rate=24" 60
gen mandel_1080  "mandelbrot=size=1920x1080:rate=24" 60
for src in testsrc_324 mandel_720 life_720 testsrc_1080 mandel_1080; do
  for crf in 23 35 45; do
    f=${src}_x264_crf$crf.mp4
    [[ -f $f ]] && continue
    $FF -nostdin -hide_banner -loglevel error -i "$src.y4m" -c:v libx264 -preset veryfast -crf "$crf" -pix_fmt yuv420p -y "$f.part.mp4"
    mv "$f.part.mp4" "$f"
  done
done
