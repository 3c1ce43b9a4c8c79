#!/usr/bin/env bash
# `make fuzz`: runs each fuzz target under libFuzzer for FUZZ_SECONDS (default 60) with
# cargo-fuzz in `--sanitizer none` mode (stable Rust), starting from the seeds in
# fuzz/corpus/TARGET. New inputs go to a scratch corpus, not into the repository; a crash,
# a panic or a hang (10 s on one input) is kept in fuzz/artifacts/TARGET and fails the run.
set -euo pipefail
seconds=${FUZZ_SECONDS:-60}
targets=(${FUZZ_TARGETS:-http_job_json submit_job y4m_header})
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz (crates.io)" >&2
  "${CARGO:-cargo}" install cargo-fuzz --locked
fi
cd "$(dirname "$0")/../fuzz"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in "${targets[@]}"; do
  mkdir -p "$work/$t"
  echo "fuzz: $t for ${seconds} s" >&2
  if ! "${CARGO:-cargo}" fuzz run --sanitizer none "$t" "$work/$t" "corpus/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 >"$work/$t.log" 2>&1; then
    tail -n 60 "$work/$t.log" >&2
    echo "fuzz: $t failed; the input is in fuzz/artifacts/$t (cargo fuzz run --sanitizer none $t FILE replays it)" >&2
    exit 1
  fi
  grep -E '^#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb' "$work/$t.log" >&2 || true
done
echo "fuzz: no crash, panic or hang in ${targets[*]}" >&2
