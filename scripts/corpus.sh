#!/usr/bin/env bash
# Builds the shared test/benchmark corpus once into target/corpus (idempotent, locked).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${VMAFX_SHARED:-$root/../shared}
dir=${VMAFX_CORPUS:-$root/target/corpus}
mkdir -p "$dir"
flock "$dir/.lock" bash "$shared/tools/make_corpus.sh" "$dir"
