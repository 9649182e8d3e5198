# diagnose: the two commands a new user needs are `make demo` and `make test`.
SWIFT ?= swift
BIN := .build/release/diagnose

.PHONY: setup build release demo test scenarios fuzz bench lint format clean

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

# Everything CI runs: unit and end-to-end tests, a minute of each fuzz target, then the lab scenario suite.
test: setup lint
	$(SWIFT) build --build-tests
	$(SWIFT) test --no-parallel
	$(MAKE) fuzz FUZZ_SECONDS=60
	$(MAKE) scenarios

scenarios: release
	lab/scenarios

# libFuzzer over runbook loading, env files and Redis replies, FUZZ_SECONDS (default 60) each; docs/fuzzing.md.
FUZZ_SECONDS ?= 60
fuzz:
	SWIFT=$(SWIFT) FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

# Benchmarks against their baselines, side by side (BENCHMARKS.md); brings the lab up and leaves it healthy.
bench: release
	bench/run

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift Fuzz/Sources Fuzz/Package.swift

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift Fuzz/Sources Fuzz/Package.swift

clean:
	rm -rf .build .build-fuzz
