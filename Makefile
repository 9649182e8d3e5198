# diagnose: the two commands a new user needs are `make demo` and `make test`.
SWIFT ?= swift
BIN := .build/release/diagnose

.PHONY: setup build release man install install-files uninstall demo test scenarios fuzz fuzz-ci bench lint format clean

setup:
	scripts/setup.sh

build:
	$(SWIFT) build

# The Swift runtime and Foundation linked in: start-up does a third less work (BENCHMARKS.md).
release:
	$(SWIFT) build -c release --static-swift-stdlib

# The man page, by ArgumentParser's generate-manual plugin. It builds the package in debug, the configuration the tests
# build too (the help text is the same in either), so that it does not rebuild the release binary with other flags.
MAN := .build/plugins/GenerateManual/outputs/diagnose/diagnose.1
man:
	$(SWIFT) package plugin generate-manual --configuration debug

# Installs under PREFIX (docs/install.md): the release binary, the shipped runbooks where the binary looks for them
# (PREFIX/share/diagnose/runbooks), the man page and the bash, zsh and fish completions. DESTDIR is for packagers.
PREFIX ?= /usr/local
ROOT = $(DESTDIR)$(PREFIX)
BASH_COMPLETION = $(ROOT)/share/bash-completion/completions/diagnose
ZSH_COMPLETION = $(ROOT)/share/zsh/site-functions/_diagnose
FISH_COMPLETION = $(ROOT)/share/fish/vendor_completions.d/diagnose.fish
install: release man
	$(MAKE) install-files PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)"

# What install does once BIN and the man page are built; the install test calls it with its own BIN and PREFIX.
install-files:
	@test -x "$(BIN)" || { echo "install-files: $(BIN) is not built; run make install" >&2; exit 1; }
	@test -f "$(MAN)" || { echo "install-files: $(MAN) is not generated; run make man" >&2; exit 1; }
	install -D -m 0755 "$(BIN)" "$(ROOT)/bin/diagnose"
	install -d "$(ROOT)/share/diagnose/runbooks"
	install -m 0644 runbooks/*.yml "$(ROOT)/share/diagnose/runbooks/"
	install -D -m 0644 "$(MAN)" "$(ROOT)/share/man/man1/diagnose.1"
	install -d "$(dir $(BASH_COMPLETION))" "$(dir $(ZSH_COMPLETION))" "$(dir $(FISH_COMPLETION))"
	"$(BIN)" --generate-completion-script bash >"$(BASH_COMPLETION)"
	"$(BIN)" --generate-completion-script zsh >"$(ZSH_COMPLETION)"
	"$(BIN)" --generate-completion-script fish >"$(FISH_COMPLETION)"

uninstall:
	rm -f "$(ROOT)/bin/diagnose" "$(ROOT)/share/man/man1/diagnose.1"
	rm -f "$(BASH_COMPLETION)" "$(ZSH_COMPLETION)" "$(FISH_COMPLETION)"
	rm -rf "$(ROOT)/share/diagnose"

# Brings the incident lab up (building what is missing) and runs every runbook against it.
demo: setup release
	lab/lab up
	cd lab/run && ../../$(BIN) --all; echo "diagnose exited with $$?"

# Everything CI runs: unit and end-to-end tests, the fuzz targets' deterministic step, then the lab scenario suite.
# The man page first: the install test installs it.
test: setup lint man
	$(SWIFT) build --build-tests
	$(SWIFT) test --no-parallel
	$(MAKE) fuzz-ci
	$(MAKE) scenarios

# The scenario suite under compose v2 (what users type), then under v1 (docker-compose 1.29); the --watch scenario
# under v2 only (it tests --watch, not the compose CLI). Then the Swarm pass (lab/README.md, "The Swarm lab"): the
# compose lab goes down first, as it holds the ports the Swarm lab publishes; the pass takes the Swarm lab down.
scenarios: release
	LAB_COMPOSE=v2 lab/scenarios
	LAB_COMPOSE=v1 SCENARIO_WATCH=0 lab/scenarios
	lab/lab down
	LAB_ORCHESTRATOR=swarm lab/scenarios

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
