# vmafx — the only entry points a newcomer needs.
#   make run                      score a sample pair (made on the fly)
#   make run REF=a.y4m DIST=b.mp4 score your own pair
#   make test                     every test (unit + end-to-end against an independent libvmaf)
#   make bench                    speed and memory vs ffmpeg -lavfi libvmaf; cluster path and dispatch;
#                                 remote inputs; vmafx-tune vs ab-av1; the operator under 1,000 VmafxJobs
#                                 (ONLY=tune, remote, operator, sync, dashboard, dispatch or speed: just that)
#   make fuzz                     each fuzz target for FUZZ_SECONDS (60) under libFuzzer
#   make lint                     cargo fmt --check + clippy -D warnings
#   make images                   a container image per binary (buildah; localhost/NAME:VERSION)

SHELL := /bin/bash
CARGO ?= cargo
REF ?=
DIST ?=
ARGS ?=

.PHONY: run test bench fuzz lint images setup setup-test setup-bench build corpus models

setup:
	@scripts/setup.sh run

setup-test:
	@scripts/setup.sh test

setup-bench:
	@scripts/setup.sh bench

build: setup
	$(CARGO) build --release -p vmafx-cli --bin vmafx

run: build
	@scripts/run.sh "$(REF)" "$(DIST)" $(ARGS)

corpus: setup-test
	@scripts/corpus.sh

# End-to-end tests spawn the real binaries, so build them first. One throwaway PostgreSQL
# serves the whole run (scripts/with-postgres.sh); scripts/test.sh says what runs on it.
test: setup-test corpus
	$(CARGO) build --workspace --bins
	@CARGO=$(CARGO) scripts/with-postgres.sh scripts/test.sh

bench: setup-bench build corpus
	$(CARGO) build --release -p vmafx-tune --bin vmafx-tune -p vmafx-probe --bin vmafx-probe
	@[[ "$(ONLY)" =~ ^(tune|remote|sync|dashboard|speed|models)$$ ]] || $(CARGO) build --release -p vmafx-controller --example dispatch_bench --bin vmafx-controller
	@[[ "$(ONLY)" =~ ^(tune|remote|operator|sync|dashboard|speed|models)$$ ]] || $(CARGO) build --release -p vmafx-mcp --bin vmafx-mcp
	@[[ "$(ONLY)" =~ ^(tune|remote|sync|dashboard|speed|models)$$ ]] || $(CARGO) build --release -p vmafx-operator --bin vmafx-operator
	@if [[ -z "$(ONLY)" || "$(ONLY)" == loop ]]; then $(CARGO) build --release -p vmafx-node --bin vmafx-node -p vmafx-controller --bin vmafx-controller -p vmafx-trainer --bin vmafx-trainer; fi
	@scripts/bench.sh

# The shipped quality models (models/: registry.json + .onnx), trained from clips made here.
models: setup-test build
	$(CARGO) build --release -p vmafx-trainer --bin vmafx-trainer
	python3 scripts/models.py train .

# Container images, one per binary, from release binaries built here (deploy/images/*/Dockerfile).
images: setup-test
	$(CARGO) build --release -p vmafx-cli --bin vmafx -p vmafx-controller --bin vmafx-controller \
	  -p vmafx-node --bin vmafx-node -p vmafx-operator --bin vmafx-operator -p vmafx-tune --bin vmafx-tune \
	  -p vmafx-mcp --bin vmafx-mcp -p vmafx-trainer --bin vmafx-trainer
	@scripts/images.sh

# Fuzzing (cargo-fuzz, stable Rust with --sanitizer none); the property-test versions of the
# same targets run in `make test`.
fuzz: setup
	@CARGO=$(CARGO) scripts/fuzz.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
