#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ with the fuzzer and address sanitizers, then, for each target:
#   1. replays every committed input (the seeds: Fuzz/corpus/<target>/, or for runbook the shipped runbooks/ and the
#      malformed-runbook fixtures, read where they live so that no copy drifts; the kept findings in
#      Fuzz/regressions/<target>/, plus the runbook regressions of the unit tests) once each;
#   2. fuzzes: by default for FUZZ_SECONDS (default 60) from fresh random seeds (open-ended, for people);
#      with --ci, FUZZ_RUNS inputs (per target, below) from the fixed seed FUZZ_SEED, so that two runs on
#      one commit execute the same inputs and the step can neither pass nor fail by luck.
# Exits non-zero when a target crashes, leaks, runs out of memory or hangs on an input, printing the input's path.
# New inputs and findings go to FUZZ_OUT (default: a fresh temporary folder), never into the repo.
#
#   scripts/fuzz.sh                    all targets, 60 s each, random seeds (make fuzz)
#   scripts/fuzz.sh --ci               all targets, fixed seed and run count (make test, CI)
#   FUZZ_SECONDS=600 scripts/fuzz.sh runbook
#   .build-fuzz/release/FuzzRunbook CRASH-FILE    replays one input (with LSAN_OPTIONS below for the leak check)
set -euo pipefail
cd "$(dirname "$0")/.."

mode=open
if [ "${1:-}" = --ci ]; then mode=ci; shift; fi
seconds=${FUZZ_SECONDS:-60}
seed=${FUZZ_SEED:-20261202}
out=${FUZZ_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/diagnose-fuzz.XXXXXX")}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(runbook envfile resp redaction)
# Foundation's _CFRegularExpressionCreate leaks its copy of every pattern longer than 256 UTF-16 units (the copy is
# freed on its error path only); that one frame is suppressed, nothing else (docs/fuzzing.md).
suppressions=${FUZZ_LSAN_SUPPRESSIONS:-$PWD/Fuzz/lsan.supp}
export LSAN_OPTIONS="suppressions=$suppressions:print_suppressions=0"
# Swift seeds its hashing per process, and the kernel places the program at random addresses (some hashing in
# Foundation follows addresses): fixed hashing and no address randomisation make the coverage feedback, and so the
# inputs a seed leads to, the same on every run.
export SWIFT_DETERMINISTIC_HASHING=1 SWIFT_BACKTRACE=enable=no
fixed=(setarch "$(uname -m)" --addr-no-randomize)
"${fixed[@]}" true 2>/dev/null || { echo "fuzz: setarch cannot turn off address randomisation here" >&2; exit 2; }

build=("${SWIFT:-swift}" build --package-path Fuzz --scratch-path .build-fuzz -c release
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld -Xcc -fsanitize=fuzzer-no-link,address)
echo "fuzz: building the fuzz targets (sanitized release build in .build-fuzz)" >&2
"${build[@]}"
bin=$("${build[@]}" --show-bin-path)

stat() { grep -m1 -o "stat::$1: *[0-9]*" "$2" | grep -o '[0-9]*$' || echo 0; }

failed=0
for target in "${targets[@]}"; do
    seeds=("Fuzz/corpus/$target")
    case $target in
        runbook) executable=FuzzRunbook runs=${FUZZ_RUNS:-20000} seeds=(runbooks Tests/DiagnoseRunbookTests/Fixtures/malformed) ;;
        envfile) executable=FuzzEnvFile runs=${FUZZ_RUNS:-300000} ;;
        resp) executable=FuzzRESP runs=${FUZZ_RUNS:-300000} ;;
        redaction) executable=FuzzRedaction runs=${FUZZ_RUNS:-10000} ;;
        *) echo "fuzz: unknown target '$target'; targets are runbook, envfile, resp and redaction" >&2; exit 2 ;;
    esac
    mkdir -p "$out/$target/corpus" "$out/$target/findings"
    limits=(-timeout=10 -rss_limit_mb=2048 -max_len=65536)

    # 1. Every committed input, once.
    kept=()
    for folder in "${seeds[@]}" "Fuzz/regressions/$target" \
        $([ "$target" = runbook ] && find Tests -type d -name fuzz-regressions); do
        [ -d "$folder" ] && while IFS= read -r -d '' file; do kept+=("$file"); done \
            < <(find "$folder" -type f ! -name '*.txt' -print0 | sort -z)
    done
    log=$out/$target/replay.log
    if "${fixed[@]}" "$bin/$executable" "${limits[@]}" "${kept[@]}" >"$log" 2>&1; then
        echo "fuzz: $target: replayed $(grep -c '^Executed ' "$log") committed inputs, no finding" >&2
    else
        failed=1
        grep -E '^==[0-9]+== ?ERROR|^SUMMARY|Fatal error|deadly signal|timeout after|out-of-memory' "$log" | head -5 >&2 || true
        echo "fuzz: $target: FINDING in a committed input: $(grep '^Running: ' "$log" | tail -1 | cut -c10-) (log: $log)" >&2
        continue
    fi

    # 2. Mutation from the seeds. The first folder receives new inputs; the committed seeds are only read.
    if [ "$mode" = ci ]; then
        budget=(-seed="$seed" -runs="$runs" -reload=0)
        what="$runs runs from seed $seed"
    else
        budget=(-max_total_time="$seconds")
        what="${seconds}s from a random seed"
    fi
    log=$out/$target/fuzz.log
    echo "fuzz: $target: $what (log: $log)" >&2
    if "${fixed[@]}" "$bin/$executable" "$out/$target/corpus" "${seeds[@]}" "${budget[@]}" "${limits[@]}" \
        -dict="Fuzz/dictionaries/$target.dict" -artifact_prefix="$out/$target/findings/" -print_final_stats=1 \
        >"$log" 2>&1; then
        echo "fuzz: $target: no finding; executed $(stat number_of_executed_units "$log") inputs," \
            "kept $(stat new_units_added "$log") new ones, $(grep -o 'cov: [0-9]*' "$log" | tail -1)" >&2
    else
        failed=1
        grep -E '^==[0-9]+== ?ERROR|^SUMMARY|Fatal error|deadly signal|timeout after|out-of-memory' "$log" | head -5 >&2 || true
        for finding in "$out/$target/findings"/*; do
            [ -e "$finding" ] && echo "fuzz: $target: FINDING $finding (replay: $bin/$executable $finding)" >&2
        done
    fi
done
exit $failed
