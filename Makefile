# diagnose: the two commands a new user needs are `make demo` and `make test`.
SWIFT ?= swift
BIN := .build/release/diagnose

.PHONY: setup build release demo test scenarios fuzz fuzz-ci bench lint format clean

setup:
	scripts/setup.sh

build:
	$(SWIFT) build

# The Swift runtime and Foundation linked in: start-up does a third less work (BENCHMARKS.md).
release:
	$(SWIFT) build -c release --static-swift-stdlib

# Brings the incident lab up (building what is missing) and runs every runbook against it.
demo: setup release
	lab/lab up
	cd lab/run && ../../$(BIN) --all; echo "diagnose exited with $$?"

# Everything CI runs: unit and end-to-end tests, the fuzz targets' deterministic step, then the lab scenario suite.
test: setup lint
	$(SWIFT) build --build-tests
	$(SWIFT) test --no-parallel
	$(MAKE) fuzz-ci
	$(MAKE) scenarios

# The scenario suite under compose v2 (what users type), then under v1 (docker-compose 1.29).
scenarios: release
	LAB_COMPOSE=v2 lab/scenarios
	LAB_COMPOSE=v1 lab/scenarios

# libFuzzer over runbook loading, env files and Redis replies (docs/fuzzing.md). `fuzz`: open-ended, fresh random
# seeds, FUZZ_SECONDS (default 60) each, for people. `fuzz-ci`: every committed input replayed, then a fixed seed and
# a fixed number of runs, so two runs on one commit do the same work (make test).
FUZZ_SECONDS ?= 60
fuzz:
	SWIFT=$(SWIFT) FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

fuzz-ci:
	SWIFT=$(SWIFT) scripts/fuzz.sh --ci

# Benchmarks against their baselines, side by side (BENCHMARKS.md); brings the lab up and leaves it healthy.
bench: release
	bench/run

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift Fuzz/Sources Fuzz/Package.swift

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift Fuzz/Sources Fuzz/Package.swift

clean:
	rm -rf .build .build-fuzz
