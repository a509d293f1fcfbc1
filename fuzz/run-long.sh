#!/bin/bash
# Long fuzz run (by hand, not in CI): every target for FUZZ_SECONDS (default 3600) seconds,
# one after the other, on FUZZ_JOBS parallel workers each (default 2, the machine's cores).
# The corpus grows in fuzz/corpus/<target>/ and is reused by later runs (run-short.sh too);
# crashes land in fuzz/artifacts/<target>/. Afterwards, `cargo fuzz cmin <target>` shrinks a
# corpus, and interesting new inputs can be copied into fuzz/seeds/<target>/ and committed.
#
#   FUZZ_SECONDS=28800 fuzz/run-long.sh          # a night: 8 h per target
#   fuzz/run-long.sh reply numbers               # only some targets
set -u
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
secs=${FUZZ_SECONDS:-3600}
jobs=${FUZZ_JOBS:-2}
ensure_cargo_fuzz
(cd "$FUZZ_DIR" && cargo fuzz build) || { echo "fuzz build failed"; exit 1; }
[ $# -gt 0 ] && TARGETS=("$@")
fail=0
for t in "${TARGETS[@]}"; do
    if [ "$jobs" -gt 1 ]; then
        run_target "$t" "$secs" -fork="$jobs" -ignore_crashes=1 || fail=1
    else
        run_target "$t" "$secs" || fail=1
    fi
    n=$(ls "$FUZZ_DIR/artifacts/$t" | grep -c -E '^(crash|leak|timeout|oom)-' || true)
    echo "fuzz $t: $n crash/leak/timeout/oom inputs in artifacts/$t"
    [ "$n" -gt 0 ] && fail=1
done
exit "$fail"
