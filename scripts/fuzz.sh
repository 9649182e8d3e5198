#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ with the fuzzer and address sanitizers, then runs each for FUZZ_SECONDS
# (default 60) from its seed corpus in Fuzz/corpus/. Exits non-zero when a target crashes, runs out of memory or
# hangs on an input, printing the input's path. New inputs and findings go to FUZZ_OUT (default: a fresh temporary
# folder), never into the repo.
#
#   scripts/fuzz.sh                    all targets, 60 s each
#   FUZZ_SECONDS=600 scripts/fuzz.sh runbook
#   .build-fuzz/release/FuzzRunbook CRASH-FILE    replays one input
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
out=${FUZZ_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/diagnose-fuzz.XXXXXX")}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(runbook envfile resp)

build=("${SWIFT:-swift}" build --package-path Fuzz --scratch-path .build-fuzz -c release
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld -Xcc -fsanitize=fuzzer-no-link,address)
echo "fuzz: building the fuzz targets (sanitized release build in .build-fuzz)" >&2
"${build[@]}"
bin=$("${build[@]}" --show-bin-path)

failed=0
for target in "${targets[@]}"; do
    case $target in
        runbook) executable=FuzzRunbook ;;
        envfile) executable=FuzzEnvFile ;;
        resp) executable=FuzzRESP ;;
        *) echo "fuzz: unknown target '$target'; targets are runbook, envfile and resp" >&2; exit 2 ;;
    esac
    mkdir -p "$out/$target/corpus" "$out/$target/findings"
    log=$out/$target/fuzz.log
    echo "fuzz: $target for ${seconds}s (log: $log)" >&2
    # The first folder receives new inputs; the committed seeds are only read. A hang (-timeout) and a blow-up
    # past -rss_limit_mb are findings like a crash.
    if SWIFT_BACKTRACE=enable=no "$bin/$executable" "$out/$target/corpus" "Fuzz/corpus/$target" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -dict="Fuzz/dictionaries/$target.dict" -artifact_prefix="$out/$target/findings/" -print_final_stats=1 >"$log" 2>&1; then
        echo "fuzz: $target: no finding in $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$') runs" >&2
    else
        failed=1
        grep -E '^==[0-9]+== ?ERROR|^SUMMARY|Fatal error|deadly signal|timeout after|out-of-memory' "$log" | head -5 >&2 || true
        for finding in "$out/$target/findings"/*; do
            [ -e "$finding" ] && echo "fuzz: $target: FINDING $finding (replay: $bin/$executable $finding)" >&2
        done
    fi
done
exit $failed
